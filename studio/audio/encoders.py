"""Streaming audio encoders for export: WAV, FLAC, MP3, Ogg Opus, M4A and M4B. Qt-free.

Audio arrives as float32 mono chunks (shape ``(frames,)``) in order and is written as
it comes, so memory does not grow with the programme's length. Stereo files carry the
mono programme on both channels.

- WAV and FLAC go through soundfile (libsndfile): PCM 16 or 24 bit, or 32-bit float WAV.
  Reducing to 16 bits adds TPDF dither of 1 LSB peak (the usual mastering practice: the
  rounding error becomes a steady, signal-independent noise near -101 dBFS instead of
  distortion on quiet passages); samples that are 16-bit values already (takes exported
  as they were generated) are written exactly, without dither. A WAV that would pass the
  4 GiB limit of RIFF is written as RF64 (EBU Tech 3306).
- MP3, Opus and AAC go through PyAV (FFmpeg's libmp3lame, libopus and native AAC
  encoders). MP3 is CBR at a bit rate or VBR at a LAME quality (V0 best ... V9); the
  MP3 muxer writes the Xing/LAME header, so decoders know the exact length and drop the
  encoder's padding. M4A/M4B are MP4 files (FFmpeg's ``ipod`` muxer) with the index at
  the front (``faststart``) and, for M4B, chapters.

FFmpeg releases the GIL while it encodes, so :class:`ThreadedEncoder` runs an encoder on
its own thread and the export prepares the next chunk meanwhile.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol, cast

import av
import numpy as np
import numpy.typing as npt
import soundfile as sf

FloatArray = npt.NDArray[np.float32]

#: LAME's VBR scale: quality V0 (best, ~245 kb/s stereo) to V9 (smallest).
MP3_VBR_QUALITIES = range(10)
#: FFmpeg's lambda per quantiser step (``FF_QP2LAMBDA``): ``global_quality`` is a
#: quality times this.
_QP2LAMBDA = 118
#: The first RIFF size field is 32 bits; keep a margin for the header and chunks.
_RIFF_LIMIT = (1 << 32) - (1 << 20)


class EncoderError(RuntimeError):
    """The encoder failed (a codec error, an unwritable file); the message says which."""


@dataclass(frozen=True, slots=True)
class EncodeSettings:
    """How to encode.

    Attributes:
        container: ``wav``, ``flac``, ``mp3``, ``opus``, ``m4a`` or ``m4b``.
        sample_rate: Hz of the samples passed in, and of the file.
        channels: 1 (mono) or 2 (the mono programme on both channels).
        bit_depth: WAV 16, 24 or 32 (32-bit float); FLAC 16 or 24. Unused for lossy.
        bitrate_kbps: MP3 CBR, Opus and AAC bit rate in kb/s.
        vbr_quality: MP3 only: a LAME VBR quality 0-9 instead of CBR, or ``None``.
        expected_frames: the programme's length, when known, for choosing RF64.
    """

    container: str
    sample_rate: int
    channels: int = 1
    bit_depth: int = 16
    bitrate_kbps: int = 192
    vbr_quality: int | None = None
    expected_frames: int = 0


@dataclass(frozen=True, slots=True)
class ChapterTime:
    """A chapter as an MP4 file stores it: ``title`` from ``start`` to ``end`` seconds."""

    title: str
    start: float
    end: float


class Encoder(Protocol):
    """What the export writes through: :meth:`write` chunks, then :meth:`close`."""

    frames: int

    def write(self, samples: FloatArray) -> None: ...

    def close(self, chapters: Sequence[ChapterTime] = ()) -> None: ...

    def abort(self) -> None: ...


def _channels(samples: FloatArray, channels: int) -> npt.NDArray[np.float32]:
    """``(frames, channels)`` interleaved rows for soundfile."""
    if channels == 1:
        return samples
    return np.repeat(samples[:, None], channels, axis=1)


class SoundFileEncoder:
    """WAV or FLAC through libsndfile (see the module docstring)."""

    def __init__(self, path: Path, settings: EncodeSettings) -> None:
        self.frames = 0
        self._dither = settings.bit_depth == 16
        self._rng = np.random.default_rng(0x5EED)  # reproducible exports
        subtype = {16: "PCM_16", 24: "PCM_24", 32: "FLOAT"}[settings.bit_depth]
        kind = settings.container.upper()
        if kind == "WAV":
            size = settings.expected_frames * settings.channels * settings.bit_depth // 8
            kind = "RF64" if size > _RIFF_LIMIT else "WAV"
        self._clip = subtype != "FLOAT"
        self._channels = settings.channels
        try:
            self._file = sf.SoundFile(str(path), "w", settings.sample_rate, settings.channels,
                                      subtype=subtype, format=kind)
        except (sf.SoundFileError, OSError) as exc:
            raise EncoderError(f"cannot write {path.name}: {exc}") from exc

    def write(self, samples: FloatArray) -> None:
        data = samples
        if self._dither and data.size:
            scaled = data * np.float32(32768.0)
            inexact = scaled != np.round(scaled)  # 16-bit values already are kept exactly
            if inexact.any():
                lsb = np.float32(1.0 / 32768.0)
                noise = (self._rng.random(data.shape[0], dtype=np.float32)
                         - self._rng.random(data.shape[0], dtype=np.float32)) * lsb
                data = data + noise * inexact
        if self._clip:
            data = np.clip(data, -1.0, 1.0)
        try:
            self._file.write(_channels(data.astype(np.float32, copy=False), self._channels))
        except (sf.SoundFileError, OSError) as exc:
            raise EncoderError(f"cannot write audio: {exc} (disk full or I/O error?)") from exc
        self.frames += int(samples.shape[0])

    def close(self, chapters: Sequence[ChapterTime] = ()) -> None:
        try:
            self._file.close()
        except (sf.SoundFileError, OSError) as exc:
            raise EncoderError(f"cannot finish the file: {exc}") from exc

    def abort(self) -> None:
        with contextlib.suppress(sf.SoundFileError, OSError, RuntimeError):
            self._file.close()


_PYAV = {
    # container -> (FFmpeg muxer, codec, sample format the codec takes)
    "mp3": ("mp3", "libmp3lame", "fltp"),
    "opus": ("ogg", "libopus", "flt"),
    "m4a": ("ipod", "aac", "fltp"),
    "m4b": ("ipod", "aac", "fltp"),
}


#: FFmpeg's AAC encoder uses its "fast" coder at this many kb/s per channel and more,
#: "twoloop" below. FFmpeg's own note on making "fast" the default (commit fcb681ac,
#: 2018): twoloop "sounds decent at low bitrates, however at higher bitrates it sounds
#: worse than the fast coder ... and needs quite a lot more CPU". Measured here on the
#: offline engine's speech at 64 kb/s mono: twoloop overshot the input's true peak by
#: 0.2-0.7 dB, and once by 4 dB on one frame (a thump no limiter ceiling reaches, as it
#: is not in the input); "fast" by 0.0-0.1 dB.
AAC_FAST_CODER_KBPS_PER_CHANNEL = 64
#: FFmpeg's decoder for each encoder's output.
_DECODERS = {"libmp3lame": "mp3float", "aac": "aac", "libopus": "libopus"}
#: How long closing waits for an encoder's or a monitor's thread to drain its short
#: queue (seconds of audio, done in well under a second); past it the file is not
#: finished, and the export fails instead of waiting on a stuck codec forever.
THREAD_DEADLINE_S = 120.0


def _join(thread: threading.Thread, what: str) -> None:
    """Wait for ``thread`` at most :data:`THREAD_DEADLINE_S`.

    Raises:
        EncoderError: it is still running then.
    """
    thread.join(THREAD_DEADLINE_S)
    if thread.is_alive():
        raise EncoderError(f"the {what} did not finish within {THREAD_DEADLINE_S:g} s")


#: Packets queued for the monitor at most (a few seconds of audio).
_MONITOR_DEPTH = 256


@dataclass(frozen=True, slots=True)
class CodecInfo:
    """What a decoder needs to read an encoder's packets (picklable: it crosses to
    another process). ``name`` is the encoder's (``libmp3lame``...)."""

    name: str
    sample_rate: int
    layout: str
    extradata: bytes | None

    @classmethod
    def of(cls, context: Any) -> CodecInfo:
        extradata = context.extradata
        return cls(str(context.name), int(context.sample_rate), str(context.layout.name),
                   bytes(extradata) if extradata else None)


class DecodeMonitor:
    """Decodes an encoder's packets on a thread of its own, as a listener's player will,
    and hands the first channel's samples to ``listen`` (float32, ``(frames,)``), so an
    export measures what it wrote while it writes it, not in a second pass afterwards.

    The samples include the codec's priming and padding (a few milliseconds of
    silence), which moves neither loudness nor peaks.

    Args:
        codec: the encoder's codec, rate, layout and extradata.
        listen: called on the monitor's thread with each decoded chunk.
    """

    def __init__(self, codec: CodecInfo, listen: Callable[[FloatArray], None]) -> None:
        self._decoder = cast(Any, av.CodecContext.create(_DECODERS[codec.name], "r"))
        self._decoder.sample_rate = codec.sample_rate
        self._decoder.layout = codec.layout
        if codec.extradata:
            self._decoder.extradata = codec.extradata
        self._to_float = av.AudioResampler(format="fltp")
        self._listen = listen
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=_MONITOR_DEPTH)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="export-monitor", daemon=True)
        self._thread.start()

    def feed(self, packet: bytes) -> None:
        """Queue an encoded packet (its bytes, copied: the muxer keeps the original)."""
        if self._error is not None:
            raise self._error
        try:
            self._queue.put(packet, timeout=THREAD_DEADLINE_S)
        except queue.Full:
            raise EncoderError("the decoder checking the written audio stopped") from None

    def _run(self) -> None:
        while True:
            data = self._queue.get()
            if self._error is not None:
                if data is None:
                    return
                continue
            try:
                for frame in self._decoder.decode(av.Packet(data) if data is not None else None):
                    for out in self._to_float.resample(frame):
                        self._listen(np.ascontiguousarray(out.to_ndarray()[0],
                                                          dtype=np.float32))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                self._error = exc
            if data is None:
                return

    def close(self) -> None:
        """Decode what is queued and stop; raises what the decoder raised."""
        if self._thread.is_alive():
            try:
                self._queue.put(None, timeout=THREAD_DEADLINE_S)
            except queue.Full:
                raise EncoderError("the decoder checking the written audio stopped") from None
            _join(self._thread, "decoder checking the written audio")
        if self._error is not None:
            raise EncoderError(f"the written audio does not decode: {self._error}")


class PyAVEncoder:
    """MP3, Ogg Opus and AAC (M4A/M4B) through PyAV (see the module docstring).

    Args:
        path: the file to write.
        settings: how.
        listen: when given, every encoded packet is also decoded (:class:`DecodeMonitor`)
            and its samples handed to ``listen``.
        on_packet: when given, called with the codec (once, first) and then each encoded
            packet's bytes, for a decoder elsewhere (another process's parent).
    """

    def __init__(self, path: Path, settings: EncodeSettings,
                 listen: Callable[[FloatArray], None] | None = None,
                 on_packet: Callable[[CodecInfo | bytes], None] | None = None) -> None:
        self.frames = 0
        muxer, codec, self._format = _PYAV[settings.container]
        self._layout = "mono" if settings.channels == 1 else "stereo"
        self._rate = settings.sample_rate
        self._channels = settings.channels
        self._chapters_allowed = settings.container == "m4b"
        options: dict[str, str] = {}
        if codec == "libmp3lame" and settings.vbr_quality is not None:
            options = {"flags": "+qscale",
                       "global_quality": str(settings.vbr_quality * _QP2LAMBDA)}
        if codec == "aac":
            per_channel = settings.bitrate_kbps / settings.channels
            fast = per_channel >= AAC_FAST_CODER_KBPS_PER_CHANNEL
            options = {"aac_coder": "fast" if fast else "twoloop"}
        container_options = {"movflags": "+faststart"} if muxer == "ipod" else {}
        try:
            self._container = av.open(str(path), "w", format=muxer, options=container_options)
            self._stream = cast("av.AudioStream", self._container.add_stream(
                codec, rate=settings.sample_rate, layout=self._layout, options=options))
            if settings.vbr_quality is None or codec != "libmp3lame":
                self._stream.bit_rate = settings.bitrate_kbps * 1000
        except (av.FFmpegError, OSError, ValueError) as exc:
            raise EncoderError(f"cannot start the {codec} encoder for {path.name}: {exc}") from exc
        self._listen = listen
        self._on_packet = on_packet
        self._codec_sent = False
        self._monitor: DecodeMonitor | None = None

    def write(self, samples: FloatArray) -> None:
        if not samples.size:
            return
        data = np.ascontiguousarray(samples, dtype=np.float32)
        if self._format == "fltp":
            planes = np.broadcast_to(data, (self._channels, data.shape[0]))
        else:  # packed: one row of interleaved samples
            planes = np.repeat(data, self._channels).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(planes), format=self._format,
                                           layout=self._layout)
        frame.sample_rate = self._rate
        frame.pts = self.frames
        frame.time_base = Fraction(1, self._rate)
        self._mux(frame)
        self.frames += int(samples.shape[0])

    def _mux(self, frame: av.AudioFrame | None) -> None:
        try:
            for packet in self._stream.encode(frame):
                # The codec's extradata is known once it has made a packet.
                if self._listen is not None:
                    if self._monitor is None:
                        self._monitor = DecodeMonitor(CodecInfo.of(self._stream.codec_context),
                                                      self._listen)
                    self._monitor.feed(bytes(packet))
                if self._on_packet is not None:
                    if not self._codec_sent:
                        self._on_packet(CodecInfo.of(self._stream.codec_context))
                        self._codec_sent = True
                    self._on_packet(bytes(packet))
                self._container.mux(packet)
        except (av.FFmpegError, OSError) as exc:
            raise EncoderError(f"the encoder failed: {exc} (disk full or I/O error?)") from exc

    def close(self, chapters: Sequence[ChapterTime] = ()) -> None:
        self._mux(None)
        if self._monitor is not None:
            self._monitor.close()
        if chapters and self._chapters_allowed:
            base = Fraction(1, 1000)
            self._container.set_chapters([
                {"id": i + 1, "start": round(c.start * 1000), "end": round(c.end * 1000),
                 "time_base": base, "metadata": {"title": c.title}}
                for i, c in enumerate(chapters)])
        try:
            self._container.close()
        except (av.FFmpegError, OSError) as exc:
            raise EncoderError(f"cannot finish the file: {exc} (disk full or I/O error?)") from exc

    def abort(self) -> None:
        if self._monitor is not None:
            with contextlib.suppress(EncoderError):
                self._monitor.close()
        with contextlib.suppress(av.FFmpegError, OSError, ValueError):
            self._container.close()


def open_encoder(path: Path, settings: EncodeSettings,
                 listen: Callable[[FloatArray], None] | None = None,
                 on_packet: Callable[[CodecInfo | bytes], None] | None = None) -> Encoder:
    """An encoder writing ``path`` (a staged temporary file) as ``settings`` say; with
    ``listen``, a lossy encoder also decodes what it writes for it (:class:`DecodeMonitor`;
    lossless files are their samples, measured before they go in); with ``on_packet``,
    a lossy encoder hands out its codec and packets (:class:`PyAVEncoder`).

    Raises:
        EncoderError: the encoder or the file cannot be opened.
        ValueError: an unknown container.
    """
    if settings.container in ("wav", "flac"):
        return SoundFileEncoder(path, settings)
    if settings.container in _PYAV:
        return PyAVEncoder(path, settings, listen, on_packet)
    raise ValueError(f"unknown container {settings.container!r}")


_DONE = object()


class ThreadedEncoder:
    """An :class:`Encoder` run on its own thread behind a short queue.

    :meth:`write` hands the chunk over and returns (waiting only while ``depth`` chunks
    are queued), so the caller prepares the next chunk while FFmpeg encodes this one
    (FFmpeg releases the GIL). An encoder failure is raised by the next :meth:`write`
    or by :meth:`close`.

    Args:
        encoder: the encoder to run.
        depth: chunks queued at most (memory: ``depth`` chunks).
    """

    def __init__(self, encoder: Encoder, depth: int = 4) -> None:
        self._encoder = encoder
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="export-encoder", daemon=True)
        self._thread.start()
        self.frames = 0

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if self._error is None and not self._stopped.is_set():
                try:
                    self._encoder.write(item)
                except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                    self._error = exc

    def _put(self, item: Any, *, check: bool = True) -> None:
        # A bounded wait, so a dead or stuck encoder thread can never hang the export.
        deadline = time.monotonic() + THREAD_DEADLINE_S
        while True:
            if check and self._error is not None:
                raise self._error
            try:
                self._queue.put(item, timeout=0.5)
                return
            except queue.Full:
                if not self._thread.is_alive():
                    raise EncoderError("the encoder stopped") from None
                if time.monotonic() > deadline:
                    raise EncoderError(f"the encoder took no audio for {THREAD_DEADLINE_S:g} s"
                                       ) from None

    def write(self, samples: FloatArray) -> None:
        self._put(samples)
        self.frames += int(samples.shape[0])

    def _finish(self) -> None:
        """End the thread (it drains the queue, skipping writes after a failure), then
        raise the failure if there was one."""
        if self._thread.is_alive():
            self._put(_DONE, check=False)
            _join(self._thread, "encoder")
        if self._error is not None:
            raise self._error

    def close(self, chapters: Sequence[ChapterTime] = ()) -> None:
        self._finish()
        self._encoder.close(chapters)

    def abort(self) -> None:
        self._stopped.set()
        with contextlib.suppress(BaseException):  # aborting: its error no longer matters
            self._finish()
        self._encoder.abort()

