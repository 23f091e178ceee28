"""Loudness: takes compared at equal loudness, and programmes measured for export. Qt-free.

Loudness is integrated loudness in LUFS as ITU-R BS.1770-4 defines it (K-weighting,
400 ms blocks overlapping by 75 %, an absolute gate at -70 LUFS and a relative gate
10 LU below the ungated level), measured with pyloudnorm's ``Meter``. On that scale
a full-scale 1 kHz sine in one channel reads -3.01 LUFS (BS.1770-4, Annex 1), and
1 LU is 1 dB.

A/B comparisons play both takes at the loudness of the quieter one
(:func:`matched_gains`, applied by :func:`match_loudness`): listeners rate the louder of two
otherwise equal sounds as better, so a fair comparison removes the difference, and only attenuating
keeps both takes below clipping.

Exports measure whole programmes as a stream (:class:`LoudnessMeter`): FFmpeg's
``ebur128`` filter through PyAV, which implements EBU R128 / ITU-R BS.1770-4
integrated loudness, EBU Tech 3342 loudness range and BS.1770-4 Annex 2 true peak
(4x oversampling), in constant memory whatever the programme's length. pyloudnorm
(and the scipy it pulls in) is imported only when :func:`integrated_lufs` first runs.
"""

from __future__ import annotations

import gc
import math
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from studio.audio.buffers import resample

#: BS.1770 gating block length in seconds; pyloudnorm refuses shorter audio.
BLOCK_SECONDS = 0.4

#: BS.1770 absolute gate in LUFS: anything quieter counts as silence.
ABSOLUTE_GATE_LUFS = -70.0

SILENT = float("-inf")


def integrated_lufs(audio: npt.NDArray[np.float32], sample_rate: int) -> float:
    """Integrated loudness of ``audio`` in LUFS.

    Args:
        audio: float32 mono samples in [-1, 1], shape ``(frames,)``.
        sample_rate: Hz.

    Returns:
        Loudness in LUFS (ITU-R BS.1770-4 via pyloudnorm) for audio of at least
        :data:`BLOCK_SECONDS`. Shorter audio cannot fill one gating block, so it is
        measured as the K-weighted mean square of the clip itself, ungated (the
        BS.1770 formula for a single block whose length is the clip's): for steady
        sounds this equals the integrated reading; for speech it can read a little
        louder, since the quiet parts the gates would drop still count.
        ``-inf`` (:data:`SILENT`) for empty audio, digital silence, and audio
        quieter than the absolute gate (-70 LUFS).

    Raises:
        ValueError: ``audio`` is not one-dimensional, or ``sample_rate`` is not positive.
    """
    if audio.ndim != 1:
        raise ValueError(f"audio must be mono, shape (frames,); got shape {audio.shape}")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    frames = audio.shape[0]
    if frames == 0 or not np.any(audio):
        return SILENT
    # Imported here: pyloudnorm pulls in scipy, which costs every start-up 0.75 s.
    import pyloudnorm

    # float64: the K-weighting filters and long sums lose precision in float32.
    data = audio.astype(np.float64)
    meter = pyloudnorm.Meter(sample_rate, block_size=BLOCK_SECONDS)
    block_frames = math.ceil(BLOCK_SECONDS * sample_rate)
    if frames >= block_frames:
        lufs = float(meter.integrated_loudness(data))
    else:
        # One block of the clip padded with zeros: its ungated block loudness, rescaled
        # from the block's length to the clip's, is the clip's K-weighted mean square.
        padded = np.zeros(block_frames, dtype=np.float64)
        padded[:frames] = data
        meter.integrated_loudness(padded)
        block = float(meter.blockwise_loudness[0])
        lufs = block + 10.0 * math.log10(BLOCK_SECONDS * sample_rate / frames)
    if math.isnan(lufs) or lufs < ABSOLUTE_GATE_LUFS:
        return SILENT
    return lufs


def matched_gains(a_lufs: float, b_lufs: float) -> tuple[float, float]:
    """Linear gains that play two sounds at the loudness of the quieter one.

    Args:
        a_lufs, b_lufs: integrated loudness of each, in LUFS (:func:`integrated_lufs`).

    Returns:
        ``(gain_a, gain_b)``, linear amplitude factors in (0, 1]: the quieter sound
        gets 1.0 and the louder one is attenuated by the difference, so nothing is
        amplified and nothing that did not clip before clips now. When either is
        silent (``-inf``) or not a number there is nothing to match: ``(1.0, 1.0)``.
    """
    if not (math.isfinite(a_lufs) and math.isfinite(b_lufs)):
        return 1.0, 1.0
    target = min(a_lufs, b_lufs)
    return db_to_gain(target - a_lufs), db_to_gain(target - b_lufs)


@dataclass(frozen=True, slots=True)
class MatchedPair:
    """Two sounds prepared for A/B playback at matched loudness (:func:`match_loudness`).

    Attributes:
        a, b: float32 mono samples, shape ``(frames,)``, at ``sample_rate``, with their
            gains applied (B resampled to A's rate if they differed).
        sample_rate: Hz.
        a_lufs, b_lufs: integrated loudness before the gains, LUFS (``-inf``: silent).
        gain_a, gain_b: linear gains applied, in (0, 1].
    """

    a: npt.NDArray[np.float32]
    b: npt.NDArray[np.float32]
    sample_rate: int
    a_lufs: float
    b_lufs: float
    gain_a: float
    gain_b: float


def match_loudness(a: npt.NDArray[np.float32], a_rate: int, b: npt.NDArray[np.float32],
                   b_rate: int, a_lufs: float | None = None,
                   b_lufs: float | None = None) -> MatchedPair:
    """``a`` and ``b`` at the loudness of the quieter one (:func:`matched_gains`), at
    ``a_rate`` Hz: B is resampled first if its rate differs. Loudness already measured
    (``a_lufs``, ``b_lufs``; B's at ``a_rate``) is not measured again. Slow: run it in a
    worker thread.

    Args:
        a, b: float32 mono samples, shape ``(frames,)``, at ``a_rate`` and ``b_rate`` Hz.
    """
    if b_rate != a_rate:
        b = resample(b, b_rate, a_rate)
    if a_lufs is None:
        a_lufs = integrated_lufs(a, a_rate)
    if b_lufs is None:
        b_lufs = integrated_lufs(b, a_rate)
    gain_a, gain_b = matched_gains(a_lufs, b_lufs)

    def scaled(samples: npt.NDArray[np.float32], gain: float) -> npt.NDArray[np.float32]:
        return samples if gain == 1.0 else np.multiply(samples, np.float32(gain), dtype=np.float32)

    return MatchedPair(scaled(a, gain_a), scaled(b, gain_b), a_rate, a_lufs, b_lufs,
                       gain_a, gain_b)


def db_to_gain(db: float) -> float:
    """Linear amplitude factor for ``db`` decibels (``-6.02`` gives 0.5)."""
    return float(10.0 ** (db / 20.0))


def gain_to_db(gain: float) -> float:
    """Decibels for a linear amplitude factor; ``-inf`` for 0.

    Raises:
        ValueError: ``gain`` is negative.
    """
    if gain < 0:
        raise ValueError(f"gain must not be negative, got {gain}")
    return 20.0 * math.log10(gain) if gain > 0 else SILENT


# --- streaming measurement for export -------------------------------------------------

#: BS.1770's dual-mono rule: a mono signal played on both channels of a stereo file
#: sums to twice the power, 10*log10(2) dB louder (ITU-R BS.1770-4, eq. 2, G = 1.0
#: for left and right).
DUAL_MONO_DB = 10.0 * math.log10(2.0)

#: Samples per frame pushed through the filter graph (10 s at 48 kHz): bounded frames
#: keep the copy into FFmpeg small whatever the chunk the caller passes.
_FRAME_LIMIT = 480_000


@dataclass(frozen=True, slots=True)
class Loudness:
    """A programme's loudness, as EBU R128 reports it.

    Attributes:
        integrated: integrated loudness in LUFS (BS.1770-4 gating); ``-inf`` for
            silence or a programme too short to fill one 400 ms gating block.
        loudness_range: LRA in LU (EBU Tech 3342).
        true_peak: maximum true peak in dBTP (BS.1770-4 Annex 2: 4x oversampled);
            ``-inf`` for digital silence; ``nan`` when not measured.
        duration: seconds measured.
    """

    integrated: float
    loudness_range: float
    true_peak: float
    duration: float

    def for_channels(self, channels: int) -> Loudness:
        """The loudness of this mono programme played as ``channels`` identical
        channels: +3.01 LU for stereo (:data:`DUAL_MONO_DB`); peaks are unchanged."""
        if channels == 1 or not math.isfinite(self.integrated):
            return self
        return Loudness(self.integrated + 10.0 * math.log10(channels), self.loudness_range,
                        self.true_peak, self.duration)


def _av() -> Any:
    """PyAV, imported on first use: FFmpeg's libraries cost start-up a tenth of a
    second, and the studio only needs them once it measures or exports."""
    import av

    return av


def _linear_to_db(value: float) -> float:
    return 20.0 * math.log10(value) if value > 0.0 else SILENT


class AudioGraph:
    """A chain of FFmpeg audio filters fed float32 mono chunks, in order.

    ``abuffer -> filters... -> abuffersink`` built with PyAV's ``av.filter.Graph``. Frames
    come out in order with the same samples in total (filters that delay, such as
    ``alimiter``, are run with their latency compensated); the metadata of the last
    frame out is kept, for filters that report through frame metadata (``ebur128``).

    Args:
        sample_rate: Hz.
        filters: ``(name, options)`` pairs, as ``ffmpeg -af`` names them.
    """

    def __init__(self, sample_rate: int, filters: list[tuple[str, str]]) -> None:
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        self.sample_rate = sample_rate
        self._graph = _av().filter.Graph()
        node: Any = self._graph.add_abuffer(format="flt", sample_rate=sample_rate, layout="mono")
        for name, options in filters:
            following = self._graph.add(name, options)
            node.link_to(following)
            node = following
        sink = self._graph.add("abuffersink")
        node.link_to(sink)
        self._graph.configure()
        self._pts = 0
        from fractions import Fraction  # with decimal, a noticeable part of start-up

        self._time_base = Fraction(1, sample_rate)
        self._closed = False
        self.metadata: dict[str, str] = {}
        #: The metadata of every frame out, in order, when not None (set by a caller
        #: that reads per-frame values, such as ebur128's momentary loudness).
        self.frame_metadata: list[dict[str, str]] | None = None

    def push(self, samples: npt.NDArray[np.float32],
             frame_size: int = _FRAME_LIMIT) -> list[npt.NDArray[np.float32]]:
        """Feed ``samples`` (float32 mono, shape ``(frames,)``), in frames of at most
        ``frame_size``, and return what came out (possibly nothing yet, possibly earlier
        input)."""
        if self._closed:
            raise ValueError("the graph has been flushed")
        out: list[npt.NDArray[np.float32]] = []
        data = np.ascontiguousarray(samples, dtype=np.float32)
        for begin in range(0, data.shape[0], frame_size):
            piece = data[begin:begin + frame_size]
            frame = _av().AudioFrame.from_ndarray(piece.reshape(1, -1), format="flt", layout="mono")
            frame.sample_rate = self.sample_rate
            frame.pts = self._pts
            frame.time_base = self._time_base
            self._pts += piece.shape[0]
            self._graph.push(frame)
            self._pull(out)
        return out

    def flush(self) -> list[npt.NDArray[np.float32]]:
        """End the stream and return the samples still inside the filters."""
        out: list[npt.NDArray[np.float32]] = []
        if not self._closed:
            self._closed = True
            self._graph.push(None)
            self._pull(out)
        return out

    def _pull(self, out: list[npt.NDArray[np.float32]]) -> None:
        while True:
            try:
                frame = self._graph.pull()
            except (_av().BlockingIOError, _av().EOFError):
                return
            if frame.metadata:
                self.metadata = dict(frame.metadata)
                if self.frame_metadata is not None:
                    self.frame_metadata.append(self.metadata)
            out.append(frame.to_ndarray().reshape(-1).astype(np.float32, copy=False))


def release_graphs() -> None:
    """Free the FFmpeg filter graphs no longer used. PyAV graphs are reference cycles
    (graph <-> filter contexts), freed only by Python's cycle collector, and each holds
    megabytes of FFmpeg buffers. On the main thread (the command line) they are
    collected now; in the studio the work runs on a worker thread, where collecting
    could reach a Qt object (which crashes Qt), so the studio's own collector on the UI
    thread frees them (``studio.app.MainThreadCollector``, every second)."""
    if threading.current_thread() is threading.main_thread():
        gc.collect()


class LoudnessMeter:
    """Integrated loudness, loudness range and true peak of a stream of float32 mono
    chunks, in constant memory (FFmpeg's ``ebur128`` filter, see the module docstring).

    Feed chunks in order with :meth:`add`, then call :meth:`result` once.

    Args:
        sample_rate: Hz.
        true_peak: measure the true peak (costs about twice the time of loudness alone);
            without it :attr:`Loudness.true_peak` is ``nan``.
    """

    def __init__(self, sample_rate: int, *, true_peak: bool = True) -> None:
        peak = "true" if true_peak else "none"
        self._graph = AudioGraph(sample_rate, [("ebur128", f"metadata=1:peak={peak}")])
        self._true_peak = true_peak
        self._frames = 0
        self._result: Loudness | None = None

    def add(self, samples: npt.NDArray[np.float32]) -> None:
        """Measure ``samples`` (float32 mono, shape ``(frames,)``) after those before.

        Raises:
            ValueError: :meth:`result` was already called.
        """
        if self._result is not None:
            raise ValueError("the meter has already given its result")
        self._frames += int(samples.shape[0])
        self._graph.push(samples)

    def result(self) -> Loudness:
        """The loudness of everything added (the same object on later calls)."""
        if self._result is None:
            self._graph.flush()
            self._result = loudness_from_metadata(
                self._graph.metadata, self._frames / self._graph.sample_rate, self._true_peak)
        return self._result


def loudness_from_metadata(metadata: dict[str, str], duration: float,
                           true_peak: bool) -> Loudness:
    """A :class:`Loudness` from the frame metadata FFmpeg's ``ebur128`` filter writes
    (``lavfi.r128.I`` in LUFS, ``.LRA`` in LU, ``.true_peak`` as a linear factor)."""
    integrated = float(metadata.get("lavfi.r128.I", "-70"))
    if math.isnan(integrated) or integrated <= ABSOLUTE_GATE_LUFS:
        integrated = SILENT
    lra = float(metadata.get("lavfi.r128.LRA", "0"))
    peak = (_linear_to_db(float(metadata.get("lavfi.r128.true_peak", "0")))
            if true_peak else math.nan)
    return Loudness(integrated, lra, peak, duration)


#: BS.1770-4 gating block hop: blocks of 400 ms start every 100 ms (75 % overlap).
_HOP_SECONDS = 0.1
_BLOCKS_PER_WINDOW = 4
#: BS.1770-4 relative gate, LU below the absolute-gated loudness.
RELATIVE_GATE_LU = 10.0


def gated_loudness(momentary_lufs: npt.ArrayLike) -> float:
    """Integrated loudness, LUFS, from the loudness of each 400 ms gating block.

    BS.1770-4 section 2.8: blocks below the absolute gate (-70 LUFS) are dropped, then
    those more than 10 LU below the mean loudness of the rest; the result is the mean
    energy of what remains, as loudness. ``-inf`` when no block passes.
    """
    values = np.asarray(momentary_lufs, dtype=np.float64)
    values = values[np.isfinite(values) & (values > ABSOLUTE_GATE_LUFS)]
    if values.size == 0:
        return SILENT
    energy = 10.0 ** ((values + 0.691) / 10.0)
    relative = -0.691 + 10.0 * math.log10(float(energy.mean())) - RELATIVE_GATE_LU
    kept = energy[values > relative]
    if kept.size == 0:
        return SILENT
    return -0.691 + 10.0 * math.log10(float(kept.mean()))


class PieceLoudnessMeter:
    """The integrated loudness of many separate pieces (the takes of a book), each as if
    measured on its own, through one ``ebur128`` filter.

    One filter graph per piece would cost FFmpeg's buffers for each (and PyAV graphs are
    freed only by Python's cycle collector). Instead the pieces go through one graph, on
    a 100 ms grid with 400 ms of silence between them, in frames of exactly 100 ms: the
    momentary loudness FFmpeg reports at the end of each frame is then the loudness of
    the 400 ms gating block ending there, and a piece's integrated loudness is the
    BS.1770 gated mean (:func:`gated_loudness`) of the blocks that lie wholly inside it.

    Args:
        sample_rate: Hz; a multiple of 10 (every rate of the seed's output formats is).

    Raises:
        ValueError: a rate with no whole number of samples per 100 ms.
    """

    def __init__(self, sample_rate: int) -> None:
        if sample_rate % 10:
            raise ValueError(f"{sample_rate} Hz has no whole number of samples per 100 ms")
        self._hop = sample_rate // 10
        self._graph = AudioGraph(sample_rate, [("ebur128", "metadata=1:peak=none")])
        self._graph.frame_metadata = []
        self._gap = np.zeros(self._hop * _BLOCKS_PER_WINDOW, dtype=np.float32)

    def measure(self, samples: npt.NDArray[np.float32]) -> float:
        """The integrated loudness of ``samples`` (float32 mono) alone, LUFS; ``-inf``
        for silence or anything shorter than one 400 ms gating block."""
        return gated_loudness(self.blocks(samples))

    def blocks(self, samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """The loudness of each 400 ms gating block that lies wholly inside ``samples``,
        LUFS (BS.1770-4 section 2.7), in order: what integrated loudness is made of, so
        pieces measured apart can be gated together (:func:`gated_loudness`)."""
        hop = self._hop
        frames = samples.shape[0]
        padded = -frames % hop  # up to the grid, so the next piece starts on it
        metadata = self._graph.frame_metadata
        assert metadata is not None
        metadata.clear()
        self._graph.push(samples[: frames - frames % hop], hop)
        values = [float(m.get("lavfi.r128.M", "-inf")) for m in metadata]
        metadata.clear()
        tail = np.zeros(padded + frames % hop, dtype=np.float32)
        tail[: frames % hop] = samples[frames - frames % hop:]
        self._graph.push(np.concatenate([tail, self._gap]) if padded else self._gap, hop)
        metadata.clear()
        # The first three blocks reach back into the silence before the piece.
        return np.asarray(values[_BLOCKS_PER_WINDOW - 1:], dtype=np.float64)
