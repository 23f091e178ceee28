"""The performance a "Perform it yourself" take was converted from is kept in the project
with the take (schema v9 ``performances``): written with it, read back on reopening,
dropped with it when the take is purged, and carried by a salvaged copy."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import numpy as np

from studio.project.migrations import SCHEMA_VERSION
from studio.project.model import Block, TakeAudio, make_take
from studio.project.salvage import recover_copy
from studio.project.store import ProjectStore, script_rows
from studio.timestamps import PhonemeTimestamps, WordTimestamps


def sixteen_bit(seconds: float, rate: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    audio = 0.3 * rng.standard_normal(int(seconds * rate))
    return (np.round(np.clip(audio, -1, 1) * 32767) / 32768).astype(np.float32)


def performed_take(block: Block, seed: int = 0):  # type: ignore[no-untyped-def]
    words = WordTimestamps(("Seven", "ships."), (0.1, 0.5), (0.45, 0.9))
    request = {"voice_changer": {"voice_id": "v", "seconds": 1.0, "source": "performance"},
               "transcript": block.text, "language": "en"}
    take = make_take(sixteen_bit(1.0, 44100, seed), 44100, words, PhonemeTimestamps(),
                     request, "cloud", 15, block.next_take_number())
    performance = TakeAudio.of(sixteen_bit(1.0, 16000, seed + 1), 16000)
    return dataclasses.replace(take, performance=performance)


def test_reopening_keeps_the_take_and_its_performance(tmp_path: Path) -> None:
    path = tmp_path / "p.cstudio"
    store = ProjectStore.create(path)
    block = Block(text="Seven ships.")
    take = performed_take(block)
    plain = dataclasses.replace(make_take(sixteen_bit(0.5, 44100, 9), 44100, WordTimestamps(),
                                          PhonemeTimestamps(), {"transcript": "x"}, "offline",
                                          0, 2))
    block.takes += [take, plain]
    block.selected_take_id = take.id
    store.add_take(block, take)
    store.add_take(block, plain)
    store.add_take(block, take)  # a retry writes nothing twice
    store.write_script(script_rows([block]))
    store.close()

    store = ProjectStore.open(path)
    loaded = store.load()
    first, second = loaded.blocks[0].takes
    assert first.id == take.id and second.performance is None
    assert first.performance is not None and first.performance.sample_rate == 16000
    assert take.performance is not None
    assert np.array_equal(first.performance.array, take.performance.array)
    assert np.array_equal(first.audio, take.audio)
    assert first.request["voice_changer"]["source"] == "performance" and first.credits == 15
    store.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT COUNT(*) FROM performances").fetchone()[0] == 1
    db.close()


def test_a_purged_take_takes_its_performance_with_it(tmp_path: Path) -> None:
    path = tmp_path / "p.cstudio"
    store = ProjectStore.create(path)
    block = Block(text="Seven ships.")
    take = performed_take(block)
    block.takes.append(take)
    store.add_take(block, take)
    store.write_script(script_rows([block]))
    block.takes.clear()
    store.write_script(script_rows([block]))
    store.purge_deleted()
    store.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT COUNT(*) FROM performances").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM audio").fetchone()[0] == 0
    db.close()


def test_a_version_8_file_is_upgraded_and_a_salvaged_copy_keeps_performances(
        tmp_path: Path) -> None:
    old = tmp_path / "old.cstudio"
    ProjectStore.create(old).close()
    db = sqlite3.connect(old, isolation_level=None)  # as version 8 left it
    db.execute("DROP TABLE performances")
    db.execute("PRAGMA user_version = 8")
    db.close()
    store = ProjectStore.open(old)
    assert store.load().blocks == []
    block = Block(text="Seven ships.")
    take = performed_take(block, seed=4)
    block.takes.append(take)
    store.add_take(block, take)
    store.write_script(script_rows([block]))
    store.close()
    db = sqlite3.connect(old)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 9
    db.close()

    copy, _blocks, takes = recover_copy(old)
    assert takes == 1
    store = ProjectStore.open(copy)
    got = store.load().blocks[0].takes[0]
    assert got.performance is not None and take.performance is not None
    assert np.array_equal(got.performance.array, take.performance.array)
    store.close()
