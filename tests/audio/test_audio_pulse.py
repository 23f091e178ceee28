"""Real playback through PortAudio into a PulseAudio null sink, recorded from its monitor.

Skipped unless a PulseAudio server answers ``pactl info`` and PortAudio loads. Setup on a
bare Debian machine (as in .ci):

    apt-get install -y libportaudio2 pulseaudio pulseaudio-utils
    pulseaudio -D --exit-idle-time=-1 --system=false

The test loads its own ``module-null-sink`` and unloads it afterwards.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator

import numpy as np
import pytest

from studio.audio.buffers import rms_dbfs
from studio.audio.devices import audio_backend_status
from studio.audio.playback import StreamPlayer, open_player

RATE = 16_000
WAIT = 60.0


def _pulse_reachable() -> bool:
    if shutil.which("pactl") is None or shutil.which("parec") is None:
        return False
    try:
        return subprocess.run(["pactl", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


pytestmark = pytest.mark.skipif(not _pulse_reachable(), reason="no PulseAudio server reachable")


@pytest.fixture
def null_sink(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = f"studio_test_{os.getpid()}"
    loaded = subprocess.run(
        ["pactl", "load-module", "module-null-sink", f"sink_name={name}",
         f"rate={RATE}", "channels=1"],
        capture_output=True, text=True, timeout=30, check=True,
    )
    module = loaded.stdout.strip()
    # libpulse (behind PortAudio's ALSA "pulse" device) reads this when a stream connects.
    monkeypatch.setenv("PULSE_SINK", name)
    try:
        yield name
    finally:
        subprocess.run(["pactl", "unload-module", module], capture_output=True, timeout=30)


class MonitorRecorder:
    """``parec`` on the sink's monitor, float32 mono at RATE, read on a thread."""

    def __init__(self, sink: str) -> None:
        self._proc = subprocess.Popen(
            ["parec", "-d", f"{sink}.monitor", "--raw", "--format=float32le",
             f"--rate={RATE}", "--channels=1", "--latency-msec=20"],
            stdout=subprocess.PIPE,
        )
        self._chunks: list[bytes] = []
        self.bytes_received = 0
        self.receiving = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        while chunk := self._proc.stdout.read1(4096):
            self._chunks.append(chunk)
            self.bytes_received += len(chunk)
            self.receiving.set()

    def stop(self) -> np.ndarray:
        self._proc.terminate()
        self._proc.wait(WAIT)
        self._thread.join(WAIT)
        data = b"".join(self._chunks)
        return np.frombuffer(data[: len(data) // 4 * 4], dtype="<f4")


async def test_stream_player_output_reaches_the_sink(null_sink: str) -> None:
    if not audio_backend_status().available:
        pytest.skip("PortAudio sees no output device")
    t = np.arange(RATE) / RATE
    # A chirp, so the correlation peak is only at the true alignment.
    chirp = (0.5 * np.sin(2 * np.pi * (200 * t + 900 * t**2))).astype(np.float32)
    recorder = MonitorRecorder(null_sink)
    assert await asyncio.to_thread(recorder.receiving.wait, WAIT), "parec produced nothing"
    player = open_player(RATE)
    try:
        assert type(player) is StreamPlayer, getattr(player, "reason", "")
        for chunk in np.array_split(chirp, 10):
            player.write(chunk)
        player.finish_input()
        await asyncio.wait_for(player.wait_done(), WAIT)
        assert player.position_frames == chirp.shape[0]
    finally:
        player.close()
    # Done means PortAudio handed its last buffer to PulseAudio; the tail still has to
    # pass the sink. Wait on the sink's own clock: half a second more of monitor audio.
    target = recorder.bytes_received + RATE // 2 * 4
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while recorder.bytes_received < target:
        assert loop.time() < deadline, "the monitor stopped delivering audio"
        await asyncio.sleep(0.01)
    recorded = recorder.stop()
    assert recorded.shape[0] > chirp.shape[0]
    corr = np.correlate(recorded, chirp, mode="valid")
    lag = int(np.argmax(np.abs(corr)))
    segment = recorded[lag : lag + chirp.shape[0]]
    similarity = float(np.dot(segment, chirp) / (np.linalg.norm(segment) * np.linalg.norm(chirp)))
    assert similarity > 0.9, similarity
    assert abs(rms_dbfs(segment) - rms_dbfs(chirp)) < 1.0
