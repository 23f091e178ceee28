"""The voice library (issue #5): search and filter the connected backend's voices,
preview them, see their details, rename, delete, localize, star, use one in the
script, and open the recorder to clone a new one.

Every request goes through :class:`~studio.services.voice_lab.VoiceLab`; this module
only shows the list and asks. Dialogs open from slots, never inside a coroutine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from html import escape
from typing import Any

import shiboken6
from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QSizePolicy,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from studio.api import CartesiaError, Voice
from studio.audio.devices import list_input_devices
from studio.audio.recorder import Recorder
from studio.project.model import Recording
from studio.services.playback import PlaybackService
from studio.services.tasks import TaskGroup, Work
from studio.services.voice_lab import VoiceLab, VoiceLabError
from studio.ui.voices.recorder_dialog import RecorderDialog
from studio.ui.voices.voice_dialogs import LocalizeDialog, VoiceEditDialog
from studio.ui.voices.voice_table import (
    ANY,
    COLUMNS,
    GENDER,
    GENDER_LABELS,
    LANGUAGE,
    NAME,
    OWNER,
    OWNER_FILTERS,
    STAR,
    VoiceTableModel,
    filter_voices,
)
from studio.ui.widgets.actions import make_action
from studio.ui.widgets.languages import language_label

log = logging.getLogger(__name__)

#: A finished action's message ("Using Marcus for the current block") goes after this
#: long, or at the user's next selection; messages of work under way wait for its end.
STATUS_SECONDS = 8.0
NO_OUTPUT = "no audio output device"


def blocks_sentence(numbers: Sequence[int]) -> str:
    """What deleting a voice does to the script, naming the blocks that use it."""
    if not numbers:
        return "No block of this script uses it."
    shown = [str(n) for n in numbers[:12]]
    if len(numbers) > 12:
        shown.append(f"{len(numbers) - 12} more")
    listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
    if len(numbers) == 1:
        return (f"Block {listed} uses this voice; it keeps its id but will fail to generate "
                "until you pick another voice.")
    return (f"Blocks {listed} use this voice; they keep its id but will fail to generate "
            "until you pick another voice.")


def column_widths(metrics: QFontMetrics) -> dict[int, int]:
    """Pixel widths of the short columns (all but the name), from the widest text each
    can show: its header or its longest value."""
    pad = 10  # the cell's margins on both sides
    texts = {STAR: ("★",), LANGUAGE: (COLUMNS[LANGUAGE], "en-GB"),
             GENDER: (COLUMNS[GENDER], *GENDER_LABELS.values()),
             OWNER: (COLUMNS[OWNER], "Mine", "Public")}
    return {column: max(metrics.horizontalAdvance(t) for t in shown) + pad
            for column, shown in texts.items()}


class VoicesPanel(QWidget):
    """The voice library of the connected backend.

    Search matches name and description (and language and id); the filters narrow by
    language, gender, mine/public and starred. Double-click a row or press Preview to
    hear the voice (previews are cached on disk by the lab). Delete is offered for
    the user's own voices only and names the blocks that use the voice before asking.

    Args:
        lab: the voice actions and the catalog they refresh.
        playback: where previews play.
        recorder_factory, input_devices, input_device, recordings: passed to the
            :class:`RecorderDialog` that **Record & clone…** opens (``recordings`` lists
            the project's recordings, to load one again).

    Attributes:
        model: the rows shown (:class:`VoiceTableModel`), after filtering.
        table: the list of voices.
        details_label: the selected voice's description, id, language, gender, created.
        status_label: what is happening, or what went wrong; a finished action's message
            clears after :data:`STATUS_SECONDS` or at the user's next selection.
        status_timer: the single-shot timer that clears it.
        recorder_dialog: the recorder, once opened (kept, so a recording survives closing).

    Signals:
        use_requested(str voice_id): "Use in script" for the selected voice; the app
            gives it to the current block.
        recording_finished(object audio, int sample_rate): forwarded from the recorder
            (float32 mono, shape ``(frames,)``): a new clip to save in the project,
            recorded, imported or trimmed.
        recording_chosen(object): forwarded from the recorder: the project's
            :class:`Recording` loaded to clone again.
        voice_cloned(object): forwarded from the recorder: the :class:`Voice` cloned
            from the latest clip emitted or chosen.
        input_device_changed(str): forwarded from the recorder, for the settings.
    """

    use_requested = Signal(str)
    recording_finished = Signal(object, int)
    recording_chosen = Signal(object)
    voice_cloned = Signal(object)
    input_device_changed = Signal(str)
    pro_clone_requested = Signal()

    def __init__(self, lab: VoiceLab, playback: PlaybackService, *,
                 recorder_factory: Callable[..., Recorder] = Recorder,
                 input_devices: Callable[[], Sequence[Any]] = list_input_devices,
                 input_device: str = "",
                 recordings: Callable[[], list[Recording]] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("VoicesPanel")
        self.lab = lab
        self.playback = playback
        self._recorder_factory = recorder_factory
        self._input_devices = input_devices
        self._input_device = input_device
        self._recordings = recordings
        self.recorder_dialog: RecorderDialog | None = None
        self._tasks = TaskGroup(self._on_task_failed, "voice action")
        self._preview_task: asyncio.Task[None] | None = None
        self._stream_id: int | None = None
        self._playing_name = ""
        self._refilling = False  # the list is being filled again: not the user selecting
        self._status_lasts = False  # the status says how things stand, not what was done
        self.status_timer = QTimer(self)
        self.status_timer.setSingleShot(True)
        self.status_timer.setInterval(int(STATUS_SECONDS * 1000))
        self.status_timer.timeout.connect(self._clear_status)

        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search name or description…")
        self.search_edit.setClearButtonEnabled(True)
        self.language_combo = QComboBox()
        self.gender_combo = QComboBox()
        self.owner_combo = QComboBox()
        for label, _test in OWNER_FILTERS:
            self.owner_combo.addItem(label)
        self.starred_check = QCheckBox("★ Starred")
        self.starred_check.setToolTip("Show only starred voices")
        filters = QVBoxLayout()
        filters.setSpacing(3)
        first, second = QHBoxLayout(), QHBoxLayout()
        for row, widgets in ((first, (self.language_combo, self.gender_combo)),
                             (second, (self.owner_combo,))):
            row.setSpacing(4)
            for widget in widgets:
                # Shrinks with a narrow dock instead of forcing it wide.
                widget.setSizeAdjustPolicy(
                    QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
                widget.setMinimumContentsLength(5)
                row.addWidget(widget, 1)
            filters.addLayout(row)
        second.addWidget(self.starred_check)

        self.model = VoiceTableModel(self)
        self.table = QTableView()
        self.table.setObjectName("VoicesTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        # Widths that never follow the contents: a column sized to its contents changes
        # the table's width when the voices load or change, and with it the dock's. The
        # name takes whatever the short columns leave.
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(16)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        for column, width in column_widths(self.table.fontMetrics()).items():
            header.resizeSection(column, width)

        self.details_label = QLabel()
        self.details_label.setObjectName("VoiceDetails")
        self.details_label.setWordWrap(True)
        self.details_label.setTextFormat(Qt.TextFormat.RichText)
        self.details_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.details_label.setMinimumHeight(64)
        self.details_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        self.preview_action = make_action(
            self, "▶ Preview", self.preview_or_stop,
            tip="Hear the voice (double-click a row); Stop while it plays")
        self.use_action = make_action(self, "Use in script", self.use_selected,
                                      tip="Give the current block this voice (Undo takes it "
                                          "back)")
        self.star_action = make_action(self, "☆ Star", self.star_selected,
                                       tip="Star or unstar the voice")
        self.rename_action = make_action(self, "Edit…", self.rename_selected,
                                         tip="Rename the voice and edit its description")
        self.localize_action = make_action(self, "Localize…", self.localize_selected,
                                           tip="Make a copy of this voice that speaks another "
                                               "language or dialect")
        self.delete_action = make_action(self, "Delete…", self.delete_selected,
                                         tip="Delete this voice (your own voices only)")
        self.record_action = make_action(self, "Record && clone…", self.open_recorder,
                                         tip="Record or import a clip of a voice and clone it")
        self.pro_clone_action = make_action(
            self, "Professional clone…", self.pro_clone_requested.emit,
            tip="Train a voice from many recordings (a dataset and a fine-tune): closer "
                "than a clone from one clip")
        self.refresh_action = make_action(self, "⟳", self.refresh,
                                          tip="Load the voice list again")
        rows = QVBoxLayout()
        rows.setSpacing(3)
        # Three short rows: with Record & clone beside Edit, Localize and Delete, the row
        # was wider than the dock at the window's default size and folded Record & clone
        # (the way to a new voice) into the toolbar's extension menu.
        for group in ((self.preview_action, self.use_action, self.star_action, None,
                       self.refresh_action),
                      (self.rename_action, self.localize_action, self.delete_action),
                      (self.record_action, self.pro_clone_action)):
            # A toolbar, not a row of buttons: in a narrow dock the rest folds into its
            # extension menu instead of forcing the dock (and the window) wider.
            bar = QToolBar()
            bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            bar.setIconSize(bar.iconSize())
            for action in group:
                if action is None:
                    bar.addSeparator()
                else:
                    bar.addAction(action)
            rows.addWidget(bar)

        self.status_label = QLabel()
        self.status_label.setObjectName("VoicesStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(4)
        layout.addWidget(self.search_edit)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.details_label)
        layout.addLayout(rows)
        layout.addWidget(self.status_label)

        self.search_edit.textChanged.connect(self._apply_filters)
        for combo in (self.language_combo, self.gender_combo, self.owner_combo):
            combo.currentIndexChanged.connect(self._apply_filters)
        self.starred_check.toggled.connect(self._apply_filters)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.table.doubleClicked.connect(self._on_double_clicked)
        self.table.clicked.connect(self._on_clicked)
        lab.catalog.voices_changed.connect(self._on_voices_changed)
        lab.catalog.load_failed.connect(self._on_load_failed)
        lab.starred_changed.connect(self._on_starred_changed)
        lab.connection_changed.connect(self._on_connection_changed)
        lab.voice_created.connect(self._on_voice_created)
        playback.started.connect(self._on_playback_changed)
        playback.stopped.connect(self._on_playback_changed)
        self._on_voices_changed()

    # --- the list ------------------------------------------------------------------

    def selected_voice(self) -> Voice | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.voice_at(rows[0].row()) if rows else None

    def select_voice(self, voice_id: str) -> bool:
        """Select ``voice_id`` if it is shown; returns whether it is."""
        row = self.model.row_of(voice_id)
        if row is None:
            return False
        self.table.selectRow(row)
        self.table.scrollTo(self.model.index(row, NAME))
        return True

    def _fill_combo(self, combo: QComboBox, everything: str, values: list[tuple[str, str]]) -> None:
        current = combo.currentData() or ANY
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(everything, ANY)
        for label, value in values:
            combo.addItem(label, value)
        combo.setCurrentIndex(max(combo.findData(current), 0))
        combo.blockSignals(False)

    def _on_voices_changed(self) -> None:
        voices = self.lab.catalog.voices
        languages = sorted({v.language for v in voices if v.language})
        self._fill_combo(self.language_combo, "Any language",
                         [(language_label(code), code) for code in languages])
        genders = sorted({v.gender for v in voices if v.gender})
        self._fill_combo(self.gender_combo, "Any gender",
                         [(GENDER_LABELS.get(g, g), g) for g in genders])
        self._apply_filters()

    def set_pro_clones(self, voice_ids: list[str]) -> None:
        """Mark ``voice_ids`` "Pro clone" in the Owner column (voices made by a
        professional-clone fine-tune; ``ProClone.pro_voices_changed``)."""
        self.model.set_voices([self.model.voice_at(r) for r in range(self.model.rowCount())],
                              self.lab.starred, set(voice_ids))

    def _apply_filters(self, *_args: object) -> None:
        keep = self.selected_voice()
        starred = self.lab.starred if self.starred_check.isChecked() else None
        shown = filter_voices(self.lab.catalog.voices, self.search_edit.text(),
                              self.language_combo.currentData() or ANY,
                              self.gender_combo.currentData() or ANY,
                              self.owner_combo.currentIndex(), starred)
        self._refilling = True
        try:
            self.model.set_voices(shown, self.lab.starred)
            if keep is not None:
                self.select_voice(keep.id)
        finally:
            self._refilling = False
        self._show_selection()

    def _on_selection_changed(self, *_args: object) -> None:
        if not self._refilling and not self._status_lasts:
            self._clear_status()  # another voice chosen: the last message is old news
        self._show_selection()

    def _show_selection(self) -> None:
        """Show the selected voice's details and the actions it allows."""
        voice = self.selected_voice()
        self._show_details(voice)
        connected = self.lab.connected
        for action in (self.preview_action, self.use_action, self.star_action):
            action.setEnabled(voice is not None)
        self.preview_action.setEnabled(voice is not None and (connected or self._playing_ours()))
        self.rename_action.setEnabled(voice is not None and voice.is_owner and connected)
        self.delete_action.setEnabled(voice is not None and voice.is_owner and connected)
        self.localize_action.setEnabled(voice is not None and connected)
        self.refresh_action.setEnabled(connected)
        self.star_action.setText(
            "★ Unstar" if voice and self.lab.is_starred(voice.id) else "☆ Star"
        )
        self.delete_action.setToolTip("Delete this voice" if voice is None or voice.is_owner
                                      else "Only your own voices can be deleted")
        self._update_preview_text()

    def _show_details(self, voice: Voice | None) -> None:
        if voice is None:
            count = self.model.rowCount()
            total = len(self.lab.catalog.voices)
            self.details_label.setText(
                f"<span style='color:#8d8e9c'>{count} of {total} voices shown. "
                "Select one to see its details.</span>")
            return
        facts = [language_label(voice.language),
                 GENDER_LABELS.get(voice.gender or "", voice.gender or "gender not given"),
                 "your voice" if voice.is_owner else "public voice"]
        if voice.created_at:
            facts.append(f"created {escape(voice.created_at[:19].replace('T', ' '))}")
        description = escape(voice.description) or "<i>No description</i>"
        self.details_label.setText(
            f"<b>{escape(voice.name)}</b><br>{description}<br>"
            f"<span style='color:#a3a4b3'>{' · '.join(facts)}</span><br>"
            f"<span style='color:#7d7e8c'>id <code>{escape(voice.id)}</code></span>")

    def _on_clicked(self, index: QModelIndex) -> None:
        if index.column() == STAR:
            voice = self.model.voice_at(index.row())
            self.lab.set_starred(voice.id, not self.lab.is_starred(voice.id))

    def _on_double_clicked(self, index: QModelIndex) -> None:
        if index.column() != STAR:
            self.preview_or_stop()

    def _on_starred_changed(self, _ids: list[str]) -> None:
        self._apply_filters()

    def _on_load_failed(self, message: str) -> None:
        self._set_status(message, error=True, lasts=True)  # until a reload says otherwise

    def _on_connection_changed(self, connected: bool) -> None:
        self._set_status("" if connected else "Not connected: voices cannot be changed or "
                         "previewed until the backend runs.", error=not connected,
                         lasts=not connected)
        self._show_selection()

    def _on_voice_created(self, voice: Voice) -> None:
        """Select the new voice; the user's filters stay as they are, so one they hide
        is only named."""
        self._refilling = True
        try:
            shown = self.select_voice(voice.id)
        finally:
            self._refilling = False
        if not shown:
            self._set_status(self._hidden_sentence(voice))

    @staticmethod
    def _hidden_sentence(voice: Voice) -> str:
        return f"Made {voice.name} (hidden by your filters)"

    # --- actions -------------------------------------------------------------------

    def refresh(self) -> None:
        self._start(self._refresh)

    async def _refresh(self) -> None:
        self._set_status("Loading voices…", lasts=True)
        if await self.lab.refresh():
            self._set_status(f"{len(self.lab.catalog.voices)} voices")

    def preview_or_stop(self) -> None:
        """Play the selected voice's preview, or stop the preview playing."""
        if self._playing_ours():
            self.playback.stop()
            return
        voice = self.selected_voice()
        if voice is None:
            return
        if self._preview_task is not None and not self._preview_task.done():
            self._preview_task.cancel()
        self._preview_task = self._start(self._preview, voice)

    async def _preview(self, voice: Voice) -> None:
        self._set_status(f"Loading the preview of {voice.name}…", lasts=True)
        audio, rate = await self.lab.preview(voice)
        if not shiboken6.isValid(self):
            return
        self._playing_name = voice.name
        self._stream_id = self.playback.play(audio, rate)
        if self.playback.is_null:
            # A null output keeps time in silence: "■ Stop" would pretend to play.
            self.playback.stop()
            self._set_status(f"No sound: {self.playback.notice or NO_OUTPUT}", error=True)
            return
        self._set_status(f"▶ {voice.name}", lasts=True)
        self._on_playback_changed()

    def use_selected(self) -> None:
        voice = self.selected_voice()
        if voice is not None:
            self.use_requested.emit(voice.id)
            self._set_status(f"Using {voice.name} for the current block")

    def star_selected(self) -> None:
        voice = self.selected_voice()
        if voice is not None:
            self.lab.set_starred(voice.id, not self.lab.is_starred(voice.id))

    def rename_selected(self) -> None:
        voice = self.selected_voice()
        if voice is None or not voice.is_owner:
            return
        dialog = VoiceEditDialog(voice, self)
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        name, description = dialog.values()
        dialog.deleteLater()
        if accepted and name and (name, description) != (voice.name, voice.description):
            self._start(self._rename, voice, name, description)

    async def _rename(self, voice: Voice, name: str, description: str) -> None:
        self._set_status(f"Saving {name}…", lasts=True)
        await self.lab.rename(voice.id, name, description)
        self._set_status(f"Saved {name}")

    def delete_selected(self) -> None:
        voice = self.selected_voice()
        if voice is None:
            return
        if not voice.is_owner:
            self._set_status(f"{voice.name} is a public voice: only your own voices can be "
                             "deleted.", error=True)
            return
        text = (f"Delete the voice “{voice.name}”? This cannot be undone.\n\n"
                + blocks_sentence(self.lab.blocks_using(voice.id)))
        answer = QMessageBox.question(
            self, "Delete voice", text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if answer == QMessageBox.StandardButton.Yes:
            self._start(self._delete, voice)

    async def _delete(self, voice: Voice) -> None:
        self._set_status(f"Deleting {voice.name}…", lasts=True)
        await self.lab.delete(voice.id)
        self._set_status(f"Deleted {voice.name}")

    def localize_selected(self) -> None:
        voice = self.selected_voice()
        if voice is None:
            return
        dialog = LocalizeDialog(voice, self)
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        values = dialog.values()
        dialog.deleteLater()
        if accepted and values["name"]:
            self._start(self._localize, values)

    async def _localize(self, values: dict[str, Any]) -> None:
        self._set_status(f"Localizing into {values['name']}…", lasts=True)
        voice = await self.lab.localize(**values)
        if self.model.row_of(voice.id) is None:
            self._set_status(self._hidden_sentence(voice))
        else:
            self._set_status(f"Localized: {voice.name} is in your voices")

    def open_recorder(self) -> RecorderDialog:
        """Show the recorder (made on first use, then reused)."""
        if self.recorder_dialog is None or not shiboken6.isValid(self.recorder_dialog):
            self.recorder_dialog = RecorderDialog(
                self.lab, self.playback, recorder_factory=self._recorder_factory,
                input_devices=self._input_devices, input_device=self._input_device,
                recordings=self._recordings, parent=self)
            self.recorder_dialog.recording_finished.connect(self.recording_finished)
            self.recorder_dialog.recording_chosen.connect(self.recording_chosen)
            self.recorder_dialog.voice_cloned.connect(self.voice_cloned)
            self.recorder_dialog.input_device_changed.connect(self._on_input_device_changed)
        self.recorder_dialog.show()
        self.recorder_dialog.raise_()
        self.recorder_dialog.activateWindow()
        return self.recorder_dialog

    def refresh_recordings(self) -> None:
        """List the project's recordings again in the recorder, if it is open; call when
        they change (a recording added or removed, a voice linked, another project)."""
        if self.recorder_dialog is not None and shiboken6.isValid(self.recorder_dialog):
            self.recorder_dialog.refresh_recordings()

    def _on_input_device_changed(self, name: str) -> None:
        self._input_device = name
        self.input_device_changed.emit(name)

    def shutdown(self) -> None:
        """Stop previews and requests, and release the input device; for the app's
        shutdown."""
        if self._playing_ours():
            self.playback.stop()
        self._tasks.cancel()
        if self.recorder_dialog is not None and shiboken6.isValid(self.recorder_dialog):
            self.recorder_dialog.shutdown()
            self.recorder_dialog.close()

    # --- running requests --------------------------------------------------------------

    def _start(self, work: Work, *args: Any) -> asyncio.Task[None]:
        return self._tasks.start(work, *args)

    def _on_task_failed(self, exc: Exception) -> None:
        if not shiboken6.isValid(self):
            return
        if isinstance(exc, (CartesiaError, VoiceLabError, ValueError, OSError)):
            self._set_status(str(exc), error=True)
        else:  # never let a voice action take the studio down
            self._set_status(f"Something went wrong: {exc}", error=True)

    async def wait_idle(self) -> None:
        """Return once every request started here, and the lab's reloads of the voice
        list they caused, have finished (tests)."""
        await self._tasks.wait_idle()
        await self.lab.wait_idle()

    # --- playback and status --------------------------------------------------------

    def _playing_ours(self) -> bool:
        return self._stream_id is not None and self.playback.is_current(self._stream_id)

    def _on_playback_changed(self) -> None:
        if self._stream_id is not None and not self._playing_ours():
            self._stream_id = None
            if self.status_label.text() == f"▶ {self._playing_name}":
                self._set_status("")
        self._update_preview_text()
        self.preview_action.setEnabled(self.selected_voice() is not None
                                       and (self.lab.connected or self._playing_ours()))

    def _update_preview_text(self) -> None:
        self.preview_action.setText("■ Stop" if self._playing_ours() else "▶ Preview")

    def _set_status(self, text: str, error: bool = False, lasts: bool = False) -> None:
        """Show ``text``; unless it ``lasts`` (work under way, a state such as not being
        connected) it clears after :data:`STATUS_SECONDS` or at the next selection."""
        self.status_label.setText(text)
        self.status_label.setStyleSheet("color: #ff7a7a;" if error else "color: #a3a4b3;")
        self._status_lasts = lasts and bool(text)
        if text and not lasts:
            self.status_timer.start()
        else:
            self.status_timer.stop()

    def _clear_status(self) -> None:
        self._set_status("")
