"""Exit statuses and error messages shared by the verbs.

Exit status: 0 on success, 1 when the work failed (API or I/O errors, a failed ACX
check), 2 for bad input (arguments, a script or project that cannot be used), 130 when
interrupted (Ctrl+C or SIGTERM). Messages go to stderr, prefixed ``cartesia-studio:``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from studio.project.store import ProjectError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def fail(message: str, code: int = EXIT_FAILED) -> int:
    """Print ``message`` to stderr as the command's error; return ``code``."""
    print(f"cartesia-studio: {message}", file=sys.stderr)
    return code


def unwritable(path: Path) -> str:
    """Why ``path`` cannot be written, or "" (checked before spending time or credits)."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        return f"{path} is a folder; give a file name"
    if not folder.is_dir():
        return f"cannot write {path}: the folder {folder} does not exist"
    if not os.access(folder, os.W_OK):
        return f"cannot write {path}: the folder {folder} is not writable"
    return ""


def project_failure(exc: ProjectError) -> int:
    """Print ``exc`` as one line on stderr; return the exit status: 1 when a read or
    write failed (``io``), else 2 (the file given is not usable: not a project,
    newer, damaged, read-only, missing)."""
    # SQLite's own details (an integrity check's report) can span lines.
    return fail(" ".join(str(exc).split()), EXIT_FAILED if exc.kind == "io" else EXIT_USAGE)
