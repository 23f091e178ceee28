"""Non-destructive edits of a take: delete, insert silence, trim, fade, gain, splice. Qt-free.

A take's samples are never changed. ``Take.edits`` holds a tuple of the immutable edit
values defined here; :func:`apply_edits` applies them in order to give the audio that
plays and exports, with the word and phoneme timestamps moved to match. Undo and redo
swap a take's whole ``edits`` tuple, so applying a prefix of the list gives the earlier
state.

Positions are frames (ints) at the take's sample rate, in the coordinates of the audio
as it is after all preceding edits. Timestamps are seconds from the edited audio's start.

Audio (``x`` is the audio before the edit, ``n`` its frames; crossfades are equal-power:
``fade_in[k] = sin(π/2 · (k + ½) / h)``, ``fade_out[k] = cos(…)``, ``k < h``):

``Delete(start, end)``
    The result is ``x[:start] + x[end:]`` in length. The join is smoothed over the
    ``h = min(crossfade_frames(rate), n - end)`` frames after the cut, which become
    ``removed[:h] * fade_out + x[end:end + h] * fade_in``: the removed audio
    ``x[start:end]`` fades out under what follows (zeros past its end). All other
    frames are bit-for-bit ``x``. An empty range changes nothing.
``InsertSilence(at, frames)``
    ``x[:at] + zeros(frames) + x[at:]``, no crossfade.
``Trim(start, end)``
    Keeps ``x[start:end]``, no crossfade.
``Fade(start, end, direction)``
    A ramp linear in amplitude over ``[start, end)`` (``L`` frames): "in" scales frame
    ``k`` of the range by ``k / L`` (starts at silence), "out" by ``(L - 1 - k) / L``
    (ends on silence). Frames outside the range are unchanged.
``Gain(start, end, db)``
    Scales the range by ``10 ** (db / 20)``; the first and last ``min(5 ms, L // 2)``
    frames of the range ramp linearly from unity and back, so the edges do not click.
    No limiting: samples may pass ±1.0.
``Splice(start, end, clip, crossfade)``
    Replaces ``x[start:end]`` by the clip (``start == end`` inserts). The crossfade keeps
    the length: the result has exactly ``n - (end - start) + clip.frames`` frames, and
    only the clip's region ``[start, start + clip.frames)`` differs from ``x[:start] +
    clip + x[end:]``. With ``h = min(crossfade, clip.frames // 2)`` and ``removed =
    x[start:end]``, the region's first ``h`` frames are ``removed[:h] * fade_out +
    clip[:h] * fade_in`` and its last ``h`` are ``clip[-h:] * fade_out + removed[-h:] *
    fade_in``, the removed audio padded with zeros (after it on the left, before it on
    the right) where it is shorter than ``h``. The clip must be at the take's rate.

Timestamps (words and phonemes alike; "mark" below):

* Delete and Trim drop marks entirely inside the removed audio, clip marks that
  straddle an edge of it (dropping those left with under 1 ms) and shift later ones.
* InsertSilence shifts marks that start at or after ``at``; a mark straddling ``at``
  gets longer.
* Splice is a Delete, then the clip's marks inserted at ``start``. A mark that still
  straddles ``start`` after the Delete is cut there and keeps the longer of its two
  sides (its end before the clip, or its start after it), so marks never overlap the
  clip's own.
* Fade and Gain leave them.

Results are rounded to 1 µs and kept within ``[0, duration]``; the order of the marks
is kept, so monotonic timestamps stay monotonic and non-overlapping ones stay so.

Performance: the edited audio is held as pieces (views of the original plus new arrays
for the frames an edit computes) and joined once, so applying any list of edits costs
O(frames) numpy work plus O(pieces) per edit, and nothing runs per sample in Python.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from studio.api.models import PhonemeTimestamps, WordTimestamps
from studio.project.model import Take, TakeAudio, new_id

Audio: TypeAlias = npt.NDArray[np.float32]
_Times: TypeAlias = npt.NDArray[np.float64]

#: The default crossfade of a splice and the join of a delete.
CROSSFADE_SECONDS = 0.010
#: The ramps at the edges of a gain range.
GAIN_RAMP_SECONDS = 0.005
MIN_GAIN_DB = -60.0
MAX_GAIN_DB = 24.0
#: A word or phoneme clipped by an edit to less than this is dropped.
MIN_MARK_SECONDS = 0.001
_DECIMALS = 6  # timestamps are rounded to 1 µs


class EditError(ValueError):
    """An edit that does not fit the audio it applies to (the message says why, in
    seconds), an edit with impossible values, or malformed edit data."""


def crossfade_frames(sample_rate: int) -> int:
    """The default crossfade of a splice, 10 ms, in frames at ``sample_rate`` Hz."""
    return round(CROSSFADE_SECONDS * sample_rate)


def _seconds(frames: int, sample_rate: int) -> str:
    return f"{frames / sample_rate:.2f} s"


def _quote(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return f"“{text if len(text) <= limit else text[:limit - 1] + '…'}”"


@dataclass(frozen=True, slots=True, eq=False)
class Clip:
    """Audio that an edit inserts: an infill candidate or pasted audio.

    Hashed and compared by identity (it holds a dict), so a :class:`Splice` holding it
    is hashable.

    Attributes:
        id: unique id (uuid4 string); a Splice stores only this in JSON.
        source: float32 mono samples, shape ``(frames,)``, at ``source.sample_rate`` Hz
            (may be read from the project file on first use, see :class:`TakeAudio`).
        words: word timestamps in seconds from the clip's start.
        phonemes: phoneme timestamps in seconds from the clip's start.
        kind: ``"paste"`` or ``"infill"``.
        take_id: the take it was made for ("" if none).
        transcript: for an infill, the replacement text.
        request: for an infill, the request fields sent (no audio).
        backend: ``"offline"`` or ``"cloud"`` ("" for a paste).
        credits: credits charged for it.
        created_at: Unix time in seconds.

    Raises:
        ValueError: ``kind`` is not "paste" or "infill".
    """

    id: str
    source: TakeAudio
    words: WordTimestamps = field(default_factory=WordTimestamps)
    phonemes: PhonemeTimestamps = field(default_factory=PhonemeTimestamps)
    kind: str = "paste"
    take_id: str = ""
    transcript: str = ""
    request: dict[str, Any] = field(default_factory=dict)
    backend: str = ""
    credits: int = 0
    created_at: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in ("paste", "infill"):
            raise ValueError(f"a clip is a 'paste' or an 'infill', not {self.kind!r}")

    @property
    def audio(self) -> Audio:
        """float32 mono samples, shape ``(frames,)``; may read the project file."""
        return self.source.array

    @property
    def frames(self) -> int:
        return self.source.frames

    @property
    def sample_rate(self) -> int:
        """Hz."""
        return self.source.sample_rate

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.frames / self.sample_rate if self.sample_rate else 0.0


# --- Edit values ----------------------------------------------------------------------


def _whole(op: str, name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise EditError(f"{op}: {name} must be a whole number of frames, not {value!r}")
    return int(value)


def _set_range(edit: Any, op: str, *, empty_ok: bool) -> None:
    """Check and normalise ``edit.start``/``edit.end`` (numpy ints become ints)."""
    start, end = _whole(op, "start", edit.start), _whole(op, "end", edit.end)
    if start < 0:
        raise EditError(f"{op}: start is before the audio ({start} frames)")
    if end < start or (end == start and not empty_ok):
        raise EditError(f"{op}: the range {start}–{end} frames is empty")
    object.__setattr__(edit, "start", start)
    object.__setattr__(edit, "end", end)


@dataclass(frozen=True, slots=True)
class Delete:
    """Remove frames ``[start, end)``; the join is crossfaded over the 10 ms after it.

    Raises:
        EditError: on construction, if ``start < 0``, ``end < start`` or either is not
            an int.
    """

    start: int
    end: int

    def __post_init__(self) -> None:
        _set_range(self, "Delete", empty_ok=True)

    @property
    def label(self) -> str:
        return "Delete"

    def describe(self, sample_rate: int) -> str:
        """The undo menu's text, e.g. "Delete 0.42 s"; ``sample_rate`` in Hz."""
        return f"Delete {_seconds(self.end - self.start, sample_rate)}"


@dataclass(frozen=True, slots=True)
class InsertSilence:
    """Insert ``frames`` frames of silence before frame ``at``.

    Raises:
        EditError: on construction, if ``at < 0`` or ``frames <= 0``.
    """

    at: int
    frames: int

    def __post_init__(self) -> None:
        at = _whole("Insert silence", "at", self.at)
        frames = _whole("Insert silence", "frames", self.frames)
        if at < 0:
            raise EditError(f"Insert silence: at is before the audio ({at} frames)")
        if frames <= 0:
            raise EditError(f"Insert silence: {frames} frames is no silence")
        object.__setattr__(self, "at", at)
        object.__setattr__(self, "frames", frames)

    @property
    def label(self) -> str:
        return "Insert silence"

    def describe(self, sample_rate: int) -> str:
        """E.g. "Insert 0.50 s of silence"; ``sample_rate`` in Hz."""
        return f"Insert {_seconds(self.frames, sample_rate)} of silence"


@dataclass(frozen=True, slots=True)
class Trim:
    """Keep only frames ``[start, end)``.

    Raises:
        EditError: on construction, if the range is empty or starts before 0.
    """

    start: int
    end: int

    def __post_init__(self) -> None:
        _set_range(self, "Trim", empty_ok=False)

    @property
    def label(self) -> str:
        return "Trim"

    def describe(self, sample_rate: int) -> str:
        """E.g. "Trim to 3.20 s"; ``sample_rate`` in Hz."""
        return f"Trim to {_seconds(self.end - self.start, sample_rate)}"


@dataclass(frozen=True, slots=True)
class Fade:
    """A linear fade over frames ``[start, end)``; ``direction`` is "in" or "out".

    Raises:
        EditError: on construction, for an empty range or another direction.
    """

    start: int
    end: int
    direction: str

    def __post_init__(self) -> None:
        _set_range(self, "Fade", empty_ok=False)
        if self.direction not in ("in", "out"):
            raise EditError(f"Fade: direction is 'in' or 'out', not {self.direction!r}")

    @property
    def label(self) -> str:
        return f"Fade {self.direction}"

    def describe(self, sample_rate: int) -> str:
        """E.g. "Fade out 0.50 s"; ``sample_rate`` in Hz."""
        return f"Fade {self.direction} {_seconds(self.end - self.start, sample_rate)}"


@dataclass(frozen=True, slots=True)
class Gain:
    """Constant gain of ``db`` dB over frames ``[start, end)``, with 5 ms edge ramps.

    Raises:
        EditError: on construction, for an empty range or ``db`` outside [-60, +24].
    """

    start: int
    end: int
    db: float

    def __post_init__(self) -> None:
        _set_range(self, "Gain", empty_ok=False)
        db = self.db
        if isinstance(db, bool) or not isinstance(db, int | float | np.integer | np.floating):
            raise EditError(f"Gain: db must be a number, not {db!r}")
        if not MIN_GAIN_DB <= float(db) <= MAX_GAIN_DB:
            raise EditError(f"Gain: {db} dB is outside [{MIN_GAIN_DB:g}, +{MAX_GAIN_DB:g}] dB")
        object.__setattr__(self, "db", float(db))

    @property
    def label(self) -> str:
        return f"Gain {self.db:+.1f} dB"

    def describe(self, sample_rate: int) -> str:
        """E.g. "Gain +3.0 dB" (``sample_rate`` unused; there for symmetry)."""
        return self.label


@dataclass(frozen=True, slots=True)
class Splice:
    """Replace frames ``[start, end)`` with ``clip`` (``start == end`` inserts), with
    equal-power crossfades of ``crossfade`` frames inside the clip's region.

    Raises:
        EditError: on construction, for a bad range, a negative crossfade or a
            ``clip`` that is not a :class:`Clip`.
    """

    start: int
    end: int
    clip: Clip
    crossfade: int

    def __post_init__(self) -> None:
        _set_range(self, "Splice", empty_ok=True)
        crossfade = _whole("Splice", "crossfade", self.crossfade)
        if crossfade < 0:
            raise EditError(f"Splice: negative crossfade ({crossfade} frames)")
        if not isinstance(self.clip, Clip):
            raise EditError(f"Splice: {self.clip!r} is not a Clip")
        object.__setattr__(self, "crossfade", crossfade)

    @property
    def label(self) -> str:
        if self.clip.kind == "infill":
            verb = "Replace with" if self.end > self.start else "Insert"
            return f"{verb} infill {_quote(self.clip.transcript)}"
        return f"Paste {self.clip.duration:.2f} s"

    def describe(self, sample_rate: int) -> str:
        """Same as :attr:`label` (the clip knows its length)."""
        return self.label


Edit: TypeAlias = Delete | InsertSilence | Trim | Fade | Gain | Splice


# --- Applying edits -------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Edited:
    """A take's audio after its edits.

    Attributes:
        audio: float32 mono, shape ``(frames,)``, read-only (``flags.writeable`` False).
        sample_rate: Hz.
        words: word timestamps in seconds from the edited audio's start.
        phonemes: phoneme timestamps in seconds.
    """

    audio: Audio
    sample_rate: int
    words: WordTimestamps
    phonemes: PhonemeTimestamps

    @property
    def frames(self) -> int:
        return int(self.audio.shape[0])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.frames / self.sample_rate


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
        """Seconds ``[a, b)`` were removed: drop, clip and shift (module docstring)."""
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


def check_edit(edit: Edit, frames: int, sample_rate: int) -> None:
    """Check that ``edit`` applies to ``frames`` of audio at ``sample_rate`` Hz, without
    applying it (an editor checks a new edit against the length it shows, and applies
    the list off the UI thread).

    Raises:
        EditError: the edit reaches past the audio, or a Splice clip is at another
            sample rate or empty; the message says so in seconds.
    """
    rate = sample_rate
    if isinstance(edit, InsertSilence):
        if edit.at > frames:
            raise EditError(f"{edit.describe(rate)}: {edit.at / rate:.3f} s is past the end of "
                            f"the audio ({frames / rate:.3f} s)")
        return
    if edit.end > frames:
        raise EditError(
            f"{edit.describe(rate)}: {edit.start / rate:.3f}–{edit.end / rate:.3f} s goes "
            f"past the end of the audio ({frames / rate:.3f} s)")
    if isinstance(edit, Splice):
        clip = edit.clip
        if clip.sample_rate != rate:
            raise EditError(f"{edit.describe(rate)}: the clip is at {clip.sample_rate} Hz and "
                            f"the take at {rate} Hz; resample the clip first")
        if clip.frames == 0:
            raise EditError(f"{edit.describe(rate)}: the clip is empty")


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
    """The audio and timestamps after ``edits``, applied in order (module docstring).

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
    data = np.asarray(audio, dtype=np.float32)
    if data.ndim != 1:
        raise ValueError(f"audio must be mono, shape (frames,), not {data.shape}")
    if sample_rate <= 0:
        raise ValueError(f"sample rate must be positive, not {sample_rate}")
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
    the newest, at most ``max_bytes`` of edited audio (an edited 3-hour take is 2 GB)."""

    def __init__(self, entries: int = 32, max_bytes: int = 512 << 20) -> None:
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
        _CACHE.put(key, result, result.audio.nbytes if take.edits else 0)
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


# --- JSON -----------------------------------------------------------------------------

#: JSON op name -> (class, fields in order).
_JSON: dict[str, tuple[Callable[..., Edit], tuple[str, ...]]] = {
    "delete": (Delete, ("start", "end")),
    "insert_silence": (InsertSilence, ("at", "frames")),
    "trim": (Trim, ("start", "end")),
    "fade": (Fade, ("start", "end", "direction")),
    "gain": (Gain, ("start", "end", "db")),
    "splice": (Splice, ("start", "end", "clip", "crossfade")),
}
_OP_NAMES: dict[Any, str] = {cls: name for name, (cls, _) in _JSON.items()}


def edits_to_json(edits: Sequence[Edit]) -> list[dict[str, Any]]:
    """One JSON object per edit, e.g. ``{"op": "delete", "start": 10, "end": 20}``
    (frames); a Splice stores its clip's id only (``"clip": id``).

    Raises:
        EditError: an item is not an edit.
    """
    out = []
    for edit in edits:
        name = _OP_NAMES.get(type(edit))
        if name is None:
            raise EditError(f"not an edit: {edit!r}")
        item: dict[str, Any] = {"op": name}
        for key in _JSON[name][1]:
            value = getattr(edit, key)
            item[key] = value.id if isinstance(value, Clip) else value
        out.append(item)
    return out


def edits_from_json(data: Any, clips: Mapping[str, Clip]) -> tuple[Edit, ...]:
    """The edits :func:`edits_to_json` wrote, with each Splice's clip looked up by id.

    Raises:
        EditError: ``data`` is not a list of edit objects with exactly their fields
            and valid values, or a Splice names a clip not in ``clips``.
    """
    if not isinstance(data, list):
        raise EditError(f"edits: expected a list, not {type(data).__name__}")
    out = []
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise EditError(f"edit {i}: expected an object, not {type(item).__name__}")
        op = item.get("op")
        spec = _JSON.get(op) if isinstance(op, str) else None
        if spec is None:
            raise EditError(f"edit {i}: unknown op {op!r}")
        make, names = spec
        if set(item) != {"op", *names}:
            raise EditError(f"edit {i} ({op}): fields {sorted(item)}, expected "
                            f"{sorted(['op', *names])}")
        values = {name: item[name] for name in names}
        if "clip" in values:
            clip_id = values["clip"]
            if not isinstance(clip_id, str) or clip_id not in clips:
                raise EditError(f"edit {i} ({op}): unknown clip {clip_id!r}")
            values["clip"] = clips[clip_id]
        try:
            out.append(make(**values))
        except EditError as exc:
            raise EditError(f"edit {i}: {exc}") from None
    return tuple(out)
