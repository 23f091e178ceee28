"""The words of a transcript: Cartesia's inline tags, the spoken text, the words a take's
word timestamps report, and edits by word. Qt-free.

A leaf module (it imports nothing from ``studio``), so every layer reads a transcript
the same way: the project (captions, pronunciation dictionaries, streaming pieces,
export file names), the services (render progress), the aligner in ``studio.audio`` and
the command line. The offline engine's own parser (:mod:`studio.offline.tags`) is the
server side's reading of the same grammar, kept apart as Cartesia's server is.

The grammar (Cartesia's SSML-like tags for sonic-3, as the studio writes them):

- A tag is ``<`` then an optional ``/``, a name that starts with a letter, attributes
  after white space, an optional ``/`` and ``>``: ``<break time="1s"/>``,
  ``<speed ratio="1.2"/>``, ``<volume ratio="0.8"/>``, ``<emotion value="sad"/>``,
  ``<spell>``, ``</spell>``. Names are compared case-insensitively. Any other ``<`` is
  text: "1 < 2 and 3 > 2" is spoken as written.
- Tags are never spoken, and a tag separates the words on either side of it
  (``here<break time="1s"/>now`` is two words), as the engine speaks the text between
  tags as pieces of their own.
- ``<spell>ABC</spell>`` wraps spoken text that is spelled out; a ``<spell>`` without
  its ``</spell>`` spells to the end of the transcript.

A word, as word timestamps report it (seed ``tts-websocket.txt``: "Hello, world!" gives
``Hello``, ``world``), is a whitespace-separated token without its leading and trailing
punctuation (:func:`word_of`); a token of punctuation only ("—", "...") is not a word.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "SpokenWord", "Tag", "break_seconds", "protected_spans", "remove_words", "replace_words",
    "segments", "split_text", "spoken_text", "spoken_word_count", "spoken_words", "tags",
    "trailing_pause", "transcript_words", "word_of",
]

_TAG = re.compile(r"<(/?)([A-Za-z][\w:-]*)((?:\s[^<>]*?)?)\s*(/?)\s*>")
_ATTRIBUTE = re.compile(r"""([A-Za-z_][\w:-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>/]+))""")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s)?\s*$", re.IGNORECASE)
_TOKEN = re.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class Tag:
    """An inline tag at ``text[start:end]``.

    Attributes:
        start, end: character offsets of the whole tag (``end`` exclusive).
        name: the tag's name, lower case (``break``, ``spell``).
        closing: a closing tag (``</spell>``).
        self_closing: ends in ``/>`` (``<break time="1s"/>``).
        attributes: the attribute values by lower-case name.
    """

    start: int
    end: int
    name: str
    closing: bool
    self_closing: bool
    attributes: dict[str, str]


@dataclass(frozen=True, slots=True)
class SpokenWord:
    """A spoken word of a transcript.

    Attributes:
        text: the word as word timestamps report it (:func:`word_of` of its token).
        start, end: character offsets of its whole token in the transcript, punctuation
            included (``end`` exclusive).
        spelled: inside ``<spell>``.
        pause_before: seconds of ``<break>`` between the previous word and this one.
    """

    text: str
    start: int
    end: int
    spelled: bool = False
    pause_before: float = 0.0


def tags(text: str) -> list[Tag]:
    """The inline tags of ``text``, in order."""
    return [
        Tag(m.start(), m.end(), m.group(2).lower(), bool(m.group(1)), bool(m.group(4)),
            {a.group(1).lower(): next(g for g in a.group(2, 3, 4) if g is not None)
             for a in _ATTRIBUTE.finditer(m.group(3))})
        for m in _TAG.finditer(text)
    ]


def break_seconds(tag: Tag) -> float:
    """Seconds of silence ``tag`` asks for: ``time="1s"``, ``"500ms"`` or ``"1.5"``
    (seconds) on a ``<break>``; 0.0 for another tag or a time that is not a duration
    (the server refuses those; here they only must not break reading the words)."""
    if tag.name != "break":
        return 0.0
    match = _DURATION.match(tag.attributes.get("time", ""))
    if match is None:
        return 0.0
    value = float(match.group(1))
    return value / 1000.0 if (match.group(2) or "s").lower() == "ms" else value


def _spell_end(text: str, found: list[Tag], index: int) -> tuple[int, int]:
    """Where the ``<spell>`` span opened by ``found[index]`` ends: the end of its
    ``</spell>`` (or of the text), and the index of the first tag after it."""
    for later in range(index + 1, len(found)):
        if found[later].name == "spell" and found[later].closing:
            return found[later].end, later + 1
    return len(text), len(found)


def protected_spans(text: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` character spans of ``text`` no rewrite may touch (a
    pronunciation dictionary's, for one): every tag, and every ``<spell>`` span whole,
    from ``<spell>`` to the end of its ``</spell>`` (or of the text). In order, not
    overlapping."""
    found = tags(text)
    spans: list[tuple[int, int]] = []
    index = 0
    while index < len(found):
        tag = found[index]
        if tag.name == "spell" and not tag.closing and not tag.self_closing:
            end, index = _spell_end(text, found, index)
            spans.append((tag.start, end))
        else:
            spans.append((tag.start, tag.end))
            index += 1
    return spans


def segments(text: str) -> list[tuple[int, int, bool]]:
    """``text`` as ``(start, end, markup)`` pieces in order, white space left out:
    each of :func:`protected_spans` (``markup`` true) and each run of other non-space
    characters (``markup`` false). Cutting only between segments never cuts a tag or a
    spelled span."""
    out: list[tuple[int, int, bool]] = []
    position = 0
    for start, end in [*protected_spans(text), (len(text), len(text))]:
        out += [(position + m.start(), position + m.end(), False)
                for m in _TOKEN.finditer(text[position:start])]
        if end > start:
            out.append((start, end, True))
        position = end
    return out


def spoken_text(text: str) -> str:
    """``text`` without its inline tags, white space folded to single spaces: what is
    said, as a reader would write it.

    ``<spell>`` and ``</spell>`` are removed and their content, which is spoken, stays
    as written (``<spell>API</spell>.`` is ``API.``); every other tag becomes a space,
    since the words on either side are separate (``here<break time="1s"/>now``).
    """
    return " ".join(
        _TAG.sub(lambda m: "" if m.group(2).lower() == "spell" else " ", text).split())


def word_of(token: str) -> str:
    """``token`` without leading/trailing punctuation (``"Hello,"`` -> ``"Hello"``);
    inner punctuation stays (``"I'm"``, ``"5.50"``), as in the seed's word timestamps
    (``tts-websocket.txt``: ``"Hello, world!"`` gives ``Hello``, ``world``). The offline
    engine names its words the same way (``studio.offline.synthesis``)."""
    start, end = 0, len(token)
    while start < end and unicodedata.category(token[start]).startswith("P"):
        start += 1
    while end > start and unicodedata.category(token[end - 1]).startswith("P"):
        end -= 1
    return token[start:end]


def _read(text: str) -> tuple[list[SpokenWord], float]:
    """The spoken words of ``text`` and the seconds of ``<break>`` after the last."""
    words: list[SpokenWord] = []
    spelled = False
    pause = 0.0
    at = 0

    def take(stop: int) -> None:
        nonlocal pause
        for match in _TOKEN.finditer(text, at, stop):
            word = word_of(match.group())
            if word:
                words.append(SpokenWord(word, match.start(), match.end(), spelled, pause))
                pause = 0.0

    for tag in tags(text):
        take(tag.start)
        at = tag.end
        if tag.name == "spell" and not tag.self_closing:
            spelled = not tag.closing
        pause += break_seconds(tag)
    take(len(text))
    return words, pause


def spoken_words(text: str) -> list[SpokenWord]:
    """The spoken words of ``text``, in order: the i-th is the i-th of the word
    timestamps of a take of ``text``. Tags are not words and separate the words around
    them; a token of punctuation only is not a word."""
    return _read(text)[0]


def transcript_words(text: str) -> list[str]:
    """The words word timestamps report for ``text`` (:attr:`SpokenWord.text`)."""
    return [word.text for word in _read(text)[0]]


def spoken_word_count(text: str) -> int:
    """How many words a take of ``text`` has (:func:`spoken_words`)."""
    return len(_read(text)[0])


def trailing_pause(text: str) -> float:
    """Seconds of ``<break>`` after the last spoken word of ``text`` (all of them when
    there is no word)."""
    return _read(text)[1]


def split_text(text: str, words_before: int) -> tuple[str, str]:
    """``text`` cut before its spoken word number ``words_before`` (from 0):
    ``(left, right)``, each stripped. Past the last word, ``right`` is empty."""
    words = spoken_words(text)
    if words_before >= len(words):
        return text.strip(), ""
    at = words[words_before].start
    return text[:at].strip(), text[at:].strip()


def replace_words(text: str, first: int, count: int, new: str) -> str:
    """``text`` with its spoken words ``first .. first+count-1`` replaced by ``new``
    (``count`` 0 inserts before word ``first``; past the last word, ``new`` is
    appended). The punctuation around the replaced words stays: replacing "brown," by
    "bright red" gives "bright red,"."""
    words = spoken_words(text)
    new = new.strip()
    if first >= len(words):
        return f"{text.rstrip()} {new}".strip()
    if count == 0:
        at = words[first].start
        return f"{text[:at]}{new} {text[at:]}"
    head, tail = words[first], words[min(first + count, len(words)) - 1]
    lead = re.match(r"[^\w]*", text[head.start:head.end])
    trail = re.search(r"[^\w]*$", text[tail.start:tail.end])
    prefix = lead.group(0) if lead else ""
    suffix = trail.group(0) if trail else ""
    return f"{text[:head.start]}{prefix}{new}{suffix}{text[tail.end:]}"


def remove_words(text: str, first: int, count: int) -> str:
    """``text`` without its spoken words ``first .. first+count-1``; the punctuation
    after the last one stays ("the lazy dog." without "dog" is "the lazy.")."""
    words = spoken_words(text)
    if count <= 0 or first >= len(words):
        return text
    head, tail = words[first], words[min(first + count, len(words)) - 1]
    before, after = text[:head.start].rstrip(), text[tail.end:]
    ending = re.search(r"[.!?]+[\"')\]]*$", text[tail.start:tail.end])
    if ending and before and not re.search(r"[.!?,;:][\"')\]]*$", before):
        before += ending.group(0)  # the sentence still ends where it did
    if not before:
        return after.strip()
    return f"{before}{after}" if not after[:1].isalnum() else f"{before} {after}"
