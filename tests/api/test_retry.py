"""Retry policy: which statuses retry, backoff bounds, Retry-After parsing."""

from __future__ import annotations

import email.utils

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from studio.api._retry import (
    RetryPolicy,
    backoff_delay,
    is_retryable_status,
    parse_retry_after,
    retry_wait,
)

NOW = 1_700_000_000.0


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504, 599])
def test_retryable_statuses(status: int) -> None:
    assert is_retryable_status(status)


@pytest.mark.parametrize("status", [200, 301, 400, 401, 403, 404, 409, 413, 422, 600])
def test_other_statuses_are_final(status: int) -> None:
    assert not is_retryable_status(status)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"Retry-After": " 0.25 "}, 0.25),
        ({"Retry-After": "0"}, 0.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "250", "Retry-After": "9"}, 0.25),
        ({"retry-after-ms": "soon", "Retry-After": "9"}, 9.0),
        ({"Retry-After": "-4"}, None),
        ({"Retry-After": "nan"}, None),
        ({"Retry-After": "inf"}, None),
        ({"Retry-After": "whenever"}, None),
        ({}, None),
    ],
)
def test_parse_retry_after_seconds(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(httpx.Headers(headers), now=NOW) == expected


def test_parse_retry_after_http_date() -> None:
    date = email.utils.formatdate(NOW + 42, usegmt=True)
    assert parse_retry_after(httpx.Headers({"Retry-After": date}), now=NOW) == pytest.approx(42.0)


def test_parse_retry_after_date_in_the_past_is_zero() -> None:
    date = email.utils.formatdate(NOW - 600, usegmt=True)
    assert parse_retry_after(httpx.Headers({"Retry-After": date}), now=NOW) == 0.0


def test_backoff_doubles_until_the_ceiling() -> None:
    policy = RetryPolicy(max_retries=10, initial_delay=0.5, max_backoff=8.0, jitter=0.25)
    no_jitter = [backoff_delay(policy, n, rng=lambda: 0.0) for n in range(7)]
    assert no_jitter == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    full_jitter = [backoff_delay(policy, n, rng=lambda: 1.0) for n in range(3)]
    assert full_jitter == [0.375, 0.75, 1.5]


@given(
    attempt=st.integers(min_value=0, max_value=10_000),
    draw=st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
    initial=st.floats(min_value=0.0, max_value=5.0),
    ceiling=st.floats(min_value=0.0, max_value=30.0),
)
def test_backoff_stays_within_bounds(
    attempt: int, draw: float, initial: float, ceiling: float
) -> None:
    policy = RetryPolicy(max_retries=3, initial_delay=initial, max_backoff=ceiling)
    delay = backoff_delay(policy, attempt, rng=lambda: draw)
    nominal = min(initial * 2.0 ** min(attempt, 60), ceiling)
    low = min(nominal * (1 - policy.jitter), policy.max_wait)
    assert low - 1e-12 <= delay <= min(nominal, policy.max_wait) + 1e-12


def test_retry_wait_stops_after_max_retries() -> None:
    policy = RetryPolicy(max_retries=2)
    assert retry_wait(policy, 0, None, rng=lambda: 0.0) == 0.5
    assert retry_wait(policy, 1, None, rng=lambda: 0.0) == 1.0
    assert retry_wait(policy, 2, None, rng=lambda: 0.0) is None
    assert retry_wait(RetryPolicy(max_retries=0), 0, None) is None


def test_retry_wait_honours_retry_after_exactly() -> None:
    policy = RetryPolicy(max_retries=2, max_wait=20.0)
    assert retry_wait(policy, 0, 3.5, rng=lambda: 0.9) == 3.5
    assert retry_wait(policy, 1, 0.0) == 0.0


def test_retry_after_beyond_the_cap_is_not_waited() -> None:
    policy = RetryPolicy(max_retries=2, max_wait=20.0)
    assert retry_wait(policy, 0, 20.0) == 20.0
    assert retry_wait(policy, 0, 20.5) is None


@pytest.mark.parametrize(
    "kwargs", [{"max_retries": -1}, {"jitter": 1.5}, {"initial_delay": -0.1}, {"max_wait": -1}]
)
def test_policy_rejects_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
