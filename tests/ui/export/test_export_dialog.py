"""File → Export… as a user drives it: presets, extension questions, progress, cancel,
chapters, and what the project remembers. Real studio, offline engine, real files."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable
from pathlib import Path

import av
import pytest
from mutagen.id3 import ID3

from studio.app import Studio
from studio.config import Settings
from studio.project.export_settings import PRESETS
from studio.services.export import PRESETS_KEY
from studio.ui.export.export_dialog import ExportDialog
from studio.ui.script.script_menu import block_menu

LINES = ("The first chapter opens here. It is short.",
         "A second block of the first chapter.",
         "Chapter two begins with this line. Then it ends.")


def _wait(qloop, coro, timeout: float = 120.0):  # type: ignore[no-untyped-def]
    return qloop.run_until_complete(asyncio.wait_for(coro, timeout))


def _until(check: Callable[[], object], timeout: float = 120.0):  # type: ignore[no-untyped-def]
    async def wait() -> None:
        while not check():
            await asyncio.sleep(0.02)
    return asyncio.wait_for(wait(), timeout)


@pytest.fixture
def generated(open_studio, qloop) -> Studio:  # type: ignore[no-untyped-def]
    """A studio with three generated blocks; the third starts chapter "Part Two"."""
    studio = open_studio(Settings(pause_seconds=0.3, play_while_generating=False))
    window = studio.window
    for line in LINES:
        window.add_block(line)
    window.generate_all()
    _wait(qloop, studio.generation.wait_idle())
    assert len(studio.document.selected_takes()) == 3
    return studio


def _open_dialog(studio: Studio) -> ExportDialog:
    studio.window.export_action.trigger()
    dialog = studio.window.export_dialog
    assert dialog.isVisible()
    return dialog


def _export(qloop, dialog: ExportDialog) -> object:  # type: ignore[no-untyped-def]
    results: list[object] = []
    dialog.exported.connect(results.append)
    dialog.export_button.click()
    _wait(qloop, _until(lambda: results or (not dialog.service.busy and dialog.error_label.text()
                        and "Failed" in dialog.progress.format())))
    _wait(qloop, _until(lambda: not dialog.service.busy))
    return results[0] if results else None


def test_chapter_marks_are_undoable_and_shown(generated, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    studio, window = generated, generated.window
    third = studio.document.blocks[2].id
    window.script_panel.set_current(third)
    monkeypatch.setattr("studio.ui.window.main_window.QInputDialog.getText",
                        staticmethod(lambda *a, **k: ("  Part   Two ", True)))
    assert window.chapter_action.text() == "Start chapter here…"
    window.chapter_action.trigger()
    assert studio.document.block(third).chapter == "Part Two"
    panel = window.script_panel
    block = studio.document.block(third)
    assert panel.delegate.chapter_heading(block) == "Chapter: Part Two"
    rect = panel.view.visualRect(panel.filter.mapFromSource(panel.model.index_of(third)))
    assert not panel.delegate.chapter_rect(rect, block).isEmpty()
    assert window.chapter_action.text() == "Rename chapter…"
    assert window.remove_chapter_action.isEnabled()
    # The take is still current: a chapter mark is not part of what is generated.
    block = studio.document.block(third)
    assert block.selected_take is not None and studio.document.is_current(
        block, block.selected_take
    )
    window.undo_action.trigger()
    assert studio.document.block(third).chapter is None
    assert panel.delegate.chapter_heading(studio.document.block(third)) == ""
    window.redo_action.trigger()
    assert studio.document.block(third).chapter == "Part Two"
    menu = block_menu(panel, third)
    actions = {a.text(): a for a in menu.actions()}
    assert {"Rename chapter…", "Remove chapter mark"} <= set(actions)
    actions["Remove chapter mark"].trigger()
    assert studio.document.block(third).chapter is None


def test_podcast_mp3_with_chapters_and_tags_from_the_dialog(generated, qtbot, qloop,  # type: ignore[no-untyped-def]
                                                             tmp_path: Path) -> None:
    studio = generated
    studio.window.set_chapter(studio.document.blocks[2].id, "Part Two")
    dialog = _open_dialog(studio)
    assert "3 blocks, 2 chapters" in dialog.program_label.text()
    dialog.preset_combo.setCurrentIndex(dialog.preset_combo.findData("podcast"))
    assert dialog.format_combo.currentData() == "mp3"
    assert dialog.channels_combo.currentData() == 2 and dialog.target_spin.value() == -16.0
    # Mono follows the preset's rule: -16 LUFS stereo is -19 LUFS mono, and back.
    dialog.channels_combo.setCurrentIndex(dialog.channels_combo.findData(1))
    assert dialog.target_spin.value() == -19.0
    dialog.channels_combo.setCurrentIndex(dialog.channels_combo.findData(2))
    assert dialog.target_spin.value() == -16.0
    dialog.tag_edits["title"].setText("Episode 1")
    dialog.tag_edits["artist"].setText("The Host")
    dialog.sidecar_checks["chapters_json"].setChecked(True)
    out = tmp_path / "episode.mp3"
    dialog.set_path(out)

    measured = _wait(qloop, dialog.measure())
    assert measured is not None and math.isfinite(measured.program.integrated)
    assert dialog.measured_label.text().startswith("Measured:") and "LUFS" in \
        dialog.measured_label.text() and "Gain to the target" in dialog.measured_label.text()

    result = _export(qloop, dialog)
    assert result is not None, dialog.error_label.text()
    file = result.files[0]
    assert file.path == out and out.exists()
    assert abs(file.after.integrated - -16.0) <= 0.5 and file.after.true_peak <= -1.0
    assert "Exported 1 file" in dialog.progress.format()
    report = dialog.report_view.toPlainText()
    assert "episode.mp3" in report and "LUFS" in report and "2 chapters" in report
    tags = ID3(out)
    assert str(tags["TIT2"]) == "Episode 1" and str(tags["TPE1"]) == "The Host"
    chapters = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
    assert [str(c.sub_frames["TIT2"]) for c in chapters] == ["Opening", "Part Two"]
    sidecar = json.loads((tmp_path / "episode.chapters.json").read_text(encoding="utf-8"))
    assert [c["title"] for c in sidecar["chapters"]] == ["Opening", "Part Two"]
    assert studio.window.last_export == out


def test_the_extension_is_asked_about_never_replaced_silently(generated, qtbot, qloop,  # type: ignore[no-untyped-def]
                                                              tmp_path: Path) -> None:
    dialog = _open_dialog(generated)
    dialog.load_settings(PRESETS["custom"].settings, "custom")  # WAV
    typed = tmp_path / "voiceover.mp3"
    asked: list[tuple[str, str, str]] = []

    def answer(reply: str):  # type: ignore[no-untyped-def]
        def ask(path: Path, typed_label: str, chosen_label: str) -> str:
            asked.append((path.name, typed_label, chosen_label))
            return reply
        return ask

    dialog.set_path(typed)
    dialog.ask_extension = answer("cancel")
    dialog.export_button.click()
    assert asked == [("voiceover.mp3", "MP3", "WAV")]
    assert not list(tmp_path.iterdir()), "cancelled: nothing written"

    dialog.ask_extension = answer("chosen")
    assert _export(qloop, dialog) is not None
    assert (tmp_path / "voiceover.wav").exists() and not typed.exists()

    dialog.set_path(typed)
    dialog.ask_extension = answer("typed")
    result = _export(qloop, dialog)
    assert result is not None and typed.exists()
    assert dialog.format_combo.currentData() == "mp3"
    with av.open(str(typed)) as container:
        assert container.format.name == "mp3"

    # Choosing another format moves an extension that named the previous one.
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("flac"))
    assert dialog.path().name == "voiceover.flac"


def test_cancel_midway_writes_nothing_and_bad_settings_say_why(generated, qtbot, qloop,  # type: ignore[no-untyped-def]
                                                               tmp_path: Path) -> None:
    dialog = _open_dialog(generated)
    dialog.preset_combo.setCurrentIndex(dialog.preset_combo.findData("acx"))
    assert dialog.split_combo.currentData() == "chapter" and dialog.acx_check.isChecked()
    dialog.set_path(tmp_path / "book.mp3")

    def cancel_once(stage: str, fraction: float, _left: float) -> None:
        if fraction > 0 and dialog.service.busy:
            dialog.cancel_button.click()

    dialog.service.progressed.connect(cancel_once)
    dialog.export_button.click()
    _wait(qloop, _until(lambda: "Cancelled" in dialog.progress.format()))
    dialog.service.progressed.disconnect(cancel_once)
    assert not any(tmp_path.iterdir()), [p.name for p in tmp_path.iterdir()]
    assert dialog.cancel_button.text() == "Close" and dialog.export_button.isEnabled()

    dialog.measure_combo.setCurrentIndex(dialog.measure_combo.findData("lufs"))
    dialog.target_spin.setRange(-60, 0)  # the spin box allows it; the settings do not
    dialog.target_spin.setValue(-45)
    assert "between -40 and -5" in dialog.error_label.text()
    assert not dialog.export_button.isEnabled()


def test_acx_export_passes_its_check_and_the_preset_is_remembered(generated, qtbot, qloop,  # type: ignore[no-untyped-def]
                                                                  tmp_path: Path) -> None:
    studio = generated
    studio.window.set_chapter(studio.document.blocks[2].id, "Part Two")
    dialog = _open_dialog(studio)
    dialog.preset_combo.setCurrentIndex(dialog.preset_combo.findData("acx"))
    dialog.tail_spin.setValue(3.0)
    dialog.tag_edits["title"].setText("My Book")
    dialog.set_path(tmp_path / "book.mp3")
    result = _export(qloop, dialog)
    assert result is not None, dialog.error_label.text()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["book - 01 - Opening.mp3", "book - 02 - Part Two.mp3"]
    assert all(f.acx is not None and f.acx.passed for f in result.files), \
        dialog.report_view.toPlainText()
    assert "PASS" in dialog.report_view.toPlainText()

    # The project keeps the preset as edited, and the next dialog starts from it.
    stored = json.loads(studio.project.settings[PRESETS_KEY])
    assert stored["acx"]["tail_seconds"] == 3.0
    again = ExportDialog(studio.exporter)
    qtbot.addWidget(again)
    assert again.preset_key() == "acx" and again.tail_spin.value() == 3.0
    assert again.tag_edits["title"].text() == "My Book"
    assert again.path().name == "book.mp3"
    again.preset_combo.setCurrentIndex(again.preset_combo.findData("youtube"))
    again.reset_button.click()
    assert again.settings() == PRESETS["youtube"].settings


def test_presets_carry_the_extension_and_the_dialog_holds_still(generated, qtbot, qloop,  # type: ignore[no-untyped-def]
                                                                tmp_path: Path) -> None:
    dialog = _open_dialog(generated)
    dialog.preset_combo.setCurrentIndex(dialog.preset_combo.findData("youtube"))
    dialog.set_path(tmp_path / "voiceover.m4a")
    dialog.preset_combo.setCurrentIndex(dialog.preset_combo.findData("broadcast"))
    assert dialog.path().name == "voiceover.wav", "a preset's format moves the extension too"
    dialog.preset_combo.setCurrentIndex(dialog.preset_combo.findData("acx"))
    assert dialog.path().name == "voiceover.mp3"
    assert dialog.head_spin.value() == 0.75, "ACX's head room tone is not rounded"

    # A folder is not a file name: said, nothing written beside it.
    dialog.set_path(tmp_path)
    dialog.export_button.click()
    assert "is a folder" in dialog.error_label.text() and not dialog.service.busy
    assert not list(tmp_path.iterdir())

    # Switching formats hides rows, but the groups below do not move.
    dialog.set_path(tmp_path / "voiceover.mp3")
    dialog.show()
    files_top = dialog.split_combo.parentWidget().geometry().top()
    for key in ("wav", "mp3", "flac", "opus"):
        dialog.format_combo.setCurrentIndex(dialog.format_combo.findData(key))
        dialog.layout().activate()
        assert dialog.split_combo.parentWidget().geometry().top() == files_top, key

    # While it writes, what it writes cannot change.
    states: list[bool] = []
    dialog.service.busy_changed.connect(
        lambda busy: states.append(dialog.format_combo.isEnabled()) if busy else None)
    assert _export(qloop, dialog) is not None, dialog.error_label.text()
    assert states == [False] and dialog.format_combo.isEnabled()
