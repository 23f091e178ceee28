"""The SSE decoder against the WHATWG event-stream rules, whatever the chunking."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from studio.api.sse import ServerSentEvent, SSEDecoder


def decode_all(chunks: list[bytes]) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    return events + decoder.finish()


def test_one_event_with_name_and_id() -> None:
    events = decode_all([b'event: chunk\nid: 7\ndata: {"a": 1}\n\n'])
    assert events == [ServerSentEvent(data='{"a": 1}', event="chunk", id="7")]


def test_multiline_data_is_joined_with_lf() -> None:
    assert decode_all([b"data: one\ndata:two\ndata:  three\n\n"]) == [
        ServerSentEvent(data="one\ntwo\n three")
    ]


def test_crlf_and_cr_line_endings() -> None:
    crlf = decode_all([b"data: a\r\n\r\ndata: b\r\n\r\n"])
    cr = decode_all([b"data: a\r\rdata: b\r\r"])
    assert [e.data for e in crlf] == ["a", "b"]
    assert [e.data for e in cr] == ["a", "b"]


def test_crlf_split_between_chunks_is_one_line_end() -> None:
    # A CR at the end of a chunk must not be taken as a line end before we know
    # whether LF follows, or the LF would end the event early (an extra blank line).
    events = decode_all([b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"])
    assert events == [ServerSentEvent(data="a\nb")]


def test_comments_unknown_fields_and_retry() -> None:
    events = decode_all([b": keepalive\nfoo: bar\nretry: 1500\nretry: x\ndata\n\n"])
    assert events == [ServerSentEvent(data="", retry=1500)]


def test_event_without_data_is_not_dispatched() -> None:
    assert decode_all([b"event: ping\n\n", b"data: x\n\n"]) == [ServerSentEvent(data="x")]


def test_event_name_resets_after_dispatch_but_id_persists() -> None:
    events = decode_all([b"event: a\nid: 1\ndata: x\n\ndata: y\n\n"])
    assert events == [ServerSentEvent("x", "a", "1"), ServerSentEvent("y", None, "1")]


def test_leading_bom_is_dropped() -> None:
    assert decode_all([b"\xef\xbb\xbfdata: x\n\n"]) == [ServerSentEvent(data="x")]


def test_unterminated_event_at_end_is_discarded() -> None:
    assert decode_all([b"data: complete\n\ndata: partial\n"]) == [ServerSentEvent("complete")]


def test_utf8_split_inside_a_character() -> None:
    encoded = "data: héllo ə\n\n".encode()
    cut = encoded.index("ə".encode()) + 1
    assert decode_all([encoded[:cut], encoded[cut:]]) == [ServerSentEvent("héllo ə")]


STREAM = (
    b"\xef\xbb\xbf: comment\r\n"
    b'event: chunk\r\ndata: {"type":"chunk","data":"AAAA"}\r\n\r\n'
    b"data: line1\rdata: line2\r\r"
    b'id: 3\ndata: {"type":"done"}\n\n'
    b"data: dangling"
)


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_any_chunking_gives_the_same_events(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    chunks = [STREAM[a:b] for a, b in zip([0, *points], [*points, len(STREAM)], strict=True)]
    assert decode_all(chunks) == decode_all([STREAM])
    assert [e.data for e in decode_all([STREAM])] == [
        '{"type":"chunk","data":"AAAA"}',
        "line1\nline2",
        '{"type":"done"}',
    ]
