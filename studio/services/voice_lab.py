"""The voice library's actions as a QObject: preview, rename, delete, localize, clone
(issue #5), and the starred voices.

The list itself is :class:`~studio.services.voices.VoiceCatalog` (``GET /voices``, all
pages); every change here refreshes it, so a cloned or localized voice is selectable in
the script at once. Previews are cached on disk per backend and voice id: browsing the
library again costs no request (the preview file needs the Authorization header, so it
is fetched with :meth:`CartesiaClient.fetch_bytes`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import tempfile
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QObject, Signal

from studio.api import APITimeoutError, CartesiaError, ConnectionLostError, ServerError, Voice
from studio.audio.buffers import AudioFileError, decode_audio_bytes, wav_bytes
from studio.services.tasks import TaskGroup
from studio.services.threads import in_thread

if TYPE_CHECKING:
    from studio.api import CartesiaClient
    from studio.services.document import ScriptDocument
    from studio.services.voices import VoiceCatalog

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]

#: File signatures of the preview formats a backend may send, and the extension each
#: is cached under (Cartesia's previews are WAV or MP3; the offline engine's are WAV).
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"RIFF", "wav"), (b"fLaC", "flac"), (b"OggS", "ogg"), (b"ID3", "mp3"), (b"\xff\xfb", "mp3"),
    (b"\xff\xf3", "mp3"), (b"\xff\xf2", "mp3"),
)


class VoiceLabError(Exception):
    """A voice action that cannot run: no backend, or a preview that is not audio.
    The message is for the user."""


class CreationUnknownError(VoiceLabError):
    """A clone or localize request failed in a way that may have made the voice anyway
    (a 5xx, a timeout, or the connection lost after the request was sent), and listing
    the voices afterwards did not find it. Cartesia has no idempotency key, so trying
    again could make a second voice. The message is for the user; ``__cause__`` is the
    client's error."""


#: Failures after which the server may have made the voice (see ``creates=True`` in
#: :mod:`studio.api.client`: these are not retried).
_MAYBE_CREATED = (ServerError, APITimeoutError, ConnectionLostError)
UNKNOWN_OUTCOME = ("The server may have created the voice anyway; check your voices (Mine) "
                   "before trying again.")


def _safe_name(text: str) -> str:
    """``text`` as one path component (voice ids are UUIDs or slugs; anything else is
    replaced so an id can never walk out of the cache directory)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text).lstrip(".") or "_"


def _extension(data: bytes) -> str:
    for signature, extension in _SIGNATURES:
        if data.startswith(signature):
            return extension
    return "bin"


def decode_audio(data: bytes) -> tuple[FloatArray, int]:
    """An audio file's bytes as float32 mono, shape ``(frames,)``, and its rate in Hz.

    Raises:
        VoiceLabError: libsndfile cannot read it.
    """
    try:
        return decode_audio_bytes(data)
    except AudioFileError as exc:
        raise VoiceLabError(f"The preview is not audio the studio can read ({exc})") from exc


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class VoiceLab(QObject):
    """Actions on the connected backend's voices, and which voices are starred.

    Coroutines raise :class:`VoiceLabError` when there is no backend (or a preview
    cannot be decoded) and the client's :class:`~studio.api.CartesiaError` subclasses
    when a request fails (:class:`CreationUnknownError` when a clone or localize may have
    made the voice anyway); callers show the message.

    Args:
        catalog: the voice list to refresh after every change.
        document: the open script (for :meth:`blocks_using`).
        cache_dir: where previews are kept, under ``previews/<backend>/<voice id>.<ext>``.
        starred: ids of the voices starred so far (from the settings).

    Attributes:
        catalog, document, cache_dir: as given.
        starred: ids of starred voices.
        backend_kind: ``"offline"``, ``"cloud"``, or ``""`` while disconnected.

    Signals:
        connection_changed(bool): a client was set (True) or taken away (False).
        starred_changed(list): the starred ids, sorted; the app saves them.
        voice_created(object): a :class:`Voice` made by cloning or localizing, already
            in the catalog (a fuller reload of the catalog follows in the background).
    """

    connection_changed = Signal(bool)
    starred_changed = Signal(list)
    voice_created = Signal(object)

    def __init__(self, catalog: VoiceCatalog, document: ScriptDocument, cache_dir: Path,
                 starred: Iterable[str] = (), parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.document = document
        self.cache_dir = Path(cache_dir)
        self.starred: set[str] = set(starred)
        self.backend_kind = ""
        self._client: CartesiaClient | None = None
        self._fetching: dict[Path, asyncio.Future[tuple[FloatArray, int]]] = {}
        self._background = TaskGroup(what="voice list reload")

    # --- the backend -------------------------------------------------------------------

    def set_client(self, client: CartesiaClient | None, backend_kind: str = "") -> None:
        """Use ``client`` of ``backend_kind`` (``"offline"``/``"cloud"``); None while
        disconnected."""
        self._client = client
        self.backend_kind = backend_kind if client is not None else ""
        self.connection_changed.emit(client is not None)

    @property
    def connected(self) -> bool:
        return self._client is not None

    def _require_client(self) -> CartesiaClient:
        if self._client is None:
            raise VoiceLabError("Not connected: the backend is not running")
        return self._client

    async def refresh(self) -> bool:
        """Reload the catalog; False (and the catalog's ``load_failed``) on failure."""
        return await self.catalog.refresh(self._require_client())

    # --- previews ------------------------------------------------------------------------

    def _preview_dir(self) -> Path:
        return self.cache_dir / "previews" / _safe_name(self.backend_kind or "none")

    def cached_preview(self, voice_id: str) -> Path | None:
        """The cached preview file of ``voice_id`` on the current backend, if any."""
        folder = self._preview_dir()
        if not folder.is_dir():
            return None
        return next(iter(sorted(folder.glob(_safe_name(voice_id) + ".*"))), None)

    async def preview(self, voice: Voice) -> tuple[FloatArray, int]:
        """The voice's preview as float32 mono, shape ``(frames,)``, and its rate in Hz.

        Read from the disk cache when it is there; otherwise fetched (``GET /voices/{id}``
        with ``expand[]=preview_file_url`` first, when the listing had no URL), decoded
        and cached. Two calls for the same voice at once share one download.

        Raises:
            VoiceLabError: not connected, no preview for this voice, or not audio.
            CartesiaError: a request failed.
        """
        self._require_client()
        key = self._preview_dir() / _safe_name(voice.id)
        pending = self._fetching.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future = asyncio.ensure_future(self._load_preview(voice))
        self._fetching[key] = future
        try:
            return await asyncio.shield(future)
        finally:
            if future.done():
                self._fetching.pop(key, None)
            else:
                future.add_done_callback(lambda _f: self._fetching.pop(key, None))

    async def _load_preview(self, voice: Voice) -> tuple[FloatArray, int]:
        cached = self.cached_preview(voice.id)
        if cached is not None:
            try:
                data = await in_thread(cached.read_bytes)
                return await in_thread(decode_audio, data)
            except (OSError, VoiceLabError) as exc:
                log.warning("cached preview %s unreadable, fetching again: %s", cached, exc)
                cached.unlink(missing_ok=True)
        client = self._require_client()
        folder = self._preview_dir()
        url = voice.preview_file_url
        if not url:
            url = (await client.voices.get(voice.id, expand=["preview_file_url"])).preview_file_url
        if not url:
            raise VoiceLabError(f"{voice.name} has no preview")
        data = await client.fetch_bytes(url)
        audio, rate = await in_thread(decode_audio, data)
        path = folder / f"{_safe_name(voice.id)}.{_extension(data)}"
        try:
            await in_thread(_write_atomically, path, data)
        except OSError as exc:  # a full or read-only cache only costs another download
            log.warning("could not cache the preview of %s: %s", voice.id, exc)
        return audio, rate

    def _forget_preview(self, voice_id: str) -> None:
        cached = self.cached_preview(voice_id)
        if cached is not None:
            cached.unlink(missing_ok=True)

    # --- changes ---------------------------------------------------------------------

    async def rename(self, voice_id: str, name: str, description: str) -> Voice:
        """Set the voice's name and description (``PATCH /voices/{id}``) and reload the
        catalog.

        Raises:
            ValueError: an empty name.
            VoiceLabError, CartesiaError: as :meth:`preview`.
        """
        name = name.strip()
        if not name:
            raise ValueError("A voice needs a name")
        voice = await self._require_client().voices.update(voice_id, name=name,
                                                           description=description.strip())
        await self._refresh_with(voice)
        return voice

    async def delete(self, voice_id: str) -> None:
        """Delete an own voice (``DELETE /voices/{id}``), its cached preview and its star,
        and reload the catalog. Blocks using it keep the id (see :meth:`blocks_using`).

        Raises:
            VoiceLabError, CartesiaError: as :meth:`preview`.
        """
        await self._require_client().voices.delete(voice_id)
        self._forget_preview(voice_id)
        if voice_id in self.starred:
            self.set_starred(voice_id, False)
        if not await self.catalog.refresh(self._require_client()):
            # The voice is gone on the server: take it out of the list we have.
            self.catalog.voices = [v for v in self.catalog.voices if v.id != voice_id]
            self.catalog.voices_changed.emit()

    async def localize(self, *, voice_id: str, name: str, description: str, language: str,
                       original_speaker_gender: str, dialect: str | None = None) -> Voice:
        """A new voice speaking ``language`` (and ``dialect``) made from ``voice_id``
        (``POST /voices/localize``), added to the catalog.

        Raises:
            ValueError: an empty name.
            CreationUnknownError: the request failed after it may have made the voice,
                and no such voice is listed (see :meth:`_create`).
            VoiceLabError, CartesiaError: as :meth:`preview`.
        """
        if not name.strip():
            raise ValueError("A voice needs a name")
        client = self._require_client()
        return await self._create(name.strip(), lambda: client.voices.localize(
            voice_id=voice_id, name=name.strip(), description=description.strip(),
            language=language, original_speaker_gender=original_speaker_gender,
            dialect=dialect or None))

    async def clone(self, audio: npt.ArrayLike, sample_rate: int, *, name: str,
                    description: str = "", language: str = "en",
                    base_voice_id: str | None = None) -> Voice:
        """Clone a voice from ``audio`` (float32 mono, shape ``(frames,)``, at
        ``sample_rate`` Hz), uploaded as a 16-bit WAV ``clip`` (``POST /voices/clone``),
        and add it to the catalog so it is selectable at once.

        After a 5xx, a timeout or a lost connection the owned voices are listed: a new
        one with this name is the clone (Cartesia has no idempotency key; see
        :meth:`_create`).

        Raises:
            ValueError: an empty name or no audio.
            CreationUnknownError: such a failure, and no new voice of that name listed.
            VoiceLabError, CartesiaError: as :meth:`preview`.
        """
        if not name.strip():
            raise ValueError("A voice needs a name")
        samples = np.asarray(audio, dtype=np.float32)
        if samples.ndim != 1 or samples.size == 0:
            raise ValueError("There is no recording to clone")
        client = self._require_client()
        clip = await in_thread(wav_bytes, samples, sample_rate)
        return await self._create(name.strip(), lambda: client.voices.clone(
            clip, name=name.strip(), description=description.strip(), language=language,
            base_voice_id=base_voice_id, filename="clip.wav"))

    async def _create(self, name: str, request: Callable[[], Awaitable[Voice]]) -> Voice:
        """Run a request that makes an owned voice called ``name``; put the voice in the
        catalog, emit ``voice_created`` and return it, then reload the catalog in the
        background (a failed reload must not make a made voice look failed).

        The client does not retry these requests after a 5xx or a lost connection: the
        voice may exist even though the answer never came. Then the owned voices are
        listed and a new one called ``name`` is taken as the result.

        Raises:
            CreationUnknownError: such a failure, and no new voice of that name listed.
            CartesiaError: any other failure of the request (nothing was made).
        """
        client = self._require_client()
        before = await self._owned_ids()
        try:
            voice = await request()
        except _MAYBE_CREATED as exc:
            log.warning("creating voice %r failed, looking for it: %s", name, exc)
            found = await self._new_owned_voice(client, name, before)
            if found is None:
                raise CreationUnknownError(f"{exc}. {UNKNOWN_OUTCOME}") from exc
            log.info("voice %r was made after all: %s", name, found.id)
            voice = found
        self._put_in_catalog(voice)
        self.voice_created.emit(voice)
        self._background.start(self._reload_keeping, voice)
        return voice

    async def _owned_ids(self) -> set[str]:
        """Ids of the owned voices now: listed (best effort), and those in the catalog."""
        ids = {v.id for v in self.catalog.voices if v.is_owner}
        try:
            listed = await self._require_client().voices.list(is_owner=True)
        except CartesiaError as exc:
            log.warning("could not list owned voices before creating one: %s", exc)
            return ids
        return ids | {v.id for v in listed if v.is_owner}

    @staticmethod
    async def _new_owned_voice(client: CartesiaClient, name: str,
                               before: set[str]) -> Voice | None:
        """The newest owned voice called ``name`` whose id is not in ``before``, or None
        (also when the voices cannot be listed)."""
        try:
            listed = await client.voices.list(is_owner=True)
        except CartesiaError as exc:
            log.warning("could not list voices to find %r: %s", name, exc)
            return None
        made = [v for v in listed if v.is_owner and v.id not in before and v.name == name]
        return max(made, key=lambda v: v.created_at, default=None)

    async def wait_idle(self) -> None:
        """Return once the background reloads of the catalog have finished (tests,
        shutdown)."""
        await self._background.wait_idle()

    def shutdown(self) -> None:
        """Cancel the background reloads; for the app's shutdown."""
        self._background.cancel()

    async def _reload_keeping(self, voice: Voice) -> None:
        if self.connected:
            await self._refresh_with(voice)

    async def _refresh_with(self, voice: Voice) -> None:
        """Reload the catalog; if the listing does not show ``voice`` yet (the refresh
        failed, or the list lags behind), put the returned voice in it anyway."""
        refreshed = await self.catalog.refresh(self._require_client())
        listed = self.catalog.voice(voice.id)
        if refreshed and listed is not None:
            return
        self._put_in_catalog(voice)

    def _put_in_catalog(self, voice: Voice) -> None:
        """Show ``voice`` in the catalog (replacing an older copy of it)."""
        voices = list(self.catalog.voices)
        ids = [v.id for v in voices]
        if voice.id in ids:
            voices[ids.index(voice.id)] = voice
        else:
            voices.append(voice)
        self.catalog.voices = voices
        self.catalog.voices_changed.emit()

    # --- the script and the stars -------------------------------------------------------

    def blocks_using(self, voice_id: str) -> list[int]:
        """Numbers (from 1, in script order) of the blocks whose voice is ``voice_id``."""
        return [number for number, block in enumerate(self.document.blocks, start=1)
                if block.voice_id == voice_id]

    def is_starred(self, voice_id: str) -> bool:
        return voice_id in self.starred

    def set_starred(self, voice_id: str, starred: bool) -> None:
        """Star or unstar a voice; emits ``starred_changed`` when that changes anything."""
        if starred == (voice_id in self.starred):
            return
        if starred:
            self.starred.add(voice_id)
        else:
            self.starred.discard(voice_id)
        self.starred_changed.emit(sorted(self.starred))
