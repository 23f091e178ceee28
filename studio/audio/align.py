"""Word timestamps for speech: forced alignment of a known transcript, free recognition,
and a proportional estimate when neither applies. Qt-free.

Alignment and recognition use pocketsphinx 5 with the US-English model its wheel ships
(``pocketsphinx.get_model_path()``: the ``en-us`` acoustic model, ``cmudict-en-us.dict``
and ``en-us.lm.bin``), so they work offline and for English only.

- :func:`align_words` decodes against a grammar that allows only the transcript's words in
  order (``Decoder.set_align_text``, "Set a word sequence for alignment" in the
  pocketsphinx 5 API), then reads the word segmentation (``Decoder.seg``).
- :func:`recognize_words` decodes with the n-gram language model (``Decoder.seg`` again).
- :func:`estimate_words` shares a duration among the words by their length.
- :func:`word_timestamps_for` aligns and falls back to the estimate.

pocketsphinx works on 16 kHz 16-bit mono in 10 ms frames. Settings found by measuring
on espeak-ng speech in seven voices (``tests/audio/test_align.py`` keeps three):

- ``bestpath`` off: the lattice pass fails "Final result does not match the grammar"
  on about a third of clean utterances when aligning, and finds fewer words in more
  time when recognising;
- aligning: beams wider than the defaults, and no optional silences between words
  (settings with them are tried second);
- one bit of dither, because a synthetic voice's digital silence upsets the features;
- no spectral noise removal: it made no difference to recognition, and its noise
  estimate carries over from one utterance to the next.

The same audio always gives the same timestamps. pocketsphinx lets a word's last phone
run on into a following pause, so word edges are then pulled back to where the sound
is (:func:`_trim_to_sound`).

Decoders are not thread-safe and take 0.15 s (aligner) to 0.4 s (recogniser, with its
language model) to load, against about 20 ms per second of speech to align, so each
kind is kept in a small pool: a call borrows a decoder for its own use and returns it.

The words of a transcript (which are words, which are spelled, the breaks between them)
are :mod:`studio.project.transcript`'s, a leaf module, so the aligner counts words as
the editor, the captions and the word timestamps do.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol, cast

import numpy as np
import numpy.typing as npt

from studio.audio.buffers import resample
from studio.project.transcript import SpokenWord, spoken_words, trailing_pause
from studio.timestamps import WordTimestamps

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]

#: The rate pocketsphinx's acoustic model expects, Hz.
SPHINX_RATE = 16000
#: pocketsphinx frames per second (its ``frate`` setting): frames are 10 ms.
FRAME_RATE = 100
_FRAME = SPHINX_RATE // FRAME_RATE
#: Shortest audio worth aligning, seconds (a few frames of features).
MIN_SECONDS = 0.05

_ALIGNER_CONFIG: dict[str, object] = {
    "lm": None, "bestpath": False, "fsgusefiller": False, "remove_noise": False,
    "beam": 1e-80, "pbeam": 1e-80, "wbeam": 1e-60, "loglevel": "FATAL",
    # Cepstral mean from the utterance itself, not carried from the decoder's last one:
    # a pooled decoder then places words as a fresh one does, whatever it read before.
    "cmn": "batch",
}
#: Tried when the first settings place no words: optional silences between words.
_FALLBACK_ALIGNER_CONFIG: dict[str, object] = {**_ALIGNER_CONFIG, "fsgusefiller": True}
_RECOGNIZER_CONFIG: dict[str, object] = {
    "bestpath": False, "remove_noise": False, "loglevel": "FATAL",
}

#: Word edges move off frames this far below the loud frames of the audio (dB).
_SILENCE_BELOW_DB = 35.0
#: ... but only across a run of at least this many silent 10 ms frames.
_MIN_SILENT_FRAMES = 3


@functools.cache
def _reset_pcm() -> bytes:
    """0.1 s of one-bit noise at 16 kHz, decoded before each utterance (:func:`_segments`);
    made on first use (``numpy.random`` is a noticeable part of start-up)."""
    noise = np.random.default_rng(1).integers(-1, 2, SPHINX_RATE // 10)
    return bytes(noise.astype("<i2").tobytes())

_ALTERNATE = re.compile(r"\(\d+\)$")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


class AlignmentError(ValueError):
    """The transcript could not be placed on the audio: a language the aligner lacks,
    audio too short or silent, or speech that does not match the words."""


# --- pronunciations -----------------------------------------------------------------

_LETTER_NAMES = {
    "a": "EY", "b": "B IY", "c": "S IY", "d": "D IY", "e": "IY", "f": "EH F", "g": "JH IY",
    "h": "EY CH", "i": "AY", "j": "JH EY", "k": "K EY", "l": "EH L", "m": "EH M",
    "n": "EH N", "o": "OW", "p": "P IY", "q": "K Y UW", "r": "AA R", "s": "EH S",
    "t": "T IY", "u": "Y UW", "v": "V IY", "w": "D AH B AH L Y UW", "x": "EH K S",
    "y": "W AY", "z": "Z IY",
}
_ONES = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
    "eighteen", "nineteen",
)
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
# Letter-to-sound rules for words the dictionary lacks, longest spelling first. Crude
# (English spelling is not regular) but forced alignment only needs a plausible phone
# string: the neighbouring words anchor the timing.
_SPELLINGS = {
    "tch": "CH", "sch": "S K", "igh": "AY", "tion": "SH AH N", "sion": "ZH AH N",
    "ch": "CH", "sh": "SH", "th": "TH", "ph": "F", "ck": "K", "ng": "NG", "qu": "K W",
    "wh": "W", "gh": "G", "kn": "N", "wr": "R", "ee": "IY", "ea": "IY", "oo": "UW",
    "ai": "EY", "ay": "EY", "oa": "OW", "ou": "AW", "ow": "OW", "oi": "OY", "oy": "OY",
    "au": "AO", "aw": "AO", "ei": "EY", "ey": "IY", "ie": "IY", "er": "ER", "ir": "ER",
    "ur": "ER", "ar": "AA R", "or": "AO R",
    "a": "AE", "b": "B", "c": "K", "d": "D", "e": "EH", "f": "F", "g": "G", "h": "HH",
    "i": "IH", "j": "JH", "k": "K", "l": "L", "m": "M", "n": "N", "o": "AA", "p": "P",
    "q": "K", "r": "R", "s": "S", "t": "T", "u": "AH", "v": "V", "w": "W", "x": "K S",
    "y": "IY", "z": "Z",
}
_LONGEST_SPELLING = max(map(len, _SPELLINGS))


def _number_words(digits: str) -> list[str]:
    """English words for a run of digits: whole numbers below a million as such, longer
    runs (phone numbers, codes) digit by digit."""
    n = int(digits)
    if len(digits) > 6 or (digits.startswith("0") and len(digits) > 1):
        return [_ONES[int(d)] for d in digits]

    def below_thousand(k: int) -> list[str]:
        out: list[str] = []
        if k >= 100:
            out += [_ONES[k // 100], "hundred"]
            k %= 100
        if k >= 20:
            out.append(_TENS[k // 10])
            k %= 10
            if k:
                out.append(_ONES[k])
        elif k or not out:
            out.append(_ONES[k])
        return out

    if n >= 1000:
        rest = n % 1000
        return below_thousand(n // 1000) + ["thousand"] + (below_thousand(rest) if rest else [])
    return below_thousand(n)


def _letters_to_sound(letters: str) -> str:
    """ARPABET phones for a run of ASCII letters by :data:`_SPELLINGS`."""
    phones: list[str] = []
    i = 0
    if len(letters) > 3 and letters.endswith("e") and not letters.endswith("ee"):
        letters = letters[:-1]  # a silent final e, as in "rate"
    while i < len(letters):
        if i and letters[i] == letters[i - 1] and letters[i] not in "aeiou":
            i += 1  # doubled consonants sound once
            continue
        for size in range(min(_LONGEST_SPELLING, len(letters) - i), 0, -1):
            phone = _SPELLINGS.get(letters[i:i + size])
            if phone is not None:
                phones.append(phone)
                i += size
                break
        else:
            i += 1
    return " ".join(phones)


def _ascii_letters(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and (c.isalnum() or c == "'"))


def pronunciation(word: str, lookup: Callable[[str], str | None], spelled: bool = False) -> str:
    """ARPABET phones for ``word`` (space-separated, the acoustic model's phone set).

    Dictionary words come from ``lookup`` (``Decoder.lookup_word``); others are split
    into runs of letters and digits, each looked up, read as a number, or sounded out
    by letter-to-sound rules; ``spelled`` words (``<spell>``) are read letter by letter.
    Returns "" for a word with nothing to pronounce (``"+"``).
    """
    text = word.translate(_APOSTROPHES)
    if not spelled:
        known = lookup(text.lower())
        if known:
            return known
    phones: list[str] = []
    for part in re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)*|\d+", text):
        if part.isdigit():
            names = [_ONES[int(d)] for d in part] if spelled else _number_words(part)
            phones += [lookup(name) or "" for name in names]
            continue
        letters = _ascii_letters(part)
        if spelled or (letters.isupper() and len(letters) <= 4) or len(letters) == 1:
            phones += [_LETTER_NAMES[c] for c in letters.lower() if c in _LETTER_NAMES]
            continue
        known = lookup(letters.lower())
        phones.append(known or _letters_to_sound(letters.replace("'", "").lower()))
    return " ".join(p for p in phones if p)


# --- decoders ----------------------------------------------------------------------


class _Segment(Protocol):
    word: str
    start_frame: int
    end_frame: int  # inclusive


class _Decoder(Protocol):
    """The part of ``pocketsphinx.Decoder`` used here (the package has no type stubs)."""

    def lookup_word(self, word: str) -> str | None: ...
    def add_word(self, word: str, phones: str, update: bool = True) -> int: ...
    def set_align_text(self, text: str) -> None: ...
    def start_utt(self) -> None: ...
    def process_raw(self, data: bytes, no_search: bool = False, full_utt: bool = False) -> int: ...
    def end_utt(self) -> None: ...
    def seg(self) -> Iterable[_Segment] | None: ...


class _DecoderPool:
    """Idle pocketsphinx decoders of one configuration, lent to one caller at a time."""

    def __init__(self, config: dict[str, object], keep: int) -> None:
        self._config = config
        self._keep = keep
        self._idle: list[_Decoder] = []
        self._lock = threading.Lock()

    @contextmanager
    def borrow(self) -> Iterator[_Decoder]:
        """A decoder for the caller's sole use, as a fresh one would be; it goes back to
        the pool only if the block finished without an exception (a failed decode may
        leave it mid-utterance)."""
        with self._lock:
            decoder = self._idle.pop() if self._idle else None
        if decoder is None:
            import pocketsphinx

            decoder = cast(_Decoder, pocketsphinx.Decoder(**self._config))
        yield decoder
        with self._lock:
            if len(self._idle) < self._keep:
                self._idle.append(decoder)


_ALIGNERS = (_DecoderPool(_ALIGNER_CONFIG, keep=2), _DecoderPool(_FALLBACK_ALIGNER_CONFIG, keep=1))
_RECOGNIZERS = _DecoderPool(_RECOGNIZER_CONFIG, keep=1)


def _is_english(language: str | None) -> bool:
    return (language or "").replace("_", "-").split("-")[0].lower() == "en"


def _pcm16(audio: npt.ArrayLike, sample_rate: int) -> tuple[FloatArray, bytes]:
    """``audio`` at 16 kHz as float32 and as the int16 bytes pocketsphinx reads.

    Raises:
        ValueError: not mono, or a non-positive rate.
    """
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    data = np.asarray(audio, dtype=np.float32)
    if data.ndim != 1:
        raise ValueError(f"audio must be mono, shape (frames,); got shape {data.shape}")
    data = np.nan_to_num(data, nan=0.0, posinf=1.0, neginf=-1.0)
    at16k = np.clip(resample(data, sample_rate, SPHINX_RATE), -1.0, 1.0)
    # One bit of dither, like pocketsphinx's own "dither" option, but from a fixed seed so
    # that the same audio always gives the same timestamps.
    noise = np.random.default_rng(0).integers(-1, 2, at16k.shape[0])
    pcm = np.clip(np.round(at16k * 32767.0) + noise, -32768, 32767).astype("<i2").tobytes()
    return at16k, pcm


def _frame_levels(at16k: FloatArray) -> npt.NDArray[np.float64]:
    """RMS level of each 10 ms frame in dBFS (``-inf`` for digital silence)."""
    frames = at16k.shape[0] // _FRAME
    if frames == 0:
        return np.zeros(0)
    blocks = at16k[:frames * _FRAME].astype(np.float64).reshape(frames, _FRAME)
    power = np.mean(blocks * blocks, axis=1)
    with np.errstate(divide="ignore"):
        levels: npt.NDArray[np.float64] = 10.0 * np.log10(power)
    return levels


def _trim_to_sound(
    spans: list[tuple[int, int]], levels: npt.NDArray[np.float64]
) -> list[tuple[int, int]]:
    """Word spans ``[start, end)`` in frames with silent runs at their edges removed.

    A run counts when it is at least :data:`_MIN_SILENT_FRAMES` frames at least
    :data:`_SILENCE_BELOW_DB` dB below the loud (95th percentile) frames; a word is
    never trimmed to nothing.
    """
    audible = levels[np.isfinite(levels)]
    if audible.size == 0:
        return spans
    silent = levels < float(np.percentile(audible, 95)) - _SILENCE_BELOW_DB
    out: list[tuple[int, int]] = []
    for start, end in spans:
        end = min(end, levels.shape[0])
        new_end = end
        while new_end > start + 1 and silent[new_end - 1]:
            new_end -= 1
        if end - new_end < _MIN_SILENT_FRAMES:
            new_end = end
        new_start = start
        while new_start < new_end - 1 and silent[new_start]:
            new_start += 1
        if new_start - start < _MIN_SILENT_FRAMES:
            new_start = start
        out.append((new_start, max(new_end, new_start + 1)))
    return out


def _segments(decoder: _Decoder, pcm: bytes) -> list[tuple[str, int, int]]:
    """``(word, first frame, end frame exclusive)`` of every non-filler segment."""
    # A decoder carries state from the end of one utterance into the next (the Gaussians
    # it scored last, its cepstral mean), so the same audio came out a frame or two
    # differently after other audio. A fixed utterance first starts every decode alike.
    decoder.start_utt()
    decoder.process_raw(_reset_pcm(), full_utt=True)
    decoder.end_utt()
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    segments = decoder.seg()
    if segments is None:
        return []
    out = []
    for seg in segments:
        word = str(seg.word)
        if word.startswith(("<", "[", "+")):  # <s>, </s>, <sil>, [NOISE], +SPN+
            continue
        out.append((_ALTERNATE.sub("", word), int(seg.start_frame), int(seg.end_frame) + 1))
    return out


def _timestamps(
    words: Sequence[str], spans: Sequence[tuple[int, int]], duration: float
) -> WordTimestamps:
    starts = tuple(round(min(s / FRAME_RATE, duration), 4) for s, _ in spans)
    ends = tuple(round(min(e / FRAME_RATE, duration), 4) for _, e in spans)
    return WordTimestamps(tuple(words), starts, ends)


def _align_once(
    pool: _DecoderPool, words: Sequence[SpokenWord], pcm: bytes
) -> tuple[list[str], list[int], list[tuple[str, int, int]]]:
    """One forced alignment: the dictionary keys aligned, the index in ``words`` of each,
    and the segments pocketsphinx placed (fewer than the keys when it failed)."""
    with pool.borrow() as decoder:
        keys: list[str] = []
        aligned: list[int] = []
        for i, word in enumerate(words):
            key = _dictionary_key(decoder, word)
            if key:
                keys.append(key)
                aligned.append(i)
        if not keys:
            raise AlignmentError("nothing in the transcript can be pronounced")
        try:
            decoder.set_align_text(" ".join(keys))
        except RuntimeError as exc:
            raise AlignmentError(f"pocketsphinx refused the words: {exc}") from None
        return keys, aligned, _segments(decoder, pcm)


def _dictionary_key(decoder: _Decoder, word: SpokenWord) -> str:
    """The decoder's dictionary entry for ``word``, added if missing (spelled words get
    their own entries); "" if the word has nothing to pronounce."""
    key = word.text.lower().translate(_APOSTROPHES)
    if word.spelled:
        key = "spelled:" + key
    if decoder.lookup_word(key):
        return key
    phones = pronunciation(word.text, decoder.lookup_word, word.spelled)
    if not phones:
        return ""
    decoder.add_word(key, phones, True)
    return key


# --- public functions ----------------------------------------------------------------


def align_words(
    audio: npt.NDArray[np.float32], sample_rate: int, transcript: str, language: str = "en"
) -> WordTimestamps:
    """Word timestamps for ``audio`` whose words are ``transcript``, by forced alignment.

    Args:
        audio: float32 mono speech, shape ``(frames,)``.
        sample_rate: rate of ``audio`` in Hz (resampled to 16 kHz for pocketsphinx).
        transcript: what is said; Cartesia's inline tags (``<break time="1s"/>``,
            ``<spell>...</spell>``...) are not words. Words the dictionary lacks are
            sounded out (:func:`pronunciation`).
        language: ISO 639-1 code of the speech; only English (``en``, ``en-GB``...) can
            be aligned.

    Returns:
        One entry per word of ``transcript`` in order (the words of
        :func:`studio.project.transcript.transcript_words`), start/end in seconds from
        the start of ``audio``, non-decreasing and within its duration; empty if the transcript has
        no words.

    Raises:
        AlignmentError: another language, audio shorter than :data:`MIN_SECONDS`, or
            pocketsphinx could not fit the words to the audio (silence, other speech).
        ValueError: ``audio`` is not mono or ``sample_rate`` is not positive.
    """
    if not _is_english(language):
        raise AlignmentError(f"alignment supports English only, not {language!r}")
    words = spoken_words(transcript)
    if not words:
        return WordTimestamps()
    at16k, pcm = _pcm16(audio, sample_rate)
    duration = at16k.shape[0] / SPHINX_RATE
    if duration < MIN_SECONDS:
        raise AlignmentError(f"{duration:.3f} s of audio is too short to align")
    for pool in _ALIGNERS:
        keys, aligned, segments = _align_once(pool, words, pcm)
        if len(segments) == len(keys):
            break
        log.debug("alignment placed %d of %d words", len(segments), len(keys))
    else:
        raise AlignmentError(
            f"the speech does not match the transcript ({len(segments)} of {len(keys)} "
            "words placed)")
    spans = _trim_to_sound([(s, e) for _, s, e in segments], _frame_levels(at16k))
    # Words with nothing to pronounce get an empty span where the previous word ends.
    full: list[tuple[int, int]] = []
    placed = dict(zip(aligned, spans, strict=True))
    for i in range(len(words)):
        if i in placed:
            full.append(placed[i])
        else:
            at = full[-1][1] if full else (spans[0][0] if spans else 0)
            full.append((at, at))
    return _timestamps([w.text for w in words], full, duration)


def estimate_words(transcript: str, duration: float, offset: float = 0.0) -> WordTimestamps:
    """Word timestamps shared out over ``duration`` seconds by character count.

    Each word's share is proportional to its length; ``<break time=.../>`` tags keep
    their own length as gaps (if they fit in ``duration``). The fallback for speech the
    aligner cannot handle (other languages).

    Args:
        transcript: the text spoken (Cartesia inline tags allowed).
        duration: seconds the words take, >= 0.
        offset: seconds before the first word (added to every time).

    Returns:
        Back-to-back words (apart from breaks) from ``offset`` to ``offset + duration``;
        empty if the transcript has no words.

    Raises:
        ValueError: a negative or non-finite ``duration`` or ``offset``.
    """
    if not math.isfinite(duration) or duration < 0:
        raise ValueError(f"duration must be a finite number of seconds >= 0, got {duration}")
    if not math.isfinite(offset) or offset < 0:
        raise ValueError(f"offset must be a finite number of seconds >= 0, got {offset}")
    words, trailing = spoken_words(transcript), trailing_pause(transcript)
    if not words:
        return WordTimestamps()
    pauses = sum(w.pause_before for w in words[1:]) + trailing
    keep_pauses = pauses < duration
    speaking = duration - pauses if keep_pauses else duration
    chars = sum(len(w.text) for w in words)
    starts: list[float] = []
    ends: list[float] = []
    at = offset
    for i, word in enumerate(words):
        if keep_pauses and i:
            at += word.pause_before
        starts.append(round(at, 4))
        at += speaking * len(word.text) / chars
        ends.append(round(at, 4))
    ends[-1] = round(min(ends[-1], offset + duration), 4)
    return WordTimestamps(tuple(w.text for w in words), tuple(starts), tuple(ends))


def _sound_span(at16k: FloatArray) -> tuple[float, float]:
    """Seconds from the first to just past the last frame with sound in it."""
    levels = _frame_levels(at16k)
    audible = np.isfinite(levels)
    if not audible.any():
        return 0.0, at16k.shape[0] / SPHINX_RATE
    loud = levels > float(np.percentile(levels[audible], 95)) - _SILENCE_BELOW_DB
    frames = np.flatnonzero(loud)
    return frames[0] / FRAME_RATE, (frames[-1] + 1) / FRAME_RATE


def word_timestamps_for(
    audio: npt.NDArray[np.float32], sample_rate: int, transcript: str, language: str | None
) -> tuple[WordTimestamps, str]:
    """Word timestamps by :func:`align_words`, or by :func:`estimate_words` over the
    span of the audio that has sound in it when alignment is impossible.

    Args and shapes as :func:`align_words`.

    Returns:
        ``(timestamps, how)`` with ``how`` ``"aligned"`` or ``"estimated"``.

    Raises:
        ValueError: ``audio`` is not mono or ``sample_rate`` is not positive.
    """
    try:
        return align_words(audio, sample_rate, transcript, language or "en"), "aligned"
    except AlignmentError as exc:
        log.info("estimating word timestamps: %s", exc)
    at16k, _ = _pcm16(audio, sample_rate)
    start, end = _sound_span(at16k)
    return estimate_words(transcript, max(end - start, 0.0), start), "estimated"


def recognize_words(
    audio: npt.NDArray[np.float32], sample_rate: int
) -> tuple[str, WordTimestamps]:
    """What is said in English ``audio``, by pocketsphinx with its US-English language
    model (no transcript needed).

    Args:
        audio: float32 mono, shape ``(frames,)``.
        sample_rate: Hz.

    Returns:
        ``(text, words)``: the words joined by single spaces (lower case, as the
        dictionary spells them) and their timestamps in seconds; ``("", empty)`` for
        silence or audio shorter than :data:`MIN_SECONDS`.

    Raises:
        ValueError: ``audio`` is not mono or ``sample_rate`` is not positive.
    """
    at16k, pcm = _pcm16(audio, sample_rate)
    duration = at16k.shape[0] / SPHINX_RATE
    if duration < MIN_SECONDS:
        return "", WordTimestamps()
    with _RECOGNIZERS.borrow() as decoder:
        segments = _segments(decoder, pcm)
    words = [w for w, _, _ in segments]
    spans = _trim_to_sound([(s, e) for _, s, e in segments], _frame_levels(at16k))
    return " ".join(words), _timestamps(words, spans, duration)
