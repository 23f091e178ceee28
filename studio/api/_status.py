"""Turning an error response (HTTP, or a refused WebSocket handshake) into an exception."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from studio.api._constants import ERROR_TEXT_LIMIT
from studio.api._retry import parse_retry_after
from studio.api.errors import APIStatusError, status_error

_MESSAGE_KEYS = ("message", "error", "title", "detail")


def error_message(body: object, text: str, fallback: str) -> str:
    """The human-readable message of an error body.

    A JSON object's ``message``, ``error``, ``title`` or ``detail`` (the first
    present; a nested ``{"error": {"message": ...}}`` is followed), else the
    body text cut to :data:`ERROR_TEXT_LIMIT` characters, else ``fallback``
    (the reason phrase).
    """
    if isinstance(body, Mapping):
        for key in _MESSAGE_KEYS:
            value = body.get(key)
            if isinstance(value, Mapping):
                nested = error_message(value, "", "")
                if nested:
                    return nested
            elif isinstance(value, str) and value.strip():
                return value.strip()
    text = text.strip()
    if text:
        return text if len(text) <= ERROR_TEXT_LIMIT else text[:ERROR_TEXT_LIMIT] + "…"
    return fallback


def decode_body(content: bytes) -> tuple[Any, str]:
    """``(json_or_text_or_None, text)`` of an error body; never raises."""
    text = content.decode("utf-8", errors="replace")
    if not text.strip():
        return None, ""
    try:
        return json.loads(text), text
    except ValueError:
        return text, text


def response_error(
    status_code: int, headers: Mapping[str, str], content: bytes, reason: str = ""
) -> APIStatusError:
    """The :func:`studio.api.errors.status_error` subclass for one error response.

    ``headers`` must be case-insensitive (``httpx.Headers``, websockets ``Headers``).
    A 429's ``retry_after`` comes from its Retry-After header.
    """
    body, text = decode_body(content)
    message = error_message(body, text, reason or f"HTTP {status_code}")
    return status_error(status_code, message, body, parse_retry_after(headers))
