"""HTTP behaviour of CartesiaClient and its transport over ``httpx.MockTransport``:
headers, retries, error mapping, the API key kept out of URLs and logs. (The same paths
run against the offline engine over loopback in test_loopback_*.py; each resource's
wire shape is tested in resources/.)"""

from __future__ import annotations

import logging

import httpx
import pytest
from scripted_transport import KEY, Recorder, client_for

from studio.api import (
    DEFAULT_CARTESIA_VERSION,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CartesiaClient,
    ConnectionLostError,
    NotFoundError,
    OutputFormat,
    RateLimitError,
    ResponseFormatError,
    RetryPolicy,
    ServerError,
    TTSRequest,
)

REQUEST = TTSRequest(
    transcript="Hello there.",
    voice_id="voice-1",
    output_format=OutputFormat("raw", "pcm_s16le", 16000),
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
