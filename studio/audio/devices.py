"""Is there an audio backend, and which devices does it offer?

``import sounddevice`` raises ``OSError('PortAudio library not found')`` when the
PortAudio shared library is missing (python-sounddevice's module import), and PortAudio
reports a default device index of -1 when a host API has no device
(``Pa_GetDefaultOutputDevice``). Both are ordinary situations for this studio (servers,
CI, containers, a laptop with audio disabled): they are reported as data, never raised,
so the UI can show a visible notice and fall back to silent playback.

``sounddevice`` is imported lazily, on the first call, so importing this module never
fails and never initialises PortAudio.

PortAudio enumerates devices once, when it is initialised (at ``import sounddevice``), so
a microphone plugged in later is not listed and device indices never change on their own
(python-sounddevice issue #125, "query_devices() dont update audio devices").
:func:`refresh_devices` re-initialises PortAudio to look again; afterwards the indices may
name other devices, which is why the recorder looks its device up again by name and host
API (:func:`find_input_device`) when it starts.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

log = logging.getLogger(__name__)

PORTAUDIO_MISSING = (
    "PortAudio library not found: install libportaudio2 (Debian/Ubuntu), "
    "portaudio (Homebrew) or reinstall sounddevice"
)
SOUNDDEVICE_MISSING = "the sounddevice package is not installed"
NO_OUTPUT_DEVICE = "no audio output device"
NO_INPUT_DEVICE = (
    "no audio input device: connect a microphone, or check that it is enabled in the "
    "system's sound settings"
)


@dataclass(frozen=True, slots=True)
class AudioStatus:
    """What the audio backend can do right now.

    Attributes:
        available: True when output playback can be attempted (PortAudio loaded and a
            default output device exists).
        reason: empty when available, else a one-line explanation for the user.
        default_output: name of the default output device, or None.
        default_input: name of the default input device (microphone), or None.
    """

    available: bool
    reason: str
    default_output: str | None
    default_input: str | None


@dataclass(frozen=True, slots=True)
class AudioDevice:
    """One PortAudio device, as ``sounddevice.query_devices()`` describes it.

    Attributes:
        index: PortAudio device index (what ``device=`` accepts).
        name: device name.
        host_api: name of the host API (ALSA, PulseAudio, Core Audio, WASAPI, ...).
        max_input_channels: input channels (0 for an output-only device).
        max_output_channels: output channels (0 for an input-only device).
        default_sample_rate: the device's default rate in Hz.
        is_default: True for the system default of the kind listed (set by
            :func:`list_input_devices` for the default input; :func:`list_devices` leaves
            it False).
    """

    index: int
    name: str
    host_api: str
    max_input_channels: int
    max_output_channels: int
    default_sample_rate: float
    is_default: bool = False


def _import_sounddevice() -> ModuleType:
    """Import python-sounddevice; raises ImportError or OSError like the import does."""
    import sounddevice

    module: ModuleType = sounddevice
    return module


def load_sounddevice() -> tuple[ModuleType | None, str]:
    """Import ``sounddevice`` if PortAudio is present.

    Returns:
        ``(module, "")`` on success, ``(None, reason)`` when the package or the PortAudio
        library is missing.
    """
    try:
        return _import_sounddevice(), ""
    except ImportError:
        return None, SOUNDDEVICE_MISSING
    except OSError as exc:
        log.info("sounddevice unavailable: %s", exc)
        return None, PORTAUDIO_MISSING


def _default_name(sd: ModuleType, kind: str) -> str | None:
    """Name of the default ``kind`` ('input'/'output') device, None when there is none."""
    try:
        info: Any = sd.query_devices(kind=kind)
    except sd.PortAudioError:
        # PortAudio answers "Error querying device -1" when there is no default device.
        return None
    except ValueError:
        return None
    name = info.get("name") if isinstance(info, dict) else None
    return str(name) if name is not None else None


def audio_backend_status() -> AudioStatus:
    """Probe PortAudio and the default devices; never raises for a missing backend.

    Returns:
        An :class:`AudioStatus`. ``available`` is False with a reason such as
        :data:`PORTAUDIO_MISSING` or :data:`NO_OUTPUT_DEVICE`.
    """
    sd, reason = load_sounddevice()
    if sd is None:
        return AudioStatus(False, reason, None, None)
    try:
        output = _default_name(sd, "output")
        input_ = _default_name(sd, "input")
    except Exception as exc:  # noqa: BLE001 - PortAudio host API errors come in assorted types
        log.warning("querying audio devices failed: %s", exc)
        return AudioStatus(False, f"audio backend error: {exc}", None, None)
    if output is None:
        return AudioStatus(False, NO_OUTPUT_DEVICE, None, input_)
    return AudioStatus(True, "", output, input_)


def _query_all(sd: ModuleType) -> tuple[AudioDevice, ...]:
    """Every device PortAudio reports; raises what ``query_devices`` raises."""
    hostapis = sd.query_hostapis()
    devices = []
    for entry in sd.query_devices():
        api = hostapis[entry["hostapi"]]["name"] if entry["hostapi"] < len(hostapis) else ""
        devices.append(
            AudioDevice(
                index=int(entry["index"]),
                name=str(entry["name"]),
                host_api=str(api),
                max_input_channels=int(entry["max_input_channels"]),
                max_output_channels=int(entry["max_output_channels"]),
                default_sample_rate=float(entry["default_samplerate"]),
            )
        )
    return tuple(devices)


def list_devices() -> tuple[AudioDevice, ...]:
    """All PortAudio devices, for a device chooser; empty when there is no backend."""
    sd, _ = load_sounddevice()
    if sd is None:
        return ()
    try:
        return _query_all(sd)
    except Exception as exc:  # noqa: BLE001 - same reasoning as in audio_backend_status
        log.warning("listing audio devices failed: %s", exc)
        return ()


def default_input_index(sd: ModuleType) -> int | None:
    """PortAudio index of the default input device, None when there is none.

    ``sd`` is the loaded ``sounddevice`` module; ``query_devices(kind="input")`` raises
    ``PortAudioError`` ("Error querying device -1") when the host API has no default input.
    """
    try:
        info: Any = sd.query_devices(kind="input")
    except (sd.PortAudioError, ValueError):
        return None
    index = info.get("index") if isinstance(info, dict) else None
    return int(index) if index is not None else None


def list_input_devices() -> tuple[AudioDevice, ...]:
    """Devices that can record (``max_input_channels > 0``), for the recorder's chooser.

    The system default input has ``is_default=True``. Empty when there is no backend or
    no input device; never raises for a missing backend (failures are logged).
    """
    sd, _ = load_sounddevice()
    if sd is None:
        return ()
    try:
        devices = _query_all(sd)
        default = default_input_index(sd)
    except Exception as exc:  # noqa: BLE001 - same reasoning as in audio_backend_status
        log.warning("listing audio input devices failed: %s", exc)
        return ()
    return tuple(
        dataclasses.replace(d, is_default=d.index == default)
        for d in devices
        if d.max_input_channels > 0
    )


def find_input_device(wanted: AudioDevice,
                      devices: Sequence[AudioDevice]) -> AudioDevice | None:
    """The input device in ``devices`` with ``wanted``'s name and host API, None if gone.

    Indices are only valid until PortAudio is re-initialised (:func:`refresh_devices`):
    after that the same index can name another device, so a device chosen from an older
    listing is found again by what identifies it. The host API matters because one
    microphone is listed once per host API (ALSA and PulseAudio, MME and WASAPI).
    """
    for device in devices:
        if (device.name == wanted.name and device.host_api == wanted.host_api
                and device.max_input_channels > 0):
            return device
    return None


_STREAM_CLASSES = ("Stream", "InputStream", "OutputStream", "RawStream", "RawInputStream",
                   "RawOutputStream")


def _open_streams(sd: ModuleType) -> int:
    """How many of ``sd``'s stream objects exist and are not closed (started or not)."""
    classes = tuple(c for c in (getattr(sd, n, None) for n in _STREAM_CLASSES)
                    if isinstance(c, type))
    if not classes:
        return 0
    # PortAudio has no call that lists open streams; every stream is a Python object, so
    # the garbage collector's list of live objects finds them (about a millisecond).
    return sum(1 for obj in gc.get_objects()
               if isinstance(obj, classes) and not getattr(obj, "closed", True))


def refresh_devices() -> bool:
    """Make PortAudio enumerate the audio devices again (the ⟳ button), if it is safe.

    Re-initialising is the only way to see a device plugged in after start-up
    (python-sounddevice issue #125). It uses two private functions of python-sounddevice,
    ``sd._terminate()`` and ``sd._initialize()`` (the wrappers of ``Pa_Terminate`` and
    ``Pa_Initialize``), as its maintainer recommends in that issue. ``Pa_Terminate`` closes
    every open stream under its owner, and sounddevice would then use a freed stream
    pointer, so nothing happens while any stream is open: a recording, a playback, or a
    player's idle output stream that has not been closed. PortAudio counts initialisations,
    so it is terminated as many times as sounddevice initialised it, then initialised as
    many times again.

    Afterwards device indices may name other devices; list the devices again
    (:func:`list_input_devices`) and pass the :class:`AudioDevice`, not its index, to
    :class:`~studio.audio.recorder.Recorder`, which finds it again by name when it starts.
    On Windows some PortAudio builds keep their old list even so (python-sounddevice
    issue #516); the listing is then simply unchanged.

    Call from the thread that opens streams (the UI thread), so none opens meanwhile.

    Returns:
        True when PortAudio was re-initialised; False when there is no backend or a
        stream is open (the device list stays as it was). Never raises: a failure is
        logged and returns False.
    """
    sd, _ = load_sounddevice()
    if sd is None:
        return False
    open_streams = _open_streams(sd)
    if open_streams:
        log.info("not refreshing audio devices: %d stream(s) open", open_streams)
        return False
    try:
        count = int(getattr(sd, "_initialized", 1))
        for _ in range(count):
            sd._terminate()
        for _ in range(max(1, count)):
            sd._initialize()
    except Exception as exc:  # noqa: BLE001 - PortAudio errors surface as assorted types
        log.warning("re-initialising PortAudio failed: %s", exc)
        return False
    return True
