"""Export: the programme measured, normalised, limited, encoded and tagged. Qt-free.

The pipeline runs block by block in the calling (worker) thread, with the encoder on a
thread of its own, so memory holds one take at a time whatever the programme's length:

1. **Analyse** (:func:`analyse`): every selected take is read with its edits, resampled
   to the export rate (soxr), measured on its own (for level matching) and, with its
   level-matching gain, as part of its file and of the whole programme (EBU R128
   integrated loudness and true peak, or RMS for ACX).
2. **Render** (:func:`export`): each file is rendered again block by block with its
   gains, through the peak limiter, measured once more (the achieved figures) and
   encoded; tags, chapters and captions follow. Everything is staged as temporary files
   and renamed into place together at the end, so a failure or a cancel leaves nothing.

Gains: level matching brings each block to the target's loudness (at most
:data:`MATCH_LIMIT_DB` either way; blocks too short to measure are left as they are),
then each file gets one gain to the target. One file per chapter normalises each file
on its own (ACX requires every file in range); stems (per block, per voice) share the
whole programme's gain, so they add back up to the programme. What the limiter and a
lossy codec do to the level is learned first on a sample of the programme
(:mod:`studio.project.export_calibration`), so the first render lands; every file is
then measured as written (lossy files decoded), and one that still misses its target by
more than :data:`TOLERANCE_DB`, or whose peaks pass the ceiling, is rendered once more
with corrected figures (stems never are: they keep the programme's gain). A target the
ceiling makes unreachable is reported in the result's notes.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from studio.audio.acx import AcxReport, LevelMeter, Levels, acx_check, scan_file
from studio.audio.atomic import Staging
from studio.audio.buffers import resample
from studio.audio.encode_process import ProcessEncoder
from studio.audio.encoders import (
    ChapterTime,
    Encoder,
    EncoderError,
    EncodeSettings,
    ThreadedEncoder,
    open_encoder,
)
from studio.audio.limiter import CEILING_RANGE_DB, PeakLimiter
from studio.audio.loudness import (
    SILENT,
    Loudness,
    LoudnessMeter,
    PieceLoudnessMeter,
    db_to_gain,
    gated_loudness,
    release_graphs,
)
from studio.audio.memory import return_freed_memory
from studio.audio.tags import ChapterMark, Metadata, write_tags
from studio.project.captions import (
    CaptionBlock,
    cues,
    write_srt,
    write_transcript,
    write_vtt,
    write_word_timings,
)
from studio.project.chapter_files import write_audacity_labels, write_podcast_chapters
from studio.project.edited_audio import apply_edits
from studio.project.export_calibration import Calibration, calibrate, sample_stride, snippet
from studio.project.export_settings import (
    SIDECAR_SUFFIXES,
    ExportCancelled,
    ExportError,
    ExportSettings,
    check_settings,
)
from studio.project.program import Program, ProgramBlock
from studio.project.transcript import spoken_text

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]
#: ``progress(stage, fraction)``: stage is "Measuring" or "Encoding", fraction 0..1 of
#: the whole export.
Progress = Callable[[str, float], None]

#: Level matching moves a block by at most this much, dB.
MATCH_LIMIT_DB = 15.0
#: A file's integrated loudness (or RMS) may miss the target by this much, LU / dB (the
#: tolerance the delivery specifications give, e.g. EBU R128 s1: +-0.5 LU).
TOLERANCE_DB = 0.5
#: Renders of one file at most: the first (calibrated on a sample, so it usually lands)
#: and one correction.
MAX_ATTEMPTS = 2
#: A lossy file this long (seconds) or longer is encoded in a process of its own; for a
#: shorter one, starting a process (about a second) would cost more than it saves.
PROCESS_MIN_SECONDS = 120.0
#: Samples handed to the limiter and encoder at once (one second at 48 kHz).
_CHUNK = 48_000
#: :func:`~studio.audio.tags.write_tags` names containers, not codecs: Opus lives in Ogg.
_TAG_CONTAINERS = {"opus": "ogg"}
#: Analysis is cheaper than encoding: its share of the progress bar, per frame.
_ANALYSIS_WEIGHT = 0.3


@dataclass(frozen=True, slots=True)
class ExportJob:
    """What to export and where.

    Attributes:
        program: the programme (:func:`studio.project.program.program_of`).
        settings: format, loudness, split and extra files (checked on use).
        path: the destination file (its extension is the format's); files per chapter,
            block or voice are named after it: ``NAME - 01 - Title.mp3``.
        metadata: tags for every file (a file per chapter is titled by its chapter).
        sidecar_paths: where a sidecar of :data:`~studio.project.export_settings.SIDECARS`
            goes when not beside the audio with its usual suffix (the command line's
            ``--captions OUT.srt``); numbered like the audio when there are several files.
    """

    program: Program
    settings: ExportSettings
    path: Path
    metadata: Metadata = field(default_factory=Metadata)
    sidecar_paths: dict[str, Path] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OutputFile:
    """One file of an export and what plays in it.

    Attributes:
        path: destination.
        title: the chapter's, block's or voice's name ("" for a whole programme).
        blocks: the blocks in the file's timeline, in order.
        solo_voice: for a stem per voice, the voice heard; other blocks are silent.
        shares_program_gain: normalised with the whole programme's gain (stems), not
            on its own.
    """

    path: Path
    title: str
    blocks: tuple[ProgramBlock, ...]
    solo_voice: str | None = None
    shares_program_gain: bool = False

    def plays(self, block: ProgramBlock) -> bool:
        return self.solo_voice is None or block.voice_id == self.solo_voice


_UNSAFE = re.compile(r'[\x00-\x1f<>:"/\\|?*]+')


def safe_name(title: str, limit: int = 60) -> str:
    """``title`` as part of a file name on any system: no path separators, reserved or
    control characters, at most ``limit`` characters."""
    name = " ".join(_UNSAFE.sub(" ", title).split()).strip(". ")
    return name[:limit].rstrip(". ") or "Untitled"


def plan_files(job: ExportJob, voice_names: dict[str, str] | None = None) -> list[OutputFile]:
    """The files ``job`` writes, in order (see :data:`~studio.project.export_settings.FileSplit`).

    Args:
        voice_names: voice id -> name, for naming stems per voice.
    """
    program, split, path = job.program, job.settings.split, job.path
    blocks = program.blocks
    if split == "program":
        return [OutputFile(path, "", blocks)]

    def numbered(index: int, count: int, title: str) -> Path:
        return numbered_path(path, index, count, title)

    if split == "chapter":
        titles = [t or job.metadata.title or path.stem for t in program.chapters]
        return [OutputFile(numbered(i + 1, len(titles), title), title, program.chapter_blocks(i))
                for i, title in enumerate(titles)]
    if split == "block":
        return [OutputFile(numbered(b.number, blocks[-1].number, _first_words(b.text)),
                           _first_words(b.text), (b,), shares_program_gain=True)
                for b in blocks]
    names = voice_names or {}
    voices = program.voices
    return [OutputFile(numbered(i + 1, len(voices), names.get(v) or v or "No voice"),
                       names.get(v) or v, blocks, solo_voice=v, shares_program_gain=True)
            for i, v in enumerate(voices)]


def numbered_path(path: Path, index: int, count: int, title: str) -> Path:
    """``NAME - 03 - Title.ext`` beside ``path`` (``NAME.ext``), numbered with as many
    digits as ``count`` needs (at least two), so the files sort in script order."""
    digits = max(2, len(str(count)))
    return path.with_name(f"{path.stem} - {index:0{digits}d} - {safe_name(title)}{path.suffix}")


def _first_words(text: str, words: int = 6) -> str:
    return " ".join(spoken_text(text).split()[:words])


# --- reading blocks ---------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class BlockAudio:
    """A block's take as exported: float32 mono at the export rate, and its words."""

    audio: FloatArray
    words: tuple[str, ...]
    starts: tuple[float, ...]
    ends: tuple[float, ...]


def read_block(block: ProgramBlock, sample_rate: int) -> BlockAudio:
    """The block's selected take with its edits applied, at ``sample_rate`` Hz, read
    without keeping it in memory afterwards.

    Raises:
        ExportError: the take's audio cannot be read or its edits applied.
    """
    take = block.take
    try:
        edited = apply_edits(take.source.read(), take.sample_rate, take.word_timestamps,
                             take.phoneme_timestamps, take.edits)
    except Exception as exc:
        raise ExportError(f"Block {block.number}'s take cannot be read: {exc}") from exc
    audio = edited.audio
    if take.sample_rate != sample_rate:
        audio = resample(audio, take.sample_rate, sample_rate)
    words = edited.words
    return BlockAudio(np.asarray(audio, dtype=np.float32), words.words, words.start, words.end)


# --- analysis ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Analysis:
    """What the first pass measured (:func:`analyse`).

    Attributes:
        sample_rate: the rate measured at, Hz.
        block_frames: block id -> frames of its take at that rate.
        block_loudness: block id -> the take's integrated loudness, LUFS (-inf: too
            short or silent to measure).
        match_db: block id -> its level-matching gain, dB (0 without matching).
        program: the programme's loudness with the matching gains, mono.
        program_levels: its RMS and peaks (room tone and pauses included).
        files: per output file, its loudness and levels, mono, before its own gain.
        sample: snippets of blocks spread over the programme, with their matching gains
            (float32 mono, about 40 s: :mod:`studio.project.export_calibration`).
        block_quiet: block id -> the quiet its take starts and ends with, seconds
            (below ACX's -50 dBFS room-tone threshold), measured when room tone is asked.
    """

    sample_rate: int
    block_frames: dict[str, int]
    block_loudness: dict[str, float]
    match_db: dict[str, float]
    program: Loudness
    program_levels: Levels
    files: tuple[tuple[Loudness, Levels], ...]
    sample: FloatArray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    block_quiet: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def frames(self) -> int:
        return sum(self.block_frames.values())

    def room_tone(self, settings: ExportSettings, file: OutputFile) -> tuple[int, int]:
        """Frames of silence to put before and after ``file``'s audio: the room tone
        asked for, less the quiet its first and last takes already begin and end with
        (ACX counts all of it: 0.75 s asked before a take that starts with 0.4 s of
        quiet would make 1.15 s, over ACX's 1 s)."""
        head, tail = settings.head_seconds, settings.tail_seconds
        if file.blocks and file.solo_voice is None:
            head -= self.block_quiet.get(file.blocks[0].block_id, (0.0, 0.0))[0]
            tail -= self.block_quiet.get(file.blocks[-1].block_id, (0.0, 0.0))[1]
        return round(max(0.0, head) * self.sample_rate), round(max(0.0, tail) * self.sample_rate)


def _match_reference(settings: ExportSettings) -> float | None:
    """The loudness blocks are matched to, LUFS, or None without matching."""
    target = settings.loudness
    if target is None or not settings.level_match:
        return None
    # For an RMS target the blocks are matched by loudness at the same figure: RMS and
    # integrated loudness of speech land within a few dB of each other, and the file's
    # own RMS gain then sets the level exactly.
    return target.target_for(settings.channels)


def _match_gain(block_lufs: float, reference: float | None) -> float:
    if reference is None or not math.isfinite(block_lufs):
        return 0.0
    return max(-MATCH_LIMIT_DB, min(MATCH_LIMIT_DB, reference - block_lufs))


class _Meters:
    """A file's loudness and level meters, fed the same samples; with ``threaded``, on
    a thread of their own (overlapping with reading the next take, whose decoding
    releases the GIL; FFmpeg's filters through PyAV do not).

    With ``gated``, loudness is not metered from the samples but gated from the 400 ms
    blocks of each take measured already (:meth:`add_blocks`, from the
    :class:`~studio.audio.loudness.PieceLoudnessMeter` that level matching needs anyway):
    the same integrated loudness to within the few blocks that straddle a pause, for
    none of the cost; loudness range and true peak are then not known (``nan``).
    """

    def __init__(self, sample_rate: int, *, threaded: bool = False,
                 true_peak: bool = True, gated: bool = False) -> None:
        self.loudness = None if gated else LoudnessMeter(sample_rate, true_peak=true_peak)
        self.levels = LevelMeter(sample_rate)
        self.frames = 0
        self._rate = sample_rate
        self._blocks: list[npt.NDArray[np.float64]] = []
        self._thread = ThreadedEncoder(self) if threaded else None

    def write(self, samples: FloatArray) -> None:  # as an encoder, for ThreadedEncoder
        if self.loudness is not None:
            self.loudness.add(samples)
        self.levels.add(samples)
        self.frames += int(samples.shape[0])

    def add_blocks(self, blocks: npt.NDArray[np.float64]) -> None:
        """Gating blocks (LUFS) of the samples added, as they will be played."""
        self._blocks.append(blocks)

    def close(self, _chapters: Sequence[ChapterTime] = ()) -> None:
        return None

    def abort(self) -> None:
        return None

    def add(self, samples: FloatArray) -> None:
        if self._thread is not None:
            self._thread.write(samples)
        else:
            self.write(samples)

    def result(self) -> tuple[Loudness, Levels]:
        if self._thread is not None:
            self._thread.close()
            self._thread = None
        if self.loudness is not None:
            return self.loudness.result(), self.levels.result()
        blocks = np.concatenate(self._blocks) if self._blocks else np.zeros(0)
        return (Loudness(gated_loudness(blocks), math.nan, math.nan, self.frames / self._rate),
                self.levels.result())

    def stop(self) -> None:
        """End the meters' thread without a result (the measurement failed)."""
        if self._thread is not None:
            self._thread.abort()
            self._thread = None


def _pause_frames(program: Program, rate: int) -> int:
    return round(program.pause_seconds * rate)


def analyse(job: ExportJob, files: Sequence[OutputFile] | None = None, *,
            progress: Progress | None = None, cancel: threading.Event | None = None,
            weight: float = 1.0, true_peak: bool = True) -> Analysis:
    """Measure the programme of ``job`` (the first pass; see the module docstring).

    Memory stays flat: one take is held at a time, one loudness meter runs for the
    programme and at most one for the file being measured (a file's blocks are
    consecutive), and each block is measured through one shared
    :class:`~studio.audio.loudness.PieceLoudnessMeter`.

    Args:
        files: :func:`plan_files` of the job (computed if not given).
        progress: told ("Measuring", fraction) as blocks are read, the fraction scaled
            by ``weight``.
        cancel: set to stop; :class:`ExportCancelled` is raised.
        true_peak: measure the programme's true peak too (shown before an export; the
            export itself does without: the limiter's ceiling is calibrated instead,
            and true peak costs as much as the rest of the measurement).

    Raises:
        ExportCancelled, ExportError; :class:`~studio.project.export_settings.SettingsError`.
    """
    return_freed_memory()
    settings = job.settings
    check_settings(settings)
    files = list(files) if files is not None else plan_files(job)
    rate = settings.encoded_sample_rate
    reference = _match_reference(settings)
    pieces = PieceLoudnessMeter(rate if rate % 10 == 0 else 48000)
    # An export (no true peak wanted) gates loudness from the blocks level matching
    # measures anyway; the dialog's Measure meters it all, true peak and range included.
    gated = reference is not None and not true_peak
    program_meters = _Meters(rate, threaded=not gated, true_peak=true_peak, gated=gated)
    # Files normalised on their own (one per chapter) are measured one after another;
    # a whole-programme file is the programme itself.
    own = [i for i, f in enumerate(files) if not f.shares_program_gain]
    separate = len(files) > 1
    owner = {b.block_id: i for i in own for b in files[i].blocks} if separate else {}
    file_results: dict[int, tuple[Loudness, Levels]] = {}
    current: tuple[int, _Meters] | None = None
    head = np.zeros(round(settings.head_seconds * rate), dtype=np.float32)
    tail = np.zeros(round(settings.tail_seconds * rate), dtype=np.float32)
    pause = np.zeros(_pause_frames(job.program, rate), dtype=np.float32)

    def head_of(first: ProgramBlock) -> FloatArray:
        """The room tone before a file starting with ``first`` (its own quiet counted)."""
        lead = block_quiet.get(first.block_id, (0.0, 0.0))[0]
        return head[: max(0, round((settings.head_seconds - lead) * rate))]

    def tail_of(file: OutputFile) -> FloatArray:
        trail = block_quiet.get(file.blocks[-1].block_id, (0.0, 0.0))[1]
        return tail[: max(0, round((settings.tail_seconds - trail) * rate))]

    block_frames: dict[str, int] = {}
    block_loudness: dict[str, float] = {}
    match_db: dict[str, float] = {}
    block_quiet: dict[str, tuple[float, float]] = {}
    room_tone = settings.head_seconds > 0 or settings.tail_seconds > 0
    sample: list[FloatArray] = []
    blocks = job.program.blocks
    total = sum(b.take.duration for b in blocks) or 1.0
    stride = sample_stride(len(blocks), total / len(blocks))
    done = 0.0
    try:
        program_meters.add(head_of(blocks[0]))
        for index, block in enumerate(blocks):
            _check_cancel(cancel)
            audio = read_block(block, rate).audio
            block_frames[block.block_id] = audio.shape[0]
            if room_tone:
                edges = LevelMeter(rate)
                edges.add(audio)
                found = edges.result()
                block_quiet[block.block_id] = (found.head_seconds, found.tail_seconds)
            loudness = SILENT
            gating = np.zeros(0)
            if reference is not None:
                measured = audio if rate % 10 == 0 else resample(audio, rate, 48000)
                gating = pieces.blocks(measured)
                loudness = gated_loudness(gating)
            block_loudness[block.block_id] = loudness
            gain_db = _match_gain(loudness, reference)
            if gated:
                program_meters.add_blocks(gating + gain_db)
            match_db[block.block_id] = gain_db
            gained = audio * np.float32(db_to_gain(gain_db)) if gain_db else audio
            if index:
                program_meters.add(pause)
            program_meters.add(gained)
            if index % stride == 0:
                sample.append(snippet(gained, rate))
            file_index = owner.get(block.block_id)
            if file_index is not None:
                if current is None or current[0] != file_index:
                    if current is not None:
                        current[1].add(tail_of(files[current[0]]))
                        file_results[current[0]] = current[1].result()
                    current = (file_index, _Meters(rate, true_peak=true_peak, gated=gated))
                    current[1].add(head_of(block))
                else:
                    current[1].add(pause)
                current[1].add(gained)
                if gated:
                    current[1].add_blocks(gating + gain_db)
            done += block.take.duration
            if progress is not None:
                progress("Measuring", weight * done / total)
        program_meters.add(tail[: max(0, round((settings.tail_seconds - block_quiet.get(
            blocks[-1].block_id, (0.0, 0.0))[1]) * rate))])
        if current is not None:
            current[1].add(tail_of(files[current[0]]))
            file_results[current[0]] = current[1].result()
    except BaseException:
        program_meters.stop()
        raise
    program = program_meters.result()
    results = tuple(file_results.get(i, program) for i in range(len(files)))
    release_graphs()
    return Analysis(rate, block_frames, block_loudness, match_db, program[0], program[1],
                    results, np.concatenate(sample) if sample else np.zeros(0, np.float32),
                    block_quiet)


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise ExportCancelled


# --- gains and the limiter --------------------------------------------------------------

def file_gain(settings: ExportSettings, measured: tuple[Loudness, Levels]) -> float:
    """The gain, dB, that brings a file measured as ``measured`` (mono, before its gain)
    to the target; 0 without a target or for silence."""
    target = settings.loudness
    if target is None:
        return 0.0
    if target.measure == "lufs":
        level = measured[0].for_channels(settings.channels).integrated
        goal = target.target_for(settings.channels)
    else:
        level, goal = measured[1].rms_dbfs, target.target
    return goal - level if math.isfinite(level) else 0.0


# --- rendering --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FileResult:
    """One file written by :func:`export`.

    Attributes:
        path: where it is.
        title: its chapter's, block's or voice's name.
        frames: its length at :attr:`sample_rate`.
        sample_rate: Hz.
        before: its loudness before normalisation (as the file's channels would be).
        after: its loudness as written (before encoding, for lossy formats).
        levels: RMS, peaks, noise floor as written (decoded from the file when
            the ACX check ran).
        gain_db: the gain applied to reach the target.
        chapters: the chapter marks stored in or beside it.
        acx: the ACX check, when asked for.
    """

    path: Path
    title: str
    frames: int
    sample_rate: int
    before: Loudness
    after: Loudness
    levels: Levels
    gain_db: float
    chapters: tuple[ChapterMark, ...] = ()
    acx: AcxReport | None = None

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What :func:`export` wrote: the audio files and the files beside them."""

    files: tuple[FileResult, ...]
    sidecars: tuple[Path, ...]
    notes: tuple[str, ...] = ()

    @property
    def passed_acx(self) -> bool:
        return all(f.acx is None or f.acx.passed for f in self.files)


@dataclass(slots=True)
class _Placed:
    """A block placed on a file's timeline during rendering (for captions and chapters)."""

    block: ProgramBlock
    start: float
    end: float
    words: tuple[str, ...] = ()
    starts: tuple[float, ...] = ()
    ends: tuple[float, ...] = ()


class _Writer:
    """The end of the chain: limiter (if any) -> meters (if any) -> encoder."""

    def __init__(self, encoder: Encoder, rate: int, ceiling: float | None,
                 measure: bool, cancel: threading.Event | None = None) -> None:
        self.encoder = encoder
        self.cancel = cancel
        self.limiter = PeakLimiter(rate, ceiling) if ceiling is not None else None
        self.meters = _Meters(rate) if measure else None

    def write(self, samples: FloatArray) -> None:
        for begin in range(0, samples.shape[0], _CHUNK):
            _check_cancel(self.cancel)  # every second of audio, however long the take
            piece = samples[begin:begin + _CHUNK]
            for out in (self.limiter.process(piece) if self.limiter else [piece]):
                self._emit(out)

    def finish(self) -> None:
        if self.limiter is not None:
            for out in self.limiter.flush():
                self._emit(out)

    def _emit(self, samples: FloatArray) -> None:
        if samples.size:
            if self.meters is not None:
                self.meters.add(samples)
            self.encoder.write(samples)


def _layout(job: ExportJob, file: OutputFile, analysis: Analysis) -> list[_Placed]:
    """Where each block of ``file`` lies on its timeline, in seconds (head, blocks and
    pauses), from the analysed lengths: known before the file is rendered."""
    rate = analysis.sample_rate
    position = analysis.room_tone(job.settings, file)[0]
    pause = _pause_frames(job.program, rate)
    placed = []
    for index, block in enumerate(file.blocks):
        if index:
            position += pause
        frames = analysis.block_frames[block.block_id]
        placed.append(_Placed(block, position / rate, (position + frames) / rate))
        position += frames
    return placed


def _chapter_marks(placed: Sequence[_Placed], file: OutputFile, chapters: Sequence[str],
                   duration: float) -> tuple[ChapterMark, ...]:
    """Chapters of a whole-programme file: each starts with its first block (the
    first at 0) and ends where the next starts (the last at the end of the file)."""
    if len(chapters) < 2 or file.solo_voice is not None:
        return ()
    starts: list[tuple[str, float]] = []
    last = -1
    for p in placed:
        if p.block.chapter != last:
            last = p.block.chapter
            starts.append((chapters[last] or f"Chapter {last + 1}",
                           0.0 if not starts else p.start))
    if len(starts) < 2:
        return ()
    ends = [s for _, s in starts[1:]] + [duration]
    return tuple(ChapterMark(title, start, end)
                 for (title, start), end in zip(starts, ends, strict=True))


def _render_file(job: ExportJob, file: OutputFile, temp: Path, gains: dict[str, float],
                 file_gain_db: float, ceiling: float | None, analysis: Analysis,
                 keep_words: bool, chapters: Sequence[ChapterMark], tick: Callable[[int], None],
                 cancel: threading.Event | None,
                 ) -> tuple[Loudness, Levels, int, list[_Placed]]:
    settings = job.settings
    rate = analysis.sample_rate
    expected = sum(analysis.block_frames[b.block_id] for b in file.blocks)
    lossless = not settings.file_format.lossy
    encode = EncodeSettings(
        container=settings.format, sample_rate=rate, channels=settings.channels,
        bit_depth=settings.bit_depth, bitrate_kbps=settings.bitrate_kbps,
        vbr_quality=settings.vbr_quality if settings.file_format.vbr else None,
        expected_frames=expected)
    # A lossy file is measured as decoded, while it is written (by the encoder's
    # monitor); a lossless one is its samples, measured on their way in. A long lossy
    # file is encoded in a process of its own (:mod:`studio.audio.encode_process`).
    decoded: _Meters | None = None
    encoder: Encoder
    if lossless:
        encoder = ThreadedEncoder(open_encoder(temp, encode))
    else:
        decoded = _Meters(rate)
        encoder = (ProcessEncoder(temp, encode, listen=decoded.write)
                   if expected >= PROCESS_MIN_SECONDS * rate
                   else ThreadedEncoder(open_encoder(temp, encode, listen=decoded.write)))
    writer = _Writer(encoder, rate, ceiling, measure=lossless, cancel=cancel)
    placed: list[_Placed] = []
    try:
        head, tail = analysis.room_tone(settings, file)
        writer.write(np.zeros(head, dtype=np.float32))
        position = head
        pause = np.zeros(_pause_frames(job.program, rate), dtype=np.float32)
        for index, block in enumerate(file.blocks):
            _check_cancel(cancel)
            if index:
                writer.write(pause)
                position += pause.shape[0]
            start = position / rate
            if file.plays(block):
                data = read_block(block, rate)
                gain = db_to_gain(gains.get(block.block_id, 0.0) + file_gain_db)
                audio = data.audio * np.float32(gain) if gain != 1.0 else data.audio
                writer.write(audio)
                frames = audio.shape[0]
                words = data.words if keep_words else ()
                item = _Placed(block, start, start + frames / rate, words,
                               tuple(start + t for t in data.starts) if keep_words else (),
                               tuple(start + t for t in data.ends) if keep_words else ())
            else:
                frames = analysis.block_frames[block.block_id]
                writer.write(np.zeros(frames, dtype=np.float32))
                item = _Placed(block, start, start + frames / rate)
            placed.append(item)
            position += frames
            tick(frames)
        writer.write(np.zeros(tail, dtype=np.float32))
        writer.finish()
        encoder.close([ChapterTime(c.title, c.start, c.end) for c in chapters])
    except BaseException:
        encoder.abort()
        raise
    meters = writer.meters if writer.meters is not None else decoded
    assert meters is not None
    loudness, levels = meters.result()
    del writer
    release_graphs()
    return loudness.for_channels(settings.channels), levels, encoder.frames, placed


def _missed(settings: ExportSettings, after: Loudness, levels: Levels) -> tuple[float, float]:
    """``(gain correction dB, ceiling correction dB)`` for another attempt, from what a
    file measured as written (``after`` as its channels play); (0, 0) when it is on
    target."""
    target = settings.loudness
    if target is None:
        return 0.0, 0.0
    if target.measure == "lufs":
        level, goal = after.integrated, target.target_for(settings.channels)
        peak = after.true_peak
    else:
        level, goal, peak = levels.rms_dbfs, target.target, levels.peak_dbfs
    gain = goal - level if math.isfinite(level) and abs(goal - level) > TOLERANCE_DB else 0.0
    over = peak - target.ceiling
    return gain, (-(over + 0.2) if math.isfinite(peak) and over > 0 else 0.0)


def _again(progress: Progress | None, file: OutputFile) -> Callable[[int], None]:
    """The progress of a correcting render: said as such, not as 100 % encoded."""
    def tick(_frames: int) -> None:
        if progress is not None:
            progress(f"Correcting the level of {file.path.name}", 1.0)
    return tick


#: A peak this little over its ceiling is measurement rounding, not worth a note, dB.
_PEAK_SLACK_DB = 0.05


def _missed_note(settings: ExportSettings, result: FileResult) -> list[str]:
    """Notes when a file could not be brought to its target (say, -9 LUFS under a
    -1 dBTP ceiling: the limiter holds it down) or over its peak ceiling."""
    target = settings.loudness
    if target is None:
        return []
    if target.measure == "lufs":
        level, goal, unit = result.after.integrated, target.target_for(settings.channels), "LUFS"
    else:
        level, goal, unit = result.levels.rms_dbfs, target.target, "dBFS RMS"
    notes = []
    if math.isfinite(level) and abs(level - goal) > TOLERANCE_DB:
        why = (f"the {target.ceiling:g} {target.ceiling_unit} peak ceiling keeps it from "
               "getting louder" if level < goal else "it came out louder than asked")
        notes.append(f"{result.path.name} reached {level:.1f} {unit}, not {goal:g} {unit}: "
                     f"{why}")
    peak = result.after.true_peak if target.measure == "lufs" else result.levels.peak_dbfs
    if math.isfinite(peak) and peak > target.ceiling + _PEAK_SLACK_DB:
        # The limiter holds the samples it is given; a lossy codec can still overshoot
        # on a frame of its own making, and lowering the ceiling did not reach it.
        notes.append(f"{result.path.name} peaks at {peak:.1f} {target.ceiling_unit}, over "
                     f"the {target.ceiling:g} {target.ceiling_unit} ceiling: the encoder "
                     "overshoots; a higher bit rate or a lossless format avoids it")
    return notes


def export(job: ExportJob, *, analysis: Analysis | None = None,
           voice_names: dict[str, str] | None = None, progress: Progress | None = None,
           cancel: threading.Event | None = None) -> ExportResult:
    """Write ``job``'s files (see the module docstring).

    Args:
        analysis: the first pass, when already run for the same job (the dialog's
            measurement); measured here otherwise.
        voice_names: voice id -> name, for stems per voice.
        progress: told (stage, fraction of the whole export).
        cancel: set to stop; nothing is left behind.

    Returns:
        The files written, with their figures.

    Raises:
        ExportCancelled: ``cancel`` was set; nothing was written.
        ExportError: a take cannot be read, the encoder failed; nothing was written.
        OSError: the destination cannot be written (message names it); nothing was written.
        studio.project.export_settings.SettingsError: unusable settings.
    """
    settings = job.settings
    check_settings(settings)
    files = plan_files(job, voice_names)
    names = [f.path for f in files]
    if len(set(names)) != len(names):
        raise ExportError("two files of this export would have the same name; "
                          "give the chapters or voices different names")
    rate = settings.encoded_sample_rate
    fresh = analysis is None or analysis.sample_rate != rate
    share = _ANALYSIS_WEIGHT / (1 + _ANALYSIS_WEIGHT) if fresh else 0.0
    if analysis is None or analysis.sample_rate != rate:
        analysis = analyse(job, files, progress=progress, cancel=cancel, weight=share,
                           true_peak=False)
    plays = [sum(analysis.block_frames[b.block_id] for b in f.blocks) for f in files]
    total = max(1, sum(plays))
    rendered = 0

    def tick(frames: int) -> None:
        nonlocal rendered
        rendered += frames
        if progress is not None:
            progress("Encoding", share + (1 - share) * min(1.0, rendered / total))

    keep_words = bool(settings.sidecars)
    folder = job.path.parent if str(job.path.parent) else Path(".")
    if progress is not None:
        progress("Calibrating", share)
    calibration = calibrate(settings, analysis.sample, rate,
                            file_gain(settings, (analysis.program, analysis.program_levels)),
                            folder)
    results: list[FileResult] = []
    notes: list[str] = []
    sidecars: list[Path] = []
    try:
        with Staging() as staging:
            for index, file in enumerate(files):
                measured = analysis.files[index] if not file.shares_program_gain else (
                    analysis.program, analysis.program_levels)
                result, placed = _export_file(job, file, staging, measured, calibration,
                                              analysis, keep_words, tick, progress, cancel)
                notes += _missed_note(settings, result)
                results.append(result)
                sidecars += _write_sidecars(job, file, result, placed, staging)
            committed = staging.commit()
    except EncoderError as exc:
        raise ExportError(str(exc)) from exc
    log.info("exported %d file(s): %s", len(committed), ", ".join(map(str, committed)))
    return ExportResult(tuple(results), tuple(sidecars),
                        tuple(settings.notes() + job.program.notes() + notes))


def _export_file(job: ExportJob, file: OutputFile, staging: Staging,
                 measured: tuple[Loudness, Levels], calibration: Calibration,
                 analysis: Analysis, keep_words: bool, tick: Callable[[int], None],
                 progress: Progress | None,
                 cancel: threading.Event | None) -> tuple[FileResult, list[_Placed]]:
    settings = job.settings
    temp = staging.stage(file.path)
    gain = file_gain(settings, measured) + calibration.gain_db
    ceiling = calibration.ceiling_db
    layout = _layout(job, file, analysis)
    rate = analysis.sample_rate
    head, tail = analysis.room_tone(settings, file)
    duration = (layout[-1].end if layout else head / rate) + tail / rate
    chapters = (_chapter_marks(layout, file, job.program.chapters, duration)
                if settings.file_format.chapters else ())
    # Stems keep the programme's gain and ceiling whatever they measure on their own, so
    # they add back up to the programme: no correction for them.
    attempts = 1 if file.shares_program_gain else MAX_ATTEMPTS
    for attempt in range(attempts):
        after, levels, frames, placed = _render_file(
            job, file, temp, analysis.match_db, gain, ceiling, analysis, keep_words, chapters,
            tick if attempt == 0 else _again(progress, file), cancel)
        gain_fix, ceiling_fix = _missed(settings, after, levels)
        if not (gain_fix or ceiling_fix) or attempt == attempts - 1 or ceiling is None:
            break
        log.info("%s: %+.2f dB gain, %+.2f dB ceiling, rendering again", file.path.name,
                 gain_fix, ceiling_fix)
        gain += gain_fix
        ceiling = max(CEILING_RANGE_DB[0], ceiling + ceiling_fix)
    metadata = job.metadata
    if file.title:
        metadata = replace(metadata, title=file.title, album=metadata.album or metadata.title)
    try:
        write_tags(temp, _TAG_CONTAINERS.get(settings.format, settings.format), metadata,
                   chapters)
    except (OSError, ValueError) as exc:
        raise ExportError(f"cannot tag {file.path.name}: {exc}") from exc
    report = None
    if settings.acx_check:
        # Checked on the file as written (decoded): its peaks after encoding, its
        # measured room tone, its format read from its frames.
        levels, written = scan_file(temp)
        report = acx_check(file.path.name, levels, **asdict(written))
    before = measured[0].for_channels(settings.channels)
    return FileResult(file.path, file.title, frames, analysis.sample_rate, before,
                      after, levels, gain, chapters,
                      report), placed


def _write_sidecars(job: ExportJob, file: OutputFile, result: FileResult,
                    placed: Sequence[_Placed], staging: Staging) -> list[Path]:
    wanted = job.settings.sidecars
    out: list[Path] = []

    def target(kind: str) -> Path:
        chosen = job.sidecar_paths.get(kind)
        if chosen is None:
            path = file.path.with_name(file.path.stem + SIDECAR_SUFFIXES[kind])
        elif job.settings.split == "program":
            path = chosen
        else:  # numbered as the audio file is: "CHOSEN - 03 - Title.srt"
            path = chosen.with_name(chosen.stem + file.path.stem[len(job.path.stem):]
                                    + chosen.suffix)
        out.append(path)
        return staging.stage(path)

    titles = job.program.chapters
    blocks: list[CaptionBlock] = []
    previous = -1
    for p in placed:
        if not file.plays(p.block):
            continue
        starts_chapter = p.block.chapter != previous and len(titles) > 1
        previous = p.block.chapter
        blocks.append(CaptionBlock(p.block.text, p.words, p.starts, p.ends, p.start, p.end,
                                   chapter=titles[p.block.chapter] if starts_chapter else None))
    if "srt" in wanted:
        write_srt(cues(blocks), target("srt"))
    if "vtt" in wanted:
        write_vtt(cues(blocks), target("vtt"))
    if "vtt_words" in wanted:
        write_vtt(cues(blocks), target("vtt_words"), word_level=True)
    if "txt" in wanted:
        write_transcript(blocks, target("txt"))
    if "words_json" in wanted:
        write_word_timings(blocks, target("words_json"))
    if result.chapters:
        if "labels" in wanted:
            write_audacity_labels(result.chapters, target("labels"))
        if "chapters_json" in wanted:
            write_podcast_chapters(result.chapters, target("chapters_json"),
                                   title=job.metadata.title)
    return out

