"""Which block plays when: the timeline of a Play all or Play chapter stream. Qt-free.

A stream plays blocks' takes one after another with a pause between consecutive blocks
(as :func:`studio.project.export.mixdown` spaces them). The timeline is built as the
blocks are queued, so it holds one entry per queued block (three ints and an id), never
audio. Times are frames of the stream at its sample rate; seconds are frames / rate.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """A block's place in the stream.

    Attributes:
        block_id: the block.
        start: the stream frame its take begins at.
        end: the frame after its take's last (the pause that follows is not included).
    """

    block_id: str
    start: int
    end: int


class PlayTimeline:
    """The blocks of one stream in the order they were queued.

    Args:
        sample_rate: the stream's rate, Hz (> 0).
        pause_seconds: silence between consecutive blocks, seconds (>= 0); rounded to
            whole frames as :func:`studio.audio.buffers.concatenate_with_pauses` does.

    Raises:
        ValueError: a non-positive rate or a negative pause.
    """

    def __init__(self, sample_rate: int, pause_seconds: float) -> None:
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        if pause_seconds < 0:
            raise ValueError("the pause between blocks cannot be negative")
        self.sample_rate = int(sample_rate)
        self.pause_frames = round(pause_seconds * sample_rate)
        self._entries: list[TimelineEntry] = []
        self._starts: list[int] = []

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def entries(self) -> tuple[TimelineEntry, ...]:
        """Every entry, in stream order."""
        return tuple(self._entries)

    @property
    def end_frames(self) -> int:
        """Frames queued so far: the end of the last block's take (0 when empty)."""
        return self._entries[-1].end if self._entries else 0

    @property
    def end_seconds(self) -> float:
        return self.end_frames / self.sample_rate

    def gap_before_next(self) -> int:
        """Frames of silence to queue before the next block (0 before the first)."""
        return self.pause_frames if self._entries else 0

    def append(self, block_id: str, frames: int) -> TimelineEntry:
        """Queue ``block_id``'s take of ``frames`` frames after the pause; returns its
        entry.

        Raises:
            ValueError: negative ``frames``.
        """
        if frames < 0:
            raise ValueError(f"a take cannot have {frames} frames")
        start = self.end_frames + self.gap_before_next()
        entry = TimelineEntry(block_id, start, start + int(frames))
        self._entries.append(entry)
        self._starts.append(start)
        return entry

    def entry_at(self, seconds: float) -> TimelineEntry | None:
        """The block heard at ``seconds`` into the stream: the last one that has
        started (during a pause, the block before it). None before any block or when
        empty. O(log n)."""
        index = bisect_right(self._starts, round(seconds * self.sample_rate)) - 1
        return self._entries[index] if index >= 0 else None

    def start_seconds(self, block_id: str) -> float | None:
        """Where ``block_id`` starts in the stream, seconds (None: not queued)."""
        for entry in self._entries:
            if entry.block_id == block_id:
                return entry.start / self.sample_rate
        return None
