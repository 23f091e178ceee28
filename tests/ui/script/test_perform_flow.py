"""Perform… in the inspector (issue 16), on the offline engine: the user's recording of a
block, converted to the block's voice, becomes a take with their timing, its words
aligned to the block's text and the performance kept with it; one undo step."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from PySide6.QtWidgets import QFileDialog

from studio.api.models import OutputFormat, TTSRequest

RATE = 24000
TEXT = "The lamp was lit before the storm, and the keeper watched the sea all night."


def run(qloop: Any, awaitable: Any, timeout: float = 120.0) -> Any:
    return qloop.run_until_complete(asyncio.wait_for(awaitable, timeout))


def test_a_performance_becomes_a_take_in_the_block_s_voice(  # type: ignore[no-untyped-def]
        open_studio, qloop, monkeypatch, tmp_path: Path) -> None:
    studio = open_studio()
    window, document = studio.window, studio.document
    voices = studio.catalog.voices
    performer, target = voices[0].id, voices[1].id
    # The "performance": the engine reading the line in another voice.
    request = TTSRequest(transcript=TEXT, voice_id=performer,
                         output_format=OutputFormat("raw", "pcm_f32le", RATE))
    audio = np.frombuffer(run(qloop, studio.backend.client.tts.bytes(request)), np.float32)
    path = tmp_path / "my reading.wav"
    sf.write(path, audio, RATE)

    assert window.add_script_text(TEXT) == 1
    block = document.blocks[-1]
    window.editor.update_block(block.id, voice_id=target)
    window.script_panel.set_current(block.id)
    inspector = window.script_panel.inspector
    assert inspector.perform_button.isVisibleTo(inspector)  # one block: Perform… is offered
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_a, **_k: (str(path), ""))
    steps = window.editor.stack.count()
    inspector.perform_button.click()
    run(qloop, studio.perform.tasks.wait_idle())

    take = block.selected_take
    assert take is not None and take.request["voice_changer"]["voice_id"] == target
    assert abs(take.duration - audio.shape[0] / RATE) < 0.02 * take.duration
    assert take.performance is not None  # kept with the take
    assert len(take.word_timestamps.words) >= 10
    assert window.editor.stack.count() == steps + 1
    assert "from your performance" in window.script_panel.status_text(block.id)
    window.undo_action.trigger()
    assert block.takes == []


def test_a_file_that_is_not_audio_says_so_and_adds_nothing(  # type: ignore[no-untyped-def]
        open_studio, qloop, monkeypatch, tmp_path: Path) -> None:
    studio = open_studio()
    window = studio.window
    assert window.add_script_text("Hello there.") == 1
    block = studio.document.blocks[-1]
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio")
    run(qloop, studio.perform.perform_file(block.id, bad))
    assert block.takes == []
    assert window.script_panel.status_text(block.id).startswith("Perform failed:")
