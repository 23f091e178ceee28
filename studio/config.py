"""Settings and the API key.

Settings live as JSON in the platformdirs user config folder
(``platformdirs.user_config_dir("cartesia-studio")``). The API key comes from the
``CARTESIA_API_KEY`` environment variable first, then from the OS keyring
(:class:`studio.keystore.KeyStore`, or its labelled 0600 fallback file); it is never
written to the settings file, and a key an older studio left there is moved to the
keyring on the first load (issue 14).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs

from studio.api.models import DEFAULT_MODEL
from studio.keystore import KeyStore, KeyStoreError

log = logging.getLogger(__name__)

APP_NAME = "cartesia-studio"
CLOUD_BASE_URL = "https://api.cartesia.ai"
CLOUD_WEBSOCKET_BASE_URL = "wss://api.cartesia.ai"
DEFAULT_CARTESIA_VERSION = "2025-11-04"


def config_dir() -> Path:
    """Folder of ``settings.json`` (``STUDIO_CONFIG_DIR`` overrides, for tests)."""
    override = os.environ.get("STUDIO_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir(APP_NAME))


def data_dir() -> Path:
    """Folder for the offline engine's data and caches (``STUDIO_DATA_DIR`` overrides)."""
    override = os.environ.get("STUDIO_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME))


@dataclass(slots=True)
class Settings:
    """User settings. Units: ``pause_seconds`` in seconds, ``sample_rate`` in Hz.

    Attributes:
        api_key: Cartesia API key saved from the settings dialog ("" for none). Held
            in memory; kept in the OS keyring, never in ``settings.json``.
        base_url: HTTP base URL of Cartesia's cloud API.
        websocket_base_url: WebSocket base URL of Cartesia's cloud API.
        cartesia_version: the ``Cartesia-Version`` header sent with every request.
        use_offline: use the offline engine even when a key is configured.
        default_voice_id: voice given to new blocks ("" picks the first voice listed).
        default_model: model id given to new blocks.
        max_concurrent_jobs: TTS requests in flight at once ("Concurrent requests"):
            the account plan's concurrency limit (Cartesia's plans allow 2, 3, 5 or
            15; more are refused with 429). Default 2, the smallest plan's, so no
            account is rate limited by the studio's own concurrency out of the box.
        pause_seconds: silence between blocks on export.
        sample_rate: project sample rate; takes are generated at this rate.
        play_while_generating: stream a block's audio to the speakers as it arrives.
        output_device: sounddevice output device name ("" for the default).
        output_buffer_ms: output latency asked of PortAudio, ms (0: its low default);
            raise it when playback stutters on a loaded machine.
        credit_confirm_threshold: ask before a generation estimated above this many
            credits (0 asks before every paid generation).
        last_project: the project open when the studio last closed ("" for none);
            it opens again on start.
        recent_projects: paths of recently opened projects, newest first.
        starred_voices: ids of the voices the user starred in the Voices panel.
        input_device: sounddevice input device name for recording ("" for the default).
        pending_fine_tunes: ids of the professional-clone fine-tunes started and not yet
            finished; polling resumes for them when the studio starts again.
        pro_clone_voices: ids of the voices made by fine-tunes (shown as "Pro clone").
    """

    api_key: str = ""
    base_url: str = CLOUD_BASE_URL
    websocket_base_url: str = CLOUD_WEBSOCKET_BASE_URL
    cartesia_version: str = DEFAULT_CARTESIA_VERSION
    use_offline: bool = False
    default_voice_id: str = ""
    default_model: str = DEFAULT_MODEL
    max_concurrent_jobs: int = 2
    pause_seconds: float = 0.5
    sample_rate: int = 44100
    play_while_generating: bool = True
    output_device: str = ""
    output_buffer_ms: int = 0
    credit_confirm_threshold: int = 1000
    last_project: str = ""
    recent_projects: list[str] = field(default_factory=list)
    starred_voices: list[str] = field(default_factory=list)
    input_device: str = ""
    pending_fine_tunes: list[str] = field(default_factory=list)
    pro_clone_voices: list[str] = field(default_factory=list)

    def remember_project(self, path: str, limit: int = 10) -> None:
        """Put ``path`` first in :attr:`recent_projects` (at most ``limit`` kept)."""
        self.recent_projects = [path, *[p for p in self.recent_projects if p != path][:limit - 1]]

    def effective_api_key(self, environ: Mapping[str, str] | None = None) -> str:
        """The key in use: ``CARTESIA_API_KEY`` if set, else the saved one, else ""."""
        env = os.environ if environ is None else environ
        return (env.get("CARTESIA_API_KEY") or "").strip() or self.api_key.strip()

    def wants_cloud(self, environ: Mapping[str, str] | None = None) -> bool:
        """True when a key is configured and offline mode is not forced (by the
        setting or by ``STUDIO_FORCE_OFFLINE=1``, which ``--offline`` sets)."""
        env = os.environ if environ is None else environ
        if self.use_offline or env.get("STUDIO_FORCE_OFFLINE") == "1":
            return False
        return bool(self.effective_api_key(env))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Settings:
        """Settings from a dict, ignoring unknown keys and wrongly typed values."""
        defaults = cls()
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in data:
                value = data[f.name]
                default = getattr(defaults, f.name)
                if isinstance(default, float) and isinstance(value, int):
                    value = float(value)
                if isinstance(default, list):
                    if isinstance(value, list) and all(isinstance(v, str) for v in value):
                        kwargs[f.name] = value
                    else:
                        log.warning("settings: ignoring %s (not a list of strings)", f.name)
                elif type(value) is type(default):
                    kwargs[f.name] = value
                else:
                    log.warning("settings: ignoring %s of type %s", f.name, type(value).__name__)
        return cls(**kwargs)


def _is_loopback(host: str) -> bool:
    host = host.lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def insecure_url_error(url: str, secure_scheme: str, plain_scheme: str, what: str) -> str:
    """Why ``url`` may not carry the API key, or "" when it may.

    ``https://``/``wss://`` always may; ``http://``/``ws://`` only to a loopback host
    (the offline engine, a local proxy), so the key never crosses a network in clear.
    """
    parts = urlsplit(url)
    if parts.scheme == secure_scheme and parts.hostname:
        return ""
    if parts.scheme == plain_scheme and parts.hostname:
        if _is_loopback(parts.hostname):
            return ""
        return (f"The {what} must start with {secure_scheme}:// so the API key is "
                f"encrypted ({plain_scheme}:// is only allowed to this computer)")
    return f"The {what} must start with {secure_scheme}://"


def cloud_url_error(settings: Settings) -> str:
    """The first reason the cloud URLs of ``settings`` may not be used, or ""."""
    return (insecure_url_error(settings.base_url, "https", "http", "API base URL")
            or insecure_url_error(settings.websocket_base_url, "wss", "ws",
                                  "WebSocket base URL"))


def settings_path() -> Path:
    return config_dir() / "settings.json"


def load_settings(path: Path | None = None, key_store: KeyStore | None = None) -> Settings:
    """Read settings and the saved API key; a missing or malformed file gives defaults
    (logged, never raised).

    A key found in the file (written by a studio before issue 14) is moved to
    ``key_store`` (default: the OS keyring, see :mod:`studio.keystore`) and the file is
    rewritten without it. If the key cannot be stored, the file is left as it was.
    """
    path = path or settings_path()
    key_store = key_store or KeyStore(path.parent)
    settings = Settings()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        data = {}
    except (OSError, ValueError) as exc:
        log.warning("settings file %s unreadable (%s); using defaults", path, exc)
        data = {}
    if isinstance(data, dict):
        settings = Settings.from_json(data)
    legacy_key = settings.api_key
    if isinstance(data, dict) and "api_key" in data and not _migrate_key(
            settings, path, key_store):
        return settings  # still in the file: use it from there this time
    settings.api_key = key_store.get() or legacy_key
    return settings


def _migrate_key(settings: Settings, path: Path, key_store: KeyStore) -> bool:
    """Move the key in ``settings.json`` to ``key_store`` and scrub the file; False
    (logged) if either step failed."""
    try:
        if settings.api_key.strip():
            key_store.set(settings.api_key)
        save_settings(settings, path)
    except (KeyStoreError, OSError) as exc:
        log.error("could not move the API key out of %s: %s", path, exc)
        return False
    log.info("moved the API key from %s to %s", path, key_store.location)
    return True


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write settings atomically (temp file + ``os.replace``), mode 0600, without the
    API key (save it with :meth:`studio.keystore.KeyStore.set`).

    Raises:
        OSError: if the folder cannot be created or written (disk full, read-only).
    """
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".json", dir=path.parent)
    try:
        data = asdict(settings)
        del data["api_key"]  # kept in the keyring (studio.keystore), never in the file
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
