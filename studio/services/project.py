"""The open project as a QObject: loads a ``.cstudio`` file into the script and
saves every change back, off the UI thread.

Every change to the :class:`ScriptDocument` is in the file within about a second:
a finished take is written at once (its audio is encoded and inserted by a
dedicated writer thread, so the UI never waits on the disk), other edits are
gathered for :data:`SAVE_DELAY_MS` and written together. A write that fails (a
full disk, a vanished folder) keeps everything in memory, says so once, and is
retried until it succeeds, so a hiccup never costs work.

A project the user has not yet given a name lives in the studio's data folder as
an *untitled* project; it is reopened after a crash or a quit, like any other.

Slow work follows napari's pattern (STYLE.md): built on the UI thread, run on the
writer thread, applied back on the UI thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QObject, QTimer, Signal

from studio.project.edited_audio import forget_edited
from studio.project.lexicon import LexiconItem
from studio.project.model import Block, Recording, Take, TakeAudio, new_id
from studio.project.store import (
    SUFFIX,
    LoadedProject,
    ProjectError,
    ProjectStore,
    items_from_json,
    items_to_json,
    remove_project_files,
    script_rows,
)
from studio.project.take_cache import TAKE_CACHE
from studio.services.document import ScriptDocument
from studio.services.threads import in_thread

if TYPE_CHECKING:
    from studio.project.edits import Clip

log = logging.getLogger(__name__)

#: Edits other than new takes are written this long after the first of them.
SAVE_DELAY_MS = 400
#: A failed write is tried again this often.
RETRY_MS = 3000

T = TypeVar("T")


def display_name(path: Path | None, untitled: bool) -> str:
    """``"Untitled"`` or the file's name without ``.cstudio``."""
    if path is None or untitled:
        return "Untitled"
    return path.name.removesuffix(SUFFIX)


#: ``meta`` key of the project's pronunciation dictionary id ("" for none).
PROJECT_DICTIONARY = "pronunciation_dict_id"
#: ``meta`` key prefix of the copy of a dictionary the project uses (JSON name + items).
DICTIONARY_PREFIX = "dictionary:"


def kept_dictionaries(settings: dict[str, str]) -> dict[str, tuple[str, tuple[LexiconItem, ...]]]:
    """The dictionary copies kept in a project's settings, by id; an unreadable copy is
    skipped with a log line (the dictionary is then loaded from the backend)."""
    copies: dict[str, tuple[str, tuple[LexiconItem, ...]]] = {}
    for key, value in settings.items():
        if not key.startswith(DICTIONARY_PREFIX):
            continue
        try:
            body = json.loads(value)
            copies[key[len(DICTIONARY_PREFIX):]] = (str(body["name"]),
                                                     items_from_json(body["items"]))
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("project setting %s is not a dictionary copy (%s)", key, exc)
    return copies


class ProjectService(QObject):
    """Keeps one ``.cstudio`` file in step with a :class:`ScriptDocument`.

    Attributes:
        path: the open file, or ``None`` before the first project is opened.
        untitled: the project has no user-chosen name yet (it lives in ``untitled_dir``).
        credits_spent: credits of every take and infill candidate ever generated in the project.
        settings: project settings read from the file (e.g. ``pause_seconds``).

    Signals:
        opened(str path): a project was loaded into the document.
        state_changed(): path, untitled or dirty changed (for the window title).
        save_failed(str message): a write failed; the work is kept and retried.
        save_recovered(): writes succeed again after a failure.
        credits_changed(int credits): the project's total spent changed.
        recordings_changed(): a Voice lab recording was added, changed or removed, or
            another project (with its recordings) was opened.
    """

    opened = Signal(str)
    state_changed = Signal()
    save_failed = Signal(str)
    save_recovered = Signal()
    credits_changed = Signal(int)
    recordings_changed = Signal()

    def __init__(self, document: ScriptDocument, untitled_dir: Path,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._document = document
        self._untitled_dir = untitled_dir
        self._store: ProjectStore | None = None
        self._writer = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="project-writer")
        self.path: Path | None = None
        self.untitled = False
        self.credits_spent = 0
        self.settings: dict[str, str] = {}
        self._stored_takes: set[str] = set()
        # Takes not yet in the file, with what writing them needs (captured when they
        # arrived, so a take is written even if its block is removed meanwhile).
        self._pending_takes: dict[str, tuple[Block, Take, int]] = {}
        self._inflight: set[str] = set()  # takes and clips handed to the writer, not yet done
        self._pending_clips: dict[str, Clip] = {}  # clips not yet in the file
        self._pending_recordings: dict[str, Recording] = {}  # recordings not yet in the file
        #: The Voice lab's recordings in this project, oldest first.
        self.recordings: list[Recording] = []
        #: takes whose stored audio failed its checksum when the file was opened
        self.damaged_takes: list[str] = []
        self._pending_settings: dict[str, str] = {}  # settings not yet in the file
        self._preload_task: asyncio.Future[None] | None = None
        self._pending = 0
        self._failed = ""
        self._loading = False
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self._on_save_timer)
        self._retry_timer = QTimer(self)
        self._retry_timer.setSingleShot(True)
        self._retry_timer.setInterval(RETRY_MS)
        self._retry_timer.timeout.connect(self._retry)
        document.take_added.connect(self._on_take_added)
        document.clip_added.connect(self._on_clip_added)
        for signal in (document.block_inserted, document.block_removed, document.block_moved,
                       document.block_changed, document.take_removed, document.take_changed,
                       document.take_selected, document.blocks_inserted,
                       document.blocks_removed, document.cast_changed):
            signal.connect(self._on_changed)
        # Kept with the script's next write (coalesced: a 10 000-entry copy is not
        # serialised at every keystroke in the Dictionaries panel).
        document.pronunciation_changed.connect(self._on_changed)
        #: dictionary id -> the entries last kept in the file (compared by identity)
        self._kept_dictionaries: dict[str, tuple[LexiconItem, ...]] = {}

    # --- state ----------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._store is not None

    @property
    def dirty(self) -> bool:
        """Whether some change is not in the file yet (waiting, being written, or failed)."""
        return bool(self._pending or self._save_timer.isActive() or self._unwritten
                    or self._failed)

    @property
    def _unwritten(self) -> bool:
        """Takes, clips, recordings or settings the file does not have yet."""
        return bool(self._pending_takes or self._pending_clips or self._pending_recordings
                    or self._pending_settings)

    @property
    def failure(self) -> str:
        """Why the last write failed ("" when writes succeed)."""
        return self._failed

    @property
    def name(self) -> str:
        return display_name(self.path, self.untitled)

    @property
    def has_content(self) -> bool:
        """Whether the project holds anything worth keeping: text, takes, recordings,
        or credits spent in it."""
        return (any(b.text.strip() or b.takes for b in self._document.blocks)
                or bool(self.recordings) or self.credits_spent > 0)

    def _run(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        return asyncio.get_running_loop().run_in_executor(self._writer, fn, *args)

    # --- opening and closing -----------------------------------------------------

    async def new(self, discard_current: bool = False) -> None:
        """Close the current project and start an untitled one (``discard_current``:
        delete the current project's file if it is untitled).

        Raises:
            ProjectError: the untitled folder cannot be written.
        """
        try:
            self._untitled_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ProjectError(self._untitled_dir, "unwritable",
                               f"Cannot create {self._untitled_dir} for new projects: "
                               f"{exc.strerror or exc}.") from exc
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = self._untitled_dir / f"Untitled-{stamp}-{uuid.uuid4().hex[:6]}{SUFFIX}"
        store = await self._run(ProjectStore.create, path)
        await self._adopt(store, LoadedProject([]), True, discard_current)

    async def open(self, path: Path, discard_current: bool = False) -> None:
        """Open ``path`` (checked and, if older, upgraded) in place of the current
        project. On failure the current project stays open and untouched; on success
        the current one is closed (and with ``discard_current``, deleted if untitled).

        Raises:
            ProjectError: the file is missing, not a project, newer, damaged or
                read-only (see :func:`studio.project.store.check_project`).
        """
        path = path.resolve()
        if self.path is not None and path == self.path.resolve():
            return
        store = await self._run(ProjectStore.open, path)
        try:
            loaded = await self._run(store.load)
        except ProjectError:
            await self._run(store.close)
            raise
        untitled = path.parent == self._untitled_dir.resolve()
        await self._adopt(store, loaded, untitled, discard_current)

    async def _adopt(self, store: ProjectStore, loaded: LoadedProject, untitled: bool,
                     discard_current: bool) -> None:
        await self.close(discard=discard_current and self.untitled)
        self._store = store
        self.path = store.path
        self.untitled = untitled
        self.settings = dict(loaded.settings)
        self.credits_spent = loaded.credits_spent
        self.recordings = list(loaded.recordings)
        self.damaged_takes = list(loaded.damaged_takes)
        self._stored_takes = {t.id for b in loaded.blocks for t in b.takes}
        self._loading = True
        try:
            self._kept_dictionaries = {}
            self._document.open_pronunciation(
                self.settings.get(PROJECT_DICTIONARY, ""), kept_dictionaries(self.settings))
            self._document.replace_script(loaded.blocks, loaded.clips, loaded.cast)
        finally:
            self._loading = False
        self.opened.emit(str(self.path))
        self.state_changed.emit()
        self.credits_changed.emit(self.credits_spent)
        self.recordings_changed.emit()
        self._preload_task = asyncio.ensure_future(self._preload())

    async def _preload(self) -> None:
        """Read the first selected takes' audio in the background, so playing from the
        start does not wait on the disk: as many as fill half the take cache's budget
        (:mod:`studio.project.take_cache`); reading a whole book would only push the
        first takes out again."""
        takes = self._document.selected_takes()

        def load() -> None:
            room = TAKE_CACHE.budget_bytes // 2
            for take in takes:
                room -= take.frames * np.dtype(np.float32).itemsize
                if room < 0:
                    break
                _ = take.audio

        try:
            await in_thread(load)
        except ProjectError as exc:  # the take says so again when it is played
            log.warning("preloading takes: %s", exc)

    async def flush(self) -> None:
        """Write every change made so far and wait until it is in the file.

        Raises:
            ProjectError: the write failed (the change is kept and retried).
        """
        if self._store is None:
            return
        self._save_timer.stop()
        self._write_pending()
        await self._run(lambda: None)  # the writer runs jobs in order: wait for ours
        if self._failed:
            raise ProjectError(self.path or Path(), "io", self._failed)

    async def close(self, discard: bool = False) -> None:
        """Write pending changes and close the file (its deleted blocks and takes are
        dropped for good). With ``discard``, an untitled project's file is deleted.
        Does nothing if no project is open. A failed final write leaves the file as
        it was at the last successful write."""
        store = self._store
        if store is None:
            return
        if not discard:
            with contextlib.suppress(ProjectError):
                await self.flush()
        self._save_timer.stop()
        self._retry_timer.stop()
        if self._preload_task is not None:
            self._preload_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._preload_task
            self._preload_task = None
        untitled, path = self.untitled, store.path

        def finish() -> None:
            with contextlib.suppress(ProjectError):
                if not discard:
                    store.purge_deleted()
            store.close()
            if discard and untitled:
                remove_project_files(path)

        await self._run(finish)
        forget_edited()
        TAKE_CACHE.clear()  # its samples can no longer be read back
        self._store = None
        self._pending_takes.clear()
        self._pending_clips.clear()
        self._pending_recordings.clear()
        self._pending_settings.clear()
        self._inflight.clear()
        self._failed = ""

    async def save_as(self, path: Path) -> None:
        """Copy the project to ``path`` and carry on there; what the old file could not
        take (a full disk) is written to the new one. An untitled project's temporary
        file is removed afterwards.

        Raises:
            ProjectError: ``path`` cannot be written; the project stays where it was.
        """
        store = self._store
        if store is None:
            return
        with contextlib.suppress(ProjectError):  # the copy carries on what is missing
            await self.flush()
        path = path.resolve()
        old, was_untitled = store.path, self.untitled
        await self._run(store.save_as, path)
        self.path = path
        self.untitled = path.parent == self._untitled_dir.resolve()
        if was_untitled and old != path:
            remove_project_files(old)
        self.opened.emit(str(path))
        if self._failed or self._unwritten:
            self._write_pending()  # to the new file
            with contextlib.suppress(ProjectError):
                await self.flush()
        self.state_changed.emit()

    async def shutdown(self) -> None:
        """Close the project (kept, untitled or not: it reopens next time) and stop
        the writer thread."""
        await self.close()
        self._writer.shutdown(wait=True)

    def set_setting(self, key: str, value: str) -> None:
        """Store a project setting (e.g. the export pause) in the file."""
        if self.settings.get(key) == value:
            return
        self.settings[key] = value
        if self._store is not None:
            self._pending_settings[key] = value
            self._write_settings()

    def _keep_dictionaries(self, *_args: object) -> None:
        """Keep the project's dictionary choice, and a copy of every dictionary the
        project uses, in the file: the project opens with its pronunciation known even
        offline, and a dictionary deleted on the server can be made again from it."""
        if self._store is None or self._loading:
            return
        document = self._document
        self.set_setting(PROJECT_DICTIONARY, document.pronunciation_dict_id)
        for dict_id in document.dictionaries_in_use():
            known = document.dictionary(dict_id)
            if known is None or self._kept_dictionaries.get(dict_id) is known[1]:
                continue
            self._kept_dictionaries[dict_id] = known[1]
            self.set_setting(DICTIONARY_PREFIX + dict_id, json.dumps(
                {"name": known[0], "items": items_to_json(known[1])},
                ensure_ascii=False))

    # --- saving ------------------------------------------------------------------

    def _on_changed(self, *_args: object) -> None:
        if self._store is None or self._loading:
            return
        if not self._save_timer.isActive():
            was_dirty = self.dirty
            self._save_timer.start()
            if not was_dirty:
                self.state_changed.emit()

    def _on_take_added(self, block_id: str, take_id: str) -> None:
        if self._store is None or self._loading:
            return
        if take_id not in self._stored_takes and take_id not in self._pending_takes:
            block = self._document.block(block_id)
            take = self._document.take(block_id, take_id)
            # The block's fields as they are now, for its row if the file lacks it.
            snapshot = replace(block, takes=[])
            self._pending_takes[take_id] = (snapshot, take, block.takes.index(take))
            self._write_take(take_id)
        self._on_changed()

    def _write_once(self, item_id: str, write: Callable[..., Any], *args: Any,
                    on_success: Callable[[], None]) -> None:
        """Hand ``write(*args)`` (adding a take, clip or recording) to the writer unless
        that item is already on its way; the item is in flight until it ends."""
        if item_id in self._inflight:
            return

        def done() -> None:
            self._inflight.discard(item_id)
            on_success()

        self._inflight.add(item_id)
        self._submit(write, *args, on_success=done,
                     on_failure=lambda: self._inflight.discard(item_id))

    def _paid(self, credits: int) -> None:
        self.credits_spent += credits
        if credits:
            self.credits_changed.emit(self.credits_spent)

    def _write_take(self, take_id: str) -> None:
        store = self._store
        pending = self._pending_takes.get(take_id)
        if store is None or pending is None:
            return
        snapshot, take, position = pending

        def done() -> None:
            self._pending_takes.pop(take_id, None)
            self._stored_takes.add(take_id)
            self._paid(take.credits)

        self._write_once(take_id, store.add_take, snapshot, take, position, on_success=done)

    def _on_clip_added(self, _take_id: str, clip_id: str) -> None:
        if self._store is None or self._loading:
            return
        self._pending_clips[clip_id] = self._document.clip(clip_id)
        self._write_clip(clip_id)
        self.state_changed.emit()

    def _write_clip(self, clip_id: str) -> None:
        store = self._store
        clip = self._pending_clips.get(clip_id)
        if store is None or clip is None:
            return

        def done() -> None:
            self._pending_clips.pop(clip_id, None)
            self._paid(clip.credits)

        self._write_once(clip_id, store.add_clip, clip, on_success=done)

    # --- recordings ---------------------------------------------------------------------

    def add_recording(self, audio: npt.NDArray[np.float32], sample_rate: int,
                      name: str = "") -> Recording:
        """Keep a Voice lab recording (float32 mono ``(frames,)`` at ``sample_rate`` Hz) in
        the project; written at once, and retried like a take if the disk is full."""
        recording = Recording(id=new_id(), name=name or time.strftime("Recording %H:%M:%S"),
                              source=TakeAudio.of(audio, sample_rate), created_at=time.time())
        self.recordings.append(recording)
        self.recordings_changed.emit()
        if self._store is not None:
            self._pending_recordings[recording.id] = recording
            self._write_recording(recording.id)
            self.state_changed.emit()
        return recording

    def update_recording(self, recording_id: str, *, name: str | None = None,
                         voice_id: str | None = None) -> None:
        """Rename a recording, or note the voice cloned from it.

        Raises:
            KeyError: no such recording.
        """
        index = next(i for i, r in enumerate(self.recordings) if r.id == recording_id)
        old = self.recordings[index]
        new = replace(old, name=old.name if name is None else name,
                      voice_id=old.voice_id if voice_id is None else voice_id)
        self.recordings[index] = new
        self.recordings_changed.emit()
        if recording_id in self._pending_recordings:
            self._pending_recordings[recording_id] = new
        elif self._store is not None:
            self._submit(self._store.update_recording, recording_id, new.name, new.voice_id)

    def delete_recording(self, recording_id: str) -> None:
        """Drop a recording from the project (its audio goes when the project closes)."""
        self.recordings = [r for r in self.recordings if r.id != recording_id]
        self.recordings_changed.emit()
        if self._pending_recordings.pop(recording_id, None) is None and self._store is not None:
            self._submit(self._store.delete_recording, recording_id)

    def _write_recording(self, recording_id: str) -> None:
        store = self._store
        recording = self._pending_recordings.get(recording_id)
        if store is None or recording is None:
            return

        def done() -> None:
            written = self._pending_recordings.pop(recording_id, None)
            if written is not None and written != recording:  # renamed meanwhile
                self._submit(store.update_recording, recording_id, written.name,
                             written.voice_id)

        self._write_once(recording_id, store.add_recording, recording, on_success=done)

    def _write_settings(self) -> None:
        store, values = self._store, dict(self._pending_settings)
        if store is None or not values:
            return

        def done() -> None:
            for key, value in values.items():
                if self._pending_settings.get(key) == value:
                    del self._pending_settings[key]

        self._submit(store.set_settings, values, on_success=done)

    def _on_save_timer(self) -> None:
        self._keep_dictionaries()
        self._write_script()

    def _write_pending(self) -> None:
        """Hand everything not yet in the file to the writer: takes and clips first
        (the script and its edits refer to them), then settings, then the script."""
        self._keep_dictionaries()
        for take_id in list(self._pending_takes):
            self._write_take(take_id)
        for clip_id in list(self._pending_clips):
            self._write_clip(clip_id)
        for recording_id in list(self._pending_recordings):
            self._write_recording(recording_id)
        self._write_settings()
        self._write_script()

    def _write_script(self) -> None:
        if self._store is None:
            return
        self._submit(self._store.write_script, script_rows(self._document.blocks,
                                                                self._document.cast))

    def _submit(self, fn: Callable[..., Any], *args: Any,
                on_success: Callable[[], None] | None = None,
                on_failure: Callable[[], None] | None = None) -> None:
        """Run ``fn(*args)`` on the writer thread; report the outcome on this one."""
        self._pending += 1
        future = self._writer.submit(fn, *args)
        loop = asyncio.get_event_loop()

        def finished(f: concurrent.futures.Future[Any]) -> None:
            loop.call_soon_threadsafe(self._finished, f, on_success, on_failure)

        future.add_done_callback(finished)

    def _finished(self, future: concurrent.futures.Future[Any],
                  on_success: Callable[[], None] | None,
                  on_failure: Callable[[], None] | None) -> None:
        self._pending -= 1
        error = future.exception()
        if error is not None and on_failure is not None:
            on_failure()
        if error is None:
            if on_success is not None:
                on_success()
            if self._failed and not self._unwritten:
                self._failed = ""
                self.save_recovered.emit()
        else:
            message = str(error) if isinstance(error, ProjectError) else f"Cannot save: {error}"
            if not isinstance(error, ProjectError):
                log.error("project write failed", exc_info=error)
            first = not self._failed
            message += (" Nothing is lost: your work stays open and is saved as soon as that "
                        "works again (or use Save As to save elsewhere).")
            self._failed = message
            if first:
                self.save_failed.emit(message)
            if not self._retry_timer.isActive():
                self._retry_timer.start()
        if not self.dirty or error is not None:
            self.state_changed.emit()

    def _retry(self) -> None:
        if self._store is None or not self._failed:
            return
        # The store records only what it committed, so this writes all that is missing.
        self._write_pending()
