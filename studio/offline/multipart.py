"""The ``multipart/form-data`` bodies of ``/infill/bytes`` and ``/stt``, and the audio
files they carry.

Field names follow the seed (``cartesia-openapi.yaml`` requestBody of ``infill_bytes``
and ``stt_transcribe``) as the v4 SDK sends them: nested objects flattened with brackets
(``output_format[container]``), arrays as repeated ``name[]`` fields. Audio files are
decoded with libsndfile (``soundfile``), which reads WAV, FLAC, MP3 and Ogg (Vorbis and
Opus) from memory.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import aiohttp
import numpy as np
import numpy.typing as npt
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from studio.audio import codecs
from studio.audio.buffers import AudioFileError
from studio.audio.untrusted import AudioLimitError, decode_untrusted
from studio.offline.errors import ApiError, bad_request

FloatArray = npt.NDArray[np.float32]

#: Largest request body the engine reads, bytes: a few minutes of 48 kHz float WAV.
MAX_BODY_BYTES = 64 * 1024 * 1024

#: Longest audio file the engine decodes (clone clips, STT, infill sides), seconds; with
#: it the sample budget of :func:`~studio.audio.untrusted.decode_untrusted`.
MAX_AUDIO_SECONDS = 600.0

#: Raw encodings ``/stt`` accepts with ``?encoding=`` (seed ``STTEncoding``) that
#: :mod:`studio.audio.codecs` does not cover, as numpy dtypes of full scale 1.0.
_EXTRA_ENCODINGS: dict[str, tuple[str, float]] = {
    "pcm_s32le": ("<i4", 2.0**31),
    "pcm_f16le": ("<f2", 1.0),
}


@dataclass(frozen=True, slots=True)
class Form:
    """A parsed form: text ``fields`` (every value of each name, in order),
    ``files`` (the bytes of each file part, by field name) and ``filenames`` (the
    filename each file part was sent with, if any)."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    filenames: dict[str, str] = field(default_factory=dict)

    def text(self, name: str) -> str | None:
        """The first value of text field ``name``, or None if it was not sent."""
        values = self.fields.get(name)
        return values[0] if values else None

    def texts(self, name: str) -> list[str]:
        """Every value of text field ``name`` (``[]`` if it was not sent)."""
        return list(self.fields.get(name, ()))


async def read_form(request: web.Request, file_fields: Collection[str]) -> Form:
    """Read a ``multipart/form-data`` body.

    Parts named in ``file_fields``, or sent with a filename, are kept as bytes; the
    others are text (UTF-8 unless the part says otherwise).

    Raises:
        ApiError: 400 for another body type or a malformed body, 413 for a body over
            :data:`MAX_BODY_BYTES`.
    """
    if request.content_type != "multipart/form-data":
        raise bad_request(
            f"{request.path} takes multipart/form-data, not {request.content_type or 'no body'}"
        )
    form = Form()
    total = 0
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, aiohttp.BodyPartReader):
                raise bad_request("nested multipart bodies are not supported")
            if not part.name:
                raise bad_request("a multipart part has no name")
            data = bytearray()
            while chunk := await part.read_chunk():
                total += len(chunk)
                if total > MAX_BODY_BYTES:
                    raise ApiError(413, f"request body is over {MAX_BODY_BYTES // 2**20} MB")
                data.extend(chunk)
            if part.name in file_fields or part.filename:
                form.files[part.name] = bytes(data)
                if part.filename:
                    form.filenames[part.name] = part.filename
            else:
                text = data.decode(part.get_charset(default="utf-8"))
                form.fields.setdefault(part.name, []).append(text)
    except (ValueError, LookupError, HttpProcessingError, aiohttp.ClientPayloadError) as exc:
        # LookupError: a part naming a charset Python does not know.
        detail = exc.message if isinstance(exc, HttpProcessingError) else str(exc)
        raise bad_request(f"malformed multipart body: {' '.join(detail.split())}") from None
    return form


def decode_audio(data: bytes, name: str) -> tuple[FloatArray, int]:
    """Decode an audio file sent as field ``name``.

    Returns:
        ``(samples, sample_rate)``: float32 mono, shape ``(frames,)`` (channels are
        averaged), and the file's rate in Hz.

    Raises:
        ApiError: 400 naming ``name`` if it is empty, not audio libsndfile reads, or
            over the decoding limits (frames x channels, channels, rate; from the header
            or while decoding: :func:`~studio.audio.untrusted.decode_untrusted`).
    """
    if not data:
        raise bad_request(f"{name} is empty: send an audio file (wav, flac, mp3 or ogg)")
    try:
        return decode_untrusted(data, max_seconds=MAX_AUDIO_SECONDS)
    except AudioLimitError as exc:
        raise bad_request(f"{name} is too large to decode: {exc}") from None
    except AudioFileError as exc:
        raise bad_request(
            f"{name} is not audio the offline engine can decode (wav, flac, mp3 or ogg): {exc}"
        ) from None


def decode_raw(data: bytes, encoding: str, sample_rate: int, name: str) -> FloatArray:
    """Decode headerless PCM sent as field ``name`` (``/stt?encoding=...``).

    Args:
        data: the bytes, mono.
        encoding: one of the seed's ``STTEncoding`` values.
        sample_rate: Hz (only checked here).

    Returns:
        float32 mono, shape ``(frames,)``.

    Raises:
        ApiError: 400 for an unknown encoding, a bad rate, or a partial last frame.
    """
    if sample_rate <= 0:
        raise bad_request(f"sample_rate must be a positive number of Hz, got {sample_rate}")
    if encoding in _EXTRA_ENCODINGS:
        dtype, scale = _EXTRA_ENCODINGS[encoding]
        width = np.dtype(dtype).itemsize
        if len(data) % width:
            raise bad_request(f"{name} is not whole {encoding} frames ({len(data)} bytes)")
        return (np.frombuffer(data, dtype=dtype).astype(np.float32) / np.float32(scale))
    try:
        return codecs.decode(data, encoding)
    except codecs.UnsupportedEncodingError:
        known = ", ".join([*codecs.BYTES_PER_FRAME, *_EXTRA_ENCODINGS])
        raise bad_request(f"encoding must be one of {known}; got {encoding!r}") from None
    except ValueError as exc:
        raise bad_request(f"{name} is not whole {encoding} frames: {exc}") from None
