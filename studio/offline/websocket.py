"""One TTS WebSocket connection: contexts, continuations, flushes, cancels.

Semantics follow the seed (``tts-websocket.txt``; ``GenerationRequest``,
``CancelContextRequest`` and ``WebSocketResponse`` in the OpenAPI file):

- Requests carry a ``context_id``; contexts on one connection run
  concurrently (their events interleave), each context's inputs in order.
  A request without ``context_id`` is a context of its own.
- ``continue: true`` means more input may follow. Text is buffered until a
  sentence ends or ``max_buffer_delay_ms`` (0..5000, default 3000) passes
  since it started waiting; 0 renders each input at once. Inputs are joined
  as sent (clients include their own spaces).
- ``flush: true`` renders everything buffered, then sends ``flush_done`` with
  ``flush_id`` counting that context's flushes from 1. Every chunk and
  timestamps event carries the ``flush_id`` of the flush it belongs to
  (completed flushes + 1).
- ``continue: false`` (an empty transcript included) renders what is
  buffered and ends the context with ``done`` once its audio is sent; input
  arriving for it after that is ignored (logged).
- ``cancel: true`` stops the context at once; nothing more is sent for it.
- An invalid request sends ``error`` (``done: true``, its status code) for
  that context after its earlier output, and ends it; the connection and the
  other contexts carry on.

The voice, language, delivery and timestamp flags of the latest input with
text apply to the text rendered after it; the output format is fixed by a
context's first input. The ``pronunciation_dict_id`` of the latest input with
text applies like the voice: the dictionary is checked when the input arrives
(an unknown id ends the context with a 404 ``error``) and read again for each
stretch of text rendered, so an edit applies from the next one. Cartesia's matching rule runs on
each stretch with the context's earlier text before it, so "the start of a sentence" means the same
as in one long transcript.
Outgoing messages go through one writer task, which also implements the
``drop_websockets_after`` test hook (abort the transport, no close frame).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from studio.offline import tags
from studio.offline.bodies import parse_json
from studio.offline.dict_routes import DictBook
from studio.offline.errors import ApiError, stream_error_event
from studio.offline.instrumentation import EngineStats
from studio.offline.params import SocketInput, TtsParams, parse_socket_input
from studio.offline.pronunciation import CONTEXT_CHARS, Pronouncer
from studio.offline.synthesis import Rendered, Renderer
from studio.offline.voices import VoiceCatalog
from studio.offline.worker import ThreadStream

log = logging.getLogger(__name__)

STATUS_OK = 206  # what Cartesia puts in every non-error event


@dataclass(eq=False)
class _Context:
    id: str | None
    inputs: asyncio.Queue[SocketInput | ApiError] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None
    renderer: Renderer | None = None
    params: TtsParams | None = None
    overrides: tags.Overrides = field(default_factory=tags.Overrides)
    buffer: str = ""
    deadline: float | None = None  # loop time at which buffered text is rendered anyway
    delay: float = 3.0  # seconds, the latest input's max_buffer_delay_ms
    flushes: int = 0
    cancelled: bool = False
    closing: bool = False  # the final input (continue: false) has arrived
    stream: ThreadStream[Rendered] | None = None
    said: str = ""  # the end of the text rendered so far, for the matching rule


class SocketSession:
    """Serves one upgraded ``/tts/websocket`` connection until it closes."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        request: web.Request,
        catalog: VoiceCatalog,
        stats: EngineStats,
        executor: Executor | None,
        dicts: DictBook | None = None,
    ) -> None:
        self._ws = ws
        self._request = request
        self._catalog = catalog
        self._stats = stats
        self._executor = executor
        self._dicts = dicts
        self._contexts: dict[str, _Context] = {}
        self._outbox: asyncio.Queue[tuple[_Context | None, dict[str, Any]] | None] = asyncio.Queue()
        self._drop_countdown: int | None = None
        self._aborted = False

    def drop_after(self, messages: int) -> None:
        """Abort the transport once ``messages`` more messages have been sent
        (event-loop thread only). 0 aborts right away."""
        if messages <= 0:
            self._abort()
        else:
            self._drop_countdown = messages

    async def close(self) -> None:
        """Stop every context and close the connection (server shutdown)."""
        for ctx in list(self._contexts.values()):
            self._cancel(ctx)
        await self._ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")

    def _abort(self) -> None:
        self._aborted = True
        transport = self._request.transport
        if transport is not None:
            transport.abort()

    async def run(self) -> None:
        """Read client messages until the connection ends, then clean up."""
        writer = asyncio.create_task(self._write_loop(), name="tts-ws-writer")
        try:
            async for msg in self._ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_text(msg.data)
                elif msg.type == WSMsgType.BINARY:
                    self._send_error(
                        None, ApiError(400, "binary messages are not supported; send JSON text")
                    )
                elif msg.type == WSMsgType.ERROR:
                    log.debug("websocket error: %s", self._ws.exception())
                    break
        finally:
            for ctx in list(self._contexts.values()):
                self._cancel(ctx)
            self._outbox.put_nowait(None)
            if self._aborted:
                writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)

    # --- incoming ---------------------------------------------------------------

    def _on_text(self, data: str) -> None:
        try:
            body = parse_json(data, "message")
        except ApiError as exc:
            self._send_error(None, exc)
            return
        if not isinstance(body, dict):
            self._send_error(None, ApiError(400, "message must be a JSON object"))
            return
        context_id = body.get("context_id") if isinstance(body.get("context_id"), str) else None
        if body.get("cancel") is True:
            ctx = self._contexts.get(context_id) if context_id is not None else None
            if ctx is not None:
                self._cancel(ctx)
            return
        self._stats.record("/tts/websocket")
        ctx = self._contexts.get(context_id) if context_id is not None else None
        try:
            item: SocketInput | ApiError = parse_socket_input(body, self._catalog)
        except ApiError as exc:
            item = exc
        if ctx is None:
            if isinstance(item, ApiError):
                self._send_error(context_id, item)
                return
            if item.params is None:  # end of a context that never started
                self._send(None, {"type": "done", "done": True, "status_code": STATUS_OK,
                                  "context_id": context_id})
                return
            ctx = _Context(context_id)
            if context_id is not None:
                self._contexts[context_id] = ctx
            ctx.task = asyncio.create_task(self._run_context(ctx), name=f"tts-ctx-{context_id}")
        elif ctx.closing:
            # Its final input is in; the context is only finishing its audio.
            log.warning("ignoring input for context %s after its last input", context_id)
            return
        if isinstance(item, SocketInput) and not item.more:
            ctx.closing = True
        ctx.inputs.put_nowait(item)

    def _cancel(self, ctx: _Context) -> None:
        ctx.cancelled = True
        if ctx.stream is not None:
            ctx.stream.cancel()
        if ctx.task is not None:
            ctx.task.cancel()
        if ctx.id is not None and self._contexts.get(ctx.id) is ctx:
            del self._contexts[ctx.id]

    # --- per context -------------------------------------------------------------

    async def _run_context(self, ctx: _Context) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                timeout = None if ctx.deadline is None else max(ctx.deadline - loop.time(), 0.0)
                try:
                    item = await asyncio.wait_for(ctx.inputs.get(), timeout)
                except TimeoutError:
                    await self._render(ctx, len(ctx.buffer))  # max_buffer_delay_ms elapsed
                    continue
                if isinstance(item, ApiError):
                    self._send_error(ctx.id, item, ctx)
                    return
                if not await self._accept(ctx, item):
                    return
        except ApiError as exc:
            self._send_error(ctx.id, exc, ctx)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a synthesis failure ends the context, not the connection
            log.exception("context %s failed", ctx.id)
            self._send_error(ctx.id, ApiError(500, f"synthesis failed: {exc}"), ctx)
        finally:
            if ctx.id is not None and self._contexts.get(ctx.id) is ctx:
                del self._contexts[ctx.id]

    async def _accept(self, ctx: _Context, item: SocketInput) -> bool:
        """Apply one input; False once the context is done."""
        loop = asyncio.get_running_loop()
        # An empty flush/continue input does not change how buffered text is
        # spoken (clients send placeholder fields with it).
        if item.params is not None and (item.transcript or ctx.params is None):
            await self._pronouncer(item.params)  # an unknown dictionary ends the context now
            ctx.params = item.params
            if ctx.renderer is None:
                ctx.renderer = Renderer(item.params.output)
        ctx.delay = item.max_buffer_delay_ms / 1000.0
        if item.transcript:
            if not ctx.buffer:
                ctx.deadline = loop.time() + ctx.delay
            ctx.buffer += item.transcript
        if item.flush or not item.more:
            await self._render(ctx, len(ctx.buffer))
            await self._finish_audio(ctx)
            if item.flush:
                ctx.flushes += 1
                self._send(ctx, {"type": "flush_done", "done": False, "flush_done": True,
                                 "flush_id": ctx.flushes, "status_code": STATUS_OK,
                                 "context_id": ctx.id})
            if not item.more:
                self._send(ctx, {"type": "done", "done": True, "status_code": STATUS_OK,
                                 "context_id": ctx.id})
                return False
            return True
        if item.max_buffer_delay_ms == 0:
            await self._render(ctx, tags.safe_prefix(ctx.buffer))
        else:
            await self._render(ctx, tags.complete_prefix(ctx.buffer))
        return True

    async def _render(self, ctx: _Context, upto: int) -> None:
        """Render ``ctx.buffer[:upto]`` and stream it out."""
        if upto <= 0:
            return
        loop = asyncio.get_running_loop()
        text, ctx.buffer = ctx.buffer[:upto], ctx.buffer[upto:]
        # What is left waits for a sentence end or a fresh delay.
        ctx.deadline = loop.time() + ctx.delay if ctx.buffer else None
        if not text.strip() or ctx.renderer is None or ctx.params is None:
            return
        before, context = ctx.overrides, ctx.said
        pieces, ctx.overrides = tags.parse(text, ctx.overrides)
        ctx.said = (context + text)[-CONTEXT_CHARS:]
        params, renderer = ctx.params, ctx.renderer
        pronouncer = await self._pronouncer(params)

        def work(emit: Callable[[Rendered], None], cancelled: Callable[[], bool]) -> None:
            spoken = pieces
            if pronouncer is not None:  # matched here, off the event loop
                replacements = pronouncer.replacements(text, params.voicing.espeak_voice, context)
                spoken, _ = tags.parse(text, before, replacements)
            renderer.render(spoken, params.voicing, params.delivery, emit, cancelled)

        await self._pump(ctx, ThreadStream(self._executor, work))

    async def _pronouncer(self, params: TtsParams) -> Pronouncer | None:
        """The dictionary ``params`` name, as it is now.

        Raises:
            ApiError: 404 for an unknown ``pronunciation_dict_id``.
        """
        if params.pronunciation_dict_id is None or self._dicts is None:
            return None
        return await self._dicts.pronouncer(params.pronunciation_dict_id)

    async def _finish_audio(self, ctx: _Context) -> None:
        if ctx.renderer is None:
            return
        renderer = ctx.renderer
        stream: ThreadStream[Rendered] = ThreadStream(
            self._executor, lambda emit, cancelled: renderer.finish(emit)
        )
        await self._pump(ctx, stream)

    async def _pump(self, ctx: _Context, stream: ThreadStream[Rendered]) -> None:
        ctx.stream = stream
        params = ctx.params
        try:
            async for block in stream:
                if ctx.cancelled:
                    break
                flush_id = ctx.flushes + 1
                if block.audio:
                    self._send(ctx, {
                        "type": "chunk", "data": base64.b64encode(block.audio).decode("ascii"),
                        "done": False, "status_code": STATUS_OK,
                        "step_time": round(block.step_time, 3),
                        "context_id": ctx.id, "flush_id": flush_id,
                    })
                if params is not None and params.add_timestamps and block.words.words:
                    self._send(ctx, {
                        "type": "timestamps", "done": False, "status_code": STATUS_OK,
                        "context_id": ctx.id, "flush_id": flush_id,
                        "word_timestamps": block.words.to_json(),
                    })
                if params is not None and params.add_phoneme_timestamps and block.phonemes.phonemes:
                    self._send(ctx, {
                        "type": "phoneme_timestamps", "done": False, "status_code": STATUS_OK,
                        "context_id": ctx.id, "flush_id": flush_id,
                        "phoneme_timestamps": block.phonemes.to_json(),
                    })
        finally:
            stream.cancel()
            ctx.stream = None

    # --- outgoing ----------------------------------------------------------------

    def _send(self, ctx: _Context | None, event: dict[str, Any]) -> None:
        self._outbox.put_nowait((ctx, event))

    def _send_error(
        self, context_id: str | None, exc: ApiError, ctx: _Context | None = None
    ) -> None:
        self._send(ctx, stream_error_event(exc.status, exc.message, context_id, exc.error_code))

    async def _write_loop(self) -> None:
        while True:
            item = await self._outbox.get()
            if item is None:
                return
            ctx, event = item
            if ctx is not None and ctx.cancelled:
                continue  # a cancelled context sends nothing more
            if self._ws.closed:
                continue
            try:
                await self._ws.send_str(json.dumps(event))
            except (ConnectionError, RuntimeError) as exc:
                log.debug("websocket send failed: %s", exc)
                continue
            if self._drop_countdown is not None:
                self._drop_countdown -= 1
                if self._drop_countdown <= 0:
                    self._drop_countdown = None
                    self._abort()
                    return
