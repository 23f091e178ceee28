"""StreamPlayer with an injected output stream, NullPlayer, and open_player fallbacks."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import numpy as np
import pytest
from audio_fakes import (
    WAIT,
    FakeCallbackFlags,
    FakeCallbackStop,
    FakePortAudioError,
    FakeSoundDevice,
    StreamRecorder,
    fake_device,
)

from studio.audio.devices import NO_OUTPUT_DEVICE, PORTAUDIO_MISSING, audio_backend_status
from studio.audio.playback import NullPlayer, StreamPlayer, open_player, play_buffer

RATE = 16_000


def tone(frames: int, offset: float = 0.1) -> np.ndarray:
    """Audio with no zero sample, so underrun zeros can be told apart from content."""
    t = np.arange(frames, dtype=np.float64)
    return (offset + 0.5 * (1 + np.sin(2 * np.pi * 440 * t / RATE)) * 0.8).astype(np.float32)


async def done(player: StreamPlayer) -> None:
    await asyncio.wait_for(player.wait_done(), WAIT)


async def test_playback_starts_on_first_chunk_and_plays_everything(
    recorder: StreamRecorder,
) -> None:
    player = StreamPlayer(RATE, stream_factory=recorder, blocksize=64)
    signal = tone(RATE // 2)
    chunks = np.array_split(signal, 8)
    assert player.write(chunks[0]) == chunks[0].shape[0]
    stream = recorder.last
    # Audio reaches the device while the rest of the stream has not even been written.
    assert stream.first_nonzero.wait(WAIT)
    assert player.is_playing
    for chunk in chunks[1:]:
        player.write(chunk)
    player.finish_input()
    await done(player)
    out = stream.output()
    np.testing.assert_array_equal(out[out != 0], signal)
    assert player.position_frames == signal.shape[0]
    assert stream.stopped_by_callback and not player.is_playing and player.is_done
    assert stream.kwargs == dict(
        samplerate=RATE, channels=1, dtype="float32", blocksize=64, device=None, latency="low"
    )
    player.close()
    assert stream.closed


async def test_prebuffered_output_is_exactly_the_input(recorder: StreamRecorder) -> None:
    player = StreamPlayer(RATE, stream_factory=recorder, blocksize=100, autostart=False)
    signal = tone(1_234)
    player.write(signal[:1000])
    player.write(signal[1000:])
    assert player.buffered_frames == 1_234 and not recorder.streams
    player.finish_input()
    assert not player.is_done  # buffered audio still has to play
    player.start()
    await done(player)
    out = recorder.last.output()
    assert out.shape[0] == 1_300  # 13 blocks; the last one is zero-padded
    np.testing.assert_array_equal(out[:1_234], signal)
    assert not out[1_234:].any()
    assert player.underruns == 0 and player.buffered_frames == 0


async def test_finish_without_audio_completes_at_once(recorder: StreamRecorder) -> None:
    player = StreamPlayer(RATE, stream_factory=recorder)
    player.finish_input()
    await done(player)
    assert not recorder.streams


async def test_stop_mid_stream_clears_and_completes(
    gated_recorder: tuple[StreamRecorder, threading.Semaphore],
) -> None:
    recorder, gate = gated_recorder
    player = StreamPlayer(RATE, stream_factory=recorder, blocksize=64)
    player.write(tone(RATE))
    gate.release(3)
    assert recorder.last.wait_for_blocks(3)
    waiter = asyncio.ensure_future(player.wait_done())
    player.stop()
    await asyncio.wait_for(waiter, WAIT)
    assert player.buffered_frames == 0
    assert player.position_frames == 3 * 64
    assert not recorder.last.active and not player.is_playing
    gate.release(10)  # the stream thread has ended: nothing more is pulled
    assert len(recorder.last.blocks) == 3
    player.stop()  # idempotent
    player.close()


async def test_a_new_playback_after_completion_uses_a_fresh_stream(
    recorder: StreamRecorder,
) -> None:
    player = StreamPlayer(RATE, stream_factory=recorder, blocksize=64)
    player.write(tone(300))
    player.finish_input()
    await done(player)
    first = recorder.last
    second_signal = tone(500, offset=0.2)
    player.write(second_signal)
    assert first.closed and recorder.last is not first
    assert not player.is_done
    player.finish_input()
    await done(player)
    out = recorder.last.output()
    np.testing.assert_array_equal(out[out != 0], second_signal)
    assert player.position_frames == 500
    player.close()


async def test_overflow_is_dropped_and_counted(recorder: StreamRecorder) -> None:
    player = StreamPlayer(RATE, stream_factory=recorder, capacity_seconds=0.01, autostart=False)
    assert player.write(np.ones(100, np.float32)) == 100
    assert player.write(np.ones(100, np.float32)) == 60  # capacity is 160 frames
    assert player.frames_dropped == 40 and player.buffered_frames == 160
    player.close()


async def test_misuse_is_reported(recorder: StreamRecorder) -> None:
    player = StreamPlayer(RATE, stream_factory=recorder, autostart=False)
    with pytest.raises(ValueError):
        player.write(np.zeros((10, 2), np.float32))
    player.write(np.ones(10, np.float32))
    player.finish_input()
    with pytest.raises(RuntimeError):
        player.write(np.ones(10, np.float32))
    player.close()
    with pytest.raises(RuntimeError):
        player.write(np.ones(10, np.float32))
    with pytest.raises(ValueError):
        StreamPlayer(0, stream_factory=recorder)


async def test_wait_done_from_another_loop_thread(recorder: StreamRecorder) -> None:
    # Completion is delivered with call_soon_threadsafe to whichever loop is waiting.
    player = StreamPlayer(RATE, stream_factory=recorder, blocksize=64)
    results: list[str] = []

    def other_loop() -> None:
        asyncio.run(asyncio.wait_for(player.wait_done(), WAIT))
        results.append("done")

    thread = threading.Thread(target=other_loop)
    thread.start()
    player.write(tone(640))
    player.finish_input()
    await done(player)
    thread.join(WAIT)
    assert results == ["done"]
    player.close()


async def test_null_player_keeps_time_and_completes() -> None:
    player = NullPlayer(RATE, "no audio output device")
    assert player.is_null and player.reason == "no audio output device"
    frames = RATE // 5
    started = time.monotonic()
    player.write(tone(frames))
    while player.position_frames == 0:
        await asyncio.sleep(0.005)
        assert time.monotonic() - started < WAIT, "null output never consumed audio"
    assert player.position_frames < frames or player.is_done
    player.finish_input()
    await done(player)
    elapsed = time.monotonic() - started
    assert player.position_frames == frames
    # It consumes in real time: never faster than the audio lasts (minus one 10 ms block).
    assert elapsed >= frames / RATE - 0.01
    player.close()


async def test_null_player_stop() -> None:
    player = NullPlayer(RATE, "testing")
    player.write(tone(RATE * 5))
    player.stop()
    await done(player)
    assert player.buffered_frames == 0 and player.position_frames < RATE * 5
    player.close()


async def test_open_player_without_portaudio_gives_null_player(install_sounddevice: Any) -> None:
    install_sounddevice(OSError("PortAudio library not found"))
    player = open_player(RATE)
    assert isinstance(player, NullPlayer) and player.reason == PORTAUDIO_MISSING
    player.close()


async def test_open_player_without_output_device_gives_null_player(
    install_sounddevice: Any,
) -> None:
    install_sounddevice(FakeSoundDevice([fake_device(0, "Mic", 2, 0)], default_input=0))
    player = open_player(RATE)
    assert isinstance(player, NullPlayer) and player.reason == NO_OUTPUT_DEVICE
    player.close()


async def test_open_player_falls_back_when_the_stream_cannot_open(
    install_sounddevice: Any,
) -> None:
    module = FakeSoundDevice(
        [fake_device(0, "Speakers", 0, 2)],
        default_output=0,
        open_error=FakePortAudioError("Invalid sample rate"),
    )
    install_sounddevice(module)
    player = open_player(RATE)
    assert isinstance(player, NullPlayer)
    assert "Invalid sample rate" in player.reason and str(RATE) in player.reason
    player.close()


async def test_open_player_real_path_uses_sounddevice_stop_exception(
    install_sounddevice: Any,
) -> None:
    module = FakeSoundDevice([fake_device(0, "Speakers", 0, 2)], default_output=0)
    install_sounddevice(module)
    player = open_player(RATE, device=0, blocksize=32)
    assert type(player) is StreamPlayer and not player.is_null
    assert len(module.streams) == 1  # opened eagerly, so failures show up here
    signal = tone(200)
    player.write(signal)
    player.finish_input()
    await done(player)
    stream = module.streams[0]
    assert stream.stopped_by_callback  # raised sounddevice's CallbackStop, not ours
    assert stream.kwargs["device"] == 0
    out = stream.output()
    np.testing.assert_array_equal(out[out != 0], signal)
    player.close()
    assert FakeCallbackStop is module.CallbackStop


async def test_open_player_on_this_machine_never_raises() -> None:
    status = audio_backend_status()
    player = play_buffer(tone(RATE // 20), RATE)
    try:
        if status.available:
            assert not player.is_null
        else:
            assert isinstance(player, NullPlayer) and player.reason == status.reason
        await done(player)
        assert player.position_frames == RATE // 20
    finally:
        player.close()


async def test_output_underflows_are_counted_and_a_latency_reaches_the_stream() -> None:
    # Issue 14: on a loaded machine PortAudio reported gaps (``output_underflow``) the
    # studio never noticed. The ring buffer had audio: only the device ran dry.
    late, fine = FakeCallbackFlags(output_underflow=True), FakeCallbackFlags()
    recorder = StreamRecorder(statuses=[late, fine, late, fine])
    player = StreamPlayer(RATE, stream_factory=recorder, blocksize=64, latency=0.3)
    signal = tone(RATE // 10)
    player.write(signal)
    player.finish_input()
    await done(player)
    assert player.stutters == 2
    assert player.underruns == 0  # never short of audio: these are the device's gaps
    assert recorder.last.kwargs["latency"] == 0.3
    player.write(signal)  # a new playback, on a new stream flagged the same way
    player.finish_input()
    await done(player)
    assert player.stutters == 2, "counted afresh, not added to the last playback's"
    player.close()
