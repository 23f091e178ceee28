"""Captions, transcripts and word timings from the words on the export timeline."""

from __future__ import annotations

import contextlib
import json
import os
import re
import string
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
import srt  # type: ignore[import-untyped]  # no stubs published
import webvtt
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.project.captions import (
    CaptionBlock,
    Cue,
    caption_words,
    cues,
    write_srt,
    write_transcript,
    write_vtt,
    write_word_timings,
)
from studio.project.transcript import spoken_text

EXAMPLE = ('Hello, world! It is "great", isn\'t it? <break time="500ms"/> Dr. Smith—yes. '
           "1,200 items.")
EXAMPLE_WORDS = ("Hello", "world", "It", "is", "great", "isn't", "it", "Dr", "Smith—yes",
                 "1,200", "items")
_PUNCTUATION = ".,!?;:\"'()—–…"


def block(text: str, words: Sequence[str] | None = None, *, at: float = 0.0,
          word_seconds: float = 0.4, gap: float = 0.1, chapter: str | None = None,
          tail: float = 0.2) -> CaptionBlock:
    """A block starting at ``at`` whose words (the text's tokens without punctuation
    unless given) each last ``word_seconds`` with ``gap`` between them."""
    if words is None:
        words = [w.strip(_PUNCTUATION) for w in spoken_text(text).split()]
    starts = tuple(at + i * (word_seconds + gap) for i in range(len(words)))
    ends = tuple(s + word_seconds for s in starts)
    return CaptionBlock(text, tuple(words), starts, ends, at,
                        (ends[-1] if ends else at) + tail, chapter)


def texts(b: CaptionBlock) -> list[str]:
    return [w.text for w in caption_words(b, 0)]


def program(*pieces: str, pause: float = 1.0, word_seconds: float = 0.4
            ) -> list[CaptionBlock]:
    """Blocks one after another with ``pause`` seconds between them."""
    blocks: list[CaptionBlock] = []
    at = 0.0
    for text in pieces:
        b = block(text, at=at, word_seconds=word_seconds)
        blocks.append(b)
        at = b.end + pause
    return blocks


# -- Punctuation -------------------------------------------------------------------------


def test_punctuation_comes_back_from_the_transcript() -> None:
    b = block(EXAMPLE, EXAMPLE_WORDS)
    assert texts(b) == ["Hello,", "world!", "It", "is", '"great",', "isn't", "it?", "Dr.",
                        "Smith—yes.", "1,200", "items."]
    assert [w.word for w in caption_words(b, 3)] == list(EXAMPLE_WORDS)
    assert {w.block for w in caption_words(b, 3)} == {3}


def test_cloud_words_that_carry_punctuation_match_too() -> None:
    b = block("Hello, world! Bye.", ["Hello,", "world!", "Bye."])
    assert texts(b) == ["Hello,", "world!", "Bye."]


def test_matching_ignores_case() -> None:
    assert texts(block("HELLO World.", ["hello", "world"])) == ["HELLO", "World."]


def test_tags_are_not_spoken_but_spell_content_is() -> None:
    text = ('Hi <break time="1s"/>there<speed ratio="1.2"/> <volume ratio="0.8"/>friend '
            '<emotion value="excited"/><spell>XYZ</spell>.')
    assert spoken_text(text) == "Hi there friend XYZ."
    assert texts(block(text, ["Hi", "there", "friend", "XYZ"])) == [
        "Hi", "there", "friend", "XYZ."]


def test_spelled_letters_show_as_the_written_token() -> None:
    b = block("Call the <spell>API</spell> now.", ["Call", "the", "A", "P", "I", "now"])
    words = caption_words(b, 0)
    assert [w.text for w in words] == ["Call", "the", "A", "P", "I", "now."]
    assert [w.joined for w in words] == [False, False, False, True, True, False]
    assert [c.lines for c in cues([b])] == [("Call the API now.",)]


def test_a_token_heard_as_two_words_is_cut_between_them() -> None:
    words = caption_words(block("A well-known fact.", ["A", "well", "known", "fact"]), 0)
    assert [(w.text, w.joined) for w in words] == [
        ("A", False), ("well-", False), ("known", True), ("fact.", False)]


def test_words_the_text_lacks_keep_their_bare_form() -> None:
    assert texts(block("Hello world.", ["Hello", "um", "world"])) == ["Hello", "um", "world."]
    assert texts(block("One two three.", ["One", "three"])) == ["One", "three."]
    assert texts(block("Colour me blue.", ["Color", "me", "blue"])) == [
        "Color", "me", "blue."]
    assert texts(block("Nothing alike.", ["Quite", "different!"])) == ["Quite", "different!"]
    assert texts(block("", ["no", "text"])) == ["no", "text"]


def test_spaced_dashes_stay_with_the_word_before() -> None:
    assert texts(block("— Wait — no.", ["Wait", "no"])) == ["— Wait —", "no."]


@given(st.lists(st.text(alphabet=string.ascii_letters + "'.,!?-", min_size=0, max_size=8),
                max_size=12),
       st.text(alphabet=string.ascii_letters + " .,!?-<>/\"=", max_size=80))
@settings(max_examples=200, deadline=None)
def test_every_word_comes_back_once_in_order(words: list[str], text: str) -> None:
    b = block(text, words)
    assert [w.word for w in caption_words(b, 0)] == words


# -- Cues --------------------------------------------------------------------------------


def check_program(blocks: Sequence[CaptionBlock], result: Sequence[Cue], *, max_chars: int,
                  max_lines: int, min_seconds: float, max_seconds: float,
                  linger_seconds: float = 0.5) -> None:
    """Every rule of :func:`cues` that holds for ordered word timestamps."""
    assert [w.word for c in result for w in c.words] == [w for b in blocks for w in b.words]
    previous_end = 0.0
    for k, cue in enumerate(result):
        index = cue.words[0].block
        assert {w.block for w in cue.words} == {index}, "a cue crosses a block boundary"
        assert cue.lines and len(cue.lines) <= max_lines
        for line in cue.lines:
            assert len(line) <= max_chars or line in {w.text for w in cue.words}
        assert cue.start == cue.words[0].start
        assert cue.end >= max(w.end for w in cue.words)
        assert cue.start >= previous_end, "cues overlap"
        previous_end = cue.end
        if len(cue.words) > 1:
            assert cue.end - cue.start <= max_seconds + 1e-9
        following = result[k + 1] if k + 1 < len(result) else None
        nxt = blocks[index + 1] if index + 1 < len(blocks) else None
        if nxt is not None:
            assert cue.end <= nxt.start
        if cue.end - cue.start < min_seconds - 1e-9:
            if following is not None and following.words[0].block == index:
                assert cue.end == following.start
            else:
                limit = blocks[index].end + linger_seconds
                assert cue.end == (limit if nxt is None else min(limit, nxt.start))


VOCABULARY = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "and",
              "voiceover", "studio", "Cartesia", "narration", "because", "it", "sings",
              "Pneumonoultramicroscopicsilicovolcanoconiosis", "I", "can't", "Dr."]


@st.composite
def programs(draw: st.DrawFn) -> list[CaptionBlock]:
    blocks: list[CaptionBlock] = []
    at = draw(st.floats(0.0, 2.0))
    for _ in range(draw(st.integers(1, 4))):
        tokens: list[str] = []
        for _ in range(draw(st.integers(0, 30))):
            word = draw(st.sampled_from(VOCABULARY))
            tokens.append(word + draw(st.sampled_from(["", "", "", ",", ".", "?", "—"])))
        words = [t.strip(_PUNCTUATION) or t for t in tokens]
        starts, ends = [], []
        t = at
        for _ in words:
            t += draw(st.floats(0.0, 0.6))
            starts.append(t)
            t += draw(st.floats(0.0, 1.5))
            ends.append(t)
        text = " ".join(tokens)
        b = CaptionBlock(text, tuple(words), tuple(starts), tuple(ends), at,
                         t + draw(st.floats(0.0, 0.5)))
        blocks.append(b)
        at = b.end + draw(st.floats(0.0, 2.0))
    return blocks


@given(programs(), st.integers(8, 60), st.integers(1, 3), st.floats(0.0, 2.0),
       st.floats(2.0, 8.0))
@settings(max_examples=150, deadline=None)
def test_cues_keep_every_rule(blocks: list[CaptionBlock], max_chars: int, max_lines: int,
                              min_seconds: float, max_seconds: float) -> None:
    result = list(cues(blocks, max_chars=max_chars, max_lines=max_lines,
                       min_seconds=min_seconds, max_seconds=max_seconds))
    check_program(blocks, result, max_chars=max_chars, max_lines=max_lines,
                  min_seconds=min_seconds, max_seconds=max_seconds)


def test_many_sentences_keep_netflix_limits() -> None:
    sentences = [f"Sentence number {i} tells the studio about voiceover and narration."
                 for i in range(40)]
    blocks = program(" ".join(sentences[:20]), " ".join(sentences[20:]), word_seconds=0.3)
    result = list(cues(blocks))
    check_program(blocks, result, max_chars=42, max_lines=2, min_seconds=1.0,
                  max_seconds=7.0)
    assert [c.text.replace("\n", " ") for c in result] == sentences


def test_a_cue_never_crosses_the_pause_between_blocks() -> None:
    blocks = program("One.", "Two.", pause=0.05)
    result = list(cues(blocks))
    assert [c.lines for c in result] == [("One.",), ("Two.",)]
    assert result[0].end <= blocks[1].start


def test_text_that_fits_stays_on_one_line() -> None:
    [cue] = cues([block("A short line of text.")])
    assert cue.lines == ("A short line of text.",)


def test_two_lines_are_balanced() -> None:
    words = ["voiceover", "studio", "narration", "cartesia", "engine", "timeline", "program",
             "export", "ok"]
    [cue] = cues([block(" ".join(words))], max_chars=42)
    assert len(cue.lines) == 2
    best = min(abs(len(" ".join(words[:k])) - len(" ".join(words[k:])))
               for k in range(1, len(words)))
    assert abs(len(cue.lines[0]) - len(cue.lines[1])) == best


def test_an_even_split_puts_the_shorter_line_on_top() -> None:
    [cue] = cues([block("aaaa bbbb cccc")], max_chars=10)
    assert cue.lines == ("aaaa", "bbbb cccc")


def test_a_line_breaks_after_punctuation_when_nearly_balanced() -> None:
    text = "When the long day was over, we rendered each take once more."
    [cue] = cues([block(text)])
    assert cue.lines == ("When the long day was over,", "we rendered each take once more.")
    # Breaking after "we" would balance the lines better (30 and 29 characters).
    assert len("When the long day was over, we") - len("rendered each take once more.") == 1


def test_cues_break_at_sentence_ends() -> None:
    text = ("The studio renders every block. Each take has word timestamps. "
            "Captions follow the words.")
    result = list(cues([block(text)]))
    assert [c.text.replace("\n", " ") for c in result] == [
        "The studio renders every block.", "Each take has word timestamps.",
        "Captions follow the words."]


def test_an_abbreviation_is_not_a_sentence_end() -> None:
    text = "Then Dr. Smith came to see the patient in the ward. It was late."
    result = list(cues([block(text)], max_chars=42))
    assert all(not c.text.endswith("Dr.") for c in result)
    assert result[0].text.replace("\n", " ").endswith("the ward.")


def test_a_long_run_of_words_is_cut_under_max_seconds() -> None:
    b = block(" ".join(["word"] * 30), word_seconds=0.5, gap=0.0)
    result = list(cues([b], max_chars=80, max_lines=3, max_seconds=4.0))
    assert len(result) >= 4
    assert all(c.end - c.start <= 4.0 for c in result)
    check_program([b], result, max_chars=80, max_lines=3, min_seconds=1.0, max_seconds=4.0)


def test_a_word_longer_than_a_line_gets_a_line_of_its_own() -> None:
    long = "Pneumonoultramicroscopicsilicovolcanoconiosis"
    result = list(cues([block(f"The word {long} is long.")], max_chars=20))
    lines = [line for c in result for line in c.lines]
    assert long in lines
    assert all(long not in line or line == long for line in lines)
    assert [w.word for c in result for w in c.words] == ["The", "word", long, "is", "long"]


def test_a_short_cue_is_extended_but_never_over_the_next() -> None:
    # Two one-word sentences that cannot share a line of 8 characters.
    near = CaptionBlock("Hi. Goodbye.", ("Hi", "Goodbye"), (0.0, 0.5), (0.2, 0.9), 0.0, 0.9)
    first, second = cues([near], max_chars=8, max_lines=1)
    assert (first.start, first.end) == (0.0, 0.5)
    assert second.start == 0.5
    far = CaptionBlock("Hi. Goodbye.", ("Hi", "Goodbye"), (0.0, 3.0), (0.2, 3.4), 0.0, 3.4)
    first, second = cues([far], max_chars=8, max_lines=1)
    assert (first.start, first.end) == (0.0, 1.0)
    assert second.end == pytest.approx(3.9)  # 0.5 s linger past the block's end


def test_a_blocks_last_cue_lingers_no_further_than_the_next_block() -> None:
    a = CaptionBlock("Hi.", ("Hi",), (0.0,), (0.2,), 0.0, 0.3)
    b = CaptionBlock("Yes.", ("Yes",), (0.6,), (0.9,), 0.55, 1.0)
    first, second = cues([a, b])
    assert first.end == 0.55
    assert second.end == pytest.approx(1.5)
    [alone] = cues([CaptionBlock("Hi.", ("Hi",), (0.0,), (0.2,), 0.0, 0.3)],
                   linger_seconds=0.0)
    assert alone.end == 0.3


def test_empty_blocks_give_no_cue_but_keep_their_index() -> None:
    blocks = [block("First."), block("", [], at=5.0), block("Third.", at=10.0)]
    result = list(cues(blocks))
    assert [c.words[0].block for c in result] == [0, 2]


def test_overlapping_timestamps_still_give_ordered_cues() -> None:
    b = CaptionBlock("One. Two.", ("One", "Two"), (0.0, 0.3), (2.0, 2.5), 0.0, 2.5)
    first, second = cues([b], max_chars=4, max_lines=1)
    assert first.end == 2.0
    assert second.start == 2.0


def test_blocks_are_read_lazily() -> None:
    pulled: list[int] = []

    def blocks() -> Iterator[CaptionBlock]:
        for i in range(100):
            pulled.append(i)
            yield block("A sentence.", at=10.0 * i)

    next(cues(blocks()))
    assert pulled == [0, 1]


@pytest.mark.parametrize("limits", [
    {"max_chars": 0}, {"max_lines": 0}, {"min_seconds": 8.0}, {"max_seconds": 0.0},
    {"min_seconds": -1.0}, {"linger_seconds": -0.1}])
def test_bad_limits_raise_at_the_call(limits: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        cues(iter(()), **limits)  # type: ignore[arg-type]


def test_a_block_checks_its_timestamps() -> None:
    with pytest.raises(ValueError, match="one start and one end per word"):
        CaptionBlock("a b", ("a", "b"), (0.0,), (0.1, 0.2), 0.0, 1.0)
    with pytest.raises(ValueError, match="finite"):
        CaptionBlock("a", ("a",), (float("nan"),), (0.1,), 0.0, 1.0)
    with pytest.raises(ValueError, match="before it starts"):
        CaptionBlock("", (), (), (), 2.0, 1.0)


# -- Files -------------------------------------------------------------------------------


def ms(seconds: float) -> int:
    return round(seconds * 1000)


def sample_cues() -> list[Cue]:
    first = block(EXAMPLE, EXAMPLE_WORDS, word_seconds=0.33, gap=0.07)
    second = block("The R&D team's <spell>API</spell> works; x < y holds.",
                   ["The", "R&D", "team's", "A", "P", "I", "works", "x", "y", "holds"],
                   at=first.end + 1.0, word_seconds=0.25, gap=0.05)
    third = block("Longer sentences than a single line can hold are broken in two balanced "
                  "lines for reading.", at=second.end + 1.0)
    return list(cues([first, second, third]))


def test_srt_parses_back_with_the_same_times(tmp_path: Path) -> None:
    expected = sample_cues()
    path = tmp_path / "program.srt"
    write_srt(iter(expected), path)
    parsed = list(srt.parse(path.read_text(encoding="utf-8")))
    assert [s.index for s in parsed] == list(range(1, len(expected) + 1))
    for subtitle, cue in zip(parsed, expected, strict=True):
        assert subtitle.start.total_seconds() * 1000 == ms(cue.start)
        assert subtitle.end.total_seconds() * 1000 == ms(cue.end)
        assert subtitle.content == cue.text


def test_vtt_parses_back_with_the_same_times(tmp_path: Path) -> None:
    expected = sample_cues()
    path = tmp_path / "program.vtt"
    write_vtt(expected, path)
    parsed = webvtt.read(str(path))
    assert len(parsed.captions) == len(expected)
    for caption, cue in zip(parsed.captions, expected, strict=True):
        assert caption.start_time.in_milliseconds() == ms(cue.start)
        assert caption.end_time.in_milliseconds() == ms(cue.end)
        unescaped = caption.text.replace("&lt;", "<").replace("&gt;", ">")
        assert unescaped.replace("&amp;", "&") == cue.text
    raw = path.read_text(encoding="utf-8")
    assert "R&amp;D" in raw and "x &lt; y" in raw


_TIMESTAMP = re.compile(r"<(\d+):(\d\d):(\d\d)\.(\d{3})>")


def test_word_level_vtt_has_ordered_timestamps_inside_each_cue(tmp_path: Path) -> None:
    expected = sample_cues()
    path = tmp_path / "karaoke.vtt"
    write_vtt(expected, path, word_level=True)
    parsed = webvtt.read(str(path))
    assert len(parsed.captions) == len(expected)
    for caption, cue in zip(parsed.captions, expected, strict=True):
        stamps = [((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int(f)
                  for h, m, s, f in _TIMESTAMP.findall(caption.raw_text)]
        start, end = caption.start_time.in_milliseconds(), caption.end_time.in_milliseconds()
        assert stamps == sorted(set(stamps))
        assert all(start < stamp < end for stamp in stamps)
        visible = [w for w in cue.words if w.text]
        assert stamps == [ms(w.start) for w in visible[1:]]
        assert len(caption.lines) == len(cue.lines)
        text = caption.text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        assert text == cue.text


def test_word_level_vtt_skips_timestamps_that_would_not_advance(tmp_path: Path) -> None:
    b = CaptionBlock("One two three.", ("One", "two", "three"), (1.0, 1.0002, 1.5),
                     (1.0, 1.4, 1.9), 1.0, 2.0)
    path = tmp_path / "tight.vtt"
    write_vtt(cues([b]), path, word_level=True)
    [caption] = webvtt.read(str(path)).captions
    assert caption.raw_text == "One two <00:00:01.500>three."


def test_transcript_has_one_paragraph_per_block_and_chapter_titles(tmp_path: Path) -> None:
    blocks = [
        block('Welcome. <break time="1s"/> This is <spell>API</spell> talk.',
              chapter="Chapter 1: Start"),
        block("Second paragraph,\n spread  over lines.", at=10.0),
        block("", ["bare", "words"], at=20.0, chapter="  Chapter   2 "),
        block("", [], at=30.0),
    ]
    path = tmp_path / "transcript.txt"
    write_transcript(blocks, path)
    assert path.read_text(encoding="utf-8") == (
        "Chapter 1: Start\nWelcome. This is API talk.\n\n"
        "Second paragraph, spread over lines.\n\n"
        "Chapter 2\nbare words\n")


def test_word_timings_are_json_in_milliseconds(tmp_path: Path) -> None:
    blocks = [CaptionBlock("Hi there.", ("Hi", "there"), (0.12345, 0.5), (0.4, 0.98765),
                           0.0, 1.0),
              CaptionBlock("", (), (), (), 2.0, 2.0),
              CaptionBlock("Café.", ("Café",), (3.0004,), (3.5,), 3.0, 4.0)]
    path = tmp_path / "words.json"
    write_word_timings(iter(blocks), path)
    assert json.loads(path.read_text(encoding="utf-8")) == {"words": [
        {"word": "Hi", "start": 0.123, "end": 0.4, "block": 0},
        {"word": "there", "start": 0.5, "end": 0.988, "block": 0},
        {"word": "Café", "start": 3.0, "end": 3.5, "block": 2},
    ]}
    empty = tmp_path / "empty.json"
    write_word_timings([], empty)
    assert json.loads(empty.read_text(encoding="utf-8")) == {"words": []}


# -- Atomic writes -----------------------------------------------------------------------


def test_a_missing_folder_raises_and_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "program.srt"
    with pytest.raises(OSError, match=re.escape(str(path))):
        write_srt(sample_cues(), path)
    assert not (tmp_path / "missing").exists()


def test_a_read_only_folder_raises_and_leaves_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        probe = folder / "probe"
        with contextlib.suppress(PermissionError):
            probe.touch()
            probe.unlink()
            pytest.skip("this user writes to read-only folders (root)")
        path = folder / "program.vtt"
        with pytest.raises(PermissionError, match=re.escape(str(path))):
            write_vtt(sample_cues(), path)
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


def test_a_folder_refusing_new_files_raises_and_leaves_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a read-only folder does, for runs as root (who may write anywhere)."""
    def refuse(*_args: object, **_kwargs: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    path = tmp_path / "program.vtt"
    with pytest.raises(PermissionError, match=re.escape(str(path))):
        write_vtt(sample_cues(), path)
    assert list(tmp_path.iterdir()) == []


def test_a_failure_midway_leaves_no_file(tmp_path: Path) -> None:
    good = sample_cues()

    def failing() -> Iterator[Cue]:
        yield from good[:2]
        raise RuntimeError("render failed")

    for write in (write_srt, write_vtt):
        path = tmp_path / "program.out"
        with pytest.raises(RuntimeError, match="render failed"):
            write(failing(), path)
        assert list(tmp_path.iterdir()) == []

    def failing_blocks() -> Iterator[CaptionBlock]:
        yield block("One.")
        raise RuntimeError("project closed")

    for writer in (write_transcript, write_word_timings):
        with pytest.raises(RuntimeError, match="project closed"):
            writer(failing_blocks(), tmp_path / "program.txt")
        assert list(tmp_path.iterdir()) == []


def test_a_failed_rename_raises_and_keeps_the_old_file(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    path = tmp_path / "program.srt"
    path.write_text("old captions", encoding="utf-8")

    def no_space(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", no_space)
    with pytest.raises(OSError, match=re.escape(str(path))):
        write_srt(sample_cues(), path)
    monkeypatch.undo()
    assert path.read_text(encoding="utf-8") == "old captions"
    assert list(tmp_path.iterdir()) == [path]


def test_a_cue_does_not_end_with_the_first_words_of_the_next_sentence() -> None:
    # From a trial: "...came / in almost 9 decibels quieter. Every" stranded "Every".
    story = ("Keeper night spring spring boat lighthouse listener night keeper listener. "
             "Keeper old harbour storm listener every lighthouse over old lighthouse a storm "
             "the.")
    lines = [cue.text.replace("\n", " ") for cue in cues([block(story, word_seconds=0.25)])]
    stranded = [text for text in lines
                if re.search(r"[.!?] (\S+ ){0,1}\S+$", text) and not text.endswith(".")]
    assert not stranded, lines
