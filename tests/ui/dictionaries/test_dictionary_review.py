"""Dictionaries in the studio: deleted and recreated dictionaries leave no ghosts, and
Undo follows the focus into a floating Dictionaries panel (review of issue #6)."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from studio.config import Settings
from studio.project.lexicon import LexiconItem

CARTESIA = LexiconItem("Cartesia", "kar-TEE-zha")


def run(qloop, awaitable, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    return qloop.run_until_complete(asyncio.wait_for(awaitable, timeout))


def test_recreating_a_dictionary_deleted_elsewhere_moves_the_project_and_leaves_no_ghost(
        open_studio, qloop) -> None:  # type: ignore[no-untyped-def]
    studio = open_studio(Settings(play_while_generating=False))
    service, document = studio.dictionaries, studio.document
    made = run(qloop, service.create("Recreate me", [CARTESIA]))
    studio.editor.set_project_dictionary(made.id)
    block_id = studio.window.add_block("Cartesia again.")
    studio.editor.update_block(block_id, pronunciation_dict_id=made.id)
    run(qloop, service._client.pronunciation_dicts.delete(made.id))  # in another app
    run(qloop, service.refresh())
    assert service.is_missing(made.id) and document.is_available(made.id) is False
    new = run(qloop, service.recreate(made.id))
    assert document.pronunciation_dict_id == new.id
    assert document.block(block_id).pronunciation_dict_id == new.id
    assert service.dictionary(made.id) is None, "the old id is not listed again as missing"
    assert document.is_available(new.id) and service.items(new.id) == (CARTESIA,)


def test_a_dictionary_deleted_here_does_not_come_back_as_missing(
        open_studio, qloop) -> None:  # type: ignore[no-untyped-def]
    studio = open_studio(Settings(play_while_generating=False))
    service, panel = studio.dictionaries, studio.dictionaries_panel
    made = run(qloop, service.create("Delete me", [CARTESIA]))
    studio.editor.set_project_dictionary(made.id)
    block_id = studio.window.add_block("Cartesia.")
    studio.editor.update_block(block_id, pronunciation_dict_id=made.id)  # still uses it
    run(qloop, service.delete(made.id))
    run(qloop, panel.wait_idle())
    assert service.dictionary(made.id) is None


def test_undo_follows_the_focus_into_a_floating_dictionaries_panel(
        open_studio, qtbot, qloop) -> None:  # type: ignore[no-untyped-def]
    studio = open_studio(Settings(play_while_generating=False))
    panel, window = studio.dictionaries_panel, studio.window
    made = run(qloop, studio.dictionaries.create("Floating", [CARTESIA]))
    panel.select_dictionary(made.id)
    before = len(studio.document.blocks)
    window.add_block("Some script text.")
    dock = studio.dictionaries_dock
    dock.setFloating(True)
    dock.show()
    dock.activateWindow()
    qtbot.waitExposed(dock)
    panel.table.setFocus()
    qtbot.waitUntil(lambda: window.undo_group.activeStack() is panel.undo_stack)
    QTest.keyClick(panel.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(studio.document.blocks) == before + 1, "Ctrl+Z in the panel left the script alone"


def test_quitting_asks_only_for_entries_the_project_does_not_keep(
        open_studio, qloop, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QMessageBox
    asked: list[str] = []

    def warning(_parent, _title, text, *_args):  # type: ignore[no-untyped-def]
        asked.append(text)
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "warning", warning)
    studio = open_studio(Settings(play_while_generating=False))
    service = studio.dictionaries
    made = run(qloop, service.create("Kept by the project", [CARTESIA]))
    studio.editor.set_project_dictionary(made.id)
    run(qloop, service._client.pronunciation_dicts.delete(made.id))  # in another app
    run(qloop, service.refresh())
    assert service.is_missing(made.id)
    assert studio._close_guard(studio.window) and not asked, "the project keeps a copy"
    service.edit_items(made.id, [CARTESIA, LexiconItem("Zorvath", "")])  # one held back
    assert not studio._close_guard(studio.window) and "Kept by the project" in asked[0]
