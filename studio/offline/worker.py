"""Run blocking synthesis in a worker thread and stream its output to asyncio.

espeak-ng renders synchronously, calling back with ~100 ms blocks; each block
is handed to the event loop with ``loop.call_soon_threadsafe`` into an
``asyncio.Queue`` (the pattern of python-sounddevice's
``examples/asyncio_generators.py``), so the first block reaches the client
while later sentences are still being rendered.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor
from typing import Generic, TypeVar

T = TypeVar("T")

#: ``work(emit, cancelled)``: produce items by calling ``emit``; poll
#: ``cancelled()`` and return early once it is true.
Work = Callable[[Callable[[T], None], Callable[[], bool]], object]


class _End:
    """Queue marker: the worker returned (or raised)."""


_END = _End()


class ThreadStream(Generic[T]):
    """Async iterator over the items a blocking ``work`` function emits.

    Iterate with ``async for``; the work's exception, if any, is raised once
    the items before it are consumed. :meth:`cancel` (also called when the
    iteration is abandoned) tells the work to stop; it does not wait for it.
    """

    def __init__(self, executor: Executor | None, work: Work[T]) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[T | _End] = asyncio.Queue()
        self._stop = threading.Event()
        self._future = self._loop.run_in_executor(executor, work, self._emit, self._stop.is_set)
        # run_in_executor completes its future via call_soon_threadsafe too, so
        # this marker lands after every item the worker emitted.
        self._future.add_done_callback(lambda _f: self._queue.put_nowait(_END))

    def _emit(self, item: T) -> None:
        if self._stop.is_set():
            return
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # loop closed under us: nobody is listening any more
            self._stop.set()

    def cancel(self) -> None:
        """Ask the work to stop; items not yet consumed are discarded."""
        self._stop.set()

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    async def wait(self) -> None:
        """Wait until the work has returned (after :meth:`cancel`, for example)."""
        await asyncio.wait({self._future})

    def __aiter__(self) -> AsyncIterator[T]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[T]:
        try:
            while True:
                item = await self._queue.get()
                if isinstance(item, _End):
                    break
                yield item
            self._future.result()
        finally:
            self._stop.set()
