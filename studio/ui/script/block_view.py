"""One block of the script: its text, voice, delivery, actions and takes."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QContextMenuEvent, QKeyEvent, QKeySequence, QMouseEvent, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPlainTextEdit,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.api.models import (
    EMOTIONS,
    LANGUAGES,
    MODELS,
    SPEED_RANGE,
    VOLUME_RANGE,
    supports_pronunciation_dicts,
)
from studio.project.edited_audio import edited_frames
from studio.project.model import Block, DictionaryUse, Take
from studio.project.transcript import spoken_word_count
from studio.services.document import ScriptDocument
from studio.services.editor import ScriptEditor
from studio.services.voices import VoiceCatalog
from studio.ui.script.pronunciation_highlight import EntryToolTips, PronunciationHighlighter
from studio.ui.widgets.voice_combo import VoiceComboBox

DEFAULT_EMOTION_LABEL = "(voice default)"
DICTIONARY_TIP = ("Pronunciation dictionary of this block: the project's, none, or another one. "
                  "Marked words in the text are the ones it changes.")


def take_label(take: Take) -> str:
    """``Take 2 · 3.4 s · 9 words · Offline · free``, with ``★`` before a starred take."""
    cost = "free" if take.credits == 0 else f"{take.credits} credits"
    backend = "Offline" if take.backend == "offline" else "Cloud"
    star = "★ " if take.starred else ""
    edited = " · edited" if take.edits else ""
    if take.damaged:
        edited += " · damaged audio"
    return (f"{star}{take.name} · {take_seconds(take):.1f} s · {take_words(take)} words"
            f"{edited} · {backend} · {cost}")


def take_seconds(take: Take) -> float:
    """The take's length as it plays and exports (after its edits), in seconds."""
    return edited_frames(take) / take.sample_rate if take.sample_rate else 0.0


def take_words(take: Take) -> int:
    """How many words the take says: its word timestamps, or for an edited take the
    words of what it says now (:attr:`~studio.project.model.Take.spoken_text`)."""
    if not take.edits:
        return len(take.word_timestamps.words)
    return spoken_word_count(take.spoken_text)


def _utf16_length(text: str) -> int:
    """Length of ``text`` in UTF-16 code units: how Qt counts text positions."""
    return len(text.encode("utf-16-le")) // 2


def _is_undo_key(event: QKeyEvent) -> bool:
    return (event.matches(QKeySequence.StandardKey.Undo)
            or event.matches(QKeySequence.StandardKey.Redo))


class BlockView(QFrame):
    """Edits one block of a :class:`ScriptDocument` and lists its takes.

    Field edits and take choices go to the :class:`ScriptEditor`, so each is an undo
    step; the view shows the block again from the document's signals (relayed by the
    Script panel). Actions are requested by signal so the main window routes them to
    the services. Undo and Redo keys pressed in the view's widgets are left to the
    window's Edit menu: the text box keeps no undo history of its own.

    Attributes:
        document: the :class:`ScriptDocument` read from.
        editor: the :class:`ScriptEditor` that user edits go through.
        block_id: the block shown.

    Signals:
        generate_requested(str block_id)
        play_requested(str block_id): play the selected take.
        remove_requested(str block_id)
        move_requested(str block_id, int delta): -1 up, +1 down.
        focused(str block_id): the user started working in this block.
        chapter_requested(str block_id): start a chapter here, or rename the chapter
            this block starts (the main window asks for the title).
        chapter_removed(str block_id): this block no longer starts a chapter.
    """

    chapter_requested = Signal(str)
    chapter_removed = Signal(str)
    generate_requested = Signal(str)
    play_requested = Signal(str)
    remove_requested = Signal(str)
    move_requested = Signal(str, int)
    focused = Signal(str)

    def __init__(
        self,
        document: ScriptDocument,
        editor: ScriptEditor,
        block_id: str,
        catalog: VoiceCatalog,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.editor = editor
        self.block_id = block_id
        self._showing_text = False
        self.setObjectName("BlockView")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setProperty("current", False)

        self.number_label = QLabel()
        self.number_label.setObjectName("BlockNumber")
        self.chapter_label = QLabel()
        self.chapter_label.setObjectName("ChapterHeading")
        self.chapter_label.setToolTip("This block starts a chapter: chapters become M4B and "
                                      "MP3 chapters and files per chapter on export. "
                                      "Double-click to rename; right-click for more.")
        self.chapter_label.setVisible(False)
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
        # Combos size to a few characters, not their longest entry, so the script
        # column stays usable beside the Takes panel on a narrow window.
        for combo, chars in ((self.voice_combo, 8), (self.model_combo, 6),
                             (self.language_combo, 3), (self.emotion_combo, 6)):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(chars)
        self.speed_spin = self._ratio_spin(*SPEED_RANGE, "Speed ×")
        self.volume_spin = self._ratio_spin(*VOLUME_RANGE, "Volume ×")

        self.text_edit = QPlainTextEdit()
        self.text_edit.setObjectName("BlockText")
        self.text_edit.setPlaceholderText(
            "Type or paste this part of your script, then press Generate (Ctrl+G). "
            'Tags work too: <break time="1s"/>, <emotion value="excited"/>, <spell>API</spell>. '
            "Paste a whole script with Ctrl+Shift+V to make one block per paragraph."
        )
        self.text_edit.setTabChangesFocus(True)
        self.text_edit.setUndoRedoEnabled(False)  # the window's undo stack has the history
        self.text_edit.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        layout_of_text = self.text_edit.document().documentLayout()
        layout_of_text.documentSizeChanged.connect(self._fit_text_height)
        self.highlighter = PronunciationHighlighter(self.text_edit.document())
        self._marks: tuple[str, object] | None = None  # dictionary and entries marked
        self._entry_tips = EntryToolTips(self.text_edit, self.highlighter)
        self.dictionary_combo = QComboBox()
        self.dictionary_combo.setObjectName("BlockDictionary")
        self.dictionary_combo.setToolTip(DICTIONARY_TIP)
        self.dictionary_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.dictionary_combo.setMinimumContentsLength(16)

        self.generate_button = self._tool("Generate", "Generate a new take of this block (Ctrl+G)")
        self.play_button = self._tool("Play", "Play the selected take")
        self.up_button = self._tool("▲", "Move block up")
        self.down_button = self._tool("▼", "Move block down")
        self.remove_button = self._tool("✕", "Remove block")
        self.status_label = QLabel()
        self.status_label.setObjectName("BlockStatus")
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        self.take_list = QListWidget()
        self.take_list.setObjectName("TakeList")
        self.take_list.setToolTip("Takes: the selected one plays and exports; double-click plays")

        top = QHBoxLayout()
        top.addWidget(self.number_label)
        top.addWidget(self.voice_combo, 3)
        top.addWidget(self.model_combo, 1)
        top.addWidget(self.language_combo)
        top.addWidget(self.emotion_combo, 1)
        top.addWidget(QLabel("Speed"))
        top.addWidget(self.speed_spin)
        top.addWidget(QLabel("Volume"))
        top.addWidget(self.volume_spin)
        actions = QHBoxLayout()
        for button in (self.generate_button, self.play_button):
            actions.addWidget(button)
        actions.addWidget(self.dictionary_combo)
        actions.addWidget(self.status_label, 1)
        for button in (self.up_button, self.down_button, self.remove_button):
            actions.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(4)
        layout.addWidget(self.chapter_label)
        layout.addLayout(top)
        layout.addWidget(self.text_edit)
        layout.addLayout(actions)
        layout.addWidget(self.take_list)

        self._generating = False
        self._stale_shown = ""  # the out-of-date message shown, if any
        self._status_take = ""  # the take the status line is about, if any
        self.refresh_fields()
        self.refresh_takes()
        self._fit_text_height()
        self.dictionary_combo.currentIndexChanged.connect(self._on_dictionary_chosen)

        self.text_edit.textChanged.connect(self._on_text_changed)
        self.voice_combo.voice_chosen.connect(self._on_voice_chosen)
        self.model_combo.currentTextChanged.connect(self._on_model_changed)
        self.language_combo.currentTextChanged.connect(self._on_language_changed)
        self.emotion_combo.currentIndexChanged.connect(self._on_emotion_changed)
        self.speed_spin.valueChanged.connect(self._on_speed_changed)
        self.volume_spin.valueChanged.connect(self._on_volume_changed)
        self.take_list.currentItemChanged.connect(self._on_take_clicked)
        self.take_list.itemDoubleClicked.connect(
            lambda _item: self.play_requested.emit(self.block_id)
        )
        self.generate_button.clicked.connect(lambda: self.generate_requested.emit(self.block_id))
        self.play_button.clicked.connect(lambda: self.play_requested.emit(self.block_id))
        self.up_button.clicked.connect(lambda: self.move_requested.emit(self.block_id, -1))
        self.down_button.clicked.connect(lambda: self.move_requested.emit(self.block_id, 1))
        self.remove_button.clicked.connect(lambda: self.remove_requested.emit(self.block_id))
        self._catalog = catalog
        # A bound method, not a lambda: Qt drops the connection when this view is deleted.
        catalog.voices_changed.connect(self._on_voices_changed)
        for widget in (self.text_edit, self.voice_combo, self.model_combo, self.language_combo,
                       self.emotion_combo, self.speed_spin, self.volume_spin, self.take_list,
                       self.dictionary_combo):
            widget.installEventFilter(self)
        for widget in self._wheel_guarded():
            # Focus by click or Tab only, so the wheel scrolling the script past a field
            # neither focuses it nor (see eventFilter) changes its value.
            widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = self.chapter_menu()
        menu.exec(event.globalPos())

    def chapter_menu(self) -> QMenu:
        """The block's chapter commands: start (or rename) a chapter, remove the mark."""
        starts = self.document.block(self.block_id).chapter is not None
        menu = QMenu(self)
        start = menu.addAction("Rename chapter…" if starts else "Start chapter here…")
        start.triggered.connect(lambda _checked=False: self.chapter_requested.emit(self.block_id))
        remove = menu.addAction("Remove chapter mark")
        remove.setEnabled(starts)
        remove.triggered.connect(lambda _checked=False: self.chapter_removed.emit(self.block_id))
        return menu

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.chapter_label.isVisible() and self.chapter_label.geometry().contains(
                event.position().toPoint()):
            self.chapter_requested.emit(self.block_id)
            return
        super().mouseDoubleClickEvent(event)

    @staticmethod
    def _ratio_spin(low: float, high: float, tip: str) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(low, high)
        spin.setSingleStep(0.05)
        spin.setDecimals(2)
        spin.setToolTip(f"{tip} ({low}–{high})")
        return spin

    @staticmethod
    def _tool(text: str, tip: str) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        return button

    def _wheel_guarded(self) -> tuple[QWidget, ...]:
        """The value fields a stray wheel would change: spin boxes and combos."""
        return (self.voice_combo, self.model_combo, self.language_combo, self.emotion_combo,
                self.dictionary_combo, self.speed_spin, self.volume_spin)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget)
                and not watched.hasFocus() and watched in self._wheel_guarded()):
            # The wheel over a field the user is not working in scrolls the script:
            # ignored and filtered out, the event goes on to the parents (Qt propagates
            # an unaccepted wheel event), up to the Script panel's scroll area.
            event.ignore()
            return True
        if event.type() == QEvent.Type.FocusIn:
            self.focused.emit(self.block_id)
        elif (event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent)
              and _is_undo_key(event)):
            # Text boxes and spin boxes claim Undo/Redo keys for their own history;
            # left unclaimed, the keys reach the window's Undo and Redo actions.
            event.ignore()
            return True
        return super().eventFilter(watched, event)

    # --- from the document -----------------------------------------------------

    def _fit_text_height(self, *_args: object) -> None:
        """Grow the text box with its paragraph: 2 to 10 lines, then it scrolls."""
        lines = int(self.text_edit.document().size().height())  # lines, for a plain text edit
        line_height = self.text_edit.fontMetrics().lineSpacing()
        frame = 2 * self.text_edit.frameWidth() + int(
            self.text_edit.document().documentMargin() * 2
        )
        self.text_edit.setFixedHeight(max(2, min(lines, 10)) * line_height + frame + 4)

    def set_number(self, number: int) -> None:
        self.number_label.setText(f"#{number}")

    def set_current(self, current: bool) -> None:
        self.setProperty("current", current)
        self.style().unpolish(self)
        self.style().polish(self)

    def refresh_fields(self) -> None:
        """Show the block's fields; widgets that already show them are left alone."""
        block = self.document.block(self.block_id)
        self._update_state()
        self.chapter_label.setVisible(block.chapter is not None)
        if block.chapter is not None:
            title = block.chapter or "(untitled)"
            # "Chapter 1: The Storm" is shown as it is, not as "Chapter: Chapter 1: ...".
            prefix = "" if title.lower().startswith("chapter") else "Chapter: "
            self.chapter_label.setText(prefix + title)
        if self.text_edit.toPlainText() != block.text:
            self._show_text(block.text)
        self.voice_combo.set_voice_id(block.voice_id)
        for widget, value in ((self.model_combo, block.model_id),
                              (self.language_combo, block.language)):
            if widget.currentText() != value:
                widget.blockSignals(True)
                widget.setCurrentText(value)
                widget.blockSignals(False)
        index = self.emotion_combo.findData(block.emotion) if block.emotion else 0
        if self.emotion_combo.currentIndex() != index:
            self.emotion_combo.blockSignals(True)
            self.emotion_combo.setCurrentIndex(max(index, 0))
            self.emotion_combo.blockSignals(False)
        for spin, ratio in ((self.speed_spin, block.speed), (self.volume_spin, block.volume)):
            if abs(spin.value() - ratio) > 1e-9:
                spin.blockSignals(True)
                spin.setValue(ratio)
                spin.blockSignals(False)
        self.refresh_pronunciation()

    def refresh_pronunciation(self) -> None:
        """Show the block's dictionary choice and mark the words it changes (after the
        block, the project's choice or a dictionary's entries changed)."""
        block = self.document.block(self.block_id)
        document = self.document
        project_id = document.pronunciation_dict_id
        project = document.dictionary(project_id) if project_id else None
        project_name = "none" if not project_id else project[0] if project else "unknown"
        # The narrow box clips its text: what matters comes first.
        project_label = (f"Missing: {project_name} (project's)"
                         if project_id and document.is_available(project_id) is False
                         else f"Project's: {project_name}")
        entries: list[tuple[str, str | None, str]] = [
            (project_label, None,
             f"Follow the project's pronunciation dictionary (now: {project_name})"),
            ("No dictionary", "", "No pronunciation dictionary for this block"),
        ]
        choices = document.dictionary_choices()
        if block.pronunciation_dict_id and all(
            c[0] != block.pronunciation_dict_id for c in choices
        ):
            choices.append((block.pronunciation_dict_id, block.pronunciation_dict_id, False))
        for dict_id, name, available in choices:
            label = f"Dictionary: {name}" if available else f"Missing: {name}"
            tip = (f"Use {name} for this block" if available else
                   f"{name} is not on the server any more; the project keeps a copy "
                   "(Dictionaries panel: Recreate)")
            entries.append((label, dict_id, tip))
        supported = supports_pronunciation_dicts(block.model_id)
        if not supported:  # the choice is kept for when the model changes back
            entries = [(f"No dictionary on {block.model_id}", block.pronunciation_dict_id,
                        "")]
        combo = self.dictionary_combo
        current = [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())]
        wanted = [(label, data) for label, data, _tip in entries]
        combo.blockSignals(True)
        if current != wanted:
            combo.clear()
            for label, data, tip in entries:
                combo.addItem(label, data)
                combo.setItemData(combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        index = next(i for i, (_label, data) in enumerate(wanted)
                     if data == block.pronunciation_dict_id)
        combo.setCurrentIndex(index)
        combo.blockSignals(False)
        combo.setEnabled(supported)
        combo.setToolTip(DICTIONARY_TIP if supported else
                         f"{block.model_id} applies no pronunciation dictionary (Sonic-3 and "
                         "later do); choose a Sonic-3 model to use one")
        use = document.dictionary_use(block)
        # Redraw the marks only when the entries that apply changed: an edit to a big
        # dictionary elsewhere then costs each block one match, not a repaint.
        marks = (use.id, use.applied(block.text))
        self.highlighter.set_matcher(use.matcher, redraw=marks != self._marks)
        known = document.dictionary(use.id) if use.id else None
        self.highlighter.dictionary_name = known[0] if known else ""
        self._marks = marks
        self._update_state()

    def _on_dictionary_chosen(self, index: int) -> None:
        if index >= 0:
            self.editor.update_block(self.block_id,
                                     pronunciation_dict_id=self.dictionary_combo.itemData(index))

    def _show_text(self, text: str) -> None:
        """Replace only the part of the shown text that differs from ``text`` (an undo,
        a redo or a paste changed the block) and put the cursor at the end of it; the
        change is not sent back to the editor."""
        old = self.text_edit.toPlainText()
        start = 0
        limit = min(len(old), len(text))
        while start < limit and old[start] == text[start]:
            start += 1
        tail = 0
        while tail < limit - start and old[-1 - tail] == text[-1 - tail]:
            tail += 1
        cursor = self.text_edit.textCursor()
        cursor.setPosition(_utf16_length(old[:start]))
        cursor.setPosition(_utf16_length(old[:len(old) - tail]), QTextCursor.MoveMode.KeepAnchor)
        self._showing_text = True
        try:
            cursor.insertText(text[start:len(text) - tail])
            if self.text_edit.toPlainText() != text:  # characters Qt stores differently
                self.text_edit.setPlainText(text)
                cursor = self.text_edit.textCursor()
                cursor.movePosition(QTextCursor.MoveOperation.End)
        finally:
            self._showing_text = False
        self.text_edit.setTextCursor(cursor)

    def refresh_takes(self) -> None:
        block = self.document.block(self.block_id)
        self.take_list.blockSignals(True)
        self.take_list.clear()
        for take in reversed(block.takes):
            item = QListWidgetItem(take_label(take))
            item.setData(Qt.ItemDataRole.UserRole, take.id)
            self.take_list.addItem(item)
            if take.id == block.selected_take_id:
                self.take_list.setCurrentItem(item)
        self.take_list.blockSignals(False)
        self.take_list.setVisible(bool(block.takes))
        if self._status_take and self._status_take != block.selected_take_id:
            self.set_status("")  # "Take 4 ready" no longer describes the selected take
        self._update_state()
        rows = min(len(block.takes), 3)
        if rows:
            row_height = self.take_list.sizeHintForRow(0)
            self.take_list.setFixedHeight(rows * row_height + 2 * self.take_list.frameWidth() + 4)
        self.play_button.setEnabled(block.selected_take is not None)

    def _update_state(self) -> None:
        """Enable Generate only for text, and say when the selected take is out of date."""
        block = self.document.block(self.block_id)
        self.generate_button.setEnabled(bool(block.text.strip()) and not self._generating)
        take = block.selected_take
        message = ""
        if take is not None and not self.document.is_current(block, take):
            message = self._out_of_date_message(block, take)
        if message != self._stale_shown and not self._generating:
            self._stale_shown = message
            self.set_status(message, warning=bool(message))

    def _out_of_date_message(self, block: Block, take: Take) -> str:
        """Why ``take`` is out of date (the block's text or settings, or its dictionary,
        naming the entries that changed) and what Generate will do about it."""
        document = self.document
        own_dict = str(take.request.get("pronunciation_dict_id") or "")
        if block.matches(take, DictionaryUse(own_dict)):  # only the dictionary differs
            applied = document.dictionary_use(block).applied(take.spoken_text) or ()
            changed = sorted({i.text for i in set(applied) ^ set(take.dictionary)})
            names = ", ".join(f"“{text}”" for text in changed[:3])
            more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
            reason = (f"Dictionary changed for {names}{more}" if names
                      else "Dictionary changed")
        else:
            reason = "Edited"
        earlier = next((t for t in reversed(block.takes)
                        if t is not take and document.is_current(block, t)), None)
        if earlier is not None:
            return f"{reason} since {take.name}; {earlier.name} matches: Generate uses it, free"
        return f"{reason} since {take.name}: generate again for a new take"

    def set_take_status(self, take_id: str, text: str) -> None:
        """Show ``text`` about take ``take_id``; it clears itself once another take
        is selected (or that one is undone)."""
        self.set_status(text)
        self._status_take = take_id

    def set_status(self, text: str, error: bool = False, warning: bool = False) -> None:
        """Show ``text`` under the block (red for an error, amber for a warning)."""
        self._status_take = ""
        self.status_label.setText(text)
        self.status_label.setProperty("error", error)
        self.status_label.setProperty("warning", warning)
        self.status_label.setToolTip(text)
        self.style().unpolish(self.status_label)
        self.style().polish(self.status_label)

    def set_generating(self, generating: bool) -> None:
        """Show a job as running (Generate disabled) or over."""
        self._generating = generating
        self._stale_shown = ""
        self._update_state()
        if generating:
            self.set_status("Generating…")

    def _on_voices_changed(self) -> None:
        self.voice_combo.set_voices(self._catalog.voices)

    # --- to the editor ---------------------------------------------------------

    def _update(self, **changes: object) -> None:
        self.editor.update_block(self.block_id, **changes)

    def _on_text_changed(self) -> None:
        if not self._showing_text:
            self._update(text=self.text_edit.toPlainText())

    def _on_voice_chosen(self, voice_id: str) -> None:
        voice = self._catalog.voice(voice_id)
        if voice is not None and voice.language:
            # A voice speaks its own language unless the user then picks another one.
            self._update(voice_id=voice_id, language=voice.language)
        else:
            self._update(voice_id=voice_id)

    def _on_model_changed(self, text: str) -> None:
        if text.strip():
            self._update(model_id=text.strip())

    def _on_language_changed(self, text: str) -> None:
        self._update(language=text)

    def _on_emotion_changed(self, _index: int) -> None:
        self._update(emotion=self.emotion_combo.currentData())

    def _on_speed_changed(self, value: float) -> None:
        self._update(speed=round(value, 2))

    def _on_volume_changed(self, value: float) -> None:
        self._update(volume=round(value, 2))

    def _on_take_clicked(self, item: QListWidgetItem | None, _previous: object) -> None:
        if item is not None:
            self.editor.select_take(self.block_id, item.data(Qt.ItemDataRole.UserRole))
