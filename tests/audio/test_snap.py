"""Selection edges snap to word boundaries, then to zero crossings."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from studio.audio.snap import (
    nearest_zero_crossing,
    snap,
    snap_to_boundaries,
    word_boundaries,
    zero_crossing_window,
)
from studio.timestamps import WordTimestamps

RATE = 48000
WORDS = WordTimestamps(("hello", "there", "world"), (0.10, 0.50, 0.90), (0.40, 0.80, 1.30))


def _is_crossing(audio: np.ndarray, n: int) -> bool:
    return 1 <= n < audio.shape[0] and (audio[n - 1] < 0) != (audio[n] < 0)


def test_word_boundaries_are_sorted_frames() -> None:
    assert word_boundaries(WORDS, RATE).tolist() == [4800, 19200, 24000, 38400, 43200, 62400]
    assert word_boundaries(WordTimestamps(), RATE).tolist() == []


def test_snap_to_boundaries_takes_the_nearest_boundary_within_reach() -> None:
    assert snap_to_boundaries(24100, word_boundaries(WORDS, RATE), 200) == 24000
    assert (
        snap_to_boundaries(24100, word_boundaries(WORDS, RATE), 100) == 24000
    )  # the reach is inclusive
    assert snap_to_boundaries(24100, word_boundaries(WORDS, RATE), 99) == 24100
    assert (
        snap_to_boundaries(21600, word_boundaries(WORDS, RATE), 5000) == 19200
    )  # a tie: the earlier one
    assert snap_to_boundaries(0, word_boundaries(WORDS, RATE), 5000) == 4800
    assert snap_to_boundaries(10**9, word_boundaries(WORDS, RATE), 10**9) == 62400
    assert snap_to_boundaries(500, word_boundaries(WordTimestamps(), RATE), 10**6) == 500


def test_nearest_zero_crossing_on_a_sine() -> None:
    # 100 Hz at 48 kHz: a sign change every 240 frames, rising at 0, 480, 960...
    audio = np.sin(2 * np.pi * 100 * (np.arange(RATE) + 0.5) / RATE).astype(np.float32)
    assert nearest_zero_crossing(audio, 1000, 240) == 960
    assert nearest_zero_crossing(audio, 1100, 240) == 1200
    assert nearest_zero_crossing(audio, 1100, 50) == 1100  # none within the window
    assert nearest_zero_crossing(audio, 1000, 240, direction=1) == 1200
    assert nearest_zero_crossing(audio, 1100, 240, direction=-1) == 960
    assert nearest_zero_crossing(audio, 960, 0) == 960


def test_silence_and_the_ends_have_no_crossings() -> None:
    silence = np.zeros(1000, np.float32)
    assert nearest_zero_crossing(silence, 500, 400) == 500
    assert nearest_zero_crossing(np.zeros(0, np.float32), 0, 10) == 0
    assert nearest_zero_crossing(np.array([1.0, -1.0], np.float32), 5, 2) == 5
    assert nearest_zero_crossing(np.array([1.0, -1.0], np.float32), 5, 4) == 1


@given(
    samples=st.lists(st.sampled_from([-1.0, -0.5, 0.0, 0.5, 1.0]), max_size=60),
    frame=st.integers(-5, 65),
    window=st.integers(0, 30),
    direction=st.sampled_from([-1, 0, 1]),
)
def test_nearest_zero_crossing_matches_a_scan(samples: list[float], frame: int, window: int,
                                              direction: int) -> None:
    audio = np.array(samples, np.float32)
    found = nearest_zero_crossing(audio, frame, window, direction=direction)
    crossings = [n for n in range(1, audio.shape[0]) if _is_crossing(audio, n)
                 and abs(n - frame) <= window and (n - frame) * direction >= 0]
    if not crossings:
        assert found == frame
    else:
        nearest = min(crossings, key=lambda n: (abs(n - frame), n))
        assert found == nearest


def test_snap_goes_to_the_word_then_to_the_nearest_crossing() -> None:
    rng = np.random.default_rng(3)
    audio = rng.uniform(0.1, 1.0, RATE * 2).astype(np.float32)  # positive: no crossings
    audio[24000 + 37:] *= -1  # one crossing, 37 frames after "there" starts
    assert zero_crossing_window(RATE) == 240  # 10 ms window, centred
    assert snap(24300, audio, word_boundaries(WORDS, RATE), RATE, max_distance=400) == 24037
    assert (
        snap(24300, audio, word_boundaries(WORDS, RATE), RATE, max_distance=100) == 24300
    )  # out of reach
    assert (
        snap(24300, audio, word_boundaries(WORDS, RATE), RATE, max_distance=400, zero_window=10)
        == 24000
    )
    assert snap(-50, audio, word_boundaries(WordTimestamps(), RATE), RATE) == 0
    assert snap(10**7, audio, word_boundaries(WordTimestamps(), RATE), RATE) == audio.shape[0]
