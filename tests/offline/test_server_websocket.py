"""The TTS WebSocket over loopback: the SDK's contexts, then raw protocol cases."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from offline_helpers import API_VERSION, RECV_TIMEOUT, VOICE_ID, SocketClient, auth_headers
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from studio.audio import codecs
from studio.offline import OfflineEngine
from studio.offline.params import INVALID_MODEL_MESSAGE
from studio.offline.synthesis import transcript_words

OpenSocket = Callable[..., SocketClient]
RAW = {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}


def request(context_id: str | None, transcript: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model_id": "sonic-3", "transcript": transcript,
        "voice": {"mode": "id", "id": VOICE_ID}, "language": "en",
        "output_format": RAW, "context_id": context_id,
    }
    body.update(extra)
    return body


def audio_of(events: list[dict[str, Any]]) -> np.ndarray:
    data = b"".join(base64.b64decode(e["data"]) for e in events if e["type"] == "chunk")
    return codecs.decode(data, "pcm_s16le")


def words_of(events: list[dict[str, Any]]) -> list[tuple[str, float, float]]:
    return [w for e in events if e["type"] == "timestamps"
            for w in zip(e["word_timestamps"]["words"], e["word_timestamps"]["start"],
                         e["word_timestamps"]["end"], strict=True)]


# --- official SDK ---------------------------------------------------------------------


def test_sdk_context_push_and_finish(sdk: Any) -> None:
    with sdk.tts.websocket_connect() as conn:
        ctx = conn.context(model_id="sonic-3", voice={"mode": "id", "id": VOICE_ID},
                           output_format=RAW, language="en", add_timestamps=True)
        ctx.push("Hello from the offline engine. ")
        ctx.push("It speaks every ")
        ctx.push("word you send.")
        ctx.no_more_inputs()
        events = list(ctx.receive())
    assert events[-1].type == "done"
    chunks = [e for e in events if e.type == "chunk"]
    assert chunks and all(e.context_id == ctx._context_id for e in events)
    audio = codecs.decode(b"".join(e.audio for e in chunks), "pcm_s16le")
    words = [w for e in events if e.type == "timestamps" for w in e.word_timestamps.words]
    assert words == transcript_words(
        "Hello from the offline engine. It speaks every word you send."
    )
    assert 0.2 * len(words) < len(audio) / 16000 < 0.8 * len(words)


def test_sdk_two_contexts_on_one_connection(sdk: Any) -> None:
    with sdk.tts.websocket_connect() as conn:
        first = conn.context(
            model_id="sonic-3", voice={"mode": "id", "id": VOICE_ID}, output_format=RAW
        )
        second = conn.context(
            model_id="sonic-3", voice={"mode": "id", "id": VOICE_ID}, output_format=RAW
        )
        first.push("The first context says this.", continue_=False)
        second.push("And the second context says something much longer than that.", continue_=False)
        a = list(first.receive())
        b = list(second.receive())
    assert a[-1].type == "done" and b[-1].type == "done"
    len_a = sum(len(e.audio) for e in a if e.type == "chunk")
    len_b = sum(len(e.audio) for e in b if e.type == "chunk")
    assert len_b > len_a > 0


# --- raw protocol ---------------------------------------------------------------------------


def test_event_shapes_match_the_seed(open_socket: OpenSocket) -> None:
    ws = open_socket()
    ws.send(request("shape", "Hello world.", add_timestamps=True, add_phoneme_timestamps=True))
    events = ws.until_done("shape")["shape"]
    kinds = {e["type"] for e in events}
    assert kinds == {"chunk", "timestamps", "phoneme_timestamps", "done"}
    for event in events:
        assert event["context_id"] == "shape" and isinstance(event["status_code"], int)
        if event["type"] == "chunk":
            assert event["status_code"] == 206 and event["done"] is False
            assert isinstance(event["step_time"], (int, float)) and event["flush_id"] == 1
        elif event["type"] == "timestamps":
            assert set(event["word_timestamps"]) == {"words", "start", "end"}
        elif event["type"] == "phoneme_timestamps":
            ph = event["phoneme_timestamps"]
            assert len(ph["phonemes"]) == len(ph["start"]) == len(ph["end"])
    assert events[-1] == {"type": "done", "done": True, "status_code": 206, "context_id": "shape"}
    phonemes = [
        p
        for e in events
        if e["type"] == "phoneme_timestamps"
        for p in e["phoneme_timestamps"]["phonemes"]
    ]
    assert phonemes[:4] == ["h", "ə", "l", "oʊ"]


def test_invalid_model_is_an_error_event_and_the_connection_survives(
    open_socket: OpenSocket,
) -> None:
    ws = open_socket()
    ws.send(request("bad", "Hello.", model_id="sonic-nope"))
    error = ws.recv()
    assert error["type"] == "error" and error["context_id"] == "bad"
    assert error["status_code"] == 400 and error["done"] is True
    assert error["error"] == INVALID_MODEL_MESSAGE
    ws.send(request("good", "Still here."))
    events = ws.until_done("good")["good"]
    assert events[-1]["type"] == "done" and len(audio_of(events)) > 0


@pytest.mark.parametrize(
    ("change", "status"),
    [({"voice": {"mode": "id", "id": "nope"}}, 404),
     ({"output_format": {"container": "wav", "encoding": "pcm_s16le", "sample_rate": 16000}}, 400),
     ({"generation_config": {"speed": 9}}, 400),
     ({"max_buffer_delay_ms": 6000}, 400),
     ({"continue": "yes"}, 400)],
)
def test_invalid_requests_error_per_context(
    open_socket: OpenSocket, change: dict[str, Any], status: int
) -> None:
    ws = open_socket()
    ws.send({**request("ctx", "Words."), **change})
    error = ws.recv()
    assert (error["type"], error["status_code"], error["done"]) == ("error", status, True)
    assert error["message"]


def test_malformed_messages_get_errors_without_closing(open_socket: OpenSocket) -> None:
    ws = open_socket()
    ws.conn.send("{not json")
    assert ws.recv()["status_code"] == 400
    ws.conn.send(b"\x00\x01")
    assert ws.recv()["status_code"] == 400
    ws.send(request("after", "Fine."))
    assert ws.until_done("after")["after"][-1]["type"] == "done"


def test_concurrent_contexts_interleave_and_keep_their_own_audio(open_socket: OpenSocket) -> None:
    texts = {"a": "Context A talks about the weather today. It is sunny. Tomorrow it rains.",
             "b": "Context B reads a recipe. Mix flour and water. Bake for an hour."}
    solo = {}
    ws = open_socket()
    for ctx, text in texts.items():
        ws.send(request(ctx, text, add_timestamps=True))
        solo[ctx] = ws.until_done(ctx)[ctx]
    ws.send(request("a2", texts["a"], add_timestamps=True))
    ws.send(request("b2", texts["b"], add_timestamps=True))
    order: list[str] = []
    both: dict[str, list[dict[str, Any]]] = {"a2": [], "b2": []}
    while any(not evs or evs[-1]["type"] != "done" for evs in both.values()):
        event = ws.recv()
        both[event["context_id"]].append(event)
        order.append(event["context_id"])
    switches = sum(1 for x, y in itertools.pairwise(order) if x != y)
    assert switches >= 2  # neither context waited for the other to finish
    for ctx, solo_ctx in (("a2", "a"), ("b2", "b")):
        assert [w for w, _, _ in words_of(both[ctx])] == transcript_words(texts[solo_ctx])
        assert abs(len(audio_of(both[ctx])) - len(audio_of(solo[solo_ctx]))) < 0.05 * 16000


def test_continue_across_inputs_with_timestamps_on_one_timeline(open_socket: OpenSocket) -> None:
    ws = open_socket()
    parts = [
        "The first input ends here. ",
        "The second input ",
        "finishes the thought. ",
        "Done now.",
    ]
    for part in parts:
        ws.send(request("cont", part, add_timestamps=True, **{"continue": True}))
    ws.send(request("cont", "", **{"continue": False}))
    events = ws.until_done("cont")["cont"]
    words = words_of(events)
    assert [w for w, _, _ in words] == transcript_words("".join(parts))
    starts = [s for _, s, _ in words]
    assert starts == sorted(starts)
    duration = len(audio_of(events)) / 16000
    assert words[-1][2] <= duration + 1e-3
    assert words[-1][2] > 0.6 * duration  # later inputs continue the timeline, not restart it


def test_flush_sends_flush_done_with_counting_ids(open_socket: OpenSocket) -> None:
    ws = open_socket()
    ws.send(request("fl", "First part", add_timestamps=True, **{"continue": True}))
    ws.send(request("fl", "", flush=True, **{"continue": True}))
    ws.send(request("fl", "Second part", add_timestamps=True, **{"continue": True}))
    ws.send(request("fl", "", flush=True, **{"continue": True}))
    ws.send(request("fl", "Third part.", add_timestamps=True, **{"continue": False}))
    events = ws.until_done("fl")["fl"]
    flushes = [e for e in events if e["type"] == "flush_done"]
    assert [f["flush_id"] for f in flushes] == [1, 2]
    assert all(f["flush_done"] is True and f["done"] is False for f in flushes)
    boundary = [i for i, e in enumerate(events) if e["type"] == "flush_done"]
    segments = [events[:boundary[0]], events[boundary[0] + 1:boundary[1]], events[boundary[1] + 1:]]
    for flush_id, segment in enumerate(segments, start=1):
        chunks = [e for e in segment if e["type"] in ("chunk", "timestamps")]
        assert chunks, f"no audio for flush {flush_id}"
        assert {e["flush_id"] for e in chunks} == {flush_id}
    assert [w for w, _, _ in words_of(segments[0])] == ["First", "part"]
    assert [w for w, _, _ in words_of(segments[1])] == ["Second", "part"]


def test_buffer_delay_renders_unfinished_text(open_socket: OpenSocket) -> None:
    ws = open_socket()
    ws.send(request("late", "no sentence end here", max_buffer_delay_ms=200, **{"continue": True}))
    first = ws.recv()  # arrives once the delay has elapsed, without any further input
    assert first["type"] == "chunk" and first["context_id"] == "late"
    ws.send(request("late", "", **{"continue": False}))
    assert ws.until_done("late")["late"][-1]["type"] == "done"


def test_zero_buffer_delay_renders_each_input(open_socket: OpenSocket) -> None:
    ws = open_socket()
    ws.send(request("now", "partial words", max_buffer_delay_ms=0, **{"continue": True}))
    first = ws.recv()
    assert first["type"] == "chunk"
    ws.send(request("now", "", **{"continue": False}))
    ws.until_done("now")


def test_cancel_stops_a_context_and_others_continue(open_socket: OpenSocket) -> None:
    ws = open_socket()
    long_text = " ".join(["This sentence is part of a very long narration."] * 40)
    ws.send(request("long", long_text))
    first = ws.recv()
    assert first["context_id"] == "long"
    ws.send({"context_id": "long", "cancel": True})
    ws.send(request("other", "Another context still works."))
    seen_long_after_other = 0
    other: list[dict[str, Any]] = []
    long_events = 1
    while not other or other[-1]["type"] != "done":
        event = ws.recv()
        if event["context_id"] == "long":
            long_events += 1
            seen_long_after_other += bool(other)
            assert event["type"] != "done"
        else:
            other.append(event)
    assert seen_long_after_other == 0
    full_chunks = len(long_text.split(".")) * 10  # ~100 ms blocks, seconds per sentence
    assert long_events < full_chunks / 4
    assert len(audio_of(other)) > 0


def test_context_without_id_is_served(open_socket: OpenSocket) -> None:
    ws = open_socket()
    ws.send(request(None, "No context id at all."))
    events = []
    while not events or events[-1]["type"] != "done":
        events.append(ws.recv())
    assert all(e["context_id"] is None for e in events)


def test_tags_and_delivery_on_the_socket(open_socket: OpenSocket) -> None:
    ws = open_socket()
    ws.send(request("plain", "Short. Pause."))
    ws.send(request("tagged", 'Short. <break time="1s"/> Pause.', add_timestamps=True))
    events = ws.until_done("plain", "tagged")
    extra = (len(audio_of(events["tagged"])) - len(audio_of(events["plain"]))) / 16000
    assert abs(extra - 1.0) < 0.15
    assert [w for w, _, _ in words_of(events["tagged"])] == ["Short", "Pause"]


# --- handshake: auth and version ----------------------------------------------------------


def _handshake_status(url: str, headers: dict[str, str] | None = None) -> int:
    try:
        with connect(url, additional_headers=headers or {}, open_timeout=RECV_TIMEOUT):
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


def test_query_parameters_authenticate(engine: OfflineEngine, open_socket: OpenSocket) -> None:
    for key in ("api_key", "access_token"):
        ws = open_socket(query=f"{key}={engine.api_key}&cartesia_version={API_VERSION}", headers={})
        ws.send(request(key, "Hi."))
        assert ws.until_done(key)[key][-1]["type"] == "done"


@pytest.mark.parametrize(
    ("query", "with_headers", "status"),
    [("", False, 401), ("api_key=wrong&cartesia_version=2025-04-16", False, 401),
     ("api_key={key}", False, 400), ("api_key={key}&cartesia_version=2020-01-01", False, 400)],
)
def test_handshake_refusals(
    engine: OfflineEngine, query: str, with_headers: bool, status: int
) -> None:
    url = f"{engine.websocket_base_url}/tts/websocket?{query.format(key=engine.api_key)}"
    assert _handshake_status(url, auth_headers(engine) if with_headers else None) == status


def test_websocket_stats_count_generation_messages(
    private_engine: OfflineEngine, open_socket: OpenSocket
) -> None:
    before = private_engine.stats.requests("/tts/websocket")
    handshakes = private_engine.stats.requests("/tts/websocket:handshake")
    ws = open_socket(private_engine)
    ws.send(request("s", "One. ", **{"continue": True}))
    ws.send(request("s", "Two.", **{"continue": False}))
    ws.until_done("s")
    assert private_engine.stats.requests("/tts/websocket") == before + 2
    assert private_engine.stats.requests("/tts/websocket:handshake") == handshakes + 1


def test_handshake_faults(private_engine: OfflineEngine, open_socket: OpenSocket) -> None:
    private_engine.inject_faults("/tts/websocket", [503, 429], retry_after=1)
    url = f"{private_engine.websocket_base_url}/tts/websocket"
    assert _handshake_status(url, auth_headers(private_engine)) == 503
    assert _handshake_status(url, auth_headers(private_engine)) == 429
    ws = open_socket(private_engine)
    ws.send(request("ok", "Works again."))
    assert ws.until_done("ok")["ok"][-1]["type"] == "done"


def test_drop_websockets_after_aborts_without_close_frame(
    private_engine: OfflineEngine, open_socket: OpenSocket
) -> None:
    ws = open_socket(private_engine)
    victim_ready = open_socket(private_engine)
    private_engine.drop_websockets_after(3)
    ws.send(request("drop", " ".join(["A long text to keep the server talking."] * 10)))
    received = []
    with pytest.raises(ConnectionClosed) as info:
        while True:
            received.append(ws.recv())
    assert len(received) == 3
    assert info.value.rcvd is None  # no close frame: the transport was aborted
    victim_ready.send(request("v", "Hi."))
    with pytest.raises(ConnectionClosed):
        while True:
            victim_ready.recv()
    # A connection opened afterwards is unaffected.
    fresh = open_socket(private_engine)
    fresh.send(request("fresh", "Still serving."))
    assert fresh.until_done("fresh")["fresh"][-1]["type"] == "done"


def test_drop_can_target_the_next_connection(
    private_engine: OfflineEngine, open_socket: OpenSocket
) -> None:
    private_engine.drop_websockets_after(1, include_future=True)
    ws = open_socket(private_engine)
    ws.send(request("next", "Hello there, this will be cut short."))
    assert ws.recv()["context_id"] == "next"
    with pytest.raises(ConnectionClosed):
        ws.recv()
