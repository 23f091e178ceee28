"""The window's side of casting (issue 15): pasted NAME: lines set speakers, Generate
all names the speakers not cast yet and offers the Cast panel, and Edit → Find and
Replace… opens the dialog. On the real studio and the offline engine."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox


def _answer(text: str, seen: list[str]) -> None:
    """Click the button ``text`` of the casting question once it is shown."""

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        seen.append(box.text())
        next(b for b in box.buttons() if b.text() == text).click()

    QTimer.singleShot(0, click)


def test_pasted_speakers_are_cast_before_generating(open_studio, qloop) -> None:  # type: ignore[no-untyped-def]
    studio = open_studio()
    window, document = studio.window, studio.document
    voice = document.block_at(0).voice_id if len(document) else ""
    window.add_script_text("The door opened.\n\nALICE: Who is there?\nBOB: Only me.\n"
                           "ALICE: Come in.", "Paste blocks")
    speakers = [(b.speaker, b.text) for b in document.blocks if b.text]
    assert speakers == [("Narrator", "The door opened."), ("ALICE", "Who is there?"),
                        ("BOB", "Only me."), ("ALICE", "Come in.")]
    assert all(not b.voice_id for b in document.blocks if b.speaker != "Narrator")
    assert window.editor.stack.count() == 1
    panel = window.cast_find.panel
    panel.refresh()
    assert [(r.speaker, r.needs_casting) for r in panel.rows] == [
        ("Narrator", True), ("ALICE", True), ("BOB", True)]

    seen: list[str] = []
    _answer("Open Cast panel", seen)
    window.generate_all()
    assert "ALICE: 2 blocks, 2 without a voice" in seen[0]
    assert not studio.generation.busy
    assert window.cast_find.dock.isVisible()

    voices = [v.id for v in studio.catalog.voices]
    narrator_voice = voice or voices[0]
    for speaker, voice_id in (("Narrator", narrator_voice), ("ALICE", voices[1]),
                              ("BOB", voices[2])):
        panel.set_cast(speaker, voice_id=voice_id)
    assert {b.speaker: b.voice_id for b in document.blocks if b.text} == {
        "Narrator": narrator_voice, "ALICE": voices[1], "BOB": voices[2]}
    window.generate_all()  # no question now
    assert studio.generation.busy
    qloop.run_until_complete(asyncio.wait_for(studio.generation.wait_idle(), 120))
    assert all(b.selected_take is not None for b in document.blocks if b.text)


def test_find_and_replace_from_the_edit_menu(open_studio, qloop, qtbot) -> None:  # type: ignore[no-untyped-def]
    studio = open_studio()
    window = studio.window
    window.add_script_text("Anna walks.\n\nAnna runs.", "Paste blocks")
    assert window.cast_find.replace_action.shortcut().toString() == "Ctrl+H"
    window.cast_find.replace_action.trigger()
    dialog = window.cast_find.dialog
    assert dialog.isVisible() and not dialog.isModal()
    dialog.find_edit.setText("anna")
    dialog.replace_edit.setText("Hannah")
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 2 and dialog.replace_button.isEnabled(),
                    timeout=10000)
    dialog.replace_button.click()
    assert [b.text for b in studio.document.blocks if b.text] == ["Hannah walks.",
                                                                 "Hannah runs."]
    window.undo_action.trigger()
    assert [b.text for b in studio.document.blocks if b.text] == ["Anna walks.", "Anna runs."]
    dialog.block_requested.emit(studio.document.block_at(len(studio.document) - 1).id)
    assert window.script_panel.current_block_id == studio.document.block_at(
        len(studio.document) - 1).id


def test_pasted_speakers_fill_an_empty_block_without_casting(open_studio) -> None:  # type: ignore[no-untyped-def]
    studio = open_studio()
    window, document = studio.window, studio.document
    first = document.block(window.add_block())  # an empty block takes the first line
    narrator_voice = first.voice_id
    assert narrator_voice and window.script_panel.current_block_id == first.id
    window.add_script_text("HAMLET: To be, or not to be.\nNarrator: He paused.\nHAMLET: "
                           "That is the question.\n", "Paste blocks")
    assert [(b.speaker, b.text, b.voice_id) for b in document.blocks] == [
        ("HAMLET", "To be, or not to be.", ""), ("Narrator", "He paused.", narrator_voice),
        ("HAMLET", "That is the question.", "")]
    assert document.cast == []  # nothing is cast until the user says so
    window.editor.stack.undo()
    assert [(b.speaker, b.text, b.voice_id) for b in document.blocks] == [
        ("Narrator", "", narrator_voice)]
