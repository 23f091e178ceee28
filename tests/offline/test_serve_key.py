"""Where ``serve-local`` takes its key from, and what it warns about
(:func:`studio.cli.serve.engine_key`)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from studio.cli.serve import KEY_ENV, add_serve_parser, engine_key


def test_the_key_file_is_read_without_a_warning_at_0600(tmp_path: Path) -> None:
    path = tmp_path / "engine.key"
    path.write_text("s3cret\n", encoding="utf-8")
    path.chmod(0o600)
    key = engine_key(None, path, {KEY_ENV: "from-env"})
    assert key.key == "s3cret" and key.warnings == ()
    assert "s3cret" not in key.source


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_a_key_file_others_can_read_is_warned_about(tmp_path: Path) -> None:
    path = tmp_path / "engine.key"
    path.write_text("s3cret", encoding="utf-8")
    path.chmod(0o644)
    key = engine_key(None, path, {})
    assert key.key == "s3cret"
    assert len(key.warnings) == 1 and "0644" in key.warnings[0]


def test_an_empty_or_missing_key_file_is_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.key"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(ValueError, match="empty"):
        engine_key(None, empty, {})
    with pytest.raises(ValueError, match="cannot read"):
        engine_key(None, tmp_path / "missing.key", {})


def test_the_key_comes_from_the_environment() -> None:
    key = engine_key(None, None, {KEY_ENV: " from-env \n"})
    assert key.key == "from-env" and key.warnings == () and KEY_ENV in key.source


def test_a_key_on_the_command_line_warns_that_ps_shows_it() -> None:
    key = engine_key("k123", None, {KEY_ENV: "from-env"})
    assert key.key == "k123"
    assert len(key.warnings) == 1 and "other users" in key.warnings[0]


def test_without_a_key_one_is_made_up() -> None:
    first, second = engine_key(None, None, {}), engine_key(None, None, {})
    assert first.source == "random" and len(first.key) >= 24 and first.key != second.key


def test_the_key_options_exclude_each_other(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    add_serve_parser(parser.add_subparsers())
    args = parser.parse_args(["serve-local", "--allow-origin", "http://localhost:3000",
                              "--allow-origin", "http://localhost:5173"])
    assert args.allow_origin == ["http://localhost:3000", "http://localhost:5173"]
    with pytest.raises(SystemExit):
        parser.parse_args(["serve-local", "--api-key", "k", "--api-key-file", str(tmp_path)])
