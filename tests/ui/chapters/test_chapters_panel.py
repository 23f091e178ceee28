"""The Chapters panel on its own: rows, counts and lengths at 10 000 blocks, rebuilt
once however many document signals arrive."""

from __future__ import annotations

from PySide6.QtCore import Qt

from studio.services.document import ScriptDocument
from studio.ui.chapters.chapters_panel import (
    BLOCKS,
    FIRST,
    FLAGGED,
    LENGTH,
    STALE,
    TITLE,
    ChaptersPanel,
    format_length,
)
from tests.ui.chapters.helpers import voiced_blocks


def test_ten_thousand_blocks_in_a_hundred_chapters(qtbot) -> None:  # type: ignore[no-untyped-def]
    document = ScriptDocument()
    panel = ChaptersPanel(document)
    qtbot.addWidget(panel)
    rebuilt: list[int] = []
    original = panel.refresh

    def counting_refresh() -> None:
        rebuilt.append(1)
        original()

    panel.refresh = counting_refresh  # type: ignore[method-assign]
    panel._timer.timeout.disconnect()
    panel._timer.timeout.connect(panel.refresh)
    blocks = voiced_blocks(10_000, seconds=0.05, chapter_every=100)
    blocks[250].flag = "too fast"
    blocks[251].flag = ""
    blocks[252].text = "Changed since its take."  # out of date
    blocks[252].locked = True
    document.insert_blocks(blocks)
    for block in blocks[:50]:
        document.update_block(block.id, volume=1.0)  # more signals before the timer fires
    assert panel.refresh_pending
    qtbot.waitUntil(lambda: not panel.refresh_pending, timeout=10000)
    assert len(rebuilt) == 1, "the signals were coalesced into one rebuild"
    tree = panel.tree
    assert tree.topLevelItemCount() == 100
    third = tree.topLevelItem(2)
    assert third.text(TITLE) == "Chapter 3" and third.text(FIRST) == "#201"
    assert third.text(BLOCKS) == "100" and third.text(LENGTH) == "0:05"
    assert third.text(FLAGGED) == "2" and third.text(STALE) == "1"
    assert "1 locked" in third.toolTip(TITLE)
    assert tree.topLevelItem(0).text(FLAGGED) == "" and tree.topLevelItem(0).text(STALE) == ""
    assert panel.chapter_block_ids(blocks[200].id) == [b.id for b in blocks[200:300]]
    assert panel.chapter_block_ids(blocks[201].id) == []  # no chapter starts there

    jumped: list[str] = []
    panel.jump_requested.connect(jumped.append)
    rect = tree.visualItemRect(third)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert jumped == [blocks[200].id]
    assert panel.selected_block_id() == blocks[200].id
    generate: list[str] = []
    panel.generate_requested.connect(generate.append)
    panel.generate_button.click()
    assert generate == [blocks[200].id]

    document.remove_blocks([b.id for b in blocks[200:300]])
    qtbot.waitUntil(lambda: tree.topLevelItemCount() == 99, timeout=10000)
    assert panel.selected_block_id() == "" and not panel.generate_button.isEnabled()


def test_lengths_read_as_a_clock() -> None:
    assert format_length(0) == "0:00"
    assert format_length(61.4) == "1:01"
    assert format_length(3 * 3600 + 62) == "3:01:02"
