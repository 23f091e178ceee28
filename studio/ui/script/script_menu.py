"""The Script panel's menus: Select (all, chapter, speaker, status) and a block's
context menu (chapter marks, selections)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMenu, QToolButton

from studio.ui.script.script_view import FILTERS

if TYPE_CHECKING:
    from studio.ui.script.script_panel import ScriptPanel


class SelectMenu:
    """A "Select" button whose menu selects all blocks, the current chapter, a
    speaker's blocks or the blocks in a state."""

    def __init__(self, panel: ScriptPanel) -> None:
        self.panel = panel
        self.button = QToolButton()
        # The arrow is in the text, as on the Dictionaries panel's "Dictionary ▾": Fusion
        # draws an InstantPopup's own indicator over the end of a short label ("Selec⌄").
        self.button.setText("Select ▾")
        self.button.setStyleSheet("QToolButton::menu-indicator { image: none; }")
        self.button.setToolTip("Select blocks to change them together in the inspector")
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu = QMenu(self.button)
        self.button.setMenu(self.menu)
        self.menu.aboutToShow.connect(self._build)

    def _build(self) -> None:
        """Filled when shown: the speakers are the script's as it is now."""
        panel = self.panel
        menu = self.menu
        menu.clear()
        menu.addAction("All blocks", panel.select_all)
        chapter = menu.addAction("This chapter",
                                 lambda: panel.select_chapter(panel.current_block_id))
        chapter.setEnabled(bool(panel.current_block_id))
        speakers = menu.addMenu("Speaker")
        for speaker in panel.document.speakers():
            speakers.addAction(speaker, lambda s=speaker: panel.select_speaker(s))
        menu.addSeparator()
        for kind, label in FILTERS.items():
            if kind != "all":
                menu.addAction(label, lambda k=kind: panel.select_status(k))


def block_menu(panel: ScriptPanel, block_id: str) -> QMenu:
    """The context menu of ``block_id``: start or rename its chapter, remove the mark,
    select its chapter or its speaker's blocks."""
    block = panel.document.block(block_id)
    starts = block.chapter is not None
    menu = QMenu(panel)
    start = menu.addAction("Rename chapter…" if starts else "Start chapter here…")
    start.triggered.connect(lambda _checked=False: panel.chapter_requested.emit(block_id))
    remove = menu.addAction("Remove chapter mark")
    remove.setEnabled(starts)
    remove.triggered.connect(lambda _checked=False: panel.chapter_removed.emit(block_id))
    menu.addSeparator()
    menu.addAction("Select chapter", lambda: panel.select_chapter(block_id))
    menu.addAction(f"Select {block.speaker}'s blocks",
                   lambda: panel.select_speaker(block.speaker))
    menu.addAction("Select all", panel.select_all)
    return menu
