"""The TTS WebSocket (seed: ``tts-websocket.txt``, ``WebSocketRequest`` /
``WebSocketResponse``): one connection, many concurrent contexts.

One reader task per connection receives every message, parses it into a typed
:data:`StreamEvent` and puts it on the queue of the :class:`TTSContext` named by
its ``context_id``; messages for unknown, finished or cancelled contexts are
discarded. When the connection drops, every context open on it raises
:class:`ConnectionLostError`; the next :meth:`TTSWebSocket.generate` (or first
send of a new context) reconnects.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from types import TracebackType
from typing import Any, Self

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from studio.api._context import TTSContext
from studio.api._deadlines import Deadlines
from studio.api._events import parse_stream_event
from studio.api.errors import APITimeoutError, ConnectionLostError, ResponseFormatError
from studio.api.models import DoneEvent, ErrorEvent, TTSRequest

log = logging.getLogger("studio.api")

Connector = Callable[[], Awaitable[ClientConnection]]


class TTSWebSocket:
    """A shared connection to ``/tts/websocket`` that multiplexes contexts.

    Obtain it from :meth:`CartesiaClient.websocket`. The connection is opened
    lazily and reopened by the next send after it dropped; :meth:`close` ends it
    for good (``closed`` becomes True; the client then hands out a new one).
    Also an async context manager that closes on exit.

    Attributes:
        deadlines: how long its contexts wait for a stalled server (see
            :class:`TTSContext`).
    """

    def __init__(self, connector: Connector, deadlines: Deadlines | None = None) -> None:
        self._connector = connector
        self.deadlines = deadlines or Deadlines()
        self._conn: ClientConnection | None = None
        self._epoch = 0
        self._contexts: dict[str, TTSContext] = {}
        self._connect_lock = asyncio.Lock()
        self._closed = False
        self._background: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop that connected

    @property
    def closed(self) -> bool:
        """True after :meth:`close`; a merely dropped connection is not closed."""
        return self._closed

    @property
    def connected(self) -> bool:
        """True while a connection is open (False before the first use and after a drop)."""
        return self._conn is not None

    @property
    def open_contexts(self) -> int:
        """How many contexts are waiting for events on the current connection."""
        return len(self._contexts)

    async def connect(self) -> None:
        """Open the connection unless it is open (reconnects after a drop).

        Raises:
            ConnectionLostError: after :meth:`close`, or the connection failed.
            APIStatusError: (a subclass of) the handshake was refused.
        """
        conn = self._conn
        if conn is not None:
            if conn.state is State.OPEN:
                return
            # Closed under us and the reader has not run yet: forget it now so
            # this call reconnects instead of failing the caller's first send.
            self._on_drop(conn, self._epoch, ConnectionLostError,
                          "the TTS WebSocket connection closed")
        if self._closed:
            raise ConnectionLostError("this TTS WebSocket was closed")
        self._loop = asyncio.get_running_loop()
        async with self._connect_lock:
            if self._conn is not None:
                return
            conn = await self._connector()
            if self._closed:
                await conn.close()
                raise ConnectionLostError("this TTS WebSocket was closed")
            self._epoch += 1
            self._conn = conn
            # The reader ends when the connection closes; close() awaits it.
            self._spawn(self._read(conn, self._epoch))
            log.debug("TTS WebSocket connected (connection %d)", self._epoch)

    def context(self, context_id: str | None = None, *, raise_on_error: bool = True) -> TTSContext:
        """A new context (``context_id`` a uuid4 if None); nothing is sent yet.

        Raises:
            ValueError: ``context_id`` is already open on this connection.
            ConnectionLostError: the socket was closed.
        """
        if self._closed:
            raise ConnectionLostError("this TTS WebSocket was closed")
        cid = context_id or str(uuid.uuid4())
        if cid in self._contexts:
            raise ValueError(f"context {cid} is already open")
        return TTSContext(self, cid, raise_on_error=raise_on_error)

    async def generate(
        self,
        request: TTSRequest,
        *,
        add_timestamps: bool = False,
        add_phoneme_timestamps: bool = False,
        max_buffer_delay_ms: int | None = None,
        context_id: str | None = None,
        raise_on_error: bool = True,
    ) -> TTSContext:
        """Send one complete request (``continue: false``) in a new context and
        return that context for iterating its events. Reconnects if needed.

        Raises:
            as :meth:`context` and :meth:`TTSContext.send`.
        """
        ctx = self.context(context_id, raise_on_error=raise_on_error)
        await ctx.send(
            request,
            continue_=False,
            add_timestamps=add_timestamps,
            add_phoneme_timestamps=add_phoneme_timestamps,
            max_buffer_delay_ms=max_buffer_delay_ms,
        )
        return ctx

    async def close(self) -> None:
        """Close the connection; open contexts raise :class:`ConnectionLostError`.
        Idempotent."""
        self._closed = True
        conn, self._conn = self._conn, None
        self._fail_contexts(
            self._epoch, ConnectionLostError, "the TTS WebSocket was closed by the client"
        )
        if conn is not None:
            await conn.close()
        tasks = list(self._background)
        for task in tasks:
            if not task.done():
                task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # --- internals used by TTSContext ---------------------------------------------

    def _register(self, ctx: TTSContext) -> None:
        if ctx.context_id in self._contexts:
            raise ValueError(f"context {ctx.context_id} is already open")
        ctx._epoch = self._epoch
        self._contexts[ctx.context_id] = ctx

    def _unregister(self, ctx: TTSContext) -> None:
        if self._contexts.get(ctx.context_id) is ctx:
            del self._contexts[ctx.context_id]

    async def _send_json(self, epoch: int, payload: dict[str, Any]) -> None:
        conn = self._conn
        if conn is None or epoch != self._epoch:
            raise ConnectionLostError("the TTS WebSocket connection of this context was lost")
        try:
            await conn.send(json.dumps(payload))
        except ConnectionClosed as exc:
            kind, message = _loss(exc)
            self._on_drop(conn, epoch, kind, message)
            raise kind(message) from exc

    async def _send_cancel(self, epoch: int, context_id: str) -> None:
        try:
            await self._send_json(epoch, {"context_id": context_id, "cancel": True})
        except ConnectionLostError:
            log.debug("cancel of %s not sent: connection already gone", context_id)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        # The connecting loop, not "the running loop": under qasync a cancelled
        # consumer may be stepped while no loop is marked running.
        loop = self._loop or asyncio.get_running_loop()
        task: asyncio.Task[None] = loop.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # --- reader ---------------------------------------------------------------------

    async def _read(self, conn: ClientConnection, epoch: int) -> None:
        dispatch = self._dispatch
        try:
            while True:
                # recv() does not suspend while messages are buffered, so without
                # the yield a burst (a whole utterance) would be parsed before the
                # woken consumer saw its first chunk: the time to first audio.
                if dispatch(await conn.recv(), epoch):
                    await asyncio.sleep(0)
        except ConnectionClosed as exc:
            kind, message = _loss(exc)
        except asyncio.CancelledError:
            self._on_drop(
                conn, epoch, ConnectionLostError, "the TTS WebSocket was closed by the client"
            )
            raise
        self._on_drop(conn, epoch, kind, message)

    def _dispatch(self, message: str | bytes, epoch: int) -> bool:
        """Route one message; True if it woke a waiting consumer."""
        try:
            body = json.loads(message)
        except ValueError:
            log.warning("TTS WebSocket: ignoring a message that is not JSON")
            return False
        if not isinstance(body, dict):
            log.warning("TTS WebSocket: ignoring a JSON %s message", type(body).__name__)
            return False
        context_id = body.get("context_id")
        ctx = self._contexts.get(context_id) if isinstance(context_id, str) else None
        if ctx is None or ctx._epoch != epoch:
            if context_id is None and body.get("type") == "error":
                return self._broadcast_error(body, epoch)
            log.debug("discarding %s for context %s", body.get("type"), context_id)
            return False
        try:
            event = parse_stream_event(body)
        except ResponseFormatError as exc:
            self._unregister(ctx)
            ctx._fail(exc)
            self._spawn(self._send_cancel(epoch, ctx.context_id))
            return False
        if event is None:
            return False
        if isinstance(event, (DoneEvent, ErrorEvent)):
            del self._contexts[ctx.context_id]
        return ctx._deliver(event)

    def _broadcast_error(self, body: dict[str, Any], epoch: int) -> bool:
        """An error without a context_id concerns the connection: every context
        open on it gets it (each as its own event)."""
        log.warning("TTS WebSocket error without context: %s", body.get("error"))
        try:
            event = parse_stream_event(body)
        except ResponseFormatError as exc:
            event = ErrorEvent(None, str(exc), 500)
        assert isinstance(event, ErrorEvent)
        contexts = [ctx for ctx in self._contexts.values() if ctx._epoch == epoch]
        woke = False
        for ctx in contexts:
            del self._contexts[ctx.context_id]
            woke |= ctx._deliver(dataclasses.replace(event, context_id=ctx.context_id))
        return woke

    def _on_drop(
        self, conn: ClientConnection, epoch: int, kind: type[ConnectionLostError], message: str
    ) -> None:
        if self._conn is conn:
            self._conn = None
            open_contexts = sum(1 for ctx in self._contexts.values() if ctx._epoch == epoch)
            # An idle connection closed by the server (idle timeout) is routine.
            log.log(
                logging.WARNING if open_contexts else logging.INFO,
                "TTS WebSocket connection %d lost with %d open contexts: %s",
                epoch, open_contexts, message,
            )
        self._fail_contexts(epoch, kind, message)

    def _fail_contexts(self, epoch: int, kind: type[ConnectionLostError], message: str) -> None:
        doomed = [ctx for ctx in self._contexts.values() if ctx._epoch == epoch]
        for ctx in doomed:
            del self._contexts[ctx.context_id]
            ctx._fail(kind(message))


def _loss(exc: ConnectionClosed) -> tuple[type[ConnectionLostError], str]:
    """The error class and message for a closed connection: APITimeoutError when
    our keepalive ping went unanswered (websockets closes with 1011 and this
    reason), ConnectionLostError otherwise."""
    frame = exc.rcvd or exc.sent
    if frame is None:
        return ConnectionLostError, "the TTS WebSocket connection dropped (no close frame)"
    reason = f": {frame.reason}" if frame.reason else ""
    message = f"the TTS WebSocket connection closed (code {frame.code}{reason})"
    if exc.rcvd is None and frame.code == 1011 and "ping timeout" in frame.reason:
        return APITimeoutError, message
    return ConnectionLostError, message
