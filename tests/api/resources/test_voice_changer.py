"""``client.voice_changer.bytes``/``.sse``: the multipart body they send (the seed's
field names, as the v4 SDK sends them), their events and errors, and both calls against
the offline engine over loopback."""

from __future__ import annotations

import base64
import json

import httpx
import numpy as np
import pytest
from form_parts import Part, parts, speech_wav, texts
from scripted_transport import Recorder, client_for

from studio.api import (
    BadRequestError,
    CartesiaClient,
    ChunkEvent,
    DoneEvent,
    NotFoundError,
    OutputFormat,
)
from studio.offline import OfflineEngine, voice_conversion
from studio.offline.voices import BUILTIN_VOICES

RAW = OutputFormat("raw", "pcm_s16le", 16000)
WAV = OutputFormat("wav", "pcm_f32le", 44100)


async def test_bytes_sends_the_seeds_multipart_fields() -> None:
    rec = Recorder(httpx.Response(200, content=b"RIFF-audio",
                                  headers={"content-type": "audio/wav"}))
    async with client_for(rec) as client:
        body = await client.voice_changer.bytes(b"CLIP", "voice-9", WAV, filename="take.flac")
    assert body == b"RIFF-audio"
    request, = rec.requests
    assert request.method == "POST" and request.url.path == "/voice-changer/bytes"
    assert texts(request) == {
        "voice[id]": ["voice-9"], "output_format[container]": ["wav"],
        "output_format[encoding]": ["pcm_f32le"], "output_format[sample_rate]": ["44100"],
    }
    assert parts(request)["clip"] == [Part(b"CLIP", "take.flac", "audio/flac")]


async def test_mp3_sends_the_bit_rate() -> None:
    rec = Recorder(httpx.Response(200, content=b"ID3", headers={"content-type": "audio/mpeg"}))
    async with client_for(rec) as client:
        await client.voice_changer.bytes(
            b"CLIP", "v", OutputFormat("mp3", sample_rate=22050, bit_rate=64000))
    fields = texts(rec.requests[0])
    assert fields["output_format[bit_rate]"] == ["64000"]
    assert "output_format[encoding]" not in fields


def _event(body: dict[str, object], name: str | None = None) -> str:
    head = f"event: {name}\n" if name else ""
    return f"{head}data: {json.dumps(body)}\n\n"


async def test_sse_yields_chunks_then_done_even_without_types() -> None:
    pcm = np.arange(8, dtype="<i2").tobytes()
    stream = (_event({"data": base64.b64encode(pcm).decode(), "done": False,
                      "status_code": 206, "sample_rate": 16000, "step_time": 3.0})
              + _event({"done": True, "status_code": 200}))
    rec = Recorder(httpx.Response(200, content=stream.encode(),
                                  headers={"content-type": "text/event-stream"}))
    async with (client_for(rec) as client,
                client.voice_changer.sse(b"CLIP", "voice-9", RAW) as events):
        got = [event async for event in events]
    assert isinstance(got[0], ChunkEvent) and got[0].audio == pcm
    assert isinstance(got[1], DoneEvent) and len(got) == 2
    request, = rec.requests
    assert request.url.path == "/voice-changer/sse"
    assert texts(request)["voice[id]"] == ["voice-9"]
    assert parts(request)["clip"] == [Part(b"CLIP", "clip.wav", "audio/wav")]


async def test_bad_arguments_send_nothing_and_errors_are_typed() -> None:
    rec = Recorder(httpx.Response(400, json={"message": "clip has no speech to convert"}))
    async with client_for(rec) as client:
        with pytest.raises(ValueError, match="needs a clip"):
            await client.voice_changer.bytes(b"", "v", RAW)
        with pytest.raises(ValueError, match="voice_id"):
            await client.voice_changer.bytes(b"CLIP", " ", RAW)
        with pytest.raises(ValueError, match="only streams container 'raw'"):
            client.voice_changer.sse(b"CLIP", "v", WAV)
        assert rec.requests == []
        with pytest.raises(BadRequestError, match="no speech"):
            await client.voice_changer.bytes(b"CLIP", "v", RAW)
        with pytest.raises(BadRequestError, match="no speech"):
            async for _ in client.voice_changer.sse(b"CLIP", "v", RAW):
                pass


async def test_round_trip_against_the_offline_engine(offline_engine: OfflineEngine) -> None:
    engine = offline_engine
    clip = speech_wav(engine, "A short line for the voice changer to read again.")
    target = BUILTIN_VOICES[1].id
    async with CartesiaClient(engine.api_key, base_url=engine.base_url,
                              max_retries=0) as client:
        whole = await client.voice_changer.bytes(clip, target, RAW)
        streamed = b""
        async with client.voice_changer.sse(clip, target, RAW) as events:
            async for event in events:
                if isinstance(event, ChunkEvent):
                    streamed += event.audio
        with pytest.raises(NotFoundError, match="voice not found"):
            await client.voice_changer.bytes(clip, "no-such-voice", RAW)
    # The same conversion both ways (Praat's PSOLA is not bit-reproducible: compare the
    # length and the pitch reached).
    a, b = (np.frombuffer(x, "<i2").astype(np.float32) / 32768 for x in (whole, streamed))
    assert a.shape == b.shape
    pitch_a = voice_conversion.measure(a, 16000).median_f0_hz
    pitch_b = voice_conversion.measure(b, 16000).median_f0_hz
    assert abs(pitch_a / pitch_b - 1) < 0.05
    # 16 kHz s16le: the clip's length in frames (its WAV is 16 kHz s16le too, 44-byte header)
    assert abs(len(whole) - (len(clip) - 44)) <= 0.01 * len(clip)
