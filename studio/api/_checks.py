"""Checks at the edge: a response is taken for audio or JSON only if it is one.

A body that is not what was asked for (a redirect page, an HTML error page from a
proxy, malformed JSON, PCM cut mid-sample) raises :class:`ResponseFormatError`
naming what arrived, instead of being kept as a take.
"""

from __future__ import annotations

from collections.abc import Mapping

from studio.api.errors import ResponseFormatError
from studio.api.models import OutputFormat

#: Bytes per sample of each raw encoding (seed ``RawEncoding``). Cartesia's audio is
#: mono, so a frame is one sample.
SAMPLE_BYTES: Mapping[str, int] = {"pcm_f32le": 4, "pcm_s16le": 2, "pcm_mulaw": 1,
                                   "pcm_alaw": 1}
#: Content types a raw body may carry besides ``audio/*`` (the offline engine sends it).
RAW_CONTENT_TYPES = frozenset({"application/octet-stream"})
#: Bytes of a body quoted in an error message.
QUOTED_BYTES = 32


def describe(status: int, content_type: str, content: bytes) -> str:
    """``HTTP 302, content type 'text/html', first bytes b'<html>...'`` for messages."""
    head = content[:QUOTED_BYTES]
    more = "…" if len(content) > QUOTED_BYTES else ""
    return (f"HTTP {status}, content type {content_type or 'none'!r}, "
            f"{len(content)} bytes, first bytes {head!r}{more}")


def frame_bytes(output_format: OutputFormat) -> int:
    """Bytes per frame of raw audio in ``output_format`` (sample width x 1 channel)."""
    return SAMPLE_BYTES[output_format.encoding]


def check_audio(status: int, content_type: str, content: bytes, output_format: OutputFormat,
                what: str) -> None:
    """Raise :class:`ResponseFormatError` unless ``content`` is audio in ``output_format``.

    Audio means an ``audio/*`` content type (``application/octet-stream`` too for the
    ``raw`` container, as the offline engine labels it), a non-empty body and, for raw
    PCM, a whole number of frames.
    """
    mime = content_type.split(";", 1)[0].strip().lower()
    raw = output_format.container == "raw"
    if not (mime.startswith("audio/") or (raw and mime in RAW_CONTENT_TYPES)):
        raise ResponseFormatError(
            f"{what}: expected audio, got {describe(status, content_type, content)}")
    if not content:
        raise ResponseFormatError(f"{what}: the audio body is empty")
    if raw and len(content) % frame_bytes(output_format):
        raise ResponseFormatError(
            f"{what}: {len(content)} bytes of {output_format.encoding} is not a whole "
            f"number of {frame_bytes(output_format)}-byte frames (cut short?)")
