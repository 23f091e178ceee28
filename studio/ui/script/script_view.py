"""The list view of the script, and the filter that narrows it to blocks of one state."""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractItemModel,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from studio.project.model import Block
from studio.services.document import ScriptDocument
from studio.ui.script.block_delegate import BlockDelegate
from studio.ui.script.script_model import Role, ScriptModel

AnyIndex = QModelIndex | QPersistentModelIndex

#: Filter kinds and the labels the filter bar shows for them.
FILTERS = {"all": "All blocks", "flagged": "Flagged", "stale": "Out of date",
           "missing_voice": "Missing voice", "locked": "Locked"}


def check_kind(kind: str) -> None:
    """Raises ValueError, naming the kinds, unless ``kind`` is one of :data:`FILTERS`."""
    if kind not in FILTERS:
        raise ValueError(f"unknown block filter {kind!r}; choose one of {', '.join(FILTERS)}")


def block_is(kind: str, block: Block, document: ScriptDocument) -> bool:
    """Whether ``block`` is of ``kind`` (a key of :data:`FILTERS`): "stale" is a
    selected take out of date with the block's text, voice, delivery or dictionary.

    Raises:
        ValueError: an unknown kind.
    """
    if kind == "all":
        return True
    if kind == "flagged":
        return block.flag is not None
    if kind == "locked":
        return block.locked
    if kind == "missing_voice":
        return not block.voice_id
    if kind == "stale":
        take = block.selected_take
        return take is not None and not document.is_current(block, take)
    raise ValueError(f"unknown block filter {kind!r}; choose one of {', '.join(FILTERS)}")


def chapter_span(document: ScriptDocument, index: int) -> range:
    """The positions of the chapter block ``index`` is in: from the block that starts
    it (or the script's start) to the block before the next chapter."""
    first = index
    while first > 0 and document.block_at(first).chapter is None:
        first -= 1
    last = index + 1
    while last < len(document) and document.block_at(last).chapter is None:
        last += 1
    return range(first, last)


def rows_selection(model: QAbstractItemModel, rows: list[int]) -> QItemSelection:
    """A selection of ``rows`` (sorted) of ``model``, one range per run of neighbours
    (selecting 10 000 blocks one by one would be 10 000 ranges)."""
    selection = QItemSelection()
    start = 0
    for n in range(1, len(rows) + 1):
        if n == len(rows) or rows[n] != rows[n - 1] + 1:
            selection.select(model.index(rows[start], 0), model.index(rows[n - 1], 0))
            start = n
    return selection


class BlockFilter(QSortFilterProxyModel):
    """Shows the blocks of one kind (:func:`block_is`); "all" passes every row without
    reading it."""

    def __init__(self, model: ScriptModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.script_model = model
        self.kind = "all"
        self.setSourceModel(model)

    def set_kind(self, kind: str) -> None:
        check_kind(kind)
        if kind != self.kind:
            self.beginFilterChange()
            self.kind = kind
            self.endFilterChange()

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        if self.kind == "all":
            return True
        model = self.script_model
        block = model.document.block(model.block_id(source_row))
        return block_is(self.kind, block, model.document)


class ScriptListView(QListView):
    """The blocks as cards. A click on the text of a block puts the cursor there (the
    panel opens the inline editor on the current block); a double click on a
    chapter heading asks to rename the chapter.

    Signals:
        text_clicked(QModelIndex index, QPoint viewport_position)
        chapter_clicked(QModelIndex index)
    """

    text_clicked = Signal(QModelIndex, QPoint)
    chapter_clicked = Signal(QModelIndex)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ScriptList")
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(False)
        self.setMouseTracking(False)
        self.verticalScrollBar().setSingleStep(24)
        self._anchor = QPersistentModelIndex()  # where Shift+click selects from
        self._extending = False

    def currentChanged(self, current: AnyIndex, previous: AnyIndex) -> None:
        super().currentChanged(current, previous)
        if not self._extending:
            self._anchor = QPersistentModelIndex(current)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Shift+click selects the blocks from the anchor (the block last made current
        otherwise) to the one clicked, by rows: QListView selects by a rectangle from
        the first press, which can take in the block below."""
        index = self.indexAt(event.position().toPoint())
        modifiers = event.modifiers()
        if (event.button() == Qt.MouseButton.LeftButton and index.isValid()
                and modifiers & Qt.KeyboardModifier.ShiftModifier and self._anchor.isValid()):
            model = self.model()
            first, last = sorted((self._anchor.row(), index.row()))
            flags = (QItemSelectionModel.SelectionFlag.Select
                     if modifiers & Qt.KeyboardModifier.ControlModifier
                     else QItemSelectionModel.SelectionFlag.ClearAndSelect)
            self.selectionModel().select(
                QItemSelection(model.index(first, 0), model.index(last, 0)), flags)
            self._extending = True
            try:
                self.selectionModel().setCurrentIndex(
                    index, QItemSelectionModel.SelectionFlag.NoUpdate)
            finally:
                self._extending = False
            event.accept()
            return
        super().mousePressEvent(event)

    def dataChanged(self, top_left: AnyIndex, bottom_right: AnyIndex,
                    roles: list[int] | None = None) -> None:
        """A block's data changed: repaint it, without QListView's own handling, which
        lays out every row again (10 000 size hints a keystroke); the delegate asks
        for a layout when a block's height changes."""
        QAbstractItemView.dataChanged(self, top_left, bottom_right, roles or [])

    def delegate(self) -> BlockDelegate:
        delegate = self.itemDelegate()
        assert isinstance(delegate, BlockDelegate)
        return delegate

    def _block(self, index: QModelIndex) -> Block | None:
        block = index.data(Role.BLOCK) if index.isValid() else None
        return block if isinstance(block, Block) else None

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        position = event.position().toPoint()
        index = self.indexAt(position)
        block = self._block(index)
        if (block is not None and event.button() == Qt.MouseButton.LeftButton
                and event.modifiers() == Qt.KeyboardModifier.NoModifier
                and self.delegate().text_rect(self.visualRect(index), block).contains(position)):
            self.text_clicked.emit(index, position)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        position = event.position().toPoint()
        index = self.indexAt(position)
        block = self._block(index)
        if block is not None and self.delegate().chapter_rect(
                self.visualRect(index), block).contains(position):
            self.chapter_clicked.emit(index)
            return
        super().mouseDoubleClickEvent(event)
