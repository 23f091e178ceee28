"""Plain text and Markdown books. Qt-free.

- ``.txt``: UTF-8 text; paragraphs separated by blank lines are blocks
  (:mod:`studio.project.script`), one chapter named after the file.
- ``.md``: ATX headings ``#`` and ``##`` start chapters with their title; emphasis,
  code spans, images and links are reduced to their text; list items are blocks.

In both, a line written ``NAME: text``, where NAME is a short capitalised name of at
most three words, starts a block spoken by NAME.
"""

from __future__ import annotations

import re
from pathlib import Path

from studio.project.books.model import (
    MAX_BOOK_BYTES,
    Builder,
    ImportedBook,
    Steps,
)
from studio.project.script import read_script_file, speaker_paragraphs


def read_txt(path: Path, steps: Steps) -> ImportedBook:
    """The paragraphs of a text file as one chapter named after the file."""
    script = read_script_file(path, MAX_BOOK_BYTES)
    steps.step(0.5, path.stem)
    builder = Builder(steps)
    builder.notices.extend(script.notices)
    builder.add_text(path.stem, speaker_paragraphs(script.text), speakers=True)
    return builder.book()


_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$|^ {0,3}(#{1,6})[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+")
_QUOTE = re.compile(r"^[ \t]*(?:>[ \t]?)+")
_REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:[ \t]*\S+.*$")
_INLINE = [
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # image: its alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # inline link
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # reference link
    (re.compile(r"<((?:https?|mailto):[^>\s]+)>"), r"\1"),  # autolink
    (re.compile(r"`+([^`]+?)`+"), r"\1"),  # code span
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # strong
    (re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?!\*)"), r"\1"),  # emphasis
    (re.compile(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)"), r"\1"),  # emphasis
    (re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"), r"\1"),  # strikethrough
    (re.compile(r"<!--.*?-->"), ""),  # comment on one line
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!>~|])"), r"\1"),  # backslash escapes
]


def _markdown_inline(text: str) -> str:
    for pattern, replacement in _INLINE:
        text = pattern.sub(replacement, text)
    return text


def read_md(path: Path, steps: Steps) -> ImportedBook:
    """Chapters at `#` and `##` headings (module doc)."""
    script = read_script_file(path, MAX_BOOK_BYTES)
    builder = Builder(steps)
    builder.notices.extend(script.notices)
    title, body = path.stem, list[str]()
    in_fence = False
    lines = script.text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, line in enumerate(lines):
        if _FENCE.match(line):
            in_fence = not in_fence
            body.append("")
            continue
        if in_fence:
            body.append(line)
            continue
        heading = _ATX.match(line)
        if heading is not None:
            level = len(heading.group(1) or heading.group(3))
            text = _markdown_inline(heading.group(2) or "").strip()
            if level <= 2:
                steps.step(number / len(lines), title)
                builder.add_text(title, speaker_paragraphs("\n".join(body)), speakers=True)
                title = text or f"Chapter {len(builder.chapters) + 1}"
                body = []
            else:  # a deeper heading is read as a paragraph of its own
                body.extend(["", text, ""])
            continue
        if _RULE.match(line) or _REFERENCE.match(line):
            body.append("")
            continue
        if _LIST_ITEM.match(line):  # every list item is a block
            body.extend(["", _markdown_inline(_LIST_ITEM.sub("", line, count=1))])
            continue
        body.append(_markdown_inline(_QUOTE.sub("", line, count=1)))
    builder.add_text(title, speaker_paragraphs("\n".join(body)), speakers=True)
    return builder.book()

