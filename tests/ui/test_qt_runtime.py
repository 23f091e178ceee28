"""Guards against Qt-binding bugs the studio cannot work around in its own code."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    flag = Signal(bool)
    progress = Signal(str, float)


def test_emitting_bool_signals_keeps_reference_counts(qapp) -> None:  # type: ignore[no-untyped-def]
    """PySide6 6.12.0 lost a reference to True on each emit, crashing the process
    later; pyproject.toml excludes it. This fails on any binding with that bug."""
    emitter = _Emitter()
    received: list[object] = []
    emitter.flag.connect(received.append)
    emitter.progress.connect(lambda block, fraction: received.append(fraction))
    before = sys.getrefcount(True), sys.getrefcount(False)
    for _ in range(50):
        emitter.flag.emit(True)
        emitter.flag.emit(False)
        emitter.progress.emit("block", 0.5)
    received.clear()
    assert (sys.getrefcount(True), sys.getrefcount(False)) == before
