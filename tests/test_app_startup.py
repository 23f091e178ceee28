"""What the studio says when it cannot open a window (before Qt would abort)."""

from __future__ import annotations

import os
import subprocess
import sys

from studio.app import display_problem


def test_no_display_is_explained() -> None:
    assert "DISPLAY is not set" in display_problem({})


def test_unreachable_display_is_explained(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import studio.app

    monkeypatch.setattr(studio.app.ctypes.util, "find_library",
                        lambda name: None if name == "xcb" else f"lib{name}.so")
    monkeypatch.setattr(studio.app, "_x_display_reachable", lambda display: display == ":0")
    assert "cannot connect to the X display ':97'" in display_problem({"DISPLAY": ":97"})
    assert display_problem({"DISPLAY": ":0"}) == ""


def test_missing_xcb_cursor_is_named(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import studio.app

    monkeypatch.setattr(studio.app.ctypes.util, "find_library", lambda name: None)
    assert "libxcb-cursor0" in display_problem({"DISPLAY": ":0"})


def test_other_platform_plugins_are_left_to_qt() -> None:
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}) == ""


def test_launch_without_display_exits_1_with_a_message() -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([sys.executable, "-m", "studio"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    assert "no display found" in result.stderr and "Traceback" not in result.stderr
