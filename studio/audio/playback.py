"""Streaming playback: start on the first chunk, keep playing while the rest streams in.

The producer (the asyncio loop that decodes a TTS stream) writes float32 mono chunks into
a preallocated :class:`~studio.audio.ringbuffer.RingBuffer`; a ``sounddevice.OutputStream``
callback copies from it into ``outdata`` and nothing else: zeros on underrun, no
allocation, no logging, no Qt. When the producer has called :meth:`StreamPlayer.finish_input`
and the buffer is drained, the callback raises ``sounddevice.CallbackStop``; PortAudio
plays out what it holds and calls the stream's ``finished_callback``, which reaches
asyncio only through ``loop.call_soon_threadsafe``. This is the shape of
python-sounddevice's ``examples/play_long_file.py`` and ``examples/asyncio_generators.py``.

Without PortAudio or without an output device, :func:`open_player` returns a
:class:`NullPlayer`: the same object driven by :class:`NullOutputStream`, a thread that
consumes the buffer in real time and plays nothing, so playheads move, ``wait_done``
completes and the UI can show ``reason``.

Threads: ``write``, ``start``, ``finish_input``, ``stop`` and ``close`` are called from one
control thread (the event loop); the stream callback runs on the audio thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from studio.audio.devices import NO_OUTPUT_DEVICE, audio_backend_status, load_sounddevice
from studio.audio.ringbuffer import RingBuffer

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]
AudioCallback = Callable[[FloatArray, int, Any, Any], None]


class CallbackStop(Exception):
    """Raised by the player's callback on an injected stream when playback has drained.

    The real ``sounddevice.OutputStream`` gets ``sounddevice.CallbackStop`` instead (which
    PortAudio maps to ``paComplete``); injected streams (tests, :class:`NullOutputStream`)
    catch this class, so they work where ``sounddevice`` cannot even be imported.
    """


class AudioUnavailableError(RuntimeError):
    """A real output stream was requested but PortAudio/sounddevice is not usable."""


class OutputStreamLike(Protocol):
    """What :class:`StreamPlayer` needs from an output stream (``sounddevice.OutputStream``).

    The factory is called as ``factory(samplerate=, channels=1, dtype="float32",
    callback=, blocksize=, device=, latency=, finished_callback=)``. The stream calls
    ``callback(outdata, frames, time, status)`` with ``outdata`` a writable float32 array
    of shape ``(frames, 1)`` from its own thread, stops when the callback raises the
    player's stop exception, and calls ``finished_callback()`` once it is inactive.
    """

    @property
    def active(self) -> bool: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


StreamFactory = Callable[..., OutputStreamLike]


class _Completion:
    """A one-shot flag set from any thread and awaited from any asyncio loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done = False
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    @property
    def is_set(self) -> bool:
        return self._done

    def set(self) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody is left to wake
                loop.call_soon_threadsafe(_resolve, future)

    async def wait(self) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._done:
                return
            future: asyncio.Future[None] = loop.create_future()
            self._waiters.append((loop, future))
        await future


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class StreamPlayer:
    """Plays float32 mono audio as it arrives, through a PortAudio output stream.

    One playback at a time: ``write`` chunks (the first one starts the stream unless
    ``autostart`` is False), ``finish_input`` when the source is exhausted, ``await
    wait_done()``. Once a playback has completed (played out or stopped), the next
    ``write``/``start`` begins a new one on a fresh stream, with the position back at 0.

    Args:
        sample_rate: rate of the samples written, in Hz; the stream is opened at this rate.
        device: PortAudio device index or name substring; None for the default output.
        capacity_seconds: ring buffer size in seconds. Writes beyond it are dropped and
            counted in :attr:`frames_dropped` (the producer outrunning playback by this
            much means something is wrong; blocking the event loop would be worse).
        blocksize: frames per callback; 0 lets PortAudio choose (the low-latency choice).
        stream_factory: builds the output stream (see :class:`OutputStreamLike`); None
            for ``sounddevice.OutputStream``. Injected streams must catch
            :class:`CallbackStop`.
        latency: passed to the stream: ``"low"``, ``"high"`` or seconds.
        autostart: start playback on the first ``write`` (streaming playback).

    Attributes:
        sample_rate: the playback rate in Hz.
        is_null: False here; True for :class:`NullPlayer`.

    Raises:
        AudioUnavailableError: ``stream_factory`` is None and sounddevice cannot be loaded.
        ValueError: non-positive ``sample_rate`` or ``capacity_seconds``.
    """

    is_null = False

    def __init__(
        self,
        sample_rate: int,
        *,
        device: int | str | None = None,
        capacity_seconds: float = 600.0,
        blocksize: int = 0,
        stream_factory: StreamFactory | None = None,
        latency: str | float = "low",
        autostart: bool = True,
    ) -> None:
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        if capacity_seconds <= 0:
            raise ValueError(f"capacity_seconds must be positive, got {capacity_seconds}")
        self.sample_rate = int(sample_rate)
        self._device = device
        self._blocksize = int(blocksize)
        self._latency = latency
        self._autostart = autostart
        self._ring = RingBuffer(max(1, math.ceil(capacity_seconds * self.sample_rate)))
        self._callback_stop: type[Exception]
        if stream_factory is None:
            sd, reason = load_sounddevice()
            if sd is None:
                raise AudioUnavailableError(reason)
            self._factory: StreamFactory = sd.OutputStream
            self._callback_stop = sd.CallbackStop
        else:
            self._factory = stream_factory
            self._callback_stop = CallbackStop
        self._stream: OutputStreamLike | None = None
        self._stream_started = False
        self._closed = False
        # Per-playback state. _input_finished is written by the control thread and read
        # by the callback; _position is written only by the callback.
        self._completion = _Completion()
        self._input_finished = False
        self._position = 0
        self._underruns = 0
        self._stutters = 0
        self._dropped = 0
        self._paused = False

    # -- read-only state, polled by playheads and meters ------------------------------

    @property
    def position_frames(self) -> int:
        """Frames of audio handed to the device in this playback (underrun zeros excluded).

        What is audible lags this by the output latency (:attr:`latency_seconds`).
        """
        return self._position

    @property
    def buffered_frames(self) -> int:
        """Frames written but not yet handed to the device."""
        return self._ring.available

    @property
    def free_frames(self) -> int:
        """Frames :meth:`write` accepts right now without dropping any."""
        return self._ring.free

    @property
    def is_playing(self) -> bool:
        """True while a playback is running on an active stream."""
        stream = self._stream
        return (
            stream is not None
            and self._stream_started
            and not self._completion.is_set
            and bool(stream.active)
        )

    @property
    def is_paused(self) -> bool:
        """True while :meth:`pause` holds the current playback."""
        return self._paused

    @property
    def is_done(self) -> bool:
        """True once the current playback has played out or been stopped."""
        return self._completion.is_set

    @property
    def frames_dropped(self) -> int:
        """Frames refused by :meth:`write` in this playback because the buffer was full."""
        return self._dropped

    @property
    def underruns(self) -> int:
        """Callbacks in this playback that ran short of audio before ``finish_input``."""
        return self._underruns

    @property
    def stutters(self) -> int:
        """Callbacks in this playback that PortAudio flagged ``output_underflow``: the
        device ran dry because the callback came late (a loaded machine), a gap heard
        however full the ring buffer was. A larger ``latency`` gives it more slack."""
        return self._stutters

    @property
    def latency_seconds(self) -> float:
        """The stream's reported output latency in seconds (0.0 when not known)."""
        value = getattr(self._stream, "latency", 0.0)
        return float(value) if isinstance(value, (int, float)) else 0.0

    # -- control -----------------------------------------------------------------------

    def open(self) -> None:
        """Open the output stream now (``start`` does it too); lets callers see errors early.

        Raises:
            sounddevice.PortAudioError: the device refused the stream (rate, busy, gone).
            ValueError: ``device`` names no output device.
            RuntimeError: the player was closed.
        """
        self._ensure_stream()

    def start(self) -> None:
        """Open the stream if needed and start playing whatever is buffered.

        Raises:
            the errors of :meth:`open`.
        """
        self._begin_playback_if_done()
        stream = self._ensure_stream()
        if not self._stream_started:
            self._stream_started = True
            stream.start()

    def write(self, samples: npt.ArrayLike) -> int:
        """Queue float32 mono samples for playback; never blocks.

        Args:
            samples: shape ``(frames,)``, at :attr:`sample_rate`; cast to float32.

        Returns:
            Frames accepted. Frames that do not fit in the ring buffer are dropped, counted
            in :attr:`frames_dropped` and logged.

        Raises:
            ValueError: ``samples`` is not one-dimensional.
            RuntimeError: after ``finish_input`` of a playback still running, or after close.
            sounddevice.PortAudioError: autostart had to open a new stream (a playback after
                a completed one) and the device refused it.
        """
        if self._closed:
            raise RuntimeError("player is closed")
        chunk = np.asarray(samples, dtype=np.float32)
        if chunk.ndim != 1:
            raise ValueError(f"expected mono samples of shape (frames,), got {chunk.shape}")
        self._begin_playback_if_done()
        if self._input_finished:
            raise RuntimeError("write() after finish_input(): wait for the playback to end")
        accepted = self._ring.write(chunk)
        if accepted < chunk.shape[0]:
            if self._dropped == 0:
                log.warning(
                    "playback buffer full (%.1f s): dropping audio",
                    self._ring.capacity / self.sample_rate,
                )
            self._dropped += chunk.shape[0] - accepted
        if self._autostart and not self._stream_started and accepted > 0:
            self.start()
        return accepted

    def finish_input(self) -> None:
        """No more writes for this playback: play out what is buffered, then stop.

        If nothing was ever started and nothing is buffered, the playback completes now.
        """
        self._input_finished = True
        if not self._stream_started and self._ring.available == 0:
            self._completion.set()

    async def wait_done(self) -> None:
        """Resolve once the current playback has played out (after ``finish_input``) or
        has been stopped. Safe to await from any asyncio loop, any number of times."""
        await self._completion.wait()

    def stop(self) -> None:
        """Stop at once, drop buffered audio and complete the playback; idempotent."""
        stream = self._stream
        if stream is not None and self._stream_started:
            # abort() (sounddevice) discards what PortAudio holds; stop() would drain it.
            halt = getattr(stream, "abort", stream.stop)
            try:
                halt()
            except Exception as exc:  # noqa: BLE001 - a vanished device must not make stop() fail
                log.warning("stopping the output stream failed: %s", exc)
        self._ring.clear()
        self._completion.set()

    def pause(self) -> None:
        """Hold the playback where it is: the stream stays open and plays silence,
        :attr:`position_frames` stops, buffered audio waits. Idempotent; the next
        playback starts unpaused."""
        self._paused = True

    def resume(self) -> None:
        """Go on from where :meth:`pause` held the playback. Idempotent."""
        self._paused = False

    def close(self) -> None:
        """Stop and release the output stream; the player cannot be used afterwards."""
        self.stop()
        self._close_stream()
        self._closed = True

    # -- internals ---------------------------------------------------------------------

    def _begin_playback_if_done(self) -> None:
        """After a completed playback, reset per-playback state on a fresh stream."""
        if not self._completion.is_set:
            return
        self._close_stream()
        self._ring.clear()
        self._completion = _Completion()
        self._input_finished = False
        self._position = 0
        self._underruns = 0
        self._stutters = 0
        self._dropped = 0
        self._paused = False

    def _ensure_stream(self) -> OutputStreamLike:
        if self._closed:
            raise RuntimeError("player is closed")
        if self._stream is None:
            self._stream = self._factory(
                samplerate=self.sample_rate,
                channels=1,
                dtype="float32",
                callback=self._callback,
                blocksize=self._blocksize,
                device=self._device,
                latency=self._latency,
                # Bound to this playback's completion, so a late notice from an old
                # stream cannot complete a newer playback.
                finished_callback=partial(_Completion.set, self._completion),
            )
            self._stream_started = False
        return self._stream

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        self._stream_started = False
        if stream is None:
            return
        try:
            if stream.active:
                getattr(stream, "abort", stream.stop)()
            stream.close()
        except Exception as exc:  # noqa: BLE001 - closing a dead device's stream is best effort
            log.warning("closing the output stream failed: %s", exc)

    def _callback(self, outdata: FloatArray, frames: int, time: Any, status: Any) -> None:
        # Real-time thread: copy only. Read the flag before draining, so that every write
        # that preceded finish_input() is already in the ring when we decide to stop.
        finished = self._input_finished
        if status and status.output_underflow:  # sounddevice.CallbackFlags
            self._stutters += 1
        if self._paused:  # held: silence, nothing consumed, the position stays
            outdata.fill(0)
            return
        n = self._ring.read_into(outdata[:, 0])
        self._position += n
        if finished:
            if self._ring.available == 0:
                raise self._callback_stop
        elif n < frames:
            self._underruns += 1


class NullOutputStream:
    """An output stream with no device: a thread consumes blocks in real time.

    Implements :class:`OutputStreamLike` with the ``sounddevice.OutputStream`` keyword
    arguments (``device`` and ``latency`` are accepted and ignored). Blocks are pulled at
    the pace of the wall clock (``time.monotonic``); after a stall the thread catches up,
    so the average rate stays ``samplerate``.
    """

    def __init__(
        self,
        *,
        samplerate: float,
        channels: int = 1,
        dtype: str = "float32",
        callback: AudioCallback,
        blocksize: int = 0,
        finished_callback: Callable[[], None] | None = None,
        **_ignored: Any,
    ) -> None:
        self.samplerate = float(samplerate)
        # 10 ms blocks: fine-grained enough for a playhead polled every frame.
        self.blocksize = int(blocksize) or max(1, int(self.samplerate) // 100)
        self._out = np.zeros((self.blocksize, int(channels)), dtype=dtype)
        self._callback = callback
        self._finished_callback = finished_callback
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        self._active = False
        self.latency = 0.0

    @property
    def active(self) -> bool:
        return self._active

    def start(self) -> None:
        if self._thread is not None:
            return
        self._active = True
        self._thread = threading.Thread(target=self._run, name="null-audio-output", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._halt.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    abort = stop

    def close(self) -> None:
        self.stop()

    def _run(self) -> None:
        started = time.monotonic()
        frames_done = 0
        try:
            while not self._halt.is_set():
                delay = started + frames_done / self.samplerate - time.monotonic()
                if delay > 0 and self._halt.wait(delay):
                    break
                try:
                    self._callback(self._out, self.blocksize, None, None)
                except CallbackStop:
                    break
                frames_done += self.blocksize
        finally:
            self._active = False
            if self._finished_callback is not None:
                self._finished_callback()


class NullPlayer(StreamPlayer):
    """A :class:`StreamPlayer` that plays nothing but keeps time, for machines without
    audio output. Position advances in real time and ``wait_done`` completes as it would
    on a device.

    Args:
        sample_rate: rate in Hz of the samples written.
        reason: why there is no real output, shown to the user.
        capacity_seconds, blocksize, autostart: as for :class:`StreamPlayer`.
        **_ignored: ``device``/``latency``/``stream_factory`` are accepted and ignored.

    Attributes:
        reason: the explanation given.
    """

    is_null = True

    def __init__(
        self,
        sample_rate: int,
        reason: str = "audio output disabled",
        *,
        capacity_seconds: float = 600.0,
        blocksize: int = 0,
        autostart: bool = True,
        **_ignored: Any,
    ) -> None:
        super().__init__(
            sample_rate,
            capacity_seconds=capacity_seconds,
            blocksize=blocksize,
            stream_factory=NullOutputStream,
            autostart=autostart,
        )
        self.reason = reason


def open_player(
    sample_rate: int, *, device: int | str | None = None, **kwargs: Any
) -> StreamPlayer:
    """A player on the real output device, or a :class:`NullPlayer` saying why not.

    Never raises for a missing backend or device: when
    :func:`~studio.audio.devices.audio_backend_status` reports no PortAudio or no default
    output (and no ``device`` was named), or opening the stream fails
    (``sounddevice.PortAudioError``, or ``ValueError`` for an unknown device name), the
    result is a :class:`NullPlayer` whose ``reason`` says so.

    Args:
        sample_rate: rate of the audio to be played, in Hz.
        device: as for :class:`StreamPlayer`.
        **kwargs: the other :class:`StreamPlayer` keywords. With ``stream_factory`` given
            the backend probe is skipped.

    Raises:
        ValueError: invalid ``sample_rate`` or ``capacity_seconds``.
    """
    null_kwargs = {k: v for k, v in kwargs.items() if k != "stream_factory"}
    if kwargs.get("stream_factory") is None:
        status = audio_backend_status()
        if not status.available and (device is None or status.reason != NO_OUTPUT_DEVICE):
            log.info("audio output unavailable (%s); using silent playback", status.reason)
            return NullPlayer(sample_rate, status.reason, **null_kwargs)
    sd, _ = load_sounddevice()
    refused: tuple[type[Exception], ...] = (ValueError,)
    if sd is not None:
        refused = (sd.PortAudioError, ValueError)
    try:
        player = StreamPlayer(sample_rate, device=device, **kwargs)
    except AudioUnavailableError as exc:
        return NullPlayer(sample_rate, str(exc), **null_kwargs)
    try:
        player.open()
    except refused as exc:
        player.close()
        reason = f"cannot open audio output at {sample_rate} Hz: {exc}"
        log.warning("%s; using silent playback", reason)
        return NullPlayer(sample_rate, reason, **null_kwargs)
    return player


def play_buffer(
    samples: npt.ArrayLike, sample_rate: int, *, device: int | str | None = None, **kwargs: Any
) -> StreamPlayer:
    """Play a whole buffer: open a player sized to hold it, write it all, finish input.

    Args:
        samples: float32 mono, shape ``(frames,)``.
        sample_rate: its rate in Hz.
        device, **kwargs: as for :func:`open_player`.

    Returns:
        The playing player (possibly a :class:`NullPlayer`); ``await player.wait_done()``
        then ``player.close()``.
    """
    data = np.asarray(samples, dtype=np.float32)
    seconds = data.shape[0] / sample_rate + 1.0
    kwargs["capacity_seconds"] = max(float(kwargs.get("capacity_seconds", 0.0)), seconds)
    player = open_player(sample_rate, device=device, **kwargs)
    player.write(data)
    player.finish_input()
    return player
