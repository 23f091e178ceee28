"""Client errors worded for a creator, with the technical text kept for the log."""

from __future__ import annotations

import socket
import ssl

import pytest

from studio.api.errors import (
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConnectionLostError,
    RateLimitError,
    ServerError,
)
from studio.api.rate_gate import RateLimitRetriesError
from studio.services.errors import UNREACHABLE, describe_error, error_detail


def _wrapped(cause: BaseException, text: str) -> ConnectionLostError:
    try:
        raise ConnectionLostError(text) from cause
    except ConnectionLostError as exc:
        return exc


def test_dns_failure_is_worded_for_a_creator_and_detailed_for_the_log() -> None:
    exc = _wrapped(socket.gaierror(-2, "Name or service not known"),
                   "GET /voices: ConnectError: [Errno -2] Name or service not known")
    assert describe_error(exc) == UNREACHABLE
    assert "Errno -2" not in describe_error(exc)
    assert "Name or service not known" in error_detail(exc)
    assert "GET /voices" in error_detail(exc)


@pytest.mark.parametrize(("exc", "words"), [
    (_wrapped(ConnectionRefusedError(111, "Connection refused"), "GET /: ConnectError"),
     "nothing answered"),
    (_wrapped(ssl.SSLCertVerificationError("certificate verify failed"), "GET /: ConnectError"),
     "secure connection"),
    (APITimeoutError("GET /: timed out (ReadTimeout)"), "did not answer in time"),
    (ConnectionLostError("stream ended before done"), "connection to Cartesia was lost"),
    (AuthenticationError("Invalid API key", status_code=401), "did not accept the API key"),
    (AuthenticationError("Forbidden", status_code=403), "permissions"),
    (RateLimitError("slow down", retry_after=30), "wait 30 s"),
    (RateLimitError("slow down"), "wait a moment"),
    (RateLimitRetriesError("429 on all 7 tries", attempts=7, retry_after=None),
     "kept limiting requests from your account (7 tries): set Concurrent requests"),
    (ServerError("oops", status_code=503), "error 503"),
    (BadRequestError("Invalid model", status_code=400), "Invalid model"),
])
def test_each_failure_has_its_sentence(exc: Exception, words: str) -> None:
    assert words in describe_error(exc)
