"""Parsing streamed messages (seed ``WebSocketResponse`` / ``StreamingResponse``)
and error bodies into typed objects."""

from __future__ import annotations

import base64

import httpx
import numpy as np
import pytest

from studio.api._events import error_event_exception, parse_stream_event
from studio.api._status import error_message, response_error
from studio.api.errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    RateLimitError,
    ResponseFormatError,
    ServerError,
)
from studio.api.models import (
    ChunkEvent,
    DoneEvent,
    ErrorEvent,
    FlushDoneEvent,
    PhonemeTimestampsEvent,
    TimestampsEvent,
)

CID = "50dc3b5e-5841-4aa1-9f94-60cfb9aead79"


def test_chunk_is_base64_decoded() -> None:
    pcm = np.linspace(-1, 1, 64, dtype="<f4").tobytes()
    body = {
        "type": "chunk",
        "data": base64.b64encode(pcm).decode(),
        "done": False,
        "status_code": 206,
        "step_time": 123,
        "context_id": CID,
        "flush_id": 2,
    }
    event = parse_stream_event(body)
    assert event == ChunkEvent(CID, pcm, 123.0, 2)


def test_seed_examples_parse() -> None:
    timestamps = parse_stream_event(
        {
            "type": "timestamps",
            "done": False,
            "status_code": 206,
            "context_id": CID,
            "word_timestamps": {"words": ["Hello", "world"], "start": [0, 0.5], "end": [0.4, 0.9]},
        }
    )
    assert isinstance(timestamps, TimestampsEvent)
    assert timestamps.word_timestamps.words == ("Hello", "world")
    assert timestamps.word_timestamps.end == (0.4, 0.9)

    phonemes = parse_stream_event(
        {
            "type": "phoneme_timestamps",
            "context_id": CID,
            "phoneme_timestamps": {
                "phonemes": ["h", "ə"],
                "start": [0.093, 0.174],
                "end": [0.174, 0.255],
            },
        }
    )
    assert isinstance(phonemes, PhonemeTimestampsEvent)
    assert phonemes.phoneme_timestamps.phonemes == ("h", "ə")

    flush = parse_stream_event(
        {"type": "flush_done", "flush_done": True, "flush_id": 1, "context_id": CID}
    )
    assert flush == FlushDoneEvent(CID, 1)
    assert parse_stream_event({"type": "done", "done": True, "context_id": CID}) == DoneEvent(CID)
    error = parse_stream_event(
        {"type": "error", "done": True, "error": "Invalid model", "status_code": 400}
    )
    assert error == ErrorEvent(None, "Invalid model", 400)


def test_null_timestamps_payload_gives_empty_timestamps() -> None:
    event = parse_stream_event({"type": "timestamps", "word_timestamps": None})
    assert isinstance(event, TimestampsEvent)
    assert event.word_timestamps.words == ()


def test_sse_event_name_is_the_fallback_type() -> None:
    assert parse_stream_event({"context_id": "x"}, default_type="done") == DoneEvent("x")


def test_unknown_type_is_skipped() -> None:
    assert parse_stream_event({"type": "future_thing", "context_id": CID}) is None


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"data": "AAAA"},
        {"type": "chunk", "data": "not base64!"},
        {"type": "chunk", "data": 12},
        {"type": "chunk", "data": "", "step_time": "slow"},
        {"type": "flush_done"},
        {"type": "flush_done", "flush_id": "first"},
        {"type": "timestamps", "word_timestamps": {"words": ["a"], "start": [], "end": []}},
        {"type": "error", "error": "x", "status_code": "400"},
    ],
)
def test_malformed_messages_raise(body: object) -> None:
    with pytest.raises(ResponseFormatError):
        parse_stream_event(body)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (404, NotFoundError),
        (401, AuthenticationError),
        (429, RateLimitError),
        (503, ServerError),
        (206, ServerError),
    ],
)
def test_error_event_exception_by_status(status: int, cls: type[APIStatusError]) -> None:
    exc = error_event_exception(ErrorEvent(CID, "nope", status))
    assert type(exc) is cls
    assert exc.message == "nope"


@pytest.mark.parametrize(
    ("body", "text", "expected"),
    [
        ({"message": "bad voice", "error": "other"}, "", "bad voice"),
        ({"error": "Invalid model"}, "", "Invalid model"),
        ({"title": "Not Found"}, "", "Not Found"),
        ({"error": {"message": "nested"}}, "", "nested"),
        ({"unrelated": 1}, '{"unrelated": 1}', '{"unrelated": 1}'),
        ("plain text", "plain text", "plain text"),
        (None, "", "Bad Gateway"),
    ],
)
def test_error_message(body: object, text: str, expected: str) -> None:
    assert error_message(body, text, "Bad Gateway") == expected


def test_long_text_bodies_are_cut() -> None:
    assert len(error_message("x" * 5000, "x" * 5000, "")) <= 501


def test_response_error_carries_body_and_retry_after() -> None:
    exc = response_error(
        429, httpx.Headers({"Retry-After": "7"}), b'{"message": "slow down"}', "Too Many"
    )
    assert isinstance(exc, RateLimitError)
    assert exc.retry_after == 7.0
    assert exc.message == "slow down"
    assert exc.body == {"message": "slow down"}
    html = response_error(502, httpx.Headers(), b"<html>bad gateway</html>", "Bad Gateway")
    assert isinstance(html, ServerError)
    assert html.message == "<html>bad gateway</html>"
