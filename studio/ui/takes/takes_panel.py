"""The take history of one block (issue #3): every take listed newest first, played,
compared A/B at matched loudness, restored, starred, renamed and deleted.

The panel never changes the document: restoring, deleting, renaming and starring are
requested by signal, and the main window routes them to its undoable editor. It plays
audio itself through the :class:`~studio.services.playback.PlaybackService`. Reading a
take's audio (which may come from the project file) and measuring loudness run in a
worker thread; the results are applied back on the event loop (STYLE.md, napari).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shiboken6
from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.audio.loudness import MatchedPair, gain_to_db, match_loudness
from studio.project.edited_audio import edited
from studio.project.model import Block, Take
from studio.services.document import ScriptDocument
from studio.services.playback import PlaybackService
from studio.services.tasks import TaskGroup
from studio.services.threads import in_thread
from studio.ui.takes.take_table import (
    BACKEND,
    COLUMNS,
    NAME,
    STAR,
    WORDS,
    TakeTable,
    TakeTableModel,
)
from studio.ui.widgets.actions import make_action

log = logging.getLogger(__name__)

#: Silence between A and B in a comparison, in seconds.
COMPARE_GAP_SECONDS = 0.6


def format_db(db: float) -> str:
    """``−1.8 dB`` with a true minus sign; ``0.0 dB`` for anything that rounds to it."""
    return "0.0 dB" if round(db, 1) == 0 else f"{_signed(db)} dB"


def _signed(value: float) -> str:
    return f"{value:.1f}".replace("-", "\N{MINUS SIGN}")


def prepare_comparison(take_a: Take, take_b: Take, a_lufs: float | None = None,
                       b_lufs: float | None = None) -> MatchedPair:
    """Both takes as edited, at matched loudness (:func:`match_loudness`); loudness
    already measured is not measured again. Slow: run it in a worker thread.

    Raises:
        Whatever reading a take's audio raises (see :class:`studio.project.model.TakeAudio`).
    """
    return match_loudness(edited(take_a).audio, take_a.sample_rate, edited(take_b).audio,
                          take_b.sample_rate, a_lufs, b_lufs)


def _load_audio(take: Take) -> npt.NDArray[np.float32]:
    """The take as edited (what plays and exports); may read the project file."""
    return edited(take).audio


@dataclass(frozen=True, slots=True)
class _ABLabels:
    """What the status line says about a comparison.

    Attributes:
        a, b: ``A: Take 2 (−1.8 dB)``: the take and the gain it plays with.
        tip: the loudness measured, or why it was not matched.
        b_starts: seconds into the comparison from which B counts as playing (the
            middle of the gap).
    """

    a: str
    b: str
    tip: str
    b_starts: float

    @classmethod
    def of(cls, take_a: Take, take_b: Take, comparison: MatchedPair) -> _ABLabels:
        silent = [take.name for take, lufs in ((take_a, comparison.a_lufs),
                                               (take_b, comparison.b_lufs))
                  if not math.isfinite(lufs)]
        if silent:
            tip = (f"Not loudness-matched: {' and '.join(silent)} "
                   + ("is silent." if len(silent) == 1 else "are silent."))
        else:
            tip = (f"Loudness before matching: A {_signed(comparison.a_lufs)} LUFS, "
                   f"B {_signed(comparison.b_lufs)} LUFS. Both play at the quieter one's "
                   f"loudness, {COMPARE_GAP_SECONDS:g} s apart.")
        return cls(f"A: {take_a.name} ({format_db(gain_to_db(comparison.gain_a))})",
                   f"B: {take_b.name} ({format_db(gain_to_db(comparison.gain_b))})", tip,
                   comparison.a.shape[0] / comparison.sample_rate + COMPARE_GAP_SECONDS / 2)

    def text(self, side: str = "") -> str:
        """``A: … → B: …``, with ``▶`` before the ``side`` playing (``""``: none)."""
        a = "▶ " + self.a if side == "A" else self.a
        b = "▶ " + self.b if side == "B" else self.b
        return f"{a} → {b}"


class TakesPanel(QWidget):
    """Every take of one block, newest first, with what a user does to them.

    Columns: star (click toggles), name (double-click or F2 renames in place), created
    (local time), duration, words, backend, credits ("free" for 0), and state
    (Selected / Out of date). Play (Space, or double-click a row) plays a take through
    ``playback``; Compare A/B plays two selected takes, the older first, at the
    loudness of the quieter one with :data:`COMPARE_GAP_SECONDS` between them, and
    says which is which and the gain each got. Everything that changes the document
    is requested by signal.

    Signals:
        select_requested(str block_id, str take_id): make ``take_id`` the block's
            selected take ("Use this take").
        delete_requested(str block_id, str take_id): delete the take; one signal per
            take when several are selected (the Delete key, or the Delete button).
        rename_requested(str block_id, str take_id, str name): a new name, not empty,
            stripped of surrounding spaces.
        star_requested(str block_id, str take_id, bool starred): the state wanted.

    Attributes:
        document: the script whose takes are shown.
        playback: where takes play.
        model: the rows (:class:`TakeTableModel`).
        table: the :class:`~studio.ui.takes.take_table.TakeTable` (Space plays, Delete deletes
            while it has focus).
        status_label: what is playing, or which take of a comparison is A and which B.
    """

    select_requested = Signal(str, str)
    delete_requested = Signal(str, str)
    rename_requested = Signal(str, str, str)
    star_requested = Signal(str, str, bool)

    def __init__(self, document: ScriptDocument, playback: PlaybackService,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TakesPanel")
        self.document = document
        self.playback = playback
        self._block_id = ""
        # By take id and edits: a take's own audio never changes, its edits may.
        self._lufs: dict[tuple[str, tuple[Any, ...]], float] = {}
        self._tasks = TaskGroup(self._on_failed, what="takes panel")
        self._job: asyncio.Task[None] | None = None  # the one Play or Compare that counts
        self._stream_id: int | None = None
        self._playing_name = ""  # a single take playing
        self._ab: _ABLabels | None = None  # the last comparison

        self.title_label = QLabel()
        self.title_label.setObjectName("TakesTitle")
        self.title_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.hint_label = QLabel()
        self.hint_label.setObjectName("Hint")
        self.hint_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint_label.setWordWrap(True)

        self.model = TakeTableModel(self, document.is_current)
        self.table = TakeTable()
        self.table.setObjectName("TakesTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        # Words and backend are in each take's row under its block already; hiding them
        # here leaves the names room in a narrow dock.
        for column in (WORDS, BACKEND):
            self.table.setColumnHidden(column, True)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

        self.stack = QStackedWidget()
        self.stack.addWidget(self.hint_label)
        self.stack.addWidget(self.table)

        self.play_action = self._action(
            "Play", "Play this take (Space, or double-click the row); Stop while it plays",
            self.play_or_stop)
        self.use_action = self._action(
            "Use this take", "Make this the block's selected take: the one that plays and exports",
            self.use_selected)
        self.compare_action = self._action(
            "Compare A/B", "With two takes selected (Ctrl+click): play the older (A), then the "
            "newer (B), at the same loudness", self.compare_selected)
        self.star_action = self._action("Star", "Star or unstar the selected takes",
                                        self.star_selected)
        self.rename_action = self._action("Rename", "Rename the take (F2)", self.rename_selected)
        self.delete_action = self._action("Delete", "Delete the selected takes (Del)",
                                          self.delete_selected)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        # Two rows, so the panel stays as narrow with takes as without (one row of six
        # was 430 px: the right dock widened under the user when the first take came).
        buttons = QVBoxLayout()
        buttons.setSpacing(4)
        buttons.setContentsMargins(0, 0, 0, 0)
        for group in ((self.play_action, self.use_action, self.compare_action),
                      (self.star_action, self.rename_action, self.delete_action)):
            row = QHBoxLayout()
            row.setSpacing(4)
            for action in group:
                self.table.addAction(action)
                button = QToolButton()
                button.setObjectName("TakeAction")
                button.setDefaultAction(action)
                row.addWidget(button)
            row.addStretch(1)
            buttons.addLayout(row)
        self._buttons = QWidget()
        self._buttons.setLayout(buttons)

        self.status_label = QLabel()
        self.status_label.setObjectName("TakesStatus")
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(4)
        layout.addWidget(self.title_label)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self._buttons)
        layout.addWidget(self.status_label)

        self.table.selectionModel().selectionChanged.connect(self._update_actions)
        self.table.doubleClicked.connect(self._on_double_clicked)
        self.table.clicked.connect(self._on_clicked)
        self.table.play_pressed.connect(self.play_or_stop)
        self.table.delete_pressed.connect(self.delete_selected)
        self.model.rename_edited.connect(self._on_rename_edited)
        # Bound methods, not lambdas: Qt drops these connections when the panel is deleted.
        for signal in (document.take_added, document.take_removed, document.take_changed,
                       document.take_selected):
            signal.connect(self._on_take_event)
        document.block_changed.connect(self._on_block_changed)
        document.block_removed.connect(self._on_block_removed)
        document.block_inserted.connect(self._on_blocks_moved)
        document.blocks_inserted.connect(self._on_blocks_moved)
        document.blocks_removed.connect(self._on_many_removed)
        document.block_moved.connect(self._on_blocks_moved)
        document.reset.connect(self._on_reset)
        document.pronunciation_changed.connect(self._refresh)
        playback.started.connect(self._on_playback_changed)
        playback.stopped.connect(self._on_playback_changed)
        playback.position_changed.connect(self._on_position)
        self.set_block("")

    def _action(self, text: str, tip: str, slot: Callable[[], object]) -> QAction:
        return make_action(self, text, slot, tip=tip)

    # --- what is shown -----------------------------------------------------------

    @property
    def block_id(self) -> str:
        """The block shown, or ``""``."""
        return self._block_id

    def set_block(self, block_id: str) -> None:
        """Show the takes of ``block_id``; ``""`` shows a hint instead. The block's
        selected take starts out selected in the table.

        Raises:
            KeyError: ``block_id`` is not in the document.
        """
        if block_id and not self.document.has_block(block_id):
            raise KeyError(block_id)
        if block_id == self._block_id and block_id:
            self._refresh()
            return
        if self._job is not None and not self._job.done():
            self._job.cancel()  # a comparison for the previous block is not wanted now
        self._block_id = block_id
        self._lufs.clear()
        self._ab = None
        self._show_fresh()
        self._render_status()

    def selected_take_ids(self) -> list[str]:
        """Ids of the takes selected in the table, top row first."""
        return [self.model.take_at(row).id for row in self._selected_rows()]

    def _block(self) -> Block | None:
        if self._block_id and self.document.has_block(self._block_id):
            return self.document.block(self._block_id)
        return None

    def _show_fresh(self, keep: Sequence[str] = (), current: str = "") -> None:
        """Rebuild the rows, then select ``keep`` (default: the block's selected take)."""
        block = self._block()
        self.model.show_block(block)
        if block is not None and not keep and block.selected_take_id:
            keep = [block.selected_take_id]
            current = block.selected_take_id
        self._select_ids(keep, current)
        self._update_view()

    def _refresh(self) -> None:
        block = self._block()
        if block is None:
            self.set_block("")
            return
        keep, current = self.selected_take_ids(), self._current_take_id()
        first_row = min(self._selected_rows(), default=-1)
        self.model.sync(block)
        if keep and not self._selected_rows():  # the model had to start over
            self._select_ids(keep, current)
        if first_row >= 0 and not self._selected_rows() and self.model.rowCount():
            # The selected takes were deleted: select the take now in their place, so
            # the keys keep working on the list as in a file manager.
            neighbour = self.model.take_at(min(first_row, self.model.rowCount() - 1)).id
            self._select_ids([neighbour], neighbour)
        self._update_view()

    def _select_ids(self, take_ids: Sequence[str], current: str) -> None:
        selection = QItemSelection()
        for take_id in take_ids:
            row = self.model.row_of(take_id)
            if row >= 0:
                selection.select(self.model.index(row, 0),
                                 self.model.index(row, len(COLUMNS) - 1))
        chooser = self.table.selectionModel()
        row = self.model.row_of(current) if current else -1
        if row >= 0:
            chooser.setCurrentIndex(self.model.index(row, NAME),
                                    QItemSelectionModel.SelectionFlag.NoUpdate)
        chooser.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def _update_view(self) -> None:
        block = self._block()
        count = self.model.rowCount()
        if block is None:
            self.title_label.setText("")
            self.title_label.setToolTip("")
            self.hint_label.setText("Select a block to see its takes.")
        else:
            number = self.document.index_of(block.id) + 1
            text = " ".join(block.text.split())
            excerpt = text if len(text) <= 48 else text[:47].rstrip() + "…"
            takes = f"{count} take" + ("" if count == 1 else "s")
            self.title_label.setText(f"Block {number} · {takes}"
                                     + (f" · “{excerpt}”" if excerpt else ""))
            self.title_label.setToolTip(text)
            self.hint_label.setText(f"No takes of block {number} yet: generate one (Ctrl+G).")
        self.stack.setCurrentWidget(self.table if count else self.hint_label)
        self.title_label.setVisible(block is not None)
        self._buttons.setVisible(bool(count))
        self._update_actions()

    def _selected_rows(self) -> list[int]:
        return sorted(index.row() for index in self.table.selectionModel().selectedRows())

    def _current_take_id(self) -> str:
        index = self.table.currentIndex()
        return self.model.take_at(index.row()).id if index.isValid() else ""

    def _target_take(self) -> Take | None:
        """The take Play, Use and Rename act on: the current row if it is selected,
        else the only selected row."""
        rows = self._selected_rows()
        current = self.table.currentIndex()
        if current.isValid() and current.row() in rows:
            return self.model.take_at(current.row())
        return self.model.take_at(rows[0]) if len(rows) == 1 else None

    def _update_actions(self, *_args: object) -> None:
        rows = self._selected_rows()
        takes = [self.model.take_at(row) for row in rows]
        block = self._block()
        target = self._target_take()
        playing = self._playing_ours()
        self.play_action.setText("Stop" if playing else "Play")
        self.play_action.setEnabled(playing or target is not None)
        self.use_action.setEnabled(len(rows) == 1 and block is not None
                                   and block.selected_take_id != takes[0].id)
        self.compare_action.setEnabled(len(rows) == 2)
        self.star_action.setEnabled(bool(rows))
        self.star_action.setText("Unstar" if takes and all(t.starred for t in takes) else "Star")
        self.rename_action.setEnabled(len(rows) == 1)
        self.delete_action.setEnabled(bool(rows))

    # --- requests ----------------------------------------------------------------

    def use_selected(self) -> None:
        """Ask for the selected take to become the block's selected take."""
        take = self._target_take()
        if take is not None and self._block_id:
            self.select_requested.emit(self._block_id, take.id)

    def star_selected(self) -> None:
        """Star the selected takes, or unstar them if all are starred."""
        takes = [self.model.take_at(row) for row in self._selected_rows()]
        starred = not all(take.starred for take in takes)
        for take in takes:
            if take.starred != starred:
                self.star_requested.emit(self._block_id, take.id, starred)

    def rename_selected(self) -> None:
        """Open the name editor of the selected take."""
        take = self._target_take()
        if take is not None:
            index = self.model.index(self.model.row_of(take.id), NAME)
            self.table.setCurrentIndex(index)
            self.table.edit(index)

    def delete_selected(self) -> None:
        """Ask for every selected take to be deleted."""
        block_id = self._block_id
        for take_id in self.selected_take_ids():
            self.delete_requested.emit(block_id, take_id)

    def _on_rename_edited(self, take_id: str, name: str) -> None:
        if self._block_id:
            self.rename_requested.emit(self._block_id, take_id, name)

    def _on_clicked(self, index: QModelIndex) -> None:
        if index.column() == STAR and self._block_id:
            take = self.model.take_at(index.row())
            self.star_requested.emit(self._block_id, take.id, not take.starred)

    def _on_double_clicked(self, index: QModelIndex) -> None:
        if index.column() == NAME:
            self.table.edit(index)
        elif index.column() != STAR:  # a quick second click on a star only toggles it
            self.play_take(self.model.take_at(index.row()).id)

    # --- playing -----------------------------------------------------------------

    def play_or_stop(self) -> None:
        """Stop what this panel plays, or play the current take."""
        if self._playing_ours():
            self.playback.stop()
            return
        take = self._target_take()
        if take is not None:
            self.play_take(take.id)

    def play_take(self, take_id: str) -> None:
        """Play one take of the shown block (its audio is read in a worker thread if
        it is not in memory yet).

        Raises:
            KeyError: no such take in the shown block.
        """
        take = self.document.take(self._block_id, take_id)
        self._start(self._play, take)

    def compare_selected(self) -> None:
        """Play the two selected takes A/B (the older is A) at matched loudness."""
        rows = self._selected_rows()
        if len(rows) == 2:
            # Rows run newest first, so the lower row is the older take.
            self._start(self._compare, self.model.take_at(rows[1]), self.model.take_at(rows[0]))

    async def wait_idle(self) -> None:
        """Return once the last Play or Compare has read its audio and started (tests)."""
        await self._tasks.wait_idle()

    def shutdown(self) -> None:
        """Stop reading and measuring takes; for the app's shutdown."""
        self._tasks.cancel()

    def _start(self, work: Callable[..., Coroutine[Any, Any, None]], *args: Take) -> None:
        """Run a Play or Compare; a newer one replaces one still reading its audio."""
        if self._job is not None and not self._job.done():
            self._job.cancel()
        self._job = self._tasks.start(work, *args)

    def _on_failed(self, exc: Exception) -> None:  # a project file can fail to read
        if shiboken6.isValid(self):
            self._ab = None
            self._render_status(f"Could not read the take's audio: {exc}", error=True)

    async def _play(self, take: Take) -> None:
        if take.source.loaded and not take.edits:
            audio = take.audio
        else:
            self._render_status(f"Reading {take.name}…")
            audio = await in_thread(_load_audio, take)
            if not shiboken6.isValid(self):
                return
        self._stream_id = self.playback.play(audio, take.sample_rate)
        self._ab = None
        self._playing_name = take.name
        self._on_playback_changed()

    async def _compare(self, take_a: Take, take_b: Take) -> None:
        self._ab = None
        self._render_status("Matching loudness…")
        key_a, key_b = (take_a.id, take_a.edits), (take_b.id, take_b.edits)
        known = self._lufs.get(key_a), self._lufs.get(key_b)
        comparison = await in_thread(prepare_comparison, take_a, take_b, *known)
        if not shiboken6.isValid(self):
            return
        self._lufs[key_a] = comparison.a_lufs
        if take_b.sample_rate == take_a.sample_rate:
            self._lufs[key_b] = comparison.b_lufs
        rate = comparison.sample_rate
        self._stream_id = self.playback.play_sequence(
            [comparison.a, comparison.b], rate, COMPARE_GAP_SECONDS)
        self._playing_name = ""
        self._ab = _ABLabels.of(take_a, take_b, comparison)
        self._on_playback_changed()

    def _playing_ours(self) -> bool:
        return self._stream_id is not None and self.playback.is_current(self._stream_id)

    def _on_playback_changed(self) -> None:
        if self._stream_id is not None and not self._playing_ours():
            self._stream_id = None
            self._playing_name = ""
        self._render_status()
        self._update_actions()

    def _on_position(self, seconds: float) -> None:
        if self._ab is not None and self._playing_ours():
            self._render_status(side="A" if seconds < self._ab.b_starts else "B")

    def _render_status(self, text: str = "", error: bool = False, side: str = "") -> None:
        """Show ``text``; without it, the last comparison (``side``: the part playing
        now, if it still plays) or the take this panel plays."""
        tip = ""
        if not text and self._ab is not None:
            text, tip = self._ab.text((side or "A") if self._playing_ours() else ""), self._ab.tip
        elif not text and self._playing_name and self._playing_ours():
            text = f"▶ {self._playing_name}"
        self.status_label.setText(text)
        self.status_label.setToolTip(tip)
        if bool(self.status_label.property("error")) != error:
            self.status_label.setProperty("error", error)
            self.style().unpolish(self.status_label)
            self.style().polish(self.status_label)

    # --- from the document -------------------------------------------------------

    def _on_take_event(self, block_id: str, _take_id: str) -> None:
        if block_id == self._block_id:
            self._refresh()

    def _on_block_changed(self, block_id: str) -> None:
        if block_id == self._block_id:
            self._refresh()  # takes may have gone out of date, the title changed

    def _on_block_removed(self, _index: int, block_id: str) -> None:
        if block_id == self._block_id:
            self.set_block("")
        elif self._block_id:
            self._update_view()  # the block's number may have changed

    def _on_many_removed(self, removed: list[tuple[int, str]]) -> None:
        if any(block_id == self._block_id for _index, block_id in removed):
            self.set_block("")
        else:
            self._on_blocks_moved()

    def _on_blocks_moved(self, *_args: object) -> None:
        if self._block_id:
            self._update_view()

    def _on_reset(self) -> None:
        self._lufs.clear()
        if self._block() is None:
            self.set_block("")
            return
        keep, current = self.selected_take_ids(), self._current_take_id()
        self._show_fresh(keep, current)
