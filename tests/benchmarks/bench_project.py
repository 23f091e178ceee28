"""Project files at scale: adding a take to a full project versus an empty one.

Takes are realistic: 3 s of speech-like audio at 44.1 kHz whose samples are exact
16-bit values (what the studio renders, ``pcm_s16le``, stored as FLAC), eight
words and thirty phonemes of timestamps, and a full ``GenerationRequest``.

- **add**: :meth:`ProjectStore.add_take` of one new take to an existing block,
  in a project that already holds ``--takes`` takes and in a fresh, empty
  project (a new one for every add, so it stays empty), timed side by side and
  interleaved (full, empty, full, empty, ...) so drift in the disk or the
  machine hits both alike. The time includes the FLAC encoding and the
  ``synchronous=FULL`` commit; the encoding alone is timed too.
- **open**: :meth:`ProjectStore.open` (which checks the file, integrity check
  included) plus :meth:`ProjectStore.load` of the full project; the check alone
  is timed too.
- **size**: the full project file, in bytes and bytes per take.

The last line printed is one JSON object of figures (milliseconds, bytes).

Usage: ``python tests/benchmarks/bench_project.py [--takes 1000] [--runs 30] [--dir DIR]``
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from studio.project.audio_blocks import encode_audio
from studio.project.cache import take_key
from studio.project.model import Block, Take, make_take
from studio.project.store import ProjectStore, check_project, script_rows
from studio.timestamps import PhonemeTimestamps, WordTimestamps

RATE = 44100
SECONDS = 3.0
WORDS = ("Welcome", "back", "to", "the", "show,", "everyone,", "and", "hello.")
TAKES_PER_BLOCK = 4


def speech_like(seed: int) -> npt.NDArray[np.float32]:
    """3 s of voiced, syllable-modulated sound with breath noise and short gaps,
    rounded to exact 16-bit values (float32, ``(frames,)``)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(SECONDS * RATE)) / RATE
    pitch = 110 + 30 * rng.random() + 15 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / RATE
    voiced = np.zeros(t.size)
    for k in range(1, 12):
        voiced += np.sin(k * phase) / k
    syllables = np.clip(np.sin(2 * np.pi * (3.5 + rng.random()) * t), 0, None) ** 0.6
    gaps = (np.sin(2 * np.pi * 0.9 * t + rng.random() * 6) > -0.8).astype(float)
    audio = 0.18 * voiced * syllables * gaps + 0.01 * rng.standard_normal(t.size)
    samples: npt.NDArray[np.float32] = (np.round(np.clip(audio, -1, 1) * 32767) / 32768).astype(
        np.float32)
    return samples


def timestamps(seed: int) -> tuple[WordTimestamps, PhonemeTimestamps]:
    rng = np.random.default_rng(seed)
    edges = np.sort(rng.uniform(0.1, SECONDS - 0.1, 2 * len(WORDS)))
    words = WordTimestamps(WORDS, tuple(map(float, edges[0::2].round(3))),
                           tuple(map(float, edges[1::2].round(3))))
    cuts = np.sort(rng.uniform(0.1, SECONDS - 0.1, 31)).round(3)
    phonemes = PhonemeTimestamps(tuple(rng.choice(list("aeiouptkszmnlr"), 30)),
                                 tuple(map(float, cuts[:-1])), tuple(map(float, cuts[1:])))
    return words, phonemes


def take_of(block: Block, seed: int) -> Take:
    request = {
        "model_id": "sonic-3", "transcript": block.text,
        "voice": {"mode": "id", "id": "a0e99841-438c-4a64-b679-ae501e7d6091"},
        "language": "en", "generation_config": {"speed": 1.0, "volume": 1.0},
        "output_format": {"container": "raw", "encoding": "pcm_s16le", "sample_rate": RATE},
    }
    words, phonemes = timestamps(seed)
    return make_take(speech_like(seed), RATE, words, phonemes, request, "cloud",
                     len(block.text), block.next_take_number(), take_key(request, "cloud"))


def fill(path: Path, takes: int) -> tuple[ProjectStore, list[Block]]:
    """A project of ``takes`` takes, ``TAKES_PER_BLOCK`` per block."""
    store = ProjectStore.create(path, {"pause_seconds": "0.5", "sample_rate": str(RATE)})
    blocks: list[Block] = []
    for seed in range(takes):
        if seed % TAKES_PER_BLOCK == 0:
            blocks.append(Block(text=f"Welcome back to the show, everyone, and hello. ({seed})",
                                voice_id="a0e99841-438c-4a64-b679-ae501e7d6091"))
        block = blocks[-1]
        take = take_of(block, seed)
        block.takes.append(take)
        block.selected_take_id = take.id
        store.add_take(block, take, len(block.takes) - 1)
        if seed % 100 == 99:
            print(f"  {seed + 1} takes", flush=True)
    store.write_script(script_rows(blocks))
    return store, blocks


def timed(call: Callable[[], object]) -> float:
    """Milliseconds ``call`` takes."""
    gc.collect()
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000.0


def add_ms(store: ProjectStore, block: Block, take: Take) -> float:
    block.takes.append(take)
    return timed(lambda: store.add_take(block, take, len(block.takes) - 1))


def describe(name: str, values: list[float]) -> None:
    q = statistics.quantiles(values, n=10)
    print(f"{name}: median {statistics.median(values):.3f} ms, p10 {q[0]:.3f}, p90 {q[-1]:.3f}, "
          f"min {min(values):.3f}, max {max(values):.3f}")


def run(folder: Path, takes: int, runs: int) -> dict[str, float | int]:
    full_path = folder / "full.cstudio"
    print(f"filling {full_path} with {takes} takes...", flush=True)
    started = time.perf_counter()
    full, blocks = fill(full_path, takes)
    fill_s = time.perf_counter() - started

    full_ms: list[float] = []
    empty_ms: list[float] = []
    encode_ms: list[float] = []
    rng = np.random.default_rng(1)
    for n in range(runs + 1):  # the first round warms up and is not counted
        seed = 10_000 + 2 * n
        block = blocks[int(rng.integers(len(blocks)))]
        ms_full = add_ms(full, block, take_of(block, seed))

        empty = ProjectStore.create(folder / f"empty-{n}.cstudio")
        lone = Block(text="Welcome back to the show, everyone, and hello.", voice_id="v")
        empty.write_script(script_rows([lone]))  # the block exists, as in the full project
        ms_empty = add_ms(empty, lone, take_of(lone, seed + 1))
        empty.close()

        ms_encode = timed(functools.partial(encode_audio, speech_like(seed), RATE))
        if n:
            full_ms.append(ms_full)
            empty_ms.append(ms_empty)
            encode_ms.append(ms_encode)
    full.close()

    open_ms: list[float] = []
    check_ms: list[float] = []
    for _ in range(5):
        check_ms.append(timed(lambda: check_project(full_path)))

        def open_and_load() -> None:
            store = ProjectStore.open(full_path)
            loaded = store.load()
            assert sum(len(b.takes) for b in loaded.blocks) == takes + runs + 1
            store.close()

        open_ms.append(timed(open_and_load))

    describe(f"add to {takes} takes", full_ms)
    describe("add to empty", empty_ms)
    describe("FLAC encode only", encode_ms)
    describe("open + load", open_ms)
    describe("check_project only", check_ms)
    size = full_path.stat().st_size
    stored_takes = takes + runs + 1
    print(f"file: {size / 1e6:.1f} MB for {stored_takes} takes "
          f"({size / stored_takes / 1e3:.1f} kB per take; filled in {fill_s:.1f} s)")
    full_median, empty_median = statistics.median(full_ms), statistics.median(empty_ms)
    return {
        "takes": takes,
        "runs": runs,
        "add_full_ms_median": round(full_median, 3),
        "add_empty_ms_median": round(empty_median, 3),
        "add_ratio": round(full_median / empty_median, 4),
        "encode_ms_median": round(statistics.median(encode_ms), 3),
        "open_load_ms_median": round(statistics.median(open_ms), 3),
        "check_ms_median": round(statistics.median(check_ms), 3),
        "file_bytes": size,
        "bytes_per_take": round(size / stored_takes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--takes", type=int, default=1000, help="takes in the full project")
    parser.add_argument("--runs", type=int, default=30, help="timed adds per project (>= 10)")
    parser.add_argument("--dir", type=Path, default=None,
                        help="where to make the temporary folder for the project files "
                        "(default: the system's; timings depend on its disk)")
    args = parser.parse_args()
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-project-", dir=args.dir) as folder:
        result = run(Path(folder), args.takes, args.runs)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
