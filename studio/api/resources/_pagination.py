"""Cursor pagination as the seed defines it for every list endpoint (voices,
pronunciation dictionaries; datasets, fine-tunes and agents' calls too): a page is
``{"data": [...], "has_more": bool}`` and the next one is asked for with
``starting_after=<id of the last item>``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Generator, Sequence
from typing import Any, Generic, Protocol, TypeVar

from studio.api._http import HttpCore, json_body
from studio.api.errors import ResponseFormatError


class Item(Protocol):
    """What a listed item needs for pagination: its id, the next page's cursor."""

    @property
    def id(self) -> str: ...


ItemT = TypeVar("ItemT", bound=Item)
ItemT_co = TypeVar("ItemT_co", bound=Item, covariant=True)


class Page(Protocol[ItemT_co]):
    """One page as parsed (``VoicePage``, ``PronunciationDictPage``...)."""

    @property
    def data(self) -> Sequence[ItemT_co]: ...

    @property
    def has_more(self) -> bool: ...


class AsyncPager(Generic[ItemT]):
    """The items of a cursor-paginated list, first to last, fetched page by page.

    As the SDK's pager: ``async for item in pager`` fetches a page when the previous one
    is used up, and ``async for page in pager.iter_pages()`` gives whole pages. Unlike
    it, ``await pager`` gathers every item of every page into a ``list`` (what most
    callers want: the whole catalogue). Nothing is sent until the pager is iterated or
    awaited; each iteration starts again from the first page.

    Raises (while iterating):
        ResponseFormatError: a page claims more but is empty or repeats a cursor (a
            server that would loop forever), or a body that does not match the seed.
        and the errors of :class:`~studio.api.client.CartesiaClient`.
    """

    def __init__(
        self,
        http: HttpCore,
        path: str,
        params: dict[str, Any],
        parse: Callable[[Any], Page[ItemT]],
    ) -> None:
        self._http = http
        self._path = path
        self._params = params
        self._parse = parse

    async def iter_pages(self) -> AsyncIterator[Page[ItemT]]:
        """Every page, first to last, each fetched when the previous one was taken."""
        where = f"GET {self._path}"
        params = self._params
        seen: set[str] = set()
        while True:
            response = await self._http.request("GET", self._path, params=params)
            page = self._parse(json_body(response, where))
            yield page
            if not page.has_more:
                return
            if not page.data:
                raise ResponseFormatError(f"{where}: has_more is true but the page is empty")
            cursor = page.data[-1].id
            if cursor in seen:
                raise ResponseFormatError(f"{where}: the cursor {cursor!r} came back twice")
            seen.add(cursor)
            params = {**params, "starting_after": cursor}

    async def __aiter__(self) -> AsyncIterator[ItemT]:
        async for page in self.iter_pages():
            for item in page.data:
                yield item

    def __await__(self) -> Generator[Any, None, list[ItemT]]:
        return self._gather().__await__()

    async def _gather(self) -> list[ItemT]:
        return [item async for item in self]
