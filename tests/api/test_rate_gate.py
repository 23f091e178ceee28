"""The shared rate gate: concurrency, pause, one back-off for everyone after a 429.

A scripted send stands in for the server: it counts requests and how many are in
flight at once, and answers 429 to the first ``storm`` requests. Assertions are on
counts and order, never on timings."""

from __future__ import annotations

import asyncio

import pytest

from studio.api import APITimeoutError, RateLimitError
from studio.api.rate_gate import GatePolicy, RateGate, RateLimitRetriesError, Ticket

FAST = GatePolicy(max_retries=6, initial_delay=0.001, max_backoff=0.004, jitter=0.0)


class ScriptedServer:
    """Counts requests; 429 for the first ``storm`` of them; each holds a slot until
    ``release`` is set (or at once)."""

    def __init__(self, gate: RateGate, storm: int = 0, retry_after: float | None = None) -> None:
        self.gate = gate
        self.storm = storm
        self.retry_after = retry_after
        self.requests: list[str] = []
        self.refused: list[str] = []
        self.in_flight = 0
        self.peak = 0
        self.sent_while_closed = 0
        self.release = asyncio.Event()
        self.release.set()

    async def send(self, name: str, ticket: Ticket) -> str:
        if self.gate.closed:
            self.sent_while_closed += 1
        self.requests.append(name)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(0)  # every request of a burst is out before any answer
            if len(self.requests) <= self.storm:
                self.refused.append(name)
                raise RateLimitError("too many requests", retry_after=self.retry_after)
            await asyncio.wait_for(self.release.wait(), 30)
            return name
        finally:
            self.in_flight -= 1


async def _batch(gate: RateGate, server: ScriptedServer, n: int,
                 waits: list[float] | None = None) -> list[str]:
    async def one(i: int) -> str:
        return await gate.call(lambda t: server.send(f"b{i}", t),
                               on_wait=None if waits is None else waits.append)
    return await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(n))), 30)


def test_a_429_storm_closes_the_gate_for_everyone_and_costs_one_request_per_closure() -> None:
    async def main() -> None:
        gate = RateGate(3, FAST)
        server = ScriptedServer(gate, storm=6)
        names = await _batch(gate, server, 10)
        assert names == [f"b{i}" for i in range(10)]
        # Every block once, plus one request per 429: nothing retried on its own.
        assert len(server.requests) == 10 + 6
        assert server.sent_while_closed == 0
        assert server.peak <= 3
        # The first burst (three refused at once) is one closure; after it each
        # reopening sends one probe, refused three more times, then accepted.
        assert gate.closures == 4
        assert server.requests[:3] == ["b0", "b1", "b2"]
        # The probes are the refused blocks, in turn, before any new block.
        assert server.requests[3:6] == ["b0", "b1", "b2"]
        assert server.requests[6:9] == ["b0", "b1", "b2"]
        assert server.requests[9:] == [f"b{i}" for i in range(3, 10)]
        assert gate.in_flight == 0
    asyncio.run(main())


def test_retry_after_sets_the_shared_closure() -> None:
    async def main() -> None:
        gate = RateGate(2, FAST)
        server = ScriptedServer(gate, storm=2, retry_after=0.01)
        waits: list[float] = []
        await _batch(gate, server, 4, waits)
        assert waits == [0.01, 0.01]
        assert gate.closures == 1  # two refused at once: one closure
        assert len(server.requests) == 6
        assert server.sent_while_closed == 0
    asyncio.run(main())


def test_a_storm_that_does_not_end_fails_with_a_bounded_number_of_requests() -> None:
    async def main() -> None:
        gate = RateGate(3, GatePolicy(max_retries=2, initial_delay=0.001, jitter=0.0))
        server = ScriptedServer(gate, storm=10_000)
        results = await asyncio.wait_for(asyncio.gather(
            *(gate.call(lambda t, i=i: server.send(f"b{i}", t)) for i in range(3)),
            return_exceptions=True), 30)
        assert all(isinstance(r, RateLimitRetriesError) for r in results)
        assert [r.attempts for r in results] == [3, 3, 3]  # type: ignore[union-attr]
        assert len(server.requests) == 9
        assert server.sent_while_closed == 0
    asyncio.run(main())


def test_a_retry_after_beyond_the_cap_is_not_waited_out() -> None:
    async def main() -> None:
        gate = RateGate(1, GatePolicy(max_wait=0.01))
        server = ScriptedServer(gate, storm=1, retry_after=3600)
        with pytest.raises(RateLimitRetriesError, match="3600 s"):
            await gate.call(lambda t: server.send("b0", t))
        assert len(server.requests) == 1
    asyncio.run(main())


def test_a_429_after_audio_arrived_and_other_failures_are_not_retried() -> None:
    async def main() -> None:
        gate = RateGate(2, FAST)
        server = ScriptedServer(gate, storm=1)
        with pytest.raises(RateLimitError):
            await gate.call(lambda t: server.send("b0", t), may_retry=lambda: False)
        assert len(server.requests) == 1
        sends = 0

        async def timeout(_ticket: Ticket) -> None:
            nonlocal sends
            sends += 1
            raise APITimeoutError("no answer")
        with pytest.raises(APITimeoutError):
            await asyncio.wait_for(gate.call(timeout), 30)
        assert sends == 1
        assert gate.in_flight == 0
    asyncio.run(main())


def test_never_more_than_limit_in_flight_and_a_new_limit_applies_at_once() -> None:
    async def main() -> None:
        gate = RateGate(2, FAST)
        server = ScriptedServer(gate)
        server.release.clear()
        batch = asyncio.ensure_future(_batch(gate, server, 9))
        while gate.waiting != 7:
            await asyncio.sleep(0)
        assert (server.in_flight, server.peak) == (2, 2)
        gate.set_limit(5)
        while server.in_flight != 5:
            await asyncio.sleep(0)
        assert gate.waiting == 4
        server.release.set()
        await batch
        assert server.peak == 5
        assert len(server.requests) == 9
    asyncio.run(main())


def test_pause_admits_nothing_new_and_resume_goes_on() -> None:
    async def main() -> None:
        gate = RateGate(2, FAST)
        server = ScriptedServer(gate)
        server.release.clear()
        batch = asyncio.ensure_future(_batch(gate, server, 5))
        while server.in_flight != 2:
            await asyncio.sleep(0)
        gate.pause()
        server.release.set()  # the two in flight finish...
        while gate.in_flight:
            await asyncio.sleep(0)
        for _ in range(50):  # ...and nothing else starts however long the loop runs
            await asyncio.sleep(0)
        assert len(server.requests) == 2
        assert gate.waiting == 3
        gate.resume()
        assert await batch == [f"b{i}" for i in range(5)]
        assert len(server.requests) == 5
    asyncio.run(main())


def test_a_waiter_cancelled_in_the_queue_holds_no_slot() -> None:
    async def main() -> None:
        gate = RateGate(1, FAST)
        first = await gate.acquire()
        waiter = asyncio.ensure_future(gate.acquire())
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        gate.release(first)
        gate.release(first)  # idempotent
        assert gate.in_flight == 0
        second = await asyncio.wait_for(gate.acquire(), 30)
        assert gate.in_flight == 1
        gate.release(second)
    asyncio.run(main())
