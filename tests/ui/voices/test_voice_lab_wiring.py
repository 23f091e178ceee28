"""The Voice lab in the studio: Use in script, recordings kept in the project, the
menu entry, starred voices and the input device saved."""

from __future__ import annotations

import numpy as np

from studio.api import Voice
from studio.config import Settings


def test_use_in_script_sets_the_current_blocks_voice_as_one_undo_step(open_studio) -> None:  # type: ignore[no-untyped-def]
    studio = open_studio(Settings())
    block_id = studio.window.add_block("Hello there.")
    studio.window.script_panel.set_current(block_id)
    before = studio.document.block(block_id).voice_id
    other = next(v for v in studio.catalog.voices if v.id != before)
    studio.voices_panel.use_requested.emit(other.id)
    assert studio.document.block(block_id).voice_id == other.id
    assert other.name in studio.window.statusBar().currentMessage()
    studio.undo_stack.undo()
    assert studio.document.block(block_id).voice_id == before


def test_recordings_are_kept_and_linked_to_the_voice_cloned_from_them(open_studio, qtbot) -> None:  # type: ignore[no-untyped-def]
    studio = open_studio(Settings())
    audio = (0.1 * np.sin(np.arange(48000) / 48000 * 2 * np.pi * 220)).astype(np.float32)
    studio.voices_panel.recording_finished.emit(audio, 48000)
    trimmed = audio[12000:36000].copy()
    studio.voices_panel.recording_finished.emit(trimmed, 48000)  # after Trim to selection
    voice = Voice(id="v-new", name="Me", description="", language="en", is_owner=True)
    studio.voices_panel.voice_cloned.emit(voice)
    first, second = studio.project.recordings
    assert first.voice_id == "" and second.voice_id == "v-new"  # the clip that was uploaded
    assert np.array_equal(second.audio, trimmed)
    qtbot.waitUntil(lambda: not studio.project.dirty, timeout=10000)


def test_the_audio_menu_opens_the_recorder_and_settings_are_saved(open_studio) -> None:  # type: ignore[no-untyped-def]
    studio = open_studio(Settings())
    action = next(a for a in studio.window.audio_menu.actions()
                  if a.text() == "Record and clone a voice…")
    action.trigger()
    assert studio.voices_dock.isVisible()
    studio.voice_lab.set_starred(studio.catalog.voices[0].id, True)
    assert studio.settings.starred_voices == [studio.catalog.voices[0].id]
    studio.voices_panel.input_device_changed.emit("pulse")
    assert studio.settings.input_device == "pulse"
