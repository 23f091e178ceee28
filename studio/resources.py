"""Locates bundled resources from a source checkout, a wheel, and a PyInstaller bundle.

The top-level ``resources/`` folder is installed as the package data of
``studio.resources`` (``pyproject.toml``: ``[tool.setuptools.package-dir]``), so
``importlib.resources`` finds it from a wheel or an editable install; PyInstaller
bundles it under ``sys._MEIPASS/resources`` (PyInstaller manual, "Run-time
information"; ``packaging/cartesia-studio.spec`` adds it).
"""

from __future__ import annotations

import sys
from importlib import resources as importlib_resources
from pathlib import Path


def resource_root() -> Path:
    """The folder holding ``styles/``, ``samples/`` and ``screenshots/``."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    checkout = Path(__file__).resolve().parent.parent / "resources"
    if checkout.is_dir():
        return checkout
    return Path(str(importlib_resources.files("studio.resources")))


def resource_path(*parts: str) -> Path:
    """Path of a resource, e.g. ``resource_path("styles", "studio.qss")``.

    Raises:
        FileNotFoundError: if the resource is not bundled, naming the path looked at.
    """
    path = resource_root().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"resource not found: {path}")
    return path
