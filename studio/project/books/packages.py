"""DOCX books, and the check every zip package (DOCX, EPUB) passes first. Qt-free.

Heading 1 and Heading 2 paragraphs start chapters (python-docx); every other
non-empty paragraph is a block. Images are skipped, with a notice.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from studio.project.books import model
from studio.project.books.model import BookImportError, Builder, ImportedBook, Steps

_DOCX_CHAPTER_STYLES = {"heading 1", "heading 2"}


def check_unpacked(path: Path, unreadable: BookImportError) -> None:
    """Refuse a zip package that is not one, or whose members unpack to more than
    :data:`~studio.project.books.model.MAX_UNPACKED_BYTES` (from the zip's central
    directory, before anything is decompressed).

    Raises:
        BookImportError: ``unreadable``, or the unpacked size over the limit.
    """
    if not zipfile.is_zipfile(path):
        raise unreadable
    try:
        with zipfile.ZipFile(path) as package:
            unpacked = sum(member.file_size for member in package.infolist())
    except (zipfile.BadZipFile, OSError):
        raise unreadable from None
    if unpacked > model.MAX_UNPACKED_BYTES:
        raise BookImportError(
            f"{path.name}: unpacks to {unpacked / 2**20:,.0f} MB, more than "
            f"{model.MAX_UNPACKED_BYTES // 2**20} MB; this is not a book the studio can read")


def read_docx(path: Path, steps: Steps) -> ImportedBook:
    """Chapters at Heading 1 and Heading 2 paragraphs (module doc)."""
    import docx  # python-docx: imported here so the rest of the core loads without it
    from docx.opc.exceptions import PackageNotFoundError

    unreadable = BookImportError(f"{path.name}: not a readable DOCX file")
    check_unpacked(path, unreadable)
    try:
        document = docx.Document(str(path))
        paragraphs = [(_docx_style(p), p.text) for p in document.paragraphs]
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise unreadable from None
    except Exception as exc:  # lxml and python-docx raise many kinds for a broken part
        raise unreadable from exc
    images = sum(1 for rel in document.part.rels.values() if "image" in rel.reltype)
    builder = Builder(steps)
    title, body = path.stem, list[str]()
    for number, (style, text) in enumerate(paragraphs):
        text = text.strip()
        if style in _DOCX_CHAPTER_STYLES and text:
            steps.step(number / len(paragraphs), title)
            builder.add_text(title, "\n\n".join(body), speakers=False)
            title, body = text, []
        elif text:
            body.append(text.replace("\n", " "))
    builder.add_text(title, "\n\n".join(body), speakers=False)
    if images and not builder.chapters:
        raise BookImportError(f"{path.name}: no text found, only {images} image"
                              f"{'' if images == 1 else 's'}; the studio imports text")
    if images:
        builder.notices.append(f"{images} image{'' if images == 1 else 's'} skipped: only "
                               "text is imported")
    return builder.book()


def _docx_style(paragraph: Any) -> str:
    style = paragraph.style
    name = getattr(style, "name", None) if style is not None else None
    return str(name or "").lower()
