"""The Import dialog: a book read in a worker thread with progress and Cancel, then a
preview of its chapters, speakers and size before anything is added.

The reading (:func:`studio.project.books.read_book`) runs in the default executor
(:func:`studio.services.threads.in_thread`); its progress comes back to the UI thread
through a queued signal, so the studio stays responsive. A failure shows the
:class:`~studio.project.books.BookImportError` message in the dialog, and the script is
left unchanged. Accepting the dialog adds nothing itself: the window reads
:meth:`ImportDialog.book_to_add` and :attr:`ImportDialog.after_current` and adds the
book in one undo step (:func:`studio.ui.importing.adding.add_book`).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QRadioButton,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.project.books import (
    SUPPORTED_EXTENSIONS,
    BookImportError,
    ImportCancelled,
    ImportedBook,
    check_block_count,
    read_book,
)
from studio.project.books.dialogue import split_dialogue
from studio.services.generation import CHARACTERS_PER_SECOND
from studio.services.threads import in_thread
from studio.ui.window.batch_confirm import format_minutes


def file_filter() -> str:
    """The file dialog's filter: every book format, then each kind alone."""
    patterns = " ".join(f"*{ext}" for ext in SUPPORTED_EXTENSIONS)
    return (f"Books and scripts ({patterns});;Text (*.txt);;Markdown (*.md);;"
            "Word documents (*.docx);;EPUB books (*.epub);;Subtitles (*.srt *.vtt);;"
            "CSV speaker,text (*.csv);;All files (*)")


def estimated_seconds(book: ImportedBook) -> float:
    """Seconds of audio at speed 1.0, by the rate Generate's estimate uses
    (:data:`~studio.services.generation.CHARACTERS_PER_SECOND`)."""
    return book.char_count / CHARACTERS_PER_SECOND


class ImportDialog(QDialog):
    """Reads ``path`` as soon as it is shown (:meth:`start`), then previews it.

    Attributes:
        book: the book as read, once reading succeeded; else ``None``.
        error: the message shown when reading failed, else ``""``.
        split_check: "Split quoted dialogue into character blocks".
        end_radio, after_radio: where the blocks go; "after the current block" is
            offered only when there is a current block.

    Signals:
        read_finished(): the reading ended (preview, error or cancel shown).
    """

    read_finished = Signal()
    _progressed = Signal(float, str)

    def __init__(self, path: Path, has_current: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self.book: ImportedBook | None = None
        self.error = ""
        self._cancel = threading.Event()
        self._task: asyncio.Future[None] | None = None
        self.setWindowTitle(f"Import {path.name}")
        self.resize(620, 560)
        layout = QVBoxLayout(self)
        self.pages = QStackedWidget()
        layout.addWidget(self.pages)

        reading = QWidget()
        reading_layout = QVBoxLayout(reading)
        self.progress_label = QLabel(f"Reading {path.name}…")
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        reading_layout.addStretch()
        reading_layout.addWidget(self.progress_label)
        reading_layout.addWidget(self.progress_bar)
        reading_layout.addStretch()
        self.pages.addWidget(reading)

        preview = QWidget()
        preview_layout = QVBoxLayout(preview)
        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)
        self.chapter_tree = QTreeWidget()
        self.chapter_tree.setHeaderLabels(["Chapter", "Blocks"])
        self.chapter_tree.setRootIsDecorated(False)
        self.chapter_tree.setUniformRowHeights(True)
        header = self.chapter_tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.speakers_label = QLabel()
        self.speakers_label.setWordWrap(True)
        self.notices_label = QLabel()
        self.notices_label.setWordWrap(True)
        self.notices_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.split_check = QCheckBox("Split quoted dialogue into character blocks")
        self.split_check.setToolTip('"…," said Alice. becomes a block for Alice and one for '
                                    "the narrator; unnamed speakers become \"Character\"")
        self.split_check.toggled.connect(self._show_preview)
        self.end_radio = QRadioButton("Insert at the end")
        self.after_radio = QRadioButton("Insert after the current block")
        self.after_radio.setEnabled(has_current)
        self.end_radio.setChecked(True)
        where = QHBoxLayout()
        where.addWidget(self.end_radio)
        where.addWidget(self.after_radio)
        where.addStretch()
        for widget in (self.summary_label, self.chapter_tree, self.speakers_label,
                       self.notices_label, self.split_check):
            preview_layout.addWidget(widget)
        preview_layout.addLayout(where)
        self.pages.addWidget(preview)

        failed = QWidget()
        failed_layout = QVBoxLayout(failed)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        failed_layout.addStretch()
        failed_layout.addWidget(self.error_label)
        failed_layout.addStretch()
        self.pages.addWidget(failed)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = self.buttons.addButton(
            "Import", QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_button.setEnabled(False)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._progressed.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)

    @property
    def after_current(self) -> bool:
        """True to insert after the current block, False for the end."""
        return self.after_radio.isChecked()

    def start(self) -> None:
        """Start reading in the worker (once); the dialog shows progress meanwhile."""
        if self._task is None:
            self._task = asyncio.ensure_future(self._read())

    def book_to_add(self) -> ImportedBook:
        """The book with the chosen options applied (dialogue split or not).

        Raises:
            BookImportError: nothing was read, or the split makes too many blocks.
        """
        if self.book is None:
            raise BookImportError(self.error or f"{self.path.name} was not read")
        if not self.split_check.isChecked():
            return self.book
        book = split_dialogue(self.book)
        check_block_count(book, self.path.name)
        return book

    def reject(self) -> None:
        """Cancel: stops the reading at its next chapter; nothing is added."""
        self._cancel.set()
        super().reject()

    async def _read(self) -> None:
        try:
            self.book = await in_thread(read_book, self.path, self._progressed.emit,
                                        self._cancel.is_set)
        except ImportCancelled:
            pass
        except BookImportError as exc:
            self._fail(str(exc))
        except Exception as exc:  # noqa: BLE001 - a reader's bug must not leave it reading
            self._fail(f"{self.path.name}: cannot import ({type(exc).__name__}: {exc})")
        else:
            with contextlib.suppress(RuntimeError):  # closed while reading
                self._show_preview()
        finally:
            with contextlib.suppress(RuntimeError):
                self.read_finished.emit()

    def _fail(self, message: str) -> None:
        self.error = message
        with contextlib.suppress(RuntimeError):
            self.error_label.setText(message)
            self.pages.setCurrentIndex(2)
            self.import_button.setEnabled(False)

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress_bar.setValue(round(fraction * 1000))
        self.progress_label.setText(f"Reading {self.path.name}: {message}")

    def _show_preview(self) -> None:
        if self.book is None:
            return
        try:
            book = self.book_to_add()
        except BookImportError as exc:
            self.notices_label.setText(str(exc))
            self.import_button.setEnabled(False)
            return
        self.chapter_tree.clear()
        items = [QTreeWidgetItem([chapter.title, f"{len(chapter.blocks):,}"])
                 for chapter in book.chapters]
        for item in items:
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.chapter_tree.addTopLevelItems(items)
        words = sum(len(b.text.split()) for c in book.chapters for b in c.blocks)
        self.summary_label.setText(
            f"<b>{len(book.chapters):,}</b> chapter{'' if len(book.chapters) == 1 else 's'}, "
            f"<b>{book.block_count:,}</b> blocks, {book.char_count:,} characters, "
            f"{words:,} words: {format_minutes(estimated_seconds(book))}")
        speakers = book.speakers()
        self.speakers_label.setText(
            f"Speakers ({len(speakers)}): " + ", ".join(speakers[:30])
            + (f" and {len(speakers) - 30} more" if len(speakers) > 30 else ""))
        notices = book.notices[:8]
        more = len(book.notices) - len(notices)
        self.notices_label.setText(
            "\n".join(["Notices:", *(f"• {n}" for n in notices),
                       *([f"… and {more} more"] if more else [])]) if notices else "")
        self.notices_label.setVisible(bool(notices))
        self.pages.setCurrentIndex(1)
        self.import_button.setEnabled(True)
        self.import_button.setDefault(True)
