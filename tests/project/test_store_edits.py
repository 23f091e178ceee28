"""Edits and clips in ``.cstudio`` files (schema version 3)."""

from __future__ import annotations

import dataclasses
import sqlite3
import time
from pathlib import Path

import numpy as np
from test_store import RATE, speech_like, take_for

from studio.project.edited_audio import edited
from studio.project.edits import Clip, Delete, Fade, Gain, Splice, Trim
from studio.project.model import Block, TakeAudio, new_id
from studio.project.store import ProjectStore, script_rows
from studio.timestamps import PhonemeTimestamps, WordTimestamps


def infill_clip(take_id: str, seconds: float = 0.3, credits: int = 311) -> Clip:
    return Clip(id=new_id(), source=TakeAudio.of(speech_like(seconds, seed=7), RATE),
                words=WordTimestamps(("new",), (0.05,), (0.25,)), phonemes=PhonemeTimestamps(),
                kind="infill", take_id=take_id, transcript="new",
                request={"transcript": "new", "span": [100, 200]}, backend="cloud",
                credits=credits, created_at=time.time())


def edited_project(tmp_path: Path) -> tuple[Path, Block, Clip, np.ndarray]:
    """A project with one block whose take has a delete, a gain and an infill splice."""
    path = tmp_path / "edited.cstudio"
    store = ProjectStore.create(path)
    block = Block(text="Hello there.", voice_id="v1")
    take = take_for(block)
    block.takes.append(take)
    block.selected_take_id = take.id
    store.add_take(block, take)
    clip = infill_clip(take.id)
    store.add_clip(clip)
    edits = (Delete(1000, 3000), Gain(0, 2000, -6.0), Splice(5000, 6000, clip, 220))
    block.takes[0] = dataclasses.replace(take, edits=edits)
    store.write_script(script_rows([block]))
    expected = np.array(edited(block.takes[0]).audio)
    store.close()
    return path, block, clip, expected


def test_edits_and_their_clips_round_trip(tmp_path: Path) -> None:
    path, block, clip, expected = edited_project(tmp_path)
    store = ProjectStore.open(path)
    loaded = store.load()
    take = loaded.blocks[0].takes[0]
    assert [type(e).__name__ for e in take.edits] == ["Delete", "Gain", "Splice"]
    assert take.edits[0] == Delete(1000, 3000)
    splice = take.edits[2]
    assert splice.clip.id == clip.id and splice.clip.transcript == "new"
    assert np.array_equal(splice.clip.audio, clip.audio)
    assert np.array_equal(edited(take).audio, expected)
    assert np.array_equal(take.audio, block.takes[0].audio)  # the original is untouched
    assert [c.id for c in loaded.clips[take.id]] == [clip.id]
    assert loaded.credits_spent == len(block.text) + clip.credits
    store.close()


def test_changing_edits_writes_only_that_row_and_undo_state_reloads(tmp_path: Path) -> None:
    path, _block, _clip, _expected = edited_project(tmp_path)
    store = ProjectStore.open(path)
    loaded = store.load()
    take = loaded.blocks[0].takes[0]
    loaded.blocks[0].takes[0] = dataclasses.replace(take, edits=take.edits[:1])  # two undos
    assert store.write_script(script_rows(loaded.blocks)) == 1
    assert store.write_script(script_rows(loaded.blocks)) == 0  # nothing changed since
    store.close()
    again = ProjectStore.open(path).load().blocks[0].takes[0]
    assert again.edits == (Delete(1000, 3000),)


def test_a_clip_is_purged_with_its_take_but_its_credits_still_count(tmp_path: Path) -> None:
    path, block, clip, _expected = edited_project(tmp_path)
    store = ProjectStore.open(path)
    loaded = store.load()
    loaded.blocks[0].takes.clear()
    loaded.blocks[0].selected_take_id = None
    store.write_script(script_rows(loaded.blocks))
    store.purge_deleted()
    db = sqlite3.connect(path)
    assert db.execute("SELECT COUNT(*) FROM clips").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM audio").fetchone()[0] == 0
    db.close()
    assert store.credits_spent() == len(block.text) + clip.credits
    store.close()


def test_a_clip_used_by_another_live_take_survives_purge(tmp_path: Path) -> None:
    """The halves of a split block share the clips of the take they came from."""
    path, _block, clip, _expected = edited_project(tmp_path)
    store = ProjectStore.open(path)
    loaded = store.load()
    original = loaded.blocks[0].takes[0]
    half = dataclasses.replace(original, id=new_id(), edits=(*original.edits, Trim(0, 8000)))
    other = Block(text="there.", voice_id="v1", takes=[half], selected_take_id=half.id)
    store.add_take(other, half)
    loaded.blocks[0].takes.clear()  # the original take is deleted
    store.write_script(script_rows([loaded.blocks[0], other]))
    store.purge_deleted()
    store.close()
    reloaded = ProjectStore.open(path).load()
    kept = next(b for b in reloaded.blocks if b.id == other.id).takes[0]
    assert kept.edits[2].clip.id == clip.id
    assert np.array_equal(kept.edits[2].clip.audio, clip.audio)
    db = sqlite3.connect(path)
    assert db.execute("SELECT COUNT(*) FROM audio").fetchone()[0] == 2  # take + clip, once each
    db.close()


def test_an_edit_that_cannot_be_read_keeps_the_edits_before_it(tmp_path: Path, caplog) -> None:
    path, _block, _clip, _expected = edited_project(tmp_path)
    db = sqlite3.connect(path)
    db.execute("DELETE FROM clips")  # the splice now names a clip that is not there
    db.commit()
    db.close()
    take = ProjectStore.open(path).load().blocks[0].takes[0]
    assert take.edits == (Delete(1000, 3000), Gain(0, 2000, -6.0))
    assert "cannot be read" in caplog.text


def test_edits_wait_for_a_clip_the_file_does_not_have_yet(tmp_path: Path) -> None:
    """A clip whose write failed (a full disk) must not leave the file with edits that
    name it: those edits are held back, and written once the clip is in."""
    store = ProjectStore.create(tmp_path / "w.cstudio")
    block = Block(text="Hello there.", voice_id="v1")
    take = take_for(block)
    block.takes.append(take)
    store.add_take(block, take)
    block.takes[0] = dataclasses.replace(take, edits=(Delete(10, 20),))
    store.write_script(script_rows([block]))
    clip = infill_clip(take.id)  # not written yet
    block.takes[0] = dataclasses.replace(take, edits=(Delete(10, 20), Splice(0, 100, clip, 20)))
    store.write_script(script_rows([block]))
    db = sqlite3.connect(tmp_path / "w.cstudio")
    assert "splice" not in db.execute("SELECT edits FROM takes").fetchone()[0]
    store.add_clip(clip)
    assert store.write_script(script_rows([block])) == 1
    assert "splice" in db.execute("SELECT edits FROM takes").fetchone()[0]
    db.close()
    store.close()


def test_a_clip_goes_once_no_live_take_uses_it(tmp_path: Path) -> None:
    """Split halves keep their original take's clip through one purge; when they go
    too, a later purge drops the clip and its audio."""
    path, _block, _clip, _expected = edited_project(tmp_path)
    store = ProjectStore.open(path)
    loaded = store.load()
    original = loaded.blocks[0].takes[0]
    half = dataclasses.replace(original, id=new_id(), edits=(*original.edits, Trim(0, 8000)))
    other = Block(text="there.", voice_id="v1", takes=[half], selected_take_id=half.id)
    store.add_take(other, half)
    loaded.blocks[0].takes.clear()
    store.write_script(script_rows([loaded.blocks[0], other]))
    store.purge_deleted()
    other.takes.clear()
    store.write_script(script_rows([loaded.blocks[0], other]))
    store.purge_deleted()
    store.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT COUNT(*) FROM clips").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM audio").fetchone()[0] == 0
    db.close()


def test_fades_and_trims_round_trip_exactly(tmp_path: Path) -> None:
    store = ProjectStore.create(tmp_path / "f.cstudio")
    block = Block(text="Hello there.", voice_id="v1")
    take = take_for(block)
    block.takes.append(take)
    store.add_take(block, take)
    edits = (Trim(500, 20000), Fade(0, 2205, "in"), Fade(15000, 19500, "out"))
    block.takes[0] = dataclasses.replace(take, edits=edits)
    store.write_script(script_rows([block]))
    store.close()
    assert ProjectStore.open(tmp_path / "f.cstudio").load().blocks[0].takes[0].edits == edits


def test_what_an_edited_take_says_round_trips(tmp_path: Path) -> None:
    path, _block, _clip, _expected = edited_project(tmp_path)
    store = ProjectStore.open(path)
    loaded = store.load()
    take = loaded.blocks[0].takes[0]
    assert take.text == "" and take.spoken_text == "Hello there."
    loaded.blocks[0].takes[0] = dataclasses.replace(take, text="Hello new there.")
    loaded.blocks[0].text = "Hello new there."
    assert store.write_script(script_rows(loaded.blocks)) == 2
    store.close()
    again = ProjectStore.open(path).load().blocks[0]
    assert again.takes[0].text == "Hello new there." and not again.needs_take()
