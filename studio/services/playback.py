"""Playback as a QObject: whole takes, the whole script, or audio as it streams in.

Wraps ``studio.audio.playback``: the PortAudio callback only copies from a
preallocated ring buffer; this service writes into it from the event loop and polls
the play position on a QTimer (Friture's display-timer pattern, STYLE.md).
When no device or no PortAudio exists the player is a null output and
``notice_changed`` carries the reason for the status bar.

Audio that does not fit in the player's ring buffer waits in a backlog (references
to the arrays, no copies) and is topped up on every poll, so a stream longer than
the ring buffer (an hour-long block generated far faster than real time) plays
out whole instead of being cut.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QObject, QTimer, Signal

from studio.audio.playback import open_player

log = logging.getLogger(__name__)

POLL_INTERVAL_MS = 30


class PlaybackService(QObject):
    """Plays float32 mono audio, shape ``(frames,)``.

    Signals:
        started(): playback began.
        stopped(): playback ended, by reaching the end or by :meth:`stop`.
        position_changed(float): seconds played since :meth:`play` or :meth:`begin_stream`.
        notice_changed(str): why there is no sound ("" when a device plays).
        stuttered(int count): the device ran dry ``count`` times so far in this playback
            (PortAudio's ``output_underflow``); a larger output buffer helps.
        paused_changed(bool paused): :meth:`pause` or :meth:`resume` took effect (a new
            playback, or the end of one, also clears the pause: emitted False then).

    ``output_buffer_ms`` is the output latency asked of PortAudio, in milliseconds (0:
    its low-latency default); :meth:`set_output_buffer` changes it for the next player.
    """

    started = Signal()
    stopped = Signal()
    position_changed = Signal(float)
    notice_changed = Signal(str)
    stuttered = Signal(int)
    paused_changed = Signal(bool)

    def __init__(
        self,
        device: str | None = None,
        player_factory: Callable[..., Any] = open_player,
        parent: QObject | None = None,
        output_buffer_ms: int = 0,
    ) -> None:
        super().__init__(parent)
        self._device = device or None
        self._output_buffer_ms = max(0, int(output_buffer_ms))
        self._stutters_reported = 0
        self._factory = player_factory
        self._player: Any = None
        self._done_task: asyncio.Task[None] | None = None
        self._playing = False
        self._stream_id = 0
        self._backlog: deque[npt.NDArray[np.float32]] = deque()
        self._input_ended = False
        self._paused = False
        self.notice = ""
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_INTERVAL_MS)
        self._timer.timeout.connect(self._on_poll)

    @property
    def is_playing(self) -> bool:
        """Whether a stream is playing (or waiting for audio)."""
        return self._playing

    @property
    def is_paused(self) -> bool:
        """Whether the playing stream is held by :meth:`pause`."""
        return self._paused

    def pause(self) -> bool:
        """Hold the playing stream where it is (the player plays silence and its
        position stops; see :meth:`studio.audio.playback.StreamPlayer.pause`). Returns
        whether it is paused now: False when nothing plays or the player cannot pause."""
        hold = getattr(self._player, "pause", None)
        if not self._playing or hold is None:
            return False
        if not self._paused:
            hold()
            self._paused = True
            self.paused_changed.emit(True)
        return True

    def resume(self) -> None:
        """Go on from where :meth:`pause` held the stream; nothing when not paused."""
        if not self._paused:
            return
        self._paused = False
        go_on = getattr(self._player, "resume", None)
        if go_on is not None:
            go_on()
        self.paused_changed.emit(False)

    @property
    def is_null(self) -> bool:
        """Whether the current player is a null output (no device)."""
        return bool(self._player is not None and self._player.is_null)

    def set_output_buffer(self, milliseconds: int) -> None:
        """Ask PortAudio for ``milliseconds`` of output latency from the next playback
        on (0: its low-latency default)."""
        milliseconds = max(0, int(milliseconds))
        if milliseconds == self._output_buffer_ms:
            return
        self._output_buffer_ms = milliseconds
        if self._player is not None and not self._playing:
            self._player.close()  # the next playback opens a stream with the new latency
            self._player = None

    def _player_for(self, sample_rate: int) -> Any:
        self._stutters_reported = 0
        if self._player is not None and self._player.sample_rate == sample_rate:
            self._player.stop()
            return self._player
        if self._player is not None:
            self._player.close()
        # Only when set: PortAudio's "low" stays the default (and simple fakes need not
        # know the keyword).
        options = ({"latency": self._output_buffer_ms / 1000}
                   if self._output_buffer_ms else {})
        self._player = self._factory(sample_rate, device=self._device, **options)
        notice = getattr(self._player, "reason", "") if self._player.is_null else ""
        if notice != self.notice:
            self.notice = notice
            self.notice_changed.emit(notice)
        return self._player

    def begin_stream(self, sample_rate: int) -> int:
        """Start a stream at ``sample_rate`` Hz, stopping any other; returns its id.

        Audio follows with :meth:`write` and ends with :meth:`end_stream`, both given
        this id: once another stream has begun, calls with an old id do nothing, so a
        generation still streaming can never write into (or end) a newer playback.
        """
        self.stop()
        player = self._player_for(sample_rate)
        player.start()
        self._stream_id += 1
        self._playing = True
        self._input_ended = False
        self._timer.start()
        self.started.emit()
        return self._stream_id

    def is_current(self, stream_id: int) -> bool:
        """Whether ``stream_id`` is the stream playing now."""
        return self._playing and stream_id == self._stream_id

    def write(self, stream_id: int, samples: npt.NDArray[np.float32]) -> None:
        """Queue samples of stream ``stream_id``; ignored unless it is the current one."""
        if not self.is_current(stream_id) or self._player is None or samples.size == 0:
            return
        if self._backlog:
            self._backlog.append(samples)
            return
        rest = self._write_what_fits(samples)
        if rest.size:
            self._backlog.append(rest)

    def _write_what_fits(self, samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Write as much of ``samples`` as the ring buffer has room for; return the rest."""
        room = self._player.free_frames
        if room > 0:
            self._player.write(samples[:room])
        return samples[max(room, 0):]

    def _drain_backlog(self) -> None:
        while self._backlog and self._player is not None:
            rest = self._write_what_fits(self._backlog[0])
            if rest.size:
                self._backlog[0] = rest
                return
            self._backlog.popleft()
        if self._input_ended and not self._backlog and self._done_task is None:
            self._finish_input()

    @property
    def backlog_frames(self) -> int:
        """Frames waiting for room in the player's ring buffer."""
        return sum(chunk.shape[0] for chunk in self._backlog)

    def end_stream(self, stream_id: int) -> None:
        """No more audio for stream ``stream_id``: play what is queued, then stop.
        Ignored unless it is the current stream."""
        if not self.is_current(stream_id) or self._player is None or self._input_ended:
            return
        self._input_ended = True
        if not self._backlog:
            self._finish_input()

    def _finish_input(self) -> None:
        self._player.finish_input()
        self._done_task = asyncio.ensure_future(self._wait_done(self._player))

    def play(self, samples: npt.NDArray[np.float32], sample_rate: int) -> int:
        """Play a whole buffer from the start; returns the stream id."""
        return self.play_sequence([samples], sample_rate)

    def play_sequence(
        self, pieces: list[npt.NDArray[np.float32]], sample_rate: int, pause_seconds: float = 0.0
    ) -> int:
        """Play ``pieces`` (all at ``sample_rate``) one after another with
        ``pause_seconds`` of silence between them; no copy of the audio is made.
        Returns the stream id."""
        stream_id = self.begin_stream(sample_rate)
        pause = np.zeros(round(pause_seconds * sample_rate), dtype=np.float32)
        for index, piece in enumerate(pieces):
            if index:
                self.write(stream_id, pause)
            self.write(stream_id, piece)
        self.end_stream(stream_id)
        return stream_id

    async def _wait_done(self, player: Any) -> None:
        await player.wait_done()
        if player is self._player and self._playing:
            self._finish()

    def stop(self) -> None:
        """Stop now and drop what is queued. Idempotent."""
        if self._done_task is not None:
            self._done_task.cancel()
            self._done_task = None
        self._backlog.clear()
        self._input_ended = False
        if self._player is not None:
            self._player.stop()
        if self._playing:
            self._finish()

    def _finish(self) -> None:
        self._playing = False
        if self._paused:
            self._paused = False
            go_on = getattr(self._player, "resume", None)
            if go_on is not None:
                go_on()
            self.paused_changed.emit(False)
        self._timer.stop()
        self._on_poll()
        self.stopped.emit()

    def _on_poll(self) -> None:
        if self._backlog or self._input_ended:
            self._drain_backlog()
        if self._player is not None:
            self.position_changed.emit(self._player.position_frames / self._player.sample_rate)
            stutters = getattr(self._player, "stutters", 0)
            if stutters > self._stutters_reported:
                self._stutters_reported = stutters
                self.stuttered.emit(stutters)

    def shutdown(self) -> None:
        """Stop and release the audio device."""
        self.stop()
        if self._player is not None:
            self._player.close()
            self._player = None
