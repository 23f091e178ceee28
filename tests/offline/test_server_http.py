"""HTTP endpoints over loopback: the official SDK, then raw edge cases."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile as sf
from offline_helpers import API_VERSION, VOICE_ID, auth_headers, tts_body

from studio.api.models import ENCODINGS, SAMPLE_RATES
from studio.audio import codecs
from studio.offline import OfflineEngine
from studio.offline.params import INVALID_MODEL_MESSAGE
from studio.offline.synthesis import transcript_words
from studio.offline.voices import BUILTIN_VOICES

SENTENCE = "Offline voices still read every word."
WORDS = len(SENTENCE.split())

# --- official SDK ----------------------------------------------------------------


def test_sdk_status(sdk: Any) -> None:
    status = sdk.get_status()
    assert status.ok is True and status.version


def test_sdk_lists_every_voice_across_pages(sdk: Any) -> None:
    first = sdk.voices.list(limit=4)
    assert len(first.data) == 4
    every = list(sdk.voices.list(limit=4))  # the SDK pages with starting_after
    assert [v.id for v in every] == [v.id for v in BUILTIN_VOICES]
    assert len(every) >= 8
    assert {v.gender for v in every} == {"masculine", "feminine", "gender_neutral"}
    assert {v.language for v in every} >= {"en", "fr", "de", "es"}
    assert all(v.is_public is not False and v.is_owner is False for v in every)


def test_sdk_get_voice_with_preview(sdk: Any, http: httpx.Client) -> None:
    voice = sdk.voices.get(VOICE_ID, expand=["preview_file_url"])
    assert voice.name == "Avery" and voice.language == "en"
    assert voice.preview_file_url and voice.preview_file_url.startswith(http.base_url.scheme)
    assert sdk.voices.get(VOICE_ID).preview_file_url is None
    preview = http.get(voice.preview_file_url)
    assert preview.status_code == 200 and preview.headers["content-type"] == "audio/wav"
    audio, rate = sf.read(io.BytesIO(preview.content))
    assert rate == 22050 and 1.0 < len(audio) / rate < 10.0
    assert float(np.sqrt(np.mean(audio**2))) > 0.02
    # The preview needs the same key as the API.
    assert httpx.get(voice.preview_file_url, timeout=30).status_code == 401


def test_sdk_generate_wav(sdk: Any) -> None:
    response = sdk.tts.generate(
        model_id="sonic-3",
        transcript=SENTENCE,
        voice={"mode": "id", "id": VOICE_ID},
        language="en",
        output_format={"container": "wav", "encoding": "pcm_f32le", "sample_rate": 44100},
    )
    audio, rate = sf.read(io.BytesIO(response.read()), dtype="float32")
    assert rate == 44100
    assert 0.2 * WORDS < len(audio) / rate < 0.8 * WORDS
    assert float(np.sqrt(np.mean(audio**2))) > 0.03


def test_sdk_generate_accepts_a_bare_voice_id(sdk: Any) -> None:
    response = sdk.tts.generate(
        model_id="sonic-3", transcript="Hi.", voice=VOICE_ID,
        output_format={"container": "raw", "encoding": "pcm_s16le", "sample_rate": 8000},
    )
    assert len(codecs.decode(response.read(), "pcm_s16le")) > 0.2 * 8000


def test_sdk_generate_sse_with_timestamps(sdk: Any) -> None:
    events = list(sdk.tts.generate_sse(
        model_id="sonic-3", transcript=SENTENCE, voice={"mode": "id", "id": VOICE_ID},
        output_format={"container": "raw", "encoding": "pcm_f32le", "sample_rate": 24000},
        add_timestamps=True, add_phoneme_timestamps=True, context_id="sse-ctx",
    ))
    types = [e.type for e in events]
    assert types[-1] == "done" and types.count("done") == 1
    assert {"chunk", "timestamps", "phoneme_timestamps"} <= set(types)
    audio = codecs.decode(b"".join(e.audio for e in events if e.type == "chunk"), "pcm_f32le")
    duration = len(audio) / 24000
    words = [w for e in events if e.type == "timestamps" for w in e.word_timestamps.words]
    starts = [s for e in events if e.type == "timestamps" for s in e.word_timestamps.start]
    ends = [s for e in events if e.type == "timestamps" for s in e.word_timestamps.end]
    assert words == transcript_words(SENTENCE)
    assert starts == sorted(starts) and all(
        0 <= s < e <= duration + 1e-3 for s, e in zip(starts, ends, strict=True)
    )
    assert all(e.context_id == "sse-ctx" for e in events)
    assert all(e.step_time >= 0 for e in events if e.type == "chunk")


def test_sse_without_timestamp_flags_sends_only_chunks(http: httpx.Client) -> None:
    with http.stream("POST", "/tts/sse", json=tts_body("Just audio.")) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    events = [json.loads(line[6:]) for line in lines]
    assert {e["type"] for e in events} == {"chunk", "done"}
    chunk = events[0]
    assert chunk["status_code"] == 206 and chunk["done"] is False and "step_time" in chunk
    base64.b64decode(chunk["data"])


def test_sdk_errors_map_to_exceptions(sdk: Any) -> None:
    import cartesia

    with pytest.raises(cartesia.NotFoundError):
        sdk.voices.get("00000000-0000-0000-0000-000000000000")
    with pytest.raises(cartesia.BadRequestError):
        sdk.tts.generate(
            model_id="sonic-99",
            transcript="x",
            voice=VOICE_ID,
            output_format={"container": "wav", "encoding": "pcm_s16le", "sample_rate": 8000},
        )


# --- voices listing edge cases ------------------------------------------------------


def test_voice_search_and_filters(http: httpx.Client) -> None:
    by_name = http.get("/voices", params={"q": "CAMILLE"}).json()
    assert [v["name"] for v in by_name["data"]] == ["Camille"]
    by_desc = http.get("/voices", params={"q": "scottish"}).json()
    assert [v["name"] for v in by_desc["data"]] == ["Fiona"]
    by_id = http.get("/voices", params={"q": VOICE_ID[:8]}).json()
    assert [v["id"] for v in by_id["data"]] == [VOICE_ID]
    feminine = http.get("/voices", params={"gender": "feminine", "limit": 100}).json()
    assert feminine["data"] and all(v["gender"] == "feminine" for v in feminine["data"])
    assert http.get("/voices", params={"is_owner": "true"}).json()["data"] == []
    expanded = http.get("/voices", params={"expand[]": "preview_file_url", "limit": 2}).json()
    assert all(
        v["preview_file_url"].endswith(f"/voices/{v['id']}/preview") for v in expanded["data"]
    )


def test_voice_pagination_both_directions(http: httpx.Client) -> None:
    ids = [v.id for v in BUILTIN_VOICES]
    page = http.get("/voices", params={"limit": 5}).json()
    assert [v["id"] for v in page["data"]] == ids[:5]
    assert page["has_more"] is True and page["next_page"] == ids[4]
    page = http.get("/voices", params={"limit": 5, "starting_after": ids[4]}).json()
    assert [v["id"] for v in page["data"]] == ids[5:10]
    back = http.get("/voices", params={"limit": 3, "ending_before": ids[5]}).json()
    assert [v["id"] for v in back["data"]] == ids[2:5] and back["has_more"] is True
    last = http.get("/voices", params={"limit": 100, "starting_after": ids[-2]}).json()
    assert [v["id"] for v in last["data"]] == ids[-1:]
    assert last["has_more"] is False and last["next_page"] is None


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 101}, {"limit": "ten"}, {"gender": "robot"},
     {"starting_after": "nope"}, {"expand[]": "everything"}, {"is_owner": "maybe"}],
)
def test_voice_listing_rejects_bad_queries(http: httpx.Client, params: dict[str, Any]) -> None:
    response = http.get("/voices", params=params)
    assert response.status_code == 400
    assert response.json()["message"]


def test_unknown_voice_is_404_json(http: httpx.Client) -> None:
    response = http.get("/voices/not-a-voice")
    assert response.status_code == 404
    body = response.json()
    assert set(body) == {"error_code", "title", "message", "request_id", "doc_url"}
    assert "voice not found: not-a-voice" in body["message"]


# --- auth and version ----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/voices", f"/voices/{VOICE_ID}"])
def test_auth_is_required(engine: OfflineEngine, path: str) -> None:
    missing = httpx.get(
        engine.base_url + path, headers={"Cartesia-Version": API_VERSION}, timeout=30
    )
    wrong = httpx.get(engine.base_url + path, timeout=30,
                      headers={"Cartesia-Version": API_VERSION, "Authorization": "Bearer nope"})
    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.json()["error_code"] == "unauthorized"
    response = httpx.post(engine.base_url + "/tts/bytes", json=tts_body("x"), timeout=30,
                          headers={"Cartesia-Version": API_VERSION})
    assert response.status_code == 401


@pytest.mark.parametrize("version", [None, "yesterday", "2024-13-01", "2024-06-09", "2024-6-10"])
def test_version_header_is_validated(engine: OfflineEngine, version: str | None) -> None:
    headers = {"Authorization": f"Bearer {engine.api_key}"}
    if version is not None:
        headers["Cartesia-Version"] = version
    response = httpx.get(engine.base_url + "/voices", headers=headers, timeout=30)
    assert response.status_code == 400
    assert "Cartesia-Version" in response.json()["message"]


@pytest.mark.parametrize("version", ["2024-06-10", "2025-04-16", "2026-08-14"])
def test_known_versions_pass(engine: OfflineEngine, version: str) -> None:
    headers = {"Authorization": f"Bearer {engine.api_key}", "Cartesia-Version": version}
    assert httpx.get(engine.base_url + "/voices", headers=headers, timeout=30).status_code == 200


def test_status_needs_no_key_but_a_version(engine: OfflineEngine) -> None:
    ok = httpx.get(engine.base_url + "/", headers={"Cartesia-Version": API_VERSION}, timeout=30)
    assert ok.status_code == 200 and ok.json()["ok"] is True
    assert httpx.get(engine.base_url + "/", timeout=30).status_code == 400


def test_unknown_route_is_404_json(http: httpx.Client) -> None:
    response = http.get("/no/such/thing")
    assert response.status_code == 404 and response.json()["message"]


# --- /tts/bytes validation -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "status", "needle"),
    [
        ({"model_id": "sonic-99"}, 400, INVALID_MODEL_MESSAGE),
        ({"model_id": "sonic-3-20250101"}, 400, INVALID_MODEL_MESSAGE),
        ({"voice": {"mode": "id", "id": "missing"}}, 404, "voice not found: missing"),
        ({"voice": {"mode": "embedding", "embedding": [0.1]}}, 400, "voice.mode"),
        ({"language": "xx"}, 400, "unsupported language"),
        ({"language": "tl"}, 400, "not available in the offline engine"),
        ({"language": "en", "locale": "en-GB"}, 400, "either language or locale"),
        ({"transcript": "  "}, 400, "transcript"),
        ({"generation_config": {"speed": 3}}, 400, "generation_config.speed"),
        ({"generation_config": {"volume": 0.1}}, 400, "generation_config.volume"),
        ({"generation_config": {"emotion": "grumpy"}}, 400, "generation_config.emotion"),
        ({"speed": "warp"}, 400, "speed"),
        (
            {"output_format": {"container": "raw", "encoding": "pcm_s8", "sample_rate": 8000}},
            400,
            "encoding",
        ),
        (
            {"output_format": {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 1}},
            400,
            "sample_rate",
        ),
        ({"transcript": 'Bad <break time="forever"/> tag'}, 400, "break"),
    ],
)
def test_invalid_requests_are_rejected(
    http: httpx.Client, change: dict[str, Any], status: int, needle: str
) -> None:
    response = http.post("/tts/bytes", json={**tts_body("Valid words."), **change})
    assert response.status_code == status
    assert needle in response.json()["message"]


def test_invalid_json_is_400(http: httpx.Client) -> None:
    response = http.post(
        "/tts/bytes", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "model",
    [
        "sonic-3",
        "sonic-3.5",
        "sonic-latest",
        "sonic-2",
        "sonic-turbo",
        "sonic-3-2025-10-27",
        "sonic-3.5-2026-05-04",
        "sonic-2-2025-03-07",
    ],
)
def test_known_models_are_accepted(http: httpx.Client, model: str) -> None:
    assert http.post("/tts/bytes", json=tts_body("Hi.", model_id=model)).status_code == 200


def test_locale_and_cross_lingual_voice(http: httpx.Client) -> None:
    english = http.post(
        "/tts/bytes", json=tts_body("Bonjour tout le monde.", language=None, locale="en-US")
    )
    french = http.post("/tts/bytes", json=tts_body("Bonjour tout le monde.", language="fr"))
    assert english.status_code == french.status_code == 200
    assert english.content != french.content


# --- every container x encoding x sample rate ---------------------------------------------


def _expected_seconds(http: httpx.Client, transcript: str) -> float:
    audio = http.post("/tts/bytes", json=tts_body(transcript)).content
    return len(codecs.decode(audio, "pcm_s16le")) / 22050


@pytest.fixture(scope="module")
def reference_seconds(offline_engine: OfflineEngine) -> float:
    with httpx.Client(base_url=offline_engine.base_url, headers=auth_headers(offline_engine),
                      timeout=60) as client:
        return _expected_seconds(client, "Format check.")


@pytest.mark.parametrize("rate", SAMPLE_RATES)
@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("container", ["raw", "wav"])
def test_every_pcm_format_decodes(
    http: httpx.Client, reference_seconds: float, container: str, encoding: str, rate: int
) -> None:
    fmt = {"container": container, "encoding": encoding, "sample_rate": rate}
    response = http.post("/tts/bytes", json=tts_body("Format check.", output_format=fmt))
    assert response.status_code == 200
    expected_type = "audio/wav" if container == "wav" else "application/octet-stream"
    assert response.headers["content-type"] == expected_type
    if container == "wav":
        audio, got_rate = sf.read(io.BytesIO(response.content), dtype="float32")
        assert got_rate == rate
    else:
        audio = codecs.decode(response.content, encoding)
    assert abs(len(audio) / rate - reference_seconds) < 0.01
    assert float(np.sqrt(np.mean(audio**2))) > 0.02


@pytest.mark.parametrize("rate", SAMPLE_RATES)
@pytest.mark.parametrize("bit_rate", [32000, 128000, 192000])
def test_every_mp3_format_decodes(
    http: httpx.Client, reference_seconds: float, rate: int, bit_rate: int
) -> None:
    fmt = {"container": "mp3", "sample_rate": rate, "bit_rate": bit_rate}
    response = http.post("/tts/bytes", json=tts_body("Format check.", output_format=fmt))
    assert response.status_code == 200 and response.headers["content-type"] == "audio/mpeg"
    audio, got_rate = sf.read(io.BytesIO(response.content), dtype="float32")
    assert got_rate == rate
    # Whole MP3 frames, the encoder's delay and the placeholder Info frame:
    # up to four frames (1152 samples from 32 kHz up, 576 below) of padding.
    padding = 4 * (1152 if rate >= 32000 else 576) / rate
    assert reference_seconds - 0.01 < len(audio) / rate < reference_seconds + padding
    assert float(np.sqrt(np.mean(audio**2))) > 0.02


def test_bytes_streams_before_the_transcript_is_done(http: httpx.Client) -> None:
    long_text = " ".join(["This is one of many sentences in a long script."] * 30)
    body = tts_body(long_text, output_format={"container": "raw", "encoding": "pcm_s16le",
                                              "sample_rate": 22050})
    with http.stream("POST", "/tts/bytes", json=body) as response:
        assert response.headers.get("transfer-encoding") == "chunked"
        sizes = [len(part) for part in response.iter_raw()]
    assert len(sizes) > 10  # delivered in many pieces, not one finished body
    assert sum(sizes) / 2 / 22050 > 30 * 2.0


# --- delivery over HTTP ---------------------------------------------------------------------


def _pcm(http: httpx.Client, transcript: str, **change: Any) -> np.ndarray:
    response = http.post("/tts/bytes", json=tts_body(transcript, **change))
    assert response.status_code == 200, response.text
    return codecs.decode(response.content, "pcm_s16le")


def test_generation_config_changes_the_audio(http: httpx.Client) -> None:
    text = "The delivery of this line depends on its settings."
    slow = _pcm(http, text, generation_config={"speed": 0.6})
    fast = _pcm(http, text, generation_config={"speed": 1.5})
    assert len(fast) < 0.7 * len(slow)
    quiet = _pcm(http, text, generation_config={"volume": 0.5})
    loud = _pcm(http, text, generation_config={"volume": 2.0})
    assert np.sqrt(np.mean(loud**2)) > 2.5 * np.sqrt(np.mean(quiet**2))
    sad = _pcm(http, text, generation_config={"emotion": "sad"})
    assert len(sad) > len(_pcm(http, text))
    legacy_slow = _pcm(http, text, speed="slow")
    assert len(legacy_slow) > len(_pcm(http, text))


def test_break_tag_over_http(http: httpx.Client) -> None:
    plain = _pcm(http, "Before. After.")
    paused = _pcm(http, 'Before. <break time="700ms"/> After.')
    assert abs((len(paused) - len(plain)) / 22050 - 0.7) < 0.1


def test_concurrent_requests_each_get_their_own_audio(engine: OfflineEngine) -> None:
    import concurrent.futures

    texts = [
        "The first request talks about apples and pears.",
        "A second, rather different request, describes a long journey by train across the "
        "mountains.",
    ]

    def fetch(text: str) -> tuple[int, list[str]]:
        with httpx.Client(
            base_url=engine.base_url, headers=auth_headers(engine), timeout=60
        ) as client:
            body = tts_body(text, output_format={"container": "raw", "encoding": "pcm_s16le",
                                                 "sample_rate": 22050})
            lines = [ln for ln in client.post("/tts/sse", json={**body, "add_timestamps": True})
                     .text.splitlines() if ln.startswith("data: ")]
        events = [json.loads(ln[6:]) for ln in lines]
        audio = b"".join(base64.b64decode(e["data"]) for e in events if e["type"] == "chunk")
        words = [
            w for e in events if e["type"] == "timestamps" for w in e["word_timestamps"]["words"]
        ]
        return len(audio), words

    solo = [fetch(t) for t in texts]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        together = list(pool.map(fetch, texts * 2))
    for i, (frames, words) in enumerate(together):
        want_frames, want_words = solo[i % 2]
        assert words == want_words == transcript_words(texts[i % 2])
        assert abs(frames - want_frames) < 0.02 * 22050 * 2


# --- fault injection and stats --------------------------------------------------------------


def test_injected_faults_answer_in_order_then_recover(private_engine: OfflineEngine) -> None:
    headers = auth_headers(private_engine)
    before = private_engine.stats.requests("/tts/bytes")
    private_engine.inject_faults("/tts/bytes", [503, 429], retry_after=2)
    with httpx.Client(base_url=private_engine.base_url, headers=headers, timeout=60) as client:
        first = client.post("/tts/bytes", json=tts_body("Retry me."))
        second = client.post("/tts/bytes", json=tts_body("Retry me."))
        third = client.post("/tts/bytes", json=tts_body("Retry me."))
    assert [first.status_code, second.status_code, third.status_code] == [503, 429, 200]
    assert first.headers["Retry-After"] == "2" and first.json()["message"]
    assert private_engine.stats.requests("/tts/bytes") == before + 3


def test_sdk_retries_through_injected_faults(private_engine: OfflineEngine) -> None:
    from cartesia import Cartesia

    before = private_engine.stats.requests("/voices/{id}")
    private_engine.inject_faults("/voices/{id}", [500, 502], retry_after=0)
    client = Cartesia(
        api_key=private_engine.api_key, base_url=private_engine.base_url, max_retries=2
    )
    try:
        assert client.voices.get(VOICE_ID).id == VOICE_ID
    finally:
        client.close()
    assert private_engine.stats.requests("/voices/{id}") == before + 3


def test_fault_statuses_are_validated(private_engine: OfflineEngine) -> None:
    with pytest.raises(ValueError):
        private_engine.inject_faults("/tts/bytes", [200])


@pytest.mark.parametrize("path", ["/tts/bytes", "/tts/sse"])
def test_client_leaving_mid_stream_is_not_an_error(
    http: httpx.Client, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = tts_body("A long narration that the listener abandons early. " * 200)
    with caplog.at_level("DEBUG"):
        with http.stream("POST", path, json=body) as response:
            for i, _ in enumerate(response.iter_raw()):
                if i == 2:
                    break
        assert http.post(path, json=tts_body("Next request.")).status_code == 200
    assert not [r for r in caplog.records
                if r.levelno >= 40 and r.name.startswith(("studio.offline", "aiohttp"))]
