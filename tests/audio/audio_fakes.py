"""Fakes for the audio tests: an output stream that pulls blocks on its own thread, and a
stand-in for the ``sounddevice`` module (for the device-detection branches)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from studio.audio.playback import CallbackStop

WAIT = 30.0  # generous: the machine may be loaded


class FakeCallbackFlags:
    """``sounddevice.CallbackFlags`` as the callback sees it: false when nothing
    happened, else ``output_underflow`` and friends say what."""

    def __init__(self, output_underflow: bool = False) -> None:
        self.output_underflow = output_underflow

    def __bool__(self) -> bool:
        return self.output_underflow


class FakeOutputStream:
    """Implements the ``OutputStreamLike`` contract like PortAudio does, without a device.

    A thread calls ``callback(outdata, frames, time, status)`` with a reused
    ``(blocksize, 1)`` float32 buffer and records a copy of every block handed out
    (including the one during which the callback raised the stop exception, as PortAudio
    plays that one too). With ``gate`` set, each block waits for a permit, so a test
    decides exactly how far playback gets. ``statuses`` are the status flags of the
    first callbacks, one each (later ones get no flags), as PortAudio reports an
    output underflow when the callback came too late.
    """

    def __init__(
        self,
        *,
        samplerate: float,
        channels: int,
        dtype: str,
        callback: Callable[..., None],
        blocksize: int,
        device: Any,
        latency: Any,
        finished_callback: Callable[[], None] | None,
        gate: threading.Semaphore | None = None,
        stop_exception: type[BaseException] = CallbackStop,
        statuses: Sequence[FakeCallbackFlags] = (),
    ) -> None:
        self.kwargs = dict(
            samplerate=samplerate, channels=channels, dtype=dtype, blocksize=blocksize,
            device=device, latency=latency,
        )
        self.blocksize = blocksize or 64
        self._out = np.zeros((self.blocksize, channels), dtype=dtype)
        self._callback = callback
        self._finished_callback = finished_callback
        self._gate = gate
        self._stop_exception = stop_exception
        self._statuses = list(statuses)
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        self.active = False
        self.closed = False
        self.stopped_by_callback = False
        self.blocks: list[np.ndarray] = []
        self.first_nonzero = threading.Event()
        self.block_pulled = threading.Condition()

    def start(self) -> None:
        assert self._thread is None, "started twice"
        self.active = True
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._halt.set()
        if self._thread is not None:
            self._thread.join(WAIT)

    def close(self) -> None:
        self.stop()
        self.closed = True

    def output(self) -> np.ndarray:
        return np.concatenate(self.blocks)[:, 0] if self.blocks else np.zeros(0, np.float32)

    def wait_for_blocks(self, count: int) -> bool:
        with self.block_pulled:
            return self.block_pulled.wait_for(lambda: len(self.blocks) >= count, WAIT)

    def _record(self) -> None:
        with self.block_pulled:
            self.blocks.append(self._out.copy())
            self.block_pulled.notify_all()
        if self._out.any():
            self.first_nonzero.set()

    def _run(self) -> None:
        try:
            while not self._halt.is_set():
                if self._gate is not None and not self._gate.acquire(timeout=0.01):
                    continue
                status = self._statuses.pop(0) if self._statuses else FakeCallbackFlags()
                try:
                    self._callback(self._out, self.blocksize, None, status)
                except self._stop_exception:
                    self._record()
                    self.stopped_by_callback = True
                    break
                self._record()
                # Yield between blocks, like a device clock, so waiting tests stay cheap.
                self._halt.wait(0.0005)
        finally:
            self.active = False
            if self._finished_callback is not None:
                self._finished_callback()


class StreamRecorder:
    """A stream factory that remembers every stream it made."""

    def __init__(self, gate: threading.Semaphore | None = None,
                 statuses: Sequence[FakeCallbackFlags] = ()) -> None:
        self.gate = gate
        self.statuses = statuses
        self.streams: list[FakeOutputStream] = []

    def __call__(self, **kwargs: Any) -> FakeOutputStream:
        stream = FakeOutputStream(gate=self.gate, statuses=self.statuses, **kwargs)
        self.streams.append(stream)
        return stream

    @property
    def last(self) -> FakeOutputStream:
        return self.streams[-1]


class FakePortAudioError(Exception):
    pass


class FakeCallbackStop(Exception):
    pass


class FakeSoundDevice:
    """Just enough of the ``sounddevice`` module for the probing code."""

    PortAudioError = FakePortAudioError
    CallbackStop = FakeCallbackStop

    def __init__(
        self,
        devices: list[dict[str, Any]],
        default_output: int = -1,
        default_input: int = -1,
        open_error: Exception | None = None,
    ) -> None:
        self.devices = devices
        self.defaults = {"output": default_output, "input": default_input}
        self.open_error = open_error
        self.streams: list[FakeOutputStream] = []

    def query_hostapis(self) -> tuple[dict[str, Any], ...]:
        return ({"name": "FakeAPI"},)

    def query_devices(self, device: Any = None, kind: str | None = None) -> Any:
        if kind is not None:
            index = self.defaults[kind]
            if index < 0:
                raise FakePortAudioError(f"Error querying device {index}")
            return self.devices[index]
        return list(self.devices)

    def OutputStream(self, **kwargs: Any) -> FakeOutputStream:
        if self.open_error is not None:
            raise self.open_error
        stream = FakeOutputStream(stop_exception=FakeCallbackStop, **kwargs)
        self.streams.append(stream)
        return stream


def fake_device(index: int, name: str, inputs: int, outputs: int) -> dict[str, Any]:
    return {
        "index": index, "name": name, "hostapi": 0, "max_input_channels": inputs,
        "max_output_channels": outputs, "default_samplerate": 48000.0,
    }
