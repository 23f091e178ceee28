"""The table of a dictionary's entries (issue #6): fixed row heights, sorting by a
header click, editing in place, with an alias editor the IPA palette can find."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import (
    QEvent,
    QItemSelectionModel,
    QObject,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QKeyEvent,
    QKeySequence,
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

from studio.ui.dictionaries.lexicon_model import (
    ALIAS,
    ALIAS_EDITOR,
    KIND,
    SOUNDS_LIKE_KIND,
    TEXT,
    Index,
    LexiconTableModel,
)
from studio.ui.dictionaries.lexicon_proxy import LexiconFilterProxy


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
