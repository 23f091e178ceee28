"""The Script panel: the script as a list of painted blocks, a filter bar, and the
inspector beside it.

A model/view design (issue 15): :class:`ScriptModel` rows over the document, a
:class:`BlockDelegate` painting each block, and one inline editor widget, for the
current block only. Showing, scrolling or typing in a 10 000-block script costs what
the visible blocks cost (``tests/benchmarks/bench_script_scale.py`` measures it).
"""

from __future__ import annotations

from PySide6.QtCore import (
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from studio.services.document import ScriptDocument
from studio.services.editor import ScriptEditor
from studio.services.voices import VoiceCatalog
from studio.ui.script.block_delegate import BlockDelegate
from studio.ui.script.block_editor import BlockTextEdit
from studio.ui.script.inspector import Inspector
from studio.ui.script.script_menu import SelectMenu, block_menu
from studio.ui.script.script_model import Role, ScriptModel, Status
from studio.ui.script.script_view import (
    FILTERS,
    BlockFilter,
    ScriptListView,
    block_is,
    chapter_span,
    check_kind,
    rows_selection,
)


class ScriptPanel(QWidget):
    """Shows a :class:`ScriptDocument` as a list of blocks with an inspector.

    Text is edited inline, in the current block; the inspector edits the current
    block or the selection. After an undo or redo the block it changed becomes the
    current one and scrolls into sight.

    Attributes:
        document: the :class:`ScriptDocument` shown.
        editor: the :class:`ScriptEditor` edits go through.
        catalog: the voices offered.
        current_block_id: the block the user works in ("" when the script is empty).
        model: the :class:`ScriptModel`; ``view``: the :class:`ScriptListView`;
        inspector: the :class:`Inspector`.

    Signals:
        generate_requested(str block_id)
        generate_selection_requested(list block_ids): Generate over a selection.
        play_requested(str block_id)
        remove_requested(str block_id)
        move_requested(str block_id, int delta)
        chapter_requested(str block_id): start or rename the chapter the block starts.
        perform_requested(str block_id): convert the user's own performance of the block.
        chapter_removed(str block_id): remove the block's chapter mark.
        current_block_changed(str block_id): "" when the script is empty.
        selection_changed(list block_ids): the selected blocks, in script order.
    """

    generate_requested = Signal(str)
    generate_selection_requested = Signal(list)
    play_requested = Signal(str)
    remove_requested = Signal(str)
    move_requested = Signal(str, int)
    chapter_requested = Signal(str)
    perform_requested = Signal(str)
    chapter_removed = Signal(str)
    current_block_changed = Signal(str)
    selection_changed = Signal(list)

    def __init__(self, document: ScriptDocument, editor: ScriptEditor, catalog: VoiceCatalog,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ScriptPanel")
        self.document = document
        self.editor = editor
        self.catalog = catalog
        self.current_block_id = ""
        self._editing = QPersistentModelIndex()
        self.model = ScriptModel(document, self)
        # Before the filter connects: a block's new height is measured before the view
        # (editor geometry, visual rects) asks for it, so the change is seen.
        self.model.dataChanged.connect(self._on_data_changed)
        self.filter = BlockFilter(self.model, self)
        self.view = ScriptListView()
        self.view.setModel(self.filter)
        self.delegate = BlockDelegate(self.view, document, editor, catalog, self.model)
        self.view.setItemDelegate(self.delegate)
        self.inspector = Inspector(document, editor, catalog, self.model)

        self.filter_combo = QComboBox()
        for kind, label in FILTERS.items():
            self.filter_combo.addItem(label, kind)
        self.filter_combo.setToolTip("Show only the blocks in this state")
        self.select_menu = SelectMenu(self)
        self.count_label = QLabel()
        self.count_label.setObjectName("Hint")
        bar = QHBoxLayout()
        bar.setContentsMargins(8, 4, 8, 0)
        bar.addWidget(QLabel("Show"))
        bar.addWidget(self.filter_combo)
        bar.addWidget(self.select_menu.button)
        bar.addStretch(1)
        bar.addWidget(self.count_label)
        self._empty_label = QLabel(
            "The script is empty. Add a block (Ctrl+Enter) or paste a script (Ctrl+Shift+V).")
        self._empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._empty_label.setObjectName("EmptyScript")
        self._empty_label.setWordWrap(True)
        self._stack = QStackedWidget()
        self._stack.addWidget(self.view)
        self._stack.addWidget(self._empty_label)
        inspector_scroll = QScrollArea()
        inspector_scroll.setObjectName("InspectorScroll")
        inspector_scroll.setWidgetResizable(True)
        inspector_scroll.setWidget(self.inspector)
        inspector_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Wide enough for the form without a sideways scroll bar.
        inspector_scroll.setMinimumWidth(self.inspector.minimumSizeHint().width()
                                         + inspector_scroll.verticalScrollBar().sizeHint().width()
                                         + 2 * inspector_scroll.frameWidth())
        self.inspector_scroll = inspector_scroll
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self._stack)
        self.splitter.addWidget(inspector_scroll)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([620, 300])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)

        selection = self.view.selectionModel()
        selection.currentChanged.connect(self._on_current_changed)
        selection.selectionChanged.connect(self._on_selection_changed)
        self.filter_combo.currentIndexChanged.connect(
            lambda i: self.set_filter(self.filter_combo.itemData(i)))
        self.view.text_clicked.connect(self._on_text_clicked)
        self.view.chapter_clicked.connect(
            lambda index: self.chapter_requested.emit(index.data(Role.BLOCK_ID)))
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._on_context_menu)
        inspector = self.inspector
        inspector.generate_requested.connect(self.generate_requested)
        inspector.generate_selection_requested.connect(self.generate_selection_requested)
        inspector.play_requested.connect(self.play_requested)
        inspector.remove_requested.connect(self.remove_requested)
        inspector.move_requested.connect(self.move_requested)
        inspector.chapter_requested.connect(self.chapter_requested)
        inspector.perform_requested.connect(self.perform_requested)
        self.model.rowsInserted.connect(self._on_rows_inserted)
        self.model.rowsRemoved.connect(self._on_rows_removed)
        self.model.rowsMoved.connect(lambda *_a: self.scroll_to_block(self.current_block_id))
        self.model.modelReset.connect(self._on_reset)
        document.pronunciation_changed.connect(self._on_pronunciation_changed)
        editor.block_revisited.connect(self._on_block_revisited)
        self._on_reset()

    # --- the current block and its editor ------------------------------------------

    @property
    def text_edit(self) -> BlockTextEdit | None:
        """The inline editor of the current block (``None`` when the script is empty
        or the current block is filtered out)."""
        self._ensure_editor()
        return self._open_edit()

    def _open_edit(self) -> BlockTextEdit | None:
        if not self._editing.isValid():
            return None
        widget = self.view.indexWidget(QModelIndex(self._editing))
        return widget if isinstance(widget, BlockTextEdit) else None

    def _proxy_index(self, block_id: str) -> QModelIndex:
        return self.filter.mapFromSource(self.model.index_of(block_id))

    def set_current(self, block_id: str) -> None:
        """Make ``block_id`` the current block (scrolled into view, inline editor open);
        a block the filter hides shows the whole script again. The selection becomes
        that block unless it was already selected."""
        if block_id == self.current_block_id or not self.document.has_block(block_id):
            return
        index = self._proxy_index(block_id)
        if not index.isValid():
            self.set_filter("all")
            index = self._proxy_index(block_id)
        selection = self.view.selectionModel()
        flags = (QItemSelectionModel.SelectionFlag.NoUpdate if selection.isSelected(index)
                 else QItemSelectionModel.SelectionFlag.ClearAndSelect)
        selection.setCurrentIndex(index, flags)
        self.scroll_to_block(block_id)

    def focus_block(self, block_id: str) -> None:
        """Make ``block_id`` current and put the keyboard in its text."""
        self.set_current(block_id)
        edit = self.text_edit
        if edit is not None and edit.block_id == block_id:
            self.view.setFocus()
            edit.setFocus()

    def scroll_to_block(self, block_id: str) -> None:
        """Bring ``block_id`` into view (nothing when it is filtered out or gone)."""
        if not block_id or not self.document.has_block(block_id):
            return
        index = self._proxy_index(block_id)
        if index.isValid() and self.view.isVisible():  # else when shown (showEvent)
            self.view.scrollTo(index, QAbstractItemView.ScrollHint.EnsureVisible)

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        block_id = str(current.data(Role.BLOCK_ID)) if current.isValid() else ""
        self._open_editor(current)
        if block_id != self.current_block_id:
            self.current_block_id = block_id
            self._bind_inspector()
            self.current_block_changed.emit(block_id)

    def _open_editor(self, index: QModelIndex) -> None:
        if self._editing.isValid() and QModelIndex(self._editing) != index:
            old = self._open_edit()
            had_focus = old is not None and old.hasFocus()
            self.view.closePersistentEditor(QModelIndex(self._editing))
            if had_focus:
                self.view.setFocus()
        self._editing = QPersistentModelIndex(index)
        if self.view.isVisible():
            self._ensure_editor()

    def _ensure_editor(self) -> None:
        """Open the inline editor on the current block (put off until the view is
        shown or the editor asked for: opening lays the view out at its width)."""
        index = QModelIndex(self._editing)
        if (index.isValid() and self.document.has_block(str(index.data(Role.BLOCK_ID)))
                and not self.view.isPersistentEditorOpen(index)):
            self.view.openPersistentEditor(index)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._ensure_editor()
        self.scroll_to_block(self.current_block_id)

    def _on_text_clicked(self, index: QModelIndex, position: QPoint) -> None:
        """A click on the text of a block: the keyboard goes there, at the click."""
        edit = self.text_edit
        if edit is None or QModelIndex(self._editing) != index:
            return
        edit.setFocus(Qt.FocusReason.MouseFocusReason)
        local = edit.viewport().mapFrom(self.view.viewport(), position)
        edit.setTextCursor(edit.cursorForPosition(local))

    # --- selection ----------------------------------------------------------------

    def selected_block_ids(self) -> list[str]:
        """The selected blocks in script order."""
        rows = sorted(self.filter.mapToSource(i).row()
                      for i in self.view.selectionModel().selectedRows())
        return [self.model.block_id(row) for row in rows]

    def select_blocks(self, block_ids: list[str]) -> None:
        """Select ``block_ids`` (those the filter shows), replacing the selection; the
        first becomes current unless the current block is among them."""
        rows = sorted({self._proxy_index(b).row() for b in block_ids
                       if self.document.has_block(b)} - {-1})
        selection = rows_selection(self.filter, rows)
        model = self.view.selectionModel()
        model.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        if rows and self.current_block_id not in block_ids:
            model.setCurrentIndex(self.filter.index(rows[0], 0),
                                  QItemSelectionModel.SelectionFlag.NoUpdate)
            self.scroll_to_block(self.current_block_id)

    def select_all(self) -> None:
        self.view.selectAll()

    def select_chapter(self, block_id: str) -> None:
        """Select the chapter ``block_id`` is in: from the block that starts it (or the
        script's start) to the block before the next chapter."""
        span = chapter_span(self.document, self.document.index_of(block_id))
        self.select_blocks([self.document.block_at(i).id for i in span])

    def select_speaker(self, speaker: str) -> None:
        """Select every block ``speaker`` says."""
        self.select_blocks(self._ids_where(lambda b: b.speaker == speaker))

    def select_status(self, kind: str) -> None:
        """Select the blocks of ``kind`` ("flagged", "stale", "missing_voice", "locked";
        "all" selects all).

        Raises:
            ValueError: an unknown kind.
        """
        check_kind(kind)
        self.select_blocks(self._ids_where(lambda b: block_is(kind, b, self.document)))

    def _ids_where(self, wanted: object) -> list[str]:
        document = self.document
        return [block.id for block in (document.block_at(i) for i in range(len(document)))
                if wanted(block)]  # type: ignore[operator]

    def _on_selection_changed(self, *_args: object) -> None:
        self._bind_inspector()
        self.selection_changed.emit(self.selected_block_ids())

    def _bind_inspector(self) -> None:
        selected = self.selected_block_ids()
        if len(selected) > 1:
            self.inspector.set_blocks(selected)
        else:
            self.inspector.set_blocks([self.current_block_id] if self.current_block_id else [])

    # --- filter ---------------------------------------------------------------------

    def set_filter(self, kind: str) -> None:
        """Show only blocks of ``kind`` (see :data:`FILTERS`); the current block stays
        current when it is shown.

        Raises:
            ValueError: an unknown kind.
        """
        current = self.current_block_id
        self.filter.set_kind(kind)
        self.delegate.identity = kind == "all"
        index = self.filter_combo.findData(kind)
        if self.filter_combo.currentIndex() != index:
            self.filter_combo.blockSignals(True)
            self.filter_combo.setCurrentIndex(index)
            self.filter_combo.blockSignals(False)
        if current and self._proxy_index(current).isValid():
            self.current_block_id = ""
            self.set_current(current)
        self._update_count()

    def _update_count(self) -> None:
        shown, total = self.filter.rowCount(), self.model.rowCount()
        self.count_label.setText(f"{total:,} blocks" if shown == total
                                 else f"{shown:,} of {total:,} blocks")
        self._stack.setCurrentWidget(self.view if total else self._empty_label)

    # --- what the window says about blocks -------------------------------------------

    def set_block_status(self, block_id: str, text: str, error: bool = False,
                         warning: bool = False, take_id: str = "") -> None:
        """Show ``text`` on the block's state line (and in the inspector); with a
        ``take_id`` it clears once another take is selected. Unknown ids are ignored."""
        self.model.set_status(block_id, Status(text, error, warning, take_id))

    def status_text(self, block_id: str) -> str:
        """What the block's status line says (the inspector shows it too)."""
        return self.model.status_text(block_id).text

    def set_generating(self, block_id: str, generating: bool) -> None:
        self.model.set_generating(block_id, generating)

    @property
    def playing_block_id(self) -> str:
        """The block the playhead is on ("" for none)."""
        return self.model.playing

    def set_playing(self, block_id: str) -> None:
        """Paint the playhead on ``block_id`` and scroll it into view ("" for none)."""
        self.model.set_playing(block_id if self.document.has_block(block_id) else "")
        self.scroll_to_block(block_id)

    # --- from the model ---------------------------------------------------------------

    def _on_data_changed(self, top: QModelIndex, bottom: QModelIndex, *_args: object) -> None:
        # A change over many rows (dictionaries) changes no text: heights stay.
        if top.row() == bottom.row():
            index = self.filter.mapFromSource(top)
            edit = self._open_edit()
            if (self.delegate.refresh_height(index) and edit is not None
                    and edit.hasFocus() and QModelIndex(self._editing) == index):
                QTimer.singleShot(0, self, self._reveal_caret)

    def _reveal_caret(self) -> None:
        """Keep the caret in sight while the block being typed in grows (or shrinks)
        with its text: after the view's layout, scroll just enough."""
        edit = self._open_edit()
        if edit is None:
            return
        self.view.scrollTo(QModelIndex(self._editing),
                           QAbstractItemView.ScrollHint.EnsureVisible)  # lays the view out
        caret = edit.cursorRect()
        top = edit.viewport().mapTo(self.view.viewport(), caret.topLeft()).y()
        bar = self.view.verticalScrollBar()
        room = self.view.viewport().height()
        if top + caret.height() > room:
            bar.setValue(bar.value() + top + caret.height() - room + 8)
        elif top < 0:
            bar.setValue(bar.value() + top - 8)

    def _on_rows_inserted(self, _parent: QModelIndex, first: int, _last: int) -> None:
        self._update_count()
        if not self.current_block_id:
            self.set_current(self.model.block_id(first))

    def _on_rows_removed(self, _parent: QModelIndex, first: int, _last: int) -> None:
        self._update_count()
        if self.current_block_id and not self.document.has_block(self.current_block_id):
            self.current_block_id = ""
            count = len(self.document)
            if count:
                self.set_current(self.document.block_at(min(first, count - 1)).id)
            else:
                self._bind_inspector()
                self.current_block_changed.emit("")
        elif not self.current_block_id and len(self.document):
            self.set_current(self.document.block_at(min(first, len(self.document) - 1)).id)

    def _on_reset(self) -> None:
        """Another script replaced the whole document: the first block is current."""
        self.delegate.clear_heights()
        self._editing = QPersistentModelIndex()
        self.current_block_id = ""
        self._update_count()
        if len(self.document):
            self.set_current(self.document.block_at(0).id)
        else:
            self._bind_inspector()
            self.current_block_changed.emit("")

    def _on_pronunciation_changed(self) -> None:
        edit = self.text_edit
        if edit is not None:
            edit.refresh()

    def _on_block_revisited(self, block_id: str) -> None:
        """An undo or redo changed ``block_id``: show it, and take the keyboard there
        if it was in the script (typing must not go on in a block scrolled away)."""
        if not self.document.has_block(block_id):
            return
        focus = QApplication.focusWidget()
        edit = self.text_edit
        in_script = focus is not None and self.view.isAncestorOf(focus)
        editing_it = (edit is not None and edit.block_id == block_id and focus is not None
                      and (edit is focus or edit.isAncestorOf(focus)))
        if in_script and not editing_it:
            self.focus_block(block_id)
        else:
            self.set_current(block_id)
            self.scroll_to_block(block_id)

    def _on_context_menu(self, position: QPoint) -> None:
        index = self.view.indexAt(position)
        if index.isValid():
            block_menu(self, str(index.data(Role.BLOCK_ID))).exec(
                self.view.viewport().mapToGlobal(position))
