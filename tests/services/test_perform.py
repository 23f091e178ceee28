"""Perform it yourself: a performance converted by the offline engine's voice changer
becomes a take in the block's voice, with aligned words, its request and its cost."""

from __future__ import annotations

import io

import httpx
import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf

from studio.api import CartesiaClient, NotFoundError
from studio.offline import OfflineEngine, voice_conversion
from studio.offline.voices import BUILTIN_VOICES
from studio.services.perform import (
    MAX_PERFORMANCE_SECONDS,
    PerformError,
    check_performance,
    output_rate,
    perform_credits,
    perform_take,
)

LINE = "The lighthouse keeper counted seven ships before dawn."


def spoken(engine: OfflineEngine, text: str, rate: int = 22050) -> npt.NDArray[np.float32]:
    """``text`` as said by the engine's first voice: the "performance"."""
    body = {"model_id": "sonic-3", "transcript": text,
            "voice": {"mode": "id", "id": BUILTIN_VOICES[0].id}, "language": "en",
            "output_format": {"container": "wav", "encoding": "pcm_f32le",
                              "sample_rate": rate}}
    headers = {"Authorization": f"Bearer {engine.api_key}", "Cartesia-Version": "2025-04-16"}
    response = httpx.post(f"{engine.base_url}/tts/bytes", json=body, headers=headers,
                          timeout=60.0)
    response.raise_for_status()
    samples, got = sf.read(io.BytesIO(response.content), dtype="float32")
    assert got == rate
    return np.asarray(samples, dtype=np.float32)


def test_the_estimate_is_15_credits_a_second_on_the_cloud_only() -> None:
    assert perform_credits(2.0, "cloud") == 30
    assert perform_credits(2.01, "cloud") == 31
    assert perform_credits(60.0, "offline") == 0
    assert output_rate(44100) == 44100 and output_rate(11025) == 44100


def test_bad_performances_are_refused_with_a_reason() -> None:
    with pytest.raises(PerformError, match="at least"):
        check_performance(np.full(100, 0.1, np.float32), 16000)
    with pytest.raises(PerformError, match="silent"):
        check_performance(np.zeros(16000, np.float32), 16000)
    with pytest.raises(PerformError, match="at most"):
        check_performance(np.full(int(16000 * (MAX_PERFORMANCE_SECONDS + 1)), 0.1,
                                  np.float32), 16000)
    with pytest.raises(PerformError, match="mono"):
        check_performance(np.full((16000, 2), 0.1, np.float32), 16000)
    with pytest.raises(PerformError, match="sample rate"):
        check_performance(np.full(16000, 0.1, np.float32), 0)


async def test_a_performance_becomes_an_aligned_take_in_the_voice(
        offline_engine: OfflineEngine) -> None:
    performance = spoken(offline_engine, LINE)
    target = BUILTIN_VOICES[1].id
    async with CartesiaClient(offline_engine.api_key, base_url=offline_engine.base_url,
                              max_retries=0) as client:
        result = await perform_take(client, "offline", performance, 22050, target, LINE,
                                    "en", take_number=3)
    take = result.take
    assert take.name == "Take 3" and take.backend == "offline" and take.credits == 0
    assert take.sample_rate == 22050
    # Same timing as the performance (the voice changer keeps it).
    assert abs(take.frames - performance.size) <= 0.01 * performance.size
    # Re-spoken: the pitch moved toward the target voice.
    before = voice_conversion.measure(performance, 22050).median_f0_hz
    after = voice_conversion.measure(take.audio, 22050).median_f0_hz
    assert abs(after / before - 1) > 0.05
    assert result.note == ""
    assert take.word_timestamps.words[0].lower().strip(".,") == "the"
    assert len(take.word_timestamps.words) == len(LINE.split())
    assert 0 <= take.word_timestamps.start[0] < take.word_timestamps.end[-1] <= take.duration
    changer = take.request["voice_changer"]
    assert changer["voice_id"] == target and changer["source"] == "performance"
    assert abs(changer["seconds"] - performance.size / 22050) < 0.01
    assert take.request["transcript"] == LINE and take.spoken_text == LINE
    assert take.request["voice"] == {"mode": "id", "id": target}
    # The performance itself is kept with the take.
    assert take.performance is not None and take.performance.sample_rate == 22050
    assert np.array_equal(take.performance.array, performance)


async def test_on_the_cloud_the_take_records_its_credits(offline_engine: OfflineEngine) -> None:
    performance = spoken(offline_engine, "Seven ships.", rate=16000)
    async with CartesiaClient(offline_engine.api_key, base_url=offline_engine.base_url,
                              max_retries=0) as client:
        result = await perform_take(client, "cloud", performance, 16000,
                                    BUILTIN_VOICES[2].id, "", "en", take_number=1,
                                    source="take:t1", keep_performance=False)
    assert result.take.performance is None
    assert result.take.credits == perform_credits(performance.size / 16000, "cloud") > 0
    # No text to align: no words, and a note says why.
    assert result.take.word_timestamps.words == ()
    assert "no text" in result.note


async def test_unalignable_text_gives_a_take_without_words_and_a_note(
        offline_engine: OfflineEngine) -> None:
    performance = spoken(offline_engine, "Seven ships before dawn.", rate=16000)
    async with CartesiaClient(offline_engine.api_key, base_url=offline_engine.base_url,
                              max_retries=0) as client:
        result = await perform_take(client, "offline", performance, 16000,
                                    BUILTIN_VOICES[1].id, "Семь кораблей до рассвета.", "ru",
                                    take_number=1)
    assert result.take.word_timestamps.words == ()
    assert "could not be aligned" in result.note


async def test_an_unknown_voice_or_blank_voice_adds_nothing(
        offline_engine: OfflineEngine) -> None:
    performance = spoken(offline_engine, "Seven ships.", rate=16000)
    async with CartesiaClient(offline_engine.api_key, base_url=offline_engine.base_url,
                              max_retries=0) as client:
        with pytest.raises(NotFoundError):
            await perform_take(client, "offline", performance, 16000, "no-such-voice",
                               "Seven ships.", "en", 1)
        with pytest.raises(ValueError, match="Choose a voice"):
            await perform_take(client, "offline", performance, 16000, " ", "x", "en", 1)
