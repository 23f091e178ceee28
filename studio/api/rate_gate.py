"""One gate every TTS request of a batch passes before it is sent. Qt-free.

It enforces three things at once, in the order requests asked (first come, first
served, so a book's blocks go out in script order):

- **concurrency**: at most ``limit`` requests in flight, the account plan's
  concurrency limit (Cartesia's plans allow 2, 3, 5 or 15 concurrent requests;
  more in flight are answered 429);
- **pause**: while paused nothing new is admitted; requests in flight go on;
- **shared back-off**: a 429 closes the gate *for everyone* for the server's
  ``Retry-After``, or, when absent, an exponential back-off with jitter and a cap
  (:func:`studio.api._retry.backoff_delay`, the v4 SDK's rule). 429s of requests
  that were all sent before that closure count as one (they are one event: too
  many at once), so a burst of N rejections does not wait N times longer. When the
  gate reopens a single *probe* request goes first; the others follow once the
  server accepted it (its first audio), so a storm that lasts costs one request
  per closure, not ``limit``.

A 429 is not charged (Cartesia bills generated characters), so a request refused
with it is safe to send again: :meth:`RateGate.call` does, at most
``GatePolicy.max_retries`` times, then raises :class:`RateLimitRetriesError`. It
never retries anything else: a timeout or a stream dropped after audio arrived
may have been billed and is the caller's to decide (the studio leaves it to the
user).

Waits and their deadlines: a closure lasts at most ``GatePolicy.max_wait``
seconds (a longer Retry-After is not waited out: that request fails with the
server's figure); with bounded retries, a request's time spent in closures is
bounded. Waiting for a free slot is bounded by the requests in flight, each with
the client's own deadlines (:class:`studio.api.Deadlines`). Only a pause waits
without a deadline: the user ends it (Resume or Stop, which cancels the waiters).
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from studio.api._retry import RetryPolicy, backoff_delay
from studio.api.errors import RateLimitError

T = TypeVar("T")

#: Concurrency limits of Cartesia's plans (requests in flight at once).
PLAN_CONCURRENCY_LIMITS = (2, 3, 5, 15)


@dataclass(frozen=True, slots=True)
class GatePolicy:
    """How the gate backs off after a 429 (all times in seconds).

    Attributes:
        max_retries: sends of one request after its first, when each is refused
            with 429; then :class:`RateLimitRetriesError`.
        initial_delay: closure after the first 429 without Retry-After.
        max_backoff: ceiling of the exponential back-off.
        max_wait: ceiling of any closure; a Retry-After above it fails the request.
        jitter: the back-off is scaled by a factor drawn from [1 - jitter, 1].
    """

    max_retries: int = 6
    initial_delay: float = 1.0
    max_backoff: float = 30.0
    max_wait: float = 60.0
    jitter: float = 0.25

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries}")
        if min(self.initial_delay, self.max_backoff, self.max_wait) < 0:
            raise ValueError("gate delays must be >= 0")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError(f"jitter must be in [0, 1], got {self.jitter}")


class RateLimitRetriesError(RateLimitError):
    """A request was refused with 429 on every try (``attempts`` sends in all), or
    the server asked for a wait longer than the gate waits out."""

    def __init__(self, message: str, *, attempts: int, retry_after: float | None) -> None:
        super().__init__(message, retry_after=retry_after)
        self.attempts = attempts


class Ticket:
    """One admitted request. Attributes: ``epoch``, the gate's closure count when it
    was admitted; ``probe``, whether it is the one request sent after a closure."""

    __slots__ = ("epoch", "probe", "released")

    def __init__(self, epoch: int, probe: bool) -> None:
        self.epoch = epoch
        self.probe = probe
        self.released = False


class RateGate:
    """Admission control shared by every TTS request of the studio (module doc).

    Must be used from one asyncio event loop. Counters for tests and the UI:
    ``in_flight``, ``admitted`` (tickets given out), ``closures``, ``waiting``.
    """

    def __init__(self, limit: int = 2, policy: GatePolicy | None = None, *,
                 rng: Callable[[], float] = random.random) -> None:
        self.policy = policy or GatePolicy()
        self._limit = max(1, int(limit))
        self._rng = rng
        #: (future, is a retry) in order of admission: retries go before first tries,
        #: so a refused block is not sent after the rest of the book
        self._waiters: deque[tuple[asyncio.Future[Ticket], bool]] = deque()
        self.in_flight = 0
        self.admitted = 0
        self.closures = 0
        self._paused = False
        self._reopen_at = 0.0  # loop time
        self._closed = False  # after a 429, until the timer at _reopen_at
        self._timer: asyncio.TimerHandle | None = None
        self._probing = False  # after a closure, until a request is accepted
        self._probe: Ticket | None = None
        self._strikes = 0  # closures since the server last accepted a request

    # --- state ----------------------------------------------------------------------

    @property
    def limit(self) -> int:
        return self._limit

    def set_limit(self, limit: int) -> None:
        """Requests in flight at once from now on (at least 1); in-flight ones go on."""
        self._limit = max(1, int(limit))
        self._wake()

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        """Admit nothing new until :meth:`resume`; requests in flight finish."""
        self._paused = True

    def resume(self) -> None:
        self._paused = False
        self._wake()

    @property
    def waiting(self) -> int:
        """Requests waiting to be admitted."""
        return sum(1 for f, _retry in self._waiters if not f.done())

    @property
    def closed(self) -> bool:
        """Whether a 429 closed the gate and it has not reopened yet."""
        return self._closed

    def closed_for(self) -> float:
        """Seconds until the gate reopens after a 429 (0.0 when open)."""
        if not self._closed:
            return 0.0
        try:
            now = asyncio.get_running_loop().time()
        except RuntimeError:
            return 0.0
        return max(self._reopen_at - now, 0.0)

    # --- admission ------------------------------------------------------------------

    async def acquire(self, retry: bool = False) -> Ticket:
        """Wait for this request's turn (first come, first served; a ``retry`` goes
        before every first try) and take a slot; :meth:`release` it when the request
        is over, whatever its outcome.

        Raises:
            asyncio.CancelledError: when cancelled while waiting (no slot is held).
        """
        self._prune()
        if not self._waiters and not self._paused and not self._closed:
            ticket = self._grant()  # nobody ahead and room now: no wait, no loop needed
            if ticket is not None:
                return ticket
        future: asyncio.Future[Ticket] = asyncio.get_running_loop().create_future()
        if retry:
            index = next((i for i, (_f, r) in enumerate(self._waiters) if not r),
                         len(self._waiters))
            self._waiters.insert(index, (future, True))
        else:
            self._waiters.append((future, False))
        self._wake()
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release(future.result())  # admitted as it was cancelled
            else:
                future.cancel()
            raise

    def release(self, ticket: Ticket) -> None:
        """The request of ``ticket`` is over (idempotent)."""
        if ticket.released:
            return
        ticket.released = True
        self.in_flight -= 1
        if ticket is self._probe:
            self._probe = None  # over without a verdict: the next request probes
        self._wake()

    def accepted(self, ticket: Ticket) -> None:
        """The server accepted ``ticket``'s request (audio arrived): the account is
        not limited now, so the gate opens fully and the back-off starts over."""
        if ticket.epoch < self.closures:
            return  # sent before the last closure: says nothing about now
        self._strikes = 0
        if self._probing:
            self._probing = False
            self._probe = None
            self._wake()

    def rate_limited(self, ticket: Ticket, retry_after: float | None) -> float | None:
        """``ticket``'s request was refused with 429 (``retry_after`` seconds from the
        server, or None): close the gate for everyone. Returns the seconds it stays
        closed, or None when the server asked for more than ``policy.max_wait`` (the
        gate then closes for ``max_wait``, and the request should not be retried).

        A 429 of a request admitted before the latest closure does not close it
        again (the burst it belongs to was already answered) unless its
        Retry-After asks for longer.
        """
        loop = asyncio.get_running_loop()
        now = loop.time()
        policy = self.policy
        if ticket is self._probe:
            self._probe = None
        if ticket.epoch < self.closures:
            if retry_after is None or retry_after <= self._reopen_at - now:
                return max(self._reopen_at - now, 0.0)
            wait = retry_after
        elif retry_after is not None:
            wait = retry_after
        else:
            wait = backoff_delay(
                RetryPolicy(max_retries=policy.max_retries, initial_delay=policy.initial_delay,
                            max_backoff=policy.max_backoff, max_wait=policy.max_wait,
                            jitter=policy.jitter),
                self._strikes, rng=self._rng)
        too_long = wait > policy.max_wait
        wait = min(wait, policy.max_wait)
        if ticket.epoch >= self.closures:
            self.closures += 1
            self._strikes += 1
        self._reopen_at = max(self._reopen_at, now + wait)
        self._closed = True
        self._probing = True
        self._schedule_reopen(loop)
        return None if too_long else wait

    async def call(self, send: Callable[[Ticket], Awaitable[T]], *,
                   may_retry: Callable[[], bool] = lambda: True,
                   on_wait: Callable[[float], None] | None = None) -> T:
        """``await send(ticket)`` once admitted; on :class:`RateLimitError`, close the
        gate (:meth:`rate_limited`) and send again once it reopens, while
        ``may_retry()`` (False once the request delivered anything) and retries are
        left. ``send`` should call :meth:`accepted` when its first audio arrives;
        it is also called when ``send`` returns. ``on_wait(seconds)`` is told each
        closure before a retry.

        Raises:
            RateLimitRetriesError: refused with 429 more than ``policy.max_retries``
                times, or asked to wait longer than ``policy.max_wait``.
            RateLimitError: a 429 after ``send`` delivered something (not retried).
            Whatever ``send`` raises otherwise, unchanged (never retried).
        """
        attempt = 0
        while True:
            ticket = await self.acquire(retry=attempt > 0)
            try:
                result = await send(ticket)
            except RateLimitError as exc:
                wait = self.rate_limited(ticket, exc.retry_after)
                if not may_retry():
                    raise
                if wait is None:
                    raise RateLimitRetriesError(
                        f"the server asked to wait {exc.retry_after:.0f} s, longer than "
                        f"{self.policy.max_wait:.0f} s", attempts=attempt + 1,
                        retry_after=exc.retry_after) from exc
                if attempt >= self.policy.max_retries:
                    raise RateLimitRetriesError(
                        f"refused with 429 on all {attempt + 1} tries", attempts=attempt + 1,
                        retry_after=exc.retry_after) from exc
                attempt += 1
                if on_wait is not None:
                    on_wait(wait)
                continue
            finally:
                self.release(ticket)
            self.accepted(ticket)
            return result

    # --- internals ------------------------------------------------------------------

    def _schedule_reopen(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_at(self._reopen_at, self._on_reopen)

    def _on_reopen(self) -> None:
        self._timer = None
        self._closed = False
        self._wake()

    def _prune(self) -> None:
        while self._waiters and self._waiters[0][0].done():
            self._waiters.popleft()  # cancelled while waiting

    def _grant(self) -> Ticket | None:
        """A ticket if the limit and the probe rule allow one more request now."""
        if self.in_flight >= self._limit or (self._probing and self._probe is not None):
            return None  # after a closure, one request at a time until one is accepted
        ticket = Ticket(self.closures, self._probing)
        if ticket.probe:
            self._probe = ticket
        self.in_flight += 1
        self.admitted += 1
        return ticket

    def _wake(self) -> None:
        """Admit waiting requests, in order, while the rules allow."""
        self._prune()
        if self._paused or self._closed:
            return
        while self._waiters:
            future = self._waiters[0][0]
            if future.done():
                self._waiters.popleft()
                continue
            ticket = self._grant()
            if ticket is None:
                return
            self._waiters.popleft()
            future.set_result(ticket)
