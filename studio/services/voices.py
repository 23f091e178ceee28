"""The voice list as a QObject, loaded from the backend in use."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from studio.api import CartesiaError, Voice
from studio.services.errors import describe_error, error_detail

if TYPE_CHECKING:
    from studio.api.client import CartesiaClient

log = logging.getLogger(__name__)


class VoiceCatalog(QObject):
    """Voices of the connected backend (``GET /voices``, all pages).

    The list belongs to one backend: :meth:`clear` empties it when the backend changes,
    so one backend's voices are never offered to another.

    Attributes:
        voices: the voices listed, English first.
        loaded: whether :attr:`voices` is the connected backend's list (False after
            :meth:`clear`, until a :meth:`refresh` succeeds).

    Signals:
        voices_changed(): :attr:`voices` was replaced.
        load_failed(str): user-facing reason.
    """

    voices_changed = Signal()
    load_failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.voices: list[Voice] = []
        self.loaded = False
        self._names: dict[str, str] = {}  # every voice id listed so far -> its name

    def voice(self, voice_id: str) -> Voice | None:
        return next((v for v in self.voices if v.id == voice_id), None)

    def name_of(self, voice_id: str) -> str:
        """The voice's name as last listed (by any backend), else its id."""
        voice = self.voice(voice_id)
        return voice.name if voice is not None else self._names.get(voice_id, voice_id)

    def clear(self) -> None:
        """Forget the list: the backend it came from is gone."""
        self.loaded = False
        self._names.update((v.id, v.name) for v in self.voices)  # a clone added since
        if self.voices:
            self.voices = []
            self.voices_changed.emit()

    async def refresh(self, client: CartesiaClient) -> bool:
        """Reload from ``client``; returns whether it succeeded."""
        try:
            voices = await client.voices.list()
        except CartesiaError as exc:
            log.warning("voice list failed: %s", error_detail(exc))
            self.load_failed.emit(f"Could not load voices. {describe_error(exc)}")
            return False
        self.voices = sorted(voices, key=lambda v: (v.language != "en", v.language, v.name.lower()))
        self._names.update((v.id, v.name) for v in self.voices)
        self.loaded = True
        self.voices_changed.emit()
        return True
