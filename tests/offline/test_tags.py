"""Inline transcript tags: parsing into speech and pause pieces."""

from __future__ import annotations

import pytest

from studio.offline import tags
from studio.offline.errors import ApiError
from studio.offline.tags import Overrides, Pause, Speech


def test_plain_text_is_one_speech_piece() -> None:
    pieces, state = tags.parse("Hello there, world.")
    assert pieces == [Speech("Hello there, world.", Overrides())]
    assert state == Overrides()


@pytest.mark.parametrize(
    ("tag", "seconds"),
    [('<break time="1s"/>', 1.0), ('<break time="500ms"/>', 0.5), ("<break time='1.5s' />", 1.5),
     ('<break time="250MS"/>', 0.25), ('<break time="2"/>', 2.0)],
)
def test_break_becomes_a_pause(tag: str, seconds: float) -> None:
    pieces, _ = tags.parse(f"Before {tag} after")
    assert [type(p) for p in pieces] == [Speech, Pause, Speech]
    assert pieces[1] == Pause(seconds)
    assert "break" not in pieces[0].text + pieces[2].text  # type: ignore[union-attr]


def test_delivery_tags_apply_from_that_point_on() -> None:
    pieces, state = tags.parse(
        'One <speed ratio="1.2"/>two <volume ratio="0.8"/>three <emotion value="sad"/>four'
    )
    overrides = [p.overrides for p in pieces if isinstance(p, Speech)]
    assert overrides == [
        Overrides(),
        Overrides(speed=1.2),
        Overrides(speed=1.2, volume=0.8),
        Overrides(speed=1.2, volume=0.8, emotion="sad"),
    ]
    assert state == Overrides(speed=1.2, volume=0.8, emotion="sad")


def test_overrides_carry_into_the_next_call() -> None:
    _, state = tags.parse('<emotion value="happy"/>First input. ')
    pieces, _ = tags.parse("Second input.", state)
    assert pieces == [Speech("Second input.", Overrides(emotion="happy"))]


def test_spell_marks_its_content() -> None:
    pieces, _ = tags.parse("Call <spell>ABC</spell> now")
    assert pieces == [
        Speech("Call ", Overrides()),
        Speech("ABC", Overrides(), spell=True),
        Speech(" now", Overrides()),
    ]


def test_unknown_tags_are_dropped_not_spoken() -> None:
    pieces, _ = tags.parse("Say <foo bar='1'/>this</foo> please")
    assert "".join(p.text for p in pieces if isinstance(p, Speech)) == "Say this please"


@pytest.mark.parametrize(
    "bad",
    ['<break time="soon"/>', '<break/>', '<break time="11s"/>', '<speed ratio="2.0"/>',
     '<speed ratio="fast"/>', '<volume ratio="0.1"/>', '<emotion value="grumpy"/>', "<emotion/>"],
)
def test_invalid_known_tags_are_400(bad: str) -> None:
    with pytest.raises(ApiError) as info:
        tags.parse(f"text {bad} text")
    assert info.value.status == 400


def test_split_sentences_keeps_every_character() -> None:
    text = 'Hello there! Is it "you?" Yes. trailing words'
    parts = tags.split_sentences(text)
    assert "".join(parts) == text
    assert parts == ["Hello there!", ' Is it "you?"', " Yes.", " trailing words"]
    assert tags.split_sentences("version 1.5 is out") == ["version 1.5 is out"]


def test_complete_prefix_waits_for_sentence_end_and_whole_tags() -> None:
    assert tags.complete_prefix("Hello there") == 0
    assert tags.complete_prefix("Hello there. And") == len("Hello there.")
    assert tags.complete_prefix('Hi. <break time="1') == len("Hi.")
    assert tags.complete_prefix("Spell <spell>A. B.") == 0
    assert tags.safe_prefix('Hello <break time="1') == len("Hello ")
    assert tags.safe_prefix("Hello <spell>AB") == len("Hello ")
    assert tags.safe_prefix("Hello <spell>AB</spell> x") == len("Hello <spell>AB</spell> x")
