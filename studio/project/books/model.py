"""What every book reader shares: the limits, the error, the imported model and the
builder that gathers chapters while reporting progress. Qt-free."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from studio.project.model import NARRATOR
from studio.project.script import (
    MAX_BLOCK_CHARS,
    clean_script_text,
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

#: ``progress(fraction, message)``: fraction of the file read in [0, 1], and what is
#: being read (e.g. the chapter's title).
ProgressCallback = Callable[[float, str], None]

#: ``cancelled()``: True once the user asked to stop; the reader then raises
#: :class:`ImportCancelled` at its next step.
CancelCheck = Callable[[], bool]


class BookImportError(ValueError):
    """A book that cannot be imported, with a message fit to show the user."""


class ImportCancelled(Exception):
    """The reading was stopped by its cancel check; nothing was imported."""


@dataclass(frozen=True, slots=True)
class ImportedBlock:
    """One block of an imported book.

    Attributes:
        text: what the voice reads.
        speaker: who reads it; :data:`NARRATOR` unless the file names someone.
        cue_start: the cue's start in seconds, for subtitle files; ``None`` otherwise
            (becomes ``Block.cue_start``).
    """

    text: str
    speaker: str = NARRATOR
    cue_start: float | None = None


@dataclass(frozen=True, slots=True)
class ImportedChapter:
    """A chapter: its title and its blocks, in reading order."""

    title: str
    blocks: list[ImportedBlock] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ImportedBook:
    """A whole book as read by :func:`studio.project.books.read_book`.

    Attributes:
        chapters: the chapters in reading order, none of them empty.
        notices: what was changed on the way in (paragraphs cut, characters removed,
            documents skipped), as sentences for the user; empty when nothing was.
    """

    chapters: list[ImportedChapter]
    notices: list[str] = field(default_factory=list)

    @property
    def block_count(self) -> int:
        """Blocks over all chapters."""
        return sum(len(chapter.blocks) for chapter in self.chapters)

    @property
    def char_count(self) -> int:
        """Characters of text over all blocks."""
        return sum(len(b.text) for chapter in self.chapters for b in chapter.blocks)

    def speakers(self) -> list[str]:
        """Every speaker, in the order they first speak."""
        return list(dict.fromkeys(b.speaker for c in self.chapters for b in c.blocks))


class Steps:
    """Progress reports and the cancel check, as a reader goes through a file."""

    def __init__(self, progress: ProgressCallback | None = None,
                 cancelled: CancelCheck | None = None) -> None:
        self._progress = progress
        self._cancelled = cancelled

    def step(self, fraction: float, message: str) -> None:
        """Report ``fraction`` (clamped to [0, 1]) and ``message``.

        Raises:
            ImportCancelled: the cancel check says stop.
        """
        if self._cancelled is not None and self._cancelled():
            raise ImportCancelled("import cancelled")
        if self._progress is not None:
            self._progress(min(1.0, max(0.0, fraction)), message)


class Builder:
    """Chapters and notices gathered while a file is read; empty chapters are dropped."""

    def __init__(self, steps: Steps) -> None:
        self.chapters: list[ImportedChapter] = []
        self.notices: list[str] = []
        self.steps = steps

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
        self.add(title, [speaker_block(text, speakers=speakers) for text in split.blocks])

    def book(self) -> ImportedBook:
        return ImportedBook(self.chapters, self.notices)


def speaker_block(text: str, *, speakers: bool) -> ImportedBlock:
    """A block of ``text``; with ``speakers``, a leading ``NAME:`` names its speaker
    (the rule of :data:`studio.project.script.SPEAKER_LINE`, which pasted scripts
    follow too)."""
    speaker, body = split_speaker(text) if speakers else (None, text)
    return ImportedBlock(body, speaker) if speaker is not None else ImportedBlock(text)
