"""Quitting the studio: one signal tells every service and panel, and no task of theirs
is left on the loop afterwards, even one waiting for a take to be read."""

from __future__ import annotations

import asyncio
import dataclasses
import threading

import numpy as np

from studio.project.model import TakeAudio


def test_shutdown_leaves_nothing_running(open_studio, qtbot, qloop) -> None:  # type: ignore[no-untyped-def]
    studio = open_studio()
    window = studio.window
    block_id = window.add_block("The quick brown fox jumps over the lazy dog.")
    studio.generation.generate([block_id])
    qloop.run_until_complete(studio.generation.wait_idle())
    take = studio.document.block(block_id).selected_take
    disk = threading.Event()  # the "file read" never finishes before the studio quits

    def loader() -> np.ndarray:
        disk.wait(30)
        return take.audio

    slow = dataclasses.replace(take, id="slow", source=TakeAudio(
        take.sample_rate, take.frames, loader=loader))
    studio.document.add_take(block_id, slow)
    studio.document.select_take(block_id, "slow")
    loading = window.editor_panel.reload()
    window.takes_panel.set_block(block_id)
    window.takes_panel.play_take("slow")
    studio.script_playback.play_all()
    # Connected last, so it runs once everything else has heard: the read finishes
    # then, and the project can save the take as it quits.
    studio.shutting_down.connect(disk.set)
    try:
        qloop.run_until_complete(asyncio.sleep(0.05))
        assert not loading.done()
        with qtbot.waitSignal(studio.shutting_down, timeout=1000):
            qloop.run_until_complete(studio.shutdown())
        qloop.run_until_complete(asyncio.sleep(0.05))
        assert loading.cancelled()
        assert [t for t in asyncio.all_tasks(qloop) if not t.done()] == []
    finally:
        disk.set()
