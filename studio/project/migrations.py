"""The schema of ``.cstudio`` project files, as the list of steps that built it.

A new project runs every step from an empty file; an older project runs the steps
it lacks. Each step runs inside the caller's transaction, so a crash part-way
through an upgrade leaves the file at its old version (SQLite DDL is
transactional). ``PRAGMA user_version`` records how many steps a file has had;
``PRAGMA application_id`` marks the file as ours (SQLite file format, "Application
ID").

Version 1: the script (``blocks``), takes with their request and timestamps, and
audio in insert-only blocks (``audio`` + ``audio_blocks``), after Audacity's
``.aup3`` sample blocks.

Version 2: takes can be starred, and carry the take-cache key
(:func:`studio.project.cache.take_key`), computed here for takes made before.

Version 3: takes carry their non-destructive edits (a JSON list,
:func:`studio.project.edits.edits_to_json`) and the words they say after them, and ``clips`` holds
the audio those edits insert: pasted audio and every infill candidate ever generated (accepted or
not, so none is paid for twice and their credits count in the project's total).

Version 4: ``recordings`` holds the voice clips recorded (or imported) in the Voice
lab, with the voice cloned from each, if any.

Version 5: pronunciation dictionaries (issue #6). A block may name its own dictionary
(``blocks.pronunciation_dict_id``: NULL follows the project's, kept in ``meta`` as
``pronunciation_dict_id``; "" is none), and a take records the dictionary entries that
applied to it (``takes.dictionary``, JSON ``[{"text", "alias"}]``), so editing one of
them marks exactly that take as out of date.

Version 6: chapters (issue #12). ``blocks.chapter`` holds the title of the chapter a
block starts (NULL: it starts none).

Version 7: each audio block carries its checksum (``audio_blocks.checksum``,
:func:`studio.project.audio_blocks.block_checksum`), computed here for blocks stored
before, so audio damaged on disk from now on is found when it is read.

Version 8: long-form (issue 15). Each block has a speaker (``blocks.speaker``,
"Narrator" for blocks from before), a retake flag with its note (``blocks.flag``: NULL
when not flagged), a lock (``blocks.locked``) and the start of the subtitle cue it was
imported from (``blocks.cue_start``, seconds, NULL otherwise); ``cast`` maps each
speaker to a voice and default delivery (:mod:`studio.project.cast`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

from studio.project.audio_blocks import block_checksum
from studio.project.cache import take_key

#: "CSTD" as a big-endian 32-bit integer, in the SQLite header at offset 68.
APPLICATION_ID = 0x43535444

_V1 = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE blocks (
    id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    text TEXT NOT NULL,
    voice_id TEXT NOT NULL,
    model_id TEXT NOT NULL,
    language TEXT NOT NULL,
    emotion TEXT,
    speed REAL NOT NULL,
    volume REAL NOT NULL,
    selected_take_id TEXT,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE audio (
    id INTEGER PRIMARY KEY,
    sample_rate INTEGER NOT NULL,
    frames INTEGER NOT NULL,
    encoding TEXT NOT NULL
);
CREATE TABLE audio_blocks (
    audio_id INTEGER NOT NULL REFERENCES audio(id),
    seq INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE UNIQUE INDEX audio_blocks_by_audio ON audio_blocks(audio_id, seq);
CREATE TABLE takes (
    id TEXT PRIMARY KEY,
    block_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    audio_id INTEGER NOT NULL REFERENCES audio(id),
    words TEXT NOT NULL,
    phonemes TEXT NOT NULL,
    request TEXT NOT NULL,
    backend TEXT NOT NULL,
    credits INTEGER NOT NULL,
    created_at REAL NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX takes_by_block ON takes(block_id, position);
"""


def _v1(db: sqlite3.Connection) -> None:
    for statement in _V1.split(";"):
        if statement.strip():
            db.execute(statement)


def _v2(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE takes ADD COLUMN starred INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE takes ADD COLUMN cache_key TEXT NOT NULL DEFAULT ''")
    rows = db.execute("SELECT id, request, backend FROM takes").fetchall()
    for take_id, request, backend in rows:
        try:
            key = take_key(json.loads(request), backend)
        except (ValueError, AttributeError):
            key = ""  # a request we cannot read never matches anything
        db.execute("UPDATE takes SET cache_key = ? WHERE id = ?", (key, take_id))
    db.execute("CREATE INDEX takes_by_cache_key ON takes(cache_key)")


_V3_CLIPS = """
CREATE TABLE clips (
    id TEXT PRIMARY KEY,
    take_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    audio_id INTEGER NOT NULL REFERENCES audio(id),
    words TEXT NOT NULL,
    phonemes TEXT NOT NULL,
    transcript TEXT NOT NULL,
    request TEXT NOT NULL,
    backend TEXT NOT NULL,
    credits INTEGER NOT NULL,
    created_at REAL NOT NULL
)"""


def _v3(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE takes ADD COLUMN edits TEXT NOT NULL DEFAULT '[]'")
    db.execute("ALTER TABLE takes ADD COLUMN text TEXT NOT NULL DEFAULT ''")
    db.execute(_V3_CLIPS)
    db.execute("CREATE INDEX clips_by_take ON clips(take_id)")


def _v4(db: sqlite3.Connection) -> None:
    db.execute("""
CREATE TABLE recordings (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    audio_id INTEGER NOT NULL REFERENCES audio(id),
    created_at REAL NOT NULL,
    voice_id TEXT NOT NULL DEFAULT ''
)""")


def _v5(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE blocks ADD COLUMN pronunciation_dict_id TEXT")
    db.execute("ALTER TABLE takes ADD COLUMN dictionary TEXT NOT NULL DEFAULT '[]'")


def _v6(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE blocks ADD COLUMN chapter TEXT")


def _v7(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE audio_blocks ADD COLUMN checksum TEXT NOT NULL DEFAULT ''")
    rowids = [row[0] for row in db.execute("SELECT rowid FROM audio_blocks")]
    for rowid in rowids:  # one block in memory at a time
        (data,) = db.execute("SELECT data FROM audio_blocks WHERE rowid = ?",
                             (rowid,)).fetchone()
        db.execute("UPDATE audio_blocks SET checksum = ? WHERE rowid = ?",
                   (block_checksum(data), rowid))


def _v8(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE blocks ADD COLUMN speaker TEXT NOT NULL DEFAULT 'Narrator'")
    db.execute("ALTER TABLE blocks ADD COLUMN flag TEXT")
    db.execute("ALTER TABLE blocks ADD COLUMN locked INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE blocks ADD COLUMN cue_start REAL")
    db.execute("""
CREATE TABLE cast_entries (
    speaker TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    voice_id TEXT NOT NULL,
    language TEXT NOT NULL,
    emotion TEXT,
    speed REAL NOT NULL,
    volume REAL NOT NULL
)""")


def _v9(db: sqlite3.Connection) -> None:
    # The performance a "Perform it yourself" take was converted from (issue 16): one
    # per take at most, its audio stored as takes' audio is.
    db.execute("""
CREATE TABLE performances (
    id TEXT PRIMARY KEY,
    take_id TEXT NOT NULL UNIQUE,
    audio_id INTEGER NOT NULL REFERENCES audio(id),
    created_at REAL NOT NULL
)""")


#: Step *i* takes a file from version *i* to *i + 1*.
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _v1, _v2, _v3, _v4, _v5, _v6, _v7, _v8, _v9)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(db: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring ``db`` from its ``user_version`` up to ``target`` in one transaction.

    ``db`` must be in autocommit mode (``isolation_level=None``). Returns the version
    the file had before. Raises ``sqlite3.Error`` (the transaction is rolled back).
    """
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version >= target:
        return version
    db.execute("BEGIN IMMEDIATE")
    try:
        for step in MIGRATIONS[version:target]:
            step(db)
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute(f"PRAGMA user_version = {int(target)}")
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:  # SQLite has already rolled back after e.g. a full disk
            db.execute("ROLLBACK")
        raise
    return version
