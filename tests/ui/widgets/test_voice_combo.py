"""The voice picker: search by any part of a voice, pick with keyboard or mouse."""

from __future__ import annotations

from PySide6.QtCore import Qt

from studio.api import Voice
from studio.ui.widgets.voice_combo import VoiceComboBox

VOICES = [
    Voice(id="v-avery", name="Avery", description="Warm American narrator", language="en",
          gender="feminine"),
    Voice(id="v-fiona", name="Fiona", description="Scottish storyteller", language="en",
          gender="feminine"),
    Voice(id="v-camille", name="Camille", description="Parisian presenter", language="fr",
          gender="feminine"),
    Voice(id="v-riley", name="Riley", description="Even, clear guide", language="en",
          gender="gender_neutral"),
]


def _combo(qtbot) -> tuple[VoiceComboBox, list[str]]:  # type: ignore[no-untyped-def]
    combo = VoiceComboBox()
    qtbot.addWidget(combo)
    combo.set_voices(VOICES)
    combo.set_voice_id("v-avery")
    chosen: list[str] = []
    combo.voice_chosen.connect(chosen.append)
    combo.show()
    return combo, chosen


def test_search_matches_descriptions_and_labels_read_well(qtbot) -> None:  # type: ignore[no-untyped-def]
    combo, _ = _combo(qtbot)
    completer = combo.completer()
    completer.setCompletionPrefix("scottish")
    assert completer.completionCount() == 1
    shown = completer.completionModel().index(0, 0).data(Qt.ItemDataRole.DisplayRole)
    assert shown == "Fiona (en, feminine)"
    assert combo.itemText(3) == "Riley (en, neutral)"


def test_return_in_the_search_popup_picks_the_highlighted_voice(qtbot) -> None:  # type: ignore[no-untyped-def]
    combo, chosen = _combo(qtbot)
    combo.lineEdit().selectAll()
    qtbot.keyClicks(combo.lineEdit(), "Cam")
    popup = combo.completer().popup()
    qtbot.waitUntil(popup.isVisible)
    popup.setCurrentIndex(combo.completer().completionModel().index(0, 0))
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: chosen == ["v-camille"])
    assert combo.voice_id() == "v-camille" and combo.currentText() == "Camille (fr, feminine)"


def test_a_search_that_picks_nothing_restores_the_voice(qtbot) -> None:  # type: ignore[no-untyped-def]
    combo, chosen = _combo(qtbot)
    combo.lineEdit().selectAll()
    qtbot.keyClicks(combo.lineEdit(), "zzz")
    combo.lineEdit().editingFinished.emit()
    qtbot.waitUntil(lambda: combo.currentText() == "Avery (en, feminine)")
    assert chosen == [] and combo.voice_id() == "v-avery"


def test_typing_a_full_label_picks_it(qtbot) -> None:  # type: ignore[no-untyped-def]
    combo, chosen = _combo(qtbot)
    combo.setEditText("riley (en, neutral)")
    combo.lineEdit().editingFinished.emit()
    qtbot.waitUntil(lambda: chosen == ["v-riley"])


def test_a_deleted_voice_shows_as_missing_by_its_name(qtbot) -> None:  # type: ignore[no-untyped-def]
    combo, chosen = _combo(qtbot)
    combo.set_voices([v for v in VOICES if v.id != "v-avery"])  # Avery was deleted
    assert combo.currentText() == "Missing voice: Avery (en, feminine)"
    assert "not among the connected backend's voices" in combo.toolTip()
    assert combo.voice_id() == "v-avery" and chosen == []  # the block keeps its voice
    other = VoiceComboBox()
    qtbot.addWidget(other)
    other.set_voices(VOICES[1:])
    other.set_voice_id("0123456789abcdef")  # never seen (e.g. after a restart)
    assert other.currentText() == "Missing voice: 01234567…"
