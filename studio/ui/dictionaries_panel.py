"""The Dictionaries panel (issue #6): the backend's pronunciation dictionaries, their
entries with undo, IPA help, import and export, and "Say it".

Every request goes through :class:`~studio.services.dictionaries.DictionaryService`;
this module shows and asks. Dialogs open from slots, never inside a coroutine. Entry
changes are commands on :attr:`DictionariesPanel.undo_stack` and reach the service at
once; it saves them in the background and the status line says how that went.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import shiboken6
from PySide6.QtCore import QPersistentModelIndex, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QKeySequence,
    QPainter,
    QPalette,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from studio.api import DEFAULT_MODEL, LANGUAGES, CartesiaError
from studio.project.lexicon import Format, LexiconError, LexiconItem, read_lexicon, write_lexicon
from studio.services.catalog import pick_voice
from studio.services.dictionaries import DictionaryError, DictionaryService
from studio.services.playback import PlaybackService
from studio.services.tasks import TaskGroup, Work
from studio.services.voices import VoiceCatalog
from studio.ui.actions import make_action
from studio.ui.ipa_palette import IpaPalette
from studio.ui.lexicon_table import (
    ALIAS_EDITOR,
    TEXT,
    LexiconTableModel,
    LexiconTableView,
    merge_items,
)
from studio.ui.voice_combo import VoiceComboBox
from studio.ui.voice_dialogs import language_label

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]
ImportMode = Literal["replace", "merge"]

#: A finished action's message goes after this long; errors and states stay.
STATUS_SECONDS = 8.0
#: Silence between "without" and "with" in Say it, seconds.
SAY_IT_PAUSE = 0.6
#: The sample sentence for an entry; ``{text}`` is the entry's text.
SAMPLE_SENTENCE = "I said {text} clearly."
NOT_CONNECTED = ("Not connected: dictionaries live on the backend, so they can be edited "
                 "once it runs.")

#: File dialog filters and the format each means.
EXPORT_FILTERS: tuple[tuple[str, Format], ...] = (
    ("Cartesia JSON (*.json)", "json"), ("CSV, text and alias (*.csv)", "csv"),
    ("W3C PLS lexicon (*.pls)", "pls"))
IMPORT_FILTER = ("Pronunciation lexicons (*.json *.csv *.pls *.xml);;Cartesia JSON (*.json);;"
                 "CSV (*.csv);;W3C PLS lexicon (*.pls *.xml);;All files (*)")
_EXTENSIONS: dict[str, Format] = {".json": "json", ".csv": "csv", ".pls": "pls", ".xml": "pls"}


def entries_sentence(count: int) -> str:
    return "1 entry" if count == 1 else f"{count} entries"


def export_format(path: str, selected_filter: str) -> tuple[str, Format]:
    """The path to write and its format: the extension typed decides; without a known
    one, the filter chosen does and its extension is added."""
    suffix = Path(path).suffix.lower()
    if suffix in _EXTENSIONS:
        return path, _EXTENSIONS[suffix]
    fmt: Format = next((f for label, f in EXPORT_FILTERS if label == selected_filter), "json")
    return f"{path}.{fmt}", fmt


class _DictionaryDelegate(QStyledItemDelegate):
    """A dictionary in the list: its name, and under it, dimmer, what it holds and how
    it stands (the item's text, split at its line break)."""

    PAD = 5

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Any) -> None:
        option = QStyleOptionViewItem(option)  # a copy: Qt's is shared with other cells
        self.initStyleOption(option, index)
        # The item's own text: the style option's has its line break made a U+2028.
        name, _, facts = str(index.data(Qt.ItemDataRole.DisplayRole) or "").partition("\n")
        option.text = ""
        style = option.widget.style() if option.widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, option.widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        rect = option.rect.adjusted(self.PAD + 3, self.PAD, -self.PAD, -self.PAD)
        line = option.fontMetrics.height()
        painter.save()
        painter.setFont(option.font)
        painter.setPen(option.palette.color(QPalette.ColorRole.HighlightedText if selected
                                            else QPalette.ColorRole.Text))
        painter.drawText(rect.adjusted(0, 0, 0, -line), Qt.AlignmentFlag.AlignLeft,
                         option.fontMetrics.elidedText(name, Qt.TextElideMode.ElideRight,
                                                       rect.width()))
        small = QFont(option.font)
        small.setBold(False)
        painter.setFont(small)
        painter.setPen(QColor("#d8d4ff" if selected else "#8d8e9c"))
        painter.drawText(rect.adjusted(0, line + 2, 0, 0), Qt.AlignmentFlag.AlignLeft,
                         QFontMetrics(small).elidedText(facts, Qt.TextElideMode.ElideRight,
                                                        rect.width()))
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Any) -> QSize:
        line = option.fontMetrics.height()
        return QSize(120, 2 * line + 2 + 2 * self.PAD)


class DictionariesPanel(QWidget):
    """Pronunciation dictionaries: the list on the left, the selected one's entries on
    the right.

    The list shows each dictionary's name, entry count, ★ when pinned, "this project"
    for the one the project uses (:meth:`set_project_dictionary`), and what is not
    saved. The entries table sorts by any column, searches text and alias, and edits in
    place; the fields under it edit the current entry, with the IPA palette and
    **Suggest** (espeak-ng's IPA for the text, one undo step). **Say it** renders the
    sample sentence without and with the dictionary and plays them one after the other.

    Args:
        service: the dictionaries and their saving.
        playback: where Say it plays.
        catalog: the voices to say it with.
        language: the language for Suggest and Say it, at first (:meth:`set_language`).

    Attributes:
        undo_stack: every change to entries (the app gives it focus-scoped Undo).
        model: the entries of the dictionary shown (:class:`LexiconTableModel`).
        table: the entries (:class:`LexiconTableView`; its ``proxy`` sorts and searches).
        dict_list: the dictionaries.
        text_edit, alias_edit: the current entry's text and alias.
        ipa_palette: the IPA symbols, typing into the alias being edited.
        sample_edit, voice_combo, language_combo, say_button: Say it.
        status_label: what was done or went wrong; save_label: how saving stands, with
            retry_button and recreate_button when they apply.
        last_renders: ``(without, with, sample_rate)`` of the last Say it.

    Signals:
        use_requested(str dict_id): "Use for this project" ("" to stop using one, also
            after deleting the project's dictionary; the id of the new dictionary when
            the project's was recreated). The app sets it on the project and calls
            :meth:`set_project_dictionary`.
    """

    use_requested = Signal(str)

    def __init__(self, service: DictionaryService, playback: PlaybackService,
                 catalog: VoiceCatalog, *, language: str = "en",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("DictionariesPanel")
        self.service = service
        self.playback = playback
        self.catalog = catalog
        self.undo_stack = QUndoStack(self)
        self.last_renders: tuple[FloatArray, FloatArray, int] | None = None
        self._project_dict_id = ""
        self._tasks = TaskGroup(self._on_task_failed, "dictionary action")
        self._pushing = False  # our own edit is reaching the service
        self._bound = QPersistentModelIndex()  # the entry the fields below edit
        self._sample_auto = ""  # the sentence we filled in (replaced while unchanged)
        self._stream_id: int | None = None
        self._recreated: dict[str, str] = {}  # missing id -> the id it was recreated as
        self.status_timer = QTimer(self)
        self.status_timer.setSingleShot(True)
        self.status_timer.setInterval(int(STATUS_SECONDS * 1000))
        self.status_timer.timeout.connect(lambda: self._set_status(""))

        self.model = LexiconTableModel(self)
        self.model.undo_stack = self.undo_stack
        self.model.resolve = self._model_for
        self.table = LexiconTableView(self.model)

        self._build_actions()
        self._build_layout(language)
        self._connect()
        self._fill_voices()
        self._fill_list()
        self._on_connection_changed(service.connected)

    # --- building ------------------------------------------------------------------------

    def _build_actions(self) -> None:
        self.new_action = make_action(self, "New…", self.new_dictionary,
                                      tip="Make a new, empty dictionary")
        self.rename_action = make_action(self, "Rename…", self.rename_current,
                                         tip="Rename the dictionary")
        self.delete_action = make_action(self, "Delete…", self.delete_current,
                                         tip="Delete the dictionary from the backend")
        self.pin_action = make_action(self, "★ Pin", self.toggle_pin,
                                      tip="Pin the dictionary: generation applies it first")
        self.import_action = make_action(self, "Import…", self.import_file,
                                         tip="Add entries from a Cartesia JSON, CSV or W3C "
                                             "PLS file")
        self.export_action = make_action(self, "Export…", self.export_file,
                                         tip="Save the entries as Cartesia JSON, CSV or W3C "
                                             "PLS")
        self.refresh_action = make_action(self, "⟳", self.refresh,
                                          tip="Load the dictionaries again")
        self.add_action = make_action(self, "+ Add", self.add_entry, QKeySequence("Ins"),
                                      tip="Add an entry after the current one")
        self.remove_action = make_action(self, "− Remove", self.remove_selected,
                                         QKeySequence(QKeySequence.StandardKey.Delete),
                                         tip="Remove the selected entries")
        for action in (self.add_action, self.remove_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            self.table.addAction(action)
        # Fixed labels (the stack's own actions take each step's text and would widen
        # the toolbar); the step is named in the tooltip.
        self.undo_action = make_action(self, "↶ Undo", self.undo_stack.undo)
        self.redo_action = make_action(self, "↷ Redo", self.undo_stack.redo)
        for action, can, text in (
                (self.undo_action, self.undo_stack.canUndoChanged, self.undo_stack.undoTextChanged),
                (self.redo_action, self.undo_stack.canRedoChanged, self.undo_stack.redoTextChanged)):
            action.setEnabled(False)
            can.connect(action.setEnabled)
            verb = action.text().split()[1]
            text.connect(lambda step, a=action, v=verb: a.setToolTip(f"{v} {step}".strip()))

    def _build_layout(self, language: str) -> None:
        self.banner = QLabel(NOT_CONNECTED)
        self.banner.setObjectName("DictionariesBanner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("color: #f2c46c; padding: 4px 2px;")

        # Left: the dictionaries.
        self.dict_list = QListWidget()
        self.dict_list.setObjectName("DictionaryList")
        self.dict_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.dict_list.setItemDelegate(_DictionaryDelegate(self.dict_list))
        self.use_button = QPushButton("Use for this project")
        self.use_button.setToolTip("Generate this project's blocks with this dictionary "
                                   "(a block can override it)")
        self.use_button.clicked.connect(self.use_current)
        list_bar = self._toolbar((self.new_action, self.rename_action, self.delete_action,
                                  None, self.refresh_action))
        file_bar = self._toolbar((self.pin_action, None, self.import_action,
                                  self.export_action))
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 4, 0)
        left_layout.setSpacing(4)
        title = QLabel("Dictionaries")
        title.setStyleSheet("color: #9a9bab; font-weight: bold;")
        left_layout.addWidget(title)
        left_layout.addWidget(list_bar)
        left_layout.addWidget(self.dict_list, 1)
        left_layout.addWidget(file_bar)
        left_layout.addWidget(self.use_button)

        # Right: the entries.
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search text or alias…")
        self.search_edit.setClearButtonEnabled(True)
        self.counts_label = QLabel()
        self.counts_label.setStyleSheet("color: #a3a4b3;")
        entry_bar = self._toolbar((self.add_action, self.remove_action, None,
                                   self.undo_action, self.redo_action))
        search_row = QHBoxLayout()
        search_row.setSpacing(6)
        search_row.addWidget(self.search_edit, 1)
        search_row.addWidget(self.counts_label)
        search_row.addWidget(entry_bar)

        self.text_edit = QLineEdit()
        self.text_edit.setPlaceholderText("Text, as written in the script")
        self.alias_edit = QLineEdit()
        self.alias_edit.setObjectName(ALIAS_EDITOR)
        self.alias_edit.setPlaceholderText("Alias: kar-TEE-zhuh, or IPA <<k|ɑ|ɹ|ˈ|t|i|ʒ|ə>>")
        alias_font = self.alias_edit.font()
        alias_font.setPointSizeF(alias_font.pointSizeF() * 1.15)
        self.alias_edit.setFont(alias_font)
        self.suggest_button = QPushButton("Suggest IPA")
        self.suggest_button.setToolTip("Fill the alias with espeak-ng's IPA for the text, "
                                       "as a start to edit (Undo takes it back)")
        self.suggest_button.clicked.connect(self.suggest)
        entry_row = QHBoxLayout()
        entry_row.setSpacing(6)
        entry_row.addWidget(self.text_edit, 2)
        entry_row.addWidget(QLabel("→"))
        entry_row.addWidget(self.alias_edit, 3)
        entry_row.addWidget(self.suggest_button)
        self.ipa_palette = IpaPalette(self.alias_edit)

        self.sample_edit = QLineEdit()
        self.sample_edit.setPlaceholderText("A sentence with the entry in it")
        self.voice_combo = VoiceComboBox()
        self.voice_combo.setMinimumContentsLength(14)
        self.language_combo = QComboBox()
        for code in LANGUAGES:
            self.language_combo.addItem(language_label(code), code)
        self.language_combo.setCurrentIndex(max(self.language_combo.findData(language), 0))
        self.language_combo.setToolTip("The language to say it in, and to suggest IPA for")
        self.say_button = QPushButton("▶ Say it")
        self.say_button.setToolTip("Hear the sentence without the dictionary, then with it")
        self.say_button.clicked.connect(self.say_it_or_stop)
        say_box = QGroupBox("Say it")
        say_layout = QVBoxLayout(say_box)
        say_layout.setContentsMargins(8, 4, 8, 6)
        say_layout.setSpacing(4)
        say_layout.addWidget(self.sample_edit)
        say_row = QHBoxLayout()
        say_row.setSpacing(6)
        say_row.addWidget(self.voice_combo, 2)
        say_row.addWidget(self.language_combo, 1)
        say_row.addWidget(self.say_button)
        say_layout.addLayout(say_row)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(4, 0, 0, 0)
        right_layout.setSpacing(4)
        right_layout.addLayout(search_row)
        right_layout.addWidget(self.table, 1)
        right_layout.addLayout(entry_row)
        right_layout.addWidget(self.ipa_palette)
        right_layout.addWidget(say_box)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([250, 650])
        self.splitter.setChildrenCollapsible(False)

        self.status_label = QLabel()
        self.status_label.setObjectName("DictionariesStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored,
                                        QSizePolicy.Policy.Preferred)
        self.save_label = QLabel()
        self.save_label.setObjectName("DictionarySaveState")
        self.retry_button = QPushButton("Retry")
        self.retry_button.clicked.connect(self.retry)
        self.recreate_button = QPushButton("Recreate")
        self.recreate_button.setToolTip("Make a new dictionary on the server with this name "
                                        "and these entries")
        self.recreate_button.clicked.connect(self.recreate_current)
        status_row = QHBoxLayout()
        status_row.setSpacing(6)
        status_row.addWidget(self.status_label, 1)
        status_row.addWidget(self.save_label)
        status_row.addWidget(self.retry_button)
        status_row.addWidget(self.recreate_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(4)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(status_row)

    @staticmethod
    def _toolbar(actions: Sequence[Any]) -> QToolBar:
        # A toolbar, not a row of buttons: in a narrow dock the rest folds into its
        # extension menu instead of forcing the dock wider.
        bar = QToolBar()
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in actions:
            if action is None:
                bar.addSeparator()
            else:
                bar.addAction(action)
        return bar

    def _connect(self) -> None:
        service = self.service
        service.dictionaries_changed.connect(self._fill_list)
        service.items_changed.connect(self._on_items_changed)
        service.save_state_changed.connect(self._on_save_state_changed)
        service.connection_changed.connect(self._on_connection_changed)
        service.error.connect(self._on_service_error)
        service.dictionary_recreated.connect(self._on_recreated)
        self.model.items_edited.connect(self._on_model_edited)
        self.model.rows_touched.connect(self._on_rows_touched)
        self.dict_list.currentItemChanged.connect(self._on_dictionary_chosen)
        selection = self.table.selectionModel()
        selection.currentRowChanged.connect(self._on_entry_chosen)
        selection.selectionChanged.connect(self._update_actions)
        self.search_edit.textChanged.connect(self._on_search_changed)
        self.text_edit.editingFinished.connect(self._commit_fields)
        self.alias_edit.editingFinished.connect(self._commit_fields)
        self.sample_edit.textEdited.connect(self._on_sample_edited)
        self.language_combo.currentIndexChanged.connect(self._on_language_changed)
        self.catalog.voices_changed.connect(self._fill_voices)
        self.playback.started.connect(self._on_playback_changed)
        self.playback.stopped.connect(self._on_playback_changed)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._on_focus_changed)

    # --- the list of dictionaries ----------------------------------------------------------

    def current_dict_id(self) -> str:
        """The id of the dictionary shown ("" for none)."""
        item = self.dict_list.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else ""

    def select_dictionary(self, dict_id: str) -> bool:
        """Show ``dict_id``; returns whether it is listed."""
        for row in range(self.dict_list.count()):
            item = self.dict_list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == dict_id:
                self.dict_list.setCurrentItem(item)
                return True
        return False

    def set_project_dictionary(self, dict_id: str) -> None:
        """Mark ``dict_id`` as the one this project uses ("" for none)."""
        self._project_dict_id = dict_id
        self._fill_list()

    def set_language(self, code: str) -> None:
        """Suggest and Say it in ``code`` (a studio language such as ``"en"``)."""
        index = self.language_combo.findData(code)
        if index >= 0:
            self.language_combo.setCurrentIndex(index)

    def language(self) -> str:
        return str(self.language_combo.currentData() or "en")

    def _list_text(self, dict_id: str) -> tuple[str, str]:
        """The two lines of a dictionary in the list, and its tooltip."""
        entry = self.service.dictionary(dict_id)
        assert entry is not None
        count = len(self.service.items(dict_id) or ())
        facts = [entries_sentence(count)]
        tips = [f"{entry.name}: {entries_sentence(count)}"]
        if dict_id == self._project_dict_id:
            facts.append("this project")
            tips.append("This project's blocks are generated with it.")
        if entry.pinned:
            tips.append("Pinned: generation applies it first.")
        if self.service.is_missing(dict_id):
            facts.append("deleted on the server")
            tips.append("Deleted on the server; its entries are kept here. Recreate saves "
                        "them as a new dictionary.")
        elif self.service.unsaved(dict_id):
            facts.append("not all saved")
        star = "★ " if entry.pinned else ""
        return f"{star}{entry.name}\n{' · '.join(facts)}", "\n".join(tips)

    def _fill_list(self) -> None:
        keep = self.current_dict_id()
        self.dict_list.blockSignals(True)
        self.dict_list.clear()
        for entry in self.service.dictionaries():
            text, tip = self._list_text(entry.id)
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, entry.id)
            item.setToolTip(tip)
            if self.service.is_missing(entry.id):
                item.setForeground(Qt.GlobalColor.gray)
            if entry.id == self._project_dict_id:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            self.dict_list.addItem(item)
        self.dict_list.blockSignals(False)
        if (not keep or not self.select_dictionary(keep)) and self.dict_list.count():
            self.dict_list.setCurrentRow(0)
        self._on_dictionary_chosen()

    def _update_list_item(self, dict_id: str) -> None:
        for row in range(self.dict_list.count()):
            item = self.dict_list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == dict_id:
                if self.service.dictionary(dict_id) is not None:
                    text, tip = self._list_text(dict_id)
                    item.setText(text)
                    item.setToolTip(tip)
                return

    def _on_dictionary_chosen(self, *_args: object) -> None:
        dict_id = self.current_dict_id()
        if dict_id != self.model.dict_id:
            self._commit_fields()
            # One checker for the view and the service: a text edit checks texts once.
            self.model.checker = self.service.checker(dict_id)
            self.model.set_items(dict_id, self.service.items(dict_id) or ())
            self._bind(None)
            if self.model.rowCount():
                self.table.select_source_rows([0])
        self._show_save_state()
        self._update_actions()

    def _model_for(self, dict_id: str) -> LexiconTableModel | None:
        """The model showing ``dict_id``, selecting it first (an undo step of another
        dictionary); None when it is gone."""
        dict_id = self._recreated.get(dict_id, dict_id)
        if self.model.dict_id == dict_id:
            return self.model
        if self.service.dictionary(dict_id) is None or not self.select_dictionary(dict_id):
            return None
        return self.model if self.model.dict_id == dict_id else None

    # --- entries -------------------------------------------------------------------------

    def _on_model_edited(self, dict_id: str) -> None:
        """A command changed the entries: hand them to the service (which saves)."""
        self._pushing = True
        try:
            self.service.edit_items(dict_id, self.model.items())
        except DictionaryError as exc:
            self._set_status(str(exc), error=True)
        finally:
            self._pushing = False
        self._show_fields()
        self._update_list_item(dict_id)
        self._update_actions()

    def _on_items_changed(self, dict_id: str) -> None:
        if self._pushing:
            return
        self._update_list_item(dict_id)
        if dict_id != self.model.dict_id:
            return
        items = self.service.items(dict_id)
        if items is not None and items != self.model.items():
            # Changed elsewhere (a refresh brought the server's entries): the steps on the
            # stack no longer fit them.
            self.undo_stack.clear()
            self._bind(None)
            self.model.set_items(dict_id, items)
            self._update_actions()

    def _on_search_changed(self, text: str) -> None:
        self.table.proxy.set_search(text)
        self._update_actions()

    def _on_rows_touched(self, rows: list[int]) -> None:
        if rows:
            self.table.select_source_rows(rows)
        elif not self.table.currentIndex().isValid() and self.model.rowCount():
            self.table.select_source_rows([0])  # after an import: the first entry

    def _on_entry_chosen(self, *_args: object) -> None:
        row = self.table.current_source_row()
        self._bind(row)

    def _bind(self, row: int | None) -> None:
        """Let the fields below the table edit the entry at ``row`` (committing what they
        hold for the entry before)."""
        if self._bound.isValid() and (row is None or self._bound.row() != row):
            self._commit_fields()
        self._bound = (QPersistentModelIndex(self.model.index(row, TEXT))
                       if row is not None and 0 <= row < self.model.rowCount()
                       else QPersistentModelIndex())
        self._show_fields(force=True)
        self._update_actions()

    def _bound_row(self) -> int | None:
        return self._bound.row() if self._bound.isValid() else None

    def _show_fields(self, force: bool = False) -> None:
        row = self._bound_row()
        item = self.model.item(row) if row is not None else LexiconItem("", "")
        for edit, value in ((self.text_edit, item.text), (self.alias_edit, item.alias)):
            if (force or not edit.hasFocus()) and edit.text() != value:
                edit.setText(value)
        for edit in (self.text_edit, self.alias_edit):
            edit.setEnabled(row is not None and self.service.connected)
        if row is not None and item.text.strip():
            sample = SAMPLE_SENTENCE.format(text=item.text.strip())
            if self.sample_edit.text() in ("", self._sample_auto) and sample != self._sample_auto:
                self.sample_edit.setText(sample)
                self._sample_auto = sample

    def _commit_fields(self) -> None:
        """The fields' text and alias become the bound entry's (one undo step)."""
        row = self._bound_row()
        if row is None or self.model.applying:
            return  # (never a new step from inside another one's undo or redo)
        item = self.model.item(row)
        new = LexiconItem(self.text_edit.text(), self.alias_edit.text())
        if new != item:
            self.model.edit_item(row, new, f"Edit “{item.text or new.text}”")

    def add_entry(self) -> None:
        """Add an empty entry after the current one and start typing its text."""
        if not self.model.dict_id:
            self._set_status("Make or choose a dictionary first", error=True)
            return
        self._commit_fields()
        current = self.table.current_source_row()
        row = self.model.add_item(None if current is None else current + 1)
        self.table.select_source_rows([row], edit_column=TEXT)

    def remove_selected(self) -> None:
        """Remove the selected entries (one undo step)."""
        rows = self.table.source_rows()
        if not rows:
            return
        self._commit_fields()
        self._bound = QPersistentModelIndex()
        self.model.remove_rows(rows)
        if self.model.rowCount():
            self.table.select_source_rows([min(rows[0], self.model.rowCount() - 1)])
        self._set_status(f"Removed {entries_sentence(len(rows))} (Undo brings them back)")

    # --- dictionary actions ----------------------------------------------------------------

    def refresh(self) -> None:
        self._start(self._refresh)

    async def _refresh(self) -> None:
        loading = "Loading dictionaries…"
        self._set_status(loading, lasts=True)
        await self.service.refresh()
        if self.status_label.text() == loading:  # (not when the refresh reported something)
            count = len(self.service.dictionaries())
            self._set_status("1 dictionary" if count == 1 else f"{count} dictionaries")

    def new_dictionary(self, name: str | None = None) -> None:
        """Make a dictionary called ``name`` (asked when None)."""
        if name is None:
            name = self._ask_name("New dictionary", "Name:",
                                  f"Dictionary {len(self.service.dictionaries()) + 1}")
        if name:
            self._start(self._create, name, ())

    async def _create(self, name: str, items: Sequence[LexiconItem]) -> None:
        self._set_status(f"Creating {name}…", lasts=True)
        made = await self.service.create(name, items)
        self.select_dictionary(made.id)
        self._set_status(f"Made “{made.name}” ({entries_sentence(len(items))})")

    def rename_current(self, name: str | None = None) -> None:
        entry = self.service.dictionary(self.current_dict_id())
        if entry is None:
            return
        if name is None:
            name = self._ask_name("Rename dictionary", "Name:", entry.name)
        if name and name.strip() != entry.name:
            self._start(self._rename, entry.id, name)

    async def _rename(self, dict_id: str, name: str) -> None:
        await self.service.rename(dict_id, name)
        self._set_status(f"Renamed to “{name.strip()}”")

    def delete_current(self) -> None:
        """Delete the dictionary shown, after asking (naming its entry count, and saying
        when this project uses it)."""
        dict_id = self.current_dict_id()
        entry = self.service.dictionary(dict_id)
        if entry is None:
            return
        count = entries_sentence(len(self.service.items(dict_id) or ()))
        if self.service.is_missing(dict_id):
            text = (f"“{entry.name}” is already deleted on the server. Forget its {count} "
                    "kept here? This cannot be undone.")
        else:
            text = (f"Delete the dictionary “{entry.name}” and its {count}? This cannot be "
                    "undone.")
        if dict_id == self._project_dict_id:
            text += ("\n\nThis project uses it: its blocks will be generated without a "
                     "dictionary until you choose another.")
        if self._confirm("Delete dictionary", text):
            self._start(self._delete, dict_id, entry.name)

    async def _delete(self, dict_id: str, name: str) -> None:
        self._set_status(f"Deleting {name}…", lasts=True)
        await self.service.delete(dict_id)
        if dict_id == self._project_dict_id:
            self.use_requested.emit("")
        self._set_status(f"Deleted “{name}”")

    def toggle_pin(self) -> None:
        entry = self.service.dictionary(self.current_dict_id())
        if entry is not None:
            self._start(self._pin, entry.id, not entry.pinned)

    async def _pin(self, dict_id: str, pinned: bool) -> None:
        if pinned:
            await self.service.pin(dict_id)
        else:
            await self.service.unpin(dict_id)
        entry = self.service.dictionary(dict_id)
        name = entry.name if entry is not None else dict_id
        self._set_status(f"Pinned “{name}”" if pinned else f"Unpinned “{name}”")

    def use_current(self) -> None:
        """Use the dictionary shown for this project, or stop using it if it is."""
        dict_id = self.current_dict_id()
        if not dict_id:
            return
        if dict_id == self._project_dict_id:
            self.use_requested.emit("")
            self._set_status("This project no longer uses a dictionary")
        else:
            self.use_requested.emit(dict_id)
            entry = self.service.dictionary(dict_id)
            self._set_status(f"This project now uses “{entry.name if entry else dict_id}”")

    def retry(self) -> None:
        dict_id = self.current_dict_id()
        if dict_id:
            self.service.retry(dict_id)

    def recreate_current(self) -> None:
        dict_id = self.current_dict_id()
        if dict_id and self.service.is_missing(dict_id):
            self._start(self._recreate, dict_id)

    async def _recreate(self, dict_id: str) -> None:
        self._set_status("Recreating…", lasts=True)
        made = await self.service.recreate(dict_id)
        self._set_status(f"Recreated “{made.name}” with "
                         f"{entries_sentence(len(self.service.items(made.id) or ()))}")

    def _on_recreated(self, old_id: str, new_id: str) -> None:
        self._recreated[old_id] = new_id
        for missing, recreated in list(self._recreated.items()):
            if recreated == old_id:
                self._recreated[missing] = new_id
        self.model.dict_id = new_id if self.model.dict_id == old_id else self.model.dict_id
        self.select_dictionary(new_id)
        if old_id == self._project_dict_id:
            self.use_requested.emit(new_id)

    # --- import and export -----------------------------------------------------------------

    def import_file(self, path: str | None = None) -> None:
        """Read a JSON, CSV or PLS file into the dictionary shown (one undo step), asking
        whether to replace or merge when it has entries; with no dictionary, make one
        named after the file. A malformed file changes nothing and the message names the
        line or lexeme."""
        if path is None:
            path = self._open_path()
        if not path:
            return
        name = Path(path).name
        try:
            items = read_lexicon(path)
        except LexiconError as exc:
            self._set_status(f"Nothing imported: {exc}", error=True)
            return
        except OSError as exc:
            self._set_status(f"Nothing imported: {name} cannot be read ({exc.strerror or exc})",
                             error=True)
            return
        if not items:
            self._set_status(f"Nothing imported: {name} has no entries", error=True)
            return
        dict_id = self.model.dict_id
        if not dict_id or self.service.dictionary(dict_id) is None:
            self._start(self._create, Path(path).stem, items)
            return
        self._commit_fields()
        existing = self.model.items()
        mode: ImportMode | None = "replace"
        if existing:
            mode = self._ask_import_mode(len(existing), len(items), name)
        if mode is None:
            return
        if mode == "replace":
            self.model.replace_items(items, f"Import {name}")
            self._set_status(f"Imported {entries_sentence(len(items))} from {name}, "
                             "replacing the entries (Undo brings them back)")
        else:
            merged, replaced, added = merge_items(existing, items)
            self.model.replace_items(merged, f"Import {name}")
            self._set_status(f"Imported {name}: {added} added, {replaced} changed "
                             "(Undo takes it back)")

    def export_file(self, path: str | None = None, fmt: Format | None = None) -> None:
        """Write the entries shown to ``path`` (asked when None) as ``fmt`` (from the
        extension or the chosen filter)."""
        dict_id = self.model.dict_id
        entry = self.service.dictionary(dict_id)
        if entry is None:
            return
        self._commit_fields()
        if path is None:
            chosen, selected_filter = self._save_path(entry.name)
            if not chosen:
                return
            path, fmt = export_format(chosen, selected_filter)
        items = self.model.items()
        try:
            write_lexicon(items, path, fmt)
        except OSError as exc:
            self._set_status(f"Not exported: {exc.strerror or exc}", error=True)
            return
        self._set_status(f"Exported {entries_sentence(len(items))} to {Path(path).name}")

    # --- IPA and Say it ------------------------------------------------------------------

    def suggest(self) -> None:
        """Fill the current entry's alias with the IPA espeak-ng proposes for its text."""
        self._commit_fields()
        row = self._bound_row()
        if row is None:
            self._set_status("Choose an entry first", error=True)
            return
        item = self.model.item(row)
        if not item.text.strip():
            self._set_status("Type the entry's text first: Suggest proposes IPA for it",
                             error=True)
            return
        self._start(self._suggest, QPersistentModelIndex(self._bound), self.model.dict_id,
                    item.text)

    async def _suggest(self, where: QPersistentModelIndex, dict_id: str, text: str) -> None:
        self._set_status(f"Asking espeak-ng how to say {text}…", lasts=True)
        alias = await self.service.suggest_ipa(text, self.language())
        if not shiboken6.isValid(self):
            return
        if self.model.dict_id != dict_id or not where.isValid() \
                or self.model.item(where.row()).text != text:
            self._set_status(f"Suggested {alias} for “{text}”, but the entry changed "
                             "meanwhile; nothing was filled in")
            return
        row = where.row()
        self.model.edit_item(row, LexiconItem(text, alias), f"Suggest IPA for “{text}”")
        self._set_status(f"Suggested {alias}: a start from espeak-ng to edit by ear")

    def say_it_or_stop(self) -> None:
        """Say the sample sentence without, then with the dictionary; or stop."""
        if self._playing_ours():
            self.playback.stop()
            return
        dict_id = self.model.dict_id
        if not dict_id:
            return
        self._commit_fields()
        self._start(self._say_it, dict_id, self.sample_edit.text(), self.voice_combo.voice_id(),
                    self.language())

    async def _say_it(self, dict_id: str, text: str, voice_id: str, language: str) -> None:
        self._set_status("Saving and rendering both versions…", lasts=True)
        without, with_dictionary, rate = await self.service.say_it(
            dict_id, text, voice_id, DEFAULT_MODEL, language)
        if not shiboken6.isValid(self):
            return
        self.last_renders = (without, with_dictionary, rate)
        self._stream_id = self.playback.play_sequence([without, with_dictionary], rate,
                                                      pause_seconds=SAY_IT_PAUSE)
        if self.playback.is_null:
            self.playback.stop()
            self._set_status(f"No sound: {self.playback.notice or 'no audio output device'}",
                             error=True)
            return
        self._set_status("▶ Without the dictionary, then with it", lasts=True)
        self._on_playback_changed()

    def _playing_ours(self) -> bool:
        return self._stream_id is not None and self.playback.is_current(self._stream_id)

    def _on_playback_changed(self) -> None:
        playing = self._playing_ours()
        if not playing and self._stream_id is not None:
            self._stream_id = None
            if self.status_label.text().startswith("▶"):
                self._set_status("")
        self.say_button.setText("■ Stop" if playing else "▶ Say it")

    def _on_sample_edited(self, _text: str) -> None:
        self._sample_auto = ""  # the user's own sentence stays

    def _fill_voices(self) -> None:
        voices = self.catalog.voices
        current = self.voice_combo.voice_id()
        self.voice_combo.set_voices(voices)
        if not current or self.catalog.voice(current) is None:
            choice = pick_voice(voices, self.language())
            if choice is not None:
                self.voice_combo.set_voice_id(choice.id)

    def _on_language_changed(self, _index: int) -> None:
        voice = self.catalog.voice(self.voice_combo.voice_id())
        if voice is None or voice.language != self.language():
            choice = pick_voice(self.catalog.voices, self.language())
            if choice is not None:
                self.voice_combo.set_voice_id(choice.id)

    def _on_focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        if isinstance(new, QLineEdit) and new.objectName() == ALIAS_EDITOR \
                and (new is self.alias_edit or self.table.isAncestorOf(new)):
            self.ipa_palette.set_target(new)

    # --- state ---------------------------------------------------------------------------

    def _on_service_error(self, message: str) -> None:
        self._set_status(message, error=True)

    def _on_connection_changed(self, connected: bool) -> None:
        self.banner.setVisible(not connected)
        self.splitter.setEnabled(connected)
        if connected:
            self.refresh()
        self._show_fields()
        self._update_actions()

    def _on_save_state_changed(self, dict_id: str) -> None:
        self._update_list_item(dict_id)
        if dict_id == self.current_dict_id():
            self._show_save_state()

    def _show_save_state(self) -> None:
        dict_id = self.current_dict_id()
        state = self.service.save_state(dict_id) if dict_id else "saved"
        self.retry_button.setVisible(state == "failed")
        self.recreate_button.setVisible(state == "missing")
        held = self.service.held_back(dict_id) if dict_id else 0
        kept = f" · {entries_sentence(held)} with errors kept here, not sent" if held else ""
        if not dict_id:
            text, color = "", "#a3a4b3"
        elif state == "saving":
            text, color = "Saving…", "#a3a4b3"
        elif state == "saved":
            text, color = "Saved" + kept, "#f2c46c" if held else "#8fd19e"
        elif state == "failed":
            text, color = f"Not saved: {self.service.save_error(dict_id)}", "#ff7a7a"
        elif state == "missing":
            text, color = "Deleted on the server: entries kept here only", "#ff7a7a"
        else:
            text, color = "Not saved: no backend", "#ff7a7a"
        self.save_label.setText(text)
        self.save_label.setToolTip(text)
        self.save_label.setStyleSheet(f"color: {color};")

    def _update_actions(self, *_args: object) -> None:
        dict_id = self.current_dict_id()
        entry = self.service.dictionary(dict_id)
        connected = self.service.connected
        missing = bool(dict_id) and self.service.is_missing(dict_id)
        has = entry is not None
        self.new_action.setEnabled(connected)
        self.refresh_action.setEnabled(connected)
        self.rename_action.setEnabled(has and connected)
        self.delete_action.setEnabled(has and connected)
        self.pin_action.setEnabled(has and connected and not missing)
        self.pin_action.setText("☆ Unpin" if entry is not None and entry.pinned else "★ Pin")
        self.import_action.setEnabled(connected)
        self.export_action.setEnabled(has)
        self.use_button.setEnabled(has and not missing)
        self.use_button.setText("Stop using for this project"
                                if has and dict_id == self._project_dict_id
                                else "Use for this project")
        self.add_action.setEnabled(has)
        self.remove_action.setEnabled(has and bool(self.table.source_rows()))
        self.suggest_button.setEnabled(self._bound_row() is not None)
        self.say_button.setEnabled(has and not missing or self._playing_ours())
        errors, warnings = self.model.counts()
        shown, total = self.table.proxy.rowCount(), self.model.rowCount()
        parts = [entries_sentence(total) if shown == total else f"{shown} of {total} shown"]
        if errors:
            parts.append(f"{errors} with errors")
        if warnings:
            parts.append(f"{warnings} with warnings")
        self.counts_label.setText(" · ".join(parts) if has else "")

    # --- asking (tests replace these) ------------------------------------------------------

    def _ask_name(self, title: str, label: str, default: str) -> str | None:
        name, accepted = QInputDialog.getText(self, title, label, QLineEdit.EchoMode.Normal,
                                              default)
        return name.strip() if accepted and name.strip() else None

    def _confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(
            self, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def _ask_import_mode(self, existing: int, incoming: int, name: str) -> ImportMode | None:
        box = QMessageBox(QMessageBox.Icon.Question, "Import entries",
                          f"This dictionary has {entries_sentence(existing)}; {name} has "
                          f"{entries_sentence(incoming)}.\n\nReplace them all, or merge "
                          "(entries with the same text take the imported alias; the others "
                          "are added)?", QMessageBox.StandardButton.Cancel, self)
        replace = box.addButton("Replace", QMessageBox.ButtonRole.DestructiveRole)
        merge = box.addButton("Merge", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(merge)
        box.exec()
        clicked = box.clickedButton()
        box.deleteLater()
        if clicked is replace:
            return "replace"
        if clicked is merge:
            return "merge"
        return None

    def _open_path(self) -> str:
        path, _filter = QFileDialog.getOpenFileName(self, "Import pronunciations", "",
                                                    IMPORT_FILTER)
        return path

    def _save_path(self, name: str) -> tuple[str, str]:
        filters = ";;".join(label for label, _fmt in EXPORT_FILTERS)
        path, selected = QFileDialog.getSaveFileName(self, "Export dictionary", f"{name}.json",
                                                     filters)
        return path, selected

    # --- running requests ----------------------------------------------------------------

    def _start(self, work: Work, *args: Any) -> asyncio.Task[None]:
        return self._tasks.start(work, *args)

    def _on_task_failed(self, exc: Exception) -> None:
        if not shiboken6.isValid(self):
            return
        if isinstance(exc, (DictionaryError, CartesiaError, ValueError, OSError)):
            self._set_status(str(exc), error=True)
        else:  # never let a dictionary action take the studio down
            self._set_status(f"Something went wrong: {exc}", error=True)
        self._show_save_state()

    async def wait_idle(self) -> None:
        """Return once every action started here and every background save has ended
        (tests)."""
        await self._tasks.wait_idle()
        await self.service.wait_idle()
        await self._tasks.wait_idle()

    def shutdown(self) -> None:
        """Stop Say it and the actions under way; for the app's shutdown."""
        if self._playing_ours():
            self.playback.stop()
        self._tasks.cancel()

    def _set_status(self, text: str, error: bool = False, lasts: bool = False) -> None:
        """Show ``text``; unless it is an error or ``lasts`` (work under way) it clears
        after :data:`STATUS_SECONDS`."""
        self.status_label.setText(text)
        self.status_label.setToolTip(text)
        self.status_label.setStyleSheet("color: #ff7a7a;" if error else "color: #a3a4b3;")
        if text and not error and not lasts:
            self.status_timer.start()
        else:
            self.status_timer.stop()

