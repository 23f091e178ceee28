"""Start-up: ``import studio.app`` and the time to the studio's first window, against a
bare Qt window in the same run, and what a full garbage collection costs the UI thread.

Each figure is measured in a fresh interpreter (offscreen Qt, empty settings folders),
the bare and the studio runs alternating ``--runs`` times:

- bare: ``import PySide6.QtWidgets``, a ``QApplication`` and a ``QMainWindow`` shown
  until Qt reports it exposed (the floor for any Qt application);
- studio: ``import studio.app`` alone, then the studio's window built (every service
  and panel, as :func:`studio.app.run_studio` builds them, the backend aside) and shown
  until exposed;
- collection: ``gc.collect()`` on the studio's UI thread after its window is up, as the
  studio's collector runs it every 20 s, before and after ``gc.freeze()`` (which the
  studio calls once started).

The last line is one JSON object: medians in milliseconds, and the ratios the issue
names (import <= 600 ms, or the window <= 5x the bare window).

Usage: ``python tests/benchmarks/bench_startup.py [--runs 7]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

BARE = r"""
import time
start = time.perf_counter()
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
window = QMainWindow()
window.resize(1280, 800)
window.show()
while window.windowHandle() is None or not window.windowHandle().isExposed():
    app.processEvents()
print(f"window {time.perf_counter() - start:.6f}")
"""

STUDIO = r"""
import time
start = time.perf_counter()
import studio.app as studio_app
imported = time.perf_counter() - start
import asyncio, gc
from PySide6.QtWidgets import QApplication
from qasync import QEventLoop
app = QApplication([])
studio_app.apply_theme(app)
loop = QEventLoop(app)
asyncio.set_event_loop(loop)
gc.disable()  # as the studio's collector sets it
studio = studio_app.Studio(studio_app.load_settings())
studio.window.show()
while studio.window.windowHandle() is None or not studio.window.windowHandle().isExposed():
    app.processEvents()
window = time.perf_counter() - start
t = time.perf_counter(); gc.collect(); full = time.perf_counter() - t
gc.freeze()
t = time.perf_counter(); gc.collect(); frozen = time.perf_counter() - t
print(f"import {imported:.6f}")
print(f"window {window:.6f}")
print(f"collect {full:.6f}")
print(f"frozen {frozen:.6f}")
import os; os._exit(0)  # no shutdown: only start-up is measured
"""


def run(code: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": home,
               "XDG_CONFIG_HOME": f"{home}/config", "XDG_DATA_HOME": f"{home}/data",
               "XDG_CACHE_HOME": f"{home}/cache"}
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, timeout=120, check=True)
    return {name: float(value) for name, value in
            (line.split() for line in done.stdout.splitlines() if line.strip())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    bare: list[float] = []
    studio: dict[str, list[float]] = {}
    for _ in range(args.runs):
        bare.append(run(BARE)["window"])
        for name, value in run(STUDIO).items():
            studio.setdefault(name, []).append(value)
    ms = {name: round(statistics.median(values) * 1000, 1) for name, values in studio.items()}
    bare_ms = round(statistics.median(bare) * 1000, 1)
    print(f"bare Qt window {bare_ms} ms; studio: import {ms['import']} ms, window "
          f"{ms['window']} ms; full collection {ms['collect']} ms, after freeze "
          f"{ms['frozen']} ms", flush=True)
    print(json.dumps({"runs": args.runs, "bare_window_ms": bare_ms,
                      "import_ms": ms["import"], "window_ms": ms["window"],
                      "window_over_bare": round(ms["window"] / bare_ms, 2),
                      "import_over_bare": round(ms["import"] / bare_ms, 2),
                      "full_collection_ms": ms["collect"],
                      "full_collection_frozen_ms": ms["frozen"]}))


if __name__ == "__main__":
    main()
