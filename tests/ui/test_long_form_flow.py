"""Issue 15's "done when", as a new user does it in the studio window on the offline
engine: import a novel as EPUB, see its chapters, cast three characters, find and
replace a name everywhere, generate chapter 1, flag two blocks while listening and
regenerate them, and export one file per chapter (checked with an independent reader).

The novel is the opening of Jane Austen's *Pride and Prejudice* (1813, public domain),
its speech tags written out (``said Mrs. Bennet``) where Austen leaves the speaker to the
reader, so the dialogue pass can name who speaks.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import soundfile as sf

from studio.config import Settings
from studio.project.export_settings import ExportSettings
from studio.project.model import NARRATOR
from tests.ui.chapters.helpers import run_until, studio_with_players

CHAPTERS = {
    "Chapter 1": [
        "It is a truth universally acknowledged, that a single man in possession of a good "
        "fortune, must be in want of a wife.",
        "However little known the feelings or views of such a man may be on his first "
        "entering a neighbourhood, this truth is so well fixed in the minds of the "
        "surrounding families, that he is considered the rightful property of some one or "
        "other of their daughters.",
        "“My dear Mr. Bennet,” said Mrs. Bennet one day, “have you heard that Netherfield "
        "Park is let at last?”",
        "“I have not,” replied Mr. Bennet.",
        "“It is taken by a young man of large fortune from the north of England; his name "
        "is Bingley,” said Mrs. Bennet.",
    ],
    "Chapter 2": [
        "Mr. Bennet was among the earliest of those who waited on Mr. Bingley.",
        "“I hope Mr. Bingley will like it, Lizzy,” said Mr. Bennet.",
        "“We are not in a way to know what Mr. Bingley likes,” said Elizabeth.",
    ],
    "Chapter 3": [
        "Not all that Mrs. Bennet could ask on the subject was sufficient to draw from her "
        "husband any satisfactory description of Mr. Bingley.",
        "“If I can but see one of my daughters happily settled at Netherfield,” said Mrs. "
        "Bennet, “I shall have nothing to wish for.”",
    ],
}

CHARACTERS = ("Mrs. Bennet", "Mr. Bennet", "Elizabeth")


def write_novel(path: Path) -> Path:
    """The novel above as an EPUB 3 (ebooklib): one spine document per chapter, titles
    in the navigation document."""
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("pride-and-prejudice-opening")
    book.set_title("Pride and Prejudice")
    book.set_language("en")
    book.add_author("Jane Austen")
    items = []
    for number, (title, paragraphs) in enumerate(CHAPTERS.items(), start=1):
        item = epub.EpubHtml(title=title, file_name=f"chapter{number}.xhtml")
        body = "".join(f"<p>{text}</p>" for text in paragraphs)
        item.content = f"<html><body><h1>{title}</h1>{body}</body></html>"
        book.add_item(item)
        items.append(item)
    book.toc = [epub.Link(f"chapter{n}.xhtml", title, f"c{n}")
                for n, title in enumerate(CHAPTERS, start=1)]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *items]
    epub.write_epub(str(path), book)
    return path


@pytest.fixture
def studio(open_studio):  # type: ignore[no-untyped-def]
    return studio_with_players(
        open_studio, Settings(pause_seconds=0.25, play_while_generating=False))


def test_a_novel_from_epub_to_chapter_files(studio, qtbot, qloop, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window, document, editor = studio.window, studio.document, studio.window.editor

    # Import: a preview first, then the whole book as one undo step.
    dialog = window.import_script(write_novel(tmp_path / "pride.epub"))
    qtbot.waitUntil(lambda: dialog.import_button.isEnabled(), timeout=60_000)
    assert dialog.chapter_tree.topLevelItemCount() == 3
    dialog.split_check.setChecked(True)
    for name in CHARACTERS:
        assert name in dialog.speakers_label.text()
    dialog.import_button.click()
    blocks = [b for b in document.blocks if b.text.strip()]
    assert {b.speaker for b in blocks} == {NARRATOR, *CHARACTERS}
    assert [b.chapter for b in blocks if b.chapter] == list(CHAPTERS)

    # The Chapters panel shows the three chapters.
    chapters = window.chapters_panel
    qtbot.waitUntil(lambda: chapters.tree.topLevelItemCount() == 3, timeout=10_000)
    assert [chapters.tree.topLevelItem(i).text(0) for i in range(3)] == list(CHAPTERS)

    # Cast three characters, each with a voice of their own: one undo step each.
    voices = [v.id for v in studio.catalog.voices]
    assert len(voices) >= 4
    cast = window.cast_find.panel
    qtbot.waitUntil(lambda: all(cast.row_of(n) >= 0 for n in CHARACTERS), timeout=10_000)
    for name, voice in zip(CHARACTERS, voices[1:], strict=False):
        steps = editor.stack.count()
        combo = cast.voice_combo(name)
        combo.setCurrentIndex(combo.findData(voice))
        combo.activated.emit(combo.currentIndex())  # as a click in its list does
        assert editor.stack.count() == steps + 1
        assert {b.voice_id for b in document.blocks if b.speaker == name} == {voice}

    # Find and replace a name everywhere: one undo step.
    finder = window.cast_find.dialog
    finder.open_for(replace=True)
    finder.find_edit.setText("Bingley")
    finder.replace_edit.setText("Bingham")
    finder.search_now()
    qloop.run_until_complete(finder.tasks.wait_idle())
    with_name = [b.id for b in document.blocks if "Bingley" in b.text]
    assert len(with_name) >= 4
    steps = editor.stack.count()
    assert finder.replace_all() == len(with_name)
    assert editor.stack.count() == steps + 1
    assert not any("Bingley" in b.text for b in document.blocks)
    finder.close()

    # Generate chapter 1 from the Chapters panel.
    first_chapter = chapters.chapter_block_ids(blocks[0].id)
    chapters.generate_requested.emit(blocks[0].id)
    qloop.run_until_complete(asyncio.wait_for(studio.generation.wait_idle(), 300))
    assert all(document.block(i).selected_take is not None for i in first_chapter)
    assert all(not b.takes for b in document.blocks if b.id not in first_chapter)

    # Listen to chapter 1 and flag two blocks as they play.
    review = window.review
    chapters.play_requested.emit(blocks[0].id)
    run_until(qloop, lambda: window.script_panel.playing_block_id == first_chapter[0])
    timeline = window.script_playback.timeline
    assert timeline is not None
    review.flag_quick_action.trigger()
    player = studio.players[-1]
    # The run reads blocks a little ahead of the playhead, in a worker: wait for block 3.
    run_until(qloop, lambda: any(e.block_id == first_chapter[2] for e in timeline.entries))
    second = next(e for e in timeline.entries if e.block_id == first_chapter[2])
    player.position_frames = int((second.start + 0.05) * player.sample_rate)
    run_until(qloop, lambda: window.script_panel.playing_block_id == first_chapter[2])
    review.flag_quick_action.trigger()
    window.stop()
    flagged = [b.id for b in document.blocks if b.flagged]
    assert flagged == [first_chapter[0], first_chapter[2]]

    # Regenerate the flagged blocks: select them, Generate over the selection.
    old_takes = {i: document.block(i).selected_take_id for i in flagged}
    window.script_panel.select_status("flagged")
    assert window.script_panel.selected_block_ids() == flagged
    window.script_panel.generate_selection_requested.emit(flagged)
    qloop.run_until_complete(asyncio.wait_for(studio.generation.wait_idle(), 300))
    for block_id in flagged:
        block = document.block(block_id)
        assert block.selected_take_id != old_takes[block_id] and not block.flagged

    # Generate the rest, then export one file per chapter.
    window.generate_all()
    qloop.run_until_complete(asyncio.wait_for(studio.generation.wait_idle(), 300))
    rate = document.blocks[0].selected_take.sample_rate
    result = qloop.run_until_complete(window.exporter.export_to(
        tmp_path / "pride.wav", ExportSettings(sample_rate=rate, split="chapter")))
    files = [f.path for f in result.files]
    assert len(files) == 3
    for path, title in zip(files, CHAPTERS, strict=True):
        assert title in path.name
        assert sf.info(path).duration > 1.0  # read back by libsndfile, not our encoder
