"""Handing freed audio buffers back to the system. Qt-free.

A book is processed one take at a time: arrays of a few megabytes are made and freed by
the thousand. glibc's allocator serves blocks that large with ``mmap`` and returns them
to the system on ``free``, but after the first such free it raises that threshold
(dynamically, up to 32 MiB), and from then on serves them from the heap, where freed
space stays in the process: an export of ten hours grew by 150 MB that way. Fixing the
threshold at glibc's default (``mallopt(M_MMAP_THRESHOLD, 128 KiB)``, glibc manual
"Memory Allocation Tunables") keeps large buffers mapped, so memory follows what is in
use. Elsewhere (macOS, Windows, musl) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger(__name__)

#: ``M_MMAP_THRESHOLD`` in glibc's ``<malloc.h>``.
_M_MMAP_THRESHOLD = -3
#: glibc's default threshold, bytes.
MMAP_THRESHOLD = 128 * 1024

_done = False


def return_freed_memory() -> None:
    """Fix glibc's mmap threshold (once per process; see the module docstring)."""
    global _done
    if _done or not sys.platform.startswith("linux"):
        return
    _done = True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return
    if not mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD):
        log.debug("mallopt(M_MMAP_THRESHOLD) was refused")
