"""``POST /tts/bytes``, ``POST /tts/sse`` and the ``GET /tts/websocket`` upgrade.

``/tts/bytes`` streams the container's bytes (chunked) as blocks are rendered;
``/tts/sse`` sends ``event: <type>`` / ``data: <json>`` pairs in the seed's
``StreamingResponse`` shapes (the v4 SDK reads only ``data``); the WebSocket
is served by :class:`~studio.offline.websocket.SocketSession`. Requests are
validated completely (tags included) before the response starts, so
rejections are proper JSON errors with their status; that includes
``pronunciation_dict_id``, whose dictionary is read then (an unknown id is a 404
``pronunciation_dict_not_found``) and applied to the transcript
(:mod:`studio.offline.pronunciation`).
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from studio.offline import dict_routes, tags
from studio.offline.bodies import MAX_JSON_BYTES, read_json
from studio.offline.errors import ApiError, stream_error_event
from studio.offline.params import TtsParams, parse_tts
from studio.offline.pronunciation import Pronouncer
from studio.offline.state import STATE, ServerState
from studio.offline.synthesis import Rendered, Renderer
from studio.offline.websocket import STATUS_OK, SocketSession
from studio.offline.worker import ThreadStream

log = logging.getLogger(__name__)


async def _pronouncer(request: web.Request, params: TtsParams) -> Pronouncer | None:
    """The request's pronunciation dictionary, as it is now.

    Raises:
        ApiError: 404 for an unknown ``pronunciation_dict_id``.
    """
    if params.pronunciation_dict_id is None:
        return None
    return await request.app[dict_routes.BOOK].pronouncer(params.pronunciation_dict_id)


def _render_stream(state: ServerState, params: TtsParams,
                   pronouncer: Pronouncer | None) -> ThreadStream[Rendered]:
    renderer = Renderer(params.output)

    def work(emit: Callable[[Rendered], None], cancelled: Callable[[], bool]) -> None:
        replacements = () if pronouncer is None else pronouncer.replacements(
            params.transcript, params.voicing.espeak_voice)
        pieces, _ = tags.parse(params.transcript, replacements=replacements)
        if renderer.render(pieces, params.voicing, params.delivery, emit, cancelled):
            renderer.finish(emit)

    return ThreadStream(state.executor, work)


async def tts_bytes(request: web.Request) -> web.StreamResponse:
    """Streams the container's bytes as they are rendered (chunked encoding)."""
    state = request.app[STATE]
    params = parse_tts(await read_json(request), state.catalog)
    tags.parse(params.transcript)  # reject bad tags with a 400 before streaming starts
    pronouncer = await _pronouncer(request, params)
    response = web.StreamResponse(headers={"Content-Type": params.output.content_type})
    response.enable_chunked_encoding()
    stream = _render_stream(state, params, pronouncer)
    try:
        await response.prepare(request)
        async for block in stream:
            if block.audio:
                await response.write(block.audio)
        await response.write_eof()
    except ConnectionResetError:
        log.debug("client left /tts/bytes before the end; synthesis stopped")
    finally:
        stream.cancel()
    return response


def _sse(event: dict[str, Any]) -> bytes:
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


async def tts_sse(request: web.Request) -> web.StreamResponse:
    """Server-sent events in the seed's ``StreamingResponse`` shapes."""
    state = request.app[STATE]
    params = parse_tts(await read_json(request), state.catalog, containers=("raw",))
    tags.parse(params.transcript)
    pronouncer = await _pronouncer(request, params)
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream", "Cache-Control": "no-cache",
    })
    response.enable_chunked_encoding()
    stream = _render_stream(state, params, pronouncer)
    ctx = params.context_id
    try:
        await response.prepare(request)
        try:
            async for block in stream:
                if block.audio:
                    await response.write(_sse({
                        "type": "chunk", "data": _b64(block.audio), "done": False,
                        "status_code": STATUS_OK, "step_time": round(block.step_time, 3),
                        "context_id": ctx,
                    }))
                if params.add_timestamps and block.words.words:
                    await response.write(_sse({
                        "type": "timestamps", "done": False, "status_code": STATUS_OK,
                        "context_id": ctx, "word_timestamps": block.words.to_json(),
                    }))
                if params.add_phoneme_timestamps and block.phonemes.phonemes:
                    await response.write(_sse({
                        "type": "phoneme_timestamps", "done": False, "status_code": STATUS_OK,
                        "context_id": ctx, "phoneme_timestamps": block.phonemes.to_json(),
                    }))
        except ConnectionResetError:
            raise
        except Exception as exc:  # synthesis failed mid-stream: the status line is long gone
            log.exception("SSE synthesis failed")
            status = exc.status if isinstance(exc, ApiError) else 500
            await response.write(_sse(stream_error_event(status, f"synthesis failed: {exc}", ctx)))
        else:
            await response.write(_sse({"type": "done", "done": True, "status_code": STATUS_OK,
                                       "context_id": ctx}))
        await response.write_eof()
    except ConnectionResetError:
        log.debug("client left /tts/sse before the end; synthesis stopped")
    finally:
        stream.cancel()
    return response


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


async def tts_websocket(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    ws = web.WebSocketResponse(max_msg_size=MAX_JSON_BYTES)
    await ws.prepare(request)
    session = SocketSession(ws, request, state.catalog, state.stats, state.executor,
                            request.app[dict_routes.BOOK])
    if state.pending_drop is not None:
        session.drop_after(state.pending_drop)
        state.pending_drop = None
    state.sessions.add(session)
    try:
        await session.run()
    finally:
        state.sessions.discard(session)
        if not ws.closed:
            await ws.close()
    return ws
