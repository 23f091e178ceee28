"""The status-bar part that follows a generation batch: "Generating 37/232 · ETA 4 min",
a progress bar, Pause/Resume and Stop.

The ETA is weighted by characters (a long block takes longer than a short one): the
rate is the characters of the blocks over per second spent generating (paused time
left out), applied to the characters still to go (:attr:`GenerationService.characters`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from studio.services.generation import GenerationService


def eta_seconds(active_seconds: float, done_chars: int, total_chars: int) -> float | None:
    """Seconds left at the rate so far: ``active_seconds`` generating gave
    ``done_chars`` of ``total_chars``; None until a block with text is over."""
    if done_chars <= 0 or active_seconds <= 0.0:
        return None
    return max(total_chars - done_chars, 0) * active_seconds / done_chars


def format_eta(seconds: float | None) -> str:
    """"ETA 4 min", "ETA 1 h 05 min", "ETA < 1 min"; "" when unknown."""
    if seconds is None:
        return ""
    minutes = round(seconds / 60.0)
    if minutes < 1:
        return "ETA < 1 min"
    if minutes < 60:
        return f"ETA {minutes} min"
    return f"ETA {minutes // 60} h {minutes % 60:02d} min"


class ActiveClock:
    """Seconds elapsed while running, not while paused (``clock``: seconds, monotonic)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._spent = 0.0
        self._since: float | None = None

    def start(self) -> None:
        self._spent, self._since = 0.0, self._clock()

    def pause(self) -> None:
        if self._since is not None:
            self._spent += self._clock() - self._since
            self._since = None

    def resume(self) -> None:
        if self._since is None:
            self._since = self._clock()

    def seconds(self) -> float:
        running = 0.0 if self._since is None else self._clock() - self._since
        return self._spent + running


class GenerationProgress(QWidget):
    """Shown while ``generation`` is busy. Pause asks the service to start no new
    request (those in flight finish); Stop emits :attr:`stop_requested`.

    Attributes:
        bar: done/total blocks of the batch.
        label: "Generating 37/232 · ETA 4 min", "Paused 37/232", or the shared
            back-off after a 429.
    """

    stop_requested = Signal()

    def __init__(self, generation: GenerationService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._generation = generation
        self._clock = ActiveClock()
        self._done = self._total = 0
        self._note = ""
        self.label = QLabel()
        self.label.setObjectName("GenerationProgressLabel")
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(160)
        self.bar.setFormat("%v/%m blocks")
        self.pause_button = QToolButton()
        self.pause_button.setText("Pause")
        self.pause_button.setToolTip("Start no new block; blocks being generated finish")
        self.pause_button.clicked.connect(self._on_pause_clicked)
        self.stop_button = QToolButton()
        self.stop_button.setText("Stop")
        self.stop_button.setToolTip("Stop generating; finished takes are kept")
        self.stop_button.clicked.connect(self.stop_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.label, self.bar, self.pause_button, self.stop_button):
            layout.addWidget(widget)
        self._timer = QTimer(self)  # the ETA moves between blocks too
        self._timer.setInterval(5000)
        self._timer.timeout.connect(self._refresh)
        generation.progress_changed.connect(self._on_progress)
        generation.busy_changed.connect(self._on_busy)
        generation.paused_changed.connect(self._on_paused)
        generation.rate_limited.connect(self._on_rate_limited)
        self.setVisible(False)

    def _on_busy(self, busy: bool) -> None:
        self.setVisible(busy)
        if busy:
            self._clock.start()
            self._note = ""
            self._timer.start()
        else:
            self._timer.stop()
        self._on_paused(self._generation.paused)

    def _on_progress(self, done: int, total: int) -> None:
        self._done, self._total = done, total
        self.bar.setMaximum(max(total, 1))
        self.bar.setValue(done)
        self._note = ""
        self._refresh()

    def _on_paused(self, paused: bool) -> None:
        if paused:
            self._clock.pause()
        else:
            self._clock.resume()
        self.pause_button.setText("Resume" if paused else "Pause")
        self._refresh()

    def _on_rate_limited(self, _block_id: str, seconds: float) -> None:
        self._note = f"Cartesia asked to slow down: all blocks wait {seconds:.0f} s"
        self._refresh()

    def _on_pause_clicked(self) -> None:
        if self._generation.paused:
            self._generation.resume()
        else:
            self._generation.pause()

    def eta(self) -> float | None:
        """Seconds left, or None while unknown."""
        done, total = self._generation.characters
        return eta_seconds(self._clock.seconds(), done, total)

    def _refresh(self) -> None:
        counts = f"{self._done}/{self._total}"
        if self._generation.paused:
            text = f"Paused {counts}"
            in_flight = self._generation.gate.in_flight
            if in_flight:
                text += f" · finishing {in_flight} in progress"
        else:
            parts = [f"Generating {counts}", self._note or format_eta(self.eta())]
            text = " · ".join(p for p in parts if p)
        self.label.setText(text)
