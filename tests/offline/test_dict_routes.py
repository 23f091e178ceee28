"""Pronunciation dictionaries on the offline engine over loopback: CRUD, pagination,
pin and unpin, 400s and 404s, persistence across a restart, a corrupt store set aside,
and the official v4 SDK. Each test module gets a private engine, so dictionaries do not
leak into the session-wide engine."""

from __future__ import annotations

import pathlib
from typing import Any

import httpx
import pytest
from offline_helpers import auth_headers

from studio.offline import OfflineEngine
from studio.offline.dict_routes import STORE_NAME

ITEMS = [{"text": "Cartesia", "alias": "car-TEE-zha"},
         {"text": "Nyx", "alias": "<<n|ɪ|k|s>>"}]


@pytest.fixture
def engine(private_engine: OfflineEngine) -> OfflineEngine:
    """An engine of this module's own (its stores start empty); ``http`` (conftest)
    talks to it."""
    return private_engine


def _create(http: httpx.Client, name: str, items: list[dict[str, str]] | None = None
            ) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name}
    if items is not None:
        body["items"] = items
    response = http.post("/pronunciation-dicts/", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _all(http: httpx.Client) -> list[dict[str, Any]]:
    response = http.get("/pronunciation-dicts/", params={"limit": 100})
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_create_get_update_delete(http: httpx.Client) -> None:
    made = _create(http, "  Brands ", ITEMS)
    assert made["name"] == "Brands" and made["items"] == ITEMS
    assert made["pinned"] is False and made["owner_id"] and made["created_at"].endswith("Z")
    assert http.get(f"/pronunciation-dicts/{made['id']}").json() == made

    renamed = http.patch(f"/pronunciation-dicts/{made['id']}", json={"name": "Names"}).json()
    assert renamed == {**made, "name": "Names"}
    emptied = http.patch(f"/pronunciation-dicts/{made['id']}", json={"items": []}).json()
    assert emptied["items"] == [] and emptied["name"] == "Names"

    assert http.delete(f"/pronunciation-dicts/{made['id']}").status_code == 204
    assert http.get(f"/pronunciation-dicts/{made['id']}").status_code == 404
    assert made["id"] not in [d["id"] for d in _all(http)]


def test_a_dictionary_without_items_has_an_empty_list(http: httpx.Client) -> None:
    assert _create(http, "Empty")["items"] == []
    assert http.post("/pronunciation-dicts/", json={"name": "Null", "items": None}
                     ).json()["items"] == []


def test_pages_chain_with_starting_after_and_ending_before(http: httpx.Client) -> None:
    for n in range(5):
        _create(http, f"Paged {n}")
    everything = [d["id"] for d in _all(http)]
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        page = http.get("/pronunciation-dicts/", params=params).json()
        seen += [d["id"] for d in page["data"]]
        if not page["has_more"]:
            break
        params["starting_after"] = page["data"][-1]["id"]
    assert seen == everything
    before = http.get("/pronunciation-dicts/",
                      params={"limit": 2, "ending_before": everything[-1]}).json()
    assert [d["id"] for d in before["data"]] == everything[-3:-1] and before["has_more"]


def test_pin_unpins_the_others(http: httpx.Client) -> None:
    first, second = _create(http, "Pin A"), _create(http, "Pin B")
    assert http.post(f"/pronunciation-dicts/{first['id']}/pin").json()["pinned"] is True
    assert http.post(f"/pronunciation-dicts/{second['id']}/pin").json()["pinned"] is True
    pinned = {d["id"] for d in _all(http) if d["pinned"]}
    assert pinned == {second["id"]}
    assert http.post(f"/pronunciation-dicts/{second['id']}/unpin").json()["pinned"] is False
    assert not any(d["pinned"] for d in _all(http))


@pytest.mark.parametrize("body", [
    {},
    {"name": "   "},
    {"name": 3},
    {"name": "x", "items": {"text": "a", "alias": "b"}},
    {"name": "x", "items": [{"text": "", "alias": "b"}]},
    {"name": "x", "items": [{"text": "a"}]},
    {"name": "x", "items": ["a"]},
])
def test_bad_create_bodies_are_400(http: httpx.Client, body: dict[str, Any]) -> None:
    response = http.post("/pronunciation-dicts/", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["message"]


def test_bad_queries_and_bodies_are_400_and_unknown_ids_404(http: httpx.Client) -> None:
    made = _create(http, "Target")
    assert http.patch(f"/pronunciation-dicts/{made['id']}", json={"name": ""}
                      ).status_code == 400
    assert http.patch(f"/pronunciation-dicts/{made['id']}", content=b"[1]",
                      headers={"Content-Type": "application/json"}).status_code == 400
    for params in ({"limit": 0}, {"limit": 101}, {"limit": "x"},
                   {"starting_after": "nope"}, {"ending_before": "nope"},
                   {"starting_after": made["id"], "ending_before": made["id"]}):
        assert http.get("/pronunciation-dicts/", params=params).status_code == 400, params
    for method, path in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/pin"),
                         ("POST", "/unpin")):
        kwargs: dict[str, Any] = {"json": {"name": "n"}} if method == "PATCH" else {}
        response = http.request(method, f"/pronunciation-dicts/pdict_missing{path}", **kwargs)
        assert response.status_code == 404, (method, path)


def test_dictionaries_survive_a_restart(tmp_path: pathlib.Path) -> None:
    first = OfflineEngine(data_dir=tmp_path)
    first.start()
    try:
        with httpx.Client(base_url=first.base_url, headers=auth_headers(first)) as http:
            kept = _create(http, "Kept", ITEMS)
            http.post(f"/pronunciation-dicts/{kept['id']}/pin")
            gone = _create(http, "Gone")
            http.delete(f"/pronunciation-dicts/{gone['id']}")
    finally:
        first.stop()
    second = OfflineEngine(data_dir=tmp_path)
    second.start()
    try:
        with httpx.Client(base_url=second.base_url, headers=auth_headers(second)) as http:
            assert _all(http) == [{**kept, "pinned": True}]
    finally:
        second.stop()


def test_a_corrupt_store_is_set_aside(tmp_path: pathlib.Path,
                                      caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / STORE_NAME).write_text('{"format": 1, "dicts": [{"id": 1}]}')
    engine = OfflineEngine(data_dir=tmp_path)
    engine.start()
    try:
        with (caplog.at_level("ERROR", logger="studio.offline.voice_store"),
              httpx.Client(base_url=engine.base_url, headers=auth_headers(engine)) as http):
            assert _all(http) == []
            _create(http, "Fresh")
    finally:
        engine.stop()
    assert "unusable" in caplog.text
    assert len(list(tmp_path.glob(f"{STORE_NAME}.corrupt-*"))) == 1
    assert "Fresh" in (tmp_path / STORE_NAME).read_text()


def test_the_official_sdk_speaks_to_the_engine(engine: OfflineEngine) -> None:
    from cartesia import Cartesia

    with Cartesia(api_key=engine.api_key, base_url=engine.base_url, max_retries=0,
                  timeout=30.0) as sdk:
        made = sdk.pronunciation_dicts.create(name="SDK", items=ITEMS)
        assert [(i.text, i.alias) for i in made.items] == [(i["text"], i["alias"]) for i in ITEMS]
        assert sdk.pronunciation_dicts.retrieve(made.id).name == "SDK"
        updated = sdk.pronunciation_dicts.update(made.id, name="SDK 2")
        assert updated.name == "SDK 2" and updated.pinned is False
        listed = [d.id for d in sdk.pronunciation_dicts.list(limit=2)]  # auto-paginates
        assert made.id in listed
        sdk.pronunciation_dicts.delete(made.id)
        assert made.id not in [d.id for d in sdk.pronunciation_dicts.list()]
