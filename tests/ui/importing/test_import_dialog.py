"""File → Import script…: a book read in a worker, previewed, added in one undo step;
failures and Cancel add nothing."""

from __future__ import annotations

from pathlib import Path

from studio.project.model import NARRATOR
from studio.ui.importing.import_dialog import ImportDialog


def _epub(path: Path, chapters: int = 3) -> Path:
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("id-import")
    book.set_title("The Lighthouse Keeper")
    book.set_language("en")
    items = []
    for number in range(1, chapters + 1):
        item = epub.EpubHtml(title=f"Chapter {number}", file_name=f"ch{number}.xhtml")
        item.content = (f"<html><body><h1>Chapter {number}</h1><p>The sea was grey that "
                        f"morning.</p><p>\"Light the lamp,\" said Martha. \"A storm is "
                        f"coming.\"</p></body></html>")
        book.add_item(item)
        items.append(item)
    book.toc = [epub.Link(f"ch{n}.xhtml", f"Chapter {n}: The Tide", f"c{n}")
                for n in range(1, chapters + 1)]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *items]
    epub.write_epub(str(path), book)
    return path


def _read(qtbot, dialog: ImportDialog) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(dialog.read_finished, timeout=30_000):
        pass


def test_epub_preview_then_one_undo_step_with_chapters_and_cast(  # type: ignore[no-untyped-def]
        open_studio, qtbot, tmp_path: Path) -> None:
    studio = open_studio()
    window, document = studio.window, studio.document
    before = [b.id for b in document.blocks]
    dialog = window.import_script(_epub(tmp_path / "keeper.epub"))
    qtbot.waitUntil(lambda: dialog.import_button.isEnabled(), timeout=30_000)
    assert dialog.chapter_tree.topLevelItemCount() == 3
    assert dialog.chapter_tree.topLevelItem(0).text(0) == "Chapter 1: The Tide"
    assert dialog.chapter_tree.topLevelItem(0).text(1) == "3"
    assert "3</b> chapters, <b>9</b> blocks" in dialog.summary_label.text()
    dialog.split_check.setChecked(True)
    assert dialog.chapter_tree.topLevelItem(0).text(1) == "5"
    assert "Martha" in dialog.speakers_label.text()
    dialog.import_button.click()
    added = [b for b in document.blocks if b.id not in before]
    assert len(added) == 15
    assert [b.chapter for b in added if b.chapter] == [f"Chapter {n}: The Tide" for n in (1, 2, 3)]
    assert [b.speaker for b in added[:5]] == [NARRATOR, NARRATOR, "Martha", NARRATOR, "Martha"]
    assert added[2].text == "Light the lamp."
    # Martha reads in the narrator's voice until cast, and is listed for casting.
    assert document.cast_entry("Martha") is None
    assert {b.voice_id for b in added} == {added[0].voice_id}
    qtbot.waitUntil(lambda: [s.speaker for s in window.cast_find.panel.rows
                             if s.needs_casting] == ["Martha"], timeout=10_000)
    assert window.statusBar().currentMessage() == (
        "Imported 3 chapters, 15 blocks; 1 new speaker to cast")
    window.undo_action.trigger()
    assert [b.id for b in document.blocks] == before
    assert document.cast_entry("Martha") is None


def test_a_failing_import_shows_the_message_and_adds_nothing(  # type: ignore[no-untyped-def]
        open_studio, qtbot, tmp_path: Path) -> None:
    studio = open_studio()
    before = [b.id for b in studio.document.blocks]
    bad = tmp_path / "cast.csv"
    bad.write_text("speaker,text\nAlice,Hello.\nBob only\n", encoding="utf-8")
    dialog = studio.window.import_script(bad)
    _read(qtbot, dialog)
    assert dialog.error == "cast.csv, line 3: expected two columns, speaker and text; found one"
    assert dialog.error_label.text() == dialog.error
    assert not dialog.import_button.isEnabled()
    dialog.reject()
    assert [b.id for b in studio.document.blocks] == before
    assert studio.editor.stack.count() == 0


def test_too_many_blocks_refused_with_the_number(  # type: ignore[no-untyped-def]
        open_studio, qtbot, tmp_path: Path) -> None:
    studio = open_studio()
    before = [b.id for b in studio.document.blocks]
    path = tmp_path / "huge.txt"
    path.write_text("\n\n".join(f"Line {n}." for n in range(20_001)), encoding="utf-8")
    dialog = studio.window.import_script(path)
    _read(qtbot, dialog)
    assert "makes 20,001 blocks, more than the 20,000 one project takes" in dialog.error
    dialog.reject()
    assert [b.id for b in studio.document.blocks] == before


def test_cancel_while_reading_leaves_the_script_unchanged(  # type: ignore[no-untyped-def]
        open_studio, qtbot, tmp_path: Path) -> None:
    studio = open_studio()
    before = [b.id for b in studio.document.blocks]
    path = tmp_path / "long.md"
    path.write_text("".join(f"# Part {n}\n\nText {n}.\n\n" for n in range(200)),
                    encoding="utf-8")
    dialog = ImportDialog(path, False, studio.window)
    qtbot.addWidget(dialog)
    dialog._cancel.set()  # Cancel pressed before the worker's first step
    dialog.start()
    _read(qtbot, dialog)
    assert dialog.book is None and dialog.error == ""
    assert [b.id for b in studio.document.blocks] == before
    assert studio.editor.stack.count() == 0
