"""Applying a take's edits (:mod:`studio.project.edits`): the edited audio and timestamps,
memoised per take state, and copying a range of it as a clip. Qt-free.

What each edit does to the audio and to the word and phoneme timestamps is specified in
:mod:`studio.project.edits`; this module does it.

Performance: the edited audio is held as pieces (views of the original plus new arrays
for the frames an edit computes) and joined once, so applying any list of edits costs
O(frames) numpy work plus O(pieces) per edit, and nothing runs per sample in Python.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from studio.audio.buffers import as_mono
from studio.project.edits import (
    GAIN_RAMP_SECONDS,
    MIN_MARK_SECONDS,
    Audio,
    Clip,
    Delete,
    Edit,
    Edited,
    EditError,
    Fade,
    Gain,
    InsertSilence,
    Splice,
    Trim,
    _whole,
    check_edit,
    crossfade_frames,
)
from studio.project.model import Take, TakeAudio, new_id
from studio.timestamps import PhonemeTimestamps, WordTimestamps

_Times: TypeAlias = npt.NDArray[np.float64]
_DECIMALS = 6  # timestamps are rounded to 1 µs


class _Tape:
    """The audio being edited as a list of pieces: views of the original and new arrays
    for the frames an edit computed. An edit costs work for the frames it changes and
    the number of pieces; the output is joined once."""

    __slots__ = ("frames", "pieces")

    def __init__(self, audio: Audio) -> None:
        self.pieces: list[Audio] = [audio] if audio.shape[0] else []
        self.frames = int(audio.shape[0])

    def slice(self, start: int, end: int) -> list[Audio]:
        """Views of the pieces covering ``[start, end)``."""
        out = []
        offset = 0
        for piece in self.pieces:
            if offset >= end:
                break
            lo, hi = max(start - offset, 0), min(end - offset, piece.shape[0])
            if lo < hi:
                out.append(piece[lo:hi])
            offset += piece.shape[0]
        return out

    def read(self, start: int, end: int) -> Audio:
        """A new array of frames ``[start, end)``."""
        parts = self.slice(start, end)
        return np.concatenate(parts) if parts else np.zeros(0, np.float32)

    def replace(self, start: int, end: int, new: Sequence[Audio]) -> None:
        head, tail = self.slice(0, start), self.slice(end, self.frames)
        self.pieces = [*head, *(p for p in new if p.shape[0]), *tail]
        self.frames += sum(int(p.shape[0]) for p in new) - (end - start)

    def render(self) -> Audio:
        if len(self.pieces) == 1:
            return self.pieces[0]
        return np.concatenate(self.pieces) if self.pieces else np.zeros(0, np.float32)


class _Marks:
    """Word or phoneme timestamps being moved by edits: labels, and start/end seconds."""

    __slots__ = ("end", "labels", "start")

    def __init__(self, labels: npt.NDArray[Any], start: _Times, end: _Times) -> None:
        self.labels, self.start, self.end = labels, start, end

    @classmethod
    def of(cls, labels: Sequence[str], start: Sequence[float], end: Sequence[float]) -> _Marks:
        if not len(labels) == len(start) == len(end):
            raise EditError(f"timestamps: {len(labels)} labels, {len(start)} starts and "
                            f"{len(end)} ends")
        names = np.empty(len(labels), dtype=object)
        names[:] = list(labels)
        return cls(names, np.asarray(start, np.float64).reshape(-1),
                   np.asarray(end, np.float64).reshape(-1))

    def _set(self, keep: npt.NDArray[np.bool_], start: _Times, end: _Times) -> None:
        self.labels = self.labels[keep]
        self.start = np.round(start[keep], _DECIMALS)
        self.end = np.round(end[keep], _DECIMALS)

    def remove(self, a: float, b: float) -> None:
        """Seconds ``[a, b)`` were removed: drop, clip and shift (:mod:`studio.project.edits`)."""
        ws, we = self.start, self.end
        hit = (ws < b) & ((we > a) | (ws >= a))

        def moved(t: _Times) -> _Times:
            return np.where(t <= a, t, np.where(t >= b, t - (b - a), a))

        start, end = moved(ws), moved(we)
        self._set(~hit | (end - start >= MIN_MARK_SECONDS - 1e-9), start, end)

    def keep(self, a: float, b: float) -> None:
        """Only seconds ``[a, b)`` are kept."""
        beyond = max(b, float(self.end.max(initial=0.0)), float(self.start.max(initial=0.0)))
        self.remove(b, beyond + 1.0)
        self.remove(0.0, a)

    def insert(self, at: float, seconds: float, inner: _Marks | None = None) -> None:
        """``seconds`` of audio were inserted at ``at``. Without ``inner`` (silence) a
        mark straddling ``at`` gets longer; with ``inner`` (a clip's marks, seconds
        from its start) the straddler keeps its longer side and ``inner`` goes between."""
        ws, we = self.start, self.end
        straddle = (ws < at) & (we > at)
        after = ws >= at
        if inner is None:
            start = np.where(after, ws + seconds, ws)
            end = np.where(after | straddle, we + seconds, we)
            self._set(np.ones(ws.shape, bool), start, end)
            return
        right = straddle & (we - at > at - ws)
        left = straddle & ~right
        start = np.where(right, at + seconds, np.where(after, ws + seconds, ws))
        end = np.where(left, at, np.where(after | right, we + seconds, we))
        before = (ws < at) & ~right
        inner_start = np.clip(inner.start, 0.0, seconds) + at
        inner_end = np.clip(inner.end, 0.0, seconds) + at
        self.labels = np.concatenate([self.labels[before], inner.labels, self.labels[~before]])
        self.start = np.round(np.concatenate([start[before], inner_start, start[~before]]),
                              _DECIMALS)
        self.end = np.round(np.concatenate([end[before], inner_end, end[~before]]), _DECIMALS)

    def clamp(self, duration: float) -> None:
        self.start = np.clip(self.start, 0.0, duration)
        self.end = np.clip(self.end, 0.0, duration)

    def labels_start_end(self) -> tuple[tuple[str, ...], tuple[float, ...], tuple[float, ...]]:
        return (tuple(self.labels.tolist()), tuple(self.start.tolist()),
                tuple(self.end.tolist()))


def _equal_power(h: int) -> tuple[Audio, Audio]:
    """``(fade_in, fade_out)`` of ``h`` frames, float32, ``fade_in² + fade_out² = 1``."""
    phase = (np.arange(h) + 0.5) * (np.pi / 2 / h)
    return np.sin(phase).astype(np.float32), np.cos(phase).astype(np.float32)


def _padded(audio: Audio, h: int, *, left: bool = False) -> Audio:
    """``audio`` padded with zeros to ``h`` frames (on the left if ``left``)."""
    missing = h - audio.shape[0]
    if missing <= 0:
        return audio
    pad = np.zeros(missing, np.float32)
    return np.concatenate([pad, audio] if left else [audio, pad])



def _delete(edit: Delete, tape: _Tape, marks: list[_Marks], rate: int) -> None:
    start, end = edit.start, edit.end
    check_edit(edit, tape.frames, rate)
    if start == end:
        return
    h = min(crossfade_frames(rate), tape.frames - end)
    if h > 0:
        fade_in, fade_out = _equal_power(h)
        # What played on from ``start`` (through ``end`` if the cut is shorter than the
        # fade), faded out under what now follows: no dip in level however short the cut.
        joined = tape.read(start, start + h) * fade_out + tape.read(end, end + h) * fade_in
        tape.replace(start, end + h, [joined])
    else:
        tape.replace(start, end, [])
    for m in marks:
        m.remove(start / rate, end / rate)


def _insert_silence(edit: InsertSilence, tape: _Tape, marks: list[_Marks], rate: int) -> None:
    check_edit(edit, tape.frames, rate)
    tape.replace(edit.at, edit.at, [np.zeros(edit.frames, np.float32)])
    for m in marks:
        m.insert(edit.at / rate, edit.frames / rate)


def _trim(edit: Trim, tape: _Tape, marks: list[_Marks], rate: int) -> None:
    check_edit(edit, tape.frames, rate)
    tape.pieces = tape.slice(edit.start, edit.end)
    tape.frames = edit.end - edit.start
    for m in marks:
        m.keep(edit.start / rate, edit.end / rate)


def _fade(edit: Fade, tape: _Tape, marks: list[_Marks], rate: int) -> None:
    check_edit(edit, tape.frames, rate)
    n = edit.end - edit.start
    ramp = np.arange(n, dtype=np.float64) / n
    if edit.direction == "out":
        ramp = ramp[::-1]
    tape.replace(edit.start, edit.end, [tape.read(edit.start, edit.end) * ramp.astype(np.float32)])


def _gain(edit: Gain, tape: _Tape, marks: list[_Marks], rate: int) -> None:
    check_edit(edit, tape.frames, rate)
    segment = tape.read(edit.start, edit.end)  # a new array: scaled in place
    gain = 10.0 ** (edit.db / 20.0)
    r = min(round(GAIN_RAMP_SECONDS * rate), segment.shape[0] // 2)
    ramp = (1.0 + (gain - 1.0) * np.arange(1, r + 1) / (r + 1)).astype(np.float32)
    left, right = segment[:r] * ramp, segment[segment.shape[0] - r:] * ramp[::-1]
    segment *= np.float32(gain)
    if r:
        segment[:r], segment[-r:] = left, right
    tape.replace(edit.start, edit.end, [segment])


def _splice(edit: Splice, tape: _Tape, marks: list[_Marks], rate: int) -> None:
    start, end, clip = edit.start, edit.end, edit.clip
    check_edit(edit, tape.frames, rate)
    data = np.asarray(clip.audio, dtype=np.float32)
    if data.shape != (clip.frames,) or clip.frames == 0:
        raise EditError(f"{edit.describe(rate)}: the clip's audio has shape {data.shape}, "
                        f"not ({clip.frames},) with frames > 0")
    c = clip.frames
    h = min(edit.crossfade, c // 2)
    if h > 0:
        fade_in, fade_out = _equal_power(h)
        # The take as it went on from ``start`` and as it led into ``end`` (past the
        # replaced span when it is shorter than the fade), so a short or empty span,
        # an insertion at a cursor, joins without a dip or a click.
        head = _padded(tape.read(start, min(start + h, tape.frames)), h)
        tail = _padded(tape.read(max(end - h, 0), end), h, left=True)
        region = [head * fade_out + data[:h] * fade_in, data[h:c - h],
                  data[c - h:] * fade_out + tail * fade_in]
    else:
        region = [data]
    tape.replace(start, end, region)
    words = _Marks.of(clip.words.words, clip.words.start, clip.words.end)
    phonemes = _Marks.of(clip.phonemes.phonemes, clip.phonemes.start, clip.phonemes.end)
    for m, inner in zip(marks, (words, phonemes), strict=True):
        m.remove(start / rate, end / rate)
        m.insert(start / rate, c / rate, inner)


_APPLY: dict[type, Callable[[Any, _Tape, list[_Marks], int], None]] = {
    Delete: _delete, InsertSilence: _insert_silence, Trim: _trim, Fade: _fade, Gain: _gain,
    Splice: _splice,
}


def apply_edits(
    audio: npt.NDArray[np.float32],
    sample_rate: int,
    words: WordTimestamps,
    phonemes: PhonemeTimestamps,
    edits: Sequence[Edit],
) -> Edited:
    """The audio and timestamps after ``edits``, applied in order as
    :mod:`studio.project.edits` specifies.

    Pure: ``audio`` is never modified. With no edits the result holds a read-only view
    of ``audio`` and the same ``words`` and ``phonemes`` objects.

    Args:
        audio: float32 mono, shape ``(frames,)`` (other float dtypes are converted).
        sample_rate: Hz; edit positions are frames at this rate.
        words: word timestamps in seconds from the audio's start.
        phonemes: phoneme timestamps in seconds.
        edits: edit values; positions in the coordinates left by the edits before them.

    Raises:
        EditError: an edit reaches past the audio it applies to, a Splice clip is at
            another sample rate or empty, or an item is not an edit.
        ValueError: ``audio`` is not one-dimensional or ``sample_rate`` is not positive.
    """
    data = as_mono(audio, "audio", sample_rate)
    if not edits:
        view = data.view()
        view.flags.writeable = False
        return Edited(view, sample_rate, words, phonemes)
    tape = _Tape(data)
    marks = [_Marks.of(words.words, words.start, words.end),
             _Marks.of(phonemes.phonemes, phonemes.start, phonemes.end)]
    for edit in edits:
        apply = _APPLY.get(type(edit))
        if apply is None:
            raise EditError(f"not an edit: {edit!r}")
        apply(edit, tape, marks, sample_rate)
    out = tape.render().view()
    out.flags.writeable = False
    for m in marks:
        m.clamp(out.shape[0] / sample_rate)
    return Edited(out, sample_rate, WordTimestamps(*marks[0].labels_start_end()),
                  PhonemeTimestamps(*marks[1].labels_start_end()))


class _EditedCache:
    """Recently edited states, least recently used first: at most ``entries`` and, past
    the newest, at most ``max_bytes`` of audio (an edited 3-hour take is 2 GB). An
    unedited take's result is a view of the take's samples and keeps them alive past the
    take cache (:mod:`studio.project.take_cache`), so it counts as well. 128 MB: the
    takes on screen and playing, within the studio's 600 MB over a book (issue 15)."""

    def __init__(self, entries: int = 32, max_bytes: int = 128 << 20) -> None:
        self.entries, self.max_bytes = entries, max_bytes
        self._items: OrderedDict[Hashable, tuple[Edited, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Edited | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: Hashable, value: Edited, size: int) -> None:
        with self._lock:
            self._items[key] = (value, size)
            self._items.move_to_end(key)
            while len(self._items) > 1 and (
                    len(self._items) > self.entries
                    or sum(s for _, s in self._items.values()) > self.max_bytes):
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_CACHE = _EditedCache()


def edited_frames(take: Take) -> int:
    """The take's length after its edits, in frames, from the edits alone (no audio is
    read or applied: for labels and lists). Equals ``edited(take).frames``."""
    frames = take.frames
    for edit in take.edits:
        if isinstance(edit, Delete):
            frames -= edit.end - edit.start
        elif isinstance(edit, InsertSilence):
            frames += edit.frames
        elif isinstance(edit, Trim):
            frames = edit.end - edit.start
        elif isinstance(edit, Splice):
            frames += edit.clip.frames - (edit.end - edit.start)
    return frames


def forget_edited() -> None:
    """Drop every memoised :func:`edited` result (a project closed: its takes' audio
    should not stay in memory)."""
    _CACHE.clear()


def edited(take: Take) -> Edited:
    """:func:`apply_edits` on ``take``'s audio, timestamps and ``edits``, memoised: the
    same take state (same audio object, timestamps and edits) gives the same
    :class:`Edited` object, so repeated playback, export and redraw cost nothing.

    Raises:
        EditError: as :func:`apply_edits`.
        studio.project.store.ProjectError: the take's audio cannot be read.
    """
    key = (take.source, take.word_timestamps, take.phoneme_timestamps, take.edits)
    result = _CACHE.get(key)
    if result is None:
        result = apply_edits(take.audio, take.sample_rate, take.word_timestamps,
                             take.phoneme_timestamps, take.edits)
        _CACHE.put(key, result, result.audio.nbytes)
    return result


# --- Copy -----------------------------------------------------------------------------


def clip_from(edited: Edited, start: int, end: int, take_id: str = "") -> Clip:
    """Copy frames ``[start, end)`` of ``edited`` as a paste :class:`Clip` (new id, the
    audio copied), with the words and phonemes inside it clipped and shifted to the
    clip's start, as a Trim would.

    Raises:
        EditError: the range is empty or outside ``edited``.
    """
    start, end = _whole("Copy", "start", start), _whole("Copy", "end", end)
    rate = edited.sample_rate
    if not 0 <= start < end <= edited.frames:
        raise EditError(f"Copy: {start / rate:.3f}–{end / rate:.3f} s is empty or outside "
                        f"the audio (0–{edited.duration:.3f} s)")
    audio = np.array(edited.audio[start:end], dtype=np.float32)
    words = _Marks.of(edited.words.words, edited.words.start, edited.words.end)
    phonemes = _Marks.of(edited.phonemes.phonemes, edited.phonemes.start, edited.phonemes.end)
    for m in (words, phonemes):
        m.keep(start / rate, end / rate)
        m.clamp((end - start) / rate)
    return Clip(id=new_id(), source=TakeAudio.of(audio, rate),
                words=WordTimestamps(*words.labels_start_end()),
                phonemes=PhonemeTimestamps(*phonemes.labels_start_end()),
                kind="paste", take_id=take_id, created_at=time.time())
