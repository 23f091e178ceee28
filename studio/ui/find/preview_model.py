"""The Find and Replace preview: one row per change, painted with the change marked."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QAbstractTextDocumentLayout, QPainter, QPalette, QTextDocument
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from studio.project.find_replace import Match

BLOCK, CHANGE = range(2)

#: Item role holding the change as HTML (the found text struck out, the
#: replacement in bold).
HTML_ROLE = Qt.ItemDataRole.UserRole + 1

_Index = QModelIndex | QPersistentModelIndex


class PreviewModel(QAbstractTableModel):
    """The matches of a search (:class:`~studio.project.find_replace.Match`), at most
    the search's preview limit, as a two-column table: block number, and the change
    in its context ("…before [found → replacement] after…")."""

    def __init__(self) -> None:
        super().__init__()
        self._matches: list[Match] = []

    def set_matches(self, matches: list[Match]) -> None:
        self.beginResetModel()
        self._matches = matches
        self.endResetModel()

    def match_at(self, row: int) -> Match:
        """The match shown in ``row``."""
        return self._matches[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._matches)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 2

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return ("Block", "Change")[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        found = self._matches[index.row()]
        if index.column() == BLOCK:
            if role == Qt.ItemDataRole.DisplayRole:
                return f"#{found.number}" + (" 🔒" if found.locked else "")
            if role == Qt.ItemDataRole.ToolTipRole and found.locked:
                return "Locked: Replace all leaves this block alone"
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{found.before}[{found.found} → {found.replacement}]{found.after}"
        if role == HTML_ROLE:
            return (f"{html.escape(found.before)}"
                    f"<s style='color:#c0392b'>{html.escape(found.found)}</s>"
                    f"<b style='color:#27ae60'>{html.escape(found.replacement)}</b>"
                    f"{html.escape(found.after)}")
        return None


class ChangeDelegate(QStyledItemDelegate):
    """Paints a row's :data:`HTML_ROLE` on one line (elided by the column's width)."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        markup = index.data(HTML_ROLE)
        if markup is None:
            super().paint(painter, option, index)
            return
        self.initStyleOption(option, index)
        option.text = ""
        widget: QWidget | None = option.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, widget)
        document = QTextDocument()
        document.setDefaultFont(option.font)
        document.setDocumentMargin(2)
        document.setHtml(f"<span style='white-space:pre'>{markup}</span>")
        rect = option.rect
        painter.save()
        painter.translate(rect.topLeft())
        painter.setClipRect(0, 0, rect.width(), rect.height())
        context = QAbstractTextDocumentLayout.PaintContext()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        context.palette.setColor(QPalette.ColorRole.Text,
                                 option.palette.color(role))
        document.documentLayout().draw(painter, context)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        hint = super().sizeHint(option, index)
        return QSize(hint.width(), max(hint.height(), option.fontMetrics.height() + 6))
