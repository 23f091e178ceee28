"""The API key in the OS keyring: a real Secret Service, the labelled fallback file, and
the move out of ``settings.json`` (issue 14)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import PasswordDeleteError

from studio.config import Settings, load_settings, save_settings
from studio.keystore import FALLBACK_NAME, SERVICE, USERNAME, KeyStore


class MemoryKeyring(KeyringBackend):
    """A keyring backend in a dict, standing in for the OS store."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError("no such password")


def _legacy_settings(path: Path, key: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"api_key": key, "pause_seconds": 0.75}), encoding="utf-8")


def test_key_goes_to_the_keyring_and_nowhere_else(tmp_path: Path) -> None:
    backend = MemoryKeyring()
    store = KeyStore(tmp_path, backend)
    store.set("sk_car_abc")
    assert backend.entries == {(SERVICE, USERNAME): "sk_car_abc"}
    assert store.get() == "sk_car_abc"
    assert not store.uses_fallback
    assert "OS keyring" in store.location
    assert list(tmp_path.iterdir()) == []
    store.set("")
    assert backend.entries == {}
    assert store.get() == ""


def test_without_a_keyring_the_key_goes_to_the_labelled_0600_fallback(tmp_path: Path) -> None:
    store = KeyStore(tmp_path, fail.Keyring())
    store.set("sk_car_abc")
    path = tmp_path / FALLBACK_NAME
    assert path.read_text(encoding="utf-8") == "sk_car_abc"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert store.uses_fallback
    assert str(path) in store.location and "fallback" in store.location
    assert KeyStore(tmp_path, fail.Keyring()).get() == "sk_car_abc"
    store.delete()
    assert not path.exists()


def test_first_load_moves_the_key_out_of_settings_json(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    _legacy_settings(path, "sk_car_old")
    backend = MemoryKeyring()
    settings = load_settings(path, KeyStore(tmp_path, backend))
    assert settings.api_key == "sk_car_old"
    assert settings.pause_seconds == 0.75
    assert backend.entries == {(SERVICE, USERNAME): "sk_car_old"}
    assert "api_key" not in json.loads(path.read_text(encoding="utf-8"))
    assert "sk_car_old" not in path.read_text(encoding="utf-8")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # Saving again never brings it back.
    save_settings(settings, path)
    assert "sk_car_old" not in path.read_text(encoding="utf-8")
    assert load_settings(path, KeyStore(tmp_path, backend)).api_key == "sk_car_old"


def test_first_load_without_a_keyring_moves_the_key_to_the_fallback(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    _legacy_settings(path, "sk_car_old")
    settings = load_settings(path, KeyStore(tmp_path, fail.Keyring()))
    assert settings.api_key == "sk_car_old"
    assert "sk_car_old" not in path.read_text(encoding="utf-8")
    assert (tmp_path / FALLBACK_NAME).read_text(encoding="utf-8") == "sk_car_old"


def test_a_failed_move_leaves_the_file_and_keeps_the_key(tmp_path: Path) -> None:
    folder = tmp_path / "config"
    path = folder / "settings.json"
    _legacy_settings(path, "sk_car_old")
    store = KeyStore(folder, fail.Keyring())
    store.fallback_path = tmp_path / "missing" / "file-not-folder"
    (tmp_path / "missing").write_text("a file where a folder should be", encoding="utf-8")
    settings = load_settings(path, store)
    assert settings.api_key == "sk_car_old"
    assert "sk_car_old" in path.read_text(encoding="utf-8")


def test_settings_never_serialise_the_key(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    save_settings(Settings(api_key="sk_car_secret"), path)
    assert "sk_car_secret" not in path.read_text(encoding="utf-8")


_SECRET_SERVICE_SCRIPT = textwrap.dedent("""
    import json, pathlib, sys
    import keyring
    from studio.config import load_settings, settings_path
    from studio.keystore import KeyStore, SERVICE, USERNAME

    path = settings_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"api_key": "sk_car_ring"}))
    settings = load_settings()
    store = KeyStore(path.parent)
    assert "SecretService" in type(keyring.get_keyring()).__module__, keyring.get_keyring()
    assert settings.api_key == "sk_car_ring"
    assert keyring.get_password(SERVICE, USERNAME) == "sk_car_ring"
    assert "OS keyring" in store.location, store.location
    leaked = [p for p in path.parent.rglob("*") if p.is_file() and "sk_car_ring" in p.read_text()]
    assert not leaked, leaked
    store.delete()
    assert keyring.get_password(SERVICE, USERNAME) is None
    print("secret-service-ok")
""")

_SESSION = textwrap.dedent("""
    set -e
    # A throwaway login keyring, created and unlocked by the password on stdin
    # (an empty one leaves it uncreated and every write is a dismissed prompt).
    eval "$(printf 'studio-test' | gnome-keyring-daemon --unlock --components=secrets)"
    gnome-keyring-daemon --start --components=secrets >/dev/null
    exec "$PYTHON" -c "$SCRIPT"
""")


@pytest.mark.skipif(
    not (shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon")),
    reason="needs dbus-run-session and gnome-keyring-daemon (Debian: dbus gnome-keyring)",
)
def test_key_in_a_real_secret_service(tmp_path: Path) -> None:
    """A private session bus with its own gnome-keyring-daemon: the key moves from
    ``settings.json`` into the Secret Service and is in no file after the first load."""
    home = tmp_path / "home"
    runtime = tmp_path / "run"
    home.mkdir()
    runtime.mkdir(mode=0o700)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "share"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_RUNTIME_DIR": str(runtime),
        "STUDIO_CONFIG_DIR": str(tmp_path / "studio-config"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.SecretService.Keyring",
        "PYTHON": sys.executable,
        "SCRIPT": _SECRET_SERVICE_SCRIPT,
    }
    result = subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", _SESSION],
        env=env, capture_output=True, text=True, timeout=90, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "secret-service-ok" in result.stdout
    leaked = [p for p in tmp_path.rglob("*")
              if p.is_file() and not p.is_symlink() and b"sk_car_ring" in p.read_bytes()]
    assert not leaked  # not in settings.json, and gnome-keyring's file is encrypted
