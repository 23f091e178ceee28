"""Generation jobs as a QObject: render blocks concurrently (bounded), keep every
take that completes, stream audio to the speakers in script order.

Each job is an asyncio task on the qasync loop; :meth:`GenerationService.stop`
cancels them, which cancels their WebSocket contexts on the server. A failed block
never affects the takes of others.

Before paying for a generation, a job looks for a take with the same cache key
(:mod:`studio.project.cache`) anywhere in the script and reuses it: no request, no
credits. "New take" (``force``) skips the lookup.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QObject, Signal

from studio.api import CartesiaError
from studio.project.model import Block, Take, copy_take
from studio.project.script import ScriptError
from studio.services.document import ScriptDocument
from studio.services.errors import describe_error, error_detail
from studio.services.playback import PlaybackService
from studio.services.render import BlockRenderer, GenerationJob, check_block, credits_for
from studio.services.threads import in_thread
from studio.services.voices import VoiceCatalog

log = logging.getLogger(__name__)


class StreamSequencer:
    """Feeds streamed audio of several blocks to one player in script order.

    Block *i*'s chunks go straight to the player while every earlier block is
    finished; otherwise they wait in memory until it is their turn. ``pause_frames``
    of silence separate consecutive blocks. Everything goes to stream ``stream_id``
    of the playback service, so once the user plays something else this sequencer
    falls silent on its own.
    """

    def __init__(
        self, playback: PlaybackService, stream_id: int, order: Sequence[str], pause_frames: int
    ) -> None:
        self._playback = playback
        self._stream_id = stream_id
        self._order = list(order)
        self._pause = np.zeros(pause_frames, dtype=np.float32)
        self._pending: dict[str, list[npt.NDArray[np.float32]]] = {b: [] for b in order}
        self._finished: set[str] = set()
        self._next = 0

    def _current(self) -> str | None:
        return self._order[self._next] if self._next < len(self._order) else None

    def feed(self, block_id: str, samples: npt.NDArray[np.float32]) -> None:
        if block_id == self._current():
            self._playback.write(self._stream_id, samples)
        elif block_id in self._pending:
            self._pending[block_id].append(samples)

    def finish(self, block_id: str) -> None:
        """``block_id`` has no more audio (it completed, failed or was stopped)."""
        self._finished.add(block_id)
        while (current := self._current()) is not None and current in self._finished:
            self._next += 1
            following = self._current()
            if following is None:
                self._playback.end_stream(self._stream_id)
                return
            self._playback.write(self._stream_id, self._pause)
            for chunk in self._pending.pop(following, []):
                self._playback.write(self._stream_id, chunk)


class TakeSink(Protocol):
    """Where finished takes go: the undoable editor in the studio, the document in tests."""

    def add_take(self, block_id: str, take: Take) -> object: ...

    def select_take(self, block_id: str, take_id: str) -> object: ...


@dataclass(frozen=True, slots=True)
class Estimate:
    """What generating some blocks would cost (Cartesia pricing: about one credit per
    character of TTS; the offline engine is free).

    Attributes:
        credits: credits the blocks that need a request would cost.
        generate: blocks that need a request.
        reuse: blocks that would reuse a take with the same cache key.
        free: the backend charges nothing.
    """

    credits: int
    generate: int
    reuse: int
    free: bool


class GenerationService(QObject):
    """Runs generation jobs for blocks of a :class:`ScriptDocument`.

    Signals:
        job_started(str block_id)
        job_progressed(str block_id, float fraction): share of the block's words
            rendered so far, 0..1.
        job_finished(str block_id, str take_id): a new take was generated.
        job_reused(str block_id, str take_id): a take with the same cache key was
            reused instead (no request, no credits).
        job_failed(str block_id, str message): user-facing reason.
        progress_changed(int done, int total): over the current batch.
        busy_changed(bool)

    ``catalog``, when given, is the connected backend's voice list: a block whose voice
    it lacks is refused before any request.

    Attributes:
        dictionary_ready: awaited with a block's dictionary id before it is rendered,
            so the server has the entries the take will record (the app waits for the
            dictionary's pending save); raises ``ScriptError`` to fail the block.
    """

    job_started = Signal(str)
    job_progressed = Signal(str, float)
    job_finished = Signal(str, str)
    job_reused = Signal(str, str)
    job_failed = Signal(str, str)
    progress_changed = Signal(int, int)
    busy_changed = Signal(bool)

    def __init__(
        self,
        document: ScriptDocument,
        playback: PlaybackService,
        max_concurrent: int = 3,
        takes: TakeSink | None = None,
        catalog: VoiceCatalog | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._document = document
        self._catalog = catalog
        self._takes: TakeSink = takes if takes is not None else document
        self._playback = playback
        self._renderer: BlockRenderer | None = None
        #: block id -> its job, computed once while the block and dictionary stay as
        #: they are (:meth:`job`)
        self._jobs: dict[str, GenerationJob] = {}
        document.block_removed.connect(lambda _index, block_id: self._jobs.pop(block_id, None))
        document.blocks_removed.connect(
            lambda removed: [self._jobs.pop(block_id, None) for _index, block_id in removed])
        document.reset.connect(self._jobs.clear)
        self.dictionary_ready: Callable[[str], Awaitable[None]] | None = None
        self._limit = asyncio.Semaphore(max(1, max_concurrent))
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._done = 0
        self._total = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def set_renderer(self, renderer: BlockRenderer | None) -> None:
        """Use ``renderer`` for new jobs (``None`` until a backend is connected)."""
        self._renderer = renderer
        self._jobs.clear()

    def job(self, block: Block) -> GenerationJob | None:
        """``block``'s request, cache key and dictionary use (:meth:`BlockRenderer.job`),
        computed once and kept while the block and its dictionary are unchanged;
        ``None`` when no backend is connected or the block has no text or no voice."""
        renderer = self._renderer
        if renderer is None or not block.text.strip() or not block.voice_id:
            return None
        dictionary = self._document.dictionary_use(block)
        job = self._jobs.get(block.id)
        if job is None or not job.is_for(block, dictionary):
            job = self._jobs[block.id] = renderer.job(block, dictionary)
        return job

    def set_max_concurrent(self, value: int) -> None:
        """Blocks rendered at once from now on (jobs already queued keep the old limit)."""
        self._limit = asyncio.Semaphore(max(1, value))

    @property
    def busy(self) -> bool:
        """Whether any job is queued or running."""
        return bool(self._tasks)

    @property
    def ready(self) -> bool:
        """Whether a backend is connected, so jobs can start."""
        return self._renderer is not None

    def running(self, block_id: str) -> bool:
        """Whether ``block_id`` has a job queued or running."""
        return block_id in self._tasks

    def cached_take(self, block: Block) -> tuple[Block, Take] | None:
        """A take anywhere in the script that sounds exactly like what generating
        ``block`` now would give, or ``None`` (also when no backend is connected)."""
        job = self.job(block)
        if job is None or not job.key:
            return None
        return self._document.cached_take(job.key, prefer_block=block.id)

    def estimate(self, block_ids: Sequence[str], force: bool = False) -> Estimate:
        """The cost of ``generate(block_ids, force=force)``, before any request.

        Runs on the UI thread as the script changes, so it is linear: one job per
        block (computed once, :meth:`job`), its key looked up in the script's index."""
        renderer = self._renderer
        free = renderer is None or renderer.backend == "offline"
        credits = generate = reuse = 0
        batch: set[str] = set()  # identical blocks in one batch are paid for once
        for block_id in block_ids:
            block = self._document.block(block_id)
            key = self._key(block)
            if key and (key in batch or (not force and self._document.has_take_with_key(key))):
                reuse += 1
                continue
            batch.add(key)
            generate += 1
            if not free:
                credits += credits_for(block.text.strip(), "cloud")
        return Estimate(credits, generate, reuse, free)

    def generate(
        self,
        block_ids: Sequence[str],
        *,
        play: bool = False,
        pause_seconds: float = 0.0,
        force: bool = False,
    ) -> None:
        """Start jobs for ``block_ids`` (blocks already running are skipped).

        With ``play``, audio streams to the speakers as it arrives, in script order,
        with ``pause_seconds`` of silence between blocks. Blocks whose request matches
        an existing take reuse it, unless ``force`` (the "New take" action).
        """
        if self._renderer is None:
            for block_id in block_ids:
                self.job_failed.emit(block_id, "the backend is not connected yet")
            return
        ids = [b for b in block_ids if b not in self._tasks]
        if not ids:
            return
        if not self._tasks:
            self._done = self._total = 0
        self._total += len(ids)
        renderer = self._renderer
        sequencer = None
        if play:
            stream_id = self._playback.begin_stream(renderer.sample_rate)
            sequencer = StreamSequencer(
                self._playback, stream_id, ids, round(pause_seconds * renderer.sample_rate)
            )
        limit = self._limit
        was_busy = self.busy
        # Identical blocks in one batch are paid for once: the first renders, the
        # others wait for it and reuse its take.
        leaders: dict[str, asyncio.Task[None]] = {}
        for block_id in ids:
            block = self._document.block(block_id) if self._document.has_block(block_id) else None
            key = self._key(block) if block is not None else ""
            if block is not None and key and not force and sequencer is None:
                # Nothing to play and a take already sounds like it: reuse it now, no
                # task (a cached book's Generate all is one pass over its blocks).
                hit = self._document.cached_take(key, prefer_block=block_id)
                if hit is not None:
                    self._use_cached(block_id, hit)
                    self._done += 1
                    continue
            leader = leaders.get(key) if key else None
            task = asyncio.ensure_future(
                self._run(renderer, block_id, limit, sequencer, force, leader))
            self._tasks[block_id] = task
            if key and leader is None:
                leaders[key] = task
        self.progress_changed.emit(self._done, self._total)
        if self._tasks:
            self._idle.clear()
            if not was_busy:
                self.busy_changed.emit(True)

    async def _run(
        self,
        renderer: BlockRenderer,
        block_id: str,
        limit: asyncio.Semaphore,
        sequencer: StreamSequencer | None,
        force: bool = False,
        leader: asyncio.Task[None] | None = None,
    ) -> None:
        try:
            if leader is not None:
                await asyncio.wait([leader])  # its outcome is its own business
                if await self._reuse(block_id, sequencer, fresh_only=force):
                    return
            elif not force and await self._reuse(block_id, sequencer):
                return
            async with limit:
                if not self._document.has_block(block_id):
                    return  # removed while it waited for its turn
                block = self._document.block(block_id)
                self._check_voice(block)
                self._check_dictionary(block)
                dict_id = self._document.dictionary_id_for(block)
                if dict_id and self.dictionary_ready is not None:
                    await self.dictionary_ready(dict_id)
                    if not self._document.has_block(block_id):
                        return
                check_block(block)
                # The job computed when the batch was planned, unless the block, its
                # dictionary or the backend changed while it waited.
                job = (self.job(block) if renderer is self._renderer else None) or renderer.job(
                    block, self._document.dictionary_use(block))
                self.job_started.emit(block_id)
                on_audio = (lambda s: sequencer.feed(block_id, s)) if sequencer else None
                take = await renderer.render(
                    job,
                    on_audio=on_audio,
                    on_progress=lambda f: self.job_progressed.emit(block_id, f),
                )
            if not self._document.has_block(block_id):
                return  # removed while it rendered
            self._takes.add_take(block_id, take)
            self.job_finished.emit(block_id, take.id)
        except asyncio.CancelledError:
            self.job_failed.emit(block_id, "stopped")
        except (CartesiaError, ScriptError) as exc:
            log.warning("block %s failed: %s", block_id, error_detail(exc))
            # In a creator's words (the server's own for a refused request), without the
            # HTTP status or socket errno a user has no use for: those are in the log.
            self.job_failed.emit(block_id, describe_error(exc))
        except Exception as exc:  # a bug must not take the studio down or lose other takes
            log.exception("block %s failed unexpectedly", block_id)
            self.job_failed.emit(block_id, f"unexpected error: {exc}")
        finally:
            if sequencer is not None:
                sequencer.finish(block_id)
            self._tasks.pop(block_id, None)
            self._done += 1
            self.progress_changed.emit(self._done, self._total)
            if not self._tasks:
                self._idle.set()
                self.busy_changed.emit(False)

    def _check_voice(self, block: Block) -> None:
        """Refuse, before any request, a block whose voice the connected backend does not
        list (a voice cloned on the offline engine is unknown to the cloud, and the other
        way round), or whose backend's list is not loaded, so nothing can be checked.

        Raises:
            ScriptError: naming the voice and what to do.
        """
        catalog = self._catalog
        if catalog is None or not block.voice_id or catalog.voice(block.voice_id) is not None:
            return
        name = f'"{catalog.name_of(block.voice_id)}"'
        if not catalog.loaded:
            raise ScriptError(f"the voice list of this backend has not loaded, so the voice "
                              f"{name} cannot be checked: reconnect, then generate again")
        raise ScriptError(f"the voice {name} is not in this backend's voices: choose "
                          "another voice for this block")

    def _check_dictionary(self, block: Block) -> None:
        """Refuse, before paying, a block whose dictionary the backend no longer has.

        Raises:
            ScriptError: naming the dictionary and what to do.
        """
        dict_id = self._document.dictionary_id_for(block)
        if dict_id and self._document.is_available(dict_id) is False:
            known = self._document.dictionary(dict_id)
            name = f'"{known[0]}"' if known else dict_id
            raise ScriptError(
                f"the pronunciation dictionary {name} is no longer on the server: recreate it "
                "from the project's copy (Dictionaries panel) or choose another for this block")

    def _key(self, block: Block) -> str:
        """The cache key of ``block`` ("" when it cannot render)."""
        job = self.job(block)
        return job.key if job is not None else ""

    def _newest_elsewhere(self, block: Block) -> tuple[Block, Take] | None:
        """The newest take of another block that sounds like ``block`` would."""
        key = self._key(block)
        return self._document.newest_take_with_key(key, exclude_block=block.id) if key else None

    async def _reuse(self, block_id: str, sequencer: StreamSequencer | None,
                     fresh_only: bool = False) -> bool:
        """Reuse a cached take for ``block_id`` if there is one; True if it did. With
        ``fresh_only`` (a forced batch), the newest identical take of another block is
        used: the one its leader just made, so identical blocks share one fresh take."""
        if not self._document.has_block(block_id):
            return False
        block = self._document.block(block_id)
        hit = self._newest_elsewhere(block) if fresh_only else self.cached_take(block)
        if hit is None:
            return False
        if sequencer is not None:
            audio = await in_thread(lambda: hit[1].audio)  # may read the project file
            sequencer.feed(block_id, audio)
        if not self._document.has_block(block_id):
            return True
        self._use_cached(block_id, hit)
        return True

    def _use_cached(self, block_id: str, hit: tuple[Block, Take]) -> None:
        """Make ``hit`` (a take that sounds as generating ``block_id`` would) the
        block's take: selected if it is the block's own, else a free copy that shares
        its audio."""
        owner, take = hit
        if owner.id == block_id:
            self._takes.select_take(block_id, take.id)
        else:
            take = copy_take(self._document.block(block_id), take)
            self._takes.add_take(block_id, take)
        log.info("block %s reuses %s (cache hit)", block_id, take.name)
        self.job_reused.emit(block_id, take.id)

    def stop(self) -> None:
        """Cancel every running job; completed takes stay."""
        for task in list(self._tasks.values()):
            task.cancel()
        self._playback.stop()

    def cancel(self, block_id: str) -> None:
        """Cancel the job of ``block_id`` only (others go on); no-op if none."""
        task = self._tasks.get(block_id)
        if task is not None:
            task.cancel()

    async def wait_idle(self) -> None:
        """Resolve when no job is running (for tests and shutdown)."""
        await self._idle.wait()
