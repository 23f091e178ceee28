"""The Script panel at 100, 1 000 and 10 000 blocks (issue 15: a script view that scales).

For each size, in a fresh process (so memory is the panel's alone), a script of that
many blocks (one to five sentences each, two speakers, a chapter every 50 blocks) is
put in a :class:`ScriptDocument` with one ``insert_blocks``; then the Script panel is
built and shown at the window's default size, timed until the list's viewport has
painted (``show_s``), with the resident memory that added (``rss_added_mb``). Then
``--keys`` keystrokes go into the inline editor of a block in the middle of the
script, one at a time (``QTest.keyClick``), each timed until both the editor and the
list have repainted (``key_ms``: median and p99).

The last line is one JSON object: per size, those figures, and the ratio of the
keystroke median at the largest size over the smallest.

With ``--window`` the whole studio is measured instead of the panel alone: its
window with every panel and service (Chapters, Cast, Takes, the project's autosave, the
offline engine), the script put in once the studio has started; ``show_s`` is then
from the script's arrival to the list's repaint.

Usage: ``QT_QPA_PLATFORM=offscreen python tests/benchmarks/bench_script_scale.py
[--sizes 100,1000,10000] [--keys 200] [--window]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

DEADLINE_S = 60.0


def rss_mb() -> float:
    """Resident memory of this process, MB (Linux ``/proc``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def measure(size: int, keys: int, window: bool = False) -> dict[str, float]:
    """Build, show and type into a ``size``-block script; the figures as a dict."""
    from PySide6.QtCore import QEvent, QObject, Qt
    from PySide6.QtGui import QUndoStack
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from studio.project.model import Block
    from studio.services.document import ScriptDocument
    from studio.services.editor import ScriptEditor
    from studio.services.voices import VoiceCatalog
    from studio.ui.script.script_panel import ScriptPanel

    app = QApplication.instance() or QApplication([])
    sentence = "The storm rolled in over the hills, and nobody in the valley slept. "
    blocks = [Block(text=f"{n}. " + sentence * (1 + n % 5), voice_id="v",
                    speaker="Narrator" if n % 3 else "Ada",
                    chapter=f"Chapter {n // 50 + 1}" if n % 50 == 0 else None)
              for n in range(size)]

    class Painted(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.seen: set[int] = set()

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                self.seen.add(id(watched))
            return False

    pump: list[Any] = [app.processEvents]  # the studio's coroutines need its loop running
    close: list[Any] = [lambda: None]

    def wait_painted(painted: Painted, *widgets: QObject) -> None:
        deadline = time.monotonic() + DEADLINE_S
        while not all(id(w) in painted.seen for w in widgets):
            if time.monotonic() > deadline:
                raise TimeoutError("the panel did not paint within the deadline")
            pump[0]()

    painted = Painted()
    if window:
        panel, document, before, start, pump[0], close[0] = open_window(app, blocks, painted)
    else:
        app.processEvents()
        before = rss_mb()
        start = time.perf_counter()
        document = ScriptDocument()
        document.insert_blocks(blocks)
        panel = ScriptPanel(document, ScriptEditor(document, QUndoStack()), VoiceCatalog())
        panel.view.viewport().installEventFilter(painted)
        panel.resize(1240, 700)
        panel.show()
    wait_painted(painted, panel.view.viewport())
    show_s = time.perf_counter() - start
    added = rss_mb() - before

    panel.focus_block(document.block_at(size // 2).id)
    edit = panel.text_edit
    assert edit is not None
    edit.viewport().installEventFilter(painted)
    for _ in range(5):  # warm up: the first keys lay the editor out
        QTest.keyClick(edit, Qt.Key.Key_A)
        pump[0]()
    latencies = []
    for n in range(keys):
        painted.seen.clear()
        key = Qt.Key.Key_Space if n % 6 == 5 else Qt.Key.Key_A
        begin = time.perf_counter()
        QTest.keyClick(edit, key)
        wait_painted(painted, edit.viewport(), panel.view.viewport())
        latencies.append((time.perf_counter() - begin) * 1000)
    latencies.sort()
    typed = document.block_at(size // 2).text
    assert typed.endswith("a"), "the keys reached the block"
    close[0]()
    return {"blocks": size, "show_s": round(show_s, 3), "rss_added_mb": round(added, 1),
            "key_ms_median": round(statistics.median(latencies), 3),
            "key_ms_p99": round(latencies[min(len(latencies) - 1,
                                              int(len(latencies) * 0.99))], 3)}


def open_window(app: Any, blocks: list[Any],
                painted: Any) -> tuple[Any, Any, float, float, Any, Any]:
    """Start the whole studio (a throwaway home, the offline engine), put ``blocks``
    in its document once it is up; the Script panel, the document, the RSS before the
    blocks arrived, the time they did, how to let the studio's loop run once, and how
    to shut the studio down."""
    import asyncio
    import os
    import tempfile

    from qasync import QEventLoop

    home = tempfile.mkdtemp(prefix="bench-script-scale-")
    os.environ.update(HOME=home, XDG_CONFIG_HOME=f"{home}/config",
                      XDG_DATA_HOME=f"{home}/data")
    from studio.app import Studio
    from studio.config import Settings
    from studio.keystore import KeyStore

    loop = QEventLoop(app)
    asyncio.set_event_loop(loop)
    studio = Studio(Settings(), key_store=KeyStore(Path(home)))
    studio.window.discard_confirmed = True
    studio.start(welcome=False)
    assert studio.project_task is not None and studio._connect_task is not None
    loop.run_until_complete(asyncio.wait_for(studio.project_task, DEADLINE_S))
    loop.run_until_complete(asyncio.wait_for(studio._connect_task, DEADLINE_S))
    panel = studio.window.script_panel
    panel.view.viewport().installEventFilter(painted)
    app.processEvents()
    before = rss_mb()
    start = time.perf_counter()
    studio.document.insert_blocks(blocks)

    def pump() -> None:
        loop.run_until_complete(asyncio.sleep(0))

    def close() -> None:
        studio.window.close()
        loop.run_until_complete(asyncio.wait_for(studio.shutdown(), DEADLINE_S))
        loop.close()  # joins qasync's executor threads, as ``with loop:`` does in the app

    return panel, studio.document, before, start, pump, close


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--keys", type=int, default=200)
    parser.add_argument("--window", action="store_true",
                        help="measure the whole studio window, not the panel alone")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child's size
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.keys, args.window)))
        return
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        child = subprocess.run(
            [sys.executable, __file__, "--one", str(size), "--keys", str(args.keys),
             *(["--window"] if args.window else [])],
            capture_output=True, text=True, timeout=600, check=False)
        if child.returncode != 0:
            raise SystemExit(f"{size} blocks failed:\n{child.stderr}")
        result = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"{size:>6} blocks: shown in {result['show_s']:.3f} s, "
              f"+{result['rss_added_mb']:.1f} MB, keystroke median "
              f"{result['key_ms_median']:.2f} ms, p99 {result['key_ms_p99']:.2f} ms")
        results.append(result)
    ratio = results[-1]["key_ms_median"] / results[0]["key_ms_median"]
    print(json.dumps({"benchmark": "script_scale", "window": args.window, "results": results,
                      "key_median_ratio_largest_over_smallest": round(ratio, 2)}))


if __name__ == "__main__":
    main()
