"""Importing a book: every format read into chapters of blocks, and bad input refused."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from studio.project.books import (
    BookImportError,
    ImportCancelled,
    ImportedBlock,
    html_blocks,
    read_book,
)
from studio.project.books import model as book_import


def _texts(path: Path) -> list[tuple[str, list[str]]]:
    return [(c.title, [b.text for b in c.blocks]) for c in read_book(path).chapters]


# --- TXT and Markdown --------------------------------------------------------------


def test_txt_paragraphs_are_blocks_and_names_set_speakers(tmp_path: Path) -> None:
    path = tmp_path / "story.txt"
    path.write_text(
        "It was a dark night.\nThe wind blew.\n\nALICE: Who is there?\n"
        "Bob Smith: Only me.\n\nNote this: lower case words are no name.\n",
        encoding="utf-8",
    )
    book = read_book(path)
    assert [c.title for c in book.chapters] == ["story"]
    assert book.chapters[0].blocks == [
        ImportedBlock("It was a dark night. The wind blew."),
        ImportedBlock("Who is there?", "ALICE"),
        ImportedBlock("Only me.", "Bob Smith"),
        ImportedBlock("Note this: lower case words are no name."),
    ]
    assert book.notices == []


def test_txt_long_paragraph_is_cut_with_a_notice(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text(" ".join(["A sentence of some words here."] * 400), encoding="utf-8")
    book = read_book(path)
    assert len(book.chapters[0].blocks) > 1
    assert len(book.notices) == 1 and "cut at sentence ends" in book.notices[0]


def test_txt_not_utf8_gives_the_script_message(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("caf\u00e9\n".encode("latin-1"))
    with pytest.raises(BookImportError, match=r"not UTF-8 text \(bad byte 0xe9 at byte 3"):
        read_book(path)


def test_markdown_headings_start_chapters_and_markup_is_stripped(tmp_path: Path) -> None:
    path = tmp_path / "book.md"
    path.write_text(
        "A foreword before any heading.\n\n"
        "# Chapter *One*\n\nSome **bold** and _quiet_ words with a [link](http://x.org).\n\n"
        "- first item\n- second `code`\n\n### A small heading\n\nNARRATOR: Then it ended.\n\n"
        "## Chapter Two ##\n\nMARY JANE: ![a map](map.png) Look!\n",
        encoding="utf-8",
    )
    book = read_book(path)
    assert [(c.title, [b.text for b in c.blocks]) for c in book.chapters] == [
        ("book", ["A foreword before any heading."]),
        ("Chapter One", [
            "Some bold and quiet words with a link.", "first item", "second code",
            "A small heading", "Then it ended.",
        ]),
        ("Chapter Two", ["a map Look!"]),
    ]
    assert book.chapters[1].blocks[-1].speaker == "NARRATOR"
    assert book.chapters[2].blocks[0].speaker == "MARY JANE"


# --- DOCX ----------------------------------------------------------------------------


def _docx(path: Path, with_text: bool = True) -> Path:
    import docx

    document = docx.Document()
    if with_text:
        document.add_paragraph("Title page words.")
        document.add_heading("The Beginning", level=1)
        document.add_paragraph("First paragraph.")
        document.add_paragraph("   ")
        document.add_paragraph("Second paragraph.")
        document.add_heading("The End", level=1)
        document.add_heading("A sub heading", level=3)
        document.add_paragraph("Last paragraph.")
    document.save(str(path))
    return path


def test_docx_heading_1_starts_chapters(tmp_path: Path) -> None:
    assert _texts(_docx(tmp_path / "novel.docx")) == [
        ("novel", ["Title page words."]),
        ("The Beginning", ["First paragraph.", "Second paragraph."]),
        ("The End", ["A sub heading", "Last paragraph."]),
    ]


def test_docx_without_text_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BookImportError, match="no text found"):
        read_book(_docx(tmp_path / "images.docx", with_text=False))


@pytest.mark.parametrize("content", [b"not a zip at all", b"PK\x03\x04broken"])
def test_docx_not_a_package_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.docx"
    path.write_bytes(content)
    with pytest.raises(BookImportError, match="not a readable DOCX file"):
        read_book(path)


def test_docx_zip_without_word_parts_is_refused(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "other.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(BookImportError, match="not a readable DOCX file"):
        read_book(path)


# --- EPUB ----------------------------------------------------------------------------


def _epub(path: Path, *, nav: bool = True) -> Path:
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("id-1")
    book.set_title("A Test Book")
    book.set_language("en")
    chapters = []
    bodies = [
        "<h1>One</h1><p>The first  paragraph.</p><p>Second &amp; last.</p>",
        "<h2>Heading Two</h2><script>var x = 1;</script><style>p {}</style>"
        "<ul><li>apple</li><li>pear</li></ul>",
        "<div>Third <b>chapter</b><br/>text.</div>",
    ]
    for number, body in enumerate(bodies, start=1):
        chapter = epub.EpubHtml(title=f"Toc {number}", file_name=f"text/ch{number}.xhtml")
        chapter.content = f"<html><body>{body}</body></html>"
        book.add_item(chapter)
        chapters.append(chapter)
    if nav:
        book.toc = [
            epub.Link("text/ch1.xhtml", "The First Chapter", "c1"),
            (epub.Section("Part Two"), [epub.Link("text/ch2.xhtml#top", "The Second", "c2")]),
        ]
        book.add_item(epub.EpubNcx())
        book.add_item(epub.EpubNav())
        book.spine = ["nav", *chapters]
    else:
        book.spine = chapters
    epub.write_epub(str(path), book)
    return path


def test_epub_spine_order_with_titles_from_the_nav(tmp_path: Path) -> None:
    assert _texts(_epub(tmp_path / "book.epub")) == [
        ("The First Chapter", ["One", "The first paragraph.", "Second & last."]),
        ("The Second", ["Heading Two", "apple", "pear"]),
        ("Chapter 3", ["Third chapter text."]),
    ]


def test_epub_without_a_nav_takes_titles_from_headings(tmp_path: Path) -> None:
    assert [t for t, _ in _texts(_epub(tmp_path / "bare.epub", nav=False))] == [
        "One", "Heading Two", "Chapter 3",
    ]


def test_epub_not_a_book_is_refused(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "bad.epub"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip")
    with pytest.raises(BookImportError, match="not a readable EPUB file"):
        read_book(path)
    path.write_bytes(b"plain text")
    with pytest.raises(BookImportError, match="not a readable EPUB file"):
        read_book(path)


def test_html_blocks_drop_scripts_and_keep_the_first_heading() -> None:
    blocks, heading = html_blocks(
        "<head><title>T</title><style>x</style></head><body><p>a<br>b</p>"
        "<h3>Head</h3><script>no</script><li>item</li></body>"
    )
    assert blocks == ["a b", "Head", "item"]
    assert heading == "Head"


# --- Subtitles and CSV ----------------------------------------------------------------


def test_srt_cues_are_blocks_with_their_start(tmp_path: Path) -> None:
    path = tmp_path / "talk.srt"
    path.write_text(
        "1\n00:00:01,500 --> 00:00:03,000\nHello <i>there</i>.\n\n"
        "2\n00:01:02,250 --> 00:01:04,000\nTwo lines\nof text.\n",
        encoding="utf-8",
    )
    assert read_book(path).chapters[0].blocks == [
        ImportedBlock("Hello there.", cue_start=1.5),
        ImportedBlock("Two lines of text.", cue_start=62.25),
    ]


def test_vtt_cues_are_blocks_with_start_and_voice(tmp_path: Path) -> None:
    path = tmp_path / "talk.vtt"
    path.write_text(
        "WEBVTT\n\n00:00:00.750 --> 00:00:02.000\n<v Bob>Hi, Alice.</v>\n\n"
        "00:00:03.000 --> 00:00:04.000\nPlain cue.\n",
        encoding="utf-8",
    )
    assert read_book(path).chapters[0].blocks == [
        ImportedBlock("Hi, Alice.", "Bob", 0.75),
        ImportedBlock("Plain cue.", cue_start=3.0),
    ]


def test_csv_speaker_text_rows_with_and_without_header(tmp_path: Path) -> None:
    path = tmp_path / "cast.csv"
    path.write_text('speaker,text\nAlice,"Hello, Bob."\n,No one.\n\nBob,Hi.\n',
                    encoding="utf-8")
    blocks = read_book(path).chapters[0].blocks
    assert blocks == [
        ImportedBlock("Hello, Bob.", "Alice"), ImportedBlock("No one."),
        ImportedBlock("Hi.", "Bob"),
    ]
    path.write_text("Alice,One.\nBob,Two.\n", encoding="utf-8")
    assert [b.speaker for b in read_book(path).chapters[0].blocks] == ["Alice", "Bob"]


def test_csv_missing_column_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "cast.csv"
    path.write_text("speaker,text\nAlice,One.\nBob only\n", encoding="utf-8")
    with pytest.raises(BookImportError, match=r"cast.csv, line 3: expected two columns"):
        read_book(path)


# --- Limits ---------------------------------------------------------------------------


def test_unknown_extension_lists_the_supported_ones(tmp_path: Path) -> None:
    path = tmp_path / "book.pdf"
    path.write_bytes(b"%PDF")
    with pytest.raises(BookImportError, match=r"cannot import \.pdf; supported: \.txt, \.md"):
        read_book(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BookImportError, match="no such file"):
        read_book(tmp_path / "gone.txt")


def test_large_file_is_refused_with_its_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(book_import, "MAX_BOOK_BYTES", 1024)
    path = tmp_path / "big.epub"
    path.write_bytes(b"x" * 3 * 1024 * 1024)
    with pytest.raises(BookImportError, match=r"the file is 3\.0 MB, more than"):
        read_book(path)


def test_too_many_blocks_is_refused_with_the_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(book_import, "MAX_BOOK_BLOCKS", 5)
    path = tmp_path / "many.txt"
    path.write_text("\n\n".join(f"Paragraph {n}." for n in range(7)), encoding="utf-8")
    with pytest.raises(BookImportError, match="makes 7 blocks, more than the 5"):
        read_book(path)


def test_empty_text_file_has_no_text(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("\n\n  \n", encoding="utf-8")
    with pytest.raises(BookImportError, match="no text found"):
        read_book(path)


@pytest.mark.parametrize("suffix", [".docx", ".epub"])
def test_a_package_that_unpacks_to_gigabytes_is_refused_before_unpacking(
        tmp_path: Path, suffix: str) -> None:
    # A zip bomb: 1 GB of zeros compresses to about a megabyte.
    path = tmp_path / f"bomb{suffix}"
    chunk = bytes(1024 * 1024)
    name = "word/document.xml" if suffix == ".docx" else "OEBPS/big.xhtml"
    with (zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as package,
          package.open(name, "w", force_zip64=True) as member):
        for _ in range(1024):
            member.write(chunk)
    assert path.stat().st_size < 10 * 1024 * 1024
    with pytest.raises(BookImportError, match=r"unpacks to 1,024 MB"):
        read_book(path)


# --- Progress and cancel ---------------------------------------------------------------


def test_progress_goes_by_chapter_and_ends_at_one(tmp_path: Path) -> None:
    path = _epub(tmp_path / "book.epub")
    seen: list[tuple[float, str]] = []
    read_book(path, progress=lambda fraction, message: seen.append((fraction, message)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and seen[-1] == (1.0, "done")
    assert any("ch2.xhtml" in message for _, message in seen)


def test_cancel_stops_the_reading(tmp_path: Path) -> None:
    path = tmp_path / "book.md"
    path.write_text("".join(f"# Chapter {n}\n\nText {n}.\n\n" for n in range(10)),
                    encoding="utf-8")
    calls: list[float] = []

    def cancelled() -> bool:
        return len(calls) >= 3

    with pytest.raises(ImportCancelled):
        read_book(path, progress=lambda f, _m: calls.append(f), cancelled=cancelled)
    assert len(calls) == 3


def test_docx_with_only_images_says_so(tmp_path: Path) -> None:
    import struct
    import zlib

    import docx

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    picture = tmp_path / "p.png"  # a 1x1 grey PNG
    picture.write_bytes(b"\x89PNG\r\n\x1a\n"
                        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
                        + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b""))
    document = docx.Document()
    document.add_picture(str(picture))
    document.add_picture(str(picture))
    path = tmp_path / "pictures.docx"
    document.save(str(path))
    with pytest.raises(BookImportError, match="no text found, only 1 image; the studio imports"):
        read_book(path)
