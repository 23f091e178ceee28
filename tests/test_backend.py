"""Backend choice: the in-process offline engine by default, the cloud path with a
key. Both are exercised for real; the "cloud" is the offline engine's URL and key."""

from __future__ import annotations

import asyncio
import contextlib
import time

from studio.config import Settings
from studio.project.model import Block
from studio.services.backend import CLOUD, OFFLINE, start_backend
from studio.services.render import BlockRenderer


async def _render_one(backend) -> float:  # type: ignore[no-untyped-def]
    voices = await backend.client.voices.list()
    block = Block(text="Backend check.", voice_id=voices[0].id)
    renderer = BlockRenderer(backend.client, backend.kind, 22050)
    take = await renderer.render(renderer.job(block))
    return take.duration


def test_no_key_starts_the_offline_engine_in_process(tmp_path) -> None:  # type: ignore[no-untyped-def]
    async def run() -> None:
        backend = await start_backend(Settings(), engine_data_dir=tmp_path, environ={})
        try:
            assert backend.kind == OFFLINE and backend.is_free and backend.label == "Offline engine"
            assert backend.engine is not None and backend.engine.base_url.startswith("http://127.0.0.1:")
            assert await _render_one(backend) > 0.3
        finally:
            await backend.aclose()
        assert not backend.engine.running

    asyncio.run(run())


def test_a_key_uses_the_same_client_against_the_configured_urls(offline_engine) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(base_url=offline_engine.base_url,
                        websocket_base_url=offline_engine.websocket_base_url)

    async def run() -> None:
        backend = await start_backend(
            settings, environ={"CARTESIA_API_KEY": offline_engine.api_key}
        )
        try:
            assert backend.kind == CLOUD and backend.engine is None and not backend.is_free
            assert await _render_one(backend) > 0.3
        finally:
            await backend.aclose()

    asyncio.run(run())


def test_cancelled_start_stops_the_engine(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from studio.offline import OfflineEngine

    started: list[OfflineEngine] = []
    original_start = OfflineEngine.start

    def tracking_start(self: OfflineEngine) -> None:
        started.append(self)
        time.sleep(0.3)  # the cancel below arrives while the engine is starting
        original_start(self)

    async def run() -> None:
        OfflineEngine.start = tracking_start  # type: ignore[method-assign]
        try:
            task = asyncio.ensure_future(start_backend(Settings(), engine_data_dir=tmp_path,
                                                       environ={}))
            while not started:
                await asyncio.sleep(0.001)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        finally:
            OfflineEngine.start = original_start  # type: ignore[method-assign]
        assert started and not started[0].running

    asyncio.run(run())


def test_offline_cost_is_zero_and_cloud_cost_is_per_character() -> None:
    from studio.services.render import credits_for

    assert credits_for("Hello there", OFFLINE) == 0
    assert credits_for("Hello there", CLOUD) == 11
