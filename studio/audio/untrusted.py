"""Decoding audio that came from outside (an imported clip, an upload to the offline
engine, a server's reply), with limits checked before the work is done.

A compressed file is no measure of what it decodes to: 954 KB of FLAC (600 s of silence,
8 channels at 192 kHz) is 921.6 million samples, 3.7 GB as float32. Bytes and minutes
alone do not catch it, so :func:`decode_untrusted` reads the header first and refuses,
before decoding anything, a file with

- more than :data:`MAX_CHANNELS` channels or a rate above :data:`MAX_SAMPLE_RATE` Hz,
- more frames than ``max_seconds`` at the file's own rate, or
- more samples (frames x channels) than ``max_seconds`` x :data:`SAMPLES_PER_SECOND`,
  the samples of that many seconds of 48 kHz stereo.

It then decodes in blocks of :data:`BLOCK_FRAMES` frames, mixing each down to mono (and
resampling it with soxr's streaming resampler when asked), so peak memory is the mono
output plus one block, never the whole multichannel array. A header can lie, so the
decoded frames are counted too and decoding stops as soon as they pass the limit.

Files are read with soundfile (libsndfile: WAV, FLAC, MP3, Ogg Vorbis and Opus). When
libsndfile does not know the length (a FLAC whose STREAMINFO leaves the total at 0),
soundfile cannot read it in blocks, so such a file is decoded with PyAV (FFmpeg) frame by
frame under the same limits.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np
import numpy.typing as npt
import soundfile as sf
import soxr

from studio.audio.buffers import AudioFileError, mixdown

FloatArray = npt.NDArray[np.float32]

#: Most channels a file may have (7.1 surround).
MAX_CHANNELS = 8

#: Highest sample rate a file may have, Hz.
MAX_SAMPLE_RATE = 384_000

#: Samples (frames x channels) allowed per second of ``max_seconds``: 48 kHz stereo.
SAMPLES_PER_SECOND = 48_000 * 2

#: Frames decoded at a time (1.4 s at 48 kHz; 2 MB for 8 channels of float32).
BLOCK_FRAMES = 65_536

#: libsndfile's frame count for a file whose length it does not know (``SF_COUNT_MAX``).
_UNKNOWN_FRAMES = 2**63 - 1


class AudioLimitError(AudioFileError):
    """Audio over a decoding limit, refused before (or while) decoding.

    Attributes:
        reason: ``"channels"``, ``"sample_rate"``, ``"duration"`` or ``"samples"``.
        frames: frames per channel the header states (or decoded so far, when the header
            lied); 0 if not known.
        channels: the file's channel count.
        sample_rate: the file's rate, Hz.
        max_seconds: the duration limit the caller gave, seconds.
    """

    def __init__(self, message: str, *, reason: str, frames: int, channels: int,
                 sample_rate: int, max_seconds: float) -> None:
        super().__init__(message)
        self.reason = reason
        self.frames = frames
        self.channels = channels
        self.sample_rate = sample_rate
        self.max_seconds = max_seconds


def sample_limit(max_seconds: float) -> int:
    """The most samples (frames x channels) a file may hold for ``max_seconds``."""
    return int(max_seconds * SAMPLES_PER_SECOND)


def check_header(frames: int, channels: int, sample_rate: int, max_seconds: float) -> int:
    """Refuse a file from its header alone.

    Args:
        frames: frames per channel the header states; :data:`_UNKNOWN_FRAMES` or a
            negative number when it does not say.
        channels: channel count.
        sample_rate: Hz.
        max_seconds: the longest audio accepted, seconds.

    Returns:
        The most frames per channel decoding may produce before it stops (the limit a
        lying header is held to).

    Raises:
        AudioLimitError: over a limit; the message names the samples and the limit.
        AudioFileError: no channels or no positive rate.
    """
    if channels <= 0 or sample_rate <= 0:
        raise AudioFileError(f"the header gives {channels} channels at {sample_rate} Hz")
    known = 0 <= frames < _UNKNOWN_FRAMES

    def refuse(reason: str, message: str) -> AudioLimitError:
        return AudioLimitError(message, reason=reason, frames=frames if known else 0,
                               channels=channels, sample_rate=sample_rate,
                               max_seconds=max_seconds)

    if channels > MAX_CHANNELS:
        raise refuse("channels", f"it has {channels} channels; the limit is {MAX_CHANNELS}")
    if sample_rate > MAX_SAMPLE_RATE:
        raise refuse("sample_rate", f"its sample rate is {sample_rate:,} Hz; the limit is "
                                    f"{MAX_SAMPLE_RATE:,} Hz")
    max_samples = sample_limit(max_seconds)
    max_frames = min(math.floor(max_seconds * sample_rate), max_samples // channels)
    if known and frames / sample_rate > max_seconds:
        raise refuse("duration", f"it lasts {frames / sample_rate:,.0f} s; the limit is "
                                 f"{max_seconds:,.0f} s")
    if known and frames * channels > max_samples:
        raise refuse("samples", f"it holds {frames * channels:,} samples ({frames:,} frames "
                                f"x {channels} channels at {sample_rate:,} Hz); the limit is "
                                f"{max_samples:,} samples ({max_seconds:,.0f} s of 48 kHz "
                                "stereo)")
    return max_frames


def decode_untrusted(
    source: bytes | str | os.PathLike[str],
    *,
    max_seconds: float,
    target_rate: int | None = None,
) -> tuple[FloatArray, int]:
    """Decode an audio file from outside as float32 mono, within limits (module docstring).

    Args:
        source: the file's bytes, or its path.
        max_seconds: the longest audio accepted, seconds; it also sets the sample budget
            (``max_seconds`` x :data:`SAMPLES_PER_SECOND`).
        target_rate: Hz to resample to (soxr ``"HQ"``, streamed block by block); None
            keeps the file's rate.

    Returns:
        ``(samples, sample_rate)``: float32 shape ``(frames,)``, the channels averaged, and
        its rate in Hz (``target_rate`` when given).

    Raises:
        FileNotFoundError, PermissionError, OSError: a path that cannot be opened.
        AudioLimitError: over a limit, from the header or while decoding.
        AudioFileError: not audio libsndfile (or FFmpeg) can decode, or damaged.
    """
    if target_rate is not None and target_rate <= 0:
        raise ValueError(f"target_rate must be positive, not {target_rate}")
    with _open(source) as handle:
        try:
            with sf.SoundFile(handle) as audio:
                rate, channels, frames = int(audio.samplerate), int(audio.channels), audio.frames
                max_frames = check_header(frames, channels, rate, max_seconds)
                if frames < _UNKNOWN_FRAMES:
                    blocks = _soundfile_blocks(audio, max_frames)
                    return _collect(blocks, rate, target_rate, max_frames, max_seconds,
                                    channels)
        except AudioFileError:
            raise
        except (sf.SoundFileError, RuntimeError, TypeError, ValueError) as exc:
            raise AudioFileError(str(exc)) from exc
        handle.seek(0)
        blocks = _av_blocks(handle, max_seconds)
        return _collect(blocks, rate, target_rate, max_frames, max_seconds, channels)


def _open(source: bytes | str | os.PathLike[str]) -> BinaryIO:
    if isinstance(source, bytes | bytearray | memoryview):
        return io.BytesIO(source)
    return open(Path(source), "rb")


def _soundfile_blocks(audio: sf.SoundFile, max_frames: int) -> Iterator[FloatArray]:
    """Mono blocks; one frame past ``max_frames`` at most, so an overrun is seen."""
    left = max_frames + 1
    while left > 0:
        block = audio.read(min(BLOCK_FRAMES, left), dtype="float32", always_2d=True)
        if block.shape[0] == 0:
            return
        left -= block.shape[0]
        yield mixdown(block)


def _av_blocks(handle: BinaryIO, max_seconds: float) -> Iterator[FloatArray]:
    """Mono blocks decoded by FFmpeg frame by frame, each frame checked against the
    limits (its layout and rate can change mid-stream)."""
    try:
        with av.open(handle, "r") as container:
            if not container.streams.audio:
                raise AudioFileError("no audio stream")
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="fltp")
            for packet in container.demux(stream):
                for frame in packet.decode():
                    check_header(-1, len(frame.layout.channels), int(frame.sample_rate),
                                 max_seconds)
                    for planar in resampler.resample(frame):
                        yield planar.to_ndarray().mean(axis=0, dtype=np.float32)
    except av.FFmpegError as exc:
        raise AudioFileError(str(exc)) from exc


def _collect(blocks: Iterator[FloatArray], rate: int, target_rate: int | None,
             max_frames: int, max_seconds: float, channels: int) -> tuple[FloatArray, int]:
    """Join mono blocks (resampled when ``target_rate`` differs), stopping with
    :class:`AudioLimitError` once more than ``max_frames`` have been decoded."""
    stream = (soxr.ResampleStream(rate, target_rate, 1, dtype="float32", quality="HQ")
              if target_rate is not None and target_rate != rate else None)
    pieces: list[FloatArray] = []
    decoded = 0
    for block in blocks:
        decoded += block.shape[0]
        if decoded > max_frames:
            raise AudioLimitError(
                f"it decodes to more than {max_frames:,} frames ({max_seconds:,.0f} s at "
                f"{rate:,} Hz, {channels} channels): its header did not give its true "
                "length, and decoding stopped there",
                reason="samples", frames=decoded, channels=channels, sample_rate=rate,
                max_seconds=max_seconds)
        pieces.append(block if stream is None else stream.resample_chunk(block))
    if stream is not None:
        pieces.append(stream.resample_chunk(np.zeros(0, dtype=np.float32), last=True))
    mono = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
    return mono.astype(np.float32, copy=False), rate if target_rate is None else target_rate
