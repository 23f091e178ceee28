"""The programme an export delivers: selected takes in script order, in chapters. Qt-free.

A *programme* is what a listener hears: the selected take of every block that has one,
in script order, with the pause between blocks. Blocks without a take are left out (and
counted, so the user is told). A block may start a chapter (``Block.chapter``); the
blocks before the first chapter mark form an opening chapter, and a script without
marks is one chapter. A mark on a block without a take still starts its chapter at the
next block that has one.

Everything here is a snapshot taken on the thread that owns the blocks: plain frozen
values that a worker thread can read while the user goes on editing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from studio.project.model import Block, Take

#: The title of the chapter formed by the blocks before the first chapter mark.
OPENING_TITLE = "Opening"


@dataclass(frozen=True, slots=True)
class ProgramBlock:
    """One block of the programme.

    Attributes:
        number: the block's position in the script, from 1 (for file names and messages).
        block_id: the block's id.
        take: its selected take (audio, edits, word timestamps).
        voice_id: the block's voice (for stems per voice).
        chapter: index into :attr:`Program.chapters` of the chapter it belongs to.
    """

    number: int
    block_id: str
    take: Take
    voice_id: str
    chapter: int

    @property
    def text(self) -> str:
        """What the take says (after its edits), with inline tags."""
        return self.take.spoken_text


@dataclass(frozen=True, slots=True)
class Program:
    """A snapshot of what an export plays.

    Attributes:
        blocks: the blocks with a selected take, in script order.
        chapters: chapter titles in order; every chapter has at least one block.
        pause_seconds: silence between consecutive blocks.
        skipped: blocks of the script with text but no selected take (not exported).
        stale: exported blocks whose take no longer matches their text or delivery.
    """

    blocks: tuple[ProgramBlock, ...]
    chapters: tuple[str, ...]
    pause_seconds: float
    skipped: int = 0
    stale: int = 0

    def chapter_blocks(self, chapter: int) -> tuple[ProgramBlock, ...]:
        """The blocks of chapter ``chapter`` (an index into :attr:`chapters`)."""
        return tuple(b for b in self.blocks if b.chapter == chapter)

    @property
    def voices(self) -> tuple[str, ...]:
        """Voice ids in order of first appearance."""
        return tuple(dict.fromkeys(b.voice_id for b in self.blocks))

    def notes(self) -> list[str]:
        """What the user should know about this programme before exporting it."""
        notes = []
        if self.skipped:
            notes.append(f"{self.skipped} block{'s' if self.skipped != 1 else ''} without a "
                         "take left out")
        if self.stale:
            notes.append(f"{self.stale} block{'s' if self.stale != 1 else ''} edited since "
                         "their take")
        return notes


def program_of(blocks: Sequence[Block], pause_seconds: float,
               is_stale: object = None) -> Program:
    """The programme of ``blocks`` (the script, in order).

    Args:
        blocks: the script's blocks.
        pause_seconds: silence between blocks, seconds (>= 0).
        is_stale: optional ``callable(block, take) -> bool`` telling whether a selected
            take is out of date (counted in :attr:`Program.stale`).

    Raises:
        ValueError: no block has a selected take, or the pause is negative.
    """
    if pause_seconds < 0:
        raise ValueError("the pause between blocks cannot be negative")
    chapters: list[str] = []
    out: list[ProgramBlock] = []
    pending: str | None = None
    skipped = stale = 0
    for number, block in enumerate(blocks, start=1):
        if block.chapter is not None:
            pending = block.chapter.strip() or f"Chapter {len(chapters) + 1}"
        take = block.selected_take
        if take is None:
            skipped += bool(block.text.strip())
            continue
        if pending is not None or not chapters:
            chapters.append(pending if pending is not None else OPENING_TITLE)
            pending = None
        if callable(is_stale) and is_stale(block, take):
            stale += 1
        out.append(ProgramBlock(number, block.id, take, block.voice_id, len(chapters) - 1))
    if not out:
        raise ValueError("nothing to export: no block has a selected take")
    if len(chapters) == 1 and chapters[0] == OPENING_TITLE:
        chapters = [""]  # no marks at all: one untitled chapter, named by the export
    return Program(tuple(out), tuple(chapters), pause_seconds, skipped, stale)


def program_of_takes(takes: Sequence[Take], pause_seconds: float) -> Program:
    """A programme of ``takes`` in order, one block each, without chapters (what
    ``render SCRIPT.txt -o OUT`` exports).

    Raises:
        ValueError: no takes, or a negative pause.
    """
    blocks = []
    for take in takes:
        voice = take.request.get("voice")
        block = Block(text=take.spoken_text,
                      voice_id=str(voice.get("id", "")) if isinstance(voice, dict) else "")
        block.takes.append(take)
        block.selected_take_id = take.id
        blocks.append(block)
    return program_of(blocks, pause_seconds)
