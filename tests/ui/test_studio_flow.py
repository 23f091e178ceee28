"""The studio as a user drives it: type a script, generate, hear, export.

Runs the real window offscreen against the offline engine over loopback; audio goes
to an injected output stream that records what the player sends it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt

from studio.audio.playback import CallbackStop, StreamPlayer
from studio.config import Settings
from studio.ui.script.script_model import Role


class RecordingStream:
    """An output stream that pulls blocks from the player's callback on demand."""

    def __init__(self, *, samplerate, channels, dtype, callback, blocksize, device, latency,
                 finished_callback=None, **_):  # type: ignore[no-untyped-def]
        self.callback = callback
        self.blocksize = blocksize or 512
        self.finished_callback = finished_callback
        self.recorded: list[np.ndarray] = []
        self.active = False

    def start(self) -> None:
        self.active = True

    def stop(self) -> None:
        self.active = False

    def close(self) -> None:
        self.active = False

    def pull(self, blocks: int) -> None:
        """Run the callback ``blocks`` times, as PortAudio's thread would."""
        for _ in range(blocks):
            if not self.active:
                return
            out = np.zeros((self.blocksize, 1), dtype=np.float32)
            try:
                self.callback(out, self.blocksize, None, None)
            except CallbackStop:  # the last block is still played, then the stream ends
                self.recorded.append(out[:, 0].copy())
                self.active = False
                if self.finished_callback is not None:
                    self.finished_callback()
                return
            self.recorded.append(out[:, 0].copy())


@pytest.fixture
def studio(open_studio):  # type: ignore[no-untyped-def]
    """A studio whose audio goes to :class:`RecordingStream` objects (``studio.streams``)."""
    streams: list[RecordingStream] = []

    def stream_factory(**kwargs):  # type: ignore[no-untyped-def]
        stream = RecordingStream(**kwargs)
        streams.append(stream)
        return stream

    def player_factory(sample_rate: int, device=None):  # type: ignore[no-untyped-def]
        return StreamPlayer(sample_rate, device=device, stream_factory=stream_factory,
                            capacity_seconds=120)

    app = open_studio(Settings(pause_seconds=0.25), player_factory=player_factory)
    app.streams = streams  # type: ignore[attr-defined]
    return app


def _wait(qloop, coro, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    return qloop.run_until_complete(asyncio.wait_for(coro, timeout))


def test_type_generate_play_and_export(  # type: ignore[no-untyped-def]
        studio, qtbot, qloop, tmp_path: Path) -> None:
    window = studio.window
    assert window.backend_label.text() == "Offline engine"
    assert studio.catalog.voices, "the voice list loaded"

    block_id = window.add_block()
    panel = window.script_panel
    view = panel.inspector
    assert panel.current_block_id == block_id and panel.text_edit.block_id == block_id
    assert view.voice_combo.voice_id(), "a new block gets a default voice"
    qtbot.keyClicks(
        panel.text_edit, "Hello from the studio. This take is made by the offline engine."
    )
    view.emotion_combo.setCurrentIndex(view.emotion_combo.findData("happy"))
    view.speed_spin.setValue(1.2)
    block = studio.document.block(block_id)
    assert block.text.startswith("Hello from the studio") and block.emotion == "happy"
    assert block.speed == 1.2

    qtbot.mouseClick(view.generate_button, Qt.MouseButton.LeftButton)
    assert studio.generation.busy
    _wait(qloop, studio.generation.wait_idle())

    take = block.selected_take
    assert take is not None, view.status_label.text()
    assert 1.5 < take.duration < 15
    assert "studio" in [w.strip(".,").lower() for w in take.word_timestamps.words]
    assert take.request["generation_config"]["emotion"] == "happy"
    assert view.take_list.count() == 1 and "Take 1" in view.take_list.item(0).text()

    # Streaming playback started while generating: the player was fed and is playing.
    stream = studio.streams[-1]
    stream.pull(blocks=40)
    played = np.concatenate(stream.recorded)
    assert np.abs(played).max() > 0.01, "speech reached the output stream"

    out = tmp_path / "voiceover.wav"
    assert _wait(qloop, window.export_to(out))
    data, rate = sf.read(out, dtype="float32")
    assert rate == take.sample_rate
    assert abs(len(data) / rate - take.duration) < 0.01
    assert np.sqrt(np.mean(data**2)) > 0.01, "the export is not silent"


def test_generate_all_keeps_order_and_export_has_pauses(  # type: ignore[no-untyped-def]
        studio, qtbot, qloop, tmp_path: Path) -> None:
    window = studio.window
    count = window.add_script_text(
        "One block here.\n\nA second block.\n\nAnd a third block to finish."
    )
    assert count == 3 and len(studio.document) == 3
    window.generate_all()
    _wait(qloop, studio.generation.wait_idle(), timeout=120)
    takes = studio.document.selected_takes()
    assert len(takes) == 3
    out = tmp_path / "all.wav"
    assert _wait(qloop, window.export_to(out))
    info = sf.info(out)
    expected = sum(t.duration for t in takes) + 2 * 0.25
    assert abs(info.duration - expected) < 0.01
    assert window.progress_bar.value() == 3


def test_stop_cancels_and_keeps_finished_takes(  # type: ignore[no-untyped-def]
        studio, qtbot, qloop) -> None:
    window = studio.window
    first = window.add_block("Short one.")
    _ = window.add_block("A much longer block. " * 60)
    studio.generation.generate([first])
    _wait(qloop, studio.generation.wait_idle())
    assert studio.document.block(first).takes
    second = studio.document.blocks[1].id
    progressed: list[float] = []
    studio.generation.job_progressed.connect(lambda block_id, f: progressed.append(f))
    studio.generation.generate([second])

    async def first_words() -> None:
        while not progressed:
            await asyncio.sleep(0.005)

    _wait(qloop, first_words())
    assert progressed[-1] < 1.0, "stopped while the block is still rendering"
    window.stop()
    _wait(qloop, studio.generation.wait_idle())
    assert not studio.document.block(second).takes
    assert window.script_panel.status_text(second) == "Stopped"
    assert len(studio.document.block(first).takes) == 1


def test_block_without_text_reports_instead_of_crashing(  # type: ignore[no-untyped-def]
        studio, qtbot, qloop) -> None:
    block_id = studio.window.add_block()
    studio.window.generate_current()
    _wait(qloop, studio.generation.wait_idle())
    assert "no text" in studio.window.script_panel.status_text(block_id)


def test_add_remove_and_reorder_blocks(studio, qtbot) -> None:  # type: ignore[no-untyped-def]
    window = studio.window
    a = window.add_block("A")
    b = window.add_block("B")
    c = window.add_block("C")
    panel = window.script_panel

    def number(block_id: str) -> int:
        return panel.model.index_of(block_id).data(Role.NUMBER)

    assert panel.current_block_id == c
    panel.inspector.up_button.click()
    assert [x.text for x in studio.document.blocks] == ["A", "C", "B"]
    assert number(c) == 2 and panel.inspector.title.text() == "Block #2"
    panel.set_current(a)
    panel.inspector.remove_button.click()
    assert [x.text for x in studio.document.blocks] == ["C", "B"]
    assert number(b) == 2


def test_stream_longer_than_the_ring_buffer_plays_whole(  # type: ignore[no-untyped-def]
        qtbot, qloop) -> None:
    """Audio beyond the player's capacity waits in a backlog instead of being dropped."""
    from studio.services.playback import PlaybackService

    streams: list[RecordingStream] = []

    def player_factory(sample_rate: int, device=None):  # type: ignore[no-untyped-def]
        def stream_factory(**kwargs):  # type: ignore[no-untyped-def]
            streams.append(RecordingStream(**kwargs))
            return streams[-1]

        return StreamPlayer(sample_rate, stream_factory=stream_factory, capacity_seconds=0.1,
                            blocksize=256)

    playback = PlaybackService(player_factory=player_factory)
    rate = 8000
    signal = np.random.default_rng(1).uniform(-0.5, 0.5, rate).astype(np.float32)  # 1 s
    stream_id = playback.begin_stream(rate)
    for piece in np.array_split(signal, 7):
        playback.write(stream_id, piece)
    playback.end_stream(stream_id)
    assert playback.backlog_frames > 0
    for _ in range(200):
        streams[-1].pull(blocks=2)
        qloop.run_until_complete(asyncio.sleep(0))
        playback._on_poll()
        if not playback.is_playing:
            break
    played = np.concatenate(streams[-1].recorded)
    assert not playback.is_playing
    assert np.array_equal(played[: signal.size], signal)
    playback.shutdown()


def test_closing_asks_only_while_the_project_cannot_be_saved(  # type: ignore[no-untyped-def]
        studio, qtbot, qloop) -> None:
    window = studio.window
    block_id = window.add_block("Keep me.")
    studio.generation.generate([block_id])
    _wait(qloop, studio.generation.wait_idle())
    window.discard_confirmed = False
    asked: list[str] = []
    studio.project._failed = "Cannot save to p.cstudio: the disk is full."
    window.close_guard = lambda parent: asked.append(studio.project.failure) or False
    assert not window.close()
    assert asked == ["Cannot save to p.cstudio: the disk is full."] and window.isVisible()
    studio.project._failed = ""
    window.close_guard = studio.project_menu.close_guard
    assert window.close()  # everything is in the file: no question


def test_new_blocks_scroll_into_view_and_actions_follow_takes(  # type: ignore[no-untyped-def]
        studio, qtbot, qloop) -> None:
    window = studio.window
    window.resize(1000, 600)
    assert not window.play_all_action.isEnabled() and not window.export_action.isEnabled()
    for index in range(9):
        last = window.add_block(f"Block number {index}.")
    qloop.run_until_complete(asyncio.sleep(0.1))
    panel = window.script_panel
    rect = panel.view.visualRect(panel.filter.mapFromSource(panel.model.index_of(last)))
    assert rect.top() >= 0 and rect.bottom() <= panel.view.viewport().height(), rect
    studio.generation.generate([last])
    _wait(qloop, studio.generation.wait_idle())
    assert window.play_all_action.isEnabled() and window.export_action.isEnabled()
    assert window.play_action.isEnabled()


def test_an_edited_block_says_its_take_is_out_of_date_and_generate_all_redoes_it(  # type: ignore[no-untyped-def]
        studio, qtbot, qloop) -> None:
    window = studio.window
    block_id = window.add_block("The first wording.")
    panel = window.script_panel
    view = panel.inspector
    studio.generation.generate([block_id])
    _wait(qloop, studio.generation.wait_idle())
    block = studio.document.block(block_id)
    assert block.matches(block.selected_take) and not block.needs_take()
    panel.text_edit.setPlainText("A second wording.")
    assert "Edited since Take 1" in view.status_label.text()
    assert block.needs_take()
    panel.text_edit.setPlainText("The first wording.")
    assert view.status_label.text() == "" and not block.needs_take()
    view.speed_spin.setValue(1.3)
    assert block.needs_take()
    window.generate_all()
    _wait(qloop, studio.generation.wait_idle())
    assert len(block.takes) == 2 and block.matches(block.selected_take)


def test_generate_needs_text_and_a_voice_brings_its_language(  # type: ignore[no-untyped-def]
        studio, qtbot) -> None:
    window = studio.window
    block_id = window.add_block()
    view = window.script_panel.inspector
    assert not view.generate_button.isEnabled()
    qtbot.keyClicks(window.script_panel.text_edit, "Bonjour")
    assert view.generate_button.isEnabled()
    french = next(v for v in studio.catalog.voices if v.language == "fr")
    view.voice_combo.setCurrentIndex(view.voice_combo.findData(french.id))
    view.voice_combo.activated.emit(view.voice_combo.currentIndex())
    block = studio.document.block(block_id)
    assert (block.voice_id, block.language) == (french.id, "fr")
    assert view.language_combo.currentText() == "fr"


def test_server_messages_reach_the_block_without_status_codes(  # type: ignore[no-untyped-def]
        studio, qtbot, qloop) -> None:
    block_id = studio.window.add_block('Wait <break time="soon"/> please.')
    studio.generation.generate([block_id])
    _wait(qloop, studio.generation.wait_idle())
    status = studio.window.script_panel.status_text(block_id)
    assert status.startswith("Failed: ") and "400" not in status and "break" in status
