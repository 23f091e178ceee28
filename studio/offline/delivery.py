"""How speed, volume and emotion become espeak-ng prosody and output gain.

The seed's ``GenerationConfig`` carries ``speed`` (ratio 0.6..1.5), ``volume``
(linear ratio 0.5..2.0) and ``emotion`` (the ``Emotion`` enum); the legacy
``speed`` field (``ModelSpeed``: slow/normal/fast) still arrives from older
clients. espeak-ng offers rate (words/min), pitch (0..100, default 50) and
pitch range (0..100, default 50); loudness is applied here as a gain on the
rendered float samples, with a soft knee above 0.9 so that 2x never hard-clips.

Speed: ``rate = 165 wpm x speed x mood.rate`` (165 wpm at speed 1 gives about
0.3 s per English word with espeak-ng). Legacy speed: slow = 0.75,
normal = 1.0, fast = 1.3, multiplied with ``generation_config.speed``.

Emotions are grouped into moods; each mood shifts the defaults:

=============  =====  =====  =====  =====  ===================================================
mood           rate   pitch  range  gain   emotions
=============  =====  =====  =====  =====  ===================================================
neutral        1.00   +0     +0     1.00   neutral
joyful         1.10   +12    +25    1.10   happy excited enthusiastic elated euphoric
                                           triumphant amazed surprised
playful        1.05   +8     +20    1.00   flirtatious curious anticipation
warm           0.92   +2     -10    0.95   content grateful affectionate trust sympathetic
calm           0.85   -4     -20    0.90   peaceful serene calm
mysterious     0.85   -8     +10    0.85   mysterious
angry          1.12   +4     +30    1.35   angry mad outraged frustrated agitated
disdainful     0.95   -6     +15    1.05   disgusted contempt envious sarcastic ironic
                                           skeptical
sad            0.82   -10    -25    0.85   sad dejected melancholic disappointed hurt
                                           guilty rejected nostalgic wistful apologetic
tired          0.78   -8     -30    0.80   bored tired resigned distant
anxious        1.15   +10    +10    1.00   threatened anxious panicked alarmed scared
hesitant       0.88   +4     -5     0.90   hesitant insecure confused
confident      1.00   -2     +15    1.15   proud confident determined
thoughtful     0.90   -4     -5     0.95   contemplative
=============  =====  =====  =====  =====  ===================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from studio.api.models import EMOTIONS, SPEED_RANGE, VOLUME_RANGE
from studio.offline.errors import bad_request
from studio.offline.espeak import Prosody

#: espeak-ng rate in words/min at speed 1.0 and neutral emotion.
BASE_RATE_WPM = 165

#: ``ModelSpeed`` (deprecated seed enum) -> speed ratio.
LEGACY_SPEEDS: dict[str, float] = {"slow": 0.75, "normal": 1.0, "fast": 1.3}


@dataclass(frozen=True, slots=True)
class Mood:
    """Multipliers/offsets a mood applies: ``rate`` and ``gain`` are ratios,
    ``pitch``/``pitch_range`` offsets on espeak's 0..100 scale."""

    rate: float
    pitch: int
    pitch_range: int
    gain: float


MOODS: dict[str, Mood] = {
    "neutral": Mood(1.00, 0, 0, 1.00),
    "joyful": Mood(1.10, 12, 25, 1.10),
    "playful": Mood(1.05, 8, 20, 1.00),
    "warm": Mood(0.92, 2, -10, 0.95),
    "calm": Mood(0.85, -4, -20, 0.90),
    "mysterious": Mood(0.85, -8, 10, 0.85),
    "angry": Mood(1.12, 4, 30, 1.35),
    "disdainful": Mood(0.95, -6, 15, 1.05),
    "sad": Mood(0.82, -10, -25, 0.85),
    "tired": Mood(0.78, -8, -30, 0.80),
    "anxious": Mood(1.15, 10, 10, 1.00),
    "hesitant": Mood(0.88, 4, -5, 0.90),
    "confident": Mood(1.00, -2, 15, 1.15),
    "thoughtful": Mood(0.90, -4, -5, 0.95),
}

_MOOD_MEMBERS: dict[str, tuple[str, ...]] = {
    "neutral": ("neutral",),
    "joyful": ("happy", "excited", "enthusiastic", "elated", "euphoric", "triumphant",
               "amazed", "surprised"),
    "playful": ("flirtatious", "curious", "anticipation"),
    "warm": ("content", "grateful", "affectionate", "trust", "sympathetic"),
    "calm": ("peaceful", "serene", "calm"),
    "mysterious": ("mysterious",),
    "angry": ("angry", "mad", "outraged", "frustrated", "agitated"),
    "disdainful": ("disgusted", "contempt", "envious", "sarcastic", "ironic", "skeptical"),
    "sad": ("sad", "dejected", "melancholic", "disappointed", "hurt", "guilty", "rejected",
            "nostalgic", "wistful", "apologetic"),
    "tired": ("bored", "tired", "resigned", "distant"),
    "anxious": ("threatened", "anxious", "panicked", "alarmed", "scared"),
    "hesitant": ("hesitant", "insecure", "confused"),
    "confident": ("proud", "confident", "determined"),
    "thoughtful": ("contemplative",),
}

#: Every seed emotion -> its mood name.
EMOTION_MOODS: dict[str, str] = {
    emotion: mood for mood, members in _MOOD_MEMBERS.items() for emotion in members
}
assert set(EMOTION_MOODS) == set(EMOTIONS), "every seed emotion needs a mood"


@dataclass(frozen=True, slots=True)
class Delivery:
    """Validated delivery: ``speed`` ratio, ``volume`` linear ratio, ``emotion``
    from the seed enum or None (neutral)."""

    speed: float = 1.0
    volume: float = 1.0
    emotion: str | None = None

    def prosody(self, pitch_offset: int = 0, range_offset: int = 0,
                rate_scale: float = 1.0) -> Prosody:
        """espeak-ng parameters for this delivery; the voice contributes offsets to
        pitch and range (0..100 scale) and a ratio on the rate (words/min)."""
        mood = MOODS[EMOTION_MOODS[self.emotion or "neutral"]]
        rate = round(BASE_RATE_WPM * self.speed * mood.rate * rate_scale)
        return Prosody(
            rate=rate,
            pitch=50 + mood.pitch + pitch_offset,
            pitch_range=50 + mood.pitch_range + range_offset,
        )

    def gain(self) -> float:
        """Linear gain for the rendered samples (volume x mood)."""
        return self.volume * MOODS[EMOTION_MOODS[self.emotion or "neutral"]].gain


def check_speed(value: object, where: str = "generation_config.speed") -> float:
    """``value`` as a speed ratio in [0.6, 1.5].

    Raises:
        ApiError: 400 when not a number in range.
    """
    return _check_ratio(value, SPEED_RANGE, where)


def check_volume(value: object, where: str = "generation_config.volume") -> float:
    """``value`` as a volume ratio in [0.5, 2.0].

    Raises:
        ApiError: 400 when not a number in range.
    """
    return _check_ratio(value, VOLUME_RANGE, where)


def check_emotion(value: object, where: str = "generation_config.emotion") -> str | None:
    """``value`` as a seed ``Emotion`` (None passes through).

    Raises:
        ApiError: 400 for anything outside the enum.
    """
    if value is None:
        return None
    if not isinstance(value, str) or value not in EMOTION_MOODS:
        raise bad_request(
            f"{where} must be one of the supported emotions (e.g. neutral, happy, sad, "
            f"angry, calm); got {value!r}"
        )
    return value


def check_legacy_speed(value: object) -> float:
    """The ratio for the deprecated ``speed`` enum (``slow``/``normal``/``fast``).

    Raises:
        ApiError: 400 for other values.
    """
    if value is None:
        return 1.0
    if not isinstance(value, str) or value not in LEGACY_SPEEDS:
        raise bad_request(f"speed must be one of slow, normal, fast; got {value!r}")
    return LEGACY_SPEEDS[value]


def _check_ratio(value: object, bounds: tuple[float, float], where: str) -> float:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad_request(f"{where} must be a number between {low} and {high}; got {value!r}")
    if not low <= float(value) <= high:
        raise bad_request(f"{where} must be between {low} and {high} inclusive; got {value}")
    return float(value)


_KNEE = 0.9


def apply_gain(samples: npt.NDArray[np.float32], gain: float) -> npt.NDArray[np.float32]:
    """``samples`` (float32, shape (frames,)) times ``gain``, soft-limited.

    Magnitudes above 0.9 are bent with tanh toward 1.0 so boosted speech
    never hard-clips; the curve is continuous and monotonic, so more gain is
    always at least as loud.
    """
    y = samples.astype(np.float32) * np.float32(gain)
    mag = np.abs(y)
    over = mag > _KNEE
    if np.any(over):
        headroom = 1.0 - _KNEE
        bent = _KNEE + headroom * np.tanh((mag[over] - _KNEE) / headroom)
        y[over] = np.sign(y[over]) * bent
    return y.astype(np.float32, copy=False)
