"""Every fault of the fault-injection run ends in a retry or a clear error within a
bounded time: never a hang, never a half take.

The deadlines are made small through the client's constructor (:class:`Deadlines`,
:class:`RetryPolicy`); the ``asyncio.timeout`` around each call is an upper bound
that only fires if the client hangs, never a wait the test relies on.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from misbehaving_server import MisbehavingServer

import studio.api._ws_connect as ws_connect
from studio.api import (
    APITimeoutError,
    CartesiaClient,
    ConnectionLostError,
    Deadlines,
    DoneEvent,
    OutputFormat,
    ResponseFormatError,
    RetryPolicy,
    TTSRequest,
)

#: Far above every deadline below: reaching it means the client hung.
HANG = 20.0
FAST = RetryPolicy(max_retries=2, initial_delay=0.01, max_backoff=0.02)
SMALL = Deadlines(ws_inactivity=0.3, ws_context_base=0.6, ws_context_per_char=0.0,
                  http_request=0.5, connect_failure_memory=30.0)
RAW = OutputFormat("raw", "pcm_s16le", 16000)
REQUEST = TTSRequest(transcript="Hello there.", voice_id="v", output_format=RAW)


@pytest.fixture
async def client(misbehaving: MisbehavingServer) -> AsyncIterator[CartesiaClient]:
    async with CartesiaClient("sk_test", base_url=misbehaving.base_url, retry_policy=FAST,
                              deadlines=SMALL) as c:
        yield c


async def take(client: CartesiaClient) -> list[object]:
    """Every event of one WebSocket context, as the block renderer reads them."""
    socket_ = await client.tts.websocket()
    events: list[object] = []
    async with asyncio.timeout(HANG):
        async for event in await socket_.generate(REQUEST):
            events.append(event)
    return events


# --- WebSocket --------------------------------------------------------------------

@pytest.mark.parametrize(("mode", "said"), [
    ("silent", "no message from the server for 0.3 s"),
    ("no_done", "no message from the server for 0.3 s"),
    ("junk", "no message from the server for 0.3 s"),
    ("trickle", "not done 0.6 s after it started"),
])
async def test_a_stalled_context_times_out_and_the_connection_is_kept(
        misbehaving: MisbehavingServer, client: CartesiaClient, mode: str, said: str) -> None:
    misbehaving.ws_mode = mode
    with pytest.raises(APITimeoutError, match=said):
        await take(client)
    # The connection stays up for the next context, which completes.
    misbehaving.ws_mode = "good"
    events = await take(client)
    assert isinstance(events[-1], DoneEvent)
    assert misbehaving.connections == 1


async def test_a_trickle_ends_on_its_pace_long_before_a_long_blocks_deadline(
        misbehaving: MisbehavingServer) -> None:
    # A long block's overall deadline is many minutes; a trickle of a few bytes at a
    # time (never silent long enough for the inactivity timeout) ends on its pace.
    slow = Deadlines(ws_inactivity=0.3, ws_context_base=600.0, ws_context_per_char=0.5,
                     http_request=0.5, connect_failure_memory=30.0, ws_min_realtime=0.1,
                     ws_progress_grace=0.5)
    misbehaving.ws_mode = "trickle"
    async with CartesiaClient("sk_test", base_url=misbehaving.base_url, retry_policy=FAST,
                              deadlines=slow) as trickled:
        with pytest.raises(APITimeoutError, match=r"under 0.1x real time"):
            await take(trickled)
        misbehaving.ws_mode = "good"  # a server at speed is not held to it wrongly
        events = await take(trickled)
    assert isinstance(events[-1], DoneEvent)


async def test_a_websocket_take_of_half_a_frame_is_an_error(
        misbehaving: MisbehavingServer, client: CartesiaClient) -> None:
    misbehaving.ws_mode = "odd"
    with pytest.raises(ResponseFormatError, match=r"7 bytes of pcm_s16le.*2-byte frames"):
        await take(client)


async def test_a_dead_websocket_endpoint_fails_every_queued_block_in_one_failure(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    attempts = 0
    real_connect = ws_connect.connect

    def counting_connect(*args: object, **kwargs: object) -> object:
        nonlocal attempts
        attempts += 1
        return real_connect(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ws_connect, "connect", counting_connect)
    async with CartesiaClient("sk_test", base_url=f"http://127.0.0.1:{port}",
                              retry_policy=FAST, deadlines=SMALL) as dead:
        async def block() -> BaseException:
            try:
                await take(dead)
            except ConnectionLostError as exc:
                return exc
            raise AssertionError("a dead endpoint produced a take")

        async with asyncio.timeout(HANG):
            errors = await asyncio.gather(*(block() for _ in range(10)))
    # One connection failure (first attempt + its retries), shared by all ten blocks.
    assert attempts == FAST.max_retries + 1
    assert all("WebSocket connect to 127.0.0.1" in str(e) for e in errors)
    assert sum("not retried for" in str(e) for e in errors) == 9


# --- HTTP ---------------------------------------------------------------------------

async def test_a_body_trickling_one_byte_at_a_time_ends_at_the_request_deadline(
        misbehaving: MisbehavingServer, client: CartesiaClient) -> None:
    misbehaving.http_mode = "slow_body"
    with pytest.raises(APITimeoutError, match=r"0\.5 s request deadline"):
        async with asyncio.timeout(HANG):
            await client.tts.bytes(REQUEST)
    # Retried as any timeout, then given up.
    assert misbehaving.http_requests == FAST.max_retries + 1


async def test_a_trickling_body_ends_on_its_pace_long_before_the_request_deadline(
        misbehaving: MisbehavingServer) -> None:
    paced = Deadlines(ws_inactivity=0.3, ws_context_base=0.6, ws_context_per_char=0.0,
                      http_request=600.0, connect_failure_memory=30.0,
                      http_min_bytes_per_s=1000.0, http_progress_grace=0.3)
    misbehaving.http_mode = "slow_body"
    async with CartesiaClient("sk_test", base_url=misbehaving.base_url, retry_policy=FAST,
                              deadlines=paced) as trickled:
        with pytest.raises(APITimeoutError, match=r"the body trickles"):
            async with asyncio.timeout(HANG):
                await trickled.tts.bytes(REQUEST)
        misbehaving.http_mode = "good"  # a body at speed is read whole
        async with asyncio.timeout(HANG):
            audio = await trickled.tts.bytes(REQUEST)
    assert audio


@pytest.mark.parametrize(("mode", "said"), [
    ("redirect", r"expected a 2xx response, got HTTP 302.*text/html.*<html>Moved.*"
                 r"redirect to https://login.example/"),
    ("html", r"expected audio, got HTTP 200, content type 'text/html.*Captive"),
    ("bad_json", r"expected audio, got HTTP 200, content type 'application/json.*trunc"),
    ("odd", r"3 bytes of pcm_s16le is not a whole number of 2-byte frames"),
])
async def test_a_body_that_is_not_audio_is_never_taken_for_audio(
        misbehaving: MisbehavingServer, client: CartesiaClient, mode: str, said: str) -> None:
    misbehaving.http_mode = mode
    with pytest.raises(ResponseFormatError, match=said):
        async with asyncio.timeout(HANG):
            await client.tts.bytes(REQUEST)
    assert misbehaving.http_requests == 1  # not retried: the answer would be the same


async def test_raw_audio_labelled_octet_stream_is_accepted(
        misbehaving: MisbehavingServer, client: CartesiaClient) -> None:
    async with asyncio.timeout(HANG):
        assert await client.tts.bytes(REQUEST) == b"\x00\x01" * 8


async def test_malformed_json_is_reported_with_what_arrived(
        misbehaving: MisbehavingServer, client: CartesiaClient) -> None:
    with pytest.raises(ResponseFormatError,
                       match=r"not JSON.*HTTP 200, content type 'application/json.*\"name\""):
        async with asyncio.timeout(HANG):
            await client.voices.get("v")
