"""``client.pronunciation_dicts``: the user's pronunciation dictionaries (SDK
``client.pronunciation_dicts.list/get/create/update/delete/pin/unpin``; seed
``pronunciationDicts_*``).

Where this deviates from the SDK reference, and why:

- ``list`` takes no ``starting_after``/``ending_before``: it returns an
  :class:`~studio.api.resources._pagination.AsyncPager` that follows the cursor itself
  (``async for`` page by page, ``await`` for every dictionary as a list).
- ``create`` and ``update`` take :class:`~studio.api.models.PronunciationItem` values,
  checked before anything is sent, instead of the SDK's ``PronunciationDictItemParams``
  dicts.
- ``pin`` and ``unpin`` are in the SDK reference but not in the OpenAPI seed or the v4
  SDK, and the reference names no path: ``POST /pronunciation-dicts/{id}/pin`` and
  ``/unpin`` are REST convention, and any body is ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from studio.api._constants import MAX_PAGE_SIZE
from studio.api._http import json_body
from studio.api.models import PronunciationDict, PronunciationDictPage, PronunciationItem
from studio.api.resources._base import APIResource
from studio.api.resources._pagination import AsyncPager


def _check_name(name: str) -> None:
    if not name.strip():
        raise ValueError("a pronunciation dictionary needs a name; got a blank one")


def _check_items(items: Iterable[PronunciationItem]) -> list[dict[str, str]]:
    """``items`` as ``PronunciationDictItem`` bodies.

    Raises:
        TypeError: an item that is not a :class:`PronunciationItem`.
        ValueError: an item with a blank ``text`` or ``alias`` (an entry that says
            nothing).
    """
    out = []
    for n, item in enumerate(items):
        if not isinstance(item, PronunciationItem):
            raise TypeError(f"items[{n}] is a {type(item).__name__}, not a PronunciationItem")
        if not item.text.strip():
            raise ValueError(f"items[{n}] has no text")
        if not item.alias.strip():
            raise ValueError(f"items[{n}] ({item.text!r}) has no alias")
        out.append(item.to_json())
    return out


def _dict_path(id: str) -> str:
    if not id:
        raise ValueError("pronunciation dict id is empty")
    return f"/pronunciation-dicts/{quote(id, safe='')}"


class PronunciationDictsResource(APIResource):
    """Pronunciation dictionaries: ``/pronunciation-dicts/`` and
    ``/pronunciation-dicts/{id}``.

    Errors as :class:`~studio.api.client.CartesiaClient` lists them; a ``ValueError``
    (or ``TypeError``) for an argument the seed rules out is raised before anything is
    sent.
    """

    def list(self, *, limit: int = MAX_PAGE_SIZE) -> AsyncPager[PronunciationDict]:
        """Every dictionary of the user from ``GET /pronunciation-dicts/`` (seed
        ``pronunciationDicts_list``), ``limit`` a page, pages chained with
        ``starting_after=<last id>`` until ``has_more`` is false.

        Raises:
            ValueError: ``limit`` outside 1-100 (at the call; nothing is sent).
            ResponseFormatError: a page claims more but repeats a cursor or is empty.
        """
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be in 1..{MAX_PAGE_SIZE}, got {limit}")
        return AsyncPager(self._http, "/pronunciation-dicts/", {"limit": limit},
                          PronunciationDictPage.from_json)

    async def get(self, id: str) -> PronunciationDict:
        """``GET /pronunciation-dicts/{id}`` (seed ``pronunciationDicts_get``).

        Raises:
            ValueError: an empty ``id``.
            NotFoundError: no such dictionary.
        """
        response = await self._http.request("GET", _dict_path(id))
        return PronunciationDict.from_json(json_body(response, "GET /pronunciation-dicts/{id}"))

    async def create(
        self, name: str, items: Iterable[PronunciationItem] = ()
    ) -> PronunciationDict:
        """``POST /pronunciation-dicts/`` (seed ``pronunciationDicts_create``, body
        ``CreatePronunciationDictRequest``: ``name`` and ``items``, always sent, ``[]``
        for none).

        Raises:
            ValueError: a blank ``name`` or an item with a blank text or alias.
            TypeError: an item that is not a :class:`PronunciationItem`.
            (Nothing is sent for either.)
        """
        _check_name(name)
        body = {"name": name.strip(), "items": _check_items(items)}
        response = await self._http.request("POST", "/pronunciation-dicts/", json=body,
                                            creates=True)
        return PronunciationDict.from_json(json_body(response, "POST /pronunciation-dicts/"))

    async def update(
        self,
        id: str,
        *,
        name: str | None = None,
        items: Iterable[PronunciationItem] | None = None,
    ) -> PronunciationDict:
        """``PATCH /pronunciation-dicts/{id}`` (seed ``pronunciationDicts_update``, body
        ``UpdatePronunciationDictRequest``): only the fields given are sent; ``items``
        replaces the whole list.

        Raises:
            ValueError: an empty ``id``, neither field given, a blank ``name`` or an
                item with a blank text or alias (nothing is sent).
            TypeError: an item that is not a :class:`PronunciationItem`.
            NotFoundError: no such dictionary.
        """
        path = _dict_path(id)
        body: dict[str, Any] = {}
        if name is not None:
            _check_name(name)
            body["name"] = name.strip()
        if items is not None:
            body["items"] = _check_items(items)
        if not body:
            raise ValueError("pronunciation_dicts.update needs a name, items or both")
        response = await self._http.request("PATCH", path, json=body)
        return PronunciationDict.from_json(
            json_body(response, "PATCH /pronunciation-dicts/{id}"))

    async def delete(self, id: str) -> None:
        """``DELETE /pronunciation-dicts/{id}`` (seed ``pronunciationDicts_delete``, 204).

        Raises:
            ValueError: an empty ``id``.
            NotFoundError: no such dictionary.
        """
        await self._http.request("DELETE", _dict_path(id))

    async def pin(self, id: str) -> None:
        """``POST /pronunciation-dicts/{id}/pin``: make it the user's pinned dictionary,
        which generation applies first (SDK reference: ``pronunciation_dicts.pin`` and
        ``pronunciation_dict_ids``). Read the dictionaries again to see ``pinned``.

        Raises:
            ValueError: an empty ``id``.
            NotFoundError: no such dictionary (or no such endpoint on this server).
        """
        await self._http.request("POST", _dict_path(id) + "/pin")

    async def unpin(self, id: str) -> None:
        """``POST /pronunciation-dicts/{id}/unpin`` (SDK reference
        ``pronunciation_dicts.unpin``); the same caveats as :meth:`pin`."""
        await self._http.request("POST", _dict_path(id) + "/unpin")
