"""The studio under bad conditions: dropped connections, server errors, failed
voice lists. A clear message on the block, no crash, other takes kept, and the next
attempt works."""

from __future__ import annotations

import asyncio

from studio.app import Studio
from studio.config import Settings
from studio.ui.window.settings_dialog import SettingsDialog


def _generate(qloop, studio: Studio, block_id: str) -> None:  # type: ignore[no-untyped-def]
    studio.generation.generate([block_id])
    qloop.run_until_complete(asyncio.wait_for(studio.generation.wait_idle(), 60))


def test_dropped_connection_fails_the_block_and_the_next_try_works(  # type: ignore[no-untyped-def]
        open_studio, qtbot, qloop, offline_engine) -> None:
    studio = open_studio(Settings(play_while_generating=False), max_retries=1)
    try:
        kept = studio.window.add_block("This take is kept.")
        _generate(qloop, studio, kept)
        victim = studio.window.add_block("This block loses its connection halfway. " * 5)
        offline_engine.drop_websockets_after(2)
        _generate(qloop, studio, victim)
        status = studio.window.script_panel.status_text(victim)
        assert status.startswith("Failed:") and "connection" in status.lower()
        assert not studio.document.block(victim).takes
        assert len(studio.document.block(kept).takes) == 1
        _generate(qloop, studio, victim)
        assert studio.document.block(victim).selected_take is not None
    finally:
        qloop.run_until_complete(studio.shutdown())


def test_refused_websocket_handshakes_are_reported(  # type: ignore[no-untyped-def]
        open_studio, qtbot, qloop, offline_engine) -> None:
    studio = open_studio(Settings(play_while_generating=False), max_retries=1)
    try:
        block_id = studio.window.add_block("Server trouble.")
        client = studio.backend.client  # type: ignore[union-attr]

        async def close_socket() -> None:  # the next generation must open a new one
            await (await client.tts.websocket()).close()

        qloop.run_until_complete(close_socket())
        offline_engine.inject_faults("/tts/websocket", [503, 503, 503])
        _generate(qloop, studio, block_id)
        status = studio.window.script_panel.status_text(block_id)
        assert status.startswith("Failed:") and "503" in status
        _generate(qloop, studio, block_id)
        assert studio.document.block(block_id).selected_take is not None
    finally:
        qloop.run_until_complete(studio.shutdown())


def test_unknown_voice_is_a_message_on_the_block(  # type: ignore[no-untyped-def]
        open_studio, qtbot, qloop, offline_engine) -> None:
    studio = open_studio(Settings(play_while_generating=False), max_retries=1)
    try:
        block_id = studio.window.add_block("Who am I?")
        studio.document.update_block(block_id, voice_id="11111111-2222-3333-4444-555555555555")
        _generate(qloop, studio, block_id)
        status = studio.window.script_panel.status_text(block_id)
        assert status.startswith("Failed:") and "voice" in status.lower()
    finally:
        qloop.run_until_complete(studio.shutdown())


def test_voice_list_failure_shows_in_the_status_bar(  # type: ignore[no-untyped-def]
        open_studio, qtbot, qloop, offline_engine) -> None:
    offline_engine.inject_faults("/voices", [500, 500])
    studio = open_studio(Settings(play_while_generating=False), max_retries=1)
    try:
        assert "voices unavailable" in studio.window.backend_label.text()
        assert "Could not load voices" in studio.window.statusBar().currentMessage()
    finally:
        qloop.run_until_complete(studio.shutdown())


def test_settings_dialog_validates_and_returns_edits(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = SettingsDialog(Settings(), env_key_set=False)
    qtbot.addWidget(dialog)
    dialog.api_key_edit.setText("  sk_car_test  ")
    dialog.jobs_spin.setValue(5)
    dialog.pause_spin.setValue(1.5)
    dialog.version_edit.setText("yesterday")
    dialog._on_accept()
    assert "API version" in dialog.error_label.text()
    assert dialog.result() == 0
    dialog.version_edit.setText("2025-04-16")
    dialog.ws_url_edit.setText("https://wrong")
    assert "WebSocket" in dialog.validation_error()
    dialog.ws_url_edit.setText("wss://api.cartesia.ai")
    dialog._on_accept()
    assert dialog.result() == 1
    edited = dialog.settings()
    assert (edited.api_key, edited.max_concurrent_jobs, edited.pause_seconds,
            edited.cartesia_version) == ("sk_car_test", 5, 1.5, "2025-04-16")
    assert edited.wants_cloud({})


def test_no_audio_device_is_a_visible_notice_and_generation_still_works(  # type: ignore[no-untyped-def]
        open_studio, qtbot, qloop, offline_engine, monkeypatch) -> None:
    from studio.audio.devices import AudioStatus
    from studio.audio.playback import NullPlayer

    # The start-up probe reports the machine's real devices; on a machine without a
    # sound card it would show the notice before the test's player is ever asked.
    # The device goes missing only when playback starts, which is what is tested here.
    monkeypatch.setattr("studio.app.audio_backend_status",
                        lambda: AudioStatus(True, "", "test output", None))

    def player_factory(sample_rate: int, device=None):  # type: ignore[no-untyped-def]
        return NullPlayer(sample_rate, "no audio output device")

    studio = open_studio(Settings(), player_factory=player_factory)
    try:
        block_id = studio.window.add_block("Silent but fine.")
        _generate(qloop, studio, block_id)
        assert studio.document.block(block_id).selected_take is not None
        assert not studio.window.notice_label.isVisibleTo(studio.window)
        studio.window.script_panel.set_current(block_id)
        studio.window.script_panel.inspector.play_button.click()
        assert studio.playback.is_playing
        assert studio.window.notice_label.isVisibleTo(studio.window)
        assert studio.window.notice_label.text() == "No sound: no audio output device"
    finally:
        qloop.run_until_complete(studio.shutdown())
