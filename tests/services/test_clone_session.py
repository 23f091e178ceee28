"""The recorder's clone session without Qt: checks of the latest clip only, trims checked
against their source's noise floor, consent for each recording, a clip cloned once."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import numpy as np
import pytest

from studio.api.models import Voice
from studio.audio.clip_checks import ClipReport
from studio.services import clone_session
from studio.services.clone_session import CheckResult, CloneSession, run_check

RATE = 16000


def report(floor: float = -70.0, speech: bool = True, problems: tuple[str, ...] = ()
           ) -> ClipReport:
    return ClipReport(duration=1.0, peak_dbfs=-6.0, clipped_fraction=0.0,
                      noise_floor_dbfs=floor, speech_dbfs=-20.0 if speech else -math.inf,
                      snr_db=50.0 if speech else 0.0, problems=problems, advice=())


class Cloner:
    """Stands in for ``VoiceLab.clone``: records each call, answers when released."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.release = asyncio.Event()
        self.error: Exception | None = None

    async def __call__(self, audio: Any, sample_rate: int, **fields: Any) -> Voice:
        self.calls.append({"frames": len(audio), "sample_rate": sample_rate, **fields})
        await self.release.wait()
        if self.error is not None:
            raise self.error
        return Voice(id=f"voice-{len(self.calls)}", name=fields["name"], description="",
                     language=fields["language"])


def clip(seconds: float = 1.0) -> np.ndarray:
    return np.zeros(int(RATE * seconds), np.float32)


def test_only_the_latest_clips_check_is_kept() -> None:
    session = CloneSession(Cloner(), 48000)
    first = session.use_clip(clip(), RATE)
    second = session.use_clip(clip(2.0), RATE)
    assert first.number != second.number and session.seconds == 2.0
    assert not session.apply_check(CheckResult(first.number, report()))
    assert session.report is None and not session.checks_ended
    assert session.apply_check(CheckResult(second.number, report()))
    assert session.report is not None and session.checks_ended


def test_a_trim_is_checked_against_its_sources_noise_floor() -> None:
    session = CloneSession(Cloner(), RATE)
    check = session.use_clip(clip(2.0), RATE)
    assert check.noise_floor_dbfs is None  # measured in the clip itself
    assert session.trimmed(0, RATE) is None  # not while the checks run
    session.apply_check(CheckResult(check.number, report(floor=-62.0)))
    piece = session.trimmed(0, RATE)
    assert piece is not None and piece.size == RATE
    trim = session.use_clip(piece, RATE, trimmed=True)
    assert trim.noise_floor_dbfs == -62.0
    # A trim's own floor never replaces the source's.
    session.apply_check(CheckResult(trim.number, report(floor=-30.0), floor_given=True))
    again = session.use_clip(piece[: RATE // 2], RATE, trimmed=True)
    assert again.noise_floor_dbfs == -62.0


def test_a_source_without_a_measured_floor_takes_the_first_trims() -> None:
    session = CloneSession(Cloner(), RATE)
    check = session.use_clip(clip(), RATE)
    session.apply_check(CheckResult(check.number, report(floor=math.nan)))
    trim = session.use_clip(clip(0.5), RATE, trimmed=True)
    assert trim.noise_floor_dbfs is None
    session.apply_check(CheckResult(trim.number, report(floor=-55.0)))
    assert session.use_clip(clip(0.4), RATE, trimmed=True).noise_floor_dbfs == -55.0


def test_consent_is_for_one_recording() -> None:
    session = CloneSession(Cloner(), RATE)
    session.use_clip(clip(), RATE)
    session.consent = True
    session.use_clip(clip(0.5), RATE, trimmed=True)
    assert session.consent  # same speaker, same recording
    session.use_clip(clip(), RATE)
    assert not session.consent
    session.consent = True
    session.forget()
    assert not session.consent and session.audio is None and not session.has_clip


def test_what_is_missing_before_clone_in_order() -> None:
    session = CloneSession(Cloner(), RATE)
    assert session.missing("", connected=False) == [
        "record or import a clip", "name the voice", "confirm consent", "connect to a backend"]
    check = session.use_clip(clip(), RATE)
    assert session.missing("Voice", connected=True) == ["wait for the checks", "confirm consent"]
    session.apply_check(CheckResult(check.number, None, "broken"))
    assert session.check_failed
    assert session.missing("Voice", connected=True)[0] == "use a clip that can be checked"
    check = session.use_clip(clip(), RATE)
    session.apply_check(CheckResult(check.number, report(speech=False)))
    assert session.speechless
    assert session.missing("Voice", connected=True)[0].startswith("use a clip with speech")
    assert session.refusal() == "There is no speech in this clip to clone."
    check = session.use_clip(clip(), RATE)
    session.apply_check(CheckResult(check.number, report()))
    session.consent = True
    assert session.missing("Voice", connected=True) == [] and session.refusal() == ""


async def test_a_clip_is_cloned_once_and_consent_asked_again() -> None:
    cloner = Cloner()
    session = CloneSession(cloner, RATE)
    check = session.use_clip(clip(), RATE)
    session.apply_check(CheckResult(check.number, report()))
    session.consent = True
    cloning = session.clone(" Harbour ", "warm", "de")
    assert session.cloning  # at once, so a second click finds it
    with pytest.raises(ValueError):
        session.clone("Harbour")
    cloner.release.set()
    voice = await cloning
    assert voice.name == "Harbour" and not session.cloning and not session.consent
    assert cloner.calls == [{"frames": RATE, "sample_rate": RATE, "name": "Harbour",
                             "description": "warm", "language": "de"}]
    assert session.cloned_as == "Harbour"
    assert session.refusal() == "You already cloned this clip as Harbour."
    session.consent = True
    with pytest.raises(ValueError, match="already cloned"):
        session.clone("Harbour")
    # A trim is another clip to clone.
    session.use_clip(clip(0.5), RATE, trimmed=True)
    assert session.cloned_as == ""


async def test_a_failed_clone_can_be_tried_again() -> None:
    cloner = Cloner()
    cloner.error = OSError("connection reset")
    cloner.release.set()
    session = CloneSession(cloner, RATE)
    check = session.use_clip(clip(), RATE)
    session.apply_check(CheckResult(check.number, report()))
    session.consent = True
    with pytest.raises(OSError):
        await session.clone("Harbour")
    assert not session.cloning and session.consent and session.cloned_as == ""
    cloner.error = None
    assert (await session.clone("Harbour")).name == "Harbour"


def test_nothing_is_sent_without_consent_or_checks() -> None:
    session = CloneSession(Cloner(), RATE)
    session.use_clip(clip(), RATE)
    session.consent = True
    with pytest.raises(ValueError, match="once it is checked"):
        session.clone("Harbour")
    session.consent = False
    with pytest.raises(ValueError):
        session.clone("Harbour")
    assert not session.cloning


async def test_run_check_measures_in_a_worker_and_keeps_failures(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    session = CloneSession(Cloner(), RATE)
    rng = np.random.default_rng(5)
    audio = (0.001 * rng.standard_normal(RATE * 2)).astype(np.float32)
    result = await run_check(session.use_clip(audio, RATE))
    assert result.report is not None and abs(result.report.duration - 2.0) < 1e-6
    assert not result.floor_given

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise ValueError("the analysis broke")

    monkeypatch.setattr(clone_session, "check_clip", broken)
    result = await run_check(session.use_clip(audio, RATE))
    assert result.report is None and result.failure == "the analysis broke"
    assert session.apply_check(result) and session.check_failed
