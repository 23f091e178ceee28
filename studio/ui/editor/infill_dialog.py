"""The Replace dialog: type new words for a selection, hear infill candidates in
place, and accept one.

Each "Preview" (or "Another candidate") makes a candidate through
:class:`~studio.services.infill.InfillService`: it is kept with the take whatever
happens next, so reopening the dialog on the same words lists it again, and the same
text on the same words comes back without a new request. The cost of a new candidate
is shown before it is asked for. Accepting emits ``clip_accepted``; the Editor panel
turns it into an undoable edit. The dialog is not modal: the waveform stays usable.
"""

from __future__ import annotations

import asyncio
import logging
import time

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.api.errors import CartesiaError
from studio.project.edits import Clip, Edited
from studio.project.infill import InfillError, InfillPlan
from studio.project.model import Take
from studio.services.document import ScriptDocument
from studio.services.infill import InfillService, preview_audio
from studio.services.playback import PlaybackService

log = logging.getLogger(__name__)


def _describe(number: int, clip: Clip) -> str:
    cost = f"{clip.credits} credits" if clip.credits else "free"
    stamp = time.strftime("%H:%M:%S", time.localtime(clip.created_at))
    return f"{number}. “{clip.transcript}” · {clip.duration:.2f} s · {cost} · {stamp}"


class InfillDialog(QDialog):
    """Replace the planned span of a take with new words.

    Attributes:
        text_edit: the replacement text.
        estimate_label: what a new candidate costs.
        candidates: the candidates for this span, newest last.
        status_label: progress and errors.

    Signals:
        clip_accepted(str take_id, object edits_before, object plan, object clip): the
            user accepted ``clip`` for ``plan`` of the take whose edits were
            ``edits_before`` when the dialog opened.
    """

    clip_accepted = Signal(str, object, object, object)

    def __init__(self, infill: InfillService, playback: PlaybackService,
                 document: ScriptDocument, block_id: str, take: Take, shown: Edited,
                 plan: InfillPlan, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Replace words")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.infill = infill
        self.playback = playback
        self._block_id = block_id
        self._take = take
        self._shown = shown
        self.plan = plan
        self._task: asyncio.Future[None] | None = None

        rate = plan.sample_rate
        where = f"{plan.start / rate:.2f}–{plan.end / rate:.2f} s"
        what = (f"Replace “{' '.join(plan.words)}” ({where})" if plan.words
                else f"Insert new words at {plan.start / rate:.2f} s" if plan.start == plan.end
                else f"Replace {where}")
        self.what_label = QLabel(what, self)
        self.what_label.setWordWrap(True)
        sides = []
        if not plan.left.size:
            sides.append("at the very start, so only the audio after it guides the infill")
        if not plan.right.size:
            sides.append("at the very end, so only the audio before it guides the infill")
        self.sides_label = QLabel("The selection is " + "; ".join(sides) + "." if sides else "",
                                  self)
        self.sides_label.setWordWrap(True)
        self.sides_label.setVisible(bool(sides))
        self.text_edit = QLineEdit(" ".join(plan.words), self)
        self.text_edit.selectAll()  # typing replaces the old words
        self.text_edit.setPlaceholderText("New words")
        self.text_edit.setAccessibleName("Replacement text")
        self.text_edit.textChanged.connect(self._update)
        self.text_edit.returnPressed.connect(self.preview)
        self.estimate_label = QLabel(self)
        self.preview_button = QPushButton("Preview", self)
        self.preview_button.setToolTip("Generate a candidate (or reuse the one made for "
                                       "the same words) and play it in place")
        self.preview_button.clicked.connect(self.preview)
        self.again_button = QPushButton("Another candidate", self)
        self.again_button.setToolTip("Generate a new candidate even if one exists for these words")
        self.again_button.clicked.connect(lambda: self.preview(force=True))
        self.play_button = QPushButton("Play", self)
        self.play_button.clicked.connect(self.play_selected)
        self.candidates = QListWidget(self)
        self.candidates.setAccessibleName("Infill candidates")
        self.candidates.currentRowChanged.connect(lambda _row: self._update())
        self.candidates.itemDoubleClicked.connect(lambda _item: self.play_selected())
        self.status_label = QLabel(self)
        self.status_label.setWordWrap(True)
        self.buttons = QDialogButtonBox(self)
        self.accept_button = self.buttons.addButton("Accept",
                                                    QDialogButtonBox.ButtonRole.AcceptRole)
        self.discard_button = self.buttons.addButton("Discard",
                                                     QDialogButtonBox.ButtonRole.RejectRole)
        self.discard_button.setToolTip("Close without changing the take (candidates are kept)")
        self.buttons.accepted.connect(self.accept_selected)
        self.buttons.rejected.connect(self.reject)

        row = QHBoxLayout()
        row.addWidget(self.preview_button)
        row.addWidget(self.again_button)
        row.addWidget(self.play_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.what_label)
        layout.addWidget(self.sides_label)
        layout.addWidget(self.text_edit)
        layout.addWidget(self.estimate_label)
        layout.addLayout(row)
        layout.addWidget(QLabel("Candidates:", self))
        layout.addWidget(self.candidates, 1)
        layout.addWidget(self.status_label)
        layout.addWidget(self.buttons)
        self.resize(520, 360)

        self._document = document
        for clip in document.clips_of(take.id):
            self._on_clip_added(take.id, clip.id)
        # A candidate asked for from an earlier dialog on these words may arrive now.
        document.clip_added.connect(self._on_clip_added)
        self._update()

    def _on_clip_added(self, take_id: str, clip_id: str) -> None:
        if take_id != self._take.id or not shiboken6.isValid(self):
            return
        clip = self._document.clip(clip_id)
        if (self._row_of(clip) is None and clip.kind == "infill"
                and clip.request.get("span") == [self.plan.start, self.plan.end]):
            self._add(clip)

    def _row_of(self, clip: Clip) -> int | None:
        """The list row showing ``clip``, or None."""
        return next((row for row in range(self.candidates.count())
                     if self.candidates.item(row).data(Qt.ItemDataRole.UserRole) is clip), None)

    # --- state ---------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def selected_clip(self) -> Clip | None:
        item = self.candidates.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def _update(self) -> None:
        text = self.text_edit.text().strip()
        credits = self.infill.estimate(text)
        self.estimate_label.setText(
            "Free on the offline engine" if self.infill.is_free
            else f"A new candidate costs about {credits} credits (300 + 1 per character)")
        busy = self.busy
        self.preview_button.setEnabled(bool(text) and not busy)
        self.again_button.setEnabled(bool(text) and not busy)
        has = self.selected_clip() is not None
        self.play_button.setEnabled(has)
        self.accept_button.setEnabled(has and not busy)

    def _add(self, clip: Clip) -> None:
        item = QListWidgetItem(_describe(self.candidates.count() + 1, clip))
        item.setData(Qt.ItemDataRole.UserRole, clip)
        self.candidates.addItem(item)
        self.candidates.setCurrentItem(item)

    # --- actions -------------------------------------------------------------------

    def preview(self, force: bool = False) -> asyncio.Future[None] | None:
        """Make (or reuse) a candidate for the text, then play it in place."""
        if self.busy or not self.text_edit.text().strip():
            return None
        self._task = asyncio.ensure_future(self._make(self.text_edit.text(), force))
        self._update()
        return self._task

    async def _make(self, text: str, force: bool) -> None:
        if not shiboken6.isValid(self):
            return
        self.status_label.setText("Generating a candidate…")
        try:
            clip, reused = await self.infill.candidate(self._block_id, self._take.id, self.plan,
                                                       text, force=force)
        except (InfillError, CartesiaError) as exc:
            if shiboken6.isValid(self):
                self.status_label.setText(f"{exc} Nothing was changed.")
            return
        except Exception as exc:  # the dialog must survive anything the request does
            log.exception("infill failed")
            if shiboken6.isValid(self):
                self.status_label.setText(f"Infill failed: {exc}. Nothing was changed.")
            return
        finally:
            if shiboken6.isValid(self):
                self._task = None
                self._update()
        if not shiboken6.isValid(self):
            return
        existing = self._row_of(clip)  # a new candidate is listed already (clip_added)
        if existing is None:  # one reused from another take or span is not
            self._add(clip)
        else:
            self.candidates.setCurrentRow(existing)
        self.status_label.setText("The same words were made before: reused at no cost."
                                  if reused else "Candidate ready. Accept it, or try another.")
        self.play_selected()

    def shutdown(self) -> None:
        """Stop making a candidate (nothing is changed); for the app's shutdown."""
        if self._task is not None:
            self._task.cancel()

    def play_selected(self) -> None:
        clip = self.selected_clip()
        if clip is not None:
            self.playback.play(preview_audio(self._shown, self.plan, clip), self.plan.sample_rate)

    def accept_selected(self) -> None:
        clip = self.selected_clip()
        if clip is None:
            return
        self.clip_accepted.emit(self._take.id, self._take.edits, self.plan, clip)
        self.accept()

