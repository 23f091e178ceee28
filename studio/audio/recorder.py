"""Recording from an input device (a microphone) for voice clips.

A ``sounddevice.InputStream`` (float32, mono) calls :meth:`Recorder._callback` on
PortAudio's thread; the callback copies each block into a preallocated
:class:`~studio.audio.ringbuffer.RingBuffer` and counts overflows, nothing else: no
allocation of sample memory, no logging, no Qt, no asyncio (ARCHITECTURE.md, "One event
loop, three kinds of work"). A UI timer calls :meth:`Recorder.poll` about every 30 ms; it
moves what the callback wrote into the recording (one array of ``max_seconds``, allocated
at :meth:`Recorder.start` with ``np.zeros``, which the OS backs lazily) and returns the
level of that audio for the meter. This is python-sounddevice's ``examples/rec_unlimited.py``
with the queue replaced by the ring buffer, and Friture's timer-polled meters.
:meth:`Recorder.stop` returns a view of that array's used part, not a copy: copying ten
minutes at 48 kHz (115 MB) took about a third of a second on the UI thread. Each ``start``
allocates a new array, so a returned recording is never overwritten.

A device can vanish mid-recording (a USB microphone unplugged, a Bluetooth headset out of
range). PortAudio then ends the stream (its ``finished_callback`` runs and ``active`` turns
False), makes ``active`` raise ``PortAudioError``, or simply stops calling back. ``poll``
notices each of these, stops, keeps what was recorded and says why in :attr:`Recorder.error`;
so does the last poll that :meth:`Recorder.stop` makes. The end-of-stream notice is bound
to the stream it came from, so a late notice from a previous recording's stream cannot end
the next one.

Devices are chosen as an :class:`~studio.audio.devices.AudioDevice` and looked up again by
name and host API at each ``start``: PortAudio renumbers its devices when it is
re-initialised to find a newly plugged microphone (:func:`~studio.audio.devices.refresh_devices`).

Threads: ``start``, ``poll`` and ``stop`` are called from one control thread (the UI
thread); the stream callback runs on the audio thread.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from studio.audio.buffers import peak_dbfs, rms_dbfs
from studio.audio.clip_checks import CLIP_LEVEL
from studio.audio.devices import (
    NO_INPUT_DEVICE,
    AudioDevice,
    default_input_index,
    find_input_device,
    list_input_devices,
    load_sounddevice,
)
from studio.audio.playback import AudioUnavailableError
from studio.audio.ringbuffer import RingBuffer

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]

RING_SECONDS = 5.0
"""Ring buffer between the callback and :meth:`Recorder.poll`, in seconds. The UI polls
every ~30 ms; this covers a UI thread stalled for seconds before audio is lost."""

STALL_SECONDS = 3.0
"""A started stream that delivers no audio for this long is treated as a lost device:
some host APIs stop calling back without ending the stream when a device is unplugged.
Generous, so a slow stream start-up (PulseAudio can take a few hundred ms) never trips it."""


@dataclass(frozen=True, slots=True)
class Level:
    """The level of the audio recorded since the previous :meth:`Recorder.poll`.

    PortAudio delivers blocks on its own clock, so a 30 ms poll often finds nothing new
    (with PulseAudio's "high" latency, most polls). Such a poll returns the previous level
    again with ``fresh`` False, so a meter holds still instead of dropping to silence
    between blocks; ``-inf`` means digital silence only.

    Attributes:
        peak_dbfs: sample peak in dBFS (0.0 is full scale); ``-inf`` for digital silence
            (and in :data:`SILENCE`, before any audio arrived).
        rms_dbfs: RMS level in dBFS (plain convention: a full-scale sine reads -3.01);
            ``-inf`` likewise.
        clipped: True when a sample of the new audio reached
            :data:`~studio.audio.clip_checks.CLIP_LEVEL`; False when nothing new arrived
            (the clip was reported once, with the audio that clipped).
        fresh: True when audio arrived since the previous poll and the figures measure
            it; False when nothing arrived and the figures are the previous level's.
    """

    peak_dbfs: float
    rms_dbfs: float
    clipped: bool
    fresh: bool = True


SILENCE = Level(-math.inf, -math.inf, False, fresh=False)
"""What :meth:`Recorder.poll` returns before any audio arrived: no level yet."""


class InputStreamLike(Protocol):
    """What :class:`Recorder` needs from an input stream (``sounddevice.InputStream``).

    The factory is called as ``factory(samplerate=, channels=1, dtype="float32",
    callback=, blocksize=0, device=, latency="high", finished_callback=)``. The stream
    calls ``callback(indata, frames, time, status)`` from its own thread with ``indata``
    a float32 array of shape ``(frames, 1)`` and ``status`` a ``sounddevice.CallbackFlags``
    (anything with an ``input_overflow`` attribute and a truth value), and calls
    ``finished_callback()`` once it is inactive. ``active`` may raise when the device is
    gone. A factory that cannot open the device raises ``OSError`` or ``ValueError`` (the
    real one raises ``sounddevice.PortAudioError`` or ``ValueError``).
    """

    @property
    def active(self) -> bool: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


StreamFactory = Callable[..., InputStreamLike]


class Recorder:
    """Records float32 mono audio from an input device, for voice clips.

    ``start()``, then ``poll()`` on a timer (it feeds the level meter), then ``stop()``
    for the recording. A recorder can record again after ``stop()``; each ``start()``
    begins a new, empty recording.

    Args:
        sample_rate: recording rate in Hz; the stream is opened at this rate (PortAudio
            or the sound server converts from the device's own rate).
        device: the input device: an :class:`~studio.audio.devices.AudioDevice` from
            :func:`~studio.audio.devices.list_input_devices` (found again by name and host
            API at each :meth:`start`, so it survives
            :func:`~studio.audio.devices.refresh_devices` renumbering the devices), a
            name substring (sounddevice matches it), a PortAudio index (valid only until
            PortAudio is re-initialised), or None for the default input.
        max_seconds: the longest recording, in seconds. Reaching it stops the recording
            and sets :attr:`error`; the recording is preallocated to this length.
        stream_factory: builds the input stream (see :class:`InputStreamLike`); None for
            ``sounddevice.InputStream``.
        stall_seconds: how long a running stream may deliver nothing before the device is
            considered lost (:data:`STALL_SECONDS`); None never gives up.
        input_devices: lists the input devices now, for finding an ``AudioDevice`` again
            (:func:`~studio.audio.devices.list_input_devices`).

    Attributes:
        sample_rate: the recording rate in Hz.
        max_seconds: the limit in seconds.

    Raises:
        ValueError: non-positive ``sample_rate`` or ``max_seconds``.
    """

    def __init__(
        self,
        sample_rate: int = 48000,
        device: AudioDevice | str | int | None = None,
        *,
        max_seconds: float = 600.0,
        stream_factory: StreamFactory | None = None,
        stall_seconds: float | None = STALL_SECONDS,
        input_devices: Callable[[], Sequence[AudioDevice]] = list_input_devices,
    ) -> None:
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        if max_seconds <= 0:
            raise ValueError(f"max_seconds must be positive, got {max_seconds}")
        self.sample_rate = int(sample_rate)
        self.max_seconds = float(max_seconds)
        self._device = device
        self._factory = stream_factory
        self._stall_seconds = stall_seconds
        self._input_devices = input_devices
        self._capacity = max(1, math.ceil(self.max_seconds * self.sample_rate))
        self._ring: RingBuffer | None = None
        self._data: FloatArray = np.zeros(0, dtype=np.float32)
        self._frames = 0
        self._result: FloatArray | None = None  # what stop() returned, once stopped
        self._level = SILENCE
        self._stream: InputStreamLike | None = None
        self._recording = False
        self._error = ""
        # Written by the audio thread, read by poll().
        self._overflows = 0
        # Set by the finished_callback of the current stream only: each start() makes a
        # new one, so an old stream's late notice sets an event nobody reads.
        self._stream_finished = threading.Event()
        # For stall detection, on the control thread.
        self._last_written = 0
        self._last_progress = 0.0

    # -- state, polled by the UI -------------------------------------------------------

    @property
    def recording(self) -> bool:
        """True from :meth:`start` until :meth:`stop`, the limit, or a lost device."""
        return self._recording

    @property
    def frames(self) -> int:
        """Frames recorded so far (moved out of the ring buffer by :meth:`poll`)."""
        return self._frames

    @property
    def seconds(self) -> float:
        """Seconds recorded so far: ``frames / sample_rate``."""
        return self._frames / self.sample_rate

    @property
    def error(self) -> str:
        """Why the recording stopped by itself, as a sentence for the user; "" otherwise.

        Set when :attr:`max_seconds` was reached or the device was lost; what was
        recorded up to then is kept and returned by :meth:`stop`.
        """
        return self._error

    @property
    def overflows(self) -> int:
        """Blocks in which input audio was lost: PortAudio's ``input_overflow`` flag (the
        system could not keep up), or the ring buffer full (``poll`` not called for
        :data:`RING_SECONDS`). Any overflow leaves a gap in the recording."""
        return self._overflows

    # -- control -----------------------------------------------------------------------

    def start(self) -> None:
        """Open the input stream and start a new recording.

        A new recording array is allocated, so the array an earlier :meth:`stop` returned
        stays as it was.

        Raises:
            AudioUnavailableError: no sounddevice/PortAudio, no input device
                (:data:`~studio.audio.devices.NO_INPUT_DEVICE`), ``device`` names no input
                device (an ``AudioDevice`` no longer connected), or the device refused to
                open or start (message says which device and why).
            RuntimeError: already recording.
        """
        if self._recording:
            raise RuntimeError("already recording: stop() first")
        factory, open_errors = self._resolve_factory()
        device, which = self._resolve_device()
        # Preallocate everything the callback touches before the stream exists.
        self._ring = RingBuffer(max(1, math.ceil(RING_SECONDS * self.sample_rate)))
        self._data = np.zeros(self._capacity, dtype=np.float32)
        self._frames = 0
        self._result = None
        self._level = SILENCE
        self._error = ""
        self._overflows = 0
        finished = self._stream_finished = threading.Event()
        self._last_written = 0
        self._last_progress = time.monotonic()
        try:
            stream = factory(
                samplerate=self.sample_rate,
                channels=1,
                dtype="float32",
                callback=self._callback,
                blocksize=0,
                device=device,
                # Recording does not need low latency; "high" avoids overflows.
                latency="high",
                # This stream's own event (a plain flag set; fit for the audio thread).
                finished_callback=finished.set,
            )
        except open_errors as exc:
            self._data = np.zeros(0, dtype=np.float32)
            raise AudioUnavailableError(
                f"Cannot open {which} for recording at {self.sample_rate} Hz: {exc}"
            ) from exc
        try:
            stream.start()
        except open_errors as exc:
            _close_quietly(stream)
            self._data = np.zeros(0, dtype=np.float32)
            raise AudioUnavailableError(f"Cannot start recording from {which}: {exc}") from exc
        self._stream = stream
        self._recording = True

    def poll(self) -> Level:
        """Move newly recorded audio into the recording and measure it.

        Call from a timer (~30 ms) while :attr:`recording`. Also notices the end of the
        recording: :attr:`max_seconds` reached, or the device lost (the stream ended on
        its own, ``active`` raised, or no audio for ``stall_seconds``). Either way the
        stream is closed, :attr:`recording` turns False, :attr:`error` says why, and what
        was recorded is kept.

        Returns:
            The :class:`Level` of the audio moved by this call (``fresh`` True). When
            nothing new arrived, the previous level again with ``fresh`` False and
            ``clipped`` False (:data:`SILENCE` before any audio), so a meter holds still
            between PortAudio's blocks.
        """
        start = self._frames
        self._drain()
        if not self._recording:
            return self._level_since(start)
        if self._frames >= self._capacity:
            self._halt(
                f"Recording stopped at the {_duration(self.max_seconds)} limit; "
                "the recording so far is kept."
            )
            return self._level_since(start)
        lost = self._lost_device_reason()
        if lost:
            self._halt(
                f"Recording stopped: {lost} (was it disconnected?). "
                "What was recorded up to then is kept."
            )
            self._drain()  # blocks that arrived before the stream ended
        return self._level_since(start)

    def stop(self) -> FloatArray:
        """Stop recording and return everything recorded.

        Makes a last :meth:`poll` first, so a device lost since the previous one is
        reported in :attr:`error` (and the limit likewise). Idempotent: after the
        recording ended (by ``stop``, the limit or a lost device) it returns the same
        array again; before any ``start`` it returns an empty array. Errors from a device
        that is already gone are logged, never raised.

        Returns:
            float32 mono, shape ``(frames,)``, at :attr:`sample_rate`: a view of the used
            part of the array preallocated at :meth:`start`, not a copy (no 100 MB copy on
            the UI thread). The recorder never writes to it again, and the next ``start``
            allocates a new array, so it is the caller's to keep. It keeps the whole
            preallocation referenced, but the OS backs only the pages that were written.
        """
        if self._result is not None:
            return self._result
        if self._recording:
            self.poll()
        if self._recording:
            self._halt("")
        self._drain()
        self._ring = None  # nothing more arrives: the view below is final
        self._result = self._data[: self._frames]
        return self._result

    # -- internals ---------------------------------------------------------------------

    def _resolve_factory(self) -> tuple[StreamFactory, tuple[type[Exception], ...]]:
        if self._factory is not None:
            return self._factory, (OSError, ValueError)
        sd, reason = load_sounddevice()
        if sd is None:
            raise AudioUnavailableError(f"Cannot record: {reason}.")
        if self._device is None and default_input_index(sd) is None:
            raise AudioUnavailableError(f"Cannot record: {NO_INPUT_DEVICE}.")
        factory: StreamFactory = sd.InputStream
        return factory, (sd.PortAudioError, ValueError, OSError)

    def _resolve_device(self) -> tuple[str | int | None, str]:
        """The ``device=`` for the stream factory and how messages name the device."""
        wanted = self._device
        if not isinstance(wanted, AudioDevice):
            which = "the default input device" if wanted is None else repr(wanted)
            return wanted, which
        which = f"{wanted.name!r} ({wanted.host_api})"
        found = find_input_device(wanted, self._input_devices())
        if found is None:
            raise AudioUnavailableError(
                f"Cannot record: the input device {which} is no longer connected. Connect "
                "it again, or choose another input device."
            )
        return found.index, which

    def _drain(self) -> None:
        """Move what the ring holds into the recording, up to the limit."""
        ring = self._ring
        if ring is None:
            return
        start = self._frames
        n = min(ring.available, self._capacity - start)
        if n > 0:
            self._frames = start + ring.read_into(self._data[start : start + n])

    def _level_since(self, start: int) -> Level:
        chunk = self._data[start : self._frames]
        if chunk.shape[0] == 0:
            last = self._level
            return Level(last.peak_dbfs, last.rms_dbfs, clipped=False, fresh=False)
        clipped = bool(np.max(np.abs(chunk)) >= CLIP_LEVEL)
        self._level = Level(peak_dbfs(chunk), rms_dbfs(chunk), clipped)
        return self._level

    def _lost_device_reason(self) -> str:
        stream = self._stream
        if stream is None:
            return ""
        if self._stream_finished.is_set():
            return "the input device stopped delivering audio"
        try:
            active = bool(stream.active)
        except Exception as exc:  # noqa: BLE001 - PortAudioError etc. from a dead device
            return f"the input device failed ({exc})"
        if not active:
            return "the input device stopped delivering audio"
        if self._stall_seconds is not None and self._ring is not None:
            written = self._ring.frames_written_total
            now = time.monotonic()
            if written != self._last_written:
                self._last_written = written
                self._last_progress = now
            elif now - self._last_progress > self._stall_seconds:
                return f"the input device delivered no audio for {self._stall_seconds:g} s"
        return ""

    def _halt(self, reason: str) -> None:
        """Stop and close the stream; the recording so far is kept."""
        self._recording = False
        if reason and not self._error:
            self._error = reason
            log.warning("%s", reason)
        stream, self._stream = self._stream, None
        if stream is None:
            return
        try:
            # stop() (not abort) lets PortAudio deliver the blocks it already captured.
            stream.stop()
        except Exception as exc:  # noqa: BLE001 - a vanished device must not make stop fail
            log.warning("stopping the input stream failed: %s", exc)
        _close_quietly(stream)

    def _callback(
        self, indata: FloatArray, frames: int, time_info: Any, status: Any
    ) -> None:
        # Real-time thread: copy only. A short write means the ring is full (poll() has
        # not run for RING_SECONDS); the frames are lost, so count it like an overflow.
        if status and status.input_overflow:
            self._overflows += 1
        ring = self._ring
        if ring is not None and ring.write(indata[:, 0]) < frames:
            self._overflows += 1


def _close_quietly(stream: InputStreamLike) -> None:
    try:
        stream.close()
    except Exception as exc:  # noqa: BLE001 - closing a dead device's stream is best effort
        log.warning("closing the input stream failed: %s", exc)


def _duration(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        minutes = int(seconds // 60)
        return f"{minutes}-minute"
    return f"{seconds:g}-second"
