"""Metadata, cover and chapters written into exported audio files. Qt-free.

The export encodes to a temporary file, calls :func:`write_tags` on it and renames it
into place, so a failure here never leaves a half-tagged file at the destination. The
audio is never re-encoded; its bytes only move when the metadata in front of them grows,
so decoding before and after gives the same samples.

What goes where (empty fields are not written, and removed if the encoder wrote them):

=========== ================ ===================== ======================= =========
field       MP3 (ID3v2.3)    M4A/M4B (iTunes atom) FLAC, Ogg (Vorbis)      WAV INFO
=========== ================ ===================== ======================= =========
title       TIT2             ©nam                  TITLE                   INAM
artist      TPE1, TPE2       ©ART, aART            ARTIST, ALBUMARTIST     IART
narrator    TCOM,            ©wrt, ----:com.apple. COMPOSER, PERFORMER     ISTR
            TXXX:NARRATOR    iTunes:NARRATOR
album       TALB             ©alb                  ALBUM                   IPRD
year        TYER (TDRC)      ©day                  DATE                    ICRD
genre       TCON             ©gen                  GENRE                   IGNR
comment     COMM (eng, "")   ©cmt                  COMMENT                 ICMT
cover       APIC (front)     covr                  PICTURE block /         -
                                                   METADATA_BLOCK_PICTURE
chapters    CHAP + CTOC      (the encoder's)       CHAPTERnnn[NAME]        cue/adtl
=========== ================ ===================== ======================= =========

Why these choices:

- ID3v2.3, not 2.4: Windows' File Explorer and Media Player, and much older hardware,
  read only v2.3 (id3.org, "Compliance Issues"); nothing written here needs
  v2.4 (the year goes in TYER, text in UTF-16 instead of UTF-8). The ID3v2 Chapter
  Frame Addendum (id3.org, "id3v2-chapters-1.0") applies to both versions.
- Narrator: audiobook players (Apple Books, Prologue) and taggers (Audible sources for
  Mp3tag) read the narrator from the composer field, so it goes there; an explicit
  ``NARRATOR`` field is added where the format has free-form keys, so tools can tell it
  from a real composer. Xiph's Vorbis comment field list names ``PERFORMER`` as "the
  actor who did the reading" of an audio book, so Vorbis files get that too. WAV's INFO
  list (RIFF1991) has no narrator; ``ISTR`` ("starring", a later INFO extension) holds it.
- The author (``artist``) also goes in the album-artist field, by which audiobook and
  podcast apps group files.
- ``stik`` = 2 (Audiobook, iTunes media kind) marks an M4B as an audiobook.
- MP4 chapters are written by the encoder (PyAV ``set_chapters``: a QuickTime chapter
  track and a Nero ``chpl`` atom); mutagen keeps both when it rewrites ``ilst`` and
  moves chunk offsets if ``moov`` grows. Here they are only checked against
  ``chapters``.
- Vorbis chapters follow Xiph's Chapter Extension (``CHAPTER001=HH:MM:SS.mmm``,
  ``CHAPTER001NAME=title``, numbered from 001, at most 999); it has no end times, a
  chapter ends where the next starts.
"""

from __future__ import annotations

import base64
import math
import re
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import mutagen.flac
import mutagen.id3
import mutagen.mp4
import mutagen.oggopus
import mutagen.oggvorbis
from mutagen import MutagenError

from studio.audio.cover import CoverImage
from studio.audio.riff_tags import write_riff_tags

#: Containers :func:`write_tags` knows, by the export's name for them.
CONTAINERS = ("wav", "flac", "mp3", "ogg", "m4a", "m4b")

_LABELS = {"wav": "WAV", "flac": "FLAC", "mp3": "MP3", "ogg": "Ogg", "m4a": "M4A",
           "m4b": "M4B"}
#: Most chapters Xiph's Chapter Extension numbers (CHAPTER001..CHAPTER999).
MAX_VORBIS_CHAPTERS = 999
#: How far an MP4 chapter written by the encoder may start from the asked time, in
#: seconds (the chapter track stores milliseconds or finer).
MP4_CHAPTER_TOLERANCE = 0.002

_ID3_OWNED = ("TIT2", "TPE1", "TPE2", "TALB", "TDRC", "TYER", "TDAT", "TIME", "TCON", "COMM",
              "TCOM", "TXXX:NARRATOR", "APIC", "CHAP", "CTOC")
_MP4_NARRATOR = "----:com.apple.iTunes:NARRATOR"
_MP4_OWNED = ("©nam", "©ART", "aART", "©alb", "©day", "©gen", "©cmt", "©wrt", _MP4_NARRATOR,
              "covr", "stik")
_VORBIS_OWNED = ("TITLE", "ARTIST", "ALBUMARTIST", "ALBUM", "DATE", "GENRE", "COMMENT",
                 "COMPOSER", "PERFORMER", "METADATA_BLOCK_PICTURE", "COVERART",
                 "COVERARTMIME")
_VORBIS_CHAPTER_KEY = re.compile(r"CHAPTER\d+(NAME|URL)?", re.IGNORECASE)
_ITUNES_AUDIOBOOK = 2  # stik value for "Audiobook"
_YEAR = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")

# mutagen ships py.typed but leaves most of its functions unannotated, which --strict
# refuses to call; its modules are therefore used through Any.
_id3: Any = mutagen.id3
_mp4: Any = mutagen.mp4
_flac: Any = mutagen.flac
_opus: Any = mutagen.oggopus
_vorbis: Any = mutagen.oggvorbis


@dataclass(frozen=True, slots=True)
class ChapterMark:
    """A chapter on the exported file's timeline.

    Attributes:
        title: shown by players; may be empty.
        start, end: seconds from the start of the file, ``0 <= start < end``.

    Raises:
        ValueError: on construction, for a non-finite, negative or empty span.
    """

    title: str
    start: float
    end: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start) and math.isfinite(self.end)):
            raise ValueError(f'chapter "{self.title}" has no valid start and end time')
        if self.start < 0 or self.end <= self.start:
            raise ValueError(f'chapter "{self.title}" must end after it starts '
                             f"(start {self.start:.3f} s, end {self.end:.3f} s)")


@dataclass(frozen=True, slots=True)
class Metadata:
    """Descriptive tags of an exported file; empty strings are left out.

    Attributes:
        title: the work's title.
        artist: its author.
        narrator: who reads it.
        album: the book, show or series it belongs to.
        year: release year (``"2025"``) or ISO 8601 date (``"2025-03"``,
            ``"2025-03-01"``), the form ID3 TDRC, iTunes ``©day``, Vorbis ``DATE`` and
            RIFF ``ICRD`` expect.
        genre: free text (``"Audiobook"``, ``"Podcast"``).
        comment: a description.
        cover: the front cover, or None.

    Raises:
        ValueError: on construction, for a text field holding a NUL character (it ends
            text early in ID3 and RIFF), or a year that is not a year or date.
    """

    title: str = ""
    artist: str = ""
    narrator: str = ""
    album: str = ""
    year: str = ""
    genre: str = ""
    comment: str = ""
    cover: CoverImage | None = None

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, str) and "\0" in value:
                raise ValueError(f"the {field.name} contains a NUL character")
        if self.year and not _YEAR.fullmatch(self.year):
            raise ValueError(f"the year must be a year (2025) or a date (2025-03-01), "
                             f"not {self.year!r}")


def check_chapters(chapters: Sequence[ChapterMark]) -> None:
    """Check that chapters are in timeline order (each starts after the previous one).

    Raises:
        ValueError: naming the first chapter out of order.
    """
    for index in range(1, len(chapters)):
        before, chapter = chapters[index - 1], chapters[index]
        if chapter.start <= before.start:
            raise ValueError(
                f'chapter {index + 1} ("{chapter.title}") starts at {chapter.start:.3f} s, '
                f'not after chapter {index} ("{before.title}") at {before.start:.3f} s')


def write_tags(path: Path, container: str, metadata: Metadata,
               chapters: Sequence[ChapterMark] = ()) -> None:
    """Write ``metadata`` and ``chapters`` into the encoded file ``path``, in place.

    Tags and chapters this module writes are replaced as a whole (a field left empty is
    removed); other tags, such as the encoder's name, are kept. See the module docstring
    for the fields of each container.

    Args:
        path: an encoded file; on failure it may be left half-written (tag a temporary
            file and rename it on success).
        container: one of :data:`CONTAINERS`; ``"ogg"`` is Ogg Opus (Ogg Vorbis works
            too).
        metadata: the descriptive tags and cover.
        chapters: in timeline order, seconds on the file's timeline. For ``m4a``/``m4b``
            the encoder must already have written the same chapters (titles equal,
            starts within :data:`MP4_CHAPTER_TOLERANCE`).

    Raises:
        ValueError: an unknown container; chapters out of order, too many (over 999 in
            FLAC/Ogg) or, for MP4, not those in the file; a file that is not a valid
            file of ``container`` (message names the file).
        OSError: the file cannot be read or written (errno kept, message names it).
    """
    path = Path(path)
    if container not in CONTAINERS:
        raise ValueError(f"cannot tag {container!r} files; expected one of "
                         f"{', '.join(CONTAINERS)}")
    check_chapters(chapters)
    writers: dict[str, Callable[[Path, Metadata, Sequence[ChapterMark]], None]] = {
        "mp3": _write_id3, "flac": _write_flac, "ogg": _write_ogg, "wav": _write_wav,
        "m4a": _write_m4a, "m4b": _write_m4b,
    }
    try:
        writers[container](path, metadata, chapters)
    except MutagenError as exc:
        cause = exc.args[0] if exc.args else None
        if isinstance(cause, OSError):
            raise _io_error(path, cause) from exc
        raise ValueError(f"{path.name} is not a valid {_LABELS[container]} file, so its "
                         f"tags cannot be written ({exc})") from exc
    except OSError as exc:
        raise _io_error(path, exc) from exc


def _io_error(path: Path, exc: OSError) -> OSError:
    return OSError(exc.errno, f"cannot write tags into {path}: {exc.strerror or exc}")


def _ms(seconds: float) -> int:
    return math.floor(seconds * 1000 + 0.5)


def _picture_block(cover: CoverImage) -> Any:
    """A FLAC ``METADATA_BLOCK_PICTURE`` (FLAC format, RFC 9639 8.8) for ``cover``."""
    picture = _flac.Picture()
    picture.type = _id3.PictureType.COVER_FRONT
    picture.mime = cover.mime
    picture.desc = ""
    picture.width = cover.width
    picture.height = cover.height
    picture.depth = cover.depth
    picture.colors = cover.colors
    picture.data = cover.data
    return picture


def _write_id3(path: Path, metadata: Metadata, chapters: Sequence[ChapterMark]) -> None:
    """ID3v2.3 text frames, APIC, and CHAP/CTOC frames (Chapter Frame Addendum 1.0)."""
    try:
        tags = _id3.ID3(path)
    except mutagen.id3.ID3NoHeaderError:
        tags = _id3.ID3()
    for key in _ID3_OWNED:
        tags.delall(key)
    utf8 = _id3.Encoding.UTF8  # turned into UTF-16 when saved as v2.3
    texts = (("TIT2", metadata.title), ("TPE1", metadata.artist), ("TPE2", metadata.artist),
             ("TALB", metadata.album), ("TDRC", metadata.year), ("TCON", metadata.genre),
             ("TCOM", metadata.narrator))
    for frame_id, value in texts:
        if value:
            tags.add(getattr(_id3, frame_id)(encoding=utf8, text=[value]))
    if metadata.narrator:
        tags.add(_id3.TXXX(encoding=utf8, desc="NARRATOR", text=[metadata.narrator]))
    if metadata.comment:
        # An empty description: Windows Media Player 10 refused to play files whose
        # COMM description was Unicode text longer than three characters.
        tags.add(_id3.COMM(encoding=utf8, lang="eng", desc="", text=[metadata.comment]))
    if metadata.cover is not None:
        tags.add(_id3.APIC(encoding=utf8, mime=metadata.cover.mime,
                           type=_id3.PictureType.COVER_FRONT, desc="", data=metadata.cover.data))
    ids = [f"chp{index}" for index in range(len(chapters))]
    for element_id, chapter in zip(ids, chapters, strict=True):
        # Byte offsets 0xFFFFFFFF: "not used", players seek by time (addendum 3.1).
        tags.add(_id3.CHAP(element_id=element_id, start_time=_ms(chapter.start),
                           end_time=_ms(chapter.end), start_offset=0xFFFFFFFF,
                           end_offset=0xFFFFFFFF,
                           sub_frames=[_id3.TIT2(encoding=utf8, text=[chapter.title])]))
    if chapters:
        flags = _id3.CTOCFlags.TOP_LEVEL | _id3.CTOCFlags.ORDERED
        tags.add(_id3.CTOC(element_id="toc", flags=flags, child_element_ids=ids,
                           sub_frames=[]))
    # mutagen saves v2.4 frames as they are unless told (TDRC would stay TDRC).
    tags.update_to_v23()
    tags.save(path, v2_version=3)
    if chapters:
        _order_chapter_frames(path, ids)


def _order_chapter_frames(path: Path, ids: Sequence[str]) -> None:
    """Put the CHAP frames of the ID3v2.3 tag at the start of ``path`` in timeline order.

    mutagen orders frames by size, but FFmpeg (and the players built on it) list
    chapters in frame order rather than by CTOC or start time. The frames are only moved
    within the tag, which keeps its size. ID3v2.3 (id3.org, "ID3 tag version 2.3.0"):
    a 10-byte header with a syncsafe size, then frames with a 4-byte id, a plain 32-bit
    size and 2 flag bytes, then zero padding.
    """
    rank = {element_id.encode("latin-1"): index for index, element_id in enumerate(ids)}
    with open(path, "r+b") as handle:
        header = handle.read(10)
        if header[:4] != b"ID3\x03" or header[5] & 0xC0:  # unsynchronised or extended
            return
        size = 0
        for byte in header[6:10]:
            size = (size << 7) | (byte & 0x7F)
        body = handle.read(size)
        frames: list[bytes] = []
        pos = 0
        while pos + 10 <= len(body) and body[pos] != 0:
            (frame_size,) = struct.unpack_from(">I", body, pos + 4)
            frames.append(body[pos:pos + 10 + frame_size])
            pos += 10 + frame_size
        chaps = [frame for frame in frames if frame[:4] == b"CHAP"]
        if not chaps:
            return
        first = next(i for i, frame in enumerate(frames) if frame[:4] == b"CHAP")
        others = [frame for frame in frames if frame[:4] != b"CHAP"]
        chaps.sort(key=lambda frame: rank.get(frame[10:].split(b"\0", 1)[0], len(rank)))
        handle.seek(10)
        handle.write(b"".join(others[:first] + chaps + others[first:]))


def _write_m4a(path: Path, metadata: Metadata, chapters: Sequence[ChapterMark]) -> None:
    _write_mp4(path, metadata, chapters, audiobook=False)


def _write_m4b(path: Path, metadata: Metadata, chapters: Sequence[ChapterMark]) -> None:
    _write_mp4(path, metadata, chapters, audiobook=True)


def _write_mp4(path: Path, metadata: Metadata, chapters: Sequence[ChapterMark], *,
               audiobook: bool) -> None:
    """iTunes metadata atoms in ``moov/udta/meta/ilst``; chapters only checked."""
    _check_mp4_chapters(path, chapters)
    file = _mp4.MP4(path)
    if file.tags is None:
        file.add_tags()
    tags = file.tags
    for key in _MP4_OWNED:
        tags.pop(key, None)
    texts = (("©nam", metadata.title), ("©ART", metadata.artist), ("aART", metadata.artist),
             ("©alb", metadata.album), ("©day", metadata.year), ("©gen", metadata.genre),
             ("©cmt", metadata.comment), ("©wrt", metadata.narrator))
    for key, value in texts:
        if value:
            tags[key] = [value]
    if metadata.narrator:
        tags[_MP4_NARRATOR] = [_mp4.MP4FreeForm(metadata.narrator.encode("utf-8"),
                                                dataformat=_mp4.AtomDataType.UTF8)]
    if metadata.cover is not None:
        kind = (_mp4.MP4Cover.FORMAT_PNG if metadata.cover.mime == "image/png"
                else _mp4.MP4Cover.FORMAT_JPEG)
        tags["covr"] = [_mp4.MP4Cover(metadata.cover.data, imageformat=kind)]
    if audiobook:
        tags["stik"] = [_ITUNES_AUDIOBOOK]
    file.save()


def _check_mp4_chapters(path: Path, chapters: Sequence[ChapterMark]) -> None:
    """Compare the chapters FFmpeg reads from ``path`` with ``chapters``.

    Raises:
        ValueError: they differ in number, title or start.
    """
    if not chapters:
        return
    try:
        with av.open(str(path)) as container:
            found = container.chapters()
    except av.FFmpegError as exc:
        raise ValueError(f"{path.name} is not a valid MP4 file, so its tags cannot be "
                         f"written ({exc})") from exc
    if len(found) != len(chapters):
        raise ValueError(f"{path.name} has {len(found)} chapters but {len(chapters)} were "
                         "asked for; MP4 chapters must be set when encoding")
    for index, (mark, entry) in enumerate(zip(chapters, found, strict=True), start=1):
        time_base = entry["time_base"] or Fraction(1, 1_000_000)
        start = float(entry["start"] * time_base)
        title = entry["metadata"].get("title", "")
        if title != mark.title or abs(start - mark.start) > MP4_CHAPTER_TOLERANCE:
            raise ValueError(f'chapter {index} of {path.name} is "{title}" at {start:.3f} s, '
                             f'not "{mark.title}" at {mark.start:.3f} s')


def _vorbis_chapter_time(seconds: float) -> str:
    """``HH:MM:SS.mmm`` (Xiph Chapter Extension)."""
    hours, rest = divmod(_ms(seconds), 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def _fill_vorbis_comment(comment: Any, metadata: Metadata,
                         chapters: Sequence[ChapterMark], name: str) -> None:
    """Replace the owned fields of ``comment``, a mutagen ``VCommentDict`` (``Any``, as
    mutagen is unannotated). Vorbis I spec, section 5: field names are case-insensitive."""
    if len(chapters) > MAX_VORBIS_CHAPTERS:
        raise ValueError(f"{name} can hold at most {MAX_VORBIS_CHAPTERS} chapters, not "
                         f"{len(chapters)}")
    for key in list(comment.keys()):
        if key.upper() in _VORBIS_OWNED or _VORBIS_CHAPTER_KEY.fullmatch(key):
            del comment[key]
    values = (("TITLE", metadata.title), ("ARTIST", metadata.artist),
              ("ALBUMARTIST", metadata.artist), ("ALBUM", metadata.album),
              ("DATE", metadata.year), ("GENRE", metadata.genre),
              ("COMMENT", metadata.comment), ("COMPOSER", metadata.narrator),
              ("PERFORMER", metadata.narrator))
    for key, value in values:
        if value:
            comment[key] = [value]
    for number, chapter in enumerate(chapters, start=1):
        comment[f"CHAPTER{number:03d}"] = [_vorbis_chapter_time(chapter.start)]
        comment[f"CHAPTER{number:03d}NAME"] = [chapter.title]


def _write_flac(path: Path, metadata: Metadata, chapters: Sequence[ChapterMark]) -> None:
    """VORBIS_COMMENT and PICTURE metadata blocks."""
    file = _flac.FLAC(path)
    if file.tags is None:
        file.add_tags()
    _fill_vorbis_comment(file.tags, metadata, chapters, path.name)
    file.clear_pictures()
    if metadata.cover is not None:
        file.add_picture(_picture_block(metadata.cover))
    file.save()


def _write_ogg(path: Path, metadata: Metadata, chapters: Sequence[ChapterMark]) -> None:
    """The comment header of an Ogg Opus (RFC 7845 5.2) or Ogg Vorbis stream; the cover
    as a base64 ``METADATA_BLOCK_PICTURE`` (Xiph, "VorbisComment", Cover art)."""
    try:
        file = _opus.OggOpus(path)
    except MutagenError as opus_error:
        if isinstance(opus_error.args[0] if opus_error.args else None, OSError):
            raise
        file = _vorbis.OggVorbis(path)
    _fill_vorbis_comment(file.tags, metadata, chapters, path.name)
    if metadata.cover is not None:
        block = _picture_block(metadata.cover).write()
        file.tags["METADATA_BLOCK_PICTURE"] = [base64.b64encode(block).decode("ascii")]
    file.save()


def _write_wav(path: Path, metadata: Metadata, chapters: Sequence[ChapterMark]) -> None:
    """RIFF INFO fields and cue regions (:mod:`studio.audio.riff_tags`); WAV has no
    standard place for a cover."""
    info = {"INAM": metadata.title, "IART": metadata.artist, "ISTR": metadata.narrator,
            "IPRD": metadata.album, "ICRD": metadata.year, "IGNR": metadata.genre,
            "ICMT": metadata.comment}
    write_riff_tags(path, info, chapters)
