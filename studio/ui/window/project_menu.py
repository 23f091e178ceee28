"""The File menu's project half: New, Open, Open Recent, Save, Save As, Close; the
window title; and what the user sees when a project file cannot be used.

Projects save themselves (:class:`studio.services.project.ProjectService`), so
"Save" only matters for an untitled project (it asks for a name) or to make sure
everything is written now. Quitting never asks unless a write is failing: the
project, titled or not, opens again next time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMenu, QMessageBox, QWidget

from studio.config import Settings
from studio.project.salvage import recover_copy
from studio.project.store import SUFFIX, ProjectError
from studio.services.generation import GenerationService
from studio.services.project import ProjectService
from studio.services.tasks import TaskGroup
from studio.services.threads import in_thread
from studio.ui.widgets.actions import make_action

log = logging.getLogger(__name__)

FILE_FILTER = f"Cartesia Studio projects (*{SUFFIX});;All files (*)"


class ProjectMenu(QObject):
    """Project actions for one window.

    Attributes:
        new_action, open_action, save_action, save_as_action, close_action: QActions.
        recent_menu: the Open Recent submenu.

    Signals:
        failed(str title, str message): an operation failed; ``message`` is for the user.
    """

    failed = Signal(str, str)

    def __init__(
        self,
        window: QMainWindow,
        project: ProjectService,
        generation: GenerationService,
        settings: Settings,
        save_settings: Callable[[], None],
    ) -> None:
        super().__init__(window)
        self._window = window
        self._project = project
        self._generation = generation
        self._settings = settings
        self._tasks = TaskGroup(what="project menu")  # failures are logged
        self._save_settings = save_settings
        self._busy = False
        self._pending_save_as: Path | None = None
        self._discard = False
        self.recovery_box: QMessageBox | None = None

        def action(text: str, slot: Callable[[], object],
                   shortcut: QKeySequence.StandardKey, tip: str) -> QAction:
            return make_action(window, text, slot, shortcut, tip)

        self.new_action = action("New project", self.new_project, QKeySequence.StandardKey.New,
                                 "Start a new, empty project")
        self.open_action = action("Open project…", self.open_project, QKeySequence.StandardKey.Open,
                                  "Open a .cstudio project")
        self.save_action = action("Save", self.save, QKeySequence.StandardKey.Save,
                                  "Projects save themselves; an untitled one asks for a name")
        self.save_as_action = action("Save as…", self.save_as, QKeySequence.StandardKey.SaveAs,
                                     "Save the project under another name and carry on there")
        self.close_action = action("Close project", self.close_project,
                                   QKeySequence.StandardKey.Close, "Close this project")
        self.recent_menu = QMenu("Open recent", window)
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        project.state_changed.connect(self.update_title)
        project.opened.connect(self._on_opened)
        # Bound methods, not lambdas: Qt drops these connections when this menu goes,
        # so a save failing after the window closed reaches nothing deleted.
        project.save_failed.connect(self._on_save_failed)
        project.save_recovered.connect(self._on_save_recovered)

    def _on_save_failed(self, message: str) -> None:
        self.failed.emit("Saving the project", message)

    def _on_save_recovered(self) -> None:
        self._window.statusBar().showMessage("The project is saved again", 6000)

    def install(self, menu: QMenu) -> None:
        """Put the project actions at the top of the File menu."""
        first = menu.actions()[0] if menu.actions() else None
        for item in (self.new_action, self.open_action, self.recent_menu, None, self.save_action,
                     self.save_as_action, self.close_action, None):
            if item is None:
                menu.insertSeparator(first) if first is not None else menu.addSeparator()
            elif isinstance(item, QMenu):
                menu.insertMenu(first, item) if first is not None else menu.addMenu(item)
            else:
                menu.insertAction(first, item) if first is not None else menu.addAction(item)

    # --- title -----------------------------------------------------------------

    def update_title(self) -> None:
        """``show — Cartesia Studio``, with ``*`` while a change is not in the file yet."""
        where = "" if self._project.untitled or self._project.path is None else \
            f" ({self._project.path.parent})"
        self._window.setWindowTitle(f"{self._project.name}[*]{where} — Cartesia Studio")
        self._window.setWindowModified(self._project.dirty)

    def _on_opened(self, path: str) -> None:
        if not self._project.untitled:
            self._settings.remember_project(path)
        self._settings.last_project = path
        self._save_settings()
        self.update_title()

    # --- startup ---------------------------------------------------------------

    async def start(self) -> None:
        """Open the project that was open last time, or a new untitled one. A last
        project that cannot be opened any more is reported, and a new one starts."""
        last = Path(self._settings.last_project) if self._settings.last_project else None
        if last is not None and last.exists():
            try:
                await self._project.open(last)
                return
            except ProjectError as exc:
                self.failed.emit("Opening the last project", str(exc))
        try:
            await self._project.new()
        except ProjectError as exc:
            self.failed.emit("Starting a project", str(exc))

    # --- actions -----------------------------------------------------------------

    def _ask_keep_untitled(self, verb: str) -> bool:
        """Before an untitled project is closed: an empty one is simply discarded; for
        one with content, save it, discard it, or cancel. Returns False to cancel."""
        if not self._project.untitled:
            return True
        if not self._project.has_content:
            self._discard = True
            return True
        answer = QMessageBox.question(
            self._window, verb,
            "This project has no name yet. Save it before you go on?\n"
            "Discard deletes its script, takes and recordings.",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Cancel:
            return False
        if answer == QMessageBox.StandardButton.Save:
            path = self._ask_path("Save project")
            if path is None:
                return False
            self._pending_save_as = path
        else:
            self._discard = True
        return True

    def _ask_path(self, title: str) -> Path | None:
        start = self._project.path.parent if self._project.path and not self._project.untitled \
            else Path.home()
        name = "voiceover" if self._project.untitled else self._project.name
        path, _ = QFileDialog.getSaveFileName(self._window, title, str(start / f"{name}{SUFFIX}"),
                                              FILE_FILTER)
        if not path:
            return None
        result = Path(path)
        return result if result.name.endswith(SUFFIX) else result.with_name(result.name + SUFFIX)

    def new_project(self) -> None:
        if self._prepare_switch("New project"):
            self._tasks.start(self._switch, None)

    def open_project(self) -> None:
        start = (
            str(self._project.path.parent)
            if self._project.path and not self._project.untitled
            else str(Path.home())
        )
        path, _ = QFileDialog.getOpenFileName(self._window, "Open project", start, FILE_FILTER)
        if path:
            self.open_path(Path(path))

    def open_path(self, path: Path) -> None:
        """Open ``path`` as the user would from the menu (asks about an untitled
        project first; failures are reported, the current project stays)."""
        if self._prepare_switch("Open project"):
            self._tasks.start(self._switch, path)

    def close_project(self) -> None:
        self.new_project()

    def save(self) -> None:
        if self._project.untitled:
            self.save_as()
        else:
            self._tasks.start(self._flush)

    def save_as(self) -> None:
        path = self._ask_path("Save project as")
        if path is not None:
            self._tasks.start(self._save_as, path)

    def _prepare_switch(self, verb: str) -> bool:
        if self._busy:
            return False
        self._pending_save_as = None
        self._discard = False
        if self._generation.busy:
            answer = QMessageBox.question(
                self._window, verb, "Blocks are still generating. Stop them and go on?\n"
                "Takes that already finished are kept.")
            if answer != QMessageBox.StandardButton.Yes:
                return False
        if not self._confirm_unsaved_loss(self._window, verb):
            return False
        return self._ask_keep_untitled(verb)

    async def _switch(self, path: Path | None) -> None:
        """Stop generating, save or discard an untitled project as the user chose,
        then open ``path`` (``None``: a new project)."""
        self._busy = True
        try:
            self._generation.stop()
            await self._generation.wait_idle()
            if self._pending_save_as is not None and not await self._save_as(self._pending_save_as):
                return
            try:
                if path is None:
                    await self._project.new(discard_current=self._discard)
                else:
                    await self._project.open(path, discard_current=self._discard)
            except ProjectError as exc:
                self._report_open_error(exc)
                return
        finally:
            self._busy = False

    async def _flush(self) -> None:
        try:
            await self._project.flush()
        except ProjectError as exc:
            self.failed.emit("Saving the project", str(exc))
            return
        self._window.statusBar().showMessage(f"Saved {self._project.path}", 5000)

    async def _save_as(self, path: Path) -> bool:
        try:
            await self._project.save_as(path)
        except ProjectError as exc:
            self.failed.emit("Save project as", str(exc))
            return False
        self._window.statusBar().showMessage(f"Saved as {path}", 6000)
        return True

    def _report_open_error(self, exc: ProjectError) -> None:
        if exc.kind != "corrupt":
            self.failed.emit("Opening a project", str(exc))
            return
        box = QMessageBox(QMessageBox.Icon.Critical, "Opening a project",
                          f"{exc}\n\nCartesia Studio can copy what is still readable into a new "
                          "project beside it.", QMessageBox.StandardButton.Cancel, self._window)
        recover = box.addButton("Make a recovered copy", QMessageBox.ButtonRole.AcceptRole)
        box.finished.connect(
            lambda _result: self._recover(exc.path) if box.clickedButton() is recover else None)
        box.open()
        self.recovery_box = box

    def _recover(self, path: Path) -> None:
        if not self._prepare_switch("Recover a project"):
            return
        save_as, discard = self._pending_save_as, self._discard

        async def run() -> None:
            try:
                copy, blocks, takes = await in_thread(recover_copy, path)
            except ProjectError as exc:
                self.failed.emit("Recovering a project", str(exc))
                return
            self._window.statusBar().showMessage(
                f"Recovered {blocks} block(s) and {takes} take(s) into {copy.name}", 10000)
            self._pending_save_as, self._discard = save_as, discard
            await self._switch(copy)

        self._tasks.start(run)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        paths = [Path(p) for p in self._settings.recent_projects]
        for path in paths:
            act = self.recent_menu.addAction(f"{path.name}  —  {path.parent}")
            act.setEnabled(path.exists())
            act.triggered.connect(lambda _checked=False, p=path: self.open_path(p))
        if not paths:
            self.recent_menu.addAction("No recent projects").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            clear = self.recent_menu.addAction("Clear the list")
            clear.triggered.connect(self._clear_recent)

    def _clear_recent(self) -> None:
        self._settings.recent_projects = []
        self._save_settings()

    def close_guard(self, parent: QWidget) -> bool:
        """Whether the window may close. Asks only while writes are failing: otherwise
        everything is in the file and the project reopens as it is next time."""
        return self._confirm_unsaved_loss(parent, "Quit Cartesia Studio")

    def _confirm_unsaved_loss(self, parent: QWidget, verb: str) -> bool:
        """While writes fail, leaving the project loses what is not in the file: ask
        (Save as… elsewhere is the way to keep it). True to go ahead."""
        if not self._project.failure:
            return True
        answer = QMessageBox.warning(
            parent, verb,
            f"{self._project.failure}\n\nSome changes are not in the project file yet. Go on "
            "and lose them? (File → Save as… can keep them in another place.)",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Discard

