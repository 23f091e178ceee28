"""Opening the TTS WebSocket: URL, auth headers, handshake retries, error mapping."""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidHandshake, InvalidStatus, WebSocketException

from studio.api._constants import (
    TTS_WEBSOCKET_PATH,
    USER_AGENT,
    WS_CLOSE_TIMEOUT_S,
    WS_MAX_MESSAGE_BYTES,
    WS_PING_INTERVAL_S,
    WS_PING_TIMEOUT_S,
)
from studio.api._http import is_loopback_host, transport_error
from studio.api._retry import RetryPolicy, is_retryable_status, parse_retry_after, retry_wait
from studio.api._status import response_error
from studio.api.errors import CartesiaError, ConnectionLostError

log = logging.getLogger("studio.api")


_BEARER = re.compile(r"(?i)(bearer\s+)\S+")


class RedactingLogger(logging.LoggerAdapter[logging.Logger]):
    """websockets logs every handshake header at DEBUG, Authorization included;
    this adapter masks bearer tokens in the arguments before they are formatted."""

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        if self.isEnabledFor(level):
            clean = tuple(
                _BEARER.sub(r"\1***", arg) if isinstance(arg, str) else arg for arg in args
            )
            self.logger.log(level, msg, *clean, **kwargs)


_WS_LOG = RedactingLogger(logging.getLogger("websockets.client"), {})


def websocket_url(base_url: str, websocket_base_url: str | None) -> str:
    """The ``/tts/websocket`` URL.

    ``websocket_base_url`` if given, else ``base_url`` with ``https`` -> ``wss``
    and ``http`` -> ``ws`` (as the v4 SDK derives it in ``lib/_tts.py``); any path
    prefix of the base is kept. The API key never goes into the URL.
    """
    if websocket_base_url is not None:
        base = httpx.URL(websocket_base_url)
    else:
        http_base = httpx.URL(base_url)
        base = http_base.copy_with(scheme="ws" if http_base.scheme == "http" else "wss")
    if base.scheme not in ("ws", "wss"):
        raise ValueError(f"WebSocket base URL must be ws:// or wss://, got {base}")
    return str(base.copy_with(raw_path=base.raw_path.rstrip(b"/") + TTS_WEBSOCKET_PATH.encode()))


@dataclass(slots=True)
class WebSocketConnector:
    """Opens one TTS WebSocket connection per call, retrying the handshake.

    A refused handshake is mapped like an HTTP response (401 ->
    :class:`AuthenticationError`, 429 -> :class:`RateLimitError`, ...) and retried
    on 408/429/5xx; refused or timed-out connects are retried too. Compression is
    off: base64 PCM barely compresses and deflate costs latency per message.

    A connection that cannot be opened once the retries are spent (refused, timed
    out, not a WebSocket) is remembered for ``failure_memory`` seconds: calls in
    that window raise the same error at once, so the blocks queued behind a dead
    endpoint fail together in one connection failure's time instead of one each.

    Attributes:
        url: the full ``ws(s)://.../tts/websocket`` URL.
        headers: ``Authorization`` and ``Cartesia-Version``.
        open_timeout: seconds for TCP + TLS + handshake.
        failure_memory: seconds a failed open is remembered (0: never).
    """

    url: str
    headers: dict[str, str] = field(repr=False)
    open_timeout: float
    policy: RetryPolicy
    rng: Callable[[], float] = random.random
    failure_memory: float = 0.0
    clock: Callable[[], float] = time.monotonic
    _failed: tuple[float, ConnectionLostError] | None = field(
        default=None, init=False, repr=False)

    async def __call__(self) -> ClientConnection:
        """A new open connection.

        Raises:
            APIStatusError: (a subclass of) the handshake was refused.
            APITimeoutError, ConnectionLostError: it could not be opened.
        """
        host = httpx.URL(self.url).host
        if self._failed is not None:
            when, failure = self._failed
            ago = self.clock() - when
            if ago < self.failure_memory:
                raise type(failure)(
                    f"{failure} ({ago:.1f} s ago; not retried for "
                    f"{self.failure_memory:g} s)")
            self._failed = None
        try:
            connection = await self._open(host)
        except ConnectionLostError as exc:
            self._failed = (self.clock(), exc)
            raise
        self._failed = None
        return connection

    async def _open(self, host: str) -> ClientConnection:
        attempt = 0
        while True:
            retry_after: float | None = None
            error: CartesiaError
            cause: BaseException | None = None
            try:
                return await connect(
                    self.url,
                    additional_headers=self.headers,
                    user_agent_header=USER_AGENT,
                    compression=None,
                    open_timeout=self.open_timeout,
                    ping_interval=WS_PING_INTERVAL_S,
                    ping_timeout=WS_PING_TIMEOUT_S,
                    close_timeout=WS_CLOSE_TIMEOUT_S,
                    max_size=WS_MAX_MESSAGE_BYTES,
                    logger=_WS_LOG,
                    # Proxy settings from the environment must never capture loopback traffic.
                    proxy=None if is_loopback_host(host) else True,
                )
            except InvalidStatus as exc:
                response = exc.response
                error = response_error(
                    response.status_code, response.headers, bytes(response.body or b""),
                    response.reason_phrase,
                )
                if not is_retryable_status(response.status_code):
                    raise error from None
                retry_after = parse_retry_after(response.headers)
            except (OSError, TimeoutError, InvalidHandshake, WebSocketException) as exc:
                error = transport_error(exc, f"WebSocket connect to {host}")
                cause = exc
            wait = retry_wait(self.policy, attempt, retry_after, rng=self.rng)
            if wait is None:
                raise error from cause
            log.warning(
                "WebSocket connect failed (%s); retry %d/%d in %.2f s",
                error, attempt + 1, self.policy.max_retries, wait,
            )
            await asyncio.sleep(wait)
            attempt += 1
