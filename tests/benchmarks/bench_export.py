"""Export at book length: a long programme to loudness-normalised MP3, against the encoder.

A project of speech-like takes (30 s each, 44.1 kHz, stored as FLAC, the pause between
blocks 0.5 s) is exported to MP3 at 160 kb/s CBR stereo, -16 LUFS / -1 dBTP with
level-matched blocks (the podcast preset), through :func:`studio.project.export_pipeline.export`
exactly as ``cartesia-studio export`` does it. Side by side, in the same run:

- **floor**: the same samples (each take read from the same project, with the same
  pauses) encoded by the same encoder (libmp3lame through PyAV, same settings); only
  the time spent inside the encoder is counted.
- **export**: the whole export, measuring pass included, wall-clock.
- **memory**: peak RSS of the export of the long programme against that of a
  one-minute programme, each in a fresh process.

Targets (issue #12): export time <= 1.5x the floor; peak RSS of the long export within
100 MB of the one-minute export.

The last line printed is one JSON object of figures (seconds, MB).

Usage: ``python tests/benchmarks/bench_export.py [--hours 10] [--dir DIR]``
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_project import RATE, speech_like, timestamps  # the same speech-like takes

from studio.audio.encoders import EncodeSettings, PyAVEncoder
from studio.audio.tags import Metadata
from studio.project.export_pipeline import ExportJob, export
from studio.project.export_settings import PRESETS
from studio.project.model import Block, make_take
from studio.project.program import program_of
from studio.project.store import ProjectStore, script_rows
from studio.timestamps import PhonemeTimestamps, WordTimestamps

TAKE_SECONDS = 30
POOL = 40
PAUSE = 0.5


def build(path: Path, seconds: float) -> None:
    """A project of ``seconds`` of 30 s takes, one selected take per block."""
    store = ProjectStore.create(path, {"pause_seconds": str(PAUSE), "sample_rate": str(RATE)})
    blocks: list[Block] = []
    count = max(1, round(seconds / TAKE_SECONDS))
    # A pool of distinct takes, reused in turn: synthesising ten hours would take longer
    # than the benchmark itself, and the export cannot tell.
    pool = [np.concatenate([speech_like(n * 10 + i) for i in range(TAKE_SECONDS // 3)])
            for n in range(min(count, POOL))]
    for index in range(count):
        audio = pool[index % len(pool)]
        words, _phonemes = timestamps(index)
        block = Block(text=f"Block {index}: welcome back to the show, everyone, and hello.",
                      voice_id="a0e99841-438c-4a64-b679-ae501e7d6091")
        request = {"model_id": "sonic-3", "transcript": block.text,
                   "voice": {"mode": "id", "id": block.voice_id}, "language": "en"}
        take = make_take(audio, RATE, WordTimestamps(words.words, words.start, words.end),
                         PhonemeTimestamps(), request, "cloud", 0, 1)
        block.takes.append(take)
        block.selected_take_id = take.id
        store.add_take(block, take, 0)
        blocks.append(block)
        if index % 100 == 99:
            print(f"  {index + 1}/{count} takes", flush=True)
    store.write_script(script_rows(blocks))
    store.close()


def _settings():  # type: ignore[no-untyped-def]
    return PRESETS["podcast"].settings


def peak_rss_mb() -> float:
    """This process's peak resident memory, MB. ``VmHWM`` rather than ``ru_maxrss``:
    Linux carries ``ru_maxrss`` over ``execve`` from the parent that forked us, while
    ``VmHWM`` belongs to the new address space."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_export(project: Path, out: Path) -> dict[str, float]:
    store = ProjectStore.open_read_only(project)
    loaded = store.load()
    program = program_of(loaded.blocks, PAUSE)
    started = time.perf_counter()
    export(ExportJob(program, _settings(), out, Metadata(title="Benchmark")))
    seconds = time.perf_counter() - started
    store.close()
    return {"seconds": seconds, "rss_mb": peak_rss_mb()}


def child_floor(project: Path, out: Path) -> dict[str, float]:
    store = ProjectStore.open_read_only(project)
    loaded = store.load()
    settings = _settings()
    encoder = PyAVEncoder(out, EncodeSettings("mp3", RATE, settings.channels,
                                              bitrate_kbps=settings.bitrate_kbps))
    pause = np.zeros(round(PAUSE * RATE), dtype=np.float32)
    inside = 0.0
    for index, block in enumerate(loaded.blocks):
        take = block.selected_take
        assert take is not None
        audio = take.source.read()
        pieces = [pause, audio] if index else [audio]
        for piece in pieces:
            for begin in range(0, piece.shape[0], 48000):
                started = time.perf_counter()
                encoder.write(piece[begin:begin + 48000])
                inside += time.perf_counter() - started
    started = time.perf_counter()
    encoder.close()
    inside += time.perf_counter() - started
    store.close()
    return {"seconds": inside, "rss_mb": peak_rss_mb()}


def run_child(kind: str, project: Path, out: Path) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--child", kind, str(project), str(out)],
                          check=True, capture_output=True, text=True)
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=10.0)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--child", nargs=3, metavar=("KIND", "PROJECT", "OUT"), default=None)
    args = parser.parse_args()
    if args.child:
        kind, project, out = args.child
        call = child_export if kind == "export" else child_floor
        print(json.dumps(call(Path(project), Path(out))))
        return
    with tempfile.TemporaryDirectory(dir=args.dir) as scratch:
        folder = Path(scratch)
        long_project, short_project = folder / "long.cstudio", folder / "short.cstudio"
        print(f"building {args.hours:g} h and 1 min projects...", flush=True)
        build(short_project, 60)
        build(long_project, args.hours * 3600)
        print("exporting...", flush=True)
        short = run_child("export", short_project, folder / "short.mp3")
        floor = run_child("floor", long_project, folder / "floor.mp3")
        exported = run_child("export", long_project, folder / "long.mp3")
        floor_again = run_child("floor", long_project, folder / "floor2.mp3")
        floor_s = min(floor["seconds"], floor_again["seconds"])
        figures = {
            "hours": args.hours,
            "export_s": round(exported["seconds"], 2),
            "encoder_floor_s": round(floor_s, 2),
            "ratio": round(exported["seconds"] / floor_s, 3),
            "target_ratio": 1.5,
            "rss_long_mb": round(exported["rss_mb"], 1),
            "rss_1min_mb": round(short["rss_mb"], 1),
            "rss_added_mb": round(exported["rss_mb"] - short["rss_mb"], 1),
            "target_rss_added_mb": 100,
        }
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
