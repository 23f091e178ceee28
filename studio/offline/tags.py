"""Cartesia's inline transcript tags, parsed into speech and pause pieces.

Supported tags (Cartesia's SSML-like tags for sonic-3, as the studio writes
them into blocks):

- ``<break time="1s"/>``, ``<break time="500ms"/>``: silence of that length
  (0 to 10 s).
- ``<speed ratio="1.2"/>``: speed ratio from here on (0.6..1.5), replacing the
  request's ``generation_config.speed``.
- ``<volume ratio="0.8"/>``: volume ratio from here on (0.5..2.0).
- ``<emotion value="sad"/>``: emotion from here on (the seed's ``Emotion``).
- ``<spell>ABC</spell>``: the enclosed text is spelled out character by
  character.

Tags are never spoken. Other ``<name ...>`` tags are dropped silently; a known
tag with a missing or invalid value is a 400 (:class:`ApiError`). Overrides
carry across WebSocket continuations: :func:`parse` takes and returns the
running :class:`Overrides`.

:func:`parse` also hands each speech piece the :class:`Replacement` spans that
fall in it: where a pronunciation dictionary says the text differently
(:mod:`studio.offline.pronunciation`).

This is the server side's parser: the offline engine reads tags here as Cartesia's
server would, validating values and answering 400. The studio's own reading of a
transcript (spoken text, words, protected spans, edits by word) is
:mod:`studio.project.transcript`, which follows the same tag grammar.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TypeAlias

from studio.offline.delivery import Delivery, check_emotion, check_speed, check_volume
from studio.offline.errors import bad_request

#: Longest pause a single ``<break>`` may ask for, in seconds.
MAX_BREAK_SECONDS = 10.0

_TAG = re.compile(r"<(/?)([A-Za-z][\w-]*)((?:\s[^<>]*?)?)\s*(/?)>")
_ATTR = re.compile(r"""([A-Za-z_][\w-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>/]+))""")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s)?\s*$", re.IGNORECASE)
# A sentence ends at . ! ? or … (plus closing quotes/brackets) followed by space.
_SENTENCE_END = re.compile(r"[.!?…。！？]+[\"'”’)\]]*(?=\s|$)")


@dataclass(frozen=True, slots=True)
class Overrides:
    """Delivery set by inline tags so far; None keeps the request's value."""

    speed: float | None = None
    volume: float | None = None
    emotion: str | None = None

    def apply(self, base: Delivery) -> Delivery:
        """``base`` with these overrides applied."""
        return Delivery(
            speed=base.speed if self.speed is None else self.speed,
            volume=base.volume if self.volume is None else self.volume,
            emotion=base.emotion if self.emotion is None else self.emotion,
        )


@dataclass(frozen=True, slots=True)
class Replacement:
    """``text[start:end]`` (character offsets, ``end`` exclusive) is said as
    ``spoken``, espeak-ng input that may hold ``[[...]]`` phoneme mnemonics."""

    start: int
    end: int
    spoken: str

    @property
    def phonemes(self) -> bool:
        """Whether ``spoken`` needs espeak-ng's phoneme input."""
        return "[[" in self.spoken

    def shifted(self, offset: int) -> Replacement:
        """The same replacement with both offsets moved by ``-offset``."""
        return Replacement(self.start - offset, self.end - offset, self.spoken)


@dataclass(frozen=True, slots=True)
class Speech:
    """Text to speak with ``overrides`` in effect; ``spell`` spells it out;
    ``replacements`` (offsets into ``text``, in order) are said differently."""

    text: str
    overrides: Overrides
    spell: bool = False
    replacements: tuple[Replacement, ...] = ()


@dataclass(frozen=True, slots=True)
class Pause:
    """Silence of ``seconds``."""

    seconds: float


Piece: TypeAlias = Speech | Pause


def _attrs(raw: str) -> dict[str, str]:
    return {
        m.group(1).lower(): next(g for g in m.group(2, 3, 4) if g is not None)
        for m in _ATTR.finditer(raw)
    }


def _duration(value: str | None) -> float:
    match = _DURATION.match(value or "")
    if not match:
        raise bad_request(
            f'<break time="..."/> needs a duration like "1s" or "500ms"; got {value!r}'
        )
    amount = float(match.group(1))
    seconds = amount / 1000.0 if (match.group(2) or "s").lower() == "ms" else amount
    if seconds > MAX_BREAK_SECONDS:
        raise bad_request(f"<break> may last at most {MAX_BREAK_SECONDS:g} s; got {value}")
    return seconds


def _number(value: str | None, tag: str) -> float:
    if value is None:
        raise bad_request(f'<{tag} ratio="..."/> needs a number; got None')
    try:
        return float(value)
    except ValueError:
        raise bad_request(f'<{tag} ratio="..."/> needs a number; got {value!r}') from None


def parse(
    transcript: str,
    overrides: Overrides | None = None,
    replacements: Sequence[Replacement] = (),
) -> tuple[list[Piece], Overrides]:
    """Split ``transcript`` into speech and pause pieces.

    Returns the pieces in order and the overrides in effect at the end (pass
    them to the next call for the same WebSocket context). Whitespace-only
    speech is dropped; adjacent text keeps its spacing. ``replacements``
    (offsets into ``transcript``, in order, none inside a tag or a
    ``<spell>`` span) go to the speech piece that holds them.

    Raises:
        ApiError: 400 for a known tag with a missing or out-of-range value.
    """
    state = overrides or Overrides()
    pieces: list[Piece] = []
    pos = 0

    def speak(start: int, end: int) -> None:
        text = transcript[start:end]
        if text.strip():
            inside = tuple(r.shifted(start) for r in replacements
                           if start <= r.start and r.end <= end)
            pieces.append(Speech(text, state, replacements=inside))

    def spell(text: str) -> None:
        if text.strip():
            pieces.append(Speech(text, state, spell=True))

    while pos < len(transcript):
        match = _TAG.search(transcript, pos)
        if match is None:
            speak(pos, len(transcript))
            break
        speak(pos, match.start())
        pos = match.end()
        closing, name, raw_attrs = match.group(1), match.group(2).lower(), match.group(3)
        attrs = _attrs(raw_attrs)
        if closing:
            continue  # stray closing tags (e.g. </spell> without opener) are dropped
        if name == "break":
            pieces.append(Pause(_duration(attrs.get("time"))))
        elif name == "speed":
            state = replace(
                state, speed=check_speed(_number(attrs.get("ratio"), name), "<speed ratio>")
            )
        elif name == "volume":
            state = replace(
                state, volume=check_volume(_number(attrs.get("ratio"), name), "<volume ratio>")
            )
        elif name == "emotion":
            if "value" not in attrs:
                raise bad_request('<emotion value="..."/> needs a value')
            state = replace(state, emotion=check_emotion(attrs["value"].lower(), "<emotion value>"))
        elif name == "spell" and not match.group(4):
            end = transcript.lower().find("</spell>", pos)
            stop = len(transcript) if end < 0 else end
            spell(_TAG.sub("", transcript[pos:stop]))
            pos = stop if end < 0 else end + len("</spell>")
    return pieces, state


def spoken_text(transcript: str) -> str:
    """``transcript`` with every tag removed (what gets spoken, unspelled)."""
    return _TAG.sub(" ", transcript)


def split_sentences(text: str) -> list[str]:
    """``text`` cut after each sentence end; pieces keep their spacing and
    concatenate back to ``text``."""
    out: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        out.append(text[start:match.end()])
        start = match.end()
    if start < len(text):
        out.append(text[start:])
    return [s for s in out if s]


def complete_prefix(text: str) -> int:
    """Length of the longest prefix of buffered ``text`` that ends a sentence
    and is safe to synthesise now: not inside a tag or an open ``<spell>``.
    0 if there is none yet (used by the WebSocket's ``max_buffer_delay_ms``)."""
    limit = safe_prefix(text)
    best = 0
    for match in _SENTENCE_END.finditer(text, 0, limit):
        best = match.end()
    return best


def safe_prefix(text: str) -> int:
    """Length of the longest prefix of ``text`` that does not cut a tag in
    half or end inside an unclosed ``<spell>``."""
    limit = len(text)
    last_open = text.rfind("<")
    if last_open >= 0 and text.find(">", last_open) < 0:
        limit = last_open
    lowered = text[:limit].lower()
    spell_open = lowered.rfind("<spell>")
    if spell_open >= 0 and lowered.find("</spell>", spell_open) < 0:
        limit = spell_open
    return limit
