"""A lossy encoder in a process of its own, so a long export uses both cores. Qt-free.

FFmpeg's MP3, AAC and Opus encoders, called through PyAV, hold Python's global
interpreter lock while they encode, and so do PyAV's filters (the meters, the limiter):
on a thread they take turns with everything else the export does, and a ten-hour MP3
took nearly twice as long as the encoder alone. In a child process (``spawn``: a fresh
interpreter that imports only the audio core, never Qt) the encoder has a core to
itself, while the parent reads, gains and limits the next takes, and decodes and
measures the packets the child sends back (:class:`~studio.audio.encoders.DecodeMonitor`),
so the figures are those of the file as written. Samples cross over a pipe
(``multiprocessing.connection``), which also paces the export to the encoder.

Messages, each one ``send_bytes`` with a one-byte tag. To the child: ``A`` + float32
samples (after 3 bytes of padding, so they stay aligned), ``C`` + the pickled chapters
(finish). From the child: ``R`` (the file is open), ``K`` + the pickled
:class:`~studio.audio.encoders.CodecInfo`, ``P`` + an encoded packet, ``D`` + the pickled
frame count (finished), ``E`` + an error message.

A program that starts the export must guard its entry point
(``if __name__ == "__main__":``), as ``spawn`` imports it again in the child.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import pickle
import threading
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np
import numpy.typing as npt

from studio.audio.encoders import (
    ChapterTime,
    CodecInfo,
    DecodeMonitor,
    EncoderError,
    EncodeSettings,
    open_encoder,
)

FloatArray = npt.NDArray[np.float32]

#: Seconds to wait for the child to start and open its file, and to finish after the
#: last samples (encoding what the pipe still holds takes well under a second).
START_DEADLINE_S = 60.0
FINISH_DEADLINE_S = 600.0


def _child(conn: Connection, path: str, settings: EncodeSettings, decode: bool) -> None:
    """The child process: encode what arrives; send the packets back when asked to."""
    try:
        def packet(item: CodecInfo | bytes) -> None:
            if isinstance(item, bytes):
                conn.send_bytes(b"P" + item)
            else:
                conn.send_bytes(b"K" + pickle.dumps(item))

        # The child encodes; its parent decodes (see the module docstring).
        encoder = open_encoder(Path(path), settings, on_packet=packet if decode else None)
        conn.send_bytes(b"R")
        while True:
            message = conn.recv_bytes()
            if message[:1] == b"A":
                encoder.write(np.frombuffer(message, dtype=np.float32, offset=4))
                continue
            chapters = pickle.loads(message[1:])
            encoder.close(chapters)
            conn.send_bytes(b"D" + pickle.dumps(encoder.frames))
            return
    except EOFError:  # the parent went away (cancelled): nothing more to do
        return
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, in words
        with contextlib.suppress(OSError):
            conn.send_bytes(b"E" + f"{type(exc).__name__}: {exc}".encode())


class ProcessEncoder:
    """An :class:`~studio.audio.encoders.Encoder` running in a child process.

    Args:
        path: the (staged) file to write.
        settings: how to encode (a lossy format).
        listen: when given, the packets written are decoded here and their first
            channel's samples handed to ``listen`` (on a thread of this process).

    Raises:
        EncoderError: the child could not start or open the file.
    """

    def __init__(self, path: Path, settings: EncodeSettings,
                 listen: Callable[[FloatArray], None] | None = None) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_child, args=(child, str(path), settings,
                                                             listen is not None),
                                        name="export-encoder", daemon=True)
        self._process.start()
        child.close()
        self.frames = 0
        self._listen = listen
        self._monitor: DecodeMonitor | None = None
        self._ready = threading.Event()
        self._done = threading.Event()
        self._error: str | None = None
        self._reader = threading.Thread(target=self._read, name="export-encoder-reader",
                                        daemon=True)
        self._reader.start()
        if not self._ready.wait(START_DEADLINE_S) or self._error is not None:
            reason = self._error or f"the encoder process did not start within " \
                                    f"{START_DEADLINE_S:g} s"
            self.abort()
            raise EncoderError(reason)

    def _read(self) -> None:
        """The child's answers, on a thread: ready, the packets to decode, done."""
        try:
            while True:
                message = self._conn.recv_bytes()
                tag, body = message[:1], message[1:]
                if tag == b"P" and self._monitor is not None:
                    self._monitor.feed(body)
                elif tag == b"K" and self._listen is not None:
                    self._monitor = DecodeMonitor(pickle.loads(body), self._listen)
                elif tag == b"R":
                    self._ready.set()
                elif tag == b"D":
                    self.frames = int(pickle.loads(body))
                    if self._monitor is not None:
                        self._monitor.close()
                    self._done.set()
                    return
                elif tag == b"E":
                    self._error = body.decode(errors="replace")
                    break
        except (EOFError, OSError):
            self._error = self._error or "the encoder process stopped"
        except EncoderError as exc:
            self._error = str(exc)
        self._ready.set()
        self._done.set()

    def _raise(self) -> None:
        message = self._error or "the encoder process stopped"
        self.abort()
        raise EncoderError(message)

    def write(self, samples: FloatArray) -> None:
        """Hand ``samples`` (float32 mono) over; waits while the pipe is full.

        Raises:
            EncoderError: the child failed (its message says why).
        """
        if self._error is not None:
            self._raise()
        data = np.ascontiguousarray(samples, dtype=np.float32)
        try:
            self._conn.send_bytes(b"A\0\0\0" + data.tobytes())
        except OSError:
            self._reader.join(5)
            self._raise()

    def close(self, chapters: Sequence[ChapterTime] = ()) -> None:
        """Finish the file (with ``chapters``, for M4B); the last packets are decoded
        before this returns.

        Raises:
            EncoderError: the child failed, or did not finish within the deadline.
        """
        try:
            self._conn.send_bytes(b"C" + pickle.dumps(list(chapters)))
        except OSError:
            self._reader.join(5)
            self._raise()
        if not self._done.wait(FINISH_DEADLINE_S):
            self._error = f"the encoder did not finish within {FINISH_DEADLINE_S:g} s"
        if self._error is not None:
            self._raise()
        self._process.join(FINISH_DEADLINE_S)
        self._conn.close()

    def abort(self) -> None:
        """Stop the child now (its file is the caller's to remove)."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join(10)
        with contextlib.suppress(OSError):
            self._conn.close()
        if self._monitor is not None:
            with contextlib.suppress(EncoderError):
                self._monitor.close()
