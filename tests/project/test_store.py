"""``.cstudio`` project files: round trips, soft deletes, bad files, migration."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import numpy as np
import pytest

from studio.project.audio_blocks import (
    AUDIO_BLOCK_FRAMES,
    block_checksum,
    decode_audio,
    encode_audio,
)
from studio.project.cache import find_cached, take_key
from studio.project.migrations import APPLICATION_ID, SCHEMA_VERSION
from studio.project.model import Block, make_take
from studio.project.salvage import recover_copy
from studio.project.store import (
    ProjectError,
    ProjectStore,
    check_project,
    script_rows,
)
from studio.timestamps import PhonemeTimestamps, WordTimestamps

RATE = 22050
REQUEST = {"model_id": "sonic-3", "transcript": "Hello there.", "voice": {"mode": "id", "id": "v1"},
           "language": "en", "generation_config": {"speed": 1.0, "volume": 1.0},
           "output_format": {"container": "raw", "encoding": "pcm_s16le", "sample_rate": RATE}}


def speech_like(seconds: float, seed: int = 0, sixteen_bit: bool = True) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    audio = (0.3 * np.sin(2 * np.pi * 180 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
             + 0.02 * rng.standard_normal(t.size)).astype(np.float32)
    return (np.round(audio * 32767) / 32768).astype(np.float32) if sixteen_bit else audio


def take_for(block: Block, seconds: float = 1.0, seed: int = 0, sixteen_bit: bool = True):
    words = WordTimestamps(("Hello", "there."), (0.0, 0.4), (0.35, 0.9))
    request = {**REQUEST, "transcript": block.text}
    return make_take(speech_like(seconds, seed, sixteen_bit), RATE, words, PhonemeTimestamps(),
                     request, "cloud", len(block.text), block.next_take_number(),
                     cache_key=take_key(request, "cloud"))


def new_project(tmp_path: Path, name: str = "p.cstudio") -> ProjectStore:
    return ProjectStore.create(tmp_path / name)


def test_audio_blocks_are_lossless_and_compact() -> None:
    pcm16 = speech_like(3.0)
    encoding, blobs = encode_audio(pcm16, RATE)
    assert encoding == "flac16"
    assert sum(map(len, blobs)) < pcm16.size * 2  # smaller than raw 16-bit PCM
    assert np.array_equal(decode_audio(encoding, blobs, pcm16.size), pcm16)

    floats = speech_like(0.5, sixteen_bit=False)
    encoding, blobs = encode_audio(floats, RATE)
    assert encoding == "f32le"
    assert np.array_equal(decode_audio(encoding, blobs, floats.size), floats)

    long = np.zeros(AUDIO_BLOCK_FRAMES * 2 + 10, dtype=np.float32)
    encoding, blobs = encode_audio(long, RATE)
    assert len(blobs) == 3
    assert np.array_equal(decode_audio(encoding, blobs, long.size), long)
    with pytest.raises(ValueError, match="frames"):
        decode_audio(encoding, blobs, long.size + 1)


def test_script_and_takes_round_trip(tmp_path: Path) -> None:
    store = new_project(tmp_path)
    first = Block(text="Hello there.", voice_id="v1", emotion="calm", speed=1.2, volume=0.8)
    second = Block(text="Second block.", voice_id="v2", language="de")
    takes = [take_for(first, seed=1), take_for(first, seed=2, sixteen_bit=False)]
    for take in takes:
        first.takes.append(take)
        store.add_take(first, take)
    first.selected_take_id = takes[0].id
    first.takes[1] = first.takes[1].__class__(**{  # rename and star, as the editor would
        **{f: getattr(takes[1], f) for f in takes[1].__dataclass_fields__}, "name": "Keeper",
        "starred": True})
    store.write_script(script_rows([second, first]))
    store.set_settings({"pause_seconds": "0.7"})
    store.close()

    loaded = ProjectStore.open(tmp_path / "p.cstudio").load()
    assert [b.id for b in loaded.blocks] == [second.id, first.id]
    got = loaded.blocks[1]
    assert (got.text, got.voice_id, got.emotion, got.speed, got.volume) == \
        ("Hello there.", "v1", "calm", 1.2, 0.8)
    assert loaded.blocks[0].language == "de" and loaded.blocks[0].takes == []
    assert got.selected_take_id == takes[0].id
    assert [t.id for t in got.takes] == [t.id for t in takes]
    assert (got.takes[1].name, got.takes[1].starred) == ("Keeper", True)
    assert not got.takes[0].source.loaded  # audio is read on first use
    for original, reread in zip(takes, got.takes, strict=True):
        assert np.array_equal(reread.audio, original.audio)
        assert reread.sample_rate == RATE and reread.frames == original.frames
        assert reread.word_timestamps == original.word_timestamps
        assert reread.request == original.request and reread.cache_key == original.cache_key
    assert loaded.settings["pause_seconds"] == "0.7"
    assert loaded.credits_spent == 2 * len(first.text)


def test_takes_written_before_their_selection_come_back_selected(tmp_path: Path) -> None:
    # The way ProjectService writes: each take is stored as it is added, before the
    # document selects it, and the script row with the selection is written later. A
    # kill -9 in between must not leave the finished takes unselected (issue 14).
    store = new_project(tmp_path)
    block, untouched = Block(text="Hello there."), Block(text="No takes yet.")
    store.write_script(script_rows([block, untouched]))
    takes = [take_for(block, seed=1), take_for(block, seed=2)]
    for take in takes:
        block.takes.append(take)
        store.add_take(block, take)  # the block row still says: nothing selected
    store.close()  # killed here: write_script never ran with the selection

    loaded = ProjectStore.open(tmp_path / "p.cstudio").load()
    got = {b.id: b for b in loaded.blocks}
    assert got[block.id].selected_take_id == takes[-1].id  # the newest take
    assert got[untouched.id].selected_take_id is None


def test_removed_blocks_and_takes_are_soft_deleted_until_purged(tmp_path: Path) -> None:
    store = new_project(tmp_path)
    keep, drop = Block(text="Keep me."), Block(text="Drop me.")
    for block in (keep, drop):
        take = take_for(block)
        block.takes.append(take)
        block.selected_take_id = take.id
        store.add_take(block, take)
    extra = take_for(keep, seed=3)
    keep.takes.append(extra)
    store.add_take(keep, extra)
    store.write_script(script_rows([keep, drop]))

    keep.takes.remove(extra)  # delete a take, remove a block
    store.write_script(script_rows([keep]))
    loaded = store.load()
    assert [b.id for b in loaded.blocks] == [keep.id]
    assert [t.id for t in loaded.blocks[0].takes] == [keep.takes[0].id]
    assert loaded.credits_spent == 3 * len("Keep me.")  # money spent stays counted

    keep.takes.append(extra)  # undo brings both back: nothing was lost
    store.write_script(script_rows([keep, drop]))
    loaded = store.load()
    assert [b.id for b in loaded.blocks] == [keep.id, drop.id]
    assert len(loaded.blocks[0].takes) == 2 and np.array_equal(loaded.blocks[1].takes[0].audio,
                                                               drop.takes[0].audio)

    store.write_script(script_rows([keep]))
    store.purge_deleted()
    db = sqlite3.connect(tmp_path / "p.cstudio")
    assert db.execute("SELECT COUNT(*) FROM takes").fetchone()[0] == 2
    assert db.execute("SELECT COUNT(*) FROM blocks").fetchone()[0] == 1
    assert db.execute("SELECT COUNT(*) FROM audio").fetchone()[0] == 2
    db.close()


def test_a_reused_take_shares_its_audio(tmp_path: Path) -> None:
    store = new_project(tmp_path)
    a, b = Block(text="Same words."), Block(text="Same words.")
    take = take_for(a)
    a.takes.append(take)
    store.add_take(a, take)
    hit = find_cached([a, b], take.cache_key, prefer_block=b.id)
    assert hit is not None and hit[1].id == take.id
    copy = make_take(take.audio, RATE, take.word_timestamps, take.phoneme_timestamps, take.request,
                     take.backend, 0, 1, cache_key=take.cache_key)
    copy = copy.__class__(**{**{f: getattr(copy, f) for f in copy.__dataclass_fields__},
                             "source": take.source})
    b.takes.append(copy)
    store.add_take(b, copy)
    db = sqlite3.connect(tmp_path / "p.cstudio")
    assert db.execute("SELECT COUNT(*) FROM audio").fetchone()[0] == 1
    assert db.execute("SELECT COUNT(DISTINCT audio_id) FROM takes").fetchone()[0] == 1
    db.close()


def test_save_as_copies_and_carries_on_in_the_new_file(tmp_path: Path) -> None:
    store = new_project(tmp_path, "untitled.cstudio")
    block = Block(text="Hello there.")
    take = take_for(block)
    block.takes.append(take)
    store.add_take(block, take)
    store.write_script(script_rows([block]))
    store.close()
    lazy = ProjectStore.open(tmp_path / "untitled.cstudio")
    lazy_block = lazy.load().blocks[0]
    lazy.save_as(tmp_path / "named.cstudio")
    (tmp_path / "untitled.cstudio").unlink()
    # A take loaded before Save As reads its audio from the new file.
    assert np.array_equal(lazy_block.takes[0].audio, take.audio)
    second = take_for(block, seed=9)
    block.takes.append(second)
    lazy.add_take(block, second)
    lazy.close()
    assert len(ProjectStore.open(tmp_path / "named.cstudio").load().blocks[0].takes) == 2


# --- bad files ---------------------------------------------------------------


def saved_project(tmp_path: Path, blocks: int = 3) -> Path:
    store = new_project(tmp_path)
    script = []
    for index in range(blocks):
        block = Block(text=f"Block number {index}.")
        take = take_for(block, seconds=2.0, seed=index)
        block.takes.append(take)
        block.selected_take_id = take.id
        store.add_take(block, take)
        script.append(block)
    store.write_script(script_rows(script))
    store.close()
    assert not Path(f"{tmp_path / 'p.cstudio'}-wal").exists()  # closed cleanly
    return tmp_path / "p.cstudio"


def snapshot(path: Path) -> bytes:
    return path.read_bytes()


def test_not_sqlite_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.cstudio"
    path.write_bytes(b"These are my notes, not a project.\n" * 10)
    before = snapshot(path)
    with pytest.raises(ProjectError) as info:
        ProjectStore.open(path)
    assert info.value.kind == "not_project" and "not an SQLite" in str(info.value)
    assert snapshot(path) == before


def test_other_sqlite_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.cstudio"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t(x)")
    db.commit()
    db.close()
    before = snapshot(path)
    with pytest.raises(ProjectError, match="not a Cartesia Studio project") as info:
        ProjectStore.open(path)
    assert info.value.kind == "not_project" and snapshot(path) == before


def test_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    path = saved_project(tmp_path)
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    before = snapshot(path)
    with pytest.raises(ProjectError, match="newer Cartesia Studio") as info:
        ProjectStore.open(path)
    assert info.value.kind == "newer" and snapshot(path) == before


def test_truncated_file_is_refused_untouched(tmp_path: Path) -> None:
    path = saved_project(tmp_path)
    data = snapshot(path)
    path.write_bytes(data[: len(data) // 2])
    before = snapshot(path)
    with pytest.raises(ProjectError) as info:
        ProjectStore.open(path)
    assert info.value.kind == "corrupt" and "left untouched" in str(info.value)
    assert snapshot(path) == before


def test_corrupted_copy_gives_an_error_and_a_recovered_copy(tmp_path: Path) -> None:
    path = saved_project(tmp_path, blocks=4)
    data = bytearray(snapshot(path))
    page_size = int.from_bytes(data[16:18], "big") or 65536
    # Scribble over a page in the middle (audio), leaving the first pages readable.
    middle = (len(data) // page_size // 2) * page_size
    data[middle:middle + page_size] = b"\xa5" * page_size
    path.write_bytes(bytes(data))
    before = snapshot(path)
    with pytest.raises(ProjectError) as info:
        ProjectStore.open(path)
    assert info.value.kind == "corrupt"
    message = str(info.value)  # one line, the first finding, not SQLite's report layout
    assert "\n" not in message and "***" not in message and len(message) < 220
    assert snapshot(path) == before

    copy, blocks, takes = recover_copy(path)
    assert snapshot(path) == before
    assert copy.name == "p.recovered.cstudio"
    loaded = ProjectStore.open(copy).load()
    assert blocks == 4 and len(loaded.blocks) == 4
    assert 0 < takes <= 4
    for block in loaded.blocks:
        for take in block.takes:
            assert take.audio.shape == (take.frames,)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder_is_refused_untouched(tmp_path: Path) -> None:
    path = saved_project(tmp_path)
    before = snapshot(path)
    tmp_path.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(ProjectError, match="read-only") as info:
            ProjectStore.open(path)
        assert info.value.kind == "unwritable"
    finally:
        tmp_path.chmod(stat.S_IRWXU)
    assert snapshot(path) == before


def test_read_only_folder_check_without_permissions(tmp_path: Path, monkeypatch) -> None:
    """The same refusal where the tests run as root (CI): the access check says no."""
    path = saved_project(tmp_path)
    before = snapshot(path)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == tmp_path
                        else real_access(p, mode))
    with pytest.raises(ProjectError, match="read-only"):
        ProjectStore.open(path)
    assert snapshot(path) == before


def test_full_disk_keeps_the_file_consistent(tmp_path: Path) -> None:
    store = new_project(tmp_path)
    block = Block(text="Fits.")
    small = take_for(block, seconds=0.5)
    block.takes.append(small)
    store.add_take(block, small)
    store.write_script(script_rows([block]))
    db = store._db()
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages + 2}")  # the disk is now "full"
    big = take_for(block, seconds=20.0, seed=5, sixteen_bit=False)
    with pytest.raises(ProjectError, match="disk is full") as info:
        store.add_take(block, big)
    assert info.value.kind == "io"
    rows = store._db().execute("SELECT COUNT(*) FROM takes WHERE id = ?", (big.id,)).fetchone()
    assert rows[0] == 0  # nothing half-written
    db.execute("PRAGMA max_page_count = 1073741823")  # room again: the same write succeeds
    store.add_take(block, big)
    store.close()
    assert len(ProjectStore.open(tmp_path / "p.cstudio").load().blocks[0].takes) == 2


def test_create_refuses_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "exists.cstudio"
    path.write_text("mine")
    with pytest.raises(ProjectError):
        ProjectStore.create(path)
    assert path.read_text() == "mine"


# --- migration ----------------------------------------------------------------

#: The version-1 layout, written out here independently of the code that migrates it.
V1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE blocks (id TEXT PRIMARY KEY, position INTEGER NOT NULL, text TEXT NOT NULL,
    voice_id TEXT NOT NULL, model_id TEXT NOT NULL, language TEXT NOT NULL, emotion TEXT,
    speed REAL NOT NULL, volume REAL NOT NULL, selected_take_id TEXT,
    deleted INTEGER NOT NULL DEFAULT 0);
CREATE TABLE audio (id INTEGER PRIMARY KEY, sample_rate INTEGER NOT NULL, frames INTEGER NOT NULL,
    encoding TEXT NOT NULL);
CREATE TABLE audio_blocks (audio_id INTEGER NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL);
CREATE UNIQUE INDEX audio_blocks_by_audio ON audio_blocks(audio_id, seq);
CREATE TABLE takes (id TEXT PRIMARY KEY, block_id TEXT NOT NULL, position INTEGER NOT NULL,
    name TEXT NOT NULL, audio_id INTEGER NOT NULL, words TEXT NOT NULL, phonemes TEXT NOT NULL,
    request TEXT NOT NULL, backend TEXT NOT NULL, credits INTEGER NOT NULL,
    created_at REAL NOT NULL, deleted INTEGER NOT NULL DEFAULT 0);
CREATE INDEX takes_by_block ON takes(block_id, position);
"""


def write_v1_project(path: Path, audio: np.ndarray) -> None:
    db = sqlite3.connect(path)
    db.executescript(V1_SCHEMA)
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO meta VALUES ('pause_seconds', '0.3')")
    db.execute("INSERT INTO blocks VALUES ('b1', 0, 'Hello there.', 'v1', 'sonic-3', 'en', NULL, "
               "1.0, 1.0, 't1', 0)")
    db.execute("INSERT INTO audio VALUES (1, ?, ?, 'f32le')", (RATE, audio.size))
    db.execute("INSERT INTO audio_blocks VALUES (1, 0, ?)", (audio.astype("<f4").tobytes(),))
    db.execute("INSERT INTO takes VALUES ('t1', 'b1', 0, 'Take 1', 1, ?, '{}', ?, 'cloud', 12, "
               "1700000000.0, 0)",
               (json.dumps({"words": ["Hello", "there."], "start": [0, 0.4], "end": [0.35, 0.9]}),
                json.dumps(REQUEST)))
    db.commit()
    db.close()


def test_migration_from_version_1(tmp_path: Path) -> None:
    path = tmp_path / "old.cstudio"
    audio = speech_like(1.0, sixteen_bit=False)
    write_v1_project(path, audio)
    assert check_project(path) == 1

    store = ProjectStore.open(path)
    loaded = store.load()
    take = loaded.blocks[0].takes[0]
    assert take.cache_key == take_key(REQUEST, "cloud")  # computed by the migration
    assert take.starred is False and take.name == "Take 1" and take.credits == 12
    assert np.array_equal(take.audio, audio)
    assert take.word_timestamps.words == ("Hello", "there.")
    assert loaded.settings["pause_seconds"] == "0.3"
    # Version 5: no dictionary before there were dictionaries, and the project's is used.
    assert loaded.blocks[0].pronunciation_dict_id is None and take.dictionary == ()
    store.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    db.close()


def test_a_failed_migration_leaves_version_1(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "old.cstudio"
    write_v1_project(path, speech_like(0.2))
    from studio.project import migrations

    def broken(db: sqlite3.Connection) -> None:
        db.execute("ALTER TABLE takes ADD COLUMN starred INTEGER NOT NULL DEFAULT 0")
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(migrations, "MIGRATIONS", (migrations.MIGRATIONS[0], broken))
    with pytest.raises(ProjectError):
        ProjectStore.open(path)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    columns = [row[1] for row in db.execute("PRAGMA table_info(takes)")]
    assert "starred" not in columns
    db.close()


def test_one_writer_at_a_time(tmp_path: Path) -> None:
    """The studio and a `render --project` never write the same file at once."""
    path = saved_project(tmp_path)
    first = ProjectStore.open(path)
    before = snapshot(path)
    with pytest.raises(ProjectError, match="open for writing") as info:
        ProjectStore.open(path)
    assert info.value.kind == "in_use" and snapshot(path) == before
    other = new_project(tmp_path, "other.cstudio")
    with pytest.raises(ProjectError, match="open for writing"):
        other.save_as(path)  # nor is it replaced under its writer
    first.close()
    ProjectStore.open(path).close()


def test_save_as_over_a_file_with_a_leftover_log(tmp_path: Path) -> None:
    """SQLite would replay a log left beside the target onto the copy."""
    old = saved_project(tmp_path)
    Path(f"{old}-wal").write_bytes(b"\x37\x7f\x06\x82" + b"\0" * 60)  # a crashed writer's log
    store = new_project(tmp_path, "new.cstudio")
    block = Block(text="The new project.")
    take = take_for(block)
    block.takes.append(take)
    store.add_take(block, take)
    store.write_script(script_rows([block]))
    with pytest.raises(ProjectError, match="not closed cleanly"):
        store.save_as(old)
    Path(f"{old}-wal").write_bytes(b"")  # an empty leftover is simply cleared
    store.save_as(old)
    store.close()
    assert [b.text for b in ProjectStore.open(old).load().blocks] == ["The new project."]


def test_a_truncated_copy_can_still_be_recovered(tmp_path: Path) -> None:
    path = saved_project(tmp_path, blocks=4)
    data = snapshot(path)
    path.write_bytes(data[: int(len(data) * 0.8)])  # a copy cut short (the last take's audio lost)
    before = snapshot(path)
    with pytest.raises(ProjectError) as info:
        ProjectStore.open(path)
    assert info.value.kind == "corrupt"
    copy, blocks, takes = recover_copy(path)
    assert snapshot(path) == before
    assert blocks == 4 and takes >= 1
    loaded = ProjectStore.open(copy).load()
    assert [b.text for b in loaded.blocks] == [f"Block number {i}." for i in range(4)]
    for block in loaded.blocks:
        for take in block.takes:
            assert take.audio.shape == (take.frames,)


def _damage_block(path: Path, audio_id: int) -> None:
    """Flip one byte of a stored audio block behind the store's back (bit rot)."""
    db = sqlite3.connect(path)
    (data,) = db.execute("SELECT data FROM audio_blocks WHERE audio_id = ? AND seq = 0",
                         (audio_id,)).fetchone()
    damaged = bytes([data[0] ^ 0xFF]) + data[1:]
    db.execute("UPDATE audio_blocks SET data = ? WHERE audio_id = ? AND seq = 0",
               (damaged, audio_id))
    db.commit()
    db.close()


def test_migration_to_version_7_checksums_the_audio_already_stored(tmp_path: Path) -> None:
    from studio.project import migrations
    path = tmp_path / "v6.cstudio"
    audio = speech_like(0.5, sixteen_bit=False)
    write_v1_project(path, audio)
    db = sqlite3.connect(path, isolation_level=None)
    migrations.migrate(db, target=6)  # a file as version 6 left it: no checksums
    assert "checksum" not in [r[1] for r in db.execute("PRAGMA table_info(audio_blocks)")]
    db.close()
    assert check_project(path) == 6

    store = ProjectStore.open(path)
    loaded = store.load()
    assert loaded.damaged_takes == [] and not loaded.blocks[0].takes[0].damaged
    assert np.array_equal(loaded.blocks[0].takes[0].audio, audio)
    store.close()
    db = sqlite3.connect(path)
    (data, checksum), = db.execute("SELECT data, checksum FROM audio_blocks").fetchall()
    assert checksum == block_checksum(data) and len(checksum) == 32
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.close()


def test_migration_to_version_8_gives_every_block_the_narrator_and_keeps_the_cast(
        tmp_path: Path) -> None:
    from studio.project import migrations
    from studio.project.cast import CastEntry
    path = tmp_path / "v7.cstudio"
    write_v1_project(path, speech_like(0.3, sixteen_bit=False))
    db = sqlite3.connect(path, isolation_level=None)
    migrations.migrate(db, target=7)
    db.close()

    store = ProjectStore.open(path)
    loaded = store.load()
    block = loaded.blocks[0]
    assert (block.speaker, block.flag, block.locked, block.cue_start) == (
        "Narrator", None, False, None)
    assert loaded.cast == []
    block.speaker, block.flag, block.locked, block.cue_start = "Alice", "too fast", True, 12.5
    cast = [CastEntry("Alice", "voice-a", "fr", "calm", 0.9, 1.2), CastEntry("Narrator")]
    assert store.write_script(script_rows(loaded.blocks, cast)) == 2
    assert store.write_script(script_rows(loaded.blocks, cast)) == 0  # nothing changed
    store.close()

    again = ProjectStore.open(path)
    reread = again.load()
    block = reread.blocks[0]
    assert (block.speaker, block.flag, block.locked, block.cue_start) == (
        "Alice", "too fast", True, 12.5)
    assert reread.cast == cast
    again.close()


def test_a_take_whose_audio_fails_its_checksum_is_damaged_and_never_reused(
        tmp_path: Path) -> None:
    from studio.services.document import ScriptDocument
    store = new_project(tmp_path)
    block = Block(text="Hello there.", voice_id="v1")
    good, bad = take_for(block, seed=1), take_for(block, seed=2)
    bad = make_take(bad.audio, RATE, bad.word_timestamps, PhonemeTimestamps(), bad.request,
                    "cloud", 5, 2, cache_key="other-key")
    store.add_take(block, good)
    store.add_take(block, bad)
    assert bad.source.store_key is not None
    store.close()
    _damage_block(tmp_path / "p.cstudio", bad.source.store_key[1])
    assert check_project(tmp_path / "p.cstudio") == SCHEMA_VERSION  # SQLite sees nothing

    store = ProjectStore.open(tmp_path / "p.cstudio")
    loaded = store.load()
    takes = {t.id: t for t in loaded.blocks[0].takes}
    assert loaded.damaged_takes == [bad.id]
    assert takes[bad.id].damaged and not takes[good.id].damaged
    with pytest.raises(ProjectError, match="damaged") as error:
        takes[bad.id].source.read()
    assert error.value.kind == "corrupt"
    assert np.array_equal(takes[good.id].audio, good.audio)  # nothing else is lost

    document = ScriptDocument()
    doc_block = document.add_block(text="Hello there.", voice_id="v1")
    document.add_take(doc_block.id, takes[good.id])
    document.add_take(doc_block.id, takes[bad.id])
    assert document.cached_take("other-key") is None
    assert not document.has_take_with_key("other-key")
    assert document.cached_take(good.cache_key) == (doc_block, takes[good.id])
    store.close()


def test_audio_damaged_after_opening_is_found_when_read(tmp_path: Path) -> None:
    store = new_project(tmp_path)
    block = Block(text="Hello there.", voice_id="v1")
    store.add_take(block, take_for(block))
    store.close()
    store = ProjectStore.open(tmp_path / "p.cstudio")
    take = store.load().blocks[0].takes[0]
    assert not take.damaged
    assert take.source.store_key is not None
    _damage_block(tmp_path / "p.cstudio", take.source.store_key[1])
    with pytest.raises(ProjectError, match="fails its checksum"):
        take.source.read()
    assert take.damaged
    store.close()


@pytest.mark.parametrize("failure", [
    OSError(28, "No space left on device"),  # errno.ENOSPC
    sqlite3.OperationalError("database or disk is full"),
])
def test_a_full_disk_under_concurrent_writes_is_one_message_and_keeps_finished_takes(
        tmp_path: Path, monkeypatch, failure: Exception) -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor
    store = new_project(tmp_path)
    blocks = [Block(text=f"Block {n}.", voice_id="v1") for n in range(6)]
    takes = [take_for(block, seconds=0.2, seed=n) for n, block in enumerate(blocks)]
    real_insert = ProjectStore._insert_audio
    calls = []
    lock = threading.Lock()

    def insert(self, db, *args):  # the disk fills up from the fourth write on
        with lock:
            calls.append(1)
            full = len(calls) >= 4
        if full:
            raise failure
        return real_insert(self, db, *args)

    monkeypatch.setattr(ProjectStore, "_insert_audio", insert)
    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(store.add_take, b, t) for b, t in zip(blocks, takes, strict=True)]
    errors = [f.exception() for f in futures]
    written = [b.id for b, e in zip(blocks, errors, strict=True) if e is None]
    assert len(written) == 3
    for error in errors:
        if error is not None:
            assert isinstance(error, ProjectError) and error.kind == "io"
            assert str(error) == "Cannot save to p.cstudio: the disk is full."
    store.close()
    loaded = ProjectStore.open(tmp_path / "p.cstudio").load()
    assert sorted(b.id for b in loaded.blocks) == sorted(written)  # all finished work kept
    assert all(len(b.takes) == 1 and not b.takes[0].damaged for b in loaded.blocks)
