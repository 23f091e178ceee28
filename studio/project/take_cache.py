"""The samples of takes read from a project file, kept within a byte budget. Qt-free.

A book's takes are float32 at 44.1 kHz: about 10.6 MB a minute, so a 97-minute chapter
is 1 GB and a whole book several. Issue 15 measured a studio at 2.06 GB after Generate
all because every take, once read or generated, kept its samples for the life of the
project. Instead, samples that can be read again from the project file live here, least
recently used first, and the oldest are let go when the total passes the budget; the
editor, the takes panel, playback and export ask the take again and it is read back
(:class:`studio.project.model.TakeAudio`).

Letting go only drops this cache's reference: a reader still holding an array keeps it
(numpy arrays are reference counted), so eviction never breaks a playback or an export
under way. Samples that are not on disk yet are never put here; their
:class:`~studio.project.model.TakeAudio` pins them until the project file has them.

The budget, :data:`DEFAULT_BUDGET_BYTES` (256 MB, about 25 minutes of 44.1 kHz audio:
what the editor, the takes panel and playback touch in a session, with room under the
600 MB the studio aims for over a 100 000-word book), can be set per cache
(:class:`TakeAudioCache`'s ``budget_bytes``) and for the process's shared cache with
the ``STUDIO_TAKE_CACHE_MB`` environment variable or :attr:`TakeAudioCache.budget_bytes`.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Hashable

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

#: 256 MB: see the module docstring.
DEFAULT_BUDGET_BYTES = 256 << 20

#: Environment variable overriding the shared cache's budget, in megabytes (MiB).
BUDGET_ENV = "STUDIO_TAKE_CACHE_MB"

_keys = itertools.count(1)


def new_key() -> int:
    """A key no other audio has (one per :class:`~studio.project.model.TakeAudio`)."""
    return next(_keys)


class TakeAudioCache:
    """An LRU of loaded samples with a byte budget; thread-safe.

    Args:
        budget_bytes: the most bytes of samples kept (``ndarray.nbytes`` summed); the
            newest entry is kept even when it alone is larger (it is being used).

    Raises:
        ValueError: a negative budget.
    """

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        self._items: OrderedDict[Hashable, npt.NDArray[np.float32]] = OrderedDict()
        self._nbytes = 0
        # Re-entrant: a finaliser (a TakeAudio collected) may discard its entry while
        # this thread is inside put() and the lock is held.
        self._lock = threading.RLock()
        self._budget = 0
        self.budget_bytes = budget_bytes

    @property
    def budget_bytes(self) -> int:
        """The budget in bytes; setting it evicts down to the new budget at once."""
        return self._budget

    @budget_bytes.setter
    def budget_bytes(self, value: int) -> None:
        if int(value) < 0:
            raise ValueError(f"a take cache budget cannot be negative ({value} bytes)")
        with self._lock:
            self._budget = int(value)
            self._evict()

    @property
    def nbytes(self) -> int:
        """Bytes of samples held now."""
        return self._nbytes

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def keys(self) -> list[Hashable]:
        """The keys held, least recently used first."""
        with self._lock:
            return list(self._items)

    def get(self, key: Hashable) -> npt.NDArray[np.float32] | None:
        """The samples kept for ``key`` (now the most recently used), or None."""
        with self._lock:
            array = self._items.get(key)
            if array is not None:
                self._items.move_to_end(key)
            return array

    def put(self, key: Hashable, array: npt.NDArray[np.float32]) -> None:
        """Keep ``array`` for ``key`` as the most recently used; older entries go while
        the total is over the budget."""
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._nbytes -= old.nbytes
            self._items[key] = array
            self._nbytes += array.nbytes
            self._evict()

    def discard(self, key: Hashable) -> None:
        """Forget ``key``'s samples, if kept."""
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._nbytes -= old.nbytes

    def clear(self) -> None:
        """Forget everything (a project closed)."""
        with self._lock:
            self._items.clear()
            self._nbytes = 0

    def _evict(self) -> None:
        while self._nbytes > self._budget and len(self._items) > 1:
            _key, old = self._items.popitem(last=False)
            self._nbytes -= old.nbytes


def _budget_from_env() -> int:
    text = os.environ.get(BUDGET_ENV, "").strip()
    if not text:
        return DEFAULT_BUDGET_BYTES
    try:
        megabytes = float(text)
        if megabytes < 0 or megabytes != megabytes:
            raise ValueError(text)
    except ValueError:
        log.warning("%s=%r is not a number of megabytes >= 0; using %d MB", BUDGET_ENV,
                    text, DEFAULT_BUDGET_BYTES >> 20)
        return DEFAULT_BUDGET_BYTES
    return int(megabytes * (1 << 20))


#: The cache every :class:`~studio.project.model.TakeAudio` uses unless given another.
TAKE_CACHE = TakeAudioCache(_budget_from_env())


def use_budget(budget_bytes: int) -> None:
    """Set :data:`TAKE_CACHE`'s budget to ``budget_bytes``, unless ``STUDIO_TAKE_CACHE_MB``
    chose one (a process that reads each take once, like the CLI's ``render``, needs
    little).

    Raises:
        ValueError: a negative budget.
    """
    if not os.environ.get(BUDGET_ENV, "").strip():
        TAKE_CACHE.budget_bytes = budget_bytes
