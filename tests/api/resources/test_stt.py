"""``client.stt.transcribe``: the multipart body it sends (checked field by field against
what the v4 SDK sends), its errors, the bodies it refuses, and the same call against the
offline engine over loopback."""

from __future__ import annotations

import httpx
import pytest
from form_parts import Part, parts, speech_wav, texts
from scripted_transport import Recorder, client_for

from studio.api import (
    AuthenticationError,
    BadRequestError,
    CartesiaClient,
    NotFoundError,
    ResponseFormatError,
    ServerError,
    Transcription,
)
from studio.offline import OfflineEngine
from studio.timestamps import WordTimestamps

TRANSCRIPTION = {
    "type": "transcript", "text": "hello world", "language": "en", "duration": 1.25,
    "words": [{"word": "hello", "start": 0.1, "end": 0.5},
              {"word": "world", "start": 0.6, "end": 1.0}],
}






async def test_transcribe_sends_the_sdks_multipart_fields() -> None:
    rec = Recorder(httpx.Response(200, json=TRANSCRIPTION))
    async with client_for(rec) as client:
        result = await client.stt.transcribe(b"AUDIO", filename="take.flac")

    request, = rec.requests
    assert request.url.path == "/stt"
    assert texts(request) == {"model": ["ink-whisper"], "language": ["en"],
                              "timestamp_granularities[]": ["word"]}
    assert parts(request)["file"] == [Part(b"AUDIO", "take.flac", "audio/flac")]
    assert result == Transcription(
        text="hello world", language="en", duration=1.25,
        words=WordTimestamps(("hello", "world"), (0.1, 0.6), (0.5, 1.0)))


async def test_transcribe_without_word_timestamps_or_language() -> None:
    rec = Recorder(httpx.Response(200, json={"text": "hi"}))
    async with client_for(rec) as client:
        result = await client.stt.transcribe(b"AUDIO", language=None, timestamp_granularities=None,
                                         model="ink-whisper-2025-06-04")

    assert texts(rec.requests[0]) == {"model": ["ink-whisper-2025-06-04"]}
    assert result == Transcription(text="hi")


async def test_transcribe_refuses_empty_audio() -> None:
    rec = Recorder(httpx.Response(200, json=TRANSCRIPTION))
    async with client_for(rec) as client:
        with pytest.raises(ValueError, match="no audio"):
            await client.stt.transcribe(b"")
    assert rec.requests == []


@pytest.mark.parametrize("body", [
    {"words": []},
    {"text": 5},
    {"text": "x", "duration": "long"},
    {"text": "x", "duration": True},
    {"text": "x", "language": 3},
    {"text": "x", "words": {"word": "x"}},
    {"text": "x", "words": [{"word": "x", "start": 0.0}]},
    {"text": "x", "words": [{"word": "x", "start": "0", "end": 1.0}]},
    ["text"],
])
def test_transcription_bodies_that_break_the_seed_are_refused(body: object) -> None:
    with pytest.raises(ResponseFormatError):
        Transcription.from_json(body)


async def test_a_non_json_transcription_is_a_format_error() -> None:
    rec = Recorder(httpx.Response(200, content=b"<html>"))
    async with client_for(rec) as client:
        with pytest.raises(ResponseFormatError, match="not JSON"):
            await client.stt.transcribe(b"AUDIO")


@pytest.mark.parametrize(("status", "error"), [
    (400, BadRequestError), (404, NotFoundError), (401, AuthenticationError),
    (500, ServerError),
])
async def test_stt_errors_map_to_the_error_tree(
    status: int, error: type[Exception]
) -> None:
    rec = Recorder(httpx.Response(status, json={"message": "nope"}))
    async with client_for(rec) as client:
        with pytest.raises(error, match="nope"):
            await client.stt.transcribe(b"RIFF")


# --- loopback: the offline engine --------------------------------------------------


async def test_loopback_transcribe(engine: OfflineEngine) -> None:
    async with CartesiaClient(engine.api_key, base_url=engine.base_url) as client:
        result = await client.stt.transcribe(
            speech_wav(engine, "Please call me tomorrow morning after the meeting."))
    assert result.language == "en" and result.duration and result.duration > 1.0
    assert "tomorrow" in result.text.split()
    assert result.words.words == tuple(result.text.split())
    assert list(result.words.start) == sorted(result.words.start)


async def test_loopback_errors(engine: OfflineEngine) -> None:
    left = speech_wav(engine, "Hello.")
    async with CartesiaClient(engine.api_key, base_url=engine.base_url,
                              max_retries=0) as client:
        with pytest.raises(BadRequestError, match="English only"):
            await client.stt.transcribe(left, language="fr")
