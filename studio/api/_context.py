"""One generation context on the TTS WebSocket: what a caller sends and iterates.

The socket's reader (:mod:`studio.api.websocket`) feeds each context's queue;
the context turns queue items into its async-iterator protocol.
"""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self

from studio.api._checks import frame_bytes
from studio.api._events import error_event_exception
from studio.api.errors import APITimeoutError, ConnectionLostError, ResponseFormatError
from studio.api.models import (
    ChunkEvent,
    DoneEvent,
    ErrorEvent,
    OutputFormat,
    StreamEvent,
    TTSRequest,
)

if TYPE_CHECKING:
    from studio.api.websocket import TTSWebSocket


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


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
    ``__anext__`` (the cancel message is then sent in the background). One
    task iterates a context; a second concurrent ``__anext__`` raises
    RuntimeError.

    Deadlines (:class:`~studio.api.Deadlines` of the socket): when no message
    arrives for ``ws_inactivity`` seconds while the caller waits, or the context
    is not done ``ws_context(characters sent)`` seconds after its first send (a
    trickle that never finishes), iteration raises :class:`APITimeoutError` and
    the context is cancelled on the server; the connection stays open for the
    others. A ``done`` after audio that is not a whole number of frames (PCM cut
    mid-sample) raises :class:`ResponseFormatError` instead of ending a take.

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
        # A deque and one future rather than asyncio.Queue: Queue.get() insists on
        # a *running* loop, which qasync does not set while Qt steps a task
        # between run_until_complete calls.
        self._items: deque[_QueueItem] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._loop = _running_loop()
        self._epoch: int | None = None  # the connection this context lives on
        self._template: dict[str, Any] | None = None  # last request, for flush/close
        self._inputs_closed = False  # a request with continue=false was sent
        self._finished = False  # done, error, failure or cancel: no more events
        self._ended = False  # the iterator has returned its last item
        self._cancelled = False
        self._failure: ConnectionLostError | None = None  # re-raised as fresh copies
        self._flushes = 0
        self._characters = 0  # transcript characters sent
        self._started: float | None = None  # loop time of the first send
        self._audio_bytes = 0  # audio received, to check for whole frames

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
        self._characters += len(request.transcript)
        if self._started is None:
            self._started = (self._loop or asyncio.get_running_loop()).time()
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
        self._items.clear()
        self._put(_CANCELLED)
        return self._epoch

    def _check_open_for_input(self) -> None:
        if self._failure is not None:
            raise type(self._failure)(str(self._failure))
        if self._finished:
            raise ValueError(f"context {self.context_id} is finished; start a new one")
        if self._inputs_closed:
            raise ValueError(
                f"context {self.context_id} got its last input (continue=false); "
                "start a new context"
            )

    def _epoch_or_raise(self) -> int:
        if self._failure is not None:
            raise type(self._failure)(str(self._failure))
        assert self._epoch is not None
        return self._epoch

    # --- receiving (called by the socket's reader) -------------------------------

    def _deliver(self, event: StreamEvent) -> bool:
        """Queue ``event``; True if that woke a consumer waiting in ``__anext__``."""
        if isinstance(event, ChunkEvent):
            self._audio_bytes += len(event.audio)
        elif isinstance(event, DoneEvent) and self.output_format is not None:
            frame = frame_bytes(self.output_format)
            if self._audio_bytes % frame:
                self._finished = True
                return self._put(ResponseFormatError(
                    f"context {self.context_id}: done after {self._audio_bytes} bytes of "
                    f"{self.output_format.encoding}, not a whole number of {frame}-byte "
                    "frames (audio cut short)"))
        if isinstance(event, (DoneEvent, ErrorEvent)):
            self._finished = True
        return self._put(event)

    def _expire(self, waiter: asyncio.Future[None], message: str) -> None:
        """A deadline passed while the consumer waited on ``waiter``: end the context
        with :class:`APITimeoutError` and cancel it on the server (in the background;
        the connection stays up)."""
        if waiter.done() or self._finished:
            return
        epoch = self._epoch
        self._socket._unregister(self)
        self._fail(APITimeoutError(f"context {self.context_id}: {message}"))
        if epoch is not None:
            self._socket._spawn(self._socket._send_cancel(epoch, self.context_id))

    def _wait_limit(self, loop: asyncio.AbstractEventLoop) -> tuple[float, str]:
        """Seconds the consumer may wait for the next message, and what to say if it
        is not there by then."""
        deadlines = self._socket.deadlines
        limit = deadlines.ws_inactivity
        message = f"no message from the server for {limit:g} s"
        if self._started is not None:
            overall = deadlines.ws_context(self._characters)
            left = self._started + overall - loop.time()
            if left < limit:
                limit = max(left, 0.0)
                message = (f"not done {overall:g} s after it started "
                           f"({self._characters} characters; the server stalls or trickles)")
            floor = deadlines.ws_min_realtime
            if floor > 0 and self.output_format is not None:
                # The audio so far buys time at ``floor``: past the grace, each second
                # must have brought at least ``floor`` seconds of audio.
                rate = self.output_format.sample_rate * frame_bytes(self.output_format)
                audio_seconds = self._audio_bytes / rate if rate > 0 else 0.0
                due = self._started + deadlines.ws_progress_grace + audio_seconds / floor
                if due - loop.time() < limit:
                    limit = max(due - loop.time(), 0.0)
                    elapsed = loop.time() - self._started
                    message = (f"{audio_seconds:.1f} s of audio in {elapsed:.0f} s, under "
                               f"{floor:g}x real time (the server trickles)")
        return limit, message

    def _fail(self, exc: BaseException) -> None:
        """End the context with ``exc``; a ConnectionLostError also fails later sends."""
        if self._finished:
            return
        self._finished = True
        if isinstance(exc, ConnectionLostError):
            self._failure = exc
        self._put(exc)

    def _put(self, item: _QueueItem) -> bool:
        """Append ``item``; True if a consumer was waiting for it (and is now woken)."""
        self._items.append(item)
        waiter, self._waiter = self._waiter, None
        if waiter is None:
            return False
        if not waiter.done():
            waiter.set_result(None)
        return True

    # --- iteration ----------------------------------------------------------------

    def __aiter__(self) -> TTSContext:
        return self

    async def __anext__(self) -> StreamEvent:
        if self._ended:
            raise StopAsyncIteration
        if not self._items:
            if self._waiter is not None:
                raise RuntimeError(f"{self!r} is already being iterated by another task")
            loop = self._loop or asyncio.get_running_loop()
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiter = waiter
            limit, message = self._wait_limit(loop)
            timer = loop.call_later(limit, self._expire, waiter, message)
            try:
                await waiter
            except asyncio.CancelledError:
                if self._waiter is waiter:
                    self._waiter = None
                self._cancel_in_background()
                raise
            finally:
                timer.cancel()
        item = self._items.popleft()
        if isinstance(item, (DoneEvent, ErrorEvent, BaseException, _Cancelled)):
            self._ended = True
            if isinstance(item, _Cancelled):
                raise StopAsyncIteration
            if isinstance(item, BaseException):
                raise item
            if isinstance(item, ErrorEvent) and self._raise_on_error:
                raise error_event_exception(item)
        return item

    async def __aenter__(self) -> Self:
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
