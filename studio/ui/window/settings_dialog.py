"""The Settings dialog: API key, backend URLs, generation and export options."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Awaitable, Callable

import shiboken6
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.api.rate_gate import PLAN_CONCURRENCY_LIMITS
from studio.config import Settings, insecure_url_error
from studio.services.backend import ConnectionReport, check_connection

_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}$")

ConnectionChecker = Callable[[str, str, str], Awaitable[ConnectionReport]]


class SettingsDialog(QDialog):
    """Edits a copy of :class:`Settings`; :meth:`settings` returns the result.

    The API key field says where the key is kept (``key_location``: the OS keyring,
    or the fallback file by name when ``key_fallback``); ``CARTESIA_API_KEY``, when
    set, wins over a saved key and the dialog says so. Test connection runs
    ``connection_checker`` (default :func:`studio.services.backend.check_connection`)
    on the fields as they are.

    Attributes:
        connection_task: the running connection test, or ``None``.
    """

    def __init__(
        self,
        settings: Settings,
        env_key_set: bool,
        parent: QWidget | None = None,
        *,
        key_location: str = "the OS keyring",
        key_fallback: bool = False,
        connection_checker: ConnectionChecker = check_connection,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setObjectName("SettingsDialog")
        self._original = settings
        self._check = connection_checker
        self.connection_task: asyncio.Future[None] | None = None

        self.api_key_edit = QLineEdit(settings.api_key)
        self.api_key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key_edit.setPlaceholderText("sk_car_…  (leave empty to use the offline engine)")
        if env_key_set:
            note = "CARTESIA_API_KEY is set in the environment and is used instead of this field."
        elif key_fallback:
            note = (f"Fallback: no OS keyring is available, so the key is saved in "
                    f"{key_location}, readable by your user account only.")
        else:
            note = f"Saved in {key_location}, not in the settings file."
        self.key_note = key_note = QLabel(note)
        key_note.setWordWrap(True)
        key_note.setObjectName("Hint")
        self.offline_check = QCheckBox("Use the offline engine even when a key is set")
        self.offline_check.setChecked(settings.use_offline)
        self.base_url_edit = QLineEdit(settings.base_url)
        self.ws_url_edit = QLineEdit(settings.websocket_base_url)
        self.version_edit = QLineEdit(settings.cartesia_version)
        self.version_edit.setToolTip("Cartesia-Version header, YYYY-MM-DD")

        self.jobs_spin = QSpinBox()
        self.jobs_spin.setRange(1, max(PLAN_CONCURRENCY_LIMITS))
        self.jobs_spin.setValue(settings.max_concurrent_jobs)
        self.jobs_spin.setMaximumWidth(90)
        self.jobs_spin.setToolTip(
            "Your Cartesia plan's concurrency limit: requests generated at once. Plans "
            f"allow {', '.join(map(str, PLAN_CONCURRENCY_LIMITS[:-1]))} or "
            f"{PLAN_CONCURRENCY_LIMITS[-1]}; above it Cartesia refuses requests (429) and "
            "the studio slows every block down together until it accepts them again.")
        self.pause_spin = QDoubleSpinBox()
        self.pause_spin.setRange(0.0, 10.0)
        self.pause_spin.setSingleStep(0.1)
        self.pause_spin.setSuffix(" s")
        self.pause_spin.setValue(settings.pause_seconds)
        self.pause_spin.setMaximumWidth(90)
        self.confirm_spin = QSpinBox()
        self.confirm_spin.setRange(0, 10_000_000)
        self.confirm_spin.setSingleStep(100)
        self.confirm_spin.setSuffix(" credits")
        self.confirm_spin.setValue(settings.credit_confirm_threshold)
        self.confirm_spin.setMaximumWidth(160)
        self.confirm_spin.setToolTip(
            "Generating on Cartesia's cloud asks first when the estimate "
            "is above this (0 asks every time). The offline engine is free."
        )
        self.play_check = QCheckBox("Play blocks while they generate")
        self.play_check.setChecked(settings.play_while_generating)
        self.buffer_spin = QSpinBox()
        self.buffer_spin.setRange(0, 2000)
        self.buffer_spin.setSingleStep(50)
        self.buffer_spin.setSuffix(" ms")
        self.buffer_spin.setSpecialValueText("Automatic (lowest latency)")
        self.buffer_spin.setValue(settings.output_buffer_ms)
        self.buffer_spin.setToolTip(
            "Audio kept ahead of the speakers. If playback stutters on a busy computer, "
            "raise it (200–500 ms); lower means Play and Stop respond sooner.")
        self.error_label = QLabel()
        self.error_label.setObjectName("Error")

        account = QGroupBox("Cartesia account")
        form = QFormLayout(account)
        form.addRow("API key", self.api_key_edit)
        form.addRow("", key_note)
        form.addRow("", self.offline_check)
        form.addRow("API base URL", self.base_url_edit)
        form.addRow("WebSocket base URL", self.ws_url_edit)
        form.addRow("API version", self.version_edit)
        connection = self._connection_box()
        generation = QGroupBox("Generation and export")
        form2 = QFormLayout(generation)
        form2.addRow("Concurrent requests", self.jobs_spin)
        form2.addRow("Pause between blocks", self.pause_spin)
        form2.addRow("", self.play_check)
        form2.addRow("Ask before spending over", self.confirm_spin)

        audio = QGroupBox("Audio output")
        form3 = QFormLayout(audio)
        form3.addRow("Output buffer", self.buffer_spin)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._on_accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(account)
        layout.addWidget(connection)
        layout.addWidget(generation)
        layout.addWidget(audio)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)
        self.resize(560, self.sizeHint().height())

    def settings(self) -> Settings:
        """The edited settings (a new object; the original is untouched)."""
        return dataclasses.replace(
            self._original,
            api_key=self.api_key_edit.text().strip(),
            use_offline=self.offline_check.isChecked(),
            base_url=self.base_url_edit.text().strip().rstrip("/"),
            websocket_base_url=self.ws_url_edit.text().strip().rstrip("/"),
            cartesia_version=self.version_edit.text().strip(),
            max_concurrent_jobs=self.jobs_spin.value(),
            pause_seconds=round(self.pause_spin.value(), 3),
            play_while_generating=self.play_check.isChecked(),
            credit_confirm_threshold=self.confirm_spin.value(),
            output_buffer_ms=self.buffer_spin.value(),
        )

    def validation_error(self) -> str:
        """A message for the first invalid field, or ""."""
        s = self.settings()
        url_error = (insecure_url_error(s.base_url, "https", "http", "API base URL")
                     or insecure_url_error(s.websocket_base_url, "wss", "ws",
                                           "WebSocket base URL"))
        if url_error:
            return url_error
        if not _VERSION.match(s.cartesia_version):
            return "The API version must look like 2025-11-04"
        return ""

    def _on_accept(self) -> None:
        error = self.validation_error()
        self.error_label.setText(error)
        if not error:
            self.accept()

    # --- Test connection (issue 14) -------------------------------------------------

    def _connection_box(self) -> QGroupBox:
        box = QGroupBox("Connection")
        form = QFormLayout(box)
        self.test_button = QPushButton("Test connection")
        self.test_button.setToolTip("Asks the API base URL for its version (GET /) and "
                                    "for one voice with this key (GET /voices)")
        self.test_button.clicked.connect(self._on_test_clicked)
        self.test_label = QLabel()
        self.test_label.setObjectName("Hint")
        self.test_label.setWordWrap(True)
        form.addRow(self.test_button, self.test_label)
        return box

    def _on_test_clicked(self) -> None:
        self.test_connection()

    def test_connection(self) -> asyncio.Future[None] | None:
        """Check the key and base URL in the fields; the result shows beside the button
        (the technical detail in its tooltip). ``None`` while a test is running."""
        if self.connection_task is not None:
            return None
        s = self.settings()
        self.test_button.setEnabled(False)
        self.test_label.setText("Testing…")
        self.test_label.setToolTip("")
        self.connection_task = asyncio.ensure_future(
            self._test(s.effective_api_key(), s.base_url, s.cartesia_version))
        return self.connection_task

    async def _test(self, api_key: str, base_url: str, version: str) -> None:
        try:
            report = await self._check(api_key, base_url, version)
        finally:
            if shiboken6.isValid(self):
                self.connection_task = None
                self.test_button.setEnabled(True)
        if shiboken6.isValid(self):
            self.test_label.setObjectName("Hint" if report.ok else "Error")
            self.test_label.setText(report.message)
            self.test_label.setToolTip(report.detail)
