"""Planning a render of a script (studio.project.render_plan): which block says what,
with which voice, and which take it reuses."""

from __future__ import annotations

import numpy as np

from studio.project.model import Block, make_take
from studio.project.render_plan import (
    DEFAULT_PAUSE,
    DEFAULT_SAMPLE_RATE,
    PAUSE_KEY,
    SAMPLE_RATE_KEY,
    BlockDelivery,
    cast_voice,
    fit_script,
    plan_render,
    render_numbers,
    script_blocks,
)
from studio.timestamps import PhonemeTimestamps, WordTimestamps

AVA = BlockDelivery("ava", "sonic-3", "en", None, 1.0, 1.0)
BEN = BlockDelivery("ben", "sonic-3", "en", "calm", 1.2, 0.8)


def with_take(block: Block, key: str) -> Block:
    take = make_take(np.zeros(100, dtype=np.float32), 44100, WordTimestamps(),
                     PhonemeTimestamps(), {}, "offline", 0, 1, cache_key=key)
    block.takes.append(take)
    block.selected_take_id = take.id
    return block


def key_of(block: Block) -> str:
    return f"{block.voice_id}:{block.text}"


def test_script_blocks_carry_the_delivery() -> None:
    blocks = script_blocks(["One.", "Two."], BEN)
    assert [b.text for b in blocks] == ["One.", "Two."]
    assert {(b.voice_id, b.emotion, b.speed, b.volume) for b in blocks} == {
        ("ben", "calm", 1.2, 0.8)}


def test_fit_script_keeps_blocks_and_their_voices_when_asked() -> None:
    live = [Block(text="Old one.", voice_id="ben"), Block(text="Old two."), Block(text="Gone.")]
    blocks, removed = fit_script(live, ["New one.", "New two."], AVA, keep_voices=True)
    assert blocks == live[:2] and removed == live[2:]
    assert [(b.text, b.voice_id) for b in blocks] == [("New one.", "ben"), ("New two.", "ava")]
    blocks, _ = fit_script(blocks, ["A.", "B.", "C."], AVA)
    assert [(b.text, b.voice_id) for b in blocks] == [("A.", "ava"), ("B.", "ava"), ("C.", "ava")]


def test_cast_voice_is_the_first_voice_for_the_language() -> None:
    blocks = [Block(text="a", voice_id="", language="en"),
              Block(text="b", voice_id="fr-voice", language="fr"),
              Block(text="c", voice_id="en-voice", language="en")]
    assert cast_voice(blocks, "en") == "en-voice"
    assert cast_voice(blocks, "de") is None


def test_render_numbers_prefer_the_caller_then_the_project() -> None:
    project = {SAMPLE_RATE_KEY: "48000", PAUSE_KEY: "0.25"}
    assert render_numbers(project, None, None) == (48000, 0.25)
    assert render_numbers(project, 22050, 1.0) == (22050, 1.0)
    assert render_numbers({}, None, None) == (DEFAULT_SAMPLE_RATE, DEFAULT_PAUSE)
    bad = {SAMPLE_RATE_KEY: "12345", PAUSE_KEY: "600"}
    assert render_numbers(bad, None, None) == (DEFAULT_SAMPLE_RATE, DEFAULT_PAUSE)


def test_plan_reuses_takes_and_renders_each_request_once() -> None:
    kept = with_take(Block(text="Same.", voice_id="ava"), "ava:Same.")
    moved = with_take(Block(text="Moved.", voice_id="ava"), "ava:Moved.")
    blocks = [kept, Block(text="Moved.", voice_id="ava"), Block(text="New.", voice_id="ava"),
              Block(text="New.", voice_id="ava")]
    plan = plan_render(blocks, [moved], key_of)
    assert plan.select == {0: kept.takes[0]}
    assert plan.copy == {1: moved.takes[0]}
    assert plan.render == [2] and plan.followers == {2: [3]}
