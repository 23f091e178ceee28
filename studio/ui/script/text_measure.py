"""How tall a block's text is at a width: estimated fast for layout, exactly for what
is painted or edited.

Laying out 10 000 blocks exactly means shaping all their text (about 0.15 ms a block
here: 1.5 s). The estimate instead wraps words greedily with their widths cached per
word, which is what Qt's word wrap does for text broken at spaces; a block whose
painted lines differ (hyphens, very long words, fallback fonts) is corrected when it
is first painted (:meth:`~studio.ui.script.block_delegate.BlockDelegate.paint`).
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from operator import add

from PySide6.QtCore import QPointF
from PySide6.QtGui import QFont, QFontMetricsF, QTextLayout, QTextOption

#: The margin around text in the inline editor and where it is painted (px).
DOCUMENT_MARGIN = 4
#: Words whose widths are kept (a novel has fewer distinct words than this).
WORD_CACHE_LIMIT = 200_000


def text_font(base: QFont) -> QFont:
    """The font of block text, painted and edited: ``base`` at 11 pt."""
    font = QFont(base)
    font.setPointSizeF(11)
    return font


def layout_text(text: str, font: QFont, width: float,
                formats: Sequence[QTextLayout.FormatRange] = ()) -> QTextLayout:
    """``text`` laid out in lines of ``width`` px as a plain text edit wraps it (at word
    boundaries, else anywhere; a line break starts a line), with ``formats`` (ranges in
    UTF-16 code units) applied. Formats must be set before the layout is made: set on a
    laid-out QTextLayout they discard its lines, and it then draws nothing."""
    layout = QTextLayout(text.replace("\n", "\u2028"), font)
    if formats:
        layout.setFormats(list(formats))
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(option)
    layout.beginLayout()
    y = 0.0
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(max(width, 1.0))
        line.setPosition(QPointF(0, y))
        y += line.height()
    layout.endLayout()
    return layout


def layout_height(layout: QTextLayout) -> int:
    """The height of a laid-out text with the editor's margins, in px."""
    lines = layout.lineCount()
    bottom = layout.lineAt(lines - 1).rect().bottom() if lines else 0.0
    return math.ceil(bottom) + 2 * DOCUMENT_MARGIN


class TextMeasure:
    """Text heights in one font.

    Attributes:
        font: the font measured.
        line_height: one line, in px.
    """

    def __init__(self, font: QFont) -> None:
        self.font = font
        self._metrics = QFontMetricsF(font)
        self._space = self._metrics.horizontalAdvance(" ")
        sample = layout_text("X", font, 1000)
        self.line_height = sample.lineAt(0).height()
        self._widths: dict[str, float] = {}
        self._gaps: list[float] = []  # k spaces, for k words

    def exact(self, text: str, width: int) -> int:
        """The height of ``text`` wrapped at ``width`` px (margins included), as the
        inline editor shows it."""
        return layout_height(layout_text(text or " ", self.font, width - 2 * DOCUMENT_MARGIN))

    def estimate(self, text: str, width: int) -> int:
        """The height of ``text`` at ``width`` px by greedy word wrap over cached word
        widths: equal to :meth:`exact` for text broken at spaces. Each line is found
        by bisecting the running widths, so the cost is in C but for one step a line."""
        room = max(width - 2 * DOCUMENT_MARGIN, 1)
        widths = self._widths
        if len(widths) > WORD_CACHE_LIMIT:
            widths.clear()
        lines = 0
        for line in text.split("\n"):
            paragraph = line.rstrip(" ")  # spaces at a line's end hang in the margin
            gaps = None
            if _BREAKS.search(paragraph):  # hyphens and dashes break lines too
                words, gaps = _pieces(paragraph, self._space)
            else:
                words = paragraph.split(" ")
            found = list(map(widths.get, words))
            if None in found:
                advance = self._metrics.horizontalAdvance
                for i, w in enumerate(found):
                    if w is None:
                        found[i] = widths[words[i]] = advance(words[i])
            lines += self._wrap(found, gaps, room)  # type: ignore[arg-type]
        return math.ceil(lines * self.line_height) + 2 * DOCUMENT_MARGIN

    def _wrap(self, found: list[float], gaps: list[float] | None, room: float) -> int:
        """Lines of pieces of widths ``found``, each followed by a space (or by
        ``gaps[k]`` px: 0 after a hyphen)."""
        count = len(found)
        space = self._space
        if gaps is None:
            if len(self._gaps) <= count:
                self._gaps = [k * space for k in range(2 * count + 64)]
            # ends[k]: where piece k starts; pieces i..j-1 are ends[j] - ends[i] - space
            # wide (the space after the last one does not count).
            ends = list(map(add, accumulate(found, initial=0.0), self._gaps))
            after = None
        else:
            ends = list(accumulate(map(add, found, gaps), initial=0.0))
            after = gaps
        lines = 0
        i = 0
        while i < count:
            j = bisect_right(ends, ends[i] + space + room, i + 1) - 1
            if after is not None:
                while j > i and ends[j] - ends[i] - after[j - 1] > room:
                    j -= 1
            if j <= i:  # a word wider than the line: Qt breaks it anywhere
                lines += int(found[i] // room)
                j = i + 1
            lines += 1
            i = j
        return max(lines, 1)


_BREAKS = re.compile(r"[-–—]")
_SPLIT = re.compile("([ \x01])")


def _pieces(paragraph: str, space: float) -> tuple[list[str], list[float]]:
    """``paragraph`` cut at spaces and after hyphens and dashes, with the gap after
    each piece: a space, or none inside a word."""
    marked = paragraph.replace("-", "-\x01").replace("–", "–\x01").replace("—", "—\x01")
    parts = _SPLIT.split(marked)
    gaps = [space if gap == " " else 0.0 for gap in parts[1::2]]
    gaps.append(space)
    return parts[0::2], gaps
