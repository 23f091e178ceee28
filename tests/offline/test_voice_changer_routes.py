"""The offline voice changer (``POST /voice-changer/bytes`` and ``/sse``) driven by the
official v4 SDK, unmodified: the converted speech keeps the performance's length and
voiced/unvoiced timing while its median pitch moves to the target voice's; bad clips get
a clear 4xx."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile as sf
from offline_helpers import auth_headers, tts_body

from studio.offline import OfflineEngine, voice_conversion
from studio.offline.voices import BUILTIN_VOICES

MARCUS = BUILTIN_VOICES[1]  # masculine, en-us+m3, about 105 Hz
AVERY = BUILTIN_VOICES[0]  # feminine, en-us+f3, about 205 Hz
RATE = 22050
PERFORMANCE = ("The lighthouse keeper walked along the shore, counting the boats as they "
               "came home before the storm.")


@pytest.fixture(scope="module")
def performance(offline_engine: OfflineEngine) -> bytes:
    """A WAV of Marcus reading :data:`PERFORMANCE`, from the engine's own TTS."""
    body = tts_body(PERFORMANCE, voice={"mode": "id", "id": MARCUS.id},
                    output_format={"container": "wav", "encoding": "pcm_f32le",
                                   "sample_rate": RATE})
    response = httpx.post(f"{offline_engine.base_url}/tts/bytes", json=body,
                          headers=auth_headers(offline_engine), timeout=60.0)
    assert response.status_code == 200, response.text
    return response.content


def _samples(wav: bytes) -> tuple[np.ndarray, int]:
    samples, rate = sf.read(io.BytesIO(wav), dtype="float32")
    return samples, rate


def _check_conversion(original: np.ndarray, converted: np.ndarray, rate: int) -> None:
    assert abs(converted.shape[0] - original.shape[0]) <= 0.01 * original.shape[0]
    before, _ = voice_conversion.voicing_track(original, rate)
    after, _ = voice_conversion.voicing_track(converted, rate)
    frames = min(before.size, after.size)
    agreement = float(np.mean((before[:frames] > 0) == (after[:frames] > 0)))
    assert agreement >= 0.85, f"voicing agrees on only {agreement:.0%} of frames"
    target = voice_conversion.voice_profile(AVERY).median_f0_hz
    source = voice_conversion.measure(original, rate).median_f0_hz
    result = voice_conversion.measure(converted, rate).median_f0_hz
    assert abs(target / source - 1) > 0.3, "the test voices must differ clearly in pitch"
    assert abs(result / target - 1) <= 0.10, (source, target, result)


def test_sdk_bytes_converts_to_the_target_voice(sdk: Any, performance: bytes) -> None:
    original, rate = _samples(performance)
    response = sdk.voice_changer.generate(
        clip=("performance.wav", performance, "audio/wav"), voice_id=AVERY.id,
        output_format_container="wav", output_format_encoding="pcm_f32le",
        output_format_sample_rate=RATE)
    converted, out_rate = _samples(response.read())
    assert out_rate == RATE
    _check_conversion(original, converted, rate)


def test_sdk_sse_streams_the_conversion_in_chunks(sdk: Any, performance: bytes) -> None:
    original, rate = _samples(performance)
    events = list(sdk.voice_changer.generate_sse(
        clip=("performance.wav", performance, "audio/wav"), voice_id=AVERY.id,
        output_format_container="raw", output_format_encoding="pcm_f32le",
        output_format_sample_rate=RATE))
    chunks, done = events[:-1], events[-1]
    assert done.done is True and done.status_code == 200
    assert len(chunks) > 1
    assert all(c.done is False and c.status_code == 206 and c.sample_rate == RATE
               for c in chunks)
    pcm = b"".join(base64.b64decode(c.data) for c in chunks)
    converted = np.frombuffer(pcm, dtype="<f4")
    _check_conversion(original, converted, rate)


def _post(engine: OfflineEngine, clip: bytes, path: str = "/voice-changer/bytes",
          voice_id: str = AVERY.id) -> httpx.Response:
    return httpx.post(
        f"{engine.base_url}{path}", headers=auth_headers(engine), timeout=60.0,
        files={"clip": ("clip.wav", clip, "audio/wav")},
        data={"voice[id]": voice_id, "output_format[container]": "raw",
              "output_format[encoding]": "pcm_s16le", "output_format[sample_rate]": "16000"})


def _wav(samples: np.ndarray, rate: int, subtype: str = "PCM_16") -> bytes:
    out = io.BytesIO()
    sf.write(out, samples, rate, format="WAV", subtype=subtype)
    return out.getvalue()


def _message(response: httpx.Response) -> str:
    return str(json.loads(response.text).get("message") or response.text)


def test_silence_is_refused_as_no_speech(offline_engine: OfflineEngine) -> None:
    rng = np.random.default_rng(1)
    hiss = (rng.standard_normal(RATE * 2) * 1e-4).astype(np.float32)
    for path in ("/voice-changer/bytes", "/voice-changer/sse"):
        for clip in (hiss, hiss[:100]):
            response = _post(offline_engine, _wav(clip, RATE), path)
            assert response.status_code == 400
            assert "no speech" in _message(response)


def test_a_clip_over_the_limit_is_refused_from_its_header(offline_engine: OfflineEngine) -> None:
    seconds = voice_conversion.MAX_CLIP_SECONDS + 1
    long_clip = _wav(np.zeros(int(8000 * seconds), dtype=np.float32), 8000)
    response = _post(offline_engine, long_clip)
    assert response.status_code == 400
    assert "121 s" in _message(response)
    assert f"{voice_conversion.MAX_CLIP_SECONDS:,.0f} s" in _message(response)


def test_many_channels_and_not_audio_are_refused(offline_engine: OfflineEngine) -> None:
    many = _wav(np.zeros((800, 12), dtype=np.float32), 8000)
    response = _post(offline_engine, many)
    assert response.status_code == 400
    assert "12 channels" in _message(response)
    response = _post(offline_engine, b"this is a text file, not audio")
    assert response.status_code == 400
    assert "not audio" in _message(response)


def test_missing_fields_and_unknown_voice(offline_engine: OfflineEngine,
                                          performance: bytes) -> None:
    response = _post(offline_engine, performance, voice_id="no-such-voice")
    assert response.status_code == 404
    response = _post(offline_engine, b"")
    assert response.status_code == 400 and "clip is required" in _message(response)
    response = httpx.post(
        f"{offline_engine.base_url}/voice-changer/sse", headers=auth_headers(offline_engine),
        files={"clip": ("c.wav", performance, "audio/wav")}, timeout=60.0,
        data={"voice[id]": AVERY.id, "output_format[container]": "wav",
              "output_format[encoding]": "pcm_s16le", "output_format[sample_rate]": "16000"})
    assert response.status_code == 400  # SSE streams raw only, as /tts/sse
