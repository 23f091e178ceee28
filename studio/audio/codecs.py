"""PCM codecs for the seed's ``RawEncoding`` values, to and from float32.

Audio in memory is float32 mono, shape ``(frames,)``, nominally in [-1.0, 1.0].
The encodings are those of ``cartesia-openapi.yaml`` (``RawEncoding``):

- ``pcm_f32le``: IEEE float32 little-endian, 4 bytes per frame.
- ``pcm_s16le``: signed 16-bit little-endian, 2 bytes per frame.
- ``pcm_mulaw``: ITU-T G.711 mu-law, 1 byte per frame.
- ``pcm_alaw``: ITU-T G.711 A-law, 1 byte per frame.

G.711 is implemented here with the reference bit manipulation (Sun's g711.c, the
code CPython's removed ``audioop`` used) vectorised with numpy: the standard
library's ``audioop`` is gone from Python 3.13 and no maintained wheel covers the
numpy-array case.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]

BYTES_PER_FRAME: dict[str, int] = {"pcm_f32le": 4, "pcm_s16le": 2, "pcm_mulaw": 1, "pcm_alaw": 1}

_BIAS = 0x84  # for decoding 16-bit mu-law
_CLIP = 8159  # 14-bit clip of g711.c's linear2ulaw
_BIAS14 = 0x21


class UnsupportedEncodingError(ValueError):
    """The encoding is not one of the seed's ``RawEncoding`` values."""


def bytes_per_frame(encoding: str) -> int:
    """Bytes per mono frame of ``encoding``.

    Raises:
        UnsupportedEncodingError: for anything but the four seed encodings.
    """
    try:
        return BYTES_PER_FRAME[encoding]
    except KeyError:
        raise UnsupportedEncodingError(
            f"unsupported encoding {encoding!r}; expected one of {', '.join(BYTES_PER_FRAME)}"
        ) from None


def _to_int16(samples: npt.ArrayLike) -> npt.NDArray[np.int16]:
    x = np.asarray(samples, dtype=np.float32)
    return np.clip(np.round(x * 32767.0), -32768, 32767).astype(np.int16)


def _mulaw_encode(pcm: npt.NDArray[np.int16]) -> npt.NDArray[np.uint8]:
    x = pcm.astype(np.int32) >> 2  # 14-bit, as g711.c's linear2ulaw
    mask = np.where(x < 0, 0x7F, 0xFF)
    mag = np.minimum(np.where(x < 0, -x, x), _CLIP) + _BIAS14
    exponent = np.maximum(np.floor(np.log2(mag)).astype(np.int32) - 5, 0)
    mantissa = (mag >> (exponent + 1)) & 0x0F
    code = np.where(exponent >= 8, 0x7F, (exponent << 4) | mantissa)
    return ((code ^ mask) & 0xFF).astype(np.uint8)


def _mulaw_decode(codes: npt.NDArray[np.uint8]) -> npt.NDArray[np.int16]:
    u = (~codes.astype(np.int32)) & 0xFF
    sign = u & 0x80
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    mag = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return np.where(sign != 0, -mag, mag).astype(np.int16)


def _alaw_encode(pcm: npt.NDArray[np.int16]) -> npt.NDArray[np.uint8]:
    x = pcm.astype(np.int32) >> 3  # A-law works on 13-bit magnitudes
    mask = np.where(x >= 0, 0xD5, 0x55)
    mag = np.where(x >= 0, x, -x - 1)
    mag = np.minimum(mag, 0xFFF)
    seg = np.zeros_like(mag)
    for i, end in enumerate((0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)):
        seg = np.where((mag > end) & (seg == i), i + 1, seg)
    seg = np.minimum(seg, 7)
    shift = np.where(seg < 2, 1, seg)
    aval = (seg << 4) | ((mag >> shift) & 0x0F)
    return ((aval ^ mask) & 0xFF).astype(np.uint8)


def _alaw_decode(codes: npt.NDArray[np.uint8]) -> npt.NDArray[np.int16]:
    a = codes.astype(np.int32) ^ 0x55
    t = (a & 0x0F) << 4
    seg = (a & 0x70) >> 4
    t = np.where(seg == 0, t + 8, np.where(seg == 1, t + 0x108, (t + 0x108) << (seg - 1)))
    return np.where((a & 0x80) != 0, t, -t).astype(np.int16)


def encode(samples: npt.ArrayLike, encoding: str) -> bytes:
    """Encode float32 samples, shape ``(frames,)``, to ``encoding`` bytes.

    Values outside [-1, 1] are clipped for the integer encodings.

    Raises:
        UnsupportedEncodingError: for an unknown encoding.
    """
    bytes_per_frame(encoding)
    if encoding == "pcm_f32le":
        return np.asarray(samples, dtype="<f4").tobytes()
    pcm = _to_int16(samples)
    if encoding == "pcm_s16le":
        return pcm.astype("<i2").tobytes()
    if encoding == "pcm_mulaw":
        return _mulaw_encode(pcm).tobytes()
    return _alaw_encode(pcm).tobytes()


def decode(data: bytes | bytearray | memoryview, encoding: str) -> FloatArray:
    """Decode ``encoding`` bytes to float32 samples, shape ``(frames,)``.

    A trailing partial frame is an error here; streaming callers keep the
    remainder themselves (see :class:`StreamDecoder`).

    Raises:
        UnsupportedEncodingError: for an unknown encoding.
        ValueError: if ``len(data)`` is not a whole number of frames.
    """
    width = bytes_per_frame(encoding)
    if len(data) % width:
        raise ValueError(f"{len(data)} bytes is not a whole number of {encoding} frames")
    if encoding == "pcm_f32le":
        return np.frombuffer(data, dtype="<f4").astype(np.float32)
    if encoding == "pcm_s16le":
        return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
    codes = np.frombuffer(data, dtype=np.uint8)
    pcm = _mulaw_decode(codes) if encoding == "pcm_mulaw" else _alaw_decode(codes)
    return pcm.astype(np.float32) / 32768.0


class StreamDecoder:
    """Decodes a byte stream cut at arbitrary points (WebSocket/SSE chunks).

    Keeps the bytes of a partial frame until the next :meth:`feed`.
    """

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._width = bytes_per_frame(encoding)
        self._rest = b""

    def feed(self, data: bytes) -> FloatArray:
        """Decode as many whole frames as ``data`` (plus any remainder) holds."""
        buf = self._rest + data if self._rest else data
        whole = len(buf) - len(buf) % self._width
        self._rest = bytes(buf[whole:])
        return decode(buf[:whole], self.encoding)

    @property
    def pending_bytes(self) -> int:
        """Bytes of an incomplete frame held back."""
        return len(self._rest)
