"""The current entry of the Dictionaries panel (issue #6), under its table: the text,
the alias with **Suggest IPA** beside it, and the IPA symbols, which wrap onto as many
rows as the dock's width needs and fold away behind "IPA symbols".
"""

from __future__ import annotations

from PySide6.QtCore import QPersistentModelIndex, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.project.lexicon import LexiconItem
from studio.ui.dictionaries.ipa_palette import IpaPalette
from studio.ui.dictionaries.lexicon_model import ALIAS_EDITOR, TEXT, LexiconTableModel


class PaletteArea(QScrollArea):
    """The IPA palette (:attr:`symbols`), asking for the height its rows need at the
    width it is given (``heightForWidth``), and scrolling up and down when the dock is
    too short to give it: the symbols stay reachable, and the panel's minimum height
    stays small enough for the studio's smallest window. When the panel is short, the
    layout takes from the tallest item first, so the palette gives way before the
    entries table does."""

    #: Rows of symbols shown however short the dock (a 560 px window is short).
    MIN_ROWS = 1

    def __init__(self, palette: IpaPalette, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.symbols = palette
        self.setWidget(palette)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        frame = 2 * self.frameWidth()
        return self.symbols.heightForWidth(width - frame) + frame

    def sizeHint(self) -> QSize:
        width = self.symbols.minimumSizeHint().width()
        return QSize(width, self.heightForWidth(max(self.width(), 360)))

    def minimumSizeHint(self) -> QSize:
        row = self.symbols.minimumSizeHint().height()
        return QSize(self.symbols.minimumSizeHint().width(),
                     self.MIN_ROWS * row + 2 * self.frameWidth())


class EntryFields(QWidget):
    """Edits one entry of ``model`` (the bound one, :meth:`bind`): what was typed into
    the fields since they were last filled becomes the entry's, as one undo step, on
    Enter, when a field is left, or when :meth:`commit` is called. A field nobody typed
    into follows the entry (:meth:`show_entry`), so an undo, a refresh or an import
    shows in it and is never written back. Clicks on the IPA palette type into the alias
    without leaving it (the palette takes no focus), so an alias built from symbols is
    one step. The panel connects :attr:`suggest_button`.

    Attributes:
        text_edit, alias_edit: the entry's text and alias.
        suggest_button: Suggest IPA.
        ipa_palette: the IPA symbols (:class:`IpaPalette`), typing into the alias field
            or an alias being edited in the table.
        palette_area: the palette's :class:`PaletteArea` (it scrolls when short).
        ipa_toggle: shows and hides the palette.

    Signals:
        typing_changed(): what :meth:`typed` answers may have changed.
    """

    typing_changed = Signal()

    def __init__(self, model: LexiconTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self._bound = QPersistentModelIndex()

        self.text_edit = QLineEdit()
        self.text_edit.setPlaceholderText("Text, as written in the script")
        self.alias_edit = QLineEdit()
        self.alias_edit.setObjectName(ALIAS_EDITOR)
        self.alias_edit.setPlaceholderText("kar-TEE-zhuh, or IPA <<k|ɑ|ɹ|ˈ|t|i|ʒ|ə>>")
        alias_font = self.alias_edit.font()
        alias_font.setPointSizeF(alias_font.pointSizeF() * 1.15)
        self.alias_edit.setFont(alias_font)
        self.suggest_button = QPushButton("Suggest IPA")
        self.suggest_button.setToolTip("Fill the alias with espeak-ng's IPA for the text, "
                                       "as a start to edit (Undo takes it back)")
        self.ipa_palette = IpaPalette(self.alias_edit)
        self.palette_area = PaletteArea(self.ipa_palette)
        # A click on a symbol gives the keyboard focus to the nearest ancestor that takes
        # it: a scroll area would, and the alias field (committing) or the table's
        # editor (closing) would lose it.
        self.palette_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.ipa_toggle = QToolButton()
        self.ipa_toggle.setText("IPA symbols")
        self.ipa_toggle.setToolTip("Show or hide the IPA symbols; a click types one into "
                                   "the alias being edited")
        self.ipa_toggle.setAutoRaise(True)
        self.ipa_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.ipa_toggle.setArrowType(Qt.ArrowType.DownArrow)

        # Text and alias on lines of their own: side by side they would not fit the dock.
        fields = QGridLayout()
        fields.setHorizontalSpacing(6)
        fields.setVerticalSpacing(4)
        fields.addWidget(QLabel("Text"), 0, 0)
        fields.addWidget(self.text_edit, 0, 1, 1, 2)
        fields.addWidget(QLabel("Alias"), 1, 0)
        fields.addWidget(self.alias_edit, 1, 1)
        fields.addWidget(self.suggest_button, 1, 2)
        fields.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(fields)
        layout.addWidget(self.ipa_toggle)
        layout.addWidget(self.palette_area)

        self.ipa_toggle.clicked.connect(
            lambda: self.show_ipa_symbols(self.palette_area.isHidden()))
        for edit in (self.text_edit, self.alias_edit):
            edit.editingFinished.connect(self.commit)
            edit.textEdited.connect(self.typing_changed)

    def show_ipa_symbols(self, shown: bool) -> None:
        """Show or hide the IPA palette (shown at first)."""
        self.palette_area.setVisible(shown)
        self.ipa_toggle.setArrowType(Qt.ArrowType.DownArrow if shown
                                     else Qt.ArrowType.RightArrow)

    def bind(self, row: int | None) -> None:
        """Edit the entry at ``row`` of the model (None: none), committing what was typed
        for the entry before; the fields show it at the next :meth:`show_entry`."""
        if self._bound.isValid() and (row is None or self._bound.row() != row):
            self.commit()
        self._bound = (QPersistentModelIndex(self.model.index(row, TEXT))
                       if row is not None and 0 <= row < self.model.rowCount()
                       else QPersistentModelIndex())

    def unbind(self) -> None:
        """Edit no entry, leaving what was typed uncommitted (the entry is going, or
        changed elsewhere)."""
        self._bound = QPersistentModelIndex()

    def bound_row(self) -> int | None:
        """The model row of the entry edited, if any (it follows inserts and removals)."""
        return self._bound.row() if self._bound.isValid() else None

    def bound_index(self) -> QPersistentModelIndex:
        """Where the entry edited is, to find it again after awaiting."""
        return QPersistentModelIndex(self._bound)

    def show_entry(self, force: bool = False, editable: bool = True) -> LexiconItem | None:
        """Show the bound entry (a field being typed into keeps its text unless
        ``force``); the fields take input when there is one and ``editable``. Returns
        the entry, or None when none is bound."""
        row = self.bound_row()
        item = self.model.item(row) if row is not None else LexiconItem("", "")
        for edit, value in ((self.text_edit, item.text), (self.alias_edit, item.alias)):
            # isModified: typed into since last filled (setText clears it).
            if force or not edit.isModified():
                if edit.text() != value:
                    edit.setText(value)
                edit.setModified(False)
            edit.setEnabled(row is not None and editable)
        self.typing_changed.emit()
        return item if row is not None else None

    def typed(self) -> bool:
        """Whether a field holds text typed since the fields were last filled."""
        return self.text_edit.isModified() or self.alias_edit.isModified()

    def commit(self) -> None:
        """What was typed into the fields becomes the bound entry's (one undo step); a
        field not typed into keeps the entry's value as it is now."""
        row = self.bound_row()
        if row is None or self.model.applying:
            return  # (never a new step from inside another one's undo or redo)
        item = self.model.item(row)
        new = LexiconItem(
            self.text_edit.text() if self.text_edit.isModified() else item.text,
            self.alias_edit.text() if self.alias_edit.isModified() else item.alias)
        if new != item:
            self.model.edit_item(row, new, f"Edit “{item.text or new.text}”")
        for edit in (self.text_edit, self.alias_edit):
            edit.setModified(False)  # the entry holds it now
        self.typing_changed.emit()
