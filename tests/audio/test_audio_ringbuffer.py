"""RingBuffer: FIFO order, wraparound, underrun zeros, overflow accounting, threads."""

from __future__ import annotations

import collections
import threading
import time
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.audio.ringbuffer import RingBuffer


def test_rejects_non_positive_capacity() -> None:
    with pytest.raises(ValueError):
        RingBuffer(0)


def test_wraparound_keeps_order() -> None:
    rb = RingBuffer(8)
    assert rb.write(np.arange(6, dtype=np.float32)) == 6
    out = np.empty(4, dtype=np.float32)
    assert rb.read_into(out) == 4
    np.testing.assert_array_equal(out, [0, 1, 2, 3])
    # 2 frames left at positions 4..5; these 5 wrap past the end of storage.
    assert rb.write(np.arange(10, 15, dtype=np.float32)) == 5
    assert rb.available == 7
    out = np.empty(7, dtype=np.float32)
    assert rb.read_into(out) == 7
    np.testing.assert_array_equal(out, [4, 5, 10, 11, 12, 13, 14])
    assert rb.available == 0 and rb.free == 8


def test_underrun_returns_count_and_zero_fills() -> None:
    rb = RingBuffer(16)
    rb.write(np.array([0.5, -0.5, 0.25], dtype=np.float32))
    out = np.full(8, 7.0, dtype=np.float32)
    assert rb.read_into(out) == 3
    np.testing.assert_array_equal(out, [0.5, -0.5, 0.25, 0, 0, 0, 0, 0])
    out.fill(7.0)
    assert rb.read_into(out) == 0
    assert not out.any()


def test_overflow_writes_what_fits_and_counts_the_rest() -> None:
    rb = RingBuffer(10)
    assert rb.write(np.ones(7, dtype=np.float32)) == 7
    assert rb.write(np.full(6, 2.0, dtype=np.float32)) == 3
    assert rb.free == 0
    assert rb.write(np.ones(4, dtype=np.float32)) == 0
    assert rb.frames_written_total == 10
    assert rb.frames_dropped_total == 3 + 4
    out = np.empty(10, dtype=np.float32)
    rb.read_into(out)
    np.testing.assert_array_equal(out, [1] * 7 + [2] * 3)
    assert rb.frames_read_total == 10


def test_clear_discards_but_totals_keep_counting() -> None:
    rb = RingBuffer(10)
    rb.write(np.ones(6, dtype=np.float32))
    rb.clear()
    assert rb.available == 0 and rb.free == 10
    assert rb.frames_discarded_total == 6
    assert rb.frames_written_total == 6 and rb.frames_read_total == 0
    rb.write(np.array([3.0], dtype=np.float32))
    out = np.zeros(2, dtype=np.float32)
    assert rb.read_into(out) == 1 and out[0] == 3.0


def test_rejects_multichannel_input() -> None:
    with pytest.raises(ValueError):
        RingBuffer(10).write(np.zeros((4, 2), dtype=np.float32))


def test_read_into_strided_view_of_outdata() -> None:
    # PortAudio hands the callback a (frames, channels) array; the player passes a column.
    rb = RingBuffer(10)
    rb.write(np.arange(1, 5, dtype=np.float32))
    outdata = np.full((6, 1), 9.0, dtype=np.float32)
    assert rb.read_into(outdata[:, 0]) == 4
    np.testing.assert_array_equal(outdata[:, 0], [1, 2, 3, 4, 0, 0])


def test_read_into_does_not_allocate_sample_memory() -> None:
    frames = 8192
    rb = RingBuffer(frames * 4)
    out = np.empty(frames, dtype=np.float32)
    chunk = np.ones(frames, dtype=np.float32)
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        for _ in range(50):
            rb.write(chunk)
            rb.read_into(out)
            rb.read_into(out)  # underrun path: zero fill
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # One block of samples is 32 KiB; everything allocated in the loop must be far less.
    assert peak - base < frames * 4 // 4


ops = st.lists(
    st.tuples(st.sampled_from(["write", "read", "clear"]), st.integers(0, 40)), max_size=60
)


@given(capacity=st.integers(1, 33), operations=ops)
def test_matches_a_fifo_model(capacity: int, operations: list[tuple[str, int]]) -> None:
    rb = RingBuffer(capacity)
    model: collections.deque[float] = collections.deque()
    counter = 0.0
    dropped = 0
    for op, size in operations:
        if op == "write":
            data = np.arange(counter, counter + size, dtype=np.float32)
            counter += size
            fits = min(size, capacity - len(model))
            assert rb.write(data) == fits
            model.extend(data[:fits].tolist())
            dropped += size - fits
        elif op == "read":
            out = np.full(size, -1.0, dtype=np.float32)
            n = rb.read_into(out)
            expected = [model.popleft() for _ in range(min(size, len(model)))]
            assert n == len(expected)
            assert out[:n].tolist() == expected
            assert not out[n:].any()
        else:
            rb.clear()
            model.clear()
        assert rb.available == len(model)
        assert rb.free == capacity - len(model)
    assert rb.frames_dropped_total == dropped


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    capacity=st.integers(16, 257),
    write_sizes=st.lists(st.integers(1, 300), min_size=1, max_size=8),
    read_sizes=st.lists(st.integers(1, 300), min_size=1, max_size=8),
)
def test_concurrent_writer_and_reader_preserve_order(
    capacity: int, write_sizes: list[int], read_sizes: list[int]
) -> None:
    total = 20_000  # float32 holds these integers exactly
    source = np.arange(total, dtype=np.float32)
    received = np.full(total, -1.0, dtype=np.float32)
    rb = RingBuffer(capacity)
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            pos, i = 0, 0
            while pos < total:
                size = write_sizes[i % len(write_sizes)]
                i += 1
                n = rb.write(source[pos : pos + size])
                pos += n
                if n == 0:
                    time.sleep(0)  # full: let the reader run
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            failures.append(exc)

    def reader() -> None:
        try:
            pos, i = 0, 0
            buffers = [np.empty(size, dtype=np.float32) for size in read_sizes]
            while pos < total:
                out = buffers[i % len(buffers)]
                i += 1
                n = rb.read_into(out)
                received[pos : pos + n] = out[:n]
                pos += n
                if n == 0:
                    time.sleep(0)  # empty: let the writer run
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "writer/reader did not finish"
    assert not failures
    np.testing.assert_array_equal(received, source)
    assert rb.frames_written_total == rb.frames_read_total == total
