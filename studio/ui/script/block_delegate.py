"""Paints one block of the script as a card that reads like a document.

A card shows, top to bottom: the chapter heading when the block starts one; a header
with the block number, the speaker and the voice; the wrapped text, with the words
the block's pronunciation dictionary changes underlined; and a compact state line
(selected take and length, out of date, flagged, locked, generating or failed).

Heights are cached per block (its text, chapter and the view's width), so laying out
a 10 000-block script measures each block once, and a keystroke that keeps the
block's line count asks for no layout at all (:meth:`BlockDelegate.refresh_height`).
The inline editor (:class:`~studio.ui.script.block_editor.BlockTextEdit`) is placed
exactly over the painted text, with the same font and margins, so opening it moves
nothing.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
    QTimer,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPalette,
    QPen,
    QTextCharFormat,
    QTextLayout,
)
from PySide6.QtWidgets import QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from studio.project.model import Block
from studio.services.document import ScriptDocument
from studio.services.editor import ScriptEditor
from studio.services.voices import VoiceCatalog
from studio.ui.script.block_editor import BlockTextEdit
from studio.ui.script.pronunciation_highlight import MARK_COLOUR, UNDERLINE_COLOUR
from studio.ui.script.script_model import Role, ScriptModel, Status
from studio.ui.script.text_measure import (
    DOCUMENT_MARGIN,
    TextMeasure,
    layout_height,
    layout_text,
    text_font,
)
from studio.ui.takes.take_label import take_seconds

AnyIndex = QModelIndex | QPersistentModelIndex

#: Space around a card (px) and inside it.
GAP = 4
PAD = 8
SIDE = 8
RADIUS = 8
CHAPTER_COLOUR = QColor("#f0c674")
PLAYHEAD_COLOUR = QColor("#4cd68a")
ERROR_COLOUR = QColor("#ff7a7a")
WARNING_COLOUR = QColor("#f2c46c")
FLAG_COLOUR = QColor("#ff9f5a")


def _blend(under: QColor, over: QColor) -> QColor:
    """``over`` (with its alpha) painted on ``under``, as one opaque colour."""
    alpha = over.alphaF()
    return QColor.fromRgbF(*(u * (1 - alpha) + o * alpha for u, o in (
        (under.redF(), over.redF()), (under.greenF(), over.greenF()),
        (under.blueF(), over.blueF()))))


def _utf16_offsets(text: str) -> list[int]:
    offsets = [0]
    for char in text:
        offsets.append(offsets[-1] + (2 if ord(char) > 0xFFFF else 1))
    return offsets


class BlockDelegate(QStyledItemDelegate):
    """Paints blocks of a :class:`~studio.ui.script.script_model.ScriptModel` (through a
    filter proxy or not) in ``view`` and edits their text inline.

    Attributes:
        document: the :class:`ScriptDocument` (dictionary marks, stale takes).
        editor: the :class:`ScriptEditor` the inline editor sends text to.
        catalog: voice names.
    """

    def __init__(self, view: QListView, document: ScriptDocument, editor: ScriptEditor,
                 catalog: VoiceCatalog, model: ScriptModel) -> None:
        super().__init__(view)
        self._view = view
        self.document = document
        self.editor = editor
        self.catalog = catalog
        self.model = model
        self._voice_names: dict[str, str] = {}
        #: block id -> (text, width, starts a chapter, card height, measured exactly)
        self._heights: dict[str, tuple[str, int, bool, int, bool]] = {}
        self._corrected: set[str] = set()  # painted taller or shorter than estimated
        #: block id -> the height the view was last given (its layout has it)
        self._given: dict[str, int] = {}
        self._correct_timer = QTimer(self)
        self._correct_timer.setSingleShot(True)
        self._correct_timer.setInterval(0)
        self._correct_timer.timeout.connect(self._apply_corrections)
        #: True while the view shows the model's rows as they are (no filter): rows
        #: then need no mapping.
        self.identity = True
        self._viewport_width = view.viewport().width()
        view.viewport().installEventFilter(self)
        self.update_fonts()
        catalog.voices_changed.connect(self._on_voices_changed)
        self._on_voices_changed()

    def update_fonts(self) -> None:
        """Take the view's font (after a style change)."""
        base = self._view.font()
        self.text_font = text_font(base)
        self.measure = TextMeasure(self.text_font)
        self.header_font = QFont(base)
        self.header_font.setBold(True)
        self.chapter_font = QFont(base)
        self.chapter_font.setBold(True)
        self.chapter_font.setPointSizeF(max(base.pointSizeF(), 9.0) * 1.25)
        self.small_font = QFont(base)
        self.small_font.setPointSizeF(max(base.pointSizeF() - 1, 7.0))
        self._header_h = QFontMetrics(self.header_font).height() + 4
        self._chapter_h = QFontMetrics(self.chapter_font).height() + 8
        self._state_h = QFontMetrics(self.small_font).height() + 2
        self._heights.clear()

    def _on_voices_changed(self) -> None:
        self._voice_names = {v.id: v.name for v in self.catalog.voices}
        self._view.viewport().update()

    # --- geometry --------------------------------------------------------------------

    def _text_width(self) -> int:
        return max(self._viewport_width - 2 * SIDE - 2 * PAD, 40)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Keep the viewport's width (read for each of 10 000 size hints a layout)."""
        if event.type() == QEvent.Type.Resize and watched is self._view.viewport():
            self._viewport_width = self._view.viewport().width()
        return super().eventFilter(watched, event)

    def _chrome(self, chapter: bool) -> int:
        return (2 * GAP + 2 * PAD + self._header_h + self._state_h
                + (self._chapter_h if chapter else 0))

    def row_height(self, block: Block, exact: bool = False) -> int:
        """The height of ``block``'s card at the view's width: estimated (cached) for
        layout, or ``exact`` as painted and edited."""
        width = self._text_width()
        chapter = block.chapter is not None
        cached = self._heights.get(block.id)
        if (cached is not None and cached[1] == width and cached[2] == chapter
                and (cached[4] or not exact)
                and (cached[0] is block.text or cached[0] == block.text)):
            return cached[3]
        measure = self.measure.exact if exact else self.measure.estimate
        height = self._chrome(chapter) + measure(block.text, width)
        self._heights[block.id] = (block.text, width, chapter, height, exact)
        return height

    def refresh_height(self, index: AnyIndex) -> bool:
        """After ``index``'s block changed: ask the view for a new layout only if its
        card's height changed (a keystroke within a line costs one repaint). Returns
        whether it changed."""
        block = self._block(index)
        if block is None:
            return False
        given = self._given.get(block.id)
        if given is None:
            return False  # never laid out: the view measures it when it gets there
        if self.row_height(block, exact=True) == given:
            return False
        self.sizeHintChanged.emit(QModelIndex(index))
        return True

    def clear_heights(self) -> None:
        """Forget every cached height (another script was opened)."""
        self._heights.clear()
        self._given.clear()

    def _block(self, index: AnyIndex) -> Block | None:
        """The block of a view index (through the filter) without a data() call."""
        if self.identity:
            row = index.row()
        else:
            model = index.model()
            if model is None:
                return None
            row = model.mapToSource(index).row()  # type: ignore[attr-defined]
        ids = self.model.ids
        if not 0 <= row < len(ids):
            return None
        return self.document.block(ids[row])

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        """The card's size; the cached height of an unchanged block is read without a
        call (a layout asks this of every block)."""
        block = self._block(index)
        if block is None:
            return QSize(0, 0)
        cached = self._heights.get(block.id)
        if (cached is not None and (cached[0] is block.text or cached[0] == block.text)
                and cached[1] == max(self._viewport_width - 2 * SIDE - 2 * PAD, 40)
                and cached[2] == (block.chapter is not None)):
            height = cached[3]
        else:
            height = self.row_height(block)
        self._given[block.id] = height
        return QSize(self._viewport_width, height)

    def _correct(self, block: Block, painted: int) -> None:
        """``block`` painted at ``painted`` px of text: keep that, and re-lay out the
        view soon if the estimate was off."""
        width = self._text_width()
        chapter = block.chapter is not None
        height = self._chrome(chapter) + painted
        self._heights[block.id] = (block.text, width, chapter, height, True)
        given = self._given.get(block.id)
        if given is not None and given != height:
            self._corrected.add(block.id)
            self._correct_timer.start()

    def _apply_corrections(self) -> None:
        for block_id in self._corrected:
            row = self.model.row_of(block_id)
            if row >= 0:
                model = self._view.model()
                source = self.model.index(row, 0)
                index = model.mapFromSource(source) if model is not self.model else source  # type: ignore[attr-defined]
                if index.isValid():
                    self.sizeHintChanged.emit(index)
        self._corrected.clear()

    def card_rect(self, rect: QRect) -> QRect:
        return rect.adjusted(SIDE, GAP, -SIDE, -GAP)

    def chapter_rect(self, rect: QRect, block: Block) -> QRect:
        """Where the chapter heading is painted (empty when the block starts none)."""
        if block.chapter is None:
            return QRect()
        card = self.card_rect(rect)
        return QRect(card.left() + PAD, card.top() + PAD // 2, card.width() - 2 * PAD,
                     self._chapter_h)

    def text_rect(self, rect: QRect, block: Block) -> QRect:
        """Where the text (and the inline editor) goes in a row at ``rect``."""
        card = self.card_rect(rect)
        top = card.top() + PAD + self._header_h + (self._chapter_h if block.chapter is not None
                                                    else 0)
        return QRect(card.left() + PAD, top, card.width() - 2 * PAD, self._text_part(block))

    def _text_part(self, block: Block) -> int:
        """The height of the text in ``block``'s card (from the cached card height)."""
        return self.row_height(block) - self._chrome(block.chapter is not None)

    # --- painting --------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        block = self._block(index)
        if block is None:
            return
        palette: QPalette = option.palette  # type: ignore[attr-defined]
        rect: QRect = option.rect  # type: ignore[attr-defined]
        state = option.state  # type: ignore[attr-defined]
        selected = bool(state & QStyle.StateFlag.State_Selected)
        current = index == self._view.currentIndex()
        playing = bool(index.data(Role.PLAYING))
        painter.save()
        card = self.card_rect(rect)
        background = palette.color(QPalette.ColorRole.AlternateBase)
        if selected:
            highlight = QColor(palette.color(QPalette.ColorRole.Highlight))
            highlight.setAlpha(70)
            background = _blend(background, highlight)
        border = (palette.color(QPalette.ColorRole.Highlight).lighter(130) if current
                  else palette.color(QPalette.ColorRole.Midlight))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(border, 1))
        painter.setBrush(background)
        painter.drawRoundedRect(QRectF(card).adjusted(0.5, 0.5, -0.5, -0.5), RADIUS, RADIUS)
        if playing:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(PLAYHEAD_COLOUR)
            painter.drawRoundedRect(QRectF(card.left(), card.top() + 4, 4, card.height() - 8),
                                    2, 2)
        text_colour = palette.color(QPalette.ColorRole.Text)
        muted = palette.color(QPalette.ColorRole.PlaceholderText)
        x = card.left() + PAD
        width = card.width() - 2 * PAD
        y = card.top() + PAD // 2
        if block.chapter is not None:
            painter.setFont(self.chapter_font)
            painter.setPen(CHAPTER_COLOUR)
            heading = QRect(x, y, width, self._chapter_h - 4)
            painter.drawText(heading, Qt.AlignmentFlag.AlignVCenter,
                             QFontMetrics(self.chapter_font).elidedText(
                                 self.chapter_heading(block), Qt.TextElideMode.ElideRight,
                                 width))
            painter.setPen(palette.color(QPalette.ColorRole.Light))
            painter.drawLine(x, y + self._chapter_h - 3, x + width, y + self._chapter_h - 3)
            y += self._chapter_h
        y += PAD // 2
        self._paint_header(painter, QRect(x, y, width, self._header_h), block, index,
                           text_colour, muted, playing)
        y += self._header_h
        text_rect = QRect(x, y, width, self._text_part(block))
        editing = self._view.indexWidget(index) is not None or (
            self._view.isPersistentEditorOpen(index))
        if not editing:
            self._paint_text(painter, text_rect, block, text_colour, muted)
        y = text_rect.bottom() + 1
        self._paint_state(painter, QRect(x, y, width, self._state_h), block, index, muted)
        painter.restore()

    @staticmethod
    def chapter_heading(block: Block) -> str:
        """The heading painted above a block that starts a chapter ("" for none):
        "Chapter 1: The Storm" as it is, else "Chapter: " before the title."""
        if block.chapter is None:
            return ""
        title = block.chapter or "(untitled)"
        return title if title.lower().startswith("chapter") else f"Chapter: {title}"

    def _paint_header(self, painter: QPainter, rect: QRect, block: Block, index: AnyIndex,
                      text_colour: QColor, muted: QColor, playing: bool) -> None:
        painter.setFont(self.header_font)
        metrics = QFontMetrics(self.header_font)
        number = f"{'▶ ' if playing else ''}#{index.data(Role.NUMBER)}"
        painter.setPen(PLAYHEAD_COLOUR if playing else muted)
        painter.drawText(rect, Qt.AlignmentFlag.AlignVCenter, number)
        left = rect.left() + max(metrics.horizontalAdvance(number) + 10, 44)
        painter.setPen(text_colour)
        speaker = metrics.elidedText(block.speaker, Qt.TextElideMode.ElideRight, rect.width() // 3)
        painter.drawText(QRect(left, rect.top(), rect.right() - left, rect.height()),
                         Qt.AlignmentFlag.AlignVCenter, speaker)
        left += metrics.horizontalAdvance(speaker) + 8
        painter.setFont(self.small_font)
        small = QFontMetrics(self.small_font)
        voice = (self._voice_names.get(block.voice_id) or self.catalog.name_of(block.voice_id)
                 if block.voice_id else "no voice")
        painter.setPen(ERROR_COLOUR if not block.voice_id else muted)
        detail = f"{voice} · {block.model_id} · {block.language}"
        if block.emotion:
            detail += f" · {block.emotion}"
        if block.speed != 1.0 or block.volume != 1.0:
            detail += f" · ×{block.speed:g} speed · ×{block.volume:g} volume"
        painter.drawText(QRect(left, rect.top(), rect.right() - left, rect.height()),
                         Qt.AlignmentFlag.AlignVCenter,
                         small.elidedText(detail, Qt.TextElideMode.ElideRight,
                                          max(rect.right() - left, 0)))

    def _paint_text(self, painter: QPainter, rect: QRect, block: Block, colour: QColor,
                    muted: QColor) -> None:
        painter.setFont(self.text_font)
        if not block.text:
            painter.setPen(muted)
            painter.drawText(rect.adjusted(DOCUMENT_MARGIN, DOCUMENT_MARGIN, 0, 0),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                             "Empty block: click to type")
            return
        matcher = self.document.dictionary_use(block).matcher
        found = matcher.find(block.text) if matcher is not None else []
        ranges = []
        if found:
            offsets = _utf16_offsets(block.text)
            mark = QTextCharFormat()
            mark.setBackground(MARK_COLOUR)
            mark.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DotLine)
            mark.setUnderlineColor(UNDERLINE_COLOUR)
            for match in found:
                piece = QTextLayout.FormatRange()
                piece.start = offsets[match.start]
                piece.length = offsets[match.end] - offsets[match.start]
                piece.format = mark
                ranges.append(piece)
        layout = layout_text(block.text, self.text_font, rect.width() - 2 * DOCUMENT_MARGIN,
                             ranges)
        painted = layout_height(layout)
        if painted != rect.height():
            self._correct(block, painted)
        painter.setPen(colour)
        layout.draw(painter, QPointF(rect.left() + DOCUMENT_MARGIN, rect.top() + DOCUMENT_MARGIN))

    def state_parts(self, block: Block, index: AnyIndex) -> list[tuple[str, QColor | None]]:
        """The pieces of the state line with their colours (``None``: muted)."""
        parts: list[tuple[str, QColor | None]] = []
        status = index.data(Role.STATUS)
        take = block.selected_take
        if take is not None:
            parts.append((f"{take.name} · {take_seconds(take):.1f} s", None))
            if not self.document.is_current(block, take):
                parts.append(("out of date", WARNING_COLOUR))
        elif block.text.strip():
            parts.append(("no take", None))
        if block.flag is not None:
            parts.append((f"⚑ flagged{': ' + block.flag if block.flag else ''}", FLAG_COLOUR))
        if block.locked:
            parts.append(("locked", None))
        if isinstance(status, Status) and status.text:
            colour = (ERROR_COLOUR if status.error else WARNING_COLOUR if status.warning
                      else None)
            parts.append((status.text, colour))
        return parts

    def _paint_state(self, painter: QPainter, rect: QRect, block: Block, index: AnyIndex,
                     muted: QColor) -> None:
        painter.setFont(self.small_font)
        metrics = QFontMetrics(self.small_font)
        left = rect.left() + DOCUMENT_MARGIN
        for number, (text, colour) in enumerate(self.state_parts(block, index)):
            piece = (" · " if number else "") + text
            room = rect.right() - left
            if room <= 0:
                break
            painter.setPen(colour or muted)
            shown = metrics.elidedText(piece, Qt.TextElideMode.ElideRight, room)
            painter.drawText(QRect(left, rect.top(), room, rect.height()),
                             Qt.AlignmentFlag.AlignVCenter, shown)
            left += metrics.horizontalAdvance(shown)

    # --- the inline editor -------------------------------------------------------------

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,
                     index: AnyIndex) -> QWidget:
        block_id = str(index.data(Role.BLOCK_ID))
        edit = BlockTextEdit(self.document, self.editor, block_id, parent)
        edit.setFont(self.text_font)
        return edit

    def setEditorData(self, editor: QWidget, index: AnyIndex) -> None:
        if isinstance(editor, BlockTextEdit):
            editor.refresh()

    def setModelData(self, editor: QWidget, model: object, index: AnyIndex) -> None:
        """Nothing to do: the inline editor sends each edit to the ScriptEditor."""

    def updateEditorGeometry(self, editor: QWidget, option: QStyleOptionViewItem,
                             index: AnyIndex) -> None:
        block = self._block(index)
        if block is not None:
            editor.setGeometry(self.text_rect(option.rect, block))  # type: ignore[attr-defined]
