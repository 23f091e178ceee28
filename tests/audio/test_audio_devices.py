"""Backend detection: missing PortAudio, no devices, defaults, and this machine."""

from __future__ import annotations

import gc
from typing import Any

import pytest
from audio_fakes import FakeSoundDevice, fake_device

from studio.audio.devices import (
    NO_OUTPUT_DEVICE,
    PORTAUDIO_MISSING,
    SOUNDDEVICE_MISSING,
    AudioDevice,
    AudioStatus,
    audio_backend_status,
    find_input_device,
    list_devices,
    list_input_devices,
    load_sounddevice,
    refresh_devices,
)


def test_missing_portaudio_library(install_sounddevice: Any) -> None:
    # What `import sounddevice` raises when libportaudio2 is not installed.
    install_sounddevice(OSError("PortAudio library not found"))
    status = audio_backend_status()
    assert status == AudioStatus(False, PORTAUDIO_MISSING, None, None)
    assert "libportaudio2" in status.reason
    assert list_devices() == ()


def test_missing_sounddevice_package(install_sounddevice: Any) -> None:
    install_sounddevice(ImportError("No module named 'sounddevice'"))
    assert audio_backend_status() == AudioStatus(False, SOUNDDEVICE_MISSING, None, None)


def test_no_device_at_all(install_sounddevice: Any) -> None:
    install_sounddevice(FakeSoundDevice([]))
    assert audio_backend_status() == AudioStatus(False, NO_OUTPUT_DEVICE, None, None)


def test_microphone_only(install_sounddevice: Any) -> None:
    install_sounddevice(FakeSoundDevice([fake_device(0, "USB Mic", 1, 0)], default_input=0))
    assert audio_backend_status() == AudioStatus(False, NO_OUTPUT_DEVICE, None, "USB Mic")


def test_defaults_and_listing(install_sounddevice: Any) -> None:
    module = FakeSoundDevice(
        [fake_device(0, "USB Mic", 1, 0), fake_device(1, "Speakers", 0, 2)],
        default_output=1,
        default_input=0,
    )
    install_sounddevice(module)
    assert audio_backend_status() == AudioStatus(True, "", "Speakers", "USB Mic")
    devices = list_devices()
    assert devices[1] == AudioDevice(1, "Speakers", "FakeAPI", 0, 2, 48000.0)
    assert [d.max_input_channels for d in devices] == [1, 0]


def test_this_machine_reports_without_raising() -> None:
    status = audio_backend_status()
    assert isinstance(status.available, bool)
    if status.available:
        assert status.reason == "" and status.default_output
    else:
        assert status.reason and status.default_output is None


# -- refreshing the device list (python-sounddevice issue #125) ---------------------------

class FakeStream:
    """Stands in for a ``sounddevice`` stream object: open until closed."""

    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


class FakeRefreshableSoundDevice(FakeSoundDevice):
    """Counts PortAudio (re-)initialisations like ``sounddevice`` does, and lists devices
    plugged in since the last one only after it."""

    InputStream = FakeStream
    OutputStream = FakeStream  # type: ignore[assignment]

    def __init__(self, devices: list[dict[str, Any]]) -> None:
        super().__init__(devices, default_input=0)
        self._initialized = 1
        self.calls: list[str] = []
        self.plugged: list[dict[str, Any]] = []

    def _terminate(self) -> None:
        self.calls.append("terminate")
        self._initialized -= 1

    def _initialize(self) -> None:
        self.calls.append("initialize")
        self._initialized += 1
        if self._initialized == 1:
            self.devices = self.devices + self.plugged
            self.plugged = []


def test_refreshing_finds_a_microphone_plugged_in_later(install_sounddevice: Any) -> None:
    sd = FakeRefreshableSoundDevice([fake_device(0, "Built-in Mic", 2, 0)])
    install_sounddevice(sd)
    sd.plugged = [fake_device(1, "USB Mic", 1, 0)]
    assert [d.name for d in list_input_devices()] == ["Built-in Mic"]

    assert refresh_devices() is True

    assert sd.calls == ["terminate", "initialize"] and sd._initialized == 1
    assert [d.name for d in list_input_devices()] == ["Built-in Mic", "USB Mic"]


def test_refreshing_waits_while_a_stream_is_open(install_sounddevice: Any) -> None:
    sd = FakeRefreshableSoundDevice([fake_device(0, "Built-in Mic", 2, 0)])
    install_sounddevice(sd)
    stream = sd.InputStream()  # Pa_Terminate would close it under its owner

    assert refresh_devices() is False
    assert sd.calls == []

    stream.close()
    assert refresh_devices() is True


def test_refreshing_without_a_backend_does_nothing(install_sounddevice: Any) -> None:
    install_sounddevice(OSError("PortAudio library not found"))
    assert refresh_devices() is False


def test_a_device_is_found_again_by_name_and_host_api() -> None:
    def device(index: int, name: str, api: str, inputs: int = 1) -> AudioDevice:
        return AudioDevice(index, name, api, inputs, 0, 48000.0)

    listed = [device(0, "USB Mic", "ALSA"), device(1, "USB Mic", "PulseAudio"),
              device(2, "Speakers", "ALSA", inputs=0)]
    assert find_input_device(device(7, "USB Mic", "PulseAudio"), listed) == listed[1]
    assert find_input_device(device(0, "USB Mic", "JACK"), listed) is None
    assert find_input_device(device(2, "Speakers", "ALSA"), listed) is None


def test_this_machine_refreshes_when_no_stream_is_open() -> None:
    sd, _ = load_sounddevice()
    if sd is None:
        pytest.skip("no PortAudio here")
    gc.collect()  # streams of earlier tests that nobody closed are not ours to keep open
    before = list_input_devices()

    assert refresh_devices() is True

    assert [(d.name, d.host_api) for d in list_input_devices()] == [
        (d.name, d.host_api) for d in before]
    try:
        stream = sd.InputStream(samplerate=16000, channels=1)
    except (sd.PortAudioError, ValueError) as exc:
        pytest.skip(f"PortAudio cannot open an input here: {exc}")
    try:
        assert refresh_devices() is False
        stream.start()  # still a valid stream: PortAudio was left alone
        stream.stop()
    finally:
        stream.close()
