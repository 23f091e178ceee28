"""The entries of one pronunciation dictionary as a Qt table model, and the undo
commands every change goes through (issue #6). The sort and search proxy is in
:mod:`~studio.ui.dictionaries.lexicon_proxy`, the table view in
:mod:`~studio.ui.dictionaries.lexicon_view`.

Every change (an edit in place, add, remove, import, replace all) is one
``QUndoCommand`` on the panel's ``QUndoStack``; undo puts back exactly what was there,
in the same order. Commands name their dictionary by id and find the model showing it
through a resolver the panel gives, so undoing a step of another dictionary shows that
dictionary first.

The model keeps each entry's problems (:func:`studio.project.lexicon.validate`, worked
out incrementally by :class:`~studio.services.dictionaries.LexiconChecker`) and, after a
change, tells the view only about the rows whose contents or problems changed; nothing
is drawn with per-row widgets, so 10 000 entries stay quick.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QIcon,
    QPainter,
    QPixmap,
    QUndoCommand,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QWidget,
)

from studio.project.lexicon import LexiconItem, Problem, is_ipa_alias
from studio.services.dictionaries import LexiconChecker

TEXT, ALIAS, KIND = 0, 1, 2
COLUMNS = ("Text", "Alias", "Kind")
IPA_KIND, SOUNDS_LIKE_KIND = "IPA", "sounds like"
#: The problems shown on the Text cell; the others are about the alias.
_TEXT_KINDS = frozenset({"empty_text", "duplicate", "overlap"})
ERROR_COLOR, WARNING_COLOR = "#ff7a7a", "#f2c46c"
#: Object name of the in-place alias editor (the IPA palette inserts into it).
ALIAS_EDITOR = "AliasEditor"

Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
#: Beyond this many runs of rows, a change is one reset (or one repaint), not one
#: signal per run: views handle each insert or removal in time linear in the rows.
_MAX_RUNS = 32


def kind_label(alias: str) -> str:
    """``"IPA"`` for an alias in Cartesia's ``<<…>>`` form, ``"sounds like"`` for a
    respelling, ``""`` for none yet."""
    if not alias.strip():
        return ""
    return IPA_KIND if is_ipa_alias(alias) else SOUNDS_LIKE_KIND


def merge_items(existing: Sequence[LexiconItem],
                incoming: Iterable[LexiconItem]) -> tuple[list[LexiconItem], int, int]:
    """``existing`` with ``incoming`` merged in: an incoming entry whose text (ignoring
    surrounding spaces) is already there replaces that entry's alias in place; the
    others are added at the end, in order.

    Returns:
        ``(items, replaced, added)``.
    """
    merged = list(existing)
    where: dict[str, int] = {}
    for row, item in enumerate(merged):
        where.setdefault(item.text.strip(), row)
    replaced = added = 0
    for new in incoming:
        found = where.get(new.text.strip())
        if found is None:
            where[new.text.strip()] = len(merged)
            merged.append(new)
            added += 1
        elif merged[found].alias != new.alias:
            merged[found] = LexiconItem(merged[found].text, new.alias)
            replaced += 1
    return merged, replaced, added


def _badge(color: str, mark: str) -> QIcon:
    """A small round badge (``!`` error, ``?`` warning) drawn once."""
    size = 14
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(color))
    painter.drawEllipse(1, 1, size - 2, size - 2)
    painter.setPen(QColor("#18191d"))
    font = painter.font()
    font.setBold(True)
    font.setPixelSize(10)
    painter.setFont(font)
    painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, mark)
    painter.end()
    return QIcon(pixmap)


class LexiconTableModel(QAbstractTableModel):
    """The entries of the dictionary :attr:`dict_id`, with their problems.

    Edits from the view (``setData``) and the editing methods (:meth:`edit_item`,
    :meth:`add_item`, :meth:`remove_rows`, :meth:`replace_items`) become commands on
    :attr:`undo_stack` (applied at once when it is None). The ``_apply_*`` methods are
    what the commands call.

    Attributes:
        dict_id: the dictionary shown ("" for none).
        undo_stack: where changes go as commands.
        resolve: dictionary id -> the model showing it (the panel selects it first), or
            None when it is gone; commands use it. Default: this model for its own id.
        checker: works out the problems (its counters tell how much was re-checked).

    Signals:
        items_edited(str dict_id): the entries changed through a command (do, undo or
            redo), not by :meth:`set_items`.
        rows_touched(list): source rows a command just changed or restored, to select.
    """

    items_edited = Signal(str)
    rows_touched = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.applying = False  # a command is changing the entries (see _applying)
        self.dict_id = ""
        self.undo_stack: QUndoStack | None = None
        self.resolve: Callable[[str], LexiconTableModel | None] = (
            lambda dict_id: self if dict_id == self.dict_id else None)
        self.checker = LexiconChecker()
        self._items: list[LexiconItem] = []
        self._problems: list[tuple[Problem, ...]] = []
        self._counts: tuple[int, int] | None = None  # worked out when first asked
        self._error_icon = _badge(ERROR_COLOR, "!")
        self._warning_icon = _badge(WARNING_COLOR, "?")

    # --- reading -------------------------------------------------------------------------

    def items(self) -> tuple[LexiconItem, ...]:
        return tuple(self._items)

    def item(self, row: int) -> LexiconItem:
        return self._items[row]

    def iter_items(self) -> Iterator[LexiconItem]:
        return iter(self._items)

    def problems(self, row: int) -> tuple[Problem, ...]:
        return self._problems[row]

    def counts(self) -> tuple[int, int]:
        """``(entries with errors, entries with only warnings)``."""
        if self._counts is None:
            errors = warnings = 0
            for found in self._problems:
                if found:
                    if any(not p.is_warning for p in found):
                        errors += 1
                    else:
                        warnings += 1
            self._counts = (errors, warnings)
        return self._counts

    def rowCount(self, parent: Index = _ROOT) -> int:  # Qt's names, not snake_case
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return ("What the transcript says (matched case-sensitively)",
                    "How to say it: a respelling (kar-TEE-zhuh) or IPA as <<k|ɑ|ɹ>>",
                    "IPA or a sounds-like respelling")[section]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() in (TEXT, ALIAS):
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item, column = self._items[index.row()], index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if column == TEXT:
                return item.text
            if column == ALIAS:
                return item.alias
            return kind_label(item.alias)
        found = self._problems[index.row()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join(("Error: " if not p.is_warning else "Warning: ") + p.message
                             for p in found) or None
        if role == Qt.ItemDataRole.DecorationRole and column == TEXT and found:
            return self._error_icon if any(not p.is_warning for p in found) \
                else self._warning_icon
        if role == Qt.ItemDataRole.ForegroundRole and column in (TEXT, ALIAS):
            mine = [p for p in found if (p.kind in _TEXT_KINDS) == (column == TEXT)]
            if mine:
                error = any(not p.is_warning for p in mine)
                return QBrush(QColor(ERROR_COLOR if error else WARNING_COLOR))
        return None

    def setData(self, index: Index, value: Any,
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or role != Qt.ItemDataRole.EditRole \
                or index.column() not in (TEXT, ALIAS):
            return False
        old = self._items[index.row()]
        text = str(value)
        new = LexiconItem(text, old.alias) if index.column() == TEXT \
            else LexiconItem(old.text, text)
        if new != old:
            what = "text" if index.column() == TEXT else "alias"
            self.edit_item(index.row(), new, f"Edit the {what} of “{old.text or new.text}”")
        return True

    # --- editing, as commands --------------------------------------------------------------

    def set_items(self, dict_id: str, items: Iterable[LexiconItem]) -> None:
        """Show ``items`` of ``dict_id`` (a reset: another dictionary, or its entries
        loaded). Not a command."""
        self.beginResetModel()
        self.dict_id = dict_id
        self._items = list(items)
        self._problems = self.checker.problems(self._items)
        self._counts = None
        self.endResetModel()

    def edit_item(self, row: int, item: LexiconItem, text: str = "Edit entry") -> None:
        """Replace the entry at ``row`` by ``item`` (one undo step)."""
        if item != self._items[row]:
            self._push(SetItemCommand(self.resolve, self.dict_id, row, self._items[row], item,
                                      text))

    def add_item(self, row: int | None = None, item: LexiconItem | None = None) -> int:
        """Insert ``item`` (default an empty entry to type into) at ``row`` (default the
        end; one undo step); returns its row."""
        row = len(self._items) if row is None else max(0, min(row, len(self._items)))
        self._push(InsertItemsCommand(self.resolve, self.dict_id, row,
                                      [item or LexiconItem("", "")], "Add entry"))
        return row

    def discard_added(self, row: int) -> bool:
        """Take away the entry at ``row`` when the last step added it and it is still
        empty (Add, then Esc): the row goes, and so does its step (no Redo brings it
        back). Returns whether it did."""
        if not 0 <= row < len(self._items) or self._items[row] != LexiconItem("", ""):
            return False
        stack = self.undo_stack
        if stack is None:
            self._apply_remove([row])
            return True
        last = stack.command(stack.index() - 1) if stack.index() == stack.count() > 0 else None
        if not isinstance(last, InsertItemsCommand) or last.dict_id != self.dict_id \
                or last.pairs != [(row, LexiconItem("", ""))]:
            return False
        last.discard = True
        stack.undo()
        return True

    def remove_rows(self, rows: Iterable[int]) -> None:
        """Remove the entries at ``rows`` (one undo step)."""
        chosen = sorted(set(rows))
        if not chosen:
            return
        removed = [(row, self._items[row]) for row in chosen]
        text = (f"Remove “{removed[0][1].text}”" if len(removed) == 1
                else f"Remove {len(removed)} entries")
        self._push(RemoveItemsCommand(self.resolve, self.dict_id, removed, text))

    def replace_items(self, items: Iterable[LexiconItem], text: str) -> None:
        """Replace every entry by ``items`` (an import; one undo step)."""
        new = list(items)
        if new != self._items:
            self._push(ReplaceItemsCommand(self.resolve, self.dict_id, list(self._items), new,
                                           text))

    def _push(self, command: QUndoCommand) -> None:
        if self.undo_stack is not None:
            self.undo_stack.push(command)
        else:
            command.redo()

    # --- what the commands call ----------------------------------------------------------

    @contextlib.contextmanager
    def _applying(self) -> Iterator[None]:
        """Marks a command's change, signals included: slots must not push a new step
        from inside it (QUndoStack does not nest)."""
        outer, self.applying = self.applying, True
        try:
            yield
        finally:
            self.applying = outer

    def _apply_set(self, row: int, item: LexiconItem) -> None:
        with self._applying():
            self._items[row] = item
            self._changed([row])

    def _apply_insert(self, pairs: Sequence[tuple[int, LexiconItem]]) -> None:
        """Insert each ``(row, item)``, ascending, so each row is where it ends up."""
        with self._applying():
            runs = row_runs([row for row, _item in pairs])
            if len(runs) > _MAX_RUNS:  # scattered rows (an undone Remove of many)
                self.beginResetModel()
                self._items = _merged(self._items, pairs)
                self._problems = self.checker.problems(self._items)
                self._counts = None
                self.endResetModel()
            else:
                placed = dict(pairs)
                for first, last in runs:
                    self.beginInsertRows(_ROOT, first, last)
                    self._items[first:first] = [placed[row] for row in range(first, last + 1)]
                    self._problems[first:first] = [()] * (last - first + 1)
                    self.endInsertRows()
            self._changed([row for row, _item in pairs])

    def _apply_remove(self, rows: Sequence[int]) -> None:
        """Remove ``rows`` (in any order), last first, in contiguous runs."""
        with self._applying():
            runs = row_runs(sorted(set(rows)))
            if len(runs) > _MAX_RUNS:
                gone = set(rows)
                self.beginResetModel()
                self._items = [item for row, item in enumerate(self._items) if row not in gone]
                self._problems = self.checker.problems(self._items)
                self._counts = None
                self.endResetModel()
            else:
                for first, last in reversed(runs):
                    self.beginRemoveRows(_ROOT, first, last)
                    del self._items[first:last + 1]
                    del self._problems[first:last + 1]
                    self.endRemoveRows()
            self._changed([])

    def _apply_replace(self, items: Sequence[LexiconItem]) -> None:
        with self._applying():
            self.beginResetModel()
            self._items = list(items)
            self._problems = self.checker.problems(self._items)
            self._counts = None
            self.endResetModel()
            self.items_edited.emit(self.dict_id)
            self.rows_touched.emit([])

    def _changed(self, rows: list[int]) -> None:
        """Re-check and repaint ``rows`` and any row whose problems changed with them
        (in runs of consecutive rows; one span when they are scattered widely)."""
        new = self.checker.problems(self._items)
        dirty = set(rows)
        dirty.update(row for row, (before, after) in enumerate(zip(self._problems, new,
                                                                   strict=True))
                     if before != after)
        self._problems = new
        self._counts = None
        last = len(COLUMNS) - 1
        runs = row_runs(sorted(r for r in dirty if r < len(self._items)))
        if len(runs) > _MAX_RUNS:
            runs = [(runs[0][0], runs[-1][1])]
        for first, end in runs:
            self.dataChanged.emit(self.index(first, 0), self.index(end, last))
        self.items_edited.emit(self.dict_id)
        self.rows_touched.emit(rows)


def _merged(items: Sequence[LexiconItem],
            pairs: Sequence[tuple[int, LexiconItem]]) -> list[LexiconItem]:
    """``items`` with each ``(row, item)`` of ``pairs`` (ascending) put at ``row``."""
    out: list[LexiconItem] = []
    rest = iter(items)
    for row, item in pairs:
        while len(out) < row:
            out.append(next(rest))
        out.append(item)
    out.extend(rest)
    return out


def row_runs(rows: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted rows as ``(first, last)`` runs of consecutive rows."""
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and row == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


# --- undo commands -------------------------------------------------------------------------

Resolver = Callable[[str], LexiconTableModel | None]


class _ItemsCommand(QUndoCommand):
    """A step on the entries of one dictionary; does nothing (and is dropped from the
    stack) when the dictionary is gone."""

    def __init__(self, resolve: Resolver, dict_id: str, text: str) -> None:
        super().__init__(text)
        self._resolve = resolve
        self.dict_id = dict_id

    def _model(self) -> LexiconTableModel | None:
        model = self._resolve(self.dict_id)
        if model is None:
            self.setObsolete(True)
        return model


class SetItemCommand(_ItemsCommand):
    """One entry changed (an edit in place, a Suggest)."""

    def __init__(self, resolve: Resolver, dict_id: str, row: int, old: LexiconItem,
                 new: LexiconItem, text: str) -> None:
        super().__init__(resolve, dict_id, text)
        self.row, self.old, self.new = row, old, new

    def redo(self) -> None:
        if (model := self._model()) is not None:
            model._apply_set(self.row, self.new)

    def undo(self) -> None:
        if (model := self._model()) is not None:
            model._apply_set(self.row, self.old)


class InsertItemsCommand(_ItemsCommand):
    """Entries inserted at one row (Add).

    Attributes:
        discard: the next undo also drops the step (an Add cancelled before anything
            was typed: see :meth:`LexiconTableModel.discard_added`).
    """

    def __init__(self, resolve: Resolver, dict_id: str, row: int, items: list[LexiconItem],
                 text: str) -> None:
        super().__init__(resolve, dict_id, text)
        self.pairs = [(row + n, item) for n, item in enumerate(items)]
        self.discard = False

    def redo(self) -> None:
        if (model := self._model()) is not None:
            model._apply_insert(self.pairs)

    def undo(self) -> None:
        if (model := self._model()) is not None:
            model._apply_remove([row for row, _item in self.pairs])
        if self.discard:
            self.setObsolete(True)  # QUndoStack deletes an obsolete step it undid


class RemoveItemsCommand(_ItemsCommand):
    """Entries removed; undo puts each back at its row."""

    def __init__(self, resolve: Resolver, dict_id: str,
                 removed: list[tuple[int, LexiconItem]], text: str) -> None:
        super().__init__(resolve, dict_id, text)
        self.removed = sorted(removed, key=lambda pair: pair[0])

    def redo(self) -> None:
        if (model := self._model()) is not None:
            model._apply_remove([row for row, _item in self.removed])

    def undo(self) -> None:
        if (model := self._model()) is not None:
            model._apply_insert(self.removed)


class ReplaceItemsCommand(_ItemsCommand):
    """Every entry replaced (Import, replacing or merging)."""

    def __init__(self, resolve: Resolver, dict_id: str, old: list[LexiconItem],
                 new: list[LexiconItem], text: str) -> None:
        super().__init__(resolve, dict_id, text)
        self.old, self.new = old, new

    def redo(self) -> None:
        if (model := self._model()) is not None:
            model._apply_replace(self.new)

    def undo(self) -> None:
        if (model := self._model()) is not None:
            model._apply_replace(self.old)
