"""Listening to the script as it will export: one block's selected take, or a run of
blocks (Play all, Play chapter) in order with the pause between them, always with the
takes' edits applied, and a playhead that follows it.

Reading a take from the project file, applying its edits and resampling are slow, so
they run in a worker thread (STYLE.md, napari: a request built on the UI thread, run in
an executor, applied back on the loop); the window only asks.

A run is streamed block by block through the :class:`PlaybackService` queue: a block's
audio is read only when less than :data:`LOOKAHEAD_SECONDS` remain queued ahead of the
playhead, so playing a book holds about that much audio, not the book. As blocks are
queued their places go into a :class:`~studio.project.play_timeline.PlayTimeline`
(pauses included); the service's position is looked up there to say which block plays
(``now_playing``), and skipping to the next or previous block restarts the stream at
that block's start.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QObject, Signal

from studio.audio.buffers import resample
from studio.project.edited_audio import edited
from studio.project.model import Take
from studio.project.play_timeline import PlayTimeline
from studio.services.document import ScriptDocument
from studio.services.playback import PlaybackService
from studio.services.tasks import TaskGroup
from studio.services.threads import in_thread

log = logging.getLogger(__name__)

#: Audio queued ahead of the playhead before the next block is read, seconds.
LOOKAHEAD_SECONDS = 20.0


def take_audio_at(take: Take, sample_rate: int) -> npt.NDArray[np.float32]:
    """``take`` as it plays (edits applied), float32 mono ``(frames,)`` at
    ``sample_rate`` Hz (resampled with soxr when the take's rate differs).

    Raises:
        studio.project.store.ProjectError: the take's audio cannot be read.
        EditError: its edits cannot be applied.
    """
    audio = edited(take).audio
    if take.sample_rate != sample_rate:
        return resample(audio, take.sample_rate, sample_rate)
    return audio


class ScriptPlayback(QObject):
    """Plays blocks' selected takes through a :class:`PlaybackService`.

    Args:
        document: the script.
        playback: where the audio goes.
        pause: the silence between blocks now, seconds.

    Signals:
        failed(str message): a take could not be read (a project file that fails, for
            instance); a run stops after the blocks queued before it.
        now_playing(str block_id): the block heard now in a Play all / Play chapter run
            changed; "" when the run ended (played out, stopped, or another playback
            took the output).
    """

    failed = Signal(str)
    now_playing = Signal(str)

    def __init__(self, document: ScriptDocument, playback: PlaybackService,
                 pause: Callable[[], float], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.playback = playback
        self._pause = pause
        self._tasks = TaskGroup(lambda exc: self.failed.emit(str(exc)), what="script playback")
        self._order: list[str] = []
        self._stream = 0
        self._timeline: PlayTimeline | None = None
        self._position = 0.0
        self._now = ""
        self._switching = False
        self._room: asyncio.Future[None] | None = None
        self._feeder: asyncio.Task[None] | None = None
        playback.position_changed.connect(self._on_position)
        playback.stopped.connect(self._on_stopped)

    # --- state ----------------------------------------------------------------------

    @property
    def playing_block_id(self) -> str:
        """The block heard now in a run ("" when no run plays)."""
        return self._now

    @property
    def is_running(self) -> bool:
        """Whether a Play all / Play chapter run is playing (paused included)."""
        return bool(self._stream) and self.playback.is_current(self._stream)

    @property
    def timeline(self) -> PlayTimeline | None:
        """The running stream's timeline (blocks queued so far), None when none runs."""
        return self._timeline if self.is_running else None

    # --- one block ------------------------------------------------------------------

    def play_block(self, block_id: str) -> bool:
        """Play the selected take of ``block_id`` as edited; False when it has none.

        Raises:
            KeyError: no such block.
        """
        take = self.document.block(block_id).selected_take
        if take is None:
            return False
        if take.source.loaded and not take.edits:
            self.playback.play(take.audio, take.sample_rate)
        else:
            self._tasks.start(self._play_edited, take)
        return True

    async def _play_edited(self, take: Take) -> None:
        audio = (await in_thread(edited, take)).audio
        self.playback.play(audio, take.sample_rate)

    # --- runs -----------------------------------------------------------------------

    def play_all(self) -> bool:
        """Play every block's selected take in order, the pause between them; False
        when no block has a take."""
        document = self.document
        return self.play_blocks(document.block_at(i).id for i in range(len(document)))

    def play_blocks(self, block_ids: Iterable[str], start_at: str = "") -> bool:
        """Play the selected takes of ``block_ids`` in that order (blocks without a take
        are passed over), from ``start_at`` if given and among them; False when none
        has a take (nothing changes then).

        Raises:
            KeyError: an id names no block.
        """
        order = [i for i in block_ids if self.document.block(i).selected_take is not None]
        if not order:
            return False
        self._start(order, order.index(start_at) if start_at in order else 0)
        return True

    def skip(self, delta: int) -> bool:
        """Go ``delta`` blocks forward (1: next) or back (-1: previous) in the run,
        from that block's start; playing resumes if paused. Past the last block the
        run stops. False when no run plays."""
        if not self.is_running or self._now not in self._order:
            return False
        index = self._order.index(self._now) + delta
        if index >= len(self._order):
            self.playback.stop()
            return True
        self._start(self._order, max(index, 0))
        return True

    def stop(self) -> None:
        """Stop the run (and whatever plays)."""
        self.playback.stop()

    def _start(self, order: list[str], index: int) -> None:
        if self._feeder is not None:
            self._feeder.cancel()
        take = self.document.block(order[index]).selected_take
        assert take is not None
        rate = take.sample_rate
        self._switching = True  # begin_stream stops the old stream: not the run's end
        try:
            stream = self.playback.begin_stream(rate)
        finally:
            self._switching = False
        self._order = order
        self._stream = stream
        self._timeline = PlayTimeline(rate, max(0.0, self._pause()))
        self._position = 0.0
        self._feeder = self._tasks.start(self._feed, stream, self._timeline, order[index:])

    async def _feed(self, stream: int, timeline: PlayTimeline, block_ids: list[str]) -> None:
        try:
            for block_id in block_ids:
                if not self.document.has_block(block_id):
                    continue  # removed while the run played
                take = self.document.block(block_id).selected_take
                if take is None:
                    continue
                audio = await in_thread(take_audio_at, take, timeline.sample_rate)
                if not self.playback.is_current(stream):
                    return
                gap = timeline.gap_before_next()
                if gap:
                    self.playback.write(stream, np.zeros(gap, dtype=np.float32))
                self.playback.write(stream, audio)
                timeline.append(block_id, audio.shape[0])
                if len(timeline) == 1:
                    self._on_position(self._position)
                del audio  # the queue holds it now; only the lookahead stays in memory
                while (self.playback.is_current(stream)
                       and timeline.end_seconds - self._position > LOOKAHEAD_SECONDS):
                    # Woken by every position poll (each 30 ms while playing) and by stop.
                    self._room = asyncio.get_event_loop().create_future()
                    await self._room
        finally:
            if self.playback.is_current(stream):
                self.playback.end_stream(stream)

    def _on_position(self, seconds: float) -> None:
        if not self._stream or not self.playback.is_current(self._stream):
            return
        self._position = seconds
        self._wake()
        entry = self._timeline.entry_at(seconds) if self._timeline is not None else None
        if entry is not None and entry.block_id != self._now:
            self._now = entry.block_id
            self.now_playing.emit(entry.block_id)

    def _on_stopped(self) -> None:
        if self._switching or not self._stream:
            return
        self._stream = 0
        self._timeline = None
        self._wake()
        if self._now:
            self._now = ""
            self.now_playing.emit("")

    def _wake(self) -> None:
        if self._room is not None and not self._room.done():
            self._room.set_result(None)

    async def wait_idle(self) -> None:
        """Return once every take asked for has been read and started, and a run has
        queued all its blocks (tests)."""
        await self._tasks.wait_idle()

    def shutdown(self) -> None:
        """Stop reading takes (for the app's shutdown)."""
        self._tasks.cancel()
