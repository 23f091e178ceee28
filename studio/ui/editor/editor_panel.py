"""The Editor panel: a block's take (or the whole script) on a word-aligned waveform,
with non-destructive edits and word replacement by infill.

The panel shows the selected take of the current block as edited
(:func:`studio.project.edits.edited`): its waveform (:class:`WaveformView`), its words
underneath, a cursor, a selection and a playhead. Every edit is a new edit list for
the take, pushed through :meth:`ScriptEditor.edit_take`, so Undo takes it back and
the take's generated audio is never changed. "Whole script" shows the selected takes
in order with the export pause between them, for listening and finding a block.

Slow work (reading a take, applying its edits, building the peak pyramid, aligning
words) is :class:`~studio.services.editor_audio.EditorAudio`'s, in a worker thread; a
newer request makes older results stale.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from studio.audio.buffers import resample
from studio.project.chapters import block_window, chapter_spans, span_of
from studio.project.edited_audio import clip_from, edited_frames
from studio.project.edits import (
    Clip,
    Delete,
    Edited,
    EditError,
    Fade,
    Gain,
    InsertSilence,
    Splice,
    Trim,
    check_edit,
    crossfade_frames,
)
from studio.project.infill import InfillError, plan_infill
from studio.project.model import Block, Take, TakeAudio, new_id
from studio.project.pronounce import Matcher, applied_items
from studio.project.transcript import remove_words, replace_words, split_text
from studio.services.document import ScriptDocument
from studio.services.editor import ScriptEditor
from studio.services.editor_audio import EditorAudio
from studio.services.infill import InfillService
from studio.services.playback import PlaybackService
from studio.services.tasks import TaskGroup
from studio.services.threads import in_thread
from studio.ui.widgets.actions import make_action
from studio.ui.widgets.waveform_view import WaveformView

log = logging.getLogger(__name__)

READING = "Reading the take…"


#: The longest audio "Whole script" mixes, in seconds: 20 minutes at 44.1 kHz is
#: 212 MB of float32 with its peak pyramid; a longer script is shown a window at a time.
SCRIPT_VIEW_SECONDS = 20 * 60.0


def _shown_seconds(block: Block) -> float:
    """The selected take's length as it plays (after its edits), 0 without one."""
    take = block.selected_take
    return edited_frames(take) / take.sample_rate if take and take.sample_rate else 0.0


class EditorPanel(QWidget):
    """Waveform, words and edits of the current block's selected take.

    Attributes:
        view: the :class:`WaveformView`.
        mode_combo: "Selected take" or "Whole script".
        status_label: what the panel is doing, or why an edit was refused.
        *_action: the panel's actions (toolbar buttons; shortcuts work while the
            panel has focus).
    """

    def __init__(self, document: ScriptDocument, editor: ScriptEditor,
                 playback: PlaybackService, infill: InfillService, audio: EditorAudio,
                 pause_seconds: Callable[[], float] = lambda: 0.0,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.editor = editor
        self.playback = playback
        self.infill = infill
        self.audio = audio
        self._pause_seconds = pause_seconds
        self._block_id = ""
        self._take: Take | None = None  # the take shown (words may come from alignment)
        self._edited: Edited | None = None
        self._load_number = 0
        self._stream_id: int | None = None
        self._play_offset = 0
        self._clipboard: Clip | None = None
        self._dialog: Any = None
        self._tasks = TaskGroup(lambda exc: self.status_label.setText(f"Failed: {exc}"),
                                what="editor")
        self._loads = TaskGroup(what="editor view")  # _load reports its own failures
        #: The running (or last) alignment of a take without word timestamps.
        self.align_task: asyncio.Future[None] | None = None
        audio.align_started.connect(self._on_align_started)
        audio.aligned.connect(self._on_aligned)
        audio.align_failed.connect(self._on_align_failed)
        self.setObjectName("editorPanel")

        self.mode_combo = QComboBox(self)
        self.mode_combo.addItems(["Selected take", "Whole script"])
        self.mode_combo.setToolTip("Edit the current block's selected take, or listen to "
                                   "the whole script as it exports (a script over 20 "
                                   "minutes: the current block's chapter, 20 minutes "
                                   "at a time)")
        self.mode_combo.currentIndexChanged.connect(lambda _i: self.reload())
        self.title_label = QLabel(self)
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.view = WaveformView(self)
        self.status_label = QLabel(self)
        self.status_label.setWordWrap(True)

        self._make_actions()
        listen = ((self.play_action, self.play_selection_action),
                  (self.zoom_fit_action, self.zoom_selection_action))
        edit = ((self.replace_action, self.delete_action, self.silence_action, self.trim_action,
                 self.fade_in_action, self.fade_out_action, self.gain_action),
                (self.copy_action, self.paste_action, self.split_action, self.revert_action))
        #: Every action in menu order, separators as None (the window's Audio menu).
        self.menu_actions: list[Any] = []
        for group in (listen[0], (self.zoom_in_action, self.zoom_out_action) + listen[1],
                      *edit):
            self.menu_actions += [*group, None]
        # Listening and zoom share the header row, so the edits fit a narrow panel.
        self.view_toolbar = self._toolbar(listen)
        self.toolbar = self._toolbar(edit)

        header = QHBoxLayout()
        header.addWidget(self.mode_combo)
        header.addWidget(self.title_label, 1)
        header.addWidget(self.view_toolbar)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(header)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status_label)

        self.view.selection_changed.connect(lambda _s, _e: self._update_actions())
        self.view.play_toggled.connect(self.toggle_play)
        playback.position_changed.connect(self._on_position)
        playback.stopped.connect(self._on_stopped)
        document.take_changed.connect(self._on_take_event)
        document.take_selected.connect(self._on_take_event)
        document.take_added.connect(self._on_take_event)
        document.take_removed.connect(self._on_take_event)
        document.block_removed.connect(lambda _i, block_id: self._on_block_gone(block_id))
        document.blocks_removed.connect(
            lambda removed: [self._on_block_gone(block_id) for _i, block_id in removed])
        document.reset.connect(self._on_reset)
        for signal in (document.block_inserted, document.blocks_inserted, document.block_moved):
            signal.connect(lambda *_a: self._script_changed())
        self.view.clear("Select a block with a take to see its waveform")
        self._update_actions()

    # --- actions ------------------------------------------------------------------

    def _make_actions(self) -> None:
        def action(text: str, slot: Callable[[], object], shortcut: str | None = None,
                   tip: str = "") -> Any:
            made = make_action(self, text, slot, shortcut, tip)
            made.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(made)
            return made

        self.play_action = action("Play", self.toggle_play, None,
                                  "Play from the cursor, or stop (Space in the waveform)")
        self.play_selection_action = action("Play selection", self.play_selection, "Shift+Space")
        self.zoom_in_action = action("Zoom in", lambda: self.view.zoom_by(2.0), "Ctrl+=")
        self.zoom_out_action = action("Zoom out", lambda: self.view.zoom_by(0.5), "Ctrl+-")
        self.zoom_fit_action = action("Fit", self.view.zoom_to_fit, "Ctrl+0",
                                      "Zoom to show the whole take")
        self.zoom_selection_action = action("Zoom to selection", self.view.zoom_to_selection)
        self.replace_action = action(
            "Replace…", self.replace_selection, "Ctrl+R",
            "Replace the selected words with new words generated by infill")
        self.delete_action = action("Delete", self.delete_selection, "Delete",
                                    "Delete the selection")
        self.silence_action = action("Silence…", self.insert_silence, None,
                                     "Insert silence at the cursor")
        self.trim_action = action("Trim", self.trim_to_selection, "Ctrl+T",
                                  "Keep only the selection")
        self.fade_in_action = action("Fade in", lambda: self._fade("in"), None,
                                     "Fade the selection in")
        self.fade_out_action = action("Fade out", lambda: self._fade("out"), None,
                                      "Fade the selection out")
        self.gain_action = action("Gain…", self.change_gain, None,
                                  "Make the selection louder or quieter")
        self.copy_action = action("Copy", self.copy_selection, "Ctrl+C",
                                  "Copy the selected audio (to paste into any take)")
        self.paste_action = action("Paste", self.paste, "Ctrl+V",
                                   "Paste copied audio at the cursor, or over the selection")
        self.split_action = action("Split block", self.split_block, "Ctrl+B",
                                   "Split the block in two at the cursor, each with its "
                                   "half of the take")
        self.revert_action = action("Revert edits", self.revert_edits, None,
                                    "Undo every edit of this take at once (Undo brings "
                                    "them back)")

    def _toolbar(self, groups: tuple[tuple[Any, ...], ...]) -> QToolBar:
        bar = QToolBar(self)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for index, group in enumerate(groups):
            if index:
                bar.addSeparator()
            bar.addActions(list(group))
        return bar

    def _update_actions(self) -> None:
        take_mode = self.mode_combo.currentIndex() == 0
        has_audio = self._edited is not None
        editable = take_mode and has_audio and self._take is not None
        start, end = self.view.selection() if has_audio else (0, 0)
        ranged = editable and end > start
        self.play_action.setEnabled(has_audio)
        self.play_selection_action.setEnabled(has_audio and end > start)
        for zoom in (self.zoom_in_action, self.zoom_out_action, self.zoom_fit_action):
            zoom.setEnabled(has_audio)
        self.zoom_selection_action.setEnabled(has_audio and end > start)
        self.replace_action.setEnabled(editable)
        for ranged_action in (self.delete_action, self.trim_action, self.fade_in_action,
                              self.fade_out_action, self.gain_action):
            ranged_action.setEnabled(ranged)
        self.copy_action.setEnabled(has_audio and end > start)
        self.silence_action.setEnabled(editable)
        self.paste_action.setEnabled(editable and self._clipboard is not None)
        self.split_action.setEnabled(editable and 0 < start < self._edited.frames
                                     if self._edited is not None else False)
        self.revert_action.setEnabled(editable and bool(self._take and self._take.edits))

    # --- what is shown --------------------------------------------------------------

    @property
    def block_id(self) -> str:
        return self._block_id

    @property
    def edited_audio(self) -> Edited | None:
        """The audio shown (as edited), or None."""
        return self._edited

    def set_block(self, block_id: str) -> None:
        """Show ``block_id``'s selected take ("" for none)."""
        if block_id == self._block_id and self._edited is not None:
            return
        self._block_id = block_id
        self.reload()

    def reload(self, keep_view: bool = False) -> asyncio.Future[None]:
        """Read what the panel shows again, in the background."""
        self._load_number += 1
        return self._loads.start(self._load, self._load_number, keep_view)

    def _current(self, number: int) -> bool:
        return number == self._load_number and shiboken6.isValid(self)

    async def _load(self, number: int, keep_view: bool) -> None:
        try:
            if self.mode_combo.currentIndex() == 1:
                await self._load_script(number, keep_view)
            else:
                await self._load_take(number, keep_view)
        except Exception as exc:  # a take that cannot be read must not break the panel
            log.exception("editor: cannot show the audio")
            if self._current(number):
                self._show_nothing(f"Cannot show this audio: {exc}")
        if self._current(number):
            self._update_actions()

    def _show_nothing(self, message: str, title: str = "") -> None:
        self._take = None
        self._edited = None
        self.title_label.setText(title)
        self.view.clear(message)
        self._update_actions()

    async def _load_take(self, number: int, keep_view: bool) -> None:
        block = self.document.block(self._block_id) if self.document.has_block(
            self._block_id) else None
        if block is None:
            self._show_nothing("Select a block with a take to see its waveform")
            return
        take = block.selected_take
        title = f"Block {self.document.index_of(block.id) + 1}"
        if take is None:
            self._show_nothing("This block has no take yet: generate it to edit it here", title)
            return
        if not take.source.loaded:
            self.status_label.setText(READING)
        shown = await self.audio.load_take(take)
        if not self._current(number):
            return
        take, result, pyramid = shown.take, shown.edited, shown.pyramid
        same_take = self._take is not None and self._take.id == take.id
        keep_view = keep_view and same_take  # another take opens fitted, unselected
        self._take, self._edited = take, result
        edits = (
            f" · {len(take.edits)} edit{'s' if len(take.edits) != 1 else ''}" if take.edits else ""
        )
        self.title_label.setText(f"{title} · {take.name} · {result.duration:.2f} s{edits}")
        self.view.set_audio(result.audio, result.sample_rate, pyramid, result.words,
                            result.phonemes, keep_view=keep_view)
        if not same_take:
            self.view.set_selection(0, 0)
        # After an edit of the same take, what the edit said stays on the status line.
        hint = not same_take or self.status_label.text() in ("", READING)
        if result.words.words:
            if hint:
                self.status_label.setText(
                    "Words found by alignment with the block's text" if shown.aligned
                    else "Click a word to select it, drag across words; hold Ctrl for no "
                         "snapping")
        else:
            if hint:
                self.status_label.setText("This take has no word timestamps: drag on the "
                                          "waveform to select")
            self.align_task = self.audio.align(take) or self.align_task

    def _on_align_started(self, _take_id: str) -> None:
        self.status_label.setText("Finding the words in this take…")

    def _on_align_failed(self, _take_id: str, message: str) -> None:
        self.status_label.setText(f"No word timestamps ({message}): drag on the waveform to "
                                  "select")

    def _on_aligned(self, take_id: str) -> None:
        if self._take is not None and self._take.id == take_id:
            self.status_label.setText("Words found by alignment with the block's text")
            self.reload(keep_view=True)

    async def _load_script(self, number: int, keep_view: bool) -> None:
        blocks, what = self._script_window()
        script = await self.audio.load_script(blocks, self._pause_seconds())
        if not self._current(number):
            return
        if script is None:
            self._show_nothing("No block has a take yet")
            return
        markers = [(start, f"Block {self.document.index_of(block.id) + 1}")
                   for block, start in zip(script.blocks, script.starts, strict=True)]
        result = script.edited
        self._take = None
        self._edited = result
        self.title_label.setText(
            f"{what} · {len(script.blocks)} takes · {script.duration:.2f} s")
        self.view.set_audio(result.audio, result.sample_rate, script.pyramid, result.words,
                            result.phonemes, markers, keep_view=keep_view)
        if not keep_view:  # a selection made on a take means nothing on the script
            self.view.set_selection(0, 0)
        self.status_label.setText("Edits apply to one take: choose \"Selected take\" to edit")

    def _script_window(self) -> tuple[list[Block], str]:
        """The blocks "Whole script" shows, and what to call them: the whole script
        while it is at most :data:`SCRIPT_VIEW_SECONDS` long; in a longer one (a book)
        the blocks from the start of the current block's chapter, or from the current
        block when that chapter is longer too, up to that length, so the view's audio
        (float32, mixed in memory with its peak pyramid) never holds a book."""
        count = len(self.document)
        seconds = [_shown_seconds(self.document.block_at(i)) for i in range(count)]
        if sum(seconds) <= SCRIPT_VIEW_SECONDS:
            return self.document.blocks, "Whole script"
        current = (self.document.index_of(self._block_id)
                   if self.document.has_block(self._block_id) else 0)
        span = span_of(chapter_spans(self.document.block_at(i) for i in range(count)),
                       current)
        start, stop = block_window(seconds, span.first if span else current, current,
                                   SCRIPT_VIEW_SECONDS)
        blocks = [self.document.block_at(i) for i in range(start, stop)]
        return blocks, f"Blocks {start + 1}–{stop} of {count}"

    def _on_reset(self) -> None:
        """Another project: its Replace dialog belonged to the old one. The Script
        panel names the new current block (before or after this runs)."""
        if self._dialog is not None and shiboken6.isValid(self._dialog):
            self._dialog.close()
        self._dialog = None
        self._take = self._edited = None
        self.reload()

    def _on_take_event(self, block_id: str, _take_id: str) -> None:
        if self.mode_combo.currentIndex() == 1:
            self._script_changed()
        elif block_id == self._block_id:
            self.reload(keep_view=True)

    def _on_block_gone(self, block_id: str) -> None:
        if block_id == self._block_id:
            self.set_block("")
        else:
            self._script_changed()

    def _script_changed(self) -> None:
        if self.mode_combo.currentIndex() == 1:
            self.reload(keep_view=True)

    # --- playback -----------------------------------------------------------------

    def toggle_play(self) -> None:
        """Play from the cursor (or the selection's start) to the end, or stop."""
        if self._stream_id is not None and self.playback.is_playing:
            self.playback.stop()
            return
        if self._edited is not None:
            start, _end = self.view.selection()
            self._play(start if start < self._edited.frames else 0, self._edited.frames)

    def play_selection(self) -> None:
        if self._edited is not None:
            start, end = self.view.selection()
            if end > start:
                self._play(start, end)

    def _play(self, start: int, end: int) -> None:
        assert self._edited is not None
        self._play_offset = start
        self._stream_id = self.playback.play(self._edited.audio[start:end],
                                             self._edited.sample_rate)

    def _on_position(self, seconds: float) -> None:
        if self._stream_id is not None and self._edited is not None and self.playback.is_current(
                self._stream_id):
            self.view.set_playhead(self._play_offset + round(seconds * self._edited.sample_rate))

    def _on_stopped(self) -> None:
        if self._stream_id is not None:
            self._stream_id = None
            self.view.set_playhead(None)

    # --- edits ----------------------------------------------------------------------

    def _live_take(self) -> Take | None:
        """The shown take as the document has it now, if what is shown is current: an
        edit is made in the coordinates on screen, so while a change (an edit, an
        undo) is still being drawn, none is made."""
        take = self._take
        if take is None or self._edited is None or not self.document.has_block(self._block_id):
            return None
        try:
            live = self.document.take(self._block_id, take.id)
        except KeyError:
            live = None
        if live is None or live.edits != take.edits:
            self.status_label.setText("The take is still being updated; try again in a moment")
            return None
        return live

    def _push(self, edit: Any, text: str | None = None, words: str | None = None) -> bool:
        """Append ``edit`` to the shown take's edits as one undo step (with ``words``:
        the take and its block now say that); False (with the reason in the status
        line) when it does not fit."""
        take, shown = self._live_take(), self._edited
        if take is None or shown is None:
            return False
        try:
            check_edit(edit, shown.frames, shown.sample_rate)
        except EditError as exc:
            self.status_label.setText(str(exc))
            return False
        edits = (*take.edits, edit)
        try:
            self.editor.edit_take(self._block_id, take.id, edits,
                                  text or edit.describe(shown.sample_rate), words)
        except KeyError:
            self.status_label.setText("This take is gone; select it again")
            return False
        return True

    def _words_before(self, frame: int) -> int:
        """How many shown words have their middle before ``frame``."""
        shown = self._edited
        if shown is None:
            return 0
        rate = shown.sample_rate
        return sum(1 for s, e in zip(shown.words.start, shown.words.end, strict=True)
                   if (s + e) / 2 * rate < frame)

    def _words_inside(self, start: int, end: int) -> tuple[int, int]:
        """``(first, count)``: the shown words whose middle lies in ``[start, end)``
        (``first`` is where words would go when there are none)."""
        first = self._words_before(start)
        return first, self._words_before(end) - first

    def _text_follows(self, take: Take) -> bool:
        """Whether the block's text is what ``take`` says: only then do edits of its
        words rewrite the text (once the user has typed, the take is out of date)."""
        return self.document.block(self._block_id).text.strip() == take.spoken_text.strip()

    def _text_without(self, ranges: list[tuple[int, int]]) -> str | None:
        """The block's text without the words in ``ranges`` (``(first, count)``, last
        first), if the block's text is what the take says; else None (leave it)."""
        take = self._take
        if take is None or not any(count for _first, count in ranges):
            return None
        if not self._text_follows(take):
            return None
        text = self.document.block(self._block_id).text
        for first, count in ranges:
            text = remove_words(text, first, count)
        return text

    def delete_selection(self) -> None:
        """Delete the selection; words in it leave the block's text too."""
        start, end = self.view.selection()
        if end <= start:
            return
        words = self._text_without([self._words_inside(start, end)])
        if self._push(Delete(start, end), None, words):
            self.view.set_selection(start, start)

    def trim_to_selection(self) -> None:
        """Keep only the selection; words outside it leave the block's text too."""
        start, end = self.view.selection()
        if end <= start or self._edited is None:
            return
        after = self._words_inside(end, self._edited.frames)
        before = self._words_inside(0, start)
        words = self._text_without([after, before])
        if self._push(Trim(start, end), None, words):
            self.view.set_selection(0, end - start)

    def _fade(self, direction: str) -> None:
        start, end = self.view.selection()
        if end > start:
            self._push(Fade(start, end, direction))

    def insert_silence(self) -> None:
        if self._edited is None:
            return
        seconds, ok = QInputDialog.getDouble(self, "Insert silence", "Seconds of silence:",
                                             0.5, 0.01, 60.0, 2)
        if ok:
            at = self.view.selection()[0]
            self._push(InsertSilence(at, max(1, round(seconds * self._edited.sample_rate))))

    def change_gain(self) -> None:
        start, end = self.view.selection()
        if end <= start:
            return
        db, ok = QInputDialog.getDouble(self, "Gain", "Change the selection by (dB):",
                                        3.0, -60.0, 24.0, 1)
        if ok and db:
            self._push(Gain(start, end, db))

    async def wait_idle(self) -> None:
        """Until the copies and pastes started here are done."""
        await self._tasks.wait_idle()

    def shutdown(self) -> None:
        """Stop loading, copying and pasting, and a Replace under way; for the app's
        shutdown."""
        self._loads.cancel()
        self._tasks.cancel()
        if self._dialog is not None and shiboken6.isValid(self._dialog):
            self._dialog.shutdown()

    def copy_selection(self) -> None:
        """Copy the selection for pasting (the samples are copied in a worker: a
        selection can be hours long)."""
        start, end = self.view.selection()
        shown = self._edited
        if shown is None or end <= start:
            return
        take_id = self._take.id if self._take is not None else ""

        async def copy() -> None:
            self.status_label.setText("Copying…")
            clip = await in_thread(clip_from, shown, start, end, take_id)
            if not shiboken6.isValid(self):
                return
            self._clipboard = clip
            self.status_label.setText(
                f"Copied {clip.duration:.2f} s; paste it into any take")
            self._update_actions()

        self._tasks.start(copy)

    def paste(self) -> None:
        """Paste the copied audio at the cursor or over the selection (resampled in a
        worker if the take's rate differs)."""
        copied, shown = self._clipboard, self._edited
        if copied is None or shown is None:
            return

        async def paste() -> None:
            # Always new audio, never the copied clip's stored audio: the clipboard
            # outlives projects, and a stored key only means something in the file that
            # set it.
            audio = copied.audio
            if copied.sample_rate != shown.sample_rate:
                audio = await in_thread(resample, audio, copied.sample_rate, shown.sample_rate)
            if shiboken6.isValid(self):
                self._paste(copied, shown, audio)

        self._tasks.start(paste)

    def _paste(self, copied: Clip, shown: Edited, audio: npt.NDArray[np.float32]) -> None:
        take = self._live_take()
        if take is None or self._edited is not shown:
            self.status_label.setText("The take changed while pasting; paste again")
            return
        start, end = self.view.selection()
        clip = replace(copied, id=new_id(), take_id=take.id,
                       source=TakeAudio.of(audio, shown.sample_rate))
        splice = Splice(start, end, clip, crossfade_frames(shown.sample_rate))
        try:
            check_edit(splice, shown.frames, shown.sample_rate)
        except EditError as exc:
            self.status_label.setText(str(exc))
            return
        self.document.add_clip(clip)
        first, count = self._words_inside(start, end)
        words = None
        if clip.words.words and self._text_follows(take):
            words = replace_words(self.document.block(self._block_id).text, first, count,
                                  " ".join(clip.words.words))
        if self._push(splice, f"Paste {clip.duration:.2f} s", words):
            after = start + clip.frames
            self.view.set_selection(after, after)

    def revert_edits(self) -> None:
        take = self._live_take()
        if take is None or not take.edits:
            return
        words = None  # the block's text goes back too if it followed the take's edits
        if take.text and self._text_follows(take):
            words = str(take.request.get("transcript", ""))
        self.editor.edit_take(self._block_id, take.id, (), "Revert edits", words)

    def split_block(self) -> None:
        """Split the block at the cursor: the words before it stay, the rest go to a
        new block after it; each gets a take made of its half of the audio (the same
        stored audio, trimmed: nothing is generated or paid for)."""
        take, shown = self._live_take(), self._edited
        if take is None or shown is None:
            return
        at = self.view.selection()[0]
        if not 0 < at < shown.frames:
            self.status_label.setText("Place the cursor inside the take to split it")
            return
        block = self.document.block(self._block_id)
        left_text, right_text = split_text(block.text, self._words_before(at))
        if not left_text or not right_text:
            self.status_label.setText("Place the cursor between two words to split the block")
            return

        recorded = Matcher(take.dictionary)

        def half(text: str, trim: Trim, name: str) -> Take:
            # The request stays the one that was sent; ``text`` says what this half says,
            # and the dictionary entries it records are those that apply to it.
            return replace(take, id=new_id(), edits=(*take.edits, trim), text=text,
                           name=name, credits=0, starred=False,
                           dictionary=applied_items(text, recorded))

        number = block.next_take_number()
        left = half(left_text, Trim(0, at), f"Take {number} (split)")
        right = half(right_text, Trim(at, shown.frames), "Take 1 (split)")
        self.editor.split_block(self._block_id, left_text, right_text, left, right)

    # --- infill -------------------------------------------------------------------

    def replace_selection(self) -> None:
        """Open the Replace dialog for the selected words (or the cursor: insert)."""
        from studio.ui.editor.infill_dialog import InfillDialog

        take, shown = self._take, self._edited
        if take is None or shown is None:
            return
        start, end = self.view.selection()
        try:
            plan = plan_infill(shown, start, end)
        except InfillError as exc:
            self.status_label.setText(str(exc))
            return
        if self._dialog is not None and shiboken6.isValid(self._dialog):
            self._dialog.close()
        dialog = InfillDialog(self.infill, self.playback, self.document, self._block_id,
                              take, shown, plan, self)
        dialog.clip_accepted.connect(self._on_clip_accepted)
        self._dialog = dialog
        dialog.show()

    def _on_clip_accepted(self, take_id: str, edits_before: tuple[Any, ...], plan: Any,
                          clip: Clip) -> None:
        take = self._live_take()
        if take is None or take.id != take_id or take.edits != edits_before:
            self.status_label.setText("The take changed while the Replace dialog was open; "
                                      "select the words again")
            return
        label = f"Replace with “{clip.transcript}”"
        words = None
        if self._text_follows(take):  # the script reads what is heard
            words = replace_words(self.document.block(self._block_id).text, plan.first_word,
                                  len(plan.words), clip.transcript)
        if self._push(Splice(plan.start, plan.end, clip, crossfade_frames(plan.sample_rate)),
                      label, words):
            self.view.set_selection(plan.start, plan.start + clip.frames)
            self.status_label.setText(f"{label}: Undo takes it back")

