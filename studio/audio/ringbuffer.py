"""A preallocated single-producer / single-consumer ring buffer of mono samples.

This is the only thing a real-time audio callback touches, in either direction:

- Playback (:mod:`studio.audio.playback`): the producer is the asyncio loop decoding a
  stream, which calls :meth:`RingBuffer.write`; the consumer is PortAudio's callback
  thread, which calls :meth:`RingBuffer.read_into` into ``outdata``. The pattern of
  python-sounddevice's ``examples/play_long_file.py``: copy, zero-fill on underrun, never
  block.
- Recording (:mod:`studio.audio.recorder`): the producer is PortAudio's input callback,
  which calls :meth:`RingBuffer.write` with ``indata`` (a full ring drops the frames and
  the recorder counts an overflow); the consumer is the polling thread (the UI thread,
  in ``Recorder.poll`` on a timer and in ``Recorder.stop``), which calls
  :meth:`RingBuffer.read_into` straight into the recording array. python-sounddevice's
  ``examples/rec_unlimited.py`` with its queue replaced by this buffer. The zero fill is never used
  there: ``poll`` reads only what :attr:`RingBuffer.available` says is buffered.

Either way there is exactly one writer thread and one reader thread per buffer.

Why it is safe without locks under CPython: the buffer keeps two monotonically
increasing frame counters. ``_write_count`` is stored only by the producer and only
*after* it copied the samples in; ``_read_count`` is stored only by the consumer and only
after it copied the samples out. Each side reads the other's counter once per call, so it
sees either the old or the new value, both of which are consistent with the data in the
array (a plain attribute store of a Python int is atomic under the GIL, which also orders
the stores). Python ints do not overflow, so the counters never wrap.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


class RingBuffer:
    """Fixed-capacity FIFO of mono frames for one writer thread and one reader thread.

    Args:
        capacity_frames: how many frames the buffer holds (> 0). The storage is allocated
            once with ``np.zeros``, which the OS backs lazily, so a large capacity costs
            address space rather than resident memory until it is filled.
        dtype: sample dtype; the studio uses float32 throughout.

    Attributes:
        capacity: capacity in frames.
        dtype: the sample dtype.

    Raises:
        ValueError: ``capacity_frames`` is not positive.
    """

    __slots__ = (
        "_data",
        "_delivered",
        "_discarded",
        "_dropped",
        "_read_count",
        "_write_count",
        "capacity",
        "dtype",
    )

    def __init__(self, capacity_frames: int, dtype: npt.DTypeLike = np.float32) -> None:
        if int(capacity_frames) <= 0:
            raise ValueError(f"capacity_frames must be positive, got {capacity_frames}")
        self.capacity: int = int(capacity_frames)
        self.dtype: np.dtype[np.generic] = np.dtype(dtype)
        self._data: npt.NDArray[np.generic] = np.zeros(self.capacity, dtype=self.dtype)
        self._write_count = 0  # producer-owned: stream position of the next frame to write
        self._read_count = 0  # consumer-owned: stream position of the next frame to read
        self._delivered = 0  # consumer-owned: frames actually copied out by read_into
        self._dropped = 0  # producer-owned: frames write() could not fit
        self._discarded = 0  # frames thrown away by clear()

    @property
    def available(self) -> int:
        """Frames buffered and readable now (0 ≤ available ≤ capacity)."""
        return self._write_count - self._read_count

    @property
    def free(self) -> int:
        """Frames that can be written now without dropping (capacity - available)."""
        return self.capacity - (self._write_count - self._read_count)

    @property
    def frames_written_total(self) -> int:
        """Frames accepted by :meth:`write` since construction (never decreases)."""
        return self._write_count

    @property
    def frames_read_total(self) -> int:
        """Frames copied out by :meth:`read_into` since construction (zero fill excluded)."""
        return self._delivered

    @property
    def frames_dropped_total(self) -> int:
        """Frames :meth:`write` refused because the buffer was full."""
        return self._dropped

    @property
    def frames_discarded_total(self) -> int:
        """Frames thrown away unread by :meth:`clear`."""
        return self._discarded

    def write(self, samples: npt.ArrayLike) -> int:
        """Append as many frames of ``samples`` as fit; never blocks. Producer side only.

        Args:
            samples: 1-D array of frames, shape ``(frames,)``; cast to the buffer dtype.

        Returns:
            Frames written, ``min(len(samples), free)``. The rest are not stored; they are
            added to :attr:`frames_dropped_total`.

        Raises:
            ValueError: ``samples`` is not one-dimensional.
        """
        src = np.asarray(samples)
        if src.ndim != 1:
            raise ValueError(f"expected mono samples of shape (frames,), got shape {src.shape}")
        w = self._write_count
        size = int(src.shape[0])
        n = min(size, self.capacity - (w - self._read_count))
        self._dropped += size - n
        if n <= 0:
            return 0
        start = w % self.capacity
        first = min(n, self.capacity - start)
        self._data[start : start + first] = src[:first]
        if first < n:
            self._data[: n - first] = src[first:n]
        # Publish only after the copy, so the reader never sees frames not yet stored.
        self._write_count = w + n
        return n

    def read_into(self, out: npt.NDArray[np.generic]) -> int:
        """Move up to ``len(out)`` frames into ``out``; zero-fill the rest. Consumer side only.

        Does not allocate sample memory: it copies slices of the preallocated storage into
        ``out`` in place, so it is fit for a PortAudio callback.

        Args:
            out: writable 1-D array (a view such as ``outdata[:, 0]`` works).

        Returns:
            Frames copied into ``out[:n]``; ``out[n:]`` is set to zero (underrun gives
            silence).
        """
        r = self._read_count
        size = int(out.shape[0])
        n = min(size, self._write_count - r)
        if n > 0:
            start = r % self.capacity
            first = min(n, self.capacity - start)
            out[:first] = self._data[start : start + first]
            if first < n:
                out[first:n] = self._data[: n - first]
            # Publish only after the copy, so the writer never overwrites unread frames.
            self._read_count = r + n
            self._delivered += n
        if n < size:
            out[n:] = 0
        return n

    def clear(self) -> None:
        """Discard everything buffered; the totals keep counting from where they were.

        This moves the consumer's counter, so call it only while no :meth:`read_into` can
        run concurrently (for example after the output stream was stopped), or from the
        consumer thread itself.
        """
        pending = self._write_count - self._read_count
        self._discarded += pending
        self._read_count += pending
