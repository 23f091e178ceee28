"""The Script panel: every block of the document, in order, in a scrolling column."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from studio.services.document import ScriptDocument
from studio.services.voices import VoiceCatalog
from studio.ui.block_view import BlockView


class ScriptPanel(QScrollArea):
    """Shows a :class:`ScriptDocument` as a column of :class:`BlockView`.

    Signals:
        generate_requested(str block_id)
        play_requested(str block_id)
        remove_requested(str block_id)
        move_requested(str block_id, int delta)
        current_block_changed(str block_id): "" when the script is empty.
    """

    generate_requested = Signal(str)
    play_requested = Signal(str)
    remove_requested = Signal(str)
    move_requested = Signal(str, int)
    current_block_changed = Signal(str)

    def __init__(
        self, document: ScriptDocument, catalog: VoiceCatalog, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("ScriptPanel")
        self.document = document
        self.catalog = catalog
        self._views: dict[str, BlockView] = {}
        self.current_block_id = ""
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

        for index, block in enumerate(document.blocks):
            self._on_block_inserted(index, block.id)
        document.block_inserted.connect(self._on_block_inserted)
        document.block_removed.connect(self._on_block_removed)
        document.block_moved.connect(self._on_block_moved)
        document.block_changed.connect(self._on_block_changed)
        document.take_added.connect(lambda block_id, _take: self._refresh_takes(block_id))
        document.take_selected.connect(lambda block_id, _take: self._refresh_takes(block_id))

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

    def scroll_to(self, view: BlockView) -> None:
        """Bring ``view`` fully into sight once the column has been laid out again
        (a block just inserted has no geometry until the layout runs)."""

        def scroll() -> None:
            self._layout.activate()
            self._container.resize(
                self._container.width(),
                max(self._container.sizeHint().height(), self.viewport().height()),
            )
            self.ensureWidgetVisible(view, 0, 12)

        QTimer.singleShot(0, view, scroll)

    def focus_block(self, block_id: str) -> None:
        self.set_current(block_id)
        self._views[block_id].text_edit.setFocus()

    # --- document signals ------------------------------------------------------

    def _on_block_inserted(self, index: int, block_id: str) -> None:
        view = BlockView(self.document, block_id, self.catalog)
        view.generate_requested.connect(self.generate_requested)
        view.play_requested.connect(self.play_requested)
        view.remove_requested.connect(self.remove_requested)
        view.move_requested.connect(self.move_requested)
        view.focused.connect(self.set_current)
        self._views[block_id] = view
        self._layout.insertWidget(index + 1, view)  # +1: the empty-script label comes first
        self._renumber()
        if not self.current_block_id:
            self.set_current(block_id)

    def _on_block_removed(self, index: int, block_id: str) -> None:
        view = self._views.pop(block_id)
        self._layout.removeWidget(view)
        view.deleteLater()
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

    def _refresh_takes(self, block_id: str) -> None:
        view = self._views.get(block_id)
        if view is not None:
            view.refresh_takes()

    def _renumber(self) -> None:
        for number, view in enumerate(self.views(), start=1):
            view.set_number(number)
        self._empty_label.setVisible(not self._views)
