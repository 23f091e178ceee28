"""``AsyncPager``: ``async for`` fetches a page only when the previous one is used up,
``iter_pages`` gives whole pages, ``await`` gathers every item; nothing is sent before."""

from __future__ import annotations

import httpx

from studio.api import CartesiaClient, RetryPolicy

PAGES = [
    {"data": [{"id": "d1", "name": "One", "owner_id": "u", "pinned": False,
               "created_at": "2025-01-01T00:00:00Z", "items": []}], "has_more": True},
    {"data": [{"id": "d2", "name": "Two", "owner_id": "u", "pinned": False,
               "created_at": "2025-01-01T00:00:00Z", "items": []}], "has_more": False},
]


def client_for(requests: list[httpx.Request]) -> CartesiaClient:
    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json=PAGES[1 if "starting_after" in request.url.params else 0])

    return CartesiaClient("sk_test_not_a_real_key", base_url="https://api.example.test",
                          transport=httpx.MockTransport(answer),
                          retry_policy=RetryPolicy(max_retries=0))


async def test_async_for_fetches_each_page_when_it_is_reached() -> None:
    requests: list[httpx.Request] = []
    async with client_for(requests) as client:
        pager = client.pronunciation_dicts.list(limit=1)
        assert requests == []
        seen = []
        async for entry in pager:
            seen.append((entry.id, len(requests)))
    assert seen == [("d1", 1), ("d2", 2)]
    assert requests[1].url.params["starting_after"] == "d1"


async def test_iter_pages_and_await() -> None:
    requests: list[httpx.Request] = []
    async with client_for(requests) as client:
        pager = client.pronunciation_dicts.list(limit=1)
        pages = [[d.id for d in page.data] async for page in pager.iter_pages()]
        gathered = [d.id for d in await pager]
    assert pages == [["d1"], ["d2"]]
    assert gathered == ["d1", "d2"] and len(requests) == 4  # each walk starts again
