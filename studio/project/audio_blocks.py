"""A take's audio as stored in a project file: lossless blocks. Qt-free.

Samples that are exact 16-bit values (what the studio renders, ``pcm_s16le``) are
stored as FLAC through soundfile (libsndfile), about half the size of raw 16-bit
PCM for speech; anything else as raw little-endian float32. Each block holds at
most :data:`AUDIO_BLOCK_FRAMES` frames and decodes on its own, like Audacity's
sample blocks. Each block carries a checksum (:func:`block_checksum`) checked when it
is read, so audio damaged on disk is found rather than played or reused.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import soundfile as sf

#: Frames per stored audio block: about 24 s at 44.1 kHz.
AUDIO_BLOCK_FRAMES = 1 << 20


def _is_16_bit(audio: npt.NDArray[np.float32]) -> bool:
    """Whether every sample is an exact 16-bit value (``n / 32768``)."""
    if audio.size == 0:
        return True
    scaled = audio.astype(np.float64) * 32768.0
    return bool(
        np.all(scaled == np.rint(scaled)) and scaled.min() >= -32768 and scaled.max() <= 32767
    )


def encode_audio(audio: npt.NDArray[np.float32], sample_rate: int) -> tuple[str, list[bytes]]:
    """Split ``audio`` (float32, ``(frames,)``) into stored blocks, losslessly.

    Returns ``("flac16", blobs)`` when the samples are exact 16-bit values (FLAC
    through soundfile), else ``("f32le", blobs)`` (raw little-endian float32).
    """
    audio = np.ascontiguousarray(audio, dtype=np.float32)
    starts = range(0, max(audio.shape[0], 1), AUDIO_BLOCK_FRAMES)
    if _is_16_bit(audio):
        blobs = []
        for start in starts:
            buffer = io.BytesIO()
            sf.write(buffer, audio[start:start + AUDIO_BLOCK_FRAMES], sample_rate,
                     format="FLAC", subtype="PCM_16")
            blobs.append(buffer.getvalue())
        return "flac16", blobs
    return "f32le", [audio[s:s + AUDIO_BLOCK_FRAMES].astype("<f4").tobytes() for s in starts]


def decode_audio(encoding: str, blobs: Sequence[bytes], frames: int) -> npt.NDArray[np.float32]:
    """Join stored blocks back into float32 samples of shape ``(frames,)``.

    Raises:
        ValueError: unknown encoding, undecodable block, or the wrong length.
    """
    out = np.empty(frames, dtype=np.float32)
    at = 0
    for blob in blobs:
        if encoding == "flac16":
            try:
                part, _ = sf.read(io.BytesIO(blob), dtype="float32", always_2d=False)
            except (sf.LibsndfileError, RuntimeError) as exc:
                raise ValueError(f"an audio block does not decode: {exc}") from exc
        elif encoding == "f32le":
            part = np.frombuffer(blob, dtype="<f4")
        else:
            raise ValueError(f"unknown audio encoding {encoding!r}")
        if at + part.shape[0] > frames:
            raise ValueError("stored audio is longer than its header says")
        out[at:at + part.shape[0]] = part
        at += part.shape[0]
    if at != frames:
        raise ValueError(f"stored audio has {at} frames, expected {frames}")
    return out


def block_checksum(blob: bytes) -> str:
    """The checksum stored beside a block: BLAKE2b, 128 bits, as hex (catches damage
    on disk; it is not a defence against someone forging a file)."""
    return hashlib.blake2b(blob, digest_size=16).hexdigest()
