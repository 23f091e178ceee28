"""The table of one block's takes: a model whose rows are takes, newest first, and the
view that claims Space (play) and Delete while it has focus. Used by
:class:`studio.ui.takes.takes_panel.TakesPanel`."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QTableView, QWidget

from studio.project.model import Block, Take
from studio.ui.takes.take_label import take_seconds, take_words

COLUMNS = ("★", "Name", "Created", "Duration", "Words", "Backend", "Credits", "State")
STAR, NAME, CREATED, DURATION, WORDS, BACKEND, CREDITS, STATE = range(len(COLUMNS))
TAKE_ID_ROLE = Qt.ItemDataRole.UserRole + 1

_STARRED_COLOR = QColor("#f2c46c")
_UNSTARRED_COLOR = QColor("#6c6d78")
_OUT_OF_DATE_COLOR = QColor("#f2c46c")
_SELECTED_COLOR = QColor("#9d91ff")
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_EDITABLE = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable


def newest_first(takes: Sequence[Take]) -> list[Take]:
    """``takes`` (a block's list, oldest first) by creation time, newest first; takes
    made in the same instant keep their order in the block, reversed."""
    order = sorted(range(len(takes)), key=lambda i: (takes[i].created_at, i), reverse=True)
    return [takes[i] for i in order]


def created_label(timestamp: float, now: float | None = None) -> str:
    """When a take was made, compactly: ``14:02`` today, ``Nov 21 14:02`` this year,
    else ``2025-11-21`` (local time; the tooltip gives the full time)."""
    made = datetime.fromtimestamp(timestamp)
    today = datetime.fromtimestamp(time.time() if now is None else now)
    if made.date() == today.date():
        return made.strftime("%H:%M")
    if made.year == today.year:
        return made.strftime("%b %d %H:%M")
    return made.strftime("%Y-%m-%d")


class TakeTableModel(QAbstractTableModel):
    """The takes of one block as table rows, newest first; read-only except the name,
    whose edits are only reported (the document changes through the main window).

    Updates are incremental (rows inserted and removed, cells changed), so the view
    keeps its selection and any open editor while takes come and go.

    Signals:
        rename_edited(str take_id, str name): the user finished editing a name cell with
            a non-empty name that differs from the current one (stripped of spaces).
    """

    rename_edited = Signal(str, str)

    def __init__(self, parent: QWidget | None = None,
                 is_current: Callable[[Block, Take], bool] | None = None) -> None:
        super().__init__(parent)
        #: Whether a take is up to date with its block (the document's rule, which
        #: knows the block's pronunciation dictionary; :meth:`Block.matches` alone).
        self.is_current = is_current or (lambda block, take: block.matches(take))
        self._takes: list[Take] = []
        self._selected_id: str | None = None
        self._out_of_date: set[str] = set()

    # --- filling -----------------------------------------------------------------

    def show_block(self, block: Block | None) -> None:
        """Show ``block``'s takes from scratch (``None``: no rows)."""
        self.beginResetModel()
        self._takes = newest_first(block.takes) if block is not None else []
        self._read_state(block)
        self.endResetModel()

    def sync(self, block: Block) -> None:
        """Bring the rows in line with ``block``'s takes: rows of removed takes go,
        new takes come in at their place, the rest are updated in place."""
        takes = newest_first(block.takes)
        wanted = {take.id for take in takes}
        for row in reversed(range(len(self._takes))):
            if self._takes[row].id not in wanted:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._takes[row]
                self.endRemoveRows()
        kept = [take.id for take in self._takes]
        kept_set = set(kept)
        if [take.id for take in takes if take.id in kept_set] != kept:
            self.show_block(block)  # reordered: cannot be expressed as inserts
            return
        for row, take in enumerate(takes):
            if row >= len(self._takes) or self._takes[row].id != take.id:
                self.beginInsertRows(QModelIndex(), row, row)
                self._takes.insert(row, take)
                self.endInsertRows()
        self._takes = takes
        self._read_state(block)
        if takes:
            self.dataChanged.emit(self.index(0, 0), self.index(len(takes) - 1, len(COLUMNS) - 1))

    def _read_state(self, block: Block | None) -> None:
        self._selected_id = block.selected_take_id if block is not None else None
        self._out_of_date = (
            {take.id for take in block.takes if not self.is_current(block, take)}
            if block else set()
        )

    # --- reading -----------------------------------------------------------------

    def take_at(self, row: int) -> Take:
        """The take shown in ``row``.

        Raises:
            IndexError: no such row.
        """
        return self._takes[row]

    def row_of(self, take_id: str) -> int:
        """The row showing ``take_id``, or -1."""
        for row, take in enumerate(self._takes):
            if take.id == take_id:
                return row
        return -1

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._takes)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.TextAlignmentRole and section in (DURATION, WORDS, CREDITS):
            return _RIGHT
        if role == Qt.ItemDataRole.ToolTipRole and section == STAR:
            return "Starred (click a star to toggle it)"
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if index.column() == NAME:
            return _EDITABLE
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._takes):
            return None
        take = self._takes[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return self._text(take, column)
        if role == TAKE_ID_ROLE:
            return take.id
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(take, column)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if column == STAR:
                return Qt.AlignmentFlag.AlignCenter
            if column in (DURATION, WORDS, CREDITS):
                return _RIGHT
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == STAR:
                return _STARRED_COLOR if take.starred else _UNSTARRED_COLOR
            if column == STATE and (take.damaged or take.id in self._out_of_date):
                return _OUT_OF_DATE_COLOR
            if column == STATE and take.id == self._selected_id:
                return _SELECTED_COLOR
        return None

    def _text(self, take: Take, column: int) -> str:
        if column == STAR:
            return "★" if take.starred else "☆"
        if column == NAME:
            return take.name
        if column == CREATED:
            return created_label(take.created_at)
        if column == DURATION:
            return f"{take_seconds(take):.1f} s"
        if column == WORDS:
            return str(take_words(take))
        if column == BACKEND:
            return "Offline" if take.backend == "offline" else "Cloud"
        if column == CREDITS:
            return "free" if take.credits == 0 else f"{take.credits:,}"
        if column == STATE:
            if take.damaged:
                return "Damaged: generate again"
            states = []
            if take.id == self._selected_id:
                states.append("Selected")
            if take.id in self._out_of_date:
                states.append("Out of date")
            return ", ".join(states) if len(states) < 2 else "Selected, out of date"
        return ""

    def _tooltip(self, take: Take, column: int) -> str | None:
        if column == STAR:
            return "Unstar" if take.starred else "Star this take as a keeper"
        if column == NAME:
            return f"{take.name} (double-click or F2 to rename)"
        if column == CREATED:
            return datetime.fromtimestamp(take.created_at).strftime("%Y-%m-%d %H:%M:%S")
        if column == STATE and take.damaged:
            return ("Its audio in the project file is damaged (it fails its checksum); "
                    "it is never reused. Generate makes a new take")
        if column == STATE and take.id in self._out_of_date:
            return "Made before the block's text, voice or delivery last changed"
        if column == STATE and take.id == self._selected_id:
            return "The take that plays and exports for this block"
        return None

    def setData(self, index: QModelIndex | QPersistentModelIndex, value: Any,
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        """Report a name edit as :attr:`rename_edited`; an empty or unchanged name is
        refused (returns False) and the old name stays."""
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or index.column() != NAME:
            return False
        take = self._takes[index.row()]
        name = str(value).strip()
        if not name or name == take.name:
            return False
        self.rename_edited.emit(take.id, name)
        return True


class TakeTable(QTableView):
    """The table, with Space to play and Delete to delete while it has focus.

    Both keys are claimed in ``ShortcutOverride`` so that a window-wide shortcut on the
    same key does not fire while the user works in the table.

    Signals:
        play_pressed(): Space.
        delete_pressed(): Delete.
    """

    play_pressed = Signal()
    delete_pressed = Signal()

    def _own_key(self, event: QKeyEvent) -> bool:
        return (event.modifiers() == Qt.KeyboardModifier.NoModifier
                and event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Delete)
                and self.state() != QAbstractItemView.State.EditingState)

    def event(self, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent)
                and self._own_key(event)):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self._own_key(event):
            if event.key() == Qt.Key.Key_Space:
                self.play_pressed.emit()
            else:
                self.delete_pressed.emit()
            event.accept()
            return
        super().keyPressEvent(event)


