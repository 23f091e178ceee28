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
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Final

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from studio.api._events import error_event_exception, parse_stream_event
from studio.api.errors import ConnectionLostError, ResponseFormatError
from studio.api.models import (
    DoneEvent,
    ErrorEvent,
    OutputFormat,
    StreamEvent,
    TTSRequest,
)

log = logging.getLogger("studio.api")

Connector = Callable[[], Awaitable[ClientConnection]]


class _Cancelled:
    """Queue marker: the context was cancelled; iteration ends quietly."""


_CANCELLED: Final = _Cancelled()
_QueueItem = StreamEvent | BaseException | _Cancelled


class TTSContext:
    """One generation context on a :class:`TTSWebSocket` (``context_id`` on the wire).

    An async iterator of :data:`StreamEvent` (audio chunks, word/phoneme
    timestamps, flush acknowledgements) that ends after the :class:`DoneEvent`,
    which is yielded. An :class:`ErrorEvent` raises
    ``status_error(status_code, error)`` (e.g. :class:`BadRequestError` for an
    invalid model, :class:`NotFoundError` for an unknown voice) and ends the
    context; with ``raise_on_error=False`` it is yielded instead. A dropped
    connection raises :class:`ConnectionLostError`. After :meth:`cancel`, the
    iteration ends without error and late server messages are discarded.

    Also an async context manager: leaving the ``async with`` block before the
    context finished cancels it, as does cancelling the task that is waiting in
    ``__anext__`` (the cancel message is then sent in the background).

    Attributes:
        context_id: the id sent with every message of this context.
        output_format: the output format of the first request sent (the one the
            audio of every chunk is in), None before the first send.
    """

    def __init__(self, socket: TTSWebSocket, context_id: str, *, raise_on_error: bool) -> None:
        self.context_id = context_id
        self.output_format: OutputFormat | None = None
        self._socket = socket
        self._raise_on_error = raise_on_error
        self._queue: asyncio.Queue[_QueueItem] = asyncio.Queue()
        self._epoch: int | None = None  # the connection this context lives on
        self._template: dict[str, Any] | None = None  # last request, for flush/close
        self._inputs_closed = False  # a request with continue=false was sent
        self._finished = False  # done, error, failure or cancel: no more events
        self._ended = False  # the iterator has returned its last item
        self._cancelled = False
        self._failure: str | None = None
        self._flushes = 0

    # --- sending ----------------------------------------------------------------

    async def send(
        self,
        request: TTSRequest,
        *,
        continue_: bool = False,
        flush: bool = False,
        add_timestamps: bool = False,
        add_phoneme_timestamps: bool = False,
        max_buffer_delay_ms: int | None = None,
    ) -> None:
        """Send one ``GenerationRequest`` for this context.

        ``continue_=True`` keeps the context open for more transcript (it is the
        wire's ``continue``); ``flush=True`` asks the server to render what it
        has (acknowledged by a :class:`FlushDoneEvent`); ``max_buffer_delay_ms``
        (0-5000 ms on Cartesia) bounds how long the server buffers text first.
        The first send opens the connection if needed.

        Raises:
            ValueError: the output container is not ``raw`` (the seed's
                ``WebSocketRawOutputFormat``), or the context no longer takes input.
            ConnectionLostError: the connection is gone (this context with it).
            APIStatusError: (a subclass of) the reconnect handshake was refused.
        """
        if request.output_format.container != "raw":
            raise ValueError(
                f"the TTS WebSocket only streams container 'raw', not "
                f"{request.output_format.container!r}"
            )
        self._check_open_for_input()
        if self._epoch is None:
            await self._socket.connect()
            self._check_open_for_input()
            self._socket._register(self)
        payload = request.to_json()
        payload["context_id"] = self.context_id
        payload["continue"] = continue_
        payload["add_timestamps"] = add_timestamps
        payload["add_phoneme_timestamps"] = add_phoneme_timestamps
        if max_buffer_delay_ms is not None:
            payload["max_buffer_delay_ms"] = max_buffer_delay_ms
        self._template = dict(payload)
        if flush:
            payload["flush"] = True
            self._flushes += 1
        if self.output_format is None:
            self.output_format = request.output_format
        if not continue_:
            self._inputs_closed = True
        await self._socket._send_json(self._epoch_or_raise(), payload)

    async def flush(self) -> int:
        """Ask the server to render every input sent so far (a request with an
        empty transcript, ``continue: true`` and ``flush: true``).

        Returns:
            The ``flush_id`` the matching :class:`FlushDoneEvent` will carry
            (flushes are numbered from 1 per context, seed ``FlushID``).

        Raises:
            ValueError: nothing was sent yet, or the context takes no more input.
            ConnectionLostError: the connection is gone.
        """
        self._check_open_for_input()
        if self._template is None:
            raise ValueError("flush() before any send(): there is nothing to flush")
        payload = dict(self._template, transcript="", flush=True)
        payload["continue"] = True
        self._flushes += 1
        await self._socket._send_json(self._epoch_or_raise(), payload)
        return self._flushes

    async def no_more_inputs(self) -> None:
        """Tell the server the transcript is complete (an empty transcript with
        ``continue: false``); the context then finishes with a :class:`DoneEvent`.
        A second call does nothing.

        Raises:
            ValueError: nothing was sent yet.
            ConnectionLostError: the connection is gone.
        """
        if self._inputs_closed or self._finished:
            return
        if self._template is None:
            raise ValueError("no_more_inputs() before any send()")
        payload = dict(self._template, transcript="")
        payload["continue"] = False
        self._inputs_closed = True
        await self._socket._send_json(self._epoch_or_raise(), payload)

    async def cancel(self) -> None:
        """Stop this context: send ``{"context_id": ..., "cancel": true}`` (seed
        ``CancelContextRequest``), end the iteration, and drop late events.

        Does nothing if the context already finished; never raises for a lost
        connection (the server forgets its contexts with it).
        """
        epoch = self._mark_cancelled()
        if epoch is not None:
            await self._socket._send_cancel(epoch, self.context_id)

    def _cancel_in_background(self) -> None:
        epoch = self._mark_cancelled()
        if epoch is not None:
            self._socket._spawn(self._socket._send_cancel(epoch, self.context_id))

    def _mark_cancelled(self) -> int | None:
        """Finish the context locally; the epoch to send a cancel on, if any."""
        if self._finished:
            return None
        self._finished = True
        self._cancelled = True
        self._socket._unregister(self)
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(_CANCELLED)
        return self._epoch

    def _check_open_for_input(self) -> None:
        if self._failure is not None:
            raise ConnectionLostError(self._failure)
        if self._finished:
            raise ValueError(f"context {self.context_id} is finished; start a new one")
        if self._inputs_closed:
            raise ValueError(
                f"context {self.context_id} got its last input (continue=false); "
                "start a new context"
            )

    def _epoch_or_raise(self) -> int:
        if self._failure is not None:
            raise ConnectionLostError(self._failure)
        assert self._epoch is not None
        return self._epoch

    # --- receiving (called by the socket's reader) -------------------------------

    def _deliver(self, event: StreamEvent) -> None:
        if isinstance(event, (DoneEvent, ErrorEvent)):
            self._finished = True
        self._queue.put_nowait(event)

    def _fail(self, message: str, exc: BaseException | None = None) -> None:
        """End the context with an error; ``exc`` defaults to ConnectionLostError."""
        if self._finished:
            return
        self._finished = True
        if exc is None:
            self._failure = message
            exc = ConnectionLostError(message)
        self._queue.put_nowait(exc)

    # --- iteration ----------------------------------------------------------------

    def __aiter__(self) -> TTSContext:
        return self

    async def __anext__(self) -> StreamEvent:
        if self._ended:
            raise StopAsyncIteration
        queue = self._queue
        if queue.empty():
            try:
                item = await queue.get()
            except asyncio.CancelledError:
                self._cancel_in_background()
                raise
        else:
            item = queue.get_nowait()
        if isinstance(item, (DoneEvent, ErrorEvent, BaseException, _Cancelled)):
            self._ended = True
            if isinstance(item, _Cancelled):
                raise StopAsyncIteration
            if isinstance(item, BaseException):
                raise item
            if isinstance(item, ErrorEvent) and self._raise_on_error:
                raise error_event_exception(item)
        return item

    async def __aenter__(self) -> TTSContext:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._finished:
            return
        if exc_type is not None and issubclass(exc_type, asyncio.CancelledError):
            # Awaiting in a cancelled task is fragile; let the socket send it.
            self._cancel_in_background()
        else:
            await self.cancel()

    @property
    def finished(self) -> bool:
        """True once done/error arrived, the context was cancelled, or its
        connection was lost."""
        return self._finished

    def __repr__(self) -> str:
        state = "cancelled" if self._cancelled else "finished" if self._finished else "open"
        return f"<TTSContext {self.context_id} {state}>"


class TTSWebSocket:
    """A shared connection to ``/tts/websocket`` that multiplexes contexts.

    Obtain it from :meth:`CartesiaClient.websocket`. The connection is opened
    lazily and reopened by the next send after it dropped; :meth:`close` ends it
    for good (``closed`` becomes True; the client then hands out a new one).
    Also an async context manager that closes on exit.
    """

    def __init__(self, connector: Connector) -> None:
        self._connector = connector
        self._conn: ClientConnection | None = None
        self._epoch = 0
        self._contexts: dict[str, TTSContext] = {}
        self._connect_lock = asyncio.Lock()
        self._closed = False
        self._background: set[asyncio.Task[None]] = set()

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
        if self._conn is not None:
            return
        if self._closed:
            raise ConnectionLostError("this TTS WebSocket was closed")
        async with self._connect_lock:
            if self._conn is not None:
                return
            conn = await self._connector()
            if self._closed:
                await conn.close()
                raise ConnectionLostError("this TTS WebSocket was closed")
            self._epoch += 1
            self._conn = conn
            # The reader is referenced by the connection's lifetime: it ends when
            # the connection closes and is awaited in close().
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
        self._fail_contexts(self._epoch, "the TTS WebSocket was closed by the client")
        if conn is not None:
            await conn.close()
        tasks = list(self._background)
        for task in tasks:
            if not task.done():
                task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def __aenter__(self) -> TTSWebSocket:
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
            message = _closed_message(exc)
            self._on_drop(conn, epoch, message)
            raise ConnectionLostError(message) from exc

    async def _send_cancel(self, epoch: int, context_id: str) -> None:
        try:
            await self._send_json(epoch, {"context_id": context_id, "cancel": True})
        except ConnectionLostError:
            log.debug("cancel of %s not sent: connection already gone", context_id)

    def _spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # --- reader ---------------------------------------------------------------------

    async def _read(self, conn: ClientConnection, epoch: int) -> None:
        dispatch = self._dispatch
        try:
            while True:
                dispatch(await conn.recv(), epoch)
        except ConnectionClosed as exc:
            message = _closed_message(exc)
        except asyncio.CancelledError:
            message = "the TTS WebSocket was closed by the client"
            self._on_drop(conn, epoch, message)
            raise
        self._on_drop(conn, epoch, message)

    def _dispatch(self, message: str | bytes, epoch: int) -> None:
        try:
            body = json.loads(message)
        except ValueError:
            log.warning("TTS WebSocket: ignoring a message that is not JSON")
            return
        if not isinstance(body, dict):
            log.warning("TTS WebSocket: ignoring a JSON %s message", type(body).__name__)
            return
        context_id = body.get("context_id")
        ctx = self._contexts.get(context_id) if isinstance(context_id, str) else None
        if ctx is None or ctx._epoch != epoch:
            if context_id is None and body.get("type") == "error":
                self._broadcast_error(body, epoch)
            else:
                log.debug("discarding %s for context %s", body.get("type"), context_id)
            return
        try:
            event = parse_stream_event(body)
        except ResponseFormatError as exc:
            self._unregister(ctx)
            ctx._fail(str(exc), exc)
            self._spawn(self._send_cancel(epoch, ctx.context_id))
            return
        if event is None:
            return
        if isinstance(event, (DoneEvent, ErrorEvent)):
            del self._contexts[ctx.context_id]
        ctx._deliver(event)

    def _broadcast_error(self, body: dict[str, Any], epoch: int) -> None:
        """An error without a context_id concerns the connection: every context
        open on it gets it (each as its own event)."""
        log.warning("TTS WebSocket error without context: %s", body.get("error"))
        try:
            event = parse_stream_event(body)
        except ResponseFormatError as exc:
            event = ErrorEvent(None, str(exc), 500)
        assert isinstance(event, ErrorEvent)
        contexts = [ctx for ctx in self._contexts.values() if ctx._epoch == epoch]
        for ctx in contexts:
            del self._contexts[ctx.context_id]
            ctx._deliver(dataclasses.replace(event, context_id=ctx.context_id))

    def _on_drop(self, conn: ClientConnection, epoch: int, message: str) -> None:
        if self._conn is conn:
            self._conn = None
            log.warning("TTS WebSocket connection %d lost: %s", epoch, message)
        self._fail_contexts(epoch, message)

    def _fail_contexts(self, epoch: int, message: str) -> None:
        doomed = [ctx for ctx in self._contexts.values() if ctx._epoch == epoch]
        for ctx in doomed:
            del self._contexts[ctx.context_id]
            ctx._fail(message)


def _closed_message(exc: ConnectionClosed) -> str:
    frame = exc.rcvd or exc.sent
    if frame is None:
        return "the TTS WebSocket connection dropped (no close frame)"
    reason = f": {frame.reason}" if frame.reason else ""
    return f"the TTS WebSocket connection closed (code {frame.code}{reason})"
