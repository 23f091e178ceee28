"""A voice picker: a combo box you can type into to search voices."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QCompleter, QWidget

from studio.api import Voice

#: Item role holding the text a search matches: name, language, gender, description.
SEARCH_ROLE = Qt.ItemDataRole.UserRole + 1

_GENDER_LABELS = {"masculine": "masculine", "feminine": "feminine", "gender_neutral": "neutral"}


def voice_label(voice: Voice) -> str:
    """``Name (language, gender)`` as shown in the list."""
    gender = _GENDER_LABELS.get(voice.gender or "", voice.gender or "")
    detail = ", ".join(p for p in (voice.language, gender) if p)
    return f"{voice.name} ({detail})" if detail else voice.name


class VoiceComboBox(QComboBox):
    """Editable combo box of voices. Typing filters by any part of the name, language,
    gender or description (the search of ``GET /voices?q=``); Return or a click picks
    the highlighted match, and leaving the box without a match restores the voice.

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
        line_edit = self.lineEdit()
        assert line_edit is not None  # editable combo boxes always have one
        line_edit.setPlaceholderText("Search voices…")
        completer = QCompleter(self.model(), self)
        completer.setCompletionRole(SEARCH_ROLE)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        popup = completer.popup()
        popup.setObjectName("VoiceSearchPopup")
        self.setCompleter(completer)
        self._completer = completer
        self._current = ""
        self._names: dict[str, str] = {}  # voice id -> label, for voices that left the list
        self.activated.connect(self._choose)
        # The index form names the row itself, so picking never depends on the text.
        completer.activated[QModelIndex].connect(self._on_completed)
        line_edit.editingFinished.connect(self._on_editing_finished)

    def set_voices(self, voices: Sequence[Voice]) -> None:
        """Replace the list, keeping the current voice if it is still there."""
        current = self._current
        for row in range(self.count()):  # names of voices that may be about to go
            self._names[self.itemData(row)] = self.itemText(row)
        self.blockSignals(True)
        self.clear()
        for row, voice in enumerate(voices):
            self.addItem(voice_label(voice), voice.id)
            self.setItemData(row, voice.description, Qt.ItemDataRole.ToolTipRole)
            self.setItemData(row, f"{voice_label(voice)} {voice.description}", SEARCH_ROLE)
        self.blockSignals(False)
        self.set_voice_id(current)

    def set_voice_id(self, voice_id: str) -> None:
        """Show ``voice_id`` without emitting ``voice_chosen``. A voice not in the list
        (deleted, or from another account) is shown as missing, by its last known name,
        so a block never silently changes voice and the user sees why it cannot render."""
        self._current = voice_id
        index = self.findData(voice_id)
        self.blockSignals(True)
        if index >= 0:
            self.setCurrentIndex(index)
            self.setToolTip(self.itemData(index, Qt.ItemDataRole.ToolTipRole) or "")
        else:
            self.setCurrentIndex(-1)
            if voice_id and self.count():
                name = self._names.get(voice_id) or f"{voice_id[:8]}…"
                self.setEditText(f"Missing voice: {name}")
                self.setToolTip(f"Voice {voice_id} is not among the connected backend's "
                                "voices (deleted, or made on the other backend?). "
                                "Pick another voice for this block.")
            else:
                self.setEditText(voice_id)
        self.blockSignals(False)
        self._show_start()

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

    def _on_completed(self, index: QModelIndex) -> None:
        source = self._completer.completionModel().mapToSource(index)  # type: ignore[attr-defined]
        self._choose(source.row())

    def _on_editing_finished(self) -> None:
        # Deferred: on Return the completer's own activation comes after this signal.
        QTimer.singleShot(0, self, self._settle)

    def _settle(self) -> None:
        """Pick the voice whose label was typed in full, else show the current one."""
        typed = self.currentText().strip()
        match = self.findText(typed, Qt.MatchFlag.MatchFixedString)
        if match >= 0 and self.itemData(match) != self._current:
            self._choose(match)
        else:
            self._restore_label()

    def _restore_label(self) -> None:
        """After typing a search that picked nothing, show the current voice again."""
        index = self.findData(self._current)
        if index >= 0 and self.currentText() != self.itemText(index):
            self.blockSignals(True)
            self.setCurrentIndex(index)
            self.blockSignals(False)
        self._show_start()

    def _show_start(self) -> None:
        """Scroll the text to its start: in a narrow box the voice's name matters, not
        the end of its label ("…(en, feminine)")."""
        line = self.lineEdit()
        if line is not None:
            line.setCursorPosition(0)
