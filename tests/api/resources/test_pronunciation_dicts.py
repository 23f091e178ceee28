"""``client.pronunciation_dicts``: the exact wire shape (methods, paths,
query and JSON bodies) against ``httpx.MockTransport``, argument checks that send
nothing, malformed bodies, and the same calls against the offline engine."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from studio.api import CartesiaClient, NotFoundError, ResponseFormatError, RetryPolicy
from studio.api.models import PronunciationDict, PronunciationItem
from studio.offline import OfflineEngine

KEY = "sk_test_not_a_real_key"
FAST = RetryPolicy(max_retries=0)
ITEMS = (PronunciationItem("Cartesia", "car-TEE-zha"), PronunciationItem("Nyx", "<<n|ɪ|k|s>>"))
DICT = {"id": "pdict_1", "name": "Brands", "owner_id": "u-1", "pinned": False,
        "created_at": "2025-01-01T00:00:00Z",
        "items": [{"text": "Cartesia", "alias": "car-TEE-zha"}]}


class Recorder:
    def __init__(self, *bodies: Any, status: int = 200) -> None:
        self.bodies, self.status = list(bodies), status
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if not self.bodies:
            return httpx.Response(self.status)
        return httpx.Response(self.status, json=self.bodies.pop(0))


def client_for(recorder: Recorder) -> CartesiaClient:
    return CartesiaClient(KEY, base_url="https://api.example.test",
                          transport=httpx.MockTransport(recorder), retry_policy=FAST)


def _body(request: httpx.Request) -> Any:
    return json.loads(request.content)


async def test_list_follows_pages_with_starting_after() -> None:
    second = {**DICT, "id": "pdict_2"}
    recorder = Recorder({"data": [DICT], "has_more": True}, {"data": [second], "has_more": False})
    async with client_for(recorder) as client:
        dicts = await client.pronunciation_dicts.list(limit=1)
    assert [d.id for d in dicts] == ["pdict_1", "pdict_2"]
    assert dicts[0] == PronunciationDict("pdict_1", "Brands", (ITEMS[0],), False, "u-1",
                                         "2025-01-01T00:00:00Z")
    first_req, second_req = recorder.requests
    assert (first_req.method, first_req.url.path) == ("GET", "/pronunciation-dicts/")
    assert dict(first_req.url.params) == {"limit": "1"}
    assert dict(second_req.url.params) == {"limit": "1", "starting_after": "pdict_1"}
    assert first_req.headers["Authorization"] == f"Bearer {KEY}"
    assert "Cartesia-Version" in first_req.headers


async def test_a_page_that_repeats_its_cursor_is_a_format_error() -> None:
    page = {"data": [DICT], "has_more": True}
    async with client_for(Recorder(page, page)) as client:
        with pytest.raises(ResponseFormatError, match="came back twice"):
            await client.pronunciation_dicts.list()
    async with client_for(Recorder({"data": [], "has_more": True})) as client:
        with pytest.raises(ResponseFormatError, match="empty"):
            await client.pronunciation_dicts.list()


@pytest.mark.parametrize("body", [
    {k: v for k, v in DICT.items() if k != "pinned"},
    {**DICT, "items": [{"text": "a"}]},
    {**DICT, "items": "a"},
])
async def test_a_dictionary_that_misses_the_schema_is_a_format_error(body: Any) -> None:
    async with client_for(Recorder(body)) as client:
        with pytest.raises(ResponseFormatError):
            await client.pronunciation_dicts.get("pdict_1")


async def test_create_get_update_delete_pin_unpin_wire_shapes() -> None:
    recorder = Recorder(DICT, DICT, DICT, DICT, DICT)
    async with client_for(recorder) as client:
        made = await client.pronunciation_dicts.create("  Brands ", ITEMS)
        await client.pronunciation_dicts.create("Empty")
        await client.pronunciation_dicts.get("a/b")
        await client.pronunciation_dicts.update("pdict_1", name="Names")
        await client.pronunciation_dicts.update("pdict_1", items=[])
        await client.pronunciation_dicts.delete("pdict_1")
        await client.pronunciation_dicts.pin("pdict_1")
        await client.pronunciation_dicts.unpin("pdict_1")
    assert made.items == (ITEMS[0],)
    wire = [(r.method, r.url.raw_path.decode()) for r in recorder.requests]
    assert wire == [
        ("POST", "/pronunciation-dicts/"),
        ("POST", "/pronunciation-dicts/"),
        ("GET", "/pronunciation-dicts/a%2Fb"),
        ("PATCH", "/pronunciation-dicts/pdict_1"),
        ("PATCH", "/pronunciation-dicts/pdict_1"),
        ("DELETE", "/pronunciation-dicts/pdict_1"),
        ("POST", "/pronunciation-dicts/pdict_1/pin"),
        ("POST", "/pronunciation-dicts/pdict_1/unpin"),
    ]
    create, empty, _get, rename, clear = recorder.requests[:5]
    assert _body(create) == {"name": "Brands", "items": [
        {"text": "Cartesia", "alias": "car-TEE-zha"}, {"text": "Nyx", "alias": "<<n|ɪ|k|s>>"}]}
    assert _body(empty) == {"name": "Empty", "items": []}
    assert _body(rename) == {"name": "Names"}
    assert _body(clear) == {"items": []}
    assert all(not r.content for r in recorder.requests[5:])


async def test_bad_arguments_send_nothing() -> None:
    recorder = Recorder()
    async with client_for(recorder) as client:
        with pytest.raises(ValueError, match="name"):
            await client.pronunciation_dicts.create("  ")
        with pytest.raises(ValueError, match="no text"):
            await client.pronunciation_dicts.create("x", [PronunciationItem(" ", "a")])
        with pytest.raises(ValueError, match="no alias"):
            await client.pronunciation_dicts.create("x", [PronunciationItem("a", "")])
        with pytest.raises(TypeError, match="PronunciationItem"):
            await client.pronunciation_dicts.create("x", [{"text": "a", "alias": "b"}])  # type: ignore[list-item]
        with pytest.raises(ValueError, match="name, items or both"):
            await client.pronunciation_dicts.update("pdict_1")
        with pytest.raises(ValueError, match="name"):
            await client.pronunciation_dicts.update("pdict_1", name="")
        for call in (client.pronunciation_dicts.get, client.pronunciation_dicts.delete,
                     client.pronunciation_dicts.pin, client.pronunciation_dicts.unpin):
            with pytest.raises(ValueError, match="dict id is empty"):
                await call("")
        with pytest.raises(ValueError, match="limit"):
            await client.pronunciation_dicts.list(limit=101)
    assert recorder.requests == []


async def test_against_the_offline_engine(tmp_path: Any) -> None:
    engine = OfflineEngine(data_dir=tmp_path)
    engine.start()
    try:
        async with CartesiaClient(engine.api_key, base_url=engine.base_url,
                                  retry_policy=FAST) as client:
            made = await client.pronunciation_dicts.create("Brands", ITEMS)
            assert made.items == ITEMS and not made.pinned
            for n in range(3):
                await client.pronunciation_dicts.create(f"More {n}")
            listed = await client.pronunciation_dicts.list(limit=1)
            assert [d.name for d in listed] == ["Brands", "More 0", "More 1", "More 2"]
            renamed = await client.pronunciation_dicts.update(made.id, name="Names",
                                                             items=ITEMS[:1])
            assert (renamed.name, renamed.items) == ("Names", ITEMS[:1])
            await client.pronunciation_dicts.pin(made.id)
            assert (await client.pronunciation_dicts.get(made.id)).pinned
            await client.pronunciation_dicts.unpin(made.id)
            assert not (await client.pronunciation_dicts.get(made.id)).pinned
            await client.pronunciation_dicts.delete(made.id)
            with pytest.raises(NotFoundError):
                await client.pronunciation_dicts.get(made.id)
    finally:
        engine.stop()
