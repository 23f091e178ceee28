"""Text tags and chapter regions in a WAV file's RIFF chunks. Qt-free.

mutagen writes ID3 into WAV but not the RIFF ``INFO`` list that WAV players and
editors read, so the chunks are written here, after "Multimedia Programming Interface
and Data Specifications 1.0" (IBM/Microsoft, 1991; RIFF1991 below):

- ``LIST``/``INFO`` (RIFF1991, "INFO List Chunk"): one ``ZSTR`` sub-chunk per field.
  The text is UTF-8: RIFF1991 predates Unicode and leaves the character set to a
  ``CSET`` chunk nobody writes; FFmpeg and libsndfile read these fields as UTF-8.
- ``cue `` (RIFF1991, "Cue-Points Chunk"): one cue point per chapter, positioned in
  sample frames of the ``data`` chunk.
- ``LIST``/``adtl`` (RIFF1991, "Associated Data List"): a ``labl`` with each chapter's
  title, and an ``ltxt`` giving its length in frames (purpose ``rgn ``, the code wave
  editors use for regions) so the chapter's end is kept too.

The audio is never moved: any earlier ``INFO``/``cue ``/``adtl`` chunk before the audio
becomes a ``JUNK`` chunk (the RIFF filler readers skip) and the new chunks go after the
``data`` chunk (RIFF1991 puts no order on chunks; FFmpeg and libsndfile find them
there). The RIFF size is updated (for an RF64/BW64 file over 4 GiB, EBU Tech 3306, the
64-bit one in its ``ds64`` chunk). Other chunks (``fmt ``, ``bext``, ``id3 ``...) and
``INFO`` fields not written here (such as the encoder's ``ISFT``) are kept.
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

#: The largest size a RIFF file can declare (a 32-bit field, RIFF1991).
MAX_RIFF_SIZE = 0xFFFFFFFF

#: INFO fields this module owns: replaced on every write, removed when empty.
INFO_FIELDS = ("INAM", "IART", "IPRD", "ICRD", "IGNR", "ICMT", "ISTR")


class Span(Protocol):
    """A titled stretch of the timeline (``studio.audio.tags.ChapterMark``)."""

    @property
    def title(self) -> str: ...
    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...


@dataclass(frozen=True, slots=True)
class _Chunk:
    """A top-level chunk: where its header starts and what it holds."""

    offset: int
    ident: bytes
    size: int
    list_type: bytes  # the form type of a LIST chunk, else b""

    @property
    def end(self) -> int:
        """Offset just past the chunk, its pad byte included (RIFF chunks are word
        aligned, RIFF1991 "Chunks")."""
        return self.offset + 8 + self.size + (self.size & 1)


@dataclass(frozen=True, slots=True)
class _Layout:
    """The top-level structure of a WAV file.

    Attributes:
        chunks: every top-level chunk, in file order.
        ds64: offset of the RF64/BW64 ``ds64`` chunk, or -1 for a plain RIFF file.
        end: where the RIFF/RF64 chunk ends (bytes after it are not part of the WAV).
    """

    chunks: list[_Chunk]
    ds64: int
    end: int


def write_riff_tags(path: Path, info: Mapping[str, str], chapters: Sequence[Span]) -> None:
    """Write ``info`` fields and ``chapters`` as cue regions into the WAV file ``path``.

    The file is changed in place; on failure it may be left half-written, so write into
    a temporary copy (as the export does) and rename it only on success. RF64 and BW64
    files (WAV over 4 GiB, EBU Tech 3306 and ITU-R BS.2088) are handled: their 64-bit
    RIFF size lives in the ``ds64`` chunk.

    Args:
        path: a RIFF, RF64 or BW64 WAVE file.
        info: INFO field id (4 characters, e.g. ``"INAM"``) -> text. Fields listed in
            :data:`INFO_FIELDS` but absent or empty here are removed; newlines become
            spaces, as RIFF1991 asks of ``ICMT``.
        chapters: in timeline order; ``start``/``end`` in seconds, turned into sample
            frames at the rate of the ``fmt `` chunk. A region's end is cut at the end
            of the audio.

    Raises:
        ValueError: not a WAV file, a file cut short or with an unfinished ``data`` size,
            a chapter starting at or after the end of the audio, a cue position past
            2^32 frames, or a plain RIFF file that would grow past 4 GiB.
        OSError: the file cannot be read or written.
    """
    name = path.name
    with open(path, "r+b") as handle:
        file_size = os.fstat(handle.fileno()).st_size
        layout = _read_layout(handle, file_size, name)
        fmt = next((c for c in layout.chunks if c.ident == b"fmt "), None)
        data = next((c for c in layout.chunks if c.ident == b"data"), None)
        if fmt is None or data is None or fmt.size < 16:
            raise ValueError(f"{name} is not a playable WAV file (no audio format or data)")
        handle.seek(fmt.offset + 8)
        _tag, _channels, sample_rate, _rate, block_align = struct.unpack(
            "<HHIIH", handle.read(14))
        if sample_rate <= 0 or block_align <= 0:
            raise ValueError(f"{name} has a damaged audio format header")
        frames = data.size // block_align

        # Everything is read and checked before the first byte is written.
        old_info: list[tuple[bytes, bytes]] = []
        tail: list[bytes] = []
        retired: list[int] = []  # offsets of owned chunks before the audio
        for chunk in layout.chunks:
            owned = chunk.ident == b"cue " or chunk.list_type in (b"INFO", b"adtl")
            if chunk.list_type == b"INFO":
                old_info.extend(_info_entries(handle, chunk))
            if chunk.offset < data.offset:
                if owned:
                    retired.append(chunk.offset)
            elif chunk.offset > data.offset and not owned:
                handle.seek(chunk.offset)
                tail.append(handle.read(chunk.end - chunk.offset).ljust(
                    chunk.end - chunk.offset, b"\0"))
        tail.append(_info_chunk(old_info, info))
        if chapters:
            tail.append(_cue_chunk(chapters, sample_rate, frames, name))
            tail.append(_adtl_chunk(chapters, sample_rate, frames))
        body = b"".join(tail)
        riff_size = data.end - 8 + len(body)
        if layout.ds64 < 0 and riff_size > MAX_RIFF_SIZE:
            raise ValueError(f"{name} would grow past 4 GB, the most a WAV file can hold; "
                             "export FLAC instead")
        # Bytes after the RIFF chunk are not part of the WAV; keep them after it.
        handle.seek(layout.end)
        trailer = handle.read()

        for offset in retired:
            handle.seek(offset)
            handle.write(b"JUNK")
        handle.seek(data.end)
        handle.write(body + trailer)
        handle.truncate()
        if layout.ds64 < 0:
            handle.seek(4)
            handle.write(struct.pack("<I", riff_size))
        else:  # ds64: riffSize, dataSize, sampleCount (64 bits each), EBU Tech 3306 3.2
            handle.seek(layout.ds64 + 8)
            handle.write(struct.pack("<Q", riff_size))


def _read_layout(handle: BinaryIO, file_size: int, name: str) -> _Layout:
    """The chunks of a RIFF, RF64 or BW64 WAVE file (RIFF1991; EBU Tech 3306 3.1-3.3)."""
    handle.seek(0)
    header = handle.read(12)
    form = header[:4]
    if len(header) < 12 or header[8:12] != b"WAVE" or form not in (b"RIFF", b"RF64",
                                                                   b"BW64"):
        raise ValueError(f"{name} is not a WAV file")
    ds64 = -1
    data_size = -1
    if form == b"RIFF":
        (riff_size,) = struct.unpack("<I", header[4:8])
    else:
        ds64_header = handle.read(8 + 16)
        if len(ds64_header) < 24 or ds64_header[:4] != b"ds64":
            raise ValueError(f"{name} is a damaged RF64 WAV file (no ds64 chunk)")
        ds64 = 12
        riff_size, data_size = struct.unpack_from("<QQ", ds64_header, 8)
    end = min(8 + riff_size, file_size)
    chunks: list[_Chunk] = []
    offset = 12
    while offset + 8 <= end:
        handle.seek(offset)
        ident, size = struct.unpack("<4sI", handle.read(8))
        if ident == b"data" and size == MAX_RIFF_SIZE:
            if data_size < 0:
                # A streaming writer's placeholder, never patched (recording cut off).
                raise ValueError(f"{name} was not finished by the program that wrote it")
            size = data_size
        if offset + 8 + size > file_size:
            raise ValueError(f"{name} is incomplete (the WAV file was cut short)")
        list_type = handle.read(4) if ident == b"LIST" and size >= 4 else b""
        chunk = _Chunk(offset, ident, size, list_type)
        chunks.append(chunk)
        offset = chunk.end
    return _Layout(chunks, ds64, end)


def _info_entries(handle: BinaryIO, chunk: _Chunk) -> list[tuple[bytes, bytes]]:
    """``(id, text bytes)`` of each sub-chunk of an INFO list, terminators stripped."""
    handle.seek(chunk.offset + 12)
    body = handle.read(chunk.size - 4)
    entries: list[tuple[bytes, bytes]] = []
    pos = 0
    while pos + 8 <= len(body):
        ident, size = struct.unpack_from("<4sI", body, pos)
        entries.append((ident, body[pos + 8:pos + 8 + size].split(b"\0", 1)[0]))
        pos += 8 + size + (size & 1)
    return entries


def _sub_chunk(ident: bytes, payload: bytes) -> bytes:
    pad = b"\0" if len(payload) & 1 else b""
    return struct.pack("<4sI", ident, len(payload)) + payload + pad


def _info_chunk(old: Sequence[tuple[bytes, bytes]], info: Mapping[str, str]) -> bytes:
    """An INFO list: earlier fields this module does not own, then ``info``'s; or
    ``b""`` when there is nothing to say."""
    owned = {f.encode("ascii") for f in INFO_FIELDS} | {f.encode("ascii") for f in info}
    parts = [_sub_chunk(ident, text + b"\0") for ident, text in old if ident not in owned]
    for field, text in info.items():
        ident = field.encode("ascii")
        if len(ident) != 4:
            raise ValueError(f"INFO field ids have 4 characters, got {field!r}")
        value = " ".join(text.replace("\0", "").splitlines()).strip()
        if value:
            parts.append(_sub_chunk(ident, value.encode("utf-8") + b"\0"))
    if not parts:
        return b""
    return _sub_chunk(b"LIST", b"INFO" + b"".join(parts))


def _frame(seconds: float, sample_rate: int) -> int:
    return math.floor(seconds * sample_rate + 0.5)


def _cue_chunk(chapters: Sequence[Span], sample_rate: int, frames: int, name: str) -> bytes:
    """A ``cue `` chunk, cue point ids 1..n (RIFF1991 ``<cue-point>``: dwName,
    dwPosition, fccChunk, dwChunkStart, dwBlockStart, dwSampleOffset)."""
    points = []
    for cue_id, chapter in enumerate(chapters, start=1):
        position = _frame(chapter.start, sample_rate)
        if position >= frames:
            raise ValueError(f'chapter "{chapter.title}" starts at {chapter.start:.3f} s, '
                             f"after the end of {name} ({frames / sample_rate:.3f} s)")
        if position > MAX_RIFF_SIZE:  # dwPosition and dwSampleOffset are 32-bit
            raise ValueError(f'chapter "{chapter.title}" starts too late in {name} for a '
                             "WAV cue point (past 2^32 sample frames)")
        points.append(struct.pack("<II4sIII", cue_id, position, b"data", 0, 0, position))
    return _sub_chunk(b"cue ", struct.pack("<I", len(points)) + b"".join(points))


def _adtl_chunk(chapters: Sequence[Span], sample_rate: int, frames: int) -> bytes:
    """A ``LIST``/``adtl`` with a ``labl`` (title) and an ``ltxt`` region (length in
    frames, purpose ``rgn ``; country, language, dialect, code page 0) per cue."""
    parts = []
    for cue_id, chapter in enumerate(chapters, start=1):
        start = _frame(chapter.start, sample_rate)
        length = min(max(0, min(_frame(chapter.end, sample_rate), frames) - start),
                     MAX_RIFF_SIZE)
        parts.append(_sub_chunk(b"ltxt", struct.pack("<II4sHHHH", cue_id, length, b"rgn ",
                                                     0, 0, 0, 0)))
        title = chapter.title.replace("\0", "").encode("utf-8")
        parts.append(_sub_chunk(b"labl", struct.pack("<I", cue_id) + title + b"\0"))
    return _sub_chunk(b"LIST", b"adtl" + b"".join(parts))
