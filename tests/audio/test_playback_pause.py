"""Pausing a StreamPlayer: silence while held, nothing consumed, the position kept."""

from __future__ import annotations

from typing import Any

import numpy as np

from studio.audio.playback import StreamPlayer


class ManualStream:
    """An output stream whose callback the test calls, as PortAudio's thread would."""

    def __init__(self, *, callback: Any, **_: Any) -> None:
        self.callback = callback
        self.active = False

    def start(self) -> None:
        self.active = True

    def stop(self) -> None:
        self.active = False

    def close(self) -> None:
        self.active = False

    def pull(self, frames: int) -> np.ndarray:
        out = np.full((frames, 1), 9.0, dtype=np.float32)
        self.callback(out, frames, None, None)
        return out[:, 0]


def test_a_paused_player_plays_silence_and_keeps_its_place() -> None:
    streams: list[ManualStream] = []

    def factory(**kwargs: Any) -> ManualStream:
        streams.append(ManualStream(**kwargs))
        return streams[-1]

    player = StreamPlayer(1000, stream_factory=factory, capacity_seconds=1)
    player.write(np.arange(1, 301, dtype=np.float32))
    stream = streams[-1]
    assert np.array_equal(stream.pull(100), np.arange(1, 101))
    player.pause()
    assert player.is_paused
    assert not stream.pull(100).any()  # silence, not the old buffer contents
    assert player.position_frames == 100 and player.buffered_frames == 200
    assert player.underruns == 0
    player.resume()
    assert np.array_equal(stream.pull(100), np.arange(101, 201))
    assert player.position_frames == 200
    player.pause()
    player.stop()
    player.write(np.ones(10, np.float32))  # a new playback starts unpaused
    assert not player.is_paused
    assert np.array_equal(streams[-1].pull(10), np.ones(10))
