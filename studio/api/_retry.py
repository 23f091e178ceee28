"""When to retry a request and how long to wait first.

Pure functions, so the policy is tested without a server. The rules:

- retry 408, 429 and every 5xx, and failures to connect or to receive a
  response; never any other 4xx (a wrong request stays wrong);
- wait ``initial_delay * 2**attempt`` (capped at ``max_backoff``) times a jitter
  factor in ``[1 - jitter, 1]``, as the v4 SDK does
  (``cartesia._base_client._calculate_retry_timeout``);
- a server's ``Retry-After`` (delta-seconds or an HTTP date, RFC 9110 §10.2.3)
  or the non-standard ``retry-after-ms`` replaces the backoff; a wait longer
  than ``max_wait`` is not waited out at all: the error goes to the caller.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from studio.api._constants import (
    DEFAULT_MAX_RETRIES,
    INITIAL_RETRY_DELAY_S,
    MAX_BACKOFF_DELAY_S,
    MAX_RETRY_WAIT_S,
    RETRY_JITTER,
    RETRYABLE_4XX,
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many times to retry and how long to wait (all times in seconds).

    Attributes:
        max_retries: retries after the first attempt; 0 disables retrying.
        initial_delay: backoff before the first retry.
        max_backoff: ceiling of the exponential backoff.
        max_wait: ceiling of any single wait; a longer Retry-After ends retrying.
        jitter: the backoff is scaled by a factor drawn from [1 - jitter, 1].
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    initial_delay: float = INITIAL_RETRY_DELAY_S
    max_backoff: float = MAX_BACKOFF_DELAY_S
    max_wait: float = MAX_RETRY_WAIT_S
    jitter: float = RETRY_JITTER

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries}")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError(f"jitter must be in [0, 1], got {self.jitter}")
        if self.initial_delay < 0 or self.max_backoff < 0 or self.max_wait < 0:
            raise ValueError("retry delays must be >= 0")


def is_retryable_status(status_code: int) -> bool:
    """True for 408, 429 and 5xx: statuses a later identical request may pass."""
    return status_code in RETRYABLE_4XX or 500 <= status_code <= 599


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds the server asked us to wait, or None if it did not say (or said nonsense).

    Reads ``retry-after-ms`` (milliseconds, as the Stainless SDKs do) first, then
    ``Retry-After`` as delta-seconds (a float is tolerated) or an HTTP date.
    A date in the past gives 0.0. ``headers`` lookups must be case-insensitive
    (``httpx.Headers``, websockets' ``Headers``) or use lower-case keys.

    Args:
        headers: the response headers.
        now: the current POSIX time for HTTP dates; ``time.time()`` if None.
    """
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            value = float(millis) / 1000.0
        except ValueError:
            value = -1.0
        if value >= 0.0 and not math.isnan(value):
            return value
    raw = headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        parsed = email.utils.parsedate_tz(raw)
        if parsed is None:
            return None
        seconds = email.utils.mktime_tz(parsed) - (time.time() if now is None else now)
        return max(seconds, 0.0)
    if math.isnan(seconds) or seconds < 0.0 or seconds == float("inf"):
        return None
    return seconds


def backoff_delay(
    policy: RetryPolicy, attempt: int, *, rng: Callable[[], float] = random.random
) -> float:
    """The jittered exponential backoff before retry number ``attempt + 1``.

    Args:
        attempt: 0 for the wait after the first failure, 1 after the second...
        rng: a source of floats in [0, 1) (injected by tests).
    """
    base = min(policy.initial_delay * 2.0 ** min(attempt, 60), policy.max_backoff)
    return min(base * (1.0 - policy.jitter * rng()), policy.max_wait)


def retry_wait(
    policy: RetryPolicy,
    attempt: int,
    retry_after: float | None,
    *,
    rng: Callable[[], float] = random.random,
) -> float | None:
    """Seconds to wait before retrying after failed attempt ``attempt`` (0-based),
    or None if the request must not be retried.

    None when the retries are used up or when the server's ``retry_after``
    exceeds ``policy.max_wait``. A given ``retry_after`` is waited exactly (it is
    a lower bound the server set); otherwise :func:`backoff_delay`.
    """
    if attempt >= policy.max_retries:
        return None
    if retry_after is not None:
        return retry_after if retry_after <= policy.max_wait else None
    return backoff_delay(policy, attempt, rng=rng)
