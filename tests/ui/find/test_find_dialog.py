"""The Find and Replace dialog (issue 15): preview rows, Replace all as one undo step
that undo reverses for every block, locked blocks skipped, bad regexes explained."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoStack

from studio.services.document import ScriptDocument
from studio.services.editor import ScriptEditor
from studio.ui.find.find_replace_dialog import FindReplaceDialog
from studio.ui.find.preview_model import HTML_ROLE


@pytest.fixture
def dialog(qtbot, qloop) -> FindReplaceDialog:  # type: ignore[no-untyped-def]
    document = ScriptDocument()
    editor = ScriptEditor(document, QUndoStack(document), parent=document)
    texts = ["Smith, John walked in.", "Doe, Jane waved.", "Nobody here.",
             'Smith, Anna <break time="1s"/> paused.', "Locked: Smith, Carl."]
    for text in texts:
        document.add_block(text=text, voice_id="v")
    document.update_block(document.block_at(4).id, locked=True)
    widget = FindReplaceDialog(document, editor)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def _search(dialog: FindReplaceDialog, qloop: Any, find: str, replace: str = "",
            regex: bool = False) -> None:
    dialog.regex_box.setChecked(regex)
    dialog.replace_edit.setText(replace)
    dialog.find_edit.setText(find)
    dialog.search_now()
    qloop.run_until_complete(dialog.tasks.wait_idle())


def test_preview_lists_every_change_with_groups(dialog, qloop) -> None:  # type: ignore[no-untyped-def]
    _search(dialog, qloop, r"(\w+), (\w+)", r"\2 \1", regex=True)
    model = dialog.model
    assert model.rowCount() == 4
    assert [model.data(model.index(r, 0)) for r in range(4)] == ["#1", "#2", "#4", "#5 🔒"]
    assert model.data(model.index(0, 1)) == "[Smith, John → John Smith] walked in."
    assert "<s" in model.data(model.index(0, 1), HTML_ROLE)
    assert dialog.status_label.text() == (
        "4 matches in 4 blocks; 1 block locked (left alone by Replace all).")
    assert dialog.replace_button.isEnabled()


def test_replace_all_is_one_undo_step(dialog, qloop, qtbot) -> None:  # type: ignore[no-untyped-def]
    document, stack = dialog._document, dialog._editor.stack
    before = [b.text for b in document.blocks]
    _search(dialog, qloop, r"(\w+), (\w+)", r"\2 \1", regex=True)
    assert dialog.replace_all() == 3
    assert [b.text for b in document.blocks] == [
        "John Smith walked in.", "Jane Doe waved.", "Nobody here.",
        'Anna Smith <break time="1s"/> paused.', "Locked: Smith, Carl."]
    assert stack.count() == 1
    assert dialog.last_replace.startswith(
        "Replaced 3 matches in 3 blocks; 1 locked block skipped.")
    qloop.run_until_complete(dialog.tasks.wait_idle())
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 1, timeout=5000)  # the locked one
    assert not dialog.replace_button.isEnabled()
    stack.undo()
    assert [b.text for b in document.blocks] == before


def test_plain_whole_word_case_and_tags(dialog, qloop) -> None:  # type: ignore[no-untyped-def]
    dialog.word_box.setChecked(True)
    dialog.case_box.setChecked(True)
    _search(dialog, qloop, "time", "hour")
    assert dialog.model.rowCount() == 0
    assert "1 match inside inline tags" in dialog.status_label.text()
    _search(dialog, qloop, "smith", "X")
    assert dialog.model.rowCount() == 0  # Match case
    dialog.case_box.setChecked(False)
    _search(dialog, qloop, "smith", "X")
    assert dialog.model.rowCount() == 3


def test_bad_regex_is_explained(dialog, qloop) -> None:  # type: ignore[no-untyped-def]
    _search(dialog, qloop, "(Smith", regex=True)
    assert dialog.status_label.text() == (
        "Bad regex at position 1: missing ), unterminated subpattern")
    assert dialog.model.rowCount() == 0 and not dialog.replace_button.isEnabled()


def test_double_click_asks_for_the_block(dialog, qloop, qtbot) -> None:  # type: ignore[no-untyped-def]
    _search(dialog, qloop, "Doe")
    index = dialog.model.index(0, 1)
    dialog.preview.scrollTo(index)
    rect = dialog.preview.visualRect(index)
    with qtbot.waitSignal(dialog.block_requested, timeout=5000) as signal:
        # A view takes a double click as a press, a release and a double click.
        qtbot.mouseClick(dialog.preview.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(dialog.preview.viewport(), Qt.MouseButton.LeftButton,
                          pos=rect.center())
    assert signal.args == [dialog._document.block_at(1).id]


def test_typing_searches_after_a_pause(dialog, qloop, qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog.find_edit.setText("waved")
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 1, timeout=5000)
