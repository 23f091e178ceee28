"""``POST /voice-changer/bytes`` and ``POST /voice-changer/sse`` (seed
``voiceChanger_bytes``, ``voiceChanger_sse``; the v4 SDK's ``voice_changer.generate`` and
``.generate_sse``, ``bytes``/``sse`` in the SDK reference).

The request is ``multipart/form-data``: the audio file ``clip`` and the text fields
``voice[id]``, ``output_format[container]``, ``output_format[sample_rate]``,
``output_format[encoding]`` (raw, wav) and ``output_format[bit_rate]`` (mp3). ``bytes``
answers the whole converted file (``audio/wav`` for wav, as the seed's response type);
``sse`` answers ``text/event-stream`` with ``chunk`` events (base64 ``data``,
``sample_rate``, ``step_time`` in ms, ``status_code`` 206) and a final ``done`` event
(``status_code`` 200), the shapes of the SDK's ``VoiceChangerSSEEvent``; its container is
``raw``. The conversion is :mod:`studio.offline.voice_conversion`.

Statuses: 400 for a missing or bad field, a clip that is empty, not audio, over
:data:`~studio.offline.voice_conversion.MAX_CLIP_SECONDS`, over 8 channels or
384 kHz (checked from the header before decoding), or without voiced speech; 404 for
an unknown voice; 413 for a body over 64 MB. Every check runs before the response
starts, so a refusal is a JSON error with its status, never a half stream.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

import parselmouth
from aiohttp import web

from studio.audio import codecs
from studio.audio.buffers import AudioFileError, resample
from studio.audio.untrusted import AudioLimitError, decode_untrusted
from studio.offline.errors import ApiError, bad_request
from studio.offline.formats import AudioFormat, parse_output_format
from studio.offline.infill_routes import encode_whole
from studio.offline.multipart import Form, read_form
from studio.offline.state import STATE
from studio.offline.voice_conversion import (
    MAX_CLIP_SECONDS,
    NoSpeechError,
    convert,
    voice_profile,
)
from studio.offline.voices import VoiceCatalog, VoiceSpec

_OUTPUT_KEYS = ("container", "encoding", "sample_rate", "bit_rate")
#: Audio per SSE chunk event, seconds.
SSE_CHUNK_SECONDS = 0.5
#: ``status_code`` of chunk and done events (the SDK's ``VoiceChangerSSEChunk``/``Done``).
CHUNK_STATUS = 206
DONE_STATUS = 200


def _output_format(form: Form, containers: tuple[str, ...]) -> AudioFormat:
    raw: dict[str, object] = {}
    for key in _OUTPUT_KEYS:
        value = form.text(f"output_format[{key}]")
        if value is not None:
            raw[key] = int(value) if key != "container" and value.isdigit() else value
    return parse_output_format(raw or None, containers)


def parse_request(form: Form, catalog: VoiceCatalog,
                  containers: tuple[str, ...]) -> tuple[bytes, VoiceSpec, AudioFormat]:
    """The clip, target voice and output format of a voice changer form.

    Raises:
        ApiError: 400 for a missing or empty clip, voice or output format; 404 for an
            unknown voice.
    """
    clip = form.files.get("clip")
    if not clip:
        raise bad_request("clip is required: the audio file of speech to convert "
                          "(wav, flac, mp3 or ogg)")
    voice_id = form.text("voice[id]")
    if not voice_id:
        raise bad_request("voice[id] is required: the voice to convert the clip to")
    voice = catalog.get(voice_id)
    if voice is None:
        raise ApiError(404, f"voice not found: {voice_id}", "voice_not_found")
    return clip, voice, _output_format(form, containers)


def change_voice(clip: bytes, voice: VoiceSpec, output_rate: int) -> codecs.FloatArray:
    """Decode ``clip``, convert it to ``voice``, resample to ``output_rate`` Hz; blocking
    (run it in the engine's executor).

    Returns:
        float32 mono at ``output_rate``.

    Raises:
        ApiError: 400 for a clip that is not audio, over the limits, or without speech.
    """
    try:
        samples, rate = decode_untrusted(clip, max_seconds=MAX_CLIP_SECONDS)
    except AudioLimitError as exc:
        raise bad_request(f"clip is over the voice changer's limits: {exc}") from None
    except AudioFileError as exc:
        raise bad_request(f"clip is not audio the offline engine can decode "
                          f"(wav, flac, mp3 or ogg): {exc}") from None
    try:
        converted, rate = convert(samples, rate, voice_profile(voice))
    except NoSpeechError as exc:
        raise bad_request(f"clip has no speech to convert: {exc}") from None
    except parselmouth.PraatError as exc:  # audio Praat cannot analyse (none known)
        raise bad_request(f"clip could not be analysed: {' '.join(str(exc).split())}") from None
    return resample(converted, rate, output_rate)


async def _converted(request: web.Request,
                     containers: tuple[str, ...]) -> tuple[codecs.FloatArray, AudioFormat]:
    state = request.app[STATE]
    form = await read_form(request, {"clip"})
    clip, voice, fmt = parse_request(form, state.catalog, containers)
    loop = asyncio.get_running_loop()
    samples = await loop.run_in_executor(state.executor, change_voice, clip, voice,
                                         fmt.sample_rate)
    return samples, fmt


async def voice_changer_bytes(request: web.Request) -> web.Response:
    """The converted clip, whole, in the requested output format."""
    samples, fmt = await _converted(request, ("raw", "wav", "mp3"))
    body = encode_whole(samples, fmt)
    return web.Response(body=body, headers={"Content-Type": fmt.content_type})


def _sse(event: dict[str, Any]) -> bytes:
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


async def voice_changer_sse(request: web.Request) -> web.StreamResponse:
    """The converted clip as ``chunk`` events of :data:`SSE_CHUNK_SECONDS`, then
    ``done``."""
    started = time.perf_counter()
    samples, fmt = await _converted(request, ("raw",))
    step_ms = round((time.perf_counter() - started) * 1000.0, 3)
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream", "Cache-Control": "no-cache",
    })
    response.enable_chunked_encoding()
    size = max(int(fmt.sample_rate * SSE_CHUNK_SECONDS), 1)
    try:
        await response.prepare(request)
        for start in range(0, samples.shape[0], size):
            pcm = codecs.encode(samples[start:start + size], fmt.encoding)
            await response.write(_sse({
                "type": "chunk", "data": base64.b64encode(pcm).decode("ascii"),
                "done": False, "status_code": CHUNK_STATUS, "sample_rate": fmt.sample_rate,
                "step_time": step_ms,
            }))
            step_ms = 0.0  # the conversion's time is reported once, on the first chunk
        await response.write(_sse({"type": "done", "done": True, "status_code": DONE_STATUS}))
        await response.write_eof()
    except ConnectionResetError:
        pass  # the client left; the audio was already converted, nothing to stop
    return response
