"""``POST /voices/clone``, ``PATCH /voices/{id}``, ``DELETE /voices/{id}`` and
``POST /voices/localize``: the offline engine's owned voices.

Shapes follow ``cartesia-openapi.yaml`` (``voices_clone``, ``voices_update``,
``voices_delete``, ``voices_localize``; ``VoiceMetadata``, ``UpdateVoiceRequest``,
``LocalizeVoiceRequest``) and the v4 SDK (``voices.clone``, ``.update``, ``.delete``,
``.localize``). Clone and localize answer 200 with the new voice (every ``Voice`` field
plus ``VoiceMetadata``'s ``user_id``); update answers the ``Voice``; delete answers 204.

Statuses: 400 for a bad body (missing, undecodable, silent or under 1 s clip; blank
name; unknown language, dialect or gender), 404 for an unknown voice id (also as
``base_voice_id`` or localize's ``voice_id``), **403 for PATCH or DELETE of a built-in
voice** (it exists and is readable, but it is not yours: Cartesia's answer for a voice
you do not own), 413 for a body over 64 MB, 500 if the store cannot be written (the
change is then undone) or could not be read when the engine started (changes are then
refused, so its voices are not written over).

Each change is saved to ``<data_dir>/voices.json`` (:mod:`studio.offline.voice_store`)
before it is answered. Changes are serialised from lookup to save, so the voices served
are always the voices last saved; a clip is decoded and measured in the executor,
before the change begins.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

from aiohttp import web

from studio.api.models import LANGUAGES
from studio.offline.bodies import json_object, read_json
from studio.offline.clip_analysis import ClipAnalysis, ClipError, analyse_clip
from studio.offline.cloning import map_clip
from studio.offline.errors import ApiError, bad_request
from studio.offline.localize import localized_voice, now_iso, parse_localize
from studio.offline.multipart import decode_audio, read_form
from studio.offline.state import STATE, ServerState
from studio.offline.voice_routes import GENDERS, forget_preview, voice_json
from studio.offline.voices import ESPEAK_LANGUAGE_VOICES, VoiceSpec

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def _changing_voices(state: ServerState) -> AsyncIterator[None]:
    """Hold the store lock while a request looks up, changes and saves the owned voices.

    Changes are serialised, so memory always matches the last save: when a save fails
    (or is refused, :class:`~studio.offline.voice_store.StoreUnreadableError`) the owned
    voices go back to what they were before this change, and the request gets 500. A
    change undone alone could drop another request's change that was already saved.
    """
    if state.store_lock is None:
        state.store_lock = asyncio.Lock()
    async with state.store_lock:
        before = state.catalog.owned()
        yield
        if state.store is None:
            return
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(state.executor, state.store.save, state.catalog.owned())
        except OSError as exc:
            state.catalog.set_owned(before)
            log.error("cannot save the voice store %s: %s", state.store.path, exc)
            raise ApiError(500, f"the voice could not be saved: {exc.strerror or exc}") from None


#: For other routes that add owned voices (fine-tunes): the same lock and save.
changing_voices = _changing_voices


def _owned_or_error(state: ServerState, voice_id: str) -> VoiceSpec:
    voice = state.catalog.get(voice_id)
    if voice is None:
        raise ApiError(404, f"voice not found: {voice_id}", "voice_not_found")
    if not voice.is_owner:
        raise ApiError(403, f"voice {voice_id} is a built-in voice; only voices you cloned "
                            "or localized can be changed or deleted")
    return voice


def _language(raw: str | None) -> str:
    language = raw or "en"
    if language not in LANGUAGES:
        raise bad_request(f"language must be one of {', '.join(LANGUAGES)}; got {language!r}")
    if language not in ESPEAK_LANGUAGE_VOICES:
        raise bad_request(f"language {language!r} is not available in the offline engine "
                          "(espeak-ng has no voice for it)")
    return language


def _measure_clip(data: bytes) -> ClipAnalysis:
    """Decode and measure a clip; run in the executor, since decoding a long or
    compressed clip takes as long as measuring it and would stall the event loop.

    Raises:
        ApiError: 400 for a clip that is not audio or cannot be measured.
    """
    samples, rate = decode_audio(data, "clip")
    try:
        return analyse_clip(samples, rate)
    except ClipError as exc:
        raise bad_request(f"clip: {exc}") from None


async def clone_voice(request: web.Request) -> web.Response:
    """``POST /voices/clone``: multipart ``clip``, ``name``, ``description``,
    ``language``, ``base_voice_id`` (``enhance`` is accepted and ignored)."""
    state = request.app[STATE]
    form = await read_form(request, {"clip"})
    name = (form.text("name") or "").strip()
    if not name:
        raise bad_request("name is required: what should the new voice be called?")
    language = _language(form.text("language"))
    base_id = form.text("base_voice_id") or None
    base = None
    if base_id is not None:
        base = state.catalog.get(base_id)
        if base is None:
            raise ApiError(404, f"base voice not found: {base_id}", "voice_not_found")
    if "clip" not in form.files:
        raise bad_request("clip is required: an audio file of the voice (wav, flac, mp3 or ogg)")
    loop = asyncio.get_running_loop()
    analysis = await loop.run_in_executor(state.executor, _measure_clip, form.files["clip"])
    derived = map_clip(analysis)
    espeak_language = ESPEAK_LANGUAGE_VOICES[language]
    if base is not None and base.language == language:
        espeak_language = base.espeak_language  # keep the base voice's accent
    clip = {"median_f0_hz": analysis.median_f0_hz, "f0_low_hz": analysis.f0_low_hz,
            "f0_high_hz": analysis.f0_high_hz, "syllables_per_s": analysis.syllables_per_s,
            "duration_s": analysis.duration_s}
    voice = VoiceSpec(
        id=str(uuid.uuid4()),
        name=name,
        description=form.text("description") or "",
        language=language,
        locale=language,
        gender=derived.gender,
        accent=None,
        espeak_language=espeak_language,
        variant=derived.variant,
        pitch_offset=derived.pitch_offset,
        range_offset=derived.range_offset,
        rate_scale=derived.rate_scale,
        is_owner=True,
        created_at=now_iso(),
        clip=tuple(clip.items()),
    )
    async with _changing_voices(state):
        state.catalog.put(voice)
    log.info("cloned voice %s from a %.1f s clip (%.1f s measured): median %.0f Hz -> "
             "%s%+d, range %+d, rate x%.2f", voice.id, analysis.duration_s,
             analysis.analysed_s, analysis.median_f0_hz, voice.variant, voice.pitch_offset,
             voice.range_offset, voice.rate_scale)
    return web.json_response(voice_json(request, voice, False))


async def update_voice(request: web.Request) -> web.Response:
    """``PATCH /voices/{id}``: ``name``, ``description``, ``gender`` (null clears it),
    ``accent``; fields left out keep their value."""
    state = request.app[STATE]
    voice = _owned_or_error(state, request.match_info["id"])
    body = await json_object(request)
    changes: dict[str, object] = {}
    if "name" in body:
        name = body["name"]
        if not isinstance(name, str) or not name.strip():
            raise bad_request("name must be a non-empty string")
        changes["name"] = name.strip()
    if "description" in body:
        if not isinstance(body["description"], str):
            raise bad_request("description must be a string")
        changes["description"] = body["description"]
    if "gender" in body:
        gender = body["gender"]
        if gender is not None and gender not in GENDERS:
            raise bad_request(f"gender must be one of {', '.join(GENDERS)} or null; "
                              f"got {gender!r}")
        changes["gender"] = gender
    if "accent" in body:
        if body["accent"] is not None and not isinstance(body["accent"], str):
            raise bad_request("accent must be a string or null")
        changes["accent"] = body["accent"]
    async with _changing_voices(state):
        # Looked up again: another request may have changed or deleted it meanwhile.
        voice = _owned_or_error(state, voice.id)
        updated = replace(voice, **changes)  # type: ignore[arg-type]  # checked above
        state.catalog.put(updated)
    return web.json_response(voice_json(request, updated, False))


async def delete_voice(request: web.Request) -> web.Response:
    """``DELETE /voices/{id}``: 204; the voice's preview goes too."""
    state = request.app[STATE]
    async with _changing_voices(state):
        voice = _owned_or_error(state, request.match_info["id"])
        state.catalog.remove(voice.id)
    await forget_preview(state, voice.id)
    return web.Response(status=204)


async def localize_voice(request: web.Request) -> web.Response:
    """``POST /voices/localize``: a ``LocalizeVoiceRequest`` JSON body."""
    state = request.app[STATE]
    parsed = parse_localize(await read_json(request))
    async with _changing_voices(state):
        source = state.catalog.get(parsed.voice_id)
        if source is None:
            raise ApiError(404, f"voice not found: {parsed.voice_id}", "voice_not_found")
        voice = localized_voice(source, parsed)
        state.catalog.put(voice)
    return web.json_response(voice_json(request, voice, False))
