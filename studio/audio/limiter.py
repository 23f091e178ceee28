"""A lookahead peak limiter for export. Qt-free.

FFmpeg's ``alimiter`` filter through PyAV (:class:`~studio.audio.loudness.AudioGraph`):
a lookahead limiter that holds every sample at or below the ceiling, with its delay
compensated (``latency=1``) so the output lines up with the input sample for sample,
and with FFmpeg's automatic make-up gain turned off (``level=0``) so it only ever turns
peaks down. It limits samples, not the true (inter-sample) peak: the export sets the
ceiling a margin below the true-peak target and measures what it achieved (see
:mod:`studio.project.export_pipeline`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from studio.audio.loudness import AudioGraph, db_to_gain

#: ``alimiter``'s limit is a linear factor in [0.0625, 1]: -24.08 to 0 dBFS.
CEILING_RANGE_DB = (-24.0, 0.0)

#: Lookahead (attack) and release in milliseconds: a 5 ms lookahead catches plosives
#: without audible pumping; 80 ms release lets the gain recover between syllables.
ATTACK_MS = 5.0
RELEASE_MS = 80.0


class PeakLimiter:
    """Streaming sample-peak limiter.

    Args:
        sample_rate: Hz.
        ceiling_db: the highest sample level let through, dBFS, within
            :data:`CEILING_RANGE_DB`.

    Raises:
        ValueError: the ceiling is out of range.
    """

    def __init__(self, sample_rate: int, ceiling_db: float) -> None:
        low, high = CEILING_RANGE_DB
        if not low <= ceiling_db <= high:
            raise ValueError(f"a limiter ceiling must be between {low:g} and {high:g} dBFS, "
                             f"not {ceiling_db:g}")
        self.ceiling_db = ceiling_db
        limit = max(0.0625, min(1.0, db_to_gain(ceiling_db)))
        options = (f"limit={limit:.6f}:level=0:latency=1:asc=0:"
                   f"attack={ATTACK_MS:g}:release={RELEASE_MS:g}")
        self._graph = AudioGraph(sample_rate, [("alimiter", options)])

    def process(self, samples: npt.NDArray[np.float32]) -> list[npt.NDArray[np.float32]]:
        """Limit ``samples`` (float32 mono, ``(frames,)``); returns the limited samples
        that are ready, in order (the lookahead holds back a few milliseconds)."""
        return self._graph.push(samples)

    def flush(self) -> list[npt.NDArray[np.float32]]:
        """The samples still held back, at the end of the stream."""
        return self._graph.flush()
