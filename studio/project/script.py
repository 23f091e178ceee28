"""Plain-text scripts: reading files and cutting them into blocks. Qt-free.

A script file is UTF-8 text; paragraphs separated by one or more blank lines are
blocks, and the lines inside a paragraph are joined with single spaces. Long
paragraphs are cut at sentence ends into pieces the API takes comfortably and
sent as continuations of one WebSocket context (seed: ``GenerationRequest.continue``).
"""

from __future__ import annotations

import re
from pathlib import Path

#: Characters per WebSocket input when a transcript is sent in continuations.
MAX_INPUT_CHARS = 500

_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?;:…。！？])\s+")


class ScriptError(ValueError):
    """A script that cannot be used, with a message fit to show the user."""


def read_script_file(path: Path) -> str:
    """The text of a UTF-8 script file (a UTF-8 BOM is dropped).

    Raises:
        ScriptError: if the file is missing, unreadable or not UTF-8 (naming the
            byte offset of the first bad byte).
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ScriptError(f"{path}: no such file") from None
    except OSError as exc:
        raise ScriptError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ScriptError(
            f"{path}: not UTF-8 text (bad byte 0x{raw[exc.start]:02x} at byte {exc.start}, "
            f"line {line}); save the script as UTF-8 and try again"
        ) from None


def split_paragraphs(text: str) -> list[str]:
    """Blocks of ``text``: paragraphs separated by blank lines, inner lines joined.

    Returns an empty list for text that holds only white space.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = []
    for chunk in _BLANK_LINE.split(text):
        joined = " ".join(line.strip() for line in chunk.split("\n") if line.strip())
        if joined:
            paragraphs.append(joined)
    return paragraphs


def split_for_streaming(transcript: str, limit: int = MAX_INPUT_CHARS) -> list[str]:
    """Cut ``transcript`` into pieces of at most ``limit`` characters.

    Cuts fall at sentence ends where possible, then at spaces, and only inside a
    word that alone exceeds ``limit``. Each piece but the last keeps its trailing
    space so the concatenation equals the input (whitespace runs folded to one).
    """
    if len(transcript) <= limit:
        return [transcript]
    pieces: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(transcript):
        for part in _fit(sentence, limit):
            candidate = f"{current} {part}" if current else part
            if len(candidate) <= limit:
                current = candidate
            else:
                pieces.append(current + " ")
                current = part
    if current:
        pieces.append(current)
    return pieces


def _fit(sentence: str, limit: int) -> list[str]:
    """``sentence`` as pieces of at most ``limit`` characters, cut at spaces."""
    if len(sentence) <= limit:
        return [sentence]
    out: list[str] = []
    current = ""
    for word in sentence.split():
        while len(word) > limit:
            if current:
                out.append(current)
                current = ""
            out.append(word[:limit])
            word = word[limit:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= limit:
            current = candidate
        else:
            out.append(current)
            current = word
    if current:
        out.append(current)
    return out
