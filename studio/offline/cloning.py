"""Map a measured clip (:mod:`studio.offline.clip_analysis`) onto espeak-ng parameters.

The offline engine cannot learn a timbre; it picks the espeak-ng voice closest to the
clip's pitch, pitch range and speaking rate:

- **Variant**: median F0 under :data:`MALE_BELOW_HZ` picks among the male variants
  (``m1``..``m8``), else the female ones (``f1``..``f5``); within the family, the
  variant whose own median pitch (:data:`VARIANT_F0_HZ`) is nearest in semitones.
- **Pitch**: espeak's pitch parameter (0..100, 50 default) that moves the variant's
  median onto the clip's, by interpolating :data:`PITCH_RATIO`; stored as an offset
  from 50.
- **Pitch range**: espeak's range parameter whose 10th-90th percentile spread
  (:data:`RANGE_SEMITONES`) matches the clip's; stored as an offset from 50.
- **Rate**: the espeak rate (words/min) whose syllable rate (:data:`RATE_SYLLABLES`)
  matches the clip's, as a ratio of :data:`~studio.offline.delivery.BASE_RATE_WPM`,
  within 0.6..1.6.
- **Gender**: ``masculine`` under 150 Hz, ``feminine`` over 180 Hz, ``gender_neutral``
  between.

The tables were measured with :func:`~studio.offline.clip_analysis.analyse_clip` on
espeak-ng's own speech (``en-us`` with each variant, one 120-character sentence), so a
clone of the engine's speech lands near the voice that spoke it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from studio.offline.clip_analysis import ClipAnalysis
from studio.offline.delivery import BASE_RATE_WPM

#: Median F0 (Hz) of each espeak-ng variant at pitch 50, range 50, 165 wpm.
VARIANT_F0_HZ: dict[str, float] = {
    "m1": 97.9, "m2": 101.9, "m3": 109.2, "m4": 98.2, "m6": 102.3, "m7": 108.0, "m8": 86.0,
    "f1": 180.1, "f2": 195.4, "f3": 213.1, "f4": 179.3, "f5": 205.1,
}
#: espeak pitch parameter -> median F0 relative to pitch 50 (``en-us+m3``).
PITCH_RATIO: tuple[tuple[int, float], ...] = (
    (0, 0.698), (25, 0.842), (50, 1.0), (75, 1.253), (100, 1.613),
)
#: espeak range parameter -> 10th-90th percentile pitch spread, semitones.
RANGE_SEMITONES: tuple[tuple[int, float], ...] = (
    (0, 0.3), (25, 1.7), (50, 3.03), (75, 4.47), (100, 5.37),
)
#: Syllable nuclei per second measured -> espeak rate, words/min (``en-us+m3``).
RATE_SYLLABLES: tuple[tuple[float, int], ...] = (
    (3.5, 80), (4.42, 110), (5.34, 140), (6.07, 165), (6.18, 200), (6.52, 240), (7.42, 280),
)
MALE_BELOW_HZ = 160.0
RATE_SCALE_RANGE = (0.6, 1.6)


@dataclass(frozen=True, slots=True)
class ClonedVoicing:
    """espeak-ng settings derived from a clip.

    Attributes:
        variant: espeak-ng variant name without ``+`` (``"m3"``).
        pitch_offset: added to espeak's pitch parameter (0..100 scale).
        range_offset: added to espeak's pitch range parameter (0..100 scale).
        rate_scale: ratio applied to the rate in words/min.
        gender: ``masculine``, ``feminine`` or ``gender_neutral``.
    """

    variant: str
    pitch_offset: int
    range_offset: int
    rate_scale: float
    gender: str


def _semitones(a: float, b: float) -> float:
    return 12.0 * math.log2(a / b)


def gender_for(median_f0_hz: float) -> str:
    """``masculine`` under 150 Hz, ``feminine`` over 180 Hz, else ``gender_neutral``."""
    if median_f0_hz < 150.0:
        return "masculine"
    if median_f0_hz > 180.0:
        return "feminine"
    return "gender_neutral"


def nearest_variant(median_f0_hz: float, family: str | None = None) -> str:
    """The variant nearest ``median_f0_hz`` in semitones, among ``family`` (``"m"``
    or ``"f"``; by default the family the pitch suggests)."""
    if family is None:
        family = "m" if median_f0_hz < MALE_BELOW_HZ else "f"
    candidates = [v for v in VARIANT_F0_HZ if v.startswith(family)]
    return min(candidates, key=lambda v: abs(_semitones(median_f0_hz, VARIANT_F0_HZ[v])))


def pitch_offset_for(median_f0_hz: float, variant: str) -> int:
    """Offset from pitch 50 that moves ``variant``'s median onto ``median_f0_hz``
    (clamped to espeak's 0..100)."""
    ratio = median_f0_hz / VARIANT_F0_HZ[variant]
    params, ratios = zip(*PITCH_RATIO, strict=True)
    return round(float(np.interp(ratio, ratios, params))) - 50


def map_clip(analysis: ClipAnalysis) -> ClonedVoicing:
    """The espeak-ng settings for a measured clip (the module docstring's rules)."""
    variant = nearest_variant(analysis.median_f0_hz)
    pitch_offset = pitch_offset_for(analysis.median_f0_hz, variant)
    params, spans = zip(*RANGE_SEMITONES, strict=True)
    range_offset = round(float(np.interp(analysis.pitch_span_semitones, spans, params))) - 50
    syllables, wpm = zip(*RATE_SYLLABLES, strict=True)
    rate = float(np.interp(analysis.syllables_per_s, syllables, wpm))
    low, high = RATE_SCALE_RANGE
    rate_scale = round(min(max(rate / BASE_RATE_WPM, low), high), 3)
    return ClonedVoicing(variant, pitch_offset, range_offset, rate_scale,
                         gender_for(analysis.median_f0_hz))
