"""``CartesiaClient``: the one async entry point to Cartesia's API (or the offline
engine, which speaks the same wire protocol on loopback)."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from functools import cached_property
from types import TracebackType
from typing import Self

import httpx

from studio.api._constants import (
    DEFAULT_BASE_URL,
    DEFAULT_CARTESIA_VERSION,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT_S,
)
from studio.api._http import HttpCore, auth_headers, json_body, make_timeout
from studio.api._retry import RetryPolicy
from studio.api._transport import Transport
from studio.api._ws_connect import WebSocketConnector, websocket_url
from studio.api.models import (
    STT_MODEL,
    OutputFormat,
    Transcription,
)
from studio.api.resources.api_status import ApiStatusResource
from studio.api.resources.pronunciation_dicts import PronunciationDictsResource
from studio.api.resources.tts import TTSResource
from studio.api.resources.voices import VoicesResource

log = logging.getLogger("studio.api")

_AUDIO_TYPES = {
    "wav": "audio/wav", "flac": "audio/flac", "mp3": "audio/mpeg", "ogg": "audio/ogg",
    "oga": "audio/ogg", "m4a": "audio/mp4", "mp4": "audio/mp4", "webm": "audio/webm",
}


def _audio_type(filename: str) -> str:
    """The MIME type of an uploaded audio file, from its extension."""
    extension = filename.rpartition(".")[2].lower()
    return _AUDIO_TYPES.get(extension, "application/octet-stream")


class CartesiaClient:
    """Async client for the endpoints the studio uses.

    Every request carries ``Authorization: Bearer <api_key>`` and
    ``Cartesia-Version`` (the WebSocket handshake too; the key is never put in a
    URL or a log). Requests are retried on 408/429/5xx and connection failures
    with jittered exponential backoff, honouring Retry-After (see
    :mod:`studio.api._retry`); streams are never retried once their body began.

    Errors (:mod:`studio.api.errors`): :class:`AuthenticationError` (401/403),
    :class:`NotFoundError` (404), :class:`BadRequestError` (400/409/413/415/422),
    :class:`RateLimitError` (429), :class:`ServerError` (5xx),
    :class:`APITimeoutError`, :class:`ConnectionLostError`,
    :class:`ResponseFormatError` (a body that does not match the seed).

    Args:
        api_key: Cartesia API key (or the offline engine's key).
        base_url: HTTP base, e.g. ``https://api.cartesia.ai`` or
            ``http://127.0.0.1:PORT``.
        websocket_base_url: WebSocket base; derived from ``base_url`` if None
            (``https`` -> ``wss``, ``http`` -> ``ws``).
        cartesia_version: the ``Cartesia-Version`` header value.
        timeout: seconds for read/write/pool (connect is capped at 10 s), or an
            ``httpx.Timeout`` for full control; the connect part also bounds the
            WebSocket handshake.
        max_retries: retries after the first attempt (0 disables).
        transport: an httpx transport (tests: ``httpx.MockTransport``).
        retry_policy: full retry settings; overrides ``max_retries`` if given.
        rng: jitter source in [0, 1) (tests make it deterministic).
    """

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        websocket_base_url: str | None = None,
        cartesia_version: str = DEFAULT_CARTESIA_VERSION,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT_S,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: httpx.AsyncBaseTransport | None = None,
        retry_policy: RetryPolicy | None = None,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if not api_key:
            raise ValueError("an API key is required")
        self.base_url = base_url.rstrip("/")
        self.websocket_url = websocket_url(self.base_url, websocket_base_url)
        self.cartesia_version = cartesia_version
        self.retry_policy = retry_policy or RetryPolicy(max_retries=max_retries)
        http_timeout = make_timeout(timeout)
        http = HttpCore(
            api_key=api_key,
            base_url=self.base_url,
            cartesia_version=cartesia_version,
            timeout=http_timeout,
            policy=self.retry_policy,
            transport=transport,
            rng=rng,
        )
        headers = auth_headers(api_key, cartesia_version)
        del headers["User-Agent"]  # websockets sets its own header from user_agent_header
        connector = WebSocketConnector(
            url=self.websocket_url,
            headers=headers,
            open_timeout=http_timeout.connect or DEFAULT_TIMEOUT_S,
            policy=self.retry_policy,
            rng=rng,
        )
        self._transport = Transport(http, connector)
        self._http = http

    def __repr__(self) -> str:
        return f"<CartesiaClient {self.base_url} version={self.cartesia_version}>"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the WebSocket (open contexts raise ConnectionLostError) and the
        HTTP connection pool."""
        await self._transport.aclose()

    # --- resources, one per API area, as the official SDK has them ------------------

    @cached_property
    def api_status(self) -> ApiStatusResource:
        """``client.api_status.get()``: whether the API is up."""
        return ApiStatusResource(self._transport)

    @cached_property
    def voices(self) -> VoicesResource:
        """``client.voices``: list, get, update, delete, clone and localize voices."""
        return VoicesResource(self._transport)

    @cached_property
    def tts(self) -> TTSResource:
        """``client.tts``: speech whole (``bytes``), over SSE (``sse``) or over the
        shared WebSocket (``websocket``)."""
        return TTSResource(self._transport)

    @cached_property
    def pronunciation_dicts(self) -> PronunciationDictsResource:
        """``client.pronunciation_dicts``: list, get, create, update, delete, pin and
        unpin the user's pronunciation dictionaries."""
        return PronunciationDictsResource(self._transport)

    async def fetch_bytes(self, url: str) -> bytes:
        """GET an absolute (or base-relative) URL and return its body, following
        redirects; e.g. a voice's ``preview_file_url``, which needs the
        Authorization header (seed ``Voice.preview_file_url``).

        The API key is only sent to the base URL's host or its sibling
        subdomains, never elsewhere.
        """
        response = await self._http.request("GET", url, follow_redirects=True)
        return response.content

    # --- infill and speech to text ---------------------------------------------------

    async def infill_bytes(
        self,
        *,
        transcript: str,
        voice_id: str,
        model_id: str,
        language: str,
        output_format: OutputFormat,
        left_audio: bytes | None = None,
        right_audio: bytes | None = None,
        left_filename: str = "left.wav",
        right_filename: str = "right.wav",
    ) -> bytes:
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
            and the errors of the class docstring.
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
        files: dict[str, tuple[str, bytes, str]] = {}
        if left_audio is not None:
            files["left_audio"] = (left_filename, left_audio, _audio_type(left_filename))
        if right_audio is not None:
            files["right_audio"] = (right_filename, right_audio, _audio_type(right_filename))
        response = await self._http.request("POST", "/infill/bytes", files=files, data=data)
        return response.content

    async def transcribe(
        self,
        audio: bytes,
        *,
        filename: str = "audio.wav",
        model: str = STT_MODEL,
        language: str | None = "en",
        word_timestamps: bool = True,
    ) -> Transcription:
        """``POST /stt`` (seed ``stt_transcribe``): the words spoken in ``audio``, a
        whole audio file (flac, mp3, ogg, wav... as the seed lists).

        Multipart fields as the v4 SDK sends them (``stt.transcribe``): the file
        ``file``, ``model``, ``language`` (omitted when None) and
        ``timestamp_granularities[]=word`` when ``word_timestamps``. Costs 1 credit per
        2 seconds of audio on Cartesia.

        Raises:
            ValueError: ``audio`` is empty (nothing is sent).
            ResponseFormatError: the body is not a ``TranscriptionResponse``.
            and the errors of the class docstring.
        """
        if not audio:
            raise ValueError("there is no audio to transcribe")
        data: dict[str, str | list[str]] = {"model": model}
        if language is not None:
            data["language"] = language
        if word_timestamps:
            data["timestamp_granularities[]"] = ["word"]
        files = {"file": (filename, audio, _audio_type(filename))}
        response = await self._http.request("POST", "/stt", files=files, data=data)
        return Transcription.from_json(json_body(response, "POST /stt"))
