"""Fixtures for the offline engine's loopback tests.

``offline_engine`` (session-wide, shared with other suites) lives in
``tests/conftest.py``; this directory could use it as is, so no second engine
fixture is defined for the lead to lift. Tests that inject faults or drop
connections use the module-scoped ``private_engine`` (also in ``tests/conftest.py``)
so that nothing leaks into other tests.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from offline_helpers import RECV_TIMEOUT, SocketClient, auth_headers
from websockets.sync.client import connect

from studio.offline import OfflineEngine


@pytest.fixture
def engine(offline_engine: OfflineEngine) -> OfflineEngine:
    return offline_engine


@pytest.fixture
def http(engine: OfflineEngine) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=engine.base_url, headers=auth_headers(engine), timeout=60.0
    ) as client:
        yield client


@pytest.fixture
def sdk(engine: OfflineEngine) -> Iterator[Any]:
    from cartesia import Cartesia

    client = Cartesia(api_key=engine.api_key, base_url=engine.base_url,
                      websocket_base_url=engine.websocket_base_url, max_retries=0, timeout=60.0)
    yield client
    client.close()


@pytest.fixture
def open_socket(engine: OfflineEngine) -> Iterator[Callable[..., SocketClient]]:
    """``open_socket(target=None, query=None, headers=None)`` -> :class:`SocketClient`,
    by default authenticated with headers against the shared engine."""
    with contextlib.ExitStack() as stack:

        def _open(target: OfflineEngine | None = None, query: str | None = None,
                  headers: dict[str, str] | None = None) -> SocketClient:
            eng = target or engine
            url = f"{eng.websocket_base_url}/tts/websocket" + (f"?{query}" if query else "")
            conn = stack.enter_context(connect(
                url, additional_headers=auth_headers(eng) if headers is None else headers,
                open_timeout=RECV_TIMEOUT, close_timeout=5,
            ))
            return SocketClient(conn)

        yield _open
