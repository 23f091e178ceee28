"""Shared fixtures: an isolated environment, the offline engine on loopback, and a
qasync loop for widget tests."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before any Qt import: widgets render offscreen; settings and engine data stay in a
# temporary folder; no cloud key leaks in from the developer's shell, and no test reads
# or writes the developer's OS keyring (keyring's fail backend: the key store uses its
# fallback file in the temporary config folder; tests/test_keystore.py uses real ones).
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.pop("CARTESIA_API_KEY", None)
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"


@pytest.fixture(scope="session", autouse=True)
def _collect_on_the_main_thread() -> Iterator[None]:
    """Python's cyclic garbage collector runs in whichever thread happens to allocate,
    and a Qt object collected outside the UI thread crashes Qt (seen as a segfault while
    the offline engine's thread collected a finished test's studio). As in the studio
    (``studio.app.MainThreadCollector``), automatic collection is off and garbage is
    collected on the main thread, after every test."""
    gc.disable()
    yield
    gc.enable()


@pytest.fixture(autouse=True)
def _collect_after_test() -> Iterator[None]:
    yield
    # The test's own garbage is all young: collecting generation 0 finds it, and costs
    # far less than a full collection over everything the session has imported.
    gc.collect(0)


@pytest.fixture(scope="session", autouse=True)
def isolated_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("studio-home")
    old = {k: os.environ.get(k) for k in ("STUDIO_CONFIG_DIR", "STUDIO_DATA_DIR")}
    os.environ["STUDIO_CONFIG_DIR"] = str(root / "config")
    os.environ["STUDIO_DATA_DIR"] = str(root / "data")
    yield root
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def private_engine(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """An offline engine of the module's own: faults injected, connections dropped and
    data written there never reach other modules' tests."""
    from studio.offline import OfflineEngine

    engine = OfflineEngine(data_dir=tmp_path_factory.mktemp("private-engine"))
    engine.start()
    yield engine
    engine.stop()


@pytest.fixture
def loopback_client(qloop):  # type: ignore[no-untyped-def]
    """``loopback_client(engine, **kwargs)`` makes a :class:`CartesiaClient` for an
    offline engine (no retries unless ``max_retries`` is given); all are closed after
    the test."""
    from studio.api import CartesiaClient

    made: list[CartesiaClient] = []

    def make(engine, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("max_retries", 0)
        client = CartesiaClient(engine.api_key, base_url=engine.base_url,
                                websocket_base_url=engine.websocket_base_url, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        qloop.run_until_complete(client.aclose())


@pytest.fixture(scope="session")
def offline_engine(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One offline engine for the session, on 127.0.0.1 with a random port and key."""
    from studio.offline import OfflineEngine

    engine = OfflineEngine(data_dir=tmp_path_factory.mktemp("engine-data"))
    engine.start()
    yield engine
    engine.stop()


@pytest.fixture(scope="session")
def _session_qloop(qapp):  # type: ignore[no-untyped-def]
    """One qasync loop for the whole session, closed at the end.

    A loop per test would leave Qt timers aimed at loops already destroyed (qasync
    schedules ``call_later`` with Qt timers), which can crash a later test.
    """
    import qasync

    loop = qasync.QEventLoop(qapp, already_running=False)
    yield loop
    loop.close()  # joins qasync's executor thread, so Qt never destroys it running


@pytest.fixture
def qloop(_session_qloop):  # type: ignore[no-untyped-def]
    """The session's qasync loop, set as the current asyncio loop for one test.

    Tests drive it with ``qloop.run_until_complete(...)``; Qt events are processed
    meanwhile, as in the running studio.
    """
    asyncio.set_event_loop(_session_qloop)
    yield _session_qloop
    _session_qloop.run_until_complete(asyncio.sleep(0))
    asyncio.set_event_loop(None)


@pytest.fixture(scope="session")
def flac_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The decompression bomb of issue 14: 600 s x 8 channels x 192 kHz of silence, a
    FLAC of under 1 MB that decodes to 921.6 million samples (3.7 GB as float32).
    Written one second at a time, so building it costs 6 MB, not gigabytes."""
    import numpy as np
    import soundfile as sf

    path = tmp_path_factory.mktemp("bomb") / "bomb.flac"
    second = np.zeros((192_000, 8), dtype=np.int16)
    with sf.SoundFile(path, "w", 192_000, 8, format="FLAC", subtype="PCM_16") as out:
        for _ in range(600):
            out.write(second)
    return path
