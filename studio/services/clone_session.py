"""The clip the recorder would clone, and the rules for cloning it (issue #5), without Qt.

One session holds one clip at a time (recorded, imported, trimmed, or loaded again from
the project) and decides what may happen to it:

- every clip is checked before upload (:func:`studio.audio.clip_checks.check_clip`);
  a check is a :class:`ClipCheck` request that :meth:`CloneSession.use_clip` builds and
  :func:`run_check` runs in a worker, and only the latest clip's result is kept;
- a trimmed clip is checked against the noise floor of the recording it was cut from (a
  trim usually cuts away the silence the floor is measured in);
- consent is for one recording: a new clip needs it again, a trim of it keeps it;
- a clip is cloned once (a second click would pay for a second, identical voice), and
  one without speech not at all.

The recorder dialog renders this state and passes on the user's requests.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from studio.api.models import Voice
from studio.audio.clip_checks import ClipReport, check_clip
from studio.services.threads import in_thread

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]
#: ``clone(audio, sample_rate, name=, description=, language=)`` makes the voice
#: (:meth:`studio.services.voice_lab.VoiceLab.clone`).
CloneVoice = Callable[..., Awaitable[Voice]]


@dataclass(frozen=True, slots=True)
class ClipCheck:
    """A request to check one clip, built by :meth:`CloneSession.use_clip`.

    Attributes:
        number: which clip of the session it is for (a later clip makes it stale).
        audio: float32 mono, shape ``(frames,)``.
        sample_rate: in Hz.
        noise_floor_dbfs: the floor to check against (a trim's source), or None to
            measure it in ``audio``.
    """

    number: int
    audio: FloatArray
    sample_rate: int
    noise_floor_dbfs: float | None


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What :func:`run_check` found: a report, or why there is none.

    Attributes:
        floor_given: the check ran against a source's noise floor (a trim's), so the
            floor it measured is not the source's.
    """

    number: int
    report: ClipReport | None
    failure: str = ""
    floor_given: bool = False


async def run_check(check: ClipCheck) -> CheckResult:
    """Check ``check``'s clip in a worker thread. Any failure is kept in the result's
    ``failure`` (never raised): an unchecked clip is never cloned, so the user must see
    why."""
    floor_given = check.noise_floor_dbfs is not None
    try:
        report = await in_thread(functools.partial(
            check_clip, check.audio, check.sample_rate,
            noise_floor_dbfs=check.noise_floor_dbfs))
    except Exception as exc:
        log.warning("clip checks failed", exc_info=exc)
        return CheckResult(check.number, None, str(exc) or type(exc).__name__, floor_given)
    return CheckResult(check.number, report, floor_given=floor_given)


class CloneSession:
    """The recorder's clip, its checks, consent, and whether it was cloned.

    Args:
        clone: makes a voice from a clip (:data:`CloneVoice`).

    Attributes:
        audio: the clip (float32 mono, shape ``(frames,)``), or None.
        sample_rate: its rate in Hz.
        report: the checks of the clip, once made (None while they run or if they
            failed).
        check_failed: the checks of the current clip raised.
        loaded_id: the project recording the clip was loaded from, or "".
        consent: the user confirmed the speaker's consent for this recording.
        cloning: a clone request is under way.
    """

    def __init__(self, clone: CloneVoice, sample_rate: int) -> None:
        self._clone = clone
        self.audio: FloatArray | None = None
        self.sample_rate = sample_rate
        self.report: ClipReport | None = None
        self.check_failed = False
        self.loaded_id = ""
        self.consent = False
        self.cloning = False
        self._number = 0  # the clip the latest check is for
        #: The noise floor (dBFS) measured on the untrimmed clip the current one was cut
        #: from (or, when none could be measured there, on the first trim that had one);
        #: None until measured. Trims are checked against it.
        self._source_floor: float | None = None
        #: The voice made from the current clip (its number and name).
        self._cloned: tuple[int, str] | None = None

    # --- the clip --------------------------------------------------------------------

    @property
    def has_clip(self) -> bool:
        return self.audio is not None and self.audio.size > 0

    @property
    def seconds(self) -> float:
        """The clip's length in seconds (0 without one)."""
        return 0.0 if self.audio is None else self.audio.size / self.sample_rate

    def forget(self) -> None:
        """No clip any more (a recording started); checks still running are stale, and
        consent is asked again."""
        self.audio = None
        self.report = None
        self.check_failed = False
        self._number += 1
        self._source_floor = None
        self._cloned = None
        self.loaded_id = ""
        self.consent = False

    def use_clip(self, audio: npt.ArrayLike, sample_rate: int, *, trimmed: bool = False,
                 loaded_id: str = "") -> ClipCheck:
        """Make ``audio`` (mono, at ``sample_rate`` Hz) the clip; returns the check to
        run (:func:`run_check`). A ``trimmed`` clip is checked with the noise floor of
        the clip it was cut from; any other is a new source, which needs consent again."""
        self.audio = np.ascontiguousarray(audio, dtype=np.float32)
        self.sample_rate = int(sample_rate)
        self.report = None
        self.check_failed = False
        self._number += 1
        self._cloned = None
        if not trimmed:
            self._source_floor = None
            self.consent = False
        self.loaded_id = loaded_id
        return ClipCheck(self._number, self.audio, self.sample_rate,
                         self._source_floor if trimmed else None)

    def trimmed(self, start: int, end: int) -> FloatArray | None:
        """A copy of frames ``[start, end)`` of the clip, or None when there is nothing
        to trim (no clip, an empty span, or checks still running)."""
        if self.audio is None or end - start <= 0 or not self.checks_ended:
            return None
        return self.audio[start:end].copy()

    def apply_check(self, result: CheckResult) -> bool:
        """Keep ``result`` if it is for the current clip; returns whether it was."""
        if result.number != self._number:
            return False
        if result.report is None:
            self.check_failed = True
            return True
        self.report = result.report
        if not result.floor_given and not math.isnan(result.report.noise_floor_dbfs):
            self._source_floor = result.report.noise_floor_dbfs  # NaN: not measured
        return True

    @property
    def checks_ended(self) -> bool:
        """The checks of the current clip have a report, or failed."""
        return self.report is not None or self.check_failed

    @property
    def speechless(self) -> bool:
        """The checks found nothing a clone could learn a voice from."""
        return self.report is not None and not self.report.has_speech

    @property
    def cloned_as(self) -> str:
        """The name of the voice already made from this clip, or ""."""
        if self._cloned is not None and self._cloned[0] == self._number:
            return self._cloned[1]
        return ""

    # --- cloning ---------------------------------------------------------------------

    def refusal(self) -> str:
        """Why :meth:`clone` would refuse the current clip now ("" if it would not):
        checks not done, no speech, or cloned already."""
        if self.report is None:
            return "The clip can only be cloned once it is checked."
        if not self.report.has_speech:
            return "There is no speech in this clip to clone."
        if self.cloned_as:
            return f"You already cloned this clip as {self.cloned_as}."
        return ""

    def missing(self, name: str, connected: bool) -> list[str]:
        """What the user still has to do before Clone, in the order to do it (empty
        when cloning may start)."""
        reasons = []
        if not self.has_clip:
            reasons.append("record or import a clip")
        elif self.check_failed:
            reasons.append("use a clip that can be checked")
        elif self.report is None:
            reasons.append("wait for the checks")
        elif self.speechless:
            reasons.append("use a clip with speech in it (this one "
                           + ("is silent" if self.report.silent else "has no speech") + ")")
        if not name.strip():
            reasons.append("name the voice")
        if not self.consent:
            reasons.append("confirm consent")
        if not connected:
            reasons.append("connect to a backend")
        return reasons

    def clone(self, name: str, description: str = "", language: str = "en"
              ) -> Coroutine[Any, Any, Voice]:
        """Start cloning the current clip as ``name``: :attr:`cloning` is set at once
        (so a second click finds it), and the returned coroutine makes the voice. Once
        it has, this clip is not cloned again and consent is asked again.

        Raises:
            ValueError: no clip, no name, no consent, a clone under way, or
                :meth:`refusal`; raised here, before anything is sent.
            Whatever ``clone`` raises (:class:`~studio.api.CartesiaError`,
            :class:`~studio.services.voice_lab.VoiceLabError`, ``OSError``), from the
            coroutine.
        """
        if self.audio is None or not self.consent or self.cloning or not name.strip():
            raise ValueError("Nothing to clone: a clip, a name and consent are needed")
        if refusal := self.refusal():
            raise ValueError(refusal)
        self.cloning = True
        return self._cloned_voice(self._number, self.audio, self.sample_rate, name.strip(),
                                  description, language)

    async def _cloned_voice(self, number: int, audio: FloatArray, sample_rate: int,
                            name: str, description: str, language: str) -> Voice:
        try:
            voice = await self._clone(audio, sample_rate, name=name,
                                      description=description, language=language)
        finally:
            self.cloning = False
        self._cloned = (number, voice.name)
        self.consent = False
        return voice
