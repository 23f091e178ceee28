"""Review mode in the studio window: the playhead follows Play all and Play chapter,
flags go on the block heard, locks keep Generate all away (counted on the offline
engine), and the Chapters panel jumps, generates, plays and exports by chapter."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf
from PySide6.QtWidgets import QInputDialog

from studio.config import Settings
from studio.project.model import Block
from tests.ui.chapters.helpers import RATE, run_until, studio_with_players, voiced_blocks

TTS_ROUTES = ("/tts/websocket", "/tts/bytes", "/tts/sse")


def tts_requests(engine: Any) -> int:
    """Generation requests the engine has answered so far, on every TTS route."""
    return sum(engine.stats.requests(route) for route in TTS_ROUTES)


@pytest.fixture
def studio(open_studio):  # type: ignore[no-untyped-def]
    return studio_with_players(open_studio, Settings(pause_seconds=0.25))


def voiced_script(studio, count: int = 4, chapter_every: int = 2) -> list[Block]:  # type: ignore[no-untyped-def]
    voice = studio.catalog.voices[0].id
    blocks = voiced_blocks(count, seconds=1.0, chapter_every=chapter_every, voice_id=voice)
    studio.document.insert_blocks(blocks)
    return blocks


def test_generate_all_skips_locked_blocks(studio, qloop, offline_engine) -> None:  # type: ignore[no-untyped-def]
    window = studio.window
    assert window.add_script_text("One here.\n\nTwo here.\n\nThree here.") == 3
    ids = [b.id for b in studio.document.blocks]
    steps = window.editor.stack.count()
    window.script_panel.set_current(ids[1])
    window.review.lock_action.trigger()
    assert studio.document.block(ids[1]).locked
    assert window.editor.stack.count() == steps + 1  # one undo step
    before = tts_requests(offline_engine)
    window.generate_all()
    assert "1 locked block skipped" in window.statusBar().currentMessage()
    qloop.run_until_complete(asyncio.wait_for(studio.generation.wait_idle(), 120))
    assert tts_requests(offline_engine) - before == 2
    assert [bool(studio.document.block(i).takes) for i in ids] == [True, False, True]

    window.generate_current()  # the locked block, alone
    assert "Block #2 is locked" in window.statusBar().currentMessage()
    window.regenerate_all()
    assert "1 locked block skipped" in window.statusBar().currentMessage()
    qloop.run_until_complete(asyncio.wait_for(studio.generation.wait_idle(), 120))
    assert tts_requests(offline_engine) - before == 4
    assert not studio.document.block(ids[1]).takes

    window.review.unlock_action.trigger()
    assert not studio.document.block(ids[1]).locked
    window.undo_action.trigger()
    assert studio.document.block(ids[1]).locked


def test_a_flag_goes_on_the_block_playing(studio, qloop, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    window, review = studio.window, studio.window.review
    blocks = voiced_script(studio, count=3, chapter_every=0)
    window.script_panel.set_current(blocks[0].id)
    window.play_all()
    run_until(qloop, lambda: window.script_panel.playing_block_id == blocks[0].id)
    assert window.script_panel.model.playing == blocks[0].id
    player = studio.players[-1]
    player.position_frames = int(RATE * 1.5)  # block 2 starts at 1.25 s
    run_until(qloop, lambda: window.script_panel.playing_block_id == blocks[1].id)
    assert window.script_panel.model.playing == blocks[1].id
    assert review.next_action.isEnabled() and review.pause_action.isEnabled()

    steps = window.editor.stack.count()
    review.flag_quick_action.trigger()
    assert studio.document.block(blocks[1].id).flag == ""
    assert studio.document.block(blocks[0].id).flag is None  # not the current block
    assert window.editor.stack.count() == steps + 1

    asked: list[bool] = []

    def answer(*_args: Any, **_kwargs: Any) -> tuple[str, bool]:
        asked.append(studio.playback.is_paused)  # the run holds while the note is typed
        return "  breath   at the start ", True

    monkeypatch.setattr(QInputDialog, "getText", answer)
    player.position_frames = int(RATE * 2.6)
    run_until(qloop, lambda: window.script_panel.playing_block_id == blocks[2].id)
    review.flag_action.trigger()
    assert asked == [True] and not studio.playback.is_paused
    assert studio.document.block(blocks[2].id).flag == "breath at the start"
    assert "flagged for a retake: breath at the start" in window.statusBar().currentMessage()
    assert window.editor.stack.count() == steps + 2
    window.undo_action.trigger()
    assert studio.document.block(blocks[2].id).flag is None

    review.pause_action.trigger()
    assert studio.playback.is_paused and player.paused and review.pause_action.text() == "Resume"
    player.position_frames = 0  # as a real player's, once the new stream starts
    review.previous_action.trigger()  # back to block 2; playing again
    run_until(qloop, lambda: window.script_panel.playing_block_id == blocks[1].id)
    assert not studio.playback.is_paused
    window.stop()
    run_until(qloop, lambda: window.script_panel.playing_block_id == "")
    assert not review.next_action.isEnabled()

    assert review.go_next(lambda _d, b: b.flagged, "flagged block") == blocks[1].id
    assert window.script_panel.current_block_id == blocks[1].id


def test_chapters_panel_jumps_plays_and_generates_by_chapter(  # type: ignore[no-untyped-def]
        studio, qtbot, qloop, offline_engine) -> None:
    window = studio.window
    panel = window.chapters_panel
    assert not window.chapters_dock.isVisibleTo(window)  # no chapters yet
    assert window.chapters_dock.toggleViewAction() in window.view_menu.actions()
    blocks = voiced_script(studio, count=4, chapter_every=2)
    qtbot.waitUntil(lambda: window.chapters_dock.isVisibleTo(window), timeout=10000)
    window.script_panel.set_current(blocks[-1].id)
    fresh = window.add_block("A new line for chapter two.")
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 2
                    and panel.tree.topLevelItem(1).text(4) == "1", timeout=10000)  # stale
    panel.jump_requested.emit(blocks[2].id)
    assert window.script_panel.current_block_id == blocks[2].id

    panel.play_requested.emit(blocks[2].id)
    run_until(qloop, lambda: window.script_playback.timeline is not None
              and len(window.script_playback.timeline) == 2)
    assert [e.block_id for e in window.script_playback.timeline.entries] == [
        blocks[2].id, blocks[3].id]  # chapter 2 alone (the new block has no take)
    window.stop()

    before = tts_requests(offline_engine)
    panel.generate_requested.emit(blocks[0].id)  # chapter 1 is up to date
    assert "up-to-date" in window.statusBar().currentMessage()
    panel.generate_requested.emit(blocks[2].id)
    qloop.run_until_complete(asyncio.wait_for(studio.generation.wait_idle(), 120))
    assert tts_requests(offline_engine) - before == 1
    assert studio.document.block(fresh).takes
    qtbot.waitUntil(lambda: panel.tree.topLevelItem(1).text(4) == "", timeout=10000)


def test_export_chapter_writes_that_chapter_alone(studio, qloop, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from studio.project.export_settings import ExportSettings

    window, review = studio.window, studio.window.review
    blocks = voiced_script(studio, count=4, chapter_every=2)
    exporter = window.exporter
    exporter.preset = lambda _key: ExportSettings(sample_rate=RATE)  # 16-bit WAV, as is
    suggested: list[Path] = []

    def ask(path: Path) -> Path:
        suggested.append(path)
        return tmp_path / "chapter two.wav"

    review.ask_export_path = ask
    task = review.export_chapter(blocks[2].id)
    assert task is not None
    qloop.run_until_complete(asyncio.wait_for(task, 60))
    assert suggested[0].name.endswith("Chapter 2.wav")
    info = sf.info(tmp_path / "chapter two.wav")
    assert info.duration == pytest.approx(2.25, abs=0.01)  # two 1 s takes and the pause
    assert window.last_export == tmp_path / "chapter two.wav"
