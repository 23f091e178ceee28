"""Chapters as the navigator lists them, and the timeline of a Play all run (Qt-free)."""

from __future__ import annotations

import numpy as np
import pytest

from studio.api.models import OutputFormat
from studio.project.chapters import WHOLE_SCRIPT_TITLE, chapter_spans, span_of
from studio.project.model import Block, Take, TakeAudio
from studio.project.play_timeline import PlayTimeline
from studio.project.program import OPENING_TITLE
from studio.timestamps import PhonemeTimestamps, WordTimestamps

RATE = 24000


def with_take(block: Block, seconds: float, current: bool = True) -> Block:
    """``block`` with a selected take of ``seconds`` (made from its text when current)."""
    samples = np.zeros(int(RATE * seconds), np.float32)
    request = block.tts_request(OutputFormat()).to_json() if current else {"transcript": "x"}
    take = Take(id=f"t-{block.id}", source=TakeAudio(RATE, samples.shape[0], samples),
                word_timestamps=WordTimestamps(), phoneme_timestamps=PhonemeTimestamps(),
                request=request, backend="offline", credits=0, created_at=0.0)
    block.takes.append(take)
    block.selected_take_id = take.id
    return block


def test_timeline_places_blocks_with_the_pause_between_them() -> None:
    timeline = PlayTimeline(RATE, 0.5)
    a = timeline.append("a", RATE)          # 0 .. 1 s
    b = timeline.append("b", RATE * 2)      # 1.5 .. 3.5 s
    assert (a.start, a.end) == (0, RATE)
    assert (b.start, b.end) == (int(RATE * 1.5), int(RATE * 3.5))
    assert timeline.end_seconds == pytest.approx(3.5)
    assert timeline.entry_at(0.0).block_id == "a"
    assert timeline.entry_at(1.2).block_id == "a"  # in the pause: still the block before
    assert timeline.entry_at(1.5).block_id == "b"
    assert timeline.entry_at(99).block_id == "b"
    assert timeline.start_seconds("b") == pytest.approx(1.5)
    assert timeline.start_seconds("c") is None
    assert PlayTimeline(RATE, 0).entry_at(0) is None


@pytest.mark.parametrize("rate, pause, frames", [(0, 0.1, 1), (RATE, -1, 1), (RATE, 0, -5)])
def test_timeline_refuses_bad_input(rate: int, pause: float, frames: int) -> None:
    with pytest.raises(ValueError):
        PlayTimeline(rate, pause).append("a", frames)


def test_spans_have_an_opening_chapter_and_count_what_each_holds() -> None:
    blocks = [with_take(Block(text="Intro."), 2.0),
              Block(text="Chapter one starts.", chapter="  One  "),
              with_take(Block(text="Old take.", flag="too fast"), 1.5, current=False),
              with_take(Block(text="Approved.", locked=True), 3.0),
              Block(text="Two.", chapter="")]
    spans = chapter_spans(blocks)
    assert [s.title for s in spans] == [OPENING_TITLE, "One", "Chapter 2"]
    assert [(s.first, s.stop, s.blocks) for s in spans] == [(0, 1, 1), (1, 4, 3), (4, 5, 1)]
    opening, one, two = spans
    assert not opening.marked and one.marked and one.first_block_id == blocks[1].id
    assert opening.seconds == pytest.approx(2.0) and opening.stale == 0
    assert one.seconds == pytest.approx(4.5)
    assert (one.missing, one.stale, one.flagged, one.locked) == (1, 2, 1, 1)
    assert (two.missing, two.stale) == (1, 1)
    assert span_of(spans, 3) is one and span_of(spans, 5) is None


def test_a_script_without_marks_is_one_chapter_and_an_empty_one_none() -> None:
    spans = chapter_spans([Block(text="a"), Block(text="b")])
    assert [(s.title, s.blocks) for s in spans] == [(WHOLE_SCRIPT_TITLE, 2)]
    assert chapter_spans([]) == []
    marked_first = chapter_spans([Block(text="a", chapter="Only"), Block(text="b")])
    assert [(s.title, s.blocks) for s in marked_first] == [("Only", 2)]


def test_a_long_script_is_shown_a_window_of_blocks_at_a_time() -> None:
    from studio.project.chapters import block_window
    seconds = [60.0] * 100  # a 100-minute book of one-minute blocks
    # The chapter (from block 10) up to the current block fits: start at the chapter.
    assert block_window(seconds, 10, 25, 20 * 60.0) == (10, 30)
    # It does not: start at the current block.
    assert block_window(seconds, 10, 50, 20 * 60.0) == (50, 70)
    # The end of the script ends the window; one block longer than the limit is shown.
    assert block_window(seconds, 95, 97, 20 * 60.0) == (95, 100)
    assert block_window([3600.0, 1.0], 0, 0, 60.0) == (0, 1)
