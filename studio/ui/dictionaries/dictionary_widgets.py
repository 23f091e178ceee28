"""Parts of the Dictionaries panel (issue #6): the list of dictionaries and the Say it
box. Each shows what the :class:`~studio.services.dictionaries.DictionaryService` or
the playback tells it; the panel decides what to do.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from studio.api import LANGUAGES
from studio.services.catalog import pick_voice
from studio.services.dictionaries import DictionaryService
from studio.services.playback import PlaybackService
from studio.services.voices import VoiceCatalog
from studio.ui.dictionaries.dictionary_files import entries_sentence
from studio.ui.widgets.languages import language_label
from studio.ui.widgets.voice_combo import VoiceComboBox

FloatArray = npt.NDArray[np.float32]

#: Silence between "without" and "with" in Say it, seconds.
SAY_IT_PAUSE = 0.6
SAY_IT_TIP = "Hear the sentence without the dictionary, then with it"
#: What an empty list of dictionaries says.
NO_DICTIONARIES = ("No dictionaries yet: New… makes one; Dictionary ▾ → Import… brings one "
                   "from a file")
#: The sample sentence for an entry; ``{text}`` is the entry's text.
SAMPLE_SENTENCE = "I said {text} clearly."


class ElidedLabel(QLabel):
    """A label that shortens its text with "…" when narrow, instead of asking for the
    width of all of it (the full text stays in :meth:`text` and the tooltip). With
    ``max_chars`` it never asks for more than about that many characters.

    With ``lines`` above 1 it wraps at words onto that many lines, the last one
    shortened, and is always that many lines high, however long or short its text: a
    message coming or going moves nothing under or beside it.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None,
                 max_chars: int = 0, lines: int = 1) -> None:
        super().__init__(text, parent)
        self.max_chars = max_chars
        self.lines = max(1, lines)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred
                           if self.lines == 1 else QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        if self.max_chars:
            hint.setWidth(min(hint.width(),
                              self.fontMetrics().averageCharWidth() * self.max_chars))
        if self.lines > 1:
            hint.setHeight(self._height())
        return hint

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self) -> QSize:
        height = self._height() if self.lines > 1 else super().minimumSizeHint().height()
        return QSize(0, height)

    def _height(self) -> int:
        margins = self.contentsMargins()
        metrics = self.fontMetrics()
        return ((self.lines - 1) * metrics.lineSpacing() + metrics.height() + margins.top()
                + margins.bottom())

    def shown_lines(self) -> list[str]:
        """The lines drawn at the present width (the last one shortened with "…" when
        the text is longer)."""
        width = self.contentsRect().width()
        metrics = self.fontMetrics()
        text = " ".join(self.text().split())  # line breaks are the layout's to make
        if self.lines == 1:
            return [metrics.elidedText(self.text(), Qt.TextElideMode.ElideRight, width)]
        layout = QTextLayout(text, self.font())
        option = QTextOption()
        option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        layout.setTextOption(option)
        units = text.encode("utf-16-le")  # QTextLine counts UTF-16 code units
        shown: list[str] = []
        layout.beginLayout()
        while len(shown) < self.lines and (line := layout.createLine()).isValid():
            line.setLineWidth(width)
            start = 2 * line.textStart()
            end = len(units) if len(shown) == self.lines - 1 \
                else start + 2 * line.textLength()
            piece = units[start:end].decode("utf-16-le").strip()
            shown.append(metrics.elidedText(piece, Qt.TextElideMode.ElideRight, width))
        layout.endLayout()
        return shown

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = self.contentsRect()
        if self.lines == 1:
            painter.drawText(rect, int(self.alignment()), self.shown_lines()[0])
            return
        step = self.fontMetrics().lineSpacing()
        horizontal = self.alignment() & Qt.AlignmentFlag.AlignHorizontal_Mask
        for number, line in enumerate(self.shown_lines()):
            painter.drawText(rect.adjusted(0, number * step, 0, 0),
                             int(horizontal | Qt.AlignmentFlag.AlignTop), line)


class DictionaryDelegate(QStyledItemDelegate):
    """A dictionary in the list: its name, and under it, dimmer, what it holds and how
    it stands (the item's text, split at its line break)."""

    PAD = 4

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Any) -> None:
        option = QStyleOptionViewItem(option)  # a copy: Qt's is shared with other cells
        self.initStyleOption(option, index)
        # The item's own text: the style option's has its line break made a U+2028.
        name, _, facts = str(index.data(Qt.ItemDataRole.DisplayRole) or "").partition("\n")
        option.text = ""
        style = option.widget.style() if option.widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, option.widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        rect = option.rect.adjusted(self.PAD + 4, self.PAD, -self.PAD, -self.PAD)
        line = option.fontMetrics.height()
        painter.save()
        painter.setFont(option.font)
        painter.setPen(option.palette.color(QPalette.ColorRole.HighlightedText if selected
                                            else QPalette.ColorRole.Text))
        painter.drawText(rect.adjusted(0, 0, 0, -line), Qt.AlignmentFlag.AlignLeft,
                         option.fontMetrics.elidedText(name, Qt.TextElideMode.ElideRight,
                                                       rect.width()))
        small = QFont(option.font)
        small.setBold(False)
        painter.setFont(small)
        painter.setPen(QColor("#d8d4ff" if selected else "#8d8e9c"))
        painter.drawText(rect.adjusted(0, line + 1, 0, 0), Qt.AlignmentFlag.AlignLeft,
                         QFontMetrics(small).elidedText(facts, Qt.TextElideMode.ElideRight,
                                                        rect.width()))
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Any) -> QSize:
        line = option.fontMetrics.height()
        return QSize(120, 2 * line + 1 + 2 * self.PAD)


class DictionaryList(QListWidget):
    """The dictionaries: each item's text is its name (★ first when pinned) and, on a
    second line, its entry count, "this project" for the one the project uses, and
    what is not saved; the item's ``UserRole`` is its id. A few rows high: the panel
    sits in a narrow dock, and most people keep a handful of dictionaries.

    Attributes:
        project_dict_id: the dictionary the project uses ("" for none); shown bold.
    """

    #: How many dictionaries show without scrolling, at first.
    ROWS_SHOWN = 2.5

    def __init__(self, service: DictionaryService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("DictionaryList")
        self.service = service
        self.project_dict_id = ""
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setItemDelegate(DictionaryDelegate(self))
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.empty_hint = QLabel(NO_DICTIONARIES, self.viewport())
        self.empty_hint.setObjectName("NoDictionaries")
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setStyleSheet("color: #8d8e9c; padding: 4px;")
        self.empty_hint.hide()

    def sizeHint(self) -> QSize:
        line = self.fontMetrics().height()
        row = 2 * line + 1 + 2 * DictionaryDelegate.PAD
        return QSize(200, int(self.ROWS_SHOWN * row) + 2 * self.frameWidth())

    def minimumSizeHint(self) -> QSize:
        line = self.fontMetrics().height()
        return QSize(120, 2 * line + 1 + 2 * DictionaryDelegate.PAD + 2 * self.frameWidth())

    def show_hint(self) -> None:
        """Say how to make or import a dictionary while there is none (and the backend
        is there to make one on)."""
        self.empty_hint.setVisible(self.count() == 0 and self.service.connected)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.empty_hint.setGeometry(self.viewport().rect())

    def current_id(self) -> str:
        """The id of the current dictionary ("" for none)."""
        item = self.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else ""

    def select(self, dict_id: str) -> bool:
        """Make ``dict_id`` current; returns whether it is listed."""
        item = self._item(dict_id)
        if item is not None:
            self.setCurrentItem(item)
        return item is not None

    def fill(self) -> None:
        """List the service's dictionaries again, keeping the current one (else the
        first), without emitting ``currentItemChanged``."""
        keep = self.current_id()
        self.blockSignals(True)
        try:
            self.clear()
            for entry in self.service.dictionaries():
                text, tip = self._text(entry.id)
                item = QListWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, entry.id)
                item.setToolTip(tip)
                if self.service.is_missing(entry.id):
                    item.setForeground(Qt.GlobalColor.gray)
                if entry.id == self.project_dict_id:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.addItem(item)
            if (not keep or not self.select(keep)) and self.count():
                self.setCurrentRow(0)
        finally:
            self.blockSignals(False)
        self.show_hint()

    def update_item(self, dict_id: str) -> None:
        """Show what ``dict_id`` holds and how it stands now."""
        item = self._item(dict_id)
        if item is not None and self.service.dictionary(dict_id) is not None:
            text, tip = self._text(dict_id)
            item.setText(text)
            item.setToolTip(tip)

    def _item(self, dict_id: str) -> QListWidgetItem | None:
        for row in range(self.count()):
            item = self.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == dict_id:
                return item
        return None

    def _text(self, dict_id: str) -> tuple[str, str]:
        """The two lines of a dictionary in the list, and its tooltip."""
        service = self.service
        entry = service.dictionary(dict_id)
        assert entry is not None
        count = len(service.items(dict_id) or ())
        facts = [entries_sentence(count)]
        tips = [f"{entry.name}: {entries_sentence(count)}"]
        if dict_id == self.project_dict_id:
            facts.append("this project")
            tips.append("This project's blocks are generated with it.")
        if entry.pinned:
            tips.append("Pinned: generation applies it first.")
        if service.is_missing(dict_id):
            facts.append("deleted on the server")
            tips.append("Deleted on the server; its entries are kept here. Recreate saves "
                        "them as a new dictionary.")
        elif service.unsaved(dict_id):
            facts.append("not all saved")
        star = "★ " if entry.pinned else ""
        return f"{star}{entry.name}\n{' · '.join(facts)}", "\n".join(tips)


class SayItBox(QGroupBox):
    """Say it: a sample sentence with the entry in it, the button that plays it without
    and then with the dictionary (■ Stop while it plays), and the voice and language to
    say it in. The panel connects the button (it knows the dictionary). The sentence
    and its button share a row, the voice and language the
    next, so the box fits a narrow dock.

    Args:
        playback: where the renders play.
        catalog: the voices offered.
        language: the language at first (a studio language such as ``"en"``).

    Attributes:
        sample_edit, voice_combo, language_combo, say_button: its parts.

    Signals:
        finished(): what :meth:`play` started has ended or was stopped.
    """

    finished = Signal()

    def __init__(self, playback: PlaybackService, catalog: VoiceCatalog, language: str = "en",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.playback = playback
        self.catalog = catalog
        self._available = False
        self._why_not = ""
        self._stream_id: int | None = None
        self._sample_auto = ""  # the sentence we filled in (replaced while unchanged)

        self.sample_edit = QLineEdit()
        self.sample_edit.setPlaceholderText("A sentence with the entry in it")
        self.say_button = QPushButton("▶ Say it")
        self.say_button.setToolTip(SAY_IT_TIP)
        self.say_button.setEnabled(False)
        self.voice_combo = VoiceComboBox()
        self.voice_combo.setMinimumContentsLength(10)
        self.language_combo = QComboBox()
        for code in LANGUAGES:
            self.language_combo.addItem(language_label(code), code)
        self.language_combo.setCurrentIndex(max(self.language_combo.findData(language), 0))
        self.language_combo.setToolTip("The language to say it in, and to suggest IPA for")
        self.voice_combo.setToolTip("The voice to say it with")
        self.language_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.language_combo.setMinimumContentsLength(8)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        sentence_row = QHBoxLayout()
        sentence_row.setSpacing(6)
        sentence_row.addWidget(self.sample_edit, 1)
        sentence_row.addWidget(self.say_button)
        layout.addLayout(sentence_row)
        voice_row = QHBoxLayout()
        voice_row.setSpacing(6)
        voice_row.addWidget(self.voice_combo, 1)
        voice_row.addWidget(self.language_combo)
        layout.addLayout(voice_row)

        self.sample_edit.textEdited.connect(self._on_sample_edited)
        self.sample_edit.textChanged.connect(self._show_state)
        self.language_combo.currentIndexChanged.connect(self._on_language_changed)
        catalog.voices_changed.connect(self.fill_voices)
        playback.started.connect(self._on_playback_changed)
        playback.stopped.connect(self._on_playback_changed)
        self.fill_voices()

    def language(self) -> str:
        return str(self.language_combo.currentData() or "en")

    def set_language(self, code: str) -> None:
        index = self.language_combo.findData(code)
        if index >= 0:
            self.language_combo.setCurrentIndex(index)

    def set_available(self, available: bool, why_not: str = "") -> None:
        """Whether there is a dictionary to say it with, and if not, why (the button's
        tooltip says it). Say it also waits for a sentence; Stop stays available."""
        self._available = available
        self._why_not = why_not
        self._show_state()

    def offer_sentence(self, text: str) -> None:
        """Fill in the sample sentence for the entry ``text``, unless the user wrote
        their own."""
        sample = SAMPLE_SENTENCE.format(text=text)
        if self.sample_edit.text() in ("", self._sample_auto) and sample != self._sample_auto:
            self.sample_edit.setText(sample)
            self._sample_auto = sample

    def play(self, without: FloatArray, with_dictionary: FloatArray, sample_rate: int) -> str:
        """Play ``without`` (float32 mono at ``sample_rate`` Hz), a pause of
        :data:`SAY_IT_PAUSE`, then ``with_dictionary``; returns why nothing can be
        heard ("" when it plays)."""
        self._stream_id = self.playback.play_sequence([without, with_dictionary], sample_rate,
                                                      pause_seconds=SAY_IT_PAUSE)
        if self.playback.is_null:
            self.playback.stop()
            return self.playback.notice or "no audio output device"
        self._on_playback_changed()
        return ""

    def playing(self) -> bool:
        """Whether what :meth:`play` started is still playing."""
        return self._stream_id is not None and self.playback.is_current(self._stream_id)

    def stop(self) -> None:
        if self.playing():
            self.playback.stop()

    def fill_voices(self) -> None:
        voices = self.catalog.voices
        current = self.voice_combo.voice_id()
        self.voice_combo.set_voices(voices)
        if not current or self.catalog.voice(current) is None:
            choice = pick_voice(voices, self.language())
            if choice is not None:
                self.voice_combo.set_voice_id(choice.id)

    def _on_playback_changed(self) -> None:
        if not self.playing() and self._stream_id is not None:
            self._stream_id = None
            self.finished.emit()
        self._show_state()

    def _show_state(self, *_args: object) -> None:
        playing = self.playing()
        if playing:
            why_not = ""
        elif not self._available:
            why_not = self._why_not or "No dictionary to say it with"
        elif not self.sample_edit.text().strip():
            why_not = "Type a sentence to say first"
        else:
            why_not = ""
        self.say_button.setText("■ Stop" if playing else "▶ Say it")
        self.say_button.setEnabled(not why_not)
        self.say_button.setToolTip(f"{SAY_IT_TIP} ({why_not})" if why_not else SAY_IT_TIP)

    def _on_sample_edited(self, _text: str) -> None:
        self._sample_auto = ""  # the user's own sentence stays

    def _on_language_changed(self, _index: int) -> None:
        voice = self.catalog.voice(self.voice_combo.voice_id())
        if voice is None or voice.language != self.language():
            choice = pick_voice(self.catalog.voices, self.language())
            if choice is not None:
                self.voice_combo.set_voice_id(choice.id)
