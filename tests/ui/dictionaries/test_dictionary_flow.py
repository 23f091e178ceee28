"""Issue #6 end to end in the studio, as a user goes: make a dictionary, add "Cartesia"
and a character name with an IPA suggestion, hear it, use it for the project, generate,
edit an entry (the take goes out of date and Generate all makes a new one), undo from the
Edit menu while the panel has the focus, export as PLS and import it back."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np

from studio.config import Settings
from studio.project.lexicon import LexiconItem, is_ipa_alias, read_lexicon
from studio.ui.dictionaries.lexicon_model import ALIAS, TEXT


def run(qloop, awaitable, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    return qloop.run_until_complete(asyncio.wait_for(awaitable, timeout))


def test_make_a_dictionary_hear_it_use_it_and_take_it_elsewhere(
        open_studio, qtbot, qloop, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    studio = open_studio(Settings(play_while_generating=False))
    panel, service, document = studio.dictionaries_panel, studio.dictionaries, studio.document
    run(qloop, panel.wait_idle())
    assert service.listed and document.is_available("no-such-id") is False

    panel.new_dictionary("Brand and cast")
    run(qloop, panel.wait_idle())
    dict_id = panel.current_dict_id()
    assert service.dictionary(dict_id).name == "Brand and cast"
    proxy = panel.table.proxy
    for text in ("Cartesia", "Zorvath"):
        panel.add_entry()
        panel.table.closePersistentEditor(panel.table.currentIndex())
        row = panel.table.currentIndex().row()
        assert proxy.setData(proxy.index(row, TEXT), text)
        panel.suggest()  # espeak-ng's IPA as a starting point
        run(qloop, panel.wait_idle())
    items = panel.model.items()
    assert [i.text for i in items] == ["Cartesia", "Zorvath"]
    assert all(is_ipa_alias(i.alias) for i in items), items
    # The user edits the suggestion for Cartesia: a respelling instead.
    row = next(r for r in range(proxy.rowCount()) if proxy.index(r, TEXT).data() == "Cartesia")
    assert proxy.setData(proxy.index(row, ALIAS), "kar TEE zhuh")
    run(qloop, panel.wait_idle())
    assert service.save_state(dict_id) == "saved"

    # Say it: the sentence without and with the dictionary, played one after the other.
    panel.table.select_source_rows([0])
    panel.say_it_or_stop()
    run(qloop, panel.wait_idle())
    without, with_dictionary, _rate = panel.last_renders
    assert without.size != with_dictionary.size or not np.array_equal(without, with_dictionary)

    # Use it for the project: the block marks the words and the take applies them.
    panel.use_current()
    assert document.pronunciation_dict_id == dict_id
    block_id = studio.window.add_block("Cartesia hired Zorvath. The rest is plain.")
    script = studio.window.script_panel
    assert script.current_block_id == block_id
    view = script.inspector
    marked = [r.start for r in script.text_edit.document().firstBlock().layout().formats()]
    assert marked == [0, len("Cartesia hired ")]
    studio.generation.generate([block_id])
    run(qloop, studio.generation.wait_idle())
    block = document.block(block_id)
    first = block.selected_take
    assert first.request["pronunciation_dict_id"] == dict_id
    assert [i.text for i in first.dictionary] == ["Cartesia", "Zorvath"]
    assert first.word_timestamps.words[:3] == ("Cartesia", "hired", "Zorvath")  # the script's

    # Editing an entry the take used puts it out of date, with the reason; Generate
    # all makes a new take and keeps the old one.
    assert proxy.setData(proxy.index(row, ALIAS), "kar TAY see uh")
    assert document.needs_take(block)
    assert view.status_label.text() == (
        "Dictionary changed for “Cartesia” since Take 1: generate again for a new take")
    # Generate at once, while the edit is still on its way to the server: the render
    # waits for it, so the new take says the new alias.
    studio.window.generate_all_action.trigger()
    run(qloop, studio.generation.wait_idle())
    second = block.selected_take
    assert len(block.takes) == 2 and second is not first
    assert not document.needs_take(block)
    assert second.audio.size != first.audio.size or not np.array_equal(second.audio, first.audio)

    # Edit → Undo acts on the dictionary while the panel has the focus, on the script
    # elsewhere.
    panel.table.setFocus()
    qtbot.waitUntil(lambda: studio.window.undo_group.activeStack() is panel.undo_stack)
    studio.window.undo_action.trigger()
    assert panel.model.item(0).alias == "kar TEE zhuh"
    run(qloop, panel.wait_idle())
    # Back to the entry Take 1 was made with: Take 1 is current again, and generating
    # reuses it instead of paying for the same audio twice.
    assert document.is_current(block, first) and document.needs_take(block)
    assert view.status_label.text() == ("Dictionary changed for “Cartesia” since Take 2; "
                                        "Take 1 matches: Generate uses it, free")
    studio.generation.generate([block_id])
    run(qloop, studio.generation.wait_idle())
    assert len(block.takes) == 2 and block.selected_take is first
    script.text_edit.setFocus()
    qtbot.waitUntil(lambda: studio.window.undo_group.activeStack() is studio.editor.stack)

    # Export as PLS and import it back into a new dictionary: the same entries.
    path = tmp_path / "brand.pls"
    panel.export_file(path)
    assert read_lexicon(path) == list(panel.model.items())
    panel.new_dictionary("Imported")
    run(qloop, panel.wait_idle())
    panel.import_file(path)
    run(qloop, panel.wait_idle())
    assert panel.model.items() == service.items(dict_id)
    imported = panel.current_dict_id()
    assert imported != dict_id and service.save_state(imported) == "saved"
    on_server = run(qloop, service._client.pronunciation_dicts.get(imported)).items
    assert tuple(LexiconItem(i.text, i.alias) for i in on_server) == service.items(dict_id)
