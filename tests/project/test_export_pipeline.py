"""The export pipeline end to end on real offline-engine speech, read back independently.

A project of six blocks (two voices, the second rendered at half volume, three
chapters) is rendered once for the module (``export_project``). Each test exports it through
:func:`studio.project.export_pipeline.export` and reads the result with tools the
studio does not use: the system's ``ffprobe`` and ``ffmpeg`` (5.1; the studio writes
through PyAV's FFmpeg 8 and soundfile), ``ffmpeg``'s ``ebur128`` filter for loudness
and true peak, mutagen for tags and chapters, srt and webvtt-py for captions. Expected
times are worked out from the takes' lengths and the project's pause, not taken from
the export's own report.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import av
import mutagen.id3
import mutagen.mp3
import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf
import srt
import webvtt
from export_project import (
    CHAPTERS,
    QUIET,
    SCRIPT,
    VOICE_NAMES,
    build_project,
    load_blocks,
)

from studio.audio.acx import Levels
from studio.audio.loudness import Loudness
from studio.audio.tags import Metadata
from studio.project.export_pipeline import ExportJob, FileResult, _missed_note, export
from studio.project.export_settings import (
    PRESETS,
    ExportCancelled,
    ExportError,
    ExportSettings,
    LoudnessTarget,
)
from studio.project.model import Block
from studio.project.program import Program, program_of

needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
    reason="the system ffmpeg and ffprobe are the independent checker")

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Book:
    """The rendered project and what an export of it must hold."""

    path: Path
    blocks: list[Block]
    program: Program
    pause: float

    @property
    def durations(self) -> list[float]:
        return [b.take.duration for b in self.program.blocks]

    def seconds(self, head: float = 0.0, tail: float = 0.0) -> float:
        """The programme's length with room tone: blocks, pauses, head and tail."""
        return head + sum(self.durations) + self.pause * (len(self.durations) - 1) + tail

    def starts(self, head: float = 0.0) -> list[float]:
        """Where each block starts on the export timeline, seconds."""
        starts, at = [], head
        for duration in self.durations:
            starts.append(at)
            at += duration + self.pause
        return starts

    def words(self, head: float = 0.0) -> list[tuple[str, float]]:
        """Every timestamp word, normalised, with its start on the export timeline."""
        out = []
        for start, block in zip(self.starts(head), self.program.blocks, strict=True):
            stamps = block.take.word_timestamps
            out += [(normal(w), start + s) for w, s in zip(stamps.words, stamps.start,
                                                           strict=True) if normal(w)]
        return out

    def quiet(self) -> tuple[float, float]:
        """Seconds the first take starts and the last take ends with below -50 dBFS
        (ACX's room-tone level), which count as room tone."""
        first, last = self.program.blocks[0].take, self.program.blocks[-1].take
        return (sound_edges(first.audio, first.sample_rate)[0],
                sound_edges(last.audio, last.sample_rate)[1])

    def chapter_starts(self, head: float = 0.0) -> list[float]:
        """Each chapter's start: the first at 0, the others at their first block."""
        starts = self.starts(head)
        firsts = [next(i for i, b in enumerate(self.program.blocks) if b.chapter == c)
                  for c in range(len(self.program.chapters))]
        return [0.0] + [starts[i] for i in firsts[1:]]


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory, isolated_dirs: Path) -> Book:
    path = build_project(tmp_path_factory.mktemp("book"))
    blocks, pause = load_blocks(path)
    return Book(path, blocks, program_of(blocks, pause), pause)


def normal(word: str) -> str:
    return "".join(ch for ch in word.casefold() if ch.isalnum())


# --- independent readers ------------------------------------------------------------

def ffprobe(path: Path) -> dict[str, Any]:
    done = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-show_format",
                           "-show_chapters", "-of", "json", str(path)],
                          check=True, capture_output=True, text=True)
    body: dict[str, Any] = json.loads(done.stdout)
    return body


def audio_stream(probe: dict[str, Any]) -> dict[str, Any]:
    streams = [s for s in probe["streams"] if s["codec_type"] == "audio"]
    assert len(streams) == 1, probe["streams"]
    return streams[0]


def decode(path: Path) -> FloatArray:
    """The first channel as float32, decoded by the system ffmpeg at the file's rate
    (gapless: ffmpeg drops an MP3's encoder delay and padding, an AAC's priming)."""
    done = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a:0",
                           "-af", "pan=mono|c0=c0", "-f", "f32le", "-"],
                          check=True, capture_output=True)
    return np.frombuffer(done.stdout, dtype="<f4")


_INTEGRATED = re.compile(r"I:\s+(-?\d+(?:\.\d+)?) LUFS")
_TRUE_PEAK = re.compile(r"Peak:\s+(-?\d+(?:\.\d+)?|-inf) dBFS")


def ebur128(path: Path, start: float | None = None,
            seconds: float | None = None) -> tuple[float, float]:
    """``(integrated loudness LUFS, true peak dBTP)`` by ffmpeg's ebur128 filter, of the
    whole file or of ``seconds`` from ``start``."""
    command = ["ffmpeg", "-nostats", "-hide_banner"]
    if start is not None and seconds is not None:
        command += ["-ss", f"{start:.6f}", "-t", f"{seconds:.6f}"]
    command += ["-i", str(path), "-map", "0:a:0", "-af", "ebur128=peak=true", "-f", "null",
                "-"]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    summary = done.stderr[done.stderr.rindex("Summary:"):]
    integrated = _INTEGRATED.search(summary)
    peak = _TRUE_PEAK.search(summary)
    assert integrated and peak, summary
    return float(integrated.group(1)), float(peak.group(1))


def sound_edges(audio: FloatArray, rate: int) -> tuple[float, float]:
    """Seconds of quiet (no sample above -50 dBFS, ACX's room-tone level) at the head
    and at the tail of ``audio``."""
    loud = np.flatnonzero(np.abs(audio) > 10 ** (-50 / 20))
    assert loud.size, "no sound"
    return loud[0] / rate, (audio.shape[0] - 1 - loud[-1]) / rate


def vtt_seconds(stamp: str) -> float:
    hours, minutes, seconds = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def listing(folder: Path) -> list[str]:
    """Every name in ``folder``, dot-files included."""
    return sorted(os.listdir(folder))


# --- 1. every format --------------------------------------------------------------------

#: name -> (settings, ffprobe codec, rate written, channels, codec frame in samples)
FORMAT_CASES: dict[str, tuple[ExportSettings, str, int, int, int]] = {
    "wav-16": (ExportSettings(format="wav", bit_depth=16), "pcm_s16le", 44100, 1, 1),
    "wav-24": (ExportSettings(format="wav", bit_depth=24, sample_rate=48000, channels=2),
               "pcm_s24le", 48000, 2, 1),
    "wav-32f": (ExportSettings(format="wav", bit_depth=32), "pcm_f32le", 44100, 1, 1),
    "flac": (ExportSettings(format="flac", bit_depth=24, channels=2), "flac", 44100, 2, 1),
    "mp3-cbr": (ExportSettings(format="mp3", bitrate_kbps=128), "mp3", 44100, 1, 1152),
    "mp3-vbr": (ExportSettings(format="mp3", vbr_quality=2, channels=2, sample_rate=48000),
                "mp3", 48000, 2, 1152),
    "opus": (ExportSettings(format="opus", bitrate_kbps=64, sample_rate=44100), "opus",
             48000, 1, 960),
    "m4a": (ExportSettings(format="m4a", bitrate_kbps=128, channels=2, sample_rate=48000),
            "aac", 48000, 2, 1024),
    "m4b": (ExportSettings(format="m4b", bitrate_kbps=64), "aac", 44100, 1, 1024),
}


@needs_ffmpeg
@pytest.mark.parametrize("case", list(FORMAT_CASES))
def test_every_format_reads_back_at_the_programmes_length_rate_and_channels(
        book: Book, tmp_path: Path, case: str) -> None:
    settings, codec, rate, channels, frame = FORMAT_CASES[case]
    path = tmp_path / f"book{settings.file_format.extension}"
    result = export(ExportJob(book.program, settings, path))

    assert [f.path for f in result.files] == [path] and listing(tmp_path) == [path.name]
    probe = ffprobe(path)
    stream = audio_stream(probe)
    assert stream["codec_name"] == codec
    assert int(stream["sample_rate"]) == rate
    assert stream["channels"] == channels
    expected = book.seconds()
    decoded = decode(path).shape[0]
    # PCM: at most a sample per block from resampling; a codec: one frame.
    assert abs(decoded - expected * rate) <= max(frame, len(book.durations))
    # The container's own duration may also count an MP3's encoder delay and padding
    # (ffprobe 5.1 does), which add up to less than two frames.
    assert abs(float(probe["format"]["duration"]) - expected) <= 2 * frame / rate + 1e-3
    if settings.format == "mp3":
        info = mutagen.mp3.MP3(path).info
        wanted = mutagen.mp3.BitrateMode.VBR if settings.vbr_quality is not None \
            else mutagen.mp3.BitrateMode.CBR
        assert info.bitrate_mode == wanted
        if settings.vbr_quality is None:
            assert round(info.bitrate / 1000) == settings.bitrate_kbps
    if rate != settings.sample_rate:
        assert any(f"{rate:,} Hz" in note and f"{settings.sample_rate:,} Hz" in note
                   for note in result.notes), result.notes


def programme_audio(book: Book, rate: int = 44100) -> FloatArray:
    """The takes in order with the pause between them, as recorded."""
    pieces = []
    for index, block in enumerate(book.program.blocks):
        assert block.take.sample_rate == rate
        if index:
            pieces.append(np.zeros(round(book.pause * rate), np.float32))
        pieces.append(block.take.audio)
    return np.concatenate(pieces)


def programme_offset(audio: FloatArray, book: Book) -> int:
    """Where the programme starts in an exported file whose samples are the takes'
    (lossless, no gain): found by the first take's first sample that is not zero."""
    take = book.program.blocks[0].take.audio
    offset = int(np.flatnonzero(audio)[0] - np.flatnonzero(take)[0])
    assert np.array_equal(audio[offset:offset + take.shape[0]], take)
    return offset


def test_room_tone_makes_the_quiet_asked_for_around_the_takes_sample_for_sample(
        book: Book, tmp_path: Path) -> None:
    path = tmp_path / "book.wav"
    export(ExportJob(book.program, ExportSettings(format="wav", bit_depth=32,
                                                  head_seconds=0.75, tail_seconds=2.0), path))
    audio, rate = sf.read(path, dtype="float32")
    programme = programme_audio(book)
    offset = programme_offset(audio, book)
    assert np.array_equal(audio[offset:offset + programme.shape[0]], programme)
    assert not audio[:offset].any() and not audio[offset + programme.shape[0]:].any()
    # The room tone counts the quiet the first and last takes already have (ACX measures
    # all of it), so the file starts and ends with the seconds asked for in all.
    head, tail = sound_edges(audio, rate)
    assert head == pytest.approx(0.75, abs=0.015) and tail == pytest.approx(2.0, abs=0.015)
    lead, trail = book.quiet()
    assert audio.shape[0] / rate == pytest.approx(
        book.seconds(0.75 - lead, 2.0 - trail), abs=0.02)


# --- 2. loudness presets ------------------------------------------------------------

@pytest.fixture(scope="module")
def exported(book: Book, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``exported(case)``: the programme exported as :data:`PRESET_CASES` ``[case]`` says,
    once for the module (the loudness and chapter tests read the same files)."""
    folder = tmp_path_factory.mktemp("presets")
    files: dict[str, Path] = {}

    def get(case: str) -> Path:
        if case not in files:
            settings = PRESET_CASES[case][0]
            name = f"{case}{settings.file_format.extension}"
            result = export(ExportJob(book.program, settings, folder / name,
                                      Metadata(title=f"The {case}")))
            (files[case],) = (f.path for f in result.files)
        return files[case]

    return get


#: case -> (settings, loudness target LUFS, true-peak ceiling dBTP)
PRESET_CASES: dict[str, tuple[ExportSettings, float, float]] = {
    "youtube": (PRESETS["youtube"].settings, -14.0, -1.0),
    "podcast": (replace(PRESETS["podcast"].settings,
                        sidecars=frozenset({"chapters_json", "labels"})), -16.0, -1.0),
    "podcast-mono": (replace(PRESETS["podcast"].settings, channels=1), -19.0, -1.0),
    "broadcast": (PRESETS["broadcast"].settings, -23.0, -1.0),
    "m4b": (PRESETS["m4b"].settings, -18.0, -1.0),
}


@needs_ffmpeg
@pytest.mark.parametrize("case", list(PRESET_CASES))
def test_each_loudness_preset_lands_on_its_target_under_its_ceiling(
        exported: Callable[[str], Path], case: str) -> None:
    settings, target, ceiling = PRESET_CASES[case]
    path = exported(case)

    integrated, true_peak = ebur128(path)
    assert abs(integrated - target) <= 0.5, (integrated, target)
    assert true_peak <= ceiling, (true_peak, ceiling)
    stream = audio_stream(ffprobe(path))
    assert (int(stream["sample_rate"]), stream["channels"]) == (settings.encoded_sample_rate,
                                                                settings.channels)


def test_a_target_the_ceiling_keeps_out_of_reach_is_reported_not_missed_in_silence(
        book: Book, tmp_path: Path) -> None:
    # -6 LUFS of speech under a -1 dBTP ceiling: the limiter holds it down.
    settings = ExportSettings(format="wav", bit_depth=24,
                              loudness=LoudnessTarget("lufs", -6.0, -1.0))
    result = export(ExportJob(book.program, settings, tmp_path / "loud.wav"))

    integrated, true_peak = ebur128(tmp_path / "loud.wav")
    assert integrated < -6.5
    # Limited this hard, the inter-sample peaks of a sample-peak limiter may still pass
    # the ceiling (by 0.1 dB in one run of the offline engine's varying takes): then the
    # export says so too.
    assert true_peak <= -1.0 or any("loud.wav peaks at" in n for n in result.notes), (
        true_peak, result.notes)
    assert any("loud.wav reached" in n and "not -6 LUFS" in n and "-1 dBTP peak ceiling" in n
               for n in result.notes), result.notes


def test_a_file_the_codec_pushed_over_its_ceiling_says_so() -> None:
    target = LoudnessTarget("lufs", -18.0, -1.0)
    settings = ExportSettings(format="m4b", channels=1, bitrate_kbps=64, loudness=target)
    levels = Levels(-20.0, -2.0, -70.0, 10.0, 0.5, 1.0)
    over = FileResult(Path("book.m4b"), "", 441000, 44100,
                      Loudness(-18.0, 1.0, -0.9, 10.0), Loudness(-18.1, 1.0, -0.2, 10.0),
                      levels, 0.0)
    notes = _missed_note(settings, over)
    assert notes == [("book.m4b peaks at -0.2 dBTP, over the -1 dBTP ceiling: the encoder "
                      "overshoots; a higher bit rate or a lossless format avoids it")]
    under = replace(over, after=Loudness(-18.1, 1.0, -1.02, 10.0))
    assert _missed_note(settings, under) == []


# --- 3. level matching ----------------------------------------------------------------

@needs_ffmpeg
def test_level_matching_lifts_the_quiet_blocks_to_their_neighbours(
        book: Book, tmp_path: Path) -> None:
    starts, durations = book.starts(), book.durations

    def block_loudness(level_match: bool) -> list[float]:
        settings = replace(PRESETS["broadcast"].settings, level_match=level_match)
        path = tmp_path / f"matched-{level_match}.wav"
        export(ExportJob(book.program, settings, path))
        return [ebur128(path, starts[i], durations[i])[0] for i in range(len(starts))]

    def below_neighbours(loudness: list[float]) -> list[float]:
        return [float(np.mean([loudness[i - 1], loudness[i + 1]])) - loudness[i]
                for i in QUIET]

    matched = block_loudness(True)
    assert all(abs(gap) <= 1.0 for gap in below_neighbours(matched)), matched
    as_read = block_loudness(False)  # rendered at half volume: about 6 dB down
    assert all(gap > 3.0 for gap in below_neighbours(as_read)), as_read


# --- 4. ACX, one file per chapter -----------------------------------------------------

@needs_ffmpeg
def test_acx_preset_writes_one_passing_file_per_chapter_with_room_tone(
        book: Book, tmp_path: Path) -> None:
    settings = PRESETS["acx"].settings
    result = export(ExportJob(book.program, settings, tmp_path / "book.mp3",
                              Metadata(title="A Short Story")))

    names = [f"book - {i:02d} - {title}.mp3" for i, title in enumerate(CHAPTERS, 1)]
    assert [f.path.name for f in result.files] == names
    assert listing(tmp_path) == names
    assert result.passed_acx
    for index, file in enumerate(result.files):
        assert file.acx is not None and file.acx.passed, file.acx
        assert file.title == CHAPTERS[index]
        info = mutagen.mp3.MP3(file.path).info
        assert (info.bitrate_mode, round(info.bitrate / 1000), info.sample_rate,
                info.channels) == (mutagen.mp3.BitrateMode.CBR, 192, 44100, 1)
        # ACX's rules measured here, on ffmpeg's decoding of the file.
        audio = decode(file.path)
        rms = 10 * math.log10(float(np.mean(audio.astype(np.float64) ** 2)))
        assert -23.0 <= rms <= -18.0
        assert 20 * math.log10(float(np.max(np.abs(audio)))) <= -3.0
        head, tail = sound_edges(audio, 44100)
        assert 0.5 <= head <= 1.0 and 1.0 <= tail <= 5.0, (head, tail)
        assert head == pytest.approx(0.75, abs=0.02) and tail == pytest.approx(2.0, abs=0.02)
        # The chapter's blocks and pauses, with the room tone less the takes' own quiet.
        chapter = book.program.chapter_blocks(index)
        lead = sound_edges(chapter[0].take.audio, 44100)[0]
        trail = sound_edges(chapter[-1].take.audio, 44100)[1]
        seconds = (sum(b.take.duration for b in chapter) + book.pause * (len(chapter) - 1)
                   + 0.75 - lead + 2.0 - trail)
        assert abs(audio.shape[0] / 44100 - seconds) <= 1152 / 44100 + 0.02


def test_a_loud_export_fails_the_acx_check_naming_rms_and_peak(
        book: Book, tmp_path: Path) -> None:
    loud = replace(PRESETS["acx"].settings, split="program",
                   loudness=LoudnessTarget("rms", -12.0, 0.0))
    result = export(ExportJob(book.program, loud, tmp_path / "loud.mp3"))

    assert not result.passed_acx
    report = result.files[0].acx
    assert report is not None and not report.passed
    failed = {f.name for f in report.findings if not f.passed}
    assert failed == {"RMS", "Peak"}, report
    assert "FAIL" in report.lines()[0]
    assert any(line.strip().startswith("RMS") for line in report.lines()[1:])
    assert any(line.strip().startswith("Peak") for line in report.lines()[1:])


# --- 5. captions ------------------------------------------------------------------------

def _check_cues(book: Book, cues: list[tuple[float, float, list[str]]], head: float) -> None:
    """Cues monotonic, 1-2 lines of at most 42 characters, 1-7 s on screen (shorter
    only where captions.cues allows: cut off by the next cue or the block's end), their
    words the programme's in order, each starting with its first word."""
    words = book.words(head)
    block_ends = [s + d for s, d in zip(book.starts(head), book.durations, strict=True)]
    block_starts = book.starts(head)
    at = 0
    for index, (start, end, lines) in enumerate(cues):
        assert 1 <= len(lines) <= 2 and all(0 < len(line) <= 42 for line in lines), lines
        assert start < end <= start + 7.0 + 1e-3
        following = cues[index + 1][0] if index + 1 < len(cues) else math.inf
        assert end <= following + 1e-3, "cues overlap"
        if end - start < 1.0 - 1e-3:
            limits = [following] + [min(e + 0.5, s) for e, s in
                                    zip(block_ends, [*block_starts[1:], math.inf],
                                        strict=True)]
            assert any(abs(end - limit) <= 1e-3 for limit in limits), (start, end, lines)
        shown = [normal(w) for line in lines for w in line.split() if normal(w)]
        assert shown == [w for w, _ in words[at:at + len(shown)]], (lines, at)
        assert abs(start - words[at][1]) <= 0.05, (lines, start, words[at])
        at += len(shown)
    assert at == len(words), "every word is captioned"


def test_captions_are_readable_cover_every_word_and_follow_the_audio(
        book: Book, tmp_path: Path) -> None:
    settings = ExportSettings(format="wav", bit_depth=32, head_seconds=1.0, tail_seconds=1.0,
                              sidecars=frozenset({"srt", "vtt", "vtt_words", "txt"}))
    result = export(ExportJob(book.program, settings, tmp_path / "book.wav"))
    audio, rate = sf.read(tmp_path / "book.wav", dtype="float32")
    head = programme_offset(audio, book) / rate  # where the first take's audio begins

    names = ["book.srt", "book.vtt", "book.words.vtt", "book.txt"]
    assert sorted(p.name for p in result.sidecars) == sorted(names)
    assert listing(tmp_path) == sorted(["book.wav", *names])

    subtitles = list(srt.parse((tmp_path / "book.srt").read_text(encoding="utf-8")))
    assert [s.index for s in subtitles] == list(range(1, len(subtitles) + 1))
    _check_cues(book, [(s.start.total_seconds(), s.end.total_seconds(),
                        s.content.split("\n")) for s in subtitles], head)

    captions = webvtt.read(str(tmp_path / "book.vtt")).captions
    vtt_cues = [(vtt_seconds(c.start), vtt_seconds(c.end), c.text.split("\n"))
                for c in captions]
    _check_cues(book, vtt_cues, head)
    assert vtt_cues == [(s.start.total_seconds(), s.end.total_seconds(),
                         s.content.split("\n")) for s in subtitles]

    # Karaoke: a timestamp before every word but a cue's first, at the word's start.
    words = book.words(head)
    at = 0
    token = re.compile(r"<(\d\d:\d\d:\d\d\.\d\d\d)>|([^\s<]+)")
    for caption in webvtt.read(str(tmp_path / "book.words.vtt")).captions:
        assert "<00:00:" in caption.raw_text
        stamp: float | None = None
        first = True
        for found in token.finditer(caption.raw_text):
            if found.group(1):
                stamp = vtt_seconds(found.group(1))
                assert vtt_seconds(caption.start) < stamp < vtt_seconds(caption.end)
                continue
            if not normal(found.group(2)):
                continue
            assert normal(found.group(2)) == words[at][0]
            if first:
                assert stamp is None
            else:
                assert stamp is not None and abs(stamp - words[at][1]) <= 0.002, found
            stamp, first, at = None, False, at + 1
    assert at == len(words)

    transcript = (tmp_path / "book.txt").read_text(encoding="utf-8")
    paragraphs = [p for p in transcript.split("\n\n") if p.strip()]
    assert len(paragraphs) == len(SCRIPT)
    for paragraph, line in zip(paragraphs, SCRIPT, strict=True):
        expected = f"{line.chapter}\n{line.text}" if line.chapter else line.text
        assert paragraph.strip() == expected


# --- 6. chapters ----------------------------------------------------------------------

@needs_ffmpeg
def test_m4b_chapters_read_back_with_pyav_and_ffprobe(
        book: Book, exported: Callable[[str], Path]) -> None:
    path = exported("m4b")
    # The preset's 0.5 s of room tone less the quiet the first take starts with (the
    # M4B's own decoding cannot place it to the millisecond: AAC smears the onset).
    head = 0.5 - book.quiet()[0]
    expected = book.chapter_starts(head)
    with av.open(str(path)) as container:
        chapters = container.chapters()
    probed = ffprobe(path)
    for starts in ([float(c["start"] * c["time_base"]) for c in chapters],
                   [float(c["start_time"]) for c in probed["chapters"]]):
        assert starts[0] == 0.0
        assert starts[1:] == pytest.approx(expected[1:], abs=0.015)
        # Between chapters, to the millisecond: the blocks and pauses in between.
        assert np.diff(starts[1:]) == pytest.approx(np.diff(expected[1:]), abs=0.001)
    assert [c["metadata"]["title"] for c in chapters] == list(CHAPTERS)
    assert [c["tags"]["title"] for c in probed["chapters"]] == list(CHAPTERS)
    assert float(probed["chapters"][-1]["end_time"]) == pytest.approx(
        float(probed["format"]["duration"]), abs=1024 / 44100)


@needs_ffmpeg
def test_mp3_chapters_read_back_with_mutagen_and_ffprobe(
        book: Book, exported: Callable[[str], Path]) -> None:
    path = exported("podcast")
    expected = book.chapter_starts()
    tags = mutagen.id3.ID3(path)
    frames = sorted(tags.getall("CHAP"), key=lambda f: f.start_time)
    assert [f.sub_frames["TIT2"].text[0] for f in frames] == list(CHAPTERS)
    assert [f.start_time / 1000 for f in frames] == pytest.approx(expected, abs=0.001)
    assert [f.end_time / 1000 for f in frames[:-1]] == pytest.approx(expected[1:], abs=0.001)
    (toc,) = tags.getall("CTOC")
    assert toc.child_element_ids == [f.element_id for f in frames]
    probed = ffprobe(path)["chapters"]
    assert [c["tags"]["title"] for c in probed] == list(CHAPTERS)
    assert [float(c["start_time"]) for c in probed] == pytest.approx(expected, abs=0.001)


def test_podcast_chapters_json_and_audacity_labels_are_written_beside_the_mp3(
        book: Book, exported: Callable[[str], Path]) -> None:
    folder = exported("podcast").parent
    expected = book.chapter_starts()
    document = json.loads((folder / "podcast.chapters.json").read_text(encoding="utf-8"))
    assert document["version"] == "1.2.0" and document["title"] == "The podcast"
    assert [c["title"] for c in document["chapters"]] == list(CHAPTERS)
    assert [c["startTime"] for c in document["chapters"]] == pytest.approx(expected, abs=0.001)
    assert document["chapters"][-1]["endTime"] == pytest.approx(book.seconds(), abs=0.002)
    labels = [line.split("\t") for line in
              (folder / "podcast.labels.txt").read_text(encoding="utf-8").splitlines()]
    assert [title for _, _, title in labels] == list(CHAPTERS)
    assert [float(start) for start, _, _ in labels] == pytest.approx(expected, abs=1e-5)
    assert [float(end) for _, end, _ in labels[:-1]] == pytest.approx(expected[1:], abs=1e-5)
    assert not [n for n in listing(folder) if n.startswith(".")]


# --- 8. cancel and failure ----------------------------------------------------------------

def test_cancel_while_measuring_leaves_nothing(book: Book, tmp_path: Path) -> None:
    cancel = threading.Event()
    stages: list[str] = []

    def progress(stage: str, _fraction: float) -> None:
        stages.append(stage)
        cancel.set()

    with pytest.raises(ExportCancelled):
        export(ExportJob(book.program, PRESETS["podcast"].settings, tmp_path / "show.mp3"),
               progress=progress, cancel=cancel)
    assert stages[0] == "Measuring" and "Encoding" not in stages
    assert listing(tmp_path) == []


def test_cancel_midway_through_encoding_removes_the_files_already_staged(
        book: Book, tmp_path: Path) -> None:
    cancel = threading.Event()
    seen_when_cancelled: list[str] = []
    settings = replace(PRESETS["acx"].settings, sidecars=frozenset({"srt"}))

    def progress(stage: str, _fraction: float) -> None:
        names = listing(tmp_path)
        first_done = any(n.startswith(".book - 01 - Arrival.srt.") for n in names)
        if stage == "Encoding" and first_done and not cancel.is_set():
            seen_when_cancelled.extend(names)  # while the second chapter is encoded
            cancel.set()

    with pytest.raises(ExportCancelled):
        export(ExportJob(book.program, settings, tmp_path / "book.mp3"), progress=progress,
               cancel=cancel)
    # The first chapter's MP3 and captions were staged when the cancel came...
    assert any(n.startswith(".book - 01 - Arrival.mp3.") for n in seen_when_cancelled)
    assert not any(n.startswith(".book - 03 - ") for n in seen_when_cancelled)
    # ...and are gone with everything else.
    assert listing(tmp_path) == []


def test_an_encoder_failure_midway_leaves_nothing(
        book: Book, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = sf.SoundFile.write

    def full_disk(self: sf.SoundFile, data: Any) -> None:
        if " - 02 - " in self.name:  # the second chapter's file: the first is staged
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(self, data)

    monkeypatch.setattr(sf.SoundFile, "write", full_disk)
    settings = ExportSettings(format="wav", split="chapter", sidecars=frozenset({"txt"}))
    with pytest.raises(ExportError, match="No space left on device"):
        export(ExportJob(book.program, settings, tmp_path / "book.wav"))
    assert listing(tmp_path) == []


# --- 10. stems --------------------------------------------------------------------------

def test_voice_stems_are_as_long_as_the_programme_and_silent_where_others_speak(
        book: Book, tmp_path: Path) -> None:
    settings = replace(PRESETS["podcast"].settings, format="wav", bit_depth=32, channels=1,
                       split="voice", sidecars=frozenset())
    result = export(ExportJob(book.program, settings, tmp_path / "stem.wav"),
                    voice_names=VOICE_NAMES)

    assert listing(tmp_path) == ["stem - 01 - Avery.wav", "stem - 02 - Marcus.wav"]
    rate = 44100
    frames = round(book.seconds() * rate)
    spans = [(round(s * rate), round((s + d) * rate))
             for s, d in zip(book.starts(), book.durations, strict=True)]
    for file, voice in zip(result.files, ("Avery", "Marcus"), strict=True):
        audio, file_rate = sf.read(file.path, dtype="float32")
        assert file_rate == rate and abs(audio.shape[0] - frames) <= len(spans)
        for (begin, end), line in zip(spans, SCRIPT, strict=True):
            piece = audio[begin:end]
            level = 20 * math.log10(float(np.sqrt(np.mean(piece.astype(np.float64) ** 2)))
                                    or 1e-12)
            if VOICE_NAMES[line.voice] == voice:
                assert level > -40.0, (file.path.name, line.text)
            else:  # the limiter's look-ahead may reach a few ms into a neighbour
                inner = piece[rate // 50:-rate // 50]
                assert float(np.max(np.abs(inner))) < 1e-4, (file.path.name, line.text)


def test_block_stems_are_one_file_per_block(book: Book, tmp_path: Path) -> None:
    settings = ExportSettings(format="flac", split="block")
    result = export(ExportJob(book.program, settings, tmp_path / "take.flac"))

    assert len(result.files) == len(SCRIPT) == len(listing(tmp_path))
    for number, (file, block) in enumerate(zip(result.files, book.program.blocks,
                                               strict=True), 1):
        assert file.path.name.startswith(f"take - {number:02d} - ")
        audio, rate = sf.read(file.path, dtype="float32")
        assert rate == 44100 and audio.shape[0] == block.take.frames
        assert np.allclose(audio, block.take.audio, atol=1.5 / 32768)


# --- the programme ------------------------------------------------------------------------

def test_chapters_come_from_the_blocks_marks_and_skip_blocks_without_takes(
        book: Book) -> None:
    assert book.program.chapters == CHAPTERS
    assert [b.chapter for b in book.program.blocks] == [0, 0, 1, 1, 1, 2]
    # A mark on a block without a take starts its chapter at the next block that has one.
    blocks = [copy_block(b) for b in book.blocks]
    blocks[3].chapter, blocks[3].selected_take_id = "Fourth", None
    program = program_of(blocks, book.pause)
    assert program.chapters == ("Arrival", "The Middle", "Fourth", "Ending")
    assert [b.number for b in program.blocks] == [1, 2, 3, 5, 6]
    assert [b.chapter for b in program.blocks] == [0, 0, 1, 2, 3]
    assert program.skipped == 1 and "1 block without a take left out" in program.notes()


def copy_block(block: Block) -> Block:
    copy = Block(text=block.text, voice_id=block.voice_id, chapter=block.chapter)
    copy.takes.extend(block.takes)
    copy.selected_take_id = block.selected_take_id
    return copy
