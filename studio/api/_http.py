"""The HTTP half of the client: one ``httpx.AsyncClient``, auth headers, retries,
and the mapping of httpx failures onto :mod:`studio.api.errors`."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import random
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx

from studio.api._checks import describe
from studio.api._constants import HTTP_REQUEST_DEADLINE_S, MAX_CONNECT_TIMEOUT_S, USER_AGENT
from studio.api._retry import RetryPolicy, is_retryable_status, parse_retry_after, retry_wait
from studio.api._status import response_error
from studio.api.errors import (
    APITimeoutError,
    CartesiaError,
    ConnectionLostError,
    ResponseFormatError,
)

log = logging.getLogger("studio.api")

QueryParams = Mapping[str, str | int | list[str]]
#: Multipart files for httpx: field name -> ``(filename, bytes, content type)``.
Files = Mapping[str, tuple[str, bytes, str]]
#: Multipart text fields; a list repeats the field (``timestamp_granularities[]``).
FormData = Mapping[str, str | list[str]]


def make_timeout(timeout: float | httpx.Timeout) -> httpx.Timeout:
    """An ``httpx.Timeout`` from seconds (read/write/pool = ``timeout``, connect
    capped at :data:`MAX_CONNECT_TIMEOUT_S`) or a given ``httpx.Timeout`` as is."""
    if isinstance(timeout, httpx.Timeout):
        return timeout
    if timeout <= 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
    return httpx.Timeout(timeout, connect=min(timeout, MAX_CONNECT_TIMEOUT_S))


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback IP literals (the offline engine)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def auth_headers(api_key: str, cartesia_version: str) -> dict[str, str]:
    """The headers every request carries (seed: ``APIKeyAuth``, ``CartesiaVersionHeader``)."""
    return {
        "Authorization": f"Bearer {api_key}",
        "Cartesia-Version": cartesia_version,
        "User-Agent": USER_AGENT,
    }


def transport_error(exc: Exception, what: str) -> ConnectionLostError:
    """The client error for an httpx (or socket) failure during ``what``."""
    if isinstance(exc, (httpx.TimeoutException, TimeoutError)):
        return APITimeoutError(f"{what}: timed out ({type(exc).__name__})")
    return ConnectionLostError(f"{what}: {type(exc).__name__}: {exc}")


def describe_response(response: httpx.Response) -> str:
    """Status, content type and first bytes of a read response, for error messages."""
    return describe(response.status_code, response.headers.get("content-type", ""),
                    response.content)


def json_body(response: httpx.Response, what: str) -> Any:
    """The decoded JSON of a read response.

    Raises:
        ResponseFormatError: the body is not JSON (the message names the status,
            content type and first bytes that arrived instead).
    """
    try:
        return json.loads(response.content)
    except ValueError as exc:
        raise ResponseFormatError(
            f"{what}: response is not JSON ({exc}); got {describe_response(response)}"
        ) from None


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def shares_site(url: httpx.URL, base: httpx.URL) -> bool:
    """Whether ``url`` may receive the API key: the base URL's host and port, or
    a host in the same parent domain (``files.cartesia.ai`` for
    ``api.cartesia.ai``); never over plain http when the base is https."""
    if url.scheme != base.scheme and url.scheme != "https":
        return False
    if url.host == base.host:
        return url.port == base.port
    if is_loopback_host(base.host) or _is_ip_literal(base.host) or _is_ip_literal(url.host):
        return False
    labels = base.host.split(".")
    if len(labels) < 3:
        return False
    parent = ".".join(labels[1:])
    return url.host == parent or url.host.endswith("." + parent)


class HttpCore:
    """Sends requests with auth headers and retries, raising the client's errors.

    A request is retried (per :class:`RetryPolicy`) on 408/429/5xx and on
    transport failures. A request read whole (:meth:`request`) must complete,
    status line to last byte, within ``deadline`` seconds (a body trickling a byte
    at a time is an :class:`APITimeoutError`, retried as any timeout unless the
    request ``creates``); a stream is retried only until its status line arrived.
    Only a 2xx status is success: a 3xx that is not followed is a
    :class:`ResponseFormatError` naming what arrived.
    """

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        cartesia_version: str,
        timeout: httpx.Timeout,
        policy: RetryPolicy,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: Callable[[], float] = random.random,
        deadline: float = HTTP_REQUEST_DEADLINE_S,
        min_bytes_per_s: float = 0.0,
        progress_grace: float = 0.0,
    ) -> None:
        self.policy = policy
        self.deadline = deadline
        self.min_bytes_per_s = min_bytes_per_s
        self.progress_grace = progress_grace
        self._rng = rng
        base = httpx.URL(base_url)
        self._client = httpx.AsyncClient(
            base_url=base,
            headers=auth_headers(api_key, cartesia_version),
            timeout=timeout,
            transport=transport,
            # Proxy settings from the environment must never capture loopback traffic.
            trust_env=not is_loopback_host(base.host),
        )

    @property
    def base_url(self) -> httpx.URL:
        return self._client.base_url

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        params: QueryParams | None = None,
        json: Any = None,
        files: Files | None = None,
        data: FormData | None = None,
        follow_redirects: bool = False,
        creates: bool = False,
    ) -> httpx.Response:
        """Send a request and read its whole body.

        ``creates``: the request makes something on the server (a cloned voice), so it
        is only retried when it surely was not carried out: a 429, or a connection that
        never opened. After a 5xx or a lost connection the server may have made it, and
        a retry could make it twice; the error is raised instead.

        With ``files`` (and optionally ``data``) the body is ``multipart/form-data``:
        the text fields first, then the files, as httpx (and the v4 SDK) send them.
        The body is rebuilt from them for every retry.

        Raises:
            APIStatusError: (a subclass of) for a status >= 400, after retries.
            APITimeoutError: the whole request took longer than ``deadline``, after
                retries.
            ConnectionLostError: the exchange failed, after retries.
            ResponseFormatError: a status that is neither 2xx nor an error.
        """
        return await self._send(method, url, params, json, follow_redirects, files, data,
                                creates, read=True)

    @asynccontextmanager
    async def stream(
        self, method: str, url: str, *, json: Any = None, files: Files | None = None,
        data: FormData | None = None,
    ) -> AsyncIterator[httpx.Response]:
        """Send a request and yield the response with its body unread (status < 400).

        ``files``/``data`` make it ``multipart/form-data`` as in :meth:`request`. Errors
        as :meth:`request`; the response is closed on exit.
        """
        response = await self._send(method, url, None, json, False, files, data)
        try:
            yield response
        finally:
            await response.aclose()

    async def _send(
        self,
        method: str,
        url: str | httpx.URL,
        params: QueryParams | None,
        body: Any,
        follow_redirects: bool,
        files: Files | None = None,
        data: FormData | None = None,
        creates: bool = False,
        read: bool = False,
    ) -> httpx.Response:
        attempt = 0
        while True:
            request = self._client.build_request(
                method, url, params=params, json=body, files=files, data=data
            )
            if not shares_site(request.url, self._client.base_url):
                del request.headers["Authorization"]
            what = f"{method} {request.url.path}"
            retry_after: float | None = None
            error: CartesiaError
            cause: BaseException | None = None
            try:
                if read:
                    # The deadline covers the body, which the read timeout cannot:
                    # each trickled byte restarts it.
                    async with asyncio.timeout(self.deadline):
                        response = await self._send_once(request, follow_redirects, read)
                else:
                    response = await self._send_once(request, follow_redirects, read)
            except httpx.UnsupportedProtocol as exc:
                raise ConnectionLostError(f"{what}: {exc}") from exc  # retrying cannot help
            except httpx.DecodingError as exc:
                raise ResponseFormatError(f"{what}: {exc}") from exc
            except TimeoutError as exc:
                paced = str(exc)  # from _read_at_pace; the deadline's own carries no text
                error = APITimeoutError(
                    f"{what}: the body trickles ({paced}, under {self.min_bytes_per_s:g} "
                    "bytes a second)" if paced else
                    f"{what}: not complete after the {self.deadline:g} s request deadline "
                    "(the server stalls or trickles its response)")
                cause = exc
                if creates:
                    raise error from exc  # it may have been carried out
            except (httpx.TransportError, OSError) as exc:
                error = transport_error(exc, what)
                cause = exc
                if creates and not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
                    raise error from exc  # it may have been carried out
            else:
                if 200 <= response.status_code < 300:
                    return response
                if response.status_code < 400:
                    content = await self._read_quietly(response)
                    arrived = describe(response.status_code,
                                       response.headers.get("content-type", ""), content)
                    location = response.headers.get("location")
                    where = f" (redirect to {location})" if location else ""
                    raise ResponseFormatError(f"{what}: expected a 2xx response, got "
                                              f"{arrived}{where}")
                content = await self._read_quietly(response)
                error = response_error(
                    response.status_code, response.headers, content, response.reason_phrase
                )
                if not is_retryable_status(response.status_code) or (
                        creates and response.status_code != 429):
                    raise error
                retry_after = parse_retry_after(response.headers)
            wait = retry_wait(self.policy, attempt, retry_after, rng=self._rng)
            if wait is None:
                raise error from cause
            log.warning(
                "%s failed (%s); retry %d/%d in %.2f s",
                what, error, attempt + 1, self.policy.max_retries, wait,
            )
            await asyncio.sleep(wait)
            attempt += 1

    async def _send_once(self, request: httpx.Request, follow_redirects: bool,
                         read: bool) -> httpx.Response:
        """One attempt; with ``read`` a 2xx body is read whole (and the response closed)."""
        response = await self._client.send(request, stream=True,
                                           follow_redirects=follow_redirects)
        if read and 200 <= response.status_code < 300:
            try:
                await self._read_at_pace(response)
            finally:
                await response.aclose()
        return response

    async def _read_at_pace(self, response: httpx.Response) -> None:
        """``response.aread()``, but a body that has not brought ``min_bytes_per_s`` for
        every second past ``progress_grace`` is a :class:`TimeoutError` (a trickle
        restarts the read timeout with every byte).

        Raises:
            TimeoutError: the body trickles (handled as the request deadline is).
        """
        if self.min_bytes_per_s <= 0:
            await response.aread()
            return
        loop = asyncio.get_running_loop()
        started = loop.time()
        parts: list[bytes] = []
        received = 0
        async for part in response.aiter_bytes():
            parts.append(part)
            received += len(part)
            elapsed = loop.time() - started
            # Counted from the grace on: a body sent whole after a long pause passes.
            if received < self.min_bytes_per_s * (elapsed - self.progress_grace):
                raise TimeoutError(f"{received} bytes in {elapsed:.0f} s")
        # What aread() does with the parts it reads (httpx.Response.aread).
        response._content = b"".join(parts)

    async def _read_quietly(self, response: httpx.Response) -> bytes:
        """The body of a response that failed (b"" if it cannot be read), closed."""
        try:
            async with asyncio.timeout(self.deadline):
                return await response.aread()
        except (httpx.HTTPError, OSError, TimeoutError):
            return b""
        finally:
            await response.aclose()
