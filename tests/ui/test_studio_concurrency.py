"""Concurrent paths of the studio: several streams, removals and exports during
generation, reconnects. Each must keep every take and keep the loop running."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import soundfile as sf

from studio.config import Settings
from studio.services.backend import Backend
from studio.services.generation import StreamSequencer

SETTINGS = Settings(play_while_generating=True, max_concurrent_jobs=2)


class TrackedBackend(Backend):
    """A backend that remembers whether it was closed."""

    closed = False

    async def aclose(self) -> None:
        await super().aclose()
        self.closed = True


def _wait(qloop, coro, timeout: float = 90.0):  # type: ignore[no-untyped-def]
    return qloop.run_until_complete(asyncio.wait_for(coro, timeout))


async def _until(predicate, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


def test_a_new_stream_while_one_plays_keeps_both_takes(open_studio, qtbot, qloop) -> None:  # type: ignore[no-untyped-def]
    studio = open_studio(SETTINGS)
    try:
        window = studio.window
        first = window.add_block("The first block streams for a while. " * 4)
        second = window.add_block("The second block starts while the first still streams.")
        window._on_generate_block(first)
        _wait(qloop, _until(lambda: studio.playback.is_playing))
        window._on_generate_block(second)   # begins a new stream: the first one falls silent
        _wait(qloop, studio.generation.wait_idle())
        assert studio.document.block(first).selected_take is not None
        assert studio.document.block(second).selected_take is not None
        window.script_panel.set_current(first)
        window.new_take()                    # a fresh take: the identical one is not reused
        _wait(qloop, _until(lambda: studio.generation.busy))
        window._on_play_block(second)        # playing a take while a block streams
        _wait(qloop, studio.generation.wait_idle())
        assert len(studio.document.block(first).takes) == 2
    finally:
        qloop.run_until_complete(studio.shutdown())


def test_removing_a_running_block_leaves_the_others_running(open_studio, qtbot, qloop) -> None:  # type: ignore[no-untyped-def]
    studio = open_studio(SETTINGS)
    try:
        window = studio.window
        ids = [window.add_block(f"Block {n} of the batch, long enough to take a moment. " * 3)
               for n in range(3)]
        window.generate_all()
        _wait(qloop, _until(lambda: studio.generation.running(ids[0])))
        window.script_panel.set_current(ids[0])
        window.script_panel.inspector.remove_button.click()  # no takes yet: no question
        assert not studio.document.has_block(ids[0])
        _wait(qloop, studio.generation.wait_idle())
        assert all(studio.document.block(b).selected_take is not None for b in ids[1:])
    finally:
        qloop.run_until_complete(studio.shutdown())


def test_export_from_the_action_during_generation_does_not_stall(open_studio, qtbot, qloop,
                                                                 tmp_path: Path,
                                                                 monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from studio.project.export_settings import PRESETS

    studio = open_studio(SETTINGS)
    try:
        window = studio.window
        done = window.add_block("Already generated.")
        studio.generation.generate([done])
        _wait(qloop, studio.generation.wait_idle())
        busy = window.add_block("Generating while the user exports. " * 4)
        out = tmp_path / "during.wav"
        exported: list[str] = []
        window.export_finished.connect(exported.append)
        studio.generation.generate([busy])
        window.export_action.trigger()
        dialog = window.export_dialog
        assert dialog.isVisible()
        dialog.load_settings(PRESETS["custom"].settings, "custom")
        dialog.set_path(out)
        dialog.export_button.click()
        _wait(qloop, studio.generation.wait_idle())
        _wait(qloop, _until(lambda: exported))
        assert exported == [str(out)] and sf.info(out).frames > 0
        assert studio.document.block(busy).selected_take is not None
    finally:
        qloop.run_until_complete(studio.shutdown())


def test_the_inspector_ignores_removed_blocks_on_later_voice_lists(  # type: ignore[no-untyped-def]
        open_studio, qtbot, qloop) -> None:
    studio = open_studio(SETTINGS)
    try:
        gone = studio.window.add_block("Soon removed.")
        kept = studio.window.add_block("Stays.")
        studio.document.remove_block(gone)
        qloop.run_until_complete(asyncio.sleep(0.05))  # deleteLater runs
        studio.catalog.voices_changed.emit()  # pytest-qt fails the test on a slot exception
        assert studio.window.script_panel.current_block_id == kept
        assert studio.window.script_panel.inspector.voice_combo.count() == len(
            studio.catalog.voices
        )
    finally:
        qloop.run_until_complete(studio.shutdown())


def test_reconnects_never_overlap_or_leak(open_studio, qtbot, qloop) -> None:  # type: ignore[no-untyped-def]
    opened: list[Backend] = []
    studio = open_studio(SETTINGS, backend_cls=TrackedBackend, opened=opened)
    try:
        studio.reconnect()
        last = studio.reconnect()
        _wait(qloop, last)
        live = [b for b in opened if b is studio.backend]
        assert len(live) == 1
        closed = [b for b in opened if b is not studio.backend]
        assert len(opened) >= 2 and all(b.closed for b in closed)  # type: ignore[attr-defined]
        block_id = studio.window.add_block("After reconnecting.")
        studio.generation.generate([block_id])
        _wait(qloop, studio.generation.wait_idle())
        assert studio.document.block(block_id).selected_take is not None
    finally:
        qloop.run_until_complete(studio.shutdown())


class _FakePlayback:
    def __init__(self) -> None:
        self.written: list[tuple[int, np.ndarray]] = []
        self.ended: list[int] = []

    def write(self, stream_id: int, samples: np.ndarray) -> None:
        self.written.append((stream_id, samples))

    def end_stream(self, stream_id: int) -> None:
        self.ended.append(stream_id)

    @property
    def backlog_frames(self) -> int:
        return self.backlog

    backlog = 0


def test_sequencer_plays_blocks_in_script_order_with_pauses() -> None:
    playback = _FakePlayback()
    seq = StreamSequencer(playback, 7, ["a", "b", "c"], pause_frames=2)  # type: ignore[arg-type]
    chunk = {
        name: np.full(3, value, dtype=np.float32) for name, value in (("a", 1), ("b", 2), ("c", 3))
    }
    seq.feed("b", chunk["b"])   # waits: a is not finished
    seq.feed("a", chunk["a"])   # plays at once
    seq.feed("c", chunk["c"])   # waits
    seq.finish("c")
    assert [s[0] for _, s in playback.written] == [1.0]
    seq.finish("a")             # b's pending audio follows a pause
    seq.finish("b")             # c was finished already: its audio follows, then the end
    played = np.concatenate([s for _, s in playback.written])
    assert played.tolist() == [1, 1, 1, 0, 0, 2, 2, 2, 0, 0, 3, 3, 3]
    assert {sid for sid, _ in playback.written} == {7} and playback.ended == [7]


def test_sequencer_stops_listening_when_generation_runs_far_ahead() -> None:
    playback = _FakePlayback()
    gave_up: list[bool] = []
    seq = StreamSequencer(playback, 7, ["a", "b", "c"], pause_frames=2,  # type: ignore[arg-type]
                          max_ahead_frames=10, on_give_up=lambda: gave_up.append(True))
    seq.feed("a", np.ones(4, np.float32))       # heard now
    seq.feed("b", np.ones(6, np.float32))       # waits: 6 frames ahead
    assert not seq.gave_up
    playback.backlog = 5                        # the player is behind too: 11 > 10
    seq.feed("c", np.ones(1, np.float32))
    assert seq.gave_up and gave_up == [True] and playback.ended == [7]
    seq.feed("c", np.ones(100, np.float32))     # nothing more is kept or written
    seq.finish("a")
    seq.finish("b")
    assert sum(s.shape[0] for _, s in playback.written) == 4 and gave_up == [True]
