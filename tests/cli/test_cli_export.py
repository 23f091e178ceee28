"""``cartesia-studio export`` and ``render``'s delivery options, as a user runs them.

The project is real offline-engine speech (``export_project``: six blocks, two voices,
three chapters). Runs whose report matters go through a subprocess, the real entry
point; argument checks and runs judged only by their files call :func:`studio.cli.main`
in this process, which is the same code without the interpreter's start-up. Files are
read back with the system's ffprobe/ffmpeg (not the FFmpeg the studio links), mutagen,
soundfile and srt.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

import mutagen.id3
import mutagen.mp4
import pytest
import soundfile as sf
import srt
import webvtt
from export_project import CHAPTERS, PAUSE, SCRIPT, build_project, load_blocks, run_cli

from studio.cli import main
from studio.project.model import Block
from studio.project.store import ProjectStore, script_rows

needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
    reason="the system ffmpeg and ffprobe are the independent checker")


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory, isolated_dirs: Path) -> Path:
    return build_project(tmp_path_factory.mktemp("book"))


@pytest.fixture(scope="module")
def programme_seconds(book: Path) -> float:
    blocks, pause = load_blocks(book)
    assert pause == PAUSE
    return sum(b.selected_take.duration for b in blocks if b.selected_take) \
        + pause * (len(blocks) - 1)


def listing(folder: Path) -> list[str]:
    """Every name in ``folder``, dot-files included."""
    return sorted(os.listdir(folder))


def ffprobe_stream(path: Path) -> dict[str, Any]:
    done = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_streams",
                           "-of", "json", str(path)], check=True, capture_output=True, text=True)
    stream: dict[str, Any] = json.loads(done.stdout)["streams"][0]
    return stream


def ebur128(path: Path) -> tuple[float, float]:
    """``(integrated LUFS, true peak dBTP)`` by the system ffmpeg's ebur128 filter."""
    done = subprocess.run(["ffmpeg", "-nostats", "-hide_banner", "-i", str(path), "-map",
                           "0:a:0", "-af", "ebur128=peak=true", "-f", "null", "-"],
                          check=True, capture_output=True, text=True)
    summary = done.stderr[done.stderr.rindex("Summary:"):]
    integrated = re.search(r"I:\s+(-?\d+\.\d) LUFS", summary)
    peak = re.search(r"Peak:\s+(-?\d+\.\d) dBFS", summary)
    assert integrated and peak, summary
    return float(integrated.group(1)), float(peak.group(1))


def png(width: int = 4, height: int = 3) -> bytes:
    """A valid RGB PNG."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))

    rows = b"".join(b"\0" + b"\x80\x20\x20" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                                0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


# --- ACX and files per chapter ------------------------------------------------------------

def test_acx_preset_writes_a_passing_file_per_chapter_and_check_exits_0(
        book: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    done = run_cli("export", str(book), "-o", str(out / "story.mp3"), "--preset", "acx",
                   "--check", "acx", "--title", "A Short Story", "--author", "Ann Author",
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    names = [f"story - {i:02d} - {title}.mp3" for i, title in enumerate(CHAPTERS, 1)]
    assert listing(out) == names
    assert done.stdout.count(": PASS") == len(names) and "FAIL" not in done.stdout
    for name, title in zip(names, CHAPTERS, strict=True):
        assert f"Wrote {out / name}" in done.stdout
        tags = mutagen.id3.ID3(out / name)
        # A file per chapter is titled by its chapter, in the book named by --title.
        assert tags["TIT2"].text == [title] and tags["TALB"].text == ["A Short Story"]
        assert tags["TPE1"].text == ["Ann Author"]


def test_a_loud_export_fails_the_acx_check_with_exit_1_naming_rms_and_peak(
        book: Path, tmp_path: Path) -> None:
    done = run_cli("export", str(book), "-o", str(tmp_path / "loud.mp3"), "--bitrate", "192",
                   "--loudness", "-10", "--check", "acx", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "a file fails the ACX check" in done.stderr
    findings = re.findall(r"^\s+(RMS|Peak) -?\d+\.\d+ dB: (Lower the level|Peaks reach)",
                          done.stdout, re.MULTILINE)
    assert findings == [("RMS", "Lower the level"), ("Peak", "Peaks reach")], done.stdout
    assert "loud.mp3: FAIL" in done.stdout
    assert listing(tmp_path) == ["loud.mp3"]  # a failed check reports on a file written


# --- tags --------------------------------------------------------------------------------

TAG_OPTIONS = ("--title", "The Quiet Story", "--author", "Ann Author", "--narrator",
               "Ned Narrator", "--album", "Stories", "--year", "2025", "--genre", "Audiobook",
               "--comment", "Read by the offline engine.")


@needs_ffmpeg
def test_tags_and_cover_read_back_from_mp3(book: Path, tmp_path: Path) -> None:
    cover = tmp_path / "cover.png"
    cover.write_bytes(png())
    out = tmp_path / "show.mp3"
    assert main(["export", str(book), "-o", str(out), "--preset", "podcast", "--loudness",
                 "off", *TAG_OPTIONS, "--cover", str(cover)]) == 0
    tags = mutagen.id3.ID3(out)
    assert tags.version[:2] == (2, 3)
    assert tags["TIT2"].text == ["The Quiet Story"]
    assert tags["TPE1"].text == ["Ann Author"] and tags["TPE2"].text == ["Ann Author"]
    assert tags["TCOM"].text == ["Ned Narrator"]
    assert tags["TXXX:NARRATOR"].text == ["Ned Narrator"]
    assert tags["TALB"].text == ["Stories"]
    assert str(tags["TDRC"].text[0]) == "2025"
    assert tags["TCON"].text == ["Audiobook"]
    assert tags["COMM::eng"].text == ["Read by the offline engine."]
    (picture,) = tags.getall("APIC")
    assert (picture.data, picture.mime, picture.type) == (
        cover.read_bytes(), "image/png", mutagen.id3.PictureType.COVER_FRONT)
    # The tags did not disturb the audio: still the whole programme, decodable.
    stream = ffprobe_stream(out)
    assert (stream["codec_name"], int(stream["sample_rate"])) == ("mp3", 44100)


def test_tags_and_cover_read_back_from_m4b(book: Path, tmp_path: Path) -> None:
    cover = tmp_path / "cover.png"
    cover.write_bytes(png())
    out = tmp_path / "book.m4b"
    assert main(["export", str(book), "-o", str(out), "--preset", "m4b", "--loudness", "off",
                 *TAG_OPTIONS, "--cover", str(cover)]) == 0
    tags = mutagen.mp4.MP4(out).tags
    assert tags is not None
    assert tags["©nam"] == ["The Quiet Story"]
    assert tags["©ART"] == ["Ann Author"] and tags["aART"] == ["Ann Author"]
    assert tags["©wrt"] == ["Ned Narrator"]
    assert [bytes(v) for v in tags["----:com.apple.iTunes:NARRATOR"]] == [b"Ned Narrator"]
    assert tags["©alb"] == ["Stories"] and tags["©day"] == ["2025"]
    assert tags["©gen"] == ["Audiobook"] and tags["©cmt"] == ["Read by the offline engine."]
    assert tags["stik"] == [2]  # an audiobook
    (picture,) = tags["covr"]
    assert bytes(picture) == cover.read_bytes()
    assert picture.imageformat == mutagen.mp4.MP4Cover.FORMAT_PNG


# --- files beside the audio ----------------------------------------------------------------

def test_sidecar_options_write_each_file_where_it_is_asked(
        book: Path, tmp_path: Path, programme_seconds: float) -> None:
    (tmp_path / "subs").mkdir()
    out = tmp_path / "show.mp3"
    code = main(["export", str(book), "-o", str(out), "--room-tone", "0.5", "1",
                 "--captions", str(tmp_path / "subs" / "show.srt"),
                 "--word-captions", str(tmp_path / "subs" / "karaoke.vtt"),
                 "--transcript", str(tmp_path / "script.txt"),
                 "--chapters-json", str(tmp_path / "chapters.json"),
                 "--labels", str(tmp_path / "labels.txt")])
    assert code == 0
    assert listing(tmp_path) == ["chapters.json", "labels.txt", "script.txt", "show.mp3",
                                 "subs"]
    assert listing(tmp_path / "subs") == ["karaoke.vtt", "show.srt"]

    cues = list(srt.parse((tmp_path / "subs" / "show.srt").read_text(encoding="utf-8")))
    assert cues[0].start.total_seconds() == pytest.approx(0.5, abs=0.05)  # after the head
    assert cues[-1].end.total_seconds() <= programme_seconds + 0.5 + 1.0
    spoken = " ".join(c.content for c in cues).split()
    assert len(spoken) == sum(len(p.text.split()) for p in SCRIPT)
    karaoke = webvtt.read(str(tmp_path / "subs" / "karaoke.vtt")).captions
    assert len(karaoke) == len(cues) and all("<00:00:" in c.raw_text for c in karaoke)
    transcript = (tmp_path / "script.txt").read_text(encoding="utf-8")
    assert all(p.text in transcript for p in SCRIPT)
    chapters = json.loads((tmp_path / "chapters.json").read_text(encoding="utf-8"))
    assert [c["title"] for c in chapters["chapters"]] == list(CHAPTERS)
    labels = (tmp_path / "labels.txt").read_text(encoding="utf-8").splitlines()
    assert [line.split("\t")[2] for line in labels] == list(CHAPTERS)


# --- stems --------------------------------------------------------------------------------

def test_stems_per_voice_are_programme_long_and_per_block_one_a_block(
        book: Path, tmp_path: Path, programme_seconds: float) -> None:
    voices = tmp_path / "voices"
    voices.mkdir()
    assert main(["export", str(book), "-o", str(voices / "stem.wav"), "--stems", "voice"]) == 0
    names = listing(voices)
    assert len(names) == 2
    assert names[0].startswith("stem - 01 - ") and names[1].startswith("stem - 02 - ")
    for name in names:
        info = sf.info(voices / name)
        assert abs(info.frames - programme_seconds * info.samplerate) <= len(SCRIPT)

    blocks = tmp_path / "blocks"
    blocks.mkdir()
    assert main(["export", str(book), "-o", str(blocks / "take.flac"), "--stems",
                 "block"]) == 0
    names = listing(blocks)
    assert [n[:12] for n in names] == [f"take - {i:02d} - " for i in range(1, len(SCRIPT) + 1)]
    assert all(n.endswith(".flac") for n in names)


# --- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("option", [("--preset", "spotify"), ("--format", "aiff")],
                         ids=["preset", "format"])
def test_unknown_preset_or_format_is_a_usage_error(
        book: Path, tmp_path: Path, option: tuple[str, str],
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["export", str(book), "-o", str(tmp_path / "out.mp3"), *option])
    assert exited.value.code == 2
    assert f"invalid choice: '{option[1]}'" in capsys.readouterr().err
    assert listing(tmp_path) == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [(["-o", "out.mp3", "--format", "flac"], "has the extension of MP3 but --format is FLAC"),
     (["-o", "out.xyz"], "unknown extension .xyz"),
     (["-o", "out.mp3", "--loudness", "-41"], "must be between -40 and -5, not -41"),
     (["-o", "out.mp3", "--loudness", "-4.5"], "must be between -40 and -5, not -4.5"),
     (["-o", "out.mp3", "--loudness", "loud"], "--loudness must be a number"),
     (["-o", "out.opus", "--vbr", "2"], "Ogg Opus has no VBR quality setting"),
     (["-o", "out.mp3", "--sample-rate", "96000"], "MP3 cannot be written at 96,000 Hz"),
     (["-o", "out.mp3", "--captions", "out.ass"], "captions are .srt or .vtt"),
     (["-o", "missing/out.mp3"], "the folder missing does not exist"),
     (["-o", "folder.mp3"], "folder.mp3 is a folder")],
    ids=["contradicting-extension", "unknown-extension", "too-quiet", "too-loud",
         "not-a-number", "opus-vbr", "mp3-rate", "caption-format", "no-folder", "a-folder"])
def test_bad_arguments_exit_2_with_a_message_and_write_nothing(
        book: Path, tmp_path: Path, arguments: list[str], message: str,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder.mp3").mkdir()
    assert main(["export", str(book), *arguments]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert listing(tmp_path) == ["folder.mp3"] and listing(tmp_path / "folder.mp3") == []


@pytest.mark.parametrize(("content", "message"),
                         [(b"GIF89a" + bytes(40), "is a GIF image; use a JPEG or PNG"),
                          (None, "could not be found")], ids=["not-an-image", "missing"])
def test_an_unusable_cover_exits_2_naming_it(
        book: Path, tmp_path: Path, content: bytes | None, message: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    cover = tmp_path / "front.gif"
    if content is not None:
        cover.write_bytes(content)
    assert main(["export", str(book), "-o", str(tmp_path / "out.mp3"), "--cover",
                 str(cover)]) == 2
    err = capsys.readouterr().err
    assert "front.gif" in err and message in err
    assert not (tmp_path / "out.mp3").exists()


def test_a_file_that_is_not_a_project_exits_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes = tmp_path / "notes.cstudio"
    notes.write_bytes(b"These are my notes, not a project.\n" * 20)
    assert main(["export", str(notes), "-o", str(tmp_path / "out.mp3")]) == 2
    assert "not a Cartesia Studio project" in capsys.readouterr().err
    assert listing(tmp_path) == ["notes.cstudio"]


def test_a_project_without_takes_exits_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.cstudio"
    store = ProjectStore.create(empty)
    try:
        store.write_script(script_rows([Block(text="Not rendered yet.", voice_id="v"),
                                        Block(text="Nor this one.", voice_id="v")]))
    finally:
        store.close()
    assert main(["export", str(empty), "-o", str(tmp_path / "out.mp3")]) == 2
    assert "no block has a selected take" in capsys.readouterr().err
    assert not (tmp_path / "out.mp3").exists()


def _copy_project(source: Path, target: Path) -> Path:
    """A copy of the module's project to damage (SQLite's backup: WAL included)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return target


def test_a_take_that_cannot_be_read_exits_1_and_writes_nothing(
        book: Path, tmp_path: Path) -> None:
    project = _copy_project(book, tmp_path / "damaged.cstudio")
    db = sqlite3.connect(project)
    try:
        (audio_id,) = db.execute(
            "SELECT t.audio_id FROM blocks b JOIN takes t ON t.id = b.selected_take_id "
            "WHERE b.deleted = 0 ORDER BY b.position LIMIT 1 OFFSET 3").fetchone()
        db.execute("UPDATE audio_blocks SET data = ? WHERE audio_id = ?",
                   (b"\x5a" * 4096, audio_id))
        db.commit()
    finally:
        db.close()
    out = tmp_path / "out"
    out.mkdir()
    done = run_cli("export", str(project), "-o", str(out / "book.mp3"), "--captions",
                   str(out / "book.srt"), "--per-chapter", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "Block 4's take cannot be read" in done.stderr
    assert "nothing was written" in done.stderr and "Traceback" not in done.stderr
    assert listing(out) == []


def test_a_sidecar_in_a_missing_folder_is_refused_before_any_work(
        book: Path, tmp_path: Path) -> None:
    done = run_cli("export", str(book), "-o", str(tmp_path / "show.mp3"), "--captions",
                   str(tmp_path / "missing" / "show.srt"), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "missing/show.srt" in done.stderr and "does not exist" in done.stderr
    assert "Exporting" not in done.stderr, "checked before the audio is encoded"
    assert "Traceback" not in done.stderr
    assert listing(tmp_path) == []


# --- render's delivery options ---------------------------------------------------------------

RENDER_SCRIPT = ["Hello there. This is a short test of the render command.",
                 "A second paragraph follows, and then we stop."]


@needs_ffmpeg
def test_render_writes_a_podcast_mp3_at_its_target(tmp_path: Path) -> None:
    script = tmp_path / "script.txt"
    script.write_text("\n\n".join(RENDER_SCRIPT) + "\n", encoding="utf-8")
    done = run_cli("render", str(script), "-o", str(tmp_path / "episode.mp3"), "--preset",
                   "podcast", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    stream = ffprobe_stream(tmp_path / "episode.mp3")
    assert (stream["codec_name"], int(stream["sample_rate"]), stream["channels"]) == (
        "mp3", 44100, 2)
    integrated, true_peak = ebur128(tmp_path / "episode.mp3")
    assert abs(integrated - -16.0) <= 0.5 and true_peak <= -1.0
    assert listing(tmp_path) == ["episode.mp3", "script.txt"]


@needs_ffmpeg
def test_render_writes_flac_when_the_output_says_so(tmp_path: Path) -> None:
    script = tmp_path / "script.txt"
    script.write_text("\n\n".join(RENDER_SCRIPT) + "\n", encoding="utf-8")
    done = run_cli("render", str(script), "-o", str(tmp_path / "take.flac"), "--captions",
                   str(tmp_path / "take.srt"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    stream = ffprobe_stream(tmp_path / "take.flac")
    assert (stream["codec_name"], int(stream["sample_rate"])) == ("flac", 44100)
    cues = list(srt.parse((tmp_path / "take.srt").read_text(encoding="utf-8")))
    words = [w for c in cues for w in c.content.split()]
    assert words == " ".join(RENDER_SCRIPT).split()
    assert float(stream["duration"]) >= cues[-1].start.total_seconds()


def test_sigterm_midway_stops_like_ctrl_c_and_leaves_nothing(book: Path, tmp_path: Path) -> None:
    import signal
    import sys

    out = tmp_path / "out"
    out.mkdir()
    env = dict(os.environ)
    env.pop("CARTESIA_API_KEY", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "studio", "export", str(book), "-o", str(out / "book.m4b"),
         "--preset", "m4b"], stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:  # the work has begun once it reports progress
        seen.append(line)
        if "Measuring" in line or "Encoding" in line:
            proc.send_signal(signal.SIGTERM)
            break
    rest = proc.stderr.read()
    assert proc.wait(timeout=120) == 130, "".join(seen) + rest
    assert "interrupted; nothing was written" in rest
    assert listing(out) == []


def test_options_the_format_cannot_take_are_refused(book: Path, tmp_path: Path) -> None:
    cases = [(["-o", str(tmp_path / "a.mp3"), "--bit-depth", "24"], "no bit depth"),
             (["-o", str(tmp_path / "a.wav"), "--bitrate", "128"], "no bit rate"),
             (["-o", str(tmp_path / "a.mp3"), "--per-chapter", "--stems", "voice"],
              "choose one")]
    for options, message in cases:
        done = run_cli("export", str(book), *options, cwd=tmp_path)
        assert done.returncode == 2 and message in done.stderr, (options, done.stderr)
    assert listing(tmp_path) == []
