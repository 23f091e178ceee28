"""Generate all as a user sees it: the estimate first, then "Generating 3/5 · ETA …"
with Pause/Resume and Stop in the status bar. Requests are counted on the engine."""

from __future__ import annotations

import asyncio

from PySide6.QtWidgets import QMessageBox

from studio.config import Settings
from studio.services.backend import CLOUD, Backend
from studio.services.generation import CHARACTERS_PER_SECOND, Estimate
from studio.ui.window.batch_confirm import LARGE_FREE_BATCH, batch_question, needs_question
from studio.ui.window.generation_progress import ActiveClock, eta_seconds, format_eta

WS = "/tts/websocket"


class _PaidBackend(Backend):
    """The offline engine billed as Cartesia's cloud, so the paid paths run end to end."""

    def __init__(self, _kind: str, client) -> None:  # type: ignore[no-untyped-def]
        super().__init__(CLOUD, client)


def _wait(qloop, coro, timeout: float = 120.0):  # type: ignore[no-untyped-def]
    return qloop.run_until_complete(asyncio.wait_for(coro, timeout))


async def _until(predicate) -> None:  # type: ignore[no-untyped-def]
    """The studio's jobs need the asyncio loop running: tests drive it, not Qt's."""
    while not predicate():
        await asyncio.sleep(0.01)


def test_pause_starts_no_new_request_and_resume_finishes_the_batch(open_studio, qtbot, qloop,
                                                                   offline_engine) -> None:  # type: ignore[no-untyped-def]
    studio = open_studio(Settings(play_while_generating=False, max_concurrent_jobs=1))
    window, generation = studio.window, studio.generation
    progress = window.generation_progress
    ids = [window.add_block(f"Paused queue block number {n}, with a few words to say.")
           for n in range(5)]
    before = offline_engine.stats.requests(WS)
    started: list[str] = []
    generation.job_started.connect(started.append)
    window.generate_all()
    _wait(qloop, _until(lambda: started))
    assert progress.isVisible() and progress.pause_button.text() == "Pause"
    progress.pause_button.click()
    assert generation.paused and progress.pause_button.text() == "Resume"
    # The block in flight finishes; nothing else is sent, however long the batch waits.
    _wait(qloop, _until(lambda: generation.gate.in_flight == 0))
    done = [b for b in ids if studio.document.block(b).selected_take is not None]
    assert len(done) == 1
    assert offline_engine.stats.requests(WS) - before == 1
    assert generation.busy and generation.gate.waiting == 4
    assert progress.label.text().startswith("Paused 1/5")

    progress.pause_button.click()  # Resume
    assert not generation.paused and progress.pause_button.text() == "Pause"
    _wait(qloop, generation.wait_idle())
    assert all(studio.document.block(b).selected_take is not None for b in ids)
    assert offline_engine.stats.requests(WS) - before == 5
    assert progress.label.text().startswith("Generating 5/5 · ETA")
    assert not progress.isVisible()


def test_stop_in_the_progress_area_stops_the_batch(open_studio, qtbot, qloop) -> None:  # type: ignore[no-untyped-def]
    studio = open_studio(Settings(play_while_generating=False, max_concurrent_jobs=1))
    window, generation = studio.window, studio.generation
    ids = [window.add_block(f"Stopped queue block {n} has words enough to take a moment.")
           for n in range(4)]
    started: list[str] = []
    generation.job_started.connect(started.append)
    window.generate_all()
    _wait(qloop, _until(lambda: started))
    window.generation_progress.pause_button.click()
    window.generation_progress.stop_button.click()
    _wait(qloop, generation.wait_idle())
    assert not generation.paused
    assert sum(studio.document.block(b).selected_take is None for b in ids) >= 3


def test_a_paid_batch_shows_its_estimate_before_anything_is_sent(open_studio, qloop, monkeypatch,
                                                                offline_engine) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(play_while_generating=False, credit_confirm_threshold=10_000,
                        max_concurrent_jobs=3)
    studio = open_studio(settings, backend_cls=_PaidBackend)
    window = studio.window
    asked: list[str] = []
    answer = [QMessageBox.StandardButton.Cancel]

    def question(_parent, _title, text, *_args):  # type: ignore[no-untyped-def]
        asked.append(text)
        return answer[0]

    monkeypatch.setattr("studio.ui.window.main_window.QMessageBox.question", question)
    text = "A paid batch block of exactly sixty characters, said slowly."
    assert len(text) == 60
    first = window.add_block(text)
    second = window.add_block(text.replace("paid", "paId"))
    studio.document.update_block(second, speed=0.75)
    before = offline_engine.stats.requests(WS)
    window.generate_all()  # 120 credits, under the threshold, but two blocks: asked
    assert len(asked) == 1
    assert "Generate 2 blocks." in asked[0]
    assert "about 120 credits" in asked[0]
    assert "Under a minute of audio (120 characters" in asked[0]
    assert "Up to 3 requests at a time" in asked[0]
    window.update_estimate()
    assert window.estimate_label.text().endswith("(2 blocks) · under a minute of audio")
    assert offline_engine.stats.requests(WS) == before  # Cancel: nothing sent
    assert all(studio.document.block(b).takes == [] for b in (first, second))

    answer[0] = QMessageBox.StandardButton.Yes
    window.generate_all()
    _wait(qloop, studio.generation.wait_idle())
    assert offline_engine.stats.requests(WS) == before + 2
    assert window.session_credits == 120


def test_estimate_counts_characters_and_audio_minutes_scaled_by_speed(open_studio) -> None:  # type: ignore[no-untyped-def]
    studio = open_studio(Settings(play_while_generating=False))
    document = studio.document
    window = studio.window
    a = window.add_block("y" * 900)
    b = window.add_block("z" * 900)
    document.update_block(b, speed=1.5)
    estimate = studio.generation.estimate([a, b])
    assert estimate.characters == 1800 and estimate.free and estimate.credits == 0
    # 900 characters at 15 per second is 60 s; at speed 1.5, 40 s.
    assert abs(estimate.audio_seconds - (60.0 + 40.0)) < 1e-9
    assert CHARACTERS_PER_SECOND == 15.0


def test_when_the_question_is_asked() -> None:
    def est(generate: int, credits: int, free: bool = False, reuse: int = 0) -> Estimate:
        return Estimate(credits, generate, reuse, free, credits, credits / 15.0)
    assert not needs_question(est(1, 500), threshold=1000)  # one block under the threshold
    assert needs_question(est(1, 1500), threshold=1000)
    assert needs_question(est(1, 5), threshold=0)            # 0: every paid generation
    assert needs_question(est(2, 50), threshold=1000)        # a paid batch always
    assert not needs_question(est(0, 0, reuse=9), threshold=0)  # all reused: free
    assert not needs_question(est(LARGE_FREE_BATCH - 1, 0, free=True), threshold=0)
    assert needs_question(est(LARGE_FREE_BATCH, 0, free=True), threshold=0)
    text = batch_question(Estimate(0, 232, 12, True, 81_000, 5400.0), 5)
    assert "Generate 232 blocks; 12 blocks reuse earlier takes at no cost." in text
    assert "Free on the offline engine." in text
    assert "About 1 h 30 min of audio (81,000 characters" in text


def test_eta_is_weighted_by_characters_and_leaves_paused_time_out() -> None:
    assert eta_seconds(0.0, 0, 1000) is None
    assert eta_seconds(60.0, 100, 1000) == 540.0   # 100 characters a minute, 900 to go
    assert eta_seconds(60.0, 1000, 1000) == 0.0
    assert [format_eta(s) for s in (None, 20.0, 240.0, 3900.0)] == [
        "", "ETA < 1 min", "ETA 4 min", "ETA 1 h 05 min"]
    now = [100.0]
    clock = ActiveClock(lambda: now[0])
    clock.start()
    now[0] += 30.0
    clock.pause()
    now[0] += 1000.0  # paused: not counted
    assert clock.seconds() == 30.0
    clock.resume()
    now[0] += 10.0
    assert clock.seconds() == 40.0
