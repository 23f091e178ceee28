"""The mouse wheel over the script scrolls it, and a spin box or combo of the inspector
the pointer passes over keeps its value unless the user is working in it (issue 14: a
block's speed changed unnoticed while scrolling)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QUndoStack, QWheelEvent
from PySide6.QtWidgets import QApplication, QWidget

from studio.services.document import ScriptDocument
from studio.services.editor import ScriptEditor
from studio.services.voices import VoiceCatalog
from studio.ui.script.script_panel import ScriptPanel


def wheel_down(widget: QWidget) -> QWidget | None:
    """One notch of the wheel towards the user over the middle of ``widget``, delivered
    as Qt delivers the mouse's: an event left unaccepted goes on to the parent widget
    (QApplication::notify; a sent, non-spontaneous event would stop at ``widget``).
    Returns the widget that took it (``None``: nobody did)."""
    position = QPointF(widget.rect().center())
    receiver: QWidget | None = widget
    while receiver is not None:
        event = QWheelEvent(position, QPointF(receiver.mapToGlobal(position)), QPoint(0, 0),
                            QPoint(0, -120), Qt.MouseButton.NoButton,
                            Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
        event.ignore()
        QApplication.sendEvent(receiver, event)
        if event.isAccepted():
            return receiver
        position = QPointF(receiver.mapToParent(position.toPoint()))
        receiver = receiver.parentWidget()
    return None


def test_the_wheel_over_an_unfocused_field_leaves_it_and_the_script_scrolls(qtbot) -> None:  # type: ignore[no-untyped-def]
    document = ScriptDocument()
    blocks = [document.add_block(text=f"Block number {n}.") for n in range(12)]
    panel = ScriptPanel(document, ScriptEditor(document, QUndoStack()), VoiceCatalog())
    qtbot.addWidget(panel)
    panel.resize(900, 300)  # a dozen blocks do not fit: the script scrolls
    panel.show()
    qtbot.waitExposed(panel)
    panel.view.verticalScrollBar().setValue(0)
    inspector = panel.inspector
    fields = (inspector.speed_spin, inspector.volume_spin, inspector.voice_combo,
              inspector.model_combo, inspector.language_combo, inspector.emotion_combo,
              inspector.dictionary_combo, inspector.speaker_combo)
    before = [(f.value() if hasattr(f, "value") else f.currentIndex()) for f in fields]

    for field in fields:
        assert field.focusPolicy() == Qt.FocusPolicy.StrongFocus
        assert not field.hasFocus()
        assert wheel_down(field) is not field

    assert [(f.value() if hasattr(f, "value") else f.currentIndex()) for f in fields] == before
    assert document.block(blocks[0].id).speed == 1.0
    assert wheel_down(panel.view.viewport()) is panel.view.viewport()
    assert panel.view.verticalScrollBar().value() > 0, "the script scrolled"


def test_the_wheel_still_steps_the_field_the_user_works_in(qtbot) -> None:  # type: ignore[no-untyped-def]
    document = ScriptDocument()
    block = document.add_block(text="Only block.")
    panel = ScriptPanel(document, ScriptEditor(document, QUndoStack()), VoiceCatalog())
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    spin = panel.inspector.speed_spin
    panel.activateWindow()
    spin.setFocus(Qt.FocusReason.MouseFocusReason)
    qtbot.waitUntil(spin.hasFocus)

    assert wheel_down(spin) is spin

    assert spin.value() < 1.0
    assert document.block(block.id).speed == spin.value()
