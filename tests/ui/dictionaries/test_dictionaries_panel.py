"""The Dictionaries panel (issue #6) against a private offline engine over loopback: the
list and its markers, entries with undo and redo, search and sort, import and export
(replace, merge, malformed files), 10 000 entries, Suggest and the IPA palette,
delete, dictionaries deleted on the server, failed saves, no backend, Say it, and a
layout that fits the studio's narrow right-hand dock."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QToolBar, QToolButton, QWidget

from studio.api import CartesiaClient
from studio.offline import OfflineEngine
from studio.project.lexicon import LexiconItem, read_lexicon, validate, write_lexicon
from studio.services.dictionaries import DictionaryService, has_error
from studio.services.playback import PlaybackService
from studio.services.voices import VoiceCatalog
from studio.ui.dictionaries.dictionaries_panel import DictionariesPanel, export_format
from studio.ui.dictionaries.ipa_palette import GROUPS, SEPARATOR, insert_symbol
from studio.ui.dictionaries.lexicon_model import ALIAS, KIND, TEXT, merge_items

T = TypeVar("T")
CARTESIA = LexiconItem("Cartesia", "<<k|ɑ|ɹ|ˈ|t|i|ʒ|ə>>")
NYX = LexiconItem("Nyx", "nicks")
AOIFE = LexiconItem("Aoife", "EE-fa")


def run(qloop: Any, awaitable: Awaitable[T], timeout: float = 60.0) -> T:
    return qloop.run_until_complete(asyncio.wait_for(awaitable, timeout))  # type: ignore[no-any-return]


@pytest.fixture
def engine(private_engine: OfflineEngine) -> OfflineEngine:
    return private_engine


@pytest.fixture
def client(loopback_client: Any, engine: OfflineEngine) -> CartesiaClient:
    return loopback_client(engine)  # type: ignore[no-any-return]


@pytest.fixture
def catalog(qloop: Any, client: CartesiaClient) -> VoiceCatalog:
    catalog = VoiceCatalog()
    assert run(qloop, catalog.refresh(client))
    return catalog


@pytest.fixture
def service(
    qloop: Any, client: CartesiaClient, engine: OfflineEngine
) -> Iterator[DictionaryService]:
    # Each test starts from no dictionaries on the engine.
    for entry in run(qloop, client.pronunciation_dicts.list()):
        run(qloop, client.pronunciation_dicts.delete(entry.id))
    service = DictionaryService()
    service.set_client(client, "offline")
    yield service
    service.shutdown()


@pytest.fixture
def panel(qtbot: Any, qloop: Any, service: DictionaryService, playback: PlaybackService,
          catalog: VoiceCatalog) -> Iterator[DictionariesPanel]:
    panel = DictionariesPanel(service, playback, catalog)
    qtbot.addWidget(panel)
    panel.resize(1100, 720)
    panel.show()
    qtbot.waitExposed(panel)
    run(qloop, panel.wait_idle())
    yield panel
    panel.shutdown()
    run(qloop, panel.wait_idle())


def make_dict(qloop: Any, panel: DictionariesPanel, name: str,
              items: list[LexiconItem]) -> str:
    made = run(qloop, panel.service.create(name, items))
    assert panel.select_dictionary(made.id)
    return made.id


def settle(qloop: Any, panel: DictionariesPanel) -> None:
    run(qloop, panel.wait_idle())


def shown_items(panel: DictionariesPanel) -> list[LexiconItem]:
    """The entries in the order the table shows them (sorted, searched)."""
    proxy = panel.table.proxy
    return [LexiconItem(proxy.index(row, TEXT).data(), proxy.index(row, ALIAS).data())
            for row in range(proxy.rowCount())]


def list_texts(panel: DictionariesPanel) -> list[str]:
    return [panel.dict_list.item(row).text() for row in range(panel.dict_list.count())]


# --- the list ------------------------------------------------------------------------


def test_list_shows_name_count_pin_and_the_projects_dictionary(
        qtbot: Any, qloop: Any, panel: DictionariesPanel) -> None:
    brands = make_dict(qloop, panel, "Brands", [CARTESIA, NYX])
    names = make_dict(qloop, panel, "Names", [AOIFE])
    run(qloop, panel.service.pin(brands))
    texts = list_texts(panel)
    assert texts[0].startswith("★ Brands\n2 entries") and texts[1] == "Names\n1 entry"

    panel.set_project_dictionary(names)
    assert "this project" in list_texts(panel)[1]
    assert panel.dict_list.item(1).font().bold()
    assert panel.current_dict_id() == names
    assert panel.use_button.isChecked()
    with qtbot.waitSignal(panel.use_requested) as used:
        panel.use_button.click()
    assert used.args == [""]
    assert panel.use_button.isChecked()  # until the project stops using it
    panel.set_project_dictionary("")
    assert not panel.use_button.isChecked()
    panel.select_dictionary(brands)
    with qtbot.waitSignal(panel.use_requested) as used:
        panel.use_button.click()
    assert used.args == [brands]
    assert panel.pin_action.text() == "☆ Unpin"


def test_not_connected_disables_the_panel_and_says_why(qloop: Any, panel: DictionariesPanel,
                                                       client: CartesiaClient) -> None:
    make_dict(qloop, panel, "Brands", [NYX])
    panel.service.set_client(None)
    assert not panel.banner.isHidden() and "Not connected" in panel.banner.text()
    assert not panel.splitter.isEnabled()
    panel.service.set_client(client, "offline")
    settle(qloop, panel)
    assert panel.banner.isHidden() and panel.splitter.isEnabled()
    assert panel.model.items() == (NYX,)


# --- entries, undo and redo ----------------------------------------------------------


def test_add_edit_remove_each_one_undo_step_restoring_exactly(
        qloop: Any, panel: DictionariesPanel, client: CartesiaClient) -> None:
    original = (CARTESIA, NYX, AOIFE)
    dict_id = make_dict(qloop, panel, "Brands", list(original))
    stack = panel.undo_stack
    panel.table.select_source_rows([0])

    panel.add_entry()  # after the current entry, its text open for typing
    assert panel.model.items()[1] == LexiconItem("", "")
    assert panel.table.state() == panel.table.State.EditingState
    assert panel.table.currentIndex().column() == TEXT
    panel.table.closePersistentEditor(panel.table.currentIndex())
    proxy = panel.table.proxy
    row = proxy.mapFromSource(panel.model.index(1, TEXT)).row()
    assert proxy.setData(proxy.index(row, TEXT), "Vex")  # what the in-place editor does
    assert proxy.setData(proxy.index(row, ALIAS), "<<v|ɛ|k|s>>")
    after_edits = (CARTESIA, LexiconItem("Vex", "<<v|ɛ|k|s>>"), NYX, AOIFE)
    assert panel.model.items() == after_edits and stack.count() == 3
    assert panel.service.items(dict_id) == after_edits  # at once

    panel.table.select_source_rows([0, 2])
    panel.remove_selected()
    assert panel.model.items() == (LexiconItem("Vex", "<<v|ɛ|k|s>>"), AOIFE)
    assert stack.count() == 4
    settle(qloop, panel)
    assert run(qloop, client.pronunciation_dicts.get(dict_id)).items[1].text == "Aoife"

    stack.undo()
    assert panel.model.items() == after_edits
    assert panel.table.source_rows() == [0, 2]  # the restored entries are selected
    for _ in range(3):
        stack.undo()
    assert panel.model.items() == original and panel.service.items(dict_id) == original
    for _ in range(4):
        stack.redo()
    assert panel.model.items() == (LexiconItem("Vex", "<<v|ɛ|k|s>>"), AOIFE)
    settle(qloop, panel)
    assert panel.service.save_state(dict_id) == "saved"
    assert panel.save_label.text() == "Saved"


def type_into(qtbot: Any, edit: QLineEdit, text: str) -> None:
    """Replace what ``edit`` holds by typing ``text``, as a user does."""
    edit.selectAll()
    qtbot.keyClicks(edit, text)


def test_the_fields_edit_the_current_entry_in_one_step(qtbot: Any, qloop: Any,
                                                       panel: DictionariesPanel) -> None:
    make_dict(qloop, panel, "Brands", [CARTESIA, NYX])
    panel.table.select_source_rows([1])
    assert (panel.text_edit.text(), panel.alias_edit.text()) == ("Nyx", "nicks")
    assert panel.sample_edit.text() == "I said Nyx clearly."
    type_into(qtbot, panel.text_edit, "Nyxie")
    type_into(qtbot, panel.alias_edit, "NICK-see")
    panel.table.select_source_rows([0])  # moving on commits both, as one step
    assert panel.model.item(1) == LexiconItem("Nyxie", "NICK-see")
    assert panel.undo_stack.count() == 1
    assert panel.sample_edit.text() == "I said Cartesia clearly."
    panel.sample_edit.setText("My own sentence about Nyxie.")
    panel.sample_edit.textEdited.emit("My own sentence about Nyxie.")
    panel.table.select_source_rows([1])
    assert panel.sample_edit.text() == "My own sentence about Nyxie."  # the user's stays


def test_undo_of_another_dictionary_shows_it_first(qloop: Any, panel: DictionariesPanel) -> None:
    first = make_dict(qloop, panel, "First", [NYX])
    panel.table.select_source_rows([0])
    panel.remove_selected()
    second = make_dict(qloop, panel, "Second", [AOIFE])
    assert panel.current_dict_id() == second
    panel.undo_stack.undo()
    assert panel.current_dict_id() == first and panel.model.items() == (NYX,)
    assert panel.service.items(second) == (AOIFE,)


def test_problems_show_as_icon_tooltip_and_colour(qloop: Any, panel: DictionariesPanel) -> None:
    make_dict(qloop, panel, "Problems", [
        NYX, LexiconItem("Nyx", "again"), LexiconItem("Qoph", "<<q|ⱷ>>"),
        LexiconItem("Vex", "<<v|ɛ")])
    model = panel.model
    assert model.data(model.index(0, TEXT), Qt.ItemDataRole.DecorationRole) is None
    duplicate = model.index(1, TEXT)
    assert "Error: 'Nyx' is already entry 1" in model.data(duplicate, Qt.ItemDataRole.ToolTipRole)
    assert model.data(duplicate, Qt.ItemDataRole.DecorationRole) is not None
    assert model.data(duplicate, Qt.ItemDataRole.ForegroundRole).color().name() == "#ff7a7a"
    warning = model.index(2, ALIAS)
    assert model.data(warning, Qt.ItemDataRole.ToolTipRole).startswith("Warning: Not on the IPA")
    assert model.data(warning, Qt.ItemDataRole.ForegroundRole).color().name() == "#f2c46c"
    assert model.data(model.index(2, TEXT), Qt.ItemDataRole.ForegroundRole) is None
    assert model.data(model.index(3, ALIAS), Qt.ItemDataRole.ToolTipRole).startswith("Error: IPA")
    assert model.data(model.index(0, KIND)) == "sounds like"
    assert model.data(model.index(2, KIND)) == "IPA"
    assert "2 with errors" in panel.counts_label.text()
    assert "1 with warnings" in panel.counts_label.text()
    settle(qloop, panel)
    assert "2 entries with errors kept here, not sent" in panel.save_label.text()


def test_search_matches_text_or_alias_and_columns_sort(qloop: Any,
                                                       panel: DictionariesPanel) -> None:
    make_dict(qloop, panel, "Brands", [NYX, CARTESIA, AOIFE, LexiconItem("zeta", "ZAY-ta")])
    panel.search_edit.setText("ICK")  # the alias "nicks", case-insensitive
    assert shown_items(panel) == [NYX]
    panel.search_edit.setText("cart")
    assert shown_items(panel) == [CARTESIA]
    assert panel.counts_label.text() == "1 of 4 shown"
    panel.add_entry()  # a new entry stays visible while the search is on
    assert LexiconItem("", "") in shown_items(panel)
    panel.undo_stack.undo()
    panel.search_edit.clear()
    panel.table.sortByColumn(TEXT, Qt.SortOrder.AscendingOrder)
    assert [i.text for i in shown_items(panel)] == ["Aoife", "Cartesia", "Nyx", "zeta"]
    panel.table.sortByColumn(TEXT, Qt.SortOrder.DescendingOrder)
    assert [i.text for i in shown_items(panel)] == ["zeta", "Nyx", "Cartesia", "Aoife"]
    panel.table.sortByColumn(KIND, Qt.SortOrder.AscendingOrder)
    assert shown_items(panel)[0] == CARTESIA  # "IPA" before "sounds like"
    assert panel.model.items() == (NYX, CARTESIA, AOIFE, LexiconItem("zeta", "ZAY-ta"))


def check_proxy(panel: DictionariesPanel) -> None:
    """The table's rows map one to one onto the entries the search keeps, in order."""
    proxy, model = panel.table.proxy, panel.model
    rows = [proxy.mapToSource(proxy.index(p, TEXT)).row() for p in range(proxy.rowCount())]
    assert sorted(rows) == [r for r in range(model.rowCount())
                            if not proxy.search or proxy._accepts(r)]
    assert all(proxy.mapFromSource(model.index(r, ALIAS)).row() == p
               for p, r in enumerate(rows))


def test_sorted_table_follows_edits_inserts_and_removals(qloop: Any,
                                                         panel: DictionariesPanel) -> None:
    items = [LexiconItem(f"Word{n:03d}", f"w{n}") for n in range(100)]
    make_dict(qloop, panel, "Many", items)
    panel.table.sortByColumn(TEXT, Qt.SortOrder.DescendingOrder)
    check_proxy(panel)
    assert shown_items(panel)[0].text == "Word099"

    proxy = panel.table.proxy
    panel.table.select_source_rows([5])
    proxy.setData(proxy.mapFromSource(panel.model.index(5, TEXT)), "Zebra")  # moves to the top
    assert shown_items(panel)[0] == LexiconItem("Zebra", "w5")
    assert panel.table.source_rows() == [5]  # still selected
    assert panel.table.currentIndex().row() == 0
    check_proxy(panel)

    panel.table.select_source_rows(list(range(0, 100, 2)))  # 50 scattered rows
    panel.remove_selected()
    assert panel.model.rowCount() == 50
    check_proxy(panel)
    panel.search_edit.setText("word01")
    check_proxy(panel)
    panel.undo_stack.undo()
    panel.undo_stack.undo()
    assert list(panel.model.items()) == items
    check_proxy(panel)
    panel.search_edit.clear()
    panel.add_entry()  # an empty text sorts last, descending
    assert shown_items(panel)[-1] == LexiconItem("", "")
    check_proxy(panel)
    panel.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # the dictionary's order
    assert [i.text for i in shown_items(panel)] == [i.text for i in panel.model.items()]


# --- import and export ---------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".json", ".csv", ".pls"])
def test_import_replaces_or_merges_as_one_undo_step(
    qloop: Any,
    panel: DictionariesPanel,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    suffix: str,
) -> None:
    dict_id = make_dict(qloop, panel, "Brands", [CARTESIA, NYX])
    incoming = [LexiconItem("Nyx", "<<n|ɪ|k|s>>"), LexiconItem("Ŧhë", "<<θ|ˈ|iː>>"), AOIFE]
    path = tmp_path / f"incoming{suffix}"
    write_lexicon(incoming, path)

    monkeypatch.setattr(panel, "_ask_import_mode", lambda *_a: "merge")
    panel.import_file(str(path))
    settle(qloop, panel)  # read in a worker thread
    assert panel.model.items() == (CARTESIA, incoming[0], incoming[1], AOIFE)
    assert "2 added, 1 changed" in panel.status_label.text()
    assert panel.undo_stack.count() == 1
    panel.undo_stack.undo()
    assert panel.model.items() == (CARTESIA, NYX)

    monkeypatch.setattr(panel, "_ask_import_mode", lambda *_a: "replace")
    panel.import_file(str(path))
    settle(qloop, panel)  # read in a worker thread
    assert panel.model.items() == tuple(incoming)
    settle(qloop, panel)
    assert panel.service.save_state(dict_id) == "saved"
    monkeypatch.setattr(panel, "_ask_import_mode", lambda *_a: None)
    panel.import_file(str(path))  # cancelled: nothing changes
    settle(qloop, panel)  # read in a worker thread
    assert panel.undo_stack.count() == 1


@pytest.mark.parametrize(("name", "content", "where"), [
    ("bad.csv", "text,alias\nNyx,nicks\nVex,vex,extra\n", "line 3"),
    ("bad.pls", ('<?xml version="1.0"?>\n<lexicon version="1.0" '
                 'xmlns="http://www.w3.org/2005/01/pronunciation-lexicon">\n'
                 "<lexeme><grapheme>Nyx</grapheme><alias>nicks</alias></lexeme>\n"
                 "<lexeme><grapheme>Vex</grapheme></lexeme>\n</lexicon>\n"),
     "lexeme 2 ('Vex')"),
    ("bad.json", '[{"text": "Nyx", "alias": "nicks"},\n {"text": "Vex"}]', "item 2"),
    ("broken.pls", "<lexicon><lexeme>\n", "line 2"),
])
def test_a_malformed_file_changes_nothing_and_says_where(
    qloop: Any,
    panel: DictionariesPanel,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    name: str,
    content: str,
    where: str,
) -> None:
    make_dict(qloop, panel, "Brands", [CARTESIA])
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    monkeypatch.setattr(panel, "_ask_import_mode", lambda *_a: "replace")
    panel.import_file(str(path))
    settle(qloop, panel)  # read in a worker thread
    assert panel.model.items() == (CARTESIA,) and panel.undo_stack.count() == 0
    assert panel.status_label.text().startswith(f"Nothing imported: {name}: ")
    assert where in panel.status_label.text()


@pytest.mark.parametrize("fmt", ["json", "csv", "pls"])
def test_export_then_import_gives_the_same_entries(
    qloop: Any, panel: DictionariesPanel, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fmt: str
) -> None:
    items = [CARTESIA, NYX, LexiconItem("Ŋgũgĩ", "<<ŋ|ɡ|ˈ|u|ɡ|i>>"),
             LexiconItem("t͡ʃaɪ", "<<t͡ʃ|aɪ>>"), LexiconItem('Quote "me", please', "kwote")]
    make_dict(qloop, panel, "Round trip", items)
    chosen_filter = {"json": "Cartesia JSON (*.json)", "csv": "CSV, text and alias (*.csv)",
                     "pls": "W3C PLS lexicon (*.pls)"}[fmt]
    monkeypatch.setattr(panel, "_save_path", lambda _name: (str(tmp_path / "out"),
                                                            chosen_filter))
    panel.export_file()
    written = tmp_path / f"out.{fmt}"
    assert read_lexicon(written) == items
    assert "Exported 5 entries" in panel.status_label.text()

    panel.select_dictionary("")
    panel.dict_list.setCurrentRow(-1)
    panel.import_file(str(written))  # no dictionary chosen: one is made from the file
    settle(qloop, panel)
    made = [d for d in panel.service.dictionaries() if d.name == "out"]
    assert len(made) == 1 and panel.current_dict_id() == made[0].id
    assert panel.model.items() == tuple(items)


def test_export_format_follows_the_extension_then_the_filter() -> None:
    assert export_format("/x/a.pls", "Cartesia JSON (*.json)") == ("/x/a.pls", "pls")
    assert export_format("/x/a", "CSV, text and alias (*.csv)") == ("/x/a.csv", "csv")
    assert export_format("/x/a.XML", "") == ("/x/a.XML", "pls")


def test_merge_replaces_aliases_in_place_and_appends_the_rest() -> None:
    merged, replaced, added = merge_items([NYX, CARTESIA], [LexiconItem(" Nyx ", "nix"), AOIFE,
                                                            CARTESIA])
    assert merged == [LexiconItem("Nyx", "nix"), CARTESIA, AOIFE] and (replaced, added) == (1, 1)


def test_ten_thousand_entries_one_edit_repaints_one_row(
    qloop: Any, panel: DictionariesPanel, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    dict_id = make_dict(qloop, panel, "Big", [NYX])
    many = [LexiconItem(f"Word{n}", f"<<w|ɜ|{'kstd'[n % 4]}>>" if n % 2 else f"word {n}")
            for n in range(10_000)]
    path = tmp_path / "big.json"
    write_lexicon(many, path)
    monkeypatch.setattr(panel, "_ask_import_mode", lambda *_a: "replace")
    panel.import_file(str(path))
    settle(qloop, panel)  # read in a worker thread
    model = panel.model
    assert model.rowCount() == 10_000 and panel.table.proxy.rowCount() == 10_000
    settle(qloop, panel)
    assert len(panel.service.dictionary(dict_id).items) == 10_000  # type: ignore[union-attr]

    resets: list[int] = []
    repainted: list[tuple[int, int]] = []
    model.modelReset.connect(lambda: resets.append(1))
    model.dataChanged.connect(lambda first, last, *_r: repainted.append((first.row(), last.row())))
    checked, passes = model.checker.aliases_checked, model.checker.text_passes
    model.setData(model.index(4321, ALIAS), "<<w|ɜ|ⱷ>>")
    assert resets == [] and repainted == [(4321, 4321)]
    assert model.checker.aliases_checked == checked + 1
    assert model.checker.text_passes == passes  # no text changed: no pass over 10 000 texts
    assert [p.kind for p in model.problems(4321)] == ["unknown_symbol"]

    repainted.clear()
    model.setData(model.index(9000, TEXT), "Word7")  # a duplicate of entry 8
    assert resets == [] and repainted == [(9000, 9000)]
    assert [p.kind for p in model.problems(9000)] == ["duplicate"]
    panel.undo_stack.undo()
    panel.undo_stack.undo()
    panel.undo_stack.undo()  # the import
    assert model.items() == (NYX,)


# --- IPA -----------------------------------------------------------------------------


def test_insert_symbol_keeps_cartesias_form() -> None:
    assert insert_symbol("", 0, "k") == ("<<k>>", 3)
    assert insert_symbol("<<k>>", 3, "ɑ") == ("<<k|ɑ>>", 5)
    assert insert_symbol("<<k|ɑ>>", 7, "ɹ") == ("<<k|ɑ|ɹ>>", 7)  # after ">>": at the end
    assert insert_symbol("<<k|ɑ|ɹ>>", 5, "ː") == ("<<k|ɑː|ɹ>>", 6)  # joins the vowel
    assert insert_symbol("<<k|ɹ>>", 2, "ˈ") == ("<<ˈ|k|ɹ>>", 3)  # its own phoneme
    assert insert_symbol("<<k|ɹ>>", 3, "ˈ") == ("<<k|ˈ|ɹ>>", 5)
    assert insert_symbol("<<k|ɹ>>", 4, "ɑ") == ("<<k|ɑ|ɹ>>", 5)
    assert insert_symbol("<<k|ɹ>>", 2, SEPARATOR) == ("<<|k|ɹ>>", 3)
    assert insert_symbol("kar-TEE", 3, "ʒ") == ("karʒ-TEE", 4)  # a respelling: as typed
    assert insert_symbol("<<k|ɑ", 5, "ɹ") == ("<<k|ɑ|ɹ", 7)  # not closed yet


def test_every_palette_symbol_is_on_the_ipa_chart() -> None:
    for _title, symbols in GROUPS:
        for symbol, hint in symbols:
            if symbol == SEPARATOR:
                continue
            alias, _cursor = insert_symbol(insert_symbol("", 0, "a")[0], 3, symbol)
            assert validate([LexiconItem("x", alias)]) == [], (symbol, hint)


def test_palette_types_into_the_alias_field_and_the_fields_commit_it(
        qloop: Any, panel: DictionariesPanel) -> None:
    make_dict(qloop, panel, "Brands", [LexiconItem("Nyx", "")])
    panel.table.select_source_rows([0])
    for symbol in ("n", "ˈ", "ɪ", "k", "s"):
        panel.ipa_palette.buttons[symbol].click()
    assert panel.alias_edit.text() == "<<n|ˈ|ɪ|k|s>>"
    assert panel.model.item(0).alias == ""  # typed, not committed yet
    panel.alias_edit.editingFinished.emit()
    assert panel.model.item(0) == LexiconItem("Nyx", "<<n|ˈ|ɪ|k|s>>")
    assert panel.undo_stack.count() == 1


def test_palette_types_into_the_tables_open_alias_editor(qloop: Any,
                                                         panel: DictionariesPanel) -> None:
    make_dict(qloop, panel, "Brands", [LexiconItem("Nyx", "<<n|ɪ>>")])
    proxy_index = panel.table.proxy.index(0, ALIAS)
    panel.table.setCurrentIndex(proxy_index)
    panel.table.edit(proxy_index)
    editor = panel.table.focusWidget()
    assert isinstance(editor, QLineEdit)
    editor.setFocus()
    qloop.run_until_complete(asyncio.sleep(0.05))  # focus changes arrive as events
    editor.setCursorPosition(len(editor.text()))
    panel.ipa_palette.buttons["k"].click()
    assert editor.text() == "<<n|ɪ|k>>" and panel.alias_edit.text() == "<<n|ɪ>>"
    panel.table.commitData(editor)
    assert panel.model.item(0).alias == "<<n|ɪ|k>>"


def test_suggest_fills_the_alias_as_one_undo_step(qloop: Any, panel: DictionariesPanel) -> None:
    make_dict(qloop, panel, "Brands", [LexiconItem("Cartesia", "kar-TEE-zha")])
    panel.table.select_source_rows([0])
    panel.suggest()
    settle(qloop, panel)
    alias = panel.model.item(0).alias
    assert alias.startswith("<<") and "ʒ" in alias
    assert not has_error(validate([panel.model.item(0)]))
    assert panel.alias_edit.text() == alias and panel.undo_stack.count() == 1
    panel.undo_stack.undo()
    assert panel.model.item(0).alias == "kar-TEE-zha"


def test_suggest_without_text_says_so(qloop: Any, panel: DictionariesPanel) -> None:
    make_dict(qloop, panel, "Brands", [LexiconItem("", "")])
    panel.table.select_source_rows([0])
    panel.suggest()
    assert "text first" in panel.status_label.text()


# --- deleting, missing, failing --------------------------------------------------------


def test_delete_asks_naming_the_count_and_the_projects_use(
    qtbot: Any,
    qloop: Any,
    panel: DictionariesPanel,
    monkeypatch: pytest.MonkeyPatch,
    client: CartesiaClient,
) -> None:
    dict_id = make_dict(qloop, panel, "Brands", [CARTESIA, NYX])
    panel.set_project_dictionary(dict_id)
    asked: list[str] = []

    def refuse(_title: str, text: str) -> bool:
        asked.append(text)
        return False

    monkeypatch.setattr(panel, "_confirm", refuse)
    panel.delete_current()
    assert "“Brands” and its 2 entries" in asked[0] and "This project uses it" in asked[0]
    assert panel.service.dictionary(dict_id) is not None
    monkeypatch.setattr(panel, "_confirm", lambda _title, _text: True)
    with qtbot.waitSignal(panel.use_requested) as used:
        panel.delete_current()
        settle(qloop, panel)
    assert used.args == [""]
    assert panel.dict_list.count() == 0 and panel.model.rowCount() == 0
    assert run(qloop, client.pronunciation_dicts.list()) == []


def test_a_dictionary_deleted_on_the_server_is_kept_and_recreated(
        qtbot: Any, qloop: Any, panel: DictionariesPanel, engine: OfflineEngine,
        loopback_client: Any) -> None:
    dict_id = make_dict(qloop, panel, "Brands", [CARTESIA, NYX])
    panel.set_project_dictionary(dict_id)
    other = loopback_client(engine)
    run(qloop, other.pronunciation_dicts.delete(dict_id))
    panel.refresh()
    settle(qloop, panel)
    assert "was deleted on the server" in panel.status_label.text()
    assert not panel.recreate_button.isHidden()
    assert "deleted on the server" in list_texts(panel)[0]
    assert panel.model.items() == (CARTESIA, NYX) and panel.current_dict_id() == dict_id
    assert not panel.pin_action.isEnabled() and not panel.use_button.isEnabled()

    with qtbot.waitSignal(panel.use_requested) as used:
        panel.recreate_current()
        settle(qloop, panel)
    new_id = used.args[0]
    assert new_id != dict_id and panel.current_dict_id() == new_id
    assert panel.model.items() == (CARTESIA, NYX)
    assert panel.recreate_button.isHidden()
    assert panel.service.save_state(new_id) == "saved"


def test_a_failed_save_says_not_saved_with_retry(qloop: Any, panel: DictionariesPanel,
                                                 engine: OfflineEngine) -> None:
    dict_id = make_dict(qloop, panel, "Brands", [NYX])
    engine.inject_faults(f"/pronunciation-dicts/{dict_id}", [500])
    panel.table.select_source_rows([0])
    panel.remove_selected()
    settle(qloop, panel)
    assert panel.save_label.text().startswith("Not saved: the server failed (500")
    assert not panel.retry_button.isHidden()
    assert "not all saved" in list_texts(panel)[0]
    assert panel.model.items() == ()  # the edit stays
    panel.retry_button.click()
    settle(qloop, panel)
    assert panel.save_label.text() == "Saved" and panel.retry_button.isHidden()


# --- Say it --------------------------------------------------------------------------


def test_say_it_plays_without_then_with(qloop: Any, panel: DictionariesPanel,
                                        players: list[Any]) -> None:
    make_dict(qloop, panel, "Brands", [LexiconItem("Nyx", "Nicholas Alexander")])
    panel.table.select_source_rows([0])
    assert panel.sample_edit.text() == "I said Nyx clearly."
    assert panel.voice_combo.voice_id()
    panel.say_it_or_stop()
    settle(qloop, panel)
    assert panel.last_renders is not None
    without, with_dictionary, rate = panel.last_renders
    assert not np.array_equal(without, with_dictionary)
    assert with_dictionary.size > without.size
    played = players[-1].played()
    assert played.size == without.size + with_dictionary.size + round(0.6 * rate)
    assert np.array_equal(played[:without.size], without)
    assert panel.say_button.text() == "■ Stop"
    panel.say_it_or_stop()
    assert panel.say_button.text() == "▶ Say it"


# --- a narrow dock -------------------------------------------------------------------


def test_the_panel_fits_the_studios_narrow_dock(qloop: Any, panel: DictionariesPanel) -> None:
    """Docked beside the script, tabbed with Takes and Voices, the panel asks for at most
    380 px, even with its longest texts, and nothing folds away behind a "»"."""
    dict_id = make_dict(qloop, panel, "A dictionary with a name much longer than the dock",
                        [NYX, AOIFE])
    panel.set_project_dictionary(dict_id)
    assert panel.use_button.isChecked()
    panel.counts_label.setText("1 of 10000 shown · 2000 with errors · 300 with warnings")
    panel.save_label.setText("Not saved: the server answered 503, Service Unavailable, "
                             "three times in a row")
    panel.retry_button.show()
    panel._set_status("Imported 10000 entries from a-very-long-file-name.csv, replacing "
                      "the entries (Undo brings them back)")
    assert panel.minimumSizeHint().width() <= 380

    assert not panel.findChildren(QToolBar)
    menu = [action for action in panel.dictionary_menu.actions() if not action.isSeparator()]
    assert menu == [panel.new_action, panel.rename_action, panel.delete_action,
                    panel.pin_action, panel.import_action, panel.export_action,
                    panel.refresh_action]

    panel.resize(380, 720)
    QApplication.processEvents()
    buttons: list[QWidget] = [panel.new_button, panel.dictionary_button, panel.use_button,
                              panel.suggest_button, panel.say_button, panel.language_combo,
                              panel.voice_combo, panel.retry_button, panel.search_edit]
    for widget in buttons:
        right = widget.mapTo(panel, widget.rect().topRight()).x()
        assert widget.isVisible() and right < panel.width(), widget
    palette = panel.ipa_palette
    for symbol, button in palette.buttons.items():
        assert palette.rect().contains(button.geometry()), symbol


def test_a_short_dock_scrolls_the_ipa_symbols_instead_of_cutting_them_off(
        qloop: Any, panel: DictionariesPanel) -> None:
    make_dict(qloop, panel, "Brands", [CARTESIA, NYX, AOIFE])
    panel.resize(380, 680)  # the studio's dock at 1280×800: every symbol shows
    QApplication.processEvents()
    assert not panel.fields.palette_area.verticalScrollBar().isVisible()
    assert panel.table.height() > panel.table.minimumHeight()

    assert panel.minimumSizeHint().height() <= 440  # the studio's smallest window: 560 px
    panel.resize(380, panel.minimumSizeHint().height())
    QApplication.processEvents()
    area = panel.fields.palette_area
    assert area.height() < panel.ipa_palette.heightForWidth(area.viewport().width())
    assert area.verticalScrollBar().isVisible()
    assert panel.table.height() >= panel.table.minimumHeight() > 0


def test_the_ipa_symbols_wrap_to_the_width_and_fold_away(panel: DictionariesPanel) -> None:
    palette = panel.ipa_palette
    assert palette.heightForWidth(360) > palette.heightForWidth(880) > 0
    assert palette.minimumSizeHint().width() < 200
    assert palette.isVisible()
    panel.ipa_toggle.click()
    assert not palette.isVisible()
    panel.ipa_toggle.click()
    assert palette.isVisible()


def test_steps_of_a_dictionary_changed_elsewhere_are_dropped(
        qloop: Any, panel: DictionariesPanel, client: CartesiaClient) -> None:
    from studio.api.models import PronunciationItem
    other = make_dict(qloop, panel, "Changed elsewhere", [CARTESIA, NYX])
    proxy = panel.table.proxy
    row = next(r for r in range(proxy.rowCount()) if proxy.index(r, TEXT).data() == "Nyx")
    assert proxy.setData(proxy.index(row, ALIAS), "nix")
    settle(qloop, panel)
    make_dict(qloop, panel, "Shown now", [AOIFE])
    run(qloop, client.pronunciation_dicts.update(other, items=[
        PronunciationItem("Nyx", "nix"), PronunciationItem("Cartesia", "kar")]))
    run(qloop, panel.service.refresh())
    assert panel.undo_stack.count() == 0, "the steps no longer fit the new entries"
    panel.undo_stack.undo()
    settle(qloop, panel)
    assert LexiconItem("Cartesia", "kar") in panel.service.items(other)


# --- the fields and the palette, clicked as a user does --------------------------------


def press_enter(qtbot: Any, qloop: Any, editor: QWidget) -> None:
    """Enter in ``editor``; an in-place editor commits once its queued call runs."""
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qloop.run_until_complete(asyncio.sleep(0.05))


def focus(qloop: Any, widget: QWidget) -> None:
    widget.activateWindow()
    widget.setFocus()
    qloop.run_until_complete(asyncio.sleep(0.05))  # focus changes arrive as events
    assert widget.hasFocus()


def test_undo_shows_in_the_fields_and_moving_on_writes_nothing_back(
        qtbot: Any, qloop: Any, panel: DictionariesPanel) -> None:
    make_dict(qloop, panel, "Brands", [CARTESIA, NYX])
    panel.table.select_source_rows([0])
    focus(qloop, panel.alias_edit)
    type_into(qtbot, panel.alias_edit, "kar-TEE-zha")
    qtbot.keyClick(panel.alias_edit, Qt.Key.Key_Return)
    assert panel.model.item(0).alias == "kar-TEE-zha" and panel.undo_stack.count() == 1

    qtbot.mouseClick(undo_button(panel), Qt.MouseButton.LeftButton)
    assert panel.model.item(0) == CARTESIA
    assert panel.alias_edit.text() == CARTESIA.alias  # the field follows the undo
    panel.table.select_source_rows([1])  # moving on writes nothing back
    assert panel.model.item(0) == CARTESIA
    assert panel.undo_stack.count() == 1 and panel.undo_stack.canRedo()

    panel.table.select_source_rows([0])
    focus(qloop, panel.alias_edit)
    panel.undo_stack.redo()  # (Edit → Redo acts on the stack itself)
    assert panel.alias_edit.text() == "kar-TEE-zha"
    panel.undo_stack.undo()
    assert panel.alias_edit.text() == CARTESIA.alias
    panel.table.select_source_rows([1])
    assert panel.model.items() == (CARTESIA, NYX) and panel.undo_stack.canRedo()


def undo_button(panel: DictionariesPanel) -> QWidget:
    return next(button for button in panel.findChildren(QToolButton)
                if button.defaultAction() is panel.undo_action)


def test_undo_with_an_alias_typed_but_not_entered_takes_that_back(
        qtbot: Any, qloop: Any, panel: DictionariesPanel) -> None:
    make_dict(qloop, panel, "Brands", [NYX])
    panel.table.select_source_rows([0])
    focus(qloop, panel.alias_edit)
    type_into(qtbot, panel.alias_edit, "nix")
    qtbot.mouseClick(undo_button(panel), Qt.MouseButton.LeftButton)
    assert panel.model.item(0) == NYX and panel.alias_edit.text() == "nicks"
    panel.undo_stack.redo()
    assert panel.model.item(0).alias == "nix"  # what was typed is not lost


def test_a_refresh_shows_the_servers_entry_in_the_fields(
        qtbot: Any, qloop: Any, panel: DictionariesPanel, client: CartesiaClient) -> None:
    from studio.api.models import PronunciationItem
    dict_id = make_dict(qloop, panel, "Brands", [CARTESIA, NYX])
    panel.table.select_source_rows([1])
    focus(qloop, panel.alias_edit)
    run(qloop, client.pronunciation_dicts.update(dict_id, items=[
        PronunciationItem("Cartesia", "kar"), PronunciationItem("Nyx", "nix")]))
    run(qloop, panel.service.refresh())
    settle(qloop, panel)
    assert (panel.text_edit.text(), panel.alias_edit.text()) == ("Nyx", "nix")
    panel.table.select_source_rows([0])
    assert panel.model.items() == (LexiconItem("Cartesia", "kar"), LexiconItem("Nyx", "nix"))
    assert panel.undo_stack.count() == 0


def test_palette_clicks_keep_the_alias_field_and_make_one_step(
        qtbot: Any, qloop: Any, panel: DictionariesPanel) -> None:
    dict_id = make_dict(qloop, panel, "Brands", [LexiconItem("Nyx", "")])
    panel.table.select_source_rows([0])
    focus(qloop, panel.alias_edit)
    for symbol in ("n", "ˈ", "ɪ", "k", "s"):
        qtbot.mouseClick(panel.ipa_palette.buttons[symbol], Qt.MouseButton.LeftButton)
        assert panel.alias_edit.hasFocus()
    assert panel.alias_edit.text() == "<<n|ˈ|ɪ|k|s>>"
    assert panel.undo_stack.count() == 0 and panel.model.item(0).alias == ""
    qtbot.keyClick(panel.alias_edit, Qt.Key.Key_Return)
    assert panel.model.item(0) == LexiconItem("Nyx", "<<n|ˈ|ɪ|k|s>>")
    assert panel.undo_stack.count() == 1
    settle(qloop, panel)
    assert panel.service.items(dict_id) == (LexiconItem("Nyx", "<<n|ˈ|ɪ|k|s>>"),)


def test_palette_clicks_type_into_the_tables_open_alias_editor(
        qtbot: Any, qloop: Any, panel: DictionariesPanel) -> None:
    make_dict(qloop, panel, "Brands", [LexiconItem("Nyx", "<<n|ɪ>>")])
    panel.table.select_source_rows([0])
    cell = panel.table.visualRect(panel.table.proxy.index(0, ALIAS)).center()
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=cell)
    qtbot.mouseDClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=cell)
    qloop.run_until_complete(asyncio.sleep(0.05))
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit) and panel.table.isAncestorOf(editor)
    editor.end(False)
    for symbol in ("k", "s"):
        qtbot.mouseClick(panel.ipa_palette.buttons[symbol], Qt.MouseButton.LeftButton)
    assert panel.table.state() == panel.table.State.EditingState  # still open
    assert editor.text() == "<<n|ɪ|k|s>>" and panel.alias_edit.text() == "<<n|ɪ>>"
    press_enter(qtbot, qloop, editor)
    assert panel.model.item(0).alias == "<<n|ɪ|k|s>>" and panel.undo_stack.count() == 1


# --- Add, then Esc -------------------------------------------------------------------


def test_add_then_esc_takes_the_empty_entry_away_again(
        qtbot: Any, qloop: Any, panel: DictionariesPanel) -> None:
    dict_id = make_dict(qloop, panel, "Brands", [CARTESIA, NYX])
    panel.table.select_source_rows([0])
    panel.add_entry()
    assert panel.model.rowCount() == 3
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit) and panel.table.isAncestorOf(editor)
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    assert panel.model.items() == (CARTESIA, NYX)
    assert panel.undo_stack.count() == 0 and not panel.undo_stack.canRedo()
    assert panel.table.current_source_row() == 0
    settle(qloop, panel)
    assert panel.service.items(dict_id) == (CARTESIA, NYX)
    assert panel.service.save_state(dict_id) == "saved"
    assert "not all saved" not in list_texts(panel)[0]

    panel.add_entry()  # typed into, then Esc on another edit: the entry stays
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit)
    qtbot.keyClicks(editor, "Vex")
    press_enter(qtbot, qloop, editor)
    panel.table.edit(panel.table.currentIndex())
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit)
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    assert panel.model.item(1) == LexiconItem("Vex", "") and panel.undo_stack.count() == 2


# --- the status line, the empty list, Say it ---------------------------------------------


def test_status_messages_move_nothing(qloop: Any, panel: DictionariesPanel) -> None:
    make_dict(qloop, panel, "Brands", [CARTESIA, NYX])
    panel.resize(380, 720)
    panel._set_status("")
    QApplication.processEvents()

    def places() -> tuple[int, int, int]:
        return (panel.say_button.mapTo(panel, panel.say_button.rect().topLeft()).y(),
                panel.ipa_palette.mapTo(panel, panel.ipa_palette.rect().topLeft()).y(),
                panel.status_label.height())

    before = places()
    long_error = ("Nothing imported: a-file-with-a-long-name.csv: line 3: expected a text "
                  "and an alias, found 3 fields (“Vex”, “vex”, “extra”)")
    for text, error in (("Saved", False), (long_error, True), ("", False)):
        panel._set_status(text, error=error)
        panel.save_label.setText("Saved · 1 entry with errors kept here, not sent")
        panel.retry_button.setVisible(error)
        QApplication.processEvents()
        assert places() == before, text
    panel._set_status(long_error, error=True)
    QApplication.processEvents()
    assert panel.status_label.toolTip() == long_error  # all of it, when hovered
    shown = panel.status_label.shown_lines()
    assert len(shown) == 2 and shown[0].startswith("Nothing imported:")
    # The save state beside it leaves the message most of the width.
    assert panel.status_label.width() >= panel.width() // 2


def test_an_empty_list_says_how_to_make_or_import_one(qloop: Any,
                                                      panel: DictionariesPanel) -> None:
    hint = panel.dict_list.empty_hint
    assert panel.dict_list.count() == 0 and hint.isVisible()
    assert "New…" in hint.text() and "Import…" in hint.text()
    make_dict(qloop, panel, "Brands", [NYX])
    assert not hint.isVisible()


def test_say_it_waits_for_a_sentence_and_an_entry(qloop: Any, panel: DictionariesPanel) -> None:
    assert not panel.say_button.isEnabled()
    make_dict(qloop, panel, "Empty", [])
    assert not panel.say_button.isEnabled()
    assert "no entries" in panel.say_button.toolTip()
    make_dict(qloop, panel, "Brands", [NYX])
    panel.table.select_source_rows([0])
    assert panel.say_button.isEnabled()
    panel.sample_edit.clear()
    assert not panel.say_button.isEnabled()
    assert "Type a sentence" in panel.say_button.toolTip()
    panel.sample_edit.setText("Nyx again.")
    assert panel.say_button.isEnabled()
