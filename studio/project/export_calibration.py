"""Getting an export's level right the first time, on a sample of the programme. Qt-free.

Normalising to a target is one gain, but two things between that gain and the listener
move the level: the limiter, which turns peaks down (and loudness with them when it
works hard), and a lossy codec, which gives back audio at a slightly different level and
with new inter-sample peaks (LAME at 128-192 kb/s returns audio 0.3-0.45 dB quieter;
AAC at 64 kb/s overshoots a -2 dBFS ceiling by more than 1 dB). Rendering a whole book
again to correct either would double the export, so both are learned beforehand on a
sample of the programme (a few seconds from blocks spread over it, :data:`SAMPLE_SECONDS`
in all): the sample is gained, limited, encoded and decoded exactly as the export will
do it, and the gain and the limiter's ceiling are corrected until the sample lands on
the target. The full render then checks the file it wrote; a miss beyond the tolerance
is rare and corrected once (:mod:`studio.project.export_pipeline`).
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from studio.audio.acx import LevelMeter, scan_file
from studio.audio.encoders import EncodeSettings, open_encoder
from studio.audio.limiter import CEILING_RANGE_DB, PeakLimiter
from studio.audio.loudness import LoudnessMeter, db_to_gain, release_graphs
from studio.project.export_settings import ExportSettings

FloatArray = npt.NDArray[np.float32]

#: Seconds of the programme sampled for calibration, and at most this much per block.
SAMPLE_SECONDS = 40.0
SNIPPET_SECONDS = 2.0
#: Fade at each end of a snippet, seconds, so the joins add no clicks (and no peaks).
_FADE_SECONDS = 0.005
#: Limiter margin below a true-peak ceiling before calibration, dB: inter-sample peaks.
#: A lossy codec's own overshoot is measured, not guessed.
LIMITER_MARGIN_DB = 0.3
#: Peaks are kept this far under the ceiling once measured, dB.
PEAK_HEADROOM_DB = 0.1
_ROUNDS = 4


@dataclass(frozen=True, slots=True)
class Calibration:
    """What the sample taught.

    Attributes:
        gain_db: added to the file's gain: what the limiter and the codec take away.
        ceiling_db: the limiter's sample ceiling, dBFS (None: no limiter).
    """

    gain_db: float = 0.0
    ceiling_db: float | None = None


def limiter_ceiling(settings: ExportSettings) -> float | None:
    """The limiter's starting ceiling, dBFS: the peak target less
    :data:`LIMITER_MARGIN_DB` for a true-peak target (an ACX sample-peak target needs
    none); None without a loudness target (nothing is limited)."""
    target = settings.loudness
    if target is None:
        return None
    margin = LIMITER_MARGIN_DB if target.measure == "lufs" else 0.0
    return max(CEILING_RANGE_DB[0], target.ceiling - margin)


def snippet(audio: FloatArray, rate: int) -> FloatArray:
    """Up to :data:`SNIPPET_SECONDS` from the middle of ``audio``, faded in and out."""
    length = min(audio.shape[0], round(SNIPPET_SECONDS * rate))
    start = (audio.shape[0] - length) // 2
    piece = np.array(audio[start:start + length], dtype=np.float32)
    fade = min(round(_FADE_SECONDS * rate), length // 2)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        piece[:fade] *= ramp
        piece[-fade:] *= ramp[::-1]
    return piece


def sample_stride(blocks: int, seconds_per_block: float) -> int:
    """Take a snippet from every n-th block so the sample stays near
    :data:`SAMPLE_SECONDS` whatever the programme's length."""
    per_block = min(SNIPPET_SECONDS, max(seconds_per_block, 0.1))
    return max(1, math.ceil(blocks * per_block / SAMPLE_SECONDS))


def _limited(audio: FloatArray, rate: int, ceiling: float | None) -> FloatArray:
    if ceiling is None:
        return audio
    limiter = PeakLimiter(rate, ceiling)
    out = np.empty_like(audio)
    filled = 0
    for begin in range(0, audio.shape[0], rate):  # a second at a time: bounded copies
        for piece in limiter.process(audio[begin:begin + rate]):
            out[filled:filled + piece.shape[0]] = piece
            filled += piece.shape[0]
    for piece in limiter.flush():
        out[filled:filled + piece.shape[0]] = piece
        filled += piece.shape[0]
    return out[:filled]


def _levels(audio: FloatArray, rate: int, measure: str) -> tuple[float, float]:
    """``(level, peak)``: integrated loudness and true peak, or RMS and sample peak."""
    if measure == "lufs":
        meter = LoudnessMeter(rate)
        meter.add(audio)
        found = meter.result()
        return found.integrated, found.true_peak
    levels = LevelMeter(rate)
    levels.add(audio)
    result = levels.result()
    return result.rms_dbfs, result.peak_dbfs


def _through_codec(audio: FloatArray, settings: ExportSettings, rate: int,
                   folder: Path) -> tuple[FloatArray, int]:
    """``audio`` encoded as the export will be and decoded again (first channel)."""
    with tempfile.TemporaryDirectory(dir=folder, prefix=".export-probe-") as scratch:
        probe = Path(scratch) / f"probe{settings.file_format.extension}"
        encoder = open_encoder(probe, EncodeSettings(
            container=settings.format, sample_rate=rate, channels=settings.channels,
            bitrate_kbps=settings.bitrate_kbps,
            vbr_quality=settings.vbr_quality if settings.file_format.vbr else None))
        for begin in range(0, audio.shape[0], rate):
            encoder.write(audio[begin:begin + rate])
        encoder.close()
        with av.open(str(probe)) as container:
            decoded_rate = int(container.streams.audio[0].codec_context.sample_rate)
        out = np.zeros(audio.shape[0] + decoded_rate, dtype=np.float32)  # + codec delay
        filled = 0

        def keep(samples: FloatArray) -> None:
            nonlocal filled
            take = min(samples.shape[0], out.shape[0] - filled)
            out[filled:filled + take] = samples[:take]
            filled += take

        scan_file(probe, also=keep)
    return out[:filled], decoded_rate


def calibrate(settings: ExportSettings, sample: FloatArray, rate: int, gain_db: float,
              folder: Path) -> Calibration:
    """Correct a file's gain and the limiter's ceiling on ``sample`` (see the module
    docstring).

    Args:
        settings: the export's settings (a loudness target, else nothing to do).
        sample: float32 mono snippets of the programme at ``rate`` Hz, with their
            level-matching gains, before the file's gain.
        rate: Hz.
        gain_db: the file's gain to the target, from its measured loudness.
        folder: where the probe file may be written (the destination's folder).

    Returns:
        The correction (zero gain and the starting ceiling when the sample is too short
        or silent to learn from).

    Raises:
        OSError: the probe cannot be written.
    """
    target = settings.loudness
    ceiling = limiter_ceiling(settings)
    if target is None or sample.shape[0] < rate:
        return Calibration(0.0, ceiling)
    measure = target.measure
    lossy = settings.file_format.lossy
    extra = 0.0
    low, high = CEILING_RANGE_DB
    for _ in range(_ROUNDS):
        gained = sample * np.float32(db_to_gain(gain_db + extra))
        before, _peak = _levels(gained, rate, measure)
        out = _limited(gained, rate, ceiling)
        out_rate = rate
        if lossy:
            out, out_rate = _through_codec(out, settings, rate, folder)
        after, peak = _levels(out, out_rate, measure)
        release_graphs()  # each round's meters and limiter hold FFmpeg's buffers
        if not (math.isfinite(before) and math.isfinite(after)):
            return Calibration(0.0, ceiling)
        correction = max(-6.0, min(6.0, before - after))
        over = peak - (target.ceiling - PEAK_HEADROOM_DB) if math.isfinite(peak) else 0.0
        settled = abs(correction - extra) < 0.05
        extra = correction if not settled else extra
        if over > 0 and ceiling is not None:
            ceiling = max(low, min(high, ceiling - over - PEAK_HEADROOM_DB))
        elif settled:
            break
    return Calibration(extra, ceiling)
