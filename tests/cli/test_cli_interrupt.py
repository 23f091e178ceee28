"""Ctrl+C / SIGTERM during ``render`` keeps the work that finished.

The command renders against a loopback server (the cloud backend pointed at it by the
settings file) that answers the first blocks and then goes silent on the last, so the
signal always lands mid-render, after the earlier blocks finished (``--jobs 1``).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from aiohttp import WSMsgType, web

#: Seconds of audio each answered block gets.
BLOCK_SECONDS = 0.5
#: Far above the time the test needs: reaching it means the command hung.
HANG = 120.0


class StallingServer:
    """``GET /voices/{id}`` and ``/tts/websocket`` on 127.0.0.1 in a thread of its own;
    a context whose transcript mentions "stall" gets no answer at all."""

    def __init__(self) -> None:
        self.stalled = threading.Event()
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()
        assert self._ready.wait(HANG)

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(HANG)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_get("/voices/{id}", self._voice)
        app.router.add_get("/tts/websocket", self._websocket)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        self._loop.run_forever()

    async def _voice(self, request: web.Request) -> web.Response:
        return web.json_response({"id": request.match_info["id"], "name": "Tester",
                                  "language": "en"})

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            body = json.loads(message.data)
            if body.get("cancel"):
                continue
            cid = body["context_id"]
            if "stall" in body["transcript"]:
                self.stalled.set()
                continue
            rate = body["output_format"]["sample_rate"]
            t = np.arange(int(rate * BLOCK_SECONDS)) / rate
            pcm = (np.sin(2 * np.pi * 220 * t) * 8000).astype("<i2").tobytes()
            await ws.send_str(json.dumps({"type": "chunk", "context_id": cid, "done": False,
                                          "status_code": 206, "step_time": 1.0,
                                          "data": base64.b64encode(pcm).decode()}))
            await ws.send_str(json.dumps({"type": "done", "context_id": cid, "done": True,
                                          "status_code": 206}))
        return ws


@pytest.fixture
def server() -> Iterator[StallingServer]:
    s = StallingServer()
    s.start()
    yield s
    s.stop()


def start_render(tmp_path: Path, server: StallingServer, *args: str) -> subprocess.Popen[str]:
    config = tmp_path / "config"
    config.mkdir()
    url = f"127.0.0.1:{server.port}"
    (config / "settings.json").write_text(json.dumps(
        {"base_url": f"http://{url}", "websocket_base_url": f"ws://{url}"}), encoding="utf-8")
    script = tmp_path / "script.txt"
    script.write_text("The first block.\n\nThe second block.\n\nThis one will stall.",
                      encoding="utf-8")
    env = dict(os.environ, CARTESIA_API_KEY="sk_test_interrupt",
               STUDIO_CONFIG_DIR=str(config), STUDIO_DATA_DIR=str(tmp_path / "data"))
    env.pop("STUDIO_FORCE_OFFLINE", None)
    return subprocess.Popen(
        [sys.executable, "-m", "studio", "render", str(script), "--voice", "v", "--jobs", "1",
         *args], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)


def interrupt(proc: subprocess.Popen[str], server: StallingServer) -> tuple[int, str]:
    """SIGTERM once the last block is being rendered (the first two are finished)."""
    try:
        assert server.stalled.wait(HANG), "the render never reached the last block"
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=HANG)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, err


def test_sigterm_mid_render_writes_the_finished_blocks_to_partial(
        tmp_path: Path, server: StallingServer) -> None:
    out = tmp_path / "out.wav"
    code, err = interrupt(start_render(tmp_path, server, "-o", str(out)), server)
    assert code == 130, err
    assert "interrupted; the 2 of 3 blocks that finished are in" in err
    assert "out.partial.wav" in err
    assert not out.exists()
    audio, rate = sf.read(tmp_path / "out.partial.wav", dtype="float32")
    # Two blocks and one pause between them (0.5 s by default).
    assert abs(len(audio) / rate - (2 * BLOCK_SECONDS + 0.5)) < 0.05
    assert np.sqrt(np.mean(audio**2)) > 0.01


def test_sigterm_mid_render_into_a_project_keeps_every_finished_take(
        tmp_path: Path, server: StallingServer) -> None:
    project = tmp_path / "show.cstudio"
    code, err = interrupt(start_render(tmp_path, server, "--project", str(project)), server)
    assert code == 130, err
    assert "the 2 takes that finished are saved in show.cstudio" in err
    info = subprocess.run([sys.executable, "-m", "studio", "info", str(project)],
                          capture_output=True, text=True, timeout=HANG, check=True)
    blocks = json.loads(info.stdout)["blocks"]
    assert [b["takes"] for b in blocks] == [1, 1, 0]
