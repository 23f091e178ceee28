"""ACX (Audible) audio submission checks: streaming levels, and the rules they are held to.
Qt-free.

ACX's *Audio Submission Requirements* (acx.com/help/acx-audio-submission-requirements/
201456300) ask of every file: RMS between -23 and -18 dB, peaks no higher than -3 dB,
a noise floor no higher than -60 dB RMS, 0.5 to 1 s of room tone at the head and 1 to 5 s
at the tail, MP3 at 192 kb/s or more at a constant bit rate (CBR), 44.1 kHz, every file in
the same channel layout (mono preferred), at most 120 minutes per file, one chapter per
file. :func:`acx_check` holds one file to the per-file rules and says what to change
(:func:`check_file` does it for a file on disk); :func:`channel_layout_finding` checks the
layout across a book.

An audiobook is exported block by block and a ten-hour book does not fit in memory, so the
levels are measured as a stream: :class:`LevelMeter` takes chunks of any size in order,
does vectorised numpy work per chunk, and carries only a few numbers and at most
``window/hop - 1`` hop sums between chunks, so its memory does not grow with the stream.
:func:`scan_file` decodes a file on disk with PyAV (FFmpeg) the same way, for checking
files that already exist.

How each figure is defined (levels in dB re full scale 1.0, which ACX and Audacity call
"dB"):

- **RMS** is ``20 * log10(sqrt(mean(x**2)))`` over the whole file, unweighted. A
  full-scale sine reads -3.01 dB, full-scale DC 0.0. This is Audacity's convention, which
  ACX's numbers follow (ACX Check takes ``linear-to-db`` of the RMS), as does FFmpeg's
  ``astats`` and :func:`studio.audio.buffers.rms_dbfs`. AES17's dBFS adds 3.01 dB so that
  a full-scale sine reads 0; held to ACX's numbers it would pass files ACX finds too quiet
  and fail some it accepts.
- **Peak** is the sample peak, ``20 * log10(max |x|)``, as ACX Check reads it (Audacity's
  ``peak-level``); not the true (inter-sample) peak.
- **Noise floor** follows Audacity's built-in ACX Check (Steve Daulton, release 2.4.2-1,
  ``getfloor``): the RMS of 0.4 s windows taken every 0.1 s, and the lowest of them, "the
  lowest 0.4 to 0.5 s in the selection". Windows start at whole hops from the first
  sample and only full windows count, as ACX Check stops at its last full window. The
  first ACX Check (Will McCown, 2015) took "the RMS level of the quietest 500 mS"; pass
  ``window_seconds=0.5`` for that. Digital silence reads ``-inf``; a stream shorter than
  one window has no noise floor (NaN). ACX Check warns below -90 dB that dead silence
  sounds unnatural; ACX's rule is only the -60 dB ceiling, and a synthetic voice's
  digital silence meets it, so that is no failure here.
- **Channels** combine as ACX Check combines stereo (``s-rms``): RMS and noise floor from
  the mean square over all channels, peak from the loudest channel. A mono file reads
  the same either way; a stereo file with one silent channel reads 3 dB lower than its
  live channel, where a mix-down would read 6 dB lower and halve the peak.
- **Room tone** at the head (tail) is the time before the first (after the last) sound:
  audio is cut into :data:`QUIET_BLOCK_SECONDS` blocks, and a block is sound when its RMS
  is above :data:`QUIET_DBFS`. ACX states room tone lengths but not how it finds the
  narration's edges; -50 dB sits 10 dB above the loudest room tone ACX accepts (-60 dB)
  and about 30 dB below narration at -20 dB RMS, so a compliant room reads as room tone
  and a breath or a soft consonant usually reads as sound. A room noisier than -50 dB has no room
  tone by this measure; its noise floor fails first, and the advice says so.

Rules are applied strictly to the measured value: a peak of -2.99 dB fails here, where ACX
Check, which fails only peaks above -2.99 dB, lets it pass. Values are shown to 0.1 dB,
with more digits when 0.1 dB would hide which side of a limit they are on.
"""

from __future__ import annotations

import errno
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from studio.audio.buffers import AudioFileError

Float64Array = npt.NDArray[np.float64]

# -- ACX's rules -------------------------------------------------------------------------

RMS_MIN_DB = -23.0
RMS_MAX_DB = -18.0
RMS_TARGET_DB = -20.0
"""The middle of ACX's RMS range: what the advice normalises to."""

PEAK_MAX_DB = -3.0
PEAK_CEILING_ADVICE_DB = -3.5
"""The limiter ceiling the advice suggests: 0.5 dB under ACX's limit, because MP3 encoding
moves peaks (usually up), which is also why the encoded file is the one to measure."""

NOISE_FLOOR_MAX_DB = -60.0

HEAD_SECONDS = (0.5, 1.0)
TAIL_SECONDS = (1.0, 5.0)
HEAD_TARGET_SECONDS = 0.75
TAIL_TARGET_SECONDS = 2.0
"""Room tone lengths the advice aims for: inside ACX's ranges with margin either side."""

MIN_BITRATE_KBPS = 192
SAMPLE_RATE = 44100
MAX_MINUTES = 120.0

# -- measurement -------------------------------------------------------------------------

NOISE_WINDOW_SECONDS = 0.4
NOISE_HOP_SECONDS = 0.1
"""ACX Check's noise floor windows: 0.4 s long, one every 0.1 s (``s-rms *track* 10
window-size``)."""

QUIET_BLOCK_SECONDS = 0.01
"""Blocks for finding where the narration starts and ends: 10 ms resolves the 0.5 s
head rule finely, and a speech onset rises within it."""

QUIET_DBFS = -50.0
"""A block whose RMS is at or below this is room tone, above it sound (module docstring)."""

_BATCH_FRAMES = 1 << 16
"""Decoded frames gathered before they go to the meter: a codec's frames are small (1152
samples for MP3), and a meter call per frame would spend more in Python than in numpy."""

_EMPTY = np.zeros(0, dtype=np.float64)


def _db_power(power: float) -> float:
    """``10 * log10(power)``; ``-inf`` for zero."""
    return 10.0 * math.log10(power) if power > 0.0 else -math.inf


@dataclass(frozen=True, slots=True)
class Levels:
    """What :class:`LevelMeter` measured (definitions in the module docstring).

    Attributes:
        rms_dbfs: whole-stream unweighted RMS in dB re full scale (a full-scale sine reads
            -3.01); ``-inf`` for digital silence or no audio.
        peak_dbfs: sample peak in dB re full scale; ``-inf`` for digital silence.
        noise_floor_dbfs: RMS of the quietest full window, dB; ``-inf`` when that window
            is digital silence; NaN when the stream is shorter than one window.
        duration: seconds of audio measured.
        head_seconds: seconds before the first block of sound (the whole duration when
            there is none).
        tail_seconds: seconds after the last block of sound (likewise).
    """

    rms_dbfs: float
    peak_dbfs: float
    noise_floor_dbfs: float
    duration: float
    head_seconds: float
    tail_seconds: float

    @property
    def has_sound(self) -> bool:
        """True when some block is louder than :data:`QUIET_DBFS`."""
        return self.duration > 0.0 and self.head_seconds < self.duration


class _BlockSums:
    """Sums of every ``size`` consecutive values of a stream, carrying the partial block."""

    __slots__ = ("_count", "_size", "_sum")

    def __init__(self, size: int) -> None:
        self._size = size
        self._sum = 0.0
        self._count = 0

    @property
    def partial(self) -> tuple[float, int]:
        """The sum and count of the values of the block not yet complete."""
        return self._sum, self._count

    def push(self, values: Float64Array) -> Float64Array:
        """Add ``values`` (shape ``(n,)``); returns the sums of the blocks they complete."""
        size = self._size
        start = 0
        completed: Float64Array | None = None
        if self._count:
            start = min(size - self._count, values.shape[0])
            self._sum += float(values[:start].sum())
            self._count += start
            if self._count < size:
                return _EMPTY
            completed = np.array([self._sum])
        rest = values[start:]
        whole = rest.shape[0] // size * size
        sums: Float64Array = rest[:whole].reshape(-1, size).sum(axis=1)
        tail = rest[whole:]
        self._sum = float(tail.sum())
        self._count = tail.shape[0]
        return sums if completed is None else np.concatenate((completed, sums))


class LevelMeter:
    """Streaming RMS, sample peak, noise floor and head/tail room tone of one file.

    Feed chunks in order with :meth:`add` (mono) or :meth:`add_channels`; read
    :meth:`result` at any point. Chunks may be any length, including shorter than a
    window or a block: partial blocks carry over, so the result does not depend on how
    the stream was cut (up to float64 rounding, far below 1e-6 dB).

    Args:
        sample_rate: Hz (> 0).
        window_seconds: noise floor window (ACX Check's 0.4 s unless told).
        hop_seconds: step between noise floor windows (ACX Check's 0.1 s); the window
            must be a whole number of hops. Both are rounded to whole frames.

    Raises:
        ValueError: a sample rate, window or hop that is not positive, a hop shorter than
            one frame, or a window that is not a whole number of hops.
    """

    def __init__(self, sample_rate: int, *, window_seconds: float = NOISE_WINDOW_SECONDS,
                 hop_seconds: float = NOISE_HOP_SECONDS) -> None:
        if sample_rate <= 0:
            raise ValueError(f"the sample rate must be positive, not {sample_rate}")
        if not (window_seconds > 0 and hop_seconds > 0):
            raise ValueError("the noise floor window and hop must be positive")
        hops = window_seconds / hop_seconds
        if abs(hops - round(hops)) > 1e-6 or round(hops) < 1:
            raise ValueError(f"the window ({window_seconds} s) must be a whole number of "
                             f"hops ({hop_seconds} s)")
        hop_frames = round(hop_seconds * sample_rate)
        if hop_frames < 1:
            raise ValueError(f"a hop of {hop_seconds} s is less than one frame")
        block_frames = max(1, round(QUIET_BLOCK_SECONDS * sample_rate))
        self._sample_rate = sample_rate
        self._window_hops = round(hops)
        self._window_frames = self._window_hops * hop_frames
        self._hops = _BlockSums(hop_frames)
        self._blocks = _BlockSums(block_frames)
        self._block_frames = block_frames
        self._quiet_power = 10.0 ** (QUIET_DBFS / 10.0)
        self._recent_hops = _EMPTY  # the last window_hops - 1 hop sums, for the next window
        self._quietest_window = math.inf  # sum of squares of the quietest full window
        self._frames = 0
        self._sum_squares = 0.0
        self._peak = 0.0
        self._sound_seen = False
        self._head_blocks = 0
        self._tail_blocks = 0

    @property
    def sample_rate(self) -> int:
        """Hz."""
        return self._sample_rate

    def add(self, samples: npt.NDArray[np.floating[Any]]) -> None:
        """Measure the next chunk of mono audio.

        Args:
            samples: float32 (other float dtypes are accepted), shape ``(frames,)``.

        Raises:
            ValueError: not one-dimensional, or NaN or infinite samples.
        """
        data = np.asarray(samples, dtype=np.float64)
        if data.ndim != 1:
            raise ValueError(f"samples must be mono, shape (frames,); got shape {data.shape}")
        self._add_mono(data)

    def _add_mono(self, data: Float64Array) -> None:
        if data.shape[0]:
            self._add_power(data * data, max(float(data.max()), -float(data.min())))

    def add_channels(self, frames: npt.NDArray[np.floating[Any]]) -> None:
        """Measure the next chunk of multichannel audio, channels combined as ACX Check
        combines stereo: mean square over channels, peak of the loudest channel.

        Args:
            frames: float32, shape ``(frames, channels)`` (soundfile's layout).

        Raises:
            ValueError: not two-dimensional, or NaN or infinite samples.
        """
        data = np.asarray(frames, dtype=np.float64)
        if data.ndim != 2:
            raise ValueError(f"frames must have shape (frames, channels); got {data.shape}")
        if data.shape[1] == 1:
            self._add_mono(data[:, 0])
        elif data.size:
            self._add_power(np.mean(data * data, axis=1),
                            max(float(data.max()), -float(data.min())))

    def _add_power(self, power: Float64Array, peak: float) -> None:
        """Fold in per-frame mean squares (shape ``(frames,)``) and the chunk's peak."""
        total = float(power.sum())
        if not (math.isfinite(total) and math.isfinite(peak)):
            raise ValueError("the samples contain NaN or infinity")
        self._frames += power.shape[0]
        self._sum_squares += total
        self._peak = max(self._peak, peak)
        hop_sums = self._hops.push(power)
        if hop_sums.shape[0]:
            self._add_hops(hop_sums)
        block_sums = self._blocks.push(power)
        if block_sums.shape[0]:
            self._add_blocks(block_sums)

    def _add_hops(self, hop_sums: Float64Array) -> None:
        hops = np.concatenate((self._recent_hops, hop_sums))
        k = self._window_hops
        count = hops.shape[0] - k + 1
        if count > 0:
            # Each window adds k hop sums: a loop over k (4 by default), not over windows.
            # Not sliding_window_view: it leaves a reference cycle per call, garbage that
            # waits for the cyclic collector, which the studio runs only on its main thread.
            windows = hops[:count].copy()
            for offset in range(1, k):
                windows += hops[offset:offset + count]
            self._quietest_window = min(self._quietest_window, float(windows.min()))
        self._recent_hops = hops[hops.shape[0] - min(k - 1, hops.shape[0]):].copy()

    def _add_blocks(self, block_sums: Float64Array) -> None:
        loud = np.flatnonzero(block_sums > self._quiet_power * self._block_frames)
        count = block_sums.shape[0]
        if loud.shape[0] == 0:
            if not self._sound_seen:
                self._head_blocks += count
            self._tail_blocks += count
            return
        if not self._sound_seen:
            self._head_blocks += int(loud[0])
            self._sound_seen = True
        self._tail_blocks = count - 1 - int(loud[-1])

    def result(self) -> Levels:
        """The levels of everything added so far (the meter can go on being fed)."""
        frames = self._frames
        head = self._head_blocks * self._block_frames
        tail = self._tail_blocks * self._block_frames
        partial_sum, partial_count = self._blocks.partial
        if partial_count:  # the stream ends inside a block: judge what there is of it
            if partial_sum > self._quiet_power * partial_count:
                tail = 0
            else:
                head += 0 if self._sound_seen else partial_count
                tail += partial_count
        if self._quietest_window == math.inf:
            floor = math.nan
        else:
            floor = _db_power(self._quietest_window / self._window_frames)
        rate = self._sample_rate
        return Levels(
            rms_dbfs=_db_power(self._sum_squares / frames) if frames else -math.inf,
            peak_dbfs=20.0 * math.log10(self._peak) if self._peak > 0.0 else -math.inf,
            noise_floor_dbfs=floor,
            duration=frames / rate,
            head_seconds=head / rate,
            tail_seconds=tail / rate,
        )


# -- files on disk -----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FileFormat:
    """How a file is encoded, as far as ACX's rules care.

    Attributes:
        container: the file type in :mod:`studio.audio.encoders`' words: ``mp3``, ``wav``,
            ``flac``, ``opus``, ``m4a``, ``m4b``; for other files FFmpeg's demuxer name.
            ``mp3`` means MPEG Layer III audio (an MPEG Layer II file reads ``mp2``).
        sample_rate: Hz.
        channels: 1 (mono), 2 (stereo), ...
        bitrate_kbps: kb/s: for MP3 the frames' bit rate (their average when it varies);
            ``None`` when not known or not applicable (PCM).
        constant_bitrate: MP3 only: every frame at the same bit rate (CBR), from the MPEG
            frame headers; ``None`` for other containers.
    """

    container: str
    sample_rate: int
    channels: int
    bitrate_kbps: int | None = None
    constant_bitrate: bool | None = None

    def __str__(self) -> str:
        """E.g. ``MP3 192 kb/s CBR, 44.1 kHz, mono``."""
        parts = [_CONTAINER_LABELS.get(self.container, self.container.upper())]
        if self.bitrate_kbps is not None:
            parts.append(f"{self.bitrate_kbps} kb/s")
        if self.constant_bitrate is not None:
            parts.append("CBR" if self.constant_bitrate else "VBR")
        layout = {1: "mono", 2: "stereo"}.get(self.channels, f"{self.channels} channels")
        return f"{' '.join(parts)}, {self.sample_rate / 1000:g} kHz, {layout}"


_CONTAINER_LABELS = {"mp3": "MP3", "mp2": "MP2", "wav": "WAV", "flac": "FLAC",
                     "opus": "Opus", "ogg": "Ogg", "m4a": "M4A", "m4b": "M4B"}

# MPEG audio Layer III bit rates in kb/s by the header's 4-bit index (ISO 11172-3 and
# 13818-3): MPEG-1, and MPEG-2/2.5 (the half rates). Index 0 is free format, 15 invalid.
_MPEG1_L3_KBPS = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MPEG2_L3_KBPS = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)


def _mp3_frame_kbps(header: bytes) -> int | None:
    """The bit rate an MPEG Layer III frame header states; ``None`` if it states none."""
    if len(header) < 3 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version = (header[1] >> 3) & 3  # 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5, 1: reserved
    layer = (header[1] >> 1) & 3  # 1: Layer III
    index = header[2] >> 4
    if version == 1 or layer != 1 or index in (0, 15):
        return None
    return (_MPEG1_L3_KBPS if version == 3 else _MPEG2_L3_KBPS)[index]


def _container_name(demuxer: str, codec: str, path: Path) -> str:
    if demuxer == "mp3":
        return codec  # FFmpeg's "mp3" demuxer reads every MPEG audio layer
    if demuxer.startswith("mov,"):
        return "m4b" if path.suffix.lower() == ".m4b" else "m4a"
    if demuxer == "ogg" and codec == "opus":
        return "opus"
    return demuxer.split(",")[0]


class _Batcher:
    """Gathers decoded planar frames (``(channels, n)``) into chunks for the meter."""

    def __init__(self, meter: LevelMeter, channels: int,
                 also: Callable[[npt.NDArray[np.float32]], None] | None = None) -> None:
        self._meter = meter
        self._also = also
        self._channels = channels
        self._pending: list[npt.NDArray[np.float32]] = []
        self._frames = 0

    def add(self, planes: npt.NDArray[np.float32]) -> None:
        if planes.shape[0] != self._channels:
            raise AudioFileError(f"the channel count changes from {self._channels} to "
                                 f"{planes.shape[0]} within the file")
        self._pending.append(planes)
        self._frames += planes.shape[1]
        if self._frames >= _BATCH_FRAMES:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        planes = np.concatenate(self._pending, axis=1)
        self._pending.clear()
        self._frames = 0
        if planes.shape[0] == 1:
            self._meter.add(planes[0])
        else:
            self._meter.add_channels(planes.T)
        if self._also is not None:
            self._also(np.ascontiguousarray(planes[0]))


def scan_file(path: str | os.PathLike[str],
              also: Callable[[npt.NDArray[np.float32]], None] | None = None,
              ) -> tuple[Levels, FileFormat]:
    """Decode an audio file in a stream and measure it, reading its format on the way.

    ``also``, when given, receives the first channel's samples (float32, ``(frames,)``)
    as they are decoded, for another measurement in the same pass (the export measures
    the loudness of what it wrote this way).

    The first audio stream is decoded with PyAV (FFmpeg), converted to float32 and fed
    to a :class:`LevelMeter` at the file's own sample rate about 1.5 s at a time, so
    memory does not grow with the file. FFmpeg's MP3 decoder drops the encoder
    delay and padding that LAME's Info/Xing header records, so durations and room tone
    are the programme's own. An MP3's bit rate comes from its frame headers: CBR when
    every frame states the same rate (the Info/Xing frame is the demuxer's, not audio).

    Returns:
        The levels (channels combined as :meth:`LevelMeter.add_channels` does) and the
        format.

    Raises:
        FileNotFoundError: no file at ``path``.
        AudioFileError: not audio FFmpeg can decode, no audio stream, or a decoding error.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(errno.ENOENT, "no such audio file", str(path))
    try:
        container = av.open(str(path))
    except av.FFmpegError as exc:
        raise AudioFileError(f"{path.name} is not audio FFmpeg can read: {exc}") from exc
    with container:
        if not container.streams.audio:
            raise AudioFileError(f"{path.name} has no audio stream")
        stream = container.streams.audio[0]
        context = stream.codec_context
        codec = context.codec.canonical_name
        if context.sample_rate <= 0 or context.channels <= 0:
            raise AudioFileError(f"{path.name} states no sample rate or channel count")
        meter = LevelMeter(context.sample_rate)
        batcher = _Batcher(meter, context.channels, also)
        resampler = av.AudioResampler(format="fltp")  # float32 planes; rate and layout kept
        rates: set[int | None] = set()
        mp3_bytes = 0
        try:
            for packet in container.demux(stream):
                if codec == "mp3" and packet.size:
                    rates.add(_mp3_frame_kbps(memoryview(packet)[:3].tobytes()))
                    mp3_bytes += packet.size
                for frame in packet.decode():
                    for out in resampler.resample(frame):
                        batcher.add(np.asarray(out.to_ndarray(), dtype=np.float32))
            for out in resampler.resample(None):
                batcher.add(np.asarray(out.to_ndarray(), dtype=np.float32))
        except av.FFmpegError as exc:
            raise AudioFileError(f"{path.name} could not be decoded: {exc}") from exc
        batcher.flush()
        levels = meter.result()
        fmt = _file_format(container, context, codec, path, rates, mp3_bytes, levels)
    return levels, fmt


def _file_format(container: Any, context: Any, codec: str, path: Path,
                 rates: set[int | None], mp3_bytes: int, levels: Levels) -> FileFormat:
    name = _container_name(container.format.name, codec, path)
    bitrate: int | None = None
    constant: bool | None = None
    if codec == "mp3":
        constant = len(rates) == 1 and None not in rates
        if constant:
            bitrate = next(iter(rates))
        elif levels.duration > 0:
            bitrate = round(mp3_bytes * 8 / levels.duration / 1000)
    elif context.bit_rate and not codec.startswith("pcm_"):
        bitrate = round(context.bit_rate / 1000)
    return FileFormat(name, context.sample_rate, context.channels, bitrate, constant)


def measure_file(path: str | os.PathLike[str]) -> Levels:
    """The levels of an audio file on disk (:func:`scan_file` without the format).

    Raises:
        FileNotFoundError: no file at ``path``.
        AudioFileError: not audio FFmpeg can decode.
    """
    return scan_file(path)[0]


# -- the rules ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class AcxFinding:
    """One rule applied to one file.

    Attributes:
        name: ``RMS``, ``Peak``, ``Noise floor``, ``Room tone at head``, ``Room tone at
            tail``, ``Format``, ``Length`` (and, across a book, ``Channel layout``).
        value: the measured value for people, e.g. ``-20.4 dB`` or ``0.62 s``.
        passed: the rule is met.
        advice: empty when passed; otherwise what to change, in the creator's terms.
    """

    name: str
    value: str
    passed: bool
    advice: str = ""


@dataclass(frozen=True, slots=True)
class AcxReport:
    """The findings for one file: levels, room tone, format, length, in that order.

    Attributes:
        file: the file's name as the creator knows it (e.g. ``chapter-01.mp3``).
        findings: one per rule.
    """

    file: str
    findings: tuple[AcxFinding, ...]

    @property
    def passed(self) -> bool:
        """True when every rule is met."""
        return all(f.passed for f in self.findings)

    def lines(self) -> list[str]:
        """A summary line, then one line per failed rule with its advice, e.g.
        ``chapter-01.mp3: PASS — RMS -20.1 dB, peak -3.4 dB, noise floor -64.2 dB``."""
        levels = ", ".join(f"{'RMS' if f.name == 'RMS' else f.name.lower()} {f.value}"
                           for f in self.findings if f.name in _SUMMARY)
        head = f"{self.file}: {'PASS' if self.passed else 'FAIL'}"
        out = [f"{head} — {levels}" if levels else head]
        out += [f"  {f.name} {f.value}: {f.advice}" for f in self.findings if not f.passed]
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


_SUMMARY = ("RMS", "Peak", "Noise floor")


def _show(value: float, limit: float, unit: str = "dB", digits: int = 1) -> str:
    """``value`` to ``digits`` decimals, or to as many more (up to 3) as it takes not to
    read as ``limit`` when it is not; ``-inf`` as such."""
    if math.isinf(value):
        return f"{'-' if value < 0 else ''}inf {unit}"
    while digits < 3 and value != limit and round(value, digits) == round(limit, digits):
        digits += 1
    return f"{value:.{digits}f} {unit}"


def _rms_finding(levels: Levels) -> AcxFinding:
    rms, value = levels.rms_dbfs, _show(levels.rms_dbfs, RMS_MIN_DB)
    if RMS_MIN_DB <= rms <= RMS_MAX_DB:
        return AcxFinding("RMS", value, True)
    if rms > RMS_MAX_DB:
        value = _show(rms, RMS_MAX_DB)
        gain = RMS_TARGET_DB - rms
        return AcxFinding("RMS", value, False,
                          f"Lower the level by {-gain:.1f} dB to {RMS_TARGET_DB:g} dB RMS "
                          f"(ACX allows {RMS_MIN_DB:g} to {RMS_MAX_DB:g} dB)")
    if not levels.has_sound:
        return AcxFinding("RMS", value, False,
                          f"The file holds no narration (nothing above {QUIET_DBFS:g} dB): "
                          "check that the chapter's takes were rendered and included")
    gain = RMS_TARGET_DB - rms
    advice = (f"Raise the level by {gain:.1f} dB to {RMS_TARGET_DB:g} dB RMS "
              f"(ACX allows {RMS_MIN_DB:g} to {RMS_MAX_DB:g} dB)")
    if levels.peak_dbfs + gain > PEAK_MAX_DB:
        advice += (f"; peaks would then reach {levels.peak_dbfs + gain:.1f} dB, so limit "
                   f"them to {PEAK_CEILING_ADVICE_DB:g} dB as you raise it")
    if levels.noise_floor_dbfs + gain > NOISE_FLOOR_MAX_DB:
        advice += (f"; the noise floor would rise to {levels.noise_floor_dbfs + gain:.1f} "
                   f"dB, over ACX's {NOISE_FLOOR_MAX_DB:g} dB, so reduce the noise first")
    return AcxFinding("RMS", value, False, advice)


def _peak_finding(levels: Levels) -> AcxFinding:
    peak, value = levels.peak_dbfs, _show(levels.peak_dbfs, PEAK_MAX_DB)
    if peak <= PEAK_MAX_DB:
        return AcxFinding("Peak", value, True)
    return AcxFinding("Peak", value, False,
                      f"Peaks reach {value}: lower the peak ceiling to "
                      f"{PEAK_CEILING_ADVICE_DB:g} dB or turn on the limiter "
                      f"(ACX allows at most {PEAK_MAX_DB:g} dB)")


def _noise_finding(levels: Levels) -> AcxFinding:
    floor = levels.noise_floor_dbfs
    if math.isnan(floor):
        return AcxFinding("Noise floor", "not measured", False,
                          f"The file is shorter than {NOISE_WINDOW_SECONDS:g} s, too short "
                          "to measure; ACX files hold a whole chapter with room tone")
    if floor == -math.inf:
        return AcxFinding("Noise floor", "-inf dB (digital silence)", True)
    value = _show(floor, NOISE_FLOOR_MAX_DB)
    if floor <= NOISE_FLOOR_MAX_DB:
        return AcxFinding("Noise floor", value, True)
    return AcxFinding("Noise floor", value, False,
                      f"The quietest {NOISE_WINDOW_SECONDS:g} s is at {value}; ACX needs "
                      f"{NOISE_FLOOR_MAX_DB:g} dB or lower: reduce the background noise "
                      "(a quieter room, gentle noise reduction, or room tone from a "
                      "cleaner take)")


def _room_tone_finding(where: str, seconds: float, levels: Levels,
                       limits: tuple[float, float], target: float) -> AcxFinding:
    name = f"Room tone at {where}"
    value = f"{seconds:.2f} s"
    low, high = limits
    if low <= seconds <= high:
        return AcxFinding(name, value, True)
    needs = f"ACX needs {low:g} to {high:g} s of room tone at the {where}"
    if levels.duration > 0 and not levels.has_sound:
        return AcxFinding(name, value, False,
                          f"No narration found (nothing above {QUIET_DBFS:g} dB), so there "
                          f"is no {where} to measure; {needs}")
    if levels.noise_floor_dbfs > QUIET_DBFS:
        return AcxFinding(name, value, False,
                          f"The background noise ({levels.noise_floor_dbfs:.1f} dB) is above "
                          f"the {QUIET_DBFS:g} dB taken for room tone, so the narration's "
                          f"edges cannot be found; reduce the noise, then check again ({needs})")
    if seconds < low:
        return AcxFinding(name, value, False,
                          f"{needs}: add {target - seconds:.2f} s of room tone "
                          f"({target:g} s in all)")
    return AcxFinding(name, value, False,
                      f"{needs}: trim {seconds - target:.2f} s of it ({target:g} s in all)")


def _format_finding(fmt: FileFormat) -> AcxFinding:
    needs = f"ACX needs constant bit rate (CBR) MP3 at {MIN_BITRATE_KBPS} kb/s or more"
    problems: list[str] = []
    if fmt.container != "mp3":
        label = _CONTAINER_LABELS.get(fmt.container, fmt.container.upper())
        problems.append(f"encoded as {label}; {needs}")
    elif fmt.constant_bitrate is not True:
        average = "" if fmt.bitrate_kbps is None else f" ({fmt.bitrate_kbps} kb/s on average)"
        problems.append(f"encoded as VBR{average}; {needs}")
    elif fmt.bitrate_kbps is None or fmt.bitrate_kbps < MIN_BITRATE_KBPS:
        rate = "an unknown bit rate" if fmt.bitrate_kbps is None else f"{fmt.bitrate_kbps} kb/s"
        problems.append(f"encoded at {rate}; ACX needs {MIN_BITRATE_KBPS} kb/s or more — "
                        f"export at {MIN_BITRATE_KBPS} kb/s")
    if fmt.sample_rate != SAMPLE_RATE:
        problems.append(f"sampled at {fmt.sample_rate / 1000:g} kHz; ACX needs 44.1 kHz — "
                        f"export at {SAMPLE_RATE} Hz")
    if fmt.channels > 2:
        problems.append(f"{fmt.channels} channels; ACX accepts mono (preferred) or stereo")
    advice = "; ".join(problems)
    return AcxFinding("Format", str(fmt), not problems, advice[:1].upper() + advice[1:])


def _length_finding(levels: Levels) -> AcxFinding:
    minutes = levels.duration / 60.0
    value = _show(minutes, MAX_MINUTES, "min")
    if minutes <= MAX_MINUTES:
        return AcxFinding("Length", value, True)
    length = _show(minutes, MAX_MINUTES, "minutes", digits=0)
    return AcxFinding("Length", value, False,
                      f"The file is {length}; ACX allows at most {MAX_MINUTES:g} minutes per "
                      "file — split the chapter")


def acx_check(file: str, levels: Levels, *, sample_rate: int, channels: int, container: str,
              bitrate_kbps: int | None = None, constant_bitrate: bool | None = None,
              head_seconds: float | None = None,
              tail_seconds: float | None = None) -> AcxReport:
    """Hold one file to ACX's per-file rules.

    The format keywords are :class:`FileFormat`'s fields, so a scanned file's format goes
    in as ``**dataclasses.asdict(fmt)`` (:func:`check_file` does that).

    Args:
        file: the name to report the file by.
        levels: its measured levels (:class:`LevelMeter`, :func:`measure_file`); measure
            the encoded file where possible, since MP3 encoding moves peaks.
        sample_rate: Hz of the file.
        channels: its channel count.
        container: ``mp3``, ``wav``, ``m4b`` ... (:attr:`FileFormat.container`).
        bitrate_kbps: the encoder's bit rate in kb/s; ``None`` for PCM or not known.
        constant_bitrate: CBR rather than VBR; read for MP3 only.
        head_seconds: room tone at the head, seconds, when the caller knows it better
            than the measurement (``levels.head_seconds`` unless given). The measured
            span includes any quiet start of the first take, which a figure for the
            room tone the export inserted does not.
        tail_seconds: likewise at the tail.

    Returns:
        Findings for RMS, peak, noise floor, room tone at head and tail, format and
        length, in that order.
    """
    fmt = FileFormat(container, sample_rate, channels, bitrate_kbps,
                     constant_bitrate if container == "mp3" else None)
    head = levels.head_seconds if head_seconds is None else head_seconds
    tail = levels.tail_seconds if tail_seconds is None else tail_seconds
    return AcxReport(file, (
        _rms_finding(levels),
        _peak_finding(levels),
        _noise_finding(levels),
        _room_tone_finding("head", head, levels, HEAD_SECONDS, HEAD_TARGET_SECONDS),
        _room_tone_finding("tail", tail, levels, TAIL_SECONDS, TAIL_TARGET_SECONDS),
        _format_finding(fmt),
        _length_finding(levels),
    ))


def check_file(path: str | os.PathLike[str], name: str | None = None) -> AcxReport:
    """Decode a file on disk (:func:`scan_file`) and hold it to ACX's per-file rules,
    with its measured room tone and the format read from the file.

    Args:
        path: the audio file.
        name: the name to report it by; the file's name unless given.

    Raises:
        FileNotFoundError: no file at ``path``.
        AudioFileError: not audio FFmpeg can decode.
    """
    levels, fmt = scan_file(path)
    return acx_check(name or Path(path).name, levels, **asdict(fmt))


def channel_layout_finding(formats: Mapping[str, FileFormat]) -> AcxFinding:
    """ACX's book-wide rule: every file in the same channel layout (mono preferred).

    Args:
        formats: each file's name and format.

    Returns:
        A ``Channel layout`` finding; its advice names the files that differ from the
        most common layout (mono when tied).
    """
    def layout(channels: int) -> str:
        return {1: "mono", 2: "stereo"}.get(channels, f"{channels}-channel")

    counts: dict[int, int] = {}
    for fmt in formats.values():
        counts[fmt.channels] = counts.get(fmt.channels, 0) + 1
    if len(counts) <= 1:
        only = next(iter(counts), 1)
        return AcxFinding("Channel layout", f"all {layout(only)}", True)
    usual = max(counts, key=lambda channels: (counts[channels], channels == 1))
    odd = [name for name, fmt in formats.items() if fmt.channels != usual]
    value = ", ".join(f"{n} {layout(c)}" for c, n in sorted(counts.items()))
    files = ", ".join(f"{name} ({layout(formats[name].channels)})" for name in odd)
    return AcxFinding("Channel layout", value, False,
                      f"{files} {'differs' if len(odd) == 1 else 'differ'} from the other "
                      f"files ({layout(usual)}); ACX needs every file in one layout — export "
                      "them all as mono")
