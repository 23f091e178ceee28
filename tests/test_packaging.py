"""The wheel carries every package and the resources folder."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "studio").rglob("__init__.py")
    }
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    assert config["tool"]["setuptools"]["package-dir"]["studio.resources"] == "resources"


def test_resources_are_found() -> None:
    from studio.locator import resource_path

    assert resource_path("styles", "studio.qss").read_text(encoding="utf-8").strip()
    assert resource_path("samples", "welcome-script.txt").stat().st_size > 0
