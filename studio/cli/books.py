"""Books on the command line: ``render BOOK.epub|.docx|.md|.srt|.vtt|.csv``.

``render`` reads ``.txt`` as a plain script (paragraphs are blocks, as before). Every
other format of :data:`studio.project.books.SUPPORTED_EXTENSIONS` is read by
:func:`studio.project.books.read_book`: its blocks render like a script's paragraphs,
and with ``--project`` each block also keeps its speaker, its chapter mark (a chapter's
title on its first block, when the book has more than one) and its cue start, and every
speaker not in the project's cast is cast with the voice and delivery the run renders
with. An existing project is fitted block by block as a script is (block *i* gets
book block *i* and keeps its takes when the text is unchanged), so running the same
book again reuses every take.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from studio.project.books import BookImportError, read_book
from studio.project.cast import CastEntry, clean_speaker
from studio.project.model import Block
from studio.project.render_plan import BlockDelivery
from studio.project.script import ScriptError


@dataclass(frozen=True, slots=True)
class BookLine:
    """One block of a book as ``render`` uses it: its text and what the project keeps."""

    text: str
    speaker: str
    chapter: str | None
    cue_start: float | None


def is_book(path: Path) -> bool:
    """True for the formats :func:`read_book` reads that are not plain scripts."""
    return path.suffix.lower() in (".md", ".docx", ".epub", ".srt", ".vtt", ".csv")


def read_book_lines(path: Path) -> tuple[list[BookLine], list[str]]:
    """The blocks of the book at ``path`` and its notices.

    Raises:
        ScriptError: the :class:`BookImportError` message (exit status 2).
    """
    try:
        book = read_book(path)
    except BookImportError as exc:
        raise ScriptError(str(exc)) from None
    marks = len(book.chapters) > 1
    lines = [BookLine(block.text, clean_speaker(block.speaker),
                      chapter.title if marks and number == 0 else None, block.cue_start)
             for chapter in book.chapters for number, block in enumerate(chapter.blocks)]
    return lines, list(book.notices)


def apply_book(blocks: Sequence[Block], lines: Sequence[BookLine], cast: list[CastEntry],
               delivery: BlockDelivery) -> list[str]:
    """Give ``blocks`` (fitted to the book, in order) their speaker, chapter mark and cue
    start from ``lines``; cast every new speaker with ``delivery`` (appended to
    ``cast``). Returns the new speakers, in the order they first speak."""
    known = {entry.speaker for entry in cast}
    new: list[str] = []
    for block, line in zip(blocks, lines, strict=True):
        block.speaker = line.speaker
        block.chapter = line.chapter
        block.cue_start = line.cue_start
        if line.speaker not in known:
            known.add(line.speaker)
            new.append(line.speaker)
            cast.append(CastEntry(line.speaker, delivery.voice_id, delivery.language,
                                  delivery.emotion, delivery.speed, delivery.volume))
    return new
