"""Locates bundled resources from a source checkout, a wheel, and a PyInstaller bundle.

From a checkout (or an editable install) the files are in the top-level
``resources/`` folder. A wheel installs that folder as ``studio/resources``
(``pyproject.toml``: ``[tool.setuptools.package-dir]``). PyInstaller bundles it under
``sys._MEIPASS/resources`` (PyInstaller manual, "Run-time information";
``packaging/cartesia-studio.spec`` adds it).
"""

from __future__ import annotations

import sys
from pathlib import Path


def resource_root() -> Path:
    """The folder holding ``styles/``, ``samples/`` and ``screenshots/``."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    package = Path(__file__).resolve().parent
    checkout = package.parent / "resources"
    return checkout if checkout.is_dir() else package / "resources"


def resource_path(*parts: str) -> Path:
    """Path of a resource, e.g. ``resource_path("styles", "studio.qss")``.

    Raises:
        FileNotFoundError: if the resource is not bundled, naming the path looked at.
    """
    path = resource_root().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"resource not found: {path}")
    return path
