"""Find and replace over blocks (studio.project.find_replace)."""

from __future__ import annotations

import pytest

from studio.project.find_replace import (
    PREVIEW_LIMIT,
    FindOptions,
    SearchError,
    find,
    replace_all,
)
from studio.project.model import Block


def _blocks(*texts: str) -> list[Block]:
    return [Block(text=text) for text in texts]


def test_plain_replace_is_case_insensitive_by_default_and_literal() -> None:
    blocks = _blocks("Anna met anna.", "No one here.", r"ANNA said \1")
    options = FindOptions("anna", r"Hannah \1")
    result = find(blocks, options)
    assert result.total == 3 and result.blocks == 2
    assert [(m.number, m.found) for m in result.matches] == [(1, "Anna"), (1, "anna"), (3, "ANNA")]
    replaced = replace_all(blocks, options)
    assert replaced.texts == {blocks[0].id: r"Hannah \1 met Hannah \1.",
                              blocks[2].id: r"Hannah \1 said \1"}
    assert replaced.count == 3


def test_match_case_and_whole_word() -> None:
    blocks = _blocks("Cat scatters the cat; CAT, cat's cathedral.")
    assert find(blocks, FindOptions("cat", match_case=True)).total == 4  # scatters, cathedral
    whole = find(blocks, FindOptions("cat", whole_word=True))
    assert [m.found for m in whole.matches] == ["Cat", "cat", "CAT", "cat"]
    both = replace_all(blocks, FindOptions("cat", "dog", match_case=True, whole_word=True))
    assert both.texts[blocks[0].id] == "Cat scatters the dog; CAT, dog's cathedral."


def test_regex_groups_numbered_and_named() -> None:
    blocks = _blocks("Smith, John and Doe, Jane", "nothing")
    numbered = replace_all(blocks, FindOptions(r"(\w+), (\w+)", r"\2 \1", regex=True))
    assert numbered.texts == {blocks[0].id: "John Smith and Jane Doe"}
    named = find(blocks, FindOptions(r"(?P<last>\w+), (?P<first>\w+)", r"\g<first> \g<last>",
                                     regex=True))
    assert [(m.found, m.replacement) for m in named.matches] == [
        ("Smith, John", "John Smith"), ("Doe, Jane", "Jane Doe")]


def test_inline_tags_are_left_alone_and_counted() -> None:
    text = 'Wait <break time="1s"/> for the time. <spell>time</spell> <emotion value="sad"/>sad'
    blocks = _blocks(text)
    result = replace_all(blocks, FindOptions("time", "hour"))
    assert result.texts[blocks[0].id] == (
        'Wait <break time="1s"/> for the hour. <spell>hour</spell> <emotion value="sad"/>sad')
    assert result.tag_skipped == 1
    regex = replace_all(blocks, FindOptions(r"s\w+", "X", regex=True))
    assert '<spell>' in regex.texts[blocks[0].id] and 'value="sad"/>X' in regex.texts[blocks[0].id]
    across = find(blocks, FindOptions(r"Wait <break", regex=True))
    assert across.total == 0 and across.tag_skipped == 1


def test_bad_regex_names_the_position() -> None:
    with pytest.raises(SearchError, match=r"position 4.*missing \)"):
        find(_blocks("x"), FindOptions("abc(d", regex=True, whole_word=True))
    with pytest.raises(SearchError, match="Bad replacement: invalid group reference 2"):
        find(_blocks("x"), FindOptions("(x)", r"\2", regex=True))
    with pytest.raises(SearchError, match="unknown group name"):
        replace_all(_blocks("x"), FindOptions("(x)", r"\g<nope>", regex=True))
    with pytest.raises(SearchError, match="Type the text"):
        find(_blocks("x"), FindOptions(""))


def test_locked_blocks_are_listed_not_replaced() -> None:
    blocks = _blocks("the end", "the start")
    blocks[1].locked = True
    preview = find(blocks, FindOptions("the", "a"))
    assert preview.locked_blocks == 1 and [m.locked for m in preview.matches] == [False, True]
    result = replace_all(blocks, FindOptions("the", "a"))
    assert result.texts == {blocks[0].id: "a end"} and result.locked == [blocks[1].id]


def test_no_op_matches_are_not_changes() -> None:
    blocks = _blocks("abc")
    assert find(blocks, FindOptions("x*", "", regex=True)).total == 0
    assert find(blocks, FindOptions("b", "b")).total == 0
    assert find(blocks, FindOptions("b", "B", match_case=True)).total == 1


def test_preview_is_capped_but_counts_everything() -> None:
    blocks = _blocks(*(["x" * 100] * 100))
    result = find(blocks, FindOptions(".", "y", regex=True))
    assert len(result.matches) == PREVIEW_LIMIT and result.total == 10_000
    assert result.more == 10_000 - PREVIEW_LIMIT


def test_ten_thousand_blocks() -> None:
    blocks = _blocks(*(f"Block {i}: Anna walks to the river with Ben." for i in range(10_000)))
    result = find(blocks, FindOptions(r"\b(Anna|Ben)\b", r"<\1>", regex=True), limit=100)
    assert result.total == 20_000 and result.blocks == 10_000 and len(result.matches) == 100
    replaced = replace_all(blocks, FindOptions("anna", "Hannah", whole_word=True))
    assert len(replaced.texts) == 10_000 and replaced.count == 10_000
    assert replaced.texts[blocks[-1].id] == "Block 9999: Hannah walks to the river with Ben."


def test_context_is_bounded_and_on_one_line() -> None:
    text = "a" * 100 + "\nNEEDLE\n" + "b" * 100
    match = find(_blocks(text), FindOptions("needle")).matches[0]
    assert match.before == "…" + "a" * 39 + " " and match.after == " " + "b" * 39 + "…"
