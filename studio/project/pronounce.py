"""Where a pronunciation dictionary applies to a transcript: Cartesia's matching rule.
Qt-free.

Cartesia's pronunciation dictionary guide states the rule this module implements
(issue #6 quotes it): an entry's ``text`` matches **case-sensitively**, except that a key
written in lower case also matches its capitalised form at the start of a sentence
("cartesia" matches "Cartesia is ..." but not "... uses Cartesia"). On top of that, the
studio matches **whole words only** ("Ada" never matches inside "Adam"), takes the
**longest** key where several start at the same place ("New York City" over "New
York"), and never matches inside inline tags (``<break time="1s"/>``) or a
``<spell>...</spell>`` span, which the seed's SSML-like tags reserve for spelling out.

The studio uses it three ways, so they always agree:

- the Script panel highlights the words an entry will change (:func:`find_matches`);
- a take records the entries that applied to it and the take cache key hashes them
  (:func:`applied_items`), so editing an entry marks exactly the takes that said it as
  out of date, and nothing else is paid for again;
- the offline engine replaces the matched text when it synthesises.

Matching is linear in the transcript for a dictionary of any size: keys are indexed by
their first word, so a 10 000-entry dictionary costs one dict lookup per word.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from studio.project.lexicon import LexiconItem

__all__ = ["Match", "Matcher", "applied_items", "find_matches"]

#: Inline tags, and ``<spell>`` spans whole: never matched inside.
_PROTECTED = re.compile(r"<spell>.*?</spell>|<[^<>]*>", re.IGNORECASE | re.DOTALL)
_WORD = re.compile(r"\w+")
#: A sentence ends at one of these, then (closing quotes or brackets and) white space.
_SENTENCE_END = ".!?…。！？"
_CLOSERS = "\"'”’)]»"
_OPENERS = "\"'“‘([«¿¡"


@dataclass(frozen=True, slots=True)
class Match:
    """One place an entry applies: ``transcript[start:end]`` is said as the entry's alias.

    Attributes:
        start, end: character offsets into the transcript (``end`` exclusive).
        index: the entry's position in the dictionary's items.
    """

    start: int
    end: int
    index: int


def _capitalised(key: str) -> str:
    return key[0].upper() + key[1:]


class Matcher:
    """A dictionary's items, indexed for :meth:`find`. Build once, match many texts.

    Args:
        items: the dictionary's entries, in order; where two have the same text the
            first wins (:func:`studio.project.lexicon.validate` flags the second).
    """

    def __init__(self, items: Sequence[LexiconItem]) -> None:
        self.items = tuple(items)
        # first word of a key -> [(key, index, only at a sentence start)], longest first
        self._by_word: dict[str, list[tuple[str, int, bool]]] = {}
        # keys that do not start with a word character ("#tag", ".NET"), by first char
        self._by_char: dict[str, list[tuple[str, int, bool]]] = {}
        seen: set[str] = set()
        for index, item in enumerate(self.items):
            key = item.text.strip()
            if not key or key in seen:
                continue
            seen.add(key)
            self._add(key, index, False)
            if key[0].islower() and _capitalised(key) != key:
                self._add(_capitalised(key), index, True)
        for table in (self._by_word, self._by_char):
            for candidates in table.values():
                candidates.sort(key=lambda c: (-len(c[0]), c[2], c[1]))

    def _add(self, key: str, index: int, sentence_start: bool) -> None:
        word = _WORD.match(key)
        if word is not None:
            self._by_word.setdefault(word.group(), []).append((key, index, sentence_start))
        else:
            self._by_char.setdefault(key[0], []).append((key, index, sentence_start))

    def __bool__(self) -> bool:
        return bool(self._by_word or self._by_char)

    def find(self, transcript: str) -> list[Match]:
        """The entries that apply in ``transcript``, left to right, never overlapping."""
        if not self:
            return []
        matches: list[Match] = []
        position = 0
        for start, end in _open_spans(transcript):
            position = max(position, start)
            while position < end:
                found = self._match_at(transcript, position, end)
                if found is not None:
                    matches.append(found)
                    position = found.end
                    continue
                position = _next_candidate(transcript, position + 1, end, self._by_char)
        return matches

    def _match_at(self, text: str, position: int, limit: int) -> Match | None:
        word = _WORD.match(text, position)
        candidates = (self._by_word.get(word.group(), ()) if word is not None
                      else self._by_char.get(text[position], ()))
        if not candidates or not _left_boundary(text, position):
            return None
        for key, index, sentence_start in candidates:
            end = position + len(key)
            if end > limit or not text.startswith(key, position):
                continue
            if not _right_boundary(text, end, key):
                continue
            if sentence_start and not _starts_sentence(text, position):
                continue
            return Match(position, end, index)
        return None


def _open_spans(text: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` stretches of ``text`` outside tags and ``<spell>`` spans."""
    spans: list[tuple[int, int]] = []
    position = 0
    for tag in _PROTECTED.finditer(text):
        if tag.start() > position:
            spans.append((position, tag.start()))
        position = tag.end()
    if position < len(text):
        spans.append((position, len(text)))
    return spans


def _next_candidate(text: str, position: int, end: int,
                    by_char: dict[str, list[tuple[str, int, bool]]]) -> int:
    """The next place a key could start: the next word start, or a character that
    begins a non-word key."""
    while position < end:
        char = text[position]
        if char in by_char:
            return position
        if (char.isalnum() or char == "_") and not _is_word_char(text, position - 1):
            return position
        position += 1
    return end


def _is_word_char(text: str, position: int) -> bool:
    if position < 0 or position >= len(text):
        return False
    char = text[position]
    return char.isalnum() or char == "_"


def _left_boundary(text: str, position: int) -> bool:
    return not (_is_word_char(text, position) and _is_word_char(text, position - 1))


def _right_boundary(text: str, end: int, key: str) -> bool:
    # A key ending in a word character must not run on into a longer word.
    return not (_is_word_char(key, len(key) - 1) and _is_word_char(text, end))


def _starts_sentence(text: str, position: int) -> bool:
    """Whether ``text[position]`` begins a sentence: nothing but white space and opening
    quotes or brackets before it since the text's start, a sentence end, or a tag."""
    index = position - 1
    while index >= 0 and text[index] in _OPENERS:
        index -= 1
    if index >= 0 and not text[index].isspace() and text[index] != ">":
        return False
    while index >= 0 and text[index].isspace():
        index -= 1
    if index < 0:
        return True
    while index >= 0 and text[index] in _CLOSERS:
        index -= 1
    if index >= 0 and text[index] == ">":  # after a tag: look before it
        opening = text.rfind("<", 0, index)
        return opening >= 0 and _starts_sentence(text, opening)
    return index >= 0 and text[index] in _SENTENCE_END


def find_matches(transcript: str, items: Sequence[LexiconItem]) -> list[Match]:
    """Where ``items`` apply in ``transcript`` (see the module docstring for the rule).

    For many texts with one dictionary, build a :class:`Matcher` once instead.
    """
    return Matcher(items).find(transcript)


def applied_items(transcript: str, matcher: Matcher) -> tuple[LexiconItem, ...]:
    """The entries that change ``transcript``, each once, in dictionary order: what a
    take records and its cache key hashes (``()`` when none apply)."""
    indices = sorted({match.index for match in matcher.find(transcript)})
    return tuple(matcher.items[i] for i in indices)
