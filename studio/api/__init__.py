"""Qt-free async client for Cartesia's API (and the offline engine on loopback).

Public surface: :class:`CartesiaClient` (HTTP endpoints, ``/tts/sse``, and the
shared :class:`TTSWebSocket` with its :class:`TTSContext` streams), the typed
models of :mod:`studio.api.models` and the exception tree of
:mod:`studio.api.errors`.
"""

from studio.api._constants import DEFAULT_BASE_URL, DEFAULT_CARTESIA_VERSION
from studio.api._context import TTSContext
from studio.api._retry import RetryPolicy
from studio.api.client import GENDERS, CartesiaClient
from studio.api.errors import (
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CartesiaError,
    ConnectionLostError,
    NotFoundError,
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
    LANGUAGES,
    MODELS,
    MP3_BIT_RATES,
    SAMPLE_RATES,
    SPEED_RANGE,
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
    PhonemeTimestamps,
    PhonemeTimestampsEvent,
    StreamEvent,
    TimestampsEvent,
    TTSRequest,
    Voice,
    VoicePage,
    WordTimestamps,
)
from studio.api.sse import SSEStream
from studio.api.websocket import TTSWebSocket

__all__ = [
    "CONTAINERS",
    "DEFAULT_BASE_URL",
    "DEFAULT_CARTESIA_VERSION",
    "DEFAULT_MODEL",
    "EMOTIONS",
    "ENCODINGS",
    "GENDERS",
    "LANGUAGES",
    "MODELS",
    "MP3_BIT_RATES",
    "SAMPLE_RATES",
    "SPEED_RANGE",
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
    "DoneEvent",
    "Encoding",
    "ErrorEvent",
    "FlushDoneEvent",
    "GenerationConfig",
    "NotFoundError",
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
    "Voice",
    "VoicePage",
    "WordTimestamps",
    "status_error",
]
