"""Script files and the cutting of text into blocks and streaming inputs."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.project.script import (
    ScriptError,
    read_script_file,
    split_for_streaming,
    split_paragraphs,
)


def test_paragraphs_are_separated_by_blank_lines_and_lines_are_joined() -> None:
    text = "First line\nstill first.\n\n\n  Second  \r\n \r\nThird\n"
    assert split_paragraphs(text) == ["First line still first.", "Second", "Third"]


def test_whitespace_only_script_has_no_blocks() -> None:
    assert split_paragraphs(" \n\n\t\n") == []


def test_non_utf8_file_names_the_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Caf\u00e9 ok\nna\u00efve".encode("latin-1"))
    with pytest.raises(ScriptError, match=r"not UTF-8.*0xe9 at byte 3, line 1"):
        read_script_file(path)


def test_missing_file_is_a_script_error(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match="no such file"):
        read_script_file(tmp_path / "nope.txt")


def test_bom_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfHello")
    assert read_script_file(path) == "Hello"


def test_short_transcript_is_one_input() -> None:
    assert split_for_streaming("Hello there.") == ["Hello there."]


def test_long_transcript_cuts_at_sentence_ends() -> None:
    sentence = "This sentence has exactly forty-four chars. "
    pieces = split_for_streaming(sentence * 30, limit=100)
    assert all(len(p) <= 101 for p in pieces)
    assert all(p.rstrip().endswith(".") for p in pieces)
    assert "".join(pieces).split() == (sentence * 30).split()


@settings(max_examples=200, deadline=None)
@given(
    words=st.lists(st.text(alphabet="abcdefghij.!? ", min_size=1, max_size=30), min_size=1,
                   max_size=80),
    limit=st.integers(min_value=5, max_value=120),
)
def test_pieces_respect_the_limit_and_keep_every_word(words: list[str], limit: int) -> None:
    transcript = " ".join(w.strip() or "x" for w in words)
    pieces = split_for_streaming(transcript, limit=limit)
    assert all(len(p.rstrip()) <= limit for p in pieces)
    assert "".join(pieces).replace(" ", "") == transcript.replace(" ", "")


def test_tags_and_spell_spans_are_never_cut() -> None:
    sentence = 'Say <spell>A B C</spell> then wait <break time="1s"/> and go on now. '
    transcript = sentence * 40
    pieces = split_for_streaming(transcript, limit=100)
    assert len(pieces) > 1
    for piece in pieces:
        assert piece.count("<spell>") == piece.count("</spell>")
        assert piece.count("<") == piece.count(">")
    assert "".join(pieces).split() == transcript.split()


def test_a_word_glued_to_a_tag_stays_glued() -> None:
    transcript = ("Pause here" + '<break time="500ms"/>' + "now. ") * 60
    pieces = split_for_streaming(transcript, limit=80)
    assert all('here<break time="500ms"/>now.' in p for p in pieces if "here" in p)


def test_a_hundred_thousand_character_paragraph_splits_quickly_and_completely() -> None:
    transcript = ("A fairly ordinary sentence about the weather, with a clause. " * 1700)[:100_000]
    pieces = split_for_streaming(transcript)
    assert len(pieces) >= 200
    assert all(len(p.rstrip()) <= 500 for p in pieces)
    assert "".join(pieces).split() == transcript.split()
