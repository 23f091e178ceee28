"""Undo and redo of script and take edits (issue #3): the ScriptEditor's commands on a
QUndoStack, the views that edit through it, and the window's Edit menu."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QApplication

from studio.project.model import Block, Take, make_take
from studio.services.document import ScriptDocument
from studio.services.editor import TYPING_PAUSE, ScriptEditor
from studio.services.voices import VoiceCatalog
from studio.timestamps import PhonemeTimestamps, WordTimestamps
from studio.ui.script.script_model import Role
from studio.ui.script.script_panel import ScriptPanel


class Clock:
    """A clock the test moves by hand (seconds)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _take(number: int) -> Take:
    audio = np.zeros(441 * number, dtype=np.float32)
    return make_take(audio, 44100, WordTimestamps(("hi",), (0.0,), (0.1,)), PhonemeTimestamps(),
                     {"transcript": "hi"}, "offline", 0, number)


def _state(document: ScriptDocument) -> list[tuple[Any, ...]]:
    """Everything undo must restore: blocks in order with fields, takes and selection."""
    return [(b.id, b.text, b.voice_id, b.model_id, b.language, b.emotion, b.speed, b.volume,
             [(t.id, t.name, t.starred) for t in b.takes], b.selected_take_id)
            for b in document.blocks]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def editor(qapp, clock: Clock) -> ScriptEditor:  # type: ignore[no-untyped-def]
    document = ScriptDocument()
    editor = ScriptEditor(document, QUndoStack(document), clock=clock, parent=document)
    for text in ("First block.", "Second block.", "Third block."):
        document.add_block(text=text, voice_id="v1")
    return editor


def _ids(editor: ScriptEditor) -> list[str]:
    return [b.id for b in editor.document.blocks]


def _round_trip(editor: ScriptEditor, before: list[tuple[Any, ...]]) -> None:
    """Undo must give ``before`` back; redo what there was after."""
    after = _state(editor.document)
    assert after != before
    editor.stack.undo()
    assert _state(editor.document) == before
    editor.stack.redo()
    assert _state(editor.document) == after
    editor.stack.undo()
    assert _state(editor.document) == before


# --- each operation round trips ------------------------------------------------------------

def test_add_block_round_trip(editor: ScriptEditor) -> None:
    before = _state(editor.document)
    block = editor.add_block(1, text="Inserted.", voice_id="v2")
    assert editor.document.index_of(block.id) == 1
    assert editor.stack.undoText() == "Add block 2"
    _round_trip(editor, before)


def test_add_blocks_is_one_step_with_the_callers_name(editor: ScriptEditor) -> None:
    before = _state(editor.document)
    added = editor.add_blocks(["One.", {"text": "Two.", "voice_id": "v9"}], 1, "Paste 2 blocks")
    assert [b.text for b in editor.document.blocks][1:3] == ["One.", "Two."]
    assert added[1].voice_id == "v9"
    assert editor.stack.count() == 1 and editor.stack.undoText() == "Paste 2 blocks"
    _round_trip(editor, before)
    assert editor.add_blocks([]) == [] and editor.stack.count() == 1


def test_remove_block_undo_brings_back_its_takes_and_selection(editor: ScriptEditor) -> None:
    document = editor.document
    middle = _ids(editor)[1]
    takes = [_take(1), _take(2), _take(3)]
    for take in takes:
        document.add_take(middle, take)
    document.select_take(middle, takes[1].id)
    before = _state(document)
    editor.remove_block(middle)
    assert not document.has_block(middle)
    assert editor.stack.undoText() == "Remove block 2"
    _round_trip(editor, before)
    assert document.index_of(middle) == 1
    assert document.block(middle).selected_take is takes[1]


def test_move_block_round_trip(editor: ScriptEditor) -> None:
    before = _state(editor.document)
    first = _ids(editor)[0]
    editor.move_block(first, 2)
    assert _ids(editor)[2] == first and editor.stack.undoText() == "Move block 1 down"
    _round_trip(editor, before)
    editor.move_block(first, 0)  # where it is already: no step
    assert editor.stack.count() == 1 and editor.stack.index() == 0


@pytest.mark.parametrize(("changes", "name"), [
    ({"text": "New words."}, "Typing in block 1"),
    ({"voice_id": "v2", "language": "fr"}, "Change voice of block 1"),
    ({"model_id": "sonic-2"}, "Change model of block 1"),
    ({"language": "de"}, "Change language of block 1"),
    ({"emotion": "happy"}, "Change emotion of block 1"),
    ({"speed": 1.25}, "Change speed of block 1"),
    ({"volume": 0.75}, "Change volume of block 1"),
])
def test_update_block_round_trip(editor: ScriptEditor, changes: dict[str, Any], name: str) -> None:
    before = _state(editor.document)
    editor.update_block(_ids(editor)[0], **changes)
    assert editor.stack.undoText() == name
    _round_trip(editor, before)


def test_update_block_without_a_change_makes_no_step(editor: ScriptEditor) -> None:
    editor.update_block(_ids(editor)[0], text="First block.", voice_id="v1")
    assert editor.stack.count() == 0


def test_update_block_refuses_fields_it_does_not_edit(editor: ScriptEditor) -> None:
    with pytest.raises(AttributeError):
        editor.update_block(_ids(editor)[0], takes=[])
    with pytest.raises(KeyError):
        editor.update_block("no-such-block", text="x")
    assert editor.stack.count() == 0


def test_add_take_undo_takes_it_out_and_restores_the_selection(editor: ScriptEditor) -> None:
    document = editor.document
    block_id = _ids(editor)[2]
    old = _take(1)
    document.add_take(block_id, old)
    before = _state(document)
    new = _take(2)
    editor.add_take(block_id, new)
    assert document.block(block_id).selected_take is new
    assert editor.stack.undoText() == "Generate block 3"
    _round_trip(editor, before)
    assert document.block(block_id).selected_take is old


def test_first_take_undone_leaves_no_selection(editor: ScriptEditor) -> None:
    block_id = _ids(editor)[0]
    before = _state(editor.document)
    editor.add_take(block_id, _take(1))
    _round_trip(editor, before)
    assert editor.document.block(block_id).selected_take_id is None


def test_select_take_round_trip_and_a_run_of_choices_is_one_step(editor: ScriptEditor) -> None:
    document = editor.document
    block_id = _ids(editor)[0]
    takes = [_take(n) for n in (1, 2, 3)]
    for take in takes:
        document.add_take(block_id, take)
    before = _state(document)
    editor.select_take(block_id, takes[0].id)
    editor.select_take(block_id, takes[1].id)
    assert editor.stack.count() == 1 and editor.stack.undoText() == "Select Take 2 of block 1"
    _round_trip(editor, before)
    editor.select_take(block_id, takes[0].id)
    editor.select_take(block_id, takes[2].id)  # back to where the run began: no step left
    assert editor.stack.count() == 0
    with pytest.raises(KeyError):
        editor.select_take(block_id, "no-such-take")


def test_delete_take_undo_puts_it_back_in_place_and_selected(editor: ScriptEditor) -> None:
    document = editor.document
    block_id = _ids(editor)[1]
    takes = [_take(n) for n in (1, 2, 3)]
    for take in takes:
        document.add_take(block_id, take)
    document.select_take(block_id, takes[1].id)
    before = _state(document)
    editor.delete_take(block_id, takes[1].id)
    assert [t.id for t in document.block(block_id).takes] == [takes[0].id, takes[2].id]
    assert editor.stack.undoText() == "Delete Take 2"
    _round_trip(editor, before)
    editor.delete_take(block_id, takes[0].id)  # not selected: undo leaves the selection alone
    assert document.block(block_id).selected_take_id == takes[1].id
    editor.stack.undo()
    assert _state(document) == before


def test_rename_and_star_round_trip(editor: ScriptEditor) -> None:
    document = editor.document
    block_id = _ids(editor)[0]
    take = _take(1)
    document.add_take(block_id, take)
    before = _state(document)
    editor.rename_take(block_id, take.id, "Keeper")
    assert document.take(block_id, take.id).name == "Keeper"
    assert editor.stack.undoText() == "Rename Take 1"
    _round_trip(editor, before)
    editor.set_starred(block_id, take.id, True)
    assert editor.stack.undoText() == "Star Take 1"
    _round_trip(editor, before)
    editor.set_starred(block_id, take.id, False)  # already unstarred: no step
    editor.rename_take(block_id, take.id, "Take 1")
    assert editor.stack.index() == 0


def test_a_paste_macro_undoes_as_one_step(editor: ScriptEditor) -> None:
    before = _state(editor.document)
    first = _ids(editor)[0]
    with editor.macro("Import script"):
        editor.update_block(first, text="Replaced.")
        editor.add_blocks(["A.", "B."], 1)
    assert editor.stack.count() == 1 and editor.stack.undoText() == "Import script"
    _round_trip(editor, before)


# --- typing merges ------------------------------------------------------------------------

def _type(editor: ScriptEditor, clock: Clock, block_id: str, text: str, gap: float = 0.2) -> None:
    """Type ``text`` after what the block has, one character at a time."""
    for char in text:
        clock.now += gap
        editor.update_block(block_id, text=editor.document.block(block_id).text + char)


def test_a_burst_of_typing_is_one_step_until_a_pause(editor: ScriptEditor, clock: Clock) -> None:
    block_id = _ids(editor)[0]
    _type(editor, clock, block_id, " Hello")
    assert editor.stack.count() == 1 and editor.stack.undoText() == "Typing in block 1"
    clock.now += TYPING_PAUSE + 0.5
    _type(editor, clock, block_id, " world")
    assert editor.stack.count() == 2
    editor.stack.undo()
    assert editor.document.block(block_id).text == "First block. Hello"
    editor.stack.undo()
    assert editor.document.block(block_id).text == "First block."


def test_typing_stops_merging_at_another_field_block_or_an_undo(editor: ScriptEditor,
                                                                clock: Clock) -> None:
    first, second = _ids(editor)[:2]
    _type(editor, clock, first, "ab")
    _type(editor, clock, second, "cd")  # another block
    _type(editor, clock, second, "ef")
    assert editor.stack.count() == 2
    editor.update_block(second, speed=1.1)  # another field
    _type(editor, clock, second, "g")
    assert editor.stack.count() == 4
    editor.stack.undo()
    _type(editor, clock, second, "h")  # right after an undo: a new step
    editor.stack.undo()
    assert editor.document.block(second).text == "Second block.cdef"


def test_typing_then_erasing_it_leaves_no_step(editor: ScriptEditor, clock: Clock) -> None:
    block_id = _ids(editor)[0]
    _type(editor, clock, block_id, "xy")
    clock.now += 0.3
    editor.update_block(block_id, text="First block.")
    assert editor.stack.count() == 0 and not editor.stack.canUndo()


def test_consecutive_edits_of_one_field_merge(editor: ScriptEditor, clock: Clock) -> None:
    block_id = _ids(editor)[0]
    for speed in (1.05, 1.1, 1.15):
        clock.now += 10  # no pause rule for fields other than text
        editor.update_block(block_id, speed=speed)
    assert editor.stack.count() == 1
    editor.stack.undo()
    assert editor.document.block(block_id).speed == 1.0


# --- vanished targets, reset and clear ------------------------------------------------------

def test_steps_whose_block_is_gone_do_nothing(editor: ScriptEditor, clock: Clock) -> None:
    document = editor.document
    first, second, third = _ids(editor)
    take = _take(1)
    document.add_take(first, take)
    editor.update_block(first, text="Changed.")
    editor.move_block(first, 2)
    editor.select_take(first, None)
    editor.add_take(first, _take(2))
    editor.delete_take(first, take.id)
    editor.rename_take(first, document.block(first).takes[0].id, "Gone soon")
    editor.remove_block(second)
    added = editor.add_block(text="New.")
    document.remove_block(first)  # outside the editor: not undoable, and allowed
    document.remove_block(added.id)
    while editor.stack.canUndo():  # pytest-qt fails the test on an exception in a command
        editor.stack.undo()
    assert _ids(editor) == [second, third]
    while editor.stack.canRedo():
        editor.stack.redo()
    assert _ids(editor) == [third]


def test_steps_whose_take_is_gone_do_nothing(editor: ScriptEditor) -> None:
    document = editor.document
    block_id = _ids(editor)[0]
    takes = [_take(1), _take(2)]
    for take in takes:
        document.add_take(block_id, take)
    editor.set_starred(block_id, takes[0].id, True)
    editor.select_take(block_id, takes[0].id)
    editor.add_take(block_id, _take(3))
    for take in list(document.block(block_id).takes):
        document.remove_take(block_id, take.id)
    while editor.stack.canUndo():
        editor.stack.undo()
    while editor.stack.canRedo():
        editor.stack.redo()
    assert document.block(block_id).takes == []


def test_opening_another_script_empties_the_stack(editor: ScriptEditor) -> None:
    editor.update_block(_ids(editor)[0], text="Edited.")
    editor.document.replace_script([Block(text="Another project.")])
    assert editor.stack.count() == 0
    editor.update_block(editor.document.blocks[0].id, text="Edited again.")
    editor.clear()
    assert editor.stack.count() == 0 and not editor.stack.canUndo()


# --- the Script panel ------------------------------------------------------------------------

@pytest.fixture
def panel(qtbot, editor: ScriptEditor) -> ScriptPanel:  # type: ignore[no-untyped-def]
    panel = ScriptPanel(editor.document, editor, VoiceCatalog(editor.document))
    qtbot.addWidget(panel)
    return panel


def test_view_edits_go_through_the_editor(panel: ScriptPanel, editor: ScriptEditor) -> None:
    block_id = _ids(editor)[0]
    assert panel.current_block_id == block_id
    view = panel.inspector
    view.speed_spin.setValue(1.3)
    view.emotion_combo.setCurrentIndex(view.emotion_combo.findData("calm"))
    view.language_combo.setCurrentText("es")
    view.model_combo.setCurrentText("sonic-2")
    assert editor.stack.count() == 4
    while editor.stack.canUndo():
        editor.stack.undo()
    block = editor.document.block(block_id)
    assert (block.speed, block.emotion, block.language, block.model_id) == (1.0, None, "en",
                                                                           "sonic-3")
    assert view.speed_spin.value() == 1.0 and view.emotion_combo.currentData() is None
    assert view.language_combo.currentText() == "en"


def test_undone_text_is_shown_without_a_new_step_and_cursor_at_the_change(
        panel: ScriptPanel, editor: ScriptEditor, qtbot) -> None:  # type: ignore[no-untyped-def]
    block_id = _ids(editor)[1]
    panel.set_current(block_id)
    view = panel
    assert view.text_edit.toPlainText() == "Second block."  # the inline editor is open
    editor.update_block(block_id, text="Second, much better, block.")
    assert view.text_edit.toPlainText() == "Second, much better, block."
    cursor = view.text_edit.textCursor()
    assert cursor.position() == len("Second, much better,")  # the end of what changed
    editor.stack.undo()
    assert view.text_edit.toPlainText() == "Second block."
    assert view.text_edit.textCursor().position() == len("Second")
    assert editor.stack.count() == 1 and editor.stack.index() == 0, "no echo of the undo"
    assert not view.text_edit.isUndoRedoEnabled()


def test_text_beyond_the_basic_plane_keeps_positions_right(panel: ScriptPanel,
                                                           editor: ScriptEditor) -> None:
    block_id = _ids(editor)[0]
    view = panel
    assert view.text_edit.block_id == block_id
    editor.update_block(block_id, text="🎙️ First block.")
    editor.update_block(block_id, speed=1.1)
    editor.update_block(block_id, text="🎙️ First block, again.")
    assert view.text_edit.toPlainText() == "🎙️ First block, again."
    editor.stack.undo()
    editor.stack.undo()
    assert view.text_edit.toPlainText() == "🎙️ First block."


def test_take_list_follows_removed_and_renamed_takes(panel: ScriptPanel,
                                                     editor: ScriptEditor) -> None:
    block_id = _ids(editor)[0]
    view = panel.inspector
    takes = [_take(1), _take(2)]
    for take in takes:
        editor.add_take(block_id, take)
    assert view.take_list.count() == 2
    editor.rename_take(block_id, takes[0].id, "Warm read")
    editor.set_starred(block_id, takes[0].id, True)
    assert view.take_list.item(1).text().startswith("★ Warm read")
    editor.delete_take(block_id, takes[1].id)
    assert view.take_list.count() == 1
    assert view.take_list.currentItem().data(Qt.ItemDataRole.UserRole) == takes[0].id
    editor.stack.undo()
    assert view.take_list.count() == 2
    assert view.take_list.currentItem().data(Qt.ItemDataRole.UserRole) == takes[1].id


def test_clicking_a_take_is_an_undoable_choice(panel: ScriptPanel, editor: ScriptEditor) -> None:
    block_id = _ids(editor)[0]
    view = panel.inspector
    takes = [_take(1), _take(2)]
    for take in takes:
        editor.document.add_take(block_id, take)
    view.take_list.setCurrentRow(1)  # newest first: row 1 is Take 1
    assert editor.document.block(block_id).selected_take_id == takes[0].id
    editor.stack.undo()
    assert editor.document.block(block_id).selected_take_id == takes[1].id
    assert view.take_list.currentRow() == 0


def test_reset_shows_the_new_script_and_the_first_block_is_current(
        panel: ScriptPanel, editor: ScriptEditor, qtbot) -> None:  # type: ignore[no-untyped-def]
    panel.set_current(_ids(editor)[2])
    old_edit = panel.text_edit
    blocks = [Block(text="Opened one."), Block(text="Opened two.")]
    with qtbot.waitSignal(panel.current_block_changed) as changed:
        editor.document.replace_script(blocks)
    assert changed.args == [blocks[0].id]
    rows = [panel.view.model().index(row, 0) for row in range(panel.view.model().rowCount())]
    assert [i.data(Role.BLOCK_ID) for i in rows] == [b.id for b in blocks]
    assert [i.data(Role.NUMBER) for i in rows] == [1, 2]
    assert panel.text_edit is not old_edit and panel.text_edit.block_id == blocks[0].id
    panel.set_current(blocks[1].id)
    assert panel.text_edit.toPlainText() == "Opened two."
    with qtbot.waitSignal(panel.current_block_changed) as changed:
        editor.document.replace_script([])
    assert changed.args == [""] and panel.view.model().rowCount() == 0
    assert panel.text_edit is None and not panel.inspector.isEnabled()


def test_undo_brings_the_changed_block_into_view(panel: ScriptPanel, editor: ScriptEditor) -> None:
    first, _second, third = _ids(editor)
    editor.update_block(third, volume=1.5)
    panel.set_current(first)
    editor.stack.undo()
    assert panel.current_block_id == third


# --- the window: keys and the Edit menu ---------------------------------------------------

@pytest.fixture
def studio(open_studio, qtbot):  # type: ignore[no-untyped-def]
    studio = open_studio()
    window = studio.window
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    return studio


def test_ctrl_z_in_the_text_box_undoes_a_burst_of_typing(studio, qtbot) -> None:  # type: ignore[no-untyped-def]
    window = studio.window
    block_id = window.add_block()
    view = window.script_panel
    qtbot.waitUntil(lambda: view.text_edit is not None and view.text_edit.hasFocus())
    qtbot.keyClicks(view.text_edit, "Hello there")
    assert window.undo_action.text() == "Undo Typing in block 1"
    qtbot.keyClick(view.text_edit, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert view.text_edit.toPlainText() == ""
    assert studio.document.block(block_id).text == ""
    assert window.undo_action.text() == "Undo Add block 1"
    qtbot.keyClick(view.text_edit, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert studio.document.block(block_id).text == "Hello there"
    assert view.text_edit.textCursor().position() == len("Hello there")
    qtbot.keyClick(view.text_edit, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(view.text_edit, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert view.text_edit.toPlainText() == "Hello there"
    qtbot.keyClick(view.inspector.speed_spin, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert studio.document.block(block_id).text == ""


def test_edit_menu_sits_after_file_and_names_what_undo_and_redo_do(studio) -> None:  # type: ignore[no-untyped-def]
    window = studio.window
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus[menus.index("&File") + 1] == "&Edit"
    edit = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    assert edit.actions()[:2] == [window.undo_action, window.redo_action]
    assert window.undo_action.text() == "Undo" and not window.undo_action.isEnabled()
    window.add_script_text("One.\n\nTwo.\n\nThree.", "Paste 3 blocks")
    assert window.undo_action.text() == "Undo Paste 3 blocks"
    window.undo_action.trigger()
    assert len(studio.document) == 0
    assert window.redo_action.text() == "Redo Paste 3 blocks" and window.redo_action.isEnabled()
    assert "Ctrl+Z" in [k.toString() for k in window.undo_action.shortcuts()]
    assert {"Ctrl+Shift+Z", "Ctrl+Y"} <= {k.toString() for k in window.redo_action.shortcuts()}


def test_window_block_operations_are_undoable(studio) -> None:  # type: ignore[no-untyped-def]
    window = studio.window
    document = studio.document
    a = window.add_block("A")
    b = window.add_block("B")
    take = _take(1)
    document.add_take(b, take)
    before = _state(document)
    assert window.script_panel.current_block_id == b
    window.script_panel.inspector.up_button.click()
    assert [x.text for x in document.blocks] == ["B", "A"]
    window.script_panel.inspector.remove_button.click()  # takes and all, no question: undoable
    assert [x.text for x in document.blocks] == ["A"]
    assert "Undo" in window.statusBar().currentMessage()
    window.undo_action.trigger()
    window.undo_action.trigger()
    assert _state(document) == before
    assert window.script_panel.current_block_id == b
    assert window.script_panel.inspector.take_list.count() == 1
    window.script_panel.set_current(a)
    assert window.add_script_text("Pasted one.\n\nPasted two.") == 2
    assert [x.text for x in document.blocks] == ["A", "Pasted one.", "Pasted two.", "B"]
    window.undo_action.trigger()
    assert _state(document) == before


def test_pasting_into_an_empty_block_fills_it_in_the_same_step(studio) -> None:  # type: ignore[no-untyped-def]
    window = studio.window
    block_id = window.add_block()
    window.add_script_text("Into the empty one.\n\nAnd a new one.", "Paste 2 blocks")
    assert [x.text for x in studio.document.blocks] == ["Into the empty one.", "And a new one."]
    assert studio.document.blocks[0].id == block_id
    window.undo_action.trigger()
    assert [x.text for x in studio.document.blocks] == [""]


def test_imported_control_characters_are_removed_with_a_notice(  # type: ignore[no-untyped-def]
        studio, qtbot, tmp_path: Path) -> None:
    window = studio.window
    script = tmp_path / "nul.txt"
    script.write_bytes(b"A wo\x00rd.\n\nSecond.")
    dialog = window.import_script(script)
    qtbot.waitUntil(lambda: dialog.import_button.isEnabled(), timeout=30_000)
    assert "U+0000 at line 1, column 5" in dialog.notices_label.text()
    dialog.import_button.click()
    assert [x.text for x in studio.document.blocks] == ["A word.", "Second."]
    assert window.statusBar().currentMessage() == "Imported 2 blocks"
