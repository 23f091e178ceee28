"""Review mode and the Chapters panel's requests, installed into the main window.

While a run plays (Play all, Play chapter) the Script panel shows a playhead on the
block heard (:meth:`ScriptPanel.set_playing`); the Review menu pauses and resumes it,
skips to the next or previous block, flags the block heard for a retake (with a note or
without), and locks approved blocks so Generate all skips them. Flags and locks go
through :meth:`ScriptEditor.update_blocks`: one undo step each.

Shortcuts (none is taken elsewhere in the window): F7 / F8 / F9 previous block, pause or
resume, next block (the media keys' places on most keyboards); Ctrl+Alt+P Play chapter;
Ctrl+Shift+R flag with a note, Ctrl+Alt+R flag without one (Ctrl+R is the Editor's
Replace); Ctrl+L lock, Ctrl+Shift+L unlock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu, QToolBar

from studio.project.chapters import ChapterSpan, span_of
from studio.project.export_pipeline import safe_name
from studio.project.export_settings import ExportCancelled, ExportError, SettingsError
from studio.project.model import Block
from studio.services.document import ScriptDocument
from studio.services.editor import count_blocks
from studio.ui.chapters.chapters_panel import ChaptersPanel
from studio.ui.widgets.actions import make_action

if TYPE_CHECKING:
    from studio.ui.window.main_window import MainWindow

log = logging.getLogger(__name__)


def split_locked(document: ScriptDocument, block_ids: Iterable[str]) -> tuple[list[str],
                                                                           list[str]]:
    """``block_ids`` split into (unlocked, locked), order kept; unknown ids dropped."""
    free: list[str] = []
    locked: list[str] = []
    for block_id in block_ids:
        if document.has_block(block_id):
            (locked if document.block(block_id).locked else free).append(block_id)
    return free, locked


def locked_note(count: int) -> str:
    """"3 locked blocks skipped" ("" for none)."""
    if not count:
        return ""
    return f"{count_blocks(count).replace('block', 'locked block', 1)} skipped"


#: Blocks the Review menu's "Next …" entries go to: (label, test).
FINDERS: tuple[tuple[str, Callable[[ScriptDocument, Block], bool]], ...] = (
    ("flagged block", lambda _document, block: block.flagged),
    ("block to generate", lambda document, block: document.needs_take(block)),
    ("block without a voice", lambda _document, block: bool(block.text.strip())
     and not block.voice_id),
    ("locked block", lambda _document, block: block.locked),
)


class ReviewActions(QObject):
    """The Review menu, the Chapters dock and the playhead of a :class:`MainWindow`.

    Attributes:
        dock: the Chapters panel's dock (left; its toggle is in the View menu). It
            opens by itself the first time the script has a chapter mark.
        menu: the Review menu.
        play_chapter_action, pause_action, previous_action, next_action, flag_action,
        flag_quick_action, clear_flag_action, lock_action, unlock_action: its actions.
    """

    def __init__(self, window: MainWindow, chapters: ChaptersPanel) -> None:
        super().__init__(window)
        self.window = window
        self.document = window.document
        self.editor = window.editor
        self.runs = window.script_playback
        self.chapters = chapters
        self._export_task: asyncio.Task[None] | None = None
        self.dock = window.add_dock("Chapters", chapters, Qt.DockWidgetArea.LeftDockWidgetArea)
        # Closed until the script has a chapter mark (then opened once; the View menu
        # toggles it): beside today's Script panel it leaves a 1280-pixel screen too
        # narrow for a block's row of fields.
        self.dock.hide()
        self._dock_opened = False
        chapters.refreshed.connect(self._open_dock_for_chapters)
        self._build_menu()
        chapters.jump_requested.connect(self.jump_to)
        chapters.generate_requested.connect(self.generate_chapter)
        chapters.play_requested.connect(self.play_chapter)
        chapters.export_requested.connect(self.export_chapter)
        chapters.select_requested.connect(self.select_chapter)
        chapters.rename_requested.connect(window.ask_chapter_title)
        chapters.remove_requested.connect(window.remove_chapter)
        self.runs.now_playing.connect(self._on_now_playing)
        window.playback.paused_changed.connect(lambda _paused: self._update_actions())
        window.playback.started.connect(self._update_actions)
        window.playback.stopped.connect(self._update_actions)
        self._update_actions()

    def _open_dock_for_chapters(self) -> None:
        if self._dock_opened or not any(span.marked for span in self.chapters.spans):
            return
        self._dock_opened = True
        self.dock.show()
        self.window.resizeDocks([self.dock], [250], Qt.Orientation.Horizontal)

    def _action(self, text: str, slot: Callable[[], object], shortcut: str | None = None,
                tip: str = "") -> QAction:
        return make_action(self.window, text, slot, shortcut, tip)

    def _build_menu(self) -> None:
        self.play_chapter_action = self._action(
            "Play chapter", self.play_current_chapter, "Ctrl+Alt+P",
            "Play the current block's chapter, following it with the playhead")
        self.pause_action = self._action("Pause", self.toggle_pause, "F8",
                                         "Pause or resume what is playing")
        self.previous_action = self._action("Previous block", lambda: self.runs.skip(-1), "F7",
                                            "Play from the start of the previous block")
        self.next_action = self._action("Next block", lambda: self.runs.skip(1), "F9",
                                        "Play from the start of the next block")
        self.flag_action = self._action(
            "Flag for retake…", self.ask_flag, "Ctrl+Shift+R",
            "Flag the block playing (or the current block) for a retake, with a note")
        self.flag_quick_action = self._action(
            "Flag for retake without a note", lambda: self.flag(self.review_target(), ""),
            "Ctrl+Alt+R", "Flag the block playing (or the current block) for a retake")
        self.clear_flag_action = self._action(
            "Clear retake flag", lambda: self.clear_flag(self.selection()), None,
            "The current (or selected) blocks are no longer flagged")
        self.lock_action = self._action(
            "Lock", lambda: self.set_locked(self.selection(), True), "Ctrl+L",
            "Approve the current (or selected) blocks: Generate all skips them and their "
            "text and takes cannot change until unlocked")
        self.unlock_action = self._action(
            "Unlock", lambda: self.set_locked(self.selection(), False), "Ctrl+Shift+L",
            "Let the current (or selected) blocks change again")
        menu = self.menu = QMenu("&Review", self.window)
        for action in (self.window.play_all_action, self.play_chapter_action,
                       self.pause_action, self.previous_action, self.next_action, None,
                       self.flag_action, self.flag_quick_action, self.clear_flag_action,
                       None, self.lock_action, self.unlock_action, None):
            if action is None:
                menu.addSeparator()
            else:
                menu.addAction(action)
        self.find_actions: list[QAction] = []
        for label, test in FINDERS:
            action = self._action(f"Next {label}", lambda t=test, n=label: self.go_next(t, n))
            menu.addAction(action)
            self.find_actions.append(action)
        self.window.menuBar().insertMenu(self.window.view_menu.menuAction(), menu)
        toolbar = self.window.findChild(QToolBar, "MainToolbar")
        if toolbar is not None:  # Play chapter and Pause beside Play all
            actions = toolbar.actions()
            index = actions.index(self.window.play_all_action) + 1
            after = actions[index] if index < len(actions) else None
            for action in (self.play_chapter_action, self.pause_action):
                toolbar.insertAction(after, action)  # type: ignore[arg-type]

    # --- targets ----------------------------------------------------------------------

    def review_target(self) -> str:
        """The block a flag goes on: the one heard in a run, else the current one."""
        return self.runs.playing_block_id or self.window.script_panel.current_block_id

    def selection(self) -> list[str]:
        """The blocks selected in the Script panel, else the current block; empty for
        an empty script."""
        panel = self.window.script_panel
        ids = panel.selected_block_ids()
        if not ids and panel.current_block_id:
            ids = [panel.current_block_id]
        return ids

    def _number(self, block_id: str) -> int:
        return self.document.index_of(block_id) + 1

    def _say(self, message: str, ms: int = 5000) -> None:
        self.window.statusBar().showMessage(message, ms)

    # --- review -----------------------------------------------------------------------

    def ask_flag(self) -> None:
        """Ask for a note and flag :meth:`review_target` (the run pauses meanwhile)."""
        block_id = self.review_target()
        if not block_id:
            return
        paused = self.window.playback.is_playing and self.window.playback.pause()
        note, ok = QInputDialog.getText(self.window, "Flag for retake",
                                        f"Note for block #{self._number(block_id)} "
                                        "(optional):")
        if ok:
            self.flag(block_id, note)
        if paused:
            self.window.playback.resume()

    def flag(self, block_id: str, note: str = "") -> None:
        """Flag ``block_id`` for a retake with ``note`` (one undo step)."""
        if not block_id or not self.document.has_block(block_id):
            return
        note = " ".join(note.split())
        self.editor.update_blocks([block_id], flag=note)
        said = f": {note}" if note else ""
        self._say(f"Block #{self._number(block_id)} flagged for a retake{said}")

    def clear_flag(self, block_ids: list[str]) -> None:
        flagged = [i for i in block_ids if self.document.block(i).flagged]
        if flagged:
            self.editor.update_blocks(flagged, flag=None)
            self._say(f"Retake flag cleared on {count_blocks(len(flagged))}")

    def set_locked(self, block_ids: list[str], locked: bool) -> None:
        """Lock (or unlock) ``block_ids`` as one undo step."""
        changing = [i for i in block_ids if self.document.block(i).locked != locked]
        if not changing:
            return
        self.editor.update_blocks(changing, locked=locked)
        self._say(f"{'Locked' if locked else 'Unlocked'} {count_blocks(len(changing))}")
        self._update_actions()

    def toggle_pause(self) -> None:
        playback = self.window.playback
        if playback.is_paused:
            playback.resume()
        elif playback.is_playing:
            playback.pause()

    def go_next(self, test: Callable[[ScriptDocument, Block], bool], label: str) -> str:
        """Make the next block (after the current one, wrapping) that passes ``test``
        current; returns its id ("" and a message when there is none)."""
        document = self.document
        count = len(document)
        current = self.window.script_panel.current_block_id
        start = document.index_of(current) + 1 if current else 0
        for step in range(count):
            block = document.block_at((start + step) % count)
            if test(document, block):
                self.window.script_panel.set_current(block.id)
                return block.id
        self._say(f"No {label} in the script")
        return ""

    def _on_now_playing(self, block_id: str) -> None:
        self.window.script_panel.set_playing(block_id)
        self._update_actions()

    def _update_actions(self) -> None:
        playback = self.window.playback
        self.pause_action.setEnabled(playback.is_playing)
        self.pause_action.setText("Resume" if playback.is_paused else "Pause")
        running = self.runs.is_running
        self.previous_action.setEnabled(running)
        self.next_action.setEnabled(running)

    # --- chapters ---------------------------------------------------------------------

    def jump_to(self, block_id: str) -> None:
        if self.document.has_block(block_id):
            self.window.script_panel.set_current(block_id)

    def current_chapter(self) -> ChapterSpan | None:
        """The chapter of the current block (None for an empty script)."""
        current = self.window.script_panel.current_block_id
        if not current:
            return None
        if self.chapters.refresh_pending:
            self.chapters.refresh()
        return span_of(self.chapters.spans, self.document.index_of(current))

    def play_current_chapter(self) -> None:
        span = self.current_chapter()
        if span is not None:
            self.play_chapter(span.first_block_id)

    def play_chapter(self, block_id: str) -> None:
        """Play the chapter starting at ``block_id``, with the playhead."""
        ids = self.chapters.chapter_block_ids(block_id)
        if not ids or not self.runs.play_blocks(ids):
            self._say("This chapter has no take yet; generate it first", 4000)

    def generate_chapter(self, block_id: str) -> None:
        """Generate the blocks of the chapter starting at ``block_id`` that need a take
        (locked ones are skipped, as by Generate all)."""
        ids = [i for i in self.chapters.chapter_block_ids(block_id)
               if self.document.needs_take(self.document.block(i))]
        if not ids:
            self._say("Every block of this chapter has an up-to-date take", 4000)
            return
        self.window.generate_blocks(ids)

    def select_chapter(self, block_id: str) -> None:
        self.window.script_panel.select_chapter(block_id)

    def ask_export_path(self, suggested: Path) -> Path | None:
        """Ask where to export a chapter (a save dialog); None when cancelled."""
        path, _ = QFileDialog.getSaveFileName(self.window, "Export chapter", str(suggested))
        return Path(path) if path else None

    def export_chapter(self, block_id: str) -> asyncio.Task[None] | None:
        """Export the chapter starting at ``block_id`` alone, with this project's last
        export preset, to a file the user names; returns the running export."""
        exporter = self.window.exporter
        span = self.chapters.span_of(block_id)
        if exporter is None or span is None:
            return None
        if exporter.busy:
            self._say("An export is running; wait for it to finish", 5000)
            return None
        ids = self.chapters.chapter_block_ids(block_id)
        if not any(self.document.block(i).selected_take is not None for i in ids):
            self._say("This chapter has no take yet; generate it first", 5000)
            return None
        settings = exporter.preset(exporter.last_preset())
        last = exporter.last_path()
        folder = last.parent if last is not None else Path.home()
        name = f"{exporter.default_name()} - {safe_name(span.title)}"
        path = self.ask_export_path(folder / f"{name}{settings.file_format.extension}")
        if path is None:
            return None
        if not path.suffix:
            path = path.with_suffix(settings.file_format.extension)

        async def run() -> None:
            try:
                result = await exporter.export_blocks(path, ids, settings)
            except ExportCancelled:
                return
            except (ExportError, SettingsError, ValueError, OSError) as exc:
                self.window.show_error("Export chapter", f"Could not export:\n{exc}")
                return
            self.window._on_exported(result)

        self._export_task = asyncio.ensure_future(run())
        return self._export_task
