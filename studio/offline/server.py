"""The offline engine's aiohttp application: Cartesia's HTTP and WebSocket API.

Routes (``cartesia-openapi.yaml`` paths; the v4 SDK's calls in brackets):

- ``GET /`` -> ``{"ok": true, "version": ...}`` [``get_status``]; no auth,
  like the seed, but ``Cartesia-Version`` is checked.
- ``GET /voices`` [``voices.list``], ``GET /voices/{id}`` [``voices.get``],
  ``GET /voices/{id}/preview`` (what ``preview_file_url`` points at).
- ``POST /tts/bytes`` [``tts.generate``], ``POST /tts/sse``
  [``tts.generate_sse``], ``GET /tts/websocket`` [``tts.websocket_connect``].

Every request but the status page needs ``Authorization: Bearer <key>``
(``X-API-Key`` is accepted too); the WebSocket may pass ``?api_key=`` or
``?access_token=`` instead. ``Cartesia-Version`` (WebSocket: or
``?cartesia_version=``) must be a date ``YYYY-MM-DD`` from 2024-06-10 on; the
preview file, fetched like a plain URL, is exempt. Failures answer with the
JSON error body of :mod:`studio.offline.errors`.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import io
import json
import logging
import pathlib
import re
import secrets
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

import numpy as np
import soundfile as sf
from aiohttp import web

from studio.offline import tags
from studio.offline.delivery import Delivery
from studio.offline.errors import ApiError, stream_error_event
from studio.offline.formats import AudioFormat
from studio.offline.instrumentation import EngineStats, FaultPlan
from studio.offline.params import TtsParams, parse_tts
from studio.offline.synthesis import Rendered, Renderer, Voicing
from studio.offline.voices import VoiceCatalog, VoiceSpec, preview_sentence
from studio.offline.websocket import STATUS_OK, SocketSession
from studio.offline.worker import ThreadStream

log = logging.getLogger(__name__)

ENGINE_VERSION = "studio-offline-1"
OLDEST_API_VERSION = dt.date(2024, 6, 10)
_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DEFAULT_PAGE = 10
_MAX_PAGE = 100
_GENDERS = ("masculine", "feminine", "gender_neutral")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class ServerState:
    """What the handlers share; one per running engine."""

    api_key: str
    data_dir: pathlib.Path
    executor: Executor | None = None
    catalog: VoiceCatalog = field(default_factory=VoiceCatalog)
    stats: EngineStats = field(default_factory=EngineStats)
    faults: FaultPlan = field(default_factory=FaultPlan)
    sessions: set[SocketSession] = field(default_factory=set)
    pending_drop: int | None = None  # applied to the next WebSocket opened
    previews: dict[str, bytes] = field(default_factory=dict)
    preview_lock: asyncio.Lock | None = None


STATE: web.AppKey[ServerState] = web.AppKey("state", ServerState)


def _json_error(exc: ApiError, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(exc.body(), status=exc.status, headers=headers)


def _route_name(request: web.Request) -> str:
    info = request.match_info.route.resource
    return info.canonical if info is not None else request.path


def check_version(value: str | None) -> None:
    """Validate a ``Cartesia-Version`` value.

    Raises:
        ApiError: 400 if missing, not ``YYYY-MM-DD``, or before 2024-06-10.
    """
    if not value:
        raise ApiError(400, "Cartesia-Version header is required (e.g. 2025-04-16)", "missing_version")
    try:
        if not _VERSION.match(value):
            raise ValueError(value)
        version = dt.date.fromisoformat(value)
    except ValueError:
        raise ApiError(400, f"invalid Cartesia-Version {value!r}: expected a date YYYY-MM-DD",
                       "invalid_version") from None
    if version < OLDEST_API_VERSION:
        raise ApiError(400, f"Cartesia-Version {value} is not supported; use "
                       f"{OLDEST_API_VERSION.isoformat()} or later", "invalid_version")


def _presented_key(request: web.Request, websocket: bool) -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    if request.headers.get("X-API-Key"):
        return request.headers["X-API-Key"]
    if websocket:
        return request.query.get("api_key") or request.query.get("access_token")
    return None


@web.middleware
async def _gatekeeper(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Counting, injected faults, auth and version, in that order."""
    state = request.app[STATE]
    route = _route_name(request)
    websocket = route == "/tts/websocket"
    state.stats.record(route + ":handshake" if websocket else route)
    fault = state.faults.take(route, request.path)
    if fault is not None:
        headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
        return _json_error(ApiError(fault.status, f"injected fault ({fault.status})"), headers)
    try:
        if route not in ("/",) and request.match_info.http_exception is None:
            key = _presented_key(request, websocket)
            if key is None:
                raise ApiError(401, "missing API key: send Authorization: Bearer <key>")
            if not secrets.compare_digest(key.encode(), state.api_key.encode()):
                raise ApiError(401, "invalid API key")
        if route != "/voices/{id}/preview" and request.match_info.http_exception is None:
            version = request.headers.get("Cartesia-Version")
            if version is None and websocket:
                version = request.query.get("cartesia_version")
            check_version(version)
        return await handler(request)
    except ApiError as exc:
        return _json_error(exc)
    except web.HTTPException as exc:
        if exc.status >= 400:
            return _json_error(ApiError(exc.status, exc.reason or "request failed"))
        raise


async def _read_json(request: web.Request) -> Any:
    try:
        return await request.json(loads=json.loads)
    except ValueError:
        raise ApiError(400, "request body is not valid JSON") from None


# --- status and voices ---------------------------------------------------------


async def api_status(request: web.Request) -> web.Response:
    return web.json_response({"ok": True, "version": ENGINE_VERSION})


def _expand_preview(request: web.Request) -> bool:
    values = request.query.getall("expand[]", []) + request.query.getall("expand", [])
    for value in values:
        if value != "preview_file_url":
            raise ApiError(400, f"expand[] accepts only preview_file_url; got {value!r}")
    return bool(values)


def _voice_json(request: web.Request, voice: VoiceSpec, expand: bool) -> dict[str, Any]:
    url = f"{request.scheme}://{request.host}/voices/{voice.id}/preview"
    return voice.to_json(preview_url=url, expand_preview=expand)


def _bool_query(request: web.Request, key: str) -> bool | None:
    raw = request.query.get(key)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise ApiError(400, f"{key} must be true or false; got {raw!r}")


async def list_voices(request: web.Request) -> web.Response:
    state = request.app[STATE]
    query = request.query
    try:
        limit = int(query.get("limit", _DEFAULT_PAGE))
    except ValueError:
        raise ApiError(400, f"limit must be an integer between 1 and {_MAX_PAGE}") from None
    if not 1 <= limit <= _MAX_PAGE:
        raise ApiError(400, f"limit must be between 1 and {_MAX_PAGE}; got {limit}")
    gender = query.get("gender") or None
    if gender is not None and gender not in _GENDERS:
        raise ApiError(400, f"gender must be one of {', '.join(_GENDERS)}; got {gender!r}")
    expand = _expand_preview(request)
    voices = state.catalog.search(query.get("q") or None, gender, _bool_query(request, "is_owner"))
    ids = [v.id for v in voices]
    after, before = query.get("starting_after") or None, query.get("ending_before") or None
    if after and before:
        raise ApiError(400, "use either starting_after or ending_before, not both")
    if before is not None:
        if before not in ids:
            raise ApiError(400, f"ending_before {before!r} is not a voice in this listing")
        end = ids.index(before)
        page = voices[max(end - limit, 0):end]
        has_more = end - limit > 0
    else:
        start = 0
        if after is not None:
            if after not in ids:
                raise ApiError(400, f"starting_after {after!r} is not a voice in this listing")
            start = ids.index(after) + 1
        page = voices[start:start + limit]
        has_more = start + limit < len(voices)
    return web.json_response({
        "data": [_voice_json(request, v, expand) for v in page],
        "has_more": has_more,
        "next_page": page[-1].id if has_more and page else None,
    })


def _voice_or_404(request: web.Request) -> VoiceSpec:
    voice_id = request.match_info["id"]
    voice = request.app[STATE].catalog.get(voice_id)
    if voice is None:
        raise ApiError(404, f"voice not found: {voice_id}", "voice_not_found")
    return voice


async def get_voice(request: web.Request) -> web.Response:
    voice = _voice_or_404(request)
    return web.json_response(_voice_json(request, voice, _expand_preview(request)))


def _render_preview(voice: VoiceSpec) -> bytes:
    fmt = AudioFormat("raw", "pcm_f32le", 22050)
    renderer = Renderer(fmt)
    blocks: list[bytes] = []
    pieces, _ = tags.parse(preview_sentence(voice.language))
    renderer.render(pieces, Voicing(voice.espeak_voice(), voice.pitch_offset), Delivery(),
                    lambda r: blocks.append(r.audio), lambda: False)
    renderer.finish(lambda r: blocks.append(r.audio))
    samples = np.frombuffer(b"".join(blocks), dtype="<f4")
    out = io.BytesIO()
    sf.write(out, samples, renderer.rate, format="WAV", subtype="PCM_16")
    return out.getvalue()


async def voice_preview(request: web.Request) -> web.Response:
    """A short WAV (16-bit, 22 050 Hz) of the voice; cached in memory and in
    ``data_dir/previews``."""
    state = request.app[STATE]
    voice = _voice_or_404(request)
    if state.preview_lock is None:
        state.preview_lock = asyncio.Lock()
    async with state.preview_lock:
        data = state.previews.get(voice.id)
        if data is None:
            path = state.data_dir / "previews" / f"{voice.id}.wav"
            loop = asyncio.get_running_loop()
            data = await loop.run_in_executor(state.executor, _load_or_render_preview, path, voice)
            state.previews[voice.id] = data
    return web.Response(body=data, content_type="audio/wav")


def _load_or_render_preview(path: pathlib.Path, voice: VoiceSpec) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        pass
    data = _render_preview(voice)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:  # the cache is an optimisation; serving still works
        log.warning("cannot cache voice preview at %s: %s", path, exc)
    return data


# --- TTS over HTTP ---------------------------------------------------------------


def _render_stream(state: ServerState, params: TtsParams) -> ThreadStream[Rendered]:
    renderer = Renderer(params.output)

    def work(emit: Callable[[Rendered], None], cancelled: Callable[[], bool]) -> None:
        pieces, _ = tags.parse(params.transcript)
        if renderer.render(pieces, params.voicing, params.delivery, emit, cancelled):
            renderer.finish(emit)

    return ThreadStream(state.executor, work)


async def tts_bytes(request: web.Request) -> web.StreamResponse:
    """Streams the container's bytes as they are rendered (chunked encoding)."""
    state = request.app[STATE]
    params = parse_tts(await _read_json(request), state.catalog)
    tags.parse(params.transcript)  # reject bad tags with a 400 before streaming starts
    response = web.StreamResponse(headers={"Content-Type": params.output.content_type})
    response.enable_chunked_encoding()
    stream = _render_stream(state, params)
    try:
        await response.prepare(request)
        async for block in stream:
            if block.audio:
                await response.write(block.audio)
        await response.write_eof()
    finally:
        stream.cancel()
    return response


def _sse(event: dict[str, Any]) -> bytes:
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


async def tts_sse(request: web.Request) -> web.StreamResponse:
    """Server-sent events in the seed's ``StreamingResponse`` shapes."""
    state = request.app[STATE]
    params = parse_tts(await _read_json(request), state.catalog, containers=("raw",))
    tags.parse(params.transcript)
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream", "Cache-Control": "no-cache",
    })
    response.enable_chunked_encoding()
    stream = _render_stream(state, params)
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
        except (ApiError, RuntimeError, OSError) as exc:
            log.exception("SSE synthesis failed")
            status = exc.status if isinstance(exc, ApiError) else 500
            await response.write(_sse(stream_error_event(status, str(exc), ctx)))
        else:
            await response.write(_sse({"type": "done", "done": True, "status_code": STATUS_OK,
                                       "context_id": ctx}))
        await response.write_eof()
    finally:
        stream.cancel()
    return response


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


async def tts_websocket(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    ws = web.WebSocketResponse(max_msg_size=16 * 1024 * 1024)
    await ws.prepare(request)
    session = SocketSession(ws, request, state.catalog, state.stats, state.executor)
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


def create_app(state: ServerState) -> web.Application:
    """The aiohttp application serving ``state``."""
    app = web.Application(middlewares=[_gatekeeper], client_max_size=8 * 1024 * 1024)
    app[STATE] = state
    app.router.add_get("/", api_status)
    app.router.add_get("/voices", list_voices)
    app.router.add_get("/voices/{id}", get_voice)
    app.router.add_get("/voices/{id}/preview", voice_preview)
    app.router.add_post("/tts/bytes", tts_bytes)
    app.router.add_post("/tts/sse", tts_sse)
    app.router.add_get("/tts/websocket", tts_websocket)
    return app
