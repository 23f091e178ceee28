"""Generate all through the shared gate, against a scripted TTS WebSocket on loopback
speaking Cartesia's wire format: the real client and renderer, a server that counts
requests in flight, answers 429 (an ``error`` event, as Cartesia does per context)
to a storm of them, and holds audio back until the test lets it go.

Counts are taken on the server side; no assertion depends on timing."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from studio.api import CartesiaClient, RetryPolicy
from studio.api.rate_gate import GatePolicy
from studio.services.document import ScriptDocument
from studio.services.generation import GenerationService
from studio.services.playback import PlaybackService
from studio.services.render import BlockRenderer

FAST = GatePolicy(max_retries=6, initial_delay=0.001, max_backoff=0.004, jitter=0.0)
PCM = b"\x00\x01" * 400


class TTSServer:
    """Cartesia's ``/tts/websocket``, scripted. Every generation request is counted;
    the first ``storm`` are refused with a 429 error event; the others get
    ``chunks_before_error`` chunks, then (if ``error_after_audio``) a 429, else wait for
    ``release`` and finish with a chunk and ``done``."""

    def __init__(self) -> None:
        self.storm = 0
        self.error_after_audio = False
        self.requests = 0
        self.in_flight = 0
        self.peak = 0
        self.sent_while_closed = 0
        self.gate_closed: Callable[[], bool] = lambda: False
        self.release = asyncio.Event()
        self.release.set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def handler(self, ws: ServerConnection) -> None:
        try:
            async for raw in ws:
                message = json.loads(raw)
                if message.get("cancel") or "transcript" not in message:
                    continue
                task = asyncio.ensure_future(self._answer(ws, message["context_id"]))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        except ConnectionClosed:
            return

    async def _answer(self, ws: ServerConnection, cid: str) -> None:
        self.requests += 1
        if self.gate_closed():
            self.sent_while_closed += 1
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            if self.requests <= self.storm:
                await ws.send(_event("error", cid, status_code=429, error="Too many requests",
                                     done=True))
                return
            await ws.send(_event("chunk", cid, data=base64.b64encode(PCM).decode()))
            if self.error_after_audio:
                await ws.send(_event("error", cid, status_code=429, error="Too many requests",
                                     done=True))
                return
            await asyncio.wait_for(self.release.wait(), 60)
            await ws.send(_event("done", cid, done=True))
        except ConnectionClosed:
            pass
        finally:
            self.in_flight -= 1


def _event(kind: str, cid: str, **fields: Any) -> str:
    return json.dumps({"type": kind, "context_id": cid, "status_code": 206, "done": False,
                       **fields})


class Rig:
    def __init__(self, server: TTSServer, document: ScriptDocument,
                 generation: GenerationService, client: CartesiaClient) -> None:
        self.server, self.document, self.generation, self.client = (
            server, document, generation, client)
        self.failed: dict[str, str] = {}
        self.waits: list[float] = []
        generation.job_failed.connect(lambda b, m: self.failed.__setitem__(b, m))
        generation.rate_limited.connect(lambda _b, s: self.waits.append(s))

    def blocks(self, n: int) -> list[str]:
        return [self.document.add_block(text=f"Line {i} of the chapter.", voice_id="v").id
                for i in range(n)]


@pytest.fixture
def rig(qloop):  # type: ignore[no-untyped-def]
    server = TTSServer()
    async def start():  # type: ignore[no-untyped-def]
        return await serve(server.handler, "127.0.0.1", 0, compression=None)

    ws_server = qloop.run_until_complete(start())
    port = ws_server.sockets[0].getsockname()[1]
    client = CartesiaClient("sk_queue", base_url="http://127.0.0.1:9",
                            websocket_base_url=f"ws://127.0.0.1:{port}",
                            retry_policy=RetryPolicy(max_retries=0))
    document = ScriptDocument()
    generation = GenerationService(document, PlaybackService(""), max_concurrent=3,
                                   gate_policy=FAST)
    generation.set_renderer(BlockRenderer(client, "cloud", 8000))
    server.gate_closed = lambda: generation.gate.closed
    yield Rig(server, document, generation, client)
    generation.stop()
    qloop.run_until_complete(asyncio.wait_for(generation.wait_idle(), 60))
    qloop.run_until_complete(client.aclose())
    ws_server.close()
    qloop.run_until_complete(ws_server.wait_closed())


def _run(qloop, coro, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    return qloop.run_until_complete(asyncio.wait_for(coro, timeout))


async def _until(predicate: Callable[[], bool]) -> None:
    while not predicate():
        await asyncio.sleep(0.005)


def _takes(rig: Rig, ids: list[str]) -> int:
    return sum(rig.document.block(b).selected_take is not None for b in ids)


def test_never_more_requests_in_flight_than_the_plan_allows(rig: Rig, qloop) -> None:  # type: ignore[no-untyped-def]
    ids = rig.blocks(8)
    rig.server.release.clear()
    rig.generation.generate(ids)
    _run(qloop, _until(lambda: rig.server.in_flight == 3 and rig.generation.gate.waiting == 5))
    assert (rig.server.requests, rig.server.peak) == (3, 3)
    rig.generation.set_max_concurrent(2)  # a lower limit applies to the queued jobs
    rig.server.release.set()
    _run(qloop, rig.generation.wait_idle())
    assert _takes(rig, ids) == 8 and not rig.failed
    assert rig.server.requests == 8 and rig.server.peak == 3


def test_a_429_storm_slows_every_job_together_and_each_block_is_retried(rig: Rig, qloop) -> None:  # type: ignore[no-untyped-def]
    ids = rig.blocks(6)
    rig.server.storm = 5
    rig.generation.generate(ids)
    _run(qloop, rig.generation.wait_idle())
    assert _takes(rig, ids) == 6 and not rig.failed
    # Each block once plus one request per 429: the refused ones were sent again,
    # nothing else; nothing was sent while the gate was closed.
    assert rig.server.requests == 6 + 5
    assert rig.server.sent_while_closed == 0
    assert len(rig.waits) == 5
    # The first burst of three refusals closed the gate once; then one probe at a time.
    assert rig.generation.gate.closures == 3
    credits = [rig.document.block(b).selected_take.credits for b in ids]  # type: ignore[union-attr]
    assert credits == [len(rig.document.block(b).text) for b in ids]


def test_a_storm_that_does_not_end_fails_each_block_with_a_clear_message(rig: Rig, qloop) -> None:  # type: ignore[no-untyped-def]
    rig.generation.gate.policy = GatePolicy(max_retries=2, initial_delay=0.001, jitter=0.0)
    ids = rig.blocks(3)
    rig.server.storm = 1_000
    rig.generation.generate(ids)
    _run(qloop, rig.generation.wait_idle())
    assert set(rig.failed) == set(ids)
    assert all("kept limiting requests from your account (3 tries)" in m
               for m in rig.failed.values())
    assert rig.server.requests == 9  # three tries each, then the block fails


def test_a_429_after_audio_arrived_is_not_retried(rig: Rig, qloop) -> None:  # type: ignore[no-untyped-def]
    ids = rig.blocks(2)
    rig.server.error_after_audio = True
    rig.generation.generate(ids)
    _run(qloop, rig.generation.wait_idle())
    assert set(rig.failed) == set(ids)
    assert all("limiting requests" in m for m in rig.failed.values())
    assert rig.server.requests == 2


def test_pause_lets_jobs_in_flight_finish_and_starts_no_new_request(rig: Rig, qloop) -> None:  # type: ignore[no-untyped-def]
    ids = rig.blocks(7)
    paused: list[bool] = []
    rig.generation.paused_changed.connect(paused.append)
    rig.server.release.clear()
    rig.generation.generate(ids)
    _run(qloop, _until(lambda: rig.server.in_flight == 3))
    rig.generation.pause()
    rig.server.release.set()
    _run(qloop, _until(lambda: _takes(rig, ids) == 3))
    assert rig.server.requests == 3 and rig.generation.busy
    assert rig.generation.gate.waiting == 4
    rig.generation.resume()
    _run(qloop, rig.generation.wait_idle())
    assert _takes(rig, ids) == 7 and rig.server.requests == 7
    assert paused == [True, False]
    assert rig.generation.characters == (sum(len(rig.document.block(b).text) for b in ids),) * 2


def test_stop_while_paused_ends_the_batch_and_unpauses(rig: Rig, qloop) -> None:  # type: ignore[no-untyped-def]
    ids = rig.blocks(5)
    rig.server.release.clear()
    rig.generation.generate(ids)
    _run(qloop, _until(lambda: rig.server.in_flight == 3))
    rig.generation.pause()
    rig.generation.stop()
    _run(qloop, rig.generation.wait_idle())
    assert not rig.generation.paused and rig.generation.gate.in_flight == 0
    assert set(rig.failed.values()) == {"stopped"}
    rig.server.release.set()
    rig.generation.generate(ids[:1])  # the next batch is not held by the old pause
    _run(qloop, rig.generation.wait_idle())
    assert _takes(rig, ids[:1]) == 1
