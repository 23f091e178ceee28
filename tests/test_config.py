"""Settings: defaults, round trip, malformed files, the key's precedence."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from studio.config import Settings, load_settings, save_settings


def test_round_trip_and_private_mode(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    save_settings(Settings(api_key="k", pause_seconds=1.25, max_concurrent_jobs=5), path)
    loaded = load_settings(path)
    assert (loaded.pause_seconds, loaded.max_concurrent_jobs) == (1.25, 5)
    assert loaded.api_key == ""  # the key is saved by the key store, never in the file
    assert "api_key" not in path.read_text(encoding="utf-8")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_malformed_file_gives_defaults(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{not json")
    assert load_settings(path) == Settings()


def test_wrongly_typed_values_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"pause_seconds": "long", "max_concurrent_jobs": 4, "extra": 1}))
    loaded = load_settings(path)
    assert loaded.pause_seconds == Settings().pause_seconds
    assert loaded.max_concurrent_jobs == 4


def test_environment_key_wins_and_offline_can_be_forced() -> None:
    s = Settings(api_key="saved")
    assert s.effective_api_key({"CARTESIA_API_KEY": "env"}) == "env"
    assert s.effective_api_key({}) == "saved"
    assert s.wants_cloud({})
    assert not s.wants_cloud({"STUDIO_FORCE_OFFLINE": "1"})
    assert not Settings().wants_cloud({})
