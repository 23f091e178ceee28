"""Pronunciation dictionaries in the script: the project's choice, a block's override,
marked words, which takes go out of date, the cache key, and what the file keeps."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QUndoStack

from studio.api.models import OutputFormat
from studio.project.lexicon import LexiconItem
from studio.project.model import Block, make_take
from studio.services.document import ScriptDocument
from studio.services.editor import ScriptEditor
from studio.services.project import ProjectService
from studio.services.render import BlockRenderer
from studio.services.voices import VoiceCatalog
from studio.timestamps import PhonemeTimestamps, WordTimestamps
from studio.ui.script.pronunciation_highlight import describe
from studio.ui.script.script_panel import ScriptPanel
from tests.ui.test_project_service import reopen

CARTESIA = LexiconItem("Cartesia", "<<k|ɑ|ɹ|ˈ|t|i|ʒ|ə>>")
ZORBA = LexiconItem("Zorba", "ZOR-bah")
OTHER = LexiconItem("Sonic", "SAH-nik")


def take_of(document: ScriptDocument, block: Block, number: int = 1):
    """A take made now from ``block`` as the renderer would record it."""
    use = document.dictionary_use(block)
    request = block.tts_request(OutputFormat(), use.id).to_json()
    return make_take(np.zeros(1600, np.float32), 16000, WordTimestamps(), PhonemeTimestamps(),
                     request, "offline", 0, number, dictionary=use.applied(block.text) or ())


@pytest.fixture
def document(qtbot):  # type: ignore[no-untyped-def]
    document = ScriptDocument()
    document.set_dictionaries({"d1": ("Brand", [CARTESIA, ZORBA, OTHER]),
                               "d2": ("Characters", [ZORBA])}, available={"d1", "d2"})
    return document


def test_blocks_follow_the_project_unless_they_choose(document: ScriptDocument) -> None:
    block = document.add_block(text="Cartesia hired Zorba.")
    assert document.dictionary_id_for(block) == ""
    document.set_project_dictionary("d1")
    assert document.dictionary_id_for(block) == "d1"
    assert document.dictionary_use(block).applied(block.text) == (CARTESIA, ZORBA)
    document.update_block(block.id, pronunciation_dict_id="")
    assert (
        document.dictionary_id_for(block) == ""
        and document.dictionary_use(block).applied("x") == ()
    )
    document.update_block(block.id, pronunciation_dict_id="d2")
    assert document.dictionary_use(block).applied(block.text) == (ZORBA,)


def test_editing_an_entry_the_take_used_makes_it_out_of_date_and_no_other(
        document: ScriptDocument) -> None:
    document.set_project_dictionary("d1")
    uses = document.add_block(text="Cartesia makes voices.")
    plain = document.add_block(text="Nothing to change here.")
    for block in (uses, plain):
        document.add_take(block.id, take_of(document, block))
    assert not document.needs_take(uses) and not document.needs_take(plain)

    document.set_dictionary("d1", "Brand", [CARTESIA, ZORBA, LexiconItem("Sonic", "SOH-nik")])
    assert not document.needs_take(uses), "an entry its text does not use changed"

    document.set_dictionary("d1", "Brand", [LexiconItem("Cartesia", "kar-TEE-zhuh"), ZORBA])
    assert document.needs_take(uses) and not document.needs_take(plain)
    assert uses.selected_take in uses.takes, "the old take stays in the history"

    document.set_dictionary("d1", "Brand", [CARTESIA, ZORBA])
    assert not document.needs_take(uses), "back to the entry it was made with"

    document.set_project_dictionary("d2")  # without Cartesia: only that block changes
    assert document.needs_take(uses) and not document.needs_take(plain)


def test_choosing_a_dictionary_leaves_blocks_it_does_not_change_alone(
        document: ScriptDocument) -> None:
    renderer = BlockRenderer(client=None, backend="offline")  # type: ignore[arg-type]
    uses = document.add_block(text="Cartesia makes voices.", voice_id="v")
    plain = document.add_block(text="Nothing to change here.", voice_id="v")
    for block in (uses, plain):
        document.add_take(block.id, take_of(document, block))
    before = renderer.cache_key(plain, document.dictionary_use(plain))
    document.set_project_dictionary("d1")
    assert document.needs_take(uses) and not document.needs_take(plain)
    assert renderer.cache_key(plain, document.dictionary_use(plain)) == before, "reused, free"


def test_models_before_sonic_3_get_no_dictionary(document: ScriptDocument) -> None:
    document.set_project_dictionary("d1")
    block = document.add_block(text="Cartesia makes voices.", model_id="sonic-2")
    use = document.dictionary_use(block)
    assert use.id == "" and use.applied(block.text) == ()
    assert "pronunciation_dict_id" not in block.tts_request(OutputFormat(), use.id).to_json()
    document.update_block(block.id, model_id="sonic-3.5-2026-05-04")
    assert document.dictionary_use(block).id == "d1"


def test_unknown_entries_leave_takes_alone(document: ScriptDocument) -> None:
    block = document.add_block(text="Cartesia", pronunciation_dict_id="gone")
    document.add_take(block.id, take_of(document, block))
    assert document.dictionary_use(block).matcher is None
    assert not document.needs_take(block)


def test_cache_key_hashes_the_entries_that_apply(document: ScriptDocument) -> None:
    renderer = BlockRenderer(client=None, backend="offline")  # type: ignore[arg-type]
    document.set_project_dictionary("d1")
    block = document.add_block(text="Cartesia makes voices.", voice_id="v")
    key = renderer.cache_key(block, document.dictionary_use(block))
    document.set_dictionary("d1", "Brand", [CARTESIA, LexiconItem("Other", "x")])
    assert renderer.cache_key(block, document.dictionary_use(block)) == key
    document.set_dictionary("d1", "Brand", [LexiconItem("Cartesia", "kar-TEE-zhuh")])
    assert renderer.cache_key(block, document.dictionary_use(block)) != key
    assert renderer.cache_key(block) != key, "without the dictionary"
    document.update_block(block.id, pronunciation_dict_id="unknown")
    assert renderer.cache_key(block, document.dictionary_use(block)) == "", "never reused"


def test_the_inline_editor_marks_the_words_and_chooses_a_dictionary_with_undo(
        qtbot, document: ScriptDocument) -> None:  # type: ignore[no-untyped-def]
    editor = ScriptEditor(document, QUndoStack())
    block = document.add_block(text="cartesia is here. We love cartesia and Cartesia 😀 Zorba.")
    panel = ScriptPanel(document, editor, VoiceCatalog())
    qtbot.addWidget(panel)
    text_edit, inspector = panel.text_edit, panel.inspector
    assert text_edit is not None and text_edit.block_id == block.id

    def marked() -> list[str]:
        """The marked stretches of every paragraph."""
        units = text_edit.toPlainText().encode("utf-16-le")
        paragraph, found = text_edit.document().firstBlock(), []
        while paragraph.isValid():
            found += [units[2 * (paragraph.position() + r.start):
                            2 * (paragraph.position() + r.start + r.length)].decode("utf-16-le")
                      for r in paragraph.layout().formats()]
            paragraph = paragraph.next()
        return found

    assert marked() == [] and inspector.dictionary_combo.currentText() == "Project's: none"
    document.set_dictionary("d1", "Brand", [LexiconItem("cartesia", "kar-TEE-zhuh"), ZORBA])
    editor.set_project_dictionary("d1")
    assert inspector.dictionary_combo.currentText() == "Project's: Brand"
    # The lowercase key: everywhere lowercase, capitalised only at the sentence start;
    # offsets stay right after a character outside the BMP.
    assert marked() == ["cartesia", "cartesia", "Zorba"]
    highlighter = text_edit.highlighter
    assert highlighter.entry_at(3) == LexiconItem("cartesia", "kar-TEE-zhuh")  # the tooltip's
    assert highlighter.entry_at(9) is None
    assert describe(highlighter.entry_at(3), highlighter.dictionary_name) == (
        "cartesia → kar-TEE-zhuh (said as, from “Brand”)")
    # The whole text is matched at once: a line break is white space, not a sentence end.
    text_edit.setPlainText("We love\nCartesia. New\nZorba")
    assert marked() == ["Zorba"] and block.text == "We love\nCartesia. New\nZorba"
    editor.stack.undo()  # the typing

    inspector.dictionary_combo.setCurrentIndex(inspector.dictionary_combo.findData("d2"))
    assert block.pronunciation_dict_id == "d2" and marked() == ["Zorba"]
    inspector.dictionary_combo.setCurrentIndex(inspector.dictionary_combo.findData(""))
    assert block.pronunciation_dict_id == "" and marked() == []
    editor.stack.undo()  # back-to-back choices for one block are one step, as for a voice
    assert block.pronunciation_dict_id is None and inspector.dictionary_combo.currentIndex() == 0
    assert marked() == ["cartesia", "cartesia", "Zorba"]
    editor.stack.undo()  # the project's choice
    assert document.pronunciation_dict_id == "" and marked() == []

    document.set_dictionaries({"d1": ("Brand", [ZORBA])}, available={"d1"})  # d2 deleted there
    inspector.dictionary_combo.setCurrentIndex(inspector.dictionary_combo.findData("d1"))
    editor.set_project_dictionary("d1")
    document.set_dictionaries({}, available=())
    assert inspector.dictionary_combo.currentText() == "Missing: Brand"
    assert inspector.dictionary_combo.itemText(0) == "Missing: Brand (project's)"


def test_the_project_file_keeps_the_choice_the_override_the_entries_and_a_copy(
        qtbot, qloop, tmp_path) -> None:  # type: ignore[no-untyped-def]
    document = ScriptDocument()
    project = ProjectService(document, tmp_path / "untitled")
    qloop.run_until_complete(project.new())
    try:
        document.set_dictionaries({"d1": ("Brand", [CARTESIA]), "d2": ("Cast", [ZORBA])})
        document.set_project_dictionary("d1")
        block = document.add_block(text="Cartesia and Zorba.")
        other = document.add_block(text="Zorba.", pronunciation_dict_id="d2")
        document.add_take(block.id, take_of(document, block))
        qloop.run_until_complete(project.flush())
        loaded = reopen(project.path)
        assert loaded.settings["pronunciation_dict_id"] == "d1"
        assert [b.pronunciation_dict_id for b in loaded.blocks] == [None, "d2"]
        assert loaded.blocks[0].takes[0].dictionary == (CARTESIA,)
        assert loaded.blocks[0].takes[0].request["pronunciation_dict_id"] == "d1"
        path = project.path
        qloop.run_until_complete(project.close())
        fresh = ScriptDocument()  # a studio that has never seen the backend's dictionaries
        again = ProjectService(fresh, tmp_path / "untitled2")
        qloop.run_until_complete(again.open(path))
        try:
            assert fresh.pronunciation_dict_id == "d1"
            assert fresh.dictionary("d1") == ("Brand", (CARTESIA,))
            assert fresh.dictionary("d2") == ("Cast", (ZORBA,))
            assert not fresh.needs_take(fresh.block(block.id))
            assert fresh.block(other.id).pronunciation_dict_id == "d2"
        finally:
            qloop.run_until_complete(again.shutdown())
    finally:
        qloop.run_until_complete(project.shutdown())


def test_a_dictionary_deleted_on_the_server_fails_the_block_before_paying(
        open_studio, qtbot, qloop) -> None:  # type: ignore[no-untyped-def]
    from studio.config import Settings
    studio = open_studio(Settings(play_while_generating=False))
    document = studio.document
    block_id = studio.window.add_block("Cartesia speaks.")
    document.set_dictionaries({"gone": ("Brand", [CARTESIA])})  # the project's copy
    document.set_dictionaries({}, available=())  # the backend has no dictionaries
    studio.editor.update_block(block_id, pronunciation_dict_id="gone")
    studio.generation.generate([block_id])
    qloop.run_until_complete(studio.generation.wait_idle())
    status = studio.window.script_panel.status_text(block_id)
    assert status.startswith("Failed:") and '"Brand" is no longer on the server' in status
    assert not document.block(block_id).takes
    assert document.dictionary("gone") == ("Brand", (CARTESIA,)), "the copy is kept"


def test_a_block_waits_for_its_dictionarys_save_and_fails_if_it_cannot_be_saved(
        open_studio, qloop, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from studio.api.errors import ServerError
    from studio.config import Settings
    studio = open_studio(Settings(play_while_generating=False))
    service, document = studio.dictionaries, studio.document
    made = qloop.run_until_complete(service.create("Saves fail", [CARTESIA]))
    studio.editor.set_project_dictionary(made.id)
    block_id = studio.window.add_block("Cartesia speaks.")
    sent: list[object] = []

    async def refuse(dict_id, **fields):  # type: ignore[no-untyped-def]
        sent.append(fields)
        raise ServerError("the server is having a bad day", status_code=503)

    monkeypatch.setattr(service._client.pronunciation_dicts, "update", refuse)
    service.edit_items(made.id, [LexiconItem("Cartesia", "kar-TEE-zhuh")])
    studio.generation.generate([block_id])
    qloop.run_until_complete(studio.generation.wait_idle())
    status = studio.window.script_panel.status_text(block_id)
    assert sent and status.startswith("Failed:") and "not saved" in status, status
    assert not document.block(block_id).takes, "no take with entries the server lacks"
    assert service.items(made.id) == (LexiconItem("Cartesia", "kar-TEE-zhuh"),), "kept"


def test_a_block_says_when_only_its_dictionary_changed(qtbot, document: ScriptDocument) -> None:  # type: ignore[no-untyped-def]
    editor = ScriptEditor(document, QUndoStack())
    document.set_project_dictionary("d1")
    block = document.add_block(text="Cartesia hired Zorba.")
    document.add_take(block.id, take_of(document, block))
    panel = ScriptPanel(document, editor, VoiceCatalog())
    qtbot.addWidget(panel)
    status = panel.inspector.status_label
    assert panel.current_block_id == block.id and status.text() == ""
    editor.update_block(block.id, pronunciation_dict_id="d2")  # Characters: Zorba only
    assert status.text() == (
        "Dictionary changed for “Cartesia” since Take 1: generate again for a new take")
    editor.update_block(block.id, text="Cartesia hired Zorba!")
    assert status.text().startswith("Edited since Take 1")



def test_a_sonic_2_block_says_it_has_no_dictionary_and_keeps_its_choice(
        qtbot, document: ScriptDocument) -> None:  # type: ignore[no-untyped-def]
    editor = ScriptEditor(document, QUndoStack())
    document.set_project_dictionary("d1")
    block = document.add_block(text="Cartesia.", pronunciation_dict_id="d2")
    panel = ScriptPanel(document, editor, VoiceCatalog())
    qtbot.addWidget(panel)
    combo = panel.inspector.dictionary_combo
    assert combo.currentText() == "Dictionary: Characters" and combo.isEnabled()
    editor.update_block(block.id, model_id="sonic-2")
    assert combo.currentText() == "No dictionary on sonic-2" and not combo.isEnabled()
    assert "Sonic-3" in combo.toolTip()
    editor.update_block(block.id, model_id="sonic-3")
    assert combo.currentText() == "Dictionary: Characters" and block.pronunciation_dict_id == "d2"


def test_a_card_with_marked_words_still_draws_its_text(
        qtbot, document: ScriptDocument) -> None:  # type: ignore[no-untyped-def]
    """Marks were once set on the card's text layout after it was laid out, which
    discards its lines: every card but the current one with a dictionary word was blank."""
    editor = ScriptEditor(document, QUndoStack())
    document.add_block(text="The first block is the current one.")
    marked = document.add_block(text="Cartesia hired Zorba for the season.")
    plain = document.add_block(text="Nothing here is in the dictionary at all.")
    editor.set_project_dictionary("d1")
    panel = ScriptPanel(document, editor, VoiceCatalog())
    qtbot.addWidget(panel)
    panel.resize(700, 500)
    panel.show()
    qtbot.waitExposed(panel)
    view = panel.view

    def ink(block: Block) -> int:
        """Pixels in the block's text area not of the card's background (its corner)."""
        row = document.index_of(block.id)
        proxy = view.model()
        rect = panel.delegate.text_rect(view.visualRect(proxy.index(row, 0)), block)
        image = view.viewport().grab(rect).toImage()
        background = image.pixel(0, 0)
        return sum(1 for x in range(image.width()) for y in range(image.height())
                   if image.pixel(x, y) != background)

    qtbot.waitUntil(lambda: ink(plain) > 100, timeout=10000)
    assert ink(marked) > 100, "the marked card drew no text"
