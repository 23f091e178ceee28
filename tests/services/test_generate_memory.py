"""Generate all over a long script keeps the studio's memory bounded (issue 15): the
studio's services generate a script with the offline engine in a process of their own
(``tests/benchmarks/bench_generate_memory.py``), and the resident set size after the
first third of the blocks is compared with that after all of them.

Before the take cache, every take stayed in memory as float32: the RSS grew by the
audio of the blocks generated (about 200 MB here). The bound is half of that, with the
cache's budget set to 16 MB so that it is not the cache's own filling that is measured;
a leak of the audio breaks it, the noise of a busy machine (tens of MB) does not."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).parents[1] / "benchmarks" / "bench_generate_memory.py"


def _bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_generate_memory", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.timeout(600)
def test_generate_all_memory_does_not_grow_with_the_script(tmp_path: Path) -> None:
    bench = _bench()
    script = tmp_path / "script.txt"
    script.write_text(bench.script_text(6000, 100), encoding="utf-8")  # 60 blocks, ~29 min
    figures = bench.run_studio(script, 3, tmp_path / "home",
                               env={"STUDIO_TAKE_CACHE_MB": "16"}, timeout=540)
    assert figures["blocks"] == 60 and figures["failed"] == 0, figures
    first, _second, last = figures["rss_mb"]
    extra_audio_mb = figures["audio_mb"] * 2 / 3  # the audio of blocks 21 to 60
    assert extra_audio_mb > 150, figures  # enough audio for a leak to show
    assert last - first < extra_audio_mb / 2, figures
