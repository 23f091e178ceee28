"""Word and phoneme timestamps: the value types a take's timing is told in.

Shared by the API client (which parses them from the TTS stream, seed schemas
``WordTimestamps`` and ``PhonemeTimestamps``), the audio code (alignment, snapping),
the project file and the offline engine. A leaf module: it imports nothing of the
studio, so none of those layers pulls in another to read a take's words.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


def _parallel_lists(body: Any, labels: str, where: str) -> tuple[list[Any], list[Any], list[Any]]:
    """The ``labels``/``start``/``end`` lists of a timestamps object, equal in length.

    Raises:
        ValueError: a list is missing or they differ in length.
    """
    if not isinstance(body, dict):
        raise ValueError(f"{where}: expected an object, got {type(body).__name__}")
    lists = []
    for key in (labels, "start", "end"):
        value = body.get(key)
        if not isinstance(value, list):
            raise ValueError(f"{where}: {key!r} is missing or not a list")
        lists.append(value)
    names, start, end = lists
    if not (len(names) == len(start) == len(end)):
        raise ValueError(f"{where}: {labels}, start and end differ in length")
    return names, start, end


@dataclass(frozen=True, slots=True)
class WordTimestamps:
    """``WordTimestamps``: parallel lists; ``start``/``end`` in seconds."""

    words: tuple[str, ...] = ()
    start: tuple[float, ...] = ()
    end: tuple[float, ...] = ()

    @classmethod
    def from_json(cls, body: Any) -> WordTimestamps:
        """From ``{"words": [...], "start": [...], "end": [...]}``.

        Raises:
            ValueError: malformed (see :func:`_parallel_lists`), or a time is not a number.
        """
        words, start, end = _parallel_lists(body, "words", "WordTimestamps")
        return cls(tuple(map(str, words)), tuple(map(float, start)), tuple(map(float, end)))

    @classmethod
    def concat(cls, parts: Iterable[WordTimestamps]) -> WordTimestamps:
        """The words of ``parts`` in order, joined in one pass (a stream's events)."""
        parts = list(parts)
        return cls(
            tuple(w for p in parts for w in p.words),
            tuple(t for p in parts for t in p.start),
            tuple(t for p in parts for t in p.end),
        )

    def to_json(self) -> dict[str, Any]:
        return {"words": list(self.words), "start": list(self.start), "end": list(self.end)}


@dataclass(frozen=True, slots=True)
class PhonemeTimestamps:
    """``PhonemeTimestamps``: parallel lists; ``start``/``end`` in seconds."""

    phonemes: tuple[str, ...] = ()
    start: tuple[float, ...] = ()
    end: tuple[float, ...] = ()

    @classmethod
    def from_json(cls, body: Any) -> PhonemeTimestamps:
        """From ``{"phonemes": [...], "start": [...], "end": [...]}``.

        Raises:
            ValueError: malformed, or a time is not a number.
        """
        phonemes, start, end = _parallel_lists(body, "phonemes", "PhonemeTimestamps")
        return cls(tuple(map(str, phonemes)), tuple(map(float, start)), tuple(map(float, end)))

    @classmethod
    def concat(cls, parts: Iterable[PhonemeTimestamps]) -> PhonemeTimestamps:
        """The phonemes of ``parts`` in order, joined in one pass."""
        parts = list(parts)
        return cls(
            tuple(x for p in parts for x in p.phonemes),
            tuple(t for p in parts for t in p.start),
            tuple(t for p in parts for t in p.end),
        )

    def to_json(self) -> dict[str, Any]:
        return {"phonemes": list(self.phonemes), "start": list(self.start), "end": list(self.end)}
