"""``client.tts`` over ``httpx.MockTransport``: ``tts.bytes`` posts the request's JSON,
``tts.sse`` frames typed events, retries only before its body, and closes early."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import httpx
import pytest
from scripted_transport import Recorder, client_for

from studio.api import (
    BadRequestError,
    ChunkEvent,
    ConnectionLostError,
    DoneEvent,
    OutputFormat,
    TimestampsEvent,
    TTSRequest,
)

REQUEST = TTSRequest(
    transcript="Hello there.",
    voice_id="voice-1",
    output_format=OutputFormat("raw", "pcm_s16le", 16000),
)
STATUS_OK = httpx.Response(200, json={"ok": True, "version": "2025-11-04"})





async def test_tts_bytes_posts_the_request_json() -> None:
    wav = b"RIFF....WAVEfmt "
    rec = Recorder(httpx.Response(200, content=wav, headers={"content-type": "audio/wav"}))
    request = TTSRequest("Hi", "voice-9", output_format=OutputFormat("wav", "pcm_f32le", 44100))
    async with client_for(rec) as client:
        assert await client.tts.bytes(request) == wav
    [req] = rec.requests
    assert req.method == "POST" and req.url.path == "/tts/bytes"
    assert json.loads(req.content) == request.to_json()


def sse_body(*events: dict[str, object]) -> bytes:
    return b"".join(
        f"event: {e['type']}\r\ndata: {json.dumps(e)}\r\n\r\n".encode() for e in events
    )


def chunk(pcm: bytes, cid: str | None = None) -> dict[str, object]:
    return {"type": "chunk", "data": base64.b64encode(pcm).decode(), "done": False,
            "status_code": 206, "step_time": 1.5, "context_id": cid}


class ChunkedStream(httpx.AsyncByteStream):
    """A response body delivered in fixed-size pieces (cuts through SSE lines)."""

    def __init__(self, data: bytes, size: int, then: Exception | None = None) -> None:
        self.data, self.size, self.then = data, size, then
        self.closed = False

    async def __aiter__(self) -> Iterator[bytes]:  # type: ignore[override]
        for i in range(0, len(self.data), self.size):
            yield self.data[i : i + self.size]
        if self.then is not None:
            raise self.then

    async def aclose(self) -> None:
        self.closed = True


async def test_sse_events_are_typed_and_the_body_sent() -> None:
    body = sse_body(
        chunk(b"\x01\x00\x02\x00", "ctx-1"),
        {"type": "timestamps", "context_id": "ctx-1",
         "word_timestamps": {"words": ["Hello"], "start": [0.0], "end": [0.4]}},
        chunk(b"\x03\x00", "ctx-1"),
        {"type": "done", "done": True, "status_code": 200, "context_id": "ctx-1"},
    )
    stream = ChunkedStream(body, 7)
    rec = Recorder(
        httpx.Response(200, stream=stream, headers={"content-type": "text/event-stream"})
    )
    client = client_for(rec)
    async with client, client.tts.sse(REQUEST, add_timestamps=True, context_id="ctx-1") as events:
        got = [e async for e in events]
    assert [type(e) for e in got] == [ChunkEvent, TimestampsEvent, ChunkEvent, DoneEvent]
    audio = b"".join(e.audio for e in got if isinstance(e, ChunkEvent))
    assert audio == b"\x01\x00\x02\x00\x03\x00"
    sent = json.loads(rec.requests[0].content)
    assert sent["add_timestamps"] is True and sent["add_phoneme_timestamps"] is False
    assert sent["context_id"] == "ctx-1" and sent["output_format"]["container"] == "raw"
    assert stream.closed


async def test_sse_is_plainly_iterable_and_retries_before_the_body() -> None:
    body = sse_body(chunk(b"\x00\x00"), {"type": "done", "done": True, "status_code": 200})
    rec = Recorder(httpx.Response(503), httpx.Response(200, content=body))
    async with client_for(rec) as client:
        got = [e async for e in client.tts.sse(REQUEST)]
    assert [e.type for e in got] == ["chunk", "done"]
    assert len(rec.requests) == 2


async def test_sse_error_event_raises_by_status() -> None:
    body = sse_body({"type": "error", "done": True, "status_code": 400, "error": "Invalid model"})
    rec = Recorder(httpx.Response(200, content=body))
    async with client_for(rec) as client:
        with pytest.raises(BadRequestError, match="Invalid model"):
            async for _ in client.tts.sse(REQUEST):
                pass
        got = [e async for e in client.tts.sse(REQUEST, raise_on_error=False)]
    assert [e.type for e in got] == ["error"]


async def test_sse_drop_mid_body_raises_and_is_not_retried() -> None:
    stream = ChunkedStream(sse_body(chunk(b"\x00\x00")), 5, then=httpx.ReadError("reset"))
    rec = Recorder(httpx.Response(200, stream=stream))
    async with client_for(rec) as client:
        events = client.tts.sse(REQUEST)
        first = await events.__anext__()
        assert isinstance(first, ChunkEvent)
        with pytest.raises(ConnectionLostError):
            await events.__anext__()
        with pytest.raises(StopAsyncIteration):
            await events.__anext__()
    assert len(rec.requests) == 1
    assert stream.closed


async def test_sse_truncated_before_done_is_a_lost_connection() -> None:
    rec = Recorder(httpx.Response(200, content=sse_body(chunk(b"\x00\x00"))))
    async with client_for(rec) as client:
        with pytest.raises(ConnectionLostError, match="before its done"):
            async for _ in client.tts.sse(REQUEST):
                pass


async def test_sse_and_websocket_reject_containers() -> None:
    mp3 = TTSRequest("x", "v", output_format=OutputFormat("mp3", sample_rate=44100))
    async with client_for(Recorder(STATUS_OK)) as client:
        with pytest.raises(ValueError, match="raw"):
            client.tts.sse(mp3)


async def test_sse_leaving_async_with_early_closes_the_response() -> None:
    body = sse_body(*(chunk(bytes([n, 0])) for n in range(50)),
                    {"type": "done", "done": True, "status_code": 200})
    stream = ChunkedStream(body, 64)
    rec = Recorder(httpx.Response(200, stream=stream))
    client = client_for(rec)
    async with client:
        async with client.tts.sse(REQUEST) as events:
            async for _ in events:
                break
            assert not stream.closed
        assert stream.closed
        with pytest.raises(StopAsyncIteration):
            await events.__anext__()
