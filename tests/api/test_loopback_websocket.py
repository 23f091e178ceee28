"""The TTS WebSocket against the offline engine over real loopback: every event
type, continuations and flushes, concurrent contexts, cancel mid-stream, a
dropped connection and reconnect, handshake retries and errors."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from studio.api import (
    AuthenticationError,
    BadRequestError,
    CartesiaClient,
    ChunkEvent,
    ConnectionLostError,
    DoneEvent,
    FlushDoneEvent,
    NotFoundError,
    OutputFormat,
    PhonemeTimestampsEvent,
    RetryPolicy,
    StreamEvent,
    TimestampsEvent,
    TTSContext,
    TTSRequest,
)
from studio.audio.codecs import decode
from studio.offline import OfflineEngine

FAST = RetryPolicy(max_retries=2, initial_delay=0.01, max_backoff=0.02)
S16 = OutputFormat("raw", "pcm_s16le", 16000)
LONG_TEXT = " ".join(
    f"This is sentence number {n}, spoken slowly so that the stream lasts a while."
    for n in range(1, 30)
)


def client_for(engine: OfflineEngine, **kwargs: object) -> CartesiaClient:
    kwargs.setdefault("retry_policy", FAST)
    return CartesiaClient(engine.api_key, base_url=engine.base_url, **kwargs)  # type: ignore[arg-type]


async def voice_ids(client: CartesiaClient) -> list[str]:
    return [v.id for v in await client.voices.list()]


async def collect(ctx: TTSContext) -> list[StreamEvent]:
    return [event async for event in ctx]


def audio_of(events: list[StreamEvent]) -> bytes:
    return b"".join(e.audio for e in events if isinstance(e, ChunkEvent))


async def test_every_event_type(engine: OfflineEngine) -> None:
    async with client_for(engine) as client:
        [voice, *_] = await voice_ids(client)
        ws = await client.tts.websocket()
        ctx = await ws.generate(
            TTSRequest("Hello world, this is the studio.", voice, output_format=S16),
            add_timestamps=True,
            add_phoneme_timestamps=True,
        )
        events = await collect(ctx)
    kinds = {type(e) for e in events}
    assert {ChunkEvent, TimestampsEvent, PhonemeTimestampsEvent, DoneEvent} <= kinds
    assert isinstance(events[-1], DoneEvent)
    assert all(e.context_id == ctx.context_id for e in events)
    samples = decode(audio_of(events), "pcm_s16le")
    assert len(samples) > 16000 * 0.5 and float(np.abs(samples).max()) > 0.05
    words = [w for e in events if isinstance(e, TimestampsEvent) for w in e.word_timestamps.words]
    spoken = [w.strip(",.").lower() for w in words]
    assert spoken == ["hello", "world", "this", "is", "the", "studio"]
    starts = [s for e in events if isinstance(e, TimestampsEvent) for s in e.word_timestamps.start]
    assert starts == sorted(starts) and starts[-1] < len(samples) / 16000


async def test_continue_flush_and_no_more_inputs(engine: OfflineEngine) -> None:
    async with client_for(engine) as client:
        [voice, *_] = await voice_ids(client)
        ws = await client.tts.websocket()
        async with ws.context() as ctx:
            await ctx.send(TTSRequest("First part,", voice, output_format=S16), continue_=True)
            assert await ctx.flush() == 1
            await ctx.send(TTSRequest("and the second.", voice, output_format=S16),
                           continue_=True, flush=True)
            await ctx.no_more_inputs()
            events = await collect(ctx)
    flushes = [e for e in events if isinstance(e, FlushDoneEvent)]
    assert [f.flush_id for f in flushes] == [1, 2]
    first_flush = events.index(flushes[0])
    assert any(isinstance(e, ChunkEvent) for e in events[:first_flush])
    chunk_flush_ids = {e.flush_id for e in events if isinstance(e, ChunkEvent)}
    assert chunk_flush_ids <= {1, 2, 3} and 1 in chunk_flush_ids
    assert isinstance(events[-1], DoneEvent)


async def test_concurrent_contexts_on_one_connection(engine: OfflineEngine) -> None:
    async with client_for(engine) as client:
        voices = await voice_ids(client)
        requests = [
            TTSRequest("A short one.", voices[0], output_format=S16),
            TTSRequest("A noticeably longer sentence for the second context.", voices[1],
                       output_format=S16),
            TTSRequest("Third.", voices[2], output_format=OutputFormat("raw", "pcm_f32le", 24000)),
        ]
        alone = [
            len(decode(await client.tts.bytes(r), r.output_format.encoding)) for r in requests
        ]
        ws = await client.tts.websocket()
        handshakes = engine.stats.requests("/tts/websocket:handshake")
        contexts = [await ws.generate(r) for r in requests]
        results = await asyncio.gather(*(collect(c) for c in contexts))
        assert engine.stats.requests("/tts/websocket:handshake") == handshakes
    for ctx, events, request, frames in zip(contexts, results, requests, alone, strict=True):
        assert all(e.context_id == ctx.context_id for e in events)
        got = len(decode(audio_of(events), request.output_format.encoding))
        assert abs(got - frames) <= 0.01 * frames


async def test_cancel_mid_stream_then_reuse_the_connection(engine: OfflineEngine) -> None:
    async with client_for(engine) as client:
        [voice, *_] = await voice_ids(client)
        ws = await client.tts.websocket()
        full = await collect(await ws.generate(TTSRequest(LONG_TEXT, voice, output_format=S16)))
        ctx = await ws.generate(TTSRequest(LONG_TEXT, voice, output_format=S16))
        received = []
        async for event in ctx:
            received.append(event)
            if len(received) == 2:
                await ctx.cancel()
        assert ctx.finished and len(received) == 2
        assert len(audio_of(received)) < len(audio_of(full))
        # The connection carries on; late events of the cancelled context are dropped.
        still = TTSRequest("Still here.", voice, output_format=S16)
        after = await collect(await ws.generate(still))
        assert isinstance(after[-1], DoneEvent)
        assert {e.context_id for e in after} == {after[-1].context_id}
        assert ws.open_contexts == 0 and ws.connected


async def test_leaving_async_with_early_cancels(engine: OfflineEngine) -> None:
    async with client_for(engine) as client:
        [voice, *_] = await voice_ids(client)
        ws = await client.tts.websocket()
        async with await ws.generate(TTSRequest(LONG_TEXT, voice, output_format=S16)) as ctx:
            async for _ in ctx:
                break
        assert ctx.finished and ws.open_contexts == 0
        again = await collect(await ws.generate(TTSRequest("Again.", voice, output_format=S16)))
        assert isinstance(again[-1], DoneEvent)


async def test_dropped_connection_then_reconnect(engine: OfflineEngine) -> None:
    async with client_for(engine) as client:
        [voice, *_] = await voice_ids(client)
        ws = await client.tts.websocket()
        handshakes = engine.stats.requests("/tts/websocket:handshake")
        # An open context that sends nothing yet: unfinished text, long buffer delay.
        waiting = ws.context()
        await waiting.send(TTSRequest("and then, after a while", voice, output_format=S16),
                           continue_=True, max_buffer_delay_ms=5000)
        engine.drop_websockets_after(3)
        streaming = await ws.generate(TTSRequest(LONG_TEXT, voice, output_format=S16))
        received: list[StreamEvent] = []
        with pytest.raises(ConnectionLostError):
            async for event in streaming:
                received.append(event)
        assert len(received) <= 3
        with pytest.raises(ConnectionLostError):
            await collect(waiting)
        with pytest.raises(ConnectionLostError):
            await waiting.send(TTSRequest("more", voice, output_format=S16), continue_=True)
        assert not ws.closed
        back = TTSRequest("Back again.", voice, output_format=S16)
        events = await collect(await ws.generate(back))
        assert isinstance(events[-1], DoneEvent)
        assert engine.stats.requests("/tts/websocket:handshake") == handshakes + 1


async def test_handshake_faults_are_retried(engine: OfflineEngine) -> None:
    async with client_for(engine) as client:
        before = engine.stats.requests("/tts/websocket:handshake")
        engine.inject_faults("/tts/websocket", [503, 429])
        ws = await client.tts.websocket()
        assert ws.connected
        assert engine.stats.requests("/tts/websocket:handshake") - before == 3


async def test_wrong_key_refused_at_handshake(engine: OfflineEngine) -> None:
    async with CartesiaClient("wrong-key", base_url=engine.base_url, retry_policy=FAST) as client:
        before = engine.stats.requests("/tts/websocket:handshake")
        with pytest.raises(AuthenticationError):
            await client.tts.websocket()
        assert engine.stats.requests("/tts/websocket:handshake") - before == 1


async def test_request_errors_arrive_as_typed_exceptions(engine: OfflineEngine) -> None:
    async with client_for(engine) as client:
        [voice, *_] = await voice_ids(client)
        ws = await client.tts.websocket()
        with pytest.raises(BadRequestError, match=r"(?i)model"):
            await collect(await ws.generate(
                TTSRequest("Hi.", voice, model_id="sonic-nonexistent", output_format=S16)
            ))
        with pytest.raises((NotFoundError, BadRequestError)):
            await collect(await ws.generate(TTSRequest("Hi.", "no-such-voice", output_format=S16)))
        ok = await collect(await ws.generate(TTSRequest("Fine.", voice, output_format=S16)))
        assert isinstance(ok[-1], DoneEvent)
