"""Render parsed transcript pieces to encoded audio plus word/phoneme timestamps.

A :class:`Renderer` belongs to one response (HTTP) or one WebSocket context.
It runs in a worker thread (espeak-ng blocks), renders each sentence with one
espeak-ng call so that other contexts can interleave between sentences, and
hands every ~100 ms block to ``emit`` as soon as espeak-ng produces it: encoded
bytes in the requested format plus the words and phonemes completed so far.

Timestamps come from espeak-ng's own events (``espeakEVENT_WORD`` and
``espeakEVENT_PHONEME``, see :mod:`studio.offline.espeak`): a word starts at its
first word event and ends where its last phoneme ends (the next event of any
kind); a phoneme ends where the next phoneme, pause or word begins. Times are
seconds from the start of the renderer's audio, so they continue across
WebSocket continuations and flushes. Words are the transcript's
whitespace-separated tokens with surrounding punctuation removed; tags are
never words (they were parsed away by :mod:`studio.offline.tags`).

A pronunciation dictionary's replacements (:class:`~studio.offline.tags.Replacement`)
are synthesised in place of the text they cover, but the words reported stay
the transcript's: every word a replacement touches takes its time from the
alias's audio, several words sharing it by length ("New York" said as one
alias), so the studio can align the script's words on the waveform. Phoneme
timestamps are the phonemes espeak-ng actually spoke.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from studio.offline import espeak
from studio.offline.delivery import Delivery, apply_gain
from studio.offline.formats import AudioFormat, StreamEncoder
from studio.offline.tags import Pause, Piece, Replacement, Speech, split_sentences
from studio.project.transcript import word_of
from studio.timestamps import PhonemeTimestamps, WordTimestamps

_TOKEN = re.compile(r"\S+")
_STRESS = str.maketrans("", "", "ˈˌ")
#: Frames of silence emitted per block for a ``<break>``: 100 ms at 22 050 Hz.
_PAUSE_BLOCK = 2205


@dataclass(frozen=True, slots=True)
class Voicing:
    """Which espeak-ng voice speaks, with the voice's offsets to espeak's pitch and
    pitch range (0..100 scale) and its rate ratio (cloned voices set the last two)."""

    espeak_voice: str
    pitch_offset: int = 0
    range_offset: int = 0
    rate_scale: float = 1.0


@dataclass(frozen=True, slots=True)
class Rendered:
    """One block for the client: ``audio`` in the output format (may be empty
    while the encoder buffers), timestamps completed in this block (seconds),
    ``step_time`` the wall time spent producing it in ms."""

    audio: bytes
    words: WordTimestamps
    phonemes: PhonemeTimestamps
    step_time: float


Emit = Callable[[Rendered], None]


def transcript_words(text: str) -> list[str]:
    """The words timestamps report for tag-free ``text``."""
    return [w for w in (word_of(m.group()) for m in _TOKEN.finditer(text)) if w]


def _share(weights: Sequence[int], total: int) -> list[int]:
    """Split ``total`` items into ``len(weights)`` counts, each at least 1,
    roughly proportional to ``weights`` (largest remainders)."""
    n = len(weights)
    counts = [1] * n
    spare = total - n
    if spare <= 0:
        return counts
    weight_sum = sum(weights) or n
    exact = [spare * w / weight_sum for w in weights]
    floors = [int(x) for x in exact]
    counts = [c + f for c, f in zip(counts, floors, strict=True)]
    order = sorted(range(n), key=lambda i: exact[i] - floors[i], reverse=True)
    for i in order[: spare - sum(floors)]:
        counts[i] += 1
    return counts


@dataclass
class _Tracker:
    """Turns one espeak-ng call's events into finished words and phonemes.

    Sample positions are frames at espeak's rate from the start of the call;
    ``base`` is added to place them on the renderer's timeline.

    espeak-ng sometimes speaks several tokens under one word event (it joins
    unstressed function words: "on the"); the tokens a word event skipped
    share its phonemes in proportion to their lengths.
    """

    tokens: Sequence[tuple[int, int, str]]  # (start, end, word) in the synthesised string
    base: int
    rate: int
    words: list[tuple[str, float, float]] = field(default_factory=list)
    phonemes: list[tuple[str, float, float]] = field(default_factory=list)
    _token: int | None = None  # first token of the open word group
    _group_start: int = 0
    _group_position: int = 0  # where in the synthesised string the group's word is
    _group_phonemes: list[tuple[int, int]] = field(default_factory=list)
    _phoneme: tuple[str, int] | None = None  # (ipa, start) awaiting its end
    _started: bool = False  # a word event has been seen

    def _seconds(self, frames: int) -> float:
        return round((self.base + frames) / self.rate, 4)

    def _token_at(self, position: int) -> int | None:
        # The token containing ``position``, or the next one if it falls on
        # whitespace (espeak sometimes points just before a word).
        for i, (_, end, _) in enumerate(self.tokens):
            if position < end:
                return i
        return None

    def _close_phoneme(self, sample: int) -> None:
        if self._phoneme is None:
            return
        ipa, start = self._phoneme
        self._phoneme = None
        end = max(sample, start)
        self.phonemes.append((ipa, self._seconds(start), self._seconds(end)))
        if self._token is not None:
            self._group_phonemes.append((start, end))

    def _close_group(self, next_token: int, sample: int) -> None:
        """Finish the word group ``[self._token, next_token)``."""
        if self._token is None:
            return
        words = [w for _, _, w in self.tokens[self._token:next_token] if w]
        spans = self._group_phonemes
        if words:
            if len(spans) >= len(words):
                counts = _share([len(w) for w in words], len(spans))
                index = 0
                for i, (word, count) in enumerate(zip(words, counts, strict=True)):
                    start = self._group_start if i == 0 else spans[index][0]
                    end = spans[index + count - 1][1]
                    self.words.append((word, self._seconds(start), self._seconds(end)))
                    index += count
            else:  # fewer phonemes than words: share the time span by length
                end = spans[-1][1] if spans else max(sample, self._group_start)
                cuts = np.cumsum([0] + [len(w) for w in words]) / sum(len(w) for w in words)
                span = end - self._group_start
                for word, a, b in zip(words, cuts[:-1], cuts[1:], strict=True):
                    self.words.append((word, self._seconds(self._group_start + int(span * a)),
                                       self._seconds(self._group_start + int(span * b))))
        self._token = None
        self._group_phonemes = []

    def on_word(self, event: espeak.WordEvent) -> None:
        token = self._token_at(event.text_start)
        if token is None or (self._token is not None and token <= self._token):
            return
        if self._token is not None and self.tokens[token][0] <= self._group_position:
            # The token had begun before this group's word: a word after an alias
            # but inside the same transcript word ("'s" of "Cartesia's").
            return
        self._close_phoneme(event.sample)
        self._close_group(token, event.sample)
        # Tokens before espeak's first word event join the first group.
        self._token = token if self._started else 0
        self._started = True
        self._group_start = event.sample
        self._group_position = event.text_start

    def on_phoneme(self, event: espeak.PhonemeEvent) -> None:
        self._close_phoneme(event.sample)
        ipa = event.ipa.translate(_STRESS).strip()
        if ipa:
            self._phoneme = (ipa, event.sample)

    def finish(self, total: int) -> None:
        self._close_phoneme(total)
        self._close_group(len(self.tokens), total)

    def take(self) -> tuple[WordTimestamps, PhonemeTimestamps]:
        words = WordTimestamps(
            tuple(w for w, _, _ in self.words),
            tuple(s for _, s, _ in self.words),
            tuple(e for _, _, e in self.words),
        )
        phonemes = PhonemeTimestamps(
            tuple(p for p, _, _ in self.phonemes),
            tuple(s for _, s, _ in self.phonemes),
            tuple(e for _, _, e in self.phonemes),
        )
        self.words.clear()
        self.phonemes.clear()
        return words, phonemes


def _plain(
    text: str, replacements: Sequence[Replacement] = ()
) -> tuple[str, list[tuple[int, int, str]], bool]:
    """What espeak-ng synthesises for ``text`` with ``replacements`` made, the
    transcript's tokens mapped onto it, and whether it holds phoneme input.

    A token that overlaps a replacement spans the whole replacement's text, so
    espeak-ng's word events inside the alias all fall in the token group of the
    transcript's words.
    """
    tokens = [(m.start(), m.end(), word_of(m.group())) for m in _TOKEN.finditer(text)]
    if not replacements:
        return text, tokens, False
    phonemes = any(r.phonemes for r in replacements)
    parts: list[str] = []
    edges: list[tuple[int, int, int, int]] = []  # (start, end) in text, then in source
    position = length = 0
    for r in replacements:
        plain = text[position:r.start]
        # Same length, so offsets hold: the transcript's own "[[" stays text.
        parts.append(plain.replace("[[", "[ ") if phonemes else plain)
        length += len(plain)
        edges.append((r.start, r.end, length, length + len(r.spoken)))
        parts.append(r.spoken)
        length += len(r.spoken)
        position = r.end
    tail = text[position:]
    parts.append(tail.replace("[[", "[ ") if phonemes else tail)

    def to_source(index: int, end: bool) -> int:
        shift = 0
        for start, stop, source_start, source_stop in edges:
            if index <= start:
                break
            if index < stop:  # inside a replaced span: the whole alias
                return source_stop if end else source_start
            shift = source_stop - stop
        return index + shift

    mapped = [(to_source(a, False), to_source(b, True), w) for a, b, w in tokens]
    return "".join(parts), mapped, phonemes


def _sentences(piece: Speech) -> list[tuple[str, tuple[Replacement, ...]]]:
    """``piece`` cut into sentences, each with its replacements (offsets into the
    sentence); never cut inside a replaced span (a key may hold "Mr. Smith")."""
    out: list[tuple[str, tuple[Replacement, ...]]] = []
    start = end = 0
    for sentence in split_sentences(piece.text):
        end += len(sentence)
        if any(r.start < end < r.end for r in piece.replacements):
            continue
        out.append((piece.text[start:end], tuple(
            r.shifted(start) for r in piece.replacements if start <= r.start and r.end <= end)))
        start = end
    return out


_SAY_AS_OPEN = '<say-as interpret-as="characters">'
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _spelled(text: str) -> tuple[str, list[tuple[int, int, str]]]:
    """SSML that spells ``text`` out, with token spans mapped into it."""
    out = [_SAY_AS_OPEN]
    offsets: list[int] = []  # SSML index of each original character
    length = len(_SAY_AS_OPEN)
    for ch in text:
        offsets.append(length)
        piece = _ESCAPES.get(ch, ch)
        out.append(piece)
        length += len(piece)
    offsets.append(length)
    out.append("</say-as>")
    tokens = [
        (offsets[m.start()], offsets[m.end()], word_of(m.group()) or m.group())
        for m in _TOKEN.finditer(text)
    ]
    return "".join(out), tokens


class Renderer:
    """Renders pieces for one response or WebSocket context, in order.

    Not thread-safe: one call at a time (the WebSocket session runs a
    context's inputs sequentially). ``frames`` counts espeak-rate frames
    rendered so far; it positions timestamps.
    """

    def __init__(self, fmt: AudioFormat) -> None:
        self.format = fmt
        self.rate = espeak.sample_rate()
        self.frames = 0
        self._encoder = StreamEncoder(fmt, self.rate)

    def render(
        self,
        pieces: Sequence[Piece],
        voicing: Voicing,
        delivery: Delivery,
        emit: Emit,
        cancelled: Callable[[], bool],
    ) -> bool:
        """Render ``pieces`` (blocking), calling ``emit`` per block.

        Returns False if ``cancelled()`` became true (rendering stopped early).

        Raises:
            EspeakError: if espeak-ng fails.
        """
        for piece in pieces:
            if cancelled():
                return False
            if isinstance(piece, Pause):
                self._pause(piece.seconds, emit)
                continue
            effective = piece.overrides.apply(delivery)
            chunks = [(piece.text, ())] if piece.spell else _sentences(piece)
            for sentence, replacements in chunks:
                if not sentence.strip():
                    continue
                if not self._speak(sentence, replacements, piece.spell, voicing, effective,
                                   emit, cancelled):
                    return False
        return not cancelled()

    def finish(self, emit: Emit) -> None:
        """Flush the encoder (resampler tail, mp3 frames) and start a fresh one,
        so a WebSocket flush hands out every sample rendered so far."""
        started = time.perf_counter()
        tail = self._encoder.finish()
        self._encoder = StreamEncoder(self.format, self.rate)
        if tail:
            emit(Rendered(tail, WordTimestamps(), PhonemeTimestamps(),
                          (time.perf_counter() - started) * 1000.0))

    def _pause(self, seconds: float, emit: Emit) -> None:
        remaining = round(seconds * self.rate)
        while remaining > 0:
            started = time.perf_counter()
            frames = min(remaining, _PAUSE_BLOCK)
            audio = self._encoder.feed(np.zeros(frames, dtype=np.float32))
            self.frames += frames
            remaining -= frames
            emit(Rendered(audio, WordTimestamps(), PhonemeTimestamps(),
                          (time.perf_counter() - started) * 1000.0))

    def _speak(
        self,
        text: str,
        replacements: Sequence[Replacement],
        spell: bool,
        voicing: Voicing,
        delivery: Delivery,
        emit: Emit,
        cancelled: Callable[[], bool],
    ) -> bool:
        if spell:
            (source, tokens), phoneme_input = _spelled(text), False
        else:
            source, tokens, phoneme_input = _plain(text, replacements)
        tracker = _Tracker(tokens, self.frames, self.rate)
        gain = delivery.gain()
        produced = 0
        clock = [time.perf_counter()]

        def sink(
            pcm: npt.NDArray[np.int16], events: list[espeak.WordEvent | espeak.PhonemeEvent]
        ) -> bool:
            nonlocal produced
            if cancelled():
                return True
            for event in events:
                if isinstance(event, espeak.WordEvent):
                    tracker.on_word(event)
                else:
                    tracker.on_phoneme(event)
            samples = apply_gain(pcm.astype(np.float32) / 32768.0, gain)
            produced += len(samples)
            audio = self._encoder.feed(samples)
            words, phonemes = tracker.take()
            now = time.perf_counter()
            emit(Rendered(audio, words, phonemes, (now - clock[0]) * 1000.0))
            clock[0] = now
            return False

        prosody = delivery.prosody(voicing.pitch_offset, voicing.range_offset, voicing.rate_scale)
        completed = espeak.synthesize(source, voicing.espeak_voice, prosody, sink, ssml=spell,
                                      phonemes=phoneme_input)
        tracker.finish(produced)
        self.frames += produced
        words, phonemes = tracker.take()
        if words.words or phonemes.phonemes:
            emit(Rendered(b"", words, phonemes, 0.0))
        return completed and not cancelled()
