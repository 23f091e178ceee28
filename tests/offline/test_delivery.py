"""Speed/volume/emotion -> espeak-ng prosody and gain."""

from __future__ import annotations

import numpy as np
import pytest

from studio.api.models import EMOTIONS
from studio.offline.delivery import (
    BASE_RATE_WPM,
    EMOTION_MOODS,
    Delivery,
    apply_gain,
    check_emotion,
    check_legacy_speed,
    check_speed,
    check_volume,
)
from studio.offline.errors import ApiError


def test_every_seed_emotion_has_a_mood() -> None:
    assert set(EMOTION_MOODS) == set(EMOTIONS)
    for emotion in EMOTIONS:
        prosody = Delivery(emotion=emotion).prosody()
        assert 80 <= prosody.rate <= 450
        assert 0 <= prosody.pitch <= 100 and 0 <= prosody.pitch_range <= 100


def test_mood_directions() -> None:
    neutral = Delivery().prosody()
    happy, sad, angry, calm = (
        Delivery(emotion=e).prosody() for e in ("happy", "sad", "angry", "calm")
    )
    assert neutral.rate == BASE_RATE_WPM
    assert happy.pitch > neutral.pitch and happy.pitch_range > neutral.pitch_range
    assert happy.rate > neutral.rate
    assert sad.pitch < neutral.pitch and sad.pitch_range < neutral.pitch_range
    assert sad.rate < neutral.rate
    assert angry.rate > neutral.rate and Delivery(emotion="angry").gain() > Delivery().gain()
    assert calm.rate < neutral.rate and calm.pitch_range < neutral.pitch_range


def test_speed_scales_rate() -> None:
    assert (
        Delivery(speed=1.5).prosody().rate
        > Delivery().prosody().rate
        > Delivery(speed=0.6).prosody().rate
    )


@pytest.mark.parametrize("value", [0.59, 1.51, "1.0", None, True])
def test_speed_range_is_enforced(value: object) -> None:
    with pytest.raises(ApiError) as info:
        check_speed(value)
    assert info.value.status == 400
    assert "speed" in info.value.message


@pytest.mark.parametrize("value", [0.49, 2.01, "loud"])
def test_volume_range_is_enforced(value: object) -> None:
    with pytest.raises(ApiError):
        check_volume(value)


def test_valid_values_pass() -> None:
    assert check_speed(0.6) == 0.6 and check_speed(1.5) == 1.5
    assert check_volume(0.5) == 0.5 and check_volume(2) == 2.0
    assert check_emotion("sad") == "sad" and check_emotion(None) is None
    assert check_legacy_speed("slow") < check_legacy_speed("normal") < check_legacy_speed("fast")
    with pytest.raises(ApiError):
        check_emotion("grumpy")
    with pytest.raises(ApiError):
        check_legacy_speed("warp")


def test_gain_is_monotonic_and_never_clips() -> None:
    x = np.linspace(-1.0, 1.0, 2001, dtype=np.float32)
    quiet, loud = apply_gain(x, 0.5), apply_gain(x, 2.0)
    assert loud.dtype == np.float32 and loud.shape == x.shape
    assert np.all(np.abs(loud) <= 1.0)
    assert np.all(np.diff(loud) >= 0)  # monotonic transfer curve
    assert np.sqrt(np.mean(loud**2)) > np.sqrt(np.mean(quiet**2))
    np.testing.assert_allclose(apply_gain(x * 0.4, 1.0), x * 0.4, atol=1e-7)
