"""render -o keeps its takes in a spool file beside the output, not in memory."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from studio.cli.spool import PREFIX, TakeSpool
from studio.project.model import Block, make_take
from studio.timestamps import PhonemeTimestamps, WordTimestamps


def _take(seed: int):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    audio = (np.round(rng.uniform(-0.5, 0.5, 22050) * 32767) / 32768).astype(np.float32)
    return audio, make_take(audio, 22050, WordTimestamps(), PhonemeTimestamps(),
                            {"transcript": "Spooled."}, "offline", 0, 1)


def test_a_spooled_take_leaves_memory_and_reads_back_until_the_spool_ends(
        tmp_path: Path) -> None:
    audio, take = _take(1)

    async def run() -> None:
        async with TakeSpool(tmp_path) as spool:
            await spool.keep(Block(text="Spooled.", voice_id="v"), take)
            assert not take.source.pinned  # the file has it: the cache may let it go
            assert [p.name.startswith(PREFIX) for p in tmp_path.iterdir()] == [True]
            np.testing.assert_array_equal(take.source.read(), audio)

    asyncio.run(run())
    assert list(tmp_path.iterdir()) == []  # the spool is removed


def test_a_spool_that_cannot_be_made_keeps_takes_in_memory(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    audio, take = _take(2)
    missing = tmp_path / "no-such-folder"

    async def run() -> None:
        async with TakeSpool(missing) as spool:
            await spool.keep(Block(text="Spooled.", voice_id="v"), take)

    asyncio.run(run())
    assert take.source.pinned
    np.testing.assert_array_equal(take.audio, audio)
    assert "keeping them in memory" in capsys.readouterr().err
