"""Backend detection: missing PortAudio, no devices, defaults, and this machine."""

from __future__ import annotations

from typing import Any

from audio_fakes import FakeSoundDevice, fake_device

from studio.audio.devices import (
    NO_OUTPUT_DEVICE,
    PORTAUDIO_MISSING,
    SOUNDDEVICE_MISSING,
    AudioDevice,
    AudioStatus,
    audio_backend_status,
    list_devices,
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
