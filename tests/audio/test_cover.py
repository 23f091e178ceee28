"""Cover images: JPEG and PNG accepted from their headers alone; everything else refused
with a message that names the file (studio.audio.cover)."""

from __future__ import annotations

import os
import struct
import tracemalloc
import zlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from studio.audio import cover as cover_module
from studio.audio.cover import MAX_SIDE, CoverError, CoverImage, load_cover


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I",
                                                                    zlib.crc32(kind + body))


def _png(width: int, height: int, *, color_type: int = 2, bit_depth: int = 8,
         pixels: bool = True) -> bytes:
    """A PNG; with ``pixels=False`` the IDAT is a token one, whatever the header says."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    palette = _chunk(b"PLTE", b"\x00\x00\x00\xff\xff\xff") if color_type == 3 else b""
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]
    row = b"\0" + b"\x01" * ((width * channels * bit_depth + 7) // 8)
    idat = zlib.compress(row * height if pixels else b"\0")
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + palette + _chunk(b"IDAT", idat)
            + _chunk(b"IEND", b""))


def _jpeg(width: int, height: int) -> bytes:
    """A baseline JPEG from FFmpeg's MJPEG encoder (through PyAV)."""
    context = av.CodecContext.create("mjpeg", "w")
    context.width, context.height = width, height
    context.pix_fmt = "yuvj420p"
    context.time_base = Fraction(1, 25)
    frame = av.VideoFrame.from_ndarray(np.zeros((height, width, 3), np.uint8),
                                       format="rgb24").reformat(format="yuvj420p")
    return b"".join(bytes(p) for p in [*context.encode(frame), *context.encode(None)])


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def test_png_header_gives_size_depth_and_palette(tmp_path: Path) -> None:
    data = _png(300, 200)
    cover = load_cover(_write(tmp_path, "cover.png", data))
    assert cover == CoverImage(data, "image/png", 300, 200, depth=24, colors=0)

    grey16 = load_cover(_write(tmp_path, "grey.png", _png(5, 7, color_type=0, bit_depth=16)))
    assert (grey16.width, grey16.height, grey16.depth) == (5, 7, 16)
    rgba = load_cover(_write(tmp_path, "rgba.png", _png(4, 4, color_type=6)))
    assert rgba.depth == 32
    indexed = load_cover(_write(tmp_path, "indexed.png", _png(4, 4, color_type=3,
                                                              bit_depth=1)))
    assert (indexed.depth, indexed.colors) == (24, 2)


def test_jpeg_size_comes_from_the_frame_header(tmp_path: Path) -> None:
    data = _jpeg(64, 48)
    cover = load_cover(_write(tmp_path, "cover.jpg", data))
    assert (cover.mime, cover.width, cover.height, cover.depth) == ("image/jpeg", 64, 48, 24)
    assert cover.data == data


def test_progressive_jpeg_with_fill_bytes_is_read(tmp_path: Path) -> None:
    """SOF2 (progressive) after an APP segment, markers padded with 0xFF fill bytes."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"
    sof2 = b"\xff\xff\xff\xc2" + struct.pack(">HBHHB", 8 + 3 * 3, 8, 1500, 2000, 3) + bytes(9)
    sos = b"\xff\xda" + struct.pack(">H", 8) + bytes(6) + b"\x12\x34"
    data = b"\xff\xd8" + app0 + sof2 + sos + b"\xff\xd9"
    cover = load_cover(_write(tmp_path, "prog.jpeg", data))
    assert (cover.width, cover.height) == (2000, 1500)


def test_a_huge_png_is_refused_from_its_header_without_decoding(tmp_path: Path) -> None:
    path = _write(tmp_path, "bomb.png", _png(100_000, 100_000, pixels=False))
    tracemalloc.start()
    try:
        with pytest.raises(CoverError, match=r"bomb\.png is 100000 x 100000 pixels; covers "
                                             rf"can be at most {MAX_SIDE} x {MAX_SIDE}"):
            load_cover(path)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20  # decoding would need 30 GB


def test_a_huge_jpeg_is_refused(tmp_path: Path) -> None:
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 8 + 3, 8, 9000, 100, 1) + bytes(3)
    data = b"\xff\xd8" + sof0 + b"\xff\xda\x00\x02\xff\xd9"
    with pytest.raises(CoverError, match=r"wide\.jpg is 100 x 9000 pixels"):
        load_cover(_write(tmp_path, "wide.jpg", data))


@pytest.mark.parametrize(("name", "data", "kind"), [
    ("cover.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "a GIF image"),
    ("cover.webp", b"RIFF\x1a\x00\x00\x00WEBPVP8 ", "a WebP image"),
    ("cover.bmp", b"BM" + bytes(60), "a BMP image"),
    ("cover.tif", b"II*\x00" + bytes(20), "a TIFF image"),
    ("cover.heic", b"\x00\x00\x00\x18ftypheic" + bytes(12), "a HEIC image"),
    ("cover.pdf", b"%PDF-1.7\n", "a PDF document"),
])
def test_other_image_formats_are_named(tmp_path: Path, name: str, data: bytes,
                                       kind: str) -> None:
    with pytest.raises(CoverError, match=f"^{name} is {kind}; use a JPEG or PNG$"):
        load_cover(_write(tmp_path, name, data))


def test_unknown_bytes_are_not_an_image(tmp_path: Path) -> None:
    with pytest.raises(CoverError, match=r"notes\.txt is not a JPEG or PNG image"):
        load_cover(_write(tmp_path, "notes.txt", b"chapter one\n"))


def test_cut_short_files_are_called_incomplete(tmp_path: Path) -> None:
    png = _png(40, 40)
    jpeg = _jpeg(40, 40)
    for name, data in (("half.png", png[:len(png) // 2]), ("head.png", png[:20]),
                       ("half.jpg", jpeg[:len(jpeg) // 2]), ("head.jpg", jpeg[:3])):
        with pytest.raises(CoverError, match=f"{name} is incomplete"):
            load_cover(_write(tmp_path, name, data))


def test_damaged_headers_are_refused(tmp_path: Path) -> None:
    png = bytearray(_png(10, 10))
    png[20] ^= 0xFF  # inside IHDR: the CRC no longer matches
    with pytest.raises(CoverError, match=r"bad\.png is a damaged PNG"):
        load_cover(_write(tmp_path, "bad.png", bytes(png)))
    no_frame = b"\xff\xd8\xff\xda\x00\x02\xff\xd9"  # scan before any frame header
    with pytest.raises(CoverError, match=r"bad\.jpg is a damaged JPEG"):
        load_cover(_write(tmp_path, "bad.jpg", no_frame))


def test_empty_file_folder_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CoverError, match=r"empty\.png is empty \(0 bytes\)"):
        load_cover(_write(tmp_path, "empty.png", b""))
    (tmp_path / "art.png").mkdir()
    with pytest.raises(CoverError, match=r"art\.png is a folder, not an image"):
        load_cover(tmp_path / "art.png")
    with pytest.raises(CoverError, match=r"gone\.png could not be found"):
        load_cover(tmp_path / "gone.png")


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    png = _png(200, 200)
    text = _chunk(b"tEXt", b"Comment\0" + b"x" * 5000)  # a valid PNG of over 5 KB
    path = _write(tmp_path, "big.png", png[:-12] + text + png[-12:])
    with pytest.raises(CoverError, match=r"big\.png is \d+ KB; covers can be at most 2 KB"):
        load_cover(path, max_bytes=2048)
    assert load_cover(path, max_bytes=path.stat().st_size).width == 200


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root reads files whatever their permissions")
def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "locked.png", _png(4, 4))
    path.chmod(0)
    try:
        with pytest.raises(CoverError, match=r"locked\.png could not be opened"):
            load_cover(path)
    finally:
        path.chmod(0o600)


@pytest.mark.parametrize(("error", "message"), [
    (PermissionError(13, "Permission denied"),
     r"locked\.png could not be opened: permission denied"),
    (OSError(5, "Input/output error"), r"locked\.png could not be read: Input/output error"),
])
def test_read_errors_are_told_in_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       error: OSError, message: str) -> None:
    path = _write(tmp_path, "locked.png", _png(4, 4))

    def failing_open(*_args: object, **_kwargs: object) -> None:
        raise error

    monkeypatch.setattr(cover_module, "open", failing_open, raising=False)
    with pytest.raises(CoverError, match=message):
        load_cover(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.png")
    with pytest.raises(CoverError, match=r"pipe\.png is not a regular file"):
        load_cover(tmp_path / "pipe.png")


def test_cover_error_is_a_value_error() -> None:
    assert issubclass(CoverError, ValueError)
