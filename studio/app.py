"""Start-up and shutdown of the studio: the only place the qasync loop is made.

Wiring only (STYLE.md, after qutebrowser's ``app.py``): build the services and the
window, connect the backend in the background, and take everything down in order
when the application quits.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes.util
import gc
import hashlib
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from qasync import QEventLoop

from studio import __version__
from studio.api.models import Voice
from studio.audio.devices import audio_backend_status
from studio.config import Settings, config_dir, data_dir, load_settings, save_settings
from studio.keystore import KeyStore, KeyStoreError
from studio.project.model import Recording
from studio.project.script import ScriptError
from studio.services.backend import Backend, start_backend
from studio.services.dictionaries import DictionaryError, DictionaryService
from studio.services.document import ScriptDocument
from studio.services.editor import ScriptEditor
from studio.services.editor_audio import EditorAudio
from studio.services.export import ExportService
from studio.services.generation import GenerationService
from studio.services.infill import InfillService
from studio.services.playback import PlaybackService
from studio.services.pro_clone import ProClone
from studio.services.project import ProjectService
from studio.services.render import BlockRenderer
from studio.services.script_playback import ScriptPlayback
from studio.services.threads import in_thread
from studio.services.voice_lab import VoiceLab
from studio.services.voices import VoiceCatalog
from studio.ui.window.main_window import MainWindow
from studio.ui.window.panels import build_panels
from studio.ui.window.project_menu import ProjectMenu
from studio.ui.window.settings_dialog import SettingsDialog
from studio.ui.window.theme import apply_theme

log = logging.getLogger(__name__)


class MainThreadCollector(QObject):
    """Runs Python's cyclic garbage collector on the UI thread only.

    The collector normally runs in whichever thread happens to allocate; collecting
    a Qt object from the offline engine's or the project writer's thread crashes Qt.
    So automatic collection is turned off and a timer collects the young generation
    every second and everything every 20 seconds, always on this thread (the
    approach of Qt's own advice: delete QObjects in the thread they live in).

    :meth:`freeze` (after start-up, and once the first project is open) moves every
    object alive then out of the collector's sight (``gc.freeze``, Python docs: "to
    ignore all objects tracked so far"): the modules, Qt's wrappers and the project's
    blocks are never garbage in a cycle, and scanning them is what made the full
    collection stall the UI thread 80-140 ms every 20 s. Frozen objects are still freed
    when their last reference goes; only a reference cycle among them would be kept.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ticks = 0
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._collect)

    def start(self) -> None:
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        gc.enable()

    def _collect(self) -> None:
        self._ticks += 1
        gc.collect(2 if self._ticks % 20 == 0 else 0)

    def freeze(self) -> None:
        """Collect once, then leave everything alive now out of later collections."""
        gc.collect()
        gc.freeze()


class Studio(QObject):
    """Owns the services, the window and the backend for one run of the app.

    Collaborators that touch the outside world come in through the constructor, so
    tests swap them: ``backend_factory`` (default :func:`start_backend`),
    ``player_factory`` (default :func:`studio.audio.playback.open_player`) and
    ``key_store`` (default: the OS keyring, :class:`studio.keystore.KeyStore`).

    Attributes:
        settings: the user's :class:`Settings` (saved on change and at shutdown).
        key_store: where the API key is saved when the Settings dialog changes it.
        document: the open :class:`ScriptDocument`.
        undo_stack: the ``QUndoStack`` of the user's edits.
        editor: the :class:`ScriptEditor` that makes edits undoable.
        catalog: voices of the connected backend.
        playback, generation: the audio and generation services.
        window: the :class:`MainWindow`.
        backend: the connected :class:`Backend`, or ``None`` while connecting.

    Signals:
        shutting_down(): :meth:`shutdown` began. Every service and panel that runs
            tasks of its own stops them on it, so nothing is left running at exit;
            what must end in order (an export's files, dictionary saves, playback and
            generation, the backend, the project file) is ended in :meth:`shutdown`
            after it.
    """

    shutting_down = Signal()

    def __init__(
        self,
        settings: Settings,
        backend_factory: Callable[[Settings], Awaitable[Backend]] = start_backend,
        player_factory: Callable[..., Any] | None = None,
        parent: QObject | None = None,
        key_store: KeyStore | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.key_store = key_store or KeyStore(config_dir())
        self._backend_factory = backend_factory
        self.backend: Backend | None = None
        self.document = ScriptDocument(self)
        self.undo_stack = QUndoStack(self)
        self.editor = ScriptEditor(self.document, self.undo_stack, parent=self)
        self.catalog = VoiceCatalog(self)
        self.playback = (
            PlaybackService(settings.output_device, parent=self,
                            output_buffer_ms=settings.output_buffer_ms)
            if player_factory is None
            else PlaybackService(settings.output_device, player_factory, parent=self,
                                 output_buffer_ms=settings.output_buffer_ms)
        )
        self.generation = GenerationService(
            self.document, self.playback, settings.max_concurrent_jobs, takes=self.editor,
            catalog=self.catalog, parent=self
        )
        self.project = ProjectService(self.document, data_dir() / "untitled", parent=self)
        self.infill = InfillService(self.document, self)
        self.editor_audio = EditorAudio(self)
        self.voice_lab = VoiceLab(self.catalog, self.document, data_dir() / "voice-cache",
                                  settings.starred_voices, parent=self)
        self.pro_clone = ProClone(self.catalog, settings.pending_fine_tunes,
                                  settings.pro_clone_voices, parent=self)
        self.dictionaries = DictionaryService(self)
        panels = build_panels(
            document=self.document, editor=self.editor, catalog=self.catalog,
            playback=self.playback, infill=self.infill, editor_audio=self.editor_audio,
            voice_lab=self.voice_lab,
            dictionaries=self.dictionaries, settings=settings,
            recordings=lambda: list(self.project.recordings),
            pause_seconds=self._pause_seconds)
        self.script_playback = ScriptPlayback(
            self.document, self.playback, self._pause_seconds, self)
        self.window = MainWindow(self.document, self.editor, self.catalog, self.playback,
                                 self.generation, settings, panels, self.script_playback)
        self.voices_panel, self.voices_dock = panels.voices, self.window.voices_dock
        self.dictionaries_panel = panels.dictionaries
        self.dictionaries_dock = self.window.dictionaries_dock
        self._wire_voice_lab()
        self._wire_perform()
        self._wire_dictionaries()
        for stop in (panels.takes.shutdown, panels.editor.shutdown, panels.voices.shutdown,
                     panels.dictionaries.shutdown, self.script_playback.shutdown,
                     self.editor_audio.shutdown, self.voice_lab.shutdown,
                     self.pro_clone.shutdown):
            self.shutting_down.connect(stop)
        self.exporter = ExportService(
            self.document, lambda: self.project.settings, self.project.set_setting,
            self._pause_seconds,
            voice_names=lambda: {v.id: v.name for v in self.catalog.voices},
            project_name=lambda: "" if self.project.untitled else self.project.name,
            parent=self)
        self.window.set_exporter(self.exporter)
        self.project_menu = ProjectMenu(self.window, self.project, self.generation, settings,
                                        self.save_settings)
        self.project_menu.install(self.window.file_menu)
        self.project_menu.failed.connect(self.window.show_error)
        self.window.close_guard = self._close_guard
        self.window.settings_requested.connect(self._on_settings_requested)
        self.window.pause_changed.connect(
            lambda seconds: self.project.set_setting("pause_seconds", f"{seconds:g}"))
        self.project.opened.connect(self._on_project_opened)
        self.project.credits_changed.connect(self.window.set_project_credits)
        self._connect_task: asyncio.Task[None] | None = None
        self.project_task: asyncio.Task[None] | None = None
        self._audio_check_task: asyncio.Task[None] | None = None  # held: the loop keeps weak refs

    def _pause_seconds(self) -> float:
        """The silence between blocks, seconds, as the window's toolbar sets it (playing
        across blocks, the Editor's whole-script view and export all use it)."""
        return self.window.pause_spin.value()

    def _wire_voice_lab(self) -> None:
        lab, panel, settings = self.voice_lab, self.voices_panel, self.settings

        def starred(ids: list[str]) -> None:
            settings.starred_voices = list(ids)
            self.save_settings()

        def input_device(name: str) -> None:
            settings.input_device = name
            self.save_settings()

        def recorded(audio: npt.NDArray[np.float32], sample_rate: int) -> None:
            self._last_recording = self.project.add_recording(audio, sample_rate)

        def chosen(recording: Recording) -> None:  # a saved recording loaded again
            self._last_recording = recording

        def cloned(voice: Voice) -> None:  # the clone came from the latest recording
            recording = self._last_recording
            if recording is not None and any(r.id == recording.id for r in self.project.recordings):
                self.project.update_recording(recording.id, voice_id=voice.id)

        def pending_fine_tunes(ids: list[str]) -> None:
            settings.pending_fine_tunes = list(ids)
            self.save_settings()

        def pro_clones(ids: list[str]) -> None:
            settings.pro_clone_voices = list(ids)
            self.save_settings()

        self._last_recording: Recording | None = None
        lab.starred_changed.connect(starred)
        self.pro_clone.pending_changed.connect(pending_fine_tunes)
        self.pro_clone.pro_voices_changed.connect(pro_clones)
        self.pro_clone.pro_voices_changed.connect(panel.set_pro_clones)
        panel.set_pro_clones(sorted(self.pro_clone.pro_voices))
        panel.pro_clone_requested.connect(self.open_pro_clone)
        panel.input_device_changed.connect(input_device)
        panel.recording_finished.connect(recorded)
        panel.recording_chosen.connect(chosen)
        self.project.recordings_changed.connect(panel.refresh_recordings)
        panel.voice_cloned.connect(cloned)
        panel.use_requested.connect(self._use_voice)
        # Also in a menu: in a narrow Voices panel the button can fold away.
        menu = self.window.audio_menu
        menu.addSeparator()
        record = menu.addAction("Record and clone a voice…")
        record.triggered.connect(lambda _checked=False: self._open_recorder())

    def _wire_perform(self) -> None:
        """Perform… in the inspector: the user's recording converted to the block's voice."""
        from studio.ui.script.perform_flow import PerformFlow

        script = self.window.script_panel
        self.perform = PerformFlow(
            self.window, self.document, self.window.editor, self._perform_backend,
            lambda block_id, text, error: script.set_block_status(block_id, text, error=error))
        script.perform_requested.connect(self.perform.start)
        self.shutting_down.connect(self.perform.tasks.cancel)

    def _wire_dictionaries(self) -> None:
        """The Dictionaries panel and the script share what the backend has: the
        document learns every dictionary's entries (as the server applies them: less
        entries held back for errors) and which ids the server has, and the project's
        choice flows both ways."""
        service, panel, document = self.dictionaries, self.dictionaries_panel, self.document

        def listed() -> None:
            known = {d.id: (d.name, service.sendable(d.id)) for d in service.dictionaries()}
            available = ([d for d in known if not service.is_missing(d)]
                         if service.listed and service.connected else None)
            document.set_dictionaries(known, available)
            self._adopt_missing_copies()

        def items_changed(dict_id: str) -> None:
            entry = service.dictionary(dict_id)
            if entry is not None:
                document.set_dictionary(dict_id, entry.name, service.sendable(dict_id))

        def recreated(old_id: str, new_id: str) -> None:
            """Blocks and the project that used the deleted dictionary use the new one."""
            self.window.statusBar().clearMessage()  # "… was deleted on the server" is over
            users = [b.id for b in document.blocks if b.pronunciation_dict_id == old_id]
            if not users and document.pronunciation_dict_id != old_id:
                return
            with self.editor.macro("Use the recreated dictionary"):
                if document.pronunciation_dict_id == old_id:
                    self.editor.set_project_dictionary(new_id)
                for block_id in users:
                    self.editor.update_block(block_id, pronunciation_dict_id=new_id)

        service.dictionaries_changed.connect(listed)
        service.items_changed.connect(items_changed)
        service.dictionary_recreated.connect(recreated)
        service.error.connect(self.window.statusBar().showMessage)
        panel.use_requested.connect(self.editor.set_project_dictionary)
        document.project_dictionary_changed.connect(panel.set_project_dictionary)
        self.generation.dictionary_ready = self._dictionary_saved

    async def _dictionary_saved(self, dict_id: str) -> None:
        """Before a block is generated with ``dict_id``: its pending edits reach the
        server first, so the take is made with the entries it records.

        Raises:
            ScriptError: the dictionary could not be saved (the block fails, nothing paid).
        """
        if self.dictionaries.dictionary(dict_id) is None:
            return  # not one the studio holds edits for
        try:
            await self.dictionaries.wait_saved(dict_id)
        except DictionaryError as exc:
            raise ScriptError(str(exc)) from exc

    def _adopt_missing_copies(self) -> None:
        """Dictionaries the project uses that the server does not have (deleted since the
        project was last open) appear in the panel from the project's copy, to Recreate."""
        service, document = self.dictionaries, self.document
        if not (service.listed and service.connected):
            return
        for dict_id in document.dictionaries_in_use():
            copy = document.dictionary(dict_id)
            if copy is not None and service.dictionary(dict_id) is None:
                service.adopt_missing(dict_id, *copy)

    def _account(self, settings: Settings | None = None) -> str:
        """Which account's dictionaries a backend has: the offline engine's, or the
        cloud's for one API key and address (a digest, never the key itself)."""
        settings = settings or self.settings
        if not settings.wants_cloud():
            return "offline"
        key = settings.effective_api_key()
        return hashlib.sha256(f"{settings.base_url}|{key}".encode()).hexdigest()[:16]

    def _keep_stranded_entries(self, parent: QWidget, verb: str, what: str) -> bool:
        """Ask before ``what`` loses dictionary entries that exist only in the studio (a
        failed save, entries with errors, a dictionary deleted on the server). True to go
        ahead."""
        service, document = self.dictionaries, self.document

        def kept_by_project(dict_id: str) -> bool:  # Recreate can make it again from there
            copy = document.dictionary(dict_id)
            return (dict_id in document.dictionaries_in_use() and copy is not None
                    and copy[1] == service.sendable(dict_id))

        stranded = [d.name for d in service.dictionaries()
                    if service.save_state(d.id) == "failed" or service.held_back(d.id)
                    or (service.is_missing(d.id) and not kept_by_project(d.id))]
        if not stranded:
            return True
        answer = QMessageBox.warning(
            parent, verb,
            "Some dictionary entries are only in the studio, not on the server: "
            f"{', '.join(stranded)} (entries with errors, a save that failed, or a dictionary "
            f"deleted on the server; see the Dictionaries panel). {what} and lose them?",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Discard

    def _close_guard(self, parent: QWidget) -> bool:
        """Ask before quitting loses the project's unwritten work or dictionary entries
        that exist only here."""
        return self.project_menu.close_guard(parent) and self._keep_stranded_entries(
            parent, "Quit Cartesia Studio", "Quit")

    def _open_recorder(self) -> None:
        self.voices_dock.show()
        self.voices_dock.raise_()
        self.voices_panel.open_recorder()

    def _use_voice(self, voice_id: str) -> None:
        """"Use in script": the current block gets the voice (one undo step)."""
        block_id = self.window.script_panel.current_block_id
        if not block_id or not self.document.has_block(block_id):
            self.window.statusBar().showMessage("Select a block first, then Use in script", 5000)
            return
        self.editor.update_block(block_id, voice_id=voice_id)
        voice = self.catalog.voice(voice_id)
        name = voice.name if voice is not None else voice_id
        number = self.document.index_of(block_id) + 1
        self.window.statusBar().showMessage(f"Block {number} now uses {name}", 5000)

    def _perform_backend(self) -> tuple[Any, str] | None:
        return (self.backend.client, self.backend.kind) if self.backend is not None else None

    def open_pro_clone(self) -> QWidget:
        """The professional clone dialog over the window, for the backend in use."""
        from studio.ui.voices.pro_clone_dialog import ProCloneDialog

        kind = self.backend.kind if self.backend is not None else "offline"
        dialog = ProCloneDialog(self.pro_clone, kind, list(self.project.recordings),
                                parent=self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def start(self, welcome: bool = True) -> None:
        """Show the window, open the last project (or a new one, with one empty block
        to type into if ``welcome``), and connect the backend in the background."""
        self.window.show()
        # Nothing typed before the last project has loaded could be kept: wait for it.
        self.window.script_panel.setEnabled(False)
        self.project_task = asyncio.ensure_future(self._open_first_project(welcome))
        self.reconnect()
        self._audio_check_task = asyncio.ensure_future(self._check_audio())

    async def _open_first_project(self, welcome: bool) -> None:
        try:
            await self.project_menu.start()
        finally:
            self.window.script_panel.setEnabled(True)
        if welcome and not len(self.document):
            self.document.add_block(model_id=self.settings.default_model)

    def _on_project_opened(self, _path: str) -> None:
        damaged = len(self.project.damaged_takes)
        if damaged:
            self.window.statusBar().showMessage(
                f"{damaged} take{'s' if damaged != 1 else ''} in this project "
                f"{'have' if damaged != 1 else 'has'} damaged audio (marked in the Takes "
                "panel): generate those blocks again", 15_000)
        self._adopt_missing_copies()
        self.exporter.forget()
        if self.window._export_dialog is not None:
            self.window._export_dialog.reload()
        pause = self.project.settings.get("pause_seconds")
        if pause is not None:
            try:
                self.window.pause_spin.setValue(float(pause))
            except ValueError:
                log.warning("project pause %r is not a number", pause)

    def reconnect(self) -> asyncio.Task[None]:
        """(Re)connect the backend in the background; a connection attempt still
        under way is cancelled and awaited first, so two never overlap."""
        previous = self._connect_task

        async def run() -> None:
            if previous is not None and not previous.done():
                previous.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await previous
            await self.connect_backend()

        self._connect_task = asyncio.ensure_future(run())
        return self._connect_task

    async def _check_audio(self) -> None:
        status = await in_thread(audio_backend_status)
        # The window may have closed while the check ran (a quick quit, a test's end).
        if not status.available and shiboken6.isValid(self.window):
            self.window.show_audio_notice(status.reason)

    async def connect_backend(self) -> None:
        """Start (or restart) the backend from the current settings."""
        await self.disconnect_backend()
        cloud = self.settings.wants_cloud()
        self.window.set_backend_status(
            "Connecting to Cartesia cloud…" if cloud else "Starting offline engine…"
        )
        try:
            backend = await self._backend_factory(self.settings)
        except (OSError, RuntimeError) as exc:
            log.error("backend failed to start: %s", exc)
            self.window.set_backend_status("Backend unavailable", error=True)
            self.window.show_error("Backend", f"Could not start the backend:\n{exc}")
            return
        if self.backend is not None:  # never leak an open backend
            await self.disconnect_backend()
        self.backend = backend
        self.generation.set_renderer(
            BlockRenderer(backend.client, backend.kind, self.settings.sample_rate)
        )
        self.infill.set_backend(backend.client, backend.kind)
        self.voice_lab.set_client(backend.client, backend.kind)
        self.pro_clone.set_client(backend.client, backend.kind)
        self.dictionaries.set_client(backend.client, backend.kind, self._account())
        self.window.set_backend_status(backend.label, free=backend.is_free)
        # The panel lists the dictionaries as the client arrives; wait for that too, so
        # the script knows which dictionaries exist before the first generation.
        await self.dictionaries_panel.wait_idle()
        if not await self.catalog.refresh(backend.client):
            self.window.set_backend_status(f"{backend.label} (voices unavailable)",
                                           free=backend.is_free, error=True)

    async def disconnect_backend(self) -> None:
        """Stop jobs and close the backend (and its offline engine), if any."""
        self.generation.stop()
        await self.generation.wait_idle()
        self.generation.set_renderer(None)
        self.infill.set_backend(None, "")
        self.voice_lab.set_client(None)
        self.pro_clone.set_client(None)
        self.dictionaries.set_client(None)
        self.document.forget_backend_dictionaries()
        # Before the next backend's list arrives: its blocks must never be offered (or
        # sent) a voice only the old backend has.
        self.catalog.clear()
        if self.backend is not None:
            backend, self.backend = self.backend, None
            # Shielded: a reconnect that cancels this one must not leave it half closed.
            await asyncio.shield(backend.aclose())

    def _on_settings_requested(self) -> None:
        dialog = SettingsDialog(
            self.settings, bool(os.environ.get("CARTESIA_API_KEY")), self.window,
            key_location=self.key_store.location, key_fallback=not self.key_store.has_keyring,
        )
        accepted = dialog.exec()
        new = dialog.settings()
        dialog.deleteLater()
        if not accepted:
            return
        if self._account(new) != self._account() and not self._keep_stranded_entries(
                self.window, "Settings", "Switch to the other backend"):
            return
        self.apply_settings(new)

    def apply_settings(self, new: Settings) -> None:
        """Adopt edited settings, save them, and reconnect if the backend changed."""
        reconnect = any(
            getattr(new, name) != getattr(self.settings, name)
            for name in ("api_key", "use_offline", "base_url", "websocket_base_url",
                         "cartesia_version")
        )
        if new.api_key != self.settings.api_key:
            try:
                self.key_store.set(new.api_key)
            except KeyStoreError as exc:
                self.window.statusBar().showMessage(str(exc), 10000)
        for name in ("api_key", "use_offline", "base_url", "websocket_base_url", "cartesia_version",
                     "max_concurrent_jobs", "pause_seconds", "play_while_generating",
                     "credit_confirm_threshold", "output_buffer_ms"):
            setattr(self.settings, name, getattr(new, name))
        self.playback.set_output_buffer(self.settings.output_buffer_ms)
        self.generation.set_max_concurrent(self.settings.max_concurrent_jobs)
        self.window.pause_spin.setValue(self.settings.pause_seconds)
        self.save_settings()
        if reconnect:
            self.reconnect()

    def save_settings(self) -> None:
        """Write settings to disk; a failure is shown in the status bar."""
        try:
            save_settings(self.settings)
        except OSError as exc:
            self.window.statusBar().showMessage(f"Could not save settings: {exc}", 10000)

    async def shutdown(self) -> None:
        """Stop jobs and playback, close the backend, save settings."""
        self.shutting_down.emit()
        if self._connect_task is not None and not self._connect_task.done():
            self._connect_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connect_task
        await self.exporter.shutdown()
        with contextlib.suppress(asyncio.TimeoutError):  # edits on their way to the server
            await asyncio.wait_for(self.dictionaries.wait_idle(), 10)
        self.dictionaries.shutdown()
        self.playback.shutdown()  # after the exporter, right before generation stops
        await self.disconnect_backend()
        if self.project_task is not None and not self.project_task.done():
            self.project_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.project_task
        await self.project.shutdown()
        self.save_settings()


def display_problem(environ: dict[str, str] | None = None) -> str:
    """Why Qt could not open a window here, or "" (checked before Qt aborts with a
    less helpful message). Only meaningful on Linux."""
    env = os.environ if environ is None else environ
    if not sys.platform.startswith("linux"):
        return ""
    platform = env.get("QT_QPA_PLATFORM", "")
    if platform and platform != "xcb":
        return ""
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return ("no display found (DISPLAY is not set). Run the studio in a desktop session, "
                "or use `cartesia-studio render` for headless work.")
    if env.get("WAYLAND_DISPLAY"):
        return ""
    if ctypes.util.find_library("xcb-cursor") is None:
        return ("Qt needs the system library libxcb-cursor0 to open a window: "
                "sudo apt-get install libxcb-cursor0")
    if not _x_display_reachable(env["DISPLAY"]):
        return (f"cannot connect to the X display {env['DISPLAY']!r}. Check DISPLAY, or use "
                "`cartesia-studio render` for headless work.")
    return ""


def _x_display_reachable(display: str) -> bool:
    """Whether libxcb can connect to ``display`` (Qt's xcb plugin aborts the process
    when it cannot, so ask first). True when libxcb itself is missing: Qt will say."""
    name = ctypes.util.find_library("xcb")
    if name is None:
        return True
    xcb = ctypes.CDLL(name)
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(display.encode(), None)
    try:
        return xcb.xcb_connection_has_error(connection) == 0
    finally:
        xcb.xcb_disconnect(connection)


def run_studio(argv: Sequence[str] | None = None) -> int:
    """Run the studio until its window closes; returns the exit status."""
    problem = display_problem()
    if problem:
        print(f"cartesia-studio: {problem}", file=sys.stderr)
        return 1
    app = QApplication(list(argv) if argv is not None else sys.argv)
    app.setApplicationName("Cartesia Studio")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("Cartesia Studio")
    apply_theme(app)
    loop = QEventLoop(app)
    asyncio.set_event_loop(loop)
    collector = MainThreadCollector(app)
    collector.start()
    key_store = KeyStore(config_dir())
    studio = Studio(load_settings(key_store=key_store), key_store=key_store)
    quit_requested = asyncio.Event()
    # Closing the window ends main() below, which shuts down in order before the loop
    # stops; Qt's own quit-on-close would stop the loop first.
    app.setQuitOnLastWindowClosed(False)
    app.lastWindowClosed.connect(quit_requested.set)
    signal.signal(signal.SIGINT, lambda *_: loop.call_soon_threadsafe(quit_requested.set))
    wake = QTimer()  # lets the interpreter run the SIGINT handler while Qt waits
    wake.start(250)
    wake.timeout.connect(lambda: None)

    async def main() -> None:
        studio.start()
        collector.freeze()  # the window and every service are built
        if studio.project_task is not None:  # and again once the project is open
            studio.project_task.add_done_callback(lambda _task: collector.freeze())
        await quit_requested.wait()
        studio.window.discard_confirmed = True  # Ctrl+C in the terminal quits without asking
        studio.window.close()
        await studio.shutdown()

    with loop:
        loop.run_until_complete(main())
    collector.stop()
    return 0
