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
from studio.api.rate_gate import GatePolicy, RateGate, Ticket
from studio.project.model import Block, Take, copy_take
from studio.project.script import ScriptError
from studio.services.document import ScriptDocument
from studio.services.errors import describe_error, error_detail
from studio.services.playback import PlaybackService
from studio.services.render import BlockRenderer, GenerationJob, check_block, credits_for
from studio.services.stream_sequencer import StreamSequencer
from studio.services.threads import in_thread
from studio.services.voices import VoiceCatalog

log = logging.getLogger(__name__)


class TakeSink(Protocol):
    """Where finished takes go: the undoable editor in the studio, the document in tests."""

    def add_take(self, block_id: str, take: Take) -> object: ...

    def select_take(self, block_id: str, take_id: str) -> object: ...


#: Characters of text per second of speech at speed 1.0, for estimates: English
#: narration runs at about 150 words a minute, 6 characters a word with its space
#: (the client's deadlines assume the same rate, ``studio.api._constants``).
CHARACTERS_PER_SECOND = 15.0

#: The most audio, in seconds, held for playing while generating before the listening
#: stops (two minutes of float32 mono at 44.1 kHz is 21 MB): over a book the engine
#: runs far ahead of the speakers, and the audio waiting would grow with the script.
MAX_LISTEN_AHEAD_SECONDS = 120.0


@dataclass(frozen=True, slots=True)
class Estimate:
    """What generating some blocks would cost (Cartesia pricing: about one credit per
    character of TTS; the offline engine is free).

    Attributes:
        credits: credits the blocks that need a request would cost.
        generate: blocks that need a request.
        reuse: blocks that would reuse a take with the same cache key.
        free: the backend charges nothing.
        characters: characters of the blocks that need a request.
        audio_seconds: about how much speech they make: characters at
            :data:`CHARACTERS_PER_SECOND`, divided by each block's speed.
    """

    credits: int
    generate: int
    reuse: int
    free: bool
    characters: int = 0
    audio_seconds: float = 0.0

    @property
    def audio_minutes(self) -> float:
        return self.audio_seconds / 60.0


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
        paused_changed(bool): :meth:`pause` / :meth:`resume` (also False when a
            paused batch ends or is stopped).
        rate_limited(str block_id, float seconds): the block was refused with 429; every
            job waits ``seconds`` (the shared back-off of :class:`RateGate`) before
            it is sent again.
        listening_stopped(): generation ran more than :data:`MAX_LISTEN_AHEAD_SECONDS`
            ahead of what was heard, so playing while generating stopped (takes are
            still made; Play all plays them).

    Every request passes one :class:`studio.api.rate_gate.RateGate`: at most
    ``max_concurrent`` in flight (the plan's limit), none while paused, none while
    the account is rate limited; a 429 is retried after the shared back-off (it is
    not charged), a timeout or a stream dropped after audio arrived is not.

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
    paused_changed = Signal(bool)
    rate_limited = Signal(str, float)
    listening_stopped = Signal()

    def __init__(
        self,
        document: ScriptDocument,
        playback: PlaybackService,
        max_concurrent: int = 2,
        takes: TakeSink | None = None,
        catalog: VoiceCatalog | None = None,
        parent: QObject | None = None,
        gate_policy: GatePolicy | None = None,
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
        self._gate = RateGate(max_concurrent, gate_policy)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._started: set[str] = set()  # blocks whose job_started was emitted
        self._done = 0
        self._total = 0
        #: characters of the batch's blocks sent for generation, and of those over
        self._chars_total = 0
        self._chars_done = 0
        self._task_chars: dict[str, int] = {}
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
        """Requests in flight at once (the plan's concurrency limit), from now on:
        queued jobs too; jobs in flight go on."""
        self._gate.set_limit(value)

    @property
    def gate(self) -> RateGate:
        """The gate every request passes (concurrency, pause, shared back-off)."""
        return self._gate

    @property
    def paused(self) -> bool:
        return self._gate.paused

    def pause(self) -> None:
        """Start no new request: jobs in flight finish, queued ones wait for
        :meth:`resume` (or :meth:`stop`). No-op when idle or already paused."""
        if self._tasks and not self._gate.paused:
            self._gate.pause()
            self.paused_changed.emit(True)

    def resume(self) -> None:
        """Go on after :meth:`pause`."""
        if self._gate.paused:
            self._gate.resume()
            self.paused_changed.emit(False)

    @property
    def characters(self) -> tuple[int, int]:
        """(characters of the batch's blocks over, characters of all it sends for
        generation): what an ETA is weighted by. Blocks reused from the take cache at
        once are not counted."""
        return self._chars_done, self._chars_total

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
        credits = generate = reuse = characters = 0
        seconds = 0.0
        batch: set[str] = set()  # identical blocks in one batch are paid for once
        for block_id in block_ids:
            block = self._document.block(block_id)
            key = self._key(block)
            fresh = force or block.flagged
            if key and (key in batch or (not fresh and self._document.has_take_with_key(key))):
                reuse += 1
                continue
            batch.add(key)
            generate += 1
            text = block.text.strip()
            characters += len(text)
            seconds += len(text) / CHARACTERS_PER_SECOND / max(block.speed, 0.1)
            if not free:
                credits += credits_for(text, "cloud")
        return Estimate(credits, generate, reuse, free, characters, seconds)

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
        an existing take reuse it, unless ``force`` (the "New take" action) or the
        block is flagged for a retake.
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
            self._chars_done = self._chars_total = 0
            self._started.clear()
        self._total += len(ids)
        renderer = self._renderer
        sequencer = None
        if play:
            stream_id = self._playback.begin_stream(renderer.sample_rate)
            sequencer = StreamSequencer(
                self._playback, stream_id, ids, round(pause_seconds * renderer.sample_rate),
                max_ahead_frames=round(MAX_LISTEN_AHEAD_SECONDS * renderer.sample_rate),
                on_give_up=self.listening_stopped.emit)
        was_busy = self.busy
        # Identical blocks in one batch are paid for once: the first renders, the
        # others wait for it and reuse its take.
        leaders: dict[str, asyncio.Task[None]] = {}
        for block_id in ids:
            block = self._document.block(block_id) if self._document.has_block(block_id) else None
            key = self._key(block) if block is not None else ""
            # A block flagged for a retake was judged wrong: reusing its identical take
            # would give the same performance back, so it is made afresh.
            fresh = force or (block is not None and block.flagged)
            if block is not None and key and not fresh and sequencer is None:
                # Nothing to play and a take already sounds like it: reuse it now, no
                # task (a cached book's Generate all is one pass over its blocks).
                hit = self._document.cached_take(key, prefer_block=block_id)
                if hit is not None:
                    self._use_cached(block_id, hit)
                    self._done += 1
                    continue
            leader = leaders.get(key) if key else None
            task = asyncio.ensure_future(
                self._run(renderer, block_id, sequencer, fresh, leader))
            self._tasks[block_id] = task
            chars = len(block.text.strip()) if block is not None else 0
            self._task_chars[block_id] = chars
            self._chars_total += chars
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
        sequencer: StreamSequencer | None,
        force: bool = False,
        leader: asyncio.Task[None] | None = None,
    ) -> None:
        delivered: list[bool] = []  # non-empty once the server sent audio: no retry then
        try:
            if leader is not None:
                await asyncio.wait([leader])  # its outcome is its own business
                if await self._reuse(block_id, sequencer, fresh_only=force):
                    return
            elif not force and await self._reuse(block_id, sequencer):
                return
            take = await self._gate.call(
                lambda ticket: self._send(renderer, block_id, sequencer, ticket, delivered),
                may_retry=lambda: not delivered,
                on_wait=lambda seconds: self.rate_limited.emit(block_id, seconds))
            if take is None:
                return  # removed while it waited for its turn
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
            self._started.discard(block_id)
            self._chars_done += self._task_chars.pop(block_id, 0)
            self._done += 1
            self.progress_changed.emit(self._done, self._total)
            if not self._tasks:
                self.resume()  # a paused batch that ended needs no Resume
                self._idle.set()
                self.busy_changed.emit(False)

    async def _send(self, renderer: BlockRenderer, block_id: str,
                    sequencer: StreamSequencer | None, ticket: Ticket,
                    delivered: list[bool]) -> Take | None:
        """One request for ``block_id``, once the gate admitted it (``ticket``); None
        when the block was removed meanwhile. The first audio tells the gate the
        server accepted the request and marks it ``delivered`` (a later failure is
        then not retried: it may have been billed)."""
        if not self._document.has_block(block_id):
            return None
        block = self._document.block(block_id)
        self._check_voice(block)
        self._check_dictionary(block)
        dict_id = self._document.dictionary_id_for(block)
        if dict_id and self.dictionary_ready is not None:
            await self.dictionary_ready(dict_id)
            if not self._document.has_block(block_id):
                return None
        check_block(block)
        # The job computed when the batch was planned, unless the block, its
        # dictionary or the backend changed while it waited.
        job = (self.job(block) if renderer is self._renderer else None) or renderer.job(
            block, self._document.dictionary_use(block))
        if block_id not in self._started:
            self._started.add(block_id)
            self.job_started.emit(block_id)

        def on_audio(samples: npt.NDArray[np.float32]) -> None:
            if not delivered:
                delivered.append(True)
                self._gate.accepted(ticket)
            if sequencer is not None:
                sequencer.feed(block_id, samples)

        return await renderer.render(
            job, on_audio=on_audio,
            on_progress=lambda f: self.job_progressed.emit(block_id, f))

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
            task.cancel()  # cancels their waits at the gate at once
        self.resume()
        self._playback.stop()

    def cancel(self, block_id: str) -> None:
        """Cancel the job of ``block_id`` only (others go on); no-op if none."""
        task = self._tasks.get(block_id)
        if task is not None:
            task.cancel()

    async def wait_idle(self) -> None:
        """Resolve when no job is running (for tests and shutdown)."""
        await self._idle.wait()
