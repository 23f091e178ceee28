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

    Signals:
        voices_changed(): :attr:`voices` was replaced.
        load_failed(str): user-facing reason.
    """

    voices_changed = Signal()
    load_failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.voices: list[Voice] = []

    def voice(self, voice_id: str) -> Voice | None:
        return next((v for v in self.voices if v.id == voice_id), None)

    async def refresh(self, client: CartesiaClient) -> bool:
        """Reload from ``client``; returns whether it succeeded."""
        try:
            voices = await client.voices.list()
        except CartesiaError as exc:
            log.warning("voice list failed: %s", error_detail(exc))
            self.load_failed.emit(f"Could not load voices. {describe_error(exc)}")
            return False
        self.voices = sorted(voices, key=lambda v: (v.language != "en", v.language, v.name.lower()))
        self.voices_changed.emit()
        return True
