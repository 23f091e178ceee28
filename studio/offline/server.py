"""The offline engine's aiohttp application: Cartesia's HTTP and WebSocket API.

Routes (``cartesia-openapi.yaml`` paths; the v4 SDK's calls in brackets):

- ``GET /`` -> ``{"ok": true, "version": ...}`` [``get_status``]; no auth,
  like the seed, but ``Cartesia-Version`` is checked.
- ``GET /voices`` [``voices.list``], ``GET /voices/{id}`` [``voices.get``],
  ``GET /voices/{id}/preview`` (what ``preview_file_url`` points at).
- ``POST /voices/clone`` [``voices.clone``] (multipart), ``PATCH /voices/{id}``
  [``voices.update``], ``DELETE /voices/{id}`` [``voices.delete``],
  ``POST /voices/localize`` [``voices.localize``]: voices of your own, kept in
  the data directory (:mod:`~studio.offline.voice_edit_routes`).
- ``POST /tts/bytes`` [``tts.generate``], ``POST /tts/sse``
  [``tts.generate_sse``], ``GET /tts/websocket`` [``tts.websocket_connect``].
  ``pronunciation_dict_id`` applies that dictionary with Cartesia's matching
  rule: respellings replace the text, IPA aliases become espeak-ng phoneme
  input, word timestamps keep the transcript's words
  (:mod:`~studio.offline.pronunciation`); an unknown id is a 404.
- ``GET``/``POST /pronunciation-dicts/``, ``GET``/``PATCH``/``DELETE
  /pronunciation-dicts/{id}``, ``POST /pronunciation-dicts/{id}/pin``/``unpin``
  [``pronunciation_dicts.*``]: kept in the data directory
  (:mod:`~studio.offline.dict_routes`).
- ``/datasets/`` (and their ``/files``) [``datasets.*``, ``datasets.files.*``] and
  ``/fine-tunes/`` [``fine_tunes.*``]: professional voice cloning, kept in the data
  directory; a fine-tune trains in the background and makes a voice of yours
  (:mod:`~studio.offline.dataset_routes`, :mod:`~studio.offline.fine_tune_routes`).
- ``POST /infill/bytes`` [``tts.infill``] and ``POST /stt`` [``stt.transcribe``]:
  ``multipart/form-data`` bodies of up to 64 MB
  (:data:`~studio.offline.multipart.MAX_BODY_BYTES`); JSON bodies are limited to
  4 MB and 64 levels (:mod:`~studio.offline.bodies`).

Every request but the status page needs ``Authorization: Bearer <key>``
(``X-API-Key`` is accepted too); the WebSocket may pass ``?api_key=`` or
``?access_token=`` instead. ``Cartesia-Version`` (WebSocket: or
``?cartesia_version=``) must be a date ``YYYY-MM-DD`` from 2024-06-10 on; the
preview file, fetched like a plain URL, is exempt. Failures answer with the
JSON error body of :mod:`studio.offline.errors`.
Handlers live in :mod:`~studio.offline.voice_routes`,
:mod:`~studio.offline.voice_edit_routes`, :mod:`~studio.offline.dict_routes`,
:mod:`~studio.offline.tts_routes`, :mod:`~studio.offline.infill_routes`,
:mod:`~studio.offline.stt_routes` and :mod:`~studio.offline.voice_changer_routes`; this
module holds the application and the
middleware that counts requests, injects faults and checks key and version.
Before it, :func:`~studio.offline.guard.guard` refuses non-loopback ``Host``
and browser ``Origin`` headers and oversize bodies, gives each request its id
and logs 5xx answers; JSON is read through :mod:`~studio.offline.bodies`.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from studio.offline import dataset_routes, dict_routes, fine_tune_routes
from studio.offline.errors import ApiError
from studio.offline.guard import add_response_headers, error_response, guard
from studio.offline.infill_routes import infill_bytes
from studio.offline.multipart import MAX_BODY_BYTES
from studio.offline.state import STATE, ServerState
from studio.offline.stt_routes import stt_transcribe
from studio.offline.tts_routes import tts_bytes, tts_sse, tts_websocket
from studio.offline.voice_changer_routes import voice_changer_bytes, voice_changer_sse
from studio.offline.voice_edit_routes import (
    clone_voice,
    delete_voice,
    localize_voice,
    update_voice,
)
from studio.offline.voice_routes import get_voice, list_voices, voice_preview

log = logging.getLogger(__name__)

ENGINE_VERSION = "studio-offline-1"
OLDEST_API_VERSION = dt.date(2024, 6, 10)
_VERSION = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _route_name(request: web.Request) -> str:
    info = request.match_info.route.resource
    return info.canonical if info is not None else request.path


def check_version(value: str | None) -> None:
    """Validate a ``Cartesia-Version`` value.

    Raises:
        ApiError: 400 if missing, not ``YYYY-MM-DD``, or before 2024-06-10.
    """
    if not value:
        raise ApiError(
            400, "Cartesia-Version header is required (e.g. 2025-04-16)", "missing_version"
        )
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


def _presented_key(request: web.Request, websocket: bool) -> bytes | None:
    """The key the request presents, as UTF-8 bytes.

    Raises:
        ApiError: 401 for a key that is not text (aiohttp hands undecodable
            header bytes over as surrogates, which cannot be encoded back).
    """
    header = request.headers.get("Authorization", "")
    key: str | None = None
    if header[:7].lower() == "bearer ":
        key = header[7:].strip()
    elif request.headers.get("X-API-Key"):
        key = request.headers["X-API-Key"]
    elif websocket:
        key = request.query.get("api_key") or request.query.get("access_token")
    if key is None:
        return None
    try:
        return key.encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(401, "invalid API key: it is not UTF-8 text") from None


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
        return error_response(
            request, ApiError(fault.status, f"injected fault ({fault.status})"), headers)
    try:
        if route not in ("/",) and request.match_info.http_exception is None:
            key = _presented_key(request, websocket)
            if key is None:
                raise ApiError(401, "missing API key: send Authorization: Bearer <key>")
            if not secrets.compare_digest(key, state.api_key.encode()):
                raise ApiError(401, "invalid API key")
        if route != "/voices/{id}/preview" and request.match_info.http_exception is None:
            version = request.headers.get("Cartesia-Version")
            if version is None and websocket:
                version = request.query.get("cartesia_version")
            check_version(version)
        return await handler(request)
    except ApiError as exc:
        return error_response(request, exc)
    except web.HTTPException as exc:
        if exc.status >= 400:
            return error_response(request, ApiError(exc.status, exc.reason or "request failed"))
        raise


async def api_status(request: web.Request) -> web.Response:
    return web.json_response({"ok": True, "version": ENGINE_VERSION})


def create_app(state: ServerState) -> web.Application:
    """The aiohttp application serving ``state``."""
    access = state.access
    app = web.Application(middlewares=[guard(access), _gatekeeper],
                          client_max_size=MAX_BODY_BYTES)
    app[STATE] = state

    async def _prepare(request: web.Request, response: web.StreamResponse) -> None:
        await add_response_headers(access, request, response)

    app.on_response_prepare.append(_prepare)
    app.router.add_get("/", api_status)
    app.router.add_get("/voices", list_voices)
    app.router.add_post("/voices/clone", clone_voice)
    app.router.add_post("/voices/localize", localize_voice)
    app.router.add_get("/voices/{id}", get_voice)
    app.router.add_patch("/voices/{id}", update_voice)
    app.router.add_delete("/voices/{id}", delete_voice)
    app.router.add_get("/voices/{id}/preview", voice_preview)
    app.router.add_post("/tts/bytes", tts_bytes)
    app.router.add_post("/tts/sse", tts_sse)
    app.router.add_get("/tts/websocket", tts_websocket)
    app.router.add_post("/infill/bytes", infill_bytes)
    app.router.add_post("/stt", stt_transcribe)
    app.router.add_post("/voice-changer/bytes", voice_changer_bytes)
    app.router.add_post("/voice-changer/sse", voice_changer_sse)
    dict_routes.install(app, state.data_dir, state.executor)
    fine_tune_routes.install(app, state)
    dataset_routes.install(app)
    return app
