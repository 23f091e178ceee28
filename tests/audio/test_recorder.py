"""The recorder (studio.audio.recorder) against an injected input stream, the input device
listing, and, where PulseAudio runs, a real recording of a null sink's monitor."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from audio_fakes import FakePortAudioError, FakeSoundDevice, fake_device

from studio.audio import recorder as recorder_module
from studio.audio.buffers import write_wav
from studio.audio.devices import AudioDevice, list_input_devices
from studio.audio.playback import AudioUnavailableError
from studio.audio.recorder import SILENCE, Level, Recorder

RATE = 8000
WAIT = 30.0  # generous: the machine may be loaded


class Flags:
    """Stands in for ``sounddevice.CallbackFlags``."""

    def __init__(self, input_overflow: bool = False) -> None:
        self.input_overflow = input_overflow

    def __bool__(self) -> bool:
        return self.input_overflow


class FakeInputStream:
    """Implements ``InputStreamLike`` like PortAudio: a thread of its own calls the
    callback with a reused ``(frames, 1)`` float32 buffer. The test decides what it
    delivers (:meth:`feed`) and when the device goes away (:meth:`disappear`)."""

    def __init__(self, *, callback: Callable[..., None],
                 finished_callback: Callable[[], None], **kwargs: Any) -> None:
        self.kwargs = kwargs
        self._callback = callback
        self._finished_callback = finished_callback
        self._buffer = np.zeros((4096, 1), dtype=np.float32)
        self._active = False
        self.active_error: Exception | None = None
        self.stop_error: Exception | None = None
        self.started = self.stopped = self.closed = False

    @property
    def active(self) -> bool:
        if self.active_error is not None:
            raise self.active_error
        return self._active

    def start(self) -> None:
        self.started = self._active = True

    def stop(self) -> None:
        self.stopped = True
        self._active = False
        if self.stop_error is not None:
            raise self.stop_error

    def close(self) -> None:
        self.closed = True

    def feed(self, blocks: Sequence[np.ndarray], statuses: Sequence[Any] = ()) -> None:
        """Deliver ``blocks`` through the callback from another thread; returns when done."""

        def run() -> None:
            for i, block in enumerate(blocks):
                n = block.shape[0]
                self._buffer[:n, 0] = block
                status = statuses[i] if i < len(statuses) else Flags()
                self._callback(self._buffer[:n], n, None, status)
                self._buffer.fill(np.nan)  # the memory is reused: a kept view would show it

        thread = threading.Thread(target=run)
        thread.start()
        thread.join(WAIT)

    def disappear(self) -> None:
        """What PortAudio does when the device goes: the stream ends by itself, and its
        ``finished_callback`` runs on PortAudio's thread (returns once it has)."""
        self._active = False
        thread = threading.Thread(target=self._finished_callback)
        thread.start()
        thread.join(WAIT)


class Factory:
    def __init__(self) -> None:
        self.streams: list[FakeInputStream] = []
        self.error: Exception | None = None

    def __call__(self, **kwargs: Any) -> FakeInputStream:
        if self.error is not None:
            raise self.error
        stream = FakeInputStream(**kwargs)
        self.streams.append(stream)
        return stream

    @property
    def last(self) -> FakeInputStream:
        return self.streams[-1]


def blocks_of(audio: np.ndarray, size: int = 160) -> list[np.ndarray]:
    return [audio[i : i + size] for i in range(0, audio.shape[0], size)]


def sine(seconds: float, amplitude: float = 0.5, hz: float = 440.0) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


@pytest.fixture
def factory() -> Factory:
    return Factory()


def test_the_recording_is_what_was_fed(factory: Factory) -> None:
    audio = np.random.default_rng(0).uniform(-0.9, 0.9, 2 * RATE).astype(np.float32)
    rec = Recorder(RATE, "USB Mic", stream_factory=factory)

    rec.start()
    stream = factory.last
    assert stream.started and rec.recording
    assert stream.kwargs == {"samplerate": RATE, "channels": 1, "dtype": "float32",
                             "blocksize": 0, "device": "USB Mic", "latency": "high"}
    halves = blocks_of(audio)
    stream.feed(halves[: len(halves) // 2])
    rec.poll()
    stream.feed(halves[len(halves) // 2 :])
    rec.poll()
    assert rec.frames == audio.shape[0] and rec.seconds == pytest.approx(2.0)
    recorded = rec.stop()

    assert recorded.dtype == np.float32 and recorded.shape == audio.shape
    np.testing.assert_array_equal(recorded, audio)
    assert stream.stopped and stream.closed and not rec.recording
    assert rec.error == "" and rec.overflows == 0
    assert rec.stop() is recorded  # idempotent


def test_levels_cover_the_audio_since_the_last_poll(factory: Factory) -> None:
    rec = Recorder(RATE, stream_factory=factory)
    rec.start()
    assert rec.poll() == SILENCE

    factory.last.feed(blocks_of(sine(0.5, amplitude=0.5)))
    level = rec.poll()
    assert level.peak_dbfs == pytest.approx(20 * math.log10(0.5), abs=0.05)
    assert level.rms_dbfs == pytest.approx(20 * math.log10(0.5 / math.sqrt(2)), abs=0.05)
    assert not level.clipped

    factory.last.feed(blocks_of(np.zeros(800, dtype=np.float32)))
    assert rec.poll() == Level(-math.inf, -math.inf, False)

    factory.last.feed(blocks_of(sine(0.1, amplitude=1.0, hz=RATE / 4)))  # hits ±1.0
    loud = rec.poll()
    assert loud.clipped and loud.peak_dbfs == pytest.approx(0.0, abs=0.01) and loud.fresh
    assert rec.poll() == Level(loud.peak_dbfs, loud.rms_dbfs, clipped=False, fresh=False)
    rec.stop()


def test_a_poll_without_new_audio_holds_the_level(factory: Factory) -> None:
    # PortAudio delivers blocks on its own clock: most 30 ms polls find nothing new. The
    # meter must not drop to silence between blocks, and digital silence must still read
    # as -inf when it does arrive.
    rec = Recorder(RATE, stream_factory=factory)
    rec.start()
    assert rec.poll() == SILENCE and not SILENCE.fresh

    factory.last.feed(blocks_of(sine(0.1, amplitude=0.5)))
    speech = rec.poll()
    assert speech.fresh and speech.peak_dbfs == pytest.approx(20 * math.log10(0.5), abs=0.05)
    for _ in range(3):
        assert rec.poll() == Level(speech.peak_dbfs, speech.rms_dbfs, False, fresh=False)

    factory.last.feed(blocks_of(np.zeros(160, dtype=np.float32)))
    assert rec.poll() == Level(-math.inf, -math.inf, False, fresh=True)
    rec.stop()
    assert not rec.poll().fresh


def test_stop_returns_the_recording_without_copying_it(factory: Factory) -> None:
    first = sine(0.5)
    rec = Recorder(RATE, max_seconds=2.0, stream_factory=factory)
    rec.start()
    factory.last.feed(blocks_of(first))

    recorded = rec.stop()

    # A view of the array preallocated at start(): copying ten minutes of 48 kHz audio
    # took a third of a second on the UI thread.
    assert not recorded.flags.owndata and recorded.base is not None
    np.testing.assert_array_equal(recorded, first)
    assert rec.stop() is recorded

    # The next recording gets an array of its own; the one returned is left alone.
    rec.start()
    factory.last.feed(blocks_of(np.full(2 * RATE, 0.25, dtype=np.float32)))
    rec.poll()
    second = rec.stop()
    np.testing.assert_array_equal(recorded, first)
    assert second.shape == (2 * RATE,) and not np.shares_memory(recorded, second)


def test_a_device_lost_before_stop_is_reported_by_stop(factory: Factory) -> None:
    audio = sine(0.5)
    rec = Recorder(RATE, stream_factory=factory)
    rec.start()
    factory.last.feed(blocks_of(audio))
    factory.last.disappear()  # after the last timer poll, before the user pressed Stop

    recorded = rec.stop()

    assert "disconnected" in rec.error and "kept" in rec.error
    np.testing.assert_array_equal(recorded, audio)
    rec.stop()
    assert "disconnected" in rec.error


def test_a_late_notice_from_the_previous_stream_does_not_end_the_next(
        factory: Factory) -> None:
    rec = Recorder(RATE, stream_factory=factory)
    rec.start()
    factory.last.feed(blocks_of(sine(0.2)))
    rec.stop()
    rec.start()
    old, new = factory.streams

    old.disappear()  # PortAudio's finished_callback for the first stream, late
    new.feed(blocks_of(sine(0.2)))
    rec.poll()

    assert rec.recording and rec.error == ""
    assert rec.stop().shape == (round(0.2 * RATE),)


def test_reaching_max_seconds_stops_cleanly(factory: Factory) -> None:
    audio = sine(1.0)
    rec = Recorder(RATE, max_seconds=0.25, stream_factory=factory)
    rec.start()

    factory.last.feed(blocks_of(audio))
    rec.poll()

    assert not rec.recording
    assert rec.frames == RATE // 4
    assert "limit" in rec.error and "kept" in rec.error
    assert factory.last.stopped and factory.last.closed
    np.testing.assert_array_equal(rec.stop(), audio[: RATE // 4])


def test_a_device_that_disappears_keeps_the_recording(factory: Factory) -> None:
    audio = sine(1.0)
    rec = Recorder(RATE, stream_factory=factory)
    rec.start()
    stream = factory.last
    stream.feed(blocks_of(audio[:4000]))
    rec.poll()
    stream.feed(blocks_of(audio[4000:6000]))  # in the ring when the device goes
    stream.stop_error = FakePortAudioError("Stream is stopped")

    stream.disappear()
    deadline = time.monotonic() + WAIT
    while rec.recording:
        assert time.monotonic() < deadline, "the recorder never noticed"
        rec.poll()
        time.sleep(0.001)

    assert "disconnected" in rec.error and "kept" in rec.error
    np.testing.assert_array_equal(rec.stop(), audio[:6000])
    assert stream.closed


def test_a_stream_whose_state_cannot_be_read_is_a_lost_device(factory: Factory) -> None:
    rec = Recorder(RATE, stream_factory=factory)
    rec.start()
    factory.last.feed(blocks_of(sine(0.2)))
    factory.last.active_error = FakePortAudioError("Unanticipated host error")

    rec.poll()

    assert not rec.recording
    assert "Unanticipated host error" in rec.error
    assert rec.stop().shape == (round(0.2 * RATE),)


def test_a_stream_that_stops_delivering_is_a_lost_device(factory: Factory) -> None:
    rec = Recorder(RATE, stream_factory=factory, stall_seconds=0.05)
    rec.start()
    factory.last.feed(blocks_of(sine(0.2)))

    deadline = time.monotonic() + WAIT
    while rec.recording:
        assert time.monotonic() < deadline, "the stall went unnoticed"
        rec.poll()
        time.sleep(0.01)

    assert "no audio" in rec.error
    assert rec.stop().shape == (round(0.2 * RATE),)


def test_overflows_are_counted(factory: Factory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recorder_module, "RING_SECONDS", 0.5)
    rec = Recorder(RATE, stream_factory=factory)
    rec.start()
    blocks = blocks_of(sine(0.1))
    factory.last.feed(blocks, [Flags(input_overflow=i == 1) for i in range(len(blocks))])
    rec.poll()
    assert rec.overflows == 1

    factory.last.feed(blocks_of(sine(1.0)))  # 1 s into a 0.5 s ring, unpolled
    assert rec.overflows > 1
    rec.poll()
    assert rec.frames == round(0.1 * RATE) + RATE // 2
    rec.stop()


def test_recording_again_starts_empty(factory: Factory) -> None:
    rec = Recorder(RATE, max_seconds=0.1, stream_factory=factory)
    rec.start()
    factory.last.feed(blocks_of(sine(0.5)))
    rec.poll()
    assert rec.error
    rec.stop()

    rec.start()
    assert rec.frames == 0 and rec.error == "" and rec.recording
    factory.last.feed(blocks_of(np.full(100, 0.25, dtype=np.float32)))
    np.testing.assert_array_equal(rec.stop(), np.full(100, 0.25, dtype=np.float32))
    assert len(factory.streams) == 2


def test_misuse(factory: Factory) -> None:
    rec = Recorder(RATE, stream_factory=factory)
    assert rec.stop().shape == (0,) and rec.poll() == SILENCE
    rec.start()
    with pytest.raises(RuntimeError, match="already recording"):
        rec.start()
    rec.stop()
    with pytest.raises(ValueError, match="sample_rate"):
        Recorder(0)
    with pytest.raises(ValueError, match="max_seconds"):
        Recorder(RATE, max_seconds=0)


def _device(index: int, name: str, host_api: str = "ALSA") -> AudioDevice:
    return AudioDevice(index, name, host_api, 1, 0, 48000.0)


def test_a_chosen_device_is_found_again_by_name_when_recording_starts(
        factory: Factory) -> None:
    # Listed as index 1; then PortAudio was re-initialised (refresh_devices) with a new
    # microphone plugged in, and the numbers moved.
    chosen = _device(1, "USB Mic")
    now = [_device(0, "Built-in Mic"), _device(1, "Headset"),
           _device(2, "USB Mic", "PulseAudio"), _device(3, "USB Mic")]
    rec = Recorder(RATE, chosen, stream_factory=factory, input_devices=lambda: now)

    rec.start()

    assert factory.last.kwargs["device"] == 3
    rec.stop()
    now[3:] = []  # unplugged
    with pytest.raises(AudioUnavailableError, match="'USB Mic' \\(ALSA\\) is no longer"):
        rec.start()
    assert not rec.recording and len(factory.streams) == 1


def test_a_device_that_cannot_open_is_unavailable(factory: Factory) -> None:
    factory.error = OSError("Device unavailable")
    rec = Recorder(RATE, 3, stream_factory=factory)
    with pytest.raises(AudioUnavailableError, match=r"Cannot open 3 for recording.*unavailable"):
        rec.start()
    assert not rec.recording


# -- with the sounddevice module faked, for the device checks -------------------------------

class FakeSoundDeviceWithInput(FakeSoundDevice):
    def InputStream(self, **kwargs: Any) -> FakeInputStream:
        if self.open_error is not None:
            raise self.open_error
        return FakeInputStream(**kwargs)


def test_no_input_device(install_sounddevice: Any) -> None:
    install_sounddevice(FakeSoundDeviceWithInput([fake_device(0, "Speakers", 0, 2)],
                                                 default_output=0))
    with pytest.raises(AudioUnavailableError, match="no audio input device: connect a mic"):
        Recorder(RATE).start()
    assert list_input_devices() == ()


def test_no_portaudio(install_sounddevice: Any) -> None:
    install_sounddevice(OSError("PortAudio library not found"))
    with pytest.raises(AudioUnavailableError, match="Cannot record: PortAudio library not"):
        Recorder(RATE).start()
    assert list_input_devices() == ()


def test_a_real_stream_that_refuses_to_open(install_sounddevice: Any) -> None:
    install_sounddevice(FakeSoundDeviceWithInput(
        [fake_device(0, "USB Mic", 1, 0)], default_input=0,
        open_error=FakePortAudioError("Error opening InputStream: Device unavailable [-9985]"),
    ))
    with pytest.raises(AudioUnavailableError,
                       match=r"Cannot open the default input device .* Device unavailable"):
        Recorder(RATE).start()


def test_a_real_stream_records(install_sounddevice: Any) -> None:
    install_sounddevice(FakeSoundDeviceWithInput([fake_device(0, "USB Mic", 1, 0)],
                                                 default_input=0))
    rec = Recorder(RATE)
    rec.start()
    assert rec.recording
    rec.stop()


def test_input_devices_are_listed_with_the_default_marked(install_sounddevice: Any) -> None:
    install_sounddevice(FakeSoundDevice(
        [fake_device(0, "Built-in Mic", 2, 0), fake_device(1, "Speakers", 0, 2),
         fake_device(2, "USB Mic", 1, 0)],
        default_output=1, default_input=2,
    ))
    assert list_input_devices() == (
        AudioDevice(0, "Built-in Mic", "FakeAPI", 2, 0, 48000.0, is_default=False),
        AudioDevice(2, "USB Mic", "FakeAPI", 1, 0, 48000.0, is_default=True),
    )


def test_this_machine_lists_inputs_without_raising() -> None:
    devices = list_input_devices()
    assert all(d.max_input_channels > 0 for d in devices)
    assert sum(d.is_default for d in devices) <= 1


# -- the real audio path --------------------------------------------------------------------

PULSE_RATE = 16_000


def _pulse_reachable() -> bool:
    if shutil.which("pactl") is None or shutil.which("paplay") is None:
        return False
    try:
        return subprocess.run(["pactl", "info"], capture_output=True, timeout=10,
                              check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture
def null_sink(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A null sink of our own; PortAudio's default input records its monitor."""
    if not _pulse_reachable():
        pytest.skip("no PulseAudio server reachable")
    name = f"studio_rec_test_{os.getpid()}"
    loaded = subprocess.run(
        ["pactl", "load-module", "module-null-sink", f"sink_name={name}",
         f"rate={PULSE_RATE}", "channels=1"],
        capture_output=True, text=True, timeout=30, check=True,
    )
    module = loaded.stdout.strip()
    # libpulse (behind PortAudio's ALSA "pulse"/"default" device) reads this when a
    # recording stream connects, so the recorder hears the sink's monitor.
    monkeypatch.setenv("PULSE_SOURCE", f"{name}.monitor")
    try:
        yield name
    finally:
        subprocess.run(["pactl", "unload-module", module], capture_output=True, timeout=30,
                       check=False)


def _wait_for_frames(rec: Recorder, frames: int) -> None:
    """Poll like the UI timer until ``frames`` were recorded (on the sink's clock)."""
    deadline = time.monotonic() + WAIT
    while rec.frames < frames:
        assert rec.recording, rec.error
        assert time.monotonic() < deadline, "the monitor stopped delivering audio"
        rec.poll()
        time.sleep(0.03)


def test_recording_a_null_sinks_monitor(null_sink: str, tmp_path: Path) -> None:
    t = np.arange(PULSE_RATE) / PULSE_RATE
    # A chirp after half a second of silence: the correlation peaks only at the true lag.
    chirp = (0.5 * np.sin(2 * np.pi * (200 * t + 900 * t**2))).astype(np.float32)
    played = tmp_path / "chirp.wav"
    write_wav(played, np.concatenate([np.zeros(PULSE_RATE // 2, np.float32), chirp]),
              PULSE_RATE, subtype="FLOAT")
    try:
        rec = Recorder(PULSE_RATE)
        rec.start()
    except AudioUnavailableError as exc:
        pytest.skip(f"PortAudio cannot record here: {exc}")
    try:
        _wait_for_frames(rec, PULSE_RATE // 10)  # the stream is running
        subprocess.run(["paplay", "-d", null_sink, str(played)], check=True, timeout=WAIT)
        # paplay returns once the sink took the last sample; record half a second more.
        _wait_for_frames(rec, rec.frames + PULSE_RATE // 2)
    finally:
        recorded = rec.stop()

    assert rec.error == "", rec.error
    assert recorded.dtype == np.float32 and recorded.shape[0] > chirp.shape[0]
    corr = np.correlate(recorded, chirp, mode="valid")
    lag = int(np.argmax(np.abs(corr)))
    segment = recorded[lag : lag + chirp.shape[0]]
    similarity = float(np.dot(segment, chirp)
                       / (np.linalg.norm(segment) * np.linalg.norm(chirp) + 1e-12))
    print(f"normalised cross-correlation peak: {similarity:.6f}")
    assert similarity > 0.8, similarity
    assert recorded[: max(0, lag - PULSE_RATE // 10)].std() < 0.01  # silence before it
