"""The studio's look: Qt's Fusion style with a dark palette, plus a small style
sheet for the studio's own widgets (``resources/styles/studio.qss``).

Standard widgets (spin boxes, combo box pop-ups, scroll bars, menus) are drawn by
Fusion from the palette, so they stay legible and keep their arrows; the style sheet
only touches object names the studio defines (Qt docs, "Qt Style Sheets": a sheet
that styles a complex widget must style all of its sub-controls).
"""

from __future__ import annotations

import logging

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from studio.locator import resource_path

log = logging.getLogger(__name__)

_COLORS: dict[QPalette.ColorRole, str] = {
    QPalette.ColorRole.Window: "#1e1f24",
    QPalette.ColorRole.WindowText: "#e6e6ea",
    QPalette.ColorRole.Base: "#18191d",
    QPalette.ColorRole.AlternateBase: "#24252c",
    QPalette.ColorRole.ToolTipBase: "#2b2c36",
    QPalette.ColorRole.ToolTipText: "#e6e6ea",
    QPalette.ColorRole.PlaceholderText: "#7d7e8c",
    QPalette.ColorRole.Text: "#e6e6ea",
    QPalette.ColorRole.Button: "#2d2e37",
    QPalette.ColorRole.ButtonText: "#e6e6ea",
    QPalette.ColorRole.BrightText: "#ff7a7a",
    QPalette.ColorRole.Highlight: "#5a4fd0",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#9d91ff",
    QPalette.ColorRole.Light: "#3a3b46",
    QPalette.ColorRole.Midlight: "#33343d",
    QPalette.ColorRole.Mid: "#2a2b33",
    QPalette.ColorRole.Dark: "#141518",
    QPalette.ColorRole.Shadow: "#0c0c0e",
}
_DISABLED: dict[QPalette.ColorRole, str] = {
    QPalette.ColorRole.WindowText: "#6c6d78",
    QPalette.ColorRole.Text: "#6c6d78",
    QPalette.ColorRole.ButtonText: "#6c6d78",
}


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, color in _COLORS.items():
        palette.setColor(role, QColor(color))
    for role, color in _DISABLED.items():
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(color))
    return palette


def apply_theme(app: QApplication) -> None:
    """Fusion, the dark palette and the studio's style sheet (a missing sheet is logged)."""
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    try:
        app.setStyleSheet(resource_path("styles", "studio.qss").read_text(encoding="utf-8"))
    except OSError as exc:
        log.warning("style sheet not loaded: %s", exc)
