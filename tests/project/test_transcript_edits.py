"""Where a block's text is cut or rewritten (the Editor panel's split, replace and delete)."""

from __future__ import annotations

from studio.project.transcript import replace_words, split_text


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


def test_remove_words_keeps_the_sentence_tidy() -> None:
    from studio.project.transcript import remove_words

    assert remove_words("the lazy dog.", 2, 1) == "the lazy."
    assert remove_words("The quick brown fox.", 1, 2) == "The fox."
    assert remove_words("One, two, three.", 1, 1) == "One, three."
    assert remove_words("Keep me.", 0, 0) == "Keep me."
