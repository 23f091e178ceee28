"""Plain-text scripts: reading files and cutting them into blocks. Qt-free.

A script file is UTF-8 text; paragraphs separated by one or more blank lines are
blocks, and the lines inside a paragraph are joined with single spaces. Long
paragraphs are cut at sentence ends into pieces the API takes comfortably and
sent as continuations of one WebSocket context (seed: ``GenerationRequest.continue``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

from studio.project.transcript import segments

#: Characters per WebSocket input when a transcript is sent in continuations.
MAX_INPUT_CHARS = 500

_BLANK_LINE = re.compile(r"\n[ \t]*\n")


class ScriptError(ValueError):
    """A script that cannot be used, with a message fit to show the user."""


#: The largest script file read, in bytes (and pasted text, in characters): past this
#: a script is refused rather than read, so ``/dev/zero`` ends at once.
MAX_SCRIPT_BYTES = 20 * 1024 * 1024

#: Characters per block: a longer paragraph is cut at sentence ends into several blocks
#: (one block is one generation and one take; a huge one would take minutes to lay out).
MAX_BLOCK_CHARS = 5_000

# C0 and C1 control characters except tab, line feed and carriage return. A NUL cut the
# rest of its word off downstream; none of them is anything a voice can say.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class ScriptRead:
    """Script text and what was changed on the way in, as sentences for the user.

    Attributes:
        text: the text to cut into blocks (:func:`split_script`).
        notices: what was removed or cut, in reading order; empty when nothing was.
    """

    text: str
    notices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ScriptBlocks:
    """The blocks of a script, and what :func:`split_script` cut to make them.

    Attributes:
        blocks: the text of each block, in order.
        notices: one sentence per paragraph that was cut into several blocks.
        speakers: with ``speakers=True``, the speaker each block names (a
            ``NAME:`` opening, see :data:`SPEAKER_LINE`) or ``None``, one per block;
            else empty.
    """

    blocks: tuple[str, ...]
    notices: tuple[str, ...] = ()
    speakers: tuple[str | None, ...] = ()


#: A line that names its speaker: a short capitalised name (at most three words) and
#: a colon opening it, then text (``ALICE: Hello.``, ``Dr. Watson: Indeed.``). Group 1
#: is the name. Scripts pasted, imported as text or Markdown use it.
SPEAKER_LINE = re.compile(r"^([A-Z][\w'.\-]*(?: [A-Z][\w'.\-]*){0,2}):[ \t]+(?=\S)")


def split_speaker(paragraph: str) -> tuple[str | None, str]:
    """``(speaker, text)`` of a paragraph opening with ``NAME:`` (:data:`SPEAKER_LINE`),
    else ``(None, paragraph)``."""
    match = SPEAKER_LINE.match(paragraph)
    if match is None:
        return None, paragraph
    return match.group(1), paragraph[match.end():]


def speaker_paragraphs(text: str) -> str:
    """``text`` with a blank line before every ``NAME:`` line, so each starts a block
    (a play's lines follow each other without blank lines)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    for line in lines:
        if SPEAKER_LINE.match(line.strip()):
            out.extend(["", line.strip()])
        else:
            out.append(line)
    return "\n".join(out)


def read_script_file(path: Path, limit: int = MAX_SCRIPT_BYTES) -> ScriptRead:
    """The text of a UTF-8 script file (a UTF-8 BOM is dropped), cleaned by
    :func:`clean_script_text`.

    At most ``limit + 1`` bytes are read, so a device or a pipe that never ends is
    refused at once; a named pipe with no writer reads as empty instead of waiting.

    Raises:
        ScriptError: if the file is missing, unreadable, over ``limit`` bytes or not
            UTF-8 (naming the byte offset and line of the first bad byte).
    """
    try:
        raw = _read_at_most(path, limit + 1)
    except FileNotFoundError:
        raise ScriptError(f"{path}: no such file") from None
    except OSError as exc:
        raise ScriptError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(raw) > limit:
        raise ScriptError(
            f"{path}: the script is larger than {_megabytes(limit)}; split it into "
            "several files and import them one after the other"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ScriptError(
            f"{path}: not UTF-8 text (bad byte 0x{raw[exc.start]:02x} at byte {exc.start}, "
            f"line {line}); save the script as UTF-8 and try again"
        ) from None
    return clean_script_text(text, limit)


def _read_at_most(path: Path, count: int) -> bytes:
    """Up to ``count`` bytes of ``path``. Opened without blocking, so a named pipe
    with no writer does not wait for one, then read blocking."""
    nonblocking: int = getattr(os, "O_NONBLOCK", 0)  # not on Windows
    fd = os.open(path, os.O_RDONLY | nonblocking)
    try:
        if nonblocking:
            os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as stream:
            return stream.read(count)
    finally:
        os.close(fd)


def clean_script_text(text: str, limit: int = MAX_SCRIPT_BYTES) -> ScriptRead:
    """``text`` without control characters (NUL and the like; tabs and line ends stay),
    with a notice naming how many went and where the first was.

    Raises:
        ScriptError: ``text`` is longer than ``limit`` characters.
    """
    if len(text) > limit:
        raise ScriptError(
            f"the text is larger than {_megabytes(limit)}; add it in several parts"
        )
    first = _CONTROL.search(text)
    if first is None:
        return ScriptRead(text)
    cleaned, count = _CONTROL.subn("", text)
    line = text.count("\n", 0, first.start()) + 1
    column = first.start() - (text.rfind("\n", 0, first.start()) + 1) + 1
    what = "a control character" if count == 1 else f"{count:,} control characters"
    return ScriptRead(cleaned, (
        f"Removed {what} (first: U+{ord(first.group()):04X} at line {line}, "
        f"column {column}); they are not text a voice can read.",
    ))


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


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


def split_script(text: str, limit: int = MAX_BLOCK_CHARS, *,
                 speakers: bool = False) -> ScriptBlocks:
    """The blocks of ``text``: its paragraphs (:func:`split_paragraphs`), each one over
    ``limit`` characters cut at sentence ends (:func:`split_for_streaming`) into
    several blocks, with a notice per paragraph cut.

    ``speakers``: every ``NAME:`` line starts a paragraph (:func:`speaker_paragraphs`)
    and gives its name to the blocks cut from it (``ScriptBlocks.speakers``), the
    ``NAME:`` itself taken off the text."""
    blocks: list[str] = []
    notices: list[str] = []
    names: list[str | None] = []
    if speakers:
        text = speaker_paragraphs(text)
    for number, whole in enumerate(split_paragraphs(text), start=1):
        speaker, paragraph = split_speaker(whole) if speakers else (None, whole)
        if len(paragraph) <= limit:
            blocks.append(paragraph)
            names.append(speaker)
            continue
        pieces = [piece.strip() for piece in split_for_streaming(paragraph, limit)]
        blocks.extend(pieces)
        names.extend([speaker] * len(pieces))
        notices.append(
            f"Paragraph {number} has {len(paragraph):,} characters; it was cut at "
            f"sentence ends into {len(pieces)} blocks of at most {limit:,}."
        )
    return ScriptBlocks(tuple(blocks), tuple(notices), tuple(names) if speakers else ())


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
