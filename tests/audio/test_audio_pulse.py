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
             f"--rate={RATE}", "--channels=1",
             # Half a second of buffer: on a busy machine a short one overruns, and
             # the server drops what parec was too slow to take.
             "--latency-msec=500"],
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


#: The chirp is checked in pieces this long, each found in the recording on its own.
PIECE_SECONDS = 0.02


def without_gaps(recorded: np.ndarray, shortest: int = RATE // 250) -> np.ndarray:
    """``recorded`` without runs of digital silence of ``shortest`` samples (4 ms) or
    more: what a sink plays while a starved stream underruns. Speech and the chirp
    never hold exactly zero that long."""
    silent = np.concatenate([[False], recorded == 0.0, [False]])
    edges = np.flatnonzero(np.diff(silent.astype(np.int8)))
    keep = np.ones(recorded.shape[0], dtype=bool)
    for start, end in zip(edges[::2], edges[1::2], strict=True):
        if end - start >= shortest:
            keep[start:end] = False
    return recorded[keep]


def pieces_heard(recorded: np.ndarray, sent: np.ndarray) -> list[tuple[int, float]]:
    """Where each :data:`PIECE_SECONDS` piece of ``sent`` lies in ``recorded`` and how
    alike the two are (cosine similarity, 1.0 = identical).

    A loaded machine can starve the audio server for a moment (an underrun): it plays
    silence and resumes where it left off. That stretches the recording, so matching
    the whole chirp at one alignment measures the machine's load, not the player. Each
    piece is matched on its own instead, after the one before it."""
    size = round(PIECE_SECONDS * RATE)
    found = []
    start = 0
    for begin in range(0, sent.shape[0] - size + 1, size):
        piece = sent[begin:begin + size]
        corr = np.correlate(recorded[start:], piece, mode="valid")
        at = start + int(np.argmax(corr))
        heard = recorded[at:at + size]
        found.append((at, float(np.dot(heard, piece)
                                / (np.linalg.norm(heard) * np.linalg.norm(piece) + 1e-12))))
        start = at + size // 2
    return found


def test_pieces_are_found_across_a_gap() -> None:
    t = np.arange(RATE) / RATE
    chirp = (0.5 * np.cos(2 * np.pi * (200 * t + 900 * t**2))).astype(np.float32)
    gap = np.zeros(RATE // 10, dtype=np.float32)  # an underrun's silence mid-chirp
    recorded = np.concatenate([gap, chirp[:7000], gap, chirp[7000:], gap])
    found = pieces_heard(recorded, chirp)
    assert len(found) == RATE // round(PIECE_SECONDS * RATE)
    assert all(s > 0.999 for _, s in pieces_heard(without_gaps(recorded), chirp))
    assert sum(similarity > 0.9 for _, similarity in found) >= len(found) - 1
    # Matching the whole chirp at one alignment would fail on the same recording.
    lag = int(np.argmax(np.correlate(recorded, chirp, mode="valid")))
    segment = recorded[lag:lag + chirp.shape[0]]
    assert np.dot(segment, chirp) / (np.linalg.norm(segment) * np.linalg.norm(chirp)) < 0.9


async def test_stream_player_output_reaches_the_sink(null_sink: str) -> None:
    if not audio_backend_status().available:
        pytest.skip("PortAudio sees no output device")
    t = np.arange(RATE) / RATE
    # A chirp, so each piece correlates only where it really is.
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
    # pass the sink. Wait on the sink's own clock: a second more of monitor audio.
    target = recorder.bytes_received + RATE * 4
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while recorder.bytes_received < target:
        assert loop.time() < deadline, "the monitor stopped delivering audio"
        await asyncio.sleep(0.01)
    recorded = without_gaps(recorder.stop())
    assert recorded.shape[0] > chirp.shape[0] // 2, "the chirp did not reach the sink"
    found = pieces_heard(recorded, chirp)
    # Every piece played, in order, as sent. PulseAudio loses about 20 ms as a stream
    # starts and as it closes (measured here at PortAudio's low latency), so the first
    # and last 0.1 s are not judged. A busy machine may still drop moments of audio on
    # its way to the monitor (5 in a second in one CI run, with the suite's own load):
    # each costs the 20 ms piece it lands in, so three pieces in four must be intact.
    positions = [at for at, _ in found]
    assert positions == sorted(positions)
    edge = round(0.1 / PIECE_SECONDS)
    inner = [similarity for _, similarity in found[edge:-edge]]
    assert sum(s > 0.9 for s in inner) >= 0.75 * len(inner), inner
    first, last = positions[edge], positions[-edge]
    heard = recorded[first:last]
    assert abs(rms_dbfs(heard) - rms_dbfs(chirp)) < 1.0, "played at the level sent"
