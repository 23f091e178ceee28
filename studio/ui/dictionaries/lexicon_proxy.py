"""The sort and search proxy between a dictionary's entries
(:class:`~studio.ui.dictionaries.lexicon_model.LexiconTableModel`) and the table that
shows them (issue #6)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractProxyModel,
    QModelIndex,
    Qt,
)
from PySide6.QtWidgets import (
    QWidget,
)

from studio.project.lexicon import LexiconItem
from studio.ui.dictionaries.lexicon_model import (
    ALIAS,
    COLUMNS,
    TEXT,
    Index,
    LexiconTableModel,
    kind_label,
    row_runs,
)

_ROOT = QModelIndex()


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
        for start, end in row_runs(positions):
            self.beginInsertRows(_ROOT, start, end)
            self._rows[start:start] = order[start:end + 1]
            self._index_rows()
            self.endInsertRows()
        self._index_rows()

    def _on_rows_about_to_be_removed(self, _parent: Index, first: int, last: int) -> None:
        positions = sorted(p for p in self._proxy_of[first:last + 1] if p >= 0)
        for start, end in reversed(row_runs(positions)):
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
