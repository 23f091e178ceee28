"""The Cast panel: each speaker of the script with a voice and a default delivery.

One row per speaker (:func:`studio.project.casting.summarize`): name, block count,
voice and delivery; under the table, the selected speaker's emotion, speed and volume
(a narrow dock has no room for them on every row). Editing goes through
:meth:`ScriptEditor.set_cast`, one undo step that changes every block of that speaker
which follows the cast (blocks with their own value keep it: the
:mod:`studio.project.cast` rule). Speakers that need casting are listed first and
marked "not cast". The panel follows the document on a short timer, so a burst of
typing or a 10 000-block import costs one recount, not one per change.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.api import EMOTIONS
from studio.project.cast import MAX_SPEAKER_CHARS
from studio.project.casting import SpeakerSummary, summarize
from studio.services.cast_edits import drop_speaker, rename_speaker
from studio.services.document import ScriptDocument
from studio.services.editor import ScriptEditor, count_blocks
from studio.services.voices import VoiceCatalog
from studio.ui.widgets.voice_combo import VoiceComboBox

#: Milliseconds after a document change before the rows are recounted.
REFRESH_DELAY_MS = 150

SPEAKER, BLOCKS, VOICE, DELIVERY = range(4)
COLUMNS = ("Speaker", "Blocks", "Voice", "Delivery")
DEFAULT_EMOTION_LABEL = "(voice default)"
NOT_CAST = "not cast"
_WARNING = QColor("#d9822b")


class CastPanel(QWidget):
    """The script's speakers and their voices.

    Attributes:
        table: one row per speaker, those needing casting first.
        summary_label: "3 speakers · 1 not cast", then what the last edit did.
        rows: the :class:`SpeakerSummary` of each row, in row order.

    Signals:
        select_requested(str speaker): the user asked to select the speaker's blocks
            in the script (the window routes it to the Script panel).
    """

    select_requested = Signal(str)

    def __init__(self, document: ScriptDocument, editor: ScriptEditor, catalog: VoiceCatalog,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CastPanel")
        self._document, self._editor, self._catalog = document, editor, catalog
        self.rows: list[SpeakerSummary] = []
        self.summary_label = QLabel()
        self.summary_label.setObjectName("CastSummary")
        self.summary_label.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(VOICE, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(48)
        self.table.cellDoubleClicked.connect(self._on_double_click)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemSelectionChanged.connect(self._show_delivery)
        self.table.setMinimumWidth(120)
        self.rename_button = QPushButton("Rename…")
        self.rename_button.setToolTip("Rename the speaker in every block of theirs (one undo step)")
        self.rename_button.clicked.connect(self.ask_rename)
        self.select_button = QPushButton("Select blocks")
        self.select_button.setToolTip("Select the speaker's blocks in the script")
        self.select_button.clicked.connect(
            lambda: self.select_requested.emit(self.current_speaker()))
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Remove a speaker who speaks no block from the cast")
        self.remove_button.clicked.connect(self._on_remove)
        self.delivery_label = QLabel("Delivery:")
        self.emotion_combo = QComboBox()
        self.emotion_combo.setToolTip("The speaker's emotion (blocks that follow the cast)")
        self.emotion_combo.addItem(DEFAULT_EMOTION_LABEL, None)
        for name in EMOTIONS:
            self.emotion_combo.addItem(name, name)
        self.emotion_combo.activated.connect(
            lambda i: self._set_current(emotion=self.emotion_combo.itemData(i)))
        self.speed_spin = self._ratio_spin(0.6, 1.5, "Speed", "speed")
        self.volume_spin = self._ratio_spin(0.5, 2.0, "Volume", "volume")
        self.emotion_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.emotion_combo.setMinimumContentsLength(8)
        # Two lines, so the dock stays as narrow as the Takes panel it is tabbed with.
        delivery = QGridLayout()
        delivery.addWidget(self.delivery_label, 0, 0)
        delivery.addWidget(self.emotion_combo, 0, 1, 1, 3)
        delivery.addWidget(QLabel("Speed"), 1, 0)
        delivery.addWidget(self.speed_spin, 1, 1)
        delivery.addWidget(QLabel("Volume"), 1, 2)
        delivery.addWidget(self.volume_spin, 1, 3)
        delivery.setColumnStretch(1, 1)
        delivery.setColumnStretch(3, 1)
        buttons = QHBoxLayout()
        for button in (self.rename_button, self.select_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.table, 1)
        layout.addLayout(delivery)
        layout.addLayout(buttons)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        for signal in (document.cast_changed, document.block_changed, document.blocks_inserted,
                       document.blocks_removed, document.block_inserted, document.block_removed,
                       document.reset):
            signal.connect(self.schedule_refresh)
        document.reset.connect(self._forget_note)
        catalog.voices_changed.connect(self._on_voices_changed)
        self._note = ""
        self.refresh()

    # --- reading ------------------------------------------------------------------

    def current_speaker(self) -> str:
        """The selected row's speaker ("" when none is selected)."""
        row = self.table.currentRow()
        return self.rows[row].speaker if 0 <= row < len(self.rows) else ""

    def row_of(self, speaker: str) -> int:
        """The row showing ``speaker``, or -1."""
        return next((i for i, row in enumerate(self.rows) if row.speaker == speaker), -1)

    def voice_combo(self, speaker: str) -> VoiceComboBox:
        """The voice picker of ``speaker``'s row.

        Raises:
            KeyError: no such speaker.
        """
        row = self.row_of(speaker)
        widget = self.table.cellWidget(row, VOICE) if row >= 0 else None
        if not isinstance(widget, VoiceComboBox):
            raise KeyError(speaker)
        return widget

    # --- keeping up with the document ----------------------------------------------

    def schedule_refresh(self, *_args: object) -> None:
        """Recount after :data:`REFRESH_DELAY_MS` (changes in between share one)."""
        self._timer.start()

    def refresh(self) -> None:
        """Recount the speakers and show them: rows are rebuilt when the speakers or
        their order changed, else their values are updated in place (a picker in use
        is never replaced under the user)."""
        self._timer.stop()
        document = self._document
        rows = summarize((document.block_at(i) for i in range(len(document))), document.cast)
        same = [r.speaker for r in rows] == [r.speaker for r in self.rows]
        selected = self.current_speaker()
        self.rows = rows
        if not same:
            self.table.setRowCount(0)
            self.table.setRowCount(len(rows))
            for index, row in enumerate(rows):
                self._build_row(index, row)
            if selected:
                self.table.selectRow(max(0, self.row_of(selected)))
        for index, row in enumerate(rows):
            self._show_row(index, row)
        uncast = sum(row.needs_casting for row in rows)
        speakers = f"{len(rows)} speaker" + ("" if len(rows) == 1 else "s")
        status = f"{speakers} · {uncast} {NOT_CAST}" if uncast else f"{speakers}, all cast"
        self.summary_label.setText(f"{status}. {self._note}".strip())
        if self.table.currentRow() < 0 and rows:
            self.table.selectRow(0)
        self._update_buttons()
        self._show_delivery()

    def _forget_note(self) -> None:
        self._note = ""  # it spoke of another script

    def _on_voices_changed(self) -> None:
        voices = self._catalog.voices
        for index in range(self.table.rowCount()):
            combo = self.table.cellWidget(index, VOICE)
            if isinstance(combo, VoiceComboBox):
                combo.set_voices(voices)

    def _build_row(self, index: int, row: SpeakerSummary) -> None:
        speaker = row.speaker
        for column in (SPEAKER, BLOCKS, DELIVERY):
            item = QTableWidgetItem()
            if column == BLOCKS:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(index, column, item)
        combo = VoiceComboBox()
        combo.set_voices(self._catalog.voices)
        combo.voice_chosen.connect(lambda voice_id: self._on_voice(speaker, voice_id))
        self.table.setCellWidget(index, VOICE, combo)

    def _show_row(self, index: int, row: SpeakerSummary) -> None:
        name, count = self.table.item(index, SPEAKER), self.table.item(index, BLOCKS)
        assert name is not None and count is not None
        if row.needs_casting:
            name.setText(f"⚠ {row.speaker}")
            name.setForeground(QBrush(_WARNING))
            reason = (f"{count_blocks(row.voiceless)} of theirs have no voice"
                      if row.voiceless else "their blocks keep the voice they came with")
            name.setToolTip(f"{row.speaker} is not cast: {reason}. Pick a voice.")
        else:
            name.setText(row.speaker)
            name.setData(Qt.ItemDataRole.ForegroundRole, None)
            name.setToolTip("")
        count.setText(str(row.blocks))
        entry = row.entry
        combo = self.table.cellWidget(index, VOICE)
        if isinstance(combo, VoiceComboBox):
            line = combo.lineEdit()
            if line is not None:
                line.setPlaceholderText(f"{NOT_CAST}: pick a voice" if row.needs_casting
                                        else "Search voices…")
            if combo.voice_id() != entry.voice_id:
                combo.set_voice_id(entry.voice_id)
                if line is not None:
                    line.setCursorPosition(0)  # the voice's name, not the end of its label
        delivery = self.table.item(index, DELIVERY)
        assert delivery is not None
        delivery.setText(f"{entry.emotion or '–'} {entry.speed:.2f}× {entry.volume:.2f}")
        delivery.setToolTip(f"Emotion {entry.emotion or '(voice default)'}, speed "
                            f"{entry.speed:.2f}, volume {entry.volume:.2f}: edit them under "
                            "the table")

    def _show_delivery(self) -> None:
        """The delivery editors show the selected speaker's entry."""
        row = self.table.currentRow()
        summary = self.rows[row] if 0 <= row < len(self.rows) else None
        for widget in (self.emotion_combo, self.speed_spin, self.volume_spin):
            widget.setEnabled(summary is not None)
            widget.blockSignals(True)
        if summary is not None:
            entry = summary.entry
            self.delivery_label.setText(f"{summary.speaker}:")
            self.emotion_combo.setCurrentIndex(max(0, self.emotion_combo.findData(entry.emotion)))
            self.speed_spin.setValue(entry.speed)
            self.volume_spin.setValue(entry.volume)
        else:
            self.delivery_label.setText("Delivery:")
        for widget in (self.emotion_combo, self.speed_spin, self.volume_spin):
            widget.blockSignals(False)

    # --- edits ----------------------------------------------------------------------

    def _ratio_spin(self, low: float, high: float, tip: str, field: str) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(low, high)
        spin.setSingleStep(0.05)
        spin.setDecimals(2)
        spin.setToolTip(f"The speaker's {tip.lower()} ratio ({low}–{high})")
        spin.setKeyboardTracking(False)  # one step per value, not per digit typed
        spin.valueChanged.connect(lambda value: self._set_current(**{field: round(value, 2)}))
        return spin

    def _set_current(self, **values: object) -> None:
        speaker = self.current_speaker()
        if speaker:
            self.set_cast(speaker, **values)

    def set_cast(self, speaker: str, **values: object) -> int:
        """Change ``speaker``'s voice or delivery (one undo step, every block
        following the cast); returns how many blocks changed and says so."""
        changed = self._editor.set_cast(speaker, **values)
        noun = "voice" if "voice_id" in values else next(iter(values))
        self._note = f"{speaker}: {noun} changed in {count_blocks(changed)}."
        self.schedule_refresh()
        return changed

    def _on_voice(self, speaker: str, voice_id: str) -> None:
        voice = self._catalog.voice(voice_id)
        if voice is not None and voice.language:
            self.set_cast(speaker, voice_id=voice_id, language=voice.language)
        else:
            self.set_cast(speaker, voice_id=voice_id)

    def rename(self, old: str, new: str) -> int:
        """Rename speaker ``old`` to ``new`` in every block (one undo step); returns
        the number of blocks."""
        count = rename_speaker(self._editor, old, new)
        self._note = f"Renamed {old} in {count_blocks(count)}." if count else ""
        self.refresh()
        self.table.selectRow(max(0, self.row_of(new.strip() or old)))
        return count

    def ask_rename(self) -> None:
        old = self.current_speaker()
        if not old:
            return
        new, ok = QInputDialog.getText(self, "Rename speaker",
                                       f"New name for {old} (at most {MAX_SPEAKER_CHARS} "
                                       "characters):", text=old)
        if ok and new.strip():
            self.rename(old, new)

    def _on_remove(self) -> None:
        speaker = self.current_speaker()
        if speaker:
            try:
                drop_speaker(self._editor, speaker)
            except ValueError as exc:
                self._note = str(exc)
            self.refresh()

    def _on_double_click(self, row: int, _column: int) -> None:
        if 0 <= row < len(self.rows) and self.rows[row].blocks:
            self.select_requested.emit(self.rows[row].speaker)

    def _update_buttons(self) -> None:
        row = self.table.currentRow()
        summary = self.rows[row] if 0 <= row < len(self.rows) else None
        self.rename_button.setEnabled(summary is not None)
        self.select_button.setEnabled(summary is not None and summary.blocks > 0)
        self.remove_button.setEnabled(summary is not None and summary.blocks == 0
                                      and summary.cast)

