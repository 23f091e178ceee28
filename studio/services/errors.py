"""Client errors worded for a creator (issue 14). Qt-free.

The client's messages (``GET /voices: ConnectError: [Errno -2] Name or service not
known``) are for the log; :func:`describe_error` gives the sentence the status bar,
the voices panel and a block's status show, and :func:`error_detail` the technical
text for the log and a tooltip.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator

from studio.api.errors import (
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    ConnectionLostError,
    RateLimitError,
    ResponseFormatError,
    ServerError,
)
from studio.api.rate_gate import RateLimitRetriesError

UNREACHABLE = "Cannot reach Cartesia: no internet connection or the address is wrong."

# What the chained socket errors say when their type did not survive the wrapping
# (httpx and websockets re-raise with the original's text).
_DNS_WORDS = ("name or service not known", "nodename nor servname", "getaddrinfo failed",
              "temporary failure in name resolution", "no address associated")
_TLS_WORDS = ("certificate verify failed", "[ssl", "ssl:", "tls handshake", "wrong version number")
_REFUSED_WORDS = ("connection refused", "errno 111", "actively refused",
                  "all connection attempts failed")
# A connection never opened (as opposed to one that dropped mid-request).
_CONNECT_WORDS = ("connecterror", "connect call failed", "websocket connect to")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _connection_sentence(exc: ConnectionLostError) -> str:
    chain = list(_chain(exc))
    text = " ".join(str(e) for e in chain).lower()
    if any(isinstance(e, ssl.SSLError) for e in chain) or any(w in text for w in _TLS_WORDS):
        return ("Cannot make a secure connection to Cartesia: the server's certificate was "
                "not accepted (a network proxy or a wrong clock can cause this).")
    if any(isinstance(e, socket.gaierror) for e in chain) or any(w in text for w in _DNS_WORDS):
        return UNREACHABLE
    if (any(isinstance(e, ConnectionRefusedError) for e in chain)
            or any(w in text for w in _REFUSED_WORDS)):
        return ("Cannot reach Cartesia: nothing answered at that address "
                "(check the API base URL in Settings).")
    if any(w in text for w in _CONNECT_WORDS):
        return UNREACHABLE
    return "The connection to Cartesia was lost. Try again."


def describe_error(exc: BaseException) -> str:
    """One sentence a creator can act on, for any error the client raises.

    Connection failures (DNS, refused, TLS), timeouts, a refused key (401/403), rate
    limits (429), server failures (5xx); other refusals keep the server's own message.
    """
    if isinstance(exc, APITimeoutError):
        return "Cartesia did not answer in time: the connection may be slow. Try again."
    if isinstance(exc, ConnectionLostError):
        return _connection_sentence(exc)
    if isinstance(exc, AuthenticationError):
        if exc.status_code == 403:
            return ("Cartesia refused this request for your API key: check the key's "
                    "permissions or your plan.")
        return "Cartesia did not accept the API key: check it in Settings."
    if isinstance(exc, RateLimitRetriesError):
        return ("Cartesia kept limiting requests from your account "
                f"({exc.attempts} tries): set Concurrent requests in Settings to your "
                "plan's limit, or wait a minute and generate again.")
    if isinstance(exc, RateLimitError):
        wait = (f"wait {exc.retry_after:.0f} s" if exc.retry_after is not None
                else "wait a moment")
        return f"Cartesia is limiting requests from your account: {wait} and try again."
    if isinstance(exc, ServerError):
        return (f"Cartesia's servers had a problem (error {exc.status_code}). "
                "Try again in a few minutes.")
    if isinstance(exc, APIStatusError):
        return exc.message
    if isinstance(exc, ResponseFormatError):
        return "Cartesia answered in a way the studio does not understand."
    return str(exc)


def error_detail(exc: BaseException) -> str:
    """The technical text of ``exc`` and what it was raised from, for the log and a
    tooltip (never the API key: the client's messages do not carry it)."""
    parts: list[str] = []
    for e in _chain(exc):
        if not parts or str(e) not in parts[-1]:  # httpx repeats the text at each layer
            parts.append(f"{type(e).__name__}: {e}")
    return " <- ".join(parts)
