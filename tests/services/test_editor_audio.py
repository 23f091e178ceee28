"""What the Editor shows, worked out without the panel: a take as edited with its peak
pyramid, the script mixed down with pauses, and when alignment is (not) tried."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from studio.project.edits import Delete
from studio.project.model import Block, Take, TakeAudio
from studio.services.editor_audio import ALIGN_LIMIT_SECONDS, EditorAudio
from studio.timestamps import PhonemeTimestamps, WordTimestamps

RATE = 24000


def take(seconds: float, take_id: str, transcript: str = "", **fields: object) -> Take:
    samples = np.full(int(RATE * seconds), 0.25, np.float32)
    return Take(id=take_id, source=TakeAudio(RATE, samples.shape[0], samples),
                word_timestamps=WordTimestamps(("one",), (0.0,), (0.5,)),
                phoneme_timestamps=PhonemeTimestamps(),
                request={"transcript": transcript} if transcript else {}, backend="offline",
                credits=0, created_at=0.0, **fields)  # type: ignore[arg-type]


async def test_a_take_is_shown_as_edited_with_its_pyramid() -> None:
    audio = EditorAudio()
    shown = await audio.load_take(take(1.0, "t1", edits=(Delete(0, RATE // 2),)))
    assert abs(shown.edited.frames - RATE // 2) <= RATE // 100  # the join's crossfade
    assert shown.pyramid is not None and not shown.aligned
    assert shown.take.word_timestamps.words == ("one",)


async def test_the_script_is_mixed_with_pauses_and_block_starts() -> None:
    audio = EditorAudio()
    first = Block(text="One.", takes=[take(1.0, "a")], selected_take_id="a")
    empty = Block(text="Nothing yet.")
    second = Block(text="Two.", takes=[take(0.5, "b")], selected_take_id="b")
    script = await audio.load_script([first, empty, second], pause_seconds=0.5)
    assert script is not None
    assert [b.id for b in script.blocks] == [first.id, second.id]
    assert script.starts == (0, int(RATE * 1.5))
    assert abs(script.duration - 2.0) < 1e-3 and script.edited.sample_rate == RATE
    assert await audio.load_script([empty], 0.5) is None


def test_alignment_is_only_tried_where_it_can_help() -> None:
    audio = EditorAudio()
    assert audio.align(take(1.0, "no-text")) is None  # nothing to align with
    frames = int(RATE * (ALIGN_LIMIT_SECONDS + 1))
    long = dataclasses.replace(take(1.0, "long", "Far too long."), source=TakeAudio(
        RATE, frames, loader=lambda: pytest.fail("a take too long to align was read")))
    assert audio.align(long) is None
    assert audio.aligned_words("long") is None
