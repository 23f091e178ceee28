"""Adding an imported book to the script as one undo step, new speakers cast.

Each block of the book becomes a :class:`~studio.project.model.Block` with its text,
speaker, ``cue_start`` and, on a chapter's first block, the chapter's title
(``Block.chapter``; a book of one chapter sets no mark). A block's voice and delivery
come from its speaker's cast entry; a speaker not cast yet gets the narrator's (the
Narrator's entry, else ``narrator_fields``) and no cast entry of their own, so the Cast
panel lists them first for casting and Generate all asks before it renders them; the
Narrator, if new, is cast with those values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from studio.project.books import ImportedBook
from studio.project.cast import CAST_FIELDS, clean_speaker
from studio.project.model import NARRATOR
from studio.services.editor import ScriptEditor


@dataclass(frozen=True, slots=True)
class BookAdded:
    """What :func:`add_book` did.

    Attributes:
        chapters: chapter marks set.
        blocks: blocks added.
        new_speakers: speakers that were not in the cast, in the order they first speak.
    """

    chapters: int
    blocks: int
    new_speakers: list[str]

    def summary(self) -> str:
        """The status bar's sentence, e.g. "Imported 12 chapters, 1 830 blocks; 3 new
        speakers to cast"."""
        def count(n: int, noun: str) -> str:
            return f"{n:,} {noun}{'' if n == 1 else 's'}".replace(",", "\u202f")

        text = f"Imported {count(self.blocks, 'block')}"
        if self.chapters:
            text = f"Imported {count(self.chapters, 'chapter')}, {count(self.blocks, 'block')}"
        if self.new_speakers:
            text += f"; {count(len(self.new_speakers), 'new speaker')} to cast"
        return text


def add_book(editor: ScriptEditor, book: ImportedBook, index: int | None,
             narrator_fields: Mapping[str, Any], undo_text: str) -> BookAdded:
    """Insert ``book``'s blocks at ``index`` (``None``: the end), the Narrator cast if
    new, all as one undo step named ``undo_text``.

    Args:
        narrator_fields: voice and delivery for speakers without a cast entry when the
            Narrator has none either: any of :data:`~studio.project.cast.CAST_FIELDS`
            and ``model_id``.
    """
    document = editor.document
    narrator = document.cast_entry(NARRATOR)
    template: dict[str, Any] = {k: v for k, v in narrator_fields.items()
                                if k in CAST_FIELDS or k == "model_id"}
    if narrator is not None:
        template |= narrator.values()
    cast_values = {k: v for k, v in template.items() if k in CAST_FIELDS}
    fields_of: dict[str, dict[str, Any]] = {}
    new_speakers: list[str] = []
    for speaker in book.speakers():
        name = clean_speaker(speaker)
        entry = document.cast_entry(name)
        if entry is None:
            if name not in new_speakers:
                new_speakers.append(name)
            fields_of[speaker] = dict(template)
        else:
            fields_of[speaker] = {**template, **entry.values()}
    marks = len(book.chapters) > 1
    items: list[dict[str, Any]] = []
    for chapter in book.chapters:
        for number, block in enumerate(chapter.blocks):
            item = {**fields_of[block.speaker], "text": block.text,
                    "speaker": clean_speaker(block.speaker), "cue_start": block.cue_start}
            if marks and number == 0:
                item["chapter"] = chapter.title
            items.append(item)
    with editor.macro(undo_text):
        editor.add_blocks(items, index, undo_text)
        if NARRATOR in new_speakers:
            editor.set_cast(NARRATOR, **cast_values)
    # Other new speakers get no cast entry: their blocks read in the narrator's voice
    # meanwhile, and the Cast panel lists them first as not cast, so Generate all asks
    # before it renders a character in the narrator's voice (studio.project.casting).
    return BookAdded(len(book.chapters) if marks else 0, len(items),
                     [s for s in new_speakers if s != NARRATOR])
