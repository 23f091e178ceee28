"""The inspector's widgets and helpers: "mixed" values over a selection, a speaker
combo listed on opening, and a wheel guard for value fields."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QListWidget,
    QListWidgetItem,
    QToolButton,
    QWidget,
)

from studio.project.model import Block
from studio.services.document import ScriptDocument
from studio.ui.script.dictionary_choice import dictionary_choices
from studio.ui.takes.take_label import take_label

DEFAULT_EMOTION_LABEL = "(voice default)"
#: Shown where the blocks of a selection differ.
MIXED = "mixed"
#: What :func:`common` returns for values that differ.
UNSET = object()


def common(values: Iterable[Any]) -> Any:
    """The value all of ``values`` share, else :data:`UNSET` (shown as "mixed")."""
    found = set(values)
    return next(iter(found)) if len(found) == 1 else UNSET


class WheelGuard(QObject):
    """The wheel over a field the user is not working in leaves its value alone: the
    event goes on to the parents (the inspector scrolls) instead."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget)
                and not watched.hasFocus()):
            event.ignore()
            return True
        return super().eventFilter(watched, event)


class SpeakerComboBox(QComboBox):
    """An editable combo of the script's speakers, listed when it opens (listing them
    reads every block: not on each keystroke)."""

    def __init__(self, speakers: Callable[[], list[str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._speakers = speakers
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)

    def showPopup(self) -> None:
        self.refresh_items()
        super().showPopup()

    def refresh_items(self) -> None:
        speakers = self._speakers()
        if [self.itemText(i) for i in range(self.count())] != speakers:
            text = self.currentText()
            self.blockSignals(True)
            self.clear()
            self.addItems(speakers)
            self.setCurrentText(text)
            self.blockSignals(False)


def ratio_spin(low: float, high: float, tip: str) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(low, high)
    spin.setSingleStep(0.05)
    spin.setDecimals(2)
    spin.setSpecialValueText(MIXED)  # shown at the minimum only while it is "mixed"
    spin.setToolTip(f"{tip} ({low}–{high})")
    return spin

def tool_button(text: str, tip: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    return button


def show_text(combo: QComboBox, text: str) -> None:
    if combo.currentText() != text:
        combo.blockSignals(True)
        combo.setCurrentText(text)
        combo.blockSignals(False)
    line = combo.lineEdit()
    if line is not None:
        line.setPlaceholderText(MIXED)

def show_index(combo: QComboBox, index: int, missing: str) -> None:
    combo.blockSignals(True)
    if index < 0 and missing and combo.findText(missing) < 0:
        combo.addItem(missing)  # a value the list lacks is shown, not replaced
        index = combo.count() - 1
    combo.setPlaceholderText(MIXED)
    combo.setCurrentIndex(index)
    combo.blockSignals(False)


def show_dictionary(combo: QComboBox, document: ScriptDocument, blocks: list[Block]) -> None:
    """Offer the dictionary choices for ``blocks`` in ``combo`` and show theirs (none
    when they differ: the placeholder says "mixed")."""
    choices = dictionary_choices(document, blocks)
    current = [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())]
    wanted = [(label, data) for label, data, _tip in choices.entries]
    combo.blockSignals(True)
    if current != wanted:
        combo.clear()
        for label, data, tip in choices.entries:
            combo.addItem(label, data)
            combo.setItemData(combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
    chosen = common(b.pronunciation_dict_id for b in blocks)
    combo.setPlaceholderText(MIXED)
    combo.setCurrentIndex(-1 if chosen is UNSET else next(
        (i for i, (_label, data) in enumerate(wanted) if data == chosen), -1))
    combo.blockSignals(False)
    combo.setEnabled(choices.supported)
    combo.setToolTip(choices.tooltip)


def fill_takes(take_list: QListWidget, block: Block) -> None:
    """List ``block``'s takes, newest first, the selected one current."""
    take_list.clear()
    for take in reversed(block.takes):
        item = QListWidgetItem(take_label(take))
        item.setData(Qt.ItemDataRole.UserRole, take.id)
        take_list.addItem(item)
        if take.id == block.selected_take_id:
            take_list.setCurrentItem(item)
