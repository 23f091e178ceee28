"""The Cast panel (issue 15): a speaker's voice changed in one undo step, rename, new
speakers listed as not cast, and the panel keeping up with the script."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QUndoStack

from studio.api import Voice
from studio.project.cast import CastEntry
from studio.services.document import ScriptDocument
from studio.services.editor import ScriptEditor
from studio.services.voices import VoiceCatalog
from studio.ui.cast.cast_panel import DELIVERY, CastPanel

VOICES = [Voice("n1", "Nora", "narrator", "en"), Voice("a1", "Ann", "bright", "en"),
          Voice("f1", "Fleur", "french", "fr")]


@pytest.fixture
def panel(qtbot) -> CastPanel:  # type: ignore[no-untyped-def]
    document = ScriptDocument()
    editor = ScriptEditor(document, QUndoStack(document), parent=document)
    catalog = VoiceCatalog(document)
    catalog.voices = list(VOICES)
    document.add_block(text="It was night.", voice_id="n1")
    for text in ("Who's there?", "Only me.", "Go away."):
        document.add_block(text=text, speaker="Ann", voice_id="a1")
    document.set_cast_entry(CastEntry("Narrator", voice_id="n1"))
    document.set_cast_entry(CastEntry("Ann", voice_id="a1"))
    widget = CastPanel(document, editor, catalog)
    qtbot.addWidget(widget)
    return widget


def _doc(panel: CastPanel) -> ScriptDocument:
    return panel._document


def test_changing_a_voice_changes_following_blocks_in_one_undo_step(panel, qtbot) -> None:  # type: ignore[no-untyped-def]
    document, stack = _doc(panel), panel._editor.stack
    ann = [b for b in document.blocks if b.speaker == "Ann"]
    document.update_block(ann[2].id, voice_id="n1")  # this block overrides the cast
    combo = panel.voice_combo("Ann")
    combo.setCurrentIndex(combo.findData("f1"))
    combo.activated.emit(combo.currentIndex())  # as a click on the list does
    assert [b.voice_id for b in ann] == ["f1", "f1", "n1"]
    # studio.project.cast: the block that chose its own voice keeps that voice's language.
    assert [b.language for b in ann] == ["fr", "fr", "en"]
    assert stack.count() == 1
    qtbot.waitUntil(lambda: "Ann: voice changed in 2 blocks" in panel.summary_label.text(),
                    timeout=5000)
    stack.undo()
    assert [b.voice_id for b in ann] == ["a1", "a1", "n1"]
    assert document.cast_entry("Ann") == CastEntry("Ann", voice_id="a1")
    qtbot.waitUntil(lambda: panel.voice_combo("Ann").voice_id() == "a1", timeout=5000)


def test_delivery_columns_set_the_cast(panel, qtbot) -> None:  # type: ignore[no-untyped-def]
    document = _doc(panel)
    panel.table.selectRow(panel.row_of("Ann"))
    assert panel.delivery_label.text() == "Ann:"
    panel.speed_spin.setValue(1.25)
    emotion = panel.emotion_combo
    emotion.setCurrentIndex(emotion.findData("sad"))
    emotion.activated.emit(emotion.currentIndex())
    ann = [b for b in document.blocks if b.speaker == "Ann"]
    assert {(b.speed, b.emotion) for b in ann} == {(1.25, "sad")}
    assert document.block_at(0).speed == 1.0
    assert panel._editor.stack.count() == 2
    qtbot.waitUntil(lambda: panel.table.item(panel.row_of("Ann"), DELIVERY).text()
                    == "sad 1.25× 1.00", timeout=5000)
    panel.table.selectRow(panel.row_of("Narrator"))
    assert (panel.emotion_combo.currentData(), panel.speed_spin.value()) == (None, 1.0)


def test_new_speaker_is_listed_first_as_not_cast(panel, qtbot) -> None:  # type: ignore[no-untyped-def]
    document = _doc(panel)
    assert panel.summary_label.text().startswith("2 speakers, all cast")
    panel._editor.add_blocks([{"text": "Boo!", "speaker": "Ghost"}])
    qtbot.waitUntil(lambda: len(panel.rows) == 3, timeout=5000)
    assert panel.rows[0].speaker == "Ghost" and panel.rows[0].needs_casting
    assert panel.table.item(0, 0).text() == "⚠ Ghost"
    assert "not cast" in panel.voice_combo("Ghost").lineEdit().placeholderText()
    assert "1 not cast" in panel.summary_label.text()
    panel.voice_combo("Ghost").activated.emit(panel.voice_combo("Ghost").findData("n1"))
    qtbot.waitUntil(lambda: not panel.rows[-1].needs_casting and panel.rows[-1].speaker
                    == "Ghost", timeout=5000)
    assert [b.voice_id for b in document.blocks if b.speaker == "Ghost"] == ["n1"]


def test_rename_speaker_is_one_step(panel, qtbot) -> None:  # type: ignore[no-untyped-def]
    document = _doc(panel)
    assert panel.rename("Ann", "Annabel") == 3
    assert [r.speaker for r in panel.rows] == ["Narrator", "Annabel"]
    assert panel.current_speaker() == "Annabel"
    assert document.cast_entry("Annabel") == CastEntry("Annabel", voice_id="a1")
    panel._editor.stack.undo()
    qtbot.waitUntil(lambda: [r.speaker for r in panel.rows] == ["Narrator", "Ann"],
                    timeout=5000)


def test_select_blocks_asks_for_the_speaker(panel, qtbot) -> None:  # type: ignore[no-untyped-def]
    panel.table.selectRow(panel.row_of("Ann"))
    with qtbot.waitSignal(panel.select_requested, timeout=5000) as signal:
        panel.select_button.click()
    assert signal.args == ["Ann"]


def test_many_changes_share_one_recount(panel, qtbot) -> None:  # type: ignore[no-untyped-def]
    document = _doc(panel)
    calls: list[int] = []
    original = panel.refresh
    panel.refresh = lambda: (calls.append(1), original())  # type: ignore[method-assign]
    panel._timer.timeout.disconnect()
    panel._timer.timeout.connect(panel.refresh)
    block = document.block_at(0)
    for n in range(50):
        document.update_block(block.id, text=f"typing {n}")
    qtbot.waitUntil(lambda: len(calls) == 1, timeout=5000)
