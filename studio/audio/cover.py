"""Cover images for exported audio: loaded, checked, never decoded. Qt-free.

A cover is embedded as-is (ID3 ``APIC``, MP4 ``covr``, FLAC ``PICTURE``), so only the
two formats every player shows are accepted: JPEG and PNG. The size in pixels comes
from the header alone, the PNG ``IHDR`` chunk (PNG, W3C 2nd ed., 11.2.2) or a JPEG
``SOFn`` frame header (ITU-T T.81, B.2.2), so a small file claiming a huge picture (a
decompression bomb) is refused without allocating anything. The file is also walked
chunk by chunk (PNG) or checked for its end-of-image marker (JPEG), which catches a
download or copy that was cut short.
"""

from __future__ import annotations

import stat
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

#: Largest width or height accepted, in pixels. Podcast directories ask for at most
#: 3000 x 3000; the margin is for print-resolution artwork.
MAX_SIDE = 8000

#: Default largest file accepted, in bytes (10 MiB). ID3v2 and MP4 carry more, but every
#: copy of the audio carries the cover too.
MAX_BYTES = 10 << 20

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SOI = b"\xff\xd8\xff"
# Channels per PNG colour type (PNG 11.2.2, table 11.1).
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_PNG_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
# SOFn markers that carry a frame header (T.81 table B.1): C4 (DHT), C8 (JPG) and
# CC (DAC) share the range but are not frame headers.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers without a length field (T.81 B.1.1.3): TEM and RST0-RST7.
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})


class CoverError(ValueError):
    """The cover file cannot be used; the message names the file and says why in words
    for the person who chose it."""


@dataclass(frozen=True, slots=True)
class CoverImage:
    """A JPEG or PNG picture to embed, exactly as read from disk.

    Attributes:
        data: the file's bytes, untouched.
        mime: ``"image/jpeg"`` or ``"image/png"``.
        width, height: pixels, from the header (1 to :data:`MAX_SIDE`).
        depth: bits per pixel (for a palette PNG, the 24 bits of its RGB palette
            entries), as the FLAC ``PICTURE`` block records it.
        colors: palette entries of an indexed PNG, else 0 (FLAC ``PICTURE`` block).
    """

    data: bytes
    mime: str
    width: int
    height: int
    depth: int = 24
    colors: int = 0


def load_cover(path: Path, *, max_bytes: int = MAX_BYTES) -> CoverImage:
    """Read and check a JPEG or PNG cover image without decoding its pixels.

    Args:
        path: the image file.
        max_bytes: largest file accepted, in bytes.

    Raises:
        CoverError: (a ``ValueError``) the file is missing, a folder or other non-regular
            file, unreadable, empty, larger than ``max_bytes``, changing while read, not a
            JPEG or PNG, cut short or damaged, or wider or taller than :data:`MAX_SIDE`
            pixels. The message starts with the file name.
    """
    path = Path(path)
    name = path.name or str(path)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise CoverError(f"{name} is a folder, not an image; choose a JPEG or PNG file")
        if not stat.S_ISREG(info.st_mode):  # a pipe or device could block or never end
            raise CoverError(f"{name} is not a regular file; choose a JPEG or PNG file")
        if info.st_size > max_bytes:
            raise CoverError(f"{name} is {_megabytes(info.st_size)}; covers can be at most "
                             f"{_megabytes(max_bytes)}")
        with open(path, "rb") as handle:
            # One byte more than stat() said tells a file that changed meanwhile.
            data = handle.read(info.st_size + 1)
    except FileNotFoundError:
        raise CoverError(f"{name} could not be found (was it moved or deleted?)") from None
    except PermissionError:
        raise CoverError(f"{name} could not be opened: permission denied") from None
    except OSError as exc:
        raise CoverError(f"{name} could not be read: {exc.strerror or exc}") from exc
    if len(data) != info.st_size:
        raise CoverError(f"{name} changed while it was being read; try again")
    return parse_cover(data, name)


def parse_cover(data: bytes, name: str = "the cover") -> CoverImage:
    """Check cover image bytes already in memory (see :func:`load_cover`).

    Args:
        data: the whole image file.
        name: what to call the image in error messages (a file name).

    Raises:
        CoverError: as :func:`load_cover`, except for the file-system reasons.
    """
    if not data:
        raise CoverError(f"{name} is empty (0 bytes); choose a JPEG or PNG image")
    if data.startswith(_PNG_SIGNATURE):
        cover = _parse_png(data, name)
    elif data.startswith(_JPEG_SOI):
        cover = _parse_jpeg(data, name)
    else:
        kind = _other_format(data)
        if kind:
            raise CoverError(f"{name} is {kind}; use a JPEG or PNG")
        raise CoverError(f"{name} is not a JPEG or PNG image; use a JPEG or PNG")
    if cover.width > MAX_SIDE or cover.height > MAX_SIDE:
        raise CoverError(f"{name} is {cover.width} x {cover.height} pixels; covers can be at "
                         f"most {MAX_SIDE} x {MAX_SIDE}")
    return cover


def _megabytes(size: int) -> str:
    """``size`` bytes for people: ``"12.5 MB"``, or ``"300 KB"`` under a megabyte."""
    if size < 1 << 20:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / (1 << 20):.1f} MB"


def _other_format(data: bytes) -> str:
    """A creator's name for a known non-JPEG/PNG format, or ``""``."""
    head = data[:16]
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "a GIF image"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "a WebP image"
    if head.startswith(b"BM"):
        return "a BMP image"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "a TIFF image"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1"):
        return "a HEIC image"
    if head[4:8] == b"ftyp" and head[8:12] in (b"avif", b"avis"):
        return "an AVIF image"
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head.lstrip().startswith((b"<svg", b"<?xml")):
        return "an SVG drawing"
    return ""


def _parse_png(data: bytes, name: str) -> CoverImage:
    """Header facts of a PNG, after walking its chunks to ``IEND`` (PNG 5.3, 11.2)."""
    damaged = CoverError(f"{name} is a damaged PNG image; export it again from your editor")
    short = CoverError(f"{name} is incomplete (the PNG file was cut short); copy or "
                       "download it again")
    pos = len(_PNG_SIGNATURE)
    if len(data) < pos + 8 + 13 + 4:
        raise short
    length, kind = struct.unpack_from(">I4s", data, pos)
    if kind != b"IHDR" or length != 13:
        raise damaged
    ihdr = data[pos + 4:pos + 8 + 13]
    (crc,) = struct.unpack_from(">I", data, pos + 8 + 13)
    if zlib.crc32(ihdr) != crc:
        raise damaged
    width, height, bit_depth, color_type = struct.unpack_from(">IIBB", ihdr, 4)
    if width == 0 or height == 0 or bit_depth not in _PNG_DEPTHS.get(color_type, ()):
        raise damaged
    colors = 0
    seen_data = False
    pos += 8 + 13 + 4
    while True:
        if pos + 12 > len(data):
            raise short
        length, kind = struct.unpack_from(">I4s", data, pos)
        if length > 0x7FFFFFFF:  # PNG 5.3: lengths are limited to 2^31 - 1
            raise damaged
        if pos + 12 + length > len(data):
            raise short
        if kind == b"PLTE":
            colors = length // 3
        elif kind == b"IDAT":
            seen_data = True
        elif kind == b"IEND":
            break
        pos += 12 + length
    if not seen_data or (color_type == 3 and not colors):
        raise damaged
    # A palette image's samples are indexes into 8-bit RGB entries (PNG 11.2.3).
    depth = 24 if color_type == 3 else bit_depth * _PNG_CHANNELS[color_type]
    return CoverImage(data, "image/png", width, height, depth, colors)


def _parse_jpeg(data: bytes, name: str) -> CoverImage:
    """Header facts of a JPEG from its first SOFn frame header (T.81 B.2.2)."""
    damaged = CoverError(f"{name} is a damaged JPEG image; export it again from your editor")
    short = CoverError(f"{name} is incomplete (the JPEG file was cut short); copy or "
                       "download it again")
    pos = 2
    frame: tuple[int, int, int, int] | None = None
    while frame is None:
        # Markers may be preceded by any number of 0xFF fill bytes (T.81 B.1.1.2).
        while pos < len(data) and data[pos] == 0xFF:
            pos += 1
        if pos >= len(data):
            raise short
        marker = data[pos]
        pos += 1
        if marker in _JPEG_STANDALONE:
            continue
        if marker in (0x00, 0xD8, 0xD9, 0xDA):  # no frame header before scan or end
            raise damaged
        if pos + 2 > len(data):
            raise short
        (length,) = struct.unpack_from(">H", data, pos)
        if length < 2:
            raise damaged
        if pos + length > len(data):
            raise short
        if marker in _JPEG_SOF:
            if length < 8:
                raise damaged
            precision, height, width, components = struct.unpack_from(">BHHB", data, pos + 2)
            frame = (precision, height, width, components)
        pos += length
    precision, height, width, components = frame
    # Height 0 defers the line count to a DNL marker (T.81 B.2.5), which no cover needs
    # and few players handle.
    if width == 0 or height == 0 or components == 0:
        raise damaged
    if data.rfind(b"\xff\xd9", pos) < 0:  # EOI: the last marker of a complete image
        raise short
    return CoverImage(data, "image/jpeg", width, height, precision * components, 0)
