"""Planning an infill: where to cut a take around the words being replaced. Qt-free.

Cartesia's infill (``POST /infill/bytes``, seed ``infill_bytes``) generates the audio
that joins a left and a right clip. Its tips: target natural pauses when deciding
where to clip, and clip right up to the segment being replaced, keeping as much
silence as possible in the left and right audio. So the left clip ends at the last
quiet moment before the selection (the end of the pause before its first word) and
the right clip starts at the first quiet moment after it; the span between is what
the generated middle replaces (:class:`studio.project.edits.Splice`).

Only :data:`CONTEXT_SECONDS` of each side is sent: the model needs the voice and
the joins, not the whole take (a three-hour take would otherwise upload an hour).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from studio.audio.snap import nearest_zero_crossing
from studio.project.edits import Edited
from studio.timestamps import WordTimestamps

#: Seconds of audio sent on each side of the replaced span.
CONTEXT_SECONDS = 8.0
#: How far to look for a pause beside the selection when the take has no words.
SEARCH_SECONDS = 0.3
#: RMS windows for finding quiet moments, seconds.
WINDOW_SECONDS = 0.005
#: A window is quiet when its RMS is within this many dB of the quietest window of
#: the pause, or below :data:`SILENCE_DBFS`.
QUIET_MARGIN_DB = 6.0
SILENCE_DBFS = -50.0
#: Seconds a neighbouring word may reach into the selection and still count as outside
#: it (selection edges snap to zero crossings a few milliseconds from word boundaries).
EDGE_SECONDS = 0.02


class InfillError(ValueError):
    """The selection cannot be infilled; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class InfillPlan:
    """Where the middle goes, and the clips sent beside it.

    Attributes:
        start: first frame replaced (the left cut), in the edited take's frames.
        end: frame after the last replaced (the right cut); ``start <= end``.
        left: float32 ``(frames,)``, up to :data:`CONTEXT_SECONDS` ending at ``start``
            (empty at the very start of the take).
        right: float32 ``(frames,)``, up to :data:`CONTEXT_SECONDS` from ``end``
            (empty at the very end).
        sample_rate: Hz of all of the above.
        words: the words being replaced (may be empty: an insertion).
        first_word: index (in the take's words) of the first word replaced, or where
            the new words go for an insertion.
    """

    start: int
    end: int
    left: npt.NDArray[np.float32]
    right: npt.NDArray[np.float32]
    sample_rate: int
    words: tuple[str, ...]
    first_word: int = 0


def _envelope(audio: npt.NDArray[np.float32], lo: int, hi: int,
              window: int) -> npt.NDArray[np.float64]:
    """RMS of consecutive ``window``-frame windows of ``audio[lo:hi]``."""
    count = (hi - lo) // window
    if count <= 0:
        return np.zeros(0)
    part = audio[lo:lo + count * window].astype(np.float64).reshape(count, window)
    rms: npt.NDArray[np.float64] = np.sqrt(np.einsum("ij,ij->i", part, part) / window)
    return rms


def natural_cut(audio: npt.NDArray[np.float32], sample_rate: int, lo: int, hi: int,
                toward: str) -> int:
    """The quiet moment in ``audio[lo:hi]`` nearest its ``toward`` end (``"hi"`` for a
    left cut, ``"lo"`` for a right cut), snapped to a zero crossing; ``hi`` (or ``lo``)
    itself when the gap is shorter than one window.

    Raises:
        ValueError: ``toward`` is neither ``"lo"`` nor ``"hi"``.
    """
    if toward not in ("lo", "hi"):
        raise ValueError(f"toward must be 'lo' or 'hi', not {toward!r}")
    window = max(1, round(WINDOW_SECONDS * sample_rate))
    envelope = _envelope(audio, lo, hi, window)
    if envelope.size == 0:
        return hi if toward == "hi" else lo
    floor = float(envelope.min())
    threshold = max(floor * 10 ** (QUIET_MARGIN_DB / 20), 10 ** (SILENCE_DBFS / 20))
    quiet = np.flatnonzero(envelope <= threshold)
    index = int(quiet[-1]) if toward == "hi" else int(quiet[0])
    edge = lo + index * window + (window if toward == "hi" else 0)
    snapped = nearest_zero_crossing(audio, edge, window)
    return int(min(max(snapped, lo), hi))


def _word_frames(words: WordTimestamps, sample_rate: int) -> tuple[npt.NDArray[np.int64],
                                                                   npt.NDArray[np.int64]]:
    starts = np.round(np.asarray(words.start, dtype=np.float64) * sample_rate).astype(np.int64)
    ends = np.round(np.asarray(words.end, dtype=np.float64) * sample_rate).astype(np.int64)
    return starts, ends


def plan_infill(edited: Edited, start: int, end: int) -> InfillPlan:
    """Cut points and side clips for replacing frames ``[start, end)`` of ``edited``
    (``start == end`` inserts new words at that point).

    With word timestamps, the pause searched on the left runs from the end of the
    last word before ``start`` to ``start``; on the right from ``end`` to the start of
    the next word. Without, :data:`SEARCH_SECONDS` on each side.

    Raises:
        InfillError: the range is outside the audio, or it covers the whole take
            (infill needs audio on at least one side, seed ``infill_bytes``).
    """
    frames, rate = edited.frames, edited.sample_rate
    if not 0 <= start <= end <= frames:
        raise InfillError(f"The selection {start / rate:.2f}-{end / rate:.2f} s is outside "
                          f"the take ({frames / rate:.2f} s).")
    audio = edited.audio
    starts, ends = _word_frames(edited.words, rate)
    search = round(SEARCH_SECONDS * rate)
    # Words that end (start) within a snap's reach of the selection's edge are its
    # neighbours, not part of it: the selection's edges sit on zero crossings a few
    # milliseconds outside its words, where abutting words meet.
    reach = round(EDGE_SECONDS * rate)
    before = np.minimum(ends[ends <= start + reach], start)
    after = np.maximum(starts[starts >= end - reach], end)
    left_lo = int(before.max()) if before.size else (max(0, start - search) if starts.size == 0
                                                    else 0)
    right_hi = int(after.min()) if after.size else (min(frames, end + search) if starts.size == 0
                                                   else frames)
    # A pause longer than this is searched only near the selection (bounded work).
    left_lo, right_hi = max(left_lo, start - 4 * search), min(right_hi, end + 4 * search)
    cut_start = natural_cut(audio, rate, left_lo, start, "hi") if start > 0 else 0
    cut_end = natural_cut(audio, rate, end, right_hi, "lo") if end < frames else frames
    cut_end = max(cut_end, cut_start)
    if cut_start <= 0 and cut_end >= frames:
        raise InfillError("Infill needs some of the take on at least one side of the "
                          "selection, and this selection covers all of it. Select fewer "
                          "words, or generate a new take of the block instead.")
    context = round(CONTEXT_SECONDS * rate)
    inside = (np.minimum(ends, cut_end) - np.maximum(starts, cut_start)) > reach
    words = tuple(w for w, keep in zip(edited.words.words, inside, strict=True) if keep)
    hits = np.flatnonzero(inside)
    first_word = int(hits[0]) if hits.size else int(np.count_nonzero(ends <= cut_start + reach))
    return InfillPlan(
        start=cut_start, end=cut_end,
        left=np.ascontiguousarray(audio[max(0, cut_start - context):cut_start]),
        right=np.ascontiguousarray(audio[cut_end:cut_end + context]),
        sample_rate=rate, words=words, first_word=first_word)


def infill_key(backend: str, request: dict[str, object], left: bytes, right: bytes) -> str:
    """A hash of everything that decides an infill's audio: the backend, the request
    fields (transcript, voice, model, language, output format) and both clips. An
    identical infill reuses the candidate made before instead of paying again."""
    digest = hashlib.sha256()
    for part in (backend, repr(sorted(request.items())), hashlib.sha256(left).hexdigest(),
                 hashlib.sha256(right).hexdigest()):
        digest.update(part.encode())
        digest.update(b"\0")
    return "infill-v1:" + digest.hexdigest()
