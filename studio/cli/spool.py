"""Where ``render SCRIPT.txt -o OUT`` keeps the takes it rendered until it exports them.

A take is float32 in memory, 10.6 MB a minute at 44.1 kHz: holding every take of a book
until the export would grow the CLI with the script (issue 15 measured 1.12 GB over a
97-minute chapter). Instead each take is written as it completes to a temporary project
file beside the output (:class:`~studio.project.store.ProjectStore`, FLAC in SQLite, in a
worker thread); from then on its samples live only in the take cache, within its budget
(:mod:`studio.project.take_cache`), and the export reads each block back in turn. The
folder is the output's own (it must be writable anyway, and ``/tmp`` is often memory),
and is removed when the render ends, however it ends.

A spool that cannot be made or written (a full disk) costs memory, never a take: the
take stays in memory, with a note on stderr the first time.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import shutil
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from studio.project.model import Block, Take
from studio.project.store import ProjectError, ProjectStore
from studio.project.take_cache import use_budget

log = logging.getLogger(__name__)

T = TypeVar("T")

#: The take cache's budget while rendering, 32 MB (unless ``STUDIO_TAKE_CACHE_MB`` says
#: otherwise): the CLI reads each take back once or twice, in order, during the export,
#: so a cache larger than a few takes only holds memory.
RENDER_CACHE_BYTES = 32 << 20

#: The spool's folder, beside the output: ``.cartesia-studio-render-XXXXXXXX``.
PREFIX = ".cartesia-studio-render-"


class TakeSpool:
    """``async with TakeSpool(folder) as spool: await spool.keep(block, take)``.

    Args:
        folder: where the temporary project goes (the output's folder).
    """

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="render-spool")
        self._dir: Path | None = None
        self._store: ProjectStore | None = None
        self._warned = False

    async def _run(self, call: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(call, *args))

    async def __aenter__(self) -> TakeSpool:
        use_budget(RENDER_CACHE_BYTES)
        try:
            self._dir = Path(tempfile.mkdtemp(prefix=PREFIX, dir=self._folder))
            self._store = await self._run(ProjectStore.create, self._dir / "spool.cstudio")
        except (OSError, ProjectError) as exc:
            self._warn(exc)
        return self

    async def keep(self, block: Block, take: Take) -> None:
        """Write ``take`` (of ``block``) to the spool, so its samples can leave memory;
        on failure it simply stays in memory."""
        if self._store is None:
            return
        try:
            await self._run(self._store.add_take, block, take, 0)
        except ProjectError as exc:
            self._warn(exc)

    def _warn(self, exc: BaseException) -> None:
        log.warning("render spool: %s", exc)
        if not self._warned:
            self._warned = True
            print(f"cartesia-studio: cannot keep rendered blocks on disk ({exc}); keeping "
                  "them in memory", file=sys.stderr)

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Wait for the write in progress, close the spool and remove its folder."""
        self._executor.shutdown(wait=True)
        if self._store is not None:
            self._store.close()
            self._store = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
