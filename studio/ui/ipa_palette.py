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
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QGridLayout, QLabel, QLineEdit, QToolButton, QWidget

SEPARATOR = "|"

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


class IpaPalette(QWidget):
    """Buttons for IPA symbols, grouped (vowels, consonants, stress and length), that
    type into the alias editor at its cursor (:func:`insert_symbol`). The buttons take
    no focus, so an editor open in the table stays open while you click.

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
        self.fallback = fallback
        self._target: QLineEdit | None = None
        self.buttons: dict[str, QToolButton] = {}
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(2)
        grid.setVerticalSpacing(2)
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.15)
        per_row = 18
        row = 0
        for title, symbols in GROUPS:
            label = QLabel(title)
            label.setStyleSheet("color: #8d8e9c;")
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(label, row, 0)
            for number, (symbol, hint) in enumerate(symbols):
                button = QToolButton()
                button.setText("◌" + symbol if _attaches(symbol) else symbol)
                button.setFont(font)
                button.setToolTip(f"{symbol.strip()}  {hint}" if not _attaches(symbol)
                                  else f"◌{symbol}  {hint}")
                button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
                button.setAutoRaise(True)
                button.setMinimumWidth(26)
                button.clicked.connect(lambda _checked=False, s=symbol: self.insert(s))
                grid.addWidget(button, row + number // per_row, 1 + number % per_row)
                self.buttons[symbol] = button
            row += (len(symbols) + per_row - 1) // per_row
        grid.setColumnStretch(per_row + 1, 1)

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
        editor.setText(new)
        editor.setCursorPosition(cursor)
        if not editor.hasFocus():
            editor.setFocus(Qt.FocusReason.OtherFocusReason)
        self.symbol_inserted.emit(symbol)
        return True
