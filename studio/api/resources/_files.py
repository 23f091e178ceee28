"""Multipart uploads: the content type of an audio file sent to the API."""

from __future__ import annotations

_AUDIO_TYPES = {
    "wav": "audio/wav", "flac": "audio/flac", "mp3": "audio/mpeg", "ogg": "audio/ogg",
    "oga": "audio/ogg", "m4a": "audio/mp4", "mp4": "audio/mp4", "webm": "audio/webm",
}


def audio_type(filename: str) -> str:
    """The MIME type of an uploaded audio file, from its extension."""
    extension = filename.rpartition(".")[2].lower()
    return _AUDIO_TYPES.get(extension, "application/octet-stream")
