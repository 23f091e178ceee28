"""The Script panel: every block of the document, in order, in a scrolling column."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QLabel, QScrollArea, QVBoxLayout, QWidget

from studio.services.document import ScriptDocument
from studio.services.editor import ScriptEditor
from studio.services.voices import VoiceCatalog
from studio.ui.script.block_view import BlockView


class ScriptPanel(QScrollArea):
    """Shows a :class:`ScriptDocument` as a column of :class:`BlockView`.

    The views send user edits to the :class:`ScriptEditor`; after an undo or redo the
    block it changed becomes the current one and scrolls into sight.

    Attributes:
        document: the :class:`ScriptDocument` shown.
        editor: the :class:`ScriptEditor` the views edit through.
        catalog: the voices offered.
        current_block_id: the block the user works in ("" when the script is empty).

    Signals:
        generate_requested(str block_id)
        play_requested(str block_id)
        remove_requested(str block_id)
        move_requested(str block_id, int delta)
        chapter_requested(str block_id): start or rename the chapter the block starts.
        chapter_removed(str block_id): remove the block's chapter mark.
        current_block_changed(str block_id): "" when the script is empty.
    """

    generate_requested = Signal(str)
    play_requested = Signal(str)
    remove_requested = Signal(str)
    move_requested = Signal(str, int)
    chapter_requested = Signal(str)
    chapter_removed = Signal(str)
    current_block_changed = Signal(str)

    def __init__(
        self,
        document: ScriptDocument,
        editor: ScriptEditor,
        catalog: VoiceCatalog,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("ScriptPanel")
        self.document = document
        self.editor = editor
        self.catalog = catalog
        self._views: dict[str, BlockView] = {}
        self.current_block_id = ""
        self.playing_block_id = ""
        self.setWidgetResizable(True)
        self._container = QWidget()
        self._container.setObjectName("ScriptColumn")
        self._layout = QVBoxLayout(self._container)
        self._layout.setContentsMargins(10, 10, 10, 10)
        self._layout.setSpacing(8)
        self._empty_label = QLabel(
            "The script is empty. Add a block (Ctrl+Enter) or paste a script (Ctrl+Shift+V)."
        )
        self._empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._empty_label.setObjectName("EmptyScript")
        self._layout.addWidget(self._empty_label)
        self._layout.addStretch(1)
        self.setWidget(self._container)

        self._on_reset()
        document.block_inserted.connect(self._on_block_inserted)
        document.blocks_inserted.connect(self._on_blocks_inserted)
        document.block_removed.connect(self._on_block_removed)
        document.blocks_removed.connect(self._on_blocks_removed)
        document.block_moved.connect(self._on_block_moved)
        document.block_changed.connect(self._on_block_changed)
        for signal in (document.take_added, document.take_removed, document.take_changed,
                       document.take_selected):
            signal.connect(self._on_take_event)
        document.reset.connect(self._on_reset)
        document.pronunciation_changed.connect(self._on_pronunciation_changed)
        editor.block_revisited.connect(self._on_block_revisited)

    def view(self, block_id: str) -> BlockView:
        """The view of ``block_id`` (for the main window and tests)."""
        return self._views[block_id]

    def views(self) -> list[BlockView]:
        return [self._views[b.id] for b in self.document.blocks]

    def set_current(self, block_id: str) -> None:
        if block_id == self.current_block_id:
            return
        old = self._views.get(self.current_block_id)
        if old is not None:
            old.set_current(False)
        self.current_block_id = block_id
        new = self._views.get(block_id)
        if new is not None:
            new.set_current(True)
            self.scroll_to(new)
        self.current_block_changed.emit(block_id)

    def set_playing(self, block_id: str) -> None:
        """Show the playhead on ``block_id`` (the block heard in Play all / Play
        chapter) and scroll it into sight; "" (or an unknown id) removes it. The view
        gets the style property ``playing``."""
        if block_id == self.playing_block_id:
            return
        for old_id, value in ((self.playing_block_id, False), (block_id, True)):
            view = self._views.get(old_id)
            if view is not None:
                view.setProperty("playing", value)
                view.style().unpolish(view)
                view.style().polish(view)
        self.playing_block_id = block_id if block_id in self._views else ""
        if self.playing_block_id:
            self.scroll_to(self._views[block_id])

    def scroll_to(self, view: BlockView) -> None:
        """Bring ``view`` fully into sight once the column has been laid out again
        (a block just inserted has no geometry until the layout runs)."""

        def scroll() -> None:
            self._layout.activate()
            self._container.resize(
                self._container.width(),
                max(self._container.sizeHint().height(), self.viewport().height()),
            )
            # Room for a horizontal scroll bar too: it may appear once the new block is
            # laid out, and would cover the block's bottom edge.
            self.ensureWidgetVisible(view, 0, 12 + self.horizontalScrollBar().sizeHint().height())

        QTimer.singleShot(0, view, scroll)

    def focus_block(self, block_id: str) -> None:
        self.set_current(block_id)
        self._views[block_id].text_edit.setFocus()

    # --- document signals ------------------------------------------------------

    def _add_view(self, index: int, block_id: str) -> None:
        view = BlockView(self.document, self.editor, block_id, self.catalog)
        view.generate_requested.connect(self.generate_requested)
        view.play_requested.connect(self.play_requested)
        view.remove_requested.connect(self.remove_requested)
        view.move_requested.connect(self.move_requested)
        view.chapter_requested.connect(self.chapter_requested)
        view.chapter_removed.connect(self.chapter_removed)
        view.focused.connect(self.set_current)
        self._views[block_id] = view
        self._layout.insertWidget(index + 1, view)  # +1: the empty-script label comes first

    def _drop_view(self, block_id: str) -> None:
        view = self._views.pop(block_id)
        self._layout.removeWidget(view)
        view.deleteLater()

    def _on_block_inserted(self, index: int, block_id: str) -> None:
        self._add_view(index, block_id)
        self._renumber()
        if not self.current_block_id:
            self.set_current(block_id)

    def _on_blocks_inserted(self, index: int, count: int) -> None:
        for offset in range(count):
            self._add_view(index + offset, self.document.block_at(index + offset).id)
        self._renumber()
        if not self.current_block_id:
            self.set_current(self.document.block_at(index).id)

    def _on_blocks_removed(self, removed: list[tuple[int, str]]) -> None:
        for index, block_id in removed:
            self._on_block_removed(index, block_id)

    def _on_block_removed(self, index: int, block_id: str) -> None:
        self._drop_view(block_id)
        self._renumber()
        if block_id == self.current_block_id:
            self.current_block_id = ""
            blocks = self.document.blocks
            if blocks:
                self.set_current(blocks[min(index, len(blocks) - 1)].id)
            else:
                self.current_block_changed.emit("")

    def _on_block_moved(self, _from: int, to: int) -> None:
        block_id = self.document.blocks[to].id
        view = self._views[block_id]
        self._layout.removeWidget(view)
        self._layout.insertWidget(to + 1, view)
        self._renumber()
        self.scroll_to(view)

    def _on_block_changed(self, block_id: str) -> None:
        view = self._views.get(block_id)
        if view is not None:
            view.refresh_fields()

    def _on_pronunciation_changed(self) -> None:
        for view in self._views.values():
            view.refresh_pronunciation()

    def _on_take_event(self, block_id: str, _take_id: str) -> None:
        view = self._views.get(block_id)
        if view is not None:
            view.refresh_takes()

    def _on_reset(self) -> None:
        """Another script replaced the whole document: new views, the first is current."""
        for block_id in list(self._views):
            self._drop_view(block_id)
        self.current_block_id = ""
        blocks = self.document.blocks
        for index, block in enumerate(blocks):
            self._add_view(index, block.id)
        self._renumber()
        if blocks:
            self.set_current(blocks[0].id)
        else:
            self.current_block_changed.emit("")

    def _on_block_revisited(self, block_id: str) -> None:
        """An undo or redo changed ``block_id``: show it, and take the keyboard there
        if it was in the script (typing must not go on in a block scrolled away)."""
        if block_id not in self._views:
            return
        focus = QApplication.focusWidget()
        view = self._views[block_id]
        if focus is not None and self.isAncestorOf(focus) and not view.isAncestorOf(focus):
            self.focus_block(block_id)
        else:
            self.set_current(block_id)

    def _renumber(self) -> None:
        for number, view in enumerate(self.views(), start=1):
            view.set_number(number)
        self._empty_label.setVisible(not self._views)
