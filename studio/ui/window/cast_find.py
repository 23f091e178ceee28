"""The window's Cast panel dock, its Find and Replace dialog, and the casting check
before Generate all: kept apart from ``main_window.py`` so each stays readable."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMessageBox

from studio.project.casting import uncast_speakers
from studio.services.editor import count_blocks
from studio.ui.cast.cast_panel import CastPanel
from studio.ui.widgets.actions import make_action

if TYPE_CHECKING:
    from studio.ui.find.find_replace_dialog import FindReplaceDialog
    from studio.ui.window.main_window import MainWindow

#: Speakers named in the casting question; the rest are counted.
NAMED_SPEAKERS = 12


class CastAndFind(QObject):
    """The Cast panel's dock and the Find and Replace actions of ``window``.

    Attributes:
        window: the main window.
        panel: the :class:`CastPanel`.
        dock: its dock, tabbed with the Takes panel (View → Cast panel).
        find_action, replace_action: Edit → Find… (Ctrl+F) and Find and Replace…
            (Ctrl+H), opening one non-modal dialog.
    """

    def __init__(self, window: MainWindow, cast_panel: CastPanel) -> None:
        super().__init__(window)
        self.window = window
        self.panel = cast_panel
        self.dock = window.add_dock("Cast", cast_panel,
                                     Qt.DockWidgetArea.RightDockWidgetArea,
                                     tab_with=window.takes_dock)
        cast_panel.select_requested.connect(self.select_speaker_blocks)
        self._dialog: FindReplaceDialog | None = None
        self.find_action = make_action(window, "Find…", lambda: self.show_find(replace=False),
                                       QKeySequence.StandardKey.Find,
                                       "Find text across the script")
        self.replace_action = make_action(window, "Find and Replace…", lambda: self.show_find(True),
                                          "Ctrl+H", "Find and replace across the script "
                                          "(plain or regex), as one undo step")
        window.edit_menu.addSeparator()
        window.edit_menu.addAction(self.find_action)
        window.edit_menu.addAction(self.replace_action)

    @property
    def dialog(self) -> FindReplaceDialog:
        """The Find and Replace dialog (made on first use, then kept)."""
        if self._dialog is None:
            from studio.ui.find.find_replace_dialog import FindReplaceDialog

            window = self.window
            self._dialog = FindReplaceDialog(window.document, window.editor, window)
            self._dialog.block_requested.connect(window.script_panel.set_current)
        return self._dialog

    def show_find(self, replace: bool = True) -> None:
        """Open the Find and Replace dialog, its replace field focused when
        ``replace``, else its find field."""
        self.dialog.open_for(replace=replace)

    def select_speaker_blocks(self, speaker: str) -> None:
        """Select ``speaker``'s blocks in the script."""
        self.window.script_panel.select_speaker(speaker)

    def confirm_casting(self, block_ids: list[str]) -> bool:
        """Before generating ``block_ids``: when a speaker of theirs needs casting
        (:mod:`studio.project.casting`), say who and offer the Cast panel. Returns
        True to go on generating ("Generate anyway")."""
        window = self.window
        uncast = uncast_speakers(window.document.blocks, window.document.cast, block_ids)
        if not uncast:
            return True
        names = "\n".join(
            f"• {row.speaker}: {count_blocks(row.blocks)}"
            + (f", {row.voiceless} without a voice" if row.voiceless else "")
            for row in uncast[:NAMED_SPEAKERS])
        more = (f"\n…and {len(uncast) - NAMED_SPEAKERS} more"
                if len(uncast) > NAMED_SPEAKERS else "")
        box = QMessageBox(QMessageBox.Icon.Question, "Cast the speakers",
                          f"These speakers are not cast yet:\n{names}{more}\n\nGive them a "
                          "voice in the Cast panel first? Blocks without a voice cannot be "
                          "generated.", QMessageBox.StandardButton.NoButton, window)
        box.setObjectName("CastingQuestion")
        open_cast = box.addButton("Open Cast panel", QMessageBox.ButtonRole.AcceptRole)
        anyway = box.addButton("Generate anyway", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(open_cast)
        box.exec()
        clicked = box.clickedButton()
        if clicked is open_cast:
            self.dock.show()
            self.dock.raise_()
            self.panel.table.selectRow(0)
            window.statusBar().showMessage("Nothing generated: cast the speakers first", 6000)
        return clicked is anyway
