"""CartesiaClient's HTTP endpoints against the offline engine over real loopback:
status, voices, previews, /tts/bytes, /tts/sse, retries counted on the server,
Retry-After, auth and request errors."""

from __future__ import annotations

import time

import numpy as np
import pytest

from studio.api import (
    AuthenticationError,
    BadRequestError,
    CartesiaClient,
    ChunkEvent,
    DoneEvent,
    NotFoundError,
    OutputFormat,
    PhonemeTimestampsEvent,
    RateLimitError,
    RetryPolicy,
    ServerError,
    TimestampsEvent,
    TTSRequest,
)
from studio.offline import OfflineEngine

FAST = RetryPolicy(max_retries=2, initial_delay=0.01, max_backoff=0.02)
F32 = OutputFormat("raw", "pcm_f32le", 22050)


def client_for(engine: OfflineEngine, **kwargs: object) -> CartesiaClient:
    kwargs.setdefault("retry_policy", FAST)
    return CartesiaClient(engine.api_key, base_url=engine.base_url, **kwargs)  # type: ignore[arg-type]


async def first_voice_id(client: CartesiaClient) -> str:
    return (await client.voices.list(limit=1))[0].id


async def test_status_and_voice_catalogue(engine: OfflineEngine) -> None:
    async with client_for(engine) as client:
        status = await client.api_status.get()
        assert status.ok and status.version
        everything = await client.voices.list()
        paged = await client.voices.list(limit=2)
        assert [v.id for v in paged] == [v.id for v in everything]
        assert len({v.id for v in everything}) == len(everything) >= 3
        one = await client.voices.get(everything[1].id)
        assert one == everything[1]
        found = await client.voices.list(q=everything[1].name)
        assert everything[1].id in [v.id for v in found]
        assert await client.voices.list(q="no voice is called this zzqx") == []


async def test_voice_preview_is_fetched_with_auth(engine: OfflineEngine) -> None:
    async with client_for(engine) as client:
        voices = await client.voices.list(expand=["preview_file_url"])
        with_preview = [v for v in voices if v.preview_file_url]
        assert with_preview, "the engine offers previews"
        audio = await client.fetch_bytes(with_preview[0].preview_file_url or "")
        assert len(audio) > 1000
        single = await client.voices.get(with_preview[0].id, expand=["preview_file_url"])
        assert single.preview_file_url


async def test_bytes_and_sse_agree_on_length(engine: OfflineEngine) -> None:
    async with client_for(engine) as client:
        voice_id = await first_voice_id(client)
        request = TTSRequest("Testing one, two, three.", voice_id, output_format=F32)
        raw = np.frombuffer(await client.tts.bytes(request), "<f4")
        events = [e async for e in client.tts.sse(request, add_timestamps=True,
                                                  add_phoneme_timestamps=True)]
    streamed = np.frombuffer(
        b"".join(e.audio for e in events if isinstance(e, ChunkEvent)), "<f4"
    )
    assert len(raw) > 22050 * 0.5
    # The engine's streamed and whole-file renders may differ by a few frames of
    # resampler edge; the same speech is within a percent.
    assert abs(len(streamed) - len(raw)) <= 0.01 * len(raw)
    assert isinstance(events[-1], DoneEvent)
    words = [w for e in events if isinstance(e, TimestampsEvent) for w in e.word_timestamps.words]
    assert [w.strip(",.").lower() for w in words] == ["testing", "one", "two", "three"]
    assert any(isinstance(e, PhonemeTimestampsEvent) for e in events)


async def test_wav_container_from_tts_bytes(engine: OfflineEngine) -> None:
    async with client_for(engine) as client:
        voice_id = await first_voice_id(client)
        wav = await client.tts.bytes(
            TTSRequest("Hi.", voice_id, output_format=OutputFormat("wav", "pcm_s16le", 16000))
        )
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"


async def test_injected_429_and_503_are_retried(engine: OfflineEngine) -> None:
    async with client_for(engine) as client:
        before = engine.stats.requests("/voices")
        engine.inject_faults("/voices", [429, 503])
        voices = await client.voices.list()
        assert voices
        assert engine.stats.requests("/voices") - before == 3


async def test_retries_are_bounded(engine: OfflineEngine) -> None:
    async with client_for(engine) as client:
        voice_id = await first_voice_id(client)
        request = TTSRequest("Hello.", voice_id, output_format=F32)
        before = engine.stats.requests("/tts/bytes")
        engine.inject_faults("/tts/bytes", [503, 503, 503])
        with pytest.raises(ServerError) as info:
            await client.tts.bytes(request)
        assert info.value.status_code == 503
        assert engine.stats.requests("/tts/bytes") - before == 3
        assert len(await client.tts.bytes(request)) > 0  # nothing left over


async def test_client_errors_are_not_retried(engine: OfflineEngine) -> None:
    async with client_for(engine) as client:
        before = engine.stats.requests("/voices")
        engine.inject_faults("/voices", [400])
        with pytest.raises(BadRequestError):
            await client.voices.list()
        assert engine.stats.requests("/voices") - before == 1


async def test_retry_after_is_honoured(engine: OfflineEngine) -> None:
    async with client_for(engine, retry_policy=RetryPolicy(max_retries=1)) as client:
        before = engine.stats.requests("/")
        engine.inject_faults("/", [429], retry_after=0.2)
        started = time.monotonic()
        assert (await client.api_status.get()).ok
        elapsed = time.monotonic() - started
    assert engine.stats.requests("/") - before == 2
    assert elapsed >= 0.2  # a lower bound the server set, not a speed assertion


async def test_rate_limit_reaches_the_caller_with_retry_after(engine: OfflineEngine) -> None:
    async with client_for(engine, retry_policy=RetryPolicy(max_retries=0)) as client:
        engine.inject_faults("/", [429], retry_after=5)
        with pytest.raises(RateLimitError) as info:
            await client.api_status.get()
    assert info.value.retry_after == 5.0


async def test_sse_is_retried_before_its_body(engine: OfflineEngine) -> None:
    async with client_for(engine) as client:
        voice_id = await first_voice_id(client)
        before = engine.stats.requests("/tts/sse")
        engine.inject_faults("/tts/sse", [503])
        async with client.tts.sse(TTSRequest("Hello.", voice_id, output_format=F32)) as events:
            kinds = [e.type async for e in events]
    assert kinds[0] == "chunk" and kinds[-1] == "done"
    assert engine.stats.requests("/tts/sse") - before == 2


async def test_wrong_key_is_an_authentication_error(engine: OfflineEngine) -> None:
    async with CartesiaClient("not-the-key", base_url=engine.base_url) as client:
        before = engine.stats.requests("/voices")
        with pytest.raises(AuthenticationError):
            await client.voices.list()
        assert engine.stats.requests("/voices") - before == 1


async def test_invalid_model_and_unknown_voice(engine: OfflineEngine) -> None:
    async with client_for(engine) as client:
        voice_id = await first_voice_id(client)
        bad_model = TTSRequest("Hi.", voice_id, model_id="sonic-nonexistent", output_format=F32)
        with pytest.raises(BadRequestError, match=r"(?i)model"):
            await client.tts.bytes(bad_model)
        with pytest.raises(BadRequestError, match=r"(?i)model"):
            async for _ in client.tts.sse(bad_model):
                pass
        bad_voice = TTSRequest("Hi.", "no-such-voice", output_format=F32)
        with pytest.raises((NotFoundError, BadRequestError)):
            await client.tts.bytes(bad_voice)
        with pytest.raises((NotFoundError, BadRequestError)):
            await client.voices.get("no-such-voice")
