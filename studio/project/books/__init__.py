"""Importing a book (issue 15): a file read into chapters of blocks. Qt-free.

:func:`read_book` picks the reader by the file's extension:

- ``.txt``, ``.md``: :mod:`studio.project.books.text`
- ``.docx``: :mod:`studio.project.books.packages`
- ``.epub``: :mod:`studio.project.books.ebook`
- ``.srt``, ``.vtt``, ``.csv``: :mod:`studio.project.books.lines`

A paragraph longer than :data:`~studio.project.script.MAX_BLOCK_CHARS` is cut at
sentence ends, with a notice. :mod:`studio.project.books.dialogue` optionally splits
quoted dialogue into narrator and character blocks afterwards.

Anything that cannot be imported raises :class:`BookImportError` and nothing is returned.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from studio.project.books import model
from studio.project.books.ebook import html_blocks, read_epub
from studio.project.books.lines import read_csv, read_srt, read_vtt
from studio.project.books.model import (
    SUPPORTED_EXTENSIONS,
    BookImportError,
    CancelCheck,
    ImportCancelled,
    ImportedBlock,
    ImportedBook,
    ImportedChapter,
    ProgressCallback,
    Steps,
)
from studio.project.books.packages import read_docx
from studio.project.books.text import read_md, read_txt
from studio.project.script import ScriptError

__all__ = [
    "SUPPORTED_EXTENSIONS", "BookImportError", "ImportCancelled", "ImportedBlock",
    "ImportedBook", "ImportedChapter", "check_block_count", "html_blocks", "read_book",
]

_READERS: dict[str, Callable[[Path, Steps], ImportedBook]] = {
    ".txt": read_txt,
    ".md": read_md,
    ".docx": read_docx,
    ".epub": read_epub,
    ".srt": read_srt,
    ".vtt": read_vtt,
    ".csv": read_csv,
}


def read_book(path: Path, progress: ProgressCallback | None = None,
              cancelled: CancelCheck | None = None) -> ImportedBook:
    """The chapters and blocks of the book at ``path``, by its extension (module doc).

    Args:
        progress: called as reading goes on with the fraction read (0 to 1) and what
            is being read (a chapter's title or a line number); last with ``(1.0,
            "done")``. Called in the reading thread.
        cancelled: polled between chapters (every 1000 rows of a CSV); True stops
            the reading.

    Raises:
        BookImportError: the file is missing, over
            :data:`~studio.project.books.model.MAX_BOOK_BYTES`, of an unsupported
            kind, unreadable as its kind, holds no text, or makes more than
            :data:`~studio.project.books.model.MAX_BOOK_BLOCKS` blocks.
        ImportCancelled: ``cancelled()`` turned True.
    """
    steps = Steps(progress, cancelled)
    suffix = path.suffix.lower()
    reader = _READERS.get(suffix)
    if reader is None:
        raise BookImportError(
            f"{path.name}: cannot import {suffix or 'a file without an extension'}; "
            f"supported: {', '.join(SUPPORTED_EXTENSIONS)}"
        )
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise BookImportError(f"{path}: no such file") from None
    except OSError as exc:
        raise BookImportError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if size > model.MAX_BOOK_BYTES:
        raise BookImportError(
            f"{path.name}: the file is {size / (1024 * 1024):.1f} MB, more than the "
            f"{model.MAX_BOOK_BYTES // (1024 * 1024)} MB a book may be; split it into parts"
        )
    steps.step(0.0, path.name)
    try:
        book = reader(path, steps)
    except ScriptError as exc:
        raise BookImportError(str(exc)) from None
    if book.block_count == 0:
        raise BookImportError(f"{path.name}: no text found")
    check_block_count(book, path.name)
    steps.step(1.0, "done")
    return book


def check_block_count(book: ImportedBook, name: str) -> None:
    """Refuse a book of more than
    :data:`~studio.project.books.model.MAX_BOOK_BLOCKS` blocks.

    Raises:
        BookImportError: naming the number of blocks and the limit.
    """
    blocks = book.block_count
    if blocks > model.MAX_BOOK_BLOCKS:
        raise BookImportError(
            f"{name}: the book makes {blocks:,} blocks, more than the "
            f"{model.MAX_BOOK_BLOCKS:,} one project takes; import it in parts"
        )
