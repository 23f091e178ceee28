"""What the waveform view draws from its numbers alone: the waveform image and the time
ruler. No widget state: :class:`~studio.ui.widgets.waveform_view.WaveformView` passes the take,
the first frame shown and the zoom, and keeps the results.

The waveform follows Audacity (``WaveformView.cpp``): min/max per pixel column from the
peak summaries that suit the zoom (:class:`~studio.audio.peaks.PeakPyramid`), each
column stretched to meet its neighbour so the line has no gaps, the RMS as a lighter
inner band, and individual samples joined by straight lines once a sample is at least
half a pixel wide (with dots from 3 pixels). It is rasterised with numpy into one
QImage, so building it costs the width of the view, however long the take.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QLineF, QPointF, QRect
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPainter

from studio.audio.peaks import PeakPyramid

#: Audacity draws individual samples from half a pixel per sample, and dots from 3.
_LINE_SAMPLES_PER_PIXEL = 2.0
_DOT_SAMPLES_PER_PIXEL = 1 / 3

_LABEL_SPACING = 96  # pixels between ruler labels, at least

_RULER = QColor("#212228")
_RULER_TEXT = QColor("#a0a1ad")
_TICK = QColor("#55566a")
# The waveform image is 8-bit colour indices into this table of ARGB colours.
_EMPTY, _SPAN, _BAND = 0, 1, 2
_COLOUR_TABLE = [0x00000000, 0xFF6F7FF0, 0xFFB4BCFF]

#: Ruler steps in seconds, each with its number of minor divisions.
_TICK_STEPS = (
    (1e-4, 5), (2e-4, 4), (5e-4, 5), (1e-3, 5), (2e-3, 4), (5e-3, 5), (0.01, 5),
    (0.02, 4), (0.05, 5), (0.1, 5), (0.2, 4), (0.5, 5), (1, 5), (2, 4), (5, 5), (10, 5),
    (15, 3), (30, 3), (60, 4), (120, 4), (300, 5), (600, 5), (900, 3), (1800, 3),
    (3600, 4), (7200, 4),
)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.floating[Any]]


# --- Ruler ---------------------------------------------------------------------------


def format_time(seconds: float, decimals: int = 3) -> str:
    """``0:01.500``, or ``1:02:03.250`` from an hour on; ``decimals`` digits after the point."""
    scale = 10**decimals
    total = round(abs(seconds) * scale)
    whole, fraction = divmod(total, scale)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    tail = f".{fraction:0{decimals}d}" if decimals else ""
    sign = "-" if seconds < 0 and total else ""
    if hours:
        return f"{sign}{hours}:{minutes:02d}:{secs:02d}{tail}"
    return f"{sign}{minutes}:{secs:02d}{tail}"


def ruler_step(seconds_per_pixel: float) -> tuple[float, int]:
    """The smallest ruler step (seconds) whose labels stand ``_LABEL_SPACING`` apart,
    and its minor divisions."""
    for step, minor in _TICK_STEPS:
        if step / seconds_per_pixel >= _LABEL_SPACING:
            return step, minor
    return _TICK_STEPS[-1]


def paint_ruler(painter: QPainter, rect: QRect, first_frame: float,
                samples_per_pixel: float, sample_rate: int) -> None:
    """The time ruler over ``rect``: ticks at :func:`ruler_step` and their times, with
    ``first_frame`` (frames, float) at the left edge and ``samples_per_pixel`` frames per
    pixel column at ``sample_rate`` Hz."""
    painter.fillRect(rect, _RULER)
    seconds_per_pixel = samples_per_pixel / sample_rate
    step, minor = ruler_step(seconds_per_pixel)
    decimals = 3 if step >= 1e-3 else 4
    first_second = first_frame / sample_rate
    last_second = first_second + rect.width() * seconds_per_pixel
    minor_step = step / minor
    ticks, labels = [], []
    bottom = float(rect.bottom())
    for index in range(math.floor(first_second / minor_step),
                       math.ceil(last_second / minor_step) + 1):
        x = (index * minor_step - first_second) / seconds_per_pixel
        major = index % minor == 0
        ticks.append(QLineF(x, bottom - (9 if major else 4), x, bottom))
        if major:
            labels.append((x, format_time(index * minor_step, decimals)))
    painter.setPen(_TICK)
    painter.drawLines(ticks)
    painter.setPen(_RULER_TEXT)
    baseline = rect.top() + QFontMetrics(painter.font()).ascent() + 2
    for x, text in labels:
        painter.drawText(QPointF(x + 3, baseline), text)


# --- Waveform ------------------------------------------------------------------------


def wave_image(audio: npt.NDArray[np.float32], pyramid: PeakPyramid, first_frame: float,
               samples_per_pixel: float, width: int, height: int) -> QImage:
    """The waveform of ``audio`` as ``width`` x ``height`` pixels, ARGB32 premultiplied,
    transparent where nothing is drawn: ``first_frame`` (frames, float) at the left edge,
    ``samples_per_pixel`` frames per column, +1.0 at the top row and -1.0 at the bottom.

    Args:
        audio: float32 mono, shape ``(frames,)``.
        pyramid: :meth:`PeakPyramid.build` of ``audio``.
    """
    start, spp = first_frame, samples_per_pixel
    if spp <= _LINE_SAMPLES_PER_PIXEL:
        lows, highs = _sample_line(audio, pyramid, start, spp, width)
        rms = None
    else:
        mins, maxs, rms = pyramid.columns(start, spp, width)
        lows, highs = _joined(mins, maxs)
    # Image lines start on 4-byte boundaries: pad with empty columns.
    stride = -(-width // 4) * 4
    lows, highs = _padded(lows, stride, np.nan), _padded(highs, stride, np.nan)
    rms = None if rms is None else _padded(rms, stride, 0.0)
    pixels = _rasterise(lows, highs, rms, height)
    if spp <= _DOT_SAMPLES_PER_PIXEL:
        _dot_samples(pixels[:, :width], audio, start, spp)
    indexed = QImage(pixels.data, width, height, stride, QImage.Format.Format_Indexed8)
    indexed.setColorTable(_COLOUR_TABLE)
    # Converted once (a copy), so repaints that only move a line blit it as it is.
    return indexed.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)


def _visible_samples(audio: npt.NDArray[np.float32], start: float, spp: float, width: int
                     ) -> tuple[IntArray, npt.NDArray[np.float32]]:
    first = max(0, math.floor(start) - 1)
    last = min(int(audio.shape[0]), math.ceil(start + width * spp) + 2)
    return np.arange(first, last), audio[first:last]


def _sample_line(audio: npt.NDArray[np.float32], pyramid: PeakPyramid, start: float,
                 spp: float, width: int
                 ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Per column, the range of the straight lines joining the samples across it."""
    positions, values = _visible_samples(audio, start, spp, width)
    edges = start + np.arange(width + 1) * spp
    if positions.shape[0]:
        at_edges = np.interp(edges, positions, values, left=np.nan, right=np.nan)
    else:
        at_edges = np.full(width + 1, np.nan)
    mins, maxs, _ = pyramid.columns(start, spp, width)
    with np.errstate(invalid="ignore"):
        lows = np.fmin(np.fmin(at_edges[:-1], at_edges[1:]), mins)
        highs = np.fmax(np.fmax(at_edges[:-1], at_edges[1:]), maxs)
    return lows.astype(np.float32), highs.astype(np.float32)


def _dot_samples(pixels: npt.NDArray[np.uint8], audio: npt.NDArray[np.float32],
                 start: float, spp: float) -> None:
    """A 3x3 dot of :data:`_BAND` at each sample in ``pixels`` (rows, columns)."""
    height, width = pixels.shape
    positions, values = _visible_samples(audio, start, spp, width)
    xs = np.rint((positions - start) / spp).astype(np.int64)
    ys = _rows(values, height)
    offsets = np.arange(-1, 2)
    rows = np.clip(ys[:, None, None] + offsets[None, :, None], 0, height - 1)
    cols = xs[:, None, None] + offsets[None, None, :]
    rows, cols = np.broadcast_arrays(rows, cols)
    inside = (cols >= 0) & (cols < width)
    pixels[rows[inside], cols[inside]] = _BAND


def _rows(values: FloatArray, height: int) -> IntArray:
    """Image rows of sample values: +1.0 at the top, -1.0 at the bottom, clipped."""
    half = (height - 1) / 2
    rows: IntArray = np.clip(np.rint(half - values * half), 0, height - 1).astype(np.int64)
    return rows


def _padded(values: npt.NDArray[np.float32], size: int, fill: float) -> npt.NDArray[np.float32]:
    if values.shape[0] >= size:
        return values
    return np.concatenate([values, np.full(size - values.shape[0], fill, values.dtype)])


def _joined(mins: npt.NDArray[np.float32], maxs: npt.NDArray[np.float32]
            ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Each column stretched to meet the previous one, so the line has no gaps
    (Audacity's ``DrawMinMaxRMS``); empty (NaN) columns stay empty."""
    lows, highs = mins.copy(), maxs.copy()
    with np.errstate(invalid="ignore"):
        reach_down = np.minimum(mins[1:], maxs[:-1])
        reach_up = np.maximum(maxs[1:], mins[:-1])
    lows[1:] = np.where(np.isnan(reach_down), mins[1:], reach_down)
    highs[1:] = np.where(np.isnan(reach_up), maxs[1:], reach_up)
    return lows, highs


def _rasterise(lows: npt.NDArray[np.float32], highs: npt.NDArray[np.float32],
               rms: npt.NDArray[np.float32] | None, height: int) -> npt.NDArray[np.uint8]:
    """Colour indices (height, width): :data:`_SPAN` over the min-max span of each column,
    :data:`_BAND` over the RMS band inside it, :data:`_EMPTY` elsewhere.

    One comparison per pixel on 16-bit rows: ``row - top`` as unsigned is at most
    ``bottom - top`` exactly when ``top <= row <= bottom``.
    """
    filled = ~(np.isnan(lows) | np.isnan(highs))
    top = np.where(filled, _rows(np.nan_to_num(highs), height), height).astype(np.int16)
    bottom = np.where(filled, _rows(np.nan_to_num(lows), height), -1).astype(np.int16)
    rows = np.arange(height, dtype=np.int16)[:, None]
    pixels = _inside(rows, top, bottom)
    if rms is not None:
        level = np.nan_to_num(rms)
        # The band stays inside the span, as Audacity clamps it.
        band_top = np.maximum(_rows(level, height), top + 1).astype(np.int16)
        band_bottom = np.minimum(_rows(-level, height), bottom - 1).astype(np.int16)
        pixels += _inside(rows, band_top, band_bottom)
    return pixels


def _inside(rows: npt.NDArray[np.int16], top: npt.NDArray[np.int16],
            bottom: npt.NDArray[np.int16]) -> npt.NDArray[np.uint8]:
    """1 where ``top <= row <= bottom``, else 0: shape (rows, columns)."""
    empty = bottom < top  # its span would wrap around to everything: start it off-image
    top = np.where(empty, np.int16(32767), top)
    span = np.where(empty, np.int16(0), bottom - top).view(np.uint16)
    inside: npt.NDArray[np.uint8] = ((rows - top).view(np.uint16) <= span).view(np.uint8)
    return inside
