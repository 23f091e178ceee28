"""The waveform of a take with its words beneath: select by word or by sample, zoom from
the whole take down to single samples, and follow playback.

This module holds the widget: the take it shows, the zoom and scroll position, the
selection, the mouse and keys, and the word lanes. The waveform image (drawn as
Audacity draws it) and the time ruler come from :mod:`studio.ui.widgets.waveform_paint`; the
image is kept until the view moves, so a repaint that only moves the playhead or the
cursor blits it as it is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QLineF, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFontMetrics,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

from studio.audio.peaks import PeakPyramid
from studio.audio.snap import (
    nearest_zero_crossing,
    seconds_to_frames,
    word_boundaries,
    zero_crossing_window,
)
from studio.audio.snap import snap as snap_edge
from studio.timestamps import PhonemeTimestamps, WordTimestamps
from studio.ui.widgets.waveform_paint import (
    IntArray,
    format_time,
    paint_ruler,
    ruler_step,
    wave_image,
)

#: The public names; format_time and ruler_step are defined in studio.ui.widgets.waveform_paint.
__all__ = [
    "MIN_SAMPLES_PER_PIXEL", "NO_PHONEMES", "NO_WORDS", "PHONEME_ROW_HEIGHT", "RULER_HEIGHT",
    "SNAP_PIXELS", "WORD_ROW_HEIGHT", "ZOOM_MARGIN", "WaveformView", "format_time", "ruler_step",
]

#: Deepest zoom: 8 pixels per sample.
MIN_SAMPLES_PER_PIXEL = 1 / 8
#: Zoom to selection leaves this fraction of the view free on either side.
ZOOM_MARGIN = 0.03
#: Selection edges snap to what lies within this many pixels of the mouse.
SNAP_PIXELS = 8

RULER_HEIGHT = 22
WORD_ROW_HEIGHT = 26
PHONEME_ROW_HEIGHT = 18
_MIN_BOX_PIXELS = 4  # narrower words on average are drawn as one band

_BACKGROUND = QColor("#18191d")
_ZERO_LINE = QColor("#303140")
_SELECTION = QColor(255, 255, 255, 34)
_CURSOR = QColor("#f2f2f5")
_PLAYHEAD = QColor("#4cd964")
_MARKER = QColor("#f5a623")
_WORD_FILL = QColor("#2a2c38")
_WORD_BORDER = QColor("#4a4d63")
_WORD_SELECTED = QColor("#5a4fd0")
_TEXT = QColor("#e6e6ea")
_DIM_TEXT = QColor("#7d7e8c")

NO_WORDS = WordTimestamps()
NO_PHONEMES = PhonemeTimestamps()


@dataclass(frozen=True, slots=True)
class _Spans:
    """Labelled time spans (words or phonemes) in frames, sorted by start."""

    labels: tuple[str, ...]
    starts: IntArray
    ends: IntArray
    reach: IntArray  # running maximum of ends: searchable when spans overlap

    @classmethod
    def of(cls, labels: Sequence[str], start: Sequence[float], end: Sequence[float],
           sample_rate: int) -> _Spans:
        starts = seconds_to_frames(start, sample_rate)
        ends = np.maximum(seconds_to_frames(end, sample_rate), starts)
        reach = np.maximum.accumulate(ends) if ends.shape[0] else ends
        return cls(tuple(labels), starts, ends, reach)

    def visible(self, first_frame: float, last_frame: float) -> range:
        """Indices of the spans that reach into ``[first_frame, last_frame)``."""
        lo = int(np.searchsorted(self.reach, first_frame, side="right"))
        hi = int(np.searchsorted(self.starts, last_frame, side="left"))
        return range(lo, max(lo, hi))


_NO_SPANS = _Spans((), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))


class WaveformView(QAbstractScrollArea):
    """A take's waveform over a time ruler, with its words (and phonemes) beneath.

    Click in the waveform to place the cursor, drag to select, Shift+click to extend
    the selection; click a word to select it, drag across words to select whole words,
    double-click to select the word under the mouse. Selection edges snap to word
    boundaries within 8 pixels, then to the nearest zero crossing (within 5 ms, as
    Audacity's 10 ms window, or 8 pixels when that is less); hold **Ctrl** while
    clicking or dragging to place edges exactly. The wheel zooms around the mouse
    (plain or with Ctrl, as in Audacity); Shift+wheel or a horizontal wheel scrolls.
    Space asks for playback to start or stop.

    Positions are frames of the take (sample indices); frame ``n`` is the boundary just
    before sample ``n``, and sample ``n`` is drawn at the position of frame ``n``.

    Attributes:
        samples_per_pixel: the zoom, frames per pixel column (float).
        view_start: frame position (float) of the left edge of the view.

    Signals:
        selection_changed(int start, int end): the selection in frames, ``[start, end)``;
            ``start == end`` is a cursor.
        play_toggled(): Space was pressed.
    """

    selection_changed = Signal(int, int)
    play_toggled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._audio: npt.NDArray[np.float32] | None = None
        self._pyramid: PeakPyramid | None = None
        self._rate = 1
        self._words = _NO_SPANS
        self._phonemes = _NO_SPANS
        self._boundaries: IntArray = np.zeros(0, np.int64)
        self._marker_frames: IntArray = np.zeros(0, np.int64)
        self._marker_labels: tuple[str, ...] = ()
        self._message = ""
        self._spp = 1.0
        self._start = 0.0
        self._fitted = True
        self._selection = (0, 0)
        self._playhead: int | None = None
        self._drag: tuple[str, int] | None = None  # ("wave", anchor frame) or ("words", index)
        self._image_key: tuple[object, ...] | None = None
        self._image: QImage | None = None
        self._scroll_unit = 1.0
        self._syncing_scrollbar = False

        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumHeight(RULER_HEIGHT + WORD_ROW_HEIGHT + PHONEME_ROW_HEIGHT + 80)
        self.setAccessibleName("Waveform")
        self.setToolTip("Click to place the cursor, drag to select; click a word to select it. "
                        "Edges snap to words and zero crossings: hold Ctrl for exact edges. "
                        "Wheel zooms, Shift+wheel scrolls, Space plays.")
        self.horizontalScrollBar().valueChanged.connect(self._on_scrolled)

    # --- Content -------------------------------------------------------------------

    def set_audio(self, audio: npt.NDArray[np.float32], sample_rate: int,
                  pyramid: PeakPyramid, words: WordTimestamps = NO_WORDS,
                  phonemes: PhonemeTimestamps = NO_PHONEMES,
                  markers: Sequence[tuple[int, str]] = (), keep_view: bool = False) -> None:
        """Show a take.

        Args:
            audio: float32 mono, shape ``(frames,)``: the samples ``pyramid`` was built from.
            sample_rate: Hz.
            pyramid: :meth:`PeakPyramid.build` of ``audio`` (built off the UI thread).
            words, phonemes: timestamps in seconds, drawn in the lane beneath.
            markers: ``(frame, label)`` pairs drawn as labelled vertical lines (block
                starts in a whole-script view).
            keep_view: keep the zoom and scroll position (after an edit), clamped to the
                new length; otherwise zoom to fit. The selection is clamped either way.

        Raises:
            ValueError: ``sample_rate`` is not positive, or ``pyramid`` was built from a
                take of another length.
        """
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        if pyramid.frames != audio.shape[0]:
            raise ValueError(f"pyramid covers {pyramid.frames} frames, audio has {audio.shape[0]}")
        self._audio, self._pyramid, self._rate = audio, pyramid, sample_rate
        self._words = _Spans.of(words.words, words.start, words.end, sample_rate)
        self._phonemes = _Spans.of(phonemes.phonemes, phonemes.start, phonemes.end, sample_rate)
        self._boundaries = word_boundaries(words, sample_rate)
        ordered = sorted(markers, key=lambda marker: marker[0])
        self._marker_frames = np.array([frame for frame, _ in ordered], dtype=np.int64)
        self._marker_labels = tuple(label for _, label in ordered)
        self._message = ""
        self._image_key = None
        if keep_view:
            self._set_view(self._spp, self._start)
        else:
            self.zoom_to_fit()
        self._change_selection(*self._selection)
        self.viewport().update()

    def clear(self, message: str = "") -> None:
        """Show no take, with ``message`` centred (e.g. "Select a take to edit it")."""
        self._audio = self._pyramid = None
        self._words = self._phonemes = _NO_SPANS
        self._boundaries = self._marker_frames = np.zeros(0, np.int64)
        self._marker_labels = ()
        self._message = message
        self._playhead = None
        self._image_key = self._image = None
        self._drag = None
        self._change_selection(0, 0)
        self._set_view(1.0, 0.0)
        self.viewport().update()

    @property
    def frames(self) -> int:
        """Length of the take shown, in frames (0 when empty)."""
        return 0 if self._audio is None else int(self._audio.shape[0])

    # --- Selection -------------------------------------------------------------------

    def selection(self) -> tuple[int, int]:
        """The selection in frames, ``(start, end)`` with ``start <= end``."""
        return self._selection

    def set_selection(self, start: int, end: int) -> None:
        """Select ``[start, end)`` frames (swapped if reversed, clamped to the take) and
        emit ``selection_changed``, changed or not."""
        self._selection = self._clamped(start, end)
        self._selection_updated()
        self.selection_changed.emit(*self._selection)

    def select_words(self, first: int, last: int) -> None:
        """Select words ``first`` to ``last`` (indices, inclusive) from the start of the
        first to the end of the last, each edge moved outwards to the nearest zero
        crossing within 5 ms (so no word is clipped); emits ``selection_changed``.

        Raises:
            IndexError: an index outside the words.
            ValueError: ``first > last``.
        """
        self.set_selection(*self._word_span(first, last, snap=True))

    def selected_words(self) -> tuple[int, int] | None:
        """First and last index of the words the selection covers by more than half their
        length (a zero-length word: when it lies inside), or None."""
        start, end = self._selection
        words = self._words
        if end <= start or not words.labels:
            return None
        span = words.visible(start, end)
        index = np.arange(span.start, span.stop)
        lo, hi = words.starts[index], words.ends[index]
        overlap = np.minimum(hi, end) - np.maximum(lo, start)
        chosen = index[(2 * overlap > hi - lo) | ((hi == lo) & (lo >= start) & (lo < end))]
        if chosen.shape[0] == 0:
            return None
        return int(chosen[0]), int(chosen[-1])

    def set_playhead(self, frame: int | None) -> None:
        """Show the playhead at ``frame`` (None hides it). While shown it stays in view:
        once it leaves the view, the view turns a page so it is at the left edge
        (Audacity's page-flip scrolling); not while the user drags a selection."""
        self._playhead = frame
        if frame is not None and self._audio is not None and self._drag is None:
            x = (frame - self._start) / self._spp
            if not 0 <= x < self.viewport().width():
                self._set_view(self._spp, float(frame))
        self.viewport().update()

    # --- Zoom ------------------------------------------------------------------------

    @property
    def samples_per_pixel(self) -> float:
        return self._spp

    @property
    def view_start(self) -> float:
        return self._start

    def zoom_to_fit(self) -> None:
        """Show the whole take (and keep showing it as the view is resized)."""
        self._set_view(self._max_spp(), 0.0)
        self._fitted = True

    def zoom_to_selection(self) -> None:
        """Fit the selection to the view with a margin of :data:`ZOOM_MARGIN` of the
        view on each side, so its edges show; nothing happens with only a cursor."""
        start, end = self._selection
        if end > start:
            spp = self._clamped_spp((end - start) / (self._width() * (1 - 2 * ZOOM_MARGIN)))
            self._set_view(spp, (start + end) / 2 - self._width() * spp / 2)

    def zoom_by(self, factor: float, anchor_frame: int | None = None) -> None:
        """Zoom in by ``factor`` (> 1 in, < 1 out), keeping ``anchor_frame`` (default: the
        middle of the view) at the same place on screen. The zoom stays between
        fit-to-view and :data:`MIN_SAMPLES_PER_PIXEL`.

        Raises:
            ValueError: ``factor`` is not positive.
        """
        if not factor > 0:
            raise ValueError(f"zoom factor must be positive, got {factor}")
        if anchor_frame is None:
            anchor = self._start + self._width() * self._spp / 2
        else:
            anchor = float(anchor_frame)
        x = (anchor - self._start) / self._spp
        spp = self._clamped_spp(self._spp / factor)
        self._set_view(spp, anchor - x * spp)

    # --- View state ------------------------------------------------------------------

    def _width(self) -> int:
        return max(1, self.viewport().width())

    def _max_spp(self) -> float:
        return max(self.frames / self._width(), MIN_SAMPLES_PER_PIXEL)

    def _clamped_spp(self, spp: float) -> float:
        return min(max(spp, MIN_SAMPLES_PER_PIXEL), self._max_spp())

    def _set_view(self, spp: float, start: float) -> None:
        self._spp = self._clamped_spp(spp)
        self._fitted = self._spp >= self._max_spp()
        self._start = min(max(start, 0.0), self._max_start())
        self._sync_scrollbar()
        self.viewport().update()

    def _max_start(self) -> float:
        return max(0.0, self.frames - self._width() * self._spp)

    def _sync_scrollbar(self) -> None:
        # Scroll bars count in int: in pixels, or coarser where a long take at a deep
        # zoom would overflow 2^31 pixels.
        self._scroll_unit = max(self._spp, self.frames / 2**30)
        bar = self.horizontalScrollBar()
        self._syncing_scrollbar = True
        try:
            bar.setRange(0, math.ceil(self._max_start() / self._scroll_unit))
            page = max(1, round(self._width() * self._spp / self._scroll_unit))
            bar.setPageStep(page)
            bar.setSingleStep(max(1, page // 10))
            bar.setValue(round(self._start / self._scroll_unit))
        finally:
            self._syncing_scrollbar = False

    def _on_scrolled(self, value: int) -> None:
        if self._syncing_scrollbar:
            return
        self._start = min(max(value * self._scroll_unit, 0.0), self._max_start())
        self.viewport().update()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fitted:
            self.zoom_to_fit()
        else:
            self._set_view(self._spp, self._start)

    # --- Selection helpers -----------------------------------------------------------

    def _clamped(self, start: int, end: int) -> tuple[int, int]:
        start, end = sorted((int(start), int(end)))
        frames = self.frames
        return min(max(start, 0), frames), min(max(end, 0), frames)

    def _change_selection(self, start: int, end: int) -> None:
        """Select and emit ``selection_changed`` only if the selection changed."""
        selection = self._clamped(start, end)
        if selection != self._selection:
            self._selection = selection
            self._selection_updated()
            self.selection_changed.emit(*selection)

    def _selection_updated(self) -> None:
        start, end = self._selection
        rate = self._rate
        if start == end:
            text = f"Cursor at {format_time(start / rate)}"
        else:
            text = f"Selection {format_time(start / rate)} to {format_time(end / rate)}"
        self.setAccessibleDescription(text)
        self.viewport().update()

    def _word_span(self, first: int, last: int, *, snap: bool) -> tuple[int, int]:
        count = len(self._words.labels)
        if not (0 <= first < count and 0 <= last < count):
            raise IndexError(f"word indices {first}..{last} outside 0..{count - 1}")
        if first > last:
            raise ValueError(f"first word {first} after last word {last}")
        start, end = int(self._words.starts[first]), int(self._words.ends[last])
        if snap and self._audio is not None:
            window = zero_crossing_window(self._rate)
            start = nearest_zero_crossing(self._audio, start, window, direction=-1)
            end = nearest_zero_crossing(self._audio, end, window, direction=1)
        return start, end

    def _snapped(self, position: float, snap: bool) -> int:
        """The frame at a mouse position, snapped to words and zero crossings."""
        frame = min(max(round(position), 0), self.frames)
        if not snap or self._audio is None:
            return frame
        # Both reaches end at a few pixels, so the edge stays under the mouse up close.
        reach = max(1, round(SNAP_PIXELS * self._spp))
        return snap_edge(frame, self._audio, self._boundaries, self._rate, max_distance=reach,
                         zero_window=min(zero_crossing_window(self._rate), reach))

    def _word_at(self, frame: float) -> int | None:
        """The word whose span holds ``frame``, or None."""
        after = int(np.searchsorted(self._words.starts, frame, side="right"))
        if after and frame < self._words.ends[after - 1]:
            return after - 1
        return None

    def _word_near(self, frame: float) -> int | None:
        """The word under ``frame``, else the nearest word, or None without words."""
        words = self._words
        count = len(words.labels)
        under = self._word_at(frame)
        if under is not None or not count:
            return under
        after = int(np.searchsorted(words.starts, frame, side="right"))
        candidates = [i for i in (after - 1, after) if 0 <= i < count]
        return min(candidates, key=lambda i: min(abs(frame - words.starts[i]),
                                                 abs(frame - words.ends[i])))

    # --- Mouse and keys --------------------------------------------------------------

    def _frame_at(self, x: float) -> float:
        return self._start + x * self._spp

    def _lane_top(self) -> int:
        return self.viewport().height() - self._lane_height()

    def _lane_height(self) -> int:
        return WORD_ROW_HEIGHT + (PHONEME_ROW_HEIGHT if self._phonemes.labels else 0)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._audio is None or event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        snap = not event.modifiers() & Qt.KeyboardModifier.ControlModifier
        extend = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        position = self._frame_at(event.position().x())
        word = self._word_at(position)
        if event.position().y() >= self._lane_top() and word is not None:
            anchor = word
            selected = self.selected_words()
            if extend and selected is not None:
                anchor = selected[0] if word > selected[1] else selected[1]
            self._drag = ("words", anchor)
            self._change_selection(*self._word_span(min(anchor, word), max(anchor, word),
                                                    snap=snap))
            return
        frame = self._snapped(position, snap)
        start, end = self._selection
        if extend:
            anchor = end if frame < start or (frame < end and frame - start < end - frame) \
                else start
        else:
            anchor = frame
        self._drag = ("wave", anchor)
        self._change_selection(anchor, frame)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag is None or self._audio is None:
            super().mouseMoveEvent(event)
            return
        x = event.position().x()
        width = self._width()
        if x < 0 or x >= width:  # dragging past an edge scrolls that way
            overshoot = x if x < 0 else x - width
            self._set_view(self._spp, self._start + overshoot * self._spp)
        snap = not event.modifiers() & Qt.KeyboardModifier.ControlModifier
        kind, anchor = self._drag
        position = self._frame_at(min(max(x, 0.0), float(width)))
        if kind == "words":
            word = self._word_near(position)
            if word is not None:
                self._change_selection(*self._word_span(min(anchor, word), max(anchor, word),
                                                        snap=snap))
        else:
            self._change_selection(anchor, self._snapped(position, snap))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag = None
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        word = self._word_at(self._frame_at(event.position().x()))
        if self._audio is None or word is None or event.button() != Qt.MouseButton.LeftButton:
            super().mouseDoubleClickEvent(event)
            return
        snap = not event.modifiers() & Qt.KeyboardModifier.ControlModifier
        self._drag = ("words", word)
        self._change_selection(*self._word_span(word, word, snap=snap))

    def wheelEvent(self, event: QWheelEvent) -> None:
        if self._audio is None:
            event.ignore()
            return
        delta = event.angleDelta()
        shifted = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        across = delta.x() or (delta.y() if shifted else 0)
        if across:
            pixels = -across / 120 * self._width() / 8
            self._set_view(self._spp, self._start + pixels * self._spp)
        elif delta.y():
            anchor = round(self._frame_at(event.position().x()))
            self.zoom_by(2 ** (delta.y() / 240), anchor)  # one notch: √2
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self.play_toggled.emit()
            event.accept()
            return
        super().keyPressEvent(event)

    # --- Painting --------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self.viewport())
        try:
            area = self.viewport().rect()
            painter.fillRect(area, _BACKGROUND)
            if self._audio is None:
                painter.setPen(_DIM_TEXT)
                painter.drawText(area, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                                 self._message)
                return
            width, lane_top = area.width(), self._lane_top()
            wave = QRect(0, RULER_HEIGHT, width, max(0, lane_top - RULER_HEIGHT))
            paint_ruler(painter, QRect(0, 0, width, RULER_HEIGHT), self._start, self._spp,
                        self._rate)
            self._paint_selection(painter, wave)
            painter.setPen(_ZERO_LINE)
            middle = wave.top() + (wave.height() - 1) // 2
            painter.drawLine(0, middle, width, middle)
            if wave.height() > 0:
                painter.drawImage(wave.topLeft(), self._wave_image(width, wave.height()))
            lane = QRect(0, lane_top, width, self._lane_height())
            self._paint_spans(painter, self._words, QRect(0, lane_top, width, WORD_ROW_HEIGHT),
                              highlight=self.selected_words())
            if self._phonemes.labels:
                self._paint_spans(painter, self._phonemes,
                                  QRect(0, lane_top + WORD_ROW_HEIGHT, width, PHONEME_ROW_HEIGHT),
                                  highlight=None)
            self._paint_selection(painter, lane)
            self._paint_markers(painter, wave.top(), area.bottom())
            self._paint_lines(painter, area)
        finally:
            painter.end()

    def _x(self, frame: float) -> float:
        return (frame - self._start) / self._spp

    def _paint_selection(self, painter: QPainter, rect: QRect) -> None:
        start, end = self._selection
        if end > start:
            left, right = max(self._x(start), -1.0), min(self._x(end), rect.width() + 1.0)
            if right > left:
                painter.fillRect(QRectF(left, rect.top(), right - left, rect.height()),
                                 _SELECTION)

    def _paint_lines(self, painter: QPainter, area: QRect) -> None:
        start, end = self._selection
        if start == end:
            x = self._x(start)
            painter.setPen(QPen(_CURSOR, 1))
            painter.drawLine(QLineF(x, RULER_HEIGHT, x, area.bottom()))
        if self._playhead is not None:
            x = self._x(self._playhead)
            painter.setPen(QPen(_PLAYHEAD, 1))
            painter.drawLine(QLineF(x, 0, x, area.bottom()))

    def _paint_markers(self, painter: QPainter, top: int, bottom: int) -> None:
        frames = self._marker_frames
        if not frames.shape[0]:
            return
        width = self.viewport().width()
        lo = int(np.searchsorted(frames, self._start, side="left"))
        hi = int(np.searchsorted(frames, self._frame_at(width), side="right"))
        xs = ((frames[lo:hi] - self._start) / self._spp).tolist()
        painter.setPen(QPen(_MARKER, 1))
        painter.drawLines([QLineF(x, top, x, bottom) for x in xs])
        if hi - lo <= width // 40:  # labels only where they can be read
            baseline = top + QFontMetrics(painter.font()).ascent() + 1
            for x, label in zip(xs, self._marker_labels[lo:hi], strict=True):
                painter.drawText(QPointF(x + 3, baseline), label)

    def _paint_spans(self, painter: QPainter, spans: _Spans, rect: QRect,
                     highlight: tuple[int, int] | None) -> None:
        """Words (or phonemes) as labelled boxes; as one band where they are too dense."""
        visible = spans.visible(self._start, self._frame_at(rect.width()))
        if not len(visible):
            return
        inner = rect.adjusted(0, 2, 0, -2)
        if len(visible) * _MIN_BOX_PIXELS > rect.width():
            self._paint_band(painter, spans, inner)
            return
        x0 = (spans.starts[visible.start:visible.stop] - self._start) / self._spp
        x1 = (spans.ends[visible.start:visible.stop] - self._start) / self._spp
        metrics = QFontMetrics(painter.font())
        painter.setPen(QPen(_WORD_BORDER, 1))
        for offset, index in enumerate(visible):
            left, right = float(x0[offset]), float(x1[offset])
            chosen = highlight is not None and highlight[0] <= index <= highlight[1]
            box = QRectF(left, inner.top(), max(right - left, 1.0), inner.height())
            painter.fillRect(box, _WORD_SELECTED if chosen else _WORD_FILL)
            painter.drawRect(box)
            # The label stays in the part of the box on screen.
            shown = QRectF(max(left, 0.0) + 3, box.top(),
                           min(right, rect.width()) - max(left, 0.0) - 6, box.height())
            if shown.width() >= 12:
                text = metrics.elidedText(spans.labels[index], Qt.TextElideMode.ElideRight,
                                          int(shown.width()))
                if text == "…" != spans.labels[index]:  # an ellipsis alone says nothing
                    continue
                painter.setPen(_TEXT)
                painter.drawText(shown, Qt.AlignmentFlag.AlignVCenter, text)
                painter.setPen(QPen(_WORD_BORDER, 1))

    def _paint_band(self, painter: QPainter, spans: _Spans, rect: QRect) -> None:
        """The columns any span reaches into, in the box colour: one binary search per
        column, however many spans there are."""
        width = rect.width()
        edges = self._start + np.arange(width + 1) * self._spp
        before_end = np.searchsorted(spans.starts, edges[1:], side="left")
        reach = spans.reach[np.maximum(before_end - 1, 0)]
        covered = (before_end > 0) & (reach > edges[:-1])
        row = np.where(covered, np.uint32(_WORD_FILL.rgba()), np.uint32(0)).astype(np.uint32)
        image = QImage(row.data, width, 1, width * 4, QImage.Format.Format_ARGB32)
        painter.drawImage(QRectF(rect), image)

    def _wave_image(self, width: int, height: int) -> QImage:
        key = (self._start, self._spp, width, height, id(self._pyramid))
        if key == self._image_key and self._image is not None:
            return self._image
        assert self._audio is not None and self._pyramid is not None
        self._image = wave_image(self._audio, self._pyramid, self._start, self._spp, width,
                                 height)
        self._image_key = key
        return self._image
