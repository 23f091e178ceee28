"""Tags, covers and chapters written into real encoded files (studio.audio.tags).

Files are encoded here with PyAV (MP3, Ogg Opus, M4A/M4B) and soundfile (WAV, FLAC),
tagged, and read back twice: with mutagen, and with ffprobe as an independent reader.
Every test also checks that the audio decodes to the same samples as before tagging.

(Named ``test_file_tags`` because ``tests/offline/test_tags.py`` exists and pytest's
default import mode needs unique test module names.)
"""

from __future__ import annotations

import base64
import json
import shutil
import struct
import subprocess
import zlib
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf
from mutagen.flac import FLAC, Picture
from mutagen.id3 import ID3, CTOCFlags, Encoding
from mutagen.mp4 import MP4, MP4Cover
from mutagen.oggopus import OggOpus

from studio.audio.cover import CoverImage, parse_cover
from studio.audio.tags import ChapterMark, Metadata, check_chapters, write_tags

SECONDS = 3

CHAPTERS = (ChapterMark("Opening", 0.0, 1.0), ChapterMark("Chapitre deux", 1.0, 2.25),
            ChapterMark("Coda", 2.25, 3.0))


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body))

    rows = b"".join(b"\0" + b"\x20\x40\x60" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height,
                                                               8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _jpeg(width: int, height: int) -> bytes:
    context = av.CodecContext.create("mjpeg", "w")
    context.width, context.height = width, height
    context.pix_fmt = "yuvj420p"
    context.time_base = Fraction(1, 25)
    frame = av.VideoFrame.from_ndarray(np.full((height, width, 3), 128, np.uint8),
                                       format="rgb24").reformat(format="yuvj420p")
    return b"".join(bytes(p) for p in [*context.encode(frame), *context.encode(None)])


PNG_COVER = parse_cover(_png(6, 4), "cover.png")
JPEG_COVER = parse_cover(_jpeg(32, 24), "cover.jpg")

METADATA = Metadata(title="The Long Walk", artist="Ana Autora", narrator="Nils Narrator",
                    album="Walks, Book 1", year="2025", genre="Audiobook",
                    comment="Recorded with Cartesia Studio — ünïcödé", cover=PNG_COVER)


def _sine(rate: int) -> npt.NDArray[np.float32]:
    t = np.arange(rate * SECONDS) / rate
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def _encode(path: Path, muxer: str, codec: str, rate: int,
            chapters: Sequence[ChapterMark] = (), options: dict[str, str] | None = None) -> None:
    samples = _sine(rate)
    with av.open(str(path), "w", format=muxer, options=options or {}) as container:
        stream = container.add_stream(codec, rate=rate, layout="mono")
        if chapters:  # before the first packet: the MP3 muxer writes ID3 in its header
            container.set_chapters([
                {"id": i + 1, "start": round(c.start * 1000), "end": round(c.end * 1000),
                 "time_base": Fraction(1, 1000), "metadata": {"title": c.title}}
                for i, c in enumerate(chapters)])
        for start in range(0, samples.shape[0], 1024):
            frame = av.AudioFrame.from_ndarray(samples[None, start:start + 1024],
                                               format="flt", layout="mono")
            frame.sample_rate = rate
            frame.pts = start
            frame.time_base = Fraction(1, rate)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One untagged file per kind, encoded once; tests tag copies."""
    folder = tmp_path_factory.mktemp("sources")
    files = {name: folder / name for name in (
        "plain.mp3", "chapters.mp3", "plain.ogg", "plain.m4a", "chapters.m4b",
        "faststart.m4b", "plain.flac", "plain.wav", "odd.wav", "rf64.wav")}
    _encode(files["plain.mp3"], "mp3", "libmp3lame", 44100)
    _encode(files["chapters.mp3"], "mp3", "libmp3lame", 44100, CHAPTERS)
    _encode(files["plain.ogg"], "ogg", "libopus", 48000)
    _encode(files["plain.m4a"], "ipod", "aac", 44100)
    _encode(files["chapters.m4b"], "ipod", "aac", 44100, CHAPTERS)
    # moov before mdat: growing the metadata moves the audio, and every chunk offset
    # (the chapter track's too) has to follow.
    _encode(files["faststart.m4b"], "ipod", "aac", 44100, CHAPTERS,
            options={"movflags": "+faststart"})
    sf.write(files["plain.flac"], _sine(44100), 44100, subtype="PCM_16")
    sf.write(files["plain.wav"], _sine(44100), 44100, subtype="PCM_16")
    # 8-bit mono with an odd frame count: the data chunk needs a pad byte.
    sf.write(files["odd.wav"], _sine(8000)[:8001], 8000, subtype="PCM_U8")
    sf.write(files["rf64.wav"], _sine(8000), 8000, format="RF64", subtype="PCM_16")
    return files


@pytest.fixture
def copy_of(sources: dict[str, Path], tmp_path: Path) -> Any:
    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copyfile(sources[name], target)
        return target
    return copy


def _decoded(path: Path) -> npt.NDArray[np.float32]:
    """Every decoded sample of the first audio stream (FFmpeg through PyAV)."""
    with av.open(str(path)) as container:
        frames = [frame.to_ndarray() for frame in container.decode(audio=0)]
    return np.concatenate(frames, axis=1)


def _pcm(path: Path) -> npt.NDArray[np.int16]:
    samples, _rate = sf.read(path, dtype="int16")
    return np.asarray(samples)


def _ffprobe(path: Path) -> dict[str, Any]:
    if shutil.which("ffprobe") is None:
        pytest.skip("ffprobe is not installed")
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-show_chapters",
         "-of", "json", str(path)], capture_output=True, text=True, check=True, timeout=60)
    probe: dict[str, Any] = json.loads(result.stdout)
    return probe


def _probe_chapters(probe: dict[str, Any]) -> list[tuple[str, float]]:
    return [(c.get("tags", {}).get("title", ""), float(c["start_time"]))
            for c in probe["chapters"]]


def _lower(tags: dict[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in tags.items()}


# MP3 -------------------------------------------------------------------------------------

def test_mp3_gets_id3v23_text_frames_cover_and_chapter_frames(copy_of: Any) -> None:
    path = copy_of("plain.mp3")
    before = _decoded(path)

    write_tags(path, "mp3", METADATA, CHAPTERS)

    raw = ID3(path, translate=False)  # the frames as stored, not upgraded to v2.4
    assert raw.version == (2, 3, 0)
    assert raw["TYER"].text == ["2025"] and "TDRC" not in raw
    assert raw["TIT2"].encoding == Encoding.UTF16  # v2.3 has no UTF-8
    tags = ID3(path)
    assert tags["TIT2"].text == ["The Long Walk"]
    assert tags["TPE1"].text == ["Ana Autora"]
    assert tags["TPE2"].text == ["Ana Autora"]
    assert tags["TALB"].text == ["Walks, Book 1"]
    assert tags["TCON"].text == ["Audiobook"]
    assert tags["TCOM"].text == ["Nils Narrator"]
    assert tags["TXXX:NARRATOR"].text == ["Nils Narrator"]
    assert tags.getall("COMM")[0].text == ["Recorded with Cartesia Studio — ünïcödé"]
    picture = tags.getall("APIC")[0]
    assert (picture.mime, picture.type, picture.data) == ("image/png", 3, PNG_COVER.data)

    chaps = sorted(tags.getall("CHAP"), key=lambda frame: frame.start_time)
    assert [c.element_id for c in chaps] == ["chp0", "chp1", "chp2"]
    assert [(c.start_time, c.end_time) for c in chaps] == [(0, 1000), (1000, 2250),
                                                           (2250, 3000)]
    assert [c.sub_frames["TIT2"].text[0] for c in chaps] == [c.title for c in CHAPTERS]
    (toc,) = tags.getall("CTOC")
    assert toc.flags == CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED
    assert toc.child_element_ids == ["chp0", "chp1", "chp2"]

    probe = _ffprobe(path)
    assert _probe_chapters(probe) == [(c.title, c.start) for c in CHAPTERS]
    format_tags = _lower(probe["format"]["tags"])
    assert format_tags["title"] == "The Long Walk"
    assert format_tags["artist"] == "Ana Autora"
    assert format_tags["album"] == "Walks, Book 1"
    assert format_tags["composer"] == "Nils Narrator"
    assert format_tags["genre"] == "Audiobook"
    assert format_tags["date"] == "2025"
    np.testing.assert_array_equal(_decoded(path), before)


def test_mp3_chapter_frames_are_stored_in_timeline_order(copy_of: Any) -> None:
    """mutagen sorts frames by size; FFmpeg lists chapters in frame order."""
    path = copy_of("plain.mp3")
    titles = ["A much longer opening chapter title", "B", "Third", "4", "Fifth chapter",
              "6", "Seven", "Eight!", "9", "Ten, with a long title", "11", "Twelve"]
    marks = [ChapterMark(t, i * 0.25, (i + 1) * 0.25) for i, t in enumerate(titles)]

    write_tags(path, "mp3", METADATA, marks)

    assert _probe_chapters(_ffprobe(path)) == [(m.title, m.start) for m in marks]
    with av.open(str(path)) as container:
        assert [c["metadata"]["title"] for c in container.chapters()] == titles
    assert ID3(path).getall("CTOC")[0].child_element_ids == [f"chp{i}" for i in range(12)]


def test_mp3_tagged_again_keeps_only_the_new_tags(copy_of: Any) -> None:
    path = copy_of("plain.mp3")
    before = _decoded(path)
    write_tags(path, "mp3", METADATA, CHAPTERS)

    write_tags(path, "mp3", Metadata(title="Second"), [ChapterMark("Only", 0.0, 2.0)])

    tags = ID3(path)
    assert tags["TIT2"].text == ["Second"]
    for gone in ("TPE1", "TALB", "TCOM", "TXXX:NARRATOR", "TCON"):
        assert gone not in tags
    assert not tags.getall("APIC") and not tags.getall("COMM")
    assert [c.element_id for c in tags.getall("CHAP")] == ["chp0"]
    assert tags.getall("CTOC")[0].child_element_ids == ["chp0"]
    assert tags["TSSE"].text[0].startswith("Lavf")  # the encoder's own tag stays
    assert _probe_chapters(_ffprobe(path)) == [("Only", 0.0)]
    np.testing.assert_array_equal(_decoded(path), before)


def test_mp3_chapters_the_encoder_wrote_are_replaced(copy_of: Any) -> None:
    path = copy_of("chapters.mp3")
    assert len(ID3(path).getall("CHAP")) == 3  # FFmpeg's own

    write_tags(path, "mp3", METADATA, [ChapterMark("Whole", 0.0, 3.0)])

    tags = ID3(path)
    assert [c.element_id for c in tags.getall("CHAP")] == ["chp0"]
    assert [c.element_id for c in tags.getall("CTOC")] == ["toc"]
    assert _probe_chapters(_ffprobe(path)) == [("Whole", 0.0)]


# MP4 -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["chapters.m4b", "faststart.m4b"])
def test_m4b_gets_itunes_atoms_and_keeps_the_encoders_chapters(copy_of: Any,
                                                                name: str) -> None:
    path = copy_of(name)
    before = _decoded(path)

    write_tags(path, "m4b", METADATA, CHAPTERS)

    tags = MP4(path).tags
    assert tags["©nam"] == ["The Long Walk"]
    assert tags["©ART"] == ["Ana Autora"]
    assert tags["aART"] == ["Ana Autora"]
    assert tags["©alb"] == ["Walks, Book 1"]
    assert tags["©day"] == ["2025"]
    assert tags["©gen"] == ["Audiobook"]
    assert tags["©cmt"] == ["Recorded with Cartesia Studio — ünïcödé"]
    assert tags["©wrt"] == ["Nils Narrator"]
    assert bytes(tags["----:com.apple.iTunes:NARRATOR"][0]) == b"Nils Narrator"
    assert tags["stik"] == [2]
    (cover,) = tags["covr"]
    assert cover.imageformat == MP4Cover.FORMAT_PNG and bytes(cover) == PNG_COVER.data
    assert tags["©too"][0].startswith("Lavf")

    with av.open(str(path)) as container:
        chapters = [(c["metadata"]["title"], float(c["start"] * c["time_base"]))
                    for c in container.chapters()]
    assert chapters == [(c.title, c.start) for c in CHAPTERS]
    probe = _ffprobe(path)
    assert _probe_chapters(probe) == [(c.title, c.start) for c in CHAPTERS]
    assert _lower(probe["format"]["tags"])["title"] == "The Long Walk"
    np.testing.assert_array_equal(_decoded(path), before)


def test_m4a_takes_a_jpeg_cover_and_is_not_marked_as_an_audiobook(copy_of: Any) -> None:
    path = copy_of("plain.m4a")
    before = _decoded(path)

    write_tags(path, "m4a", Metadata(title="Episode 7", cover=JPEG_COVER))

    tags = MP4(path).tags
    assert tags["©nam"] == ["Episode 7"]
    assert "stik" not in tags and "©ART" not in tags
    assert tags["covr"][0].imageformat == MP4Cover.FORMAT_JPEG
    np.testing.assert_array_equal(_decoded(path), before)


def test_mp4_chapters_that_the_encoder_did_not_write_are_refused(copy_of: Any) -> None:
    path = copy_of("chapters.m4b")
    original = path.read_bytes()
    renamed = [ChapterMark("Other", c.start, c.end) for c in CHAPTERS]

    with pytest.raises(ValueError, match=r'chapter 1 of chapters\.m4b is "Opening"'):
        write_tags(path, "m4b", METADATA, renamed)
    with pytest.raises(ValueError, match="has 0 chapters but 3"):
        write_tags(copy_of("plain.m4a"), "m4a", METADATA, CHAPTERS)
    assert path.read_bytes() == original


# FLAC and Ogg Opus -----------------------------------------------------------------------

def _vorbis_chapters(tags: Any) -> list[tuple[str, str]]:
    return [(tags[f"CHAPTER{n:03d}"][0], tags[f"CHAPTER{n:03d}NAME"][0]) for n in (1, 2, 3)]


EXPECTED_VORBIS_CHAPTERS = [("00:00:00.000", "Opening"), ("00:00:01.000", "Chapitre deux"),
                            ("00:00:02.250", "Coda")]


def test_flac_gets_vorbis_comments_a_picture_block_and_chapters(copy_of: Any) -> None:
    path = copy_of("plain.flac")
    before = _pcm(path)

    write_tags(path, "flac", METADATA, CHAPTERS)

    flac = FLAC(path)
    tags = flac.tags
    assert tags["TITLE"] == ["The Long Walk"]
    assert tags["ARTIST"] == ["Ana Autora"]
    assert tags["ALBUMARTIST"] == ["Ana Autora"]
    assert tags["ALBUM"] == ["Walks, Book 1"]
    assert tags["DATE"] == ["2025"]
    assert tags["GENRE"] == ["Audiobook"]
    assert tags["COMMENT"] == ["Recorded with Cartesia Studio — ünïcödé"]
    assert tags["COMPOSER"] == ["Nils Narrator"]
    assert tags["PERFORMER"] == ["Nils Narrator"]
    assert _vorbis_chapters(tags) == EXPECTED_VORBIS_CHAPTERS
    (picture,) = flac.pictures
    assert (picture.type, picture.mime, picture.width, picture.height, picture.depth) == (
        3, "image/png", 6, 4, 24)
    assert picture.data == PNG_COVER.data

    probe = _ffprobe(path)
    assert _probe_chapters(probe) == [(c.title, c.start) for c in CHAPTERS]
    assert _lower(probe["format"]["tags"])["title"] == "The Long Walk"
    np.testing.assert_array_equal(_pcm(path), before)

    write_tags(path, "flac", Metadata(title="Again"))
    flac = FLAC(path)
    assert not flac.pictures and "CHAPTER001" not in flac.tags and "ARTIST" not in flac.tags
    np.testing.assert_array_equal(_pcm(path), before)


def test_ogg_opus_gets_vorbis_comments_a_picture_and_chapters(copy_of: Any) -> None:
    path = copy_of("plain.ogg")
    before = _decoded(path)

    write_tags(path, "ogg", METADATA, CHAPTERS)

    tags = OggOpus(path).tags
    assert tags["TITLE"] == ["The Long Walk"]
    assert tags["PERFORMER"] == ["Nils Narrator"]
    assert tags["COMMENT"] == ["Recorded with Cartesia Studio — ünïcödé"]
    assert _vorbis_chapters(tags) == EXPECTED_VORBIS_CHAPTERS
    picture = Picture(base64.b64decode(tags["METADATA_BLOCK_PICTURE"][0]))
    assert (picture.type, picture.mime, picture.width, picture.height) == (
        3, "image/png", 6, 4)
    assert picture.data == PNG_COVER.data

    probe = _ffprobe(path)
    assert _probe_chapters(probe) == [(c.title, c.start) for c in CHAPTERS]
    stream_tags = _lower(probe["streams"][0]["tags"])
    assert stream_tags["title"] == "The Long Walk"
    assert stream_tags["artist"] == "Ana Autora"
    np.testing.assert_array_equal(_decoded(path), before)


def test_vorbis_chapters_stop_at_999(copy_of: Any) -> None:
    path = copy_of("plain.flac")
    many = [ChapterMark(str(i), i * 0.001, i * 0.001 + 0.001) for i in range(1000)]
    with pytest.raises(ValueError, match="at most 999 chapters"):
        write_tags(path, "flac", METADATA, many)


# WAV -------------------------------------------------------------------------------------

def _riff(path: Path) -> tuple[bytes, int, list[tuple[bytes, bytes]]]:
    """The form, declared size and top-level chunks of a RIFF file, read independently:
    (id, body) with the LIST type left at the start of a LIST body."""
    data = path.read_bytes()
    form, size = data[:4], struct.unpack_from("<I", data, 4)[0]
    chunks: list[tuple[bytes, bytes]] = []
    pos = 12
    while pos + 8 <= len(data):
        ident, length = struct.unpack_from("<4sI", data, pos)
        if ident == b"data" and length == 0xFFFFFFFF:  # RF64: the size is in ds64
            length = struct.unpack_from("<Q", dict(chunks)[b"ds64"], 8)[0]
        chunks.append((ident, data[pos + 8:pos + 8 + length]))
        pos += 8 + length + (length & 1)
    assert pos == len(data), "chunks must tile the file exactly"
    return form, size, chunks


def _cues(path: Path) -> list[tuple[int, int, str]]:
    """(position in frames, region length in frames, label) of each cue point."""
    _form, _size, chunks = _riff(path)
    (cue,) = [body for ident, body in chunks if ident == b"cue "]
    (adtl,) = [body[4:] for ident, body in chunks if ident == b"LIST" and body[:4] == b"adtl"]
    labels: dict[int, str] = {}
    lengths: dict[int, int] = {}
    pos = 0
    while pos < len(adtl):
        ident, length = struct.unpack_from("<4sI", adtl, pos)
        body = adtl[pos + 8:pos + 8 + length]
        (cue_id,) = struct.unpack_from("<I", body)
        if ident == b"labl":
            labels[cue_id] = body[4:].rstrip(b"\0").decode("utf-8")
        elif ident == b"ltxt":
            assert body[8:12] == b"rgn "
            lengths[cue_id] = struct.unpack_from("<I", body, 4)[0]
        pos += 8 + length + (length & 1)
    (count,) = struct.unpack_from("<I", cue)
    result = []
    for index in range(count):
        cue_id, position, chunk, _start, _block, offset = struct.unpack_from(
            "<II4sIII", cue, 4 + 24 * index)
        assert chunk == b"data" and offset == position
        result.append((position, lengths[cue_id], labels[cue_id]))
    return result


def test_wav_gets_riff_info_and_cue_regions(copy_of: Any) -> None:
    path = copy_of("plain.wav")
    before = _pcm(path)

    write_tags(path, "wav", METADATA, CHAPTERS)

    form, size, _chunks = _riff(path)
    assert form == b"RIFF" and size == path.stat().st_size - 8
    assert _cues(path) == [(0, 44100, "Opening"), (44100, 55125, "Chapitre deux"),
                           (99225, 33075, "Coda")]
    probe = _ffprobe(path)
    tags = _lower(probe["format"]["tags"])
    assert tags["title"] == "The Long Walk"  # INAM
    assert tags["artist"] == "Ana Autora"  # IART
    assert tags["album"] == "Walks, Book 1"  # IPRD
    assert tags["date"] == "2025"  # ICRD
    assert tags["genre"] == "Audiobook"  # IGNR
    assert tags["comment"] == "Recorded with Cartesia Studio — ünïcödé"  # ICMT
    assert tags["istr"] == "Nils Narrator"
    assert [float(c["start_time"]) for c in probe["chapters"]] == [0.0, 1.0, 2.25]
    with sf.SoundFile(path) as wav:  # libsndfile, a second reader
        assert (wav.title, wav.artist, wav.album) == ("The Long Walk", "Ana Autora",
                                                       "Walks, Book 1")
    np.testing.assert_array_equal(_pcm(path), before)


def test_wav_tagged_again_replaces_earlier_chunks_and_keeps_the_software_field(
        tmp_path: Path) -> None:
    path = tmp_path / "named.wav"
    with sf.SoundFile(path, "w", 16000, 1, subtype="PCM_16") as out:
        out.title = "Old title"
        out.software = "Studio encoder"
        out.write(_sine(16000))
    before = _pcm(path)

    write_tags(path, "wav", METADATA, CHAPTERS)
    write_tags(path, "wav", Metadata(title="New title"), [ChapterMark("Only", 0.5, 1.5)])

    _form, size, chunks = _riff(path)
    assert size == path.stat().st_size - 8
    info = [body for ident, body in chunks if ident == b"LIST" and body[:4] == b"INFO"]
    assert len(info) == 1
    assert sum(ident == b"cue " for ident, _ in chunks) == 1
    assert _cues(path) == [(8000, 16000, "Only")]
    tags = _lower(_ffprobe(path)["format"]["tags"])
    assert tags["title"] == "New title"
    assert tags["encoder"].startswith("Studio encoder")  # ISFT, the encoder's, kept
    assert "artist" not in tags and "istr" not in tags
    np.testing.assert_array_equal(_pcm(path), before)


def test_wav_with_an_odd_data_size_stays_word_aligned(copy_of: Any) -> None:
    path = copy_of("odd.wav")
    before = _pcm(path)
    write_tags(path, "wav", METADATA, [ChapterMark("All", 0.0, 2.0)])
    _riff(path)  # asserts the chunks tile the file, pad byte included
    assert _cues(path) == [(0, 8001, "All")]  # the region is cut at the last frame
    np.testing.assert_array_equal(_pcm(path), before)


def test_rf64_wav_gets_its_64_bit_size_updated(copy_of: Any) -> None:
    path = copy_of("rf64.wav")
    before = _pcm(path)
    write_tags(path, "wav", METADATA, CHAPTERS)
    form, size, chunks = _riff(path)
    assert (form, size) == (b"RF64", 0xFFFFFFFF)
    (riff_size,) = struct.unpack_from("<Q", dict(chunks)[b"ds64"])
    assert riff_size == path.stat().st_size - 8
    assert _cues(path)[1] == (8000, 10000, "Chapitre deux")
    assert _lower(_ffprobe(path)["format"]["tags"])["title"] == "The Long Walk"
    np.testing.assert_array_equal(_pcm(path), before)


def test_wav_chapter_after_the_audio_is_refused_before_anything_changes(
        tmp_path: Path) -> None:
    path = tmp_path / "short.wav"
    with sf.SoundFile(path, "w", 16000, 1, subtype="PCM_16") as out:
        out.title = "Kept"  # an INFO list before the audio, which a write would retire
        out.write(_sine(16000))
    original = path.read_bytes()
    with pytest.raises(ValueError, match=r'"Late" starts at 5\.000 s, after the end'):
        write_tags(path, "wav", METADATA, [ChapterMark("Late", 5.0, 6.0)])
    assert path.read_bytes() == original


def test_unfinished_wav_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "stream.wav"
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    path.write_bytes(b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE"
                     + b"fmt " + struct.pack("<I", 16) + fmt
                     + b"data" + struct.pack("<I", 0xFFFFFFFF) + b"\0" * 100)
    with pytest.raises(ValueError, match="not finished"):
        write_tags(path, "wav", METADATA)


# Errors ----------------------------------------------------------------------------------

def test_a_file_of_another_format_is_refused_by_name(copy_of: Any) -> None:
    path = copy_of("plain.mp3")
    for container in ("flac", "ogg", "m4a", "wav"):
        with pytest.raises(ValueError, match=r"plain\.mp3 is not a"):
            write_tags(path, container, METADATA)


def test_unknown_container_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot tag 'aiff' files"):
        write_tags(tmp_path / "a.aiff", "aiff", METADATA)
    with pytest.raises(FileNotFoundError, match=r"missing\.flac"):
        write_tags(tmp_path / "missing.flac", "flac", METADATA)
    with pytest.raises(FileNotFoundError, match=r"missing\.wav"):
        write_tags(tmp_path / "missing.wav", "wav", METADATA)


def test_chapters_must_be_in_order_and_well_formed() -> None:
    with pytest.raises(ValueError, match="must end after it starts"):
        ChapterMark("Backwards", 2.0, 1.0)
    with pytest.raises(ValueError, match="must end after it starts"):
        ChapterMark("Before zero", -1.0, 1.0)
    with pytest.raises(ValueError, match="no valid start"):
        ChapterMark("Nan", float("nan"), 1.0)
    with pytest.raises(ValueError, match=r'chapter 2 \("B"\) starts at 0.500 s'):
        check_chapters([ChapterMark("A", 1.0, 2.0), ChapterMark("B", 0.5, 3.0)])
    with pytest.raises(ValueError, match="NUL"):
        Metadata(title="a\0b")
    with pytest.raises(ValueError, match=r"a year \(2025\) or a date"):
        Metadata(year="circa 2020")
    assert Metadata(year="2025-03-01").year == "2025-03-01"


def test_cover_image_values_are_plain_data() -> None:
    assert CoverImage(PNG_COVER.data, "image/png", 6, 4, 24, 0) == PNG_COVER
    assert (JPEG_COVER.mime, JPEG_COVER.width, JPEG_COVER.height) == ("image/jpeg", 32, 24)
