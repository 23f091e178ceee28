"""``POST /infill/bytes`` (seed ``infill_bytes``; the v4 SDK's ``tts.infill``).

The request is ``multipart/form-data``: the audio files ``left_audio`` and/or
``right_audio`` (WAV, FLAC, MP3 or Ogg; at least one), and the text fields
``transcript``, ``voice_id``, ``model_id``, ``language`` and ``output_format[container]``,
``output_format[encoding]``, ``output_format[sample_rate]``, ``output_format[bit_rate]``.
The response is the new middle audio only, in the output format (``audio/wav`` for
wav, as the seed's response type says).

The offline engine cannot continue a voice the way Cartesia's model does: it speaks the
transcript with the voice's espeak-ng renderer, exactly as ``/tts/bytes`` would, and
makes it fit its neighbours by level: the middle is scaled so that the RMS of its
active speech (10 ms frames within 30 dB of the loud ones, silence left out) equals that
of the supplied clips, never so far that a sample would pass -0.1 dBFS.
"""

from __future__ import annotations

import asyncio
import logging
import struct

import numpy as np
import numpy.typing as npt
from aiohttp import web

from studio.audio import codecs
from studio.audio.buffers import resample
from studio.offline import espeak, tags
from studio.offline.errors import bad_request
from studio.offline.formats import AudioFormat, StreamEncoder, wav_header
from studio.offline.multipart import Form, decode_audio, read_form
from studio.offline.params import TtsParams, parse_tts
from studio.offline.state import STATE
from studio.offline.synthesis import Rendered, Renderer
from studio.offline.voices import VoiceCatalog

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]

SIDES = ("left_audio", "right_audio")
_OUTPUT_KEYS = ("container", "encoding", "sample_rate", "bit_rate")

#: Frames quieter than this below the loud (95th percentile) frames are silence (dB).
ACTIVE_GATE_DB = 30.0
#: ... and so is anything under this absolute level (dBFS).
SILENCE_DBFS = -70.0
#: The middle's peak is kept at or under this after the level match (-0.1 dBFS).
PEAK_CEILING = 10 ** (-0.1 / 20)
_LEVEL_FRAME_S = 0.010


def _output_format(form: Form) -> dict[str, object] | None:
    """The ``output_format[...]`` fields as the JSON object ``parse_output_format``
    validates (numbers as ints where they are digits), or None if none were sent."""
    raw: dict[str, object] = {}
    for key in _OUTPUT_KEYS:
        value = form.text(f"output_format[{key}]")
        if value is not None:
            raw[key] = int(value) if key != "container" and value.isdigit() else value
    return raw or None


def parse_infill(form: Form, catalog: VoiceCatalog) -> TtsParams:
    """Validate the text fields of an infill request, as ``/tts/bytes`` validates its
    body (:func:`studio.offline.params.parse_tts`).

    Raises:
        ApiError: 400 for a missing side, a blank transcript, a missing voice, model,
            language or output format that ``/tts/bytes`` would refuse; 404 for an
            unknown voice.
    """
    if not any(side in form.files for side in SIDES):
        raise bad_request("infill needs left_audio, right_audio or both (audio files)")
    transcript = form.text("transcript")
    if transcript is None or not transcript.strip():
        raise bad_request("transcript is required: the words to speak between the clips")
    voice_id = form.text("voice_id")
    if not voice_id:
        raise bad_request("voice_id is required")
    body = {
        "model_id": form.text("model_id"),
        "transcript": transcript,
        "voice": {"mode": "id", "id": voice_id},
        "language": form.text("language") or None,
        "output_format": _output_format(form),
    }
    return parse_tts(body, catalog)


def active_power(samples: FloatArray, sample_rate: int) -> npt.NDArray[np.float64]:
    """Mean-square power of the 10 ms frames of ``samples`` that hold sound: within
    :data:`ACTIVE_GATE_DB` of the loud frames and above :data:`SILENCE_DBFS`."""
    size = max(int(sample_rate * _LEVEL_FRAME_S), 1)
    frames = samples.shape[0] // size
    if frames == 0:
        return np.zeros(0)
    blocks = samples[:frames * size].astype(np.float64).reshape(frames, size)
    power: npt.NDArray[np.float64] = np.mean(blocks * blocks, axis=1)
    floor = 10 ** (SILENCE_DBFS / 10)
    audible = power[power > floor]
    if audible.size == 0:
        return audible
    gate = max(float(np.percentile(audible, 95)) * 10 ** (-ACTIVE_GATE_DB / 10), floor)
    active: npt.NDArray[np.float64] = power[power > gate]
    return active


def match_level(middle: FloatArray, rate: int, sides: list[tuple[FloatArray, int]]) -> FloatArray:
    """``middle`` scaled so its active-speech RMS equals that of ``sides`` taken
    together (each ``(samples, rate)``), limited so that its peak stays under
    :data:`PEAK_CEILING`; unchanged if either has no sound in it."""
    target = np.concatenate([active_power(s, r) for s, r in sides] or [np.zeros(0)])
    own = active_power(middle, rate)
    if target.size == 0 or own.size == 0:
        return middle
    gain = float(np.sqrt(np.mean(target) / np.mean(own)))
    peak = float(np.max(np.abs(middle))) if middle.size else 0.0
    if peak > 0.0:
        gain = min(gain, PEAK_CEILING / peak)
    return (middle * np.float32(gain)).astype(np.float32)


def encode_whole(samples: FloatArray, fmt: AudioFormat) -> bytes:
    """A complete file (wav with its true sizes, mp3) or raw PCM of ``samples``
    (float32 mono at ``fmt.sample_rate``)."""
    if fmt.container == "mp3":
        encoder = StreamEncoder(fmt, fmt.sample_rate)
        return encoder.feed(samples) + encoder.finish()
    pcm = codecs.encode(samples, fmt.encoding)
    if fmt.container == "raw":
        return pcm
    header = bytearray(wav_header(fmt.encoding, fmt.sample_rate))
    pad = b"\0" * (len(pcm) % 2)  # RIFF chunks are word-aligned
    struct.pack_into("<I", header, 4, len(header) - 8 + len(pcm) + len(pad))
    struct.pack_into("<I", header, len(header) - 4, len(pcm))
    return bytes(header) + pcm + pad


def render_middle(params: TtsParams, clips: dict[str, bytes]) -> bytes:
    """The whole infill, blocking (run it in the engine's executor): decode the clips,
    speak the transcript, resample to the output rate, match the level, encode.

    Raises:
        ApiError: 400 naming a clip that is empty or not audio.
        EspeakError: espeak-ng failed.
    """
    sides = [decode_audio(clips[side], side) for side in SIDES if side in clips]
    rate = espeak.sample_rate()
    blocks: list[Rendered] = []
    renderer = Renderer(AudioFormat("raw", "pcm_f32le", rate))
    pieces, _ = tags.parse(params.transcript)
    renderer.render(pieces, params.voicing, params.delivery, blocks.append, lambda: False)
    renderer.finish(blocks.append)
    spoken = codecs.decode(b"".join(b.audio for b in blocks), "pcm_f32le")
    middle = resample(spoken, rate, params.output.sample_rate)
    middle = match_level(middle, params.output.sample_rate, sides)
    return encode_whole(middle, params.output)


async def infill_bytes(request: web.Request) -> web.Response:
    """The middle audio, in the requested output format."""
    state = request.app[STATE]
    form = await read_form(request, SIDES)
    params = parse_infill(form, state.catalog)
    clips = {side: form.files[side] for side in SIDES if side in form.files}
    loop = asyncio.get_running_loop()
    body = await loop.run_in_executor(state.executor, render_middle, params, clips)
    return web.Response(body=body, headers={"Content-Type": params.output.content_type})
