"""Chapter sidecar files written beside an export. Qt-free.

Two formats:

- An Audacity label track (the text Audacity's File > Export > Export Labels writes and
  File > Import > Labels reads): one line per label, ``start<TAB>end<TAB>title``, times
  in seconds with six decimals and a dot as the decimal separator.
- Podcasting 2.0 JSON chapters ("JSON Chapters Format" 1.2, podcast-namespace
  ``chapters/jsonChapters.md``): ``{"version": "1.2.0", "title"?, "chapters":
  [{"startTime", "endTime"?, "title"?}]}``, times in seconds, chapters in ascending
  ``startTime``; served as ``application/json+chapters`` and linked from the feed's
  ``<podcast:chapters>`` tag.

Both are written atomically (:func:`studio.audio.atomic.atomic_path`: a temporary file
in the same folder, renamed over ``path``), so a failure leaves nothing at ``path`` and
an earlier file there stays whole.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from studio.audio.atomic import atomic_path
from studio.audio.tags import ChapterMark, check_chapters

#: The Podcasting 2.0 chapters format version written.
PODCAST_CHAPTERS_VERSION = "1.2.0"


def _one_line(text: str) -> str:
    """``text`` with tabs and line breaks turned into single spaces."""
    return " ".join(text.replace("\t", " ").split())


def audacity_labels(chapters: Sequence[ChapterMark]) -> str:
    """The text of an Audacity label track with one region label per chapter.

    Titles lose tabs and line breaks (they would start a new field or label).

    Raises:
        ValueError: chapters out of order (:func:`studio.audio.tags.check_chapters`).
    """
    check_chapters(chapters)
    return "".join(f"{c.start:.6f}\t{c.end:.6f}\t{_one_line(c.title)}\n" for c in chapters)


def podcast_chapters(chapters: Sequence[ChapterMark], *, title: str = "") -> dict[str, Any]:
    """A Podcasting 2.0 chapters document, times rounded to the millisecond.

    Args:
        chapters: in timeline order, seconds.
        title: the episode title (the format's optional top-level ``title``); left out
            when empty, as are empty chapter titles.

    Raises:
        ValueError: chapters out of order.
    """
    check_chapters(chapters)
    entries: list[dict[str, Any]] = []
    for chapter in chapters:
        entry: dict[str, Any] = {"startTime": round(chapter.start, 3),
                                 "endTime": round(chapter.end, 3)}
        if chapter.title:
            entry["title"] = chapter.title
        entries.append(entry)
    document: dict[str, Any] = {"version": PODCAST_CHAPTERS_VERSION}
    if title:
        document["title"] = title
    document["chapters"] = entries
    return document


def write_audacity_labels(chapters: Sequence[ChapterMark], path: Path) -> None:
    """Write :func:`audacity_labels` to ``path`` as UTF-8, atomically.

    Raises:
        ValueError: chapters out of order (nothing is written).
        OSError: the file cannot be written; nothing is left at ``path``.
    """
    _write_text(Path(path), audacity_labels(chapters))


def write_podcast_chapters(chapters: Sequence[ChapterMark], path: Path, *,
                           title: str = "") -> None:
    """Write :func:`podcast_chapters` to ``path`` as UTF-8 JSON, atomically.

    Raises:
        ValueError: chapters out of order (nothing is written).
        OSError: the file cannot be written; nothing is left at ``path``.
    """
    document = podcast_chapters(chapters, title=title)
    _write_text(Path(path), json.dumps(document, ensure_ascii=False, indent=2) + "\n")


def _write_text(path: Path, text: str) -> None:
    with atomic_path(path) as temp:
        # newline="" keeps "\n" on Windows too: Audacity and JSON readers expect it.
        temp.write_text(text, encoding="utf-8", newline="")
