"""``client.infill``: speech that joins two pieces of audio (SDK
``client.infill.bytes``; seed ``infill_bytes``).

Where this deviates from the SDK reference, and why:

- ``output_format`` is one :class:`~studio.api.models.OutputFormat` instead of the
  SDK's ``output_format_container``/``_sample_rate``/``_encoding``/``_bit_rate``: the
  same value the TTS request carries, flattened onto the same form fields.
- ``left_audio``/``right_audio`` are ``bytes`` with their names in
  ``left_filename``/``right_filename`` (the SDK's ``core.File`` is either).
"""

from __future__ import annotations

import builtins

from studio.api._checks import check_audio
from studio.api.models import OutputFormat
from studio.api.resources._base import APIResource
from studio.api.resources._files import audio_type


class InfillResource(APIResource):
    """Infill: ``POST /infill/bytes``. Errors as
    :class:`~studio.api.client.CartesiaClient` lists them."""

    async def bytes(
        self,
        *,
        transcript: str,
        voice_id: str,
        model_id: str,
        language: str,
        output_format: OutputFormat,
        left_audio: builtins.bytes | None = None,
        right_audio: builtins.bytes | None = None,
        left_filename: str = "left.wav",
        right_filename: str = "right.wav",
    ) -> builtins.bytes:
        """``POST /infill/bytes`` (seed ``infill_bytes``): speech of ``transcript`` that
        joins ``left_audio`` to ``right_audio`` (whole audio files: WAV, FLAC, MP3...).

        Sent as ``multipart/form-data`` with the v4 SDK's field names (``tts.infill``):
        the files ``left_audio``/``right_audio``, the text fields ``transcript``,
        ``voice_id``, ``model_id``, ``language`` and the output format flattened with
        brackets (``output_format[container]``, ``output_format[encoding]``,
        ``output_format[sample_rate]``, or ``output_format[bit_rate]`` for mp3), as the
        SDK's ``Querystring.stringify_items`` flattens nested form data. Costs
        :func:`~studio.api.models.infill_credits` on Cartesia.

        Returns:
            The middle audio only, in ``output_format`` (a WAV or MP3 file, or raw PCM).

        Raises:
            ValueError: neither side given, or a blank transcript (nothing is sent).
        """
        if left_audio is None and right_audio is None:
            raise ValueError("infill needs left_audio, right_audio or both")
        if not transcript.strip():
            raise ValueError("infill needs a transcript for the new audio")
        data: dict[str, str] = {
            "transcript": transcript,
            "voice_id": voice_id,
            "model_id": model_id,
            "language": language,
        }
        for key, value in output_format.to_json().items():
            data[f"output_format[{key}]"] = str(value)
        files: dict[str, tuple[str, builtins.bytes, str]] = {}
        if left_audio is not None:
            files["left_audio"] = (left_filename, left_audio, audio_type(left_filename))
        if right_audio is not None:
            files["right_audio"] = (right_filename, right_audio, audio_type(right_filename))
        response = await self._http.request("POST", "/infill/bytes", files=files, data=data)
        check_audio(response.status_code, response.headers.get("content-type", ""),
                    response.content, output_format, "POST /infill/bytes")
        return response.content
