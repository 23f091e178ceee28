"""HTTP behaviour of CartesiaClient over ``httpx.MockTransport``: headers, retries,
error mapping, pagination, SSE framing. (The same paths run against the offline
engine over loopback in test_loopback_*.py.)"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable, Iterator

import httpx
import pytest

from studio.api import (
    DEFAULT_CARTESIA_VERSION,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CartesiaClient,
    ChunkEvent,
    ConnectionLostError,
    DoneEvent,
    NotFoundError,
    OutputFormat,
    RateLimitError,
    ResponseFormatError,
    RetryPolicy,
    ServerError,
    TimestampsEvent,
    TTSRequest,
)

KEY = "sk_test_not_a_real_key"
FAST = RetryPolicy(max_retries=2, initial_delay=0.001, max_backoff=0.002)
REQUEST = TTSRequest(
    transcript="Hello there.",
    voice_id="voice-1",
    output_format=OutputFormat("raw", "pcm_s16le", 16000),
)

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport handler that answers from a script and records requests."""

    def __init__(self, *responses: httpx.Response | Exception | Handler) -> None:
        self.script = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            if hasattr(step, "_content"):  # a fresh copy: responses are single-use
                return httpx.Response(step.status_code, headers=step.headers, content=step.content)
            return step
        return step(request)


def client_for(recorder: Recorder, **kwargs: object) -> CartesiaClient:
    kwargs.setdefault("retry_policy", FAST)
    return CartesiaClient(
        KEY,
        base_url="https://api.example.test",
        transport=httpx.MockTransport(recorder),
        **kwargs,  # type: ignore[arg-type]
    )


STATUS_OK = httpx.Response(200, json={"ok": True, "version": "2025-11-04"})


async def test_every_request_carries_auth_and_version() -> None:
    rec = Recorder(STATUS_OK)
    async with client_for(rec, cartesia_version="2024-11-13") as client:
        status = await client.api_status.get()
    assert status.ok and status.version == "2025-11-04"
    [req] = rec.requests
    assert req.url == "https://api.example.test/"
    assert req.headers["Authorization"] == f"Bearer {KEY}"
    assert req.headers["Cartesia-Version"] == "2024-11-13"
    assert KEY not in str(req.url)


async def test_default_version_is_the_newest_in_the_seed() -> None:
    rec = Recorder(STATUS_OK)
    async with client_for(rec) as client:
        await client.api_status.get()
    assert rec.requests[0].headers["Cartesia-Version"] == DEFAULT_CARTESIA_VERSION == "2025-11-04"


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504, 408])
async def test_retryable_status_then_success(status: int) -> None:
    rec = Recorder(httpx.Response(status, json={"message": "busy"}), STATUS_OK)
    async with client_for(rec) as client:
        assert (await client.api_status.get()).ok
    assert len(rec.requests) == 2


async def test_retries_are_bounded_and_the_last_error_is_raised() -> None:
    rec = Recorder(httpx.Response(503, json={"error": "overloaded"}))
    async with client_for(rec) as client:
        with pytest.raises(ServerError) as info:
            await client.api_status.get()
    assert len(rec.requests) == 3  # first try + max_retries
    assert info.value.status_code == 503
    assert info.value.message == "overloaded"


async def test_max_retries_zero_means_one_attempt() -> None:
    rec = Recorder(httpx.Response(500))
    async with client_for(rec, retry_policy=RetryPolicy(max_retries=0)) as client:
        with pytest.raises(ServerError):
            await client.api_status.get()
    assert len(rec.requests) == 1


@pytest.mark.parametrize(
    ("status", "cls"),
    [(400, BadRequestError), (401, AuthenticationError), (403, AuthenticationError),
     (404, NotFoundError), (422, BadRequestError)],
)
async def test_other_4xx_are_never_retried(status: int, cls: type[Exception]) -> None:
    rec = Recorder(httpx.Response(status, json={"title": "nope"}))
    async with client_for(rec) as client:
        with pytest.raises(cls) as info:
            await client.voices.get("abc")
    assert len(rec.requests) == 1
    assert str(info.value) == f"{status}: nope"


async def test_retry_after_beyond_the_cap_goes_straight_to_the_caller() -> None:
    rec = Recorder(httpx.Response(429, headers={"Retry-After": "3600"}, text="later"))
    async with client_for(rec) as client:
        with pytest.raises(RateLimitError) as info:
            await client.api_status.get()
    assert len(rec.requests) == 1
    assert info.value.retry_after == 3600.0


async def test_connection_errors_are_retried_then_mapped() -> None:
    rec = Recorder(httpx.ConnectError("refused"), STATUS_OK)
    async with client_for(rec) as client:
        assert (await client.api_status.get()).ok
    assert len(rec.requests) == 2

    always = Recorder(httpx.ConnectError("refused"))
    async with client_for(always) as client:
        with pytest.raises(ConnectionLostError) as info:
            await client.api_status.get()
    assert not isinstance(info.value, APITimeoutError)
    assert len(always.requests) == 3


async def test_timeouts_map_to_api_timeout_error() -> None:
    rec = Recorder(httpx.ReadTimeout("slow"))
    async with client_for(rec) as client:
        with pytest.raises(APITimeoutError):
            await client.tts.bytes(REQUEST)
    assert len(rec.requests) == 3


async def test_non_json_body_is_a_format_error() -> None:
    rec = Recorder(httpx.Response(200, text="<html>"))
    async with client_for(rec) as client:
        with pytest.raises(ResponseFormatError):
            await client.api_status.get()


async def test_tts_bytes_posts_the_request_json() -> None:
    wav = b"RIFF....WAVEfmt "
    rec = Recorder(httpx.Response(200, content=wav, headers={"content-type": "audio/wav"}))
    request = TTSRequest("Hi", "voice-9", output_format=OutputFormat("wav", "pcm_f32le", 44100))
    async with client_for(rec) as client:
        assert await client.tts.bytes(request) == wav
    [req] = rec.requests
    assert req.method == "POST" and req.url.path == "/tts/bytes"
    assert json.loads(req.content) == request.to_json()


def voice(n: int) -> dict[str, object]:
    return {"id": f"v{n}", "name": f"Voice {n}", "description": "", "language": "en",
            "is_owner": False, "is_public": True, "created_at": "2025-01-01T00:00:00Z"}


async def test_list_voices_follows_pages_and_passes_filters() -> None:
    pages = iter(
        [
            {"data": [voice(1), voice(2)], "has_more": True, "next_page": "v2"},
            {"data": [voice(3), voice(4)], "has_more": True},
            {"data": [voice(5)], "has_more": False},
        ]
    )
    rec = Recorder(lambda request: httpx.Response(200, json=next(pages)))
    async with client_for(rec) as client:
        voices = await client.voices.list(
            q="narr", is_owner=True, gender="feminine", limit=2, expand=["preview_file_url"]
        )
    assert [v.id for v in voices] == ["v1", "v2", "v3", "v4", "v5"]
    params = [dict(r.url.params.multi_items()) for r in rec.requests]
    assert [p.get("starting_after") for p in params] == [None, "v2", "v4"]
    for p in params:
        assert p["q"] == "narr" and p["is_owner"] == "true" and p["gender"] == "feminine"
        assert p["limit"] == "2" and p["expand[]"] == "preview_file_url"


async def test_a_page_loop_is_detected() -> None:
    rec = Recorder(httpx.Response(200, json={"data": [voice(1)], "has_more": True}))
    async with client_for(rec) as client:
        with pytest.raises(ResponseFormatError):
            await client.voices.list()
    assert len(rec.requests) == 2


async def test_list_voices_validates_arguments() -> None:
    async with client_for(Recorder(STATUS_OK)) as client:
        with pytest.raises(ValueError):
            await client.voices.list(limit=101)
        with pytest.raises(ValueError):
            await client.voices.list(gender="robot")


async def test_get_voice_quotes_the_id_and_expands() -> None:
    rec = Recorder(httpx.Response(200, json={**voice(1), "preview_file_url": "https://x/p.wav"}))
    async with client_for(rec) as client:
        got = await client.voices.get("a/b c", expand=["preview_file_url"])
    assert got.preview_file_url == "https://x/p.wav"
    assert rec.requests[0].url.raw_path == b"/voices/a%2Fb%20c?expand%5B%5D=preview_file_url"


@pytest.mark.parametrize(
    ("url", "authorised"),
    [
        ("https://api.example.test/voices/v1/preview", True),
        ("https://files.example.test/p.wav", True),
        ("http://api.example.test/p.wav", False),
        ("https://evil.test/p.wav", False),
        ("https://api.example.test.evil.test/p.wav", False),
    ],
)
async def test_fetch_bytes_sends_the_key_only_to_our_site(url: str, authorised: bool) -> None:
    rec = Recorder(httpx.Response(200, content=b"ID3"))
    async with client_for(rec) as client:
        assert await client.fetch_bytes(url) == b"ID3"
    assert ("Authorization" in rec.requests[0].headers) is authorised
    assert rec.requests[0].headers["Cartesia-Version"] == DEFAULT_CARTESIA_VERSION


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


def test_websocket_url_is_derived_from_the_base() -> None:
    assert CartesiaClient(KEY).websocket_url == "wss://api.cartesia.ai/tts/websocket"
    local = CartesiaClient(KEY, base_url="http://127.0.0.1:8123/")
    assert local.websocket_url == "ws://127.0.0.1:8123/tts/websocket"
    custom = CartesiaClient(KEY, websocket_base_url="ws://127.0.0.1:9/prefix/")
    assert custom.websocket_url == "ws://127.0.0.1:9/prefix/tts/websocket"
    with pytest.raises(ValueError):
        CartesiaClient(KEY, websocket_base_url="https://x")


def test_repr_never_shows_the_key() -> None:
    client = CartesiaClient(KEY)
    assert KEY not in repr(client)
    assert KEY not in repr(client._transport.connector)


async def test_http_logs_never_show_the_key(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    rec = Recorder(httpx.Response(503, json={"message": "busy"}), STATUS_OK)
    async with client_for(rec) as client:
        await client.api_status.get()
    assert "retry 1/2" in caplog.text
    assert KEY not in caplog.text


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
