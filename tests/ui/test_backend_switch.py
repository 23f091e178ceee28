"""Switching backend replaces the voice list, and a block whose voice the new backend
lacks is refused before any request, naming the voice (issue 14: a voice cloned on the
offline engine was still listed, and its id sent, after switching to the cloud)."""

from __future__ import annotations

import asyncio

from studio.api import Voice
from studio.config import Settings

TTS_ROUTES = ("/tts/websocket", "/tts/bytes", "/tts/sse")


def test_a_backend_switch_replaces_the_voices_and_refuses_a_voice_it_lacks(
        open_studio, qtbot, qloop, offline_engine) -> None:  # type: ignore[no-untyped-def]
    studio = open_studio(Settings())
    catalog = studio.catalog
    clone = Voice(id="local-clone-1", name="My Kitchen Clone", description="",
                  language="en", is_owner=True)
    catalog.voices = [*catalog.voices, clone]  # cloned on the backend being left
    catalog.voices_changed.emit()
    block_id = studio.window.add_block("Read this in my own voice.")
    studio.editor.update_block(block_id, voice_id=clone.id)
    assert studio.window.script_panel.current_block_id == block_id
    view = studio.window.script_panel.inspector
    assert view.voice_combo.currentText().startswith("My Kitchen Clone")

    lists: list[list[str]] = []
    catalog.voices_changed.connect(lambda: lists.append([v.id for v in catalog.voices]))
    qloop.run_until_complete(studio.reconnect())  # the next backend lacks the clone

    assert lists[0] == [], "the old list is gone before the new one arrives"
    assert catalog.loaded and catalog.voices and catalog.voice(clone.id) is None
    assert view.voice_combo.currentText().startswith("Missing voice: My Kitchen Clone")

    requests = sum(offline_engine.stats.requests(route) for route in TTS_ROUTES)
    with qtbot.waitSignal(studio.generation.job_failed) as failed:
        studio.generation.generate([block_id])
    qloop.run_until_complete(asyncio.wait_for(studio.generation.wait_idle(), 60))
    assert failed.args[0] == block_id and '"My Kitchen Clone"' in failed.args[1]
    assert sum(offline_engine.stats.requests(route) for route in TTS_ROUTES) == requests
    assert "My Kitchen Clone" in view.status_label.text()
    assert studio.document.block(block_id).takes == []


def test_a_backend_whose_voices_did_not_load_sends_no_voice(
        open_studio, qtbot, qloop, offline_engine) -> None:  # type: ignore[no-untyped-def]
    studio = open_studio(Settings())
    block_id = studio.window.add_block("Nothing can be checked.")
    voice = studio.document.block(block_id).voice_id or studio.catalog.voices[0].id
    studio.editor.update_block(block_id, voice_id=voice)
    studio.catalog.clear()  # as after a switch to a backend that cannot connect
    assert studio.catalog.voices == [] and not studio.catalog.loaded

    requests = sum(offline_engine.stats.requests(route) for route in TTS_ROUTES)
    with qtbot.waitSignal(studio.generation.job_failed) as failed:
        studio.generation.generate([block_id])
    qloop.run_until_complete(asyncio.wait_for(studio.generation.wait_idle(), 60))
    assert "has not loaded" in failed.args[1]
    assert sum(offline_engine.stats.requests(route) for route in TTS_ROUTES) == requests
