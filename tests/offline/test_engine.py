"""Starting and stopping the engine: thread runner, serve(), binding rules."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx
import pytest
from offline_helpers import API_VERSION, VOICE_ID, auth_headers, in_own_loop

from studio.offline import OfflineEngine, serve


def _status(base_url: str) -> int:
    return httpx.get(
        base_url + "/", headers={"Cartesia-Version": API_VERSION}, timeout=30
    ).status_code


def test_start_stop_and_restart_are_clean(tmp_path: Path) -> None:
    engine = OfflineEngine(data_dir=tmp_path)
    assert not engine.running
    engine.start()
    try:
        assert engine.running and engine.port > 0
        assert engine.base_url == f"http://127.0.0.1:{engine.port}"
        assert engine.websocket_base_url == f"ws://127.0.0.1:{engine.port}"
        assert len(engine.api_key) >= 20
        assert _status(engine.base_url) == 200
        with pytest.raises(RuntimeError, match="already started"):
            engine.start()
    finally:
        engine.stop()
    assert not engine.running
    engine.stop()  # idempotent
    with pytest.raises(httpx.ConnectError):
        _status(engine.base_url)


def test_context_manager_and_given_key(tmp_path: Path) -> None:
    with OfflineEngine(api_key="fixed-key", data_dir=tmp_path) as engine:
        assert engine.api_key == "fixed-key"
        headers = {"Authorization": "Bearer fixed-key", "Cartesia-Version": API_VERSION}
        assert (
            httpx.get(engine.base_url + "/voices", headers=headers, timeout=30).status_code == 200
        )
    assert not engine.running


def test_random_keys_differ(tmp_path: Path) -> None:
    assert OfflineEngine(data_dir=tmp_path).api_key != OfflineEngine(data_dir=tmp_path).api_key


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "example.com"])
def test_non_loopback_hosts_are_refused(host: str) -> None:
    with pytest.raises(ValueError, match="allow_remote"):
        OfflineEngine(host=host)


def test_loopback_hosts_are_fine() -> None:
    for host in ("127.0.0.1", "127.0.0.2", "::1", "localhost"):
        OfflineEngine(host=host)
    OfflineEngine(host="0.0.0.0", allow_remote=True)


def test_port_in_use_raises_oserror(tmp_path: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        engine = OfflineEngine(port=port, data_dir=tmp_path)
        with pytest.raises(OSError, match=str(port)):
            engine.start()
        assert not engine.running
        engine.stop()


def test_previews_are_cached_in_the_data_dir(tmp_path: Path) -> None:
    with OfflineEngine(data_dir=tmp_path) as engine:
        url = f"{engine.base_url}/voices/{VOICE_ID}/preview"
        first = httpx.get(url, headers=auth_headers(engine), timeout=60)
        assert first.status_code == 200
    cached = tmp_path / "previews" / f"{VOICE_ID}.wav"
    assert cached.read_bytes() == first.content
    with OfflineEngine(data_dir=tmp_path) as engine:
        again = httpx.get(f"{engine.base_url}/voices/{VOICE_ID}/preview",
                          headers={"Authorization": f"Bearer {engine.api_key}"}, timeout=60)
        assert again.content == first.content


def test_serve_runs_on_the_callers_loop_until_cancelled(tmp_path: Path) -> None:
    async def scenario() -> str:
        ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(
            serve("127.0.0.1", 0, "serve-key", tmp_path, ready=ready.set_result)
        )
        base_url = await asyncio.wait_for(ready, 60)
        assert base_url.startswith("http://127.0.0.1:")
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
            headers = {"Authorization": "Bearer serve-key", "Cartesia-Version": API_VERSION}
            response = await client.post("/tts/bytes", headers=headers, json={
                "model_id": "sonic-3", "transcript": "Served from the caller's loop.",
                "voice": VOICE_ID,
                "output_format": {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 8000},
            })
            assert response.status_code == 200 and len(response.content) > 8000
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return base_url

    base_url = in_own_loop(scenario)
    with pytest.raises(httpx.ConnectError):
        _status(base_url)


def test_serve_refuses_remote_hosts(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        in_own_loop(lambda: serve("0.0.0.0", 0, "k", tmp_path))


def test_stopping_with_open_websocket_is_prompt(tmp_path: Path) -> None:
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    engine = OfflineEngine(data_dir=tmp_path)
    engine.start()
    with connect(f"{engine.websocket_base_url}/tts/websocket",
                 additional_headers=auth_headers(engine), open_timeout=30) as ws:
        engine.stop()
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=30)
    assert not engine.running
