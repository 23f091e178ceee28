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

from studio.config import Settings, cloud_url_error, data_dir, insecure_url_error
from studio.services.errors import describe_error, error_detail
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
        OSError or RuntimeError: if the offline engine cannot start (message says why);
            RuntimeError: a cloud URL would send the key unencrypted (``http://`` or
            ``ws://`` to a host other than this computer).
    """
    # The client (httpx, websockets) loads here, after the window is up.
    from studio.api.client import CartesiaClient

    if settings.wants_cloud(environ):
        refused = cloud_url_error(settings)
        if refused:  # settings.json edited by hand: the dialog never saves such a URL
            raise RuntimeError(refused)
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


@dataclass(frozen=True, slots=True)
class ConnectionReport:
    """What the Settings dialog's Test connection found.

    Attributes:
        ok: ``GET /`` and ``GET /voices?limit=1`` both succeeded.
        message: the API version, or the reason in a creator's words.
        detail: the technical error ("" when ``ok``), for the log and a tooltip.
    """

    ok: bool
    message: str
    detail: str = ""


# A test must answer promptly: no retries, and a short wait for a host that is silent.
_CHECK_TIMEOUT_S = 10.0


async def check_connection(
    api_key: str, base_url: str, cartesia_version: str
) -> ConnectionReport:
    """``GET /`` (the API's version) then ``GET /voices?limit=1`` (the key is accepted)
    at ``base_url``, once each, without retries. Never raises a client error."""
    from studio.api import CartesiaError
    from studio.api.client import CartesiaClient

    refused = insecure_url_error(base_url, "https", "http", "API base URL")
    if refused:
        return ConnectionReport(False, refused)
    if not api_key.strip():
        return ConnectionReport(False, "Enter an API key to test the connection.")
    client = CartesiaClient(api_key.strip(), base_url=base_url, cartesia_version=cartesia_version,
                            timeout=_CHECK_TIMEOUT_S, max_retries=0)
    try:
        status = await client.api_status.get()
        async for _page in client.voices.list(limit=1).iter_pages():
            break  # one page of one voice: the key is accepted
    except CartesiaError as exc:
        detail = error_detail(exc)
        log.warning("connection test to %s failed: %s", base_url, detail)
        return ConnectionReport(False, describe_error(exc), detail)
    finally:
        await client.aclose()
    return ConnectionReport(True, f"Connected: API version {status.version}, key accepted.")
