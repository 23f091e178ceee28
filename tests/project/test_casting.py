"""Who needs casting (studio.project.casting) and NAME: lines (studio.project.script)."""

from __future__ import annotations

from studio.project.cast import CastEntry
from studio.project.casting import summarize, uncast_speakers
from studio.project.model import Block
from studio.project.script import split_script, split_speaker


def test_one_speaker_with_voices_needs_no_casting() -> None:
    blocks = [Block(text="a", voice_id="v"), Block(text="b", voice_id="v")]
    (row,) = summarize(blocks, [])
    assert (row.speaker, row.blocks, row.cast, row.needs_casting) == ("Narrator", 2, False, False)
    assert row.entry.voice_id == "v"  # proposed by the first block


def test_new_and_voiceless_speakers_come_first() -> None:
    blocks = [Block(text="a", voice_id="v"), Block(text="b", speaker="Ann", voice_id="w"),
              Block(text="c", speaker="Bo"), Block(text="d", speaker="Ann", voice_id="w")]
    cast = [CastEntry("Narrator", voice_id="v"), CastEntry("Ghost", voice_id="g")]
    rows = summarize(blocks, cast)
    assert [(r.speaker, r.blocks, r.voiceless, r.needs_casting) for r in rows] == [
        ("Ann", 2, 0, True), ("Bo", 1, 1, True), ("Narrator", 1, 0, False),
        ("Ghost", 0, 0, False)]
    ids = [blocks[0].id, blocks[2].id]
    assert [r.speaker for r in uncast_speakers(blocks, cast, ids)] == ["Bo"]
    cast.append(CastEntry("Ann", voice_id="w"))
    assert [r.speaker for r in summarize(blocks, cast) if r.needs_casting] == ["Bo"]


def test_speaker_lines_split_and_name_every_piece() -> None:
    assert split_speaker("ALICE: Hi there.") == ("ALICE", "Hi there.")
    assert split_speaker("Note: lower case after") == ("Note", "lower case after")
    assert split_speaker("no speaker: here") == (None, "no speaker: here")
    script = split_script("ALICE: Hi.\nBOB: Hello.\nStill Bob.\n\nThe end.\n\nDr. Watson: "
                          + "Word. " * 30, limit=60, speakers=True)
    assert script.blocks[:3] == ("Hi.", "Hello. Still Bob.", "The end.")
    assert script.speakers[:3] == ("ALICE", "BOB", None)
    assert len(script.blocks) > 4 and set(script.speakers[3:]) == {"Dr. Watson"}
    assert split_script("ALICE: Hi.").speakers == ()
