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
    """Highlights dictionary matches in a :class:`QTextDocument`, one paragraph at a time
    (a block's text is one paragraph; a sentence start is judged within a paragraph)."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self._matcher: Matcher | None = None
        self._format = QTextCharFormat()
        self._format.setBackground(MARK_COLOUR)
        self._format.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DotLine)
        self._format.setUnderlineColor(UNDERLINE_COLOUR)

    @property
    def matcher(self) -> Matcher | None:
        return self._matcher

    def set_matcher(self, matcher: Matcher | None) -> None:
        """Highlight ``matcher``'s entries (``None``: nothing); redraws only on a change."""
        if matcher is not self._matcher:
            self._matcher = matcher
            self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        if not self._matcher:
            return
        offsets: list[int] | None = None
        for match in self._matcher.find(text):
            if offsets is None:
                offsets = _utf16_offsets(text)
            start = offsets[match.start]
            self.setFormat(start, offsets[match.end] - start, self._format)

    def entry_at(self, text: str, position: int) -> LexiconItem | None:
        """The entry that applies at character ``position`` of paragraph ``text``."""
        if self._matcher is None:
            return None
        for match in self._matcher.find(text):
            if match.start <= position < match.end:
                return self._matcher.items[match.index]
        return None


def describe(item: LexiconItem) -> str:
    """The tooltip of a marked word: what it becomes."""
    kind = "IPA" if is_ipa_alias(item.alias) else "said as"
    return f"{item.text} → {item.alias} ({kind}, from the pronunciation dictionary)"


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
        cursor = self._edit.cursorForPosition(event.pos())
        paragraph = cursor.block().text()
        # positionInBlock counts UTF-16 units; map back to a character index.
        offsets = _utf16_offsets(paragraph)
        unit = cursor.positionInBlock()
        index = next((i for i, o in enumerate(offsets) if o >= unit), len(paragraph))
        item = self._highlighter.entry_at(paragraph, index)
        if item is None:
            QToolTip.hideText()
            return False
        QToolTip.showText(event.globalPos(), describe(item), self._edit)
        return True
