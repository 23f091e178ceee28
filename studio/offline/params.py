"""Parse and validate TTS request bodies into typed parameters.

Covers the seed's ``TTSRequest`` (``/tts/bytes``), ``TTSSSERequest``
(``/tts/sse``) and the WebSocket ``GenerationRequest``; all share model,
transcript, voice, language, generation config and output format. The v4 SDK
may send ``voice`` as a bare id string and ``locale`` instead of ``language``
(``tts.generate`` docstring); both are accepted. Every rejection is an
:class:`~studio.offline.errors.ApiError` with status 400, except an unknown
voice, which is 404 like ``GET /voices/{id}``. ``pronunciation_dict_id`` is
checked for its type here; whether the dictionary exists is the route's
business (it is read when the generation starts, see
:meth:`~studio.offline.dict_routes.DictBook.pronouncer`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from studio.api.models import LANGUAGES
from studio.offline.delivery import (
    Delivery,
    check_emotion,
    check_legacy_speed,
    check_speed,
    check_volume,
)
from studio.offline.errors import ApiError, bad_request
from studio.offline.formats import AudioFormat, parse_output_format
from studio.offline.synthesis import Voicing
from studio.offline.voices import ESPEAK_LANGUAGE_VOICES, VoiceCatalog, VoiceSpec

#: The seed's WebSocket error example, word for word.
INVALID_MODEL_MESSAGE = "Invalid model: The model is not valid, make sure it is a valid model ID."

_MODEL = re.compile(
    r"^(?:sonic-3|sonic-3\.5|sonic-latest|sonic-2|sonic-turbo"
    r"|sonic-3(?:\.5)?-\d{4}-\d{2}-\d{2}|sonic-2-\d{4}-\d{2}-\d{2})$"
)

#: ``max_buffer_delay_ms`` bounds and default (seed ``GenerationRequest``).
MAX_BUFFER_DELAY_MS = 5000
DEFAULT_BUFFER_DELAY_MS = 3000


@dataclass(frozen=True, slots=True)
class TtsParams:
    """A validated generation request (everything but WebSocket control flags)."""

    model_id: str
    transcript: str
    voice: VoiceSpec
    language: str
    voicing: Voicing
    delivery: Delivery
    output: AudioFormat
    add_timestamps: bool
    add_phoneme_timestamps: bool
    context_id: str | None
    pronunciation_dict_id: str | None = None


@dataclass(frozen=True, slots=True)
class SocketInput:
    """A WebSocket ``GenerationRequest``'s control flags (``continue`` is
    ``more``); ``params`` is None for a bare end-of-input (empty transcript
    with ``continue: false``) whose other fields need not be valid."""

    context_id: str | None
    transcript: str
    more: bool
    flush: bool
    max_buffer_delay_ms: int
    params: TtsParams | None


def check_model(value: object) -> str:
    """``value`` if it is a model id the engine serves.

    Raises:
        ApiError: 400 with :data:`INVALID_MODEL_MESSAGE`.
    """
    if not isinstance(value, str) or not _MODEL.match(value):
        raise bad_request(INVALID_MODEL_MESSAGE)
    return value


def _flag(body: dict[str, Any], key: str) -> bool:
    value = body.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise bad_request(f"{key} must be a boolean; got {value!r}")
    return value


def _voice(raw: object, catalog: VoiceCatalog) -> VoiceSpec:
    voice_id: object
    if isinstance(raw, str):
        voice_id = raw
    elif isinstance(raw, dict):
        mode = raw.get("mode", "id")
        if mode != "id":
            raise bad_request(
                f"voice.mode {mode!r} is not supported by the offline engine; use 'id'"
            )
        voice_id = raw.get("id")
    else:
        raise bad_request("voice is required: an id string or {\"mode\": \"id\", \"id\": ...}")
    if not isinstance(voice_id, str) or not voice_id:
        raise bad_request("voice.id must be a non-empty string")
    spec = catalog.get(voice_id)
    if spec is None:
        raise ApiError(404, f"voice not found: {voice_id}", "voice_not_found")
    return spec


def _language(body: dict[str, Any], voice: VoiceSpec) -> str:
    language, locale = body.get("language"), body.get("locale")
    if language is not None and locale is not None:
        raise bad_request("set either language or locale, not both")
    if locale is not None:
        if not isinstance(locale, str) or not re.match(
            r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)*$", locale
        ):
            raise bad_request(f"locale must look like 'en' or 'en-GB'; got {locale!r}")
        language = re.split(r"[-_]", locale)[0].lower()
    if language is None:
        return voice.language
    if not isinstance(language, str) or language not in LANGUAGES:
        raise bad_request(
            f"unsupported language {language!r}; expected one of {', '.join(LANGUAGES)}"
        )
    if language not in ESPEAK_LANGUAGE_VOICES:
        raise bad_request(f"language {language!r} is not available in the offline engine "
                          "(espeak-ng has no voice for it)")
    return language


def _delivery(body: dict[str, Any]) -> Delivery:
    config = body.get("generation_config")
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise bad_request("generation_config must be an object")
    speed = check_speed(config["speed"]) if config.get("speed") is not None else 1.0
    volume = check_volume(config["volume"]) if config.get("volume") is not None else 1.0
    emotion = check_emotion(config.get("emotion"))
    legacy = check_legacy_speed(body.get("speed"))
    return Delivery(speed=speed * legacy, volume=volume, emotion=emotion)


def parse_tts(
    body: object,
    catalog: VoiceCatalog,
    containers: tuple[str, ...] = ("raw", "wav", "mp3"),
    allow_empty: bool = False,
) -> TtsParams:
    """Validate a TTS request body.

    ``containers`` are the output containers the endpoint allows;
    ``allow_empty`` admits an empty transcript (WebSocket continuations).

    Raises:
        ApiError: 400 for invalid fields (the model first, with the seed's
            message), 404 for an unknown voice.
    """
    if not isinstance(body, dict):
        raise bad_request("request body must be a JSON object")
    model = check_model(body.get("model_id"))
    transcript = body.get("transcript")
    if not isinstance(transcript, str):
        raise bad_request("transcript is required and must be a string")
    if not allow_empty and not transcript.strip():
        raise bad_request("transcript must not be empty")
    voice = _voice(body.get("voice"), catalog)
    language = _language(body, voice)
    output = parse_output_format(body.get("output_format"), containers)
    delivery = _delivery(body)
    dict_id = body.get("pronunciation_dict_id")
    if dict_id is not None and (not isinstance(dict_id, str) or not dict_id.strip()):
        raise bad_request(
            f"pronunciation_dict_id must be a pronunciation dictionary id string; got {dict_id!r}")
    context_id = body.get("context_id")
    if context_id is not None and not isinstance(context_id, str):
        raise bad_request("context_id must be a string")
    return TtsParams(
        model_id=model,
        transcript=transcript,
        voice=voice,
        language=language,
        voicing=voice.voicing(language),
        delivery=delivery,
        output=output,
        add_timestamps=_flag(body, "add_timestamps"),
        add_phoneme_timestamps=_flag(body, "add_phoneme_timestamps"),
        context_id=context_id,
        pronunciation_dict_id=dict_id,
    )


def parse_socket_input(body: dict[str, Any], catalog: VoiceCatalog) -> SocketInput:
    """Validate a WebSocket ``GenerationRequest``.

    An empty transcript with ``continue: false`` only ends its context, so its
    other fields are not checked (the SDK's ``no_more_inputs`` sends
    placeholder model/voice/format values, not the context's).

    Raises:
        ApiError: as :func:`parse_tts`, plus 400 for bad control flags.
    """
    context_id = body.get("context_id")
    if context_id is not None and not isinstance(context_id, str):
        raise bad_request("context_id must be a string")
    more = _flag(body, "continue")
    flush = _flag(body, "flush")
    delay = body.get("max_buffer_delay_ms")
    if delay is None:
        delay = DEFAULT_BUFFER_DELAY_MS
    if (
        isinstance(delay, bool)
        or not isinstance(delay, int)
        or not 0 <= delay <= MAX_BUFFER_DELAY_MS
    ):
        raise bad_request(f"max_buffer_delay_ms must be an integer between 0 and "
                          f"{MAX_BUFFER_DELAY_MS}; got {delay!r}")
    transcript = body.get("transcript", "")
    if not isinstance(transcript, str):
        raise bad_request("transcript must be a string")
    if not more and not transcript:
        return SocketInput(context_id, "", False, flush, delay, None)
    params = parse_tts(body, catalog, containers=("raw",), allow_empty=True)
    return SocketInput(context_id, transcript, more, flush, delay, params)
