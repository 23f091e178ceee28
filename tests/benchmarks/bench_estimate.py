"""The cost estimate the status bar recomputes as the script changes (UI thread).

A script of ``--blocks`` blocks with three takes each, on a paid ("cloud")
renderer: :meth:`GenerationService.estimate` over every block, median of
``--runs``. It should grow linearly with the script (one cache key per block, a
set lookup), not with blocks × takes. The last line printed is one JSON object
(milliseconds).

Usage: ``python tests/benchmarks/bench_estimate.py [--blocks 1000] [--runs 9]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import QCoreApplication

from studio.project.model import make_take
from studio.services.document import ScriptDocument
from studio.services.generation import GenerationService
from studio.services.playback import PlaybackService
from studio.services.render import BlockRenderer
from studio.timestamps import PhonemeTimestamps, WordTimestamps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    _app = QCoreApplication([])
    document = ScriptDocument()
    renderer = BlockRenderer(None, "cloud", 44100)  # type: ignore[arg-type]  # keys only
    silence = np.zeros(10, dtype=np.float32)
    for index in range(args.blocks):
        block = document.add_block(text=f"Paragraph {index} of a long audiobook chapter.",
                                   voice_id="voice-1")
        for number in range(1, 4):  # three earlier takes, none matching the text now
            request = renderer.request_for(block).to_json()
            request["transcript"] += f" (draft {number})"
            document.add_take(block.id, make_take(
                silence, 44100, WordTimestamps(), PhonemeTimestamps(), request, "cloud",
                len(request["transcript"]), number, cache_key=f"draft-{index}-{number}"))
    generation = GenerationService(document, PlaybackService(""))
    generation.set_renderer(renderer)
    ids = [block.id for block in document.blocks]
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        estimate = generation.estimate(ids)
        times.append(time.perf_counter() - start)
    print(json.dumps({"blocks": args.blocks, "takes": 3 * args.blocks, "runs": args.runs,
                      "estimate_ms_median": round(statistics.median(times) * 1000, 2),
                      "credits": estimate.credits, "generate": estimate.generate}))


if __name__ == "__main__":
    main()
