"""Cast edits the editor has no single command for: renaming a speaker (their blocks
and their cast entry, one undo step) and dropping a speaker nobody speaks any more."""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from studio.project.cast import CastEntry, clean_speaker
from studio.services.document import ScriptDocument
from studio.services.editor import ScriptEditor, count_blocks, replace_speaker


class _CastEntryChange(QUndoCommand):
    """``speaker``'s entry goes from ``before`` to ``after`` (``None``: no entry)."""

    def __init__(self, document: ScriptDocument, speaker: str, before: CastEntry | None,
                 after: CastEntry | None, text: str) -> None:
        super().__init__(text)
        self._document, self._speaker = document, speaker
        self._before, self._after = before, after

    def _apply(self, entry: CastEntry | None) -> None:
        if entry is None:
            self._document.remove_cast_entry(self._speaker)
        else:
            self._document.set_cast_entry(entry)

    def redo(self) -> None:
        self._apply(self._after)

    def undo(self) -> None:
        self._apply(self._before)


def rename_speaker(editor: ScriptEditor, old: str, new: str) -> int:
    """Give every block of ``old`` the speaker ``new`` (cleaned by
    :func:`~studio.project.cast.clean_speaker`) and move ``old``'s cast entry to
    ``new``, as one undo step; returns how many blocks were renamed. Renaming to a
    speaker who is already cast merges: the blocks follow that speaker's entry (the
    :mod:`studio.project.cast` rule) and ``old``'s entry goes. Locked blocks are
    renamed too (a speaker is not what a take is made from); their voice stays.
    No step when ``new`` is ``old``."""
    document = editor.document
    new = clean_speaker(new)
    if new == old:
        return 0
    ids = [block.id for block in document.blocks if block.speaker == old]
    old_entry = document.cast_entry(old)
    if not ids and old_entry is None:
        return 0
    with editor.macro(f"Rename {old} to {new} ({count_blocks(len(ids))})"):
        if old_entry is not None and document.cast_entry(new) is None:
            editor.stack.push(_CastEntryChange(document, new, None,
                                               replace_speaker(old_entry, new), f"Cast {new}"))
        if ids:
            editor.set_speaker(ids, new)
        if old_entry is not None:
            editor.stack.push(_CastEntryChange(document, old, old_entry, None,
                                               f"Uncast {old}"))
    return len(ids)


def drop_speaker(editor: ScriptEditor, speaker: str) -> bool:
    """Remove the cast entry of ``speaker``, who speaks no block, as one undo step;
    returns whether there was one to remove.

    Raises:
        ValueError: ``speaker`` still speaks blocks (rename them instead).
    """
    document = editor.document
    if any(document.block_at(i).speaker == speaker for i in range(len(document))):
        raise ValueError(f"{speaker} still speaks blocks; give them another speaker first")
    entry = document.cast_entry(speaker)
    if entry is None:
        return False
    with editor.macro(f"Remove {speaker} from the cast"):
        editor.stack.push(_CastEntryChange(document, speaker, entry, None,
                                           f"Remove {speaker} from the cast"))
    return True
