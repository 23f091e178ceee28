"""The client's exception tree. One class per failure a caller handles differently.

::

    CartesiaError
    ├── ResponseFormatError        a body that does not match the seed's schema
    ├── APIStatusError             an HTTP status >= 400 (or a WebSocket ``error`` event)
    │   ├── BadRequestError        400, 409, 413, 415, 422
    │   │   └── NotFoundError      404
    │   ├── AuthenticationError    401, 403
    │   ├── RateLimitError         429 (``retry_after`` in seconds, if the server said)
    │   └── ServerError            5xx
    ├── ConnectionLostError        the connection could not be made or dropped mid-stream
    │   └── APITimeoutError        a connect, read, write or pool timeout
    └── OutcomeUnknownError        a create whose answer was lost, not found by listing

Status mapping follows the v4 Python SDK (``cartesia._client._make_status_error``).
"""

from __future__ import annotations


class CartesiaError(Exception):
    """Base of every error the client raises."""


class ResponseFormatError(CartesiaError):
    """The server answered, but not in the shape the seed describes."""


class APIStatusError(CartesiaError):
    """The server answered with an error status.

    Attributes:
        status_code: the HTTP status (or the WebSocket event's ``status_code``).
        message: the server's human-readable message.
        body: the decoded JSON body, or its text, or ``None``.
    """

    def __init__(self, message: str, *, status_code: int, body: object | None = None) -> None:
        super().__init__(f"{status_code}: {message}")
        self.status_code = status_code
        self.message = message
        self.body = body


class BadRequestError(APIStatusError):
    """400/404/422: the request is wrong; retrying will not help."""


class NotFoundError(BadRequestError):
    """404: the voice, or other resource, does not exist."""


class AuthenticationError(APIStatusError):
    """401/403: the API key is missing, wrong or lacks permission."""


class RateLimitError(APIStatusError):
    """429: too many requests. ``retry_after`` is seconds from ``Retry-After``, or None."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int = 429,
        body: object | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, body=body)
        self.retry_after = retry_after


class ServerError(APIStatusError):
    """5xx: the server failed; retried with backoff before it reaches the caller."""


class ConnectionLostError(CartesiaError):
    """The connection could not be opened, or dropped mid-request or mid-stream."""


class APITimeoutError(ConnectionLostError):
    """A connect, read, write or pool timeout elapsed."""


class OutcomeUnknownError(CartesiaError):
    """A request that makes something (a dataset, an uploaded file, a fine-tune) failed
    in a way that may have made it anyway (a 5xx, a timeout, the connection lost after
    it was sent), and listing afterwards did not settle whether it was. Cartesia has no
    idempotency key, so sending it again could make a second one: check the list first.
    ``__cause__`` is the request's error."""


def status_error(
    status_code: int, message: str, body: object | None = None, retry_after: float | None = None
) -> APIStatusError:
    """The :class:`APIStatusError` subclass for ``status_code``."""
    if status_code == 404:
        return NotFoundError(message, status_code=status_code, body=body)
    if status_code in (400, 409, 413, 415, 422):
        return BadRequestError(message, status_code=status_code, body=body)
    if status_code in (401, 403):
        return AuthenticationError(message, status_code=status_code, body=body)
    if status_code == 429:
        return RateLimitError(message, status_code=status_code, body=body, retry_after=retry_after)
    if status_code >= 500:
        return ServerError(message, status_code=status_code, body=body)
    return APIStatusError(message, status_code=status_code, body=body)
