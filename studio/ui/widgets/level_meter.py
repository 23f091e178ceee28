"""A recording level meter: peak and RMS in dBFS, a peak-hold line, and a clipping
indicator that stays lit until it is clicked.

The meter only draws what it is given; the recorder dialog polls the recorder on a
QTimer and passes each :class:`~studio.audio.recorder.Level` to :meth:`LevelMeter.set_level`
(Friture's display-timer pattern, STYLE.md).
"""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from studio.audio.recorder import Level

#: The scale, in dBFS: anything quieter is drawn as silence.
FLOOR_DB = -60.0
#: Tick marks under the bars, in dBFS.
TICKS_DB = (-60, -48, -36, -24, -18, -12, -6, -3, 0)
#: Above this the bars turn amber (speech peaks belong around -12..-6 dBFS), and red
#: above :data:`HOT_DB`.
WARM_DB = -18.0
HOT_DB = -6.0
#: The peak-hold line stays put for this many updates (about 1.5 s at the recorder
#: dialog's 30 ms poll), then falls with the peak.
HOLD_UPDATES = 50

_GREEN, _AMBER, _RED = QColor("#4cc38a"), QColor("#f2c46c"), QColor("#ff5a5a")
_TRACK, _TEXT, _DIM = QColor("#15161a"), QColor("#a3a4b3"), QColor("#3a3b46")


def _finite(db: float) -> float:
    """``db`` clamped to the scale (``-inf`` for silence becomes the floor)."""
    if math.isnan(db):
        return FLOOR_DB
    return max(FLOOR_DB, min(0.0, db))


def fraction(db: float) -> float:
    """Where ``db`` (dBFS) lies on the scale: 0.0 at :data:`FLOOR_DB`, 1.0 at 0 dBFS."""
    return (_finite(db) - FLOOR_DB) / -FLOOR_DB


class LevelMeter(QWidget):
    """Two horizontal bars, peak over RMS, on a -60..0 dBFS scale with ticks.

    Attributes:
        peak_dbfs, rms_dbfs: the last level shown (``-inf`` when silent or reset).
        hold_dbfs: the peak-hold line: the highest peak of the last
            :data:`HOLD_UPDATES` updates.
        clip_latched: a clipped level was seen since the last :meth:`reset_clip`.

    Signals:
        clip_reset(): the clipping indicator was cleared (by a click or
            :meth:`reset_clip`).
    """

    clip_reset = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("LevelMeter")
        self.peak_dbfs = -math.inf
        self.rms_dbfs = -math.inf
        self.hold_dbfs = -math.inf
        self.clip_latched = False
        self._hold_age = 0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(240)
        self.setAccessibleName("Input level")
        self._update_tooltip()

    def sizeHint(self) -> QSize:
        return QSize(420, 46)

    def minimumSizeHint(self) -> QSize:
        return QSize(240, 46)

    def set_level(self, level: Level) -> None:
        """Show ``level`` (peak and RMS in dBFS, whether any sample clipped)."""
        self.peak_dbfs = float(level.peak_dbfs)
        self.rms_dbfs = float(level.rms_dbfs)
        self._hold_age += 1
        if self.peak_dbfs >= self.hold_dbfs or self._hold_age > HOLD_UPDATES:
            self.hold_dbfs = self.peak_dbfs
            self._hold_age = 0
        if level.clipped:
            self.clip_latched = True
        self._update_tooltip()
        self.update()

    def reset(self) -> None:
        """Back to silence: bars, peak hold and the clipping indicator."""
        self.peak_dbfs = self.rms_dbfs = self.hold_dbfs = -math.inf
        self._hold_age = 0
        self.reset_clip()
        self._update_tooltip()
        self.update()

    def reset_clip(self) -> None:
        """Clear the clipping indicator."""
        was = self.clip_latched
        self.clip_latched = False
        self.update()
        self._update_tooltip()
        if was:
            self.clip_reset.emit()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.reset_clip()
        super().mousePressEvent(event)

    def _update_tooltip(self) -> None:
        def text(db: float) -> str:
            return "silence" if db < FLOOR_DB or math.isinf(db) else f"{db:.1f} dBFS"

        clip = ("Clipped: some samples reached full scale. Lower the input gain or move back "
                "from the microphone; click to reset." if self.clip_latched else "No clipping")
        self.setToolTip(f"Peak {text(self.peak_dbfs)}, RMS {text(self.rms_dbfs)}, "
                        f"peak hold {text(self.hold_dbfs)}.\n{clip}")

    # --- drawing ---------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        small = QFont(self.font())
        small.setPointSizeF(max(6.5, small.pointSizeF() * 0.8))
        painter.setFont(small)
        metrics = painter.fontMetrics()
        label_w = metrics.horizontalAdvance("Peak") + 6
        clip_w = metrics.horizontalAdvance("CLIP") + 14
        left, right = label_w, self.width() - clip_w - 6
        bar_h = 10
        top = 3
        for row, (name, db) in enumerate((("Peak", self.peak_dbfs), ("RMS", self.rms_dbfs))):
            y = top + row * (bar_h + 4)
            painter.setPen(_TEXT)
            painter.drawText(QRectF(0, y - 2, label_w - 4, bar_h + 4),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, name)
            self._paint_bar(painter, QRectF(left, y, right - left, bar_h), db,
                            self.hold_dbfs if row == 0 else None)
        ticks_y = top + 2 * (bar_h + 4)
        painter.setPen(QPen(_TEXT))
        for tick in TICKS_DB:
            x = left + fraction(tick) * (right - left)
            painter.drawLine(int(x), ticks_y, int(x), ticks_y + 3)
            label = str(tick)
            width = metrics.horizontalAdvance(label)
            x_text = min(max(x - width / 2, left - 2), right - width + 2)
            painter.drawText(int(x_text), ticks_y + 4 + metrics.ascent(), label)
        clip_rect = QRectF(right + 6, top, clip_w, 2 * bar_h + 4)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(_RED if self.clip_latched else _DIM)
        painter.drawRoundedRect(clip_rect, 3, 3)
        painter.setPen(QColor("#ffffff") if self.clip_latched else _TEXT)
        painter.drawText(clip_rect, Qt.AlignmentFlag.AlignCenter, "CLIP")
        painter.end()

    def _paint_bar(self, painter: QPainter, rect: QRectF, db: float, hold: float | None) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(_TRACK)
        painter.drawRect(rect)
        filled = fraction(db) * rect.width() if db > FLOOR_DB else 0.0
        # Green, amber and red zones, each drawn only as far as the level reaches.
        zones = ((FLOOR_DB, WARM_DB, _GREEN), (WARM_DB, HOT_DB, _AMBER), (HOT_DB, 0.0, _RED))
        for low, high, color in zones:
            start = fraction(low) * rect.width()
            end = min(fraction(high) * rect.width(), filled)
            if end > start:
                painter.setBrush(color)
                painter.drawRect(
                    QRectF(rect.left() + start, rect.top(), end - start, rect.height())
                )
        if hold is not None and hold > FLOOR_DB:
            x = rect.left() + fraction(hold) * rect.width()
            painter.setPen(QPen(QColor("#ffffff"), 2))
            painter.drawLine(int(x), int(rect.top()), int(x), int(rect.bottom()))
