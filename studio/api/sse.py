"""Server-sent events: an incremental decoder and the ``POST /tts/sse`` stream.

The decoder follows the WHATWG "event stream interpretation" rules
(html.spec.whatwg.org, §9.2.6): lines end in CRLF, LF or CR (possibly split
across network chunks), ``data:`` lines accumulate joined by LF, a blank line
dispatches, ``:`` starts a comment, a leading BOM is dropped, and an event left
unterminated at end of stream is discarded. Each event's data is one JSON
``StreamingResponse`` of the seed; its ``type`` (or else the SSE ``event:``
name) picks the :data:`StreamEvent` class.
"""

from __future__ import annotations

import json
import logging
import re
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import httpx

from studio.api._events import error_event_exception, parse_stream_event
from studio.api._http import transport_error
from studio.api.errors import ConnectionLostError, ResponseFormatError
from studio.api.models import DoneEvent, ErrorEvent, StreamEvent

log = logging.getLogger("studio.api")

_LINE_END = re.compile(rb"\r\n|\r|\n")
_BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One dispatched event: ``data`` is the joined data lines (no final LF)."""

    data: str
    event: str | None = None
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Turns bytes cut at arbitrary points into :class:`ServerSentEvent` objects."""

    def __init__(self) -> None:
        self._pending = b""
        self._started = False
        self._data: list[str] = []
        self._event: str | None = None
        self._last_id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Events completed by ``chunk`` (possibly none)."""
        buf = self._pending + chunk if self._pending else chunk
        events: list[ServerSentEvent] = []
        start = 0
        for match in _LINE_END.finditer(buf):
            if match.group() == b"\r" and match.end() == len(buf):
                break  # a lone CR at the end may be the first half of CRLF
            event = self._line(buf[start : match.start()])
            if event is not None:
                events.append(event)
            start = match.end()
        self._pending = buf[start:]
        return events

    def finish(self) -> list[ServerSentEvent]:
        """End of stream: a held-back final CR is a line end after all; any
        unterminated event is discarded."""
        pending, self._pending = self._pending, b""
        if not pending.endswith(b"\r"):
            return []
        event = self._line(pending[:-1])
        return [] if event is None else [event]

    def _line(self, raw: bytes) -> ServerSentEvent | None:
        line = raw.decode("utf-8", errors="replace")
        if not self._started:
            self._started = True
            if line.startswith(_BOM):
                line = line[1:]
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._last_id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        data, event = self._data, self._event
        self._data, self._event = [], None
        if not data:
            return None
        return ServerSentEvent("\n".join(data), event or None, self._last_id, self._retry)


class SSEStream:
    """The events of one ``POST /tts/sse`` response.

    An async iterator of :data:`StreamEvent` and an async context manager; use
    ``async with client.tts.sse(req) as events: async for ev in events: ...`` so
    the response is closed however the loop ends. Plain ``async for`` works too:
    the request is sent on the first ``__anext__`` and the response closed after
    the last event, on an error, or when the consuming task is cancelled.

    Iteration ends after :class:`DoneEvent`. An :class:`ErrorEvent` raises
    ``status_error(status_code, ...)`` (e.g. :class:`BadRequestError` for 400)
    unless ``raise_on_error`` is False, in which case it is yielded and ends the
    stream. A body that stops before ``done`` raises :class:`ConnectionLostError`
    (:class:`APITimeoutError` for a read timeout); nothing is retried once the
    body started.
    """

    def __init__(
        self,
        opener: Callable[[], AbstractAsyncContextManager[httpx.Response]],
        *,
        raise_on_error: bool = True,
    ) -> None:
        self._opener = opener
        self._raise_on_error = raise_on_error
        self._stack: AsyncExitStack | None = None
        self._chunks: AsyncIterator[bytes] | None = None
        self._decoder = SSEDecoder()
        self._events: deque[StreamEvent] = deque()
        self._finished = False
        self._url_path = "/tts/sse"

    async def __aenter__(self) -> Self:
        await self._open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> SSEStream:
        return self

    async def __anext__(self) -> StreamEvent:
        try:
            if not self._events:
                if self._finished:
                    raise StopAsyncIteration
                if self._chunks is None:
                    await self._open()
                while not self._events:
                    await self._read()
            event = self._events.popleft()
            if isinstance(event, (DoneEvent, ErrorEvent)):
                # Nothing follows done/error: release the connection now, not
                # whenever the consumer gets round to aclose().
                await self.aclose()
                if isinstance(event, ErrorEvent) and self._raise_on_error:
                    raise error_event_exception(event)
            return event
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        """Close the response (idempotent); iteration then ends."""
        self._finished = True
        self._events.clear()
        stack, self._stack = self._stack, None
        chunks, self._chunks = self._chunks, None
        try:
            if isinstance(chunks, AsyncGenerator):
                await chunks.aclose()
        finally:
            if stack is not None:
                await stack.aclose()

    async def _open(self) -> None:
        if self._stack is not None or self._finished:
            return
        stack = AsyncExitStack()
        response = await stack.enter_async_context(self._opener())
        self._stack = stack
        self._chunks = response.aiter_bytes()
        self._url_path = response.request.url.path

    async def _read(self) -> None:
        assert self._chunks is not None
        try:
            chunk = await self._chunks.__anext__()
        except StopAsyncIteration:
            self._queue_events(self._decoder.finish())
            if self._events:
                return
            raise ConnectionLostError(
                f"POST {self._url_path}: the event stream ended before its done event"
            ) from None
        except (httpx.TransportError, OSError) as exc:
            raise transport_error(exc, f"POST {self._url_path}") from exc
        self._queue_events(self._decoder.feed(chunk))

    def _queue_events(self, events: list[ServerSentEvent]) -> None:
        for sse in events:
            try:
                body = json.loads(sse.data)
            except ValueError as exc:
                raise ResponseFormatError(f"SSE data is not JSON: {exc}") from None
            event = parse_stream_event(body, default_type=sse.event)
            if event is not None:
                self._events.append(event)
