"""Errors the offline engine reports to clients, and their JSON bodies.

Cartesia answers a failed HTTP request with a JSON body
``{"error_code", "title", "message", "request_id", "doc_url"}`` (the shape the
v4 Python SDK's ``APIStatusError`` and SSE ``TTSSSEErrorEvent`` read); on the
TTS WebSocket the same fields travel in an ``error`` event together with the
seed's ``error`` string, ``status_code`` and ``done: true``
(``tts-websocket.txt``, ``WebSocketResponse`` in ``cartesia-openapi.yaml``).

Everything that rejects a request raises :class:`ApiError`; the server turns it
into the body for the transport at hand.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

_TITLES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "Invalid request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    408: ("request_timeout", "Request timed out"),
    409: ("conflict", "Conflict"),
    413: ("payload_too_large", "Payload too large"),
    422: ("unprocessable_entity", "Unprocessable entity"),
    429: ("rate_limited", "Too many requests"),
    500: ("internal_error", "Internal server error"),
    502: ("bad_gateway", "Bad gateway"),
    503: ("service_unavailable", "Service unavailable"),
    504: ("gateway_timeout", "Gateway timeout"),
}


def title_for(status: int) -> tuple[str, str]:
    """``(error_code, title)`` for an HTTP status; generic for unlisted codes."""
    if status in _TITLES:
        return _TITLES[status]
    return ("client_error", "Request failed") if status < 500 else ("server_error", "Server error")


class ApiError(Exception):
    """A request the engine refuses or fails, with the HTTP status to answer.

    Attributes:
        status: HTTP status code (400 invalid input, 401 auth, 404 unknown id...).
        message: human-readable explanation, safe to show to users.
        error_code: machine-readable code; defaults from ``status``.
    """

    def __init__(self, status: int, message: str, error_code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_code = error_code or title_for(status)[0]

    def body(self, request_id: str | None = None) -> dict[str, Any]:
        """The HTTP JSON error body."""
        return error_body(self.status, self.message, self.error_code, request_id)


def bad_request(message: str) -> ApiError:
    """A 400 :class:`ApiError` with ``message``."""
    return ApiError(400, message)


def error_body(
    status: int, message: str, error_code: str | None = None, request_id: str | None = None
) -> dict[str, Any]:
    """``{"error_code", "title", "message", "request_id", "doc_url"}`` for ``status``."""
    code, title = title_for(status)
    return {
        "error_code": error_code or code,
        "title": title,
        "message": message,
        "request_id": request_id or str(uuid.uuid4()),
        "doc_url": None,
    }


def stream_error_event(
    status: int, message: str, context_id: str | None, error_code: str | None = None
) -> dict[str, Any]:
    """An ``error`` event for SSE or the WebSocket: the HTTP body fields plus
    ``type``, ``error`` (the seed's string), ``status_code`` and ``done: true``."""
    event = error_body(status, message, error_code)
    event.update(
        {"type": "error", "error": message, "status_code": status, "done": True,
         "context_id": context_id}
    )
    return event
