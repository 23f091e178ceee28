"""Measure a voice clip: its pitch (F0) and speaking rate, for voice cloning.

Pure numpy, no Qt. The clip is resampled to 16 kHz and cut into 40 ms frames every
10 ms. Pitch is estimated per frame with YIN (de Cheveigné & Kawahara, "YIN, a
fundamental frequency estimator for speech and music", JASA 2002): the cumulative
mean normalised difference function, the first dip under 0.15 between 60 and 500 Hz,
refined by parabolic interpolation. Only frames within 35 dB of the clip's loud frames
count as voiced. The speaking rate counts syllable nuclei: peaks of the 300-3000 Hz
energy envelope (smoothed over 30 ms) that rise at least 4 dB above the dip before
them and lie at least 60 ms apart, per second of speech between the first and last
active frame.

Memory and time are bounded whatever the clip's length (the studio's recorder allows
10 minutes): a clip longer than :data:`MAX_ANALYSIS_SECONDS` is measured on its most
active 30 s only, the window with the most frames 15 dB or more over the clip's noise
floor (10 ms frame power at the clip's own rate, cheap to compute), and frames are
transformed :data:`_BLOCK_FRAMES` at a time, so the analysis peaks near 45 MB (a 10-minute
clip at 48 kHz took 4.6 GB and 30 s when measured whole).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from studio.audio.buffers import resample

FloatArray = npt.NDArray[np.float32]

#: Analysis rate, Hz.
ANALYSIS_RATE = 16000
#: Lowest and highest pitch searched, Hz.
F0_MIN_HZ = 60.0
F0_MAX_HZ = 500.0
#: A clip shorter than this (seconds) cannot be measured.
MIN_CLIP_SECONDS = 1.0
#: A clip whose peak is under this (dBFS) is silence.
SILENCE_PEAK_DBFS = -50.0
#: Longest stretch of a clip that is measured, seconds (its most active part).
MAX_ANALYSIS_SECONDS = 30.0

_HOP = ANALYSIS_RATE // 100  # 10 ms
_WINDOW = 640  # 40 ms: two periods of the lowest pitch
_MAX_LAG = int(ANALYSIS_RATE / F0_MIN_HZ)
_MIN_LAG = int(ANALYSIS_RATE / F0_MAX_HZ)
_YIN_THRESHOLD = 0.15
_ACTIVE_DB = 35.0
_MIN_VOICED_FRAMES = 20  # 200 ms of voiced speech
_NUCLEUS_RISE_DB = 4.0
_NUCLEUS_GAP_FRAMES = 6  # 60 ms
_SPAN_OVER_FLOOR_DB = 15.0
_BLOCK_FRAMES = 500  # frames per FFT batch: about 40 MB of float64 work arrays


class ClipError(ValueError):
    """A clip that cannot be measured: too short, silent, or without voiced speech.
    The message says which, for the user."""


@dataclass(frozen=True, slots=True)
class ClipAnalysis:
    """What :func:`analyse_clip` measured.

    Attributes:
        duration_s: clip length, seconds.
        analysed_s: length of the part measured (at most :data:`MAX_ANALYSIS_SECONDS`).
        speech_s: seconds from the first to the last active frame of that part.
        median_f0_hz: median pitch of the voiced frames, Hz.
        f0_low_hz: 10th percentile of the voiced pitch, Hz.
        f0_high_hz: 90th percentile of the voiced pitch, Hz.
        syllables_per_s: syllable nuclei per second of speech.
        voiced_frames: 10 ms frames with a pitch.
    """

    duration_s: float
    analysed_s: float
    speech_s: float
    median_f0_hz: float
    f0_low_hz: float
    f0_high_hz: float
    syllables_per_s: float
    voiced_frames: int

    @property
    def pitch_span_semitones(self) -> float:
        """The spread of the pitch, 10th to 90th percentile, in semitones."""
        return 12.0 * math.log2(self.f0_high_hz / self.f0_low_hz)


def _frame_view(samples: FloatArray, length: int) -> npt.NDArray[np.float32]:
    """Read-only view of ``samples`` as frames of ``length`` every 10 ms, shape
    ``(count, length)``, zero-padded past the end (the padding is the only copy)."""
    count = 1 + max(len(samples) - length, 0) // _HOP
    padded = np.zeros(count * _HOP + length, dtype=np.float32)
    padded[: len(samples)] = samples
    strides = (padded.strides[0] * _HOP, padded.strides[0])
    return np.lib.stride_tricks.as_strided(padded, (count, length), strides, writeable=False)


def _yin(frames: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Per-frame F0 in Hz (NaN where unvoiced); ``frames`` shape (n, window + max lag)."""
    n_fft = 1 << math.ceil(math.log2(frames.shape[1] + _WINDOW))
    spectrum = np.fft.rfft(frames, n_fft, axis=1)
    head = np.fft.rfft(frames[:, :_WINDOW], n_fft, axis=1)
    acf = np.fft.irfft(spectrum * np.conj(head), n_fft, axis=1)[:, : _MAX_LAG + 1]
    energy = np.cumsum(frames * frames, axis=1)
    energy = np.concatenate([np.zeros((len(frames), 1)), energy], axis=1)
    lags = np.arange(_MAX_LAG + 1)
    window_energy = energy[:, lags + _WINDOW] - energy[:, lags]  # sum x[tau:tau+W]^2
    diff = window_energy[:, :1] + window_energy - 2.0 * acf
    diff[:, 0] = 0.0
    cumulative = np.cumsum(diff[:, 1:], axis=1)
    cmnd = np.ones_like(diff)
    cmnd[:, 1:] = diff[:, 1:] * lags[1:] / np.maximum(cumulative, 1e-12)
    f0 = np.full(len(frames), np.nan)
    for i, row in enumerate(cmnd):
        below = np.nonzero(row[_MIN_LAG:_MAX_LAG] < _YIN_THRESHOLD)[0]
        if not len(below):
            continue
        lag = int(below[0]) + _MIN_LAG
        while lag + 1 < _MAX_LAG and row[lag + 1] < row[lag]:
            lag += 1
        a, b, c = row[lag - 1], row[lag], row[lag + 1]
        bend = a - 2 * b + c
        shift = 0.5 * (a - c) / bend if bend > 0 else 0.0
        f0[i] = ANALYSIS_RATE / (lag + float(np.clip(shift, -1, 1)))
    return f0


def _band_energy(frames: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Energy in 300-3000 Hz of each frame's first 40 ms (Hann window)."""
    spectrum = np.abs(np.fft.rfft(frames[:, :_WINDOW] * np.hanning(_WINDOW), axis=1)) ** 2
    freqs = np.fft.rfftfreq(_WINDOW, 1.0 / ANALYSIS_RATE)
    band: npt.NDArray[np.float64] = spectrum[:, (freqs >= 300) & (freqs <= 3000)].sum(axis=1)
    return band


def _active(power: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Frames within 35 dB of the loud ones (95th percentile of frame power)."""
    loud = float(np.percentile(power, 95))
    active: npt.NDArray[np.bool_] = power > loud * 10 ** (-_ACTIVE_DB / 10)
    return active


def most_active_span(samples: FloatArray, rate: int, seconds: float) -> tuple[int, int]:
    """The ``seconds``-long stretch of ``samples`` with the most energetic 10 ms frames:
    15 dB or more over the noise floor (the 10th percentile of frame power). The floor,
    not the loud frames, is the reference, so a few seconds of speech in a long, quiet
    recording still stand out.

    Args:
        samples: float32 mono, shape ``(frames,)``.
        rate: sample rate, Hz.
        seconds: length wanted.

    Returns:
        ``(start, stop)`` in samples; the whole clip when it is no longer than
        ``seconds``. Ties go to the earliest stretch. Needs no copy of the clip.
    """
    span = round(seconds * rate)
    if len(samples) <= span:
        return 0, len(samples)
    hop = max(round(rate / 100), 1)
    count = len(samples) // hop
    blocks = samples[: count * hop].reshape(count, hop)
    power = np.einsum("ij,ij->i", blocks, blocks, dtype=np.float64) / hop
    floor = max(float(np.percentile(power, 10)), 1e-12)
    energetic = power > floor * 10 ** (_SPAN_OVER_FLOOR_DB / 10)
    window = span // hop
    totals = np.concatenate([[0], np.cumsum(energetic)])
    best = int(np.argmax(totals[window:] - totals[:-window]))
    start = best * hop
    return start, min(start + span, len(samples))


def _count_nuclei(envelope_db: npt.NDArray[np.float64], active: npt.NDArray[np.bool_]) -> int:
    """Peaks in an active region rising 4 dB over the preceding dip, >= 60 ms apart."""
    count, last_peak, dip = 0, -100, math.inf
    for i in range(1, len(envelope_db) - 1):
        value = envelope_db[i]
        dip = min(dip, value)
        if not active[i]:
            continue
        if (
            value >= envelope_db[i - 1]
            and value > envelope_db[i + 1]
            and value - dip >= _NUCLEUS_RISE_DB
        ):
            if i - last_peak >= _NUCLEUS_GAP_FRAMES:
                count += 1
                last_peak = i
            dip = value
    return count


def analyse_clip(samples: FloatArray, rate: int) -> ClipAnalysis:
    """Measure pitch and speaking rate of a speech clip (of its most active 30 s when
    it is longer: :func:`most_active_span`).

    Args:
        samples: float32 mono, shape ``(frames,)``, full scale 1.0.
        rate: sample rate, Hz.

    Raises:
        ClipError: shorter than :data:`MIN_CLIP_SECONDS`, peak under
            :data:`SILENCE_PEAK_DBFS`, or under 200 ms of voiced speech.
    """
    duration = len(samples) / rate if rate > 0 else 0.0
    if duration < MIN_CLIP_SECONDS:
        raise ClipError(f"the clip is {duration:.2f} s long; it needs at least "
                        f"{MIN_CLIP_SECONDS:g} s of speech (about 5 s is best)")
    peak = max(float(np.max(samples)), -float(np.min(samples)))  # no |samples| copy
    if peak <= 10 ** (SILENCE_PEAK_DBFS / 20):
        raise ClipError(f"the clip is silent (peak under {SILENCE_PEAK_DBFS:g} dBFS)")
    start, stop = most_active_span(samples, rate, MAX_ANALYSIS_SECONDS)
    audio = resample(samples[start:stop], rate, ANALYSIS_RATE).astype(np.float32)
    frames = _frame_view(audio, _WINDOW + _MAX_LAG)
    power, f0, band = (np.empty(len(frames)) for _ in range(3))
    for first in range(0, len(frames), _BLOCK_FRAMES):
        block = np.array(frames[first:first + _BLOCK_FRAMES], dtype=np.float64)
        rows = slice(first, first + len(block))
        power[rows] = np.mean(block[:, :_WINDOW] ** 2, axis=1)
        f0[rows] = _yin(block)
        band[rows] = _band_energy(block)
    active = _active(power)
    f0[~active] = np.nan
    voiced = f0[np.isfinite(f0)]
    if len(voiced) < _MIN_VOICED_FRAMES:
        raise ClipError("no voiced speech found in the clip: record someone speaking")
    active_idx = np.nonzero(active)[0]
    speech_s = (active_idx[-1] - active_idx[0] + 1) * _HOP / ANALYSIS_RATE
    envelope = 10 * np.log10(np.convolve(band, np.ones(3) / 3, mode="same") + 1e-12)
    nuclei = _count_nuclei(envelope, active)
    low, median, high = np.percentile(voiced, [10, 50, 90])
    return ClipAnalysis(
        duration_s=round(duration, 3),
        analysed_s=round((stop - start) / rate, 3),
        speech_s=round(speech_s, 3),
        median_f0_hz=round(float(median), 1),
        f0_low_hz=round(float(low), 1),
        f0_high_hz=round(float(max(high, low * 1.001)), 1),
        syllables_per_s=round(nuclei / max(speech_s, 0.1), 2),
        voiced_frames=len(voiced),
    )
