"""Bulk changes to the script (issue 15): many blocks inserted or removed as one
document change and one undo step, positions without a scan, and locked blocks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from PySide6.QtGui import QUndoStack

from studio.project.model import Block, BlockLocked, make_take
from studio.services.document import ScriptDocument
from studio.services.editor import ScriptEditor
from studio.timestamps import PhonemeTimestamps, WordTimestamps


@pytest.fixture
def editor(qapp) -> ScriptEditor:  # type: ignore[no-untyped-def]
    document = ScriptDocument()
    return ScriptEditor(document, QUndoStack(document), parent=document)


def _state(document: ScriptDocument) -> list[tuple[Any, ...]]:
    return [(b.id, b.text, b.speaker, b.voice_id, b.flag, b.locked, b.chapter,
             [t.id for t in b.takes], b.selected_take_id) for b in document.blocks]


def _take(block: Block) -> Any:
    return make_take(np.zeros(160, np.float32), 16000, WordTimestamps(), PhonemeTimestamps(),
                     {"transcript": block.text}, "offline", 0, block.next_take_number())


def test_ten_thousand_blocks_arrive_in_one_signal_and_one_undo_step(
        editor: ScriptEditor) -> None:
    document = editor.document
    document.add_block(text="Before.")
    inserted: list[tuple[int, int]] = []
    single: list[str] = []
    document.blocks_inserted.connect(lambda index, count: inserted.append((index, count)))
    document.block_inserted.connect(lambda _index, block_id: single.append(block_id))
    items = [{"text": f"Paragraph {i}.", "speaker": "Alice" if i % 3 else "Narrator",
              "chapter": f"Chapter {i // 1000 + 1}" if i % 1000 == 0 else None}
             for i in range(10_000)]

    blocks = editor.add_blocks(items, index=0, text="Import book.epub")

    assert inserted == [(0, 10_000)] and single == []
    assert editor.stack.count() == 1 and editor.stack.undoText() == "Import book.epub"
    assert document.index_of(blocks[9_999].id) == 9_999
    assert document.block_at(10_000).text == "Before."
    assert document.block_at(1).speaker == "Alice"
    assert document.block_at(1000).chapter == "Chapter 2"

    removed: list[list[tuple[int, str]]] = []
    document.blocks_removed.connect(removed.append)
    editor.stack.undo()
    assert [b.text for b in document.blocks] == ["Before."]
    assert len(removed) == 1 and len(removed[0]) == 10_000
    assert removed[0][0] == (9_999, blocks[-1].id)  # highest index first
    editor.stack.redo()
    assert len(document) == 10_001 and document.index_of(blocks[0].id) == 0


def test_removing_scattered_blocks_is_one_step_and_undo_puts_each_back(
        editor: ScriptEditor) -> None:
    document = editor.document
    blocks = editor.add_blocks([f"Block {i}." for i in range(8)])
    first = blocks[1]
    editor.add_take(first.id, _take(first))
    before = _state(document)

    editor.remove_blocks([blocks[6].id, blocks[1].id, blocks[2].id, blocks[4].id])

    assert [b.text for b in document.blocks] == ["Block 0.", "Block 3.", "Block 5.", "Block 7."]
    assert editor.stack.undoText() == "Remove 4 blocks"
    editor.stack.undo()
    assert _state(document) == before
    assert document.index_of(blocks[7].id) == 7


def test_positions_follow_moves_inserts_and_removals(editor: ScriptEditor) -> None:
    document = editor.document
    blocks = editor.add_blocks([f"{i}" for i in range(5)])
    document.move_block(blocks[0].id, 4)
    assert [document.index_of(b.id) for b in blocks] == [4, 0, 1, 2, 3]
    document.remove_block(blocks[2].id)
    assert document.index_of(blocks[3].id) == 1
    document.insert_blocks([Block(text="new")], 0)
    assert document.index_of(blocks[0].id) == 4
    with pytest.raises(KeyError):
        document.index_of(blocks[2].id)
    with pytest.raises(ValueError):
        document.insert_blocks([blocks[1]])  # already there: nothing inserted
    assert len(document) == 5


def test_a_locked_block_keeps_its_text_delivery_and_takes(editor: ScriptEditor) -> None:
    block = editor.add_block(text="Approved.", voice_id="v1")
    editor.add_take(block.id, _take(block))
    take_id = block.selected_take_id
    editor.update_blocks([block.id], locked=True)
    assert editor.stack.undoText() == "Lock 1 block"

    with pytest.raises(BlockLocked, match="Block 1 is locked"):
        editor.update_block(block.id, text="Changed.")
    with pytest.raises(BlockLocked):
        editor.update_block(block.id, speed=1.2)
    with pytest.raises(BlockLocked):
        editor.add_take(block.id, _take(block))
    assert take_id is not None
    with pytest.raises(BlockLocked):
        editor.delete_take(block.id, take_id)
    with pytest.raises(BlockLocked):
        editor.split_block(block.id, "Appr", "oved.")
    assert (block.text, block.speed, [t.id for t in block.takes]) == ("Approved.", 1.0, [take_id])

    # What does not change the audio may still change: the flag, the speaker, a chapter.
    editor.update_block(block.id, flag="breath at the end", chapter="One")
    assert block.flagged and block.chapter == "One"
    editor.update_blocks([block.id], locked=False)
    editor.update_block(block.id, text="Changed.")
    assert block.text == "Changed."


def test_bulk_edits_skip_locked_blocks_and_say_which(editor: ScriptEditor) -> None:
    document = editor.document
    blocks = editor.add_blocks([{"text": f"Line {i}.", "voice_id": "v1"} for i in range(4)])
    document.update_block(blocks[2].id, locked=True)

    skipped = editor.update_blocks([b.id for b in blocks], voice_id="v2", flag="")

    assert skipped == [blocks[2].id]
    assert [b.voice_id for b in blocks] == ["v2", "v2", "v1", "v2"]
    assert all(b.flagged for b in blocks)  # a flag is not a change to the audio
    assert editor.stack.count() == 2  # the add, then one step for the whole selection
    editor.stack.undo()
    assert [b.voice_id for b in blocks] == ["v1"] * 4 and not any(b.flagged for b in blocks)

    skipped = editor.replace_texts({b.id: b.text.replace("Line", "Row") for b in blocks},
                                   "Replace “Line”")
    assert skipped == [blocks[2].id]
    assert [b.text for b in blocks] == ["Row 0.", "Row 1.", "Line 2.", "Row 3."]
    editor.stack.undo()
    assert [b.text for b in blocks] == [f"Line {i}." for i in range(4)]


def test_splitting_a_block_leaves_its_chapter_and_flag_on_the_first_half(
        editor: ScriptEditor) -> None:
    block = editor.add_block(text="One. Two.", speaker="Alice", chapter="Start", flag="")
    new = editor.split_block(block.id, "One.", "Two.")
    assert (new.speaker, new.chapter, new.flag) == ("Alice", None, None)
    assert (block.chapter, block.flag) == ("Start", "")


def test_a_new_take_answers_the_retake_flag_in_the_same_step(editor: ScriptEditor) -> None:
    block = editor.add_block(text="Say it again.")
    editor.update_block(block.id, flag="rushed")
    editor.add_take(block.id, _take(block))
    assert block.flag is None and len(block.takes) == 1
    editor.stack.undo()
    assert block.flag == "rushed" and block.takes == []
