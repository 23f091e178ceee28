"""Generate all over a script whose every block already has a take that sounds as
generating it now would (text changed and changed back: an older take matches).

For ``--blocks`` N (default 1 000 and 4 000), each block with a selected draft take and
an older matching one: "Generate all" (:meth:`GenerationService.generate` until idle,
every block a cache hit that selects its take, no request) is timed side by side with
:meth:`GenerationService.estimate` over the same blocks (one cache key and one lookup
per block: the floor), each on a new service (nothing computed before), alternately
``--runs`` times, with the garbage collector set as the studio sets it. The last line is one JSON
object: milliseconds per N, the ratio of the medians (Generate all over estimate; target <= 2), and
how Generate all grows from the smallest N to the largest against N itself (linear: the two ratios
match).

Usage: ``python tests/benchmarks/bench_generate_cached.py [--blocks 1000 4000] [--runs 5]``
"""

from __future__ import annotations

import argparse
import asyncio
import gc
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


def script(blocks: int, renderer: BlockRenderer) -> tuple[ScriptDocument, dict[str, str]]:
    """The document, and each block's draft take (selected before each run)."""
    document = ScriptDocument()
    silence = np.zeros(10, dtype=np.float32)
    drafts = {}
    for index in range(blocks):
        block = document.add_block(text=f"Paragraph {index} of a long audiobook chapter, "
                                        "read in the narrator's voice.", voice_id="voice-1")
        request = renderer.request_for(block).to_json()
        matching = make_take(silence, 44100, WordTimestamps(), PhonemeTimestamps(), request,
                             "cloud", len(request["transcript"]), 1,
                             cache_key=renderer.cache_key(block))
        draft = make_take(silence, 44100, WordTimestamps(), PhonemeTimestamps(),
                          {**request, "transcript": request["transcript"] + " (draft)"},
                          "cloud", 1, 2, cache_key=f"draft-{index}")
        document.add_take(block.id, matching)
        document.add_take(block.id, draft)
        drafts[block.id] = draft.id
    return document, drafts


async def generate_all(document: ScriptDocument, renderer: BlockRenderer,
                       ids: list[str]) -> tuple[float, int]:
    generation = GenerationService(document, PlaybackService(""))
    generation.set_renderer(renderer)
    reused: list[str] = []
    generation.job_reused.connect(lambda block_id, _take: reused.append(block_id))
    start = time.perf_counter()
    generation.generate(ids)
    await generation.wait_idle()
    return time.perf_counter() - start, len(reused)


def estimate(document: ScriptDocument, renderer: BlockRenderer, ids: list[str]) -> float:
    generation = GenerationService(document, PlaybackService(""))
    generation.set_renderer(renderer)
    start = time.perf_counter()
    result = generation.estimate(ids)
    elapsed = time.perf_counter() - start
    assert result.reuse == len(ids), result
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, nargs="+", default=[1000, 4000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    _app = QCoreApplication([])
    # As in the studio: automatic collection is off and a timer collects between
    # events (studio.app.MainThreadCollector), never inside one call like these.
    gc.disable()
    renderer = BlockRenderer(None, "cloud", 44100)  # type: ignore[arg-type]  # no requests
    figures: dict[str, dict[str, float]] = {}
    for blocks in args.blocks:
        document, drafts = script(blocks, renderer)
        ids = list(drafts)
        generate_times, estimate_times = [], []
        for _ in range(args.runs):
            for block_id, draft in drafts.items():
                document.select_take(block_id, draft)
            estimate_times.append(estimate(document, renderer, ids))
            elapsed, reused = asyncio.run(generate_all(document, renderer, ids))
            assert reused == blocks, (reused, blocks)
            generate_times.append(elapsed)
        generate_ms = statistics.median(generate_times) * 1000
        estimate_ms = statistics.median(estimate_times) * 1000
        figures[str(blocks)] = {"generate_all_ms": round(generate_ms, 1),
                                "estimate_ms": round(estimate_ms, 1),
                                "ratio": round(generate_ms / estimate_ms, 2)}
        print(f"{blocks} blocks: Generate all {generate_ms:.1f} ms, estimate "
              f"{estimate_ms:.1f} ms, ratio {generate_ms / estimate_ms:.2f}", flush=True)
    small, large = min(args.blocks), max(args.blocks)
    growth = figures[str(large)]["generate_all_ms"] / figures[str(small)]["generate_all_ms"]
    print(json.dumps({"runs": args.runs, "by_blocks": figures,
                      "worst_ratio": max(f["ratio"] for f in figures.values()),
                      "growth": round(growth, 2), "blocks_growth": round(large / small, 2)}))


if __name__ == "__main__":
    main()
