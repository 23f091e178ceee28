"""Planning an infill: cuts at the pauses beside the selection, context limits, refusals."""

from __future__ import annotations

import numpy as np
import pytest

from studio.audio.buffers import wav_bytes
from studio.project.edits import Edited
from studio.project.infill import (
    CONTEXT_SECONDS,
    InfillError,
    infill_key,
    plan_infill,
)
from studio.timestamps import PhonemeTimestamps, WordTimestamps

RATE = 16000


def spoken(words: list[tuple[float, float]], total: float, noise: float = 0.001) -> Edited:
    """Tone bursts at the word spans, quiet noise between them."""
    rng = np.random.default_rng(1)
    audio = (noise * rng.standard_normal(round(total * RATE))).astype(np.float32)
    for start, end in words:
        a, b = round(start * RATE), round(end * RATE)
        t = np.arange(b - a) / RATE
        audio[a:b] += (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    names = tuple(f"w{i}" for i in range(len(words)))
    return Edited(audio, RATE,
                  WordTimestamps(names, tuple(s for s, _ in words), tuple(e for _, e in words)),
                  PhonemeTimestamps())


WORDS = [(0.2, 0.6), (0.9, 1.3), (1.6, 2.0)]


def frames(seconds: float) -> int:
    return round(seconds * RATE)


def test_cuts_fall_in_the_pauses_next_to_the_selected_word() -> None:
    take = spoken(WORDS, 2.4)
    plan = plan_infill(take, frames(0.9), frames(1.3))
    # Left cut: inside the pause before the word, at its quiet end (keep the silence left).
    assert frames(0.6) <= plan.start <= frames(0.9)
    assert plan.start >= frames(0.8)
    # Right cut: inside the pause after it, at its quiet start.
    assert frames(1.3) <= plan.end <= frames(1.6)
    assert plan.end <= frames(1.4)
    assert plan.words == ("w1",)
    assert np.array_equal(plan.left, take.audio[:plan.start])
    assert np.array_equal(plan.right, take.audio[plan.end:])
    # The cuts are quiet: no tone left in the replaced span's edges.
    assert np.abs(take.audio[plan.start - 40:plan.start]).max() < 0.02
    assert np.abs(take.audio[plan.end:plan.end + 40]).max() < 0.02


def test_a_selection_at_the_very_start_has_only_a_right_side() -> None:
    take = spoken(WORDS, 2.4)
    plan = plan_infill(take, 0, frames(0.6))
    assert plan.start == 0 and plan.left.size == 0
    assert plan.right.size > 0 and plan.words == ("w0",)


def test_a_selection_at_the_very_end_has_only_a_left_side() -> None:
    take = spoken(WORDS, 2.4)
    plan = plan_infill(take, frames(1.6), take.frames)
    assert plan.end == take.frames and plan.right.size == 0
    assert plan.left.size > 0 and plan.words == ("w2",)


def test_the_whole_take_cannot_be_infilled() -> None:
    take = spoken(WORDS, 2.4)
    with pytest.raises(InfillError, match="at least one side"):
        plan_infill(take, 0, take.frames)


def test_a_range_outside_the_take_is_refused() -> None:
    take = spoken(WORDS, 2.4)
    with pytest.raises(InfillError, match="outside"):
        plan_infill(take, 10, take.frames + 5)


def test_a_cursor_plans_an_insertion() -> None:
    take = spoken(WORDS, 2.4)
    at = frames(0.75)  # in the pause between w0 and w1
    plan = plan_infill(take, at, at)
    assert frames(0.6) <= plan.start <= plan.end <= frames(0.9)
    assert plan.words == ()


def test_context_is_limited_on_a_long_take() -> None:
    words = [(t, t + 0.4) for t in np.arange(0.2, 59.0, 0.7)]
    take = spoken(words, 60.0)
    middle = len(words) // 2
    start, end = frames(words[middle][0]), frames(words[middle][1])
    plan = plan_infill(take, start, end)
    assert plan.left.size == frames(CONTEXT_SECONDS)
    assert plan.right.size == frames(CONTEXT_SECONDS)


def test_a_take_without_word_timestamps_still_plans() -> None:
    take = spoken(WORDS, 2.4)
    bare = Edited(take.audio, RATE, WordTimestamps(), PhonemeTimestamps())
    plan = plan_infill(bare, frames(0.85), frames(1.35))
    assert frames(0.55) <= plan.start <= frames(0.85)
    assert frames(1.35) <= plan.end <= frames(1.65)
    assert plan.words == ()


def test_the_infill_key_covers_text_and_both_clips() -> None:
    take = spoken(WORDS, 2.4)
    left, right = wav_bytes(take.audio[:8000], RATE), wav_bytes(take.audio[-8000:], RATE)
    request = {"transcript": "new words", "voice_id": "v", "model_id": "sonic-2"}
    key = infill_key("cloud", request, left, right)
    assert key == infill_key("cloud", dict(request), left, right)
    assert key != infill_key("cloud", {**request, "transcript": "other"}, left, right)
    assert key != infill_key("cloud", request, right, left)
    assert key != infill_key("offline", request, left, right)


def test_abutting_words_are_not_swallowed_by_the_cut() -> None:
    """Words with no pause between them: the cut is at their boundary, and a selection
    whose edges were snapped a few milliseconds outside the word keeps its neighbours."""
    take = spoken([(0.1, 0.5), (0.5, 0.9), (0.9, 1.3), (1.6, 2.0)], 2.4)
    start, end = frames(0.5) - 40, frames(0.9) + 40  # edges moved out to zero crossings
    plan = plan_infill(take, start, end)
    assert plan.words == ("w1",)
    assert frames(0.5) - 40 <= plan.start <= frames(0.5)
    assert frames(0.9) <= plan.end <= frames(0.9) + 40
