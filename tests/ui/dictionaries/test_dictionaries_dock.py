"""The Dictionaries panel docked in the studio (issue #6): on a 1280×800 screen, with its
tab raised in the right-hand dock, the script keeps its width (the panel once asked for
780 px, and the script column scrolled sideways, cutting off its blocks)."""

from __future__ import annotations

import asyncio

from studio.config import Settings


def test_the_script_does_not_scroll_sideways_with_the_dictionaries_raised(
        open_studio, qtbot, qloop) -> None:  # type: ignore[no-untyped-def]
    studio = open_studio(Settings(play_while_generating=False))
    window = studio.window
    for text in ("Welcome to Cartesia Studio. Today Zorvath and Nyx test the new GUI.",
                 "Thanks for watching, and see you next week."):
        window.add_block(text)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    studio.dictionaries_dock.raise_()
    qloop.run_until_complete(asyncio.sleep(0.2))  # the docks settle their widths
    assert studio.dictionaries_panel.isVisible()
    assert not studio.dictionaries_dock.isFloating()
    script = window.script_panel
    assert script.inspector.isVisible() and script.view.width() > 300
    assert not script.view.horizontalScrollBar().isVisible(), (
        script.width(), studio.dictionaries_dock.width())
