"""Ctrl+C and SIGTERM during an asyncio verb cancel its main task.

A ``KeyboardInterrupt`` is raised wherever the signal lands; inside a C callback
(libsndfile's cffi, a websockets frame parser) it can be swallowed, and elsewhere it
skips the work's own clean-up. Cancelling the task instead lets the render unwind
through its ``finally`` blocks and keep what finished (``loop.add_signal_handler``,
Python docs "asyncio - Event Loop - Unix signals").
"""

from __future__ import annotations

import asyncio
import signal
from types import TracebackType
from typing import Any, Self

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class SignalCancel:
    """Within ``with SignalCancel():`` (inside a running task) Ctrl+C and SIGTERM
    cancel that task once; the handlers in place before are restored on exit.

    Attributes:
        signal: the signal that arrived, or None.
    """

    def __init__(self) -> None:
        self.signal: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> Self:
        self._loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None, "SignalCancel needs a running task"
        self._task = task
        for sig in SIGNALS:
            self._previous[sig] = signal.getsignal(sig)
            self._loop.add_signal_handler(sig, self._on_signal, sig)
        return self

    def _on_signal(self, sig: int) -> None:
        if self.signal is None:
            self.signal = sig
            self._task.cancel()

    def absorb(self) -> None:
        """The cancellation this signal caused has been handled: let the task await
        again (its clean-up and the partial output)."""
        self._task.uncancel()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for sig, previous in self._previous.items():
            self._loop.remove_signal_handler(sig)
            signal.signal(sig, previous)
