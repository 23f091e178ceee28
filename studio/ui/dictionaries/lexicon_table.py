"""The entries of one pronunciation dictionary as a table: the model, the sort and search
proxy, the view, and the undo commands every change goes through (issue #6).

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
    QAbstractItemModel,
    QAbstractProxyModel,
    QAbstractTableModel,
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QIcon,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPixmap,
    QUndoCommand,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLineEdit,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
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
            runs = _runs([row for row, _item in pairs])
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
            runs = _runs(sorted(set(rows)))
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
        runs = _runs(sorted(r for r in dirty if r < len(self._items)))
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


def _runs(rows: Sequence[int]) -> list[tuple[int, int]]:
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


# --- sorting, searching and the view -------------------------------------------------------

class LexiconFilterProxy(QAbstractProxyModel):
    """The entries as the table shows them: sorted by any column (case-insensitive;
    ties keep the dictionary's order; column -1 is the dictionary's order), and only
    those whose text or alias contains the search (case-insensitive). An entry with
    neither text nor alias (one just added) is always shown, so it can be typed into.

    Written out rather than a ``QSortFilterProxyModel``, which asks the model for every
    value it compares through Python: re-sorting 10 000 entries took about a second.
    Here the sort keys are worked out once per sort and kept up to date with edits, and
    a change re-sorts with Python's sort over them (milliseconds).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._search = ""
        self._column = -1
        self._descending = False
        self._rows: list[int] = []  # proxy row -> source row
        self._proxy_of: list[int] = []  # source row -> proxy row, or -1 when hidden
        self._keys: list[str] = []  # sort key of each source row (for _column)

    # --- the mapping ---------------------------------------------------------------------

    def setSourceModel(self, model: QAbstractItemModel) -> None:  # Qt names, not snake_case
        if not isinstance(model, LexiconTableModel):
            raise TypeError("LexiconFilterProxy shows a LexiconTableModel")
        self.beginResetModel()
        super().setSourceModel(model)
        model.modelAboutToBeReset.connect(self.beginResetModel)
        model.modelReset.connect(self._on_reset)
        model.rowsInserted.connect(self._on_rows_inserted)
        model.rowsAboutToBeRemoved.connect(self._on_rows_about_to_be_removed)
        model.rowsRemoved.connect(self._on_rows_removed)
        model.dataChanged.connect(self._on_data_changed)
        self._on_reset()

    def _model(self) -> LexiconTableModel:
        model = self.sourceModel()
        assert isinstance(model, LexiconTableModel)
        return model

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def index(self, row: int, column: int, parent: Index = _ROOT) -> QModelIndex:
        if parent.isValid() or not (0 <= row < len(self._rows) and 0 <= column < len(COLUMNS)):
            return QModelIndex()
        return self.createIndex(row, column)

    def parent(self, index: Index = _ROOT) -> QModelIndex:  # type: ignore[override]
        return QModelIndex()

    def hasChildren(self, parent: Index = _ROOT) -> bool:
        return not parent.isValid() and bool(self._rows)

    def mapToSource(self, proxy_index: Index) -> QModelIndex:
        if not proxy_index.isValid() or proxy_index.row() >= len(self._rows):
            return QModelIndex()
        return self._model().index(self._rows[proxy_index.row()], proxy_index.column())

    def mapFromSource(self, source_index: Index) -> QModelIndex:
        if not source_index.isValid() or source_index.row() >= len(self._proxy_of):
            return QModelIndex()
        row = self._proxy_of[source_index.row()]
        return self.createIndex(row, source_index.column()) if row >= 0 else QModelIndex()

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            return self._model().headerData(section, orientation, role)
        return section + 1 if role == Qt.ItemDataRole.DisplayRole else None

    # --- search and sort -----------------------------------------------------------------

    @property
    def search(self) -> str:
        return self._search

    def set_search(self, text: str) -> None:
        """Show only the entries whose text or alias contains ``text``."""
        search = text.strip().casefold()
        if search != self._search:
            self._search = search
            self._relayout(self._ordered())

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by ``column`` (-1: the dictionary's order); the table calls this when a
        header is clicked."""
        self._column = column if 0 <= column < len(COLUMNS) else -1
        self._descending = order == Qt.SortOrder.DescendingOrder
        self._keys = self._all_keys()
        self._relayout(self._ordered())

    def _key(self, item: LexiconItem) -> str:
        if self._column == TEXT:
            return item.text.casefold()
        if self._column == ALIAS:
            return item.alias.casefold()
        return kind_label(item.alias)

    def _all_keys(self) -> list[str]:
        if self._column < 0:
            return []
        return [self._key(item) for item in self._model().iter_items()]

    def _accepts(self, row: int) -> bool:
        if not self._search:
            return True
        item = self._model().item(row)
        if not item.text and not item.alias:
            return True
        return self._search in item.text.casefold() or self._search in item.alias.casefold()

    def _ordered(self) -> list[int]:
        """The source rows to show, in order."""
        count = self._model().rowCount()
        rows = [r for r in range(count) if self._accepts(r)] if self._search \
            else list(range(count))
        if self._column >= 0:
            # Stable, so equal keys keep the dictionary's order (reversed ones too).
            rows.sort(key=self._keys.__getitem__, reverse=self._descending)
        return rows

    def _index_rows(self) -> None:
        proxy_of = [-1] * self._model().rowCount()
        for proxy_row, source_row in enumerate(self._rows):
            proxy_of[source_row] = proxy_row
        self._proxy_of = proxy_of

    def _relayout(self, rows: list[int]) -> None:
        """Show ``rows`` (source rows, in order) as a layout change, so the selection,
        the current entry and an open editor follow their entries."""
        if rows == self._rows:
            return
        self.layoutAboutToBeChanged.emit()
        before = self.persistentIndexList()
        sources = [(self._rows[i.row()] if 0 <= i.row() < len(self._rows) else -1, i.column())
                   for i in before]
        self._rows = rows
        self._index_rows()
        after = [self.createIndex(self._proxy_of[row], column)
                 if row >= 0 and self._proxy_of[row] >= 0 else QModelIndex()
                 for row, column in sources]
        self.changePersistentIndexList(before, after)
        self.layoutChanged.emit()

    # --- following the model -------------------------------------------------------------

    def _on_reset(self) -> None:
        self._keys = self._all_keys()
        self._rows = self._ordered()
        self._index_rows()
        self.endResetModel()

    def _on_rows_inserted(self, _parent: Index, first: int, last: int) -> None:
        count = last - first + 1
        self._rows = [r + count if r >= first else r for r in self._rows]
        if self._column >= 0:
            model = self._model()
            self._keys[first:first] = [self._key(model.item(r)) for r in range(first, last + 1)]
        # The shown rows keep their order among themselves: put the new ones in place.
        order = self._ordered()
        positions = [p for p, row in enumerate(order) if first <= row <= last]
        for start, end in _runs(positions):
            self.beginInsertRows(_ROOT, start, end)
            self._rows[start:start] = order[start:end + 1]
            self._index_rows()
            self.endInsertRows()
        self._index_rows()

    def _on_rows_about_to_be_removed(self, _parent: Index, first: int, last: int) -> None:
        positions = sorted(p for p in self._proxy_of[first:last + 1] if p >= 0)
        for start, end in reversed(_runs(positions)):
            self.beginRemoveRows(_ROOT, start, end)
            del self._rows[start:end + 1]
            self.endRemoveRows()

    def _on_rows_removed(self, _parent: Index, first: int, last: int) -> None:
        count = last - first + 1
        self._rows = [r - count if r > last else r for r in self._rows]
        if self._column >= 0:
            del self._keys[first:last + 1]
        self._index_rows()

    def _on_data_changed(self, top_left: QModelIndex, bottom_right: QModelIndex,
                         roles: Sequence[int] = ()) -> None:
        first, last = top_left.row(), bottom_right.row()
        model = self._model()
        moved = False
        for row in range(first, last + 1):
            if self._column >= 0:
                key = self._key(model.item(row))
                if key != self._keys[row]:
                    self._keys[row] = key
                    moved = True
            if (self._proxy_of[row] >= 0) != self._accepts(row):
                moved = True
        if moved:
            self._relayout(self._ordered())
        shown = [p for p in self._proxy_of[first:last + 1] if p >= 0]
        if shown:
            self.dataChanged.emit(self.index(min(shown), 0),
                                  self.index(max(shown), len(COLUMNS) - 1))


class _AliasDelegate(QStyledItemDelegate):
    """In-place editors named so the IPA palette can find the alias editor.

    Signals:
        editing_cancelled(): an editor was closed with Esc (its text not kept).
    """

    editing_cancelled = Signal()

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,
                     index: Index) -> QWidget:
        editor = super().createEditor(parent, option, index)
        if index.column() == ALIAS and isinstance(editor, QLineEdit):
            editor.setObjectName(ALIAS_EDITOR)
        return editor

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Qt's own filter closes the editor on Esc without a sign of why; closing
        # without keeping happens in other ways too (closePersistentEditor).
        cancel = (event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent)
                  and event.matches(QKeySequence.StandardKey.Cancel))
        handled = super().eventFilter(watched, event)
        if cancel and handled:
            self.editing_cancelled.emit()
        return handled


class LexiconTableView(QTableView):
    """The entries table: fixed row heights (no per-row widgets, so 10 000 rows scroll
    smoothly), click a header to sort, double-click or type to edit in place.

    Attributes:
        proxy: the sort and search proxy between the view and :attr:`source`.
        source: the :class:`LexiconTableModel`.

    Signals:
        edit_cancelled(int source_row): an in-place editor of that entry was closed with
            Esc.
    """

    edit_cancelled = Signal(int)

    def __init__(self, source: LexiconTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("LexiconTable")
        self.source = source
        self.proxy = LexiconFilterProxy(self)
        self.proxy.setSourceModel(source)
        self.setModel(self.proxy)
        delegate = _AliasDelegate(self)
        delegate.editing_cancelled.connect(self._on_editing_cancelled)
        self.setItemDelegate(delegate)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed
                             | QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setSortingEnabled(True)
        self.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # the dictionary's own order
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        rows = self.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(ALIAS, QHeaderView.ResizeMode.Stretch)
        metrics = self.fontMetrics()
        header.resizeSection(TEXT, metrics.horizontalAdvance("M" * 14) + 28)
        header.resizeSection(KIND, metrics.horizontalAdvance(SOUNDS_LIKE_KIND) + 24)

    def _on_editing_cancelled(self) -> None:
        # Editors open on the current cell (a double click or typing makes it current).
        row = self.current_source_row()
        if row is not None:
            self.edit_cancelled.emit(row)

    def source_rows(self) -> list[int]:
        """Source rows of the selected entries, ascending."""
        model = self.selectionModel()
        if model is None:
            return []
        return sorted({self.proxy.mapToSource(index).row() for index in model.selectedRows()})

    def current_source_row(self) -> int | None:
        """Source row of the current entry (the one the detail editor shows), if any."""
        index = self.currentIndex()
        if not index.isValid():
            rows = self.source_rows()
            return rows[0] if rows else None
        return self.proxy.mapToSource(index).row()

    def select_source_rows(self, rows: Sequence[int], edit_column: int | None = None) -> None:
        """Select ``rows`` (source rows) that are shown, make the first current and scroll
        to it; open its editor on ``edit_column`` if given."""
        model = self.selectionModel()
        if model is None:
            return
        shown = [self.proxy.mapFromSource(self.source.index(row, TEXT)) for row in rows
                 if 0 <= row < self.source.rowCount()]
        shown = [index for index in shown if index.isValid()]
        model.clearSelection()
        if not shown:
            return
        flag = QItemSelectionModel.SelectionFlag
        for index in shown:
            model.select(index, flag.Select | flag.Rows)
        first = shown[0]
        model.setCurrentIndex(first, flag.NoUpdate)
        self.scrollTo(first)
        if edit_column is not None:
            self.edit(first.siblingAtColumn(edit_column))
