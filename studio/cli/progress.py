"""Progress on the terminal: one redrawn line on a TTY, plain lines otherwise (a log
file or a pipe keeps them readable)."""

from __future__ import annotations

import math
import sys
import time
from typing import TextIO


class ProgressBar:
    """A one-line progress bar on a terminal; plain lines when not a TTY.

    Progress is counted in words (from the word timestamps), so one long block
    moves the bar too; finished blocks are reported by name.
    """

    def __init__(self, words_per_block: list[int], stream: TextIO = sys.stderr) -> None:
        self.total = len(words_per_block)
        self.done = 0
        self.stream = stream
        self._weights = [max(w, 1) for w in words_per_block]
        self._fractions = [0.0] * self.total
        self._tty = stream.isatty()
        self._started = time.monotonic()
        self._last_draw = 0.0
        self._last_percent = -10

    @property
    def fraction(self) -> float:
        done = sum(f * w for f, w in zip(self._fractions, self._weights, strict=True))
        return done / sum(self._weights)

    def update(self, index: int, fraction: float) -> None:
        """Block ``index`` has rendered ``fraction`` of its words."""
        self._fractions[index] = fraction
        now = time.monotonic()
        if self._tty and now - self._last_draw >= 0.1:
            self._draw("")
        elif not self._tty and self.fraction * 100 >= self._last_percent + 10:
            self._last_percent = int(self.fraction * 10) * 10
            self.stream.write(f"  {self._last_percent}% of the words rendered\n")
            self.stream.flush()

    def advance(self, index: int, label: str) -> None:
        """Block ``index`` finished (or failed; ``label`` says which)."""
        self.done += 1
        self._fractions[index] = 1.0
        if self._tty:
            self._draw(label)
            if self.done == self.total:
                self.stream.write("\n")
        else:
            elapsed = time.monotonic() - self._started
            self.stream.write(f"[{self.done}/{self.total}] {label} ({elapsed:.1f}s)\n")
        self.stream.flush()

    def _draw(self, label: str) -> None:
        self._last_draw = time.monotonic()
        width = 30
        filled = int(width * self.fraction)
        bar = "#" * filled + "-" * (width - filled)
        elapsed = self._last_draw - self._started
        self.stream.write(f"\r[{bar}] {self.fraction:4.0%}  {self.done}/{self.total} blocks  "
                          f"{elapsed:5.1f}s  {label[:36]:<36}")
        self.stream.flush()


class TerminalProgress:
    """``Encoding 42% (1:03 left)`` on one line of a terminal; tens of percent otherwise."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self._tty = self.stream.isatty()
        self._started = time.monotonic()
        self._last = -1.0
        self._last_decile = -1

    def __call__(self, stage: str, fraction: float) -> None:
        now = time.monotonic()
        if self._tty:
            if now - self._last < 0.2 and fraction < 1.0:
                return
            self._last = now
            elapsed = now - self._started
            left = elapsed / fraction * (1 - fraction) if fraction > 0.02 else math.nan
            eta = f" ({int(left // 60)}:{int(left % 60):02d} left)" if math.isfinite(left) else ""
            self.stream.write(f"\r{stage} {fraction * 100:3.0f}%{eta}   ")
        elif int(fraction * 10) > self._last_decile:
            self._last_decile = int(fraction * 10)
            self.stream.write(f"  {stage} {self._last_decile * 10}%\n")
        self.stream.flush()

    def done(self) -> None:
        if self._tty:
            self.stream.write("\n")
            self.stream.flush()
