"""Record (or import) a clip of a voice, check it, and clone it (issue #5).

The dialog is non-modal. While recording, a QTimer polls the recorder about every
30 ms and feeds the level meter (the recorder's callback only copies into a ring
buffer; STYLE.md). The clip is shown on a waveform to trim, and checked before upload:
length (Cartesia recommends about 5 seconds for a high-similarity clone), clipping,
the noise floor of the silence before speech, and the signal-to-noise ratio. The rules
(trims checked against their source's noise floor, consent for each recording, a clip
cloned once, one without speech not at all) are the dialog's
:class:`~studio.services.clone_session.CloneSession`; the dialog renders it. The
project's earlier recordings can be loaded again to clone.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from html import escape

import numpy as np
import numpy.typing as npt
import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from studio.api import CartesiaError, Voice
from studio.api.models import LANGUAGES
from studio.audio.buffers import AudioFileError
from studio.audio.clip_checks import ClipReport, load_clip
from studio.audio.devices import (
    AudioDevice,
    find_input_device,
    list_input_devices,
    refresh_devices,
)
from studio.audio.peaks import PeakPyramid
from studio.audio.playback import AudioUnavailableError
from studio.audio.recorder import Recorder
from studio.project.model import Recording
from studio.services.clone_session import ClipCheck, CloneSession, run_check
from studio.services.playback import PlaybackService
from studio.services.tasks import TaskGroup
from studio.services.threads import in_thread
from studio.services.voice_lab import VoiceLab, VoiceLabError
from studio.ui.widgets.languages import language_label
from studio.ui.widgets.level_meter import LevelMeter
from studio.ui.widgets.waveform_view import WaveformView

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]

POLL_INTERVAL_MS = 30
#: Used when a device does not say which rate it prefers.
DEFAULT_SAMPLE_RATE = 48000
#: About ten seconds of varied English to read: questions, numbers, long and short
#: vowels, so the clone hears the voice's range.
READING_PROMPT = (
    "Every morning I walk past the old harbour, where the fishing boats come in around "
    "half past six. Would you believe the gulls already know the schedule? On a clear "
    "day you can see three islands, and the bakery on the corner sells the best bread "
    "in town."
)
IMPORT_FILTER = "Audio files (*.wav *.flac *.mp3 *.ogg *.oga *.opus *.aiff *.aif);;All files (*)"
CONSENT_TEXT = "This is my voice, or I have the speaker's permission to clone it"
#: The verdict above the checks' problems and advice.
GOOD_CLIP = "✓ Good clip for cloning"
USABLE_CLIP = "Usable, with advice below"
FIX_CLIP = "Fix before cloning"
NO_OUTPUT = "no audio output device"

_RED, _AMBER, _GREEN = "#ff7a7a", "#f2c46c", "#4cc38a"


def _db(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "—"
    if math.isinf(value):
        return "silence" if value < 0 else "∞"
    return f"{value:.1f}".replace("-", "−") + " dB"


def report_html(report: ClipReport) -> str:
    """The checks as rich text: figures, one verdict (:data:`GOOD_CLIP` only when there
    are neither problems nor advice, :data:`USABLE_CLIP` with advice only,
    :data:`FIX_CLIP` with problems), then problems (red) and advice (amber)."""
    snr = "—" if report.snr_db is None or math.isnan(report.snr_db) else (
        f"{report.snr_db:.0f} dB" if math.isfinite(report.snr_db) else "no noise measured")
    figures = (f"Length <b>{report.duration:.1f} s</b> · Peak <b>{_db(report.peak_dbfs)}FS</b> · "
               f"Noise floor <b>{_db(report.noise_floor_dbfs)}FS</b> · SNR <b>{snr}</b>")
    figures = figures.replace("silenceFS", "silence").replace("—FS", "—")
    if report.problems:
        verdict = f"<b style='color:{_RED}'>{FIX_CLIP}</b>"
    elif report.advice:
        verdict = f"<b style='color:{_AMBER}'>{USABLE_CLIP}</b>"
    else:
        verdict = f"<span style='color:{_GREEN}'>{GOOD_CLIP}</span>"
    lines = [figures, verdict]
    lines += [f"<span style='color:{_RED}'>✗ {escape(p)}</span>" for p in report.problems]
    lines += [f"<span style='color:{_AMBER}'>• {escape(a)}</span>" for a in report.advice]
    return "<br>".join(lines)


def _device_label(device: AudioDevice) -> str:
    if device.name.lower() == "default":
        return "System default input"
    return f"{device.name} (default)" if device.is_default else device.name


class RecorderDialog(QDialog):
    """Record or import a voice clip, check it, trim it, and clone it.

    Args:
        lab: clones the clip and adds the voice to the library.
        playback: plays the clip back.
        recorder_factory: makes the :class:`~studio.audio.recorder.Recorder`; called as
            ``recorder_factory(sample_rate=, device=, input_devices=)`` with the chosen
            :class:`AudioDevice` (found again by name when it starts, as ⟳ can renumber
            the devices) and ``input_devices`` below (tests inject a fake input stream
            this way).
        input_devices: lists the input devices (``list_input_devices``).
        reinitialise_devices: makes the audio backend look for devices again before ⟳
            lists them (``refresh_devices``: PortAudio only finds a microphone plugged in
            after start-up that way); returns whether it did.
        input_device: name of the device to choose first (the settings' ``input_device``);
            "" or a device no longer present chooses the system default.
        recordings: lists the project's recordings (newest last), to load one again;
            None hides the chooser. Call :meth:`refresh_recordings` when they change.

    Attributes:
        session: the clip, its checks and consent, and whether it was cloned.
        audio: the clip (float32 mono, shape ``(frames,)``), or None.
        sample_rate: its rate in Hz.
        report: the checks of the clip, once made (None while they run or if they
            failed; Clone waits for them).
        meter: the :class:`LevelMeter`.
        waveform: the clip on a :class:`WaveformView`; select part of it to play or trim.
        notice_label: device, recording and playback messages (no input device, device
            lost, no output device); below the buttons, its height kept, so they never
            move.
        checks_label: the checks, shown before upload.
        recordings_combo: the project's recordings; choosing one loads it as the clip.
        result_label: what cloning did.

    Signals:
        recording_finished(object audio, int sample_rate): a new clip: a recording
            stopped with audio in it, an import was read, or the clip was trimmed (the
            trimmed clip is what would be uploaded); float32 mono, shape ``(frames,)``.
            Not emitted for a recording loaded from the project.
        recording_chosen(object): a :class:`Recording` of the project was loaded as the
            clip.
        voice_cloned(object): the :class:`Voice` made from the clip (the one last
            emitted by ``recording_finished`` or ``recording_chosen``). Consent is then
            asked again, and Clone stays off for that clip: a second click would pay for
            a second, identical voice.
        input_device_changed(str): the user chose another input device (its name), for
            the settings.
    """

    recording_finished = Signal(object, int)
    recording_chosen = Signal(object)
    voice_cloned = Signal(object)
    input_device_changed = Signal(str)

    def __init__(self, lab: VoiceLab, playback: PlaybackService, *,
                 recorder_factory: Callable[..., Recorder] = Recorder,
                 input_devices: Callable[[], Sequence[AudioDevice]] = list_input_devices,
                 reinitialise_devices: Callable[[], bool] = refresh_devices,
                 input_device: str = "",
                 recordings: Callable[[], list[Recording]] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("RecorderDialog")
        self._preferred_device = input_device
        self.setWindowTitle("Record & clone a voice")
        self.setModal(False)
        self.lab = lab
        self.playback = playback
        self._recorder_factory = recorder_factory
        self._input_devices = input_devices
        self._reinitialise_devices = reinitialise_devices
        self._recordings = recordings
        self._recorder: Recorder | None = None
        self.session = CloneSession(lab.clone, DEFAULT_SAMPLE_RATE)
        self._stream_id: int | None = None
        self._tasks = TaskGroup(self._on_task_failed, "recorder dialog task")

        self.device_combo = QComboBox()
        self.device_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.device_combo.setMinimumContentsLength(24)
        self.devices_button = QPushButton("⟳")
        self.devices_button.setToolTip("Look for input devices again (a microphone plugged in "
                                       "since the studio started)")
        self.devices_button.setFixedWidth(32)
        self.notice_label = QLabel()
        self.notice_label.setWordWrap(True)
        # Always there, a line tall at least: a message appearing never moves anything.
        self.notice_label.setMinimumHeight(self.notice_label.fontMetrics().lineSpacing())
        self.notice_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.recordings_combo = QComboBox()
        self.recordings_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.recordings_combo.setMinimumContentsLength(24)
        self.recordings_combo.setToolTip("Load a clip recorded or imported earlier in this "
                                         "project, to check, trim or clone it again")

        prompt_title = QLabel("Read this aloud, in your natural voice, after a second of silence:")
        prompt_title.setObjectName("Hint")
        self.prompt_label = QLabel(READING_PROMPT)
        self.prompt_label.setWordWrap(True)
        self.prompt_label.setFrameShape(QFrame.Shape.StyledPanel)
        self.prompt_label.setStyleSheet(
            "QLabel { background: #272830; border: 1px solid #34353f; border-radius: 6px;"
            " padding: 10px; font-size: 12pt; color: #e6e6ea; }")
        self.prompt_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.meter = LevelMeter()
        self.time_label = QLabel("0.0 s")
        self.time_label.setMinimumWidth(56)
        self.time_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.record_button = QPushButton("● Record")
        self.record_button.setToolTip("Start recording from the chosen input")
        self.stop_button = QPushButton("■ Stop")
        self.play_button = QPushButton("▶ Play")
        self.play_button.setToolTip("Play the clip, or the selected part of it")
        self.trim_button = QPushButton("Trim to selection")
        self.trim_button.setToolTip("Keep only the selected part of the clip")
        self.import_button = QPushButton("Import file…")
        self.import_button.setToolTip("Use an existing recording (wav, flac, mp3, ogg)")

        self.waveform = WaveformView()
        self.waveform.setMinimumHeight(120)
        self.waveform.setToolTip("Drag to select; Trim keeps the selection. Space plays.")
        self.waveform.clear("Record or import about 5–10 seconds of one voice")
        self.checks_label = QLabel()
        self.checks_label.setWordWrap(True)
        self.checks_label.setTextFormat(Qt.TextFormat.RichText)
        self.checks_label.setMinimumHeight(40)
        self.checks_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("e.g. My narration voice")
        self.description_edit = QLineEdit()
        self.description_edit.setPlaceholderText("Optional: how it sounds, what it is for")
        self.language_combo = QComboBox()
        for code in LANGUAGES:
            self.language_combo.addItem(language_label(code), code)
        self.consent_check = QCheckBox(CONSENT_TEXT)
        self.clone_button = QPushButton("Clone voice")
        self.clone_button.setDefault(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        self.progress.setVisible(False)
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = QPushButton("Close")

        devices = QHBoxLayout()
        devices.addWidget(QLabel("Input"))
        devices.addWidget(self.device_combo, 1)
        devices.addWidget(self.devices_button)
        recordings_row = QHBoxLayout()
        self._recordings_title = QLabel("Recordings in this project")
        recordings_row.addWidget(self._recordings_title)
        recordings_row.addWidget(self.recordings_combo, 1)
        transport = QHBoxLayout()
        for button in (self.record_button, self.stop_button, self.play_button):
            transport.addWidget(button)
        transport.addStretch(1)
        transport.addWidget(self.trim_button)
        transport.addWidget(self.import_button)
        meter_row = QHBoxLayout()
        meter_row.addWidget(self.meter, 1)
        meter_row.addWidget(self.time_label)
        form = QFormLayout()
        form.addRow("Name", self.name_edit)
        form.addRow("Description", self.description_edit)
        form.addRow("Language", self.language_combo)
        clone_row = QHBoxLayout()
        clone_row.addWidget(self.consent_check, 1)
        clone_row.addWidget(self.clone_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.result_label, 1)
        bottom.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignBottom)

        layout = QVBoxLayout(self)
        layout.setSpacing(6)
        layout.addLayout(devices)
        layout.addLayout(recordings_row)
        layout.addWidget(prompt_title)
        layout.addWidget(self.prompt_label)
        layout.addLayout(meter_row)
        layout.addLayout(transport)
        # Below the buttons: a message that wraps to more lines takes room from the
        # waveform, never moves Record and Stop (a click aimed at Stop must land on it).
        layout.addWidget(self.notice_label)
        layout.addWidget(self.waveform, 1)
        layout.addWidget(self.checks_label)
        layout.addLayout(form)
        layout.addLayout(clone_row)
        layout.addWidget(self.progress)
        layout.addLayout(bottom)
        self.checks_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)

        self._timer = QTimer(self)
        self._timer.setInterval(POLL_INTERVAL_MS)
        self._timer.timeout.connect(self.poll)
        self.devices_button.clicked.connect(self.look_for_devices)
        self.device_combo.activated.connect(self._on_device_chosen)
        self.recordings_combo.activated.connect(self._on_recording_chosen)
        self.record_button.clicked.connect(self.record)
        self.stop_button.clicked.connect(self.stop)
        self.play_button.clicked.connect(self.play_or_stop)
        self.trim_button.clicked.connect(self.trim_to_selection)
        self.import_button.clicked.connect(lambda: self.import_file())
        self.clone_button.clicked.connect(self.clone)
        self.close_button.clicked.connect(self.close)
        self.waveform.play_toggled.connect(self.play_or_stop)
        self.waveform.selection_changed.connect(self._update_buttons)
        self.name_edit.textChanged.connect(self._update_buttons)
        self.consent_check.toggled.connect(self._on_consent_toggled)
        lab.connection_changed.connect(self._update_buttons)
        playback.started.connect(self._on_playback_changed)
        playback.stopped.connect(self._on_playback_changed)
        self.refresh_devices()
        self._recordings_title.setVisible(recordings is not None)
        self.recordings_combo.setVisible(recordings is not None)
        self.refresh_recordings()
        self.resize(640, 760)

    # --- devices ---------------------------------------------------------------------

    def look_for_devices(self) -> None:
        """⟳: have the audio backend enumerate the devices again (it refuses while a
        stream is open), then list them."""
        if self.recording:
            return
        self._stop_playing()
        self._reinitialise_devices()
        self.refresh_devices()

    def refresh_devices(self) -> None:
        """List the input devices again, keeping the one chosen if it is still there."""
        current = self.device_combo.currentData()
        devices = list(self._input_devices())  # empty, never raising, without a backend
        self.device_combo.clear()
        for device in devices:
            self.device_combo.addItem(_device_label(device), device)
        if not devices:
            self.device_combo.addItem("No input device", None)
            self._notice("No microphone or other input device was found. Connect one and "
                         "press ⟳, or import a recording instead.", error=True)
        else:
            self._notice("")
            names = [d.name for d in devices]
            defaults = [i for i, d in enumerate(devices) if d.is_default]
            found = find_input_device(current, devices) if current is not None else None
            if found is not None:
                self.device_combo.setCurrentIndex(devices.index(found))
            elif self._preferred_device in names:
                self.device_combo.setCurrentIndex(names.index(self._preferred_device))
            elif defaults:
                self.device_combo.setCurrentIndex(defaults[0])
        self.device_combo.setEnabled(bool(devices))
        self._update_buttons()

    def _on_device_chosen(self, index: int) -> None:
        device = self.device_combo.itemData(index)
        if isinstance(device, AudioDevice):
            self._preferred_device = device.name
            self.input_device_changed.emit(device.name)
            self._update_buttons()

    def _chosen_device(self) -> AudioDevice | None:
        data = self.device_combo.currentData()
        return data if isinstance(data, AudioDevice) else None

    # --- the project's recordings ------------------------------------------------------

    def refresh_recordings(self) -> None:
        """List the project's recordings again (newest first); call when they change.
        Keeps the one the clip was loaded from chosen, if it is still there."""
        combo = self.recordings_combo
        recordings = list(self._recordings()) if self._recordings is not None else []
        combo.clear()
        combo.addItem("Choose one to use again…" if recordings else "No recordings yet", None)
        for recording in reversed(recordings):
            combo.addItem(self._recording_label(recording), recording)
        ids = [r.id for r in reversed(recordings)]
        loaded = self.session.loaded_id
        combo.setCurrentIndex(ids.index(loaded) + 1 if loaded in ids else 0)
        self._update_buttons()

    def _recording_label(self, recording: Recording) -> str:
        label = f"{recording.name} · {recording.duration:.1f} s"
        if recording.voice_id:
            voice = self.lab.catalog.voice(recording.voice_id)
            label += f" · cloned as {voice.name}" if voice is not None else " · cloned"
        return label

    def _on_recording_chosen(self, index: int) -> None:
        recording = self.recordings_combo.itemData(index)
        if isinstance(recording, Recording) and not self.recording and not self.session.cloning:
            self._stop_playing()
            self._tasks.start(self._load_recording, recording)

    async def _load_recording(self, recording: Recording) -> None:
        self._notice(f"Loading {recording.name}…")
        try:
            # A recording of an opened project reads its samples from the file.
            audio = await in_thread(lambda: recording.audio)
        except (OSError, ValueError) as exc:
            if shiboken6.isValid(self):
                self._notice(f"Could not read {recording.name}: {exc}", error=True)
            return
        if not shiboken6.isValid(self):
            return
        self._notice(f"Loaded {recording.name} ({recording.duration:.1f} s) from the project.")
        self._use_clip(audio, recording.sample_rate, loaded_id=recording.id)
        self.recording_chosen.emit(recording)

    # --- recording -------------------------------------------------------------------

    @property
    def recording(self) -> bool:
        return self._recorder is not None and self._recorder.recording

    def record(self) -> None:
        """Start recording from the chosen device; a device that cannot record is
        reported in the dialog."""
        if self.recording:
            return
        device = self._chosen_device()
        if device is None:
            self._notice("There is no input device to record from. Import a recording "
                         "instead, or connect a microphone and press ⟳.", error=True)
            return
        rate = int(device.default_sample_rate) if device.default_sample_rate >= 8000 else (
            DEFAULT_SAMPLE_RATE)
        self._stop_playing()
        try:
            recorder = self._recorder_factory(sample_rate=rate, device=device,
                                              input_devices=self._input_devices)
            recorder.start()
        except (AudioUnavailableError, OSError, ValueError) as exc:
            self._notice(str(exc), error=True)
            self._update_buttons()
            return
        self._recorder = recorder
        # The previous clip's waveform and checks are not this recording's.
        self._forget_clip("Recording…")
        self.meter.reset()
        self.time_label.setText("0.0 s")
        self._notice("Recording… read the text above, then press Stop.")
        self._timer.start()
        self._update_buttons()

    def poll(self) -> None:
        """Move what was recorded to the meter; notices a recording that ended by itself
        (the device was lost, or the length limit) and keeps what it has."""
        recorder = self._recorder
        if recorder is None:
            self._timer.stop()
            return
        self.meter.set_level(recorder.poll())
        self.time_label.setText(f"{recorder.seconds:.1f} s")
        if not recorder.recording:
            self._finish_recording()

    def stop(self) -> None:
        """Stop recording (the clip is kept and checked), or stop playing. A device lost
        (or the length limit reached) since the last poll is reported."""
        if self.recording:
            self._finish_recording()
        else:
            self._stop_playing()

    def _finish_recording(self) -> None:
        recorder, self._recorder = self._recorder, None
        self._timer.stop()
        if recorder is None:
            return
        audio = recorder.stop()  # its last poll keeps a lost device's message in error
        error = recorder.error
        overflows = recorder.overflows
        if audio.size == 0:
            self._notice(error or "Nothing was recorded.", error=True)
            self._update_buttons()
            return
        message = error or f"Recorded {audio.size / recorder.sample_rate:.1f} s."
        if overflows:
            message += (f" {overflows} piece{'s' if overflows != 1 else ''} of audio were lost "
                        "(the computer could not keep up); record again if you hear gaps.")
        self._notice(message, error=bool(error))
        self.set_clip(audio, recorder.sample_rate)
        self.recording_finished.emit(audio, recorder.sample_rate)

    # --- the clip --------------------------------------------------------------------

    @property
    def audio(self) -> FloatArray | None:
        return self.session.audio

    @property
    def sample_rate(self) -> int:
        return self.session.sample_rate

    @property
    def report(self) -> ClipReport | None:
        return self.session.report

    def _forget_clip(self, message: str) -> None:
        """No clip any more (a recording started): clear its waveform, checks, result
        and consent."""
        self.session.forget()
        if self.recordings_combo.currentIndex() != 0:
            self.recordings_combo.setCurrentIndex(0)
        self.waveform.clear(message)
        self.checks_label.clear()
        self.result_label.clear()
        self.consent_check.setChecked(False)
        self._update_buttons()

    def set_clip(self, audio: FloatArray, sample_rate: int) -> None:
        """Show and check ``audio`` (float32 mono, shape ``(frames,)``, at ``sample_rate``
        Hz) as the clip to clone; its noise floor is measured in it."""
        self._use_clip(audio, sample_rate)

    def _use_clip(self, audio: FloatArray, sample_rate: int, *, trimmed: bool = False,
                  loaded_id: str = "") -> None:
        """Make ``audio`` the clip and check it (:meth:`CloneSession.use_clip`: a
        ``trimmed`` clip keeps consent, any other needs it again)."""
        check = self.session.use_clip(audio, sample_rate, trimmed=trimmed, loaded_id=loaded_id)
        self.consent_check.setChecked(self.session.consent)
        if not loaded_id and self.recordings_combo.currentIndex() != 0:
            self.recordings_combo.setCurrentIndex(0)
        self.checks_label.setText("Checking the clip…")
        self.result_label.clear()
        self.time_label.setText(f"{self.session.seconds:.1f} s")
        self._update_buttons()
        self._tasks.start(self._check, check)

    async def _check(self, check: ClipCheck) -> None:
        pyramid = await in_thread(PeakPyramid.build, check.audio)
        result = await run_check(check)
        if not self.session.apply_check(result) or not shiboken6.isValid(self):
            return  # a later clip replaced this one, or the dialog is gone
        self.waveform.set_selection(0, 0)
        self.waveform.set_audio(check.audio, check.sample_rate, pyramid)
        if result.report is None:
            self.checks_label.setText(
                f"<span style='color:{_RED}'>✗ The clip could not be checked "
                f"({escape(result.failure)}), so it cannot be cloned. Record or import it "
                "again.</span>")
        else:
            self.checks_label.setText(report_html(result.report))
        self._update_buttons()

    def trim_to_selection(self) -> None:
        """Keep only the selected part of the clip, check it again (against the noise
        floor of the untrimmed clip) and emit it as ``recording_finished``: it is the
        clip that would be uploaded."""
        audio = self.session.trimmed(*self.waveform.selection())
        if audio is None:
            return
        self._stop_playing()
        self._notice(f"Trimmed to {audio.size / self.sample_rate:.1f} s.")
        self._use_clip(audio, self.sample_rate, trimmed=True)
        self.recording_finished.emit(audio, self.sample_rate)

    def import_file(self, path: str | None = None) -> None:
        """Use an audio file as the clip; without ``path`` a file dialog asks for one."""
        if path is None:
            path, _filter = QFileDialog.getOpenFileName(self, "Import a voice clip", "",
                                                        IMPORT_FILTER)
            if not path:
                return
        if self.recording:
            self.stop()
        self._tasks.start(self._import, path)

    async def _import(self, path: str) -> None:
        self._notice(f"Reading {path}…")
        try:
            audio, rate = await in_thread(load_clip, path)
        except (AudioFileError, OSError, ValueError) as exc:
            if shiboken6.isValid(self):
                self._notice(str(exc), error=True)
            return
        if not shiboken6.isValid(self):
            return
        self._notice(f"Imported {path} ({audio.size / rate:.1f} s).")
        self.set_clip(audio, rate)
        self.recording_finished.emit(audio, rate)

    # --- playback ----------------------------------------------------------------------

    def _playing_ours(self) -> bool:
        return self._stream_id is not None and self.playback.is_current(self._stream_id)

    def play_or_stop(self) -> None:
        """Play the clip (the selection, when there is one), or stop it."""
        if self._playing_ours():
            self._stop_playing()
            return
        if self.audio is None or self.recording:
            return
        start, end = self.waveform.selection()
        audio = self.audio[start:end] if end > start else self.audio
        self._stream_id = self.playback.play(audio, self.sample_rate)
        if self.playback.is_null:
            # A null output keeps time in silence: "■ Stop playing" would pretend to play.
            self.playback.stop()
            self._notice(f"No sound: {self.playback.notice or NO_OUTPUT}", error=True)
        self._on_playback_changed()

    def _stop_playing(self) -> None:
        if self._playing_ours():
            self.playback.stop()

    def _on_playback_changed(self) -> None:
        if self._stream_id is not None and not self._playing_ours():
            self._stream_id = None
        self.play_button.setText("■ Stop playing" if self._playing_ours() else "▶ Play")
        self._update_buttons()

    # --- cloning -----------------------------------------------------------------------

    def clone(self) -> None:
        """Upload the clip and clone it, once the consent box is ticked."""
        if not self.consent_check.isChecked():
            self.result_label.setText("Tick the consent box first: only clone your own voice "
                                      "or a voice you have permission to clone.")
            return
        name = self.name_edit.text().strip()
        if self.audio is None or self.session.cloning or not name:
            return
        # The button is off in these cases too; this is for a direct call.
        if refusal := self.session.refusal():
            self._set_result(refusal, _RED)
            return
        self.progress.setVisible(True)
        self._set_result(f"Uploading {self.session.seconds:.1f} s and cloning {name}…")
        self._tasks.start(self._clone, self.session.clone(
            name, self.description_edit.text().strip(),
            self.language_combo.currentData() or "en"))
        self._update_buttons()

    async def _clone(self, cloning: Awaitable[Voice]) -> None:
        try:
            voice = await cloning
        except (CartesiaError, VoiceLabError, ValueError, OSError) as exc:
            voice, failure = None, str(exc)
        if not shiboken6.isValid(self):
            return  # the session knows what was cloned; no dialog is left to say so
        self.progress.setVisible(False)
        if voice is None:
            self._set_result(f"Cloning failed: {failure}", _RED)
            self._update_buttons()
            return
        self.consent_check.setChecked(self.session.consent)
        self._set_result(f"Cloned: {voice.name} is in your voices and selectable in the script",
                         _GREEN)
        self._update_buttons()
        self.voice_cloned.emit(voice)

    # --- running work and state --------------------------------------------------------

    def _on_task_failed(self, exc: Exception) -> None:
        if shiboken6.isValid(self):  # never let the dialog take the studio down
            self._notice(f"Something went wrong: {exc}", error=True)

    def _on_consent_toggled(self, checked: bool) -> None:
        self.session.consent = checked
        self._update_buttons()

    async def wait_idle(self) -> None:
        """Return once checks, imports and cloning started here, and the lab's reload of
        the voice list after a clone, have finished (tests)."""
        await self._tasks.wait_idle()
        await self.lab.wait_idle()

    def _update_buttons(self, *_args: object) -> None:
        session = self.session
        recording = self.recording
        has_clip = session.has_clip
        cloning = session.cloning
        start, end = self.waveform.selection()
        playing = self._playing_ours()
        self.record_button.setEnabled(not recording and not playing
                                      and self._chosen_device() is not None
                                      and not cloning)
        self.devices_button.setEnabled(not recording)
        # While the clip plays, Play is its Stop: one Stop button at a time.
        self.stop_button.setEnabled(recording)
        self.play_button.setEnabled(has_clip and not recording)
        self.trim_button.setEnabled(has_clip and not recording and end > start
                                    and session.checks_ended and not cloning)
        self.import_button.setEnabled(not cloning)
        self.recordings_combo.setEnabled(self.recordings_combo.count() > 1 and not recording
                                         and not cloning)
        reasons = session.missing(self.name_edit.text(), self.lab.connected)
        cloned_as = session.cloned_as
        self.clone_button.setEnabled(not reasons and not cloned_as and not recording
                                     and not cloning)
        # Nothing a clone could learn a voice from: "Clone anyway" is not offered.
        report = session.report
        warned = report is not None and bool(report.problems) and not session.speechless
        self.clone_button.setText("Clone anyway" if warned else "Clone voice")
        if cloned_as:
            self.clone_button.setToolTip(f"You already cloned this clip as {cloned_as}; "
                                         "record, import or trim a clip to clone another")
            return
        self.clone_button.setToolTip("Upload the clip and clone the voice" if not reasons
                                     else "To clone: " + ", ".join(reasons))

    def _notice(self, text: str, error: bool = False) -> None:
        self.notice_label.setText(text)
        self.notice_label.setStyleSheet(f"color: {_RED};" if error else "color: #a3a4b3;")

    def _set_result(self, text: str, color: str = "#a3a4b3") -> None:
        self.result_label.setText(text)
        self.result_label.setStyleSheet(f"color: {color};")

    def shutdown(self) -> None:
        """Release the input device (keeping what was recorded) and stop the clip's
        playback; for the app's shutdown."""
        if self.recording:
            self.stop()
        self._stop_playing()
        self._tasks.cancel()

    def showEvent(self, event: QShowEvent) -> None:
        """Opening (or reopening) the dialog asks for consent again."""
        if not event.spontaneous():  # not a window restored from being minimised
            self.consent_check.setChecked(False)
        super().showEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing stops a recording (keeping it) and the clip's playback."""
        if self.recording:
            self.stop()
        self._stop_playing()
        self.consent_check.setChecked(False)
        super().closeEvent(event)
