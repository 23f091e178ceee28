"""The studio's autosave survives kill -9: a process running the real
ProjectService adds takes as generations finish would; it is killed mid-stream, and
every take it had reported as saved is in the file, playable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

from studio.project.store import ProjectStore

CHILD = textwrap.dedent('''
    import asyncio, sys
    from pathlib import Path
    import numpy as np
    from PySide6.QtCore import QCoreApplication
    from qasync import QEventLoop
    from studio.timestamps import PhonemeTimestamps, WordTimestamps
    from studio.project.model import make_take
    from studio.services.document import ScriptDocument
    from studio.services.project import ProjectService

    app = QCoreApplication([])
    loop = QEventLoop(app)
    asyncio.set_event_loop(loop)
    document = ScriptDocument()
    project = ProjectService(document, Path(sys.argv[1]))

    async def main():
        await project.new()
        print(project.path, flush=True)
        block = document.add_block(text="Generated again and again.", voice_id="v1")
        for n in range(1, 1000):
            rng = np.random.default_rng(n)
            audio = (np.round(rng.uniform(-0.3, 0.3, 44100) * 32767) / 32768).astype(np.float32)
            document.add_take(block.id, make_take(
                audio, 44100, WordTimestamps(), PhonemeTimestamps(), {"transcript": "x"},
                "offline", 0, n))
            while project.dirty:  # wait until it is in the file, as the title's * does
                await asyncio.sleep(0.005)
            print(f"saved {n}", flush=True)

    with loop:
        loop.run_until_complete(main())
''')


def test_kill_9_keeps_every_take_the_studio_had_saved(tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    child = subprocess.Popen([sys.executable, str(script), str(tmp_path / "untitled")],
                             stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdout is not None
    path = Path(child.stdout.readline().strip())
    saved = 0
    deadline = time.monotonic() + 120  # a safety net only
    while saved < 5 and time.monotonic() < deadline:
        line = child.stdout.readline()
        if line.startswith("saved "):
            saved = int(line.split()[1])
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert saved >= 5

    store = ProjectStore.open(path)
    try:
        block = store.load().blocks[0]
        assert len(block.takes) >= saved
        assert block.selected_take is not None  # a finished take stays playable
        for number, take in enumerate(block.takes, start=1):
            rng = np.random.default_rng(number)
            expected = (np.round(rng.uniform(-0.3, 0.3, 44100) * 32767) / 32768).astype(np.float32)
            assert np.array_equal(take.audio, expected)
    finally:
        store.close()
