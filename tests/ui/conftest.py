"""Fixtures for widget tests: a real studio window on the session's offline engine, and a
playback service whose players only record what they are given."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from studio.api import CartesiaClient
from studio.app import Studio
from studio.config import Settings
from studio.services.backend import OFFLINE, Backend
from studio.services.playback import PlaybackService


class RecordingPlayer:
    """Stands in for ``StreamPlayer`` (a ``PlaybackService`` player): keeps every write
    and plays until stopped, or until :meth:`finish` is called."""

    is_null = False

    def __init__(self, sample_rate: int, device: Any = None) -> None:
        self.sample_rate = sample_rate
        self.device = device
        self.writes: list[np.ndarray] = []
        self.free_frames = 10**9
        self.position_frames = 0
        self.paused = False
        self._done = asyncio.Event()

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    def start(self) -> None:
        self._done.clear()

    def write(self, samples: np.ndarray) -> None:
        self.writes.append(np.array(samples, dtype=np.float32, copy=True))

    def finish_input(self) -> None:
        pass

    async def wait_done(self) -> None:
        await self._done.wait()

    def finish(self) -> None:
        self._done.set()

    def stop(self) -> None:
        self._done.set()

    def close(self) -> None:
        self._done.set()

    def played(self) -> np.ndarray:
        return np.concatenate(self.writes) if self.writes else np.zeros(0, np.float32)


@pytest.fixture
def players() -> list[RecordingPlayer]:
    """The :class:`RecordingPlayer` s the ``playback`` fixture made, oldest first."""
    return []


@pytest.fixture
def playback(qloop, players: list[RecordingPlayer]) -> Iterator[PlaybackService]:  # type: ignore[no-untyped-def]
    """A :class:`PlaybackService` playing into :class:`RecordingPlayer` s (``players``)."""

    def factory(sample_rate: int, device: Any = None) -> RecordingPlayer:
        players.append(RecordingPlayer(sample_rate, device))
        return players[-1]

    service = PlaybackService(player_factory=factory)
    yield service
    service.shutdown()


@pytest.fixture
def open_studio(qtbot, qloop, offline_engine) -> Iterator[Callable[..., Studio]]:  # type: ignore[no-untyped-def]
    """Factory for started studios connected to the offline engine over loopback.

    ``open_studio(settings, player_factory=..., backend_cls=..., max_retries=...,
    opened=list)`` returns a :class:`Studio` whose backend is connected and whose voices
    are loaded; every studio it made is shut down after the test. The studio gets a copy
    of ``settings`` unless ``shared`` (for a restart that must see the last project).
    """
    made: list[Studio] = []

    def factory(
        settings: Settings | None = None,
        *,
        player_factory: Callable[..., Any] | None = None,
        backend_cls: type[Backend] = Backend,
        max_retries: int = 2,
        opened: list[Backend] | None = None,
        shared: bool = False,
    ) -> Studio:
        async def backend_factory(_settings: Settings) -> Backend:
            client = CartesiaClient(offline_engine.api_key, base_url=offline_engine.base_url,
                                    websocket_base_url=offline_engine.websocket_base_url,
                                    max_retries=max_retries)
            backend = backend_cls(OFFLINE, client)
            if opened is not None:
                opened.append(backend)
            return backend

        if settings is None:
            settings = Settings()
        elif not shared:
            # A copy: the studio records its project in the settings, and a module's
            # shared Settings must not carry one test's project into the next.
            settings = dataclasses.replace(settings, recent_projects=list(settings.recent_projects))
        studio = Studio(settings, backend_factory=backend_factory,
                        player_factory=player_factory)
        studio.window.discard_confirmed = True  # qtbot closes the window after the test
        qtbot.addWidget(studio.window)
        studio.start(welcome=False)
        qloop.run_until_complete(studio._connect_task)
        qloop.run_until_complete(studio.project_task)
        made.append(studio)
        return studio

    yield factory
    for studio in made:
        qloop.run_until_complete(studio.shutdown())
