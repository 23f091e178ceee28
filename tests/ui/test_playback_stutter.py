"""Playback that stutters is noticed and a larger output buffer is offered (issue 14:
on a loaded machine playback had 51 gaps and the studio said nothing)."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np

from studio.audio.playback import StreamPlayer
from studio.config import Settings
from studio.ui.window.settings_dialog import SettingsDialog
from tests.audio.audio_fakes import FakeCallbackFlags, StreamRecorder

RATE = 24000


def test_stutters_are_reported_and_the_buffer_setting_reaches_the_stream(
        open_studio, qloop) -> None:  # type: ignore[no-untyped-def]
    late = FakeCallbackFlags(output_underflow=True)
    recorder = StreamRecorder(statuses=[late, FakeCallbackFlags(), late, late])
    asked: list[dict[str, Any]] = []

    def player_factory(sample_rate: int, **kwargs: Any) -> StreamPlayer:
        asked.append(kwargs)
        return StreamPlayer(sample_rate, stream_factory=recorder, blocksize=64, **kwargs)

    studio = open_studio(Settings(output_buffer_ms=300), player_factory=player_factory)
    reported: list[int] = []
    studio.playback.stuttered.connect(reported.append)

    async def play_to_the_end() -> None:
        stopped = asyncio.get_running_loop().create_future()
        studio.playback.stopped.connect(lambda: stopped.done() or stopped.set_result(None))
        studio.playback.play(np.full(RATE // 10, 0.1, np.float32), RATE)
        await asyncio.wait_for(stopped, 30)

    qloop.run_until_complete(play_to_the_end())
    assert asked[-1]["latency"] == 0.3
    assert reported and reported[-1] == 3
    assert studio.window.statusBar().currentMessage() == (
        "Playback stuttered 3 times — raise the output buffer in Settings")

    dialog = SettingsDialog(studio.settings, False)
    assert dialog.buffer_spin.value() == 300
    dialog.buffer_spin.setValue(500)
    new = dialog.settings()
    dialog.deleteLater()
    assert new.output_buffer_ms == 500
    studio.apply_settings(new)
    assert studio.settings.output_buffer_ms == 500
    qloop.run_until_complete(play_to_the_end())
    assert asked[-1]["latency"] == 0.5  # the next playback opened with the new buffer
