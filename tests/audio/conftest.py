"""Fixtures for the audio tests; the fakes themselves live in ``audio_fakes``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from audio_fakes import StreamRecorder


@pytest.fixture
def recorder() -> StreamRecorder:
    return StreamRecorder()


@pytest.fixture
def gated_recorder() -> tuple[StreamRecorder, threading.Semaphore]:
    gate = threading.Semaphore(0)
    return StreamRecorder(gate), gate


@pytest.fixture
def install_sounddevice(monkeypatch: pytest.MonkeyPatch) -> Callable[[Any], None]:
    """Make ``studio.audio.devices`` see a given module, or an import failure."""
    from studio.audio import devices

    def install(module_or_error: Any) -> None:
        def fake_import() -> Any:
            if isinstance(module_or_error, BaseException):
                raise module_or_error
            return module_or_error

        monkeypatch.setattr(devices, "_import_sounddevice", fake_import)

    return install
