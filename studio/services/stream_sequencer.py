"""Streamed audio of several blocks to one player, in script order."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from studio.services.playback import PlaybackService


class StreamSequencer:
    """Feeds streamed audio of several blocks to one player in script order.

    Block *i*'s chunks go straight to the player while every earlier block is
    finished; otherwise they wait in memory until it is their turn. ``pause_frames``
    of silence separate consecutive blocks. Everything goes to stream ``stream_id``
    of the playback service, so once the user plays something else this sequencer
    falls silent on its own.

    Generation runs faster than real time (the offline engine by far), so over a long
    batch the audio waiting to be heard would grow with the script. Once more than
    ``max_ahead_frames`` wait (in this sequencer and in the player's backlog) the
    sequencer stops listening: what is queued plays out, nothing more is kept, and
    ``on_give_up`` is called once. Play all plays the takes afterwards.
    """

    def __init__(
        self, playback: PlaybackService, stream_id: int, order: Sequence[str], pause_frames: int,
        max_ahead_frames: int | None = None, on_give_up: Callable[[], None] | None = None,
    ) -> None:
        self._playback = playback
        self._stream_id = stream_id
        self._order = list(order)
        self._pause = np.zeros(pause_frames, dtype=np.float32)
        self._pending: dict[str, list[npt.NDArray[np.float32]]] = {b: [] for b in order}
        self._pending_frames = 0
        self._finished: set[str] = set()
        self._next = 0
        self._max_ahead = max_ahead_frames
        self._on_give_up = on_give_up
        self.gave_up = False

    def _current(self) -> str | None:
        return self._order[self._next] if self._next < len(self._order) else None

    def feed(self, block_id: str, samples: npt.NDArray[np.float32]) -> None:
        if self.gave_up:
            return
        if block_id == self._current():
            self._playback.write(self._stream_id, samples)
        elif block_id in self._pending:
            self._pending[block_id].append(samples)
            self._pending_frames += samples.shape[0]
        if (self._max_ahead is not None
                and self._pending_frames + self._playback.backlog_frames > self._max_ahead):
            self._give_up()

    def _give_up(self) -> None:
        self.gave_up = True
        self._pending.clear()
        self._pending_frames = 0
        self._playback.end_stream(self._stream_id)
        if self._on_give_up is not None:
            self._on_give_up()

    def finish(self, block_id: str) -> None:
        """``block_id`` has no more audio (it completed, failed or was stopped)."""
        if self.gave_up:
            return
        self._finished.add(block_id)
        while (current := self._current()) is not None and current in self._finished:
            self._next += 1
            following = self._current()
            if following is None:
                self._playback.end_stream(self._stream_id)
                return
            self._playback.write(self._stream_id, self._pause)
            for chunk in self._pending.pop(following, []):
                self._pending_frames -= chunk.shape[0]
                self._playback.write(self._stream_id, chunk)
