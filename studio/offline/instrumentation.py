"""Request counters and fault injection: the offline engine's test hooks.

Both are touched from the test's thread and from the engine's event-loop
thread, so every access holds a lock.

Route names are the server's route templates: ``"/"``, ``"/voices"``,
``"/voices/{id}"``, ``"/voices/{id}/preview"``, ``"/tts/bytes"``,
``"/tts/sse"``, ``"/tts/websocket"``. For the WebSocket, ``"/tts/websocket"``
counts generation-request messages and ``"/tts/websocket:handshake"`` counts
upgrade attempts (including refused ones).
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass


class EngineStats:
    """Thread-safe per-route request counters."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def record(self, route: str) -> None:
        """Count one request (or WebSocket message) for ``route``."""
        with self._lock:
            self._counts[route] += 1

    def requests(self, route: str) -> int:
        """How many requests ``route`` has seen so far."""
        with self._lock:
            return self._counts[route]

    def snapshot(self) -> dict[str, int]:
        """All counters at once."""
        with self._lock:
            return dict(self._counts)


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected failure: answer with ``status`` (and ``Retry-After`` seconds)."""

    status: int
    retry_after: float | None = None


class FaultPlan:
    """Queued failures per route, consumed one per request, in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, deque[Fault]] = {}

    def add(self, route: str, statuses: list[int], retry_after: float | None = None) -> None:
        """Fail the next ``len(statuses)`` requests to ``route`` with those statuses.

        Raises:
            ValueError: for a status outside 400..599.
        """
        for status in statuses:
            if not 400 <= int(status) <= 599:
                raise ValueError(f"fault status must be an HTTP error (400..599); got {status}")
        with self._lock:
            queue = self._queues.setdefault(route, deque())
            queue.extend(Fault(int(s), retry_after) for s in statuses)

    def take(self, *routes: str) -> Fault | None:
        """The next fault for the first of ``routes`` that has one, consumed."""
        with self._lock:
            for route in routes:
                queue = self._queues.get(route)
                if queue:
                    return queue.popleft()
        return None

    def pending(self, route: str) -> int:
        """Faults still queued for ``route``."""
        with self._lock:
            return len(self._queues.get(route, ()))
