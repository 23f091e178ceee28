"""Cast changes and bulk edits as single undo steps (issue 15): ScriptEditor.set_cast,
set_speaker and update_blocks, and the rename and drop of studio.services.cast_edits."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtGui import QUndoStack

from studio.project.cast import CastEntry
from studio.services.cast_edits import drop_speaker, rename_speaker
from studio.services.document import ScriptDocument
from studio.services.editor import ScriptEditor


def _state(document: ScriptDocument) -> list[tuple[Any, ...]]:
    return [(b.text, b.speaker, b.voice_id, b.language, b.emotion, b.speed, b.volume, b.locked)
            for b in document.blocks]


@pytest.fixture
def editor(qapp) -> ScriptEditor:  # type: ignore[no-untyped-def]
    document = ScriptDocument()
    editor = ScriptEditor(document, QUndoStack(document), parent=document)
    document.add_block(text="Once upon a time.", voice_id="narr")
    for text in ("Hello.", "How are you?", "Goodbye."):
        document.add_block(text=text, speaker="Alice", voice_id="a1")
    document.add_block(text="Hi.", speaker="Bob", voice_id="narr")
    document.set_cast_entry(CastEntry("Alice", voice_id="a1"))
    return editor


def _of(editor: ScriptEditor, speaker: str) -> list[Any]:
    return [b for b in editor.document.blocks if b.speaker == speaker]


def test_set_cast_changes_following_blocks_in_one_step(editor: ScriptEditor) -> None:
    document, stack = editor.document, editor.stack
    alice = _of(editor, "Alice")
    document.update_block(alice[1].id, voice_id="override")  # made in the inspector
    before = _state(document)
    assert editor.set_cast("Alice", voice_id="a2", speed=1.2) == 3
    assert stack.count() == 1
    assert [(b.voice_id, b.speed) for b in alice] == [("a2", 1.2), ("override", 1.2),
                                                      ("a2", 1.2)]
    assert document.cast_entry("Alice") == CastEntry("Alice", voice_id="a2", speed=1.2)
    assert document.block_at(0).voice_id == "narr"  # another speaker's block
    stack.undo()
    assert _state(document) == before
    assert document.cast_entry("Alice") == CastEntry("Alice", voice_id="a1")
    stack.redo()
    assert alice[0].voice_id == "a2"


def test_a_block_with_its_own_voice_keeps_that_voice_s_language(editor: ScriptEditor) -> None:
    document = editor.document
    alice = _of(editor, "Alice")
    document.update_block(alice[1].id, voice_id="ann-en")  # her own voice, English
    editor.set_cast("Alice", voice_id="a-fr", language="fr")
    assert [(b.voice_id, b.language) for b in alice] == [
        ("a-fr", "fr"), ("ann-en", "en"), ("a-fr", "fr")]


def test_set_cast_leaves_locked_blocks(editor: ScriptEditor) -> None:
    alice = _of(editor, "Alice")
    editor.document.update_block(alice[0].id, locked=True)
    assert editor.set_cast("Alice", voice_id="a2") == 2
    assert [b.voice_id for b in alice] == ["a1", "a2", "a2"]


def test_first_cast_of_a_speaker_sets_every_block(editor: ScriptEditor) -> None:
    assert editor.document.cast_entry("Bob") is None
    assert editor.set_cast("Bob", voice_id="b1") == 1
    assert _of(editor, "Bob")[0].voice_id == "b1"
    assert editor.document.cast_entry("Bob") == CastEntry("Bob", voice_id="b1")
    editor.stack.undo()
    assert editor.document.cast_entry("Bob") is None
    assert _of(editor, "Bob")[0].voice_id == "narr"


def test_set_speaker_moves_cast_following_fields_in_one_step(editor: ScriptEditor) -> None:
    document = editor.document
    narrator = document.block_at(0)
    before = _state(document)
    editor.set_speaker([narrator.id], "Alice")
    assert editor.stack.count() == 1
    assert (narrator.speaker, narrator.voice_id) == ("Alice", "a1")
    editor.stack.undo()
    assert _state(document) == before


def test_update_blocks_is_one_step_and_skips_locked(editor: ScriptEditor) -> None:
    document = editor.document
    ids = [b.id for b in document.blocks]
    document.update_block(ids[2], locked=True)
    before = _state(document)
    skipped = editor.update_blocks(ids, emotion="happy", speaker="Carol")
    assert skipped == [ids[2]]
    assert editor.stack.count() == 1
    assert all(b.speaker == "Carol" for b in document.blocks)  # speaker changes when locked
    assert [b.emotion for b in document.blocks] == ["happy", "happy", None, "happy", "happy"]
    editor.stack.undo()
    assert _state(document) == before


def test_rename_speaker_moves_blocks_and_entry_in_one_step(editor: ScriptEditor) -> None:
    document = editor.document
    before, cast_before = _state(document), document.cast
    assert rename_speaker(editor, "Alice", "  Alice   Smith ") == 3
    assert editor.stack.count() == 1
    assert [b.speaker for b in document.blocks].count("Alice Smith") == 3
    assert document.cast_entry("Alice") is None
    assert document.cast_entry("Alice Smith") == CastEntry("Alice Smith", voice_id="a1")
    assert "Alice" not in document.speakers()
    editor.stack.undo()
    assert _state(document) == before and document.cast == cast_before
    assert rename_speaker(editor, "Alice", "Alice") == 0 and editor.stack.count() == 1


def test_rename_into_a_cast_speaker_merges(editor: ScriptEditor) -> None:
    document = editor.document
    document.set_cast_entry(CastEntry("Bob", voice_id="b1"))
    document.update_block(_of(editor, "Bob")[0].id, voice_id="b1")
    assert rename_speaker(editor, "Alice", "Bob") == 3
    assert [b.voice_id for b in _of(editor, "Bob")] == ["b1"] * 4  # they follow Bob's cast
    assert document.cast_entry("Alice") is None


def test_drop_speaker_only_without_blocks(editor: ScriptEditor) -> None:
    document = editor.document
    with pytest.raises(ValueError, match="still speaks"):
        drop_speaker(editor, "Alice")
    document.set_cast_entry(CastEntry("Ghost", voice_id="g"))
    assert drop_speaker(editor, "Ghost") and document.cast_entry("Ghost") is None
    editor.stack.undo()
    assert document.cast_entry("Ghost") == CastEntry("Ghost", voice_id="g")
    assert not drop_speaker(editor, "Nobody")
