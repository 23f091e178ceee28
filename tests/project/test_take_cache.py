"""The take-audio cache: a byte budget, least recently used first, pinned audio that is
not on disk never let go, and samples read back equal after eviction."""

from __future__ import annotations

import gc
import threading
from pathlib import Path

import numpy as np
import pytest

from studio.project.model import Block, TakeAudio, make_take
from studio.project.store import ProjectStore
from studio.project.take_cache import TakeAudioCache
from studio.timestamps import PhonemeTimestamps, WordTimestamps

MB = 1 << 20


def samples(frames: int, seed: int) -> np.ndarray:
    """float32 that survive the project file's 16-bit FLAC unchanged."""
    rng = np.random.default_rng(seed)
    return (np.round(rng.uniform(-0.5, 0.5, frames) * 32767) / 32768).astype(np.float32)


def test_the_budget_is_respected_and_the_least_recently_used_go_first() -> None:
    cache = TakeAudioCache(budget_bytes=3 * MB)
    for key in "abc":
        cache.put(key, np.zeros(MB // 4, dtype=np.float32))  # 1 MB each
    assert cache.nbytes == 3 * MB and cache.keys() == ["a", "b", "c"]
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("d", np.zeros(MB // 4, dtype=np.float32))
    assert cache.keys() == ["c", "a", "d"] and cache.nbytes == 3 * MB
    cache.put("e", np.zeros(MB // 2, dtype=np.float32))  # 2 MB: c and a go
    assert cache.keys() == ["d", "e"] and cache.nbytes == 3 * MB
    cache.budget_bytes = MB
    assert cache.keys() == ["e"]  # the newest stays even when alone over the budget
    cache.discard("e")
    assert len(cache) == 0 and cache.nbytes == 0


def test_a_negative_budget_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        TakeAudioCache(budget_bytes=-1)


def test_an_evicted_array_stays_valid_for_its_reader() -> None:
    cache = TakeAudioCache(budget_bytes=MB)
    audio = TakeAudio(44100, MB // 4, loader=lambda: samples(MB // 4, 1), cache=cache)
    held = audio.array
    cache.put("other", np.zeros(MB // 4, dtype=np.float32))
    assert not audio.loaded  # let go by the cache...
    np.testing.assert_array_equal(held, samples(MB // 4, 1))  # ...but not by its reader


def test_pinned_audio_is_never_evicted_until_stored(tmp_path: Path) -> None:
    cache = TakeAudioCache(budget_bytes=0)
    data = samples(44100, 2)
    audio = TakeAudio(44100, 44100, data, cache=cache)
    for n in range(5):
        cache.put(n, np.zeros(1000, dtype=np.float32))
    assert audio.pinned and audio.loaded and audio.array is data
    assert len(cache) == 1  # pinned samples are not in the cache at all


def test_a_stored_take_is_read_back_equal_after_eviction(tmp_path: Path) -> None:
    cache = TakeAudioCache(budget_bytes=MB)
    block = Block(text="Cached.", voice_id="v")
    take = make_take(samples(3 * 44100, 3), 44100, WordTimestamps(), PhonemeTimestamps(),
                     {"transcript": "Cached."}, "offline", 0, 1)
    # make_take uses the shared cache; give this take the test's own.
    take.source._cache = cache  # type: ignore[attr-defined]
    block.takes.append(take)
    store = ProjectStore.create(tmp_path / "p.cstudio")
    try:
        store.add_take(block, take)
        assert not take.source.pinned and take.source.store_key is not None
        assert take.source.loaded  # just generated: kept while it fits
        cache.put("other", np.zeros(MB // 4 + 1, dtype=np.float32))
        assert not take.source.loaded
        np.testing.assert_array_equal(take.audio, samples(3 * 44100, 3))
        assert take.source.loaded
        # read() gives the samples without keeping them.
        cache.clear()
        np.testing.assert_array_equal(take.source.read(), samples(3 * 44100, 3))
        assert not take.source.loaded
    finally:
        store.close()


def test_loaded_takes_share_one_budget(tmp_path: Path) -> None:
    store = ProjectStore.create(tmp_path / "p.cstudio")
    block = Block(text="Many takes.", voice_id="v")
    for n in range(6):
        take = make_take(samples(44100, 10 + n), 44100, WordTimestamps(), PhonemeTimestamps(),
                         {"transcript": "Many takes."}, "offline", 0, n + 1)
        block.takes.append(take)
        store.add_take(block, take)
    takes = store.load().blocks[0].takes
    store_path = store.path
    cache = TakeAudioCache(budget_bytes=2 * 44100 * 4)
    try:
        for take in takes:
            take.source._cache = cache  # type: ignore[attr-defined]
        for take in takes:
            _ = take.audio
        assert cache.nbytes <= 2 * 44100 * 4 and len(cache) == 2
        assert [t.source.loaded for t in takes] == [False] * 4 + [True] * 2
        for n, take in enumerate(takes):
            np.testing.assert_array_equal(take.audio, samples(44100, 10 + n))
    finally:
        store.close()
    assert store_path.exists()


def test_a_collected_take_audio_leaves_the_cache() -> None:
    cache = TakeAudioCache()
    audio = TakeAudio(8000, 800, loader=lambda: np.zeros(800, dtype=np.float32), cache=cache)
    _ = audio.array
    assert len(cache) == 1
    del audio
    gc.collect()
    assert len(cache) == 0


def test_concurrent_readers_read_the_file_once_and_agree() -> None:
    cache = TakeAudioCache(budget_bytes=3 * 8000 * 4)
    reads = [0] * 8
    lock = threading.Lock()

    def loader_for(n: int):  # type: ignore[no-untyped-def]
        def load() -> np.ndarray:
            with lock:
                reads[n] += 1
            return samples(8000, 100 + n)
        return load

    sources = [TakeAudio(8000, 8000, loader=loader_for(n), cache=cache) for n in range(8)]
    expected = [samples(8000, 100 + n) for n in range(8)]
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def reader(offset: int) -> None:
        try:
            start.wait(timeout=30)
            for step in range(200):
                n = (offset + step) % 8
                np.testing.assert_array_equal(sources[n].array, expected[n])
                assert cache.nbytes <= 3 * 8000 * 4
        except AssertionError as exc:  # reported in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert len(cache) <= 3 and all(r >= 1 for r in reads)


def test_one_audio_read_by_many_threads_at_once_is_read_once() -> None:
    cache = TakeAudioCache()
    reads = []
    release = threading.Event()

    def load() -> np.ndarray:
        reads.append(1)
        release.wait(timeout=30)
        return samples(8000, 7)

    audio = TakeAudio(8000, 8000, loader=load, cache=cache)
    got: list[np.ndarray] = []
    threads = [threading.Thread(target=lambda: got.append(audio.array)) for _ in range(6)]
    for thread in threads:
        thread.start()
    release.set()
    for thread in threads:
        thread.join(timeout=60)
    assert len(got) == 6 and len(reads) == 1
    assert all(g is got[0] for g in got)


def test_unedited_takes_count_against_the_edited_audio_budget(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from studio.project import edited_audio

    cache = edited_audio._EditedCache(entries=32, max_bytes=2 * 8000 * 4)
    monkeypatch.setattr(edited_audio, "_CACHE", cache)
    takes = [make_take(samples(8000, 50 + n), 8000, WordTimestamps(), PhonemeTimestamps(),
                       {"transcript": "x"}, "offline", 0, n + 1) for n in range(5)]
    for take in takes:
        edited_audio.edited(take)
    # Each result is a view of its take's samples: only the last two are still held.
    assert len(cache._items) == 2
