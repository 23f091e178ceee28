"""The Chapters panel: the script's chapters in a list with their counts and lengths;
click one to go there, and generate, play or export it.

The list is rebuilt from the document in one pass (:func:`studio.project.chapters.
chapter_spans`, O(blocks)) at most once per :data:`REFRESH_MS`, however many document
signals arrive meanwhile (an import of 10 000 blocks, Generate all finishing takes one
after another): the signals only start a single-shot timer.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QBrush, QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QMenu,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.project.chapters import ChapterSpan, chapter_spans
from studio.project.model import Block
from studio.services.document import ScriptDocument

#: How long document changes are gathered before the list is rebuilt, milliseconds.
REFRESH_MS = 200

COLUMNS = ("Chapter", "From", "Blocks", "Length", "Stale", "Flags")
TITLE, FIRST, BLOCKS, LENGTH, STALE, FLAGGED = range(len(COLUMNS))


def format_length(seconds: float) -> str:
    """``seconds`` as ``m:ss`` or ``h:mm:ss`` (rounded to the second)."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ChaptersPanel(QWidget):
    """Lists the chapters of a :class:`ScriptDocument`.

    One row per chapter (:class:`~studio.project.chapters.ChapterSpan`): title, number of
    its first block, blocks, length of the selected takes as they play, blocks Generate
    all would render, blocks flagged for a retake. Requests name the chapter by the id
    of its first block; the window carries them out.

    Signals:
        jump_requested(str block_id): a chapter was clicked: show its first block.
        generate_requested(str block_id), play_requested(str block_id),
        export_requested(str block_id), select_requested(str block_id),
        rename_requested(str block_id), remove_requested(str block_id): the chapter
            starting at ``block_id``.
        refreshed(): the list was rebuilt (:attr:`spans` are new).

    Attributes:
        tree: the list (a ``QTreeWidget`` without branches).
        generate_button, play_button, export_button: act on the selected chapter.
        select_action: the context menu's "Select chapter" (hidden unless the window
            can select blocks).
    """

    jump_requested = Signal(str)
    generate_requested = Signal(str)
    play_requested = Signal(str)
    export_requested = Signal(str)
    select_requested = Signal(str)
    rename_requested = Signal(str)
    remove_requested = Signal(str)
    refreshed = Signal()

    def __init__(self, document: ScriptDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ChaptersPanel")
        self.document = document
        self._spans: list[ChapterSpan] = []
        self.tree = QTreeWidget()
        self.tree.setObjectName("ChapterList")
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(TITLE, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(28)
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.headerItem().setToolTip(FIRST, "Number of the chapter's first block")
        # Hidden by default so the dock stays narrow beside the script and its
        # inspector (the title's tooltip names the blocks; right-click the header).
        self.tree.setColumnHidden(FIRST, True)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        show_first = QAction("Show first block number", header)
        show_first.setCheckable(True)
        show_first.toggled.connect(lambda on: self.tree.setColumnHidden(FIRST, not on))
        header.addAction(show_first)
        self.tree.headerItem().setToolTip(STALE, "Blocks without a take, or whose take is "
                                          "out of date: what Generate would render")
        self.tree.headerItem().setToolTip(FLAGGED, "Blocks flagged for a retake")
        self.tree.headerItem().setToolTip(LENGTH, "Length of the selected takes as they "
                                          "play (edits applied, pauses not counted)")
        self.tree.itemClicked.connect(self._on_clicked)
        self.tree.itemActivated.connect(self._on_clicked)
        self.tree.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._show_menu)

        self.generate_button = QPushButton("Generate")
        self.generate_button.setToolTip("Generate the chapter's blocks that need a take")
        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Play the chapter's takes in order, with the playhead")
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Export this chapter alone")
        for button, signal in ((self.generate_button, self.generate_requested),
                               (self.play_button, self.play_requested),
                               (self.export_button, self.export_requested)):
            button.clicked.connect(lambda _=False, s=signal: self._emit_selected(s))
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for button in (self.generate_button, self.play_button, self.export_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.tree)
        layout.addLayout(buttons)

        self._menu = QMenu(self)
        self._menu_actions = [
            (self._menu.addAction("Generate chapter"), self.generate_requested),
            (self._menu.addAction("Play chapter"), self.play_requested),
            (self._menu.addAction("Export chapter…"), self.export_requested),
            (self._menu.addAction("Select chapter"), self.select_requested),
        ]
        self._menu.addSeparator()
        self.rename_action = self._menu.addAction("Rename chapter…")
        self.remove_action = self._menu.addAction("Remove chapter mark")
        self._menu_actions += [(self.rename_action, self.rename_requested),
                               (self.remove_action, self.remove_requested)]
        for action, signal in self._menu_actions:
            action.triggered.connect(lambda _=False, s=signal: self._emit_selected(s))
        self.select_action = self._menu_actions[3][0]
        self.select_action.setVisible(False)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        # Whether each block needs a take, remembered until a signal says the block (or
        # every block: a dictionary change, a new script) changed: the comparison of a
        # block with its take is most of a pass's cost.
        self._needs_take: dict[str, bool] = {}
        for signal in (document.blocks_inserted, document.blocks_removed,
                       document.block_inserted, document.block_removed, document.block_moved):
            signal.connect(self.schedule_refresh)
        document.block_changed.connect(self._forget_block)
        for signal in (document.take_added, document.take_removed, document.take_changed,
                       document.take_selected):
            signal.connect(self._forget_block)
        for signal in (document.reset, document.pronunciation_changed):
            signal.connect(self._forget_all)
        self.refresh()

    def _forget_block(self, block_id: str, *_args: object) -> None:
        self._needs_take.pop(block_id, None)
        self.schedule_refresh()

    def _forget_all(self, *_args: object) -> None:
        self._needs_take.clear()
        self.schedule_refresh()

    def _block_needs_take(self, block: Block) -> bool:
        known = self._needs_take.get(block.id)
        if known is None:
            known = self._needs_take[block.id] = self.document.needs_take(block)
        return known

    # --- contents -------------------------------------------------------------------

    @property
    def spans(self) -> list[ChapterSpan]:
        """The chapters as last listed (call :meth:`refresh` first for the newest)."""
        return self._spans

    @property
    def refresh_pending(self) -> bool:
        """Whether document changes wait for the next :meth:`refresh`."""
        return self._timer.isActive()

    def schedule_refresh(self, *_args: object) -> None:
        """Rebuild the list soon (changes in the next :data:`REFRESH_MS` join in)."""
        if not self._timer.isActive():
            self._timer.start()

    def refresh(self) -> None:
        """Rebuild the list from the document now: one pass over the blocks."""
        self._timer.stop()
        document = self.document
        if len(self._needs_take) > 2 * len(document) + 1000:
            self._needs_take.clear()  # ids of removed blocks pile up otherwise
        self._spans = chapter_spans((document.block_at(i) for i in range(len(document))),
                                    self._block_needs_take)
        current = self.tree.currentItem()
        keep = current.data(TITLE, Qt.ItemDataRole.UserRole) if current is not None else ""
        self.tree.setUpdatesEnabled(False)
        try:
            self.tree.clear()
            items = [self._item(span) for span in self._spans]
            self.tree.addTopLevelItems(items)
            for item in items:
                if item.data(TITLE, Qt.ItemDataRole.UserRole) == keep:
                    self.tree.setCurrentItem(item)
                    break
        finally:
            self.tree.setUpdatesEnabled(True)
        self._update_buttons()
        self.refreshed.emit()

    def _item(self, span: ChapterSpan) -> QTreeWidgetItem:
        item = QTreeWidgetItem([
            span.title, f"#{span.first + 1}", f"{span.blocks:,}", format_length(span.seconds),
            f"{span.stale:,}" if span.stale else "", f"{span.flagged:,}" if span.flagged else ""])
        item.setData(TITLE, Qt.ItemDataRole.UserRole, span.first_block_id)
        for column in (FIRST, BLOCKS, LENGTH, STALE, FLAGGED):
            item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight
                                  | Qt.AlignmentFlag.AlignVCenter)
        if span.flagged:
            item.setForeground(FLAGGED, QBrush(QColor("#f2c46c")))
        if span.stale:
            item.setForeground(STALE, QBrush(QColor("#a3a4b3")))
        locked = f"; {span.locked:,} locked" if span.locked else ""
        missing = f"; {span.missing:,} without a take" if span.missing else ""
        item.setToolTip(TITLE, f"{span.title}: blocks {span.first + 1}-{span.stop}"
                        f"{missing}{locked}")
        return item

    def span_of(self, block_id: str) -> ChapterSpan | None:
        """The chapter starting at ``block_id`` (listed now), None if none does."""
        if self._timer.isActive():
            self.refresh()
        return next((s for s in self._spans if s.first_block_id == block_id), None)

    def chapter_block_ids(self, block_id: str) -> list[str]:
        """The ids of the blocks of the chapter starting at ``block_id``, in order
        (empty if no chapter starts there)."""
        span = self.span_of(block_id)
        if span is None:
            return []
        return [self.document.block_at(i).id for i in range(span.first, span.stop)]

    def select_chapter_row(self, block_id: str) -> None:
        """Make the chapter starting at ``block_id`` the list's current row."""
        for index in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(index)
            if item.data(TITLE, Qt.ItemDataRole.UserRole) == block_id:
                self.tree.setCurrentItem(item)
                return

    # --- requests -------------------------------------------------------------------

    def selected_block_id(self) -> str:
        """The first block of the chapter selected in the list ("" when none)."""
        item = self.tree.currentItem()
        return str(item.data(TITLE, Qt.ItemDataRole.UserRole)) if item is not None else ""

    def _emit_selected(self, signal: Signal) -> None:
        block_id = self.selected_block_id()
        if block_id:
            signal.emit(block_id)  # type: ignore[attr-defined]

    def _on_clicked(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        self.jump_requested.emit(str(item.data(TITLE, Qt.ItemDataRole.UserRole)))

    def _update_buttons(self) -> None:
        has = self.tree.currentItem() is not None
        for button in (self.generate_button, self.play_button, self.export_button):
            button.setEnabled(has)

    def _show_menu(self, point: QPoint) -> None:
        item = self.tree.itemAt(point)
        if item is None:
            return
        self.tree.setCurrentItem(item)
        span = self.span_of(str(item.data(TITLE, Qt.ItemDataRole.UserRole)))
        self.remove_action.setEnabled(span is not None and span.marked)
        self.rename_action.setText("Rename chapter…" if span is not None and span.marked
                                   else "Start a chapter here…")
        self._menu.popup(self.tree.viewport().mapToGlobal(point))
