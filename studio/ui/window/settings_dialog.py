"""The Settings dialog: API key, backend URLs, generation and export options."""

from __future__ import annotations

import dataclasses
import re

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.config import Settings

_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class SettingsDialog(QDialog):
    """Edits a copy of :class:`Settings`; :meth:`settings` returns the result.

    The API key field says where the key is kept; ``CARTESIA_API_KEY``, when set,
    wins over a saved key and the dialog says so.
    """

    def __init__(
        self, settings: Settings, env_key_set: bool, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setObjectName("SettingsDialog")
        self._original = settings

        self.api_key_edit = QLineEdit(settings.api_key)
        self.api_key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key_edit.setPlaceholderText("sk_car_…  (leave empty to use the offline engine)")
        key_note = QLabel(
            "CARTESIA_API_KEY is set in the environment and is used instead of this field."
            if env_key_set else
            "Saved in your settings file, readable by your user account only. "
            "Secure OS keyring storage comes in a later release."
        )
        key_note.setWordWrap(True)
        key_note.setObjectName("Hint")
        self.offline_check = QCheckBox("Use the offline engine even when a key is set")
        self.offline_check.setChecked(settings.use_offline)
        self.base_url_edit = QLineEdit(settings.base_url)
        self.ws_url_edit = QLineEdit(settings.websocket_base_url)
        self.version_edit = QLineEdit(settings.cartesia_version)
        self.version_edit.setToolTip("Cartesia-Version header, YYYY-MM-DD")

        self.jobs_spin = QSpinBox()
        self.jobs_spin.setRange(1, 16)
        self.jobs_spin.setValue(settings.max_concurrent_jobs)
        self.jobs_spin.setMaximumWidth(90)
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
        generation = QGroupBox("Generation and export")
        form2 = QFormLayout(generation)
        form2.addRow("Blocks generated at once", self.jobs_spin)
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
        if not s.base_url.startswith(("http://", "https://")):
            return "The API base URL must start with http:// or https://"
        if not s.websocket_base_url.startswith(("ws://", "wss://")):
            return "The WebSocket base URL must start with ws:// or wss://"
        if not _VERSION.match(s.cartesia_version):
            return "The API version must look like 2025-11-04"
        return ""

    def _on_accept(self) -> None:
        error = self.validation_error()
        self.error_label.setText(error)
        if not error:
            self.accept()
