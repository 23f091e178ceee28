"""Who speaks in a script and whether they are cast: the Cast panel's rows and the
check before Generate all. Qt-free.

A speaker *needs casting* when some of their blocks have no voice (a speaker first
met in a pasted or imported ``NAME: text`` line gets none), or when the script has
several speakers and this one has no cast entry with a voice yet: until then their
blocks speak with whatever voice they were given on the way in. A script with one
speaker whose blocks all have a voice needs no casting (every script made before
casts existed is one).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from studio.project.cast import CastEntry
from studio.project.model import Block


@dataclass(frozen=True, slots=True)
class SpeakerSummary:
    """One speaker of a script.

    Attributes:
        speaker: the name blocks carry.
        entry: their cast entry; when they have none, the one their first block
            proposes (:meth:`CastEntry.of_block`) or an empty one for a speaker with
            no block.
        cast: ``entry`` is the speaker's own cast entry (not a proposal).
        blocks: how many blocks they speak.
        voiceless: how many of those have no voice.
        first_block_id: their first block's id ("" when they have none).
        needs_casting: see the module's rule.
    """

    speaker: str
    entry: CastEntry
    cast: bool
    blocks: int
    voiceless: int
    first_block_id: str
    needs_casting: bool


def summarize(blocks: Iterable[Block], cast: Sequence[CastEntry]) -> list[SpeakerSummary]:
    """Every speaker of ``blocks`` in the order they first speak, then cast speakers
    with no block; those needing casting first (the order otherwise kept). One pass
    over ``blocks``."""
    counts: dict[str, list[int]] = {}
    firsts: dict[str, Block] = {}
    for block in blocks:
        tally = counts.get(block.speaker)
        if tally is None:
            tally = counts[block.speaker] = [0, 0]
            firsts[block.speaker] = block
        tally[0] += 1
        tally[1] += not block.voice_id
    entries = {entry.speaker: entry for entry in cast}
    several = len(counts) > 1
    rows: list[SpeakerSummary] = []
    for speaker in dict.fromkeys([*counts, *entries]):
        own = entries.get(speaker)
        first = firsts.get(speaker)
        entry = own or (CastEntry(speaker, **CastEntry.of_block(first).values()) if first
                        else CastEntry(speaker))
        count, voiceless = counts.get(speaker, (0, 0))
        needs = voiceless > 0 or (several and count > 0 and not (own and own.voice_id))
        rows.append(SpeakerSummary(speaker, entry, own is not None, count, voiceless,
                                   first.id if first else "", needs))
    rows.sort(key=lambda row: not row.needs_casting)  # stable: first-speaking order kept
    return rows


def uncast_speakers(blocks: Iterable[Block], cast: Sequence[CastEntry],
                    block_ids: Iterable[str]) -> list[SpeakerSummary]:
    """The speakers of the blocks ``block_ids`` (e.g. those Generate all would make)
    that need casting."""
    wanted = set(block_ids)
    blocks = list(blocks)
    speaking = {block.speaker for block in blocks if block.id in wanted}
    return [row for row in summarize(blocks, cast)
            if row.needs_casting and row.speaker in speaking]
