"""Running blocking work off the UI thread from a coroutine."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def in_thread(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in the default executor.

    Not :func:`asyncio.to_thread`: under qasync a task may be stepped from a Qt event
    while no loop is "running", where ``to_thread`` (``get_running_loop``) fails.
    """
    return await asyncio.get_event_loop().run_in_executor(None, fn, *args)
