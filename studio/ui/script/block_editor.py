"""The inline editor of the block being edited: a frameless text box laid over the
block's painted text in the script view (only one exists at a time)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QTextCursor
from PySide6.QtWidgets import QFrame, QPlainTextEdit, QWidget

from studio.project.model import BlockLocked
from studio.services.document import ScriptDocument
from studio.services.editor import ScriptEditor
from studio.ui.script.pronunciation_highlight import EntryToolTips, PronunciationHighlighter
from studio.ui.script.text_measure import DOCUMENT_MARGIN

PLACEHOLDER = (
    "Type or paste this part of your script, then press Generate (Ctrl+G). "
    'Tags work too: <break time="1s"/>, <emotion value="excited"/>, <spell>API</spell>. '
    "Paste a whole script with Ctrl+Shift+V to make one block per paragraph."
)


def utf16_length(text: str) -> int:
    """Length of ``text`` in UTF-16 code units: how Qt counts text positions."""
    return len(text.encode("utf-16-le")) // 2


def is_undo_key(event: QKeyEvent) -> bool:
    return (event.matches(QKeySequence.StandardKey.Undo)
            or event.matches(QKeySequence.StandardKey.Redo))


class UndoKeysToWindow(QObject):
    """Leaves Undo and Redo keys to the window's Edit menu: text and spin boxes claim
    them for their own history otherwise. Install on each such widget."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent)
                and is_undo_key(event)):
            event.ignore()
            return True
        return super().eventFilter(watched, event)


class BlockTextEdit(QPlainTextEdit):
    """Edits the text of block ``block_id``: each change goes to the
    :class:`ScriptEditor` as an undo step (typing merges into one), and a change made
    elsewhere (undo, redo, find and replace) is shown by replacing only the part that
    differs, so the cursor stays where the user works. The box keeps no undo history
    of its own. Words the block's pronunciation dictionary changes are marked, with
    the entry as tooltip. A locked block's text is read-only.

    Attributes:
        block_id: the block edited.
        highlighter: the :class:`PronunciationHighlighter` of the marks.
    """

    def __init__(self, document: ScriptDocument, editor: ScriptEditor, block_id: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("BlockText")
        self.script = document
        self.editor = editor
        self.block_id = block_id
        self._showing_text = False
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.document().setDocumentMargin(DOCUMENT_MARGIN)
        self.setPlaceholderText(PLACEHOLDER)
        self.setTabChangesFocus(True)
        self.setUndoRedoEnabled(False)  # the window's undo stack has the history
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setAutoFillBackground(True)
        self.highlighter = PronunciationHighlighter(self.document())
        self._marks: tuple[str, object] | None = None
        self._entry_tips = EntryToolTips(self, self.highlighter)
        self._undo_keys = UndoKeysToWindow(self)
        self.installEventFilter(self._undo_keys)
        self._showing_text = True
        try:
            self.setPlainText(document.block(block_id).text if document.has_block(block_id)
                              else "")
        finally:
            self._showing_text = False
        self.moveCursor(QTextCursor.MoveOperation.End)
        self.refresh()
        self.textChanged.connect(self._on_text_changed)

    def refresh(self) -> None:
        """Show the block as the document has it now: text, lock, dictionary marks."""
        if not self.script.has_block(self.block_id):
            return
        block = self.script.block(self.block_id)
        if self.toPlainText() != block.text:
            self.show_text(block.text)
        self.setReadOnly(block.locked)
        self.refresh_pronunciation()

    def refresh_pronunciation(self) -> None:
        """Mark the words the block's dictionary changes; redrawn only when the
        entries that apply changed (an edit elsewhere in a big dictionary costs one
        match, not a repaint)."""
        if not self.script.has_block(self.block_id):
            return
        block = self.script.block(self.block_id)
        use = self.script.dictionary_use(block)
        marks = (use.id, use.applied(block.text))
        self.highlighter.set_matcher(use.matcher, redraw=marks != self._marks)
        known = self.script.dictionary(use.id) if use.id else None
        self.highlighter.dictionary_name = known[0] if known else ""
        self._marks = marks

    def show_text(self, text: str) -> None:
        """Replace only the part of the shown text that differs from ``text`` (an undo,
        a redo or a paste changed the block) and put the cursor at the end of it; the
        change is not sent back to the editor."""
        old = self.toPlainText()
        start = 0
        limit = min(len(old), len(text))
        while start < limit and old[start] == text[start]:
            start += 1
        tail = 0
        while tail < limit - start and old[-1 - tail] == text[-1 - tail]:
            tail += 1
        cursor = self.textCursor()
        cursor.setPosition(utf16_length(old[:start]))
        cursor.setPosition(utf16_length(old[:len(old) - tail]), QTextCursor.MoveMode.KeepAnchor)
        self._showing_text = True
        try:
            cursor.insertText(text[start:len(text) - tail])
            if self.toPlainText() != text:  # characters Qt stores differently
                self.setPlainText(text)
                cursor = self.textCursor()
                cursor.movePosition(QTextCursor.MoveOperation.End)
        finally:
            self._showing_text = False
        self.setTextCursor(cursor)

    def _on_text_changed(self) -> None:
        if self._showing_text or not self.script.has_block(self.block_id):
            return
        try:
            self.editor.update_block(self.block_id, text=self.toPlainText())
        except BlockLocked:  # locked while typing: show the kept text again
            self.show_text(self.script.block(self.block_id).text)
