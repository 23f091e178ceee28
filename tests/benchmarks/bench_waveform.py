"""The waveform editor's two costs: building a take's peak pyramid, and repainting.

Build: one hour of 48 kHz mono float32 (172.8 M samples) summarised by
:meth:`PeakPyramid.build`, against one ``np.abs(x).max()`` pass over the same array
(the memory-bandwidth floor), run alternately ``--runs`` times; the ratio of the
medians should be at most 2.

Repaint: a 1920x300 :class:`WaveformView` (Qt offscreen) showing that hour with a word
every 0.4 s and four phonemes per word, painted ``--repaints`` times at each zoom (the
whole take; a view of 1 s, 100 ms and 10 ms in the middle). Every repaint recomputes the
waveform image, as after a scroll; ``cached_ms_median`` is a repaint that only moves
the playhead. Medians should be at most 8 ms.

The last line printed is one JSON object (seconds for the build, milliseconds for
repaints).

Usage: ``python tests/benchmarks/bench_waveform.py [--runs 5] [--repaints 30] [--seconds 3600]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtWidgets import QApplication

from studio.audio.peaks import PeakPyramid
from studio.timestamps import PhonemeTimestamps, WordTimestamps
from studio.ui.widgets.waveform_view import WaveformView

RATE = 48000
SECONDS = 3600
WIDTH, HEIGHT = 1920, 300


def speech_like(frames: int) -> np.ndarray:
    """Noise under a syllable-rate envelope with pauses: float32, shape ``(frames,)``."""
    rng = np.random.default_rng(7)
    audio = rng.standard_normal(frames, dtype=np.float32)
    envelope = np.abs(np.sin(np.arange(frames // 4800 + 1) * 0.9)).astype(np.float32)
    envelope[rng.random(envelope.shape[0]) < 0.15] = 0.02  # pauses
    audio *= 0.25 * np.repeat(envelope, 4800)[:frames]
    return audio


def timestamps(seconds: float) -> tuple[WordTimestamps, PhonemeTimestamps]:
    starts = np.arange(0.05, seconds - 0.4, 0.4)
    words = WordTimestamps(tuple(f"word{i}" for i in range(starts.shape[0])),
                           tuple(starts.tolist()), tuple((starts + 0.32).tolist()))
    phoneme_starts = (starts[:, None] + np.arange(4) * 0.08).ravel()
    phonemes = PhonemeTimestamps(tuple("aeio" * starts.shape[0]),
                                 tuple(phoneme_starts.tolist()),
                                 tuple((phoneme_starts + 0.08).tolist()))
    return words, phonemes


def bench_build(audio: np.ndarray, runs: int) -> tuple[float, float, PeakPyramid]:
    floors, builds = [], []
    pyramid = None
    for run in range(runs):
        began = time.perf_counter()
        np.abs(audio).max()
        floors.append(time.perf_counter() - began)
        began = time.perf_counter()
        pyramid = PeakPyramid.build(audio)
        builds.append(time.perf_counter() - began)
        print(f"run {run + 1}/{runs}: floor {floors[-1]:.3f} s, build {builds[-1]:.3f} s",
              flush=True)
    assert pyramid is not None
    return statistics.median(floors), statistics.median(builds), pyramid


def repaint_ms(view: WaveformView, repaints: int, *, fresh: bool) -> float:
    times = []
    for index in range(repaints):
        if fresh:
            view._image_key = None  # recompute the waveform, as a scroll would
        else:
            view.set_playhead(round(view.view_start + (index % 2 + 1) * view.samples_per_pixel))
        began = time.perf_counter()
        view.viewport().repaint()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--repaints", type=int, default=30)
    parser.add_argument("--seconds", type=int, default=SECONDS,
                        help="length of the take (10800: the 3-hour take the view must handle)")
    args = parser.parse_args()
    app = QApplication([])

    print(f"making {args.seconds} s of {RATE} Hz audio...", flush=True)
    audio = speech_like(RATE * args.seconds)
    floor_s, build_s, pyramid = bench_build(audio, args.runs)

    words, phonemes = timestamps(args.seconds)
    view = WaveformView()
    view.resize(WIDTH, HEIGHT)
    view.show()
    app.processEvents()
    view.set_audio(audio, RATE, pyramid, words, phonemes,
                   markers=[(minute * 60 * RATE, f"Block {minute + 1}")
                            for minute in range(args.seconds // 60)])
    app.processEvents()
    middle = audio.shape[0] // 2
    repaint: dict[str, float] = {}
    cached: dict[str, float] = {}
    for name, seconds in (("fit", None), ("1s", 1.0), ("100ms", 0.1), ("10ms", 0.01)):
        view.zoom_to_fit()
        if seconds is not None:
            target = seconds * RATE / view.viewport().width()
            view.zoom_by(view.samples_per_pixel / target, middle)
        view.set_selection(middle, middle + round(0.3 * RATE))
        repaint[name] = round(repaint_ms(view, args.repaints, fresh=True), 2)
        cached[name] = round(repaint_ms(view, args.repaints, fresh=False), 2)
        print(f"{name}: {view.samples_per_pixel:.3f} samples per pixel, repaint "
              f"{repaint[name]} ms, cached {cached[name]} ms", flush=True)
    print(json.dumps({
        "frames": int(audio.shape[0]), "runs": args.runs,
        "build_s": round(build_s, 3), "floor_s": round(floor_s, 3),
        "build_ratio": round(build_s / floor_s, 2),
        "viewport": [view.viewport().width(), view.viewport().height()],
        "words": len(words.words), "repaints": args.repaints,
        "repaint_ms_median": repaint, "cached_ms_median": cached,
    }))


if __name__ == "__main__":
    main()
