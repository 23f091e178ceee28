"""The main window: menus, toolbar, the panels' places and the status bar.

It receives its collaborators (document, services, settings, and the panels
:func:`~studio.ui.window.panels.build_panels` made) from ``app.py``, lays the panels
out and routes their requests; it builds none of them itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QGuiApplication,
    QKeySequence,
    QUndoGroup,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QDoubleSpinBox,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QToolBar,
    QWidget,
)

from studio.config import Settings
from studio.project.books import BookImportError
from studio.project.cast import clean_speaker
from studio.project.casting import summarize
from studio.project.export_settings import (
    ExportCancelled,
    ExportError,
    ExportSettings,
    SettingsError,
)
from studio.project.model import Block
from studio.project.script import (
    ScriptBlocks,
    ScriptError,
    ScriptRead,
    clean_script_text,
    split_script,
)
from studio.services.catalog import pick_voice
from studio.services.document import ScriptDocument
from studio.services.editor import ScriptEditor, count_blocks
from studio.services.export import ExportService
from studio.services.generation import Estimate, GenerationService
from studio.services.playback import PlaybackService
from studio.services.script_playback import ScriptPlayback
from studio.services.voices import VoiceCatalog
from studio.ui.importing.adding import add_book
from studio.ui.importing.import_dialog import ImportDialog, file_filter
from studio.ui.widgets.actions import make_action
from studio.ui.window.batch_confirm import confirm_batch, format_minutes
from studio.ui.window.cast_find import CastAndFind
from studio.ui.window.generation_progress import GenerationProgress
from studio.ui.window.panels import Panels
from studio.ui.window.review_actions import ReviewActions, locked_note, split_locked

if TYPE_CHECKING:
    from studio.ui.export.export_dialog import ExportDialog

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """The studio's window.

    Attributes:
        script_panel: the :class:`ScriptPanel`, in the centre.
        takes_panel: the :class:`TakesPanel` (take history of the current block), in
            ``takes_dock``.
        editor_panel: the :class:`EditorPanel`, in ``editor_dock``.
        voices_dock, dictionaries_dock: the Voices and Dictionaries panels' docks,
            tabbed with the Takes panel.
        file_menu: the File menu (``app.py`` adds the project actions to it).
        close_guard: asked before the window closes; returns False to stay open.
        editor: the :class:`ScriptEditor` that block edits go through (undoable).
        script_playback: plays blocks' takes (Play, Play all).
        undo_action, redo_action: the Edit menu's, from the editor's undo stack.
        chapters_panel, chapters_dock: the Chapters panel and its dock (left).
        review: the Review menu, the playhead and the chapters' requests
            (:class:`~studio.ui.window.review_actions.ReviewActions`).
        backend_label, progress_bar, notice_label, credits_label: status bar parts.

    Signals:
        settings_requested(): the user asked for the Settings dialog (``app.py``
            owns settings and the backend, so it handles this).
        export_finished(str path): an export was written (its first audio file).
        pause_changed(float seconds): the pause between blocks was changed.
    """

    settings_requested = Signal()
    export_finished = Signal(str)
    pause_changed = Signal(float)

    def __init__(
        self,
        document: ScriptDocument,
        editor: ScriptEditor,
        catalog: VoiceCatalog,
        playback: PlaybackService,
        generation: GenerationService,
        settings: Settings,
        panels: Panels,
        script_playback: ScriptPlayback,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.setWindowTitle("Cartesia Studio")
        self.document = document
        self.editor = editor
        self.catalog = catalog
        self.playback = playback
        self.generation = generation
        self.settings = settings
        self.session_credits = 0
        self.project_credits = 0
        self._free: bool | None = None  # the backend charges nothing (None: not known yet)
        self.script_playback = script_playback
        script_playback.failed.connect(
            lambda message: self.statusBar().showMessage(f"Cannot play this take: {message}",
                                                         8000))
        self.last_export: Path | None = None
        self.exporter: ExportService | None = None
        self._export_dialog: ExportDialog | None = None
        self.discard_confirmed = False
        self.close_guard: Callable[[QWidget], bool] | None = None

        self.script_panel = panels.script
        self.setCentralWidget(self.script_panel)
        self.takes_panel = panels.takes
        self.takes_panel.select_requested.connect(editor.select_take)
        self.takes_panel.delete_requested.connect(editor.delete_take)
        self.takes_panel.rename_requested.connect(editor.rename_take)
        self.takes_panel.star_requested.connect(editor.set_starred)
        self.script_panel.current_block_changed.connect(self.takes_panel.set_block)
        self._build_actions()
        self._build_status_bar()
        self.takes_dock = self.add_dock("Takes", self.takes_panel,
                                        Qt.DockWidgetArea.RightDockWidgetArea)
        self.editor_panel = panels.editor
        self.editor_dock = self.add_dock("Editor", self.editor_panel,
                                         Qt.DockWidgetArea.BottomDockWidgetArea)
        # The right-hand panels (Takes, Voices: lists) keep the window's full height;
        # the Editor sits under the script.
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.script_panel.current_block_changed.connect(self.editor_panel.set_block)
        # The Editor's actions in a menu too (their shortcuts act while the panel has focus).
        self.audio_menu = QMenu("&Audio", self)
        for action in self.editor_panel.menu_actions:
            if action is None:
                self.audio_menu.addSeparator()
            else:
                self.audio_menu.addAction(action)
        self.menuBar().insertMenu(self.view_menu.menuAction(), self.audio_menu)

        self.script_panel.generate_requested.connect(self._on_generate_block)
        self.script_panel.generate_selection_requested.connect(self._generate)
        self.script_panel.play_requested.connect(self._on_play_block)
        self.script_panel.remove_requested.connect(self._on_remove_block)
        self.script_panel.move_requested.connect(self._on_move_block)
        self.script_panel.chapter_requested.connect(self.ask_chapter_title)
        self.script_panel.chapter_removed.connect(self.remove_chapter)
        generation.job_started.connect(self._on_job_started)
        generation.job_progressed.connect(self._on_job_progressed)
        generation.job_finished.connect(self._on_job_finished)
        generation.job_reused.connect(self._on_job_reused)
        generation.job_failed.connect(self._on_job_failed)
        generation.busy_changed.connect(self._on_busy_changed)
        generation.listening_stopped.connect(lambda: self.statusBar().showMessage(
            "Generating ran two minutes ahead of the speakers, so playing along stopped; "
            "the takes are still made (Play all plays them)", 15000))
        playback.notice_changed.connect(self.show_audio_notice)
        playback.stuttered.connect(self._on_playback_stuttered)
        playback.started.connect(lambda: self.stop_action.setEnabled(True))
        playback.stopped.connect(lambda: self.stop_action.setEnabled(self.generation.busy))
        catalog.voices_changed.connect(self._on_voices_changed)
        catalog.load_failed.connect(lambda msg: self.statusBar().showMessage(msg, 10000))
        for signal in (document.block_inserted, document.block_removed, document.block_moved,
                       document.block_changed, document.take_added, document.take_removed,
                       document.take_changed, document.take_selected, document.reset,
                       document.pronunciation_changed, document.blocks_inserted,
                       document.blocks_removed, document.cast_changed):
            signal.connect(self._on_document_changed)
        # However a block goes (removed, or its adding undone), its job goes with it.
        document.block_removed.connect(lambda _index, block_id: generation.cancel(block_id))
        document.blocks_removed.connect(
            lambda removed: [generation.cancel(block_id) for _index, block_id in removed])
        self.script_panel.current_block_changed.connect(self._update_actions)
        self._update_actions()
        self.setMinimumSize(960, 560)
        self.resize(1240, 760)  # fits a 1280×800 screen with its title bar and panel
        self.resizeDocks([self.takes_dock], [300], Qt.Orientation.Horizontal)
        self.resizeDocks([self.editor_dock], [260], Qt.Orientation.Vertical)
        self.voices_dock = self.add_dock("Voices", panels.voices,
                                         Qt.DockWidgetArea.RightDockWidgetArea,
                                         tab_with=self.takes_dock)
        self.dictionaries_dock = self.add_dock("Dictionaries", panels.dictionaries,
                                               Qt.DockWidgetArea.RightDockWidgetArea,
                                               tab_with=self.takes_dock)
        self.add_undo_scope(panels.dictionaries, panels.dictionaries.undo_stack)
        self.cast_find = CastAndFind(self, panels.cast)
        self._install_review(panels)

    def _install_review(self, panels: Panels) -> None:
        """The Chapters dock, the Review menu and the playhead (review_actions.py)."""
        self.chapters_panel = panels.chapters
        self.review = ReviewActions(self, panels.chapters)
        self.chapters_dock = self.review.dock

    # --- construction ----------------------------------------------------------

    def add_dock(self, title: str, panel: QWidget, area: Qt.DockWidgetArea,
                 tab_with: QDockWidget | None = None) -> QDockWidget:
        """Put ``panel`` in a movable, closable dock named ``title`` (tabbed with
        ``tab_with`` if given), with a "``title`` panel" toggle in the View menu."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{title}Dock")
        dock.setWidget(panel)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        if tab_with is not None:
            self.tabifyDockWidget(tab_with, dock)
            tab_with.raise_()
        dock.toggleViewAction().setText(f"{title} panel")
        self.view_menu.addAction(dock.toggleViewAction())
        return dock

    def add_undo_scope(self, widget: QWidget, stack: QUndoStack) -> None:
        """Make Edit → Undo/Redo (and their keys) act on ``stack`` while the keyboard
        focus is inside ``widget``, and on the script's history elsewhere."""
        self.undo_group.addStack(stack)
        if not self._undo_scopes:
            app = QApplication.instance()
            assert isinstance(app, QApplication)
            app.focusChanged.connect(self._on_focus_changed)
        self._undo_scopes.append((widget, stack))

    def _on_focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        window = new.window() if new is not None else None
        if window is not self and not (isinstance(window, QDockWidget)
                                       and window.parentWidget() is self):
            return  # a dialog or another window: keep the history it was opened from
        assert new is not None
        stack = next((stack for widget, stack in self._undo_scopes
                      if new is widget or widget.isAncestorOf(new)), self.editor.stack)
        self.undo_group.setActiveStack(stack)

    def _action(self, text: str, slot: Callable[[], object],
                shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
                tip: str = "") -> QAction:
        return make_action(self, text, slot, shortcut, tip)

    def _build_actions(self) -> None:
        self.add_action = self._action("Add block", self.add_block, "Ctrl+Return",
                                       "Add a block after the current one")
        self.import_action = self._action("Import script…", self._on_import_script, "Ctrl+I",
                                          "Add a book or script (text, Markdown, DOCX, EPUB, "
                                          "SRT/VTT, CSV) as blocks, with chapters and speakers")
        self.paste_action = self._action("Paste as blocks", self.paste_script, "Ctrl+Shift+V",
                                         "Add the clipboard's paragraphs as blocks")
        self.generate_action = self._action(
            "Generate block", self.generate_current, "Ctrl+G",
            "Generate the current block (reuses an identical earlier take at no cost)")
        self.new_take_action = self._action(
            "New take", self.new_take, "Ctrl+Alt+G",
            "Generate a fresh take of the current block even if an identical one exists")
        self.generate_all_action = self._action("Generate all", self.generate_all, "Ctrl+Shift+G",
                                                "Generate every block that has no take yet")
        self.regenerate_all_action = self._action("Regenerate all", self.regenerate_all, None,
                                                  "Generate a new take of every block")
        self.stop_action = self._action("Stop", self.stop, "Escape",
                                        "Stop generating and playing")
        self.stop_action.setEnabled(False)
        self.play_action = self._action("Play", self.play_current, "Ctrl+P",
                                        "Play the current block's selected take")
        self.play_all_action = self._action("Play all", self.play_all, "Ctrl+Shift+P",
                                            "Play the selected takes in order")
        self.export_action = self._action(
            "Export…", self._on_export, "Ctrl+E",
            "Export the selected takes: format, loudness, chapters, captions and tags")
        self.chapter_action = self._action(
            "Start chapter here…", lambda: self.ask_chapter_title(self._current_block_id()),
            None, "The current block starts a chapter (M4B/MP3 chapters, a file per chapter)")
        self.remove_chapter_action = self._action(
            "Remove chapter mark", lambda: self.remove_chapter(self._current_block_id()), None,
            "The current block no longer starts a chapter")
        self.settings_action = self._action("Settings…", self.settings_requested.emit,
                                            QKeySequence.StandardKey.Preferences)
        self.quit_action = self._action("Quit", self.close, QKeySequence.StandardKey.Quit)
        self.about_action = self._action("About Cartesia Studio", self._on_about)

        file_menu = self.file_menu = self.menuBar().addMenu("&File")
        for action in (self.import_action, self.export_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        # Edit → Undo acts on the script, or on a panel's own history while the focus
        # is in that panel (add_undo_scope): one group, its active stack follows focus.
        self.undo_group = QUndoGroup(self)
        self.undo_group.addStack(self.editor.stack)
        self.undo_group.setActiveStack(self.editor.stack)
        self._undo_scopes: list[tuple[QWidget, QUndoStack]] = []
        self.undo_action = self.undo_group.createUndoAction(self)
        self.undo_action.setShortcuts(QKeySequence.StandardKey.Undo)
        self.redo_action = self.undo_group.createRedoAction(self)
        redo_keys = QKeySequence.keyBindings(QKeySequence.StandardKey.Redo)
        redo_keys += [k for k in (QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y"))
                      if k not in redo_keys]  # both, whatever the desktop's key scheme
        self.redo_action.setShortcuts(redo_keys)
        edit_menu = self.edit_menu = self.menuBar().addMenu("&Edit")
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)
        script_menu = self.menuBar().addMenu("&Script")
        for action in (self.add_action, self.paste_action, None, self.generate_action,
                       self.new_take_action, self.generate_all_action,
                       self.regenerate_all_action, self.stop_action, None, self.play_action,
                       self.play_all_action, None, self.chapter_action,
                       self.remove_chapter_action):
            if action is None:
                script_menu.addSeparator()
            else:
                script_menu.addAction(action)
        self.view_menu = self.menuBar().addMenu("&View")
        self.menuBar().addMenu("&Help").addAction(self.about_action)

        toolbar = QToolBar("Main")
        toolbar.setObjectName("MainToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in (self.add_action, None, self.generate_action, self.generate_all_action,
                       self.stop_action, None, self.play_action, self.play_all_action, None):
            if action is None:
                toolbar.addSeparator()
            else:
                toolbar.addAction(action)
        toolbar.addWidget(QLabel(" Pause between blocks "))
        self.pause_spin = QDoubleSpinBox()
        self.pause_spin.setRange(0.0, 10.0)
        self.pause_spin.setSingleStep(0.1)
        self.pause_spin.setSuffix(" s")
        self.pause_spin.setValue(self.settings.pause_seconds)
        self.pause_spin.setToolTip("Silence between blocks when playing all and exporting")
        self.pause_spin.valueChanged.connect(self._on_pause_changed)
        toolbar.addWidget(self.pause_spin)
        toolbar.addSeparator()
        toolbar.addAction(self.export_action)
        self.addToolBar(toolbar)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.backend_label = QLabel("Connecting…")
        self.backend_label.setObjectName("BackendLabel")
        self.notice_label = QLabel()
        self.notice_label.setObjectName("AudioNotice")
        self.notice_label.setVisible(False)
        self.credits_label = QLabel()
        self.credits_label.setObjectName("CreditsLabel")
        self.estimate_label = QLabel()
        self.estimate_label.setObjectName("EstimateLabel")
        self.estimate_label.setVisible(False)
        self._estimate_timer = QTimer(self)
        self._estimate_timer.setSingleShot(True)
        self._estimate_timer.setInterval(300)
        self._estimate_timer.timeout.connect(self.update_estimate)
        self.generation_progress = GenerationProgress(self.generation)
        self.generation_progress.stop_requested.connect(self.stop)
        self.progress_bar = self.generation_progress.bar
        bar.addPermanentWidget(self.notice_label)
        bar.addPermanentWidget(self.generation_progress)
        bar.addPermanentWidget(self.estimate_label)
        bar.addPermanentWidget(self.credits_label)
        bar.addPermanentWidget(self.backend_label)
        self._update_credits()

    # --- backend state (called by app.py) ------------------------------------------

    def set_backend_status(self, label: str, free: bool | None = None, error: bool = False) -> None:
        """Show the backend in the status bar: ``Offline engine``, ``Cartesia cloud``, or
        a connecting/error message."""
        self.backend_label.setText(label)
        self.backend_label.setProperty("error", error)
        self.backend_label.style().unpolish(self.backend_label)
        self.backend_label.style().polish(self.backend_label)
        self._free = free
        self._update_credits()
        self._estimate_timer.start()

    def update_estimate(self) -> None:
        """Say before any paid Generate all what it would cost (Cartesia: about one
        credit per character); hidden on the free offline engine."""
        if not self.generation.ready or self._free:
            self.estimate_label.setVisible(False)
            return
        pending = [b.id for b in self.document.blocks if self.document.needs_take(b)]
        estimate = self.generation.estimate(pending)
        self.estimate_label.setVisible(not estimate.free and estimate.generate > 0)
        reuse = f", {estimate.reuse} reused" if estimate.reuse else ""
        self.estimate_label.setText(
            f"Generate all: about {estimate.credits:,} credits "
            f"({count_blocks(estimate.generate)}{reuse}) · "
            f"{format_minutes(estimate.audio_seconds)}")
        self.estimate_label.setToolTip(
            "What Generate all would cost now on Cartesia's cloud (about 1 credit per character); "
            "blocks whose take is reused cost nothing.")

    def set_project_credits(self, credits: int) -> None:
        """Show ``credits`` as the open project's total spent."""
        self.project_credits = credits
        self._update_credits()

    def _update_credits(self) -> None:
        project = f"project {self.project_credits:,}"
        if self._free:
            self.credits_label.setText(f"Credits: free on the offline engine · {project}")
        else:
            self.credits_label.setText(f"Credits: session {self.session_credits:,} · {project}")
        self.credits_label.setToolTip(
            "Credits spent this session and in this project (deleted takes included). "
            "Cartesia charges about 1 credit per character of text.")

    # --- script actions -------------------------------------------------------------

    def _new_block_fields(self) -> dict[str, object]:
        current = self._current_block()
        if current is not None:
            return {"voice_id": current.voice_id, "model_id": current.model_id,
                    "language": current.language}
        voice = pick_voice(self.catalog.voices, "en", self.settings.default_voice_id)
        return {"voice_id": voice.id if voice else "", "model_id": self.settings.default_model,
                "language": voice.language if voice else "en"}

    def _insert_index(self) -> int | None:
        current = self.script_panel.current_block_id
        return self.document.index_of(current) + 1 if current else None

    def add_block(self, text: str = "") -> str:
        """Add a block after the current one (voice and model copied from it)."""
        block = self.editor.add_block(self._insert_index(), text=text, **self._new_block_fields())
        self.script_panel.focus_block(block.id)
        return block.id

    def add_script_text(self, text: str, undo_text: str = "", source: str = "") -> int:
        """Add each block of ``text`` (the first goes into the current block if that
        is empty) as one undo step named ``undo_text`` (default "Add N blocks");
        returns the number of blocks. Control characters are removed and paragraphs
        too long for one block cut (:func:`split_script`); with a ``source``, the
        status bar says how many blocks came from it, with those notices."""
        try:
            read = clean_script_text(text)
        except ScriptError as exc:
            QMessageBox.warning(self, "Add blocks", str(exc))
            return 0
        return self._add_blocks(read, undo_text, source)

    def _add_blocks(self, read: ScriptRead, undo_text: str, source: str) -> int:
        script = split_script(read.text, speakers=True)
        paragraphs = list(script.blocks)
        added: list[Block] = []
        if paragraphs:
            with self.editor.macro(undo_text or f"Add {count_blocks(len(paragraphs))}"):
                items = self._spoken_blocks(script)
                current = self._current_block()
                if current is not None and not current.text.strip() and not current.locked:
                    self.editor.update_block(current.id, **items[0])
                    items = items[1:]
                added = self.editor.add_blocks(items, self._insert_index())
        if added:
            self.script_panel.focus_block(added[-1].id)
        notices = read.notices + script.notices
        if source and (paragraphs or notices):
            message = " ".join((f"Added {count_blocks(len(paragraphs))} from {source}.",
                                *notices))
            self.statusBar().showMessage(message, 15000 if notices else 4000)
        return len(paragraphs)

    def _spoken_blocks(self, script: ScriptBlocks) -> list[dict[str, object]]:
        """Block fields for each block of ``script``: a block naming a speaker gets
        them, with the speaker's cast voice and delivery (or those of their first
        block, if not cast), and no voice when they are new to the script, so the Cast
        panel and Generate all list them for casting; the others speak as the current
        block does."""
        fields = self._new_block_fields()
        known = {row.speaker: row.entry for row in summarize(self.document.blocks,
                                                             self.document.cast)}
        items: list[dict[str, object]] = []
        for text, speaker in zip(script.blocks, script.speakers, strict=True):
            if speaker is None:
                items.append({**fields, "text": text})
                continue
            speaker = clean_speaker(speaker)
            entry = known.get(speaker)
            voice = entry.values() if entry is not None else {"voice_id": ""}
            items.append({**fields, **voice, "text": text, "speaker": speaker})
        return items

    def paste_script(self) -> None:
        self.add_script_text(QGuiApplication.clipboard().text(), "Paste blocks",
                             "the clipboard")

    def _on_import_script(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import script", "", file_filter())
        if path:
            self.import_script(Path(path))

    def import_script(self, path: Path) -> ImportDialog:
        """Open the Import dialog on ``path`` (read in a worker, then previewed); its
        Import adds the book as one undo step (:func:`add_book`). Returns the dialog."""
        dialog = ImportDialog(path, self._current_block() is not None, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._add_imported(dialog))
        dialog.open()
        dialog.start()
        return dialog

    def _add_imported(self, dialog: ImportDialog) -> None:
        try:
            book = dialog.book_to_add()
        except BookImportError as exc:
            QMessageBox.warning(self, "Import script", str(exc))
            return
        index = self._insert_index() if dialog.after_current else None
        fields = self._new_block_fields()
        added = add_book(self.editor, book, index, fields, f"Import {dialog.path.name}")
        self.statusBar().showMessage(added.summary(), 15000)

    def _current_block(self) -> Block | None:
        block_id = self.script_panel.current_block_id
        return self.document.block(block_id) if block_id else None

    def _on_remove_block(self, block_id: str) -> None:
        # No question first: Undo brings the block back with its takes.
        number = self.document.index_of(block_id) + 1
        self.editor.remove_block(block_id)
        undo_keys = self.undo_action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        self.statusBar().showMessage(f"Removed block #{number} (Undo: {undo_keys})", 6000)

    def _on_move_block(self, block_id: str, delta: int) -> None:
        self.editor.move_block(block_id, self.document.index_of(block_id) + delta)

    # --- generation -------------------------------------------------------------------

    def generate_blocks(self, block_ids: list[str], force: bool = False) -> None:
        """Generate ``block_ids`` (asking first above the cost threshold); locked blocks
        are skipped and counted in the status bar."""
        self._generate(block_ids, force)

    def _generate(self, block_ids: list[str], force: bool = False) -> None:
        block_ids, locked = split_locked(self.document, block_ids)
        skipped = locked_note(len(locked))
        if not block_ids:
            if len(locked) == 1:
                self.statusBar().showMessage(
                    f"Block #{self.document.index_of(locked[0]) + 1} is locked; unlock it "
                    "(Ctrl+Shift+L) to generate it", 6000)
            else:
                self.statusBar().showMessage(
                    f"Nothing to generate{f' ({skipped})' if skipped else ''}", 4000)
            return
        if not self.generation.ready:
            self.statusBar().showMessage(
                "The backend is still starting; try again in a moment", 5000
            )
            return
        estimate = self.generation.estimate(block_ids, force)
        if not self.confirm_cost(estimate):
            self.statusBar().showMessage("Nothing generated", 4000)
            return
        for block_id in block_ids:
            self.script_panel.set_block_status(block_id, "Queued")
        cost = "free" if estimate.free else f"about {estimate.credits:,} credits"
        reuse = f"; {count_blocks(estimate.reuse)} reuse earlier takes" if estimate.reuse else ""
        skipped = f"; {skipped}" if skipped else ""
        if estimate.generate:
            self.statusBar().showMessage(
                f"Generating {count_blocks(estimate.generate)} ({cost}){reuse}{skipped}", 6000)
        elif skipped:
            self.statusBar().showMessage(f"Reusing earlier takes{skipped}", 6000)
        self.generation.generate(
            block_ids,
            play=self.settings.play_while_generating,
            pause_seconds=self.pause_spin.value(),
            force=force,
        )

    def confirm_cost(self, estimate: Estimate) -> bool:
        """Show the estimate (credits, blocks generated and reused, audio minutes) and
        ask before sending a batch (:func:`batch_confirm.needs_question`: a paid batch
        of several blocks, one block over the user's threshold, a large free batch);
        True to go ahead."""
        return confirm_batch(self, estimate, self.settings.credit_confirm_threshold,
                             self.generation.gate.limit)

    def new_take(self) -> None:
        """Generate a fresh take of the current block, bypassing the take cache."""
        if self.script_panel.current_block_id:
            self._generate([self.script_panel.current_block_id], force=True)

    def generate_current(self) -> None:
        if self.script_panel.current_block_id:
            self._generate([self.script_panel.current_block_id])

    def _on_generate_block(self, block_id: str) -> None:
        self.script_panel.set_current(block_id)
        self._generate([block_id])

    def generate_all(self) -> None:
        """Generate the blocks that have text and no take yet, or whose take is out of
        date (text, voice or delivery changed since); first, speakers not cast yet are
        named (:meth:`CastAndFind.confirm_casting`)."""
        block_ids = [b.id for b in self.document.blocks if self.document.needs_take(b)]
        if self.cast_find.confirm_casting(block_ids):
            self._generate(block_ids)

    def regenerate_all(self) -> None:
        self._generate([b.id for b in self.document.blocks if b.text.strip()], force=True)

    def stop(self) -> None:
        """Stop generating and playing; finished takes are kept."""
        busy = self.generation.busy
        self.generation.stop()
        self.playback.stop()
        self.statusBar().showMessage("Stopped generating" if busy else "Stopped", 4000)

    def _on_job_started(self, block_id: str) -> None:
        self.script_panel.set_generating(block_id, True)

    def _on_job_progressed(self, block_id: str, fraction: float) -> None:
        # A block removed while generating is ignored by the panel.
        self.script_panel.set_block_status(block_id, f"Generating… {fraction:.0%}")

    def _on_job_finished(self, block_id: str, take_id: str) -> None:
        take = self.document.take(block_id, take_id)
        self.session_credits += take.credits
        self._update_credits()
        self.script_panel.set_generating(block_id, False)
        self.script_panel.set_block_status(block_id, f"{take.name} ready", take_id=take.id)

    def _on_job_reused(self, block_id: str, take_id: str) -> None:
        take = self.document.take(block_id, take_id)
        self.script_panel.set_generating(block_id, False)
        self.script_panel.set_block_status(
            block_id, f"{take.name}: reused, identical to an earlier take (no credits). "
            "New take (Ctrl+Alt+G) makes a fresh one.", take_id=take.id)

    def _on_playback_stuttered(self, count: int) -> None:
        times = "once" if count == 1 else f"{count} times"
        self.statusBar().showMessage(
            f"Playback stuttered {times} — raise the output buffer in Settings", 15000)

    def _on_job_failed(self, block_id: str, message: str) -> None:
        if not self.document.has_block(block_id):
            return
        self.script_panel.set_generating(block_id, False)
        if message == "stopped":
            self.script_panel.set_block_status(block_id, "Stopped")
            return
        self.script_panel.set_block_status(block_id, f"Failed: {message}", error=True)
        number = self.document.index_of(block_id) + 1
        self.statusBar().showMessage(f"Block #{number} failed: {message}", 15000)
        self.script_panel.scroll_to_block(block_id)

    def _on_busy_changed(self, busy: bool) -> None:
        if not busy and self.statusBar().currentMessage().startswith("Generating"):
            self.statusBar().clearMessage()  # it said what was starting; that is over
        self.stop_action.setEnabled(busy or self.playback.is_playing)

    # --- playback -----------------------------------------------------------------------

    def _on_play_block(self, block_id: str) -> None:
        if not self.script_playback.play_block(block_id):
            self.statusBar().showMessage("This block has no take yet; generate it first", 4000)

    def play_current(self) -> None:
        if self.script_panel.current_block_id:
            self._on_play_block(self.script_panel.current_block_id)

    def play_all(self) -> None:
        """Play the selected takes in order with the toolbar's pause between them."""
        if not self.script_playback.play_all():
            self.statusBar().showMessage("No block has a take yet", 4000)

    def show_audio_notice(self, notice: str) -> None:
        """Say in the status bar why there is no sound ("" hides the notice)."""
        self.notice_label.setText(f"No sound: {notice}" if notice else "")
        self.notice_label.setToolTip(notice)
        self.notice_label.setVisible(bool(notice))

    def _on_voices_changed(self) -> None:
        """Blocks still without a voice get the default one."""
        voice = pick_voice(self.catalog.voices, "en", self.settings.default_voice_id)
        if voice is None:
            return
        for block in self.document.blocks:
            if not block.voice_id:
                self.document.update_block(block.id, voice_id=voice.id, language=voice.language)

    def _on_pause_changed(self, value: float) -> None:
        self.settings.pause_seconds = round(value, 3)
        self.pause_changed.emit(round(value, 3))

    # --- export ---------------------------------------------------------------------------

    def set_exporter(self, exporter: ExportService) -> None:
        """The service File → Export… runs through (``app.py`` builds it)."""
        self.exporter = exporter

    @property
    def export_dialog(self) -> ExportDialog:
        """The Export dialog (made on first use, then kept with its settings)."""
        if self._export_dialog is None:
            assert self.exporter is not None, "app.py sets the exporter"
            # Imported here: the dialog brings the export machinery (FFmpeg's libraries,
            # mutagen, the caption writers), which start-up does not need.
            from studio.ui.export.export_dialog import ExportDialog

            self._export_dialog = ExportDialog(self.exporter, self)
            self._export_dialog.exported.connect(self._on_exported)
        return self._export_dialog

    def _on_export(self) -> None:
        if not self.document.selected_takes():
            self.statusBar().showMessage("No block has a take yet; generate first", 5000)
            return
        dialog = self.export_dialog
        dialog.refresh_program()
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    def _on_exported(self, result: object) -> None:
        files = getattr(result, "files", ())
        if not files:
            return
        first = files[0]
        self.last_export = first.path
        more = f" and {len(files) - 1} more" if len(files) > 1 else ""
        self.statusBar().showMessage(f"Exported {first.path.name}{more}", 8000)
        self.export_finished.emit(str(first.path))

    async def export_to(self, path: Path, settings: ExportSettings | None = None) -> bool:
        """Export the selected takes to ``path`` with ``settings`` (default: 16-bit WAV at
        the takes' sample rate, levels untouched), off the UI thread, without the dialog.
        Returns whether the file was written; failures are shown."""
        if self.exporter is None:
            return False
        try:
            result = await self.exporter.export_to(path, settings)
        except ExportCancelled:
            return False
        except (ExportError, SettingsError, ValueError, OSError) as exc:
            self.show_error("Export", f"Could not export:\n{exc}")
            return False
        self._on_exported(result)
        return True

    # --- chapters ----------------------------------------------------------------------

    def _current_block_id(self) -> str:
        block = self._current_block()
        return block.id if block is not None else ""

    def ask_chapter_title(self, block_id: str) -> None:
        """Ask for a chapter title and make ``block_id`` start that chapter (one undo
        step); a block that starts one already gets its title changed."""
        if not block_id or not self.document.has_block(block_id):
            return
        block = self.document.block(block_id)
        number = self.document.index_of(block_id) + 1
        default = block.chapter or f"Chapter {self._chapters_before(block_id) + 1}"
        title, ok = QInputDialog.getText(self, "Chapter",
                                         f"Title of the chapter that starts at block {number}:",
                                         text=default)
        if ok:
            self.set_chapter(block_id, " ".join(title.split()) or default)

    def set_chapter(self, block_id: str, title: str | None) -> None:
        """Block ``block_id`` starts chapter ``title`` (None: no chapter); undoable."""
        self.editor.update_block(block_id, chapter=title)

    def remove_chapter(self, block_id: str) -> None:
        if block_id and self.document.has_block(block_id):
            self.set_chapter(block_id, None)

    def _chapters_before(self, block_id: str) -> int:
        count = 0
        for block in self.document.blocks:
            if block.id == block_id:
                break
            count += block.chapter is not None
        return count

    def show_error(self, title: str, message: str) -> QMessageBox:
        """Show an error without blocking (safe from coroutines) and return the box."""
        box = QMessageBox(QMessageBox.Icon.Critical, title, message,
                          QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.statusBar().showMessage(message.replace("\n", " "), 15000)
        return box

    def _on_about(self) -> None:
        QMessageBox.about(
            self, "About Cartesia Studio",
            "<b>Cartesia Studio</b><br>A voiceover studio for Cartesia's voice API.<br>"
            "With no API key it runs on the built-in offline engine (espeak-ng).",
        )

    def _on_document_changed(self, *_args: object) -> None:
        self._update_actions()
        self._estimate_timer.start()

    def _update_actions(self, *_args: object) -> None:
        has_takes = self.document.has_selected_takes()
        for action in (self.play_all_action, self.export_action):
            action.setEnabled(has_takes)
        current = self._current_block()
        self.play_action.setEnabled(current is not None and current.selected_take is not None)
        self.chapter_action.setEnabled(current is not None)
        self.chapter_action.setText("Rename chapter…" if current is not None
                                    and current.chapter is not None else "Start chapter here…")
        self.remove_chapter_action.setEnabled(current is not None and current.chapter is not None)
        self.new_take_action.setEnabled(current is not None and bool(current.text.strip()))

    def closeEvent(self, event: QCloseEvent) -> None:
        # The project saves itself, so closing only asks if writes are failing.
        if (not self.discard_confirmed and self.close_guard is not None
                and not self.close_guard(self)):
            event.ignore()
            return
        self.discard_confirmed = True
        self.generation.stop()
        self.playback.shutdown()
        super().closeEvent(event)

