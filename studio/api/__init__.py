"""Qt-free async client for Cartesia's API (and the offline engine on loopback).

Public surface: :class:`CartesiaClient` and its resources, one per API area as in
the official SDK (``client.voices.list()``, ``client.tts.bytes(...)``,
``client.tts.websocket()`` for the shared :class:`TTSWebSocket` and its
:class:`TTSContext` streams; see :mod:`studio.api.resources`), the typed models of
:mod:`studio.api.models` and the exception tree of :mod:`studio.api.errors`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from studio.api._constants import DEFAULT_BASE_URL, DEFAULT_CARTESIA_VERSION
from studio.api._deadlines import Deadlines
from studio.api.errors import (
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CartesiaError,
    ConnectionLostError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitError,
    ResponseFormatError,
    ServerError,
    status_error,
)
from studio.api.models import (
    CONTAINERS,
    DEFAULT_MODEL,
    EMOTIONS,
    ENCODINGS,
    GENDERS,
    INFILL_BASE_CREDITS,
    LANGUAGES,
    LOCALIZE_DIALECTS,
    LOCALIZE_LANGUAGES,
    MODELS,
    MP3_BIT_RATES,
    SAMPLE_RATES,
    SPEAKER_GENDERS,
    SPEED_RANGE,
    STT_MODEL,
    VOLUME_RANGE,
    ApiStatus,
    ChunkEvent,
    Container,
    DoneEvent,
    Encoding,
    ErrorEvent,
    FlushDoneEvent,
    GenerationConfig,
    OutputFormat,
    PhonemeTimestampsEvent,
    StreamEvent,
    TimestampsEvent,
    Transcription,
    TTSRequest,
    Voice,
    VoicePage,
    infill_credits,
)
from studio.timestamps import PhonemeTimestamps, WordTimestamps

if TYPE_CHECKING:
    from studio.api._context import TTSContext
    from studio.api._retry import RetryPolicy
    from studio.api.client import CartesiaClient
    from studio.api.sse import SSEStream
    from studio.api.websocket import TTSWebSocket

#: The client and its streams, imported on first use (PEP 562): they bring httpx and
#: websockets, which the models, the errors and everything that only names a voice do
#: not need (the studio's window is up before the client connects).
_TRANSPORT = {
    "CartesiaClient": "studio.api.client",
    "RetryPolicy": "studio.api._retry",
    "SSEStream": "studio.api.sse",
    "TTSContext": "studio.api._context",
    "TTSWebSocket": "studio.api.websocket",
}


def __getattr__(name: str) -> Any:
    module = _TRANSPORT.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value

__all__ = [
    "CONTAINERS",
    "DEFAULT_BASE_URL",
    "DEFAULT_CARTESIA_VERSION",
    "DEFAULT_MODEL",
    "EMOTIONS",
    "ENCODINGS",
    "GENDERS",
    "INFILL_BASE_CREDITS",
    "LANGUAGES",
    "LOCALIZE_DIALECTS",
    "LOCALIZE_LANGUAGES",
    "MODELS",
    "MP3_BIT_RATES",
    "SAMPLE_RATES",
    "SPEAKER_GENDERS",
    "SPEED_RANGE",
    "STT_MODEL",
    "VOLUME_RANGE",
    "APIStatusError",
    "APITimeoutError",
    "ApiStatus",
    "AuthenticationError",
    "BadRequestError",
    "CartesiaClient",
    "CartesiaError",
    "ChunkEvent",
    "ConnectionLostError",
    "Container",
    "Deadlines",
    "DoneEvent",
    "Encoding",
    "ErrorEvent",
    "FlushDoneEvent",
    "GenerationConfig",
    "NotFoundError",
    "OutcomeUnknownError",
    "OutputFormat",
    "PhonemeTimestamps",
    "PhonemeTimestampsEvent",
    "RateLimitError",
    "ResponseFormatError",
    "RetryPolicy",
    "SSEStream",
    "ServerError",
    "StreamEvent",
    "TTSContext",
    "TTSRequest",
    "TTSWebSocket",
    "TimestampsEvent",
    "Transcription",
    "Voice",
    "VoicePage",
    "WordTimestamps",
    "infill_credits",
    "status_error",
]
