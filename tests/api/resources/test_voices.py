"""``client.voices``: ``list`` and ``get``, and voice management with ``update``,
``delete``, ``localize`` and ``clone``. The exact wire shape (methods, paths, JSON and
multipart field names) against ``httpx.MockTransport``; argument checks that send
nothing; then the same calls against the offline engine over loopback."""

from __future__ import annotations

import io
import json
from email import policy
from email.parser import BytesParser
from typing import Any

import httpx
import numpy as np
import pytest
import scripted_transport
import soundfile as sf

from studio.api import (
    LOCALIZE_DIALECTS,
    LOCALIZE_LANGUAGES,
    SPEAKER_GENDERS,
    AuthenticationError,
    BadRequestError,
    CartesiaClient,
    NotFoundError,
    ResponseFormatError,
    RetryPolicy,
)
from studio.offline import OfflineEngine, tags
from studio.offline.delivery import Delivery
from studio.offline.formats import AudioFormat
from studio.offline.synthesis import Rendered, Renderer, Voicing
from studio.offline.voices import BUILTIN_VOICES

KEY = "sk_test_not_a_real_key"
FAST = RetryPolicy(max_retries=0)
VOICE = {"id": "v-1", "is_owner": True, "is_public": False, "name": "Mine",
         "description": "d", "language": "en", "created_at": "2025-01-01T00:00:00Z"}
METADATA = {"id": "v-2", "user_id": "u-1", "is_public": False, "name": "New",
            "description": "", "language": "es", "created_at": "2025-01-01T00:00:00Z"}


class Recorder:
    def __init__(self, status: int = 200, body: Any = None) -> None:
        self.status, self.body = status, body
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if self.body is None:
            return httpx.Response(self.status)
        return httpx.Response(self.status, json=self.body)


def client_for(recorder: Recorder) -> CartesiaClient:
    return CartesiaClient(KEY, base_url="https://api.example.test",
                          transport=httpx.MockTransport(recorder), retry_policy=FAST)


def multipart(request: httpx.Request) -> dict[str, tuple[bytes, str | None, str | None]]:
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + request.content)
    return {str(p.get_param("name", header="content-disposition")):
            (p.get_payload(decode=True), p.get_filename(), p.get("content-type"))
            for p in message.iter_parts()}


def test_constants_follow_the_seed() -> None:
    assert LOCALIZE_LANGUAGES == ("en", "de", "es", "fr", "ja", "pt", "zh", "hi", "it",
                                  "ko", "nl", "pl", "ru", "sv", "tr")
    assert LOCALIZE_DIALECTS == {"en": ("au", "in", "so", "uk", "us"), "es": ("mx", "pe"),
                                 "pt": ("br", "eu"), "fr": ("eu", "ca")}
    assert SPEAKER_GENDERS == ("male", "female")


async def test_update_voice_sends_both_fields_the_seed_requires() -> None:
    recorder = Recorder(body=VOICE)
    async with client_for(recorder) as client:
        voice = await client.voices.update("v 1/x", name="  Mine  ", description="d")
        await client.voices.update("v-1", description="")
    first, read, second = recorder.requests
    assert first.method == "PATCH" and first.url.raw_path == b"/voices/v%201%2Fx"
    assert json.loads(first.content) == {"name": "Mine", "description": "d"}
    assert first.headers["content-type"] == "application/json"
    assert read.method == "GET" and read.url.path == "/voices/v-1"  # the name it keeps
    assert json.loads(second.content) == {"description": "", "name": "Mine"}
    assert voice.name == "Mine" and voice.is_owner


async def test_delete_voice_sends_delete_and_accepts_204() -> None:
    recorder = Recorder(status=204)
    async with client_for(recorder) as client:
        assert await client.voices.delete("v-1") is None
    assert recorder.requests[0].method == "DELETE"
    assert recorder.requests[0].url.path == "/voices/v-1"


async def test_localize_voice_sends_the_seed_body_and_owns_the_result() -> None:
    recorder = Recorder(body=METADATA)
    async with client_for(recorder) as client:
        voice = await client.voices.localize(
            voice_id="v-1", name="New", description="", language="es",
            original_speaker_gender="female", dialect="pe")
        await client.voices.localize(voice_id="v-1", name="New", description="x",
                                    language="ja", original_speaker_gender="male")
    first, second = recorder.requests
    assert first.method == "POST" and first.url.path == "/voices/localize"
    assert json.loads(first.content) == {
        "voice_id": "v-1", "name": "New", "description": "", "language": "es",
        "original_speaker_gender": "female", "dialect": "pe"}
    assert "dialect" not in json.loads(second.content)
    assert voice.id == "v-2" and voice.is_owner and voice.language == "es"


async def test_clone_voice_sends_the_seed_multipart_fields() -> None:
    recorder = Recorder(body=METADATA)
    async with client_for(recorder) as client:
        voice = await client.voices.clone(b"fLaC-bytes", name=" Me ", description="my voice",
                                         language="fr", base_voice_id="base-1",
                                         filename="take.flac")
        await client.voices.clone(b"RIFF", name="Me")
    first, second = recorder.requests
    assert first.method == "POST" and first.url.path == "/voices/clone"
    assert first.headers["content-type"].startswith("multipart/form-data; boundary=")
    fields = multipart(first)
    assert fields["clip"] == (b"fLaC-bytes", "take.flac", "audio/flac")
    assert {k: v[0].decode() for k, v in fields.items() if k != "clip"} == {
        "name": "Me", "description": "my voice", "language": "fr", "base_voice_id": "base-1"}
    assert "mode" not in fields
    defaults = multipart(second)
    assert defaults["clip"][1:] == ("clip.wav", "audio/wav")
    assert defaults["language"][0] == b"en" and defaults["description"][0] == b""
    assert "base_voice_id" not in defaults
    assert voice.is_owner  # VoiceMetadata has no is_owner; the clone is ours


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.voices.update("v", name="  "), "blank"),
        (lambda c: c.voices.update("v"), "a name, a description or both"),
        (lambda c: c.voices.update("", name="x"), "voice id is empty"),
        (lambda c: c.voices.delete(""), "voice id is empty"),
        (lambda c: c.voices.clone(b"", name="x"), "clip is empty"),
        (lambda c: c.voices.clone(b"x", name=" "), "blank"),
        (lambda c: c.voices.clone(b"x", name="x", language="xx"), "language"),
        (lambda c: c.voices.clone(b"x", name="x", base_voice_id=""), "base_voice_id"),
        (lambda c: c.voices.localize(voice_id="v", name="", description="", language="en",
                                     original_speaker_gender="male"), "blank"),
        (lambda c: c.voices.localize(voice_id="v", name="n", description="", language="ar",
                                     original_speaker_gender="male"), "language must be one of"),
        (lambda c: c.voices.localize(voice_id="v", name="n", description="", language="en",
                                     original_speaker_gender="masculine"),
         "original_speaker_gender"),
        (lambda c: c.voices.localize(voice_id="v", name="n", description="", language="en",
                                     original_speaker_gender="male", dialect="mx"),
         "dialect for 'en'"),
        (lambda c: c.voices.localize(voice_id="v", name="n", description="", language="de",
                                     original_speaker_gender="male", dialect="us"),
         "takes no dialect"),
    ],
)
async def test_bad_arguments_raise_before_sending(call: Any, message: str) -> None:
    recorder = Recorder(body=VOICE)
    async with client_for(recorder) as client:
        with pytest.raises(ValueError, match=message):
            await call(client)
    assert recorder.requests == []


# --- listing and reading -------------------------------------------------------------


STATUS_OK = httpx.Response(200, json={"ok": True, "version": "2025-11-04"})


#: The scripted transport the client tests share (answers from a list, records requests).
Script = scripted_transport.Recorder


def scripted_client(recorder: Script, **kwargs: object) -> CartesiaClient:
    """A client of a scripted transport, with this module's retries (none)."""
    kwargs.setdefault("retry_policy", FAST)
    return scripted_transport.client_for(recorder, **kwargs)


def voice(n: int) -> dict[str, object]:
    return {"id": f"v{n}", "name": f"Voice {n}", "description": "", "language": "en",
            "is_owner": False, "is_public": True, "created_at": "2025-01-01T00:00:00Z"}


async def test_list_voices_follows_pages_and_passes_filters() -> None:
    pages = iter(
        [
            {"data": [voice(1), voice(2)], "has_more": True, "next_page": "v2"},
            {"data": [voice(3), voice(4)], "has_more": True},
            {"data": [voice(5)], "has_more": False},
        ]
    )
    rec = Script(lambda request: httpx.Response(200, json=next(pages)))
    async with scripted_client(rec) as client:
        voices = await client.voices.list(
            q="narr", is_owner=True, gender="feminine", limit=2, expand=["preview_file_url"]
        )
    assert [v.id for v in voices] == ["v1", "v2", "v3", "v4", "v5"]
    params = [dict(r.url.params.multi_items()) for r in rec.requests]
    assert [p.get("starting_after") for p in params] == [None, "v2", "v4"]
    for p in params:
        assert p["q"] == "narr" and p["is_owner"] == "true" and p["gender"] == "feminine"
        assert p["limit"] == "2" and p["expand[]"] == "preview_file_url"


async def test_a_page_loop_is_detected() -> None:
    rec = Script(httpx.Response(200, json={"data": [voice(1)], "has_more": True}))
    async with scripted_client(rec) as client:
        with pytest.raises(ResponseFormatError):
            await client.voices.list()
    assert len(rec.requests) == 2


async def test_list_voices_validates_arguments() -> None:
    async with scripted_client(Script(STATUS_OK)) as client:
        with pytest.raises(ValueError):
            await client.voices.list(limit=101)
        with pytest.raises(ValueError):
            await client.voices.list(gender="robot")


async def test_get_voice_quotes_the_id_and_expands() -> None:
    rec = Script(httpx.Response(200, json={**voice(1), "preview_file_url": "https://x/p.wav"}))
    async with scripted_client(rec) as client:
        got = await client.voices.get("a/b c", expand=["preview_file_url"])
    assert got.preview_file_url == "https://x/p.wav"
    assert rec.requests[0].url.raw_path == b"/voices/a%2Fb%20c?expand%5B%5D=preview_file_url"


# --- loopback against the offline engine ---------------------------------------------


def speech_wav() -> bytes:
    renderer = Renderer(AudioFormat("raw", "pcm_f32le", 22050))
    blocks: list[Rendered] = []
    renderer.render(tags.parse("This is my voice, recorded for a clone of it.")[0],
                    Voicing("en-us+f2"), Delivery(), blocks.append, lambda: False)
    renderer.finish(blocks.append)
    samples = np.frombuffer(b"".join(b.audio for b in blocks), dtype="<f4")
    out = io.BytesIO()
    sf.write(out, samples, 22050, format="WAV", subtype="PCM_16")
    return out.getvalue()


@pytest.fixture
async def client(engine: OfflineEngine) -> Any:
    async with CartesiaClient(engine.api_key, base_url=engine.base_url,
                              retry_policy=FAST) as client:
        yield client


async def test_voice_lifecycle_against_the_offline_engine(client: CartesiaClient) -> None:
    voice = await client.voices.clone(speech_wav(), name="Loopback", description="test")
    assert voice.is_owner and not voice.is_public and voice.name == "Loopback"
    assert voice.gender == "feminine"
    mine = await client.voices.list(is_owner=True, expand=["preview_file_url"])
    listed = next(v for v in mine if v.id == voice.id)
    assert listed.preview_file_url
    preview = await client.fetch_bytes(listed.preview_file_url)
    assert preview[:4] == b"RIFF"
    renamed = await client.voices.update(voice.id, name="Loopback renamed")
    assert renamed.name == "Loopback renamed" and renamed.description == "test"
    local = await client.voices.localize(voice_id=voice.id, name="Loopback (UK)",
                                        description="", language="en",
                                        original_speaker_gender="female", dialect="uk")
    assert local.is_owner and local.language == "en"
    assert (await client.voices.get(local.id)).name == "Loopback (UK)"
    await client.voices.delete(voice.id)
    with pytest.raises(NotFoundError):
        await client.voices.get(voice.id)
    with pytest.raises(AuthenticationError):  # 403: a built-in voice is not yours
        await client.voices.delete(BUILTIN_VOICES[0].id)
    silent = io.BytesIO()
    sf.write(silent, np.zeros(44100, np.float32), 22050, format="WAV")
    with pytest.raises(BadRequestError, match="silent"):
        await client.voices.clone(silent.getvalue(), name="Silence")


class Sequenced:
    """Answers with the given statuses in turn (then 200 with ``body``)."""

    def __init__(self, statuses: list[int], body: Any) -> None:
        self.statuses, self.body, self.requests = list(statuses), body, 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests += 1
        if self.statuses:
            status = self.statuses.pop(0)
            return httpx.Response(status, json={"error": "x"}, headers={"Retry-After": "0"})
        return httpx.Response(200, json=self.body)


async def test_a_clone_is_never_sent_twice_after_a_server_error() -> None:
    """The server may have made the voice before failing: retrying could clone twice."""
    answers = Sequenced([500], METADATA)
    client = CartesiaClient(KEY, base_url="https://api.example.test",
                            transport=httpx.MockTransport(answers),
                            retry_policy=RetryPolicy(max_retries=3, initial_delay=0.0))
    from studio.api import ServerError

    with pytest.raises(ServerError):
        await client.voices.clone(b"RIFF....WAVEfmt ", name="Mine")
    assert answers.requests == 1
    await client.aclose()


async def test_a_rate_limited_clone_is_retried() -> None:
    answers = Sequenced([429], METADATA)
    client = CartesiaClient(KEY, base_url="https://api.example.test",
                            transport=httpx.MockTransport(answers),
                            retry_policy=RetryPolicy(max_retries=3, initial_delay=0.0))
    voice = await client.voices.clone(b"RIFF....WAVEfmt ", name="Mine")
    assert voice.id == "v-2" and answers.requests == 2
    await client.aclose()


@pytest.mark.parametrize(("failure", "requests", "succeeds"), [
    (httpx.ReadError("connection reset while reading the answer"), 1, False),
    (httpx.ConnectError("connection refused"), 2, True),
])
async def test_a_clone_whose_connection_failed_is_retried_only_if_it_never_left(
        failure: Exception, requests: int, succeeds: bool) -> None:
    """A lost answer may mean the voice was made (never resend); a connection that never
    opened means nothing reached the server (safe to send again)."""
    sent = 0

    def answer(request: httpx.Request) -> httpx.Response:
        nonlocal sent
        request.read()
        sent += 1
        if sent == 1:
            raise failure
        return httpx.Response(200, json=METADATA)

    client = CartesiaClient(KEY, base_url="https://api.example.test",
                            transport=httpx.MockTransport(answer),
                            retry_policy=RetryPolicy(max_retries=3, initial_delay=0.0))
    from studio.api import ConnectionLostError

    if succeeds:
        assert (await client.voices.clone(b"RIFF....WAVEfmt ", name="Mine")).id == "v-2"
    else:
        with pytest.raises(ConnectionLostError):
            await client.voices.clone(b"RIFF....WAVEfmt ", name="Mine")
    assert sent == requests
    await client.aclose()
