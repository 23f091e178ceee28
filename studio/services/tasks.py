"""Coroutines an object starts and owns: started from slots, failures reported, and
awaitable until idle (STYLE.md: "tests get a way to wait until idle")."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

Work = Callable[..., Coroutine[Any, Any, object]]  # what it returns is not used


class TaskGroup:
    """The running coroutines of one owner (a panel, a dialog, a service).

    Unlike :class:`asyncio.TaskGroup` it is not a context manager: work is started from
    Qt slots, runs on its own, and a failure in one task never cancels the others. An
    exception a task raises (other than cancellation) is logged and handed to
    ``on_error``, so it never goes unseen and never reaches the event loop.

    Args:
        on_error: called on the event loop with the exception of a task that failed;
            None only logs it.
        what: names the owner in log messages.
    """

    def __init__(self, on_error: Callable[[Exception], None] | None = None,
                 what: str = "task") -> None:
        self._on_error = on_error
        self._what = what
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def start(self, work: Work, *args: Any) -> asyncio.Task[None]:
        """Run ``work(*args)`` as a task of this group; returns the task."""
        task = asyncio.ensure_future(self._guarded(work, *args))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _guarded(self, work: Work, *args: Any) -> None:
        try:
            await work(*args)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("%s failed: %s", self._what, exc, exc_info=exc)
            if self._on_error is not None:
                self._on_error(exc)

    async def wait_idle(self) -> None:
        """Return once every task started here, and any they started meanwhile, ended."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    def cancel(self) -> None:
        """Cancel every running task (for shutdown)."""
        for task in list(self._tasks):
            task.cancel()
