"""Find and replace across a script's blocks. Qt-free.

A search is a :class:`FindOptions`: the text to find (plain, or a Python ``re``
pattern), the replacement, and the Match case / Whole word options. The pattern is
compiled once per search (:func:`compile_search`) and run block by block, so a search
over 10 000 blocks is one pass over their text.

Rules (decided here, and shown by the dialog):

- **Inline tags are left alone.** A match that touches one of Cartesia's inline tags
  (``<break time="1s"/>``, ``<emotion value="sad"/>``, ``<spell>``…; grammar of
  :func:`studio.project.transcript.tags`) is skipped and counted in
  ``tag_skipped``, whether the search is plain or a regex: replacing ``time`` must not
  turn ``<break time="1s"/>`` into a tag the API refuses. The text *between*
  ``<spell>`` and ``</spell>`` is ordinary text and is searched.
- **Whole word** means no word character (``\\w``, Unicode) touches the match on
  either side.
- **Replacement text**: plain searches insert it as typed; regex searches expand it
  as ``re.Match.expand`` does (``\\1``, ``\\g<1>``, ``\\g<name>``, ``\\n``).
- A match whose replacement equals the text found changes nothing and is not listed.
- **Locked blocks** are searched and their matches listed (``locked``), but
  :func:`replace_all` leaves them out of the new texts and names them instead
  (:meth:`studio.services.editor.ScriptEditor.replace_texts` would skip them too).
- The preview keeps at most ``limit`` matches (:data:`PREVIEW_LIMIT`); ``total``
  still counts every one, so a pattern like ``.`` does not build a million rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

# An inline tag, as studio.project.transcript reads them (its grammar; spans only here,
# without the attributes, which a search does not need).
_TAG = re.compile(r"<(/?)([A-Za-z][\w:-]*)((?:\s[^<>]*?)?)\s*(/?)\s*>")

#: Matches kept for the preview; the rest are counted, not listed.
PREVIEW_LIMIT = 5_000

#: Characters of context shown on each side of a match in the preview.
CONTEXT_CHARS = 40


class Searchable(Protocol):
    """What a search reads of a block (a :class:`~studio.project.model.Block`, or a
    :class:`Passage` snapshot of one for a search in another thread)."""

    @property
    def id(self) -> str: ...

    @property
    def text(self) -> str: ...

    @property
    def locked(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Passage:
    """A block's id, text and lock at one moment: a search can run on these in a
    worker thread while the script goes on changing."""

    id: str
    text: str
    locked: bool = False


def passages(blocks: Iterable[Searchable]) -> list[Passage]:
    """Snapshots of ``blocks`` (their text strings are shared, not copied)."""
    return [Passage(block.id, block.text, block.locked) for block in blocks]


class SearchError(ValueError):
    """A search that cannot run (empty, a bad regex, a bad group reference), with a
    message fit to show the user."""


@dataclass(frozen=True, slots=True)
class FindOptions:
    """What to find and what to put instead.

    Attributes:
        find: the text to find, or a Python ``re`` pattern when ``regex``.
        replace: the replacement (``\\1``, ``\\g<name>`` expanded when ``regex``).
        regex: ``find`` is a regular expression.
        match_case: upper and lower case differ.
        whole_word: only matches with no word character touching either side.
    """

    find: str
    replace: str = ""
    regex: bool = False
    match_case: bool = False
    whole_word: bool = False


@dataclass(frozen=True, slots=True)
class Match:
    """One change the search would make.

    Attributes:
        block_id: the block's id.
        number: the block's number as the script shows it (from 1).
        start, end: character span of the match in the block's text (``end``
            exclusive).
        found: the text matched.
        replacement: what replaces it.
        before, after: up to :data:`CONTEXT_CHARS` characters of the block's text
            before and after the match (on one line), for the preview.
        locked: the block is locked; Replace all leaves it alone.
    """

    block_id: str
    number: int
    start: int
    end: int
    found: str
    replacement: str
    before: str
    after: str
    locked: bool = False


@dataclass(slots=True)
class FindResult:
    """Every change a search would make.

    Attributes:
        matches: the first ``limit`` matches in script order.
        total: how many matches there are in all (``len(matches)`` or more).
        blocks: how many blocks have at least one match.
        locked_blocks: how many of those blocks are locked.
        tag_skipped: matches left alone because they touch an inline tag.
    """

    matches: list[Match] = field(default_factory=list)
    total: int = 0
    blocks: int = 0
    locked_blocks: int = 0
    tag_skipped: int = 0

    @property
    def more(self) -> int:
        """Matches counted but not listed."""
        return self.total - len(self.matches)


@dataclass(slots=True)
class Replacement:
    """What Replace all changes.

    Attributes:
        texts: block id -> the block's new text, for every unlocked block with a match.
        count: matches replaced (in ``texts``).
        locked: ids of locked blocks with matches, left unchanged.
        tag_skipped: matches left alone because they touch an inline tag.
    """

    texts: dict[str, str] = field(default_factory=dict)
    count: int = 0
    locked: list[str] = field(default_factory=list)
    tag_skipped: int = 0


def compile_search(options: FindOptions) -> re.Pattern[str]:
    """The compiled pattern of ``options``.

    Raises:
        SearchError: ``find`` is empty, or not a valid regex ("Bad regex at position
            4: missing ), unterminated subpattern").
    """
    if not options.find:
        raise SearchError("Type the text to find.")
    source = options.find if options.regex else re.escape(options.find)
    flags = 0 if options.match_case else re.IGNORECASE
    try:
        pattern = re.compile(source, flags)
    except re.error as exc:  # compiled unwrapped first, so the position is the user's
        where = f" at position {exc.pos + 1}" if exc.pos is not None else ""
        raise SearchError(f"Bad regex{where}: {exc.msg}") from exc
    if options.whole_word:
        pattern = re.compile(rf"(?<!\w)(?:{source})(?!\w)", flags)
    return pattern


def _replacer(options: FindOptions, pattern: re.Pattern[str]) -> Callable[[re.Match[str]], str]:
    """The function giving a match's replacement; a regex template is checked once
    against ``pattern``'s groups.

    Raises:
        SearchError: a group reference the pattern does not have.
    """
    template = options.replace
    if not options.regex or "\\" not in template:
        # Literal: the same text for every match (Match.expand parses its template
        # again on every call, which costs more than the search itself).
        return lambda _match: template
    try:  # expand on a match of nothing checks the template: unknown groups raise
        probe = re.compile(f"(?:{pattern.pattern})|", pattern.flags).match("")
        assert probe is not None  # the empty alternative always matches
        probe.expand(template)
    except (re.error, IndexError) as exc:
        message = exc.msg if isinstance(exc, re.error) else str(exc)
        raise SearchError(f"Bad replacement: {message}") from exc
    return lambda match: match.expand(template)


class _Scan:
    """One search's compiled pattern and replacement, run block by block."""

    def __init__(self, options: FindOptions) -> None:
        self.pattern = compile_search(options)
        self.replacer = _replacer(options, self.pattern)
        self.tag_skipped = 0

    def changes(self, text: str) -> Iterator[tuple[int, int, str]]:
        """``(start, end, replacement)`` of each match in ``text`` that changes
        something and touches no inline tag, in order; matches touching a tag are
        counted in ``tag_skipped``."""
        spans: list[tuple[int, int]] | None = None
        next_span = 0
        replacer = self.replacer
        for match in self.pattern.finditer(text):
            if spans is None:  # found only when something matched at all
                spans = ([m.span() for m in _TAG.finditer(text)] if "<" in text else [])
            if spans:
                start, end = match.span()
                while next_span < len(spans) and spans[next_span][1] <= start:
                    next_span += 1  # tags wholly before this match: none later reach them
                if next_span < len(spans) and spans[next_span][0] < end:
                    self.tag_skipped += 1
                    continue
            replacement = replacer(match)
            if replacement != match.group():
                yield match.start(), match.end(), replacement


def _context(text: str, start: int, end: int) -> tuple[str, str]:
    before = text[max(0, start - CONTEXT_CHARS):start]
    after = text[end:end + CONTEXT_CHARS]
    if start > CONTEXT_CHARS:
        before = "…" + before
    if len(text) - end > CONTEXT_CHARS:
        after += "…"
    return _one_line(before), _one_line(after)


def _one_line(text: str) -> str:
    return text.translate(_LINE_BREAKS)


_LINE_BREAKS = str.maketrans({"\n": " ", "\r": " ", "\t": " ", "\u2028": " ", "\u2029": " "})


def find(blocks: Iterable[Searchable], options: FindOptions,
         limit: int = PREVIEW_LIMIT) -> FindResult:
    """Every change ``options`` would make to ``blocks`` (in script order), the
    first ``limit`` of them listed.

    Raises:
        SearchError: see :func:`compile_search` and a bad group reference in
            ``options.replace``.
    """
    scan = _Scan(options)
    result = FindResult()
    for number, block in enumerate(blocks, start=1):
        count = 0
        for start, end, replacement in scan.changes(block.text):
            count += 1
            if len(result.matches) < limit:
                before, after = _context(block.text, start, end)
                result.matches.append(Match(block.id, number, start, end, block.text[start:end],
                                            replacement, before, after, block.locked))
        if count:
            result.total += count
            result.blocks += 1
            result.locked_blocks += block.locked
    result.tag_skipped = scan.tag_skipped
    return result


def replace_all(blocks: Iterable[Searchable], options: FindOptions) -> Replacement:
    """The new text of every unlocked block ``options`` changes; locked blocks with
    a match are named in ``locked`` instead.

    Raises:
        SearchError: see :func:`find`.
    """
    scan = _Scan(options)
    result = Replacement()
    for block in blocks:
        pieces: list[str] = []
        position = 0
        for start, end, replacement in scan.changes(block.text):
            pieces += (block.text[position:start], replacement)
            position = end
        if not pieces:
            continue
        if block.locked:
            result.locked.append(block.id)
            continue
        result.count += len(pieces) // 2
        pieces.append(block.text[position:])
        result.texts[block.id] = "".join(pieces)
    result.tag_skipped = scan.tag_skipped
    return result
