"""The export's encoder thread never hangs an export: a codec that stops taking audio
ends the export with an error within the deadline (studio.audio.encoders)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import pytest

from studio.audio import encoders
from studio.audio.encoders import EncoderError, ThreadedEncoder


class StuckEncoder:
    """An encoder whose ``write`` never returns until released (a stuck codec)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.aborted = False

    def write(self, samples: np.ndarray) -> None:
        self.release.wait(60)

    def close(self, chapters: Sequence[object] = ()) -> None:
        pass

    def abort(self) -> None:
        self.aborted = True


def test_a_stuck_encoder_fails_the_export_instead_of_hanging_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encoders, "THREAD_DEADLINE_S", 0.5)
    stuck = StuckEncoder()
    threaded = ThreadedEncoder(stuck, depth=1)  # type: ignore[arg-type]  # a fake codec
    chunk = np.zeros(100, dtype=np.float32)
    try:
        with pytest.raises(EncoderError, match=r"took no audio for 0\.5 s|did not finish"):
            for _ in range(10):  # the queue fills behind the stuck write
                threaded.write(chunk)
            threaded.close()
    finally:
        stuck.release.set()


def test_an_encoder_that_keeps_up_closes_normally() -> None:
    written: list[int] = []

    class Counting(StuckEncoder):
        def write(self, samples: np.ndarray) -> None:
            written.append(samples.shape[0])

    threaded = ThreadedEncoder(Counting(), depth=2)  # type: ignore[arg-type]  # a fake codec
    for _ in range(5):
        threaded.write(np.zeros(10, dtype=np.float32))
    threaded.close()
    assert written == [10] * 5 and threaded.frames == 50
