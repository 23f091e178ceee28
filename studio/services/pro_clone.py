"""Professional voice cloning as a QObject: a dataset of recordings, a fine-tune trained
on it, and the voices it makes (issue 16; ``client.datasets`` and ``client.fine_tunes``).

- **Files** are checked with :func:`studio.audio.clip_checks.check_clip` before upload
  (in a worker thread); a file with a problem the checks say must be fixed (silence, no
  speech, clipping, noise) is not uploaded. Recordings and imported files are sent as
  16-bit WAV at their own rate. One file is decoded at a time, and only its report is
  kept, so memory does not grow with the dataset.
- **Clean speech** is the summed length of the files that passed the checks. Cartesia
  recommends :data:`RECOMMENDED_CLOUD_SECONDS` (30 minutes) of clean speech for a
  professional clone; the offline engine fails a fine-tune with less than
  :data:`OFFLINE_MIN_SECONDS` (15 s) of measured speech.
- **Fine-tunes** are polled with ``fine_tunes.get`` every :data:`FIRST_POLL_SECONDS`,
  doubling to :data:`MAX_POLL_SECONDS`; each poll has the client's request deadline
  (``CartesiaClient(timeout=)``, an :class:`~studio.api.APITimeoutError` past it), and a
  poll that fails is tried again at the next step. The ids of those not finished are
  handed to the app in ``pending_changed`` (it keeps them in
  ``Settings.pending_fine_tunes``), so polling resumes after a restart
  (:meth:`ProClone.set_client`). When one completes, its voices
  (``fine_tunes.list_voices``) join ``pro_voices`` (``Settings.pro_clone_voices``; the
  Voices panel marks them "Pro clone") and the voice catalog is reloaded.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QObject, Signal

from studio.api import CartesiaError, NotFoundError
from studio.api.resources.training_models import Dataset, FineTune
from studio.audio.buffers import AudioFileError, wav_bytes
from studio.audio.clip_checks import ClipReport, check_clip, load_clip
from studio.services.tasks import TaskGroup
from studio.services.threads import in_thread

if TYPE_CHECKING:
    from studio.api import CartesiaClient
    from studio.services.voices import VoiceCatalog

log = logging.getLogger(__name__)

#: Clean speech Cartesia recommends for a professional clone, seconds (30 minutes).
RECOMMENDED_CLOUD_SECONDS = 30 * 60.0
#: Measured speech the offline engine needs, seconds (``fine_tune_routes.MIN_SPEECH_SECONDS``).
OFFLINE_MIN_SECONDS = 15.0
#: Polling: first wait and longest wait (the wait doubles), seconds.
FIRST_POLL_SECONDS = 2.0
MAX_POLL_SECONDS = 60.0
#: Base model of the fine-tunes (Cartesia's current Sonic 3).
FINE_TUNE_MODEL = "sonic-3-2025-10-27"


class ProCloneError(Exception):
    """A professional-clone step that cannot run (not connected, a file the studio
    cannot read). The message is for the user."""


@dataclass(frozen=True, slots=True)
class DatasetEntry:
    """One file offered to the dataset and what became of it.

    Attributes:
        filename: the name it was uploaded under.
        report: its clip checks (``duration`` in seconds, problems, advice).
        uploaded: it passed the checks and is in the dataset.
    """

    filename: str
    report: ClipReport

    @property
    def uploaded(self) -> bool:
        return self.report.ok and self.report.has_speech

    @property
    def clean_seconds(self) -> float:
        """Seconds this file adds to the clean speech (0 when it was refused)."""
        return self.report.duration if self.uploaded else 0.0


def recommended_seconds(backend_kind: str) -> float:
    """The clean speech to aim for on ``backend_kind`` (``"cloud"``/``"offline"``), s."""
    return OFFLINE_MIN_SECONDS if backend_kind == "offline" else RECOMMENDED_CLOUD_SECONDS


class ProClone(QObject):
    """Datasets, fine-tunes and professional-clone voices on the connected backend.

    Args:
        catalog: the voice list, reloaded when a fine-tune completes.
        pending: ids of fine-tunes still to watch (``Settings.pending_fine_tunes``).
        pro_voices: ids of voices fine-tunes made (``Settings.pro_clone_voices``).
        first_poll, max_poll: the polling back-off, seconds.

    Signals:
        pending_changed(list): the ids still watched, in start order; the app saves them.
        pro_voices_changed(list): the professional-clone voice ids, sorted; saved too.
        status_changed(str, str, str): fine-tune id, status (``created``, ``training``,
            ``completed``, ``failed``) and a user-facing line about it.
    """

    pending_changed = Signal(list)
    pro_voices_changed = Signal(list)
    status_changed = Signal(str, str, str)

    def __init__(self, catalog: VoiceCatalog, pending: Iterable[str] = (),
                 pro_voices: Iterable[str] = (), *, first_poll: float = FIRST_POLL_SECONDS,
                 max_poll: float = MAX_POLL_SECONDS,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.pending: list[str] = list(dict.fromkeys(pending))
        self.pro_voices: set[str] = set(pro_voices)
        self.backend_kind = ""
        self.statuses: dict[str, FineTune] = {}
        self._first_poll, self._max_poll = first_poll, max_poll
        self._client: CartesiaClient | None = None
        self._polls = TaskGroup(what="fine-tune polling")
        self._watching: set[str] = set()

    # --- the backend -------------------------------------------------------------------

    def set_client(self, client: CartesiaClient | None, backend_kind: str = "") -> None:
        """Use ``client`` (None while disconnected): polling of the previous backend
        stops, and every pending fine-tune is watched again on the new one."""
        self._polls.cancel()
        self._watching.clear()
        self._client = client
        self.backend_kind = backend_kind if client is not None else ""
        if client is not None:
            for tune_id in self.pending:
                self._watch(tune_id)

    @property
    def connected(self) -> bool:
        return self._client is not None

    def _require_client(self) -> CartesiaClient:
        if self._client is None:
            raise ProCloneError("Not connected: the backend is not running")
        return self._client

    # --- the dataset ---------------------------------------------------------------------

    async def dataset(self, name: str) -> Dataset:
        """The dataset called ``name`` (stripped): the newest listed one, else a new one.

        Raises:
            ValueError: a blank name.
            ProCloneError: not connected.
            CartesiaError: a request failed.
        """
        if not name.strip():
            raise ValueError("Name the dataset")
        client = self._require_client()
        listed = [d for d in await client.datasets.list() if d.name == name.strip()]
        if listed:
            return listed[-1]
        return await client.datasets.create(name=name.strip(),
                                            description="Recorded in Cartesia Studio")

    async def add_clip(self, dataset_id: str, audio: npt.ArrayLike, sample_rate: int,
                       filename: str) -> DatasetEntry:
        """Check ``audio`` (float32 mono, shape ``(frames,)``, at ``sample_rate`` Hz)
        and, when it passes, upload it to ``dataset_id`` as a 16-bit WAV ``filename``.

        Returns:
            The entry; ``uploaded`` False (nothing sent) when the checks found a problem.

        Raises:
            ValueError: not mono or a bad rate (from the checks).
            ProCloneError: not connected.
            CartesiaError: the upload failed.
        """
        client = self._require_client()
        samples = np.ascontiguousarray(audio, dtype=np.float32)
        report = await in_thread(functools.partial(check_clip, samples, sample_rate))
        entry = DatasetEntry(filename, report)
        if entry.uploaded:
            data = await in_thread(wav_bytes, samples, sample_rate)
            await client.datasets.upload_file(dataset_id, data, filename=filename)
        return entry

    async def add_file(self, dataset_id: str, path: str | Path) -> DatasetEntry:
        """Read an audio file (WAV, FLAC, MP3, OGG; :func:`load_clip`'s limits), then as
        :meth:`add_clip`, uploaded as ``<stem>.wav``.

        Raises:
            ProCloneError: the file cannot be read (the message says why).
            As :meth:`add_clip` otherwise.
        """
        target = Path(path)
        try:
            audio, rate = await in_thread(load_clip, target)
        except (OSError, AudioFileError) as exc:
            raise ProCloneError(f"Could not read {target.name}: {exc}") from exc
        return await self.add_clip(dataset_id, audio, rate, f"{target.stem}.wav")

    # --- the fine-tune -------------------------------------------------------------------

    async def start(self, name: str, dataset_id: str, language: str = "en") -> FineTune:
        """Start a fine-tune called ``name`` on ``dataset_id`` and watch it.

        Raises:
            ValueError: a blank name or a language outside the seed's.
            ProCloneError: not connected.
            CartesiaError: the request failed (e.g. a dataset without files).
        """
        client = self._require_client()
        tune = await client.fine_tunes.create(name=name, dataset=dataset_id,
                                              model_id=FINE_TUNE_MODEL, language=language)
        self.statuses[tune.id] = tune
        if tune.id not in self.pending:
            self.pending.append(tune.id)
            self.pending_changed.emit(list(self.pending))
        self.status_changed.emit(tune.id, tune.status, describe_status(tune))
        self._watch(tune.id)
        return tune

    def _watch(self, tune_id: str) -> None:
        if tune_id not in self._watching:
            self._watching.add(tune_id)
            self._polls.start(self._poll, tune_id)

    async def _poll(self, tune_id: str) -> None:
        """Poll ``tune_id`` until it finishes (back-off doubling to the maximum; a poll
        that fails, or passes the client's deadline, is tried again at the next step)."""
        delay = self._first_poll
        try:
            while True:
                client = self._require_client()
                try:
                    tune = await client.fine_tunes.get(tune_id)
                except NotFoundError:
                    log.warning("fine-tune %s is gone; no longer watched", tune_id)
                    self.status_changed.emit(tune_id, "failed",
                                             "The fine-tune no longer exists on this backend.")
                    self._forget(tune_id)
                    return
                except CartesiaError as exc:
                    log.warning("polling fine-tune %s failed: %s", tune_id, exc)
                else:
                    changed = self.statuses.get(tune_id) != tune
                    self.statuses[tune_id] = tune
                    if tune.finished:
                        try:
                            await self._finish(client, tune)
                            return
                        except CartesiaError as exc:  # its voices: asked again next poll
                            log.warning("listing the voices of %s failed: %s", tune_id, exc)
                    if changed:
                        self.status_changed.emit(tune_id, tune.status, describe_status(tune))
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_poll)
        finally:
            self._watching.discard(tune_id)

    async def _finish(self, client: CartesiaClient, tune: FineTune) -> None:
        if tune.status == "completed":
            voices = await client.fine_tunes.list_voices(tune.id)
            made = {v.id for v in voices} - self.pro_voices
            if made:
                self.pro_voices |= made
                self.pro_voices_changed.emit(sorted(self.pro_voices))
            await self.catalog.refresh(client)
        self._forget(tune.id)
        self.status_changed.emit(tune.id, tune.status, describe_status(tune))

    def _forget(self, tune_id: str) -> None:
        if tune_id in self.pending:
            self.pending.remove(tune_id)
            self.pending_changed.emit(list(self.pending))

    def is_pro_clone(self, voice_id: str) -> bool:
        return voice_id in self.pro_voices

    async def wait_idle(self) -> None:
        """Return once every watched fine-tune has finished (tests, shutdown)."""
        await self._polls.wait_idle()

    def shutdown(self) -> None:
        """Stop polling (the pending ids stay saved, so it resumes next time)."""
        self._polls.cancel()
        self._watching.clear()


def describe_status(tune: FineTune) -> str:
    """A user-facing line for ``tune``'s status."""
    if tune.status == "created":
        return f"{tune.name}: queued for training."
    if tune.status == "training":
        return f"{tune.name}: training…"
    if tune.status == "completed":
        return f"{tune.name}: done; its voice is in the Voices panel."
    reason = f" {tune.failure_reason}" if tune.failure_reason else ""
    return f"{tune.name}: training failed.{reason}"
