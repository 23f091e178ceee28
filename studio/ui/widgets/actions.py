"""Making QActions the same way everywhere in the studio's windows and panels."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence


def make_action(
    parent: QObject,
    text: str,
    slot: Callable[[], object],
    shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
    tip: str = "",
) -> QAction:
    """A QAction labelled ``text`` that calls ``slot()`` (without Qt's ``checked``
    argument). Its tooltip is ``tip`` (default: ``text``), followed by the shortcut in
    brackets when there is one."""
    action = QAction(text, parent)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    described = tip or text
    action.setToolTip(f"{described} ({action.shortcut().toString()})" if shortcut else described)
    action.triggered.connect(lambda _checked=False: slot())
    return action
