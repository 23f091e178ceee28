"""Undo and redo for the script: every user edit of blocks and takes is a command.

The :class:`ScriptDocument` still holds the script and announces every change; the
:class:`ScriptEditor` is the way user edits reach it, each as a ``QUndoCommand`` on a
``QUndoStack`` (Qt's Undo Framework). Commands name blocks and takes by id and fetch
them from the document when they run, because blocks are replaced when a project
opens and takes are replaced when renamed; a command whose block or take has gone
does nothing rather than fail.

Changes made to the document directly (the backend giving voiceless blocks a default
voice, a generation adding its take) are allowed and are simply not undoable.
"""

from __future__ import annotations

import contextlib
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from studio.project.cast import CAST_FIELDS, CastEntry, clean_speaker, following_changes
from studio.project.model import Block, BlockLocked, Take
from studio.project.pronounce import Matcher, applied_items
from studio.services.document import ScriptDocument

#: Seconds without typing after which the next keystroke starts a new undo step.
TYPING_PAUSE = 2.0

#: Block fields the editor sets (the rest belong to the document).
BLOCK_FIELDS = ("text", "voice_id", "model_id", "language", "emotion", "speed", "volume",
                "pronunciation_dict_id", "chapter", "speaker", "flag", "locked")

#: The fields that decide what a block sounds like: a locked block keeps them (and its
#: takes) until it is unlocked; speaker, chapter and flag may still change.
LOCKED_FIELDS = ("text", "voice_id", "model_id", "language", "emotion", "speed", "volume",
                 "pronunciation_dict_id")

_FIELD_NOUNS = {"voice_id": "voice", "model_id": "model", "language": "language",
                "emotion": "emotion", "speed": "speed", "volume": "volume",
                "pronunciation_dict_id": "pronunciation dictionary", "chapter": "chapter",
                "speaker": "speaker", "flag": "retake flag", "locked": "lock", "text": "text"}

# QUndoCommand.id() values: commands with the same id may merge (mergeWith).
_UPDATE_ID = 1
_SELECT_ID = 2

Clock = Callable[[], float]


def count_blocks(n: int) -> str:
    """``"1 block"``, ``"3 blocks"``: for undo step names and status messages."""
    return f"{n} block" if n == 1 else f"{n} blocks"


def replace_speaker(entry: CastEntry, speaker: str) -> CastEntry:
    """``entry`` for another speaker."""
    return CastEntry(speaker, **entry.values())


def _bulk_text(changes: Mapping[str, Any], count: int) -> str:
    """The undo step's name for ``changes`` on ``count`` blocks."""
    if set(changes) == {"locked"}:
        verb = "Lock" if changes["locked"] else "Unlock"
        return f"{verb} {count_blocks(count)}"
    if set(changes) == {"flag"}:
        verb = "Flag" if changes["flag"] is not None else "Clear the flag of"
        return f"{verb} {count_blocks(count)}"
    if len(changes) == 1 or set(changes) == {"voice_id", "language"}:
        noun = _FIELD_NOUNS["voice_id" if "voice_id" in changes else next(iter(changes))]
        return f"Change {noun} of {count_blocks(count)}"
    return f"Edit {count_blocks(count)}"


def _take_name(take: Take) -> str:
    return take.name or "take"


class ScriptEditor(QObject):
    """Makes every user edit of a :class:`ScriptDocument` an undoable step.

    Consecutive edits of the same field of the same block merge into one step; typing
    merges until the user pauses for :data:`TYPING_PAUSE` seconds, edits something
    else, or undoes, so one Ctrl+Z undoes a burst of typing. Opening another script
    (the document's ``reset``) empties the stack: its steps named the old blocks.

    Attributes:
        document: the :class:`ScriptDocument` edited.
        stack: the ``QUndoStack`` holding the steps (the window's Undo and Redo
            actions come from it).
        merge_pause: seconds of :data:`TYPING_PAUSE`, per editor.

    Signals:
        block_revisited(str block_id): an undo or redo changed ``block_id`` (the last
            block it touched); views bring it into sight. The block may be gone.
    """

    block_revisited = Signal(str)

    def __init__(
        self,
        document: ScriptDocument,
        stack: QUndoStack,
        clock: Clock = time.monotonic,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.stack = stack
        self.merge_pause = TYPING_PAUSE
        self._clock = clock
        self._pushing = 0  # depth of pushes, macros and clears under way
        # Bumped by every undo, redo and clear: steps from before never merge with after.
        self._generation = 0
        self._touched: str | None = None
        this = weakref.ref(self)

        def on_index_changed(_index: int) -> None:
            # A function holding a weak reference, not a bound slot: a stack destroyed
            # after the editor clears itself on the way out and must not call into it.
            editor = this()
            if editor is not None and shiboken6.isValid(editor):
                editor._on_index_changed()

        stack.indexChanged.connect(on_index_changed)
        document.reset.connect(self.clear)

    # --- blocks -----------------------------------------------------------------

    def add_block(self, index: int | None = None, **fields: Any) -> Block:
        """Insert a new block at ``index`` (default: the end) as one step; returns it.

        Raises:
            TypeError: a field that :class:`Block` does not have.
        """
        block = Block(**fields)
        self._push(_AddBlock(self, block, index))
        return block

    def add_blocks(self, items: Sequence[str | Mapping[str, Any]], index: int | None = None,
                   text: str | None = None) -> list[Block]:
        """Insert blocks from texts or field dicts at ``index`` (default: the end), in
        order, as one step named ``text`` (default "Add N blocks"); returns them.

        Raises:
            TypeError: a field that :class:`Block` does not have.
        """
        blocks = [Block(text=item) if isinstance(item, str) else Block(**item) for item in items]
        if not blocks:
            return []
        at = len(self.document) if index is None else max(0, min(index, len(self.document)))
        self._push(_AddBlocks(self, blocks, at, text or f"Add {count_blocks(len(blocks))}"))
        return blocks

    def remove_blocks(self, block_ids: Sequence[str]) -> None:
        """Remove several blocks as one step; undo brings them back in their places
        with their takes.

        Raises:
            KeyError: no such block (nothing is removed).
        """
        ids = list(dict.fromkeys(block_ids))
        for block_id in ids:
            self.document.block(block_id)
        if len(ids) == 1:
            self.remove_block(ids[0])
        elif ids:
            self._push(_RemoveBlocks(self, ids))

    def remove_block(self, block_id: str) -> None:
        """Remove ``block_id`` as one step; undo brings it back at its place with its
        takes and selected take.

        Raises:
            KeyError: no such block.
        """
        self._push(_RemoveBlock(self, block_id, self.document.index_of(block_id)))

    def move_block(self, block_id: str, to_index: int) -> None:
        """Move ``block_id`` to ``to_index`` (clamped) as one step; no step if it stays.

        Raises:
            KeyError: no such block.
        """
        from_index = self.document.index_of(block_id)
        to_index = max(0, min(to_index, len(self.document) - 1))
        if to_index != from_index:
            self._push(_MoveBlock(self, block_id, from_index, to_index))

    def update_block(self, block_id: str, **changes: Any) -> None:
        """Set fields of a block (:data:`BLOCK_FIELDS`) as one step, merged with the
        step before when that set the same fields of the same block (for ``text``:
        unless :attr:`merge_pause` seconds passed). No step when nothing changes.

        Raises:
            KeyError: no such block.
            AttributeError: a field not in :data:`BLOCK_FIELDS`.
        """
        for name in changes:
            if name not in BLOCK_FIELDS:
                raise AttributeError(f"cannot set block field {name!r}")
        block = self.document.block(block_id)
        new = {name: value for name, value in changes.items() if getattr(block, name) != value}
        if block.locked and any(name in LOCKED_FIELDS for name in new):
            raise BlockLocked(block_id, self._number(block_id))
        if new:
            old = {name: getattr(block, name) for name in new}
            self._push(_UpdateBlock(self, block_id, old, new))

    def update_blocks(self, block_ids: Sequence[str], text: str | None = None,
                      **changes: Any) -> list[str]:
        """Set the same fields on several blocks as one step (the inspector over a
        selection), named ``text`` (default "Change voice of 12 blocks"). Locked
        blocks keep :data:`LOCKED_FIELDS`; returns the ids of the locked blocks that
        were skipped for that. ``speaker`` goes through :meth:`set_speaker`, which
        also moves the blocks' cast-following delivery.

        Raises:
            KeyError: no such block.
            AttributeError: a field not in :data:`BLOCK_FIELDS`.
        """
        for name in changes:
            if name not in BLOCK_FIELDS:
                raise AttributeError(f"cannot set block field {name!r}")
        if "speaker" in changes:
            speaker = changes.pop("speaker")
            with self.macro(text or f"Change speaker of {count_blocks(len(block_ids))}"):
                self.set_speaker(block_ids, speaker)
                return self.update_blocks(block_ids, **changes) if changes else []
        skipped: list[str] = []
        planned: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        for block_id in dict.fromkeys(block_ids):
            block = self.document.block(block_id)
            wanted = dict(changes)
            if block.locked and any(name in LOCKED_FIELDS for name in wanted):
                skipped.append(block_id)
                wanted = {k: v for k, v in wanted.items() if k not in LOCKED_FIELDS}
            self._plan(planned, block, wanted)
        if planned:
            self._push(_UpdateBlocks(self, planned, text or _bulk_text(changes, len(planned))))
        return skipped

    def set_speaker(self, block_ids: Sequence[str], speaker: str) -> None:
        """Give blocks the speaker ``speaker`` (cleaned by
        :func:`~studio.project.cast.clean_speaker`) as one step. A speaker not cast
        yet is cast with the voice and delivery of the first of these blocks; each
        block's fields that followed its old speaker's entry take the new one's
        (:mod:`studio.project.cast`; a locked block keeps its voice and delivery).

        Raises:
            KeyError: no such block.
        """
        speaker = clean_speaker(speaker)
        blocks = [self.document.block(block_id) for block_id in dict.fromkeys(block_ids)]
        if not blocks:
            return
        target = self.document.cast_entry(speaker)
        with self.macro(f"Give {count_blocks(len(blocks))} the speaker {speaker}"):
            if target is None:
                target = replace_speaker(CastEntry.of_block(blocks[0]), speaker)
                self._push(_SetCastEntry(self, speaker, None, target))
            planned: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
            for block in blocks:
                wanted: dict[str, Any] = {"speaker": speaker}
                if not block.locked:
                    wanted |= following_changes(
                        block, self.document.cast_entry(block.speaker), target.values())
                self._plan(planned, block, wanted)
            if planned:
                self._push(_UpdateBlocks(self, planned, f"Speaker {speaker}"))

    def set_cast(self, speaker: str, **values: Any) -> int:
        """Change ``speaker``'s cast entry (:data:`~studio.project.cast.CAST_FIELDS`)
        and every block of theirs that followed it, as one step; blocks that override
        a field, and locked blocks, keep theirs. A speaker not cast yet is cast.
        Returns how many blocks changed.

        Raises:
            AttributeError: a field that is not a cast field.
        """
        for name in values:
            if name not in CAST_FIELDS:
                raise AttributeError(f"cannot set cast field {name!r}")
        old = self.document.cast_entry(speaker)
        first = next((b for b in self.document.blocks if b.speaker == speaker), None)
        base = old or (replace_speaker(CastEntry.of_block(first), speaker) if first
                       else CastEntry(speaker))
        new = base.with_values(**values)
        planned: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        for block in self.document.blocks:
            if block.speaker == speaker and not block.locked:
                self._plan(planned, block, following_changes(block, old, values))
        if new == old and not planned:
            return 0
        noun = _FIELD_NOUNS[next(iter(values))] if len(values) == 1 else "cast"
        with self.macro(f"Change {noun} of {speaker} ({count_blocks(len(planned))})"):
            self._push(_SetCastEntry(self, speaker, old, new))
            if planned:
                self._push(_UpdateBlocks(self, planned, f"Cast {speaker}"))
        return len(planned)

    def replace_texts(self, texts: Mapping[str, str], text: str) -> list[str]:
        """Give blocks new texts as one step named ``text`` (find and replace);
        locked blocks are skipped and their ids returned.

        Raises:
            KeyError: no such block.
        """
        skipped: list[str] = []
        planned: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        for block_id, new_text in texts.items():
            block = self.document.block(block_id)
            if block.locked and block.text != new_text:
                skipped.append(block_id)
            else:
                self._plan(planned, block, {"text": new_text})
        if planned:
            self._push(_UpdateBlocks(self, planned, text))
        return skipped

    def _plan(self, planned: dict[str, tuple[dict[str, Any], dict[str, Any]]], block: Block,
              wanted: Mapping[str, Any]) -> None:
        new = {k: v for k, v in wanted.items() if getattr(block, k) != v}
        if new:
            planned[block.id] = ({k: getattr(block, k) for k in new}, new)

    def set_project_dictionary(self, dict_id: str) -> None:
        """Choose the project's pronunciation dictionary ("" for none) as one step;
        blocks without their own choice follow it. No step when nothing changes."""
        old = self.document.pronunciation_dict_id
        if dict_id != old:
            self._push(_SetProjectDictionary(self.document, old, dict_id))

    # --- takes ------------------------------------------------------------------

    def add_take(self, block_id: str, take: Take) -> None:
        """Add a finished generation to ``block_id`` and select it, as one step
        ("Generate block N"); undo takes it out and restores the selection before.
        A block flagged for a retake has had it: the flag goes in the same step (undo
        brings it back with the old take).

        Raises:
            KeyError: no such block.
            BlockLocked: the block is locked.
        """
        self._check_unlocked(block_id)
        block = self.document.block(block_id)
        if not block.flagged:
            self._push(_AddTake(self, block_id, take))
            return
        with self.macro(f"Generate block {self._number(block_id)}"):
            self._push(_AddTake(self, block_id, take))
            self._push(_UpdateBlock(self, block_id, {"flag": block.flag}, {"flag": None}))

    def select_take(self, block_id: str, take_id: str | None) -> None:
        """Select ``take_id`` (``None``: none) in ``block_id``; consecutive selections
        in one block merge into one step.

        Raises:
            KeyError: no such block or take.
        """
        block = self.document.block(block_id)
        if take_id is not None:
            self.document.take(block_id, take_id)
        if block.selected_take_id != take_id:
            self._check_unlocked(block_id)
            self._push(_SelectTake(self, block_id, block.selected_take_id, take_id))

    def delete_take(self, block_id: str, take_id: str) -> None:
        """Delete a take as one step; undo puts it back at its place, selected again
        if it was.

        Raises:
            KeyError: no such block or take.
        """
        take = self.document.take(block_id, take_id)
        self._check_unlocked(block_id)
        self._push(_DeleteTake(self, block_id, take))

    def rename_take(self, block_id: str, take_id: str, name: str) -> None:
        """Rename a take as one step (none if the name is the same).

        Raises:
            KeyError: no such block or take.
        """
        take = self.document.take(block_id, take_id)
        if take.name != name:
            self._push(_UpdateTake(self, block_id, take_id, f"Rename {_take_name(take)}",
                                   {"name": take.name}, {"name": name}))

    def set_starred(self, block_id: str, take_id: str, starred: bool) -> None:
        """Star or unstar a take as one step (none if it already is).

        Raises:
            KeyError: no such block or take.
        """
        take = self.document.take(block_id, take_id)
        if take.starred != starred:
            verb = "Star" if starred else "Unstar"
            self._push(_UpdateTake(self, block_id, take_id, f"{verb} {_take_name(take)}",
                                   {"starred": take.starred}, {"starred": starred}))

    def edit_take(self, block_id: str, take_id: str, edits: Sequence[Any], text: str,
                  words: str | None = None) -> None:
        """Give a take a new edit list (:mod:`studio.project.edits`) as one step named
        ``text`` (none if the list is the same); undo restores the previous list. The
        take's original audio is never touched.

        ``words``: the edits change what the take says (an accepted infill): the take's
        :attr:`~studio.project.model.Take.text` and the block's text become ``words`` in
        the same step, so the script reads what is heard and the take stays up to date
        (its recorded dictionary entries narrow to those that apply to ``words``).

        Raises:
            KeyError: no such block or take.
        """
        take = self.document.take(block_id, take_id)
        new = tuple(edits)
        if new == take.edits:
            return
        self._check_unlocked(block_id)
        old_fields: dict[str, Any] = {"edits": take.edits}
        new_fields: dict[str, Any] = {"edits": new}
        if words is None:
            self._push(_UpdateTake(self, block_id, take_id, text, old_fields, new_fields))
            return
        old_fields["text"], new_fields["text"] = take.text, words
        # The dictionary entries the take says are those of its recorded ones that still
        # apply to its words (new words from infill are not said through a dictionary).
        old_fields["dictionary"] = take.dictionary
        new_fields["dictionary"] = applied_items(words, Matcher(take.dictionary))
        with self.macro(text):
            self._push(_UpdateTake(self, block_id, take_id, text, old_fields, new_fields))
            self.update_block(block_id, text=words)

    def split_block(self, block_id: str, left_text: str, right_text: str,
                    left: Take | None = None, right: Take | None = None) -> Block:
        """Split ``block_id`` in two as one step: it keeps ``left_text`` (and gets
        ``left`` as its selected take, if given), and a new block after it with the
        same voice and delivery gets ``right_text`` (and ``right``). Returns the new
        block.

        Raises:
            KeyError: no such block.
        """
        block = self.document.block(block_id)
        self._check_unlocked(block_id)
        # The new half speaks as the old one; a chapter mark, a flag stay on the first.
        fields = {name: getattr(block, name) for name in BLOCK_FIELDS
                  if name not in ("text", "chapter", "flag", "locked")}
        with self.macro(f"Split block {self._number(block_id)}"):
            self.update_block(block_id, text=left_text)
            if left is not None:
                self.add_take(block_id, left)
            new = self.add_block(self.document.index_of(block_id) + 1, text=right_text, **fields)
            if right is not None:
                self.add_take(new.id, right)
        return new

    # --- the stack --------------------------------------------------------------

    @contextlib.contextmanager
    def macro(self, text: str) -> Iterator[None]:
        """Group the steps made inside the ``with`` block into one step named ``text``
        (``QUndoStack.beginMacro``)."""
        with self._own_change():
            self.stack.beginMacro(text)
            try:
                yield
            finally:
                self.stack.endMacro()

    def clear(self) -> None:
        """Forget every step (another script was opened)."""
        with self._own_change():
            self.stack.clear()
        self._generation += 1

    def _now(self) -> float:
        """The editor's clock, in seconds (monotonic; injectable for tests)."""
        return self._clock()

    def _check_unlocked(self, block_id: str) -> None:
        """Raises BlockLocked: ``block_id`` is locked."""
        if self.document.block(block_id).locked:
            raise BlockLocked(block_id, self._number(block_id))

    def _number(self, block_id: str) -> int:
        """``block_id``'s number as the script shows it (from 1)."""
        return self.document.index_of(block_id) + 1

    @contextlib.contextmanager
    def _own_change(self) -> Iterator[None]:
        """Stack changes made here are new steps, not undos or redos."""
        self._pushing += 1
        try:
            yield
        finally:
            self._pushing -= 1

    def _push(self, command: QUndoCommand) -> None:
        with self._own_change():
            self.stack.push(command)

    def _touch(self, block_id: str) -> None:
        """Commands call this when an undo or redo changed ``block_id``."""
        if not self._pushing:
            self._touched = block_id

    def _on_index_changed(self) -> None:
        if self._pushing:
            return
        self._generation += 1
        block_id, self._touched = self._touched, None
        if block_id is not None:
            self.block_revisited.emit(block_id)


class _Command(QUndoCommand):
    """A step on one block. Subclasses implement ``_do`` and ``_undo``; both return
    without change when what they refer to is gone."""

    def __init__(self, editor: ScriptEditor, block_id: str, text: str) -> None:
        super().__init__(text)
        self.editor = editor
        self.document = editor.document
        self.block_id = block_id

    def redo(self) -> None:
        self._do()
        self.editor._touch(self.block_id)

    def undo(self) -> None:
        self._undo()
        self.editor._touch(self.block_id)

    def _do(self) -> None:
        raise NotImplementedError

    def _undo(self) -> None:
        raise NotImplementedError

    def _block(self) -> Block | None:
        return (self.document.block(self.block_id)
                if self.document.has_block(self.block_id) else None)


class _AddBlock(_Command):
    def __init__(self, editor: ScriptEditor, block: Block, index: int | None) -> None:
        number = len(editor.document) + 1 if index is None else index + 1
        super().__init__(editor, block.id, f"Add block {number}")
        self._block_kept: Block | None = block  # None while it is in the script
        self._index = index

    def _do(self) -> None:
        if self._block_kept is None or self.document.has_block(self.block_id):
            return
        self.document.insert_block(self._block_kept, self._index)
        self._index = self.document.index_of(self.block_id)
        self._block_kept = None

    def _undo(self) -> None:
        if self.document.has_block(self.block_id):
            self._index = self.document.index_of(self.block_id)
            self._block_kept = self.document.remove_block(self.block_id)


class _AddBlocks(_Command):
    """Several blocks inserted together (a paste, an import): one document change."""

    def __init__(self, editor: ScriptEditor, blocks: list[Block], index: int, text: str) -> None:
        super().__init__(editor, blocks[0].id, text)
        self._kept: list[Block] | None = blocks  # None while they are in the script
        self._ids = [block.id for block in blocks]
        self._index = index

    def _do(self) -> None:
        if self._kept is None or any(self.document.has_block(i) for i in self._ids):
            return
        self._index = self.document.insert_blocks(self._kept, self._index)
        self._kept = None

    def _undo(self) -> None:
        present = [i for i in self._ids if self.document.has_block(i)]
        if present:
            self._index = self.document.index_of(present[0])
            self._kept = [block for _index, block in self.document.remove_blocks(present)]


class _RemoveBlocks(_Command):
    def __init__(self, editor: ScriptEditor, block_ids: list[str]) -> None:
        super().__init__(editor, block_ids[0], f"Remove {count_blocks(len(block_ids))}")
        self._ids = block_ids
        self._removed: list[tuple[int, Block]] = []

    def _do(self) -> None:
        present = [i for i in self._ids if self.document.has_block(i)]
        self._removed = self.document.remove_blocks(present) if present else []

    def _undo(self) -> None:
        # In script order, each run of neighbours at the index its first had: the
        # script comes back as it was, one document change per run.
        runs: list[tuple[int, list[Block]]] = []
        for index, block in self._removed:
            if self.document.has_block(block.id):
                continue
            if runs and runs[-1][0] + len(runs[-1][1]) == index:
                runs[-1][1].append(block)
            else:
                runs.append((index, [block]))
        for index, blocks in runs:
            self.document.insert_blocks(blocks, index)
        self._removed = []


class _UpdateBlocks(_Command):
    """The same kind of change on many blocks: ``planned`` maps a block id to its
    ``(old, new)`` field values."""

    def __init__(self, editor: ScriptEditor,
                 planned: dict[str, tuple[dict[str, Any], dict[str, Any]]], text: str) -> None:
        super().__init__(editor, next(iter(planned)), text)
        self._planned = planned

    def _apply(self, which: int) -> None:
        for block_id, values in self._planned.items():
            if self.document.has_block(block_id):
                self.document.update_block(block_id, **values[which])

    def _do(self) -> None:
        self._apply(1)

    def _undo(self) -> None:
        self._apply(0)


class _SetCastEntry(QUndoCommand):
    def __init__(self, editor: ScriptEditor, speaker: str, old: CastEntry | None,
                 new: CastEntry) -> None:
        super().__init__(f"Cast {speaker}")
        self._document, self._speaker, self._old, self._new = (
            editor.document, speaker, old, new)

    def redo(self) -> None:
        self._document.set_cast_entry(self._new)

    def undo(self) -> None:
        if self._old is None:
            self._document.remove_cast_entry(self._speaker)
        else:
            self._document.set_cast_entry(self._old)


class _RemoveBlock(_Command):
    def __init__(self, editor: ScriptEditor, block_id: str, index: int) -> None:
        super().__init__(editor, block_id, f"Remove block {index + 1}")
        self._index = index
        self._removed: Block | None = None

    def _do(self) -> None:
        if self.document.has_block(self.block_id):
            self._index = self.document.index_of(self.block_id)
            self._removed = self.document.remove_block(self.block_id)

    def _undo(self) -> None:
        if self._removed is not None and not self.document.has_block(self.block_id):
            self.document.insert_block(self._removed, self._index)
            self._removed = None


class _MoveBlock(_Command):
    def __init__(self, editor: ScriptEditor, block_id: str, from_index: int, to_index: int) -> None:
        direction = "up" if to_index < from_index else "down"
        super().__init__(editor, block_id, f"Move block {from_index + 1} {direction}")
        self._from = from_index
        self._to = to_index

    def _do(self) -> None:
        if self.document.has_block(self.block_id):
            self.document.move_block(self.block_id, self._to)

    def _undo(self) -> None:
        if self.document.has_block(self.block_id):
            self.document.move_block(self.block_id, self._from)


class _SetProjectDictionary(QUndoCommand):
    def __init__(self, document: ScriptDocument, old: str, new: str) -> None:
        super().__init__("Change the project's pronunciation dictionary")
        self._document, self._old, self._new = document, old, new

    def redo(self) -> None:
        self._document.set_project_dictionary(self._new)

    def undo(self) -> None:
        self._document.set_project_dictionary(self._old)


class _UpdateBlock(_Command):
    def __init__(self, editor: ScriptEditor, block_id: str, old: dict[str, Any],
                 new: dict[str, Any]) -> None:
        number = editor._number(block_id)
        if set(new) == {"text"}:
            text = f"Typing in block {number}"
        elif len(new) == 1 or set(new) == {"voice_id", "language"}:
            noun = _FIELD_NOUNS["voice_id" if "voice_id" in new else next(iter(new))]
            text = f"Change {noun} of block {number}"
        else:
            text = f"Edit block {number}"
        super().__init__(editor, block_id, text)
        self._old = old
        self._new = new
        self._last_edit = editor._now()
        self._generation = editor._generation

    def id(self) -> int:
        return _UPDATE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not (isinstance(other, _UpdateBlock) and other.block_id == self.block_id
                and other._new.keys() == self._new.keys()
                and other._generation == self._generation):
            return False
        if "text" in self._new and other._last_edit - self._last_edit > self.editor.merge_pause:
            return False
        self._new = dict(other._new)
        self._last_edit = other._last_edit
        if self._new == self._old:
            self.setObsolete(True)  # typed and erased again: no step at all
        return True

    def _do(self) -> None:
        if self.document.has_block(self.block_id):
            self.document.update_block(self.block_id, **self._new)

    def _undo(self) -> None:
        if self.document.has_block(self.block_id):
            self.document.update_block(self.block_id, **self._old)


class _AddTake(_Command):
    def __init__(self, editor: ScriptEditor, block_id: str, take: Take) -> None:
        block = editor.document.block(block_id)
        super().__init__(editor, block_id, f"Generate block {editor._number(block_id)}")
        self._take_id = take.id
        self._kept: Take | None = take  # None while it is in the block
        self._previous = block.selected_take_id
        self._index: int | None = None

    def _do(self) -> None:
        block = self._block()
        if block is None or self._kept is None or any(t.id == self._take_id for t in block.takes):
            return
        self.document.add_take(self.block_id, self._kept, select=True, index=self._index)
        self._kept = None

    def _undo(self) -> None:
        block = self._block()
        take = next((t for t in block.takes if t.id == self._take_id), None) if block else None
        if block is None or take is None:
            return
        if self._previous is None or any(t.id == self._previous for t in block.takes):
            self.document.select_take(self.block_id, self._previous)
        self._index = self.document.remove_take(self.block_id, take.id)
        self._kept = take  # as it is now, renamed or starred since perhaps


class _SelectTake(_Command):
    def __init__(self, editor: ScriptEditor, block_id: str, old: str | None,
                 new: str | None) -> None:
        number = editor._number(block_id)
        take = editor.document.take(block_id, new) if new is not None else None
        text = (f"Select {_take_name(take)} of block {number}" if take is not None
                else f"Clear the take of block {number}")
        super().__init__(editor, block_id, text)
        self._old = old
        self._new = new
        self._generation = editor._generation

    def id(self) -> int:
        return _SELECT_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not (isinstance(other, _SelectTake) and other.block_id == self.block_id
                and other._generation == self._generation):
            return False
        self._new = other._new
        self.setText(other.text())
        if self._new == self._old:
            self.setObsolete(True)
        return True

    def _select(self, take_id: str | None) -> None:
        block = self._block()
        if block is not None and (take_id is None or any(t.id == take_id for t in block.takes)):
            self.document.select_take(self.block_id, take_id)

    def _do(self) -> None:
        self._select(self._new)

    def _undo(self) -> None:
        self._select(self._old)


class _DeleteTake(_Command):
    def __init__(self, editor: ScriptEditor, block_id: str, take: Take) -> None:
        super().__init__(editor, block_id, f"Delete {_take_name(take)}")
        self._take_id = take.id
        self._deleted: Take | None = None
        self._index = 0
        self._was_selected = False

    def _do(self) -> None:
        block = self._block()
        take = next((t for t in block.takes if t.id == self._take_id), None) if block else None
        if block is None or take is None:
            return
        self._was_selected = block.selected_take_id == take.id
        self._index = self.document.remove_take(self.block_id, take.id)
        self._deleted = take

    def _undo(self) -> None:
        block = self._block()
        if block is None or self._deleted is None:
            return
        if all(t.id != self._take_id for t in block.takes):
            self.document.add_take(self.block_id, self._deleted, select=self._was_selected,
                                   index=self._index)
        self._deleted = None


class _UpdateTake(_Command):
    def __init__(self, editor: ScriptEditor, block_id: str, take_id: str, text: str,
                 old: dict[str, Any], new: dict[str, Any]) -> None:
        super().__init__(editor, block_id, text)
        self._take_id = take_id
        self._old = old
        self._new = new

    def _set(self, changes: dict[str, Any]) -> None:
        block = self._block()
        if block is not None and any(t.id == self._take_id for t in block.takes):
            self.document.update_take(self.block_id, self._take_id, **changes)

    def _do(self) -> None:
        self._set(self._new)

    def _undo(self) -> None:
        self._set(self._old)
