"""Importing and exporting a dictionary's entries from the Dictionaries panel (issue #6):
the file dialogs, the format a path means, reading a file with a message that names
what is wrong, and the Replace or Merge question.

The formats themselves are :mod:`studio.project.lexicon`'s; this module only asks and
explains.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from studio.project.lexicon import Format, LexiconError, LexiconItem, read_lexicon

ImportMode = Literal["replace", "merge"]

#: File dialog filters and the format each means.
EXPORT_FILTERS: tuple[tuple[str, Format], ...] = (
    ("Cartesia JSON (*.json)", "json"), ("CSV, text and alias (*.csv)", "csv"),
    ("W3C PLS lexicon (*.pls)", "pls"))
IMPORT_FILTER = ("Pronunciation lexicons (*.json *.csv *.pls *.xml);;Cartesia JSON (*.json);;"
                 "CSV (*.csv);;W3C PLS lexicon (*.pls *.xml);;All files (*)")
_EXTENSIONS: dict[str, Format] = {".json": "json", ".csv": "csv", ".pls": "pls", ".xml": "pls"}


class ImportFailed(Exception):
    """A file gave no entries; the message says why, ready for the status line."""


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


def read_entries(path: str) -> list[LexiconItem]:
    """The entries of the JSON, CSV or PLS file at ``path``.

    Raises:
        ImportFailed: the file is malformed (the message names the line or lexeme),
            cannot be read, or has no entries.
    """
    name = Path(path).name
    try:
        items = read_lexicon(path)
    except LexiconError as exc:
        raise ImportFailed(f"Nothing imported: {exc}") from exc
    except OSError as exc:
        raise ImportFailed(f"Nothing imported: {name} cannot be read "
                           f"({exc.strerror or exc})") from exc
    if not items:
        raise ImportFailed(f"Nothing imported: {name} has no entries")
    return items


def ask_import_mode(parent: QWidget, existing: int, incoming: int,
                    name: str) -> ImportMode | None:
    """Ask whether the ``incoming`` entries of the file ``name`` replace the
    ``existing`` ones or merge with them; None when cancelled."""
    box = QMessageBox(QMessageBox.Icon.Question, "Import entries",
                      f"This dictionary has {entries_sentence(existing)}; {name} has "
                      f"{entries_sentence(incoming)}.\n\nReplace them all, or merge "
                      "(entries with the same text take the imported alias; the others "
                      "are added)?", QMessageBox.StandardButton.Cancel, parent)
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


def ask_open_path(parent: QWidget) -> str:
    """The file to import ("" when cancelled)."""
    path, _filter = QFileDialog.getOpenFileName(parent, "Import pronunciations", "",
                                                IMPORT_FILTER)
    return path


def ask_save_path(parent: QWidget, name: str) -> tuple[str, str]:
    """The file to export the dictionary ``name`` to ("" when cancelled) and the filter
    chosen (see :func:`export_format`)."""
    filters = ";;".join(label for label, _fmt in EXPORT_FILTERS)
    path, selected = QFileDialog.getSaveFileName(parent, "Export dictionary", f"{name}.json",
                                                 filters)
    return path, selected
