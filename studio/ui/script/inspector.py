"""The inspector beside the script: the voice and delivery of the current block, or
of the whole selection, and the takes and status of a single block."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from studio.api.models import EMOTIONS, LANGUAGES, MODELS, SPEED_RANGE, VOLUME_RANGE
from studio.project.model import BlockLocked
from studio.services.document import ScriptDocument
from studio.services.editor import ScriptEditor, count_blocks
from studio.services.voices import VoiceCatalog
from studio.ui.script.block_editor import UndoKeysToWindow
from studio.ui.script.inspector_widgets import (
    DEFAULT_EMOTION_LABEL,
    MIXED,
    UNSET,
    SpeakerComboBox,
    WheelGuard,
    common,
    fill_takes,
    ratio_spin,
    show_dictionary,
    show_index,
    show_text,
    tool_button,
)
from studio.ui.script.script_model import ScriptModel
from studio.ui.widgets.voice_combo import VoiceComboBox


class Inspector(QWidget):
    """Edits the blocks given to :meth:`set_blocks`: one block (with its takes and its
    status line), or a selection, where a field whose values differ shows "mixed" and
    a change applies to every block as one undo step (locked blocks keep their voice
    and delivery; the inspector says how many were skipped).

    Signals:
        generate_requested(str block_id), generate_selection_requested(list ids),
        play_requested(str block_id), remove_requested(str block_id),
        move_requested(str block_id, int delta), chapter_requested(str block_id),
        perform_requested(str block_id).
    """

    generate_requested = Signal(str)
    generate_selection_requested = Signal(list)
    play_requested = Signal(str)
    remove_requested = Signal(str)
    move_requested = Signal(str, int)
    chapter_requested = Signal(str)
    perform_requested = Signal(str)

    def __init__(self, document: ScriptDocument, editor: ScriptEditor, catalog: VoiceCatalog,
                 model: ScriptModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Inspector")
        self.document = document
        self.editor = editor
        self.catalog = catalog
        self.model = model
        self.block_ids: list[str] = []
        self._id_set: set[str] = set()
        self._refreshing = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.refresh)

        self.title = QLabel()
        self.title.setObjectName("InspectorTitle")
        self.speaker_combo = SpeakerComboBox(document.speakers)
        self.speaker_combo.setToolTip("Speaker: who says the block (the cast gives each "
                                      "speaker a voice); type a new name to add one")
        self.voice_combo = VoiceComboBox()
        self.voice_combo.setToolTip("Voice (type to search)")
        self.voice_combo.set_voices(catalog.voices)
        self.model_combo = QComboBox()
        self.model_combo.setEditable(True)
        self.model_combo.addItems(MODELS)
        self.model_combo.setToolTip("Model")
        self.language_combo = QComboBox()
        self.language_combo.addItems(LANGUAGES)
        self.language_combo.setToolTip("Language")
        self.emotion_combo = QComboBox()
        self.emotion_combo.addItem(DEFAULT_EMOTION_LABEL, None)
        for emotion in EMOTIONS:
            self.emotion_combo.addItem(emotion, emotion)
        self.emotion_combo.setToolTip("Emotion")
        self.speed_spin = ratio_spin(*SPEED_RANGE, "Speed ×")
        self.volume_spin = ratio_spin(*VOLUME_RANGE, "Volume ×")
        self.dictionary_combo = QComboBox()
        self.dictionary_combo.setObjectName("BlockDictionary")
        for combo in (self.speaker_combo, self.voice_combo, self.model_combo,
                      self.language_combo, self.emotion_combo, self.dictionary_combo):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
        self.locked_check = QCheckBox("Locked")
        self.locked_check.setToolTip("Approved: Generate all skips it, and its text, voice "
                                     "and takes stay as they are until it is unlocked")
        self.flag_check = QCheckBox("Flagged")
        self.flag_check.setToolTip("Flag for a retake, with a note for whoever redoes it")
        self.flag_note = QLineEdit()
        self.flag_note.setPlaceholderText("Retake note")
        self.generate_button = tool_button("Generate", "Generate a new take (Ctrl+G); over a "
                                          "selection, one per block")
        self.play_button = tool_button("Play", "Play the selected take")
        self.chapter_button = tool_button("Chapter…", "Start a chapter here, or rename it")
        self.perform_button = tool_button(
            "Perform…", "Your own recording of this block, converted to its voice by the "
            "voice changer, becomes a take with your timing (15 credits a second on the "
            "cloud; free offline)")
        self.up_button = tool_button("▲", "Move block up")
        self.down_button = tool_button("▼", "Move block down")
        self.remove_button = tool_button("✕", "Remove block")
        self.status_label = QLabel()
        self.status_label.setObjectName("BlockStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.takes_title = QLabel("Takes")
        self.take_list = QListWidget()
        self.take_list.setObjectName("TakeList")
        self.take_list.setToolTip("Takes: the selected one plays and exports; double-click plays")

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for label, widget in (("Speaker", self.speaker_combo), ("Voice", self.voice_combo),
                              ("Model", self.model_combo), ("Language", self.language_combo),
                              ("Emotion", self.emotion_combo), ("Speed", self.speed_spin),
                              ("Volume", self.volume_spin), ("Dictionary", self.dictionary_combo)):
            form.addRow(label, widget)
        review = QHBoxLayout()
        review.addWidget(self.locked_check)
        review.addWidget(self.flag_check)
        review.addWidget(self.flag_note, 1)
        actions = QHBoxLayout()
        for button in (self.generate_button, self.play_button, self.chapter_button,
                       self.perform_button):
            actions.addWidget(button)
        actions.addStretch(1)
        for button in (self.up_button, self.down_button, self.remove_button):
            actions.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.title)
        layout.addLayout(form)
        layout.addLayout(review)
        layout.addLayout(actions)
        layout.addWidget(self.status_label)
        layout.addWidget(self.takes_title)
        layout.addWidget(self.take_list, 1)

        self._wheel_guard = WheelGuard(self)
        self._undo_keys = UndoKeysToWindow(self)
        for widget in self.fields():
            widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            widget.installEventFilter(self._wheel_guard)
            widget.installEventFilter(self._undo_keys)
        self.flag_note.installEventFilter(self._undo_keys)
        self.refresh()

        self.speaker_combo.activated.connect(lambda _i: self._on_speaker())
        line = self.speaker_combo.lineEdit()
        assert line is not None
        line.editingFinished.connect(self._on_speaker)
        self.voice_combo.voice_chosen.connect(self._on_voice_chosen)
        self.model_combo.currentTextChanged.connect(self._on_model_typed)
        self.model_combo.activated.connect(lambda _i: self._on_model())
        model_line = self.model_combo.lineEdit()
        assert model_line is not None
        model_line.editingFinished.connect(self._on_model)
        self.language_combo.currentIndexChanged.connect(self._on_language)
        self.emotion_combo.currentIndexChanged.connect(self._on_emotion)
        self.speed_spin.valueChanged.connect(lambda v: self._on_ratio("speed", SPEED_RANGE, v))
        self.volume_spin.valueChanged.connect(lambda v: self._on_ratio("volume", VOLUME_RANGE, v))
        self.dictionary_combo.currentIndexChanged.connect(self._on_dictionary)
        self.locked_check.clicked.connect(self._on_locked)
        self.flag_check.clicked.connect(self._on_flagged)
        self.flag_note.editingFinished.connect(self._on_flag_note)
        self.take_list.currentItemChanged.connect(self._on_take_clicked)
        self.take_list.itemDoubleClicked.connect(lambda _item: self._emit_single(
            self.play_requested))
        self.generate_button.clicked.connect(self._on_generate)
        self.play_button.clicked.connect(lambda: self._emit_single(self.play_requested))
        self.chapter_button.clicked.connect(lambda: self._emit_single(self.chapter_requested))
        self.perform_button.clicked.connect(lambda: self._emit_single(self.perform_requested))
        self.remove_button.clicked.connect(lambda: self._emit_single(self.remove_requested))
        self.up_button.clicked.connect(lambda: self._move(-1))
        self.down_button.clicked.connect(lambda: self._move(1))
        # A bound method, not a lambda: Qt drops the connection when this is deleted.
        catalog.voices_changed.connect(self._on_voices_changed)
        for signal in (document.block_changed, document.take_added, document.take_removed,
                       document.take_changed, document.take_selected):
            signal.connect(self._on_block_event)
        for moved in (document.block_moved, document.block_inserted, document.block_removed,
                      document.blocks_inserted, document.blocks_removed):
            moved.connect(self._refresh_title)
        document.pronunciation_changed.connect(self.refresh)
        document.cast_changed.connect(self.refresh)
        model.dataChanged.connect(self._on_model_data)

    def _on_voices_changed(self) -> None:
        self.voice_combo.set_voices(self.catalog.voices)
        self.refresh()  # a mixed selection shows "mixed" again

    def fields(self) -> tuple[QWidget, ...]:
        """The value fields (a stray wheel would change them)."""
        return (self.speaker_combo, self.voice_combo, self.model_combo, self.language_combo,
                self.emotion_combo, self.dictionary_combo, self.speed_spin, self.volume_spin)

    # --- what is edited ---------------------------------------------------------------

    def set_blocks(self, block_ids: list[str]) -> None:
        """Edit ``block_ids`` (script order; the first is the one the single-block parts
        show when there is one). An empty list disables the inspector."""
        self.block_ids = [b for b in block_ids if self.document.has_block(b)]
        self._id_set = set(self.block_ids)
        self._timer.stop()
        self.refresh()

    def _on_block_event(self, block_id: str, *_args: object) -> None:
        if block_id in self._id_set:
            if len(self._id_set) == 1:
                self.refresh()
            else:  # a change over the selection signals once per block: show it once
                self._timer.start()

    def _on_model_data(self, *_args: object) -> None:
        if len(self.block_ids) == 1:  # status, generating
            self._refresh_state()

    def refresh(self) -> None:
        """Show the blocks' fields; "mixed" where they differ."""
        self.block_ids = [b for b in self.block_ids if self.document.has_block(b)]
        self._id_set = set(self.block_ids)
        blocks = [self.document.block(b) for b in self.block_ids]
        self.setEnabled(bool(blocks))
        if not blocks:
            self.title.setText("No block")
            self.take_list.clear()
            self.status_label.setText("")
            return
        self._refreshing = True
        try:
            single = len(blocks) == 1
            self._refresh_title()
            self._show_speaker(common(b.speaker for b in blocks))
            voice = common(b.voice_id for b in blocks)
            self.voice_combo.set_voice_id("" if voice is UNSET else voice)
            line = self.voice_combo.lineEdit()
            if line is not None:
                line.setPlaceholderText(MIXED if voice is UNSET else "Search voices…")
            model = common(b.model_id for b in blocks)
            show_text(self.model_combo, "" if model is UNSET else model)
            language = common(b.language for b in blocks)
            show_index(self.language_combo, -1 if language is UNSET
                             else self.language_combo.findText(language), language)
            emotion = common(b.emotion for b in blocks)
            show_index(self.emotion_combo, -1 if emotion is UNSET else max(
                self.emotion_combo.findData(emotion) if emotion else 0, 0), "")
            for spin, ratio, (low, _high) in (
                    (self.speed_spin, common(b.speed for b in blocks), SPEED_RANGE),
                    (self.volume_spin, common(b.volume for b in blocks), VOLUME_RANGE)):
                spin.blockSignals(True)
                spin.setMinimum(low - 0.01 if ratio is UNSET else low)
                spin.setValue(spin.minimum() if ratio is UNSET else ratio)
                spin.blockSignals(False)
            show_dictionary(self.dictionary_combo, self.document, blocks)
            locked = common(b.locked for b in blocks)
            self.locked_check.setCheckState(
                Qt.CheckState.PartiallyChecked if locked is UNSET
                else Qt.CheckState.Checked if locked else Qt.CheckState.Unchecked)
            flagged = common(b.flag is not None for b in blocks)
            self.flag_check.setCheckState(
                Qt.CheckState.PartiallyChecked if flagged is UNSET
                else Qt.CheckState.Checked if flagged else Qt.CheckState.Unchecked)
            note = common(b.flag or "" for b in blocks)
            self.flag_note.setText("" if note is UNSET else note)
            self.flag_note.setPlaceholderText(MIXED if note is UNSET else "Retake note")
            self.flag_note.setEnabled(flagged is True)
            for widget in (self.play_button, self.chapter_button, self.perform_button,
                           self.up_button,
                           self.down_button, self.remove_button, self.take_list,
                           self.takes_title):
                widget.setVisible(single)
            self._refresh_takes()
            self._refresh_state()
        finally:
            self._refreshing = False

    def _refresh_title(self, *_args: object) -> None:
        """"Block #12" (its number changes as blocks move) or "3 blocks selected"."""
        ids = [b for b in self.block_ids if self.document.has_block(b)]
        if len(ids) == 1:
            self.title.setText(f"Block #{self.document.index_of(ids[0]) + 1}")
        elif ids:
            self.title.setText(f"{count_blocks(len(ids))} selected")

    def _show_speaker(self, speaker: Any) -> None:
        combo = self.speaker_combo
        combo.blockSignals(True)
        combo.setCurrentText("" if speaker is UNSET else speaker)
        line = combo.lineEdit()
        if line is not None:
            line.setPlaceholderText(MIXED)
        combo.blockSignals(False)

    def _refresh_takes(self) -> None:
        self.take_list.blockSignals(True)
        if len(self.block_ids) == 1:
            block = self.document.block(self.block_ids[0])
            fill_takes(self.take_list, block)
            self.play_button.setEnabled(block.selected_take is not None)
        else:
            self.take_list.clear()
        self.take_list.blockSignals(False)

    def _refresh_state(self) -> None:
        """Generate for text only and not while generating; the status line."""
        if not self.block_ids:
            return
        blocks = [self.document.block(b) for b in self.block_ids if self.document.has_block(b)]
        if not blocks:
            return
        if len(blocks) == 1:
            block = blocks[0]
            self.generate_button.setEnabled(
                bool(block.text.strip()) and not self.model.is_generating(block.id))
            status = self.model.status_text(block.id)
            self.set_status(status.text, status.error, status.warning)
        else:
            self.generate_button.setEnabled(any(b.text.strip() for b in blocks))
            locked = sum(b.locked for b in blocks)
            flagged = sum(b.flag is not None for b in blocks)
            parts = [f"{locked} locked" if locked else "", f"{flagged} flagged" if flagged
                     else ""]
            self.set_status(", ".join(p for p in parts if p))

    def set_status(self, text: str, error: bool = False, warning: bool = False) -> None:
        """Show ``text`` in the status line (red for an error, amber for a warning)."""
        self.status_label.setText(text)
        self.status_label.setToolTip(text)
        self.status_label.setProperty("error", error)
        self.status_label.setProperty("warning", warning)
        self.style().unpolish(self.status_label)
        self.style().polish(self.status_label)

    # --- to the editor --------------------------------------------------------------

    def _apply(self, **changes: Any) -> None:
        """One undo step over the blocks; locked blocks keep their voice and delivery."""
        if self._refreshing or not self.block_ids:
            return
        if len(self.block_ids) == 1:
            try:
                self.editor.update_block(self.block_ids[0], **changes)
            except BlockLocked as exc:
                self.refresh()
                self.set_status(f"{exc}: unlock it to change this", warning=True)
            return
        skipped = self.editor.update_blocks(self.block_ids, **changes)
        self.refresh()
        if skipped:
            self.set_status(f"{count_blocks(len(skipped))} locked: their voice and delivery "
                            "are kept", warning=True)

    def _on_speaker(self) -> None:
        name = self.speaker_combo.currentText().strip()
        if self._refreshing or not name or not self.block_ids:
            return
        if any(self.document.block(b).speaker != name for b in self.block_ids):
            self.editor.set_speaker(self.block_ids, name)

    def _on_voice_chosen(self, voice_id: str) -> None:
        voice = self.catalog.voice(voice_id)
        if voice is not None and voice.language:
            # A voice speaks its own language unless the user then picks another one.
            self._apply(voice_id=voice_id, language=voice.language)
        else:
            self._apply(voice_id=voice_id)

    def _on_model_typed(self, text: str) -> None:
        if len(self.block_ids) == 1 and text.strip():  # typing merges into one step
            self._apply(model_id=text.strip())

    def _on_model(self) -> None:
        text = self.model_combo.currentText().strip()
        if text:
            self._apply(model_id=text)

    def _on_language(self, index: int) -> None:
        if index >= 0:
            self._apply(language=self.language_combo.itemText(index))

    def _on_emotion(self, index: int) -> None:
        if index >= 0:
            self._apply(emotion=self.emotion_combo.itemData(index))

    def _on_ratio(self, name: str, limits: tuple[float, float], value: float) -> None:
        if value >= limits[0] - 1e-9:
            self._apply(**{name: round(value, 2)})

    def _on_dictionary(self, index: int) -> None:
        if index >= 0:
            self._apply(pronunciation_dict_id=self.dictionary_combo.itemData(index))

    def _on_locked(self) -> None:
        blocks = [self.document.block(b) for b in self.block_ids]
        self._apply(locked=not all(b.locked for b in blocks))

    def _on_flagged(self) -> None:
        blocks = [self.document.block(b) for b in self.block_ids]
        flag = None if all(b.flag is not None for b in blocks) else self.flag_note.text().strip()
        self._apply(flag=flag)

    def _on_flag_note(self) -> None:
        if self.flag_note.isEnabled():
            self._apply(flag=self.flag_note.text().strip())

    def _on_take_clicked(self, item: QListWidgetItem | None, _previous: object) -> None:
        if item is not None and len(self.block_ids) == 1:
            self.editor.select_take(self.block_ids[0], item.data(Qt.ItemDataRole.UserRole))

    def _emit_single(self, signal: Any) -> None:
        if len(self.block_ids) == 1:
            signal.emit(self.block_ids[0])

    def _move(self, delta: int) -> None:
        if len(self.block_ids) == 1:
            self.move_requested.emit(self.block_ids[0], delta)

    def _on_generate(self) -> None:
        if len(self.block_ids) == 1:
            self.generate_requested.emit(self.block_ids[0])
        elif self.block_ids:
            self.generate_selection_requested.emit(
                [b for b in self.block_ids if self.document.block(b).text.strip()])
