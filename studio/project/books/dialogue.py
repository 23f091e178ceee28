"""Splitting quoted dialogue in prose into narrator and character blocks. Qt-free.

The rule, applied to each narrator block (:data:`~studio.project.model.NARRATOR`) of an
imported book by :func:`split_dialogue`:

1. Quotations are found between straight double quotes ``"…"`` or curly ones ``“…”``.
   A block whose quotes do not pair up (a quotation running on into the next
   paragraph, as novels write it) is left whole.
2. A quotation is dialogue when its text ends in punctuation (``. , ! ? … — -``) or the
   narration before it ends with a colon; ``He called it "home" and left.`` keeps its
   scare quotes in the narration.
3. The block becomes, in order, narration blocks (the text between quotations, when it
   holds a letter or digit) and one block per quotation, without its quote marks; a
   quotation ending in a comma ends in a full stop instead.
4. A quotation's speaker is named by the narration right after it
   (``"…," said Alice.`` / ``"…," Alice said.``) or right before it
   (``Alice said, "…"`` / ``Then asked Bob: "…"``), with one of :data:`SPEECH_VERBS`
   and a capitalised name of one to three words that is not a pronoun. A quotation
   with no such narration takes the block's one named speaker if the block names
   exactly one; else :data:`UNKNOWN_SPEAKER`.

Limits: pronouns (``she said``) are not followed back to a name, so alternating
dialogue without tags goes to :data:`UNKNOWN_SPEAKER`; single quotes (British style)
are not read as dialogue, since they are also apostrophes; names after titles
(``said Mr. Darcy``) keep the title as part of the name.
"""

from __future__ import annotations

import re

from studio.project.books.model import ImportedBlock, ImportedBook, ImportedChapter
from studio.project.model import NARRATOR

#: The speaker of a quotation no narration names.
UNKNOWN_SPEAKER = "Character"

#: Verbs of speech that attribute a quotation to the name beside them.
SPEECH_VERBS = (
    "said", "says", "asked", "asks", "replied", "replies", "answered", "cried",
    "shouted", "whispered", "called", "added", "continued", "exclaimed", "muttered",
    "murmured", "answered", "began", "went on", "told", "yelled", "laughed", "sighed",
    "snapped", "demanded", "insisted", "declared", "remarked", "observed", "returned",
)

_PRONOUNS = frozenset({"he", "she", "they", "i", "we", "you", "it", "one", "someone",
                       "everyone", "nobody", "the", "then", "and", "but", "his", "her"})
_QUOTE = re.compile(r"\"([^\"]*)\"|“([^“”]*)”")
_VERB = "|".join(sorted((re.escape(v) for v in SPEECH_VERBS), key=len, reverse=True))
_NAME = r"((?:Mr\.|Mrs\.|Ms\.|Dr\.)?\s?[A-Z][\w'\-]*(?:\s[A-Z][\w'\-]*){0,2})"
# Narration after a quotation: "said Alice", "Alice said", "asked old Bob" is not read.
_AFTER = re.compile(rf"^\s*[,.;:!?—-]*\s*(?:(?:{_VERB})\s+{_NAME}|{_NAME}\s+(?:{_VERB}))\b")
# Narration before a quotation: "Alice said," or "said Alice:" at its end.
_BEFORE = re.compile(rf"(?:{_NAME}\s+(?:{_VERB})|(?:{_VERB})\s+{_NAME})[^.!?\"“”]*[,:]?\s*$")
_DIALOGUE_END = re.compile(r"[.,!?…—\-]\s*$")
_WORDY = re.compile(r"\w")


def _name(match: re.Match[str] | None) -> str | None:
    if match is None:
        return None
    name = next((g for g in match.groups() if g), None)
    if name is None:
        return None
    name = " ".join(name.split())
    return None if name.split()[0].lower() in _PRONOUNS else name


def split_paragraph(text: str) -> list[ImportedBlock]:
    """``text`` (a narrator's paragraph) as narrator and character blocks by the
    module's rule; ``[ImportedBlock(text)]`` when it holds no dialogue."""
    pieces: list[tuple[str, bool]] = []  # (text, is a quotation)
    position = 0
    if text.count("\"") % 2 or text.count("“") != text.count("”"):
        return [ImportedBlock(text)]
    for match in _QUOTE.finditer(text):
        quoted = match.group(1) if match.group(1) is not None else match.group(2)
        before = text[position:match.start()]
        if not (_DIALOGUE_END.search(quoted) or before.rstrip().endswith(":")):
            continue  # scare quotes: stay in the narration
        pieces.append((before, False))
        pieces.append((quoted.strip(), True))
        position = match.end()
    if not any(is_quote for _, is_quote in pieces):
        return [ImportedBlock(text)]
    pieces.append((text[position:], False))
    speakers: list[str | None] = []
    for index, (_piece, is_quote) in enumerate(pieces):
        if not is_quote:
            speakers.append(None)
            continue
        after = pieces[index + 1][0] if index + 1 < len(pieces) else ""
        before = pieces[index - 1][0] if index > 0 else ""
        speakers.append(_name(_AFTER.match(after)) or _name(_BEFORE.search(before)))
    named = {s for s in speakers if s}
    only = next(iter(named)) if len(named) == 1 else None
    blocks: list[ImportedBlock] = []
    for (piece, is_quote), speaker in zip(pieces, speakers, strict=True):
        piece = " ".join(piece.split())
        if not is_quote:
            piece = piece.lstrip(",;:—- ").strip()
            if _WORDY.search(piece):
                blocks.append(ImportedBlock(piece))
            continue
        if piece.endswith(","):
            piece = piece[:-1] + "."
        if _WORDY.search(piece):
            blocks.append(ImportedBlock(piece, speaker or only or UNKNOWN_SPEAKER))
    return blocks or [ImportedBlock(text)]


def split_dialogue(book: ImportedBook) -> ImportedBook:
    """``book`` with every narrator block split by :func:`split_paragraph` (blocks of
    other speakers and subtitle cues, which carry a ``cue_start``, are kept whole),
    and a notice saying how many paragraphs were split. The caller checks the new
    block count (:func:`studio.project.books.check_block_count`)."""
    chapters: list[ImportedChapter] = []
    split = 0
    for chapter in book.chapters:
        blocks: list[ImportedBlock] = []
        for block in chapter.blocks:
            if block.speaker != NARRATOR or block.cue_start is not None:
                blocks.append(block)
                continue
            pieces = split_paragraph(block.text)
            split += len(pieces) > 1
            blocks.extend(pieces)
        chapters.append(ImportedChapter(chapter.title, blocks))
    notices = list(book.notices)
    if split:
        notices.append(f"{split:,} paragraph{'' if split == 1 else 's'} split into "
                       "narrator and character blocks")
    return ImportedBook(chapters, notices)
