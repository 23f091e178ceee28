"""Where a selection edge should land: on a word boundary, then on a zero crossing. Qt-free.

A cut placed where the waveform crosses zero joins the two sides without a step in the
signal, so it does not click; Audacity's *Find Zero Crossings* moves each edge to the
best crossing within a window of 1/100 s centred on it. Word boundaries come first
because a cut between words is what a voiceover editor means nearly every time.

Positions are frames (sample indices of the mono take): frame ``n`` is the boundary just
before sample ``n``, so a selection ``[start, end)`` holds the samples ``start..end-1``.
Word times are seconds and become frames by rounding ``seconds * sample_rate``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from studio.timestamps import WordTimestamps

#: Audacity's zero-crossing search window: 1/100 s, centred on the edge.
ZERO_CROSSING_WINDOW_S = 0.010

#: How far :func:`snap` looks for a word boundary unless told (seconds).
WORD_SNAP_S = 0.020

IndexArray = npt.NDArray[np.int64]


def seconds_to_frames(seconds: npt.ArrayLike, sample_rate: int) -> IndexArray:
    """``round(seconds * sample_rate)`` as int64 frames, elementwise."""
    return np.rint(np.asarray(seconds, dtype=np.float64) * sample_rate).astype(np.int64)


def word_boundaries(words: WordTimestamps, sample_rate: int) -> IndexArray:
    """Every word's start and end in frames, sorted, without repeats; shape ``(n,)``."""
    if not words.words:
        return np.zeros(0, dtype=np.int64)
    return np.unique(seconds_to_frames(words.start + words.end, sample_rate))


def snap_to_boundaries(frame: int, boundaries: IndexArray, max_distance: int) -> int:
    """The boundary (sorted frames) nearest ``frame`` if within ``max_distance`` frames
    (inclusive; the earlier one on a tie), else ``frame``."""
    if boundaries.shape[0] == 0 or max_distance < 0:
        return frame
    right = int(np.searchsorted(boundaries, frame))
    candidates = boundaries[max(right - 1, 0):right + 1]
    best = int(candidates[np.argmin(np.abs(candidates - frame))])
    return best if abs(best - frame) <= max_distance else frame


def nearest_zero_crossing(audio: npt.NDArray[np.float32], frame: int, window: int, *,
                          direction: int = 0) -> int:
    """The zero crossing nearest ``frame`` within ``±window`` frames, else ``frame``.

    A crossing is a frame ``n`` (``1 <= n < len(audio)``) where the sign changes between
    samples ``n - 1`` and ``n``, with 0.0 counted as positive: cutting at ``n`` puts the
    change of sign exactly at the cut. Digital silence has no crossings, so an edge in
    silence stays where it is. On a tie the earlier crossing wins.

    Audacity (``NearestZeroCrossing``) instead scores every sample in the window by its
    magnitude, prefers rising crossings and penalises distance; the nearest sign change
    is simpler to predict while dragging.

    Args:
        audio: float32 mono, shape ``(frames,)``.
        frame: position in frames (need not lie inside the audio).
        window: search radius in frames (>= 0).
        direction: 0 for either side, -1 for crossings at or before ``frame`` only, +1
            for at or after (to widen a selection, never shrink it).
    """
    lo = max(1, frame - window if direction <= 0 else frame)
    hi = min(audio.shape[0] - 1, frame + window if direction >= 0 else frame)
    if hi < lo:
        return frame
    negative = audio[lo - 1:hi + 1] < 0
    crossings = np.flatnonzero(negative[1:] != negative[:-1]) + lo
    if crossings.shape[0] == 0:
        return frame
    return int(crossings[np.argmin(np.abs(crossings - frame))])


def zero_crossing_window(sample_rate: int) -> int:
    """Frames either side of an edge that :func:`snap` searches: half of Audacity's 1/100 s."""
    return max(1, round(sample_rate * ZERO_CROSSING_WINDOW_S / 2))


def snap(frame: int, audio: npt.NDArray[np.float32], boundaries: IndexArray,
         sample_rate: int, *, max_distance: int | None = None,
         zero_window: int | None = None) -> int:
    """``frame`` moved onto a nearby word boundary, then onto the nearest zero crossing
    (what the waveform view does to a selection edge).

    Args:
        frame: position in frames.
        audio: float32 mono, shape ``(frames,)``.
        boundaries: the words' starts and ends in frames, sorted
            (:func:`word_boundaries`, computed once per take).
        sample_rate: Hz.
        max_distance: word-boundary reach in frames; default :data:`WORD_SNAP_S`.
        zero_window: zero-crossing search radius in frames; default
            :func:`zero_crossing_window` (a 10 ms window, as in Audacity).

    Returns:
        The snapped frame, within ``[0, len(audio)]``.
    """
    if max_distance is None:
        max_distance = round(WORD_SNAP_S * sample_rate)
    if zero_window is None:
        zero_window = zero_crossing_window(sample_rate)
    frame = snap_to_boundaries(frame, boundaries, max_distance)
    frame = nearest_zero_crossing(audio, frame, zero_window)
    return min(max(frame, 0), int(audio.shape[0]))
