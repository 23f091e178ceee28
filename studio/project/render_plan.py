"""Planning a render of a script: which blocks say which paragraph, with which voice and
delivery, which take each reuses, and which must be rendered. Qt-free; the command
line parses, calls this, renders and reports.

Rendering a script into a project (``cartesia-studio render --project``): block *i* of
the project (live blocks, in order) takes paragraph *i* and the render's voice and
delivery, keeping its takes; extra paragraphs become new blocks and blocks past the end
of the script are removed (:func:`fit_script`). Before anything is requested, each
block's take-cache key (:func:`studio.project.cache.take_key`) is looked up among the
project's takes (:func:`studio.project.cache.find_cached`): a take of the same block is
selected again, a take of another block is copied into this one sharing its stored
audio, for 0 credits ("Identical requests reuse stored takes", ARCHITECTURE.md); only
the rest is rendered (:func:`plan_render`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from studio.api.models import SAMPLE_RATES
from studio.project.cache import find_cached
from studio.project.model import Block, Take

#: Project settings (``meta`` rows) a render reads and writes.
PAUSE_KEY, SAMPLE_RATE_KEY = "pause_seconds", "sample_rate"
#: What a render uses when neither the caller nor the project says otherwise.
DEFAULT_SAMPLE_RATE = 44100
DEFAULT_PAUSE = 0.5
#: Longest pause between blocks a project setting may ask for, in seconds.
MAX_PAUSE = 60.0


@dataclass(frozen=True, slots=True)
class BlockDelivery:
    """The block fields a render sets: the voice and how it speaks.

    Attributes:
        voice_id, model_id, language: as :class:`~studio.project.model.Block`'s.
        emotion: an emotion of the seed's list, or ``None`` for the voice's own.
        speed: ratio 0.6-1.5; volume: ratio 0.5-2.0.
    """

    voice_id: str
    model_id: str
    language: str
    emotion: str | None
    speed: float
    volume: float

    def apply(self, block: Block, keep_voice: bool = False) -> None:
        """Set these fields on ``block``; with ``keep_voice`` a block that has a voice
        keeps it."""
        for name, value in dataclasses.asdict(self).items():
            if not (keep_voice and name == "voice_id" and block.voice_id):
                setattr(block, name, value)


def script_blocks(paragraphs: Sequence[str], delivery: BlockDelivery) -> list[Block]:
    """One new block per paragraph, all with ``delivery``."""
    return [Block(text=text, **dataclasses.asdict(delivery)) for text in paragraphs]


def fit_script(live: Sequence[Block], paragraphs: Sequence[str], delivery: BlockDelivery,
               keep_voices: bool = False) -> tuple[list[Block], list[Block]]:
    """Fit a project's ``live`` blocks to the script: block *i* gets paragraph *i* and
    ``delivery`` and keeps its takes; extra paragraphs become new blocks. With
    ``keep_voices`` (no voice asked for) a block that has a voice keeps it: a project
    with several voices stays as it was cast. Returns ``(blocks, removed)``: the
    script's blocks in order, and the live blocks past its end."""
    blocks: list[Block] = []
    for index, text in enumerate(paragraphs):
        if index < len(live):
            block = live[index]
            block.text = text
            delivery.apply(block, keep_voice=keep_voices)
        else:
            block = Block(text=text, **dataclasses.asdict(delivery))
        blocks.append(block)
    return blocks, list(live[len(paragraphs):])


def cast_voice(blocks: Sequence[Block], language: str) -> str | None:
    """The voice a project already speaks ``language`` with (its first such block's),
    or ``None``: without a voice asked for, an unchanged script renders again without
    asking the API anything (not even the voice list)."""
    return next((b.voice_id for b in blocks if b.voice_id and b.language == language), None)


def render_numbers(settings: Mapping[str, str], sample_rate: int | None,
                   pause: float | None) -> tuple[int, float]:
    """Sample rate (Hz) and pause between blocks (seconds) for a render: ``sample_rate``
    and ``pause`` when given, else the project's ``settings``, else the defaults (a
    setting that is not one of the seed's sample rates, or a pause outside 0 to
    :data:`MAX_PAUSE` seconds, counts as missing). A project rendered at 48 kHz stays
    at 48 kHz, so its takes keep matching the cache."""
    if sample_rate is None:
        try:
            sample_rate = int(settings.get(SAMPLE_RATE_KEY, ""))
        except ValueError:
            sample_rate = DEFAULT_SAMPLE_RATE
        if sample_rate not in SAMPLE_RATES:
            sample_rate = DEFAULT_SAMPLE_RATE
    if pause is None:
        try:
            pause = float(settings.get(PAUSE_KEY, ""))
        except ValueError:
            pause = DEFAULT_PAUSE
        if not 0.0 <= pause <= MAX_PAUSE:
            pause = DEFAULT_PAUSE
    return sample_rate, pause


@dataclass(slots=True)
class Plan:
    """What a project render does for each block (indices into the script's blocks).

    Attributes:
        select: block -> a take of its own to select again.
        copy: block -> a take of another block to copy in.
        render: blocks to render, in order; each is the first of its cache key.
        followers: rendering block -> later blocks with the same cache key, which
            get a copy of its take instead of a render of their own.
    """

    select: dict[int, Take] = field(default_factory=dict)
    copy: dict[int, Take] = field(default_factory=dict)
    render: list[int] = field(default_factory=list)
    followers: dict[int, list[int]] = field(default_factory=dict)


def plan_render(blocks: Sequence[Block], removed: Sequence[Block],
                cache_key: Callable[[Block], str]) -> Plan:
    """Decide, before any request, which blocks reuse a take and which render.

    Takes of ``removed`` blocks count too: deleting a paragraph shifts the ones
    after it onto other blocks, and their takes should follow them, not be paid
    for again.
    """
    plan = Plan()
    pool = [*blocks, *removed]
    leaders: dict[str, int] = {}
    for index, block in enumerate(blocks):
        key = cache_key(block)
        if key in leaders:
            plan.followers[leaders[key]].append(index)
            continue
        hit = find_cached(pool, key, prefer_block=block.id)
        if hit is None:
            leaders[key] = index
            plan.followers[index] = []
            plan.render.append(index)
        elif hit[0].id == block.id:
            plan.select[index] = hit[1]
        else:
            plan.copy[index] = hit[1]
    return plan
