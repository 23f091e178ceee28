"""Choosing and starting the backend: Cartesia's cloud or the offline engine. Qt-free.

There is one client code path (``studio.api.CartesiaClient``); only its URLs and key
differ. With no API key (or with offline mode forced) the offline engine starts in
a background thread on 127.0.0.1 with a random bearer key (ARCHITECTURE.md,
"Backends: one client, two servers").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from studio.config import Settings, data_dir
from studio.services.threads import in_thread

if TYPE_CHECKING:
    from studio.api import CartesiaClient
    from studio.offline import OfflineEngine

log = logging.getLogger(__name__)

OFFLINE = "offline"
CLOUD = "cloud"


@dataclass(slots=True)
class Backend:
    """A connected backend.

    Attributes:
        kind: ``"offline"`` or ``"cloud"``.
        client: the API client bound to it.
        engine: the offline engine when ``kind == "offline"``, else ``None``.
    """

    kind: str
    client: CartesiaClient
    engine: OfflineEngine | None = None

    @property
    def label(self) -> str:
        """Name for the status bar."""
        return "Offline engine" if self.kind == OFFLINE else "Cartesia cloud"

    @property
    def is_free(self) -> bool:
        """Whether generating costs nothing (the offline engine)."""
        return self.kind == OFFLINE

    async def aclose(self) -> None:
        """Close the client and stop the offline engine, if any."""
        await self.client.aclose()
        if self.engine is not None:
            await in_thread(self.engine.stop)


async def start_backend(
    settings: Settings,
    *,
    engine_data_dir: Path | None = None,
    environ: dict[str, str] | None = None,
) -> Backend:
    """Connect to the cloud, or start the offline engine off the event loop.

    Raises:
        OSError or RuntimeError: if the offline engine cannot start (message says why).
    """
    # The client (httpx, websockets) loads here, after the window is up.
    from studio.api.client import CartesiaClient

    if settings.wants_cloud(environ):
        client = CartesiaClient(
            settings.effective_api_key(environ),
            base_url=settings.base_url,
            websocket_base_url=settings.websocket_base_url,
            cartesia_version=settings.cartesia_version,
        )
        log.info("backend: Cartesia cloud at %s", settings.base_url)
        return Backend(CLOUD, client)
    from studio.offline import OfflineEngine

    engine = OfflineEngine(data_dir=engine_data_dir or data_dir() / "offline-engine")
    starting = asyncio.ensure_future(in_thread(engine.start))
    try:
        await asyncio.shield(starting)
    except asyncio.CancelledError:
        # The start goes on in its thread regardless: let it finish, then stop the
        # engine, so a cancelled connection never leaves an engine running.
        with contextlib.suppress(Exception):
            await starting
        await in_thread(engine.stop)
        raise
    client = CartesiaClient(
        engine.api_key,
        base_url=engine.base_url,
        websocket_base_url=engine.websocket_base_url,
        cartesia_version=settings.cartesia_version,
    )
    log.info("backend: offline engine at %s", engine.base_url)
    return Backend(OFFLINE, client, engine)
