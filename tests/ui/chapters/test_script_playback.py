"""Play all / Play chapter runs: the block heard follows the player's position, pause
and resume hold it, skipping restarts at a block's start, and a long run is queued a
little ahead of the playhead instead of all at once."""

from __future__ import annotations

import asyncio

import numpy as np

from studio.services import script_playback as script_playback_module
from studio.services.document import ScriptDocument
from studio.services.script_playback import ScriptPlayback
from tests.ui.chapters.helpers import RATE, voiced_blocks

TIMEOUT = 10000


def run_until(qloop, predicate, seconds: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    """Run the event loop until ``predicate()`` holds (the deadline fails the test).
    Run as the studio runs it, so players' and services' futures resolve."""

    async def until() -> None:
        while not predicate():
            await asyncio.sleep(0.005)

    qloop.run_until_complete(asyncio.wait_for(until(), seconds))


def make_run(playback, blocks, pause: float = 0.5):  # type: ignore[no-untyped-def]
    document = ScriptDocument()
    document.insert_blocks(blocks)
    run = ScriptPlayback(document, playback, lambda: pause)
    heard: list[str] = []
    run.now_playing.connect(heard.append)
    return document, run, heard


def test_now_playing_follows_the_position_through_pauses(qtbot, qloop, playback, players) -> None:  # type: ignore[no-untyped-def]
    blocks = voiced_blocks(3, seconds=1.0)
    _document, run, heard = make_run(playback, blocks)
    assert run.play_all()
    run_until(qloop, lambda: run.timeline is not None and len(run.timeline) == 3)
    player = players[-1]
    # Block, pause, block, pause, block: nothing mixed into one buffer.
    sizes = [w.size for w in player.writes]
    assert sizes == [RATE, RATE // 2, RATE, RATE // 2, RATE]
    assert np.allclose(player.writes[2], 0.002)
    assert heard == [blocks[0].id] and run.playing_block_id == blocks[0].id
    player.position_frames = int(RATE * 1.2)  # in the pause after block 1
    run_until(qloop, lambda: abs(run._position - 1.2) < 1e-6)
    assert heard == [blocks[0].id]
    player.position_frames = int(RATE * 1.6)  # block 2 began at 1.5 s
    run_until(qloop, lambda: heard[-1] == blocks[1].id)
    player.position_frames = int(RATE * 3.2)
    run_until(qloop, lambda: heard[-1] == blocks[2].id)
    player.finish()  # the device played it out
    run_until(qloop, lambda: heard[-1] == "")
    assert not run.is_running and not playback.is_playing


def test_pause_resume_and_skip(qtbot, qloop, playback, players) -> None:  # type: ignore[no-untyped-def]
    blocks = voiced_blocks(3, seconds=1.0)
    _document, run, heard = make_run(playback, blocks, pause=0.0)
    run.play_all()
    run_until(qloop, lambda: run.timeline is not None and len(run.timeline) == 3)
    player = players[-1]
    with qtbot.waitSignal(playback.paused_changed) as paused:
        assert playback.pause()
    assert paused.args == [True] and player.paused and playback.is_paused
    with qtbot.waitSignal(playback.paused_changed) as resumed:
        playback.resume()
    assert resumed.args == [False] and not player.paused

    before = len(player.writes)
    assert run.skip(1)  # from block 1 to block 2: the stream restarts at its start
    run_until(qloop, lambda: heard[-1] == blocks[1].id)
    run_until(qloop, lambda: len(player.writes) == before + 2)
    assert np.allclose(player.writes[before], 0.002) and np.allclose(player.writes[-1], 0.003)
    assert [e.block_id for e in run.timeline.entries] == [blocks[1].id, blocks[2].id]
    playback.pause()
    assert run.skip(-1)  # back to block 1; skipping plays again
    run_until(qloop, lambda: heard[-1] == blocks[0].id)
    assert not playback.is_paused and not player.paused
    assert run.skip(-1) and heard[-1] == blocks[0].id  # nothing before the first
    run_until(qloop, lambda: run.timeline is not None and len(run.timeline) == 3)
    run.skip(1)
    run_until(qloop, lambda: heard[-1] == blocks[1].id)
    run.skip(1)
    run_until(qloop, lambda: heard[-1] == blocks[2].id)
    run.skip(1)  # past the last block: the run ends
    assert heard[-1] == "" and not playback.is_playing
    assert not run.skip(1)


def test_a_long_run_is_queued_a_little_ahead_of_the_playhead(  # type: ignore[no-untyped-def]
        qtbot, qloop, playback, players, monkeypatch) -> None:
    monkeypatch.setattr(script_playback_module, "LOOKAHEAD_SECONDS", 20.0)
    blocks = voiced_blocks(12, seconds=10.0)
    _document, run, heard = make_run(playback, blocks, pause=0.0)
    run.play_all()
    # 30 s queued (the third block pushed it past 20 s ahead), then it waits.
    run_until(qloop, lambda: run.timeline is not None and len(run.timeline) >= 3)
    assert len(run.timeline) == 3 and len(players[-1].writes) == 3
    players[-1].position_frames = RATE * 15  # 15 s heard: room for one more block
    run_until(qloop, lambda: len(run.timeline) >= 4)
    assert len(run.timeline) == 4 and heard[-1] == blocks[1].id
    players[-1].position_frames = RATE * 115
    run_until(qloop, lambda: len(run.timeline) == 12)
    run_until(qloop, lambda: heard[-1] == blocks[11].id)


def test_blocks_at_another_rate_are_resampled_into_the_run(qtbot, qloop, playback, players) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from studio.project.model import TakeAudio

    blocks = voiced_blocks(2, seconds=1.0)
    take = blocks[1].takes[0]
    audio = np.full(44100, 0.5, np.float32)
    blocks[1].takes[0] = dataclasses.replace(take, source=TakeAudio(44100, 44100, audio))
    _document, run, _heard = make_run(playback, blocks, pause=0.0)
    run.play_all()
    run_until(qloop, lambda: run.timeline is not None and len(run.timeline) == 2)
    assert players[-1].sample_rate == RATE
    assert abs(players[-1].writes[-1].size - RATE) <= 2


def test_nothing_to_play_changes_nothing(playback, players) -> None:  # type: ignore[no-untyped-def]
    from studio.project.model import Block

    _document, run, heard = make_run(playback, [Block(text="No take yet.")])
    assert not run.play_all()
    assert not run.skip(1)
    assert players == [] and heard == []
