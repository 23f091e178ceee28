"""Export: the selected takes in script order, with pauses, to one WAV. Qt-free.

Takes at another sample rate are resampled to the export rate (soxr, via
``studio.audio.buffers.resample``). Export streams take by take to the file; the
in-memory :func:`mixdown` is for playback of scripts that mix sample rates. Word timestamps are
moved onto the output timeline: a word of block *i* starts at the sum of the durations of blocks
``0..i-1`` plus ``i`` pauses, plus its start within its take.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from studio.audio.buffers import concatenate_with_pauses, resample, write_audio_chunks
from studio.project.edited_audio import edited
from studio.project.model import Take


@dataclass(frozen=True, slots=True)
class Mixdown:
    """Takes joined for export.

    Attributes:
        audio: float32 mono, shape ``(frames,)``.
        sample_rate: Hz.
        words: one dict per word: ``word``, ``start``, ``end`` (seconds on the
            output timeline) and ``block`` (index among the exported takes).
        starts: the frame where each take begins in ``audio``.
    """

    audio: npt.NDArray[np.float32]
    sample_rate: int
    words: list[dict[str, Any]]
    starts: tuple[int, ...] = ()

    @property
    def duration(self) -> float:
        return int(self.audio.shape[0]) / self.sample_rate


def _pieces(takes: Sequence[Take], sample_rate: int) -> Iterator[npt.NDArray[np.float32]]:
    """Each take's audio as edited (:func:`studio.project.edits.edited`) at
    ``sample_rate``, resampled one take at a time."""
    for take in takes:
        audio = edited(take).audio
        if take.sample_rate == sample_rate:
            yield audio
        else:
            yield resample(audio, take.sample_rate, sample_rate)


def _check(takes: Sequence[Take], pause_seconds: float) -> None:
    if not takes:
        raise ValueError("nothing to export: no block has a selected take")
    if pause_seconds < 0:
        raise ValueError("the pause between blocks cannot be negative")


def timeline_words(
    takes: Sequence[Take], frames: Sequence[int], sample_rate: int, pause_seconds: float
) -> list[dict[str, Any]]:
    """Every word of ``takes`` on the output timeline (see :class:`Mixdown`);
    ``frames`` is each take's length at ``sample_rate``."""
    words: list[dict[str, Any]] = []
    offset = 0.0
    for index, (take, length) in enumerate(zip(takes, frames, strict=True)):
        ts = edited(take).words
        for word, start, end in zip(ts.words, ts.start, ts.end, strict=True):
            words.append({"word": word, "start": round(offset + start, 4),
                          "end": round(offset + end, 4), "block": index})
        offset += length / sample_rate + pause_seconds
    return words


def mixdown(takes: Sequence[Take], sample_rate: int, pause_seconds: float) -> Mixdown:
    """Join ``takes`` in order with ``pause_seconds`` of silence between them.

    Raises:
        ValueError: if ``takes`` is empty or ``pause_seconds`` is negative.
    """
    _check(takes, pause_seconds)
    pieces = list(_pieces(takes, sample_rate))
    audio = concatenate_with_pauses(pieces, sample_rate, pause_seconds)
    lengths = [p.shape[0] for p in pieces]
    words = timeline_words(takes, lengths, sample_rate, pause_seconds)
    gap = round(pause_seconds * sample_rate)  # as concatenate_with_pauses spaces them
    starts = tuple(sum(lengths[:index]) + gap * index for index in range(len(lengths)))
    return Mixdown(audio, sample_rate, words, starts)


@dataclass(frozen=True, slots=True)
class Export:
    """What :func:`export_wav` wrote: ``frames`` at ``sample_rate`` Hz and the words on
    the output timeline (as in :class:`Mixdown`)."""

    path: Path
    frames: int
    sample_rate: int
    words: list[dict[str, Any]]

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate


def export_wav(takes: Sequence[Take], path: Path, sample_rate: int, pause_seconds: float) -> Export:
    """Write ``takes`` in order, with pauses, to ``path`` as 16-bit PCM WAV.

    Takes are streamed to the file one at a time, so exporting an hour of audio needs
    memory for one take, not for the whole mix. The file appears atomically (temp
    file + rename), so a full disk never leaves a truncated WAV at ``path``.

    Raises:
        ValueError: nothing to export, or a negative pause.
        OSError: the file cannot be written (message names the path).
    """
    _check(takes, pause_seconds)
    pause = np.zeros(round(pause_seconds * sample_rate), dtype=np.float32)
    lengths: list[int] = []

    def chunks() -> Iterator[npt.NDArray[np.float32]]:
        for index, piece in enumerate(_pieces(takes, sample_rate)):
            if index:
                yield pause
            lengths.append(piece.shape[0])
            yield piece

    frames = write_audio_chunks(path, chunks(), sample_rate, format="WAV", subtype="PCM_16")
    return Export(path, frames, sample_rate,
                  timeline_words(takes, lengths, sample_rate, pause_seconds))
