"""Creating something at most once: Cartesia has no idempotency key, so a create whose
answer was lost is never sent again; the list is searched for the result instead (as
the Voice Lab does for clones, :mod:`studio.services.voice_lab`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from studio.api.errors import (
    CartesiaError,
    ConnectionLostError,
    OutcomeUnknownError,
    ServerError,
)
from studio.api.resources._pagination import AsyncPager, Item

log = logging.getLogger(__name__)

R = TypeVar("R")
T = TypeVar("T", bound=Item)

#: Failures after which the server may have made it (``creates=True`` does not retry
#: them: :meth:`~studio.api._http.HttpCore.request`). APITimeoutError is a
#: ConnectionLostError.
MAYBE_CREATED = (ServerError, ConnectionLostError)


async def create_once(send: Callable[[], Awaitable[R]], listing: Callable[[], AsyncPager[T]],
                      matches: Callable[[T], bool], what: str) -> R | T:
    """``await send()``; if it fails with :data:`MAYBE_CREATED`, the one item of
    ``listing()`` that ``matches`` and was not listed before the send.

    The matching items are listed before sending (every page of ``listing()``: one
    request for up to 100 items), so an older item of the same name is never taken
    for the new one.

    Returns:
        What ``send`` returned, or the item found.

    Raises:
        OutcomeUnknownError: the send may have made it, and listing found none, several,
            or failed (``__cause__`` is the send's error).
        CartesiaError: any other failure of the send or of the first listing (nothing
            was made).
    """
    before = {item.id async for item in listing() if matches(item)}
    try:
        return await send()
    except MAYBE_CREATED as exc:
        log.warning("creating %s failed, looking for it: %s", what, exc)
        try:
            found = [item async for item in listing()
                     if matches(item) and item.id not in before]
        except CartesiaError as lookup:
            raise OutcomeUnknownError(
                f"{exc}. The server may have created {what} anyway, and listing to find "
                f"out failed ({lookup}); check before trying again") from exc
        if len(found) == 1:
            log.info("%s was created after all: %s", what, found[0].id)
            return found[0]
        raise OutcomeUnknownError(
            f"{exc}. The server may have created {what} anyway"
            + (f" ({len(found)} new matches listed)" if found else " (not listed yet)")
            + "; check before trying again") from exc
