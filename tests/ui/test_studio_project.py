"""Projects in the studio: everything is saved as it happens, reopens after a
restart, identical requests are reused, and bad files never get touched."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QMessageBox

from studio.config import Settings
from studio.project.store import open_read_only
from studio.services.backend import CLOUD, Backend
from studio.services.generation import Estimate

SETTINGS = Settings(play_while_generating=False)


def _wait(qloop, coro, timeout: float = 120.0):  # type: ignore[no-untyped-def]
    return qloop.run_until_complete(asyncio.wait_for(coro, timeout))


def _settle(qtbot, studio) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: not studio.project.dirty, timeout=15000)


def _generate(qloop, studio, block_ids, force: bool = False) -> None:  # type: ignore[no-untyped-def]
    studio.generation.generate(block_ids, force=force)
    _wait(qloop, studio.generation.wait_idle())


def test_takes_survive_a_restart_and_stay_playable(open_studio, qtbot, qloop) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(play_while_generating=False)
    studio = open_studio(settings, shared=True)
    window = studio.window
    first = window.add_block("The first block is saved as soon as it exists.")
    second = window.add_block("The second block gets two takes.")
    _generate(qloop, studio, [first, second])
    _generate(qloop, studio, [second], force=True)
    studio.editor.rename_take(second, studio.document.block(second).takes[0].id, "Keeper")
    studio.editor.select_take(second, studio.document.block(second).takes[0].id)
    _settle(qtbot, studio)
    path = studio.project.path
    before = {
        b.id: [(t.id, t.name, t.audio.copy()) for t in b.takes] for b in studio.document.blocks
    }
    selected = studio.document.block(second).selected_take_id
    assert studio.project.untitled and settings.last_project == str(path)
    qloop.run_until_complete(studio.shutdown())
    studio.window.close()

    again = open_studio(settings, shared=True)
    assert again.project.path == path
    blocks = again.document.blocks
    assert [b.id for b in blocks] == [first, second]
    for block in blocks:
        assert [(t.id, t.name) for t in block.takes] == [(i, n) for i, n, _ in before[block.id]]
        for take, (_, _, audio) in zip(block.takes, before[block.id], strict=True):
            assert np.array_equal(take.audio, audio)
    assert again.document.block(second).selected_take_id == selected
    assert again.window.script_panel.model.rowCount() == 2
    assert again.undo_stack.count() == 0  # history belongs to the session


def test_an_identical_request_is_reused_without_a_request(open_studio, qtbot, qloop,
                                                          offline_engine) -> None:  # type: ignore[no-untyped-def]
    studio = open_studio(SETTINGS)
    window = studio.window
    block = window.add_block("Say this once, pay for it once.")
    twin = window.add_block("Say this once, pay for it once.")
    _generate(qloop, studio, [block])
    requests = offline_engine.stats.requests("/tts/websocket")
    assert studio.generation.estimate([block, twin]) == Estimate(0, 0, 2, True, 0, 0.0)

    reused: list[str] = []
    studio.generation.job_reused.connect(lambda block_id, _take: reused.append(block_id))
    studio.generation.generate([block, twin])
    _wait(qloop, studio.generation.wait_idle())
    assert sorted(reused) == sorted([block, twin])
    assert offline_engine.stats.requests("/tts/websocket") == requests
    original = studio.document.block(block).takes
    copy = studio.document.block(twin).selected_take
    assert len(original) == 1 and copy is not None and copy.credits == 0
    assert copy.source is original[0].source  # the same audio, stored once
    assert "reused" in window.script_panel.status_text(twin)

    window.script_panel.set_current(block)
    window.new_take()  # bypasses the cache
    _wait(qloop, studio.generation.wait_idle())
    assert offline_engine.stats.requests("/tts/websocket") == requests + 1
    assert len(studio.document.block(block).takes) == 2

    studio.editor.update_block(block, speed=1.2)  # a different request: generated again
    assert studio.generation.estimate([block]).generate == 1
    _settle(qtbot, studio)
    db = open_read_only(studio.project.path)  # the studio holds the writer lock
    try:
        audio_rows = db.execute("SELECT COUNT(*) FROM audio").fetchone()[0]
    finally:
        db.close()
    assert audio_rows == 2  # the reused copy did not store its audio again


def test_undone_changes_are_what_reopens(open_studio, qtbot, qloop) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(play_while_generating=False)
    studio = open_studio(settings, shared=True)
    window = studio.window
    block = window.add_block("Generated, then the take is undone.")
    _generate(qloop, studio, [block])
    removed = window.add_block("Removed, then the removal is undone.")
    window._on_remove_block(removed)
    studio.undo_stack.undo()  # the block comes back
    studio.undo_stack.undo()  # ...and "Add block" is undone: it goes again
    studio.undo_stack.redo()  # and comes back
    take = studio.document.block(block).takes[0]
    studio.editor.delete_take(block, take.id)
    _settle(qtbot, studio)
    qloop.run_until_complete(studio.shutdown())
    studio.window.close()

    again = open_studio(settings, shared=True)
    assert [b.id for b in again.document.blocks] == [block, removed]
    assert again.document.block(block).takes == []


def test_file_menu_and_title(open_studio, qtbot, qloop, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(play_while_generating=False)
    studio = open_studio(settings, shared=True)
    window = studio.window
    texts = [a.text() for a in window.file_menu.actions()]
    for wanted in ("New project", "Open project…", "Open recent", "Save", "Save as…",
                   "Close project", "Import script…", "Export…", "Quit"):
        assert wanted in texts
    assert window.windowTitle().startswith("Untitled")
    window.add_block("Some words.")
    assert window.isWindowModified()  # not in the file yet...
    _settle(qtbot, studio)
    assert not window.isWindowModified()  # ...and now it is

    target = tmp_path / "My show.cstudio"
    _wait(qloop, studio.project_menu._save_as(target))
    assert window.windowTitle().startswith("My show") and str(tmp_path) in window.windowTitle()
    assert settings.recent_projects[0] == str(target.resolve())

    studio.project_menu._pending_save_as, studio.project_menu._discard = None, False
    _wait(qloop, studio.project_menu._switch(None))  # New project
    assert len(studio.document) == 0 and studio.project.untitled
    _wait(qloop, studio.project_menu._switch(target))  # reopen from recent
    assert [b.text for b in studio.document.blocks] == ["Some words."]
    assert studio.undo_stack.count() == 0


def test_a_damaged_project_is_refused_untouched_and_can_be_recovered(open_studio, qtbot, qloop,
                                                                     tmp_path) -> None:  # type: ignore[no-untyped-def]
    studio = open_studio(SETTINGS)
    window = studio.window
    for index in range(3):
        window.add_block(f"Block {index} with a few words.")
    _generate(qloop, studio, [b.id for b in studio.document.blocks])
    target = tmp_path / "show.cstudio"
    _wait(qloop, studio.project_menu._save_as(target))
    _wait(qloop, studio.project_menu._switch(None))
    data = bytearray(target.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    middle = (len(data) // page // 2) * page
    data[middle:middle + page] = b"\x5a" * page
    target.write_bytes(bytes(data))
    current = studio.project.path

    with qtbot.waitSignal(studio.project.opened, raising=False, timeout=500) as sw:
        _wait(qloop, studio.project_menu._switch(target))
    assert not sw.signal_triggered
    assert target.read_bytes() == bytes(data)
    assert studio.project.path == current
    box = studio.project_menu.recovery_box
    assert box is not None and "damaged" in box.text()

    studio.project_menu._recover(target)  # as the box's "Make a recovered copy" does
    _wait(qloop, studio.project_menu._tasks.wait_idle())
    assert studio.project.path == (tmp_path / "show.recovered.cstudio").resolve()
    assert len(studio.document) == 3
    assert target.read_bytes() == bytes(data)


class _PaidBackend(Backend):
    """The session's offline engine billed as Cartesia's cloud (about one credit per
    character), so the paid paths run end to end over loopback."""

    def __init__(self, _kind: str, client) -> None:  # type: ignore[no-untyped-def]
        super().__init__(CLOUD, client)


def test_paid_generations_above_the_threshold_ask_first(open_studio, qloop, monkeypatch,
                                                        offline_engine) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(play_while_generating=False, credit_confirm_threshold=40)
    studio = open_studio(settings, backend_cls=_PaidBackend, shared=True)
    window = studio.window
    asked: list[str] = []
    answer = [QMessageBox.StandardButton.Cancel]

    def question(_parent, _title, text, *_args):  # type: ignore[no-untyped-def]
        asked.append(text)
        return answer[0]

    monkeypatch.setattr("studio.ui.window.main_window.QMessageBox.question", question)
    short = window.add_block("Under the threshold.")  # 20 characters
    long = window.add_block("This block is long enough to cost more than forty credits.")
    window.update_estimate()
    assert window.estimate_label.isVisible()
    assert "about 78 credits (2 blocks)" in window.estimate_label.text()

    requests = offline_engine.stats.requests("/tts/websocket")
    window._on_generate_block(short)  # 20 credits: no question
    _wait(qloop, studio.generation.wait_idle())
    assert asked == [] and offline_engine.stats.requests("/tts/websocket") == requests + 1
    assert window.session_credits == 20 and "session 20" in window.credits_label.text()

    window._on_generate_block(long)  # 58 credits: asked, and Cancel sends nothing
    _wait(qloop, studio.generation.wait_idle())
    assert len(asked) == 1 and "about 58 credits" in asked[0]
    assert offline_engine.stats.requests("/tts/websocket") == requests + 1
    assert studio.document.block(long).takes == []

    answer[0] = QMessageBox.StandardButton.Yes
    window._on_generate_block(long)
    _wait(qloop, studio.generation.wait_idle())
    assert offline_engine.stats.requests("/tts/websocket") == requests + 2
    assert window.session_credits == 78

    window._on_generate_block(long)  # identical: reused, free, no question
    _wait(qloop, studio.generation.wait_idle())
    assert len(asked) == 2 and offline_engine.stats.requests("/tts/websocket") == requests + 2


def test_a_project_that_cannot_open_at_start_is_reported(open_studio, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "gone bad.cstudio"
    bad.write_bytes(b"garbage" * 100)
    settings = Settings(play_while_generating=False, last_project=str(bad))
    studio = open_studio(settings, shared=True)
    assert studio.project.untitled and studio.project.is_open
    assert "not an SQLite" in studio.window.statusBar().currentMessage()
    assert bad.read_bytes() == b"garbage" * 100
    assert Path(settings.last_project) != bad


def test_identical_blocks_in_one_batch_are_paid_for_once(open_studio, qloop,
                                                         offline_engine) -> None:  # type: ignore[no-untyped-def]
    studio = open_studio(SETTINGS)
    window = studio.window
    first = window.add_block("The same line, twice in the script.")
    other = window.add_block("A different line.")
    twin = window.add_block("The same line, twice in the script.")
    ids = [first, other, twin]
    estimate = studio.generation.estimate(ids)
    assert (estimate.generate, estimate.reuse) == (2, 1)
    window.update_estimate()  # the offline engine is free: no estimate, and it says so
    assert not window.estimate_label.isVisible()
    assert "free on the offline engine" in window.credits_label.text()
    requests = offline_engine.stats.requests("/tts/websocket")
    window.generate_all()
    _wait(qloop, studio.generation.wait_idle())
    assert offline_engine.stats.requests("/tts/websocket") == requests + 2
    assert studio.document.block(twin).selected_take.source is \
        studio.document.block(first).selected_take.source

    window.regenerate_all()  # forced: fresh takes, still one per distinct line
    _wait(qloop, studio.generation.wait_idle())
    assert offline_engine.stats.requests("/tts/websocket") == requests + 4
    fresh = studio.document.block(first).selected_take
    assert len(studio.document.block(first).takes) == 2
    assert studio.document.block(twin).selected_take.source is fresh.source


def test_a_take_status_clears_when_another_take_is_chosen(open_studio, qloop) -> None:  # type: ignore[no-untyped-def]
    studio = open_studio(SETTINGS)
    window = studio.window
    block = window.add_block("Two takes of this line.")
    _generate(qloop, studio, [block])
    window.script_panel.set_current(block)
    window.new_take()
    _wait(qloop, studio.generation.wait_idle())
    view = window.script_panel.inspector
    assert window.script_panel.current_block_id == block
    assert view.status_label.text() == "Take 2 ready"
    first = studio.document.block(block).takes[0]
    studio.editor.select_take(block, first.id)  # "Use this take" on Take 1
    assert view.status_label.text() == ""
    studio.undo_stack.undo()  # Take 2 is selected again: nothing stale is shown
    assert view.status_label.text() == ""


def test_a_project_with_damaged_audio_opens_and_says_which_to_generate_again(  # type: ignore[no-untyped-def]
        open_studio, qtbot, qloop, tmp_path) -> None:
    import sqlite3

    studio = open_studio(Settings(play_while_generating=False), shared=True)
    block_id = studio.window.add_block("A take whose audio will rot on disk.")
    _generate(qloop, studio, [block_id])
    take = studio.document.block(block_id).selected_take
    target = tmp_path / "Rot.cstudio"
    _wait(qloop, studio.project_menu._save_as(target))
    _wait(qloop, studio.project_menu._switch(None))
    db = sqlite3.connect(target)  # one flipped byte in the take's stored audio (bit rot)
    audio_id, data = db.execute(
        "SELECT b.audio_id, b.data FROM audio_blocks b JOIN takes t ON t.audio_id = b.audio_id"
        " WHERE t.id = ? AND b.seq = 0", (take.id,)).fetchone()
    db.execute("UPDATE audio_blocks SET data = ? WHERE audio_id = ? AND seq = 0",
               (bytes([data[0] ^ 0xFF]) + data[1:], audio_id))
    db.commit()
    db.close()

    _wait(qloop, studio.project_menu._switch(target))
    assert studio.project.damaged_takes == [take.id]
    assert "1 take in this project has damaged audio" in (
        studio.window.statusBar().currentMessage())
    reopened = studio.document.block(block_id)
    assert reopened.selected_take is not None and reopened.selected_take.damaged
    assert studio.generation.cached_take(reopened) is None  # Generate makes a new one
