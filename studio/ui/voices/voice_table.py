"""The voice list of the Voices panel: which voices pass the filters, and the rows
that show them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from studio.api import Voice
from studio.services.catalog import matches

STAR, NAME, LANGUAGE, GENDER, OWNER = range(5)
#: Short headers, so a narrow dock leaves the room to the names; the tooltips say more.
COLUMNS = ("★", "Name", "Lang.", "Gender", "Owner")
COLUMN_TIPS = ("Starred", "Name", "Language", "Gender",
               "Your own voice (Pro clone: made by a professional-clone fine-tune), or a "
               "public one")
GENDER_LABELS = {"masculine": "Masculine", "feminine": "Feminine", "gender_neutral": "Neutral"}
#: Owner filter choices: label and the test applied to a voice.
OWNER_FILTERS: tuple[tuple[str, Callable[[Voice], bool]], ...] = (
    ("Any owner", lambda v: True),
    ("Mine", lambda v: v.is_owner),
    ("Public", lambda v: not v.is_owner),
)
ANY = ""


def filter_voices(voices: Sequence[Voice], query: str = "", language: str = ANY,
                  gender: str = ANY, owner: int = 0,
                  starred: set[str] | None = None) -> list[Voice]:
    """The voices that pass every filter. ``query`` matches name, description, language
    or id (case-insensitive); ``owner`` indexes :data:`OWNER_FILTERS`; ``starred``, when
    given, keeps only those ids."""
    keep_owner = OWNER_FILTERS[owner][1]
    return [v for v in voices
            if matches(v, query) and (not language or v.language == language)
            and (not gender or (v.gender or "") == gender) and keep_owner(v)
            and (starred is None or v.id in starred)]


class VoiceTableModel(QAbstractTableModel):
    """Rows of voices: star, name, language, gender, and whether it is the user's own
    ("Pro clone" for a voice a professional-clone fine-tune made)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._voices: list[Voice] = []
        self._starred: set[str] = set()
        self._pro_clones: set[str] = set()

    def set_voices(self, voices: Sequence[Voice], starred: set[str],
                   pro_clones: set[str] | None = None) -> None:
        """Show ``voices``; ``pro_clones`` (ids) keeps the previous set when None."""
        self.beginResetModel()
        self._voices, self._starred = list(voices), set(starred)
        if pro_clones is not None:
            self._pro_clones = set(pro_clones)
        self.endResetModel()

    def voice_at(self, row: int) -> Voice:
        return self._voices[row]

    def row_of(self, voice_id: str) -> int | None:
        return next((r for r, v in enumerate(self._voices) if v.id == voice_id), None)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._voices)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return COLUMN_TIPS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        voice, column = self._voices[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == STAR:
                return "★" if voice.id in self._starred else "☆"
            if column == NAME:
                return voice.name
            if column == LANGUAGE:
                return voice.language
            if column == GENDER:
                return GENDER_LABELS.get(voice.gender or "", voice.gender or "—")
            if voice.id in self._pro_clones:
                return "Pro clone"
            return "Mine" if voice.is_owner else "Public"
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == STAR:
                return "Click to star or unstar"
            return voice.description or voice.name
        if role == Qt.ItemDataRole.TextAlignmentRole and column == STAR:
            return int(Qt.AlignmentFlag.AlignCenter)
        return None
