"""Output formats: parse the seed's ``OutputFormat`` and encode streamed audio.

``OutputFormat`` (``cartesia-openapi.yaml``) is one of

- ``raw``: ``encoding`` (``RawEncoding``) and ``sample_rate``; bytes are bare
  PCM (:func:`studio.audio.codecs.encode`).
- ``wav``: the same fields; the engine streams a RIFF/WAVE header whose RIFF
  and ``data`` sizes are ``0xFFFFFFFF`` (the size is unknown while streaming,
  as Cartesia's own streamed WAV does), followed by the PCM. libsndfile
  (``soundfile``) reads such files to their end. ``fmt`` tags: 1 (PCM s16),
  3 (IEEE float), 6 (A-law), 7 (mu-law).
- ``mp3``: ``sample_rate`` and ``bit_rate`` (32/64/96/128/192 kbit/s), encoded
  with libsndfile's LAME-based ``MPEG_LAYER_III`` writer at a constant bit
  rate. libsndfile takes a 0..1 ``compression_level`` that it maps linearly
  onto the MPEG bit-rate range for the sample rate (320..32 kbit/s from
  32 kHz up, 160..8 below, 64..8 at 8 kHz); we invert that mapping, so a
  request above the range's top (e.g. 192k at 22 050 Hz) gets the top
  (160k). The stream is sent as it is encoded; LAME's summary ("Info") frame,
  which libsndfile rewrites at the start when closing, stays a silent
  placeholder frame in the stream (about 26 ms of leading silence).

espeak-ng renders at 22 050 Hz; other rates go through one streaming
``soxr.ResampleStream`` per response, so chunk boundaries leave no seams.
"""

from __future__ import annotations

import io
import logging
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import soundfile as sf
import soxr

from studio.api.models import CONTAINERS, ENCODINGS, MP3_BIT_RATES, SAMPLE_RATES
from studio.audio import codecs
from studio.offline.errors import bad_request

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]

_WAV_FORMAT_TAGS: dict[str, tuple[int, int]] = {
    "pcm_s16le": (1, 16),
    "pcm_f32le": (3, 32),
    "pcm_alaw": (6, 8),
    "pcm_mulaw": (7, 8),
}

CONTENT_TYPES: dict[str, str] = {
    "raw": "application/octet-stream",
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
}


@dataclass(frozen=True, slots=True)
class AudioFormat:
    """A validated output format. ``encoding`` is ``"mp3"`` for the mp3
    container; ``bit_rate`` (bits/s) is set only for mp3."""

    container: str
    encoding: str
    sample_rate: int
    bit_rate: int | None = None

    @property
    def content_type(self) -> str:
        """MIME type of the response body."""
        return CONTENT_TYPES[self.container]


def parse_output_format(raw: Any, containers: tuple[str, ...] = CONTAINERS) -> AudioFormat:
    """Validate a request's ``output_format`` object.

    ``containers`` restricts the allowed containers (``("raw",)`` for SSE and
    the WebSocket, whose seed schemas are raw-only).

    Raises:
        ApiError: 400 naming the offending field.
    """
    if not isinstance(raw, dict):
        raise bad_request("output_format is required and must be an object")
    container = raw.get("container")
    if container not in containers:
        raise bad_request(
            f"output_format.container must be one of {', '.join(containers)}; got {container!r}"
        )
    rate = raw.get("sample_rate")
    if isinstance(rate, bool) or not isinstance(rate, int) or rate not in SAMPLE_RATES:
        raise bad_request(
            "output_format.sample_rate must be one of "
            f"{', '.join(map(str, SAMPLE_RATES))}; got {rate!r}"
        )
    if container == "mp3":
        bit_rate = raw.get("bit_rate", 128000)
        if isinstance(bit_rate, bool) or bit_rate not in MP3_BIT_RATES:
            raise bad_request(
                "output_format.bit_rate must be one of "
                f"{', '.join(map(str, MP3_BIT_RATES))}; got {bit_rate!r}"
            )
        return AudioFormat("mp3", "mp3", rate, int(bit_rate))
    encoding = raw.get("encoding")
    if encoding not in ENCODINGS:
        raise bad_request(
            f"output_format.encoding must be one of {', '.join(ENCODINGS)}; got {encoding!r}"
        )
    return AudioFormat(str(container), str(encoding), rate)


def wav_header(encoding: str, sample_rate: int) -> bytes:
    """A streaming RIFF/WAVE header (sizes ``0xFFFFFFFF``) for mono ``encoding``."""
    tag, bits = _WAV_FORMAT_TAGS[encoding]
    block = bits // 8
    fmt = struct.pack("<HHIIHH", tag, 1, sample_rate, sample_rate * block, block, bits)
    if tag != 1:
        fmt += struct.pack("<H", 0)  # cbSize: non-PCM fmt chunks carry it
    unknown = struct.pack("<I", 0xFFFFFFFF)
    return (b"RIFF" + unknown + b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
            + b"data" + unknown)


def mp3_compression_level(bit_rate: int, sample_rate: int) -> float:
    """libsndfile ``compression_level`` giving ``bit_rate`` (bits/s) at CBR."""
    if sample_rate >= 32000:
        top, bottom = 320, 32
    elif sample_rate >= 16000:
        top, bottom = 160, 8
    else:
        top, bottom = 64, 8
    kbps = min(max(bit_rate / 1000.0, bottom), top)
    # libsndfile refuses exactly 1.0 at some rates; 0.99 still rounds to the bottom.
    return min((top - kbps) / (top - bottom), 0.99)


class _StreamSink(io.RawIOBase):
    """A write-only file for libsndfile that hands out bytes as they are written.

    Rewrites of bytes already handed out (libsndfile patching headers on
    close) cannot be sent again and are dropped.
    """

    def __init__(self) -> None:
        super().__init__()
        self._pending = bytearray()
        self._sent = 0  # bytes handed out so far
        self._pos = 0

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return b""

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        end = self._sent + len(self._pending)
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: end}[whence]
        self._pos = base + offset
        return self._pos

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        start = self._pos
        self._pos += len(chunk)
        if start < self._sent:
            log.debug("dropping %d bytes rewritten at %d after streaming", len(chunk), start)
            chunk = chunk[self._sent - start:]
            start = self._sent
        offset = start - self._sent
        if offset > len(self._pending):
            self._pending.extend(b"\0" * (offset - len(self._pending)))
        self._pending[offset:offset + len(chunk)] = chunk
        return len(data)

    def take(self) -> bytes:
        out = bytes(self._pending)
        self._sent += len(out)
        self._pending.clear()
        return out


class StreamEncoder:
    """Turns float32 mono chunks at ``source_rate`` into ``fmt`` bytes.

    Call :meth:`feed` per chunk (shape (frames,), float32) and :meth:`finish`
    once; concatenating every returned ``bytes`` gives a complete file/stream.
    Not thread-safe: one encoder per response.
    """

    def __init__(self, fmt: AudioFormat, source_rate: int) -> None:
        self.format = fmt
        self._resampler = (
            soxr.ResampleStream(source_rate, fmt.sample_rate, 1, dtype="float32", quality="HQ")
            if source_rate != fmt.sample_rate else None
        )
        self._header = wav_header(fmt.encoding, fmt.sample_rate) if fmt.container == "wav" else b""
        self._mp3: sf.SoundFile | None = None
        self._sink: _StreamSink | None = None
        if fmt.container == "mp3":
            self._sink = _StreamSink()
            self._mp3 = sf.SoundFile(
                self._sink, "w", samplerate=fmt.sample_rate, channels=1, format="MP3",
                subtype="MPEG_LAYER_III",
                compression_level=mp3_compression_level(fmt.bit_rate or 128000, fmt.sample_rate),
                bitrate_mode="CONSTANT",
            )
        self.frames_out = 0

    def _encode(self, samples: FloatArray) -> bytes:
        self.frames_out += len(samples)
        head, self._header = self._header, b""
        if self._mp3 is not None and self._sink is not None:
            if len(samples):
                self._mp3.write(samples)
            return head + self._sink.take()
        return head + (codecs.encode(samples, self.format.encoding) if len(samples) else b"")

    def feed(self, samples: FloatArray) -> bytes:
        """Encode a chunk; may return b"" while the resampler/encoder buffers."""
        x = np.asarray(samples, dtype=np.float32)
        if self._resampler is not None:
            x = self._resampler.resample_chunk(x) if len(x) else x
        return self._encode(x)

    def finish(self) -> bytes:
        """Flush the resampler and encoder; the encoder is unusable afterwards."""
        tail = np.zeros(0, dtype=np.float32)
        if self._resampler is not None:
            tail = self._resampler.resample_chunk(tail, last=True)
        out = self._encode(tail)
        if self._mp3 is not None and self._sink is not None:
            self._mp3.close()
            out += self._sink.take()
            self._mp3 = None
        return out
