"""The one reading of a transcript (studio.project.transcript): tags, spoken text, words
and edits by word."""

from __future__ import annotations

import subprocess
import sys

import pytest

from studio.project.transcript import (
    break_seconds,
    protected_spans,
    remove_words,
    replace_words,
    segments,
    split_text,
    spoken_text,
    spoken_word_count,
    spoken_words,
    tags,
    trailing_pause,
    transcript_words,
)

TEXT = 'Hi <break time="1s"/>there, <emotion value="calm"/> <spell>API</spell>s now.'


def test_tags_are_parsed_with_their_attributes() -> None:
    found = tags(TEXT + '<BREAK time=\'500ms\' /> </spell> <speed ratio=1.2/>')
    assert [(t.name, t.closing, t.self_closing) for t in found] == [
        ("break", False, True), ("emotion", False, True), ("spell", False, False),
        ("spell", True, False), ("break", False, True), ("spell", True, False),
        ("speed", False, True)]
    assert found[0].attributes == {"time": "1s"} and found[-1].attributes == {"ratio": "1.2"}
    assert TEXT[found[0].start:found[0].end] == '<break time="1s"/>'
    assert [break_seconds(t) for t in found] == [1.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0]


def test_a_break_without_a_duration_lasts_nothing() -> None:
    assert [break_seconds(t) for t in tags('<break/><break time="soon"/><break time="2">')] \
        == [0.0, 0.0, 2.0]


def test_a_less_than_sign_that_starts_no_tag_is_text() -> None:
    # A tag starts with a name; the catch-all <[^>]*> the renderer, the editor and the
    # export used to strip took "< 2 and 3 >" for a tag and lost three spoken words.
    text = "1 < 2 and 3 > 2, so x<y."
    assert tags(text) == []
    assert spoken_text(text) == text
    assert transcript_words(text) == ["1", "<", "2", "and", "3", ">", "2", "so", "x<y"]
    assert protected_spans(text) == []


def test_spoken_text_keeps_spelled_text_as_written() -> None:
    # Spell tags vanish (the renderer's old strip_tags wrote "XYZ ." and "API s"); every
    # other tag separates the words around it, with or without its closing slash.
    assert spoken_text('Say <spell>XYZ</spell>.') == "Say XYZ."
    assert spoken_text(TEXT) == "Hi there, APIs now."
    assert spoken_text('a<break time="1s">b') == "a b"
    assert spoken_text("  \n ") == ""


def test_the_words_are_those_word_timestamps_report() -> None:
    words = spoken_words(TEXT)
    assert [w.text for w in words] == ["Hi", "there", "API", "s", "now"]
    assert [w.spelled for w in words] == [False, False, True, False, False]
    assert [w.pause_before for w in words] == [0.0, 1.0, 0.0, 0.0, 0.0]
    assert [TEXT[w.start:w.end] for w in words] == ["Hi", "there,", "API", "s", "now."]
    assert spoken_word_count(TEXT) == 5


def test_a_tag_separates_words_and_punctuation_alone_is_no_word() -> None:
    # The editor's old tokens ran "here<break" together; a spaced dash was a word for
    # the renderer's count but is not one in any word timestamps.
    assert transcript_words('here<break time="1s"/>now — and... "then"') == [
        "here", "now", "and", "then"]
    # A symbol is a word (the offline engine reports "+"): the i-th word stays the
    # i-th timestamp, which the editor's old "has a letter or digit" rule broke.
    assert transcript_words("one + two") == ["one", "+", "two"]
    assert replace_words("one + two", 2, 1, "three") == "one + three"


def test_a_spell_without_its_end_spells_to_the_end() -> None:
    text = "Read <spell>ABC and the rest"
    assert [w.spelled for w in spoken_words(text)] == [False, True, True, True, True]
    # The pronunciation dictionary's old pattern protected only the <spell> tag here and
    # rewrote words the engine spells out.
    assert protected_spans(text) == [(5, len(text))]


def test_protected_spans_hold_tags_and_whole_spell_spans() -> None:
    text = 'A <spell>B <break time="1s"/> C</spell> d <SPELL>e</Spell> f </spell>'
    spans = [text[a:b] for a, b in protected_spans(text)]
    assert spans == ['<spell>B <break time="1s"/> C</spell>', "<SPELL>e</Spell>", "</spell>"]


def test_segments_never_cut_markup() -> None:
    text = 'Say <spell>A B</spell> then<break time="1s"/>wait.'
    assert [(text[a:b], markup) for a, b, markup in segments(text)] == [
        ("Say", False), ("<spell>A B</spell>", True), ("then", False),
        ('<break time="1s"/>', True), ("wait.", False)]


def test_trailing_pause() -> None:
    assert trailing_pause('Done. <break time="1s"/><break time="250ms"/>') == 1.25
    assert trailing_pause('<break time="2s"/>') == 2.0
    assert trailing_pause("Done.") == 0.0


def test_split_text_counts_spoken_words_not_tags() -> None:
    text = 'One two <break time="1s"/> three. Four five.'
    assert split_text(text, 3) == ('One two <break time="1s"/> three.', "Four five.")
    assert split_text(text, 0) == ("", text)
    assert split_text(text, 9) == (text, "")


def test_replace_words_keeps_the_punctuation_around_them() -> None:
    text = "The quick brown, fox jumps."
    assert replace_words(text, 2, 1, "bright red") == "The quick bright red, fox jumps."
    assert replace_words(text, 3, 2, "cat sleeps") == "The quick brown, cat sleeps."
    assert replace_words(text, 0, 1, "A") == "A quick brown, fox jumps."


def test_replace_words_with_no_words_inserts() -> None:
    assert replace_words("Hello world.", 1, 0, "big") == "Hello big world."
    assert replace_words("Hello world.", 2, 0, "again") == "Hello world. again"


def test_replace_words_leaves_the_tags_between_words() -> None:
    text = 'One <emotion value="sad"/>two three.'
    assert replace_words(text, 1, 1, "2") == 'One <emotion value="sad"/>2 three.'


@pytest.mark.parametrize(("text", "first", "count", "expected"), [
    ("the lazy dog.", 2, 1, "the lazy."),
    ("The quick brown fox.", 1, 2, "The fox."),
    ("One, two, three.", 1, 1, "One, three."),
    ("Keep me.", 0, 0, "Keep me."),
])
def test_remove_words_keeps_the_sentence_tidy(text: str, first: int, count: int,
                                               expected: str) -> None:
    assert remove_words(text, first, count) == expected


def test_the_module_is_a_leaf() -> None:
    # studio.audio reads transcripts through it, so it must not pull in the project.
    code = ("import sys, studio.project.transcript\n"
            "print(sorted(m for m in sys.modules if m.startswith('studio.')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "['studio.project', 'studio.project.transcript']"
