"""Fixtures for the client's loopback tests: a private offline engine per module,
so injected faults and dropped connections never leak into other tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from misbehaving_server import MisbehavingServer

from studio.offline import OfflineEngine


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OfflineEngine]:
    """A running offline engine on 127.0.0.1 (random port and key)."""
    server = OfflineEngine(data_dir=tmp_path_factory.mktemp("client-engine"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def misbehaving() -> AsyncIterator[MisbehavingServer]:
    """A :class:`MisbehavingServer` on 127.0.0.1; set its modes in the test."""
    server = MisbehavingServer()
    await server.start()
    yield server
    await server.stop()
