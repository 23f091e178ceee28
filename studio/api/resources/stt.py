"""``client.stt``: speech to text, batch (SDK ``client.stt.transcribe``; seed
``stt_transcribe``).

Where this deviates from the SDK reference, and why:

- ``file`` is the audio's ``bytes``, its name in ``filename`` (the SDK's ``core.File``
  is either), which gives the part its MIME type.
- ``timestamp_granularities`` defaults to ``("word",)`` rather than None: every caller
  aligns words. ``language`` defaults to ``"en"``, as the server does. ``encoding`` and
  ``sample_rate`` (for headerless PCM) are left out: the studio sends whole files.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from studio.api._http import json_body
from studio.api.models import STT_MODEL, Transcription
from studio.api.resources._base import APIResource
from studio.api.resources._files import audio_type

#: Timestamp granularities the seed offers (``TimestampGranularity``).
TimestampGranularity = Literal["word"]


class STTResource(APIResource):
    """Speech to text: ``POST /stt``. Errors as
    :class:`~studio.api.client.CartesiaClient` lists them."""

    async def transcribe(
        self,
        file: bytes,
        *,
        filename: str = "audio.wav",
        model: str = STT_MODEL,
        language: str | None = "en",
        timestamp_granularities: Sequence[TimestampGranularity] | None = ("word",),
    ) -> Transcription:
        """``POST /stt`` (seed ``stt_transcribe``): the words spoken in ``file``, a
        whole audio file (flac, mp3, ogg, wav... as the seed lists).

        Multipart fields as the v4 SDK sends them (``stt.transcribe``): the file
        ``file``, ``model``, ``language`` (omitted when None) and
        ``timestamp_granularities[]`` (omitted when None or empty; ``"word"`` fills
        :attr:`Transcription.words`). Costs 1 credit per 2 seconds of audio on
        Cartesia.

        Raises:
            ValueError: ``file`` is empty (nothing is sent).
            ResponseFormatError: the body is not a ``TranscriptionResponse``.
        """
        if not file:
            raise ValueError("there is no audio to transcribe")
        data: dict[str, str | list[str]] = {"model": model}
        if language is not None:
            data["language"] = language
        if timestamp_granularities:
            data["timestamp_granularities[]"] = list(timestamp_granularities)
        files = {"file": (filename, file, audio_type(filename))}
        response = await self._http.request("POST", "/stt", files=files, data=data)
        return Transcription.from_json(json_body(response, "POST /stt"))
