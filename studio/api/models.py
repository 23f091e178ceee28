"""Typed value objects for the Cartesia API, parsed once at the edge.

Shapes follow ``cartesia-openapi.yaml`` (components/schemas: ``Voice``,
``GetVoicesResponse``, ``APIInfo``, ``GenerationConfig``, ``OutputFormat``,
``TTSRequest``, ``GenerationRequest``, ``WordTimestamps``, ``PhonemeTimestamps``,
``WebSocketResponse``, ``TranscriptionResponse``, ``VoiceMetadata``,
``PronunciationDict``, ``PronunciationDictItem``, ``PaginatedPronunciationDicts``, and the
enums of ``LocalizeVoiceRequest``). Everything here is Qt-free and immutable; ``from_json``
class methods raise :class:`studio.api.errors.ResponseFormatError` on bodies
that do not match the contract, ``to_json`` methods return plain dicts ready for
``json.dumps``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from studio.api.errors import ResponseFormatError
from studio.timestamps import PhonemeTimestamps, WordTimestamps

Container = Literal["raw", "wav", "mp3"]
Encoding = Literal["pcm_f32le", "pcm_s16le", "pcm_mulaw", "pcm_alaw"]

CONTAINERS: tuple[str, ...] = ("raw", "wav", "mp3")
ENCODINGS: tuple[str, ...] = ("pcm_f32le", "pcm_s16le", "pcm_mulaw", "pcm_alaw")
SAMPLE_RATES: tuple[int, ...] = (8000, 16000, 22050, 24000, 44100, 48000)
MP3_BIT_RATES: tuple[int, ...] = (32000, 64000, 96000, 128000, 192000)

#: Model ids Cartesia documents today (``TTSModel`` in the v4 Python SDK).
MODELS: tuple[str, ...] = (
    "sonic-3",
    "sonic-3.5",
    "sonic-latest",
    "sonic-3-2025-10-27",
    "sonic-3-2026-01-12",
    "sonic-3.5-2026-05-04",
    "sonic-2",
    "sonic-turbo",
)
DEFAULT_MODEL = "sonic-3"

_SONIC_GENERATION = re.compile(r"^sonic-(\d+)")


def supports_pronunciation_dicts(model_id: str) -> bool:
    """Whether ``model_id`` applies pronunciation dictionaries: "sonic-3 models and
    newer" (seed, ``GenerationRequest.pronunciation_dict_id``), so ``sonic-3*``,
    ``sonic-3.5*``, later generations and ``sonic-latest``; not ``sonic-2`` or
    ``sonic-turbo``."""
    if model_id == "sonic-latest":
        return True
    generation = _SONIC_GENERATION.match(model_id)
    return generation is not None and int(generation.group(1)) >= 3

#: ``Emotion`` enum of the seed, in its order; ``neutral`` first.
EMOTIONS: tuple[str, ...] = (
    "neutral", "happy", "excited", "enthusiastic", "elated", "euphoric", "triumphant",
    "amazed", "surprised", "flirtatious", "curious", "content", "peaceful", "serene",
    "calm", "grateful", "affectionate", "trust", "sympathetic", "anticipation",
    "mysterious", "angry", "mad", "outraged", "frustrated", "agitated", "threatened",
    "disgusted", "contempt", "envious", "sarcastic", "ironic", "sad", "dejected",
    "melancholic", "disappointed", "hurt", "guilty", "bored", "tired", "rejected",
    "nostalgic", "wistful", "apologetic", "hesitant", "insecure", "confused", "resigned",
    "anxious", "panicked", "alarmed", "scared", "proud", "confident", "distant",
    "skeptical", "contemplative", "determined",
)

#: ``SupportedLanguage`` enum of the seed.
LANGUAGES: tuple[str, ...] = (
    "en", "fr", "de", "es", "pt", "zh", "ja", "hi", "it", "ko", "nl", "pl", "ru", "sv",
    "tr", "tl", "bg", "ro", "ar", "cs", "el", "fi", "hr", "ms", "sk", "da", "ta", "uk",
    "hu", "no", "vi", "bn", "th", "he", "ka", "id", "te", "gu", "kn", "ml", "mr", "pa",
)

#: ``LocalizeTargetLanguage`` enum of the seed (``POST /voices/localize``).
LOCALIZE_LANGUAGES: tuple[str, ...] = (
    "en", "de", "es", "fr", "ja", "pt", "zh", "hi", "it", "ko", "nl", "pl", "ru", "sv", "tr",
)
#: ``LocalizeDialect`` of the seed: language -> its dialects (``LocalizeEnglishDialect``,
#: ``LocalizeSpanishDialect``, ``LocalizePortugueseDialect``, ``LocalizeFrenchDialect``);
#: the other localize languages take no dialect.
LOCALIZE_DIALECTS: dict[str, tuple[str, ...]] = {
    "en": ("au", "in", "so", "uk", "us"),
    "es": ("mx", "pe"),
    "pt": ("br", "eu"),
    "fr": ("eu", "ca"),
}
#: ``GenderPresentation`` enum of the seed (a voice's ``gender``, the ``gender`` filter).
GENDERS: tuple[str, ...] = ("masculine", "feminine", "gender_neutral")
#: ``Gender`` enum of the seed (``original_speaker_gender`` of a localize request).
SPEAKER_GENDERS: tuple[str, ...] = ("male", "female")

SPEED_RANGE = (0.6, 1.5)
VOLUME_RANGE = (0.5, 2.0)

#: Fixed part of an infill's price in credits (seed ``infill_bytes``: "1 credit per
#: character of the infill text plus a fixed cost of 300 credits").
INFILL_BASE_CREDITS = 300

#: Cartesia's batch speech-to-text model (seed ``stt_transcribe``: ``model``).
STT_MODEL = "ink-whisper"


def infill_credits(transcript: str) -> int:
    """Credits ``POST /infill/bytes`` costs on Cartesia: 300 plus one per character of
    ``transcript`` (seed ``infill_bytes``)."""
    return INFILL_BASE_CREDITS + len(transcript)


def _require(obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(obj, Mapping) or key not in obj:
        raise ResponseFormatError(f"{where}: missing field {key!r}")
    value = obj[key]
    if not isinstance(value, kind):
        raise ResponseFormatError(f"{where}: field {key!r} has type {type(value).__name__}")
    return value


@dataclass(frozen=True, slots=True)
class ApiStatus:
    """``GET /`` (``APIInfo``): whether the API is up and its version string."""

    ok: bool
    version: str

    @classmethod
    def from_json(cls, body: Any) -> ApiStatus:
        return cls(
            ok=bool(_require(body, "ok", bool, "APIInfo")),
            version=str(_require(body, "version", str, "APIInfo")),
        )


@dataclass(frozen=True, slots=True)
class Voice:
    """A voice from ``GET /voices`` or ``GET /voices/{id}`` (schema ``Voice``).

    ``preview_file_url`` is only present when requested with
    ``expand[]=preview_file_url``; fetching it needs the Authorization header.
    """

    id: str
    name: str
    description: str
    language: str
    is_owner: bool = False
    is_public: bool = True
    gender: str | None = None
    created_at: str = ""
    preview_file_url: str | None = None

    @classmethod
    def from_json(cls, body: Any) -> Voice:
        where = "Voice"
        return cls(
            id=_require(body, "id", str, where),
            name=_require(body, "name", str, where),
            description=str(body.get("description") or ""),
            language=str(body.get("language") or ""),
            is_owner=bool(body.get("is_owner", False)),
            is_public=bool(body.get("is_public", True)),
            gender=body.get("gender"),
            created_at=str(body.get("created_at") or ""),
            preview_file_url=body.get("preview_file_url"),
        )


@dataclass(frozen=True, slots=True)
class VoicePage:
    """One page of ``GET /voices`` (``GetVoicesResponse``)."""

    data: tuple[Voice, ...]
    has_more: bool
    next_page: str | None = None

    @classmethod
    def from_json(cls, body: Any) -> VoicePage:
        items = _require(body, "data", list, "GetVoicesResponse")
        return cls(
            data=tuple(Voice.from_json(v) for v in items),
            has_more=bool(_require(body, "has_more", bool, "GetVoicesResponse")),
            next_page=body.get("next_page"),
        )


@dataclass(frozen=True, slots=True)
class PronunciationItem:
    """One entry of a pronunciation dictionary (schema ``PronunciationDictItem``):
    ``text`` is said as ``alias``, a sounds-like respelling or IPA in Cartesia's form
    (``<<`` phonemes separated by ``|`` ``>>``)."""

    text: str
    alias: str

    @classmethod
    def from_json(cls, body: Any) -> PronunciationItem:
        where = "PronunciationDictItem"
        return cls(text=_require(body, "text", str, where),
                   alias=_require(body, "alias", str, where))

    def to_json(self) -> dict[str, str]:
        return {"text": self.text, "alias": self.alias}


@dataclass(frozen=True, slots=True)
class PronunciationDict:
    """A pronunciation dictionary (schema ``PronunciationDict``); ``created_at`` is the
    ISO 8601 string as sent, ``pinned`` whether it is the user's pinned dictionary."""

    id: str
    name: str
    items: tuple[PronunciationItem, ...]
    pinned: bool
    owner_id: str
    created_at: str

    @classmethod
    def from_json(cls, body: Any) -> PronunciationDict:
        where = "PronunciationDict"
        return cls(
            id=_require(body, "id", str, where),
            name=_require(body, "name", str, where),
            items=tuple(PronunciationItem.from_json(i)
                        for i in _require(body, "items", list, where)),
            pinned=_require(body, "pinned", bool, where),
            owner_id=_require(body, "owner_id", str, where),
            created_at=_require(body, "created_at", str, where),
        )


@dataclass(frozen=True, slots=True)
class PronunciationDictPage:
    """One page of ``GET /pronunciation-dicts/`` (``PaginatedPronunciationDicts``)."""

    data: tuple[PronunciationDict, ...]
    has_more: bool

    @classmethod
    def from_json(cls, body: Any) -> PronunciationDictPage:
        where = "PaginatedPronunciationDicts"
        return cls(
            data=tuple(PronunciationDict.from_json(d) for d in _require(body, "data", list, where)),
            has_more=_require(body, "has_more", bool, where),
        )


@dataclass(frozen=True, slots=True)
class OutputFormat:
    """``OutputFormat`` of the seed: container, encoding and sample rate in Hz.

    ``bit_rate`` (bits/s) applies to ``mp3`` only; ``encoding`` is ignored for mp3.
    """

    container: Container = "raw"
    encoding: Encoding = "pcm_f32le"
    sample_rate: int = 44100
    bit_rate: int = 128000

    def to_json(self) -> dict[str, Any]:
        if self.container == "mp3":
            return {"container": "mp3", "sample_rate": self.sample_rate, "bit_rate": self.bit_rate}
        return {
            "container": self.container,
            "encoding": self.encoding,
            "sample_rate": self.sample_rate,
        }


@dataclass(frozen=True, slots=True)
class GenerationConfig:
    """``GenerationConfig`` of the seed (sonic-3 and newer).

    ``speed`` is a ratio in [0.6, 1.5], ``volume`` a linear gain ratio in [0.5, 2.0],
    ``emotion`` one of :data:`EMOTIONS` or ``None`` for the voice's default.
    """

    speed: float = 1.0
    volume: float = 1.0
    emotion: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"speed": self.speed, "volume": self.volume}
        if self.emotion:
            out["emotion"] = self.emotion
        return out


@dataclass(frozen=True, slots=True)
class TTSRequest:
    """What to synthesise: the body shared by ``/tts/bytes``, ``/tts/sse`` and the
    WebSocket's ``GenerationRequest`` (the endpoint-specific flags are passed to
    the client methods, not stored here).
    """

    transcript: str
    voice_id: str
    model_id: str = DEFAULT_MODEL
    language: str | None = "en"
    generation_config: GenerationConfig = field(default_factory=GenerationConfig)
    output_format: OutputFormat = field(default_factory=OutputFormat)
    pronunciation_dict_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "model_id": self.model_id,
            "transcript": self.transcript,
            "voice": {"mode": "id", "id": self.voice_id},
            "output_format": self.output_format.to_json(),
            "generation_config": self.generation_config.to_json(),
        }
        if self.language:
            out["language"] = self.language
        if self.pronunciation_dict_id:
            out["pronunciation_dict_id"] = self.pronunciation_dict_id
        return out


def word_timestamps_from_json(body: Any) -> WordTimestamps:
    """A ``WordTimestamps`` object of the stream (seed schema ``WordTimestamps``).

    Raises:
        ResponseFormatError: the lists are missing, differ in length, or hold a time
            that is not a number.
    """
    try:
        return WordTimestamps.from_json(body)
    except (ValueError, TypeError) as exc:
        raise ResponseFormatError(str(exc)) from exc


def phoneme_timestamps_from_json(body: Any) -> PhonemeTimestamps:
    """A ``PhonemeTimestamps`` object of the stream (seed schema ``PhonemeTimestamps``).

    Raises:
        ResponseFormatError: as :func:`word_timestamps_from_json`.
    """
    try:
        return PhonemeTimestamps.from_json(body)
    except (ValueError, TypeError) as exc:
        raise ResponseFormatError(str(exc)) from exc


@dataclass(frozen=True, slots=True)
class Transcription:
    """``POST /stt`` (``TranscriptionResponse``): the transcribed ``text``, the
    ``language`` (ISO 639-1) and ``duration`` of the audio in seconds when the server
    gives them, and ``words`` with start/end in seconds (empty unless word timestamps
    were asked for with ``timestamp_granularities[]=word``)."""

    text: str
    language: str | None = None
    duration: float | None = None
    words: WordTimestamps = field(default_factory=WordTimestamps)

    @classmethod
    def from_json(cls, body: Any) -> Transcription:
        where = "TranscriptionResponse"
        text = _require(body, "text", str, where)
        language = body.get("language")
        if language is not None and not isinstance(language, str):
            raise ResponseFormatError(f"{where}: field 'language' has type "
                                      f"{type(language).__name__}")
        duration = body.get("duration")
        if duration is not None and (isinstance(duration, bool)
                                     or not isinstance(duration, (int, float))):
            raise ResponseFormatError(f"{where}: field 'duration' has type "
                                      f"{type(duration).__name__}")
        items = body.get("words")
        if items is None:
            items = []
        if not isinstance(items, list):
            raise ResponseFormatError(f"{where}: field 'words' has type {type(items).__name__}")
        words: list[str] = []
        start: list[float] = []
        end: list[float] = []
        for item in items:
            words.append(_require(item, "word", str, "TranscriptionWord"))
            for key, out in (("start", start), ("end", end)):
                value = _require(item, key, (int, float), "TranscriptionWord")
                if isinstance(value, bool):
                    raise ResponseFormatError(f"TranscriptionWord: field {key!r} has type bool")
                out.append(float(value))
        return cls(
            text=text,
            language=language,
            duration=None if duration is None else float(duration),
            words=WordTimestamps(tuple(words), tuple(start), tuple(end)),
        )


# --- Streaming events (``WebSocketResponse`` / SSE ``StreamingResponse``) -----------


@dataclass(frozen=True, slots=True)
class ChunkEvent:
    """``type: chunk``: ``audio`` is the decoded (base64) payload in the request's
    output encoding; ``step_time`` in milliseconds."""

    context_id: str | None
    audio: bytes
    step_time: float = 0.0
    flush_id: int | None = None
    type: Literal["chunk"] = "chunk"


@dataclass(frozen=True, slots=True)
class TimestampsEvent:
    """``type: timestamps``: word timestamps for audio already or soon sent."""

    context_id: str | None
    word_timestamps: WordTimestamps
    flush_id: int | None = None
    type: Literal["timestamps"] = "timestamps"


@dataclass(frozen=True, slots=True)
class PhonemeTimestampsEvent:
    """``type: phoneme_timestamps``."""

    context_id: str | None
    phoneme_timestamps: PhonemeTimestamps
    flush_id: int | None = None
    type: Literal["phoneme_timestamps"] = "phoneme_timestamps"


@dataclass(frozen=True, slots=True)
class FlushDoneEvent:
    """``type: flush_done``: every input sent before flush ``flush_id`` is rendered."""

    context_id: str | None
    flush_id: int
    type: Literal["flush_done"] = "flush_done"


@dataclass(frozen=True, slots=True)
class DoneEvent:
    """``type: done``: the context is finished; no more events follow for it."""

    context_id: str | None
    type: Literal["done"] = "done"


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """``type: error``: the server rejected or failed the context (``done`` is true)."""

    context_id: str | None
    error: str
    status_code: int = 500
    type: Literal["error"] = "error"


StreamEvent: TypeAlias = (
    ChunkEvent | TimestampsEvent | PhonemeTimestampsEvent | FlushDoneEvent | DoneEvent | ErrorEvent
)
