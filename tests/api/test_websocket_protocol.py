"""TTSWebSocket / TTSContext against a scripted server on loopback: wire format,
demultiplexing, cancel, drop and reconnect, errors."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from scripted_ws_server import ScriptedServer, chunk, done
from websockets.asyncio.server import ServerConnection

from studio.api import (
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CartesiaClient,
    ChunkEvent,
    ConnectionLostError,
    DoneEvent,
    ErrorEvent,
    FlushDoneEvent,
    NotFoundError,
    OutputFormat,
    PhonemeTimestampsEvent,
    ResponseFormatError,
    RetryPolicy,
    ServerError,
    TimestampsEvent,
    TTSRequest,
)

KEY = "sk_ws_test_key"
FAST = RetryPolicy(max_retries=2, initial_delay=0.001, max_backoff=0.002)
REQUEST = TTSRequest(
    "Hello world.", "voice-1", output_format=OutputFormat("raw", "pcm_s16le", 8000)
)


def client_for(server: ScriptedServer, **kwargs: Any) -> CartesiaClient:
    kwargs.setdefault("retry_policy", FAST)
    return CartesiaClient(
        KEY, base_url="http://127.0.0.1:9", websocket_base_url=server.url, **kwargs
    )


async def serve_forever(ws: ServerConnection, server: ScriptedServer) -> None:
    """Default: answer each non-cancel request with one chunk and done."""
    async for _ in _messages(ws, server):
        pass


async def _messages(ws: ServerConnection, server: ScriptedServer):  # type: ignore[no-untyped-def]
    from websockets.exceptions import ConnectionClosed

    try:
        while True:
            message = await server.recv(ws)
            yield message
    except ConnectionClosed:
        return


async def one_chunk_then_done(ws: ServerConnection, server: ScriptedServer) -> None:
    async for message in _messages(ws, server):
        if message.get("cancel"):
            continue
        if not message.get("continue") and "transcript" in message:
            await ws.send(chunk(message["context_id"]))
            await ws.send(done(message["context_id"]))


async def test_handshake_headers_and_request_json() -> None:
    async with ScriptedServer(one_chunk_then_done) as server, client_for(server) as client:
        ws = await client.tts.websocket()
        ctx = await ws.generate(
            REQUEST, add_timestamps=True, add_phoneme_timestamps=True,
            max_buffer_delay_ms=250, context_id="ctx-a",
        )
        events = [e async for e in ctx]
    assert [type(e) for e in events] == [ChunkEvent, DoneEvent]
    assert events[0] == ChunkEvent("ctx-a", b"\x00\x01\x02\x03", 2.0, None)
    [headers] = server.handshakes
    assert headers["Authorization"] == f"Bearer {KEY}"
    assert headers["Cartesia-Version"] == "2025-11-04"
    assert server.paths == ["/tts/websocket"]
    [sent] = server.received
    assert sent == {
        "model_id": "sonic-3",
        "transcript": "Hello world.",
        "voice": {"mode": "id", "id": "voice-1"},
        "language": "en",
        "output_format": {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 8000},
        "generation_config": {"speed": 1.0, "volume": 1.0},
        "context_id": "ctx-a",
        "continue": False,
        "add_timestamps": True,
        "add_phoneme_timestamps": True,
        "max_buffer_delay_ms": 250,
    }


async def test_every_event_type_is_typed() -> None:
    async def script(ws: ServerConnection, server: ScriptedServer) -> None:
        message = await server.recv(ws)
        cid = message["context_id"]
        await ws.send(chunk(cid, b"\x10\x00", flush_id=1))
        await ws.send(json.dumps({"type": "timestamps", "context_id": cid, "done": False,
                                  "status_code": 206, "word_timestamps":
                                  {"words": ["Hello"], "start": [0.0], "end": [0.3]}}))
        await ws.send(json.dumps({"type": "phoneme_timestamps", "context_id": cid,
                                  "phoneme_timestamps":
                                  {"phonemes": ["h"], "start": [0.0], "end": [0.1]}}))
        await ws.send(json.dumps({"type": "flush_done", "flush_done": True, "flush_id": 1,
                                  "done": False, "status_code": 206, "context_id": cid}))
        await ws.send(json.dumps({"type": "some_future_event", "context_id": cid}))
        await ws.send(done(cid))
        await ws.wait_closed()

    async with ScriptedServer(script) as server, client_for(server) as client:
        ctx = await (await client.tts.websocket()).generate(REQUEST)
        events = [e async for e in ctx]
        assert ctx.finished and ctx.output_format == REQUEST.output_format
    assert [type(e) for e in events] == [
        ChunkEvent, TimestampsEvent, PhonemeTimestampsEvent, FlushDoneEvent, DoneEvent
    ]
    assert isinstance(events[1], TimestampsEvent)
    assert events[1].word_timestamps.words == ("Hello",)
    assert events[3] == FlushDoneEvent(ctx.context_id, 1)


async def test_concurrent_contexts_are_demultiplexed() -> None:
    async def interleave(ws: ServerConnection, server: ScriptedServer) -> None:
        first = await server.recv(ws)
        second = await server.recv(ws)
        ids = [first["context_id"], second["context_id"]]
        for n in range(6):
            cid = ids[n % 2]
            await ws.send(chunk(cid, bytes([n, n])))
        await ws.send(done(ids[1]))
        await ws.send(done(ids[0]))
        await ws.wait_closed()

    async with ScriptedServer(interleave) as server, client_for(server) as client:
        ws = await client.tts.websocket()
        a = await ws.generate(REQUEST, context_id="a")
        b = await ws.generate(REQUEST, context_id="b")

        async def audio(ctx: Any) -> bytes:
            return b"".join([e.audio async for e in ctx if isinstance(e, ChunkEvent)])

        got_a, got_b = await asyncio.gather(audio(a), audio(b))
    assert got_a == bytes([0, 0, 2, 2, 4, 4])
    assert got_b == bytes([1, 1, 3, 3, 5, 5])
    assert server.connections == 1


async def streaming_until_cancel(ws: ServerConnection, server: ScriptedServer) -> None:
    """Streams chunks for every context until told to cancel, then sends late
    events for the cancelled context anyway (as a real server may)."""
    active: dict[str, asyncio.Task[None]] = {}

    async def pump(cid: str) -> None:
        while True:
            await ws.send(chunk(cid))
            await asyncio.sleep(0.005)

    async for message in _messages(ws, server):
        cid = message["context_id"]
        if message.get("cancel"):
            task = active.pop(cid, None)
            if task is not None:
                task.cancel()
            await ws.send(chunk(cid))  # late
            await ws.send(done(cid))  # late
        elif message.get("transcript") == "short":
            await ws.send(chunk(cid, b"\x07\x07"))
            await ws.send(done(cid))
        else:
            active[cid] = asyncio.ensure_future(pump(cid))
    for task in active.values():
        task.cancel()


SHORT = TTSRequest("short", "voice-1", output_format=OutputFormat("raw", "pcm_s16le", 8000))


async def test_cancel_mid_stream_leaves_the_connection_usable() -> None:
    async with ScriptedServer(streaming_until_cancel) as server, client_for(server) as client:
        ws = await client.tts.websocket()
        ctx = await ws.generate(REQUEST)
        seen = 0
        async for event in ctx:
            assert isinstance(event, ChunkEvent)
            seen += 1
            if seen == 3:
                await ctx.cancel()
        assert ctx.finished
        await server.wait_for(lambda m: m.get("cancel") is True)
        # The late chunk and done for the cancelled context are discarded, and a
        # new context on the same connection gets exactly its own events.
        follow = await ws.generate(SHORT)
        events = [e async for e in follow]
    assert [e.type for e in events] == ["chunk", "done"]
    assert events[0].context_id == follow.context_id
    assert server.connections == 1
    assert {"context_id": ctx.context_id, "cancel": True} in server.received


async def test_leaving_async_with_early_cancels() -> None:
    async with ScriptedServer(streaming_until_cancel) as server, client_for(server) as client:
        ws = await client.tts.websocket()
        async with await ws.generate(REQUEST) as ctx:
            async for _ in ctx:
                break
        assert ctx.finished
        await server.wait_for(lambda m: m == {"context_id": ctx.context_id, "cancel": True})
        assert ws.open_contexts == 0
        assert [e.type for e in [e async for e in await ws.generate(SHORT)]] == ["chunk", "done"]


async def test_cancelling_the_consumer_task_cancels_the_context() -> None:
    async with ScriptedServer(streaming_until_cancel) as server, client_for(server) as client:
        ws = await client.tts.websocket()
        ctx = await ws.generate(REQUEST)
        first = asyncio.Event()

        async def consume() -> None:
            async for _ in ctx:
                first.set()

        task = asyncio.ensure_future(consume())
        await first.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await server.wait_for(lambda m: m == {"context_id": ctx.context_id, "cancel": True})
        assert ctx.finished
        assert [e.type for e in [e async for e in await ws.generate(SHORT)]] == ["chunk", "done"]


async def test_continue_flush_and_no_more_inputs() -> None:
    async def script(ws: ServerConnection, server: ScriptedServer) -> None:
        async for message in _messages(ws, server):
            cid = message["context_id"]
            if message.get("flush"):
                flushes = sum(1 for m in server.received if m.get("flush"))
                await ws.send(json.dumps({"type": "flush_done", "flush_done": True,
                                          "flush_id": flushes, "context_id": cid}))
            if message.get("continue") is False:
                await ws.send(done(cid))

    async with ScriptedServer(script) as server, client_for(server) as client:
        ws = await client.tts.websocket()
        async with ws.context("conv") as ctx:
            with pytest.raises(ValueError):
                await ctx.flush()
            await ctx.send(REQUEST, continue_=True)
            await ctx.send(REQUEST, continue_=True, flush=True)
            assert await ctx.flush() == 2
            await ctx.no_more_inputs()
            await ctx.no_more_inputs()  # idempotent
            with pytest.raises(ValueError):
                await ctx.send(REQUEST)
            events = [e async for e in ctx]
    assert events == [FlushDoneEvent("conv", 1), FlushDoneEvent("conv", 2), DoneEvent("conv")]
    continues = [m["continue"] for m in server.received]
    assert continues == [True, True, True, False]
    assert [m.get("flush", False) for m in server.received] == [False, True, True, False]
    assert [m["transcript"] for m in server.received] == ["Hello world."] * 2 + ["", ""]
    assert all(m["voice"] == {"mode": "id", "id": "voice-1"} for m in server.received)


@pytest.mark.parametrize(
    ("status", "cls"), [(400, BadRequestError), (404, NotFoundError), (500, ServerError)]
)
async def test_error_event_raises_by_status(status: int, cls: type[Exception]) -> None:
    async def script(ws: ServerConnection, server: ScriptedServer) -> None:
        async for message in _messages(ws, server):
            await ws.send(json.dumps({"type": "error", "done": True, "status_code": status,
                                      "error": "Invalid model", "context_id":
                                      message["context_id"]}))

    async with ScriptedServer(script) as server, client_for(server) as client:
        ws = await client.tts.websocket()
        with pytest.raises(cls, match="Invalid model"):
            async for _ in await ws.generate(REQUEST):
                pass
        quiet = await ws.generate(REQUEST, raise_on_error=False)
        events = [e async for e in quiet]
    assert events == [ErrorEvent(quiet.context_id, "Invalid model", status)]


async def test_error_without_context_reaches_every_open_context() -> None:
    async def script(ws: ServerConnection, server: ScriptedServer) -> None:
        await server.recv(ws)
        await server.recv(ws)
        await ws.send(json.dumps({"type": "error", "done": True, "status_code": 400,
                                  "error": "bad message"}))
        await ws.wait_closed()

    async with ScriptedServer(script) as server, client_for(server) as client:
        ws = await client.tts.websocket()
        contexts = [await ws.generate(REQUEST), await ws.generate(REQUEST)]
        for ctx in contexts:
            with pytest.raises(BadRequestError, match="bad message"):
                await ctx.__anext__()


async def test_malformed_message_fails_only_its_context() -> None:
    async def script(ws: ServerConnection, server: ScriptedServer) -> None:
        bad = await server.recv(ws)
        good = await server.recv(ws)
        await ws.send("not json at all")
        await ws.send(json.dumps({"type": "chunk", "data": "abc", "context_id": bad["context_id"]}))
        await ws.send(chunk(good["context_id"]))
        await ws.send(done(good["context_id"]))
        await server.recv(ws)  # the client cancels the broken context
        await ws.wait_closed()

    async with ScriptedServer(script) as server, client_for(server) as client:
        ws = await client.tts.websocket()
        bad = await ws.generate(REQUEST)
        good = await ws.generate(REQUEST)
        with pytest.raises(ResponseFormatError):
            await bad.__anext__()
        assert [e.type for e in [e async for e in good]] == ["chunk", "done"]
        await server.wait_for(lambda m: m == {"context_id": bad.context_id, "cancel": True})


async def test_drop_fails_open_contexts_and_the_next_generate_reconnects() -> None:
    async def script(ws: ServerConnection, server: ScriptedServer) -> None:
        if server.connections == 1:
            first = await server.recv(ws)
            await server.recv(ws)
            await ws.send(chunk(first["context_id"]))
            ws.transport.abort()  # no close frame: a network failure
            return
        await one_chunk_then_done(ws, server)

    async with ScriptedServer(script) as server, client_for(server) as client:
        ws = await client.tts.websocket()
        a = await ws.generate(REQUEST)
        b = await ws.generate(REQUEST)
        assert isinstance(await a.__anext__(), ChunkEvent)
        with pytest.raises(ConnectionLostError):
            await a.__anext__()
        with pytest.raises(ConnectionLostError):
            await b.__anext__()
        with pytest.raises(ConnectionLostError):
            await b.send(REQUEST)
        assert not ws.closed
        again = await ws.generate(SHORT)
        assert [e.type for e in [e async for e in again]] == ["chunk", "done"]
        assert (await client.tts.websocket()) is ws
    assert server.connections == 2


async def test_close_fails_open_contexts_and_a_new_socket_is_handed_out() -> None:
    async with ScriptedServer(streaming_until_cancel) as server, client_for(server) as client:
        ws = await client.tts.websocket()
        ctx = await ws.generate(REQUEST)
        await ctx.__anext__()
        await ws.close()
        assert ws.closed and not ws.connected
        with pytest.raises(ConnectionLostError):
            async for _ in ctx:
                pass
        with pytest.raises(ConnectionLostError):
            ws.context()
        fresh = await client.tts.websocket()
        assert fresh is not ws
        assert [e.type for e in [e async for e in await fresh.generate(SHORT)]] == ["chunk", "done"]


async def test_handshake_statuses() -> None:
    async with ScriptedServer(one_chunk_then_done) as server:
        server.reject = [(401, {})]
        async with client_for(server) as client:
            with pytest.raises(AuthenticationError, match="refused 401"):
                await client.tts.websocket()
        assert len(server.handshakes) == 1

        server.reject = [(503, {}), (429, {"Retry-After": "0"})]
        async with client_for(server) as client:
            ws = await client.tts.websocket()
            assert [e.type for e in [e async for e in await ws.generate(SHORT)]] == [
                "chunk", "done"
            ]
        assert len(server.handshakes) == 4


async def test_connect_refused_is_a_lost_connection() -> None:
    async with ScriptedServer(one_chunk_then_done) as server:
        url = server.url
    client = CartesiaClient(KEY, websocket_base_url=url, retry_policy=FAST)
    with pytest.raises(ConnectionLostError):
        await client.tts.websocket()
    await client.aclose()


async def test_duplicate_context_ids_are_refused() -> None:
    async with ScriptedServer(streaming_until_cancel) as server, client_for(server) as client:
        ws = await client.tts.websocket()
        ctx = await ws.generate(REQUEST, context_id="same")
        with pytest.raises(ValueError):
            await ws.generate(REQUEST, context_id="same")
        await ctx.cancel()
        await ctx.cancel()  # idempotent
        again = await ws.generate(SHORT, context_id="same")
        assert [e.type for e in [e async for e in again]] == ["chunk", "done"]


async def test_websocket_rejects_non_raw_containers() -> None:
    wav = TTSRequest("x", "v", output_format=OutputFormat("wav", "pcm_s16le", 8000))
    async with ScriptedServer(one_chunk_then_done) as server, client_for(server) as client:
        ws = await client.tts.websocket()
        with pytest.raises(ValueError, match="raw"):
            await ws.generate(wav)
        assert server.received == []


async def test_the_api_key_never_reaches_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with ScriptedServer(one_chunk_then_done) as server:
        server.reject = [(503, {})]
        async with client_for(server) as client:
            ws = await client.tts.websocket()
            await collect_all(await ws.generate(SHORT))
    ours = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith("websockets.server")
    )
    assert "Authorization: Bearer ***" in ours  # the handshake was logged, masked
    assert "retry 1/2" in ours
    assert KEY not in ours


async def collect_all(ctx: Any) -> list[Any]:
    return [e async for e in ctx]


def test_keepalive_timeout_is_an_api_timeout() -> None:
    from websockets.exceptions import ConnectionClosedError
    from websockets.frames import Close

    from studio.api.websocket import _loss

    ping = ConnectionClosedError(None, Close(1011, "keepalive ping timeout"))
    kind, message = _loss(ping)
    assert kind is APITimeoutError and "1011" in message
    server_error = ConnectionClosedError(Close(1011, "internal error"), None)
    assert _loss(server_error)[0] is ConnectionLostError
    assert _loss(ConnectionClosedError(None, None))[0] is ConnectionLostError


async def test_an_idle_connection_closed_by_the_server_is_reopened() -> None:
    closed = asyncio.Event()

    async def script(ws: ServerConnection, server: ScriptedServer) -> None:
        if server.connections == 1:
            await ws.close(1000, "idle timeout")
            closed.set()
            return
        await one_chunk_then_done(ws, server)

    async with ScriptedServer(script) as server, client_for(server) as client:
        ws = await client.tts.websocket()
        await closed.wait()
        events = await collect_all(await ws.generate(SHORT))
        assert [e.type for e in events] == ["chunk", "done"]
        assert server.connections == 2 and ws.connected


def test_a_context_can_be_stepped_while_no_loop_is_marked_running() -> None:
    """qasync steps tasks from Qt's event loop between run_until_complete calls,
    when asyncio has no running loop; the context must still wait and wake."""
    from studio.api import TTSWebSocket

    async def refuse() -> Any:
        raise AssertionError("no connection is needed")

    loop = asyncio.new_event_loop()
    try:

        async def make() -> Any:
            return TTSWebSocket(refuse).context("stepped")

        ctx = loop.run_until_complete(make())
        step = ctx.__anext__()
        waiter = step.send(None)  # no running loop here: the old Queue.get() failed
        assert isinstance(waiter, asyncio.Future) and not waiter.done()
        ctx._deliver(DoneEvent("stepped"))
        assert waiter.done()
        with pytest.raises(StopIteration) as stopped:
            step.send(None)
        assert stopped.value.value == DoneEvent("stepped")
    finally:
        loop.close()
