"""``GET /voices``, ``GET /voices/{id}`` and the preview file they point at.

Shapes and query parameters follow ``cartesia-openapi.yaml`` (``voices_list``,
``voices_get``, ``GetVoicesResponse``): cursor pagination with
``starting_after``/``ending_before`` (``limit`` 1..100, default 10), ``q``
matching name, description or id, ``gender``, ``is_owner``, ``language`` (an
engine extension: a seed language code) and ``expand[]=preview_file_url`` (the
v4 SDK sends it as repeated ``expand``). Owned voices (cloned, localized) are
listed after the built-ins, oldest first.
The preview file is a short 16-bit 22 050 Hz WAV of the voice saying a
sentence in its language, rendered once and cached in memory and under
``data_dir/previews``; deleting a voice deletes its preview.
"""

from __future__ import annotations

import asyncio
import io
import logging
import pathlib
from typing import Any

import numpy as np
import soundfile as sf
from aiohttp import web

from studio.offline import tags
from studio.offline.delivery import Delivery
from studio.offline.errors import ApiError
from studio.offline.formats import AudioFormat
from studio.offline.state import STATE, ServerState
from studio.offline.synthesis import Renderer
from studio.offline.voices import VoiceSpec, preview_sentence

log = logging.getLogger(__name__)

_DEFAULT_PAGE = 10
_MAX_PAGE = 100
#: ``GenderPresentation`` of the seed.
GENDERS = ("masculine", "feminine", "gender_neutral")


def _expand_preview(request: web.Request) -> bool:
    values = request.query.getall("expand[]", []) + request.query.getall("expand", [])
    for value in values:
        if value != "preview_file_url":
            raise ApiError(400, f"expand[] accepts only preview_file_url; got {value!r}")
    return bool(values)


def voice_json(request: web.Request, voice: VoiceSpec, expand: bool) -> dict[str, Any]:
    """The ``Voice`` body of ``voice``; ``preview_file_url`` (this engine's preview
    route) only when ``expand``."""
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
    if gender is not None and gender not in GENDERS:
        raise ApiError(400, f"gender must be one of {', '.join(GENDERS)}; got {gender!r}")
    expand = _expand_preview(request)
    voices = state.catalog.search(query.get("q") or None, gender, _bool_query(request, "is_owner"),
                                  query.get("language") or None)
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
        "data": [voice_json(request, v, expand) for v in page],
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
    return web.json_response(voice_json(request, voice, _expand_preview(request)))


def _render_preview(voice: VoiceSpec) -> bytes:
    fmt = AudioFormat("raw", "pcm_f32le", 22050)
    renderer = Renderer(fmt)
    blocks: list[bytes] = []
    pieces, _ = tags.parse(preview_sentence(voice.language))
    renderer.render(pieces, voice.voicing(), Delivery(), lambda r: blocks.append(r.audio),
                    lambda: False)
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
            path = _preview_path(state, voice.id)
            loop = asyncio.get_running_loop()
            data = await loop.run_in_executor(state.executor, _load_or_render_preview, path, voice)
            state.previews[voice.id] = data
    return web.Response(body=data, content_type="audio/wav")


def _preview_path(state: ServerState, voice_id: str) -> pathlib.Path:
    return state.data_dir / "previews" / f"{voice_id}.wav"


async def forget_preview(state: ServerState, voice_id: str) -> None:
    """Drop a (deleted) voice's preview from the memory cache and from disk."""
    if state.preview_lock is None:
        state.preview_lock = asyncio.Lock()
    async with state.preview_lock:
        state.previews.pop(voice_id, None)
        try:
            _preview_path(state, voice_id).unlink(missing_ok=True)
        except OSError as exc:
            log.warning("cannot remove the preview of deleted voice %s: %s", voice_id, exc)


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
