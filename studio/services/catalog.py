"""Choosing voices from a voice list. Qt-free."""

from __future__ import annotations

from collections.abc import Iterable

from studio.api import Voice


def pick_voice(voices: Iterable[Voice], language: str, preferred_id: str = "") -> Voice | None:
    """The voice to give a new block: ``preferred_id`` if listed, else the first
    voice speaking ``language``, else the first voice, else ``None``."""
    listed = list(voices)
    for voice in listed:
        if voice.id == preferred_id:
            return voice
    for voice in listed:
        if voice.language == language:
            return voice
    return listed[0] if listed else None


def matches(voice: Voice, query: str) -> bool:
    """Whether ``query`` (case-insensitive) occurs in the voice's name,
    description, language or id: the search of the seed's ``GET /voices?q=``."""
    q = query.strip().lower()
    if not q:
        return True
    return any(
        q in field.lower() for field in (voice.name, voice.description, voice.language, voice.id)
    )
