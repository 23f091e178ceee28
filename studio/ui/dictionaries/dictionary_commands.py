"""The Dictionaries panel's commands on whole dictionaries (issue #6): make, rename,
delete, pin, use for this project, retry a failed save, recreate one deleted on the
server, import and export; their actions, the Dictionary menu and the buttons under the
list; how the dictionary's saving stands; and the questions the commands ask.

A mixin of :class:`~studio.ui.dictionaries.dictionaries_panel.DictionariesPanel`, kept apart from
its entries; the methods use the panel's service, model, status line and task group
(declared below for type checkers).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import Qt, SignalInstance
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.project.lexicon import Format, LexiconItem, write_lexicon
from studio.services.dictionaries import DictionaryService
from studio.services.tasks import Work
from studio.services.threads import in_thread
from studio.ui.dictionaries.dictionary_files import (
    ImportFailed,
    ImportMode,
    ask_import_mode,
    ask_open_path,
    ask_save_path,
    entries_sentence,
    export_format,
    read_entries,
)
from studio.ui.dictionaries.dictionary_widgets import DictionaryList, ElidedLabel
from studio.ui.dictionaries.lexicon_model import LexiconTableModel, merge_items
from studio.ui.widgets.actions import make_action

# The panel is a QWidget; type checkers see the mixin as one, Python as a plain class.
if TYPE_CHECKING:
    _Base = QWidget
else:
    _Base = object


class DictionaryCommands(_Base):
    """The panel's commands on whole dictionaries. Each request runs as a task
    (:meth:`_start`) and reports on the status line; the questions are methods so tests
    can replace them."""

    if TYPE_CHECKING:
        service: DictionaryService
        model: LexiconTableModel
        status_label: QLabel
        use_requested: SignalInstance
        _project_dict_id: str
        _recreated: dict[str, str]

        def current_dict_id(self) -> str: ...
        def select_dictionary(self, dict_id: str) -> bool: ...
        def _commit_fields(self) -> None: ...
        def _update_list_item(self, dict_id: str) -> None: ...
        def _start(self, work: Work, *args: Any) -> asyncio.Task[None]: ...
        def _set_status(self, text: str, error: bool = False, lasts: bool = False) -> None: ...

    # --- building ------------------------------------------------------------------------

    def _build_dictionary_actions(self) -> None:
        self.new_action = make_action(self, "New…", self.new_dictionary,
                                      tip="Make a new, empty dictionary")
        self.new_action.setIconText("New…")  # (a tool button would drop the "…")
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
        self.refresh_action = make_action(self, "⟳ Refresh", self.refresh,
                                          tip="Load the dictionaries again")
        self.dictionary_menu = QMenu("Dictionary", self)
        for action in (self.new_action, self.rename_action, self.delete_action, None,
                       self.pin_action, None, self.import_action, self.export_action, None,
                       self.refresh_action):
            if action is None:
                self.dictionary_menu.addSeparator()
            else:
                self.dictionary_menu.addAction(action)

    def _build_dictionaries(self) -> QWidget:
        """The list, and under it New…, the Dictionary menu and Use for this project."""
        self.dict_list = DictionaryList(self.service)
        # Tool buttons: a push button is at least 80 px wide, and the dock is narrow.
        self.new_button = QToolButton()
        self.new_button.setDefaultAction(self.new_action)
        self.dictionary_button = QToolButton()
        self.dictionary_button.setText("Dictionary ▾")
        self.dictionary_button.setToolTip("Rename, delete, pin, import or export the "
                                          "dictionary, or load the list again")
        self.dictionary_button.setMenu(self.dictionary_menu)
        self.dictionary_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        # The text has the arrow; the style's own would be drawn over it.
        self.dictionary_button.setStyleSheet("QToolButton::menu-indicator { image: none; }")
        # A check box: it shows whether the project uses the dictionary shown, and
        # "Stop using for this project" would not fit the dock.
        self.use_button = QCheckBox("Use for this project")
        self.use_button.setToolTip("Generate this project's blocks with this dictionary "
                                   "(a block can override it); clear it to stop using it")
        self.use_button.clicked.connect(self.use_current)
        row = QHBoxLayout()
        row.setSpacing(4)
        row.addWidget(self.new_button)
        row.addWidget(self.dictionary_button)
        row.addStretch(1)
        row.addWidget(self.use_button)
        top = QWidget()
        layout = QVBoxLayout(top)
        layout.setContentsMargins(0, 0, 0, 4)
        layout.setSpacing(4)
        layout.addWidget(self.dict_list, 1)
        layout.addLayout(row)
        return top

    def _build_save_state(self) -> list[QWidget]:
        """How the dictionary's saving stands, and Retry and Recreate when they apply
        (for the status line)."""
        # Narrow, on two lines (the whole in its tooltip): the message beside it needs
        # the width.
        self.save_label = ElidedLabel(max_chars=20, lines=2)
        self.save_label.setObjectName("DictionarySaveState")
        self.save_label.setSizePolicy(QSizePolicy.Policy.Preferred,
                                      QSizePolicy.Policy.Preferred)
        self.save_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.retry_button = QPushButton("Retry")
        self.retry_button.clicked.connect(self.retry)
        self.recreate_button = QPushButton("Recreate")
        self.recreate_button.setToolTip("Make a new dictionary on the server with this name "
                                        "and these entries")
        self.recreate_button.clicked.connect(self.recreate_current)
        return [self.save_label, self.retry_button, self.recreate_button]

    def _update_dictionary_actions(self) -> None:
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
        self.use_button.setChecked(has and dict_id == self._project_dict_id)

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

    # --- commands ------------------------------------------------------------------------

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
        self._update_dictionary_actions()  # (the box shows what the project took up)

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
        line or lexeme. The file is read and parsed in a worker thread (a 10 000-entry
        PLS takes a third of a second); the entries land when it is done."""
        if path is None:
            path = self._open_path()
        if not path:
            return
        self._start(self._read_import, path, self.model.dict_id)

    async def _read_import(self, path: str, dict_id: str) -> None:
        self._set_status(f"Reading {Path(path).name}…", lasts=True)
        try:
            items = await in_thread(read_entries, path)
        except ImportFailed as exc:
            self._set_status(str(exc), error=True)
            return
        # Applied outside this coroutine: it may ask a question (a modal dialog).
        asyncio.get_running_loop().call_soon(self._apply_import, path, dict_id, items)

    def _apply_import(self, path: str, dict_id: str, items: list[LexiconItem]) -> None:
        if not shiboken6.isValid(self):
            return
        name = Path(path).name
        if dict_id != self.model.dict_id:
            self._set_status(f"Nothing imported: another dictionary was chosen while "
                             f"{name} was read", error=True)
            return
        if not dict_id or self.service.dictionary(dict_id) is None:
            self._start(self._create, Path(path).stem, items)
            return
        self._commit_fields()
        existing = self.model.items()
        mode: ImportMode | None = "replace"
        if existing:
            mode = self._ask_import_mode(len(existing), len(items), name)
        if mode is None:
            self._set_status("")
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

    # --- asking (tests replace these) ---------------------------------------------------

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
        return ask_import_mode(self, existing, incoming, name)

    def _open_path(self) -> str:
        return ask_open_path(self)

    def _save_path(self, name: str) -> tuple[str, str]:
        return ask_save_path(self, name)
