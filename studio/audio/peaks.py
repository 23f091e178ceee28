"""Peak summaries of a take for drawing its waveform at any zoom. Qt-free.

Audacity keeps min/max/RMS summaries of every 256 and every 65 536 samples and draws
from the one that suits the zoom, so a repaint costs the width of the view, not the
length of the audio. :class:`PeakPyramid` does the same with one level in between
(4 096 samples) so that no zoom reads more than a few dozen summaries per pixel column.

Units: positions and lengths are in frames (samples of the mono take); values are
sample values (full scale is ±1.0). Arrays are float32, shape ``(buckets,)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
IndexArray = npt.NDArray[np.int64]
AnyArray = npt.NDArray[Any]

#: Samples per bucket of each level, finest first (Audacity's 256 and 65 536, and 4 096).
BUCKETS = (256, 4096, 65536)

#: A column reads whole buckets, so a column may widen by up to a bucket on each side;
#: a level is used only where its bucket is at most this fraction of a column, which
#: keeps that widening small (the 256 level is used from 256 samples per pixel on).
_BUCKETS_PER_COLUMN = 8

#: Samples summarised per step of the build: 1 MiB of float32 stays in the CPU's cache
#: while it is read three times (min, max, sum of squares).
_CHUNK = 1 << 18


@dataclass(frozen=True, slots=True)
class PeakLevel:
    """Min, max and RMS of every ``bucket`` samples of a take.

    Attributes:
        bucket: samples per bucket.
        mins, maxs, rms: float32, shape ``(ceil(frames / bucket),)``; the last bucket
            covers only the samples that remain.
    """

    bucket: int
    mins: FloatArray
    maxs: FloatArray
    rms: FloatArray


@dataclass(frozen=True, slots=True)
class PeakPyramid:
    """Min/max/RMS summaries of a take at several resolutions (Audacity's summaries).

    Build it with :meth:`build`, off the UI thread: it reads every sample once. The
    pyramid keeps a reference to ``audio`` (no copy) for the zooms that draw from raw
    samples, so the caller must not modify the array afterwards.

    Attributes:
        audio: float32 mono, shape ``(frames,)``.
        levels: one :class:`PeakLevel` per entry of :data:`BUCKETS`, finest first.
    """

    audio: FloatArray
    levels: tuple[PeakLevel, ...]

    @property
    def frames(self) -> int:
        return int(self.audio.shape[0])

    @classmethod
    def build(cls, audio: npt.ArrayLike) -> PeakPyramid:
        """Summarise ``audio`` (float32 mono, shape ``(frames,)``; any length, even 0).

        The 256-sample level is read from the audio in cache-sized chunks; each coarser
        level is derived from the level below it, never from the audio again. Takes
        about as long as one pass over the samples (``tests/benchmarks/bench_waveform.py``).

        Raises:
            ValueError: ``audio`` is not one-dimensional.
        """
        data = np.ascontiguousarray(audio, dtype=np.float32)
        if data.ndim != 1:
            raise ValueError(f"audio must be mono, shape (frames,); got shape {data.shape}")
        frames = data.shape[0]
        first = BUCKETS[0]
        mins, maxs, sumsq = _summarise(data, first)
        counts = _counts(frames, first)
        levels = [_level(first, mins, maxs, sumsq, counts)]
        sumsq = sumsq.astype(np.float64)  # coarser sums add up many float32 squares
        for bucket in BUCKETS[1:]:
            group = bucket // (levels[-1].bucket)
            mins = _group(np.minimum, mins, group)
            maxs = _group(np.maximum, maxs, group)
            sumsq = _group(np.add, sumsq, group)
            counts = _counts(frames, bucket)
            levels.append(_level(bucket, mins, maxs, sumsq, counts))
        view = data.view()  # read-only for the pyramid's users, not for the caller
        view.flags.writeable = False
        return cls(view, tuple(levels))

    def resolution(self, samples_per_pixel: float) -> int:
        """Samples per bucket that :meth:`columns` reads at ``samples_per_pixel``.

        1 (raw samples) below 256 samples per pixel; else the coarsest level whose
        bucket is at most an eighth of a column, and at least the 256 level.
        """
        if samples_per_pixel < BUCKETS[0]:
            return 1
        chosen = BUCKETS[0]
        for bucket in BUCKETS[1:]:
            if bucket * _BUCKETS_PER_COLUMN <= samples_per_pixel:
                chosen = bucket
        return chosen

    def columns(
        self, start: float, samples_per_pixel: float, width: int
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Min, max and RMS per pixel column of a view of the take.

        Column ``i`` covers the positions ``[start + i*spp, start + (i+1)*spp)`` (frames)
        and summarises the samples ``n`` with ``start + i*spp <= n < start + (i+1)*spp``,
        i.e. ``ceil(start + i*spp) <= n < ceil(start + (i+1)*spp)``.

        Below 256 samples per pixel the raw samples are read, exactly. From 256 on, the
        level chosen by :meth:`resolution` is read and a column takes every bucket it
        touches, so its span widens outwards to whole buckets (at most one bucket on
        each side): the min and max then include every sample of the column, and maybe
        a few of its neighbours'.

        A column that holds no sample (past either end of the take, or narrower than a
        sample and between two) is NaN in all three arrays.

        Args:
            start: frame position of the left edge of column 0 (may be fractional or
                negative).
            samples_per_pixel: frames per column, > 0.
            width: number of columns, >= 0.

        Returns:
            ``(mins, maxs, rms)``: float32, shape ``(width,)``.

        Raises:
            ValueError: ``samples_per_pixel <= 0`` or ``width < 0``.
        """
        if not samples_per_pixel > 0:
            raise ValueError(f"samples_per_pixel must be positive, got {samples_per_pixel}")
        if width < 0:
            raise ValueError(f"width must not be negative, got {width}")
        edges = np.ceil(start + np.arange(width + 1, dtype=np.float64) * samples_per_pixel)
        edges = np.clip(edges, 0, self.frames).astype(np.int64)
        lo, hi = edges[:-1], edges[1:]
        bucket = self.resolution(samples_per_pixel)
        if bucket == 1:
            return _raw_columns(self.audio, lo, hi)
        level = self.levels[BUCKETS.index(bucket)]
        return _level_columns(level, self.frames, lo, hi)


def _summarise(data: FloatArray, bucket: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Min, max and sum of squares of every ``bucket`` samples (last one partial)."""
    frames = data.shape[0]
    count = -(-frames // bucket)
    mins = np.empty(count, dtype=np.float32)
    maxs = np.empty(count, dtype=np.float32)
    sumsq = np.empty(count, dtype=np.float32)
    whole = frames // bucket * bucket
    for first in range(0, whole, _CHUNK):
        rows = data[first:min(first + _CHUNK, whole)].reshape(-1, bucket)
        out = slice(first // bucket, first // bucket + rows.shape[0])
        np.min(rows, axis=1, out=mins[out])
        np.max(rows, axis=1, out=maxs[out])
        np.einsum("ij,ij->i", rows, rows, out=sumsq[out])
    if whole < frames:
        tail = data[whole:]
        mins[-1], maxs[-1] = tail.min(), tail.max()
        sumsq[-1] = np.dot(tail, tail)
    return mins, maxs, sumsq


def _group(ufunc: np.ufunc, values: AnyArray, group: int) -> AnyArray:
    """``ufunc`` reduced over every ``group`` consecutive values (last group partial)."""
    whole = values.shape[0] // group * group
    out = ufunc.reduce(values[:whole].reshape(-1, group), axis=1)
    if whole < values.shape[0]:
        out = np.append(out, ufunc.reduce(values[whole:]))
    return np.asarray(out, dtype=values.dtype)


def _counts(frames: int, bucket: int) -> IndexArray:
    """Samples in each bucket: ``bucket``, except a partial last one."""
    counts = np.full(-(-frames // bucket), bucket, dtype=np.int64)
    if frames % bucket:
        counts[-1] = frames % bucket
    return counts


def _level(bucket: int, mins: FloatArray, maxs: FloatArray, sumsq: FloatArray,
           counts: IndexArray) -> PeakLevel:
    rms = np.sqrt(sumsq / counts).astype(np.float32)
    for array in (mins, maxs, rms):
        array.flags.writeable = False
    return PeakLevel(bucket, mins, maxs, rms)


def _segments(ufunc: np.ufunc, values: AnyArray, lo: IndexArray, hi: IndexArray) -> AnyArray:
    """``ufunc`` reduced over ``values[lo[i]:hi[i]]`` for each i (all ``lo < hi``).

    One ``reduceat`` over the slice the segments span, with the segment starts and ends
    interleaved as indices (the reductions between segments are discarded), so segments
    may overlap and the cost is the span, not the whole array.
    """
    base, top = int(lo.min()), int(hi.max())
    # reduceat's indices must lie inside the array, the end of the last segment too:
    # one value past the span, or a copy with one added at the end of the take.
    span = values[base:top + 1]
    if top == values.shape[0]:
        span = np.append(span, span[-1:])
    indices = np.empty(2 * lo.shape[0], dtype=np.int64)
    indices[0::2] = lo - base
    indices[1::2] = hi - base
    return ufunc.reduceat(span, indices)[0::2]


def _nan_columns(width: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    def nan() -> FloatArray:
        return np.full(width, np.nan, dtype=np.float32)

    return nan(), nan(), nan()


def _raw_columns(
    audio: FloatArray, lo: IndexArray, hi: IndexArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    mins, maxs, rms = _nan_columns(lo.shape[0])
    filled = hi > lo
    if not filled.any():
        return mins, maxs, rms
    lo, hi = lo[filled], hi[filled]
    mins[filled] = _segments(np.minimum, audio, lo, hi)
    maxs[filled] = _segments(np.maximum, audio, lo, hi)
    span = audio[int(lo.min()):int(hi.max())].astype(np.float64)
    sumsq = _segments(np.add, np.square(span, out=span), lo - lo.min(), hi - lo.min())
    rms[filled] = np.sqrt(sumsq / (hi - lo))
    return mins, maxs, rms


def _level_columns(
    level: PeakLevel, frames: int, lo: IndexArray, hi: IndexArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    mins, maxs, rms = _nan_columns(lo.shape[0])
    filled = hi > lo
    if not filled.any():
        return mins, maxs, rms
    bucket = level.bucket
    first = lo[filled] // bucket
    last = -(-hi[filled] // bucket)
    mins[filled] = _segments(np.minimum, level.mins, first, last)
    maxs[filled] = _segments(np.maximum, level.maxs, first, last)
    base, top = int(first.min()), int(last.max())
    counts = np.full(top - base, bucket, dtype=np.int64)
    if top * bucket > frames:  # the take's last bucket is partial
        counts[-1] = frames - (top - 1) * bucket
    energy = np.square(level.rms[base:top].astype(np.float64)) * counts
    sumsq = _segments(np.add, energy, first - base, last - base)
    samples = np.minimum(last * bucket, frames) - first * bucket
    rms[filled] = np.sqrt(sumsq / samples)
    return mins, maxs, rms
