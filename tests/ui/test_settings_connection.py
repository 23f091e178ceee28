"""The Settings dialog's key storage note, cloud URL rule and Test connection (issue 14)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from keyring.backends import fail

from studio.config import Settings, cloud_url_error
from studio.keystore import KeyStore
from studio.services.backend import check_connection
from studio.ui.window.settings_dialog import SettingsDialog


def test_without_a_keyring_the_dialog_names_the_fallback_file(  # type: ignore[no-untyped-def]
        qtbot, tmp_path: Path) -> None:
    store = KeyStore(tmp_path, fail.Keyring())
    store.set("sk_car_abc")
    dialog = SettingsDialog(Settings(api_key=store.get()), env_key_set=False,
                            key_location=store.location, key_fallback=not store.has_keyring)
    qtbot.addWidget(dialog)
    note = dialog.key_note.text()
    assert note.startswith("Fallback")
    assert str(store.fallback_path) in note


@pytest.mark.parametrize(("base_url", "ws_url", "refused"), [
    ("http://api.cartesia.ai", "wss://api.cartesia.ai", "https://"),
    ("https://api.cartesia.ai", "ws://api.cartesia.ai", "wss://"),
    ("ftp://api.cartesia.ai", "wss://api.cartesia.ai", "https://"),
    ("http://127.0.0.1:8080", "ws://127.0.0.1:8080", ""),
    ("http://localhost:8080", "ws://[::1]:8080", ""),
    ("https://api.cartesia.ai", "wss://api.cartesia.ai", ""),
])
def test_cloud_urls_must_be_encrypted_unless_loopback(  # type: ignore[no-untyped-def]
        qtbot, base_url: str, ws_url: str, refused: str) -> None:
    settings = Settings(base_url=base_url, websocket_base_url=ws_url)
    assert (refused in cloud_url_error(settings)) if refused else not cloud_url_error(settings)
    dialog = SettingsDialog(Settings(), env_key_set=False)
    qtbot.addWidget(dialog)
    dialog.base_url_edit.setText(base_url)
    dialog.ws_url_edit.setText(ws_url)
    dialog._on_accept()
    if refused:
        assert refused in dialog.error_label.text()
        assert dialog.result() == 0
    else:
        assert dialog.error_label.text() == ""


def test_start_backend_refuses_a_plain_http_cloud_url() -> None:
    from studio.services.backend import start_backend

    settings = Settings(api_key="sk_car_x", base_url="http://api.cartesia.ai")
    with pytest.raises(RuntimeError, match="https://"):
        asyncio.run(start_backend(settings, environ={}))


def _run_test(qloop, dialog: SettingsDialog) -> None:  # type: ignore[no-untyped-def]
    task = dialog.test_connection()
    assert task is not None
    qloop.run_until_complete(asyncio.wait_for(task, 60))


def test_test_connection_shows_the_offline_engines_version(  # type: ignore[no-untyped-def]
        qtbot, qloop, offline_engine) -> None:
    dialog = SettingsDialog(Settings(api_key=offline_engine.api_key,
                                     base_url=offline_engine.base_url), env_key_set=False)
    qtbot.addWidget(dialog)
    _run_test(qloop, dialog)
    version = qloop.run_until_complete(_version(offline_engine))
    assert dialog.test_label.text().startswith("Connected")
    assert f"API version {version}" in dialog.test_label.text()
    assert dialog.test_button.isEnabled()


async def _version(engine) -> str:  # type: ignore[no-untyped-def]
    report = await check_connection(engine.api_key, engine.base_url, "2025-11-04")
    assert report.ok
    return report.message.split("API version ", 1)[1].split(",", 1)[0]


def test_test_connection_to_a_refused_port_says_why_in_plain_words(  # type: ignore[no-untyped-def]
        qtbot, qloop) -> None:
    with socket.socket() as sock:  # a port just freed: nothing listens on it
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dialog = SettingsDialog(Settings(api_key="sk_car_x", base_url=f"http://127.0.0.1:{port}"),
                            env_key_set=False)
    qtbot.addWidget(dialog)
    _run_test(qloop, dialog)
    text = dialog.test_label.text()
    assert text.startswith("Cannot reach Cartesia")
    assert "Errno" not in text and "ConnectError" not in text
    assert "ConnectError" in dialog.test_label.toolTip()  # the detail, for who wants it


def test_test_connection_with_a_wrong_key_says_so(  # type: ignore[no-untyped-def]
        qtbot, qloop, offline_engine) -> None:
    dialog = SettingsDialog(Settings(api_key="sk_car_wrong", base_url=offline_engine.base_url),
                            env_key_set=False)
    qtbot.addWidget(dialog)
    _run_test(qloop, dialog)
    assert "API key" in dialog.test_label.text()
