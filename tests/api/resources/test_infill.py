"""``client.infill.bytes``: the multipart body it sends (checked field by field against
what the v4 SDK sends), its errors, its price, and the same call against the offline
engine over loopback."""

from __future__ import annotations

import io
import json

import httpx
import numpy as np
import pytest
import soundfile as sf
from form_parts import Part, parts, speech_wav, texts
from scripted_transport import KEY, Recorder, client_for

from studio.api import (
    INFILL_BASE_CREDITS,
    AuthenticationError,
    BadRequestError,
    CartesiaClient,
    NotFoundError,
    OutputFormat,
    ServerError,
    infill_credits,
)
from studio.offline import OfflineEngine
from studio.offline.voices import BUILTIN_VOICES

WAV = OutputFormat("wav", "pcm_s16le", 44100)
#: The content type a WAV infill answer carries (an answer without one is not audio).
WAV_TYPE = {"content-type": "audio/wav"}






async def test_infill_sends_the_sdks_multipart_fields() -> None:
    rec = Recorder(httpx.Response(200, content=b"RIFF-middle", headers=WAV_TYPE))
    async with client_for(rec) as client:
        body = await client.infill.bytes(
            transcript="the new words", voice_id="voice-1", model_id="sonic-3",
            language="en", output_format=WAV, left_audio=b"LEFT", right_audio=b"RIGHT",
            right_filename="after.flac")

    assert body == b"RIFF-middle"
    request, = rec.requests
    assert request.method == "POST" and request.url.path == "/infill/bytes"
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert "cartesia-version" in request.headers
    assert texts(request) == {
        "transcript": ["the new words"], "voice_id": ["voice-1"], "model_id": ["sonic-3"],
        "language": ["en"], "output_format[container]": ["wav"],
        "output_format[encoding]": ["pcm_s16le"], "output_format[sample_rate]": ["44100"],
    }
    sent = parts(request)
    assert sent["left_audio"] == [Part(b"LEFT", "left.wav", "audio/wav")]
    assert sent["right_audio"] == [Part(b"RIGHT", "after.flac", "audio/flac")]


async def test_infill_to_mp3_sends_the_bit_rate_not_an_encoding() -> None:
    rec = Recorder(httpx.Response(200, content=b"ID3", headers={"content-type": "audio/mpeg"}))
    async with client_for(rec) as client:
        await client.infill.bytes(
            transcript="x", voice_id="v", model_id="sonic-3", language="fr",
            output_format=OutputFormat("mp3", sample_rate=22050, bit_rate=64000),
            right_audio=b"RIGHT")

    fields = texts(rec.requests[0])
    assert {k: v for k, v in fields.items() if k.startswith("output_format")} == {
        "output_format[container]": ["mp3"], "output_format[sample_rate]": ["22050"],
        "output_format[bit_rate]": ["64000"],
    }
    assert "left_audio" not in parts(rec.requests[0])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"left_audio": None, "right_audio": None}, "left_audio, right_audio or both"),
    ({"transcript": "  \n"}, "transcript"),
])
async def test_infill_refuses_before_sending(kwargs: dict[str, object], message: str) -> None:
    rec = Recorder(httpx.Response(200))
    args: dict[str, object] = {"transcript": "words", "voice_id": "v", "model_id": "sonic-3",
                               "language": "en", "output_format": WAV, "left_audio": b"L"}
    args.update(kwargs)
    async with client_for(rec) as client:
        with pytest.raises(ValueError, match=message):
            await client.infill.bytes(**args)  # type: ignore[arg-type]
    assert rec.requests == []


async def test_a_multipart_request_is_sent_whole_again_on_retry() -> None:
    rec = Recorder(httpx.Response(503, json={"message": "busy"}),
                   httpx.Response(200, content=b"middle", headers=WAV_TYPE))
    async with client_for(rec) as client:
        assert await client.infill.bytes(
            transcript="t", voice_id="v", model_id="sonic-3", language="en",
            output_format=WAV, left_audio=b"LEFT") == b"middle"

    assert len(rec.requests) == 2
    assert parts(rec.requests[0]) == parts(rec.requests[1])
    assert parts(rec.requests[1])["left_audio"][0].value == b"LEFT"


@pytest.mark.parametrize(("status", "error"), [
    (400, BadRequestError), (404, NotFoundError), (401, AuthenticationError),
    (500, ServerError),
])
async def test_infill_errors_map_to_the_error_tree(
    status: int, error: type[Exception]
) -> None:
    rec = Recorder(httpx.Response(status, json={"message": "nope"}))
    async with client_for(rec) as client:
        with pytest.raises(error, match="nope"):
            await client.infill.bytes(transcript="t", voice_id="v", model_id="sonic-3",
                                      language="en", output_format=WAV, left_audio=b"L")


def test_infill_credits_follow_the_seed() -> None:
    assert INFILL_BASE_CREDITS == 300
    assert infill_credits("") == 300
    assert infill_credits("twelve chars") == 312
    assert json.dumps(infill_credits("x"))  # an int, ready for the UI


# --- loopback: the offline engine --------------------------------------------------


async def test_loopback_infill(engine: OfflineEngine) -> None:
    left = speech_wav(engine, "We met in the morning,")
    async with CartesiaClient(engine.api_key, base_url=engine.base_url) as client:
        middle = await client.infill.bytes(
            transcript="and talked for an hour",
            voice_id=BUILTIN_VOICES[0].id,
            model_id="sonic-3",
            language="en",
            output_format=OutputFormat("wav", "pcm_f32le", 24000),
            left_audio=left,
        )
        samples, rate = sf.read(io.BytesIO(middle), dtype="float32")
        assert rate == 24000 and samples.size > 0.5 * rate
        assert float(np.max(np.abs(samples))) <= 1.0


async def test_loopback_errors(engine: OfflineEngine) -> None:
    left = speech_wav(engine, "Hello.")
    async with CartesiaClient(engine.api_key, base_url=engine.base_url,
                              max_retries=0) as client:
        with pytest.raises(NotFoundError, match="voice not found"):
            await client.infill.bytes(transcript="x", voice_id="no-such-voice",
                                      model_id="sonic-3", language="en",
                                      output_format=WAV, left_audio=left)
        with pytest.raises(BadRequestError, match="left_audio"):
            await client.infill.bytes(transcript="x", voice_id=BUILTIN_VOICES[0].id,
                                      model_id="sonic-3", language="en",
                                      output_format=WAV, left_audio=b"not audio")
