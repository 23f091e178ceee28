"""Export: the selected takes in script order, with pauses, to one WAV. Qt-free.

Takes at another sample rate are resampled to the export rate (soxr, via
``studio.audio.buffers.resample``). Word timestamps are moved onto the output
timeline: a word of block *i* starts at the sum of the durations of blocks
``0..i-1`` plus ``i`` pauses, plus its start within its take.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from studio.audio.buffers import concatenate_with_pauses, resample, write_wav
from studio.project.model import Take


@dataclass(frozen=True, slots=True)
class Mixdown:
    """Takes joined for export.

    Attributes:
        audio: float32 mono, shape ``(frames,)``.
        sample_rate: Hz.
        words: one dict per word: ``word``, ``start``, ``end`` (seconds on the
            output timeline) and ``block`` (index among the exported takes).
    """

    audio: npt.NDArray[np.float32]
    sample_rate: int
    words: list[dict[str, Any]]

    @property
    def duration(self) -> float:
        return self.audio.shape[0] / self.sample_rate


def mixdown(takes: Sequence[Take], sample_rate: int, pause_seconds: float) -> Mixdown:
    """Join ``takes`` in order with ``pause_seconds`` of silence between them.

    Raises:
        ValueError: if ``takes`` is empty or ``pause_seconds`` is negative.
    """
    if not takes:
        raise ValueError("nothing to export: no block has a selected take")
    if pause_seconds < 0:
        raise ValueError("the pause between blocks cannot be negative")
    pieces = [
        t.audio if t.sample_rate == sample_rate else resample(t.audio, t.sample_rate, sample_rate)
        for t in takes
    ]
    audio = concatenate_with_pauses(pieces, sample_rate, pause_seconds)
    words: list[dict[str, Any]] = []
    offset = 0.0
    for index, (take, piece) in enumerate(zip(takes, pieces)):
        ts = take.word_timestamps
        for word, start, end in zip(ts.words, ts.start, ts.end):
            words.append({"word": word, "start": round(offset + start, 4),
                          "end": round(offset + end, 4), "block": index})
        offset += piece.shape[0] / sample_rate + pause_seconds
    return Mixdown(audio, sample_rate, words)


def export_wav(takes: Sequence[Take], path: Path, sample_rate: int, pause_seconds: float) -> Mixdown:
    """Write the mixdown of ``takes`` to ``path`` as 16-bit PCM WAV.

    The file appears atomically (temp file + rename), so a full disk never leaves a
    truncated WAV at ``path``.

    Raises:
        ValueError: nothing to export.
        OSError: the file cannot be written (message names the path).
    """
    mix = mixdown(takes, sample_rate, pause_seconds)
    write_wav(path, mix.audio, sample_rate)
    return mix
