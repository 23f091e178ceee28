"""The Script panel on a 10 000-block script (issue 15): selecting with the mouse and
by chapter, speaker and state, typing inline with undo, the inspector over a
selection as one undo step, filters, scrolling to a block and the playhead."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QUndoStack

from studio.api.models import OutputFormat
from studio.config import Settings
from studio.project.model import Block, make_take
from studio.services.document import ScriptDocument
from studio.services.editor import ScriptEditor
from studio.services.voices import VoiceCatalog
from studio.timestamps import PhonemeTimestamps, WordTimestamps
from studio.ui.script.script_model import Role
from studio.ui.script.script_panel import ScriptPanel

SIZE = 10_000
SENTENCE = "The storm rolled in over the hills, and nobody in the valley slept. "


def take_of(block: Block):  # type: ignore[no-untyped-def]
    """A take of ``block`` as it reads now."""
    request = block.tts_request(OutputFormat(), "").to_json()
    return make_take(np.zeros(1600, np.float32), 16000, WordTimestamps(), PhonemeTimestamps(),
                     request, "offline", 0, 1)


@pytest.fixture
def script(qtbot):  # type: ignore[no-untyped-def]
    """A shown panel over 10 000 blocks: a chapter every 100, Ada says every third
    block, every 500th is flagged, every 700th locked, the first 20 have takes."""
    document = ScriptDocument()
    document.insert_blocks([
        Block(text=f"{n}. " + SENTENCE * (1 + n % 4), voice_id="v", speaker="Ada"
              if n % 3 == 0 else "Narrator",
              chapter=f"Chapter {n // 100 + 1}" if n % 100 == 0 else None,
              flag="breath" if n % 500 == 0 else None, locked=n % 700 == 0)
        for n in range(SIZE)])
    for n in range(20):
        block = document.block_at(n)
        document.add_take(block.id, take_of(block))
    editor = ScriptEditor(document, QUndoStack())
    panel = ScriptPanel(document, editor, VoiceCatalog())
    qtbot.addWidget(panel)
    panel.resize(1100, 700)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def ids(panel: ScriptPanel, *rows: int) -> list[str]:
    return [panel.document.block_at(row).id for row in rows]


def header_point(panel: ScriptPanel, row: int) -> QPoint:
    """A point on the header of the card at ``row`` (not its text, where the inline
    editor of the current block sits)."""
    rect = panel.view.visualRect(panel.filter.index(row, 0))
    return QPoint(rect.center().x(), rect.top() + 12)


def is_shown(panel: ScriptPanel, block_id: str) -> bool:
    index = panel.filter.mapFromSource(panel.model.index_of(block_id))
    rect = panel.view.visualRect(index)
    return rect.isValid() and panel.view.viewport().rect().intersects(rect)


def test_click_shift_click_ctrl_click_and_select_all(script: ScriptPanel, qtbot) -> None:  # type: ignore[no-untyped-def]
    viewport = script.view.viewport()
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=header_point(script, 1))
    assert script.current_block_id == ids(script, 1)[0]
    assert script.selected_block_ids() == ids(script, 1)
    told: list[list[str]] = []
    script.selection_changed.connect(told.append)
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.ShiftModifier, header_point(script, 3))
    rows = {b: n for n, b in enumerate(ids(script, *range(6)))}
    assert [rows.get(b) for b in told[-1]] == [1, 2, 3]
    assert told[-1] == script.selected_block_ids()
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.ControlModifier, header_point(script, 0))
    assert script.selected_block_ids() == ids(script, 0, 1, 2, 3)
    assert script.inspector.title.text() == "4 blocks selected"
    script.select_all()
    selected = script.selected_block_ids()
    assert len(selected) == SIZE and selected[-1] == ids(script, SIZE - 1)[0]


def test_select_chapter_speaker_and_state(script: ScriptPanel) -> None:
    script.select_chapter(ids(script, 250)[0])
    assert script.selected_block_ids() == ids(script, *range(200, 300))
    script.select_speaker("Ada")
    selected = script.selected_block_ids()
    assert len(selected) == len(range(0, SIZE, 3)) and selected[:2] == ids(script, 0, 3)
    script.select_status("locked")
    assert script.selected_block_ids() == ids(script, *range(0, SIZE, 700))
    with pytest.raises(ValueError, match="unknown block filter 'loud'"):
        script.select_status("loud")


def test_typing_inline_and_undo(script: ScriptPanel, qtbot) -> None:  # type: ignore[no-untyped-def]
    block_id = ids(script, 5000)[0]
    before = script.document.block(block_id).text
    script.focus_block(block_id)
    edit = script.text_edit
    assert edit is not None and edit.block_id == block_id
    qtbot.waitUntil(edit.hasFocus, timeout=10_000)
    qtbot.waitUntil(lambda: is_shown(script, block_id), timeout=10_000)
    qtbot.keyClicks(edit, " Hi")
    assert script.document.block(block_id).text == before + " Hi"
    assert script.editor.stack.count() == 1, "a burst of typing is one step"
    script.editor.stack.undo()
    assert script.document.block(block_id).text == before
    assert edit.toPlainText() == before


def test_the_inspector_changes_a_selection_in_one_undo_step(script: ScriptPanel, qtbot) -> None:  # type: ignore[no-untyped-def]
    chosen = ids(script, 10, 11, 12)
    script.editor.update_block(chosen[1], speed=1.4, emotion="calm")
    steps = script.editor.stack.count()
    script.select_blocks(chosen)
    inspector = script.inspector
    assert inspector.speed_spin.text() == "mixed" and inspector.emotion_combo.currentIndex() == -1
    inspector.speed_spin.setValue(1.25)
    assert [script.document.block(b).speed for b in chosen] == [1.25] * 3
    assert script.editor.stack.count() == steps + 1
    assert script.editor.stack.undoText() == "Change speed of 3 blocks"
    script.editor.stack.undo()
    assert [script.document.block(b).speed for b in chosen] == [1.0, 1.4, 1.0]
    qtbot.waitUntil(lambda: inspector.speed_spin.text() == "mixed")  # shown once per step
    inspector.emotion_combo.setCurrentIndex(inspector.emotion_combo.findData("happy"))
    assert {script.document.block(b).emotion for b in chosen} == {"happy"}
    assert script.selected_block_ids() == chosen, "the selection stays"


def test_locked_blocks_in_a_selection_keep_their_voice(script: ScriptPanel) -> None:
    chosen = ids(script, 699, 700, 701)  # 700 is locked
    script.select_blocks(chosen)
    script.inspector.model_combo.setCurrentText("sonic-2")
    script.inspector._on_model()  # what Return or leaving the box does
    assert [script.document.block(b).model_id for b in chosen] == ["sonic-2", "sonic-3",
                                                                   "sonic-2"]
    assert "1 block locked" in script.inspector.status_label.text()


def test_scroll_to_block_brings_it_into_view(script: ScriptPanel, qtbot) -> None:  # type: ignore[no-untyped-def]
    far = ids(script, 9000)[0]
    assert not is_shown(script, far)
    script.scroll_to_block(far)
    qtbot.waitUntil(lambda: is_shown(script, far), timeout=10_000)


def test_filters_show_flagged_locked_and_stale_blocks(script: ScriptPanel) -> None:
    script.set_filter("flagged")
    shown = [script.filter.index(r, 0).data(Role.BLOCK_ID) for r in range(script.filter.rowCount())]
    assert shown == ids(script, *range(0, SIZE, 500))
    assert script.count_label.text() == f"20 of {SIZE:,} blocks"
    script.set_filter("locked")
    assert script.filter.rowCount() == len(range(0, SIZE, 700))
    script.set_filter("stale")
    assert script.filter.rowCount() == 0
    script.set_filter("all")
    script.editor.update_block(ids(script, 5)[0], text="Reworded.")
    script.set_filter("stale")
    assert script.filter.rowCount() == 1
    assert script.filter.index(0, 0).data(Role.BLOCK_ID) == ids(script, 5)[0]
    assert script.filter_combo.currentData() == "stale"
    script.set_filter("missing_voice")
    assert script.filter.rowCount() == 0
    with pytest.raises(ValueError, match="choose one of all, flagged"):
        script.set_filter("nope")


def test_set_playing_paints_the_playhead_and_scrolls_to_it(script: ScriptPanel, qtbot) -> None:  # type: ignore[no-untyped-def]
    playing = ids(script, 7000)[0]
    script.set_playing(playing)
    qtbot.waitUntil(lambda: is_shown(script, playing), timeout=10_000)
    assert script.model.index_of(playing).data(Role.PLAYING)
    script.set_playing("")
    assert not script.model.index_of(playing).data(Role.PLAYING)


def test_generate_one_block_from_the_inspector(open_studio, qtbot, qloop) -> None:  # type: ignore[no-untyped-def]
    studio = open_studio(Settings(play_while_generating=False))
    window = studio.window
    fields = window._new_block_fields()  # the default voice, as Add block gives
    studio.editor.add_blocks([{**fields, "text": f"Line {n} of a long script."}
                              for n in range(SIZE)])
    panel = window.script_panel
    target = studio.document.block_at(SIZE - 2).id
    panel.set_current(target)
    assert panel.inspector.generate_button.isEnabled()
    finished: list[str] = []
    studio.generation.job_finished.connect(lambda block_id, _take: finished.append(block_id))
    panel.inspector.generate_button.click()
    qloop.run_until_complete(asyncio.wait_for(studio.generation.wait_idle(), 60))
    assert finished == [target]
    assert studio.document.block(target).selected_take is not None
    assert panel.status_text(target) == "Take 1 ready"
    assert panel.inspector.take_list.count() == 1


def test_a_block_that_gains_a_line_gets_a_taller_card(script: ScriptPanel, qtbot) -> None:  # type: ignore[no-untyped-def]
    """An edit that wraps the text to one more line moves the blocks below down, however
    the inline editor happened to measure the block first."""
    block_id = ids(script, 1)[0]
    script.focus_block(block_id)
    index = script.filter.index(1, 0)
    before = script.view.visualRect(index).height()
    below = script.view.visualRect(script.filter.index(2, 0)).top()
    script.editor.update_block(block_id, text=script.document.block(block_id).text + " x" * 80)
    qtbot.waitUntil(lambda: script.view.visualRect(script.filter.index(2, 0)).top() > below,
                    timeout=10_000)
    assert script.view.visualRect(index).height() > before
    assert script.text_edit.height() > 2 * script.text_edit.fontMetrics().lineSpacing()


def test_typing_at_the_bottom_edge_keeps_the_caret_in_sight(script: ScriptPanel, qtbot) -> None:  # type: ignore[no-untyped-def]
    block_id = ids(script, 300)[0]
    script.focus_block(block_id)
    edit = script.text_edit
    qtbot.waitUntil(edit.hasFocus, timeout=10_000)
    index = script.filter.mapFromSource(script.model.index_of(block_id))
    script.view.scrollTo(index, script.view.ScrollHint.PositionAtBottom)

    def laid_out() -> bool:  # the card grew to the text's lines
        lines = int(edit.document().size().height())
        return edit.height() >= lines * edit.fontMetrics().lineSpacing()

    qtbot.keyClicks(edit, " and the rain kept on" * 12)  # several more lines
    qtbot.waitUntil(laid_out, timeout=10_000)
    room = script.view.viewport().rect()
    qtbot.waitUntil(lambda: room.contains(edit.geometry().bottomLeft()), timeout=10_000)
