"""A voice picker: a combo box you can type into to search voices."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QCompleter, QWidget

from studio.api import Voice


def voice_label(voice: Voice) -> str:
    """``Name (language, gender)`` as shown in the list."""
    detail = ", ".join(p for p in (voice.language, voice.gender or "") if p)
    return f"{voice.name} ({detail})" if detail else voice.name


class VoiceComboBox(QComboBox):
    """Editable combo box of voices; typing filters by any part of the label.

    Signals:
        voice_chosen(str voice_id): the user picked a voice.
    """

    voice_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.setMinimumContentsLength(18)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.lineEdit().setPlaceholderText("Search voices…")
        completer = QCompleter(self.model(), self)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.setCompleter(completer)
        self._current = ""
        self.activated.connect(self._on_activated)
        completer.activated[str].connect(self._on_completed)
        self.lineEdit().editingFinished.connect(self._restore_label)

    def set_voices(self, voices: Sequence[Voice]) -> None:
        """Replace the list, keeping the current voice if it is still there."""
        current = self._current
        self.blockSignals(True)
        self.clear()
        for voice in voices:
            self.addItem(voice_label(voice), voice.id)
            self.setItemData(self.count() - 1, voice.description, Qt.ItemDataRole.ToolTipRole)
        self.blockSignals(False)
        self.set_voice_id(current)

    def set_voice_id(self, voice_id: str) -> None:
        """Show ``voice_id`` without emitting ``voice_chosen``; an id not in the list
        is shown as itself so a block never silently changes voice."""
        self._current = voice_id
        index = self.findData(voice_id)
        self.blockSignals(True)
        if index >= 0:
            self.setCurrentIndex(index)
        else:
            self.setCurrentIndex(-1)
            self.setEditText(voice_id)
        self.blockSignals(False)

    def voice_id(self) -> str:
        return self._current

    def _choose(self, index: int) -> None:
        if index < 0:
            return
        voice_id = self.itemData(index)
        if voice_id and voice_id != self._current:
            self._current = voice_id
            self.voice_chosen.emit(voice_id)
        self._restore_label()

    def _on_activated(self, index: int) -> None:
        self._choose(index)

    def _on_completed(self, text: str) -> None:
        self._choose(self.findText(text))

    def _restore_label(self) -> None:
        """After typing a search that picked nothing, show the current voice again."""
        index = self.findData(self._current)
        if index >= 0 and self.currentText() != self.itemText(index):
            self.blockSignals(True)
            self.setCurrentIndex(index)
            self.blockSignals(False)
