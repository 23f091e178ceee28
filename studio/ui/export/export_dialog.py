"""File → Export…: presets, format, loudness, files and tags, with progress and figures.

The dialog only edits :class:`~studio.project.export_settings.ExportSettings` and the
tags and shows what the :class:`~studio.services.export.ExportService` reports; the
work runs in the service's worker thread, so the studio keeps playing and editing while
a book exports. It is not modal. Each preset is remembered per project as last edited.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from studio.audio.loudness import Loudness
from studio.project.export_pipeline import (
    Analysis,
    ExportJob,
    ExportResult,
    file_gain,
)
from studio.project.export_settings import (
    CEILING_RANGE,
    FORMATS,
    LOUDNESS_RANGE,
    PRESETS,
    ExportCancelled,
    ExportError,
    ExportSettings,
    LoudnessTarget,
    SettingsError,
    check_settings,
    format_for_extension,
)
from studio.services.export import ExportService, Tags
from studio.services.tasks import TaskGroup

#: Sidecar key -> check box label.
_SIDECAR_LABELS = (
    ("srt", "SRT captions"), ("vtt", "WebVTT captions"),
    ("vtt_words", "Word-by-word WebVTT"), ("txt", "Transcript (.txt)"),
    ("words_json", "Word timings (.json)"), ("labels", "Audacity chapter labels"),
    ("chapters_json", "Podcast chapters (JSON)"),
)
_SPLITS = (("program", "One file"), ("chapter", "One file per chapter"),
           ("block", "A stem per block"), ("voice", "A stem per voice"))
_MEASURES = ((None, "None (as generated)"), ("lufs", "Loudness (LUFS, true peak)"),
             ("rms", "RMS (ACX)"))
#: The answer of the extension question: use the typed extension's format, use the
#: chosen format with its extension, or stop.
ExtensionAnswer = str  # "typed" | "chosen" | "cancel"


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "–"
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _figure(value: float, unit: str) -> str:
    return f"{value:.1f} {unit}" if math.isfinite(value) else f"silent ({unit})"


def describe_loudness(loudness: Loudness) -> str:
    """``-20.1 LUFS, range 4.2 LU, true peak -0.4 dBTP``."""
    parts = [_figure(loudness.integrated, "LUFS")]
    if not math.isnan(loudness.loudness_range):
        parts.append(f"range {loudness.loudness_range:.1f} LU")
    if not math.isnan(loudness.true_peak):
        parts.append(f"true peak {_figure(loudness.true_peak, 'dBTP')}")
    return ", ".join(parts)


class ExportDialog(QDialog):
    """Export the open project's selected takes.

    Attributes:
        service: the :class:`ExportService` that measures and writes.
        ask_extension: asked when the file name's extension names another format than
            the one chosen: ``(path, typed_label, chosen_label) -> "typed" | "chosen" |
            "cancel"`` (a message box by default; tests answer directly).
        last_result: the last export's result, or None.

    Signals:
        exported(object result): an export finished (an :class:`ExportResult`).
    """

    exported = Signal(object)

    def __init__(self, service: ExportService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ExportDialog")
        self.setWindowTitle("Export")
        self.service = service
        self.ask_extension: Callable[[Path, str, str], ExtensionAnswer] = self._ask_extension
        self.last_result: ExportResult | None = None
        self._analysis: Analysis | None = None
        self._tasks = TaskGroup(self._on_task_failed, what="export dialog")
        self._loading = False
        self._format_key = "wav"

        self.preset_combo = QComboBox()
        for preset in PRESETS.values():
            self.preset_combo.addItem(preset.label, preset.key)
        self.preset_summary = QLabel()
        self.preset_summary.setWordWrap(True)
        self.preset_summary.setObjectName("PresetSummary")
        self.reset_button = QPushButton("Reset preset")
        self.reset_button.setToolTip("Go back to the preset's own settings")

        self.format_combo = QComboBox()
        for fmt in FORMATS.values():
            self.format_combo.addItem(fmt.label, fmt.key)
        self.rate_combo = QComboBox()
        self.channels_combo = QComboBox()
        self.channels_combo.addItem("Mono", 1)
        self.channels_combo.addItem("Stereo (mono on both channels)", 2)
        self.depth_combo = QComboBox()
        self.bitrate_combo = QComboBox()
        self.vbr_check = QCheckBox("VBR quality")
        self.vbr_check.setToolTip("MP3: a variable bit rate at a LAME quality (V0 best) "
                                  "instead of a constant bit rate")
        self.vbr_combo = QComboBox()
        for q in range(10):
            self.vbr_combo.addItem(f"V{q}" + (" (best)" if q == 0 else ""), q)

        self.measure_combo = QComboBox()
        for key, label in _MEASURES:
            self.measure_combo.addItem(label, key)
        self.target_spin = self._spin(*LOUDNESS_RANGE, " LUFS")
        self.ceiling_spin = self._spin(*CEILING_RANGE, " dBTP")
        self.match_check = QCheckBox("Level-match blocks")
        self.match_check.setToolTip("Bring every block to the target's loudness before the "
                                    "programme is normalised, so no block is quieter than "
                                    "its neighbours")
        self.head_spin = self._spin(0.0, 10.0, " s")
        self.tail_spin = self._spin(0.0, 10.0, " s")
        for spin in (self.head_spin, self.tail_spin):
            spin.setDecimals(2)  # ACX's 0.75 s must not become 0.8 s
            spin.setSingleStep(0.25)

        self.split_combo = QComboBox()
        for key, label in _SPLITS:
            self.split_combo.addItem(label, key)
        self.sidecar_checks = {key: QCheckBox(label) for key, label in _SIDECAR_LABELS}
        self.acx_check = QCheckBox("ACX check (report per file)")

        self.tag_edits = {name: QLineEdit() for name in
                          ("title", "artist", "narrator", "album", "year", "genre", "comment")}
        self.cover_edit = QLineEdit()
        self.cover_edit.setPlaceholderText("JPEG or PNG")
        self.cover_button = QPushButton("Choose…")

        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("ExportPath")
        self.browse_button = QPushButton("Browse…")

        self.program_label = QLabel()
        self.program_label.setWordWrap(True)
        self.measure_button = QPushButton("Measure")
        self.measure_button.setToolTip("Measure the programme's loudness and true peak now")
        self.measured_label = QLabel("Not measured yet.")
        self.measured_label.setObjectName("MeasuredLabel")
        self.measured_label.setWordWrap(True)
        self.measured_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setFormat("")
        self.report_view = QPlainTextEdit()
        self.report_view.setObjectName("ExportReport")
        self.report_view.setReadOnly(True)
        self.report_view.setPlaceholderText("The figures of every file written appear here.")
        self.report_view.setMinimumHeight(90)
        self.error_label = QLabel()
        self.error_label.setObjectName("ExportError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #ff7b7b;")
        # Two lines always: a message appearing does not grow the dialog.
        self.error_label.setMinimumHeight(2 * self.error_label.fontMetrics().lineSpacing())
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.cancel_button = QPushButton("Close")

        self._build_layout()
        self._connect()
        self.reload()

    def reload(self) -> None:
        """Show the open project's last preset, tags and destination (a project was
        opened, or the dialog was just made)."""
        self._analysis = None
        self.measured_label.setText("Not measured yet.")
        self.report_view.setPlainText("")
        self.progress.setValue(0)
        self.progress.setFormat("")
        self._load_preset(self.service.last_preset())
        self._load_tags(self.service.tags())
        self._set_initial_path()
        self.refresh_program()

    # --- construction -------------------------------------------------------------------

    @staticmethod
    def _spin(low: float, high: float, suffix: str) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(low, high)
        spin.setDecimals(1)
        spin.setSingleStep(0.5)
        spin.setSuffix(suffix)
        spin.setKeyboardTracking(False)
        return spin

    def _build_layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(QLabel("Destination"))
        top.addWidget(self.preset_combo)
        top.addWidget(self.preset_summary, 1)
        top.addWidget(self.reset_button)

        fmt_box = QGroupBox("Format")
        fmt = self._format_form = QFormLayout(fmt_box)
        fmt.addRow("Format", self.format_combo)
        fmt.addRow("Sample rate", self.rate_combo)
        fmt.addRow("Channels", self.channels_combo)
        fmt.addRow("Bit depth", self.depth_combo)
        fmt.addRow("Bit rate", self.bitrate_combo)
        vbr = QHBoxLayout()
        vbr.addWidget(self.vbr_check)
        vbr.addWidget(self.vbr_combo)
        vbr.addStretch(1)
        self._vbr_row = QWidget()
        self._vbr_row.setLayout(vbr)
        vbr.setContentsMargins(0, 0, 0, 0)
        fmt.addRow("", self._vbr_row)

        loud_box = QGroupBox("Loudness")
        loud = QFormLayout(loud_box)
        loud.addRow("Normalise", self.measure_combo)
        loud.addRow("Target", self.target_spin)
        loud.addRow("Peak ceiling", self.ceiling_spin)
        loud.addRow("", self.match_check)
        tone = QHBoxLayout()
        tone.addWidget(QLabel("head"))
        tone.addWidget(self.head_spin)
        tone.addWidget(QLabel("tail"))
        tone.addWidget(self.tail_spin)
        loud.addRow("Room tone", tone)

        files_box = QGroupBox("Files")
        files = QGridLayout(files_box)
        files.addWidget(QLabel("Split"), 0, 0)
        files.addWidget(self.split_combo, 0, 1)
        for i, check in enumerate(self.sidecar_checks.values()):
            files.addWidget(check, 1 + i // 2, i % 2)
        files.addWidget(self.acx_check, 5, 0, 1, 2)

        tags_box = QGroupBox("Tags")
        tags = QFormLayout(tags_box)
        for name, label in (("title", "Title"), ("artist", "Author / artist"),
                            ("narrator", "Narrator"), ("album", "Album / book"),
                            ("year", "Year"), ("genre", "Genre"), ("comment", "Comment")):
            tags.addRow(label, self.tag_edits[name])
        cover = QHBoxLayout()
        cover.addWidget(self.cover_edit, 1)
        cover.addWidget(self.cover_button)
        tags.addRow("Cover", cover)

        self._settings_widgets: tuple[QWidget, ...] = (
            self.preset_combo, self.reset_button, fmt_box, loud_box, files_box, tags_box,
            self.path_edit, self.browse_button)
        grid = QGridLayout()
        grid.addWidget(fmt_box, 0, 0)
        grid.addWidget(loud_box, 0, 1)
        grid.addWidget(files_box, 1, 0)
        grid.addWidget(tags_box, 1, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        # Rows a format lacks are hidden; the groups below keep their place.
        grid.setRowMinimumHeight(0, max(fmt_box.sizeHint().height(),
                                        loud_box.sizeHint().height()))

        path = QHBoxLayout()
        path.addWidget(QLabel("Save as"))
        path.addWidget(self.path_edit, 1)
        path.addWidget(self.browse_button)

        measure = QHBoxLayout()
        measure.addWidget(self.program_label, 1)
        measure.addWidget(self.measure_button, 0, Qt.AlignmentFlag.AlignTop)

        buttons = QHBoxLayout()
        buttons.addWidget(self.error_label, 1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.export_button)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(grid)
        layout.addLayout(path)
        layout.addLayout(measure)
        layout.addWidget(self.measured_label)
        layout.addWidget(self.progress)
        layout.addWidget(self.report_view)
        layout.addLayout(buttons)
        for wrapped in (self.preset_summary, self.error_label):
            wrapped.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.resize(900, 700)

    def _connect(self) -> None:
        self.preset_combo.currentIndexChanged.connect(
            lambda _i: self._load_preset(self.preset_combo.currentData()))
        self.reset_button.clicked.connect(self._on_reset)
        self.format_combo.currentIndexChanged.connect(self._on_format_changed)
        for widget in (self.rate_combo, self.channels_combo, self.depth_combo,
                       self.bitrate_combo, self.vbr_combo, self.measure_combo,
                       self.split_combo):
            widget.currentIndexChanged.connect(self._on_changed)
        self.channels_combo.currentIndexChanged.connect(self._on_channels_changed)
        self.measure_combo.currentIndexChanged.connect(self._on_measure_changed)
        for spin in (self.target_spin, self.ceiling_spin, self.head_spin, self.tail_spin):
            spin.valueChanged.connect(self._on_changed)
        for check in (self.vbr_check, self.match_check, self.acx_check,
                      *self.sidecar_checks.values()):
            check.toggled.connect(self._on_changed)
        self.browse_button.clicked.connect(self._on_browse)
        self.cover_button.clicked.connect(self._on_choose_cover)
        self.measure_button.clicked.connect(lambda: self._tasks.start(self.measure))
        self.export_button.clicked.connect(self._on_export_clicked)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.service.progressed.connect(self._on_progress)
        self.service.busy_changed.connect(self._on_busy_changed)

    # --- settings in and out --------------------------------------------------------------

    def _set_combo(self, combo: QComboBox, data: object) -> None:
        index = combo.findData(data)
        if index >= 0:
            combo.setCurrentIndex(index)

    def _fill(self, combo: QComboBox, items: list[tuple[str, object]], current: object) -> None:
        combo.blockSignals(True)
        combo.clear()
        for label, data in items:
            combo.addItem(label, data)
        combo.blockSignals(False)
        index = combo.findData(current)
        combo.setCurrentIndex(max(index, 0))

    def _load_preset(self, key: str) -> None:
        """Show preset ``key`` as this project last used it."""
        self.load_settings(self.service.preset(key), key)

    def load_settings(self, settings: ExportSettings, preset: str) -> None:
        """Show ``settings`` under preset ``preset``."""
        self._loading = True
        try:
            self.preset_combo.blockSignals(True)
            self._set_combo(self.preset_combo, preset)
            self.preset_combo.blockSignals(False)
            self.preset_summary.setText(PRESETS[preset].summary)
            self.preset_summary.setToolTip(PRESETS[preset].summary)
            previous = self._format_key
            self._set_combo(self.format_combo, settings.format)
            self._refresh_format_choices(settings)
            self._set_combo(self.channels_combo, settings.channels)
            target = settings.loudness
            self._set_combo(self.measure_combo, target.measure if target else None)
            self._mono_target = target.mono_target if target else None
            if target is not None:
                self.target_spin.setValue(target.target_for(settings.channels))
                self.ceiling_spin.setValue(target.ceiling)
            self.match_check.setChecked(settings.level_match)
            self.head_spin.setValue(settings.head_seconds)
            self.tail_spin.setValue(settings.tail_seconds)
            self._set_combo(self.split_combo, settings.split)
            for key, check in self.sidecar_checks.items():
                check.setChecked(key in settings.sidecars)
            self.acx_check.setChecked(settings.acx_check)
            self._stereo_target = target.target if target else None
        finally:
            self._loading = False
        self._on_measure_changed()
        self._follow_format(previous)
        self._format_key = settings.format
        self._on_changed()

    def _refresh_format_choices(self, settings: ExportSettings) -> None:
        fmt = FORMATS[settings.format]
        rates = list(fmt.sample_rates) if fmt.key != "opus" else [48000]
        self._fill(self.rate_combo, [(f"{r:,} Hz", r) for r in rates],
                   settings.encoded_sample_rate if fmt.key == "opus" else settings.sample_rate)
        self._fill(self.depth_combo, [("32-bit float" if d == 32 else f"{d}-bit", d)
                                      for d in fmt.bit_depths], settings.bit_depth)
        self._fill(self.bitrate_combo, [(f"{b} kb/s", b) for b in fmt.bitrates],
                   settings.bitrate_kbps)
        # Only what the format has: a bit depth for PCM, a bit rate for codecs.
        self._format_form.setRowVisible(self.depth_combo, bool(fmt.bit_depths))
        self._format_form.setRowVisible(self.bitrate_combo, bool(fmt.bitrates))
        self._format_form.setRowVisible(self._vbr_row, fmt.vbr)
        self.rate_combo.setEnabled(len(rates) > 1)
        self.vbr_check.setEnabled(fmt.vbr)
        self.vbr_check.setChecked(fmt.vbr and settings.vbr_quality is not None)
        self._set_combo(self.vbr_combo, settings.vbr_quality if settings.vbr_quality is not None
                        else 2)

    def settings(self) -> ExportSettings:
        """The settings as shown (not checked: see :func:`check_settings`)."""
        fmt = FORMATS[self.format_combo.currentData()]
        measure = self.measure_combo.currentData()
        channels = int(self.channels_combo.currentData())
        target = None
        if measure is not None:
            value = self.target_spin.value()
            mono = self._mono_target
            if measure == "lufs" and mono is not None and self._stereo_target is not None:
                # A preset with a stereo/mono pair keeps both, the shown one edited.
                stereo, mono = ((self._stereo_target, value) if channels == 1
                                else (value, mono))
                target = LoudnessTarget("lufs", stereo, self.ceiling_spin.value(), mono)
            else:
                target = LoudnessTarget(measure, value, self.ceiling_spin.value())
        vbr = self.vbr_combo.currentData() if fmt.vbr and self.vbr_check.isChecked() else None
        return ExportSettings(
            format=fmt.key, sample_rate=int(self.rate_combo.currentData() or 44100),
            channels=channels, bit_depth=int(self.depth_combo.currentData() or 16),
            bitrate_kbps=int(self.bitrate_combo.currentData() or 192), vbr_quality=vbr,
            loudness=target, level_match=target is not None and self.match_check.isChecked(),
            head_seconds=self.head_spin.value(), tail_seconds=self.tail_spin.value(),
            split=self.split_combo.currentData(),
            sidecars=frozenset(k for k, c in self.sidecar_checks.items() if c.isChecked()),
            acx_check=self.acx_check.isChecked())

    def preset_key(self) -> str:
        return str(self.preset_combo.currentData())

    def _load_tags(self, tags: Tags) -> None:
        for name, edit in self.tag_edits.items():
            edit.setText(getattr(tags, name))
        self.cover_edit.setText(tags.cover)

    def tags(self) -> Tags:
        return Tags(**{name: edit.text().strip() for name, edit in self.tag_edits.items()},
                    cover=self.cover_edit.text().strip())

    def path(self) -> Path:
        return Path(self.path_edit.text().strip()).expanduser()

    def set_path(self, path: Path) -> None:
        self.path_edit.setText(str(path))

    def _set_initial_path(self) -> None:
        last = self.service.last_path()
        base = last if last is not None else Path.home() / f"{self.service.default_name()}.wav"
        self.set_path(base.with_suffix(FORMATS[self._format_key].extension))

    # --- reacting -------------------------------------------------------------------------

    def _on_format_changed(self, _index: int) -> None:
        if self._loading:
            return
        current = replace(self.settings(), format=self.format_combo.currentData())
        fmt = current.file_format
        if fmt.bitrates and current.bitrate_kbps not in fmt.bitrates:
            current = replace(current, bitrate_kbps=192 if 192 in fmt.bitrates
                              else fmt.bitrates[-1])
        if fmt.bit_depths and current.bit_depth not in fmt.bit_depths:
            current = replace(current, bit_depth=fmt.bit_depths[0])
        if current.sample_rate not in fmt.sample_rates:
            current = replace(current, sample_rate=current.encoded_sample_rate)
        self._loading = True
        self._refresh_format_choices(current)
        self._loading = False
        self._follow_format(self._format_key)
        self._format_key = fmt.key
        self._on_changed()

    def _follow_format(self, previous: str) -> None:
        """The file name's extension follows the format when it named the ``previous``
        one (or none); an extension the user typed for another purpose stays and is
        asked about on Export."""
        path = self.path()
        if not self.path_edit.text().strip():
            return
        fmt = FORMATS[self.format_combo.currentData()]
        named = format_for_extension(path.suffix)
        follows = (named is None and path.suffix == "") or (
            named is not None and named.key == previous != fmt.key)
        if follows:
            self.set_path(path.with_suffix(fmt.extension))

    def _on_channels_changed(self, _index: int) -> None:
        if self._loading or self._mono_target is None or self.measure_combo.currentData() != "lufs":
            return
        # The preset's rule: -16 LUFS stereo is -19 LUFS mono (same perceived level).
        channels = int(self.channels_combo.currentData())
        self.target_spin.blockSignals(True)
        if channels == 1:
            self._stereo_target = self.target_spin.value() if self._stereo_target else None
            self.target_spin.setValue(self._mono_target)
        elif self._stereo_target is not None:
            self.target_spin.setValue(self._stereo_target)
        self.target_spin.blockSignals(False)
        self._on_changed()

    def _on_measure_changed(self, *_args: object) -> None:
        measure = self.measure_combo.currentData()
        on = measure is not None
        for widget in (self.target_spin, self.ceiling_spin, self.match_check):
            widget.setEnabled(on)
        if measure == "rms":
            self.target_spin.setSuffix(" dBFS RMS")
            self.ceiling_spin.setSuffix(" dBFS")
        else:
            self.target_spin.setSuffix(" LUFS")
            self.ceiling_spin.setSuffix(" dBTP")
        if not self._loading:
            self._on_changed()

    def _on_changed(self, *_args: object) -> None:
        if self._loading:
            return
        self.vbr_combo.setEnabled(self.vbr_check.isEnabled() and self.vbr_check.isChecked())
        self.bitrate_combo.setEnabled(bool(FORMATS[self.format_combo.currentData()].bitrates)
                                      and not self.vbr_combo.isEnabled())
        try:
            settings = self.settings()
            check_settings(settings)
        except SettingsError as exc:
            self.error_label.setText(str(exc))
            self.export_button.setEnabled(False)
            return
        notes = settings.notes()
        self.error_label.setText("; ".join(notes))
        self.error_label.setStyleSheet("color: #c8c8d0;" if notes else "")
        self.export_button.setEnabled(not self.service.busy)
        self._show_measurement()

    def _on_reset(self) -> None:
        key = self.preset_key()
        self.load_settings(PRESETS[key].settings, key)

    def _on_browse(self) -> None:
        fmt = FORMATS[self.format_combo.currentData()]
        chosen, _ = QFileDialog.getSaveFileName(
            self, "Export to", str(self.path()), f"{fmt.label} (*{fmt.extension});;All files (*)")
        if chosen:
            self.set_path(Path(chosen))

    def _on_choose_cover(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(
            self, "Cover image", self.cover_edit.text() or str(Path.home()),
            "Images (*.jpg *.jpeg *.png)")
        if chosen:
            self.cover_edit.setText(chosen)

    def refresh_program(self) -> None:
        """Say what will be exported (blocks, chapters, length, what is left out)."""
        try:
            program = self.service.program()
        except ValueError as exc:
            self.program_label.setText(f"{str(exc)[0].upper()}{str(exc)[1:]}.")
            self.export_button.setEnabled(False)
            self.measure_button.setEnabled(False)
            return
        seconds = (sum(b.take.duration for b in program.blocks)
                   + program.pause_seconds * (len(program.blocks) - 1))
        chapters = len(program.chapters)
        parts = [f"{len(program.blocks)} block{'s' * (len(program.blocks) != 1)}",
                 f"{chapters} chapter{'s' * (chapters != 1)}", _duration(seconds)]
        text = "Programme: " + ", ".join(parts)
        notes = program.notes()
        if notes:
            text += f" ({'; '.join(notes)})"
        self.program_label.setText(text)
        self.measure_button.setEnabled(not self.service.busy)

    def _show_measurement(self) -> None:
        analysis = self._analysis
        if analysis is None:
            return
        settings = self.settings()
        loudness = analysis.program.for_channels(settings.channels)
        text = f"Measured: {describe_loudness(loudness)}"
        if settings.loudness is not None and settings.split != "chapter":
            gain = file_gain(settings, (analysis.program, analysis.program_levels))
            text += f". Gain to the target: {gain:+.1f} dB"
        elif settings.split == "chapter" and len(analysis.files) > 1:
            spread = [f[0].integrated for f in analysis.files if math.isfinite(f[0].integrated)]
            if spread:
                text += (f". Chapters from {min(spread):.1f} to {max(spread):.1f} LUFS, each "
                         "normalised on its own")
        self.measured_label.setText(text)

    def _on_progress(self, stage: str, fraction: float, seconds_left: float) -> None:
        self.progress.setValue(round(fraction * 1000))
        left = f" — {_duration(seconds_left)} left" if math.isfinite(seconds_left) else ""
        self.progress.setFormat(f"{stage} {fraction * 100:.0f}%{left}")

    def _on_busy_changed(self, busy: bool) -> None:
        # What is being written cannot change under it: the settings wait.
        for widget in self._settings_widgets:
            widget.setEnabled(not busy)
        self.export_button.setEnabled(not busy)
        self.measure_button.setEnabled(not busy)
        self.cancel_button.setText("Cancel" if busy else "Close")
        if not busy:
            self._on_changed()

    def _on_cancel_clicked(self) -> None:
        if self.service.busy:
            self.service.cancel()
        else:
            self.close()

    def _on_task_failed(self, exc: Exception) -> None:
        self.error_label.setText(f"Unexpected error: {exc}")

    # --- running -------------------------------------------------------------------------

    def job(self) -> ExportJob:
        """The export as set up now.

        Raises:
            SettingsError, ValueError: the settings, tags or programme cannot be used.
        """
        settings = self.settings()
        check_settings(settings)
        return ExportJob(self.service.program(), settings, self.path(), self.tags().metadata())

    async def measure(self) -> Analysis | None:
        """Measure the programme now; shows and returns the figures (None on failure)."""
        try:
            job = self.job()
        except ValueError as exc:
            self.error_label.setText(str(exc))
            return None
        self.error_label.setText("")
        try:
            self._analysis = await self.service.measure(job)
        except ExportCancelled:
            self.progress.setFormat("Cancelled")
            return None
        except (ExportError, ValueError, OSError) as exc:
            self.error_label.setText(str(exc))
            return None
        self.progress.setFormat("Measured")
        self._show_measurement()
        return self._analysis

    def _on_export_clicked(self) -> None:
        # A plain slot: the extension question is a modal box, which must not run inside
        # a coroutine step (qasync would run its nested loop inside that step).
        path = self.checked_path()
        if path is not None:
            self.set_path(path)
            self._tasks.start(self.export_now)

    def checked_path(self) -> Path | None:
        """The destination, its extension settled with the user; None to stop."""
        text = self.path_edit.text().strip()
        if not text:
            self.error_label.setText("Choose where to save the export (Save as).")
            return None
        path = self.path()
        if path.is_dir():
            self.error_label.setText(f"{path} is a folder: add a file name to Save as.")
            return None
        fmt = FORMATS[self.format_combo.currentData()]
        named = format_for_extension(path.suffix)
        if named is None:
            if path.suffix:
                answer = self.ask_extension(path, f"“{path.suffix}”", fmt.label)
                if answer != "chosen":
                    return None
            return path.with_name(path.name + fmt.extension)
        if named.key == fmt.key:
            return path
        answer = self.ask_extension(path, named.label, fmt.label)
        if answer == "typed":
            self._set_combo(self.format_combo, named.key)
            return path
        if answer == "chosen":
            return path.with_suffix(fmt.extension)
        return None

    async def export_now(self) -> ExportResult | None:
        """Export as set up now (the path already settled); None on failure or cancel."""
        try:
            job = self.job()
        except ValueError as exc:
            self.error_label.setText(str(exc))
            return None
        if job.path.is_dir() or not job.path.parent.is_dir():
            self.error_label.setText(f"Cannot write {job.path}: choose a file in a folder "
                                     "that exists.")
            return None
        self.service.remember(self.preset_key(), job.settings, self.tags(), job.path)
        self.error_label.setText("")
        self.report_view.setPlainText("")
        try:
            result = await self.service.export(job)
        except ExportCancelled:
            self.progress.setFormat("Cancelled: nothing was written")
            self.progress.setValue(0)
            return None
        except asyncio.CancelledError:
            raise
        except (ExportError, ValueError, OSError) as exc:
            self.progress.setFormat("Failed: nothing was written")
            self.error_label.setText(str(exc))
            return None
        self.last_result = result
        self.progress.setValue(1000)
        self.progress.setFormat(f"Exported {len(result.files)} file"
                                f"{'s' * (len(result.files) != 1)}")
        self.report_view.setPlainText("\n".join(self.report_lines(result)))
        first = result.files[0]
        self.measured_label.setText(f"Before export: {describe_loudness(first.before)}; "
                                    f"gain {first.gain_db:+.1f} dB")
        self.exported.emit(result)
        return result

    @staticmethod
    def report_lines(result: ExportResult) -> list[str]:
        """The achieved figures of every file, and ACX reports, as text lines."""
        lines = []
        for file in result.files:
            parts = [_duration(file.duration), describe_loudness(file.after)]
            if math.isfinite(file.levels.rms_dbfs):
                parts.append(f"RMS {file.levels.rms_dbfs:.1f} dBFS")
            if file.chapters:
                parts.append(f"{len(file.chapters)} chapters")
            lines.append(f"{file.path.name}: {', '.join(parts)}")
            if file.acx is not None:
                lines += [f"    {line}" for line in file.acx.lines()]
        lines += [f"{path.name}" for path in result.sidecars]
        lines += [f"Note: {note}" for note in result.notes]
        return lines

    def _ask_extension(self, path: Path, typed: str, chosen: str) -> ExtensionAnswer:
        box = QMessageBox(QMessageBox.Icon.Question, "File name and format disagree",
                          f"{path.name} ends like a {typed} file, but the format chosen is "
                          f"{chosen}.", parent=self)
        typed_button = (box.addButton(f"Export as {typed}", QMessageBox.ButtonRole.AcceptRole)
                        if not typed.startswith("“") else None)
        chosen_button = box.addButton(f"Export as {chosen}", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        clicked = box.clickedButton()
        if typed_button is not None and clicked is typed_button:
            return "typed"
        return "chosen" if clicked is chosen_button else "cancel"

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.service.busy:
            self.service.cancel()
        super().closeEvent(event)
