"""Importing a book (issue 15): a file read into chapters of blocks. Qt-free.

Formats, chosen by the file's extension:

- ``.txt``: UTF-8 text; paragraphs separated by blank lines are blocks
  (:mod:`studio.project.script`), one chapter named after the file.
- ``.md``: ATX headings ``#`` and ``##`` start chapters with their title; emphasis,
  code spans, images and links are reduced to their text; list items are blocks.
- ``.docx``: Heading 1 and Heading 2 paragraphs start chapters (python-docx); every
  other non-empty paragraph is a block.
- ``.epub``: the spine's documents in reading order (ebooklib), one chapter each; the
  title from the navigation document or NCX (``book.toc``) where it names the document,
  else the document's first heading, else "Chapter N". Paragraphs, headings and list
  items are blocks; scripts and styles are dropped.
- ``.srt`` and ``.vtt``: one block per cue, with the cue's start in seconds.
- ``.csv``: ``speaker,text`` rows, header optional (ElevenLabs' layout).

In ``.txt`` and ``.md`` a line written ``NAME: text``, where NAME is a short capitalised
name of at most three words, starts a block spoken by NAME. A paragraph longer than
:data:`~studio.project.script.MAX_BLOCK_CHARS` is cut at sentence ends, with a notice.

Anything that cannot be imported raises :class:`BookImportError` and nothing is returned.
"""

from __future__ import annotations

import csv
import io
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from studio.project.model import NARRATOR
from studio.project.script import (
    MAX_BLOCK_CHARS,
    ScriptError,
    clean_script_text,
    read_script_file,
    speaker_paragraphs,
    split_script,
    split_speaker,
)

#: The largest book file read, in bytes.
MAX_BOOK_BYTES = 50 * 1024 * 1024

#: The most a DOCX or EPUB (zip packages) may unpack to, in bytes, summed over its
#: members as their headers state: a small file can unpack to gigabytes (a zip bomb).
MAX_UNPACKED_BYTES = 400 * 1024 * 1024

#: The most blocks one import makes: past this a project would be slow to lay out and
#: to render, so the book is refused and should be imported in parts.
MAX_BOOK_BLOCKS = 20_000


SUPPORTED_EXTENSIONS = (".txt", ".md", ".docx", ".epub", ".srt", ".vtt", ".csv")


class BookImportError(ValueError):
    """A book that cannot be imported, with a message fit to show the user."""


@dataclass(frozen=True, slots=True)
class ImportedBlock:
    """One block of an imported book.

    Attributes:
        text: what the voice reads.
        speaker: who reads it; :data:`NARRATOR` unless the file names someone.
        start: the cue's start in seconds, for subtitle files; ``None`` otherwise.
    """

    text: str
    speaker: str = NARRATOR
    start: float | None = None


@dataclass(frozen=True, slots=True)
class ImportedChapter:
    """A chapter: its title and its blocks, in reading order."""

    title: str
    blocks: list[ImportedBlock] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ImportedBook:
    """A whole book as read by :func:`read_book`.

    Attributes:
        chapters: the chapters in reading order, none of them empty.
        notices: what was changed on the way in (paragraphs cut, characters removed,
            documents skipped), as sentences for the user; empty when nothing was.
    """

    chapters: list[ImportedChapter]
    notices: list[str] = field(default_factory=list)


def read_book(path: Path) -> ImportedBook:
    """The chapters and blocks of the book at ``path``, by its extension (module doc).

    Raises:
        BookImportError: the file is missing, over :data:`MAX_BOOK_BYTES`, of an
            unsupported kind, unreadable as its kind, holds no text, or makes more
            than :data:`MAX_BOOK_BLOCKS` blocks.
    """
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
    if size > MAX_BOOK_BYTES:
        raise BookImportError(
            f"{path.name}: the file is {size / (1024 * 1024):.1f} MB, more than the "
            f"{MAX_BOOK_BYTES // (1024 * 1024)} MB a book may be; split it into parts"
        )
    try:
        book = reader(path)
    except ScriptError as exc:
        raise BookImportError(str(exc)) from None
    blocks = sum(len(chapter.blocks) for chapter in book.chapters)
    if blocks == 0:
        raise BookImportError(f"{path.name}: no text found")
    if blocks > MAX_BOOK_BLOCKS:
        raise BookImportError(
            f"{path.name}: the book makes {blocks:,} blocks, more than the "
            f"{MAX_BOOK_BLOCKS:,} one project takes; import it in parts"
        )
    return book


class _Builder:
    """Chapters and notices gathered while a file is read; empty chapters are dropped."""

    def __init__(self) -> None:
        self.chapters: list[ImportedChapter] = []
        self.notices: list[str] = []

    def add(self, title: str, blocks: list[ImportedBlock]) -> None:
        if blocks:
            self.chapters.append(ImportedChapter(title, blocks))

    def add_text(self, title: str, text: str, *, speakers: bool) -> None:
        """A chapter from paragraphs separated by blank lines, cleaned and cut as a
        script is (:mod:`studio.project.script`)."""
        cleaned = clean_script_text(text, MAX_BOOK_BYTES)
        split = split_script(cleaned.text, MAX_BLOCK_CHARS)
        self.notices.extend(f"{title}: {notice}" for notice in cleaned.notices)
        self.notices.extend(f"{title}: {notice}" for notice in split.notices)
        self.add(title, [_block(text, speakers=speakers) for text in split.blocks])

    def book(self) -> ImportedBook:
        return ImportedBook(self.chapters, self.notices)


def _block(text: str, *, speakers: bool) -> ImportedBlock:
    speaker, body = split_speaker(text) if speakers else (None, text)
    return ImportedBlock(body, speaker) if speaker is not None else ImportedBlock(text)


def _read_txt(path: Path) -> ImportedBook:
    script = read_script_file(path, MAX_BOOK_BYTES)
    builder = _Builder()
    builder.notices.extend(script.notices)
    builder.add_text(path.stem, speaker_paragraphs(script.text), speakers=True)
    return builder.book()


# --- Markdown ---------------------------------------------------------------------

_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$|^ {0,3}(#{1,6})[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+")
_QUOTE = re.compile(r"^[ \t]*(?:>[ \t]?)+")
_REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:[ \t]*\S+.*$")
_INLINE = [
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # image: its alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # inline link
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # reference link
    (re.compile(r"<((?:https?|mailto):[^>\s]+)>"), r"\1"),  # autolink
    (re.compile(r"`+([^`]+?)`+"), r"\1"),  # code span
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # strong
    (re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?!\*)"), r"\1"),  # emphasis
    (re.compile(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)"), r"\1"),  # emphasis
    (re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"), r"\1"),  # strikethrough
    (re.compile(r"<!--.*?-->"), ""),  # comment on one line
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!>~|])"), r"\1"),  # backslash escapes
]


def _markdown_inline(text: str) -> str:
    for pattern, replacement in _INLINE:
        text = pattern.sub(replacement, text)
    return text


def _read_md(path: Path) -> ImportedBook:
    script = read_script_file(path, MAX_BOOK_BYTES)
    builder = _Builder()
    builder.notices.extend(script.notices)
    title, body = path.stem, list[str]()
    in_fence = False
    for line in script.text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
            body.append("")
            continue
        if in_fence:
            body.append(line)
            continue
        heading = _ATX.match(line)
        if heading is not None:
            level = len(heading.group(1) or heading.group(3))
            text = _markdown_inline(heading.group(2) or "").strip()
            if level <= 2:
                builder.add_text(title, speaker_paragraphs("\n".join(body)), speakers=True)
                title = text or f"Chapter {len(builder.chapters) + 1}"
                body = []
            else:  # a deeper heading is read as a paragraph of its own
                body.extend(["", text, ""])
            continue
        if _RULE.match(line) or _REFERENCE.match(line):
            body.append("")
            continue
        if _LIST_ITEM.match(line):  # every list item is a block
            body.extend(["", _markdown_inline(_LIST_ITEM.sub("", line, count=1))])
            continue
        body.append(_markdown_inline(_QUOTE.sub("", line, count=1)))
    builder.add_text(title, speaker_paragraphs("\n".join(body)), speakers=True)
    return builder.book()


# --- DOCX ------------------------------------------------------------------------

_DOCX_CHAPTER_STYLES = {"heading 1", "heading 2"}


def _check_unpacked(path: Path, unreadable: BookImportError) -> None:
    """Refuse a zip package that is not one, or whose members unpack to more than
    :data:`MAX_UNPACKED_BYTES` (from the zip's central directory, before anything is
    decompressed).

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
    if unpacked > MAX_UNPACKED_BYTES:
        raise BookImportError(
            f"{path.name}: unpacks to {unpacked / 2**20:,.0f} MB, more than "
            f"{MAX_UNPACKED_BYTES // 2**20} MB; this is not a book the studio can read")


def _read_docx(path: Path) -> ImportedBook:
    import docx  # python-docx: imported here so the rest of the core loads without it
    from docx.opc.exceptions import PackageNotFoundError

    unreadable = BookImportError(f"{path.name}: not a readable DOCX file")
    _check_unpacked(path, unreadable)
    try:
        document = docx.Document(str(path))
        paragraphs = [(_docx_style(p), p.text) for p in document.paragraphs]
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise unreadable from None
    except Exception as exc:  # lxml and python-docx raise many kinds for a broken part
        raise unreadable from exc
    builder = _Builder()
    title, body = path.stem, list[str]()
    for style, text in paragraphs:
        text = text.strip()
        if style in _DOCX_CHAPTER_STYLES and text:
            builder.add_text(title, "\n\n".join(body), speakers=False)
            title, body = text, []
        elif text:
            body.append(text.replace("\n", " "))
    builder.add_text(title, "\n\n".join(body), speakers=False)
    return builder.book()


def _docx_style(paragraph: Any) -> str:
    style = paragraph.style
    name = getattr(style, "name", None) if style is not None else None
    return str(name or "").lower()


# --- EPUB ------------------------------------------------------------------------


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


def _read_epub(path: Path) -> ImportedBook:
    import ebooklib  # imported here so the rest of the core loads without it
    from ebooklib import epub

    unreadable = BookImportError(f"{path.name}: not a readable EPUB file")
    _check_unpacked(path, unreadable)
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
    builder = _Builder()
    for name, content in documents:
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


# --- Subtitles -------------------------------------------------------------------

_TAG = re.compile(r"<[^>]+>")


def _cue_text(text: str) -> str:
    return " ".join(_TAG.sub("", text).split())


def _read_srt(path: Path) -> ImportedBook:
    import srt

    script = read_script_file(path, MAX_BOOK_BYTES)
    try:
        cues = list(srt.parse(script.text))
    except srt.SRTParseError as exc:
        raise BookImportError(f"{path.name}: not a readable SRT file ({exc})") from None
    blocks = [
        ImportedBlock(text, start=cue.start.total_seconds())
        for cue in cues
        if (text := _cue_text(cue.content))
    ]
    return ImportedBook([ImportedChapter(path.stem, blocks)] if blocks else [],
                        list(script.notices))


def _read_vtt(path: Path) -> ImportedBook:
    import webvtt
    from webvtt.errors import MalformedFileError

    script = read_script_file(path, MAX_BOOK_BYTES)
    try:
        captions = webvtt.from_buffer(io.StringIO(script.text)).captions
    except MalformedFileError as exc:
        raise BookImportError(f"{path.name}: not a readable WebVTT file ({exc})") from None
    blocks = []
    for caption in captions:
        text = _cue_text(caption.text)
        if text:
            speaker = (getattr(caption, "voice", None) or NARRATOR).strip() or NARRATOR
            start = caption.start_time.in_milliseconds() / 1000
            blocks.append(ImportedBlock(text, speaker, start))
    return ImportedBook([ImportedChapter(path.stem, blocks)] if blocks else [],
                        list(script.notices))


# --- CSV -------------------------------------------------------------------------


def _read_csv(path: Path) -> ImportedBook:
    script = read_script_file(path, MAX_BOOK_BYTES)
    reader = csv.reader(io.StringIO(script.text, newline=""))
    blocks: list[ImportedBlock] = []
    try:
        for row in reader:
            cells = [cell.strip() for cell in row]
            if not any(cells):
                continue
            if reader.line_num == 1 and [c.lower() for c in cells[:2]] == ["speaker", "text"]:
                continue
            if len(cells) < 2:
                raise BookImportError(
                    f"{path.name}, line {reader.line_num}: expected two columns, "
                    "speaker and text; found one"
                )
            speaker, text = cells[0], " ".join(cells[1].split())
            if text:
                blocks.append(ImportedBlock(text, speaker or NARRATOR))
    except csv.Error as exc:
        raise BookImportError(f"{path.name}, line {reader.line_num}: {exc}") from None
    return ImportedBook([ImportedChapter(path.stem, blocks)] if blocks else [],
                        list(script.notices))


_READERS: dict[str, Callable[[Path], ImportedBook]] = {
    ".txt": _read_txt,
    ".md": _read_md,
    ".docx": _read_docx,
    ".epub": _read_epub,
    ".srt": _read_srt,
    ".vtt": _read_vtt,
    ".csv": _read_csv,
}
