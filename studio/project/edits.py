"""Non-destructive edits of a take: delete, insert silence, trim, fade, gain, splice. Qt-free.

A take's samples are never changed. ``Take.edits`` holds a tuple of the immutable edit
values defined here; :func:`studio.project.edited_audio.apply_edits` applies them in
order to give the audio that plays and exports (an :class:`Edited`), with the word and
phoneme timestamps moved to match. Undo and redo swap a take's whole ``edits`` tuple, so
applying a prefix of the list gives the earlier state.

This module holds the values and what they mean: :class:`Clip` (audio a splice
inserts), the edits, :class:`Edited`, :class:`EditError`, :func:`check_edit`, the undo
menu's labels and the JSON a project stores. Applying them, memoised, and copying from
the result are :mod:`studio.project.edited_audio` (:func:`apply_edits`, :func:`edited`,
:func:`edited_frames`, :func:`forget_edited`, :func:`clip_from`), which imports this
module and is never imported by it.

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
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from studio.project.model import TakeAudio
from studio.timestamps import PhonemeTimestamps, WordTimestamps

__all__ = [
    "CROSSFADE_SECONDS", "GAIN_RAMP_SECONDS", "MAX_GAIN_DB", "MIN_GAIN_DB", "MIN_MARK_SECONDS",
    "Audio", "Clip", "Delete", "Edit", "EditError", "Edited", "Fade", "Gain", "InsertSilence",
    "Splice", "Trim", "check_edit", "crossfade_frames", "edits_from_json", "edits_to_json",
]

Audio: TypeAlias = npt.NDArray[np.float32]

#: The default crossfade of a splice and the join of a delete.
CROSSFADE_SECONDS = 0.010
#: The ramps at the edges of a gain range.
GAIN_RAMP_SECONDS = 0.005
MIN_GAIN_DB = -60.0
MAX_GAIN_DB = 24.0
#: A word or phoneme clipped by an edit to less than this is dropped.
MIN_MARK_SECONDS = 0.001


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


# --- The result of applying edits -----------------------------------------------------


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

