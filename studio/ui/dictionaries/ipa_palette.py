"""A palette of IPA symbols that types into an alias editor (issue #6).

Aliases in IPA use Cartesia's form: phonemes separated by ``|`` inside ``<<`` and ``>>``
(docs.cartesia.ai, "IPA Phonemes": *Cartesia* is ``<<k|ɑ|ɹ|ˈ|t|i|ʒ|ə>>``; a stress mark
is a phoneme of its own, diphthongs and affricates are one). :func:`insert_symbol` keeps
that form while the user clicks: into an empty alias it starts ``<<…>>``, between
phonemes it adds the ``|`` separators, and a length mark or diacritic joins the phoneme
before it. The symbols are those of the IPA chart that
:data:`studio.project.lexicon.IPA_SYMBOLS` accepts, so nothing typed from here draws a
warning.
"""

from __future__ import annotations

import unicodedata

import shiboken6
from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QLabel,
    QLayout,
    QLayoutItem,
    QLineEdit,
    QSizePolicy,
    QToolButton,
    QWidget,
)

SEPARATOR = "|"
#: The width of a symbol's button, pixels (the widest take two).
CELL_WIDTH = 24

#: (symbol, what it sounds like), grouped as on the palette.
VOWELS: tuple[tuple[str, str], ...] = (
    ("i", "see"), ("ɪ", "sit"), ("e", "café (French é)"), ("ɛ", "bed"), ("æ", "cat"),
    ("a", "Spanish casa"), ("ɑ", "father"), ("ɒ", "lot (British)"), ("ɔ", "thought"),
    ("o", "French eau"), ("ʊ", "put"), ("u", "blue"), ("ʌ", "cup"), ("ə", "about"),
    ("ɚ", "butter (American)"), ("ɜ", "bird (British, with ː)"), ("ɝ", "bird (American)"),
    ("ɐ", "German besser"), ("ɨ", "roses (American)"), ("y", "French tu"),
    ("ø", "French peu"), ("œ", "French peur"), ("ɯ", "Japanese u"),
    ("aɪ", "my"), ("aʊ", "now"), ("eɪ", "day"), ("oʊ", "go"), ("ɔɪ", "boy"),
)
CONSONANTS: tuple[tuple[str, str], ...] = (
    ("p", "pen"), ("b", "bad"), ("t", "tea"), ("d", "did"), ("k", "cat"), ("ɡ", "get"),
    ("ʔ", "uh-oh (glottal stop)"), ("m", "man"), ("n", "no"), ("ŋ", "sing"),
    ("ɲ", "Spanish año"), ("f", "fine"), ("v", "voice"), ("θ", "thin"), ("ð", "this"),
    ("s", "see"), ("z", "zoo"), ("ʃ", "she"), ("ʒ", "vision"), ("ç", "German ich"),
    ("x", "Scottish loch"), ("ɣ", "Spanish lago"), ("χ", "German Bach"),
    ("ʁ", "French rouge"), ("h", "hat"), ("ɹ", "red (English r)"), ("r", "trilled r"),
    ("ɾ", "butter (American tap)"), ("l", "leg"), ("ʎ", "Italian figlio"), ("j", "yes"),
    ("w", "wet"), ("ʍ", "which (some accents)"), ("tʃ", "church"), ("dʒ", "judge"),
)
STRESS_AND_LENGTH: tuple[tuple[str, str], ...] = (
    ("ˈ", "primary stress: put it before the stressed syllable"),
    ("ˌ", "secondary stress"), ("ː", "long: joins the phoneme before it"),
    ("ˑ", "half-long"), ("\u0303", "nasalized (French bon): joins the phoneme before it"),
    ("ʰ", "aspirated: joins the phoneme before it"),
    (SEPARATOR, "separator between phonemes"),
)
GROUPS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Vowels", VOWELS), ("Consonants", CONSONANTS), ("Stress, length", STRESS_AND_LENGTH))

# Symbols that belong to the phoneme before them (no separator in between).
_ATTACHING = set("ːˑʰʷʲˠˤⁿˡʼ˞ʱ˥˦˧˨˩")


def _attaches(symbol: str) -> bool:
    return all(c in _ATTACHING or unicodedata.category(c) == "Mn" for c in symbol)


def _groups(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of the inside of every ``<<…>>`` group (an unclosed one runs to
    the end of the text)."""
    spans: list[tuple[int, int]] = []
    pos = 0
    while (opening := text.find("<<", pos)) >= 0:
        closing = text.find(">>", opening + 2)
        end = len(text) if closing < 0 else closing
        spans.append((opening + 2, end))
        pos = end + 2
    return spans


def insert_symbol(text: str, cursor: int, symbol: str) -> tuple[str, int]:
    """``text`` with ``symbol`` typed at ``cursor``, and where the cursor goes (just after
    the symbol).

    - An empty alias becomes ``<<symbol>>``.
    - In an IPA alias the symbol goes into the ``<<…>>`` group the cursor is in (at its
      end when the cursor is outside every group) as a phoneme of its own, with ``|``
      added on each side where a phoneme is next to it; a length mark, diacritic or
      modifier (``ː``, ``̃``, ``ʰ``) joins the phoneme before it instead.
    - In a sounds-like respelling it is typed as it is.
    """
    cursor = max(0, min(cursor, len(text)))
    if not text.strip():
        return f"<<{symbol}>>", 2 + len(symbol)
    spans = _groups(text)
    if not spans:
        return text[:cursor] + symbol + text[cursor:], cursor + len(symbol)
    start, end = next(((s, e) for s, e in spans if s <= cursor <= e), spans[-1])
    if not start <= cursor <= end:
        cursor = end
    piece = symbol
    if symbol != SEPARATOR and not _attaches(symbol):
        if cursor > start and text[cursor - 1] != SEPARATOR:
            piece = SEPARATOR + piece
        if cursor < end and text[cursor] != SEPARATOR:
            piece = piece + SEPARATOR
    after = cursor + len(piece) - (1 if piece.endswith(SEPARATOR) and piece != symbol else 0)
    return text[:cursor] + piece + text[cursor:], after


class FlowLayout(QLayout):
    """Lays its items out left to right and wraps them onto as many rows as the width
    needs (after Qt's "Flow Layout" example); an item marked with :meth:`break_before`
    starts a row. The height follows the width (``heightForWidth``), so a narrow dock
    gets more rows instead of a wider minimum.
    """

    def __init__(self, parent: QWidget | None = None, spacing: int = 2) -> None:
        super().__init__(parent)
        self.setContentsMargins(0, 0, 0, 0)
        self.setSpacing(spacing)
        self._items: list[QLayoutItem] = []
        self._breaks: set[int] = set()  # indexes of the items that start a row

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def break_before(self, widget: QWidget) -> None:
        """Start a new row at ``widget`` (already added), unless it is first."""
        index = self.indexOf(widget)
        if index > 0:
            self._breaks.add(index)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        if not 0 <= index < len(self._items):
            return None
        self._breaks = {b - (b > index) for b in self._breaks if b != index}
        return self._items.pop(index)

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._place(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._place(rect, move=True)

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        margins = self.contentsMargins()
        return size + QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    def _place(self, rect: QRect, move: bool) -> int:
        """Lay the items out in ``rect`` (moving them when ``move``); returns the height
        they take."""
        margins = self.contentsMargins()
        area = rect.adjusted(margins.left(), margins.top(), -margins.right(), -margins.bottom())
        gap = self.spacing()
        x, y, row_height = area.x(), area.y(), 0
        for index, item in enumerate(self._items):
            if item.isEmpty():
                continue
            size = item.sizeHint()
            if row_height and (index in self._breaks or x + size.width() > area.right() + 1):
                x, y, row_height = area.x(), y + row_height + gap, 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), size))
            x += size.width() + gap
            row_height = max(row_height, size.height())
        return y + row_height - rect.y() + margins.bottom()


class IpaPalette(QWidget):
    """Buttons for IPA symbols, grouped (vowels, consonants, stress and length), that
    type into the alias editor at its cursor (:func:`insert_symbol`) as if typed there.
    Neither the buttons nor the palette take focus, so the alias field keeps it (what
    it holds is committed when it is left, not at each symbol) and an editor open in
    the table stays open while you click. They wrap onto
    as many rows as the width needs (:class:`FlowLayout`), each group starting a row.

    Attributes:
        fallback: the editor typed into when no other alias editor was focused last
            (the panel's alias field).

    Signals:
        symbol_inserted(str): a symbol was typed into an editor.
    """

    symbol_inserted = Signal(str)

    def __init__(self, fallback: QLineEdit | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("IpaPalette")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.fallback = fallback
        self._target: QLineEdit | None = None
        self.buttons: dict[str, QToolButton] = {}
        flow = self._flow = FlowLayout(self, spacing=2)
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.15)
        labels: list[QLabel] = []
        for title, symbols in GROUPS:
            label = QLabel(title)
            label.setStyleSheet("color: #8d8e9c;")
            flow.addWidget(label)
            flow.break_before(label)
            labels.append(label)
            for symbol, hint in symbols:
                button = QToolButton()
                button.setText("◌" + symbol if _attaches(symbol) else symbol)
                button.setFont(font)
                button.setToolTip(f"{symbol.strip()}  {hint}" if not _attaches(symbol)
                                  else f"◌{symbol}  {hint}")
                button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
                button.setAutoRaise(True)
                button.clicked.connect(lambda _checked=False, s=symbol: self.insert(s))
                flow.addWidget(button)
                self.buttons[symbol] = button
        # Every symbol one cell wide (two for the widest), every label a whole number
        # of cells, so the wrapped rows line up as columns.
        metrics = QFontMetrics(font)
        height = max(b.sizeHint().height() for b in self.buttons.values())
        advances = {s: metrics.horizontalAdvance(b.text()) for s, b in self.buttons.items()}
        cell = max(CELL_WIDTH, height - 4)
        for symbol, button in self.buttons.items():
            button.setFixedSize(self._cells(advances[symbol] + 6, cell), height)
        for label in labels:
            label.setFixedSize(self._cells(label.sizeHint().width(), cell), height)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def _cells(self, width: int, cell: int) -> int:
        """The width of the fewest whole cells that hold ``width`` pixels."""
        gap = self._flow.spacing()
        count = max(1, -(-(width + gap) // (cell + gap)))
        return count * cell + (count - 1) * gap

    def set_target(self, editor: QLineEdit | None) -> None:
        """Type into ``editor`` from now on (None: the fallback)."""
        self._target = editor

    def target(self) -> QLineEdit | None:
        """The editor a click types into: the last one set, while it exists and is shown,
        else :attr:`fallback`."""
        editor = self._target
        if editor is not None and shiboken6.isValid(editor) and editor.isVisible():
            return editor
        return self.fallback

    def insert(self, symbol: str) -> bool:
        """Type ``symbol`` into :meth:`target` at its cursor (replacing a selection);
        returns whether there was an enabled editor to type into."""
        editor = self.target()
        if editor is None or not editor.isEnabled() or editor.isReadOnly():
            return False
        text, cursor = editor.text(), editor.cursorPosition()
        if editor.hasSelectedText():
            start = editor.selectionStart()
            text = text[:start] + text[start + len(editor.selectedText()):]
            cursor = start
        new, cursor = insert_symbol(text, cursor, symbol)
        # As typing, not setText: the editor counts it as the user's (isModified, its
        # own Ctrl+Z, textEdited).
        editor.selectAll()
        editor.insert(new)
        editor.setCursorPosition(cursor)
        if not editor.hasFocus():
            editor.setFocus(Qt.FocusReason.OtherFocusReason)
        self.symbol_inserted.emit(symbol)
        return True
