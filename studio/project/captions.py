"""Captions and transcripts from the words on the export timeline. Qt-free.

The export (:mod:`studio.project.export`) lays the selected take of each block on one
timeline with a pause between blocks and moves each take's word timestamps onto it. This
module turns those words into caption cues (SRT, WebVTT), a plain-text transcript and a
JSON list of word timings, so the captions always match what is heard.

Word timestamps carry bare words (the offline engine never punctuates them; Cartesia's
cloud sometimes does). Punctuation comes from the block's transcript: Cartesia's inline
tags are removed (:func:`studio.project.transcript.spoken_text`) and its tokens are
matched to the words by their case-folded letters and digits (:func:`caption_words`).

Cue rules follow the Netflix Timed Text Style Guide ("General Requirements" and "English
Template": at most 2 lines of 42 characters, 5/6 s to 7 s on screen, lines broken after
punctuation and before conjunctions and prepositions, not after an article, out-time up to
12 frames past the audio) and the BBC Subtitle Guidelines (3.2 "Subtitles should contain
single sentences", 3.4 "Break at natural points"). See :func:`cues`.

Everything runs block by block: a cue never crosses the pause between blocks, and nothing
holds more than one block's words (plus the next block, to know where it starts). Files
appear whole or not at all (:func:`studio.audio.atomic.atomic_path`).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from difflib import SequenceMatcher
from enum import IntEnum
from pathlib import Path
from typing import TextIO

import srt
import webvtt

from studio.audio.atomic import atomic_path, write_error
from studio.project.transcript import spoken_text


@dataclass(frozen=True, slots=True)
class CaptionBlock:
    """One block of the program on the export timeline.

    Attributes:
        text: the block's transcript as written, with punctuation; may hold Cartesia
            inline tags (``<break time="1s"/>``, ``<spell>API</spell>``...).
        words: the words of the take's word timestamps, in order.
        starts, ends: each word's start and end, seconds on the export timeline.
        start, end: where the block's audio starts and ends on the timeline (s).
        chapter: the chapter title when this block starts a chapter, else None.

    Raises:
        ValueError: ``words``, ``starts`` and ``ends`` differ in length, a time is not a
            finite number of seconds >= 0, or ``end < start``.
    """

    text: str
    words: tuple[str, ...]
    starts: tuple[float, ...]
    ends: tuple[float, ...]
    start: float
    end: float
    chapter: str | None = None

    def __post_init__(self) -> None:
        if not len(self.words) == len(self.starts) == len(self.ends):
            raise ValueError(
                f"a block needs one start and one end per word, got {len(self.words)} "
                f"words, {len(self.starts)} starts and {len(self.ends)} ends")
        for time in (self.start, self.end, *self.starts, *self.ends):
            if not (math.isfinite(time) and time >= 0.0):
                raise ValueError(f"times must be finite seconds >= 0, got {time!r}")
        if self.end < self.start:
            raise ValueError(f"the block ends ({self.end} s) before it starts ({self.start} s)")


@dataclass(frozen=True, slots=True)
class CaptionWord:
    """A timestamp word with the punctuation the transcript gives it.

    Attributes:
        text: what the caption shows for the word: its token of the transcript
            (``'"great",'`` for the word ``great``), or the bare word when the
            transcript has no token for it. Empty for a word that is only whitespace.
        word: the timestamp word, as the speech engine gave it.
        start, end: seconds on the export timeline.
        block: the block's index in the program.
        joined: the word continues the previous word's token, so no space goes between
            them (``A`` ``P`` ``I`` of a spelled ``<spell>API</spell>``).
    """

    text: str
    word: str
    start: float
    end: float
    block: int
    joined: bool = False


@dataclass(frozen=True, slots=True)
class Cue:
    """One caption on screen.

    Attributes:
        start, end: seconds on the export timeline.
        lines: the text, one non-empty string per line; none when every word is blank
            (the writers leave such a cue out).
        words: the words shown, in order.
        line_starts: the index in ``words`` where each line begins (``0`` first); one
            per line.
    """

    start: float
    end: float
    lines: tuple[str, ...]
    words: tuple[CaptionWord, ...]
    line_starts: tuple[int, ...]

    @property
    def text(self) -> str:
        """The lines joined by ``\\n``."""
        return "\n".join(self.lines)


# -- The transcript's tokens -----------------------------------------------------------

def _key(text: str) -> tuple[str, tuple[int, ...]]:
    """The case-folded letters and digits of ``text`` and, for each, the index in
    ``text`` of the character it comes from (``ß`` folds to two)."""
    chars: list[str] = []
    offsets: list[int] = []
    for index, char in enumerate(text):
        if char.isalnum():
            folded = char.casefold()
            chars.append(folded)
            offsets.extend([index] * len(folded))
    return "".join(chars), tuple(offsets)


@dataclass(frozen=True, slots=True)
class _Token:
    """A whitespace-separated piece of the spoken text, with its key (:func:`_key`)."""

    text: str
    key: str
    offsets: tuple[int, ...]


def _tokens(spoken: str) -> list[_Token]:
    """The tokens of ``spoken``; a token of punctuation only (a spaced ``—``) joins the
    token before it, or the one after it at the start."""
    tokens: list[_Token] = []
    pending = ""
    for piece in spoken.split():
        key, offsets = _key(piece)
        if not key:
            if tokens:
                last = tokens[-1]
                tokens[-1] = _Token(f"{last.text} {piece}", last.key, last.offsets)
            else:
                pending = f"{pending} {piece}".lstrip()
            continue
        if pending:
            offsets = tuple(offset + len(pending) + 1 for offset in offsets)
            piece, pending = f"{pending} {piece}", ""
        tokens.append(_Token(piece, key, offsets))
    return tokens


def _prefix_groups(token_keys: Sequence[str], word_keys: Sequence[str]) -> list[tuple[int, int]]:
    """Where successive groups end, from the start, as (tokens, words) counts: a group
    is whole tokens and whole words whose keys concatenate to the same string."""
    ends: list[tuple[int, int]] = []
    t = w = 0
    while t < len(token_keys) and w < len(word_keys):
        tk, wk, t, w = token_keys[t], word_keys[w], t + 1, w + 1
        while tk != wk:
            if len(tk) < len(wk) and wk.startswith(tk) and t < len(token_keys):
                tk, t = tk + token_keys[t], t + 1
            elif len(wk) < len(tk) and tk.startswith(wk) and w < len(word_keys):
                wk, w = wk + word_keys[w], w + 1
            else:
                return ends
        ends.append((t, w))
    return ends


def _groups(token_keys: Sequence[str], word_keys: Sequence[str]
            ) -> list[tuple[range, range]]:
    """Groups (token range, word range) where the keys are segmented differently (a
    spelled ``API`` heard as ``A P I``), matched from the start and then from the end;
    what lies between is left unmatched."""
    groups: list[tuple[range, range]] = []
    t0 = w0 = 0
    for t, w in _prefix_groups(token_keys, word_keys):
        groups.append((range(t0, t), range(w0, w)))
        t0, w0 = t, w
    nt, nw = len(token_keys) - t0, len(word_keys) - w0
    rt = rw = 0
    for t, w in _prefix_groups([k[::-1] for k in reversed(token_keys[t0:])],
                               [k[::-1] for k in reversed(word_keys[w0:])]):
        groups.append((range(t0 + nt - t, t0 + nt - rt), range(w0 + nw - w, w0 + nw - rw)))
        rt, rw = t, w
    return groups


def _fill(tokens: Sequence[_Token], word_keys: Sequence[str],
          texts: list[str | None], joined: list[bool], word_ids: Sequence[int]) -> None:
    """Give each word of a group its piece of the group's tokens: a word ending inside a
    token is cut before the next word's first letter, so ``well-known`` heard as
    ``well`` ``known`` shows ``well-`` and ``known``."""
    where = [(t, c) for t, token in enumerate(tokens) for c in range(len(token.key))]
    at = 0
    for word_id in word_ids:
        size = len(word_keys[word_id])
        (ta, ca), (tb, cb) = where[at], where[at + size - 1]
        at += size
        first, last = tokens[ta], tokens[tb]
        lo = 0 if ca == 0 else first.offsets[ca]
        hi = len(last.text) if cb == len(last.key) - 1 else last.offsets[cb + 1]
        if ta == tb:
            texts[word_id] = first.text[lo:hi]
        else:
            middle = [token.text for token in tokens[ta + 1:tb]]
            texts[word_id] = " ".join([first.text[lo:], *middle, last.text[:hi]])
        joined[word_id] = ca != 0


def caption_words(block: CaptionBlock, index: int) -> list[CaptionWord]:
    """The block's timestamp words, each with its punctuated token of the transcript.

    The transcript's spoken text (:func:`~studio.project.transcript.spoken_text`) is
    split at whitespace and its tokens are matched to the words in order by their case-folded
    letters and digits (``difflib.SequenceMatcher`` over the tokens), so cloud words that carry
    punctuation match as well as bare ones. Where the two segment differently
    (``<spell>API</spell>`` heard as ``A`` ``P`` ``I``; ``well-known`` as ``well`` ``known``) a
    word gets its piece of the token and ``joined`` marks the pieces after the first. A word the
    transcript lacks keeps its own form (whitespace collapsed); transcript tokens that
    were not heard are left out. Every timestamp word is returned once, in order.

    Args:
        block: the block.
        index: its position in the program, stored in :attr:`CaptionWord.block`.
    """
    tokens = _tokens(spoken_text(block.text))
    word_keys = [_key(word)[0] for word in block.words]
    keyed = [i for i, key in enumerate(word_keys) if key]
    texts: list[str | None] = [None] * len(block.words)
    joined = [False] * len(block.words)
    token_keys = [token.key for token in tokens]
    matcher = SequenceMatcher(None, token_keys, [word_keys[i] for i in keyed], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for t, j in zip(range(i1, i2), range(j1, j2), strict=True):
                texts[keyed[j]] = tokens[t].text
        elif tag == "replace":
            for trange, wrange in _groups(token_keys[i1:i2], [word_keys[keyed[j]]
                                                               for j in range(j1, j2)]):
                _fill(tokens[i1 + trange.start:i1 + trange.stop], word_keys, texts, joined,
                      [keyed[j1 + w] for w in wrange])
    return [
        CaptionWord(" ".join(word.split()) if text is None else text, word, start, end,
                    index, joined=is_joined)
        for word, start, end, text, is_joined
        in zip(block.words, block.starts, block.ends, texts, joined, strict=True)
    ]


# -- Where text may break ---------------------------------------------------------------


class _Break(IntEnum):
    """What lies between two words, best place to break first."""

    SENTENCE = 0
    CLAUSE = 1
    BEFORE_CONJUNCTION = 2
    PLAIN = 3
    AFTER_ARTICLE = 4
    INSIDE_WORD = 5


# Cost of ending a cue at each kind of break (a cue itself costs 1), and of breaking a
# line there, in squared characters of line length (so a break after punctuation wins
# over a balanced plain break up to 8 characters of imbalance: 8**2 / 2 = 32).
_CUE_END_COST = (0.0, 2.0, 4.0, 6.0, 10.0, 50.0)
_LINE_BREAK_COST = (0.0, 0.0, 16.0, 32.0, 128.0, 10_000.0)
_SENTENCE_INSIDE_COST = 2.0  # per sentence end inside a cue (BBC 3.2: single sentences)
_SHORT_COST = 10.0  # per second a cue stays short of min_seconds
# Times the squared room left (1 - the larger of its share of max_lines * max_chars and
# of max_seconds) in a cue that begins or ends inside a sentence: a sentence cut across
# cues is cut into even parts rather than leaving a word or two alone.
_FRAGMENT_COST = 10.0
# A cue that ends a sentence and then starts the next with a word or two ("...quieter.
# Every") leaves those words stranded from the rest of their sentence.
_STRANDED_COST = 6.0
_STRANDED_WORDS = 2

_SENTENCE_MARKS = frozenset(".!?…‽。！？")
_CLAUSE_MARKS = frozenset(",;:—–，；：、")
_CLOSERS = "\"'”’)]}»›"
_ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "eg",
                            "ie", "mt", "fig"})
# Netflix: break before conjunctions and prepositions, not after an article (or a title
# before a name). English only; other languages break at punctuation and plain words.
_BREAK_BEFORE = frozenset({
    "and", "but", "or", "nor", "so", "yet", "because", "although", "though", "while",
    "which", "who", "whose", "that", "if", "when", "where", "unless", "until", "of", "in",
    "on", "at", "to", "for", "with", "from", "by", "about", "into", "over", "after",
    "before", "through", "between", "under", "without"})
_NO_BREAK_AFTER = frozenset({"a", "an", "the", "my", "your", "his", "her", "our", "their",
                             "its", "mr", "mrs", "ms", "dr", "prof", "st"})


def _break_after(word: CaptionWord, following: CaptionWord) -> _Break:
    if following.joined:
        return _Break.INSIDE_WORD
    mark = word.text.rstrip(_CLOSERS)[-1:]
    key = _key(word.text)[0]
    if mark in _SENTENCE_MARKS:
        letters = [char for char in word.text if char.isalnum()]
        upcoming = [char for char in following.text if char.isalnum()][:1]
        abbreviation = mark == "." and (
            key in _ABBREVIATIONS or (len(letters) == 1 and letters[0].isupper())
            or (bool(upcoming) and upcoming[0].islower()))
        if not abbreviation:
            return _Break.SENTENCE
    elif mark in _CLAUSE_MARKS:
        return _Break.CLAUSE
    if _key(following.text)[0] in _BREAK_BEFORE:
        return _Break.BEFORE_CONJUNCTION
    if key in _NO_BREAK_AFTER:
        return _Break.AFTER_ARTICLE
    return _Break.PLAIN


# -- Cues ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Limits:
    max_chars: int
    max_lines: int
    min_seconds: float
    max_seconds: float
    linger_seconds: float


def _segments(words: Sequence[CaptionWord], breaks: Sequence[_Break], limit: float,
              limits: _Limits) -> list[tuple[int, int]]:
    """The block's words cut into cues, as (first, stop) index pairs.

    Dynamic programming over the cut points minimises the sum, over cues, of 1 (fewer
    cues), the cost of the break the cue ends at, the sentence ends inside it, the time
    it falls short of ``min_seconds`` even when extended up to the next cue (or
    ``limit``) and, for part of a sentence, the room it leaves (:data:`_FRAGMENT_COST`).
    A cue is allowed when its words fill at most ``max_lines`` lines (filled from the
    end, which gives the fewest lines; a word longer than a line takes one of its own)
    and span at most ``max_seconds``, or when it is a single word.
    """
    n = len(words)
    sentences = [0]
    last_end: list[int] = []  # the last word ending a sentence, at or before each word (-1: none)
    for index, kind in enumerate(breaks):
        sentences.append(sentences[-1] + (kind is _Break.SENTENCE))
        last_end.append(index if kind is _Break.SENTENCE else (last_end[-1] if last_end else -1))
    capacity = limits.max_lines * limits.max_chars
    best = [0.0] + [math.inf] * n
    back = [0] * (n + 1)
    for stop in range(1, n + 1):
        end_cost = _CUE_END_COST[breaks[stop - 1]] if stop < n else 0.0
        ends_inside = stop < n and breaks[stop - 1] is not _Break.SENTENCE
        room_until = words[stop].start if stop < n else limit
        lines, width, head_joined, chars, latest_end = 0, 0, False, 0, -math.inf
        for first in range(stop - 1, -1, -1):
            word = words[first]
            if word.text:
                grown = len(word.text) + width + (0 if head_joined else 1)
                if lines and grown <= limits.max_chars:
                    width = grown
                else:
                    lines, width = lines + 1, len(word.text)
                chars += len(word.text) + 1
                head_joined = word.joined
            latest_end = max(latest_end, word.end)
            span = latest_end - word.start
            if stop - first > 1 and (lines > limits.max_lines or span > limits.max_seconds):
                break
            shown = max(latest_end, min(word.start + limits.min_seconds, room_until))
            short = max(0.0, limits.min_seconds - (shown - word.start))
            cost = (best[first] + 1.0 + end_cost + _SHORT_COST * short
                    + _SENTENCE_INSIDE_COST * (sentences[stop - 1] - sentences[first]))
            if ends_inside or (first > 0 and breaks[first - 1] is not _Break.SENTENCE):
                full = max(chars / capacity, span / limits.max_seconds)
                cost += _FRAGMENT_COST * max(0.0, 1.0 - full) ** 2
            inside_end = last_end[stop - 2] if stop >= 2 else -1
            if ends_inside and inside_end >= first and stop - 1 - inside_end <= _STRANDED_WORDS:
                cost += _STRANDED_COST
            if cost < best[stop]:
                best[stop], back[stop] = cost, first
    cuts: list[tuple[int, int]] = []
    stop = n
    while stop > 0:
        cuts.append((back[stop], stop))
        stop = back[stop]
    return cuts[::-1]


def _render(words: Sequence[CaptionWord]) -> str:
    parts: list[str] = []
    for word in words:
        if word.text:
            if parts and not word.joined:
                parts.append(" ")
            parts.append(word.text)
    return "".join(parts)


def _layout(words: Sequence[CaptionWord], breaks: Sequence[_Break], max_chars: int
            ) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """A cue's lines and where each starts in ``words``.

    The fewest lines that fit (one when it fits: Netflix, "Line Treatment"); with more,
    the breaks minimise the sum of squared line lengths, which balances the lines, plus
    :data:`_LINE_BREAK_COST` of each break, which prefers breaks after punctuation. Ties
    go to the earlier break: a shorter top line (Netflix's bottom-heavy pyramid).
    """
    n = len(words)
    size = [0]
    spaced = [0]
    visible = [0]
    for word in words:
        size.append(size[-1] + len(word.text))
        spaced.append(spaced[-1] + (bool(word.text) and not word.joined))
        visible.append(visible[-1] + bool(word.text))
    next_visible = [n] * (n + 1)
    for i in range(n - 1, -1, -1):
        next_visible[i] = i if words[i].text else next_visible[i + 1]

    def width(a: int, b: int) -> int:
        lead = next_visible[a]
        lead_space = 1 if lead < b and not words[lead].joined else 0
        return size[b] - size[a] + spaced[b] - spaced[a] - lead_space

    def fits(a: int, b: int) -> bool:
        return width(a, b) <= max_chars or visible[b] - visible[a] <= 1

    count = 0
    a = n
    while a > 0:  # fewest lines, filled from the end as in _segments
        b, a = a, a - 1
        while a > 0 and fits(a - 1, b):
            a -= 1
        count += 1
    cost = [[math.inf] * (n + 1) for _ in range(count + 1)]
    back = [[0] * (n + 1) for _ in range(count + 1)]
    cost[0][0] = 0.0
    for line in range(1, count + 1):
        for b in range(1, n + 1):
            for a in range(line - 1, b):
                if cost[line - 1][a] == math.inf or not fits(a, b):
                    continue
                c = cost[line - 1][a] + width(a, b) ** 2 + (
                    _LINE_BREAK_COST[breaks[a - 1]] if a else 0.0)
                if c < cost[line][b]:
                    cost[line][b], back[line][b] = c, a
    starts: list[int] = []
    b = n
    for line in range(count, 0, -1):
        b = back[line][b]
        starts.append(b)
    starts.reverse()
    # A line of blank words only shows nothing: its words go to the line before it.
    kept = [a for a, b in zip(starts, [*starts[1:], n], strict=True) if _render(words[a:b])]
    if not kept:
        return (), ()
    kept[0] = 0
    bounds = [*kept[1:], n]
    return (tuple(_render(words[a:b]) for a, b in zip(kept, bounds, strict=True)),
            tuple(kept))


def cues(blocks: Iterable[CaptionBlock], *, max_chars: int = 42, max_lines: int = 2,
         min_seconds: float = 1.0, max_seconds: float = 7.0, linger_seconds: float = 0.5
         ) -> Iterator[Cue]:
    """The program's captions, block by block.

    Each block's cues are computed on their own, so a cue never crosses the pause
    between blocks, and blocks are read lazily (one ahead, to know where the next one
    starts). A block without words gives no cue. The cues' words, in order, are the
    program's timestamp words (:func:`caption_words`).

    Text: a cue holds at most ``max_lines`` lines of at most ``max_chars`` characters; a
    word longer than that gets a line of its own. Cues are cut preferably at sentence
    ends (. ! ? …; BBC 3.2), then at clause marks (, ; : — –), then before a conjunction
    or preposition, then between any two words (Netflix, "Line Treatment"), never inside
    a word; the cuts minimise a cost over the whole block (fewer cues, better breaks,
    no cue shorter than ``min_seconds``). A cue's text stays on one line when it fits;
    on two, the break is the one making the lines closest in length, preferring a break
    after punctuation, the top line shorter on a tie.

    Timing: a cue starts at its first word's start and ends at its last word's end (the
    latest end of its words). One whose words span more than ``max_seconds`` is cut
    between words (a single word cannot be). One shorter than ``min_seconds`` is
    extended up to ``min_seconds``, never past the next cue's start and, for a block's
    last cue, never more than ``linger_seconds`` past the block's end (Netflix: an
    out-time may run up to 12 frames, 0.5 s at 24 fps, past the audio) nor past the
    next block's start. Cues are monotonic and never overlap: when word timestamps
    overlap (out of order input), a cue starts no earlier than the previous one ends.

    Args:
        blocks: the program's blocks in order (any iterable, read once).
        max_chars: characters per line (Netflix English: 42).
        max_lines: lines per cue (Netflix: 2).
        min_seconds, max_seconds: time on screen (Netflix: 5/6 s and 7 s).
        linger_seconds: how long a block's last cue may stay after the block's end.

    Raises:
        ValueError: a limit is out of range (checked at the call, before any block is
            read): ``max_chars`` or ``max_lines`` < 1, ``max_seconds`` <= 0,
            ``min_seconds`` not in [0, ``max_seconds``], ``linger_seconds`` < 0.
    """
    if max_chars < 1 or max_lines < 1:
        raise ValueError(f"need max_chars >= 1 and max_lines >= 1, got {max_chars}, "
                         f"{max_lines}")
    if not (0.0 < max_seconds < math.inf and 0.0 <= min_seconds <= max_seconds):
        raise ValueError(f"need 0 <= min_seconds <= max_seconds, max_seconds > 0, got "
                         f"{min_seconds}, {max_seconds}")
    if not (0.0 <= linger_seconds < math.inf):
        raise ValueError(f"linger_seconds must be >= 0, got {linger_seconds}")
    limits = _Limits(max_chars, max_lines, min_seconds, max_seconds, linger_seconds)
    return _cues(iter(blocks), limits)


def _cues(blocks: Iterator[CaptionBlock], limits: _Limits) -> Iterator[Cue]:
    floor = 0.0
    block, index = next(blocks, None), 0
    while block is not None:
        following = next(blocks, None)
        words = caption_words(block, index)
        if words:
            limit = block.end + limits.linger_seconds
            if following is not None:
                limit = min(limit, following.start)
            breaks = [_break_after(a, b) for a, b in itertools.pairwise(words)]
            for first, stop in _segments(words, breaks, limit, limits):
                start = max(words[first].start, floor)
                end = max(start, *(word.end for word in words[first:stop]))
                if end - start < limits.min_seconds:
                    room_until = words[stop].start if stop < len(words) else limit
                    end = max(end, min(start + limits.min_seconds, room_until))
                lines, line_starts = _layout(words[first:stop], breaks[first:stop - 1],
                                             limits.max_chars)
                yield Cue(start, end, lines, tuple(words[first:stop]), line_starts)
                floor = end
        block, index = following, index + 1


# -- Files ---------------------------------------------------------------------------------


@contextlib.contextmanager
def _text_file(path: Path) -> Iterator[TextIO]:
    """A UTF-8 text file written atomically (:func:`studio.audio.atomic.atomic_path`):
    it appears at ``path`` when the ``with`` body finishes, and on any error nothing
    appears and the temporary file is removed.

    Raises:
        OSError: the file cannot be created or written; the message names ``path``.
    """
    target = Path(path)
    try:
        with atomic_path(target) as temp, open(temp, "w", encoding="utf-8",
                                               newline="\n") as out:
            yield out
    except OSError as exc:
        if str(target) in str(exc):
            raise
        raise write_error(target, exc) from exc


def _ms(seconds: float) -> int:
    """Seconds as whole milliseconds, the precision of SRT and WebVTT timestamps."""
    return round(seconds * 1000)


def write_srt(cues: Iterable[Cue], path: Path) -> None:
    """Write ``cues`` as SubRip (with the ``srt`` library), numbered from 1, streamed cue
    by cue. Times are rounded to the millisecond; a cue with no text is left out.

    Raises:
        OSError: the file cannot be created or written; the message names ``path``,
            and nothing is left there.
    """
    with _text_file(path) as out:
        number = 0
        for cue in cues:
            if not cue.lines:
                continue
            number += 1
            subtitle = srt.Subtitle(number, timedelta(milliseconds=_ms(cue.start)),
                                    timedelta(milliseconds=_ms(cue.end)), cue.text)
            out.write(srt.compose([subtitle], reindex=False))


def _vtt_time(ms: int) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def _escape(text: str) -> str:
    """Cue text with ``&``, ``<`` and ``>`` as character references (WebVTT, "cue text")."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _timed_lines(cue: Cue) -> list[str]:
    """The cue's lines with a WebVTT cue timestamp (``<00:00:01.200>``) before each word
    after the first. The spec requires each to be later than the cue's start and the
    timestamp before it and earlier than its end (WebVTT, "WebVTT cue timestamp"); a word
    whose millisecond start is not gets none, and lights up with the word before it."""
    last, end = _ms(cue.start), _ms(cue.end)
    lines: list[str] = []
    for first, stop in zip(cue.line_starts, [*cue.line_starts[1:], len(cue.words)],
                           strict=True):
        parts: list[str] = []
        for word in cue.words[first:stop]:
            if not word.text:
                continue
            if parts and not word.joined:
                parts.append(" ")
            at = _ms(word.start)
            if last < at < end:
                parts.append(f"<{_vtt_time(at)}>")
                last = at
            parts.append(_escape(word.text))
        lines.append("".join(parts))
    return lines


def write_vtt(cues: Iterable[Cue], path: Path, *, word_level: bool = False) -> None:
    """Write ``cues`` as WebVTT with ``webvtt-py``. Times are rounded to the millisecond;
    ``&``, ``<`` and ``>`` in the text are escaped; a cue with no text is left out.

    ``webvtt-py`` writes a whole document at once, so the captions (the size of the
    file, not the program's words) are held until written.

    Args:
        cues: the cues, in order.
        path: the destination.
        word_level: add karaoke-style cue timestamps before each word after the first
            (:func:`_timed_lines`).

    Raises:
        OSError: the file cannot be created or written; the message names ``path``,
            and nothing is left there.
    """
    captions = [
        webvtt.Caption(_vtt_time(_ms(cue.start)), _vtt_time(_ms(cue.end)),
                       _timed_lines(cue) if word_level else [_escape(line)
                                                             for line in cue.lines])
        for cue in cues if cue.lines
    ]
    with _text_file(path) as out:
        webvtt.WebVTT(captions=captions).write(out)


def write_transcript(blocks: Iterable[CaptionBlock], path: Path) -> None:
    """Write the program's spoken text: one paragraph per block
    (:func:`~studio.project.transcript.spoken_text` of its transcript, or its words when the
    transcript is blank), paragraphs separated by a blank line; a block that starts a chapter has
    the title on the line above its paragraph. A block with neither text nor title adds nothing.
    UTF-8, ``\\n``.

    Raises:
        OSError: the file cannot be created or written; the message names ``path``,
            and nothing is left there.
    """
    with _text_file(path) as out:
        separator = ""
        for block in blocks:
            title = " ".join((block.chapter or "").split())
            body = spoken_text(block.text) or " ".join(" ".join(block.words).split())
            paragraph = "\n".join(part for part in (title, body) if part)
            if paragraph:
                out.write(f"{separator}{paragraph}\n")
                separator = "\n"


def write_word_timings(blocks: Iterable[CaptionBlock], path: Path) -> None:
    """Write every timestamp word as JSON, streamed word by word::

        {"words": [{"word": "Hello", "start": 0.1, "end": 0.5, "block": 0}, ...]}

    ``word`` is the timestamp word as the engine gave it, ``start`` and ``end`` are
    seconds on the export timeline rounded to the millisecond, ``block`` is the block's
    index in ``blocks``.

    Raises:
        OSError: the file cannot be created or written; the message names ``path``,
            and nothing is left there.
    """
    with _text_file(path) as out:
        out.write('{"words": [')
        separator = "\n  "
        for index, block in enumerate(blocks):
            for word, start, end in zip(block.words, block.starts, block.ends, strict=True):
                record = {"word": word, "start": round(start, 3), "end": round(end, 3),
                          "block": index}
                out.write(separator + json.dumps(record, ensure_ascii=False))
                separator = ",\n  "
        out.write("\n]}\n")
