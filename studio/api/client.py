"""``CartesiaClient``: the one async entry point to Cartesia's API (or the offline
engine, which speaks the same wire protocol on loopback), its endpoints grouped into
the resources of :mod:`studio.api.resources`."""

from __future__ import annotations

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
from studio.api._deadlines import Deadlines
from studio.api._http import HttpCore, auth_headers, make_timeout
from studio.api._retry import RetryPolicy
from studio.api._transport import Transport
from studio.api._ws_connect import WebSocketConnector, websocket_url
from studio.api.resources.api_status import ApiStatusResource
from studio.api.resources.datasets import DatasetsResource
from studio.api.resources.fine_tunes import FineTunesResource
from studio.api.resources.infill import InfillResource
from studio.api.resources.pronunciation_dicts import PronunciationDictsResource
from studio.api.resources.stt import STTResource
from studio.api.resources.tts import TTSResource
from studio.api.resources.voice_changer import VoiceChangerResource
from studio.api.resources.voices import VoicesResource


class CartesiaClient:
    """Async client for the endpoints the studio uses, grouped into resources as the
    official SDK groups them: ``client.tts.bytes(...)``, ``client.voices.list()``.

    Resources (:mod:`studio.api.resources`), each built on first use:

    - ``tts``: ``bytes``, ``sse``, ``websocket`` (:class:`TTSResource`)
    - ``voices``: ``list``, ``get``, ``update``, ``delete``, ``clone``, ``localize``
      (:class:`VoicesResource`)
    - ``infill``: ``bytes`` (:class:`InfillResource`)
    - ``stt``: ``transcribe`` (:class:`STTResource`)
    - ``voice_changer``: ``bytes``, ``sse`` (:class:`VoiceChangerResource`)
    - ``pronunciation_dicts``: ``list``, ``get``, ``create``, ``update``, ``delete``,
      ``pin``, ``unpin`` (:class:`PronunciationDictsResource`)
    - ``api_status``: ``get`` (:class:`ApiStatusResource`)

    They share one transport: an HTTP connection pool and one TTS WebSocket, both
    closed by :meth:`aclose` (or leaving ``async with``).

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
        deadlines: how long to wait for a server that answers but does not progress
            (a WebSocket context's inactivity and overall deadline, an HTTP request's
            whole-request deadline, how long a failed WebSocket open is remembered);
            :class:`~studio.api.Deadlines` defaults if None. Each ends in
            :class:`APITimeoutError` (or the remembered connection error).
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
        deadlines: Deadlines | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("an API key is required")
        self.base_url = base_url.rstrip("/")
        self.websocket_url = websocket_url(self.base_url, websocket_base_url)
        self.cartesia_version = cartesia_version
        self.retry_policy = retry_policy or RetryPolicy(max_retries=max_retries)
        self.deadlines = deadlines or Deadlines()
        http_timeout = make_timeout(timeout)
        http = HttpCore(
            api_key=api_key,
            base_url=self.base_url,
            cartesia_version=cartesia_version,
            timeout=http_timeout,
            policy=self.retry_policy,
            transport=transport,
            rng=rng,
            deadline=self.deadlines.http_request,
            min_bytes_per_s=self.deadlines.http_min_bytes_per_s,
            progress_grace=self.deadlines.http_progress_grace,
        )
        headers = auth_headers(api_key, cartesia_version)
        del headers["User-Agent"]  # websockets sets its own header from user_agent_header
        connector = WebSocketConnector(
            url=self.websocket_url,
            headers=headers,
            open_timeout=http_timeout.connect or DEFAULT_TIMEOUT_S,
            policy=self.retry_policy,
            rng=rng,
            failure_memory=self.deadlines.connect_failure_memory,
        )
        self._transport = Transport(http, connector, self.deadlines)

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

    # --- resources, one per API area, named as the official SDK names them ---------

    @cached_property
    def tts(self) -> TTSResource:
        """``client.tts``: speech whole (``bytes``), over SSE (``sse``) or over the
        shared WebSocket (``websocket``)."""
        return TTSResource(self._transport)

    @cached_property
    def voices(self) -> VoicesResource:
        """``client.voices``: list, get, update, delete, clone and localize voices."""
        return VoicesResource(self._transport)

    @cached_property
    def infill(self) -> InfillResource:
        """``client.infill.bytes``: speech that joins two pieces of audio."""
        return InfillResource(self._transport)

    @cached_property
    def stt(self) -> STTResource:
        """``client.stt.transcribe``: the words spoken in an audio file."""
        return STTResource(self._transport)

    @cached_property
    def voice_changer(self) -> VoiceChangerResource:
        """``client.voice_changer.bytes``/``.sse``: speech re-spoken in another voice."""
        return VoiceChangerResource(self._transport)

    @cached_property
    def pronunciation_dicts(self) -> PronunciationDictsResource:
        """``client.pronunciation_dicts``: list, get, create, update, delete, pin and
        unpin the user's pronunciation dictionaries."""
        return PronunciationDictsResource(self._transport)

    @cached_property
    def datasets(self) -> DatasetsResource:
        """``client.datasets``: list, get, create, update and delete datasets, and list,
        upload and delete their files (training data for fine-tunes)."""
        return DatasetsResource(self._transport)

    @cached_property
    def fine_tunes(self) -> FineTunesResource:
        """``client.fine_tunes``: list, get, create and delete fine-tunes (professional
        voice clones), and list the voices each made."""
        return FineTunesResource(self._transport)

    @cached_property
    def api_status(self) -> ApiStatusResource:
        """``client.api_status.get()``: whether the API is up."""
        return ApiStatusResource(self._transport)

    # --- beyond the SDK -------------------------------------------------------------

    async def fetch_bytes(self, url: str) -> bytes:
        """GET an absolute (or base-relative) URL and return its body, following
        redirects; e.g. a voice's ``preview_file_url``, which needs the
        Authorization header (seed ``Voice.preview_file_url``).

        The API key is only sent to the base URL's host or its sibling
        subdomains, never elsewhere.
        """
        response = await self._transport.http.request("GET", url, follow_redirects=True)
        return response.content
