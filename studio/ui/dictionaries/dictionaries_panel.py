"""The Dictionaries panel (issue #6): the backend's pronunciation dictionaries, their
entries with undo, IPA help, import and export, and "Say it".

Every request goes through :class:`~studio.services.dictionaries.DictionaryService`;
this module shows and asks. Dialogs open from slots, never inside a coroutine. Entry
changes are commands on :attr:`DictionariesPanel.undo_stack` and reach the service at
once; it saves them in the background and the status line says how that went.

The panel lives in the studio's right-hand dock, tabbed with Takes and Voices, so it is
laid out as one narrow column (it asks for less than 380 px): the dictionaries on top,
their entries under them, then the current entry's fields, the IPA symbols (wrapping
onto as many rows as the width needs) and Say it. The commands on whole
dictionaries (make, rename, delete, pin, import, export…) are in
:mod:`studio.ui.dictionaries.dictionary_commands`, the current entry's fields and the IPA symbols in
:mod:`studio.ui.dictionaries.dictionary_entry`, the list of dictionaries and Say it in
:mod:`studio.ui.dictionaries.dictionary_widgets`, files and their dialogs in
:mod:`studio.ui.dictionaries.dictionary_files`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import numpy as np
import numpy.typing as npt
import shiboken6
from PySide6.QtCore import QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.api import DEFAULT_MODEL, CartesiaError
from studio.project.lexicon import LexiconItem
from studio.services.dictionaries import DictionaryError, DictionaryService
from studio.services.playback import PlaybackService
from studio.services.tasks import TaskGroup, Work
from studio.services.voices import VoiceCatalog
from studio.ui.dictionaries.dictionary_commands import DictionaryCommands
from studio.ui.dictionaries.dictionary_entry import EntryFields
from studio.ui.dictionaries.dictionary_files import entries_sentence, export_format
from studio.ui.dictionaries.dictionary_widgets import ElidedLabel, SayItBox
from studio.ui.dictionaries.lexicon_model import ALIAS_EDITOR, TEXT, LexiconTableModel
from studio.ui.dictionaries.lexicon_view import LexiconTableView
from studio.ui.widgets.actions import make_action

__all__ = ["DictionariesPanel", "entries_sentence", "export_format"]

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]

#: A finished action's message goes after this long; errors and states stay.
STATUS_SECONDS = 8.0
#: Lines of the status message (the whole of it is in its tooltip).
STATUS_LINES = 2
#: Entries the table shows however short the dock.
TABLE_MIN_ROWS = 3
NOT_CONNECTED = ("Not connected: dictionaries live on the backend, so they can be edited "
                 "once it runs.")


class DictionariesPanel(DictionaryCommands, QWidget):
    """Pronunciation dictionaries: the list on top, the selected one's entries under it.

    The list shows each dictionary's name, entry count, ★ when pinned, "this project"
    for the one the project uses (:meth:`set_project_dictionary`), and what is not
    saved; the **Dictionary** menu beside **New…** holds what acts on one (rename,
    delete, pin, import, export) and Refresh, and **Use for this project** is checked
    when the project uses the dictionary shown. The entries table sorts by any column,
    searches text and alias, and edits in place; the fields under it edit the current
    entry, with the IPA palette and **Suggest IPA** (espeak-ng's IPA for the text, one
    undo step). **Say it** renders the sample sentence without and with the dictionary
    and plays them one after the other.

    Args:
        service: the dictionaries and their saving.
        playback: where Say it plays.
        catalog: the voices to say it with.
        language: the language for Suggest and Say it, at first (:meth:`set_language`).

    Attributes:
        undo_stack: every change to entries (the app gives it focus-scoped Undo).
        model: the entries of the dictionary shown (:class:`LexiconTableModel`).
        table: the entries (:class:`LexiconTableView`; its ``proxy`` sorts and searches).
        dict_list: the dictionaries (:class:`DictionaryList`).
        splitter: the list above, the entries below; disabled while not connected.
        dictionary_menu: New, Rename, Delete, Pin, Import, Export and Refresh.
        fields: the current entry (:class:`EntryFields`); text_edit, alias_edit,
            suggest_button, ipa_palette (the IPA symbols, typing into the alias being
            edited) and ipa_toggle (shows and hides them) are its parts.
        say_box: Say it (:class:`SayItBox`); sample_edit, voice_combo, language_combo
            and say_button are its parts.
        status_label: what was done or went wrong, on two lines whatever its length
            (the whole in its tooltip); save_label: how saving stands, with retry_button
            and recreate_button when they apply.
        last_renders: ``(without, with, sample_rate)`` of the last Say it.

    Signals:
        use_requested(str dict_id): "Use for this project" checked ("" when cleared, also
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
        self._fill_list()
        self._on_connection_changed(service.connected)

    # --- building ------------------------------------------------------------------------

    def _build_actions(self) -> None:
        self._build_dictionary_actions()
        self.add_action = make_action(self, "+ Add", self.add_entry, QKeySequence("Ins"),
                                      tip="Add an entry after the current one")
        self.remove_action = make_action(self, "− Remove", self.remove_selected,
                                         QKeySequence(QKeySequence.StandardKey.Delete),
                                         tip="Remove the selected entries")
        for action in (self.add_action, self.remove_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            self.table.addAction(action)
        # Fixed labels (the stack's own actions take each step's text and would widen
        # the panel); the step is named in the tooltip.
        self.undo_action = make_action(self, "↶ Undo", self.undo)
        self.redo_action = make_action(self, "↷ Redo", self.redo)
        self.undo_action.setEnabled(False)
        self.redo_action.setEnabled(False)
        self.undo_stack.canUndoChanged.connect(self._show_undo_state)
        self.undo_stack.undoTextChanged.connect(self._show_undo_state)
        self.undo_stack.canRedoChanged.connect(self.redo_action.setEnabled)
        self.undo_stack.redoTextChanged.connect(
            lambda step: self.redo_action.setToolTip(f"Redo {step}".strip()))

    def _build_layout(self, language: str) -> None:
        # One column, top to bottom: no row may be wider than the dock (about 380 px).
        self.banner = QLabel(NOT_CONNECTED)
        self.banner.setObjectName("DictionariesBanner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("color: #f2c46c; padding: 4px 2px;")

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self._build_dictionaries())
        self.splitter.addWidget(self._build_entries(language))
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)

        # Two lines high whatever it says (the rest in its tooltip): a message coming
        # or going must not move Say it and the IPA symbols under the pointer.
        self.status_label = ElidedLabel(lines=STATUS_LINES)
        self.status_label.setObjectName("DictionariesStatus")
        self.status_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.status_bar = QWidget()
        status_row = QHBoxLayout(self.status_bar)
        status_row.setContentsMargins(0, 0, 0, 0)
        status_row.setSpacing(6)
        status_row.addWidget(self.status_label, 1)
        for widget in self._build_save_state():
            status_row.addWidget(widget, 0, Qt.AlignmentFlag.AlignVCenter)
        # As high with Retry or Recreate shown as without.
        self.status_bar.setFixedHeight(max(self.status_label.minimumSizeHint().height(),
                                           self.retry_button.sizeHint().height(),
                                           self.recreate_button.sizeHint().height()))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 3)  # 3 below: the status has two lines now
        layout.setSpacing(4)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.status_bar)

    def _build_entries(self, language: str) -> QWidget:
        """Search and the counts, the entry actions, the table, the current entry's fields,
        the IPA symbols and Say it."""
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search text or alias…")
        self.search_edit.setClearButtonEnabled(True)
        self.counts_label = ElidedLabel(max_chars=30)
        self.counts_label.setSizePolicy(QSizePolicy.Policy.Preferred,
                                        QSizePolicy.Policy.Preferred)
        self.counts_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.counts_label.setStyleSheet("color: #a3a4b3;")
        search_row = QHBoxLayout()
        search_row.setSpacing(6)
        search_row.addWidget(self.search_edit, 1)
        search_row.addWidget(self.counts_label)
        actions_row = QHBoxLayout()
        actions_row.setSpacing(2)
        for action in (self.add_action, self.remove_action, None, self.undo_action,
                       self.redo_action):
            if action is None:
                actions_row.addSpacing(8)
            else:
                actions_row.addWidget(self._tool_button(action))
        actions_row.addStretch(1)
        # Text short enough for a narrow dock; the alias column takes the rest. The
        # table takes the height the rest leaves (its own hint would squeeze the IPA
        # symbols), but shows a few entries however short the dock.
        self.table.horizontalHeader().resizeSection(
            TEXT, self.table.fontMetrics().horizontalAdvance("M" * 8) + 16)
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        self.table.setMinimumHeight(
            self.table.horizontalHeader().sizeHint().height()
            + TABLE_MIN_ROWS * self.table.verticalHeader().defaultSectionSize()
            + 2 * self.table.frameWidth()
        )

        self.fields = EntryFields(self.model)
        self.fields.typing_changed.connect(self._show_undo_state)
        self.text_edit = self.fields.text_edit
        self.alias_edit = self.fields.alias_edit
        self.suggest_button = self.fields.suggest_button
        self.ipa_palette = self.fields.ipa_palette
        self.ipa_toggle = self.fields.ipa_toggle
        self.suggest_button.clicked.connect(self.suggest)

        self.say_box = SayItBox(self.playback, self.catalog, language)
        self.sample_edit = self.say_box.sample_edit
        self.voice_combo = self.say_box.voice_combo
        self.language_combo = self.say_box.language_combo
        self.say_button = self.say_box.say_button

        entries = QWidget()
        layout = QVBoxLayout(entries)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(search_row)
        layout.addLayout(actions_row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.fields)
        layout.addWidget(self.say_box)
        return entries

    def _tool_button(self, action: QAction) -> QToolButton:
        # Buttons, not a toolbar: a toolbar folds what does not fit behind "»".
        button = QToolButton()
        button.setDefaultAction(action)
        button.setAutoRaise(True)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        return button

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
        self.table.edit_cancelled.connect(self._on_edit_cancelled)
        self.dict_list.currentItemChanged.connect(self._on_dictionary_chosen)
        selection = self.table.selectionModel()
        selection.currentRowChanged.connect(self._on_entry_chosen)
        selection.selectionChanged.connect(self._update_actions)
        self.search_edit.textChanged.connect(self._on_search_changed)
        self.say_button.clicked.connect(self.say_it_or_stop)
        self.say_box.finished.connect(self._on_say_it_finished)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._on_focus_changed)

    # --- the list of dictionaries ----------------------------------------------------------

    def current_dict_id(self) -> str:
        """The id of the dictionary shown ("" for none)."""
        return self.dict_list.current_id()

    def select_dictionary(self, dict_id: str) -> bool:
        """Show ``dict_id``; returns whether it is listed."""
        return self.dict_list.select(dict_id)

    def set_project_dictionary(self, dict_id: str) -> None:
        """Mark ``dict_id`` as the one this project uses ("" for none)."""
        self._project_dict_id = dict_id
        self._fill_list()

    def set_language(self, code: str) -> None:
        """Suggest and Say it in ``code`` (a studio language such as ``"en"``)."""
        self.say_box.set_language(code)

    def language(self) -> str:
        return self.say_box.language()

    def _fill_list(self) -> None:
        self.dict_list.project_dict_id = self._project_dict_id
        self.dict_list.fill()
        self._on_dictionary_chosen()

    def _update_list_item(self, dict_id: str) -> None:
        self.dict_list.update_item(dict_id)

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
            # Changed elsewhere while another dictionary is shown: its steps on the stack
            # apply by row and no longer fit (undo would overwrite another entry).
            stack = self.undo_stack
            if any(getattr(stack.command(i), "dict_id", None) == dict_id
                   for i in range(stack.count())):
                stack.clear()
            return
        items = self.service.items(dict_id)
        if items is not None and items != self.model.items():
            # Changed elsewhere (a refresh brought the server's entries): the steps on the
            # stack no longer fit them, nor does what was typed for the old entry.
            self.undo_stack.clear()
            row = self._bound_row()
            text = self.model.item(row).text if row is not None else None
            self.fields.unbind()
            self.model.set_items(dict_id, items)
            # The same entry again (by its text, else where it was), in the fields too.
            texts = [item.text for item in items]
            if text in texts:
                row = texts.index(text)
            if row is not None and items:
                self.table.select_source_rows([min(row, len(items) - 1)])
            self._bind(self.table.current_source_row())

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
        self.fields.bind(row)
        self._show_fields(force=True)
        self._update_actions()

    def _bound_row(self) -> int | None:
        return self.fields.bound_row()

    def _show_fields(self, force: bool = False) -> None:
        item = self.fields.show_entry(force, editable=self.service.connected)
        if item is not None and item.text.strip():
            self.say_box.offer_sentence(item.text.strip())

    def _commit_fields(self) -> None:
        """What was typed into the fields becomes the bound entry's (one undo step)."""
        self.fields.commit()

    def undo(self) -> None:
        """Undo the last step; what was typed into the fields becomes a step first, so
        that is what Undo takes back."""
        self._commit_fields()
        self.undo_stack.undo()

    def redo(self) -> None:
        """Redo the step undone last (what was typed into the fields is kept as a step
        of its own, which ends what can be redone)."""
        self._commit_fields()
        self.undo_stack.redo()

    def _show_undo_state(self, *_args: object) -> None:
        # Undo takes back what was typed into the fields too (see undo()).
        typed = self.fields.typed()
        self.undo_action.setEnabled(typed or self.undo_stack.canUndo())
        self.undo_action.setToolTip("Undo the typing in the fields" if typed
                                    else f"Undo {self.undo_stack.undoText()}".strip())

    def _on_edit_cancelled(self, row: int) -> None:
        """Esc in an entry just added and never filled takes it away again, step and
        all (it would stay as an entry with errors, never saved)."""
        if self.model.discard_added(row):
            if self.model.rowCount():
                self.table.select_source_rows([max(row - 1, 0)])
            self._update_actions()

    def add_entry(self) -> None:
        """Add an empty entry after the current one and start typing its text (Esc before
        typing anything takes it away again)."""
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
        self.fields.unbind()
        self.model.remove_rows(rows)
        if self.model.rowCount():
            self.table.select_source_rows([min(rows[0], self.model.rowCount() - 1)])
        self._set_status(f"Removed {entries_sentence(len(rows))} (Undo brings them back)")

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
        self._start(self._suggest, self.fields.bound_index(), self.model.dict_id,
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
        if self.say_box.playing():
            self.say_box.stop()
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
        silent = self.say_box.play(without, with_dictionary, rate)
        if silent:
            self._set_status(f"No sound: {silent}", error=True)
        else:
            self._set_status("▶ Without the dictionary, then with it", lasts=True)

    def _on_say_it_finished(self) -> None:
        if self.status_label.text().startswith("▶"):
            self._set_status("")

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
        self.dict_list.show_hint()
        if connected:
            self.refresh()
        self._show_fields()
        self._update_actions()

    def _update_actions(self, *_args: object) -> None:
        dict_id = self.current_dict_id()
        entry = self.service.dictionary(dict_id)
        missing = bool(dict_id) and self.service.is_missing(dict_id)
        has = entry is not None
        self._update_dictionary_actions()
        self.add_action.setEnabled(has)
        self.remove_action.setEnabled(has and bool(self.table.source_rows()))
        self.suggest_button.setEnabled(self._bound_row() is not None)
        if not has:
            why_not = "Choose a dictionary first"
        elif missing:
            why_not = "The dictionary is deleted on the server: Recreate it first"
        elif not self.model.rowCount():
            why_not = "The dictionary has no entries yet"
        else:
            why_not = ""
        self.say_box.set_available(not why_not, why_not)
        errors, warnings = self.model.counts()
        shown, total = self.table.proxy.rowCount(), self.model.rowCount()
        parts = [entries_sentence(total) if shown == total else f"{shown} of {total} shown"]
        if errors:
            parts.append(f"{errors} with errors")
        if warnings:
            parts.append(f"{warnings} with warnings")
        self.counts_label.setText(" · ".join(parts) if has else "")

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
        self.say_box.stop()
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

