"""``/pronunciation-dicts/``: the offline engine's pronunciation dictionaries.

Shapes follow ``cartesia-openapi.yaml`` (``pronunciationDicts_list``, ``_create``,
``_get``, ``_update``, ``_delete``; schemas ``PronunciationDict``,
``PronunciationDictItem``, ``CreatePronunciationDictRequest``,
``UpdatePronunciationDictRequest``, ``PaginatedPronunciationDicts``):

- ``GET /pronunciation-dicts/``: oldest first, ``limit`` 1..100 (default 10),
  ``starting_after`` or ``ending_before`` a dictionary id; answers ``data`` and
  ``has_more``.
- ``POST /pronunciation-dicts/``: ``{"name", "items"?}``; answers the new dictionary.
- ``GET``/``PATCH``/``DELETE /pronunciation-dicts/{id}``: the dictionary; a PATCH
  replaces the fields it gives (``items`` whole); DELETE answers 204.
- ``POST /pronunciation-dicts/{id}/pin`` and ``/unpin``: the SDK reference's
  ``pronunciation_dicts.pin``/``unpin``, which the OpenAPI seed and the v4 SDK lack;
  the path is REST convention, not documented. Generation uses "the pinned
  pronunciation dict" (SDK reference, ``pronunciation_dict_ids``), so pinning one
  unpins the others. Both answer the dictionary.

Statuses: 400 for a bad body or query, 404 for an unknown id, 500 when the store cannot
be written (the change is then undone) or could not be read at start-up.

Dictionaries live in ``<data_dir>/pronunciation_dicts.json``, written atomically by
:class:`~studio.offline.voice_store.JsonFileStore` before a change is answered; a
corrupt file is set aside.

Generation (``pronunciation_dict_id`` on ``/tts/bytes``, ``/tts/sse`` and the
WebSocket) reads a dictionary through :meth:`DictBook.pronouncer` when it starts,
so an edit applies to the next generation. Each version of a dictionary is
compiled once, in the worker pool, into a
:class:`~studio.offline.pronunciation.Pronouncer` that generations share; a
change drops the compiled versions it replaced.
"""

from __future__ import annotations

import asyncio
import logging
import pathlib
import uuid
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from typing import Any

from aiohttp import web

from studio.offline.bodies import json_object
from studio.offline.errors import ApiError, bad_request
from studio.offline.localize import now_iso
from studio.offline.pronunciation import Pronouncer
from studio.offline.voice_store import JsonFileStore, StoreFormatError, read_envelope
from studio.offline.voices import OWNER_USER_ID

log = logging.getLogger(__name__)

STORE_NAME = "pronunciation_dicts.json"
FORMAT = 1
_DEFAULT_PAGE = 10
_MAX_PAGE = 100


class BadDictError(ValueError):
    """A dictionary, its name or its items do not match the seed's schema."""


@dataclass(frozen=True, slots=True)
class StoredDict:
    """One dictionary as the engine keeps it; ``items`` are ``(text, alias)`` pairs."""

    id: str
    name: str
    items: tuple[tuple[str, str], ...]
    pinned: bool
    created_at: str

    def to_json(self) -> dict[str, Any]:
        """The seed's ``PronunciationDict``."""
        return {"id": self.id, "name": self.name, "owner_id": OWNER_USER_ID,
                "pinned": self.pinned, "created_at": self.created_at,
                "items": [{"text": t, "alias": a} for t, a in self.items]}


def parse_items(raw: object, where: str = "items") -> tuple[tuple[str, str], ...]:
    """``PronunciationDictItem`` objects as pairs.

    Raises:
        BadDictError: not a list of ``{"text": non-empty str, "alias": non-empty str}``.
    """
    if not isinstance(raw, list):
        raise BadDictError(f"{where} must be a list of {{text, alias}} objects")
    out = []
    for n, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise BadDictError(f"{where}[{n}] must be an object with text and alias")
        text, alias = item.get("text"), item.get("alias")
        if not isinstance(text, str) or not text.strip():
            raise BadDictError(f"{where}[{n}].text must be a non-empty string")
        if not isinstance(alias, str) or not alias.strip():
            raise BadDictError(f"{where}[{n}].alias must be a non-empty string")
        out.append((text, alias))
    return tuple(out)


def _parse_name(raw: object) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise BadDictError("name must be a non-empty string")
    return raw.strip()


def parse_store(text: str) -> tuple[StoredDict, ...]:
    """The dictionaries of a store file's text.

    Raises:
        StoreFormatError: not JSON, another format number, or a malformed dictionary.
    """
    out = []
    for entry in read_envelope(text, "dicts", FORMAT):
        try:
            if not isinstance(entry, dict):
                raise BadDictError("a dictionary is not an object")
            ident, created, pinned = entry.get("id"), entry.get("created_at"), entry.get("pinned")
            if not isinstance(ident, str) or not isinstance(created, str) \
                    or not isinstance(pinned, bool):
                raise BadDictError(f"dictionary {ident!r}: bad id, created_at or pinned")
            out.append(StoredDict(ident, _parse_name(entry.get("name")),
                                  parse_items(entry.get("items")), pinned, created))
        except BadDictError as exc:
            raise StoreFormatError(str(exc)) from None
    if len({d.id for d in out}) != len(out):
        raise StoreFormatError("two dictionaries share an id")
    return tuple(out)


class DictStore(JsonFileStore[tuple[StoredDict, ...]]):
    """The pronunciation dictionaries of one data directory.

    Attributes:
        path: ``<data_dir>/pronunciation_dicts.json``.
    """

    def __init__(self, data_dir: pathlib.Path) -> None:
        super().__init__(pathlib.Path(data_dir) / STORE_NAME,
                         what="pronunciation dictionary store", fallback="no dictionaries",
                         parse=parse_store, empty=())

    def save(self, dicts: tuple[StoredDict, ...]) -> None:
        """Write ``dicts`` atomically (see :meth:`JsonFileStore.write`)."""
        self.write({"format": FORMAT, "dicts": [
            {"id": d.id, "name": d.name, "pinned": d.pinned, "created_at": d.created_at,
             "items": [{"text": t, "alias": a} for t, a in d.items]} for d in dicts]})


@dataclass
class DictBook:
    """The dictionaries an engine serves, loaded from its store on first use.

    Every request goes through :meth:`read`, :meth:`pronouncer` or :meth:`change`
    under one lock, so what is served is always what was last saved.
    """

    store: DictStore
    executor: Executor | None = None  # the engine's worker pool (None: asyncio's default)
    dicts: tuple[StoredDict, ...] = ()
    loaded: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # id -> (the version compiled, its Pronouncer being built or built)
    _compiled: dict[str, tuple[StoredDict, asyncio.Future[Pronouncer]]] = field(
        default_factory=dict)

    async def ensure_loaded(self) -> None:
        if not self.loaded:
            loop = asyncio.get_running_loop()
            self.dicts = await loop.run_in_executor(self.executor, self.store.load)
            self.loaded = True

    async def read(self) -> tuple[StoredDict, ...]:
        async with self.lock:
            await self.ensure_loaded()
            return self.dicts

    async def pronouncer(self, dict_id: str) -> Pronouncer:
        """The current version of dictionary ``dict_id``, compiled for synthesis.

        Compiling (about 20 ms for 10 000 entries) runs in :attr:`executor` once
        per version; later generations get the same object at the cost of a lookup.

        Raises:
            ApiError: 404 ``pronunciation_dict_not_found`` for an unknown id.
        """
        async with self.lock:
            await self.ensure_loaded()
            stored = self.dicts[_index(self.dicts, dict_id)]
            compiled = self._compiled.get(dict_id)
            if compiled is None or compiled[0] != stored or _failed(compiled[1]):
                loop = asyncio.get_running_loop()
                future = loop.run_in_executor(self.executor, Pronouncer, stored.items)
                compiled = (stored, future)
                self._compiled[dict_id] = compiled
        # Shielded: a generation that gives up must not cancel the build for others.
        return await asyncio.shield(compiled[1])

    async def change(self, new: tuple[StoredDict, ...]) -> None:
        """Save ``new`` and serve it; on failure keep the old dictionaries.

        Callers hold :attr:`lock` and computed ``new`` from :attr:`dicts` under it.

        Raises:
            ApiError: 500 when the store cannot be written or was unreadable.
        """
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self.executor, self.store.save, new)
        except OSError as exc:
            log.error("cannot save the pronunciation dictionaries to %s: %s",
                      self.store.path, exc)
            raise ApiError(
                500, f"the dictionary could not be saved: {exc.strerror or exc}") from None
        self.dicts = new
        current = {d.id: d for d in new}
        self._compiled = {ident: compiled for ident, compiled in self._compiled.items()
                          if current.get(ident) == compiled[0]}


def _failed(future: asyncio.Future[Pronouncer]) -> bool:
    return future.done() and (future.cancelled() or future.exception() is not None)


BOOK: web.AppKey[DictBook] = web.AppKey("pronunciation_dicts", DictBook)


def install(app: web.Application, data_dir: pathlib.Path,
            executor: Executor | None = None) -> None:
    """Serve the dictionaries of ``data_dir`` from ``app``; file work runs on
    ``executor`` (the engine's pool, shut down with it)."""
    app[BOOK] = DictBook(DictStore(data_dir), executor)
    app.router.add_get("/pronunciation-dicts/", list_dicts)
    app.router.add_post("/pronunciation-dicts/", create_dict)
    app.router.add_get("/pronunciation-dicts/{id}", get_dict)
    app.router.add_patch("/pronunciation-dicts/{id}", update_dict)
    app.router.add_delete("/pronunciation-dicts/{id}", delete_dict)
    app.router.add_post("/pronunciation-dicts/{id}/pin", pin_dict)
    app.router.add_post("/pronunciation-dicts/{id}/unpin", unpin_dict)


def _index(dicts: tuple[StoredDict, ...], dict_id: str) -> int:
    for n, d in enumerate(dicts):
        if d.id == dict_id:
            return n
    raise ApiError(404, f"pronunciation dictionary not found: {dict_id}",
                   "pronunciation_dict_not_found")


async def list_dicts(request: web.Request) -> web.Response:
    query = request.query
    try:
        limit = int(query.get("limit", _DEFAULT_PAGE))
    except ValueError:
        raise bad_request(f"limit must be an integer between 1 and {_MAX_PAGE}") from None
    if not 1 <= limit <= _MAX_PAGE:
        raise bad_request(f"limit must be between 1 and {_MAX_PAGE}; got {limit}")
    after, before = query.get("starting_after") or None, query.get("ending_before") or None
    if after and before:
        raise bad_request("use either starting_after or ending_before, not both")
    dicts = await request.app[BOOK].read()
    ids = [d.id for d in dicts]
    if before is not None:
        if before not in ids:
            raise bad_request(f"ending_before {before!r} is not a dictionary in this listing")
        end = ids.index(before)
        page, has_more = dicts[max(end - limit, 0):end], end - limit > 0
    else:
        start = 0
        if after is not None:
            if after not in ids:
                raise bad_request(f"starting_after {after!r} is not a dictionary in this listing")
            start = ids.index(after) + 1
        page, has_more = dicts[start:start + limit], start + limit < len(dicts)
    return web.json_response({"data": [d.to_json() for d in page], "has_more": has_more})


async def create_dict(request: web.Request) -> web.Response:
    body = await json_object(request)
    try:
        name = _parse_name(body.get("name"))
        raw_items = body.get("items")
        items = () if raw_items is None else parse_items(raw_items)
    except BadDictError as exc:
        raise bad_request(str(exc)) from None
    book = request.app[BOOK]
    async with book.lock:
        await book.ensure_loaded()
        new = StoredDict(f"pdict_{uuid.uuid4().hex}", name, items, False, now_iso())
        await book.change((*book.dicts, new))
    return web.json_response(new.to_json())


async def get_dict(request: web.Request) -> web.Response:
    dicts = await request.app[BOOK].read()
    return web.json_response(dicts[_index(dicts, request.match_info["id"])].to_json())


async def update_dict(request: web.Request) -> web.Response:
    body = await json_object(request)
    changes: dict[str, Any] = {}
    try:
        if body.get("name") is not None:
            changes["name"] = _parse_name(body["name"])
        if body.get("items") is not None:
            changes["items"] = parse_items(body["items"])
    except BadDictError as exc:
        raise bad_request(str(exc)) from None
    book = request.app[BOOK]
    async with book.lock:
        await book.ensure_loaded()
        n = _index(book.dicts, request.match_info["id"])
        updated = replace(book.dicts[n], **changes)
        if changes:
            await book.change((*book.dicts[:n], updated, *book.dicts[n + 1:]))
    return web.json_response(updated.to_json())


async def delete_dict(request: web.Request) -> web.Response:
    book = request.app[BOOK]
    async with book.lock:
        await book.ensure_loaded()
        n = _index(book.dicts, request.match_info["id"])
        await book.change((*book.dicts[:n], *book.dicts[n + 1:]))
    return web.Response(status=204)


async def _set_pinned(request: web.Request, pinned: bool) -> web.Response:
    book = request.app[BOOK]
    dict_id = request.match_info["id"]
    async with book.lock:
        await book.ensure_loaded()
        n = _index(book.dicts, dict_id)
        if pinned:
            new = tuple(replace(d, pinned=d.id == dict_id) for d in book.dicts)
        else:
            new = (*book.dicts[:n], replace(book.dicts[n], pinned=False), *book.dicts[n + 1:])
        if new != book.dicts:
            await book.change(new)
        return web.json_response(book.dicts[n].to_json())


async def pin_dict(request: web.Request) -> web.Response:
    return await _set_pinned(request, True)


async def unpin_dict(request: web.Request) -> web.Response:
    return await _set_pinned(request, False)
