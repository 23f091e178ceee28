"""The take history panel (issue #3): listing, requests by signal, playback, A/B at
matched loudness, and refreshing from the document."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from datetime import datetime
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtWidgets import QApplication, QLineEdit

from studio.api.models import OutputFormat
from studio.audio.loudness import SILENT, db_to_gain, integrated_lufs
from studio.project.model import Block, Take, TakeAudio, make_take
from studio.services.document import ScriptDocument
from studio.timestamps import PhonemeTimestamps, WordTimestamps
from studio.ui.takes.take_table import COLUMNS, CREATED, NAME, STAR, STATE, created_label
from studio.ui.takes.takes_panel import COMPARE_GAP_SECONDS, TakesPanel

RATE = 24000
T0 = 1_700_000_000.0  # created_at of the first take, Unix seconds


def sine(seconds: float, amplitude: float, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def take_of(block: Block, number: int, audio: np.ndarray, *, words: int = 3,
            backend: str = "offline", credits: int = 0, text: str | None = None) -> Take:
    request = block.tts_request(OutputFormat(sample_rate=RATE)).to_json()
    if text is not None:
        request["transcript"] = text
    timestamps = WordTimestamps(tuple(f"w{i}" for i in range(words)),
                                tuple(float(i) for i in range(words)),
                                tuple(i + 0.5 for i in range(words)))
    take = make_take(audio, RATE, timestamps, PhonemeTimestamps(), request, backend, credits,
                     number)
    return replace(take, created_at=T0 + 60 * number)


@pytest.fixture
def document() -> ScriptDocument:
    """Block 1 with no takes; block 2 with three: an out-of-date Take 1, a loud starred
    Take 2 and Take 3 (selected) 6 dB quieter, made in that order."""
    document = ScriptDocument()
    document.add_block(text="An empty block.", voice_id="voice-a")
    block = document.add_block(text="Hello there, listener.", voice_id="voice-a")
    document.add_take(block.id, take_of(block, 1, sine(1.0, 0.3), text="Hello there."))
    document.add_take(block.id, replace(take_of(block, 2, sine(1.5, 0.5), words=4,
                                                backend="cloud", credits=23), starred=True))
    document.add_take(block.id, take_of(block, 3, sine(1.2, 0.5 * db_to_gain(-6.0))))
    return document


@pytest.fixture
def block_id(document: ScriptDocument) -> str:
    return document.blocks[1].id


@pytest.fixture
def panel(qtbot, document, playback, block_id):  # type: ignore[no-untyped-def]
    panel = TakesPanel(document, playback)
    qtbot.addWidget(panel)
    panel.resize(900, 320)
    panel.set_block(block_id)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def cells(panel: TakesPanel, column: int) -> list[str]:
    model = panel.model
    return [model.data(model.index(row, column)) for row in range(model.rowCount())]


def select_rows(panel: TakesPanel, *rows: int) -> None:
    panel.table.clearSelection()
    for row in rows:
        panel.table.selectionModel().select(
            panel.model.index(row, 0),
            panel.table.selectionModel().SelectionFlag.Select
            | panel.table.selectionModel().SelectionFlag.Rows)
    panel.table.selectionModel().setCurrentIndex(
        panel.model.index(rows[0], NAME), panel.table.selectionModel().SelectionFlag.NoUpdate)


def cell_center(panel: TakesPanel, row: int, column: int) -> QPoint:
    return panel.table.visualRect(panel.model.index(row, column)).center()


def double_click(qtbot, panel: TakesPanel, row: int, column: int) -> None:  # type: ignore[no-untyped-def]
    """Press, release, double-click, release: what a mouse sends."""
    viewport, pos = panel.table.viewport(), cell_center(panel, row, column)
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=pos)


def wait_idle(qloop, panel: TakesPanel) -> None:  # type: ignore[no-untyped-def]
    qloop.run_until_complete(asyncio.wait_for(panel.wait_idle(), 30))


# --- listing -----------------------------------------------------------------------


def test_lists_takes_newest_first_with_every_column(panel: TakesPanel) -> None:
    model = panel.model
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(len(COLUMNS))] == [
        "★", "Name", "Created", "Duration", "Words", "Backend", "Credits", "State"]
    rows = [[model.data(model.index(r, c)) for c in range(len(COLUMNS))]
            for r in range(model.rowCount())]
    assert [row[1:2] + row[3:] for row in rows] == [
        ["Take 3", "1.2 s", "3", "Offline", "free", "Selected"],
        ["Take 2", "1.5 s", "4", "Cloud", "23", ""],
        ["Take 1", "1.0 s", "3", "Offline", "free", "Out of date"],
    ]
    assert cells(panel, STAR) == ["☆", "★", "☆"]
    assert cells(panel, CREATED)[0] == created_label(T0 + 180)
    assert panel.stack.currentWidget() is panel.table
    assert panel.title_label.text().startswith("Block 2 · 3 takes")
    # The block's selected take starts out selected, so Space plays it.
    assert panel.selected_take_ids() == [panel.model.take_at(0).id]


def test_a_damaged_take_says_so_in_its_state(panel: TakesPanel, document, block_id) -> None:  # type: ignore[no-untyped-def]
    take = document.block(block_id).takes[0]  # Take 1
    take.source.damaged = True
    panel.set_block(block_id)
    assert cells(panel, STATE)[-1] == "Damaged: generate again"
    tip = panel.model.data(panel.model.index(2, STATE), Qt.ItemDataRole.ToolTipRole)
    assert "damaged" in tip and "Generate makes a new take" in tip


def test_newest_first_follows_creation_time_not_list_order(document, qtbot, playback,
                                                           block_id) -> None:  # type: ignore[no-untyped-def]
    block = document.block(block_id)
    document.add_take(block_id, replace(take_of(block, 4, sine(0.5, 0.1)), created_at=T0),
                      select=False, index=3)
    panel = TakesPanel(document, playback)
    qtbot.addWidget(panel)
    panel.set_block(block_id)
    assert cells(panel, NAME) == ["Take 3", "Take 2", "Take 1", "Take 4"]


def test_empty_block_id_and_a_block_without_takes_show_a_hint(panel, document) -> None:  # type: ignore[no-untyped-def]
    panel.set_block("")
    assert panel.stack.currentWidget() is panel.hint_label
    assert "Select a block" in panel.hint_label.text()
    assert panel.model.rowCount() == 0
    assert not panel.play_action.isEnabled() and not panel.delete_action.isEnabled()
    panel.set_block(document.blocks[0].id)
    assert panel.stack.currentWidget() is panel.hint_label
    assert "No takes of block 1" in panel.hint_label.text()


def test_an_unknown_block_is_refused(panel: TakesPanel) -> None:
    with pytest.raises(KeyError):
        panel.set_block("no-such-block")


# --- requests ----------------------------------------------------------------------


def test_clicking_a_star_requests_the_toggle(panel, qtbot, block_id) -> None:  # type: ignore[no-untyped-def]
    viewport = panel.table.viewport()
    take_2, take_3 = panel.model.take_at(1), panel.model.take_at(0)
    with qtbot.waitSignal(panel.star_requested) as blocker:
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=cell_center(panel, 1, STAR))
    assert blocker.args == [block_id, take_2.id, False]
    with qtbot.waitSignal(panel.star_requested) as blocker:
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=cell_center(panel, 0, STAR))
    assert blocker.args == [block_id, take_3.id, True]


def test_double_clicking_a_star_toggles_it_once_and_plays_nothing(panel, qtbot, document,
                                                                  players) -> None:  # type: ignore[no-untyped-def]
    panel.star_requested.connect(
        lambda block_id, take_id, starred: document.update_take(block_id, take_id,
                                                                 starred=starred))
    double_click(qtbot, panel, 1, STAR)
    assert cells(panel, STAR) == ["☆", "☆", "☆"]
    assert players == []


def test_star_button_stars_the_selection_or_unstars_it(panel, qtbot, block_id) -> None:  # type: ignore[no-untyped-def]
    select_rows(panel, 0, 1)  # Take 3 unstarred, Take 2 starred
    assert panel.star_action.text() == "Star"
    with qtbot.waitSignal(panel.star_requested) as blocker:
        panel.star_action.trigger()
    assert blocker.args == [block_id, panel.model.take_at(0).id, True]
    select_rows(panel, 1)
    assert panel.star_action.text() == "Unstar"
    with qtbot.waitSignal(panel.star_requested) as blocker:
        panel.star_action.trigger()
    assert blocker.args == [block_id, panel.model.take_at(1).id, False]


def test_use_this_take_requests_the_selection(panel, qtbot, block_id) -> None:  # type: ignore[no-untyped-def]
    assert not panel.use_action.isEnabled()  # Take 3 is already the selected take
    select_rows(panel, 2)
    assert panel.use_action.isEnabled()
    with qtbot.waitSignal(panel.select_requested) as blocker:
        panel.use_action.trigger()
    assert blocker.args == [block_id, panel.model.take_at(2).id]
    select_rows(panel, 1, 2)
    assert not panel.use_action.isEnabled()


def test_delete_key_and_button_request_deletion_of_every_selected_take(panel, qtbot,
                                                                       block_id) -> None:  # type: ignore[no-untyped-def]
    requests: list[list[Any]] = []
    panel.delete_requested.connect(lambda *args: requests.append(list(args)))
    select_rows(panel, 1)
    panel.table.setFocus()
    qtbot.keyClick(panel.table, Qt.Key.Key_Delete)
    assert requests == [[block_id, panel.model.take_at(1).id]]
    requests.clear()
    select_rows(panel, 0, 2)
    panel.delete_action.trigger()
    assert requests == [[block_id, panel.model.take_at(0).id],
                        [block_id, panel.model.take_at(2).id]]


def test_the_panel_never_changes_the_document_itself(panel, document, block_id) -> None:  # type: ignore[no-untyped-def]
    before = list(document.block(block_id).takes)
    selected = document.block(block_id).selected_take_id
    select_rows(panel, 1, 2)
    panel.delete_action.trigger()
    panel.star_action.trigger()
    select_rows(panel, 2)
    panel.use_action.trigger()
    assert document.block(block_id).takes == before
    assert document.block(block_id).selected_take_id == selected


def _editor(panel: TakesPanel) -> QLineEdit:
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit), editor
    return editor


def test_rename_in_place_with_f2(panel, qtbot, block_id) -> None:  # type: ignore[no-untyped-def]
    panel.activateWindow()
    select_rows(panel, 1)
    panel.table.setFocus()
    qtbot.keyClick(panel.table, Qt.Key.Key_F2)
    editor = _editor(panel)
    assert editor.text() == "Take 2"
    editor.setText("  Warm read ")
    with qtbot.waitSignal(panel.rename_requested) as blocker:
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert blocker.args == [block_id, panel.model.take_at(1).id, "Warm read"]


def test_rename_button_and_double_click_open_the_editor(panel, qtbot, block_id) -> None:  # type: ignore[no-untyped-def]
    panel.activateWindow()
    select_rows(panel, 2)
    panel.rename_action.trigger()
    editor = _editor(panel)
    assert editor.text() == "Take 1"
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    double_click(qtbot, panel, 0, NAME)
    editor = _editor(panel)
    editor.setText("Keeper")
    with qtbot.waitSignal(panel.rename_requested) as blocker:
        qtbot.keyClick(editor, Qt.Key.Key_Enter)
    assert blocker.args == [block_id, panel.model.take_at(0).id, "Keeper"]


def test_an_empty_name_is_refused(panel, qtbot) -> None:  # type: ignore[no-untyped-def]
    panel.activateWindow()
    select_rows(panel, 0)
    panel.rename_action.trigger()
    editor = _editor(panel)
    editor.setText("   ")
    with qtbot.assertNotEmitted(panel.rename_requested):
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert cells(panel, NAME)[0] == "Take 3"
    # The same name again is no rename either.
    assert not panel.model.setData(panel.model.index(0, NAME), "Take 3")


# --- playing -----------------------------------------------------------------------


def test_space_plays_the_current_take_and_stops_it(panel, qtbot, qloop, players) -> None:  # type: ignore[no-untyped-def]
    select_rows(panel, 1)
    panel.table.setFocus()
    qtbot.keyClick(panel.table, Qt.Key.Key_Space)
    wait_idle(qloop, panel)
    take = panel.model.take_at(1)
    assert players[-1].sample_rate == RATE
    assert np.array_equal(players[-1].played(), take.audio)
    assert panel.play_action.text() == "Stop"
    assert panel.status_label.text() == "▶ Take 2"
    assert panel.selected_take_ids() == [take.id]  # Space did not change the selection
    qtbot.keyClick(panel.table, Qt.Key.Key_Space)
    assert not panel.playback.is_playing
    assert panel.play_action.text() == "Play"
    assert panel.status_label.text() == ""


def test_double_clicking_a_row_plays_that_take(panel, qtbot, qloop, players) -> None:  # type: ignore[no-untyped-def]
    double_click(qtbot, panel, 2, STATE)
    wait_idle(qloop, panel)
    assert np.array_equal(players[-1].played(), panel.model.take_at(2).audio)


def test_playback_ending_resets_the_play_button(panel, qtbot, qloop, players) -> None:  # type: ignore[no-untyped-def]
    panel.play_action.trigger()
    wait_idle(qloop, panel)
    with qtbot.waitSignal(panel.playback.stopped):
        players[-1].finish()
    assert panel.play_action.text() == "Play"


def test_audio_is_read_only_to_play_and_off_the_ui_thread(qtbot, qloop, document, playback,
                                                          players, block_id) -> None:  # type: ignore[no-untyped-def]
    samples = sine(0.8, 0.4)
    reads: list[threading.Thread] = []

    def loader() -> np.ndarray:
        reads.append(threading.current_thread())
        return samples

    block = document.block(block_id)
    lazy = replace(take_of(block, 9, samples),
                   source=TakeAudio(RATE, samples.shape[0], loader=loader))
    document.add_take(block_id, lazy)
    panel = TakesPanel(document, playback)
    qtbot.addWidget(panel)
    panel.set_block(block_id)
    document.update_take(block_id, lazy.id, starred=True)
    document.update_block(block_id, text="Changed.")
    assert reads == [] and cells(panel, NAME)[0] == "Take 9"
    panel.play_action.trigger()
    wait_idle(qloop, panel)
    assert len(reads) == 1 and reads[0] is not threading.main_thread()
    assert np.array_equal(players[-1].played(), samples)


def test_a_take_that_cannot_be_read_is_reported(qtbot, qloop, document, playback,
                                                block_id) -> None:  # type: ignore[no-untyped-def]
    def loader() -> np.ndarray:
        raise OSError("disk gone")

    block = document.block(block_id)
    broken = replace(take_of(block, 9, sine(0.5, 0.1)),
                     source=TakeAudio(RATE, RATE // 2, loader=loader))
    document.add_take(block_id, broken)
    panel = TakesPanel(document, playback)
    qtbot.addWidget(panel)
    panel.set_block(block_id)
    panel.play_action.trigger()
    wait_idle(qloop, panel)
    assert "disk gone" in panel.status_label.text()
    assert panel.status_label.property("error") is True
    assert not playback.is_playing


# --- A/B ---------------------------------------------------------------------------


def test_compare_needs_exactly_two_takes(panel: TakesPanel) -> None:
    select_rows(panel, 0)
    assert not panel.compare_action.isEnabled()
    select_rows(panel, 0, 1)
    assert panel.compare_action.isEnabled()
    select_rows(panel, 0, 1, 2)
    assert not panel.compare_action.isEnabled()


def test_compare_plays_older_then_newer_at_matched_loudness(panel, qloop, players) -> None:  # type: ignore[no-untyped-def]
    select_rows(panel, 0, 1)  # Take 3 (quieter by 6 dB) and Take 2
    panel.compare_action.trigger()
    wait_idle(qloop, panel)
    take_a, take_b = panel.model.take_at(1), panel.model.take_at(0)
    played = players[-1].played()
    a_frames, gap = take_a.frames, round(COMPARE_GAP_SECONDS * RATE)
    assert played.shape[0] == a_frames + gap + take_b.frames
    a, pause, b = played[:a_frames], played[a_frames:a_frames + gap], played[a_frames + gap:]
    assert not pause.any()
    # A, the louder take, was turned down; B plays as it is.
    assert np.array_equal(b, take_b.audio)
    assert integrated_lufs(a, RATE) == pytest.approx(integrated_lufs(b, RATE), abs=0.5)
    assert integrated_lufs(take_a.audio, RATE) - integrated_lufs(a, RATE) == pytest.approx(
        6.0, abs=0.1)
    assert np.abs(a).max() <= np.abs(take_a.audio).max()
    assert panel.status_label.text() == "▶ A: Take 2 (−6.0 dB) → B: Take 3 (0.0 dB)"
    assert "LUFS" in panel.status_label.toolTip()
    # No device clock here: report the position the service would poll.
    panel.playback.position_changed.emit(take_a.duration + COMPARE_GAP_SECONDS)
    assert panel.status_label.text() == "A: Take 2 (−6.0 dB) → ▶ B: Take 3 (0.0 dB)"
    panel.playback.stop()
    assert panel.status_label.text() == "A: Take 2 (−6.0 dB) → B: Take 3 (0.0 dB)"


def test_compare_with_a_silent_take_plays_both_unchanged(qtbot, qloop, document, playback,
                                                         players, block_id) -> None:  # type: ignore[no-untyped-def]
    block = document.block(block_id)
    document.add_take(block_id, take_of(block, 4, np.zeros(RATE // 2, np.float32)))
    panel = TakesPanel(document, playback)
    qtbot.addWidget(panel)
    panel.set_block(block_id)
    select_rows(panel, 0, 1)
    panel.compare_action.trigger()
    wait_idle(qloop, panel)
    played = players[-1].played()
    loud = panel.model.take_at(1).audio
    assert np.array_equal(played[:loud.shape[0]], loud)
    assert "(0.0 dB) → B: Take 4 (0.0 dB)" in panel.status_label.text()
    assert "silent" in panel.status_label.toolTip()
    silent_take = panel.model.take_at(0)
    assert panel._lufs[(silent_take.id, silent_take.edits)] == SILENT


def test_compare_resamples_a_take_at_another_rate(qtbot, qloop, document, playback, players,
                                                  block_id) -> None:  # type: ignore[no-untyped-def]
    block = document.block(block_id)
    other = take_of(block, 4, sine(1.0, 0.2))
    other = replace(other, source=TakeAudio.of(sine(1.0, 0.2)[: RATE // 2 * 2], RATE * 2))
    document.add_take(block_id, other)
    panel = TakesPanel(document, playback)
    qtbot.addWidget(panel)
    panel.set_block(block_id)
    select_rows(panel, 0, 1)
    panel.compare_action.trigger()
    wait_idle(qloop, panel)
    assert players[-1].sample_rate == RATE
    take_a = panel.model.take_at(1)
    expected = take_a.frames + round(COMPARE_GAP_SECONDS * RATE) + other.frames // 2
    assert abs(players[-1].played().shape[0] - expected) <= 2


# --- following the document --------------------------------------------------------


def test_refreshes_on_take_added_removed_and_changed_keeping_the_selection(
        panel, document, block_id) -> None:  # type: ignore[no-untyped-def]
    block = document.block(block_id)
    take_2 = panel.model.take_at(1)
    select_rows(panel, 1)
    new = take_of(block, 4, sine(0.5, 0.2))
    document.add_take(block_id, new, select=False)
    assert cells(panel, NAME) == ["Take 4", "Take 3", "Take 2", "Take 1"]
    assert panel.selected_take_ids() == [take_2.id]
    document.remove_take(block_id, new.id)
    assert cells(panel, NAME) == ["Take 3", "Take 2", "Take 1"]
    assert panel.selected_take_ids() == [take_2.id]
    document.update_take(block_id, take_2.id, name="Best so far", starred=False)
    assert cells(panel, NAME)[1] == "Best so far" and cells(panel, STAR)[1] == "☆"
    assert panel.selected_take_ids() == [take_2.id]
    document.select_take(block_id, take_2.id)
    assert cells(panel, STATE) == ["", "Selected", "Out of date"]
    assert panel.title_label.text().startswith("Block 2 · 3 takes")


def test_deleting_the_selected_takes_selects_the_next_one(panel, document, block_id) -> None:  # type: ignore[no-untyped-def]
    panel.delete_requested.connect(document.remove_take)
    take_1 = panel.model.take_at(2)
    select_rows(panel, 1)
    panel.delete_action.trigger()
    assert cells(panel, NAME) == ["Take 3", "Take 1"]
    assert panel.selected_take_ids() == [take_1.id]
    panel.delete_action.trigger()
    assert cells(panel, NAME) == ["Take 3"]
    assert panel.selected_take_ids() == [panel.model.take_at(0).id]


def test_a_block_edit_marks_its_takes_out_of_date(panel, document, block_id) -> None:  # type: ignore[no-untyped-def]
    document.update_block(block_id, text="Something else entirely.")
    assert cells(panel, STATE) == ["Selected, out of date", "Out of date", "Out of date"]


def test_other_blocks_do_not_disturb_the_panel(panel, document, block_id) -> None:  # type: ignore[no-untyped-def]
    select_rows(panel, 2)
    other = document.blocks[0]
    document.add_take(other.id, take_of(other, 1, sine(0.3, 0.1)))
    document.update_block(other.id, text="Also changed.")
    assert panel.model.rowCount() == 3 and panel.selected_take_ids() == [
        panel.model.take_at(2).id]
    document.move_block(block_id, 0)
    assert panel.title_label.text().startswith("Block 1 ·")
    document.remove_block(other.id)
    assert panel.block_id == block_id and panel.model.rowCount() == 3


def test_removing_the_shown_block_empties_the_panel(panel, document, block_id) -> None:  # type: ignore[no-untyped-def]
    document.remove_block(block_id)
    assert panel.block_id == ""
    assert panel.model.rowCount() == 0
    assert panel.stack.currentWidget() is panel.hint_label
    document.add_take(document.blocks[0].id, take_of(document.blocks[0], 1, sine(0.3, 0.1)))
    assert panel.model.rowCount() == 0


def test_a_reset_without_the_block_empties_the_panel(panel, document) -> None:  # type: ignore[no-untyped-def]
    document.replace_script([Block(text="A new project.")])
    assert panel.block_id == "" and panel.model.rowCount() == 0
    assert panel.stack.currentWidget() is panel.hint_label


def test_a_reset_that_keeps_the_block_keeps_showing_it(panel, document, block_id) -> None:  # type: ignore[no-untyped-def]
    select_rows(panel, 2)
    kept = panel.model.take_at(2).id
    document.replace_script(document.blocks)
    assert panel.block_id == block_id and panel.model.rowCount() == 3
    assert panel.selected_take_ids() == [kept]


def test_a_comparison_for_a_block_no_longer_shown_does_not_play(panel, qloop, players,
                                                                document) -> None:  # type: ignore[no-untyped-def]
    select_rows(panel, 0, 1)
    panel.compare_action.trigger()
    panel.set_block(document.blocks[0].id)
    wait_idle(qloop, panel)
    assert players == []
    assert panel.status_label.text() == ""


def test_model_has_no_rows_under_a_row(panel: TakesPanel) -> None:
    assert panel.model.rowCount(panel.model.index(0, 0)) == 0
    assert panel.model.data(QModelIndex()) is None


def test_created_is_compact_and_dated_when_not_today() -> None:
    now = datetime(2026, 11, 21, 15, 0).timestamp()
    assert created_label(datetime(2026, 11, 21, 9, 5).timestamp(), now) == "09:05"
    assert created_label(datetime(2026, 3, 2, 9, 5).timestamp(), now) == "Mar 02 09:05"
    assert created_label(datetime(2025, 3, 2, 9, 5).timestamp(), now) == "2025-03-02"
