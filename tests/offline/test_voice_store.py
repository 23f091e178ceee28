"""The owned-voice store when reading or saving fails: a file that cannot be read is
left alone and never written over, and changes racing a failed save leave the voices
served equal to the voices saved.

Reads fail through a patched ``Path.read_bytes`` (the suite may run as root, for whom
permissions do not fail); saves fail through a store whose ``save`` follows a plan.
"""

from __future__ import annotations

import asyncio
import errno
import pathlib
import threading
from typing import Any

import httpx
import pytest
from aiohttp.test_utils import TestClient, TestServer
from offline_helpers import (
    API_VERSION,
    CLONE_SCRIPT,
    audio_file,
    auth_headers,
    clone,
    in_own_loop,
    render_speech,
)

from studio.offline import OfflineEngine
from studio.offline.server import create_app
from studio.offline.state import ServerState
from studio.offline.voice_store import STORE_NAME, StoreUnreadableError, VoiceStore, parse
from studio.offline.voices import BUILTIN_VOICES, VoiceSpec

BUILTIN_ID = BUILTIN_VOICES[0].id
API_KEY = "store-test-key"
HEADERS = {"Authorization": f"Bearer {API_KEY}", "Cartesia-Version": API_VERSION}


def localize_body(voice_id: str, name: str) -> dict[str, str]:
    return {"voice_id": voice_id, "name": name, "description": "", "language": "fr",
            "original_speaker_gender": "female"}


@pytest.fixture
def unreadable_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading any ``voices.json`` fails with EACCES; other files read as usual."""
    real = pathlib.Path.read_bytes

    def read_bytes(path: pathlib.Path) -> bytes:
        if path.name == STORE_NAME:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(pathlib.Path, "read_bytes", read_bytes)


def saved_store(tmp_path: pathlib.Path, *names: str) -> str:
    """Write a store holding localized voices called ``names``; returns its text."""
    voices = [_voice(name) for name in names]
    VoiceStore(tmp_path).save(tuple(voices))
    return (tmp_path / STORE_NAME).read_text(encoding="utf-8")


def _voice(name: str) -> VoiceSpec:
    from studio.offline.localize import localized_voice, parse_localize

    source = next(v for v in BUILTIN_VOICES if v.id == BUILTIN_ID)
    return localized_voice(source, parse_localize(localize_body(BUILTIN_ID, name)))


# --- reading ----------------------------------------------------------------------


def test_an_unreadable_store_is_left_alone_and_not_written_over(
    tmp_path: pathlib.Path, unreadable_store: None, caplog: pytest.LogCaptureFixture
) -> None:
    text = saved_store(tmp_path, "Mine")
    store = VoiceStore(tmp_path)
    with caplog.at_level("ERROR", logger="studio.offline.voice_store"):
        assert store.load() == ()
    assert "cannot be read" in caplog.text and "Permission denied" in caplog.text
    with pytest.raises(StoreUnreadableError, match="could not be read when the engine started"):
        store.save((_voice("Would overwrite"),))
    assert (tmp_path / STORE_NAME).read_text(encoding="utf-8") == text
    assert not list(tmp_path.glob(f"{STORE_NAME}.corrupt-*"))


def test_a_store_that_is_not_text_is_set_aside(tmp_path: pathlib.Path) -> None:
    (tmp_path / STORE_NAME).write_bytes(b'{"format": 1, "voices": ["\xff\xfe"]}')
    store = VoiceStore(tmp_path)
    assert store.load() == ()
    assert len(list(tmp_path.glob(f"{STORE_NAME}.corrupt-*"))) == 1
    store.save((_voice("Fresh"),))  # a store set aside is no reason to refuse saves
    assert [v.name for v in VoiceStore(tmp_path).load()] == ["Fresh"]


def test_the_engine_refuses_changes_over_a_store_it_could_not_read(
    tmp_path: pathlib.Path, unreadable_store: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = saved_store(tmp_path, "Mine")
    with OfflineEngine(data_dir=tmp_path) as engine, httpx.Client(
        base_url=engine.base_url, headers=auth_headers(engine), timeout=60
    ) as http:
        assert http.get("/voices", params={"is_owner": "true"}).json()["data"] == []
        made = clone(http, audio_file(render_speech(CLONE_SCRIPT, "en-us+m3")), name="Lost?")
        assert made.status_code == 500
        assert "could not be read when the engine started" in made.json()["message"]
        assert "restart the engine" in made.json()["message"]
        assert http.get("/voices", params={"is_owner": "true"}).json()["data"] == []
    assert (tmp_path / STORE_NAME).read_text(encoding="utf-8") == text
    monkeypatch.undo()  # readable again: a restart serves the voices it held
    with OfflineEngine(data_dir=tmp_path) as engine, httpx.Client(
        base_url=engine.base_url, headers=auth_headers(engine), timeout=60
    ) as http:
        mine = http.get("/voices", params={"is_owner": "true"}).json()["data"]
        assert [v["name"] for v in mine] == ["Mine"]


# --- saving under concurrent changes -----------------------------------------------


class PlannedStore(VoiceStore):
    """A store whose next saves ``block`` (until :attr:`release`) or ``fail`` (EIO);
    saves past the plan, and blocked ones once released, write the file."""

    def __init__(self, data_dir: pathlib.Path) -> None:
        super().__init__(data_dir)
        self.plan: list[str] = []
        self.blocked = threading.Event()
        self.release = threading.Event()

    def save(self, voices: tuple[VoiceSpec, ...]) -> None:
        step = self.plan.pop(0) if self.plan else "write"
        if step == "fail":
            raise OSError(errno.EIO, "Input/output error")
        if step == "block":
            self.blocked.set()
            assert self.release.wait(30), "the test never released the save"
        super().save(voices)


class WatchedLock(asyncio.Lock):
    """An asyncio lock that counts the requests that had to wait for it."""

    def __init__(self) -> None:
        super().__init__()
        self.waited = 0
        self._waited_more = asyncio.Event()

    async def acquire(self) -> bool:
        if self.locked():
            self.waited += 1
            self._waited_more.set()
        return await super().acquire()

    async def until_waited(self, count: int) -> None:
        while self.waited < count:
            self._waited_more.clear()
            await self._waited_more.wait()


def _served_and_saved(state: ServerState, store: VoiceStore) -> tuple[list[Any], list[Any]]:
    text = store.path.read_text(encoding="utf-8")
    served = [(v.id, v.name) for v in state.catalog.owned()]
    return served, [(v.id, v.name) for v in parse(text)]


def test_a_failed_save_after_a_good_one_leaves_served_and_saved_voices_equal(
    tmp_path: pathlib.Path,
) -> None:
    """Two changes queue behind a slow save; the first saves, the second fails. The
    first save must not carry the second change to disk (it did when changes were
    made before taking the lock and undone alone)."""
    store = PlannedStore(tmp_path)
    state = ServerState(api_key=API_KEY, data_dir=tmp_path, store=store)
    lock = state.store_lock = WatchedLock()

    async def scenario() -> None:
        async with TestClient(TestServer(create_app(state))) as client:
            first = await client.post("/voices/localize", headers=HEADERS,
                                      json=localize_body(BUILTIN_ID, "Original"))
            voice_id = (await first.json())["id"]
            store.plan = ["block", "write", "fail"]
            loop = asyncio.get_running_loop()
            rename = asyncio.create_task(client.patch(
                f"/voices/{voice_id}", headers=HEADERS, json={"name": "Renamed"}))
            assert await loop.run_in_executor(None, store.blocked.wait, 30)
            kept = asyncio.create_task(client.post(
                "/voices/localize", headers=HEADERS, json=localize_body(voice_id, "Kept")))
            await asyncio.wait_for(lock.until_waited(1), 30)
            doomed = asyncio.create_task(client.post(
                "/voices/localize", headers=HEADERS, json=localize_body(voice_id, "Doomed")))
            await asyncio.wait_for(lock.until_waited(2), 30)
            store.release.set()
            assert (await rename).status == 200
            kept_response, doomed_response = await kept, await doomed
            assert kept_response.status == 200
            assert doomed_response.status == 500
            assert "Input/output error" in (await doomed_response.json())["message"]
            served, saved = _served_and_saved(state, store)
            assert served == saved == [(voice_id, "Renamed"),
                                       ((await kept_response.json())["id"], "Kept")]

    in_own_loop(scenario)


def test_a_failed_delete_puts_the_voice_back_in_its_place(tmp_path: pathlib.Path) -> None:
    store = PlannedStore(tmp_path)
    state = ServerState(api_key=API_KEY, data_dir=tmp_path, store=store)

    async def scenario() -> None:
        async with TestClient(TestServer(create_app(state))) as client:
            ids = []
            for name in ("First", "Second"):
                made = await client.post("/voices/localize", headers=HEADERS,
                                         json=localize_body(BUILTIN_ID, name))
                ids.append((await made.json())["id"])
            store.plan = ["fail"]
            gone = await client.delete(f"/voices/{ids[0]}", headers=HEADERS)
            assert gone.status == 500
            served, saved = _served_and_saved(state, store)
            assert served == saved == [(ids[0], "First"), (ids[1], "Second")]

    in_own_loop(scenario)
