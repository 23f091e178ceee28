"""Whole-buffer audio helpers: resampling, joining takes, levels, and audio files.

Audio in memory is float32 mono, shape ``(frames,)``, with the sample rate carried
beside it. Files are read and written with soundfile (libsndfile); resampling uses soxr
(``quality="HQ"``, its default high-quality setting).
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf
import soxr

from studio.audio.atomic import atomic_path, write_error

FloatArray = npt.NDArray[np.float32]


class AudioFileError(ValueError):
    """A file exists and is readable but is not audio libsndfile understands."""


def as_mono(samples: npt.ArrayLike, what: str = "samples",
            sample_rate: int | None = None) -> FloatArray:
    """``samples`` as float32 of shape ``(frames,)``.

    Raises:
        ValueError: not one-dimensional, or ``sample_rate`` given and not positive.
    """
    data = np.asarray(samples, dtype=np.float32)
    if data.ndim != 1:
        raise ValueError(f"{what} must be mono, shape (frames,); got shape {data.shape}")
    if sample_rate is not None and sample_rate <= 0:
        raise ValueError(f"the sample rate must be positive, not {sample_rate}")
    return data


def resample(samples: npt.ArrayLike, from_rate: int, to_rate: int) -> FloatArray:
    """Convert ``samples`` from ``from_rate`` to ``to_rate`` Hz with soxr (``"HQ"``).

    Args:
        samples: float32 mono, shape ``(frames,)``.
        from_rate: source rate in Hz (> 0).
        to_rate: target rate in Hz (> 0).

    Returns:
        float32 mono of about ``frames * to_rate / from_rate`` frames (soxr rounds); a copy
        of the input when the rates are equal.

    Raises:
        ValueError: a non-positive rate or non-mono input.
    """
    data = as_mono(samples)
    if from_rate <= 0 or to_rate <= 0:
        raise ValueError(f"sample rates must be positive, got {from_rate} -> {to_rate}")
    if from_rate == to_rate:
        return data.copy()
    if data.shape[0] == 0:
        return np.zeros(0, dtype=np.float32)
    out = soxr.resample(data, from_rate, to_rate, quality="HQ")
    return np.ascontiguousarray(out, dtype=np.float32)


def concatenate_with_pauses(
    takes: Sequence[npt.ArrayLike], sample_rate: int, pause_seconds: float
) -> FloatArray:
    """Join takes in order with ``pause_seconds`` of silence between neighbours.

    No pause is added before the first or after the last take. The pause is
    ``round(pause_seconds * sample_rate)`` frames.

    Args:
        takes: float32 mono arrays, all at ``sample_rate``.
        sample_rate: Hz (> 0).
        pause_seconds: seconds (>= 0).

    Returns:
        float32 mono; empty when ``takes`` is empty.

    Raises:
        ValueError: a negative pause, a non-positive rate, or a take that is not mono.
    """
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    if pause_seconds < 0:
        raise ValueError(f"pause_seconds cannot be negative, got {pause_seconds}")
    pieces = [as_mono(take, f"take {i}") for i, take in enumerate(takes)]
    if not pieces:
        return np.zeros(0, dtype=np.float32)
    gap = round(pause_seconds * sample_rate)
    total = sum(p.shape[0] for p in pieces) + gap * (len(pieces) - 1)
    out = np.zeros(total, dtype=np.float32)
    at = 0
    for piece in pieces:
        out[at : at + piece.shape[0]] = piece
        at += piece.shape[0] + gap
    return out


def peak_dbfs(samples: npt.ArrayLike) -> float:
    """Sample peak in dBFS: ``20 * log10(max |x|)`` re full scale 1.0.

    A full-scale sine reads 0.0; silence or an empty buffer reads ``-inf``.
    """
    data = np.asarray(samples, dtype=np.float64)
    if data.size == 0:
        return -math.inf
    peak = float(np.max(np.abs(data)))
    return 20.0 * math.log10(peak) if peak > 0.0 else -math.inf


def rms_dbfs(samples: npt.ArrayLike) -> float:
    """RMS level in dBFS: ``20 * log10(sqrt(mean(x**2)))`` re full scale 1.0.

    This is the plain (not AES-17) convention: a full-scale sine reads about -3.01 dB and
    full-scale DC 0.0; silence or an empty buffer reads ``-inf``.
    """
    data = np.asarray(samples, dtype=np.float64)
    if data.size == 0:
        return -math.inf
    power = float(np.mean(data * data))
    return 10.0 * math.log10(power) if power > 0.0 else -math.inf


def write_audio(
    path: str | os.PathLike[str],
    samples: npt.ArrayLike,
    sample_rate: int,
    *,
    format: str = "WAV",
    subtype: str | None = "PCM_16",
) -> None:
    """Write mono audio to ``path`` atomically, in any format soundfile can write.

    The same as :func:`write_audio_chunks` with one chunk.

    Args:
        path: destination file.
        samples: float32 mono, shape ``(frames,)``.
        sample_rate: Hz (> 0).
        format: a ``soundfile.available_formats()`` key: ``"WAV"``, ``"FLAC"``, ``"MP3"``...
        subtype: a ``soundfile.available_subtypes(format)`` key; None for the format's
            default.

    Raises:
        OSError: the file cannot be created or written; the message names ``path`` and the
            errno subclass is kept (``PermissionError``, ...).
        ValueError: bad samples, rate, format or subtype.
    """
    write_audio_chunks(path, [as_mono(samples)], sample_rate, format=format, subtype=subtype)


def write_audio_chunks(
    path: str | os.PathLike[str],
    chunks: Iterable[npt.ArrayLike],
    sample_rate: int,
    *,
    format: str = "WAV",
    subtype: str | None = "PCM_16",
) -> int:
    """Write mono audio given as consecutive chunks to ``path`` atomically.

    Chunks are written one after another, so an hour of audio never has to exist as
    one array. The data goes to a temporary file in the destination folder which is then
    renamed over ``path`` (``os.replace``), so a full disk or a crash never leaves a
    half-written file at ``path`` and the temporary file is removed on failure. Every
    subtype but ``FLOAT``/``DOUBLE`` gets samples clipped to [-1, 1], because libsndfile's
    float-to-integer conversion does not clip by default and would wrap around.

    Args:
        path: destination file.
        chunks: float32 mono arrays, each of shape ``(frames,)``, in order.
        sample_rate: Hz (> 0).
        format, subtype: as for :func:`write_audio`.

    Returns:
        Frames written.

    Raises:
        OSError: the file cannot be created or written; the message names ``path`` and the
            errno subclass is kept (``PermissionError``, ...).
        ValueError: bad samples, rate, format or subtype.
    """
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    if not sf.check_format(format, subtype):
        raise ValueError(f"soundfile cannot write {format!r} with subtype {subtype!r}")
    clip = (subtype or sf.default_subtype(format)) not in ("FLOAT", "DOUBLE")
    target = Path(path)
    frames = 0
    try:
        # libsndfile writes the path itself: through a Python file object a failed write
        # (disk full) surfaces only as an AssertionError inside soundfile.
        with atomic_path(target) as temp, sf.SoundFile(
                str(temp), "w", sample_rate, 1, subtype=subtype, format=format) as out:
            for chunk in chunks:
                data = as_mono(chunk)
                out.write(np.clip(data, -1.0, 1.0) if clip else data)
                frames += data.shape[0]
    except sf.SoundFileRuntimeError as exc:
        # libsndfile reports failed writes (a full disk, a vanished drive) this way.
        detail = str(exc).rstrip(".")
        raise OSError(f"cannot write {target}: {detail} (disk full or I/O error?)") from exc
    except OSError as exc:
        if str(target) in str(exc):
            raise
        raise write_error(target, exc) from exc
    return frames


def write_wav(
    path: str | os.PathLike[str],
    samples: npt.ArrayLike,
    sample_rate: int,
    subtype: str = "PCM_16",
) -> None:
    """Write mono audio as a WAV file, atomically (see :func:`write_audio`).

    Args:
        path: destination ``.wav`` file.
        samples: float32 mono, shape ``(frames,)``; clipped to [-1, 1] for PCM subtypes.
        sample_rate: Hz.
        subtype: ``"PCM_16"`` (default), ``"PCM_24"``, ``"FLOAT"``...

    Raises:
        OSError: the file cannot be written (message names the path).
        ValueError: bad samples, rate or subtype.
    """
    write_audio(path, samples, sample_rate, format="WAV", subtype=subtype)


def read_audio(path: str | os.PathLike[str]) -> tuple[FloatArray, int]:
    """Read an audio file as float32 mono.

    Multi-channel files are mixed down by averaging the channels.

    Returns:
        ``(samples, sample_rate)``: float32 shape ``(frames,)`` and the file's rate in Hz.

    Raises:
        FileNotFoundError, PermissionError, OSError: the file cannot be opened.
        AudioFileError: the file is not audio libsndfile can decode (message names it).
    """
    target = Path(path)
    with open(target, "rb") as handle:
        try:
            data, rate = sf.read(handle, dtype="float32", always_2d=True)
        except sf.SoundFileError as exc:
            raise AudioFileError(f"{target} is not a readable audio file: {exc}") from exc
    return mixdown(data), int(rate)


def mixdown(frames: npt.NDArray[np.float32]) -> FloatArray:
    """soundfile's ``(frames, channels)`` float32 as mono ``(frames,)``: the channels
    averaged (a mono file's one channel as it is)."""
    mono = frames[:, 0] if frames.shape[1] == 1 else frames.mean(axis=1, dtype=np.float32)
    return np.ascontiguousarray(mono, dtype=np.float32)


#: The longest audio :func:`decode_audio_bytes` decodes by default, seconds.
MAX_DECODE_SECONDS = 600.0


def decode_audio_bytes(data: bytes, *,
                       max_seconds: float = MAX_DECODE_SECONDS) -> tuple[FloatArray, int]:
    """An audio file's bytes (any format libsndfile reads: wav, flac, mp3, ogg...) as
    float32 mono ``(frames,)`` (channels averaged) and its rate in Hz.

    The bytes come from outside (a server's reply, an upload), so they are decoded by
    :func:`studio.audio.untrusted.decode_untrusted` within its limits for
    ``max_seconds``.

    Raises:
        AudioLimitError: over a decoding limit (an :class:`AudioFileError`).
        AudioFileError: the bytes are not audio libsndfile can decode (the message
            gives libsndfile's reason; callers say what the bytes were).
    """
    # Imported here: the untrusted decoder builds on this module's AudioFileError.
    from studio.audio.untrusted import decode_untrusted

    return decode_untrusted(data, max_seconds=max_seconds)


def wav_bytes(samples: npt.ArrayLike, sample_rate: int, subtype: str = "PCM_16") -> bytes:
    """``samples`` (float32 mono ``(frames,)`` at ``sample_rate`` Hz) as a WAV file in
    memory, 16-bit PCM by default: what infill clips and clone uploads are sent as."""
    buffer = io.BytesIO()
    sf.write(buffer, np.asarray(samples, dtype=np.float32), sample_rate, format="WAV",
             subtype=subtype)
    return buffer.getvalue()
