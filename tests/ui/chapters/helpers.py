"""Blocks with made-up takes for the chapters and review tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import numpy as np

from studio.api.models import OutputFormat
from studio.project.model import Block, Take, TakeAudio
from studio.timestamps import PhonemeTimestamps, WordTimestamps

RATE = 24000


def with_take(block: Block, seconds: float, level: float = 0.1) -> Block:
    """``block`` with a selected, up-to-date take of ``seconds`` of a constant ``level``
    (so a test can tell which block's audio was played)."""
    samples = np.full(int(RATE * seconds), level, np.float32)
    take = Take(id=f"t-{block.id}", source=TakeAudio(RATE, samples.shape[0], samples),
                word_timestamps=WordTimestamps(), phoneme_timestamps=PhonemeTimestamps(),
                request=block.tts_request(OutputFormat()).to_json(), backend="offline",
                credits=0, created_at=0.0, name="Take 1")
    block.takes.append(take)
    block.selected_take_id = take.id
    return block


def voiced_blocks(count: int, seconds: float = 1.0, chapter_every: int = 0,
                  voice_id: str = "") -> list[Block]:
    """``count`` blocks with takes, block i's audio at level (i + 1) / 1000; every
    ``chapter_every``-th block starts a chapter "Chapter k"."""
    blocks = []
    for index in range(count):
        chapter = (f"Chapter {index // chapter_every + 1}"
                   if chapter_every and index % chapter_every == 0 else None)
        block = Block(text=f"Block {index + 1}.", chapter=chapter, voice_id=voice_id)
        blocks.append(with_take(block, seconds, (index + 1) / 1000))
    return blocks


def run_until(qloop: Any, predicate: Callable[[], bool], seconds: float = 120.0) -> None:
    """Run the studio's loop until ``predicate()`` holds (``TimeoutError`` after
    ``seconds``)."""
    async def until() -> None:
        while not predicate():
            await asyncio.sleep(0.005)

    qloop.run_until_complete(asyncio.wait_for(until(), seconds))


def studio_with_players(open_studio: Any, settings: Any) -> Any:
    """A studio whose players are :class:`RecordingPlayer` (kept in ``studio.players``)."""
    from tests.ui.conftest import RecordingPlayer

    players: list[RecordingPlayer] = []

    def factory(sample_rate: int, device: Any = None) -> RecordingPlayer:
        players.append(RecordingPlayer(sample_rate, device))
        return players[-1]

    app = open_studio(settings, player_factory=factory)
    app.players = players
    return app
