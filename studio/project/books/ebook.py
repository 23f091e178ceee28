"""EPUB books: the spine's chapters, titled from the navigation document. Qt-free.

The spine's documents in reading order (ebooklib), one chapter each; the title from the
navigation document or NCX (``book.toc``) where it names the document, else the
document's first heading, else "Chapter N". Paragraphs, headings and list items are
blocks; scripts and styles are dropped (:func:`html_blocks`, on the standard library's
``html.parser``).
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from studio.project.books.model import BookImportError, Builder, ImportedBook, Steps
from studio.project.books.packages import check_unpacked


class _HtmlBlocks(HTMLParser):
    """Text of an XHTML document cut at paragraph, heading and list item boundaries.

    Attributes:
        blocks: the text of each block, white space collapsed, in order.
        first_heading: the text of the first ``h1``-``h6``, or ``""``.
    """

    _BLOCK_TAGS = frozenset({
        "p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "section",
        "article", "header", "footer", "aside", "pre", "dt", "dd", "tr", "td", "th",
        "figcaption", "caption", "table", "ul", "ol", "dl", "hr", "body",
    })
    _DROPPED_TAGS = frozenset({"script", "style", "head", "title", "template"})
    _HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.first_heading = ""
        self._text: list[str] = []
        self._dropped = 0
        self._heading = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._DROPPED_TAGS:
            self._dropped += 1
        elif tag in self._BLOCK_TAGS:
            self._flush()
            self._heading = tag in self._HEADINGS
        elif tag == "br":
            self._text.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BLOCK_TAGS:
            self._flush()
        elif tag == "br":
            self._text.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._DROPPED_TAGS:
            self._dropped = max(0, self._dropped - 1)
        elif tag in self._BLOCK_TAGS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._dropped:
            self._text.append(data)

    def close(self) -> None:
        super().close()
        self._flush()

    def _flush(self) -> None:
        text = " ".join("".join(self._text).split())
        self._text = []
        if text:
            self.blocks.append(text)
            if self._heading and not self.first_heading:
                self.first_heading = text
        self._heading = False


def html_blocks(markup: str) -> tuple[list[str], str]:
    """The blocks of an (X)HTML document and its first heading (``""`` if none)."""
    parser = _HtmlBlocks()
    parser.feed(markup)
    parser.close()
    return parser.blocks, parser.first_heading


def read_epub(path: Path, steps: Steps) -> ImportedBook:
    """The spine's documents as chapters (module doc)."""
    import ebooklib  # imported here so the rest of the core loads without it
    from ebooklib import epub

    unreadable = BookImportError(f"{path.name}: not a readable EPUB file")
    check_unpacked(path, unreadable)
    try:
        book = _open_epub(path, epub)
        documents = []
        for entry in book.spine:
            idref = entry[0] if isinstance(entry, tuple) else entry
            item = book.get_item_with_id(idref)
            if item is None or item.get_type() != ebooklib.ITEM_DOCUMENT:
                continue
            if isinstance(item, epub.EpubNav) or "nav" in (item.properties or []):
                continue
            documents.append((item.get_name(), item.get_content()))
        titles = _toc_titles(book.toc)
    except (epub.EpubException, zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise unreadable from None
    except Exception as exc:  # lxml and ebooklib raise many kinds for a broken book
        raise unreadable from exc
    builder = Builder(steps)
    for index, (name, content) in enumerate(documents):
        steps.step(index / len(documents), name)
        blocks, heading = html_blocks(_decode(content))
        number = len(builder.chapters) + 1
        title = titles.get(name) or titles.get(posixpath.basename(name)) or heading
        builder.add_text(title or f"Chapter {number}", "\n\n".join(blocks), speakers=False)
    return builder.book()


def _open_epub(path: Path, epub: Any) -> Any:
    """The book read by ebooklib, which fails on a spine naming an NCX that is missing
    when there is no navigation document either (an EPUB 3 may have neither; ebooklib
    writes such books itself): the spine is read, the book then has no table of contents."""

    class Reader(epub.EpubReader):  # type: ignore[misc]
        def _load_spine(self) -> None:
            try:
                super()._load_spine()
            except (AttributeError, epub.EpubException):
                if not self.book.spine:
                    raise

    reader = Reader(str(path), {"ignore_ncx": False})
    book = reader.load()
    reader.process()
    return book


def _decode(content: bytes | str) -> str:
    return content if isinstance(content, str) else content.decode("utf-8", "replace")


def _toc_titles(toc: Iterable[Any]) -> dict[str, str]:
    """Document path (and bare file name) to the first table-of-contents title naming it."""
    titles: dict[str, str] = {}

    def visit(entries: Iterable[Any]) -> None:
        for entry in entries:
            if isinstance(entry, tuple) and len(entry) == 2:
                # A section's own link names its first document: the entry for that
                # document itself is the better title, so the children come first.
                visit(entry[1])
                visit([entry[0]])
                continue
            href = getattr(entry, "href", None) or getattr(entry, "file_name", None)
            title = str(getattr(entry, "title", "") or "").strip()
            if not href or not title:
                continue
            target = posixpath.normpath(unquote(str(href).split("#", 1)[0]))
            titles.setdefault(target, title)
            titles.setdefault(posixpath.basename(target), title)

    visit(toc)
    return titles
