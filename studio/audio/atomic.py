"""Files that appear whole or not at all. Qt-free.

Every file the studio exports is first written to a temporary file in the destination
folder and renamed over the destination only when it is complete (``os.replace`` is
atomic within one file system, POSIX ``rename(2)``). A full disk, a crash, a failed
encoder or a cancelled export therefore never leaves a truncated or misnamed file at the
destination, and the temporary file is removed on failure.

An export that writes several files (one per chapter, captions beside the audio) stages
them all in one :class:`Staging` and renames them together at the end, so cancelling
half-way leaves none of them.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Self


def _umask() -> int:
    """The process umask, for giving the renamed file the mode ``open()`` would have."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    # Elsewhere the umask can only be read by setting it (done once, at import).
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: The mode a file created with ``open()`` gets (mkstemp makes 0600 files).
FILE_MODE = 0o666 & ~_umask()


def write_error(target: Path, exc: OSError) -> OSError:
    """``exc`` reworded to name ``target``, keeping its errno (and so its subclass:
    ``PermissionError``, ``FileNotFoundError``...)."""
    return OSError(exc.errno, f"cannot write {target}: {exc.strerror or exc}")


class Staging:
    """Temporary files in their destination folders, renamed into place together.

    Use as a context manager: files staged inside the ``with`` are renamed over their
    destinations by :meth:`commit` (called by the caller when everything succeeded);
    leaving the ``with`` without a commit, by an exception or a cancel, removes every
    staged file.

    Attributes:
        staged: destination -> temporary path, in the order they were staged.
    """

    def __init__(self) -> None:
        self.staged: dict[Path, Path] = {}
        self._done: list[Path] = []
        self._committed = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        if not self._committed:
            self.discard()

    def stage(self, target: Path) -> Path:
        """A new, empty temporary file beside ``target`` for its contents.

        Raises:
            OSError: the folder does not exist or cannot be written (message names
                ``target``).
            ValueError: ``target`` was staged already.
        """
        target = Path(target)
        if target in self.staged:
            raise ValueError(f"{target} is written twice by this export")
        folder = target.parent if str(target.parent) else Path(".")
        try:
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial",
                                        dir=folder)
            os.close(fd)
        except OSError as exc:
            raise write_error(target, exc) from exc
        self.staged[target] = Path(name)
        return Path(name)

    def commit(self) -> list[Path]:
        """Flush every staged file to disk and rename it over its destination.

        Returns:
            The destinations, in the order they were staged.

        Raises:
            OSError: a flush or rename failed; files not yet renamed are removed.
        """
        try:
            for temp in self.staged.values():
                with open(temp, "rb+") as handle:
                    os.fsync(handle.fileno())
                os.chmod(temp, FILE_MODE)
            for target, temp in list(self.staged.items()):
                os.replace(temp, target)
                del self.staged[target]
                self._done.append(target)
        except OSError as exc:
            self.discard()
            raise write_error(target, exc) from exc
        self._committed = True
        return list(self._done)

    def discard(self) -> None:
        """Remove every staged file not yet renamed (never raises)."""
        for temp in self.staged.values():
            with contextlib.suppress(OSError):
                os.unlink(temp)
        self.staged.clear()


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """A temporary path to write ``target``'s contents to; renamed over ``target`` when
    the ``with`` body finishes, removed if it raises.

    Raises:
        OSError: as :meth:`Staging.stage` and :meth:`Staging.commit`.
    """
    with Staging() as staging:
        temp = staging.stage(target)
        yield temp
        staging.commit()
