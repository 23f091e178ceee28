"""Fixtures for widget tests: a real studio window on the session's offline engine."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from studio.api import CartesiaClient
from studio.app import Studio
from studio.config import Settings
from studio.services.backend import OFFLINE, Backend


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
