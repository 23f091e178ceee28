"""Who may talk to the engine, and what happens when the engine itself fails.

The engine listens on loopback, where any program of the user's - and any web
page their browser has open - can reach it. The :func:`guard` middleware runs
before anything else and refuses, with a JSON error body:

- a ``Host`` that is not a loopback name or address (``localhost``,
  ``127.0.0.0/8``, ``[::1]``, with any port): 403. A page on a rebound DNS
  name (DNS rebinding) always sends its own name. With ``allow_remote`` the
  host the engine is bound to, and any IP literal, are accepted too: an IP
  literal cannot be rebound.
- a request carrying a browser ``Origin`` (or ``Sec-Fetch-Site: cross-site`` /
  ``same-site``, which browsers send on ``<img>``-style requests without an
  ``Origin``), unless the origin is in :attr:`Access.allowed_origins`: 403.
  Cartesia's SDKs and the studio send neither. An allowed origin gets CORS
  headers and its preflight ``OPTIONS`` is answered.
- a declared ``Content-Length`` over
  :data:`~studio.offline.multipart.MAX_BODY_BYTES`: 413 before a byte of the
  body is read, and the connection is closed rather than drained.

Every request gets a request id, sent back as ``X-Request-Id`` and as
``request_id`` in error bodies. Every 5xx is logged once, on one line, with
that id; an exception escaping a handler becomes a JSON 500 (its traceback at
``DEBUG`` only). Client mistakes are answered, never logged as errors.
"""

from __future__ import annotations

import ipaddress
import logging
import sys
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Middleware

from studio.offline.errors import ApiError
from studio.offline.multipart import MAX_BODY_BYTES

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-Id"
REQUEST_ID: web.RequestKey[str] = web.RequestKey("request_id", str)
#: Seconds a browser may cache an allowed origin's preflight answer.
PREFLIGHT_MAX_AGE = 600

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_LOOPBACK_NAMES = frozenset({"localhost", "localhost."})
_BROWSER_SITES = frozenset({"cross-site", "same-site"})


@dataclass(frozen=True, slots=True)
class Access:
    """Which ``Host`` and ``Origin`` headers the engine accepts.

    Attributes:
        bind_host: the host the engine listens on (``--host``).
        allow_remote: also accept ``bind_host`` and any IP literal as ``Host``.
        allowed_origins: browser origins allowed to call the engine, compared
            lowercase (``"http://localhost:3000"``); ``"*"`` allows every one.
    """

    bind_host: str = "127.0.0.1"
    allow_remote: bool = False
    allowed_origins: frozenset[str] = frozenset()

    def host_allowed(self, header: str | None) -> bool:
        """Whether a ``Host`` header value names this engine acceptably."""
        name = host_name(header) if header else None
        if name is None:
            return False
        address = _address(name)
        if name in _LOOPBACK_NAMES or (address is not None and address.is_loopback):
            return True
        if not self.allow_remote:
            return False
        return address is not None or name == self.bind_host.lower().strip("[]")

    def origin_allowed(self, origin: str) -> bool:
        """Whether a browser ``Origin`` was allowed with ``--allow-origin``."""
        return "*" in self.allowed_origins or origin.lower() in self.allowed_origins


def host_name(header: str) -> str | None:
    """The lowercase host of a ``Host`` header (``"[::1]:8080"`` -> ``"::1"``),
    or None if it is malformed."""
    value = header.strip().lower()
    if value.startswith("["):
        name, bracket, rest = value[1:].partition("]")
    else:
        name, _, rest = value.partition(":")
        bracket = "]"
        rest = ":" + rest if rest else ""
    if not name or not bracket or not name.isascii():
        return None
    if rest and not (rest[0] == ":" and rest[1:].isdigit() and rest[1:].isascii()):
        return None
    return name


def _address(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


def request_id(request: web.Request) -> str | None:
    """The id :func:`guard` gave ``request`` (None outside the middleware)."""
    return request.get(REQUEST_ID)


def error_response(request: web.Request, exc: ApiError,
                   headers: dict[str, str] | None = None) -> web.Response:
    """``exc``'s JSON error body, carrying the request's id."""
    return web.json_response(exc.body(request_id(request)), status=exc.status, headers=headers)


def _check(access: Access, request: web.Request) -> None:
    if not access.host_allowed(request.headers.get("Host")):
        raise ApiError(403, "the offline engine answers only requests addressed to a loopback "
                       "host (localhost, 127.0.0.1, [::1])", "host_not_allowed")
    origin = request.headers.get("Origin")
    if origin is not None:
        if not access.origin_allowed(origin):
            raise ApiError(403, "requests from web pages are refused; start the engine with "
                           "--allow-origin to allow one", "origin_not_allowed")
    elif request.headers.get("Sec-Fetch-Site", "").lower() in _BROWSER_SITES:
        raise ApiError(403, "requests from web pages are refused", "origin_not_allowed")
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise ApiError(413, f"request body is over {MAX_BODY_BYTES // 2**20} MB")


def _preflight(request: web.Request) -> web.Response | None:
    method = request.headers.get("Access-Control-Request-Method")
    if request.method != "OPTIONS" or method is None:
        return None
    headers = {
        "Access-Control-Allow-Methods": "GET, POST, PATCH, DELETE",
        "Access-Control-Allow-Headers": request.headers.get(
            "Access-Control-Request-Headers", "Authorization, Cartesia-Version, Content-Type"),
        "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE),
    }
    return web.Response(status=204, headers=headers)


def guard(access: Access) -> Middleware:
    """The outermost middleware: request id, Host/Origin/length checks, 5xx log."""

    @web.middleware
    async def _guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        rid = uuid.uuid4().hex
        request[REQUEST_ID] = rid
        response: web.StreamResponse
        try:
            _check(access, request)
            response = _preflight(request) or await handler(request)
        except ApiError as exc:
            response = error_response(request, exc)
        except web.HTTPException:
            raise  # redirects; error statuses were made JSON by the server's middleware
        except Exception as exc:  # one log line and a JSON 500, not a traceback
            log.debug("request %s failed", rid, exc_info=True)
            log.error("%s %s failed with 500 (request_id=%s): %s: %s", request.method,
                      request.path, rid, type(exc).__name__, exc)
            if request.transport is not None and _started(request):
                request.transport.abort()  # the body is half sent; a clean end would lie
            return error_response(request, ApiError(500, f"internal error (request_id={rid})"))
        if response.status >= 500:
            log.error("%s %s answered %d (request_id=%s)", request.method, request.path,
                      response.status, rid)
        if response.status == 413 and not request.content.is_eof():
            await _close_after(request, response)
        return response

    return _guard


async def _close_after(request: web.Request, response: web.StreamResponse) -> None:
    """Send ``response`` and close the connection: aiohttp would otherwise read
    and discard the refused body for up to ten seconds before answering the next
    request on it."""
    response.force_close()
    await response.prepare(request)
    await response.write_eof()
    request.protocol.force_close()  # the transport flushes the answer, then closes


def _started(request: web.Request) -> bool:
    writer = request.writer
    return writer is not None and writer.output_size > 0


async def add_response_headers(access: Access, request: web.Request,
                               response: web.StreamResponse) -> None:
    """``on_response_prepare``: the request id, and CORS for an allowed origin."""
    rid = request.get(REQUEST_ID)
    if rid is not None:
        response.headers[REQUEST_ID_HEADER] = rid
    origin = request.headers.get("Origin")
    if origin is not None and access.origin_allowed(origin):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = REQUEST_ID_HEADER
        response.headers.add("Vary", "Origin")


class ProtocolLog(logging.LoggerAdapter[logging.Logger]):
    """The log aiohttp's connection handler writes to (``AppRunner(logger=...)``).

    aiohttp answers malformed HTTP (a bad header token, a line over 8 KB) with a
    400 itself and logs it with a traceback at ``ERROR``; here a client's
    malformed request is one ``DEBUG`` line, anything else one ``ERROR`` line,
    and tracebacks go to ``DEBUG`` only.
    """

    def __init__(self, logger: logging.Logger = log) -> None:
        super().__init__(logger, {})

    def exception(self, msg: object, *args: object, exc_info: Any = True,
                  **kwargs: Any) -> None:
        exc = exc_info if isinstance(exc_info, BaseException) else sys.exc_info()[1]
        text = str(msg) % args if args else str(msg)
        if isinstance(exc, HttpProcessingError) and (exc.code or 400) < 500:
            self.logger.debug("%s: malformed request refused with %s: %s", text,
                              exc.code, exc.message.splitlines()[0] if exc.message else "")
            return
        self.logger.error("%s: %s: %s", text, type(exc).__name__,
                          str(exc).splitlines()[0] if str(exc) else "")
        self.logger.debug("traceback", exc_info=exc)
