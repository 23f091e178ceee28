"""Marks the words of a block's text that its pronunciation dictionary will change.

The matches come from :class:`studio.project.pronounce.Matcher` (Cartesia's rule), the
same code that decides which takes are out of date and what the offline engine says,
so what is marked is what is changed. Hovering a marked word shows its entry.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QColor, QHelpEvent, QSyntaxHighlighter, QTextCharFormat, QTextDocument
from PySide6.QtWidgets import QPlainTextEdit, QToolTip

from studio.project.lexicon import LexiconItem, is_ipa_alias
from studio.project.pronounce import Matcher

#: The mark: a tint behind the word and a dotted underline, readable on both themes.
MARK_COLOUR = QColor(64, 160, 255, 60)
UNDERLINE_COLOUR = QColor(64, 160, 255)


def _utf16_offsets(text: str) -> list[int]:
    """UTF-16 offset of each character of ``text`` (Qt counts in UTF-16 code units),
    plus one for the end."""
    offsets = [0]
    for char in text:
        offsets.append(offsets[-1] + (2 if ord(char) > 0xFFFF else 1))
    return offsets


class PronunciationHighlighter(QSyntaxHighlighter):
    """Highlights dictionary matches in a :class:`QTextDocument`. The whole text is
    matched at once (as it is sent: a line break is white space, not a sentence end)
    and each paragraph shows its share."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self._matcher: Matcher | None = None
        self._format = QTextCharFormat()
        self._format.setBackground(MARK_COLOUR)
        self._format.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DotLine)
        self._format.setUnderlineColor(UNDERLINE_COLOUR)
        self._text: str | None = None  # the text _spans were found in
        #: The name of the dictionary the marks come from, for tooltips.
        self.dictionary_name = ""
        self._spans: list[tuple[int, int, int]] = []  # UTF-16 start, end, entry index

    @property
    def matcher(self) -> Matcher | None:
        return self._matcher

    def set_matcher(self, matcher: Matcher | None, redraw: bool = True) -> None:
        """Highlight ``matcher``'s entries (``None``: nothing). With ``redraw`` False
        the marks are kept as they are (the caller knows they would not change)."""
        if matcher is not self._matcher:
            self._matcher = matcher
            self._text = None
            if redraw:
                self.rehighlight()

    def _matches(self) -> list[tuple[int, int, int]]:
        """The matches in the whole document, in UTF-16 offsets (Qt's positions)."""
        text = self.document().toPlainText()
        if text != self._text:
            self._text = text
            found = self._matcher.find(text) if self._matcher else []
            offsets = _utf16_offsets(text) if found else []
            self._spans = [(offsets[m.start], offsets[m.end], m.index) for m in found]
        return self._spans

    def highlightBlock(self, text: str) -> None:
        if not self._matcher:
            return
        first = self.currentBlock().position()
        last = first + len(text.encode("utf-16-le")) // 2
        for start, end, _index in self._matches():
            start, end = max(start, first), min(end, last)
            if start < end:
                self.setFormat(start - first, end - start, self._format)

    def entry_at(self, position: int) -> LexiconItem | None:
        """The entry that applies at document ``position`` (UTF-16, as QTextCursor)."""
        if self._matcher is None:
            return None
        for start, end, index in self._matches():
            if start <= position < end:
                return self._matcher.items[index]
        return None


def describe(item: LexiconItem, dictionary: str = "") -> str:
    """The tooltip of a marked word: what it becomes, and from which dictionary."""
    kind = "IPA" if is_ipa_alias(item.alias) else "said as"
    source = f"“{dictionary}”" if dictionary else "the pronunciation dictionary"
    return f"{item.text} → {item.alias} ({kind}, from {source})"


class EntryToolTips(QObject):
    """Shows the dictionary entry of the word under the mouse in ``edit``.

    Installed as an event filter on the edit's viewport (where tooltip events arrive).
    """

    def __init__(self, edit: QPlainTextEdit, highlighter: PronunciationHighlighter) -> None:
        super().__init__(edit)
        self._edit = edit
        self._highlighter = highlighter
        edit.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.ToolTip or not isinstance(event, QHelpEvent):
            return False
        item = self._highlighter.entry_at(self._edit.cursorForPosition(event.pos()).position())
        if item is None:
            QToolTip.hideText()
            return False
        QToolTip.showText(event.globalPos(), describe(item, self._highlighter.dictionary_name),
                          self._edit)
        return True
