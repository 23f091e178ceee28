"""Plain-text scripts: reading files and cutting them into blocks. Qt-free.

A script file is UTF-8 text; paragraphs separated by one or more blank lines are
blocks, and the lines inside a paragraph are joined with single spaces. Long
paragraphs are cut at sentence ends into pieces the API takes comfortably and
sent as continuations of one WebSocket context (seed: ``GenerationRequest.continue``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TypeAlias

from studio.project.transcript import segments

#: Characters per WebSocket input when a transcript is sent in continuations.
MAX_INPUT_CHARS = 500

_BLANK_LINE = re.compile(r"\n[ \t]*\n")


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

    Cuts fall at sentence ends where possible, then between words, and only inside a
    word that alone exceeds ``limit``. Inline tags (``<break time="1s"/>``) and whole
    ``<spell>...</spell>`` spans are never cut, even where one alone exceeds
    ``limit``. Each piece but the last ends with a space, so the pieces joined give
    the input with runs of white space folded to one.
    """
    if len(transcript) <= limit:
        return [transcript]
    pieces: list[str] = []
    current = ""
    for sentence in _sentences(_atoms(transcript)):
        for part in _fit(sentence, limit):
            candidate = f"{current} {part}" if current else part
            if len(candidate) <= limit:
                current = candidate
            else:
                if current:
                    pieces.append(current + " ")
                current = part
    if current:
        pieces.append(current)
    return pieces


_ENDS_SENTENCE = re.compile(r"[.!?;:…。！？][\"')\]]*$")


#: A piece of a transcript that is never cut (:func:`studio.project.transcript.segments`):
#: its text, whether white space preceded it, whether it is a tag or a spelled span.
_Atom: TypeAlias = tuple[str, bool, bool]


def _atoms(text: str) -> list[_Atom]:
    """Words, tags and spell spans of ``text``, each with whether white space
    preceded it (so ``word<break time="1s"/>`` stays glued together)."""
    atoms: list[_Atom] = []
    end = 0
    for start, stop, markup in segments(text):
        atoms.append((text[start:stop], start > end or not atoms, markup))
        end = stop
    return atoms


def _sentences(atoms: list[_Atom]) -> list[list[_Atom]]:
    """Atoms grouped into sentences (a word ending in ``.``, ``!``, ``?``... ends one)."""
    sentences: list[list[_Atom]] = [[]]
    for atom in atoms:
        sentences[-1].append(atom)
        if not atom[2] and _ENDS_SENTENCE.search(atom[0]):
            sentences.append([])
    return [s for s in sentences if s]


def _fit(sentence: list[_Atom], limit: int) -> list[str]:
    """``sentence`` as strings of at most ``limit`` characters, cut between atoms."""
    out: list[str] = []
    current = ""
    for text, spaced, markup in sentence:
        pieces = [text] if markup else [
            text[i:i + limit] for i in range(0, len(text), limit)
        ]
        for index, piece in enumerate(pieces):
            joiner = " " if spaced and current and index == 0 else ""
            if current and len(current) + len(joiner) + len(piece) > limit:
                out.append(current)
                current = piece
            else:
                current = f"{current}{joiner}{piece}"
    if current:
        out.append(current)
    return out
