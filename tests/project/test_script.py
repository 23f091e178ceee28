"""Script files and the cutting of text into blocks and streaming inputs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.project.script import (
    MAX_BLOCK_CHARS,
    ScriptBlocks,
    ScriptError,
    ScriptRead,
    clean_script_text,
    read_script_file,
    split_for_streaming,
    split_paragraphs,
    split_script,
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
    assert read_script_file(path) == ScriptRead("Hello")


def test_control_characters_are_removed_with_a_notice_naming_the_first(tmp_path: Path) -> None:
    path = tmp_path / "nul.txt"
    path.write_bytes(b"One line.\nA wo\x00rd and a bell\x07.\tTabbed.\r\n")
    read = read_script_file(path)
    assert read.text == "One line.\nA word and a bell.\tTabbed.\r\n"
    assert read.notices == ("Removed 2 control characters (first: U+0000 at line 2, "
                            "column 5); they are not text a voice can read.",)
    assert split_paragraphs(read.text) == ["One line. A word and a bell.\tTabbed."]


def test_clean_text_has_no_notice() -> None:
    assert clean_script_text("Plain text.\n") == ScriptRead("Plain text.\n", ())


def test_a_script_over_the_limit_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"word " * 300)
    with pytest.raises(ScriptError, match=r"big.txt: the script is larger than"):
        read_script_file(path, limit=1000)
    assert read_script_file(path, limit=1500).text == "word " * 300
    with pytest.raises(ScriptError, match=r"larger than 20 MB"):
        read_script_file(Path("/dev/zero"))  # endless: refused after 20 MB + 1 byte


def test_a_named_pipe_with_no_writer_reads_as_empty_instead_of_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert read_script_file(fifo) == ScriptRead("")


def test_pasted_text_over_the_limit_is_refused() -> None:
    with pytest.raises(ScriptError, match="larger than"):
        clean_script_text("x" * 11, limit=10)


def test_a_huge_paragraph_is_cut_at_sentence_ends_into_blocks_with_a_notice() -> None:
    sentence = "This sentence is forty characters long. "
    huge = sentence * 300  # 12,000 characters in one paragraph
    script = split_script(f"Short one.\n\n{huge}\n\nLast.")
    assert script.blocks[0] == "Short one." and script.blocks[-1] == "Last."
    middle = script.blocks[1:-1]
    assert len(middle) == 3 and all(len(b) <= MAX_BLOCK_CHARS for b in middle)
    assert all(b.endswith("long.") for b in middle)
    assert " ".join(middle) == huge.strip()
    assert script.notices == ("Paragraph 2 has 11,999 characters; it was cut at sentence "
                              "ends into 3 blocks of at most 5,000.",)
    assert split_script("A.\n\nB.") == ScriptBlocks(("A.", "B."), ())


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
