"""Subtitles (SRT, WebVTT) and CSV scripts: one block per cue or row. Qt-free.

- ``.srt`` and ``.vtt``: one block per cue, with the cue's start in seconds
  (``ImportedBlock.cue_start``); a WebVTT ``<v Name>`` voice names the speaker.
- ``.csv``: ``speaker,text`` rows, header optional (ElevenLabs' layout); an empty
  speaker is the narrator; a row with one column is refused, naming its line.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from studio.project.books.model import (
    MAX_BOOK_BYTES,
    BookImportError,
    ImportedBlock,
    ImportedBook,
    ImportedChapter,
    Steps,
)
from studio.project.model import NARRATOR
from studio.project.script import read_script_file

_TAG = re.compile(r"<[^>]+>")


def _cue_text(text: str) -> str:
    return " ".join(_TAG.sub("", text).split())


def read_srt(path: Path, steps: Steps) -> ImportedBook:
    """One block per SRT cue, with its start."""
    import srt

    script = read_script_file(path, MAX_BOOK_BYTES)
    try:
        cues = list(srt.parse(script.text))
    except srt.SRTParseError as exc:
        raise BookImportError(f"{path.name}: not a readable SRT file ({exc})") from None
    blocks = [
        ImportedBlock(text, cue_start=cue.start.total_seconds())
        for cue in cues
        if (text := _cue_text(cue.content))
    ]
    return ImportedBook([ImportedChapter(path.stem, blocks)] if blocks else [],
                        list(script.notices))


def read_vtt(path: Path, steps: Steps) -> ImportedBook:
    """One block per WebVTT cue, with its start and its ``<v>`` voice as speaker."""
    import webvtt
    from webvtt.errors import MalformedFileError

    script = read_script_file(path, MAX_BOOK_BYTES)
    try:
        captions = webvtt.from_buffer(io.StringIO(script.text)).captions
    except MalformedFileError as exc:
        raise BookImportError(f"{path.name}: not a readable WebVTT file ({exc})") from None
    blocks = []
    for caption in captions:
        text = _cue_text(caption.text)
        if text:
            speaker = (getattr(caption, "voice", None) or NARRATOR).strip() or NARRATOR
            start = caption.start_time.in_milliseconds() / 1000
            blocks.append(ImportedBlock(text, speaker, start))
    return ImportedBook([ImportedChapter(path.stem, blocks)] if blocks else [],
                        list(script.notices))


# --- CSV -------------------------------------------------------------------------


def read_csv(path: Path, steps: Steps) -> ImportedBook:
    """One block per ``speaker,text`` row (module doc)."""
    script = read_script_file(path, MAX_BOOK_BYTES)
    lines = max(1, script.text.count("\n"))
    reader = csv.reader(io.StringIO(script.text, newline=""))
    blocks: list[ImportedBlock] = []
    try:
        for row in reader:
            if reader.line_num % 1000 == 0:
                steps.step(reader.line_num / lines, f"line {reader.line_num:,}")
            cells = [cell.strip() for cell in row]
            if not any(cells):
                continue
            if reader.line_num == 1 and [c.lower() for c in cells[:2]] == ["speaker", "text"]:
                continue
            if len(cells) < 2:
                raise BookImportError(
                    f"{path.name}, line {reader.line_num}: expected two columns, "
                    "speaker and text; found one"
                )
            speaker, text = cells[0], " ".join(cells[1].split())
            if text:
                blocks.append(ImportedBlock(text, speaker or NARRATOR))
    except csv.Error as exc:
        raise BookImportError(f"{path.name}, line {reader.line_num}: {exc}") from None
    return ImportedBook([ImportedChapter(path.stem, blocks)] if blocks else [],
                        list(script.notices))
