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
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from studio.project.lexicon import LexiconItem
from studio.project.transcript import protected_spans

__all__ = ["Match", "Matcher", "applied_items", "find_matches"]

_SPACE = re.compile(r"\s+")
_WORD_RUN = re.compile(r"\w+")
_APPLIED_CACHE = 4096  # texts remembered per matcher
_ODD_SPACE = re.compile(r"\s{2,}|[^\S ]")
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


def _is_word_char(text: str, position: int) -> bool:
    """Letters, digits, ``_`` and combining marks (a virama or an accent written as a
    separate code point belongs to its word)."""
    if position < 0 or position >= len(text):
        return False
    char = text[position]
    if char.isalnum() or char == "_":
        return True
    return char >= "\u0300" and not char.isspace() and unicodedata.category(char)[0] == "M"


def _word_end(text: str, position: int) -> int:
    """Where the word starting at ``position`` ends (``position`` if none starts there)."""
    while True:
        run = _WORD_RUN.match(text, position)
        if run is not None:
            position = run.end()
        if _is_word_char(text, position):  # a combining mark: the word goes on
            position += 1
        else:
            return position


#: Candidate keys of one first word (or first character): key length -> key -> the
#: ``(index, only at a sentence start)`` it stands for, exact keys first.
_Bucket = dict[int, dict[str, list[tuple[int, bool]]]]


class Matcher:
    """A dictionary's items, indexed for :meth:`find`. Build once, match many texts.

    White space in keys and texts is compared folded (a key "New York" matches "New
    York" across a line break or a double space), since white space is folded before
    a long transcript is sent (``studio.project.script.split_for_streaming``).

    Args:
        items: the dictionary's entries, in order; where two have the same text the
            first wins (:func:`studio.project.lexicon.validate` flags the second).
    """

    def __init__(self, items: Sequence[LexiconItem]) -> None:
        self.items = tuple(items)
        #: :func:`applied_items` of recent texts.
        self.applied_cache: dict[str, tuple[LexiconItem, ...]] = {}
        # first word of a key (or its first character, for "#tag" or ".NET") -> bucket
        self._buckets: dict[str, _Bucket] = {}
        # bucket -> its key lengths, longest first
        self._lengths: dict[str, list[int]] = {}
        seen: set[str] = set()
        for index, item in enumerate(self.items):
            key = " ".join(item.text.split())
            if not key or key in seen:
                continue
            seen.add(key)
            self._add(key, index, False)
            if key[0].islower() and _capitalised(key) != key:
                self._add(_capitalised(key), index, True)
        others = sorted(head for head in self._buckets if not _is_word_char(head, 0))
        self._candidates = re.compile(
            r"\w+" + (f"|[{''.join(re.escape(c) for c in others)}]" if others else ""))
        for head, bucket in self._buckets.items():
            self._lengths[head] = sorted(bucket, reverse=True)
            for keys in bucket.values():
                for entries in keys.values():
                    entries.sort(key=lambda e: (e[1], e[0]))

    def _add(self, key: str, index: int, sentence_start: bool) -> None:
        head = key[:_word_end(key, 0)] or key[0]
        bucket = self._buckets.setdefault(head, {})
        bucket.setdefault(len(key), {}).setdefault(key, []).append((index, sentence_start))

    def __bool__(self) -> bool:
        return bool(self._buckets)

    def find(self, transcript: str) -> list[Match]:
        """The entries that apply in ``transcript``, left to right, never overlapping;
        offsets are into ``transcript`` as given."""
        if not self:
            return []
        text, origin = _fold(transcript)
        matches: list[Match] = []
        for start, end in _open_spans(text):
            position = start
            # Candidates: word starts (found by the regex engine, not char by char) and
            # the first characters of keys that begin without a word character.
            for candidate in self._candidates.finditer(text, start, end):
                if candidate.start() < position:
                    continue
                found = self._match_at(text, candidate.start(), candidate.end(), end)
                if found is not None:
                    matches.append(found)
                    position = found.end
        if origin is None:
            return matches
        return [Match(origin[m.start], origin[m.end - 1] + 1, m.index) for m in matches]

    def _match_at(self, text: str, position: int, run_end: int, limit: int) -> Match | None:
        """The longest key at ``position``, where the regex found a word ending at
        ``run_end`` (or one character that begins a non-word key)."""
        if _is_word_char(text, position - 1):
            return None  # inside a word (after a combining mark)
        if _is_word_char(text, position):
            head = text[position:_word_end(text, run_end)]
        else:
            head = text[position]
        bucket = self._buckets.get(head)
        if bucket is None:
            return None
        for length in self._lengths[head]:
            end = position + length
            if end > limit:
                continue
            entries = bucket[length].get(text[position:end])
            if entries is None or not _right_boundary(text, end):
                continue
            for index, sentence_start in entries:
                if not sentence_start or _starts_sentence(text, position):
                    return Match(position, end, index)
        return None


def _fold(text: str) -> tuple[str, list[int] | None]:
    """``text`` with each run of white space as one space, and the offset in ``text``
    of each character of the result plus its end (``None`` when nothing changed)."""
    if _ODD_SPACE.search(text) is None:
        return text, None
    parts: list[str] = []
    origin: list[int] = []
    position = 0
    for space in _SPACE.finditer(text):
        parts += (text[position:space.start()], " ")
        origin += (*range(position, space.start()), space.start())
        position = space.end()
    parts.append(text[position:])
    origin += (*range(position, len(text)), len(text))
    return "".join(parts), origin


def _open_spans(text: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` stretches of ``text`` outside tags and ``<spell>`` spans."""
    spans: list[tuple[int, int]] = []
    position = 0
    for start, end in protected_spans(text):
        if start > position:
            spans.append((position, start))
        position = end
    if position < len(text):
        spans.append((position, len(text)))
    return spans


def _right_boundary(text: str, end: int) -> bool:
    # A key ending in a word character must not run on into a longer word.
    return not (_is_word_char(text, end - 1) and _is_word_char(text, end))


def _starts_sentence(text: str, position: int) -> bool:
    """Whether ``text[position]`` begins a sentence: before it, past opening quotes or
    brackets, white space or a tag (or nothing), and before those, past closing quotes
    and brackets, a sentence end or the start of the text. Tags are looked through."""
    index = position - 1
    while index >= 0 and text[index] in _OPENERS:
        index -= 1
    if index >= 0 and not text[index].isspace() and text[index] != ">":
        return False
    while True:
        while index >= 0 and (text[index].isspace() or text[index] in _OPENERS):
            index -= 1
        if index >= 0 and text[index] == ">":
            opening = text.rfind("<", 0, index)
            if opening < 0:
                return False
            index = opening - 1
            continue
        break
    if index < 0:
        return True
    while index >= 0 and text[index] in _CLOSERS:
        index -= 1
    return index >= 0 and text[index] in _SENTENCE_END


def find_matches(transcript: str, items: Sequence[LexiconItem]) -> list[Match]:
    """Where ``items`` apply in ``transcript`` (see the module docstring for the rule).

    For many texts with one dictionary, build a :class:`Matcher` once instead.
    """
    return Matcher(items).find(transcript)


def applied_items(transcript: str, matcher: Matcher) -> tuple[LexiconItem, ...]:
    """The entries that change ``transcript``, each once, in dictionary order: what a
    take records and its cache key hashes (``()`` when none apply). Remembered per
    matcher for recent texts (a block's marks and its staleness ask the same)."""
    cache = matcher.applied_cache
    found = cache.get(transcript)
    if found is None:
        indices = sorted({match.index for match in matcher.find(transcript)})
        found = tuple(matcher.items[i] for i in indices)
        if len(cache) >= _APPLIED_CACHE:
            cache.clear()
        cache[transcript] = found
    return found
