"""The recorder dialog and level meter (issue #5): record from an injected input stream
(espeak speech rendered by the offline engine, delivered from another thread as
PortAudio would), meter, check, trim, import, consent, clone end to end, and the bad
inputs: no device, a device that fails to open or disappears, short and corrupt clips."""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor

from studio.api import CartesiaClient
from studio.api.models import OutputFormat, TTSRequest
from studio.audio.clip_checks import ClipReport
from studio.audio.devices import NO_OUTPUT_DEVICE, AudioDevice
from studio.audio.playback import NullPlayer
from studio.audio.recorder import Level, Recorder
from studio.config import Settings
from studio.project.model import Recording, TakeAudio
from studio.services import clone_session
from studio.services.document import ScriptDocument
from studio.services.playback import PlaybackService
from studio.services.voice_lab import VoiceLab
from studio.services.voices import VoiceCatalog
from studio.ui.voices.recorder_dialog import (
    CONSENT_TEXT,
    FIX_CLIP,
    GOOD_CLIP,
    USABLE_CLIP,
    RecorderDialog,
    report_html,
)
from studio.ui.widgets.level_meter import HOLD_UPDATES, LevelMeter, fraction

RATE = 48000
MIC = AudioDevice(index=3, name="Fake microphone", host_api="Test", max_input_channels=1,
                  max_output_channels=0, default_sample_rate=float(RATE), is_default=True)
OTHER = AudioDevice(index=5, name="USB headset", host_api="Test", max_input_channels=1,
                    max_output_channels=2, default_sample_rate=44100.0)
SENTENCE = ("Every morning I walk past the old harbour, where the fishing boats come in "
            "around half past six.")


def _wait(qloop, awaitable, timeout: float = 90.0):  # type: ignore[no-untyped-def]
    return qloop.run_until_complete(asyncio.wait_for(awaitable, timeout))


class FakeInputStream:
    """A ``sounddevice.InputStream`` stand-in: :meth:`feed` calls the callback from
    another thread with ``(frames, 1)`` blocks, as PortAudio does; :meth:`disappear`
    ends the stream as an unplugged device does."""

    def __init__(self, *, callback: Callable[..., None], finished_callback: Callable[[], None],
                 **kwargs: Any) -> None:
        self.kwargs = kwargs
        self._callback = callback
        self._finished = finished_callback
        self._active = False

    @property
    def active(self) -> bool:
        return self._active

    def start(self) -> None:
        self._active = True

    def stop(self) -> None:
        self._active = False

    def close(self) -> None:
        self._active = False

    def feed(self, audio: np.ndarray, block: int = 1024) -> None:
        def run() -> None:
            for start in range(0, audio.shape[0], block):
                chunk = audio[start:start + block].reshape(-1, 1)
                self._callback(chunk, chunk.shape[0], None, None)

        thread = threading.Thread(target=run)
        thread.start()
        thread.join()

    def disappear(self) -> None:
        self._active = False
        self._finished()


class Microphone:
    """A recorder factory whose recorders read from :class:`FakeInputStream`s."""

    def __init__(self, open_error: Exception | None = None) -> None:
        self.streams: list[FakeInputStream] = []
        self.calls: list[dict[str, Any]] = []
        self.open_error = open_error

    def _stream(self, **kwargs: Any) -> FakeInputStream:
        if self.open_error is not None:
            raise self.open_error
        self.streams.append(FakeInputStream(**kwargs))
        return self.streams[-1]

    def __call__(self, **kwargs: Any) -> Recorder:
        self.calls.append(kwargs)
        return Recorder(**kwargs, stream_factory=self._stream, stall_seconds=None)


def with_room_tone(speech: np.ndarray, lead: float = 0.8, tail: float = 0.4) -> np.ndarray:
    """``speech`` after ``lead`` s and before ``tail`` s of quiet room noise (about
    -66 dBFS), so the checks can measure a noise floor as in a real room."""
    rng = np.random.default_rng(5)

    def noise(seconds: float) -> np.ndarray:
        return (rng.standard_normal(int(RATE * seconds)) * 5e-4).astype(np.float32)

    return np.concatenate([noise(lead), speech + noise(speech.shape[0] / RATE), noise(tail)])


@pytest.fixture(scope="module")
def speech(offline_engine) -> np.ndarray:  # type: ignore[no-untyped-def]
    """A sentence of espeak speech from the offline engine at 48 kHz, in room tone."""

    async def render() -> np.ndarray:
        async with CartesiaClient(offline_engine.api_key, base_url=offline_engine.base_url) as c:
            voice = (await c.voices.list())[0]
            request = TTSRequest(transcript=SENTENCE, voice_id=voice.id,
                                 output_format=OutputFormat("raw", "pcm_f32le", RATE))
            return np.frombuffer(await c.tts.bytes(request), dtype=np.float32).copy()

    return with_room_tone(asyncio.run(render()))


@pytest.fixture
def lab(qloop, offline_engine, tmp_path: Path):  # type: ignore[no-untyped-def]
    client = CartesiaClient(offline_engine.api_key, base_url=offline_engine.base_url,
                            max_retries=0)
    lab = VoiceLab(VoiceCatalog(), ScriptDocument(), tmp_path / "cache")
    lab.set_client(client, "offline")
    yield lab
    qloop.run_until_complete(client.aclose())


@pytest.fixture
def mic() -> Microphone:
    return Microphone()


@pytest.fixture
def dialog(qtbot, lab, playback, mic):  # type: ignore[no-untyped-def]
    dialog = RecorderDialog(lab, playback, recorder_factory=mic,
                            input_devices=lambda: (OTHER, MIC))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def feed(dialog: RecorderDialog, mic: Microphone, audio: np.ndarray) -> None:
    """Deliver ``audio`` a second at a time, polling between as the dialog's timer does
    (the recorder's ring buffer holds a few seconds)."""
    for start in range(0, audio.shape[0], RATE):
        mic.streams[-1].feed(audio[start:start + RATE])
        dialog.poll()


def record(dialog: RecorderDialog, mic: Microphone, audio: np.ndarray, qtbot) -> np.ndarray:  # type: ignore[no-untyped-def]
    dialog.record_button.click()
    assert dialog.recording
    feed(dialog, mic, audio)
    with qtbot.waitSignal(dialog.recording_finished) as blocker:
        dialog.stop_button.click()
    recorded, rate = blocker.args
    assert rate == RATE
    return np.asarray(recorded)


# --- the level meter -------------------------------------------------------------------


def test_meter_scale_peak_hold_and_latching_clip_indicator(qtbot) -> None:  # type: ignore[no-untyped-def]
    meter = LevelMeter()
    qtbot.addWidget(meter)
    meter.resize(420, 46)
    meter.show()
    assert fraction(-60.0) == 0.0 and fraction(0.0) == 1.0 and fraction(-30.0) == 0.5
    assert fraction(-math.inf) == 0.0 and fraction(-90.0) == 0.0 and fraction(3.0) == 1.0

    meter.set_level(Level(-12.0, -20.0, False))
    assert (meter.peak_dbfs, meter.rms_dbfs, meter.hold_dbfs) == (-12.0, -20.0, -12.0)
    meter.set_level(Level(-30.0, -40.0, False))
    assert meter.peak_dbfs == -30.0 and meter.hold_dbfs == -12.0  # held
    for _ in range(HOLD_UPDATES):
        meter.set_level(Level(-30.0, -40.0, False))
    assert meter.hold_dbfs == -30.0  # released after the hold
    assert "Peak -30.0 dBFS, RMS -40.0 dBFS" in meter.toolTip()

    clip_pixel = QPoint(meter.width() - 2, 14)  # inside the CLIP box, beside its text
    assert meter.grab().toImage().pixelColor(clip_pixel) != QColor("#ff5a5a")
    meter.set_level(Level(0.0, -3.0, True))
    meter.set_level(Level(-40.0, -50.0, False))
    assert meter.clip_latched  # stays lit after the level drops
    assert meter.grab().toImage().pixelColor(clip_pixel) == QColor("#ff5a5a")
    assert "Clipped" in meter.toolTip()
    with qtbot.waitSignal(meter.clip_reset):
        qtbot.mouseClick(meter, Qt.MouseButton.LeftButton)
    assert not meter.clip_latched
    meter.set_level(Level(-math.inf, -math.inf, False))
    meter.reset()
    assert meter.hold_dbfs == -math.inf


# --- recording -------------------------------------------------------------------------


def test_devices_are_listed_with_the_default_chosen_and_used(dialog: RecorderDialog, mic,
                                                             speech, qtbot) -> None:  # type: ignore[no-untyped-def]
    combo = dialog.device_combo
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "USB headset", "Fake microphone (default)"]
    assert combo.currentIndex() == 1
    record(dialog, mic, speech[:RATE], qtbot)
    assert (mic.calls[-1]["sample_rate"], mic.calls[-1]["device"]) == (RATE, MIC)
    assert mic.streams[-1].kwargs["device"] == MIC.index
    combo.setCurrentIndex(0)
    dialog.record_button.click()
    assert (mic.calls[-1]["sample_rate"], mic.calls[-1]["device"]) == (44100, OTHER)
    assert mic.streams[-1].kwargs["device"] == OTHER.index
    dialog.stop()


def test_the_refresh_button_finds_a_microphone_plugged_in_later(
        qtbot, lab, playback, mic, speech) -> None:  # type: ignore[no-untyped-def]
    # PortAudio lists devices once; after it looks again the indices may change.
    listed: list[tuple[AudioDevice, ...]] = [(OTHER,)]
    reinitialised: list[bool] = []
    plugged = AudioDevice(index=1, name="USB mic", host_api="Test", max_input_channels=1,
                          max_output_channels=0, default_sample_rate=float(RATE))

    def reinitialise() -> bool:
        reinitialised.append(True)
        listed.append((replace(OTHER, index=7), plugged))
        return True

    dialog = RecorderDialog(lab, playback, recorder_factory=mic,
                            input_devices=lambda: listed[-1], reinitialise_devices=reinitialise)
    qtbot.addWidget(dialog)
    assert dialog.device_combo.count() == 1 and not reinitialised  # only ⟳ looks again
    dialog.devices_button.click()
    assert reinitialised == [True]
    combo = dialog.device_combo
    assert [combo.itemText(i) for i in range(combo.count())] == ["USB headset", "USB mic"]
    assert combo.currentData() == replace(OTHER, index=7)  # still chosen, renumbered
    dialog.record_button.click()
    assert mic.streams[-1].kwargs["device"] == 7
    assert not dialog.devices_button.isEnabled()  # never while a stream is open
    dialog.stop()


def test_a_device_unplugged_after_it_was_listed_is_reported_at_record(
        qtbot, lab, playback, mic) -> None:  # type: ignore[no-untyped-def]
    listed: list[tuple[AudioDevice, ...]] = [(MIC,)]
    dialog = RecorderDialog(lab, playback, recorder_factory=mic, input_devices=lambda: listed[-1],
                            reinitialise_devices=lambda: True)
    qtbot.addWidget(dialog)
    listed.append(())  # gone before Record
    dialog.record_button.click()
    assert not dialog.recording and not mic.streams
    assert "no longer connected" in dialog.notice_label.text()


def test_recording_meters_keeps_every_sample_and_checks_the_clip(
        dialog: RecorderDialog, mic, speech, qtbot, qloop, playback, players) -> None:  # type: ignore[no-untyped-def]
    assert dialog.prompt_label.text().count(".") >= 2  # a paragraph to read
    assert not dialog.stop_button.isEnabled() and not dialog.play_button.isEnabled()
    dialog.record_button.click()
    assert dialog.recording and dialog.stop_button.isEnabled()
    assert not dialog.record_button.isEnabled()
    feed(dialog, mic, speech)
    assert -30.0 < dialog.meter.peak_dbfs < 0.0
    assert dialog.meter.rms_dbfs < dialog.meter.peak_dbfs
    assert dialog.time_label.text() == f"{speech.shape[0] / RATE:.1f} s"
    with qtbot.waitSignal(dialog.recording_finished) as blocker:
        dialog.stop_button.click()
    assert np.array_equal(blocker.args[0], speech)
    assert not dialog.recording

    _wait(qloop, dialog.wait_idle())
    assert dialog.report is not None and dialog.report.ok, dialog.report
    checks = dialog.checks_label.text()
    for figure in ("Length", "Peak", "Noise floor", "SNR"):
        assert figure in checks
    assert "Good clip" in checks
    assert dialog.waveform.frames == speech.shape[0]

    # Play the selection only.
    dialog.waveform.set_selection(RATE, 2 * RATE)
    dialog.play_button.click()
    assert np.array_equal(players[-1].writes[-1], speech[RATE:2 * RATE])
    assert dialog.play_button.text() == "■ Stop playing"
    dialog.play_button.click()
    assert not playback.is_playing


def test_trim_keeps_the_selected_frames_checks_again_and_reports_the_new_clip(
        dialog: RecorderDialog, mic, speech, qtbot, qloop) -> None:  # type: ignore[no-untyped-def]
    recorded = record(dialog, mic, speech, qtbot)
    _wait(qloop, dialog.wait_idle())
    assert not dialog.trim_button.isEnabled()  # nothing selected
    start, end = RATE // 2, RATE // 2 + 2 * RATE
    dialog.waveform.set_selection(start, end)
    assert dialog.trim_button.isEnabled()
    # The trimmed clip is what would be uploaded: the project keeps it as a recording.
    with qtbot.waitSignal(dialog.recording_finished) as blocker:
        dialog.trim_button.click()
    assert np.array_equal(blocker.args[0], recorded[start:end]) and blocker.args[1] == RATE
    _wait(qloop, dialog.wait_idle())
    assert dialog.audio is not None
    assert np.array_equal(dialog.audio, recorded[start:end])
    assert dialog.report is not None and abs(dialog.report.duration - 2.0) < 1e-6
    assert "2.0 s" in dialog.checks_label.text()


def test_a_trimmed_clip_is_checked_against_the_noise_floor_of_the_recording(
        dialog: RecorderDialog, mic, speech, qtbot, qloop) -> None:  # type: ignore[no-untyped-def]
    record(dialog, mic, speech, qtbot)
    _wait(qloop, dialog.wait_idle())
    untrimmed = dialog.report
    assert untrimmed is not None and math.isfinite(untrimmed.noise_floor_dbfs)
    # Cut inside the speech: the silence the floor is measured in is gone.
    dialog.waveform.set_selection(int(1.2 * RATE), int(3.2 * RATE))
    dialog.trim_button.click()
    _wait(qloop, dialog.wait_idle())
    assert dialog.report is not None
    assert dialog.report.noise_floor_dbfs == untrimmed.noise_floor_dbfs
    assert math.isfinite(dialog.report.snr_db)
    # Trimming again still uses the recording's floor, not one of the trimmed clip.
    dialog.waveform.set_selection(0, RATE + RATE // 2)
    dialog.trim_button.click()
    _wait(qloop, dialog.wait_idle())
    assert dialog.report is not None and abs(dialog.report.duration - 1.5) < 1e-6
    assert dialog.report.noise_floor_dbfs == untrimmed.noise_floor_dbfs


def test_clone_waits_for_the_checks(dialog: RecorderDialog, speech, qloop,
                                    offline_engine) -> None:  # type: ignore[no-untyped-def]
    dialog.name_edit.setText("Harbour voice")
    dialog.set_clip(speech, RATE)
    dialog.consent_check.setChecked(True)
    assert dialog.report is None  # the checks run off the UI thread
    assert not dialog.clone_button.isEnabled()
    assert "wait for the checks" in dialog.clone_button.toolTip()
    before = offline_engine.stats.requests("/voices/clone")
    dialog.clone()
    assert not dialog.session.cloning and "once it is checked" in dialog.result_label.text()
    _wait(qloop, dialog.wait_idle())
    assert offline_engine.stats.requests("/voices/clone") == before
    assert dialog.report is not None and dialog.clone_button.isEnabled()


def test_checks_that_cannot_run_say_so_and_keep_clone_off(
        dialog: RecorderDialog, speech, qloop, monkeypatch, offline_engine) -> None:  # type: ignore[no-untyped-def]
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise ValueError("the analysis broke")

    monkeypatch.setattr(clone_session, "check_clip", broken)
    dialog.name_edit.setText("Harbour voice")
    dialog.consent_check.setChecked(True)
    dialog.set_clip(speech, RATE)
    _wait(qloop, dialog.wait_idle())
    checks = dialog.checks_label.text()
    assert "could not be checked" in checks and "the analysis broke" in checks
    assert "ff7a7a" in checks
    assert not dialog.clone_button.isEnabled()
    assert "use a clip that can be checked" in dialog.clone_button.toolTip()
    assert dialog.waveform.frames == speech.shape[0]  # still shown, to hear what it is
    before = offline_engine.stats.requests("/voices/clone")
    dialog.clone()
    _wait(qloop, dialog.wait_idle())
    assert offline_engine.stats.requests("/voices/clone") == before


def test_a_long_clip_is_advised_to_be_trimmed_once_and_can_still_be_cloned(
        dialog: RecorderDialog, speech, qloop) -> None:  # type: ignore[no-untyped-def]
    repeats = math.ceil(61 * RATE / speech.shape[0])
    long_clip = np.tile(speech, repeats)
    dialog.name_edit.setText("Long voice")
    dialog.set_clip(long_clip, RATE)
    dialog.consent_check.setChecked(True)
    _wait(qloop, dialog.wait_idle())
    checks = dialog.checks_label.text()
    # One piece of advice about length, agreeing with Cartesia's: about 5 s, 10–30 s fine.
    assert checks.count("The clip is long") == 1 and "first minute" not in checks
    assert "about 5 seconds" in checks and "10–30 s is fine" in checks
    assert USABLE_CLIP in checks and GOOD_CLIP not in checks
    assert dialog.report is not None and not dialog.report.problems
    assert dialog.clone_button.isEnabled() and dialog.clone_button.text() == "Clone voice"


def test_short_clips_are_warned_about_before_upload(dialog: RecorderDialog, mic, speech,
                                                    qtbot, qloop) -> None:  # type: ignore[no-untyped-def]
    dialog.name_edit.setText("Short")
    lead = int(0.8 * RATE)  # where the speech starts
    dialog.set_clip(speech[: lead + int(1.5 * RATE)], RATE)  # under 3 s: advice, in amber
    _wait(qloop, dialog.wait_idle())
    assert dialog.report is not None and dialog.report.advice and not dialog.report.problems
    checks = dialog.checks_label.text()
    assert "#f2c46c" in checks and "short" in checks
    assert USABLE_CLIP in checks and GOOD_CLIP not in checks  # never ✓ beside advice
    assert dialog.clone_button.text() == "Clone voice"
    dialog.set_clip(speech[lead: lead + int(0.5 * RATE)], RATE)  # under a second: a problem
    dialog.consent_check.setChecked(True)
    _wait(qloop, dialog.wait_idle())
    assert dialog.report is not None and dialog.report.problems
    checks = dialog.checks_label.text()
    assert "#ff7a7a" in checks and FIX_CLIP in checks and GOOD_CLIP not in checks
    assert dialog.clone_button.text() == "Clone anyway"
    assert dialog.clone_button.isEnabled()


def test_the_device_disappearing_mid_recording_keeps_what_was_recorded(
        dialog: RecorderDialog, mic, speech, qtbot, qloop) -> None:  # type: ignore[no-untyped-def]
    dialog.record_button.click()
    stream = mic.streams[-1]
    stream.feed(speech[:2 * RATE])
    stream.disappear()
    with qtbot.waitSignal(dialog.recording_finished) as blocker:
        dialog.poll()
    assert np.array_equal(blocker.args[0], speech[:2 * RATE])
    assert not dialog.recording
    notice = dialog.notice_label.text()
    assert "kept" in notice and "stopped" in notice
    assert dialog.notice_label.isVisible()
    _wait(qloop, dialog.wait_idle())
    assert dialog.waveform.frames == 2 * RATE
    assert dialog.record_button.isEnabled()  # try again


def test_a_device_lost_just_before_stop_is_reported(dialog: RecorderDialog, mic, speech,
                                                      qtbot, qloop) -> None:  # type: ignore[no-untyped-def]
    dialog.record_button.click()
    stream = mic.streams[-1]
    stream.feed(speech[:2 * RATE])
    stream.disappear()  # no poll between this and Stop
    with qtbot.waitSignal(dialog.recording_finished) as blocker:
        dialog.stop_button.click()
    assert np.array_equal(blocker.args[0], speech[:2 * RATE])
    notice = dialog.notice_label.text()
    assert "kept" in notice and "stopped" in notice and "disconnected" in notice
    assert "ff7a7a" in dialog.notice_label.styleSheet()
    _wait(qloop, dialog.wait_idle())


def test_a_device_that_cannot_open_is_reported_in_the_dialog(qtbot, lab, playback) -> None:  # type: ignore[no-untyped-def]
    mic = Microphone(open_error=OSError("Device unavailable [PaErrorCode -9985]"))
    dialog = RecorderDialog(lab, playback, recorder_factory=mic, input_devices=lambda: (MIC,))
    qtbot.addWidget(dialog)
    dialog.record_button.click()
    assert not dialog.recording
    assert "Device unavailable" in dialog.notice_label.text()
    assert dialog.record_button.isEnabled()


def test_no_input_device_says_so_and_import_still_works(qtbot, lab, playback, qloop, speech,
                                                        tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dialog = RecorderDialog(lab, playback, recorder_factory=Microphone(), input_devices=lambda: ())
    qtbot.addWidget(dialog)
    assert "No microphone" in dialog.notice_label.text()
    assert not dialog.record_button.isEnabled() and not dialog.device_combo.isEnabled()
    path = tmp_path / "take.flac"
    sf.write(path, speech, RATE)
    with qtbot.waitSignal(dialog.recording_finished) as blocker:
        dialog.import_file(str(path))
        _wait(qloop, dialog.wait_idle())
    assert blocker.args[1] == RATE
    assert np.allclose(blocker.args[0], speech, atol=1e-4)
    _wait(qloop, dialog.wait_idle())
    assert "Length" in dialog.checks_label.text()
    assert "Imported" in dialog.notice_label.text()


def test_a_corrupt_import_is_refused_with_its_reason(dialog: RecorderDialog, qloop, qtbot,
                                                     tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "broken.wav"
    path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" * 50)
    with qtbot.assertNotEmitted(dialog.recording_finished):
        dialog.import_file(str(path))
        _wait(qloop, dialog.wait_idle())
    assert dialog.audio is None
    assert "broken.wav" in dialog.notice_label.text()
    assert "ff7a7a" in dialog.notice_label.styleSheet()


def test_clone_needs_a_name_and_consent_and_makes_no_request_without_them(
        dialog: RecorderDialog, mic, speech, qtbot, qloop, offline_engine) -> None:  # type: ignore[no-untyped-def]
    record(dialog, mic, speech, qtbot)
    _wait(qloop, dialog.wait_idle())
    assert dialog.consent_check.text() == CONSENT_TEXT
    assert not dialog.clone_button.isEnabled()
    dialog.name_edit.setText("Harbour voice")
    assert not dialog.clone_button.isEnabled()
    assert "confirm consent" in dialog.clone_button.toolTip()
    before = offline_engine.stats.requests("/voices/clone")
    dialog.clone()
    _wait(qloop, dialog.wait_idle())
    assert "consent" in dialog.result_label.text()
    assert offline_engine.stats.requests("/voices/clone") == before
    dialog.consent_check.setChecked(True)
    assert dialog.clone_button.isEnabled()


def test_a_clone_that_failed_on_the_server_says_to_check_before_trying_again(
        dialog: RecorderDialog, speech, qtbot, qloop, offline_engine, lab) -> None:  # type: ignore[no-untyped-def]
    dialog.set_clip(speech, RATE)
    _wait(qloop, dialog.wait_idle())
    dialog.name_edit.setText("Harbour voice")
    dialog.consent_check.setChecked(True)
    offline_engine.inject_faults("/voices/clone", [500])
    with qtbot.assertNotEmitted(dialog.voice_cloned):
        dialog.clone_button.click()
        _wait(qloop, dialog.wait_idle())
    result = dialog.result_label.text()
    assert result.startswith("Cloning failed")
    assert "check your voices (Mine) before trying again" in result
    assert dialog.clone_button.isEnabled()  # the user decides, after looking


def test_a_new_recording_clears_the_last_clip_and_a_trim_says_the_new_length(
        dialog: RecorderDialog, mic, speech, qtbot, qloop) -> None:  # type: ignore[no-untyped-def]
    record(dialog, mic, speech, qtbot)
    _wait(qloop, dialog.wait_idle())
    assert dialog.waveform.frames and "Length" in dialog.checks_label.text()
    dialog.record_button.click()
    # The last clip's waveform and checks are not this recording's.
    assert dialog.audio is None and dialog.report is None
    assert dialog.waveform.frames == 0 and dialog.checks_label.text() == ""
    assert dialog.time_label.text() == "0.0 s"
    feed(dialog, mic, speech[:2 * RATE])
    assert dialog.time_label.text() == "2.0 s"
    with qtbot.waitSignal(dialog.recording_finished):
        dialog.stop_button.click()
    _wait(qloop, dialog.wait_idle())
    assert "Recorded 2.0 s" in dialog.notice_label.text()
    dialog.waveform.set_selection(0, RATE + RATE // 2)
    dialog.trim_button.click()
    assert dialog.notice_label.text() == "Trimmed to 1.5 s."
    _wait(qloop, dialog.wait_idle())


def test_record_stop_and_play_never_move_when_messages_come_and_go(
        dialog: RecorderDialog, mic, speech, qtbot, qloop) -> None:  # type: ignore[no-untyped-def]
    def places() -> list[QPoint]:
        dialog.layout().activate()
        return [b.mapTo(dialog, QPoint(0, 0))
                for b in (dialog.record_button, dialog.stop_button, dialog.play_button)]

    assert dialog.notice_label.text() == ""
    before = places()
    dialog.record_button.click()
    assert dialog.notice_label.text().startswith("Recording")
    assert places() == before  # the click aimed at Stop lands on Stop
    feed(dialog, mic, speech[:2 * RATE])
    dialog.stop_button.click()
    dialog._notice("A message long enough to wrap onto several lines of the dialog. " * 6,
                   error=True)
    assert places() == before
    _wait(qloop, dialog.wait_idle())


def test_while_the_clip_plays_one_stop_is_offered_and_record_waits(
        dialog: RecorderDialog, mic, speech, qtbot, qloop, playback) -> None:  # type: ignore[no-untyped-def]
    record(dialog, mic, speech, qtbot)
    _wait(qloop, dialog.wait_idle())
    dialog.play_button.click()
    assert playback.is_playing and dialog.play_button.text() == "■ Stop playing"
    assert dialog.play_button.isEnabled()
    assert not dialog.stop_button.isEnabled() and not dialog.record_button.isEnabled()
    dialog.play_button.click()
    assert not playback.is_playing and dialog.record_button.isEnabled()


def test_play_without_an_output_device_says_so_instead_of_pretending_to_play(
        qtbot, lab, mic, speech, qloop) -> None:  # type: ignore[no-untyped-def]
    playback = PlaybackService(
        player_factory=lambda rate, device=None: NullPlayer(rate, NO_OUTPUT_DEVICE))
    dialog = RecorderDialog(lab, playback, recorder_factory=mic, input_devices=lambda: (MIC,))
    qtbot.addWidget(dialog)
    dialog.set_clip(speech, RATE)
    _wait(qloop, dialog.wait_idle())
    dialog.play_button.click()
    assert not playback.is_playing
    assert dialog.play_button.text() == "▶ Play"
    assert dialog.notice_label.text() == "No sound: no audio output device"
    assert dialog.record_button.isEnabled()
    playback.shutdown()


# --- verdicts and consent ------------------------------------------------------------------


def _report(problems: tuple[str, ...] = (), advice: tuple[str, ...] = ()) -> ClipReport:
    return ClipReport(duration=6.0, peak_dbfs=-6.0, clipped_fraction=0.0,
                      noise_floor_dbfs=-70.0, speech_dbfs=-20.0, snr_db=50.0,
                      problems=problems, advice=advice)


def test_the_verdict_never_says_good_beside_advice_or_problems() -> None:
    assert GOOD_CLIP in report_html(_report())
    advised = report_html(_report(advice=("There is audible background noise.",)))
    assert USABLE_CLIP in advised and GOOD_CLIP not in advised and FIX_CLIP not in advised
    both = report_html(_report(problems=("Clipped.",), advice=("Short.",)))
    assert FIX_CLIP in both and GOOD_CLIP not in both and USABLE_CLIP not in both


@pytest.mark.parametrize(("name", "reason"), [("silent", "is silent"),
                                              ("hum", "has no speech")])
def test_a_clip_without_speech_cannot_be_cloned_anyway(
        dialog: RecorderDialog, qloop, offline_engine, name: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    seconds = np.arange(4 * RATE, dtype=np.float32) / RATE
    clip = (np.zeros_like(seconds) if name == "silent"
            else (0.1 * np.sin(2 * np.pi * 100.0 * seconds)).astype(np.float32))
    dialog.name_edit.setText("Nobody")
    dialog.set_clip(clip, RATE)
    dialog.consent_check.setChecked(True)
    _wait(qloop, dialog.wait_idle())
    assert dialog.report is not None and dialog.report.problems
    assert FIX_CLIP in dialog.checks_label.text()
    assert not dialog.clone_button.isEnabled()
    assert dialog.clone_button.text() == "Clone voice"  # no "Clone anyway"
    assert reason in dialog.clone_button.toolTip()
    before = offline_engine.stats.requests("/voices/clone")
    dialog.clone()
    _wait(qloop, dialog.wait_idle())
    assert offline_engine.stats.requests("/voices/clone") == before


def test_consent_is_for_one_clip_and_a_cloned_clip_is_not_cloned_twice(
        dialog: RecorderDialog, mic, speech, qtbot, qloop, offline_engine,
        tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    record(dialog, mic, speech, qtbot)
    _wait(qloop, dialog.wait_idle())
    dialog.name_edit.setText("Harbour voice")
    dialog.consent_check.setChecked(True)
    clones = offline_engine.stats.requests("/voices/clone")
    with qtbot.waitSignal(dialog.voice_cloned):
        dialog.clone_button.click()
        _wait(qloop, dialog.wait_idle())
    assert offline_engine.stats.requests("/voices/clone") == clones + 1
    # Done: consent is asked again, and this clip is not cloned (and paid for) twice.
    assert not dialog.consent_check.isChecked() and not dialog.clone_button.isEnabled()
    dialog.consent_check.setChecked(True)
    assert not dialog.clone_button.isEnabled()
    assert "already cloned this clip as Harbour voice" in dialog.clone_button.toolTip()
    dialog.clone()
    _wait(qloop, dialog.wait_idle())
    assert offline_engine.stats.requests("/voices/clone") == clones + 1
    assert "already cloned" in dialog.result_label.text()

    # Every other clip needs consent of its own: an import, a new recording, reopening.
    path = tmp_path / "other.wav"
    sf.write(path, speech[: 4 * RATE], RATE)
    dialog.import_file(str(path))
    _wait(qloop, dialog.wait_idle())
    assert not dialog.consent_check.isChecked()
    dialog.consent_check.setChecked(True)
    assert dialog.clone_button.isEnabled()  # another clip: cloning it is not a repeat
    dialog.record_button.click()
    assert not dialog.consent_check.isChecked()
    dialog.stop_button.click()
    dialog.consent_check.setChecked(True)
    dialog.close()
    dialog.show()
    assert not dialog.consent_check.isChecked()
    _wait(qloop, dialog.wait_idle())


# --- the project's recordings -------------------------------------------------------------


def kept_recording(name: str, audio: np.ndarray, voice_id: str = "") -> Recording:
    return Recording(id=f"rec-{name}", name=name, source=TakeAudio.of(audio, RATE),
                     created_at=1_700_000_000.0, voice_id=voice_id)


def test_the_projects_recordings_can_be_loaded_again_without_storing_them_twice(
        qtbot, lab, playback, mic, speech, qloop) -> None:  # type: ignore[no-untyped-def]
    kept = [kept_recording("Take one", speech[:3 * RATE]),
            kept_recording("Take two", speech, voice_id="a-deleted-voice")]
    dialog = RecorderDialog(lab, playback, recorder_factory=mic, input_devices=lambda: (MIC,),
                            recordings=lambda: list(kept))
    qtbot.addWidget(dialog)
    combo = dialog.recordings_combo
    assert combo.isVisibleTo(dialog) and combo.isEnabled()
    labels = [combo.itemText(i) for i in range(combo.count())]
    seconds = speech.shape[0] / RATE
    assert labels[1:] == [f"Take two · {seconds:.1f} s · cloned",  # newest first
                          "Take one · 3.0 s"]

    dialog.consent_check.setChecked(True)  # given for another clip
    with qtbot.assertNotEmitted(dialog.recording_finished), \
            qtbot.waitSignal(dialog.recording_chosen) as blocker:
        combo.setCurrentIndex(2)
        combo.activated.emit(2)
        _wait(qloop, dialog.wait_idle())
    assert blocker.args == [kept[0]]
    assert dialog.audio is not None and np.array_equal(dialog.audio, speech[:3 * RATE])
    assert dialog.report is not None and "3.0 s" in dialog.checks_label.text()
    assert "Take one" in dialog.notice_label.text()
    assert not dialog.consent_check.isChecked()

    # The app stores a new recording and says so: the list follows, the choice stays.
    kept.append(kept_recording("Take three", speech[:RATE]))
    dialog.refresh_recordings()
    assert combo.count() == 4 and combo.itemText(1).startswith("Take three")
    assert combo.currentData() is kept[0]
    # A new clip is not the loaded recording any more.
    record(dialog, mic, speech[:2 * RATE], qtbot)
    assert combo.currentIndex() == 0
    _wait(qloop, dialog.wait_idle())


def test_without_recordings_the_chooser_is_hidden_or_says_there_are_none(
        qtbot, lab, playback, mic) -> None:  # type: ignore[no-untyped-def]
    dialog = RecorderDialog(lab, playback, recorder_factory=mic, input_devices=lambda: (MIC,))
    qtbot.addWidget(dialog)
    assert not dialog.recordings_combo.isVisibleTo(dialog)
    empty = RecorderDialog(lab, playback, recorder_factory=mic, input_devices=lambda: (MIC,),
                           recordings=list)
    qtbot.addWidget(empty)
    assert empty.recordings_combo.isVisibleTo(empty)
    assert empty.recordings_combo.currentText() == "No recordings yet"
    assert not empty.recordings_combo.isEnabled()


# --- end to end ---------------------------------------------------------------------------


def test_record_check_consent_clone_then_the_voice_is_listed_and_speaks_a_block(
        open_studio, qtbot, qloop, speech, tmp_path: Path, offline_engine) -> None:  # type: ignore[no-untyped-def]
    studio = open_studio(Settings())
    lab = VoiceLab(studio.catalog, studio.document, tmp_path / "cache")
    lab.set_client(studio.backend.client, studio.backend.kind)
    mic = Microphone()
    dialog = RecorderDialog(lab, studio.playback, recorder_factory=mic,
                            input_devices=lambda: (MIC,))
    qtbot.addWidget(dialog)
    dialog.show()

    recorded = record(dialog, mic, speech, qtbot)
    assert np.array_equal(recorded, speech)
    _wait(qloop, dialog.wait_idle())
    assert dialog.report is not None and dialog.report.ok
    dialog.name_edit.setText("Harbour Narrator")
    dialog.description_edit.setText("Recorded in the voice lab")
    dialog.consent_check.setChecked(True)
    clones = offline_engine.stats.requests("/voices/clone")
    with qtbot.waitSignal(dialog.voice_cloned, timeout=60000) as blocker:
        dialog.clone_button.click()
        assert dialog.progress.isVisible() and not dialog.clone_button.isEnabled()
        _wait(qloop, dialog.wait_idle())
    voice = blocker.args[0]
    assert offline_engine.stats.requests("/voices/clone") == clones + 1
    assert not dialog.progress.isVisible()
    assert dialog.result_label.text() == ("Cloned: Harbour Narrator is in your voices and "
                                          "selectable in the script")
    listed = studio.catalog.voice(voice.id)
    assert listed is not None and listed.is_owner and listed.name == "Harbour Narrator"

    # Selectable at once: a block given the voice renders speech with it.
    window = studio.window
    block_id = window.add_block()
    studio.editor.update_block(block_id, text="The new voice reads a line of the script.",
                               voice_id=voice.id)
    window._generate([block_id])
    _wait(qloop, studio.generation.wait_idle())
    take = studio.document.block(block_id).selected_take
    assert take is not None, window.statusBar().currentMessage()
    assert voice.id in str(take.request)  # rendered with the cloned voice
    assert take.audio.shape[0] > take.sample_rate  # over a second of speech
    assert float(np.sqrt(np.mean(take.audio ** 2))) > 0.01
