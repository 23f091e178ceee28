"""``client.voice_changer``: speech re-spoken in another voice, keeping its timing and
intonation (SDK ``client.voice_changer.bytes``/``.sse``; seed ``voiceChanger_bytes``,
``voiceChanger_sse``).

Both send ``multipart/form-data`` with the seed's field names: the file ``clip`` and the
text fields ``voice[id]``, ``output_format[container]``, ``output_format[sample_rate]``,
``output_format[encoding]`` (raw, wav) or ``output_format[bit_rate]`` (mp3). Cartesia
prices the voice changer at 15 characters per second of input audio.

Where this deviates from the SDK reference, and why:

- ``output_format`` is one :class:`~studio.api.models.OutputFormat` instead of the
  SDK's ``output_format_container``/``_sample_rate``/``_encoding``/``_bit_rate``: the
  value the TTS and infill requests carry, flattened onto the same form fields.
- ``clip`` is ``bytes`` with its name in ``filename`` (the SDK's ``core.File`` is either).
- ``bytes`` returns the whole body; ``sse`` returns an :class:`~studio.api.sse.SSEStream`
  of typed events (:class:`~studio.api.models.ChunkEvent` with the decoded audio, then
  :class:`~studio.api.models.DoneEvent`), as ``client.tts.sse`` does. A chunk or done
  event without a ``type`` (the SDK's ``VoiceChangerSSEChunk``/``Done`` have none) is
  told by its ``done`` flag.
- Neither call makes anything on the server, so both are retried as any idempotent
  request (``sse`` only until its body begins).
"""

from __future__ import annotations

import builtins
import json

from studio.api._checks import check_audio
from studio.api._events import parse_stream_event
from studio.api.errors import ResponseFormatError
from studio.api.models import OutputFormat
from studio.api.resources._base import APIResource
from studio.api.resources._files import audio_type
from studio.api.sse import ServerSentEvent, SSEStream

BYTES_PATH = "/voice-changer/bytes"
SSE_PATH = "/voice-changer/sse"


class VoiceChangerStream(SSEStream):
    """The events of one ``POST /voice-changer/sse``: as :class:`SSEStream`, and an
    event without ``type`` or ``event:`` name is a ``done`` event if its ``done`` flag
    is true, else a ``chunk``."""

    def _queue_events(self, events: list[ServerSentEvent]) -> None:
        for sse in events:
            try:
                body = json.loads(sse.data)
            except ValueError as exc:
                raise ResponseFormatError(f"SSE data is not JSON: {exc}") from None
            default = sse.event
            if default is None and isinstance(body, dict) and "type" not in body:
                default = "done" if body.get("done") is True else "chunk"
            event = parse_stream_event(body, default_type=default)
            if event is not None:
                self._events.append(event)


def _form(voice_id: str, output_format: OutputFormat) -> dict[str, str]:
    if not voice_id.strip():
        raise ValueError("the voice changer needs a voice_id to convert the clip to")
    data = {"voice[id]": voice_id}
    for key, value in output_format.to_json().items():
        data[f"output_format[{key}]"] = str(value)
    return data


def _clip_part(clip: builtins.bytes, filename: str) -> dict[str, tuple[str, builtins.bytes, str]]:
    if not clip:
        raise ValueError("the voice changer needs a clip: an audio file of speech")
    return {"clip": (filename, clip, audio_type(filename))}


class VoiceChangerResource(APIResource):
    """Voice changer: ``POST /voice-changer/bytes`` and ``POST /voice-changer/sse``.
    Errors as :class:`~studio.api.client.CartesiaClient` lists them."""

    async def bytes(
        self,
        clip: builtins.bytes,
        voice_id: str,
        output_format: OutputFormat,
        *,
        filename: str = "clip.wav",
    ) -> builtins.bytes:
        """``POST /voice-changer/bytes``: ``clip`` (a whole audio file: WAV, FLAC, MP3...)
        spoken by ``voice_id``, same length and timing.

        Returns:
            The converted audio in ``output_format`` (a WAV or MP3 file, or raw PCM).

        Raises:
            ValueError: an empty clip or blank voice id (nothing is sent).
            BadRequestError: the server refused the clip (not audio, too long, no
                speech; its message says which), NotFoundError: unknown voice.
            ResponseFormatError: the answer is not audio in ``output_format``.
        """
        files = _clip_part(clip, filename)
        data = _form(voice_id, output_format)
        response = await self._http.request("POST", BYTES_PATH, files=files, data=data)
        check_audio(response.status_code, response.headers.get("content-type", ""),
                    response.content, output_format, f"POST {BYTES_PATH}")
        return response.content

    def sse(
        self,
        clip: builtins.bytes,
        voice_id: str,
        output_format: OutputFormat,
        *,
        filename: str = "clip.wav",
        raise_on_error: bool = True,
    ) -> VoiceChangerStream:
        """``POST /voice-changer/sse`` as a stream of typed events:
        ``async with client.voice_changer.sse(clip, voice, fmt) as s: async for ev in s``.
        Chunks carry PCM in ``output_format.encoding`` at its rate. The request is sent
        when the stream is entered or first iterated.

        Raises:
            ValueError: an empty clip, blank voice id, or a container other than ``raw``
                (nothing is sent).
        """
        if output_format.container != "raw":
            raise ValueError(
                f"SSE only streams container 'raw', not {output_format.container!r}")
        files = _clip_part(clip, filename)
        data = _form(voice_id, output_format)
        return VoiceChangerStream(
            lambda: self._http.stream("POST", SSE_PATH, files=files, data=data),
            raise_on_error=raise_on_error,
        )
