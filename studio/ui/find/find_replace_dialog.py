"""Edit → Find and Replace…: search the script, preview every change, replace all as
one undo step.

The search itself is :mod:`studio.project.find_replace`; it runs in a worker thread on
a snapshot of the blocks' texts (:func:`~studio.project.find_replace.passages`), a
short pause after the last keystroke, so a regex over a 10 000-block script never
stalls typing. Replace all runs on the UI thread against the blocks as they are, and
goes through :meth:`ScriptEditor.replace_texts`: one undo step; locked blocks are
skipped and counted; the changed blocks' takes no longer match their text, so the
script shows them out of date by itself.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from studio.project.find_replace import (
    FindOptions,
    FindResult,
    Passage,
    SearchError,
    find,
    passages,
    replace_all,
)
from studio.services.document import ScriptDocument
from studio.services.editor import ScriptEditor, count_blocks
from studio.services.tasks import TaskGroup
from studio.services.threads import in_thread
from studio.ui.find.preview_model import CHANGE, ChangeDelegate, PreviewModel

#: Milliseconds after the last change of the fields before searching.
SEARCH_DELAY_MS = 250


def _matches(n: int) -> str:
    return f"{n:,} match" if n == 1 else f"{n:,} matches"


class FindReplaceDialog(QDialog):
    """Find and replace across the script (non-modal).

    Attributes:
        find_edit, replace_edit: the text to find and its replacement.
        regex_box, case_box, word_box: Regex, Match case and Whole word.
        preview: the table of changes (``model``, a :class:`PreviewModel`).
        status_label: what the search found or the last Replace all did; a bad
            regex's message.
        last_replace: what the last Replace all did ("" once the fields change).
        replace_button: Replace all.
        last_result: the last search's :class:`FindResult` (None before one, or after an
            error).
        tasks: the searches running in worker threads.

    Signals:
        block_requested(str block_id): a preview row was double-clicked; the window
            makes that block the script's current one.
    """

    block_requested = Signal(str)

    def __init__(self, document: ScriptDocument, editor: ScriptEditor,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("FindReplaceDialog")
        self.setWindowTitle("Find and Replace")
        self.setModal(False)
        self._document, self._editor = document, editor
        self.last_result: FindResult | None = None
        self.tasks = TaskGroup(self._on_search_failed, "search")
        self._generation = 0  # bumped per search: a slower, older result is dropped
        self.last_replace = ""  # what the last Replace all did, until the fields change

        self.find_edit = QLineEdit()
        self.find_edit.setPlaceholderText("Text or regular expression")
        self.find_edit.setClearButtonEnabled(True)
        self.replace_edit = QLineEdit()
        self.replace_edit.setPlaceholderText(r"Replacement (with Regex: \1, \g<name>)")
        self.replace_edit.setClearButtonEnabled(True)
        self.regex_box = QCheckBox("Regex")
        self.regex_box.setToolTip("Python regular expression; groups in the replacement "
                                  r"as \1 or \g<name>")
        self.case_box = QCheckBox("Match case")
        self.word_box = QCheckBox("Whole word")
        options = QHBoxLayout()
        for box in (self.regex_box, self.case_box, self.word_box):
            options.addWidget(box)
        options.addStretch(1)
        form = QFormLayout()
        form.addRow("Find:", self.find_edit)
        form.addRow("Replace with:", self.replace_edit)
        form.addRow("", options)

        self.model = PreviewModel()
        self.preview = QTableView()
        self.preview.setObjectName("FindPreview")
        self.preview.setModel(self.model)
        self.preview.setItemDelegateForColumn(CHANGE, ChangeDelegate(self.preview))
        self.preview.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.preview.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview.verticalHeader().setVisible(False)
        self.preview.verticalHeader().setDefaultSectionSize(
            self.preview.fontMetrics().height() + 8)
        self.preview.setWordWrap(False)
        header = self.preview.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.preview.doubleClicked.connect(self._on_row_activated)
        self.status_label = QLabel("Type the text to find.")
        self.status_label.setObjectName("FindStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.replace_button = QPushButton("Replace all")
        self.replace_button.setToolTip("Make every change listed, as one undo step")
        self.replace_button.setEnabled(False)
        self.replace_button.clicked.connect(self.replace_all)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.replace_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.close)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.status_label)
        layout.addWidget(buttons)
        self.resize(720, 480)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.search_now)
        for edit in (self.find_edit, self.replace_edit):
            edit.textChanged.connect(self._on_fields_changed)
        for box in (self.regex_box, self.case_box, self.word_box):
            box.toggled.connect(self._on_fields_changed)
        # The script changed under the preview: search again (after the same pause).
        for signal in (document.block_changed, document.blocks_inserted,
                       document.blocks_removed, document.block_inserted,
                       document.block_removed, document.block_moved, document.reset):
            signal.connect(self._on_document_changed)

    # --- opening --------------------------------------------------------------------

    def open_for(self, replace: bool = True) -> None:
        """Show the dialog and focus the replace field (``replace``, with a find
        text already) or the find field."""
        self.show()
        self.raise_()
        self.activateWindow()
        field = self.replace_edit if replace and self.find_edit.text() else self.find_edit
        field.setFocus()
        field.selectAll()
        if self.find_edit.text():
            self._schedule()

    def options(self) -> FindOptions:
        """The search the fields describe."""
        return FindOptions(self.find_edit.text(), self.replace_edit.text(),
                           regex=self.regex_box.isChecked(),
                           match_case=self.case_box.isChecked(),
                           whole_word=self.word_box.isChecked())

    # --- searching ------------------------------------------------------------------

    def _on_fields_changed(self, *_args: object) -> None:
        self.last_replace = ""
        self._schedule()

    def _schedule(self, *_args: object) -> None:
        self._generation += 1  # a search under way is out of date from now
        self.replace_button.setEnabled(False)
        self._timer.start()

    def _on_document_changed(self, *_args: object) -> None:
        if self.isVisible() and self.find_edit.text():
            self._schedule()

    def search_now(self) -> None:
        """Search now with the fields as they are (in a worker thread; the preview
        and the status line follow when it is done)."""
        self._timer.stop()
        self._generation += 1
        options = self.options()
        if not options.find:
            self._show_result(None, "Type the text to find.")
            return
        snapshot = passages(self._document.block_at(i) for i in range(len(self._document)))
        self.status_label.setText("Searching…")
        self.tasks.start(self._search, options, snapshot, self._generation)

    async def _search(self, options: FindOptions, snapshot: list[Passage],
                      generation: int) -> None:
        try:
            result = await in_thread(find, snapshot, options)
        except SearchError as exc:
            if generation == self._generation:
                self._show_result(None, str(exc), error=True)
            return
        if generation == self._generation:
            described = self._describe(result)
            if self.last_replace:
                described = f"{self.last_replace} Left: {described[0].lower()}{described[1:]}"
            self._show_result(result, described)

    def _on_search_failed(self, exc: Exception) -> None:
        self._show_result(None, f"Search failed: {exc}", error=True)

    def _describe(self, result: FindResult) -> str:
        if not result.total:
            text = "No matches."
        else:
            text = f"{_matches(result.total)} in {count_blocks(result.blocks)}"
            if result.locked_blocks:
                text += (f"; {count_blocks(result.locked_blocks)} locked (left alone by "
                         "Replace all)")
            text += "."
            if result.more:
                text += (f" The first {len(result.matches):,} are listed, "
                         f"and {result.more:,} more.")
        if result.tag_skipped:
            text += (f" {_matches(result.tag_skipped)} inside inline tags "
                     "(<break>, <emotion>…) left alone.")
        return text

    def _show_result(self, result: FindResult | None, status: str, error: bool = False) -> None:
        self.last_result = result
        self.model.set_matches(result.matches if result is not None else [])
        self.status_label.setText(status)
        self.status_label.setStyleSheet("color: #c0392b;" if error else "")
        self.replace_button.setEnabled(result is not None and (
            result.more > 0 or any(not match.locked for match in result.matches)))

    # --- replacing ------------------------------------------------------------------

    def replace_all(self) -> int:
        """Make every change of the search, on the blocks as they are now, as one undo
        step; locked blocks are skipped and counted. Returns the number of matches
        replaced; the status line says what was done."""
        options = self.options()
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            replacement = replace_all(
                (self._document.block_at(i) for i in range(len(self._document))), options)
        except SearchError as exc:
            self._show_result(None, str(exc), error=True)
            return 0
        finally:
            QGuiApplication.restoreOverrideCursor()
        undo_text = f"Replace {options.find!r} ({_matches(replacement.count)})"
        skipped = (self._editor.replace_texts(replacement.texts, undo_text)
                   if replacement.texts else [])
        locked = len(replacement.locked) + len(skipped)
        changed = len(replacement.texts) - len(skipped)
        status = f"Replaced {_matches(replacement.count)} in {count_blocks(changed)}"
        if locked:
            status += f"; {count_blocks(locked).replace('block', 'locked block')} skipped"
        keys = QKeySequence(QKeySequence.StandardKey.Undo).toString(
            QKeySequence.SequenceFormat.NativeText)
        self.last_replace = f"{status}. Undo with {keys}." if changed else f"{status}."
        self._show_result(None, self.last_replace)
        self.search_now()  # what is left: the locked blocks' matches, perhaps
        return replacement.count

    def _on_row_activated(self, index: object) -> None:
        row = getattr(index, "row", lambda: -1)()
        if 0 <= row < self.model.rowCount():
            self.block_requested.emit(self.model.match_at(row).block_id)
