"""The professional clone dialog (issue 16): a dataset of recordings and files, checked
one by one, then a fine-tune followed until its voice is ready.

The work is :class:`studio.services.pro_clone.ProClone`'s; this dialog only gathers
the files, shows their checks and the clean speech against the recommended amount, asks
before a paid start on the cloud, and follows the fine-tune's status (polling goes on in
the service after the dialog closes, and after a restart).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.api.models import LANGUAGES
from studio.project.model import Recording
from studio.services.pro_clone import DatasetEntry, ProClone, ProCloneError, recommended_seconds
from studio.services.tasks import TaskGroup

FILE, LENGTH, CHECKS = range(3)

AUDIO_FILTER = "Audio (*.wav *.flac *.mp3 *.ogg);;All files (*)"


def format_duration(seconds: float) -> str:
    """``"4 min 05 s"``, ``"12 s"``."""
    whole = round(seconds)
    return f"{whole // 60} min {whole % 60:02d} s" if whole >= 60 else f"{whole} s"


class ProCloneDialog(QDialog):
    """Build a professional clone on the connected backend.

    Args:
        service: the studio's :class:`ProClone`.
        backend_kind: ``"cloud"`` or ``"offline"`` (the cost line and the question).
        recordings: the project's Voice lab recordings, offered as material.

    Attributes:
        entries: every file offered so far, with its checks.
        tune_id: the fine-tune started from this dialog ("" before Start).
    """

    def __init__(self, service: ProClone, backend_kind: str,
                 recordings: Sequence[Recording] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Professional clone")
        self.setObjectName("ProCloneDialog")
        self.service = service
        self.backend_kind = backend_kind
        self.entries: list[DatasetEntry] = []
        self.tune_id = ""
        self._dataset_id = ""
        self._recordings = list(recordings)
        self.tasks = TaskGroup(self._on_failed, what="professional clone")

        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("The voice's name, e.g. “Ada, audiobook”")
        self.language_combo = QComboBox()
        self.language_combo.addItems(LANGUAGES)
        form = QFormLayout()
        form.addRow("Name", self.name_edit)
        form.addRow("Language", self.language_combo)

        self.add_files_button = QPushButton("Add files…")
        self.add_files_button.setToolTip("WAV, FLAC, MP3 or Ogg recordings of the voice; "
                                         "each is checked before it is uploaded")
        self.add_files_button.clicked.connect(self._choose_files)
        self.add_recordings_button = QPushButton("Add project recordings")
        self.add_recordings_button.setToolTip(
            "Every recording made in the Voice lab's recorder for this project")
        self.add_recordings_button.clicked.connect(self.add_recordings)
        self.add_recordings_button.setEnabled(bool(self._recordings))
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_files_button)
        buttons.addWidget(self.add_recordings_button)
        buttons.addStretch(1)

        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["File", "Length", "Checks"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(FILE, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(LENGTH, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(CHECKS, QHeaderView.ResizeMode.Stretch)

        self.speech_label = QLabel()
        self.speech_bar = QProgressBar()
        self.speech_bar.setTextVisible(False)
        self.cost_label = QLabel(
            "Free on the offline engine." if backend_kind == "offline" else
            "Cartesia bills a professional clone at its price for your plan; Start asks "
            "you to confirm.")
        self.cost_label.setWordWrap(True)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.start_button = QPushButton("Start")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(self.start_button)
        bottom.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.speech_label)
        layout.addWidget(self.speech_bar)
        layout.addWidget(self.cost_label)
        layout.addLayout(bottom)
        self.resize(640, 460)
        service.status_changed.connect(self._on_status)
        self.name_edit.textChanged.connect(self._update)
        self._update()

    # --- material ---------------------------------------------------------------------

    @property
    def clean_seconds(self) -> float:
        """Seconds of the files that passed their checks."""
        return sum(entry.clean_seconds for entry in self.entries)

    def _choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Add files", "", AUDIO_FILTER)
        if paths:
            self.add_paths([Path(p) for p in paths])

    def add_paths(self, paths: Sequence[Path]) -> asyncio.Future[None]:
        """Check and upload ``paths``, one after the other, in the background."""
        return self.tasks.start(self._add_paths, list(paths))

    def add_recordings(self) -> asyncio.Future[None]:
        """Check and upload the project's recordings."""
        return self.tasks.start(self._add_recordings, list(self._recordings))

    async def _dataset(self) -> str:
        if not self._dataset_id:
            name = self.name_edit.text().strip()
            if not name:
                raise ProCloneError("Name the voice first: its dataset takes that name.")
            self._dataset_id = (await self.service.dataset(name)).id
        return self._dataset_id

    async def _add_paths(self, paths: list[Path]) -> None:
        dataset_id = await self._dataset()
        for number, path in enumerate(paths, start=1):
            self._say(f"Checking and uploading {path.name} ({number} of {len(paths)})…")
            self._add_entry(await self.service.add_file(dataset_id, path))
        self._say("")

    async def _add_recordings(self, recordings: list[Recording]) -> None:
        dataset_id = await self._dataset()
        for recording in recordings:
            self._say(f"Checking and uploading {recording.name}…")
            entry = await self.service.add_clip(dataset_id, recording.audio,
                                                recording.sample_rate, f"{recording.name}.wav")
            self._add_entry(entry)
        self._say("")

    def _add_entry(self, entry: DatasetEntry) -> None:
        if not shiboken6.isValid(self):
            return
        self.entries.append(entry)
        row = self.table.rowCount()
        self.table.insertRow(row)
        report = entry.report
        checks = ("Uploaded" if entry.uploaded else
                  "Not uploaded: " + ("; ".join(report.problems) or "no speech found"))
        for column, text in ((FILE, entry.filename), (LENGTH, format_duration(report.duration)),
                             (CHECKS, checks)):
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            self.table.setItem(row, column, item)
        self._update()

    # --- the fine-tune ----------------------------------------------------------------

    def start(self) -> asyncio.Future[None] | None:
        """Start the fine-tune over the uploaded files (asking first on the cloud)."""
        if self.backend_kind != "offline":
            answer = QMessageBox.question(
                self, "Professional clone",
                f"Train a professional clone from {format_duration(self.clean_seconds)} of "
                "speech? Cartesia bills it at its price for your plan.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel)
            if answer != QMessageBox.StandardButton.Yes:
                return None
        return self.tasks.start(self._start)

    async def _start(self) -> None:
        dataset_id = await self._dataset()
        tune = await self.service.start(self.name_edit.text().strip(), dataset_id,
                                        self.language_combo.currentText())
        self.tune_id = tune.id
        self._say("Training started: the voice appears in the Voices panel when it is "
                  "ready (you may close this dialog; it is followed after a restart too)")
        self._update()

    def _on_status(self, tune_id: str, _status: str, text: str) -> None:
        if tune_id == self.tune_id and shiboken6.isValid(self):
            self._say(text)

    # --- state ------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        if shiboken6.isValid(self):
            self.status_label.setText(text)

    def _on_failed(self, exc: BaseException) -> None:
        self._say(f"Failed: {exc}")
        self._update()

    def _update(self, *_args: object) -> None:
        recommended = recommended_seconds(self.backend_kind)
        clean = self.clean_seconds
        self.speech_label.setText(
            f"Clean speech: {format_duration(clean)} of {format_duration(recommended)} "
            "recommended" + (" — more is better" if clean >= recommended else ""))
        self.speech_bar.setMaximum(int(recommended))
        self.speech_bar.setValue(min(int(clean), int(recommended)))
        named = bool(self.name_edit.text().strip())
        self.name_edit.setEnabled(not self._dataset_id)  # the dataset carries the name
        self.start_button.setEnabled(named and clean > 0 and not self.tune_id)
