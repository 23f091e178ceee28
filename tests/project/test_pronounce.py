"""Cartesia's matching rule for pronunciation dictionaries (studio.project.pronounce)."""

from __future__ import annotations

from studio.project.lexicon import LexiconItem
from studio.project.pronounce import Matcher, applied_items, find_matches


def _said(text: str, *pairs: tuple[str, str]) -> list[str]:
    items = [LexiconItem(t, a) for t, a in pairs]
    return [text[m.start:m.end] for m in find_matches(text, items)]


def test_matching_is_case_sensitive() -> None:
    assert _said("Cartesia and cartesia and CARTESIA", ("Cartesia", "x")) == ["Cartesia"]


def test_a_lowercase_key_matches_the_capitalised_form_only_at_a_sentence_start() -> None:
    text = "Gif is fine. We say gif. \"Gif,\" she said (gif). Then: Gif"
    spans = [
        (m.start, text[m.start : m.end]) for m in find_matches(text, [LexiconItem("gif", "jif")])
    ]
    assert spans == [(0, "Gif"), (text.index("gif."), "gif"), (text.index("Gif,"), "Gif"),
                     (text.index("gif)"), "gif")]


def test_sentence_start_after_a_tag_and_after_closing_quotes() -> None:
    items = [LexiconItem("gif", "jif")]
    assert _said('He left." Gif', ("gif", "jif")) == ["Gif"]
    text = 'Done. <break time="1s"/> Gif again'
    assert [text[m.start:m.end] for m in find_matches(text, items)] == ["Gif"]
    assert _said("say Gif", ("gif", "jif")) == []


def test_whole_words_only_and_the_longest_key_wins() -> None:
    pairs = (("Ada", "AY-duh"), ("New York", "noo york"), ("New York City", "NYC"))
    assert _said("Adam met Ada in New York City, then New York.", *pairs) == [
        "Ada", "New York City", "New York"]


def test_keys_with_punctuation_and_non_word_starts() -> None:
    pairs = (("C++", "see plus plus"), (".NET", "dot net"), ("Dr.", "doctor"))
    assert _said("Dr. Lee writes C++ and .NET code", *pairs) == ["Dr.", "C++", ".NET"]


def test_never_inside_tags_or_spell_spans() -> None:
    text = 'Say <emotion value="Ada"/> Ada, <spell>Ada</spell> and Ada.'
    matches = find_matches(text, [LexiconItem("Ada", "x")])
    assert [m.start for m in matches] == [text.index(" Ada,") + 1, text.rindex("Ada")]


def test_first_of_duplicate_keys_wins_and_applied_items_are_in_dictionary_order() -> None:
    items = [LexiconItem("b", "2"), LexiconItem("a", "1"), LexiconItem("a", "3")]
    matcher = Matcher(items)
    assert [m.index for m in matcher.find("a b a")] == [1, 0, 1]
    assert applied_items("a b a", matcher) == (items[0], items[1])
    assert applied_items("nothing here", matcher) == ()


def test_a_ten_thousand_entry_dictionary() -> None:
    items = [LexiconItem(f"word{i}", f"alias {i}") for i in range(10_000)]
    text = " ".join(f"word{i}" for i in range(0, 10_000, 7))
    matches = Matcher(items).find(text)
    assert [m.index for m in matches] == list(range(0, 10_000, 7))


def test_unicode_keys() -> None:
    assert _said("Señor Müller and Zoë", ("Müller", "MUE-ler"), ("Zoë", "ZOH-ee")) == [
        "Müller", "Zoë"]


def test_white_space_is_compared_folded_and_offsets_stay_in_the_text() -> None:
    # Long transcripts are sent with white space folded (split_for_streaming), so a key
    # must match across a double space or a line break, as the server will see it.
    text = "From New  York to New\nYork."
    spans = [(m.start, m.end) for m in find_matches(text, [LexiconItem("New York", "x")])]
    assert [text[s:e] for s, e in spans] == ["New  York", "New\nYork"]
    assert _said("I love\ncartesia", ("cartesia", "x")) == ["cartesia"]
    assert _said("Hello\nCartesia rocks", ("cartesia", "x")) == [], "a line break ends no sentence"


def test_a_tag_right_after_a_sentence_end_still_starts_a_sentence() -> None:
    assert _said('Welcome.<break time="1s"/> Cartesia', ("cartesia", "x")) == ["Cartesia"]
    assert _said('Welcome <break time="1s"/> Cartesia', ("cartesia", "x")) == []


def test_combining_marks_belong_to_their_word() -> None:
    assert _said("नमस्ते दुनिया", ("ते", "x")) == []
    assert _said("cafe\u0301 noir", ("cafe", "x")) == []  # e + U+0301
    assert _said("cafe noir", ("cafe", "x")) == ["cafe"]


def test_thousands_of_keys_sharing_a_first_word_match_quickly() -> None:
    # Keys are looked up by length, not tried one by one: this took seconds before.
    items = [LexiconItem(f"The thing number {i}", f"alias {i}") for i in range(10_000)]
    text = " ".join(f"The thing number {i} and The end." for i in range(0, 10_000, 10))
    matches = Matcher(items).find(text)
    assert [m.index for m in matches] == list(range(0, 10_000, 10))
