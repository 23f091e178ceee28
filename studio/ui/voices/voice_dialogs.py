"""Small dialogs of the Voices panel: edit a voice's name and description, and
localize a voice into another language (``POST /voices/localize``)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from studio.api import Voice
from studio.api.models import LOCALIZE_DIALECTS, LOCALIZE_LANGUAGES, SPEAKER_GENDERS
from studio.ui.widgets.languages import LANGUAGE_NAMES, language_label

#: Dialect names of the seed's ``LocalizeDialect`` descriptions, by language.
DIALECT_NAMES = {
    ("en", "au"): "Australian", ("en", "in"): "Indian", ("en", "so"): "Southern",
    ("en", "uk"): "British", ("en", "us"): "American", ("es", "mx"): "Latin American",
    ("es", "pe"): "Peninsular", ("pt", "br"): "Brazilian", ("pt", "eu"): "European",
    ("fr", "eu"): "Parisian", ("fr", "ca"): "Canadian",
}
class VoiceEditDialog(QDialog):
    """Rename a voice and edit its description."""

    def __init__(self, voice: Voice, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Edit voice: {voice.name}")
        self.name_edit = QLineEdit(voice.name)
        self.description_edit = QPlainTextEdit(voice.description)
        self.description_edit.setTabChangesFocus(True)
        self.description_edit.setFixedHeight(80)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        save = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.name_edit.textChanged.connect(lambda text: save.setEnabled(bool(text.strip())))
        form = QFormLayout(self)
        form.addRow("Name", self.name_edit)
        form.addRow("Description", self.description_edit)
        form.addRow(buttons)
        self.resize(420, self.sizeHint().height())

    def values(self) -> tuple[str, str]:
        return self.name_edit.text().strip(), self.description_edit.toPlainText().strip()


class LocalizeDialog(QDialog):
    """Make a copy of a voice speaking another language (``POST /voices/localize``):
    target language, dialect (only those of the chosen language), the original
    speaker's gender, and the new voice's name and description."""

    def __init__(self, voice: Voice, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Localize {voice.name}")
        self._voice = voice
        self.language_combo = QComboBox()
        for code in LOCALIZE_LANGUAGES:
            self.language_combo.addItem(language_label(code), code)
        self.dialect_combo = QComboBox()
        self.gender_combo = QComboBox()
        for gender in SPEAKER_GENDERS:
            self.gender_combo.addItem(gender.capitalize(), gender)
        guess = {"masculine": "male", "feminine": "female"}.get(voice.gender or "")
        if guess is not None and self.gender_combo.findData(guess) >= 0:
            self.gender_combo.setCurrentIndex(self.gender_combo.findData(guess))
        self.name_edit = QLineEdit()
        self.description_edit = QLineEdit(voice.description)
        note = QLabel("Creates a new voice; the original stays as it is.")
        note.setObjectName("Hint")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Localize")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.name_edit.textChanged.connect(lambda text: ok.setEnabled(bool(text.strip())))
        form = QFormLayout(self)
        form.addRow("Language", self.language_combo)
        form.addRow("Dialect", self.dialect_combo)
        form.addRow("Original speaker", self.gender_combo)
        form.addRow("Name", self.name_edit)
        form.addRow("Description", self.description_edit)
        form.addRow(note)
        form.addRow(buttons)
        self._suggested = ""
        self.language_combo.currentIndexChanged.connect(self._on_language_changed)
        start = self.language_combo.findData("es" if voice.language == "en" else "en")
        self.language_combo.setCurrentIndex(max(start, 0))
        self._on_language_changed()
        self.resize(420, self.sizeHint().height())

    def _on_language_changed(self, *_args: object) -> None:
        language = self.language_combo.currentData() or ""
        self.dialect_combo.clear()
        dialects = LOCALIZE_DIALECTS.get(language, ())
        self.dialect_combo.addItem("Default" if dialects else "None for this language", None)
        for dialect in dialects:
            self.dialect_combo.addItem(f"{DIALECT_NAMES.get((language, dialect), dialect)} "
                                       f"({dialect})", dialect)
        self.dialect_combo.setEnabled(bool(dialects))
        # The suggested name follows the language until the user types their own.
        suggested = f"{self._voice.name} ({LANGUAGE_NAMES.get(language, language)})"
        if self.name_edit.text() in ("", self._suggested):
            self.name_edit.setText(suggested)
        self._suggested = suggested

    def values(self) -> dict[str, Any]:
        """Keyword arguments for :meth:`VoiceLab.localize`."""
        return {
            "voice_id": self._voice.id, "name": self.name_edit.text().strip(),
            "description": self.description_edit.text().strip(),
            "language": self.language_combo.currentData(),
            "original_speaker_gender": self.gender_combo.currentData(),
            "dialect": self.dialect_combo.currentData(),
        }
