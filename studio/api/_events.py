"""Parsing one streamed message (WebSocket ``WebSocketResponse`` or SSE
``StreamingResponse`` of the seed) into a typed :data:`StreamEvent`."""

from __future__ import annotations

import binascii
import logging
from collections.abc import Mapping
from typing import Any

from studio.api.errors import APIStatusError, ResponseFormatError, status_error
from studio.api.models import (
    ChunkEvent,
    DoneEvent,
    ErrorEvent,
    FlushDoneEvent,
    PhonemeTimestampsEvent,
    StreamEvent,
    TimestampsEvent,
    phoneme_timestamps_from_json,
    word_timestamps_from_json,
)
from studio.timestamps import PhonemeTimestamps, WordTimestamps

log = logging.getLogger(__name__)


def _flush_id(body: Mapping[str, Any]) -> int | None:
    value = body.get("flush_id")
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ResponseFormatError(f"flush_id {value!r} is not an integer") from None


def _context_id(body: Mapping[str, Any]) -> str | None:
    value = body.get("context_id")
    return None if value is None else str(value)


def parse_stream_event(body: Any, *, default_type: str | None = None) -> StreamEvent | None:
    """The typed event for one decoded JSON message.

    ``chunk`` data is base64-decoded into :attr:`ChunkEvent.audio` (bytes in the
    request's output encoding). Timestamps events whose payload is null (the
    seed marks it nullable) carry empty timestamps.

    Args:
        body: the decoded JSON object.
        default_type: the type to assume when ``body`` has none (the SSE
            ``event:`` field).

    Returns:
        The event, or None for a ``type`` this client does not know (logged and
        skipped, so a newer server does not break an older client).

    Raises:
        ResponseFormatError: not an object, no type, or a field of the wrong shape.
    """
    if not isinstance(body, Mapping):
        raise ResponseFormatError(f"stream message is {type(body).__name__}, not an object")
    kind = body.get("type", default_type)
    context_id = _context_id(body)
    if kind == "chunk":
        data = body.get("data")
        if data is None:
            audio = b""
        elif isinstance(data, str):
            try:
                audio = binascii.a2b_base64(data)
            except binascii.Error as exc:
                raise ResponseFormatError(f"chunk data is not base64: {exc}") from None
        else:
            raise ResponseFormatError(f"chunk data has type {type(data).__name__}")
        step_time = body.get("step_time") or 0.0
        if not isinstance(step_time, (int, float)):
            raise ResponseFormatError(f"step_time has type {type(step_time).__name__}")
        return ChunkEvent(context_id, audio, float(step_time), _flush_id(body))
    if kind == "timestamps":
        words = body.get("word_timestamps")
        return TimestampsEvent(
            context_id,
            WordTimestamps() if words is None else word_timestamps_from_json(words),
            _flush_id(body),
        )
    if kind == "phoneme_timestamps":
        phonemes = body.get("phoneme_timestamps")
        return PhonemeTimestampsEvent(
            context_id,
            PhonemeTimestamps() if phonemes is None else phoneme_timestamps_from_json(phonemes),
            _flush_id(body),
        )
    if kind == "flush_done":
        flush_id = _flush_id(body)
        if flush_id is None:
            raise ResponseFormatError("flush_done without flush_id")
        return FlushDoneEvent(context_id, flush_id)
    if kind == "done":
        return DoneEvent(context_id)
    if kind == "error":
        status = body.get("status_code", 500)
        if not isinstance(status, int) or isinstance(status, bool):
            raise ResponseFormatError(f"error status_code {status!r} is not an integer")
        message = body.get("error") or body.get("message") or "unknown error"
        return ErrorEvent(context_id, str(message), status)
    if kind is None:
        raise ResponseFormatError("stream message has no type")
    log.debug("skipping stream message of unknown type %r", kind)
    return None


def error_event_exception(event: ErrorEvent) -> APIStatusError:
    """The exception an :class:`ErrorEvent` raises in an iterator, chosen by
    :func:`studio.api.errors.status_error` from its ``status_code`` (a 2xx/3xx
    code in an error event is treated as 500: the server failed the stream)."""
    status = event.status_code if event.status_code >= 400 else 500
    return status_error(status, event.error, {"context_id": event.context_id, "error": event.error})
