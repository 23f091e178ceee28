"""Start and stop the offline engine: in a background thread, or on a loop.

:class:`OfflineEngine` runs the server of :mod:`studio.offline.server` in its
own thread with its own asyncio loop (as httpx's tests run uvicorn), so the
studio's qasync loop and plain synchronous tests can both talk to it over
loopback. :func:`serve` runs the same server on the caller's loop, for
``cartesia-studio serve-local``.

The engine binds 127.0.0.1 unless ``allow_remote=True``: it has one bearer key
and no rate limiting, so exposing it is an explicit choice. Requests must name
a loopback ``Host`` and carry no browser ``Origin`` unless one is in
``allowed_origins`` (:mod:`studio.offline.guard`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import pathlib
import secrets
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Self

import platformdirs
from aiohttp import web

from studio.offline import espeak
from studio.offline.guard import Access, ProtocolLog
from studio.offline.instrumentation import EngineStats, FaultPlan
from studio.offline.server import create_app
from studio.offline.state import ServerState
from studio.offline.voice_store import VoiceStore
from studio.offline.voices import VoiceCatalog

log = logging.getLogger(__name__)

#: Synthesis worker threads; espeak-ng itself is serialised, the rest
#: (resampling, encoding) overlaps.
SYNTH_WORKERS = 4
#: Seconds to wait for the server thread to start listening.
START_TIMEOUT = 60.0
#: Seconds open requests get to finish when the engine stops.
SHUTDOWN_GRACE = 1.0


def default_data_dir() -> pathlib.Path:
    """``<user data dir>/cartesia-studio/offline-engine`` (platformdirs)."""
    return pathlib.Path(platformdirs.user_data_dir("cartesia-studio")) / "offline-engine"


def check_host(host: str, allow_remote: bool) -> None:
    """Refuse a non-loopback ``host`` unless ``allow_remote``.

    Raises:
        ValueError: for a host that is not loopback (or not an address).
    """
    if allow_remote or host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(
            f"refusing to bind the offline engine to {host!r}: it is not a loopback address; "
            "pass allow_remote=True to expose it on the network"
        )


def access_for(host: str, allow_remote: bool, allowed_origins: Iterable[str]) -> Access:
    """The ``Host``/``Origin`` policy for an engine bound to ``host``
    (:mod:`studio.offline.guard`)."""
    return Access(host, allow_remote, frozenset(o.strip().lower() for o in allowed_origins))


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class _Server:
    """The aiohttp runner plus shared state, bound to the loop that starts it."""

    def __init__(self, host: str, port: int, state: ServerState) -> None:
        self.host = host
        self.requested_port = port
        self.state = state
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self.state.executor, espeak.sample_rate)
        except espeak.EspeakError as exc:
            raise RuntimeError(f"offline engine cannot start: {exc}") from exc
        store = VoiceStore(self.state.data_dir)
        owned = await loop.run_in_executor(self.state.executor, store.load)
        self.state.catalog = VoiceCatalog(owned=owned)
        self.state.store = store
        if owned:
            log.info("loaded %d voice(s) of yours from %s", len(owned), store.path)
        app = create_app(self.state)
        app.on_shutdown.append(self._close_sockets)
        runner = web.AppRunner(app, handle_signals=False, access_log=None,
                               shutdown_timeout=SHUTDOWN_GRACE, logger=ProtocolLog())
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.requested_port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise OSError(
                exc.errno,
                f"offline engine cannot listen on "
                f"{self.host}:{self.requested_port}: {exc.strerror or exc}",
            ) from exc
        self._runner = runner
        server = site._server  # aiohttp exposes the bound sockets only here
        sockets = getattr(server, "sockets", None) or ()
        self.port = sockets[0].getsockname()[1] if sockets else self.requested_port
        log.info("offline engine listening on %s:%d", self.host, self.port)

    async def _close_sockets(self, app: web.Application) -> None:
        for session in list(self.state.sessions):
            await session.close()

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    def drop_websockets_after(self, messages: int, include_future: bool) -> None:
        for session in list(self.state.sessions):
            session.drop_after(messages)
        self.state.pending_drop = messages if include_future else None


class OfflineEngine:
    """Runs the server in a background thread with its own asyncio loop.

    Attributes:
        base_url: ``"http://127.0.0.1:PORT"`` once started.
        websocket_base_url: ``"ws://127.0.0.1:PORT"`` once started.
        api_key: the bearer key clients must send (random unless given).
        port: the bound TCP port (the requested one, or the OS's pick for 0).
        stats: per-route request counters (:class:`EngineStats`).
        access: the ``Host``/``Origin`` policy (:class:`~studio.offline.guard.Access`).
        data_dir: where previews and your voices (``voices.json``: cloned and
            localized, loaded at start) are kept.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        data_dir: pathlib.Path | None = None,
        allow_remote: bool = False,
        allowed_origins: Iterable[str] = (),
    ) -> None:
        check_host(host, allow_remote)
        self.host = host
        self.access = access_for(host, allow_remote, allowed_origins)
        self.port = port
        self.api_key = api_key or secrets.token_urlsafe(24)
        self.data_dir = pathlib.Path(data_dir) if data_dir is not None else default_data_dir()
        self.stats = EngineStats()
        self._faults = FaultPlan()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: _Server | None = None
        self._executor: ThreadPoolExecutor | None = None

    @property
    def base_url(self) -> str:
        return f"http://{_url_host(self.host)}:{self.port}"

    @property
    def websocket_base_url(self) -> str:
        return f"ws://{_url_host(self.host)}:{self.port}"

    @property
    def running(self) -> bool:
        """True between a successful :meth:`start` and :meth:`stop`."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start serving; returns once the socket is listening.

        Raises:
            RuntimeError: already started, espeak-ng unavailable, or the
                server thread did not come up in time.
            OSError: the address cannot be bound (e.g. port in use).
        """
        if self._thread is not None:
            raise RuntimeError("offline engine already started")
        ready = threading.Event()
        failure: list[Exception] = []
        self._executor = ThreadPoolExecutor(SYNTH_WORKERS, thread_name_prefix="offline-synth")
        state = ServerState(api_key=self.api_key, data_dir=self.data_dir,
                            executor=self._executor, stats=self.stats, faults=self._faults,
                            access=self.access)
        self._server = _Server(self.host, self.port, state)
        self._thread = threading.Thread(
            target=self._main, args=(ready, failure), name="offline-engine", daemon=True
        )
        self._thread.start()
        if not ready.wait(START_TIMEOUT):
            raise RuntimeError(f"offline engine did not start within {START_TIMEOUT:g} s")
        if failure:
            self._thread.join()
            self._thread = None
            self._executor.shutdown(wait=False, cancel_futures=True)
            raise failure[0]
        self.port = self._server.port

    def _main(self, ready: threading.Event, failure: list[Exception]) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        server = self._server
        assert server is not None
        try:
            loop.run_until_complete(server.start())
        except Exception as exc:  # noqa: BLE001  # handed to start() in the caller's thread
            failure.append(exc)
            ready.set()
            loop.close()
            return
        self._loop = loop
        ready.set()
        try:
            loop.run_forever()
        finally:
            try:
                loop.run_until_complete(server.stop())
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                self._loop = None
                loop.close()

    def stop(self) -> None:
        """Stop serving and join the thread. Idempotent."""
        thread, loop = self._thread, self._loop
        if thread is None:
            return
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # closed between the check and the call
                loop.call_soon_threadsafe(loop.stop)
        thread.join()
        self._thread = None
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def inject_faults(
        self, route: str, statuses: list[int], retry_after: float | None = None
    ) -> None:
        """Test hook: the next ``len(statuses)`` HTTP requests to ``route``
        (a route template such as ``"/tts/bytes"`` or ``"/voices/{id}"``, or a
        concrete path) answer with those statuses and the JSON error body,
        plus ``Retry-After: <retry_after>`` when given, instead of being
        served. For ``"/tts/websocket"`` the next handshakes are refused.

        Raises:
            ValueError: for a status outside 400..599.
        """
        self._faults.add(route, statuses, retry_after)

    def drop_websockets_after(self, messages: int, include_future: bool = False) -> None:
        """Test hook: abruptly close (``transport.abort()``, no close frame)
        every open WebSocket connection once it has sent ``messages`` more
        messages. With ``include_future`` the next connection opened gets the
        same treatment. Returns once applied.

        Raises:
            RuntimeError: if the engine is not running.
        """
        loop, server = self._loop, self._server
        if loop is None or server is None:
            raise RuntimeError("offline engine is not running")

        async def apply() -> None:
            server.drop_websockets_after(messages, include_future)

        asyncio.run_coroutine_threadsafe(apply(), loop).result(timeout=30)


async def serve(
    host: str,
    port: int,
    api_key: str,
    data_dir: pathlib.Path | None,
    allow_remote: bool = False,
    ready: Callable[[str], None] | None = None,
    allowed_origins: Iterable[str] = (),
) -> None:
    """Serve on the running loop until cancelled (``cartesia-studio serve-local``).

    ``ready`` is called with the base URL (``http://host:port``) once listening.

    Raises:
        ValueError: non-loopback ``host`` without ``allow_remote``.
        OSError: the address cannot be bound.
        RuntimeError: espeak-ng unavailable.
    """
    check_host(host, allow_remote)
    with ThreadPoolExecutor(SYNTH_WORKERS, thread_name_prefix="offline-synth") as executor:
        state = ServerState(api_key=api_key, data_dir=data_dir or default_data_dir(),
                            executor=executor,
                            access=access_for(host, allow_remote, allowed_origins))
        server = _Server(host, port, state)
        await server.start()
        try:
            if ready is not None:
                ready(f"http://{_url_host(host)}:{server.port}")
            await asyncio.Event().wait()
        finally:
            await server.stop()
