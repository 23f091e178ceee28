"""Memory of Generate all over a long script, in the studio and in the CLI (issue 15).

Studio: in a process of its own, headless (offscreen Qt, a qasync loop), the studio's
services as the window wires them (:class:`ScriptDocument`, :class:`ProjectService`
saving to an untitled project, :class:`GenerationService` with the in-process offline
engine) generate a script of ``--words`` words in blocks of ``--block-words``; the
script is generated in ``--phases`` equal parts, and after each part (every take in the
project file) the resident set size is recorded. CLI: ``cartesia-studio render
SCRIPT.txt -o OUT.wav`` on the same script, and on a third of it, in processes of their
own; their peak RSS (``ru_maxrss``) is recorded.

The last line is one JSON object: ``studio`` with ``rss_mb`` after each phase, the
peak and the audio generated; ``cli`` with the peak RSS of the full and the third-length
run. Targets: studio under 600 MB at 100 000 words; the CLI's peak the same at both
lengths.

Usage: ``python tests/benchmarks/bench_generate_memory.py [--words 100000]
[--block-words 100] [--phases 3] [--only studio|cli]``; ``--child`` is internal.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

#: Words the script's paragraphs are drawn from (English, so espeak reads them).
_TEXT = ("the narrator turned the page and read on about a quiet harbour town where "
         "ships came in at dawn and the bakers sold warm bread to sailors who had been "
         "away for many months at sea")
_WORDS = _TEXT.split()


def script_text(words: int, block_words: int) -> str:
    """Paragraphs of ``block_words`` words (the last may be shorter), ``words`` in all,
    separated by blank lines; each opens with its number, so no two are the same
    (nothing is reused as a cache hit)."""
    paragraphs = []
    done = 0
    while done < words:
        count = min(block_words, words - done)
        body = [_WORDS[(done + i) % len(_WORDS)] for i in range(count - 1)]
        paragraphs.append(f"Paragraph {len(paragraphs) + 1}, " + " ".join(body) + ".")
        done += count
    return "\n\n".join(paragraphs) + "\n"


def rss_mb() -> float:
    """This process's resident set size now, MB (Linux ``/proc``)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, MB (``VmHWM``)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e6
    return 0.0


# --- the studio, in a child process ---------------------------------------------------


async def _studio(text: str, phases: int, home: Path) -> dict[str, object]:
    import gc

    from studio.audio.memory import return_freed_memory
    from studio.config import Settings
    from studio.project.script import split_paragraphs
    from studio.services.backend import start_backend
    from studio.services.document import ScriptDocument
    from studio.services.generation import GenerationService
    from studio.services.playback import PlaybackService
    from studio.services.project import ProjectService
    from studio.services.render import BlockRenderer

    return_freed_memory()  # as studio.app does
    backend = await start_backend(Settings(), engine_data_dir=home / "engine", environ={})
    document = ScriptDocument()
    project = ProjectService(document, home / "untitled")
    await project.new()
    voices = await backend.client.voices.list()
    voice = next(v for v in voices if v.language == "en")
    paragraphs = split_paragraphs(text)
    ids = [document.add_block(text=p, voice_id=voice.id).id for p in paragraphs]
    generation = GenerationService(document, PlaybackService(""))
    generation.set_renderer(BlockRenderer(backend.client, backend.kind, 44100))
    failures: list[str] = []
    generation.job_failed.connect(lambda block_id, message: failures.append(message))
    rss = []
    frames = 0
    start = time.perf_counter()
    try:
        for phase in range(phases):
            part = ids[len(ids) * phase // phases: len(ids) * (phase + 1) // phases]
            generation.generate(part)
            await generation.wait_idle()
            await project.flush()
            gc.collect()
            rss.append(round(rss_mb(), 1))
            print(f"phase {phase + 1}/{phases}: {len(part)} blocks, RSS {rss[-1]} MB",
                  file=sys.stderr, flush=True)
        for block_id in ids:
            take = document.block(block_id).selected_take
            frames += take.frames if take is not None else 0
    finally:
        await project.close()
        await backend.aclose()
    return {"blocks": len(ids), "failed": len(failures), "rss_mb": rss,
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "audio_mb": round(frames * 4 / 1e6, 1), "audio_minutes": round(frames / 44100 / 60, 1),
            "seconds": round(time.perf_counter() - start, 1)}


def _child(args: argparse.Namespace) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication
    from qasync import QEventLoop

    app = QCoreApplication([])
    loop = QEventLoop(app)
    asyncio.set_event_loop(loop)
    text = Path(args.child).read_text(encoding="utf-8")
    with loop:
        result = loop.run_until_complete(_studio(text, args.phases, Path(args.home)))
    print(json.dumps(result), flush=True)


def run_studio(script: Path, phases: int, home: Path,
               env: dict[str, str] | None = None, timeout: float = 3600) -> dict[str, object]:
    """Run the studio's Generate all over ``script`` in a child process; its figures.

    Raises:
        RuntimeError: the child failed (its stderr is in the message).
        subprocess.TimeoutExpired: it took longer than ``timeout`` seconds.
    """
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(script), "--phases", str(phases),
         "--home", str(home)],
        capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen",
             "STUDIO_DATA_DIR": str(home / "data"), "STUDIO_CONFIG_DIR": str(home / "config"),
             **(env or {})})
    if done.returncode != 0:
        raise RuntimeError(f"studio child exited {done.returncode}:\n{done.stderr[-4000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# --- the CLI ----------------------------------------------------------------------


def run_cli(script: Path, output: Path, home: Path, timeout: float = 3600) -> dict[str, float]:
    """``cartesia-studio render SCRIPT -o OUTPUT`` in a child; its peak RSS (MB), time
    and the output's size.

    Raises:
        RuntimeError: the render failed.
    """
    env = {**os.environ, "STUDIO_DATA_DIR": str(home / "data"),
           "STUDIO_CONFIG_DIR": str(home / "config")}
    env.pop("CARTESIA_API_KEY", None)
    start = time.perf_counter()
    log = output.with_suffix(".log")
    with log.open("wb") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-c", "import sys; from studio.cli import main; sys.exit(main())",
             "render", str(script), "-o", str(output)],
            stdout=subprocess.DEVNULL, stderr=stderr, env=env)
        killer = threading.Timer(timeout, child.kill)  # the deadline
        killer.start()
        try:
            # wait4, not wait: it gives the child's own peak RSS (ru_maxrss, KiB).
            _pid, status, usage = os.wait4(child.pid, 0)
        finally:
            killer.cancel()
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-4000:]
        raise RuntimeError(f"render exited {child.returncode}:\n{tail}")
    return {"peak_rss_mb": round(usage.ru_maxrss * 1024 / 1e6, 1),
            "seconds": round(time.perf_counter() - start, 1),
            "output_mb": round(output.stat().st_size / 1e6, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=100_000)
    parser.add_argument("--block-words", type=int, default=100)
    parser.add_argument("--phases", type=int, default=3)
    parser.add_argument("--only", choices=("studio", "cli"), default=None)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--home", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return
    figures: dict[str, object] = {"words": args.words, "block_words": args.block_words}
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        root = Path(tmp)
        script = root / "script.txt"
        script.write_text(script_text(args.words, args.block_words), encoding="utf-8")
        if args.only in (None, "studio"):
            figures["studio"] = run_studio(script, args.phases, root / "studio")
            print(f"studio: {figures['studio']}", file=sys.stderr, flush=True)
        if args.only in (None, "cli"):
            third = root / "third.txt"
            third.write_text(script_text(args.words // 3, args.block_words), encoding="utf-8")
            cli = {"third": run_cli(third, root / "third.wav", root / "cli"),
                   "full": run_cli(script, root / "full.wav", root / "cli")}
            figures["cli"] = cli
            print(f"cli: {cli}", file=sys.stderr, flush=True)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
