"""``.cstudio`` project files: one SQLite database per project. Qt-free.

The file holds the script (blocks with their text, voice and delivery), every take
(audio, word and phoneme timestamps, the exact request, backend, credits, time),
the selected take of each block, and project settings such as the export pause.
It is the model Audacity's ``.aup3`` set (STYLE.md): audio lives in insert-only
blocks, and a take's audio, its row and its block row are written in one
transaction, so a crash (even ``kill -9``) leaves either the whole take or none
of it. The database runs in WAL mode with ``synchronous=FULL``: a committed take
survives a power cut as well (SQLite docs, "Write-Ahead Logging").

Audio is stored losslessly in blocks (:mod:`studio.project.audio_blocks`): FLAC
for takes whose samples are exact 16-bit values (what the studio renders), raw
float32 otherwise.

A take's non-destructive edits (:mod:`studio.project.edits`) are a JSON list on its
row; the audio they insert (pasted audio, infill candidates) is stored once as a
*clip*, beside the takes, written as soon as it exists like a take.

Deleting is soft (a ``deleted`` flag), so undo can bring a block or take back;
:meth:`ProjectStore.purge_deleted` drops them for good when a project is closed.

A file is checked before anything writes to it (:func:`check_project`): it must
be SQLite, carry our ``application_id``, have a schema this version reads, and
pass ``PRAGMA integrity_check``. A file that fails is never opened for writing, so
its bytes stay as they were; :func:`studio.project.salvage.recover_copy` salvages
what it can into a new file beside it.

Connections are per thread (SQLite connections must not be shared across
threads); writes are meant to come from one thread at a time (the studio's
project writer, or the CLI), reads from any.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Sequence

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]  # the optional-module idiom mypy cannot follow
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from studio.api.errors import CartesiaError
from studio.project.audio_blocks import block_checksum, decode_audio, encode_audio
from studio.project.cast import CastEntry, entry_fields
from studio.project.lexicon import LexiconItem
from studio.project.migrations import APPLICATION_ID, SCHEMA_VERSION, migrate
from studio.project.model import Block, Recording, Take, TakeAudio, new_id
from studio.timestamps import PhonemeTimestamps, WordTimestamps

if TYPE_CHECKING:
    from studio.project.edits import Clip

log = logging.getLogger(__name__)

SUFFIX = ".cstudio"
SQLITE_MAGIC = b"SQLite format 3\x00"
_BUSY_TIMEOUT_S = 10.0


class ProjectError(Exception):
    """A project file cannot be used; ``str()`` is a message for the user.

    Attributes:
        path: the file.
        kind: ``"missing"``, ``"not_project"``, ``"corrupt"``, ``"newer"``,
            ``"unwritable"``, ``"in_use"`` (open for writing elsewhere) or ``"io"`` (a
            read or write failed, e.g. disk full).
        recovered: a salvaged copy made by :func:`recover_copy`, if any.
    """

    def __init__(self, path: Path, kind: str, message: str, recovered: Path | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.kind = kind
        self.recovered = recovered


# --- rows -----------------------------------------------------------------------

_BLOCK_FIELDS = ("position", "text", "voice_id", "model_id", "language", "emotion", "speed",
                 "volume", "selected_take_id", "pronunciation_dict_id", "chapter", "speaker",
                 "flag", "locked", "cue_start")
_TAKE_META = ("block_id", "position", "name", "starred", "edits", "text", "dictionary")


@dataclass(frozen=True, slots=True)
class ScriptRows:
    """A snapshot of the script for :meth:`ProjectStore.write_script`, taken on the
    thread that owns the blocks (plain tuples, safe to hand to the writer thread).

    Attributes:
        blocks: block id -> values of ``_BLOCK_FIELDS``.
        takes: take id -> values of ``_TAKE_META``.
        cast: the cast entries in order, as rows of :func:`studio.project.cast.entry_fields`.
    """

    blocks: dict[str, tuple[Any, ...]]
    takes: dict[str, tuple[Any, ...]]
    cast: tuple[tuple[Any, ...], ...] = ()


def _block_row(position: int, block: Block) -> tuple[Any, ...]:
    return (position, block.text, block.voice_id, block.model_id, block.language, block.emotion,
            float(block.speed), float(block.volume), block.selected_take_id,
            block.pronunciation_dict_id, block.chapter, block.speaker, block.flag,
            int(block.locked), block.cue_start)


def edits_json(take: Take) -> str:
    """The take's edits as the JSON text of its row (``"[]"`` for none)."""
    if not take.edits:
        return "[]"
    from studio.project.edits import edits_to_json
    return json.dumps(edits_to_json(take.edits), ensure_ascii=False)


def _take_row(block_id: str, position: int, take: Take) -> tuple[Any, ...]:
    return (block_id, position, take.name, int(take.starred), edits_json(take), take.text,
            items_json(take.dictionary))


def script_rows(blocks: Sequence[Block], cast: Sequence[CastEntry] = ()) -> ScriptRows:
    """Snapshot ``blocks`` (in script order) with their live takes, and the ``cast``."""
    block_rows: dict[str, tuple[Any, ...]] = {}
    take_rows: dict[str, tuple[Any, ...]] = {}
    for position, block in enumerate(blocks):
        block_rows[block.id] = _block_row(position, block)
        for take_position, take in enumerate(block.takes):
            take_rows[take.id] = _take_row(block.id, take_position, take)
    cast_rows = tuple(tuple(getattr(entry, name) for name in entry_fields()) for entry in cast)
    return ScriptRows(block_rows, take_rows, cast_rows)


@dataclass(slots=True)
class LoadedProject:
    """What :meth:`ProjectStore.load` read.

    Attributes:
        blocks: live blocks in script order, with their live takes (audio loads lazily).
        settings: project settings (``meta`` rows other than the file's own bookkeeping).
        credits_spent: credits of every take and clip ever generated in the project.
        clips: take id -> the clips made for it (infill candidates, pasted audio),
            oldest first; edits refer to them.
        recordings: the Voice lab's recordings, oldest first.
        damaged_takes: ids of live takes whose stored audio fails its checksum
            (:attr:`~studio.project.model.Take.damaged`), in script order.
        cast: the speakers' voices and delivery, in the cast's order.
    """

    blocks: list[Block]
    settings: dict[str, str] = field(default_factory=dict)
    credits_spent: int = 0
    clips: dict[str, list[Clip]] = field(default_factory=dict)
    recordings: list[Recording] = field(default_factory=list)
    damaged_takes: list[str] = field(default_factory=list)
    cast: list[CastEntry] = field(default_factory=list)


# --- checking and opening -------------------------------------------------------------


def open_read_only(path: Path) -> sqlite3.Connection:
    """A connection that can only read ``path`` and never changes it (see below for
    how a cleanly closed file is read without any side files).

    Raises:
        sqlite3.Error: the file cannot be opened.
    """
    return _connect(path, read_only=True)


def _connect(path: Path, read_only: bool = False) -> sqlite3.Connection:
    if read_only:
        # A file with no WAL beside it was closed cleanly: read it as immutable, which
        # creates no -wal/-shm files and works on read-only media. After a crash the
        # WAL holds committed work, so it must be read through (mode=ro).
        # A -shm file means someone may have it open now: then read it properly too.
        side_files = _has_wal(path) or Path(f"{path}-shm").exists()
        mode = "mode=ro" if side_files else "immutable=1"
        uri = f"{path.resolve().as_uri()}?{mode}"
        db = sqlite3.connect(uri, uri=True, timeout=_BUSY_TIMEOUT_S, isolation_level=None,
                             check_same_thread=False)
    else:
        db = sqlite3.connect(str(path), timeout=_BUSY_TIMEOUT_S, isolation_level=None,
                             check_same_thread=False)
    return db


def remove_project_files(path: Path) -> None:
    """Delete ``path`` and its SQLite side files (``-wal``, ``-shm``), if present."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _has_wal(path: Path) -> bool:
    """Whether a non-empty write-ahead log sits beside ``path``: the file is open
    elsewhere, or was not closed cleanly and the log holds committed work."""
    wal = Path(f"{path}-wal")
    return wal.exists() and wal.stat().st_size > 0


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


def check_project(path: Path) -> int:
    """Check ``path`` without writing to it; return its schema version.

    Raises:
        ProjectError: missing or unreadable, not SQLite, not a Cartesia Studio
            project, from a newer version of the studio, or damaged (fails
            ``PRAGMA integrity_check``).
    """
    try:
        with open(path, "rb") as fh:
            header = fh.read(100)
    except FileNotFoundError:
        raise ProjectError(path, "missing", f"{path} does not exist.") from None
    except OSError as exc:
        raise ProjectError(path, "io", f"Cannot read {path}: {_describe(exc)}.") from exc
    if not header.startswith(SQLITE_MAGIC):
        raise ProjectError(path, "not_project",
                           f"{path.name} is not a Cartesia Studio project (it is not an SQLite "
                           "database). The file was left untouched.")
    if len(header) < 100:
        raise ProjectError(path, "corrupt", f"{path.name} is damaged: the file is cut short.")
    try:
        db = _connect(path, read_only=True)
        try:
            # Asked through SQLite, not read from the header: after a crash the newest
            # values may still be in the WAL.
            app_id = int(db.execute("PRAGMA application_id").fetchone()[0])
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            if app_id != APPLICATION_ID:
                raise ProjectError(path, "not_project",
                                   f"{path.name} is an SQLite database but not a Cartesia Studio "
                                   "project. The file was left untouched.")
            if version > SCHEMA_VERSION:
                raise ProjectError(
                    path, "newer",
                    f"{path.name} was saved by a newer Cartesia Studio (project format {version}; "
                    f"this version reads up to {SCHEMA_VERSION}). Update Cartesia Studio to open "
                    "it; the file was left untouched.")
            problems = [row[0] for row in db.execute("PRAGMA integrity_check(20)")]
        finally:
            db.close()
    except sqlite3.OperationalError as exc:
        if "unable to open" in str(exc):
            raise ProjectError(
                path, "unwritable",
                f"{path.name} cannot be read here ({exc}): its folder is read-only and it was not "
                "closed cleanly. Copy the file and the files beside it that start with its name "
                "to a writable folder, then open the copy.") from exc
        problems = [str(exc)]
    except sqlite3.DatabaseError as exc:
        problems = [str(exc)]
    if problems != ["ok"]:
        log.info("%s fails its integrity check: %s", path, problems)
        raise ProjectError(path, "corrupt",
                           f"{path.name} is damaged ({_first_problem(problems)}). The file was "
                           "left untouched.")
    return version


def _first_problem(problems: Sequence[str]) -> str:
    """The first finding of ``PRAGMA integrity_check`` on one line, without the
    ``*** in database main ***`` heading SQLite puts before a schema's findings."""
    lines = [line.strip() for problem in problems for line in problem.splitlines()]
    first = next((line for line in lines if line and not line.startswith("***")), "unreadable")
    return first if len(first) <= 120 else first[:119] + "…"


def _clear_stale_side_files(path: Path) -> None:
    """Before a new file is put at ``path``: SQLite would replay a write-ahead log left
    beside it onto the new file, so refuse if that log holds work, else remove the
    empty leftovers.

    Raises:
        ProjectError: kind ``io``, the log at ``path`` holds work.
    """
    if _has_wal(path):
        raise ProjectError(
            path, "io",
            f"{path.name} is open in another window or program, or was not closed cleanly. "
            "Open it (or close it there) first, or choose another name.")
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


class _WriterLock:
    """An exclusive ``flock`` on a project file while one store writes to it, so the
    studio and a ``render --project`` (or two studio windows) never both write the
    same project: each would take the other's blocks for removed ones.

    ``flock`` locks are separate from the POSIX locks SQLite uses, so this does not
    interfere with SQLite's own locking; the descriptor stays open until the store
    closes (closing another descriptor of the file early would drop SQLite's POSIX
    locks). Where ``fcntl`` does not exist (Windows) there is no lock.
    """

    def __init__(self, path: Path) -> None:
        self._fd: int | None = None
        if fcntl is None:
            return
        fd = os.open(path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise ProjectError(
                path, "in_use",
                f"{path.name} is open for writing in another Cartesia Studio window or a running "
                "`cartesia-studio render`. Close it there (or wait for the render) first; the "
                "file was left untouched.") from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _check_writable(path: Path) -> None:
    folder = path.parent
    if not folder.is_dir():
        raise ProjectError(path, "unwritable", f"The folder {folder} does not exist.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ProjectError(
            path, "unwritable",
            f"The folder {folder} is read-only, so {path.name} cannot be saved there (SQLite "
            "needs to write its journal beside the file). Copy the project to a writable "
            "folder and open the copy; the file was left untouched.")
    if path.exists() and not os.access(path, os.W_OK):
        raise ProjectError(path, "unwritable",
                           f"{path.name} is read-only. Copy it to open it; it was left untouched.")


class ProjectStore:
    """An open ``.cstudio`` file.

    Use :meth:`open` (an existing file, checked and upgraded) or :meth:`create`.

    Attributes:
        path: the file.
        project_id: a uuid kept across Save As; identifies the audio rows takes point at.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._written_blocks: dict[str, tuple[Any, ...]] = {}
        self._written_takes: dict[str, tuple[Any, ...]] = {}
        self._written_cast: tuple[tuple[Any, ...], ...] = ()
        self.project_id = ""
        self._closed = False
        self._writer_lock: _WriterLock | None = None
        self._read_only = False

    # --- lifecycle ------------------------------------------------------------

    @classmethod
    def create(cls, path: Path, settings: dict[str, str] | None = None) -> ProjectStore:
        """Make a new, empty project at ``path``.

        Raises:
            ProjectError: ``path`` exists, or cannot be written (``unwritable``, ``io``).
        """
        if path.exists():
            raise ProjectError(path, "io", f"{path} already exists.")
        _check_writable(path)
        _clear_stale_side_files(path)
        store = cls(path)
        try:
            db = store._db()
            db.execute("PRAGMA auto_vacuum = INCREMENTAL")
            migrate(db)
            db.execute("PRAGMA journal_mode = WAL")
            store._writer_lock = _WriterLock(path)
            store.project_id = str(uuid.uuid4())
            store.set_settings({"project_id": store.project_id, "created_at": f"{time.time():.3f}",
                                **(settings or {})})
        except sqlite3.Error as exc:
            store.close()
            remove_project_files(path)
            raise ProjectError(path, "io", f"Cannot create {path.name}: {exc}.") from exc
        return store

    @classmethod
    def open(cls, path: Path) -> ProjectStore:
        """Open an existing project for reading and writing, upgrading an older
        schema first (in one transaction).

        Raises:
            ProjectError: see :func:`check_project` and ``unwritable``.
        """
        check_project(path)
        _check_writable(path)
        store = cls(path)
        store._writer_lock = _WriterLock(path)  # before anything is written
        try:
            db = store._db()
            db.execute("PRAGMA journal_mode = WAL")
            old = migrate(db)
            if old < SCHEMA_VERSION:
                log.info("upgraded %s from project format %d to %d", path, old, SCHEMA_VERSION)
            store.project_id = store.settings().get("project_id", "")
            if not store.project_id:
                store.project_id = str(uuid.uuid4())
                store.set_settings({"project_id": store.project_id})
        except sqlite3.Error as exc:
            store.close()
            raise ProjectError(path, "io", f"Cannot open {path.name}: {exc}.") from exc
        return store

    @classmethod
    def open_read_only(cls, path: Path) -> ProjectStore:
        """Open a project only to read it (an export): no lock is taken, so the studio
        may have it open meanwhile, and nothing is written, not even an upgrade. A file
        in an older format is opened with :meth:`open` instead, which upgrades it.

        Raises:
            ProjectError: see :func:`check_project` (and ``unwritable`` for an older
                file that cannot be upgraded).
        """
        if check_project(path) < SCHEMA_VERSION:
            return cls.open(path)
        store = cls(path)
        store._read_only = True
        try:
            store.project_id = store.settings().get("project_id", "")
        except sqlite3.Error as exc:
            store.close()
            raise ProjectError(path, "io", f"Cannot open {path.name}: {exc}.") from exc
        return store

    def close(self) -> None:
        """Close every connection (checkpointing the WAL into the file) and let other
        writers at the file."""
        with self._lock:
            connections, self._connections = self._connections, []
            self._closed = True
        for db in connections:
            try:
                db.close()
            except sqlite3.Error:
                log.exception("closing %s", self.path)
        self._local = threading.local()
        if self._writer_lock is not None:
            self._writer_lock.release()
            self._writer_lock = None

    def _db(self) -> sqlite3.Connection:
        """This thread's connection to :attr:`path`.

        Raises:
            ProjectError: the project was closed (a late read must not reopen, or
                recreate, its file).
        """
        if self._closed:
            raise ProjectError(self.path, "io", f"{self.path.name} is closed.")
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is not None and getattr(self._local, "path", None) == self.path:
            return db
        db = _connect(self.path, read_only=self._read_only)
        if not self._read_only:
            db.execute("PRAGMA synchronous = FULL")
            db.execute("PRAGMA foreign_keys = OFF")
        self._local.db = db
        self._local.path = self.path
        with self._lock:
            self._connections.append(db)
        return db

    def _write(self) -> _Transaction:
        return _Transaction(self)

    # --- settings -------------------------------------------------------------

    def settings(self) -> dict[str, str]:
        """Every ``meta`` row (project settings and bookkeeping)."""
        return dict(self._db().execute("SELECT key, value FROM meta").fetchall())

    def set_settings(self, values: dict[str, str]) -> None:
        """Write ``meta`` rows.

        Raises:
            ProjectError: kind ``io`` (disk full, file gone...).
        """
        with self._write() as db:
            db.executemany("INSERT INTO meta(key, value) VALUES (?, ?) "
                           "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                           [(k, str(v)) for k, v in values.items()])

    # --- writing ----------------------------------------------------------------

    def add_take(self, block: Block, take: Take, position: int | None = None) -> None:
        """Write ``take`` of ``block``: its audio (unless already stored, as for a
        reused take), its row, and the block's row if the file does not have it yet.
        A take made from a performance (:attr:`Take.performance`) has it written too,
        in the ``performances`` table. One transaction; the FLAC encoding happens before
        it. Call off the UI thread.

        Raises:
            ProjectError: kind ``io`` (disk full...): nothing of the take was written.
        """
        source = take.source
        audio_id, encoding, blobs = self._encode(source)
        performance = take.performance
        performed = self._encode(performance) if performance is not None else None
        kept: tuple[str, int] | None = None
        if position is None:
            position = next((i for i, t in enumerate(block.takes) if t.id == take.id),
                            len(block.takes))
        index = position
        with self._write() as db:
            if db.execute("SELECT 1 FROM takes WHERE id = ?", (take.id,)).fetchone() is not None:
                return  # already stored (a retry after a write whose outcome was unclear)
            if db.execute("SELECT 1 FROM blocks WHERE id = ?", (block.id,)).fetchone() is None:
                row = _block_row(self._next_block_position(db), block)
                db.execute(f"INSERT INTO blocks(id, {', '.join(_BLOCK_FIELDS)}) "
                           f"VALUES (?{', ?' * len(_BLOCK_FIELDS)})", (block.id, *row))
            stored = self._insert_audio(db, source, audio_id, encoding, blobs)
            row = _take_row(block.id, index, take)
            db.execute(
                "INSERT INTO takes(id, block_id, position, name, audio_id, words, phonemes, "
                "request, backend, credits, created_at, starred, cache_key, edits, text, "
                "dictionary) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (take.id, block.id, index, take.name, stored[1],
                 json.dumps(take.word_timestamps.to_json(), ensure_ascii=False),
                 json.dumps(take.phoneme_timestamps.to_json(), ensure_ascii=False),
                 json.dumps(take.request, ensure_ascii=False), take.backend, take.credits,
                 take.created_at, int(take.starred), take.cache_key, row[4], take.text,
                 row[6]),
            )
            if performance is not None and performed is not None:
                kept = self._insert_audio(db, performance, *performed)
                db.execute("INSERT INTO performances(id, take_id, audio_id, created_at) "
                           "VALUES (?, ?, ?, ?)", (new_id(), take.id, kept[1], take.created_at))
        self._mark_stored(source, stored)
        if performance is not None and kept is not None:
            self._mark_stored(performance, kept)
        self._written_takes[take.id] = row

    def add_clip(self, clip: Clip) -> None:
        """Write ``clip`` (an infill candidate or pasted audio of take ``clip.take_id``):
        its audio, unless already stored, and its row, in one transaction. Writing a
        clip that is already in the file does nothing. Call off the UI thread.

        Raises:
            ProjectError: kind ``io``: nothing of the clip was written.
        """
        source = clip.source
        audio_id, encoding, blobs = self._encode(source)
        with self._write() as db:
            if db.execute("SELECT 1 FROM clips WHERE id = ?", (clip.id,)).fetchone() is not None:
                return
            stored = self._insert_audio(db, source, audio_id, encoding, blobs)
            db.execute(
                "INSERT INTO clips(id, take_id, kind, audio_id, words, phonemes, transcript, "
                "request, backend, credits, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (clip.id, clip.take_id, clip.kind, stored[1],
                 json.dumps(clip.words.to_json(), ensure_ascii=False),
                 json.dumps(clip.phonemes.to_json(), ensure_ascii=False), clip.transcript,
                 json.dumps(clip.request, ensure_ascii=False), clip.backend, clip.credits,
                 clip.created_at))
        self._mark_stored(source, stored)

    def add_recording(self, recording: Recording) -> None:
        """Write ``recording`` (its audio and its row, one transaction); writing one
        already in the file does nothing. Call off the UI thread.

        Raises:
            ProjectError: kind ``io``: nothing of it was written.
        """
        source = recording.source
        audio_id, encoding, blobs = self._encode(source)
        with self._write() as db:
            if db.execute("SELECT 1 FROM recordings WHERE id = ?",
                          (recording.id,)).fetchone() is not None:
                return
            stored = self._insert_audio(db, source, audio_id, encoding, blobs)
            db.execute("INSERT INTO recordings(id, name, audio_id, created_at, voice_id) "
                       "VALUES (?, ?, ?, ?, ?)", (recording.id, recording.name, stored[1],
                                                  recording.created_at, recording.voice_id))
        self._mark_stored(source, stored)

    def update_recording(self, recording_id: str, name: str, voice_id: str) -> None:
        """Rename a recording or record the voice cloned from it.

        Raises:
            ProjectError: kind ``io``.
        """
        with self._write() as db:
            db.execute("UPDATE recordings SET name = ?, voice_id = ? WHERE id = ?",
                       (name, voice_id, recording_id))

    def delete_recording(self, recording_id: str) -> None:
        """Drop a recording (its audio goes at the next purge).

        Raises:
            ProjectError: kind ``io``.
        """
        with self._write() as db:
            db.execute("DELETE FROM recordings WHERE id = ?", (recording_id,))

    def _encode(self, source: TakeAudio) -> tuple[tuple[str, int] | None, str, list[bytes]]:
        """``(stored audio key or None, encoding, blobs)``: audio already in this file
        is not encoded again (a reused take, a clip shared by two edits)."""
        if source.store_key and source.store_key[0] == self.project_id:
            return source.store_key, "", []
        encoding, blobs = encode_audio(source.array, source.sample_rate)
        return None, encoding, blobs

    def _mark_stored(self, source: TakeAudio, stored: tuple[str, int]) -> None:
        """The file holds ``source``'s samples as ``stored``: from now on they are read
        back from it when the take cache has let them go (:meth:`TakeAudio.mark_stored`)."""
        if source.store_key == stored and not source.pinned:
            return
        loader = _AudioLoader(self, stored[1])
        loader.source = source
        source.mark_stored(stored, loader)

    def _insert_audio(self, db: sqlite3.Connection, source: TakeAudio,
                      audio_id: tuple[str, int] | None, encoding: str,
                      blobs: list[bytes]) -> tuple[str, int]:
        if audio_id is not None:
            return audio_id
        cursor = db.execute("INSERT INTO audio(sample_rate, frames, encoding) VALUES (?, ?, ?)",
                            (source.sample_rate, source.frames, encoding))
        new_audio = int(cursor.lastrowid or 0)
        db.executemany(
            "INSERT INTO audio_blocks(audio_id, seq, data, checksum) VALUES (?, ?, ?, ?)",
            [(new_audio, seq, blob, block_checksum(blob)) for seq, blob in enumerate(blobs)])
        return (self.project_id, new_audio)

    @staticmethod
    def _next_block_position(db: sqlite3.Connection) -> int:
        row = db.execute("SELECT MAX(position) FROM blocks WHERE deleted = 0").fetchone()
        return 0 if row[0] is None else int(row[0]) + 1

    def write_script(self, rows: ScriptRows) -> int:
        """Make the file's script match ``rows``: blocks and take metadata that
        changed since the last call are written, blocks and takes no longer present
        are marked deleted (soft; undo may bring them back). Takes not yet in the
        file are skipped (their :meth:`add_take` comes first). Returns the number of
        rows written.

        Raises:
            ProjectError: kind ``io``; the file keeps its previous script.
        """
        changed_blocks = {k: v for k, v in rows.blocks.items() if self._written_blocks.get(k) != v}
        gone_blocks = [k for k in self._written_blocks if k not in rows.blocks]
        changed_takes = {k: v for k, v in rows.takes.items() if self._written_takes.get(k) != v}
        gone_takes = [k for k in self._written_takes if k not in rows.takes]
        cast_changed = rows.cast != self._written_cast
        if not (changed_blocks or gone_blocks or changed_takes or gone_takes or cast_changed):
            return 0
        assignments = ", ".join(f"{name} = excluded.{name}" for name in _BLOCK_FIELDS)
        held: set[str] = set()
        with self._write() as db:
            # Edits that name a clip the file does not have yet (its write failed, say on a
            # full disk) wait for it: the row keeps its previous edits until the clip is in.
            for take_id, row in list(changed_takes.items()):
                clip_ids = _clip_ids(row[4])
                marks = ", ".join("?" * len(clip_ids))
                if clip_ids and len(clip_ids) != db.execute(
                        f"SELECT COUNT(*) FROM clips WHERE id IN ({marks})",
                        tuple(clip_ids)).fetchone()[0]:
                    old = self._written_takes.get(take_id)
                    changed_takes[take_id] = (*row[:4], *(old[4:] if old else ("[]", "")))
                    held.add(take_id)
            db.executemany(
                f"INSERT INTO blocks(id, {', '.join(_BLOCK_FIELDS)}, deleted) "
                f"VALUES (?{', ?' * len(_BLOCK_FIELDS)}, 0) "
                f"ON CONFLICT(id) DO UPDATE SET {assignments}, deleted = 0",
                [(k, *v) for k, v in changed_blocks.items()])
            db.executemany(
                "UPDATE blocks SET deleted = 1 WHERE id = ?", [(k,) for k in gone_blocks]
            )
            db.executemany(
                "UPDATE takes SET block_id = ?, position = ?, name = ?, starred = ?, edits = ?, "
                "text = ?, dictionary = ?, deleted = 0 WHERE id = ?",
                [(*v, k) for k, v in changed_takes.items()],
            )
            db.executemany("UPDATE takes SET deleted = 1 WHERE id = ?", [(k,) for k in gone_takes])
            if cast_changed:
                names = entry_fields()
                db.execute("DELETE FROM cast_entries")
                db.executemany(
                    f"INSERT INTO cast_entries(position, {', '.join(names)}) "
                    f"VALUES (?{', ?' * len(names)})",
                    [(position, *row) for position, row in enumerate(rows.cast)])
            present = (
                {row[0] for row in db.execute("SELECT id FROM takes")} if changed_takes else set()
            )
        for k in gone_blocks:
            del self._written_blocks[k]
        for k in gone_takes:
            del self._written_takes[k]
        self._written_blocks.update(changed_blocks)
        self._written_cast = rows.cast
        self._written_takes.update({k: v for k, v in changed_takes.items()
                                    if k in present and k not in held})
        return (len(changed_blocks) + len(gone_blocks) + len(changed_takes) + len(gone_takes)
                + int(cast_changed))

    def purge_deleted(self) -> None:
        """Drop deleted blocks and takes, and audio no take uses, for good; then
        give the freed pages back to the file system (incremental vacuum).

        Raises:
            ProjectError: kind ``io``.
        """
        with self._write() as db:
            # Credits spent on takes dropped here still count in the project's total.
            gone = "deleted = 1 OR block_id IN (SELECT id FROM blocks WHERE deleted = 1)"
            purged = int(db.execute(f"SELECT COALESCE(SUM(credits), 0) FROM takes WHERE {gone}")
                         .fetchone()[0])
            # A clip goes with its take unless a live take's edits still use it (the
            # halves of a split take share the clips of the take they came from).
            live = "t.deleted = 0 AND t.block_id NOT IN (SELECT id FROM blocks WHERE deleted = 1)"
            orphans = (f"take_id NOT IN (SELECT t.id FROM takes t WHERE {live}) AND NOT EXISTS "
                       f"(SELECT 1 FROM takes t WHERE {live} AND instr(t.edits, clips.id) > 0)")
            purged += int(db.execute(f"SELECT COALESCE(SUM(credits), 0) FROM clips WHERE {orphans}")
                          .fetchone()[0])
            if purged:
                db.execute("INSERT INTO meta(key, value) VALUES ('purged_credits', ?) "
                           "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + ?",
                           (str(purged), purged))
            db.execute(f"DELETE FROM clips WHERE {orphans}")
            db.execute(f"DELETE FROM takes WHERE {gone}")
            db.execute("DELETE FROM blocks WHERE deleted = 1")
            db.execute("DELETE FROM performances WHERE take_id NOT IN (SELECT id FROM takes)")
            used = ("(SELECT audio_id FROM takes UNION SELECT audio_id FROM clips "
                    "UNION SELECT audio_id FROM recordings "
                    "UNION SELECT audio_id FROM performances)")
            db.execute(f"DELETE FROM audio_blocks WHERE audio_id NOT IN {used}")
            db.execute(f"DELETE FROM audio WHERE id NOT IN {used}")
        try:
            self._db().execute("PRAGMA incremental_vacuum")
        except sqlite3.Error as exc:
            log.warning("incremental vacuum of %s failed: %s", self.path, exc)

    def save_as(self, path: Path) -> None:
        """Copy the whole project to ``path`` (SQLite's online backup) and carry on
        there; the old file stays as it was. An existing file at ``path`` is replaced,
        unless it is open elsewhere or holds uncheckpointed work.

        Raises:
            ProjectError: ``path`` cannot be written (``unwritable``, ``io``).
        """
        _check_writable(path)
        # A project open elsewhere at that path is never replaced under its writer.
        replaced = _WriterLock(path) if path.exists() else None
        try:
            _clear_stale_side_files(path)
            tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
            try:
                target = sqlite3.connect(str(tmp))
                try:
                    self._db().backup(target)
                    target.execute("PRAGMA journal_mode = WAL")
                finally:
                    target.close()
                os.replace(tmp, path)
            except (sqlite3.Error, OSError) as exc:
                remove_project_files(tmp)
                raise ProjectError(path, "io",
                                   f"Cannot save {path.name}: {_describe(exc)}.") from exc
        finally:
            if replaced is not None:
                replaced.release()
        with self._lock:
            connections, self._connections = self._connections, []
            self.path = path  # threads reconnect to the new file on their next use
        for db in connections:
            with contextlib.suppress(sqlite3.Error):
                db.close()
        if self._writer_lock is not None:
            self._writer_lock.release()
            self._writer_lock = _WriterLock(path)

    # --- reading ----------------------------------------------------------------

    def read_audio(self, audio_id: int) -> npt.NDArray[np.float32]:
        """The samples of stored audio ``audio_id`` (float32, ``(frames,)``), each block
        checked against its checksum.

        Raises:
            ProjectError: kind ``io``, or ``corrupt`` when a block fails its checksum or
                does not decode.
        """
        try:
            db = self._db()
            head = db.execute(
                "SELECT frames, encoding FROM audio WHERE id = ?", (audio_id,)
            ).fetchone()
            if head is None:
                raise ValueError(f"audio {audio_id} is missing")
            blobs = []
            for data, checksum in db.execute(
                    "SELECT data, checksum FROM audio_blocks WHERE audio_id = ? ORDER BY seq",
                    (audio_id,)):
                if checksum != block_checksum(data):
                    raise ValueError(f"audio {audio_id} is damaged (a block fails its checksum)")
                blobs.append(data)
            return decode_audio(head[1], blobs, int(head[0]))
        except sqlite3.Error as exc:
            raise ProjectError(
                self.path, "io", f"Cannot read audio from {self.path.name}: {exc}."
            ) from exc
        except ValueError as exc:
            raise ProjectError(self.path, "corrupt", f"{self.path.name}: {exc}.") from exc

    def load(self) -> LoadedProject:
        """Read the live script with its takes; take audio is read on first use.

        Raises:
            ProjectError: kind ``io`` or ``corrupt``.
        """
        try:
            return self._load()
        except sqlite3.Error as exc:
            raise ProjectError(self.path, "io", f"Cannot read {self.path.name}: {exc}.") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise ProjectError(
                self.path, "corrupt", f"{self.path.name} is damaged: {exc}."
            ) from exc

    def _load(self) -> LoadedProject:
        db = self._db()
        db.execute("BEGIN")  # one consistent snapshot even while a writer commits
        try:
            blocks: dict[str, Block] = {}
            for row in db.execute(f"SELECT id, {', '.join(_BLOCK_FIELDS)} FROM blocks "
                                  "WHERE deleted = 0 ORDER BY position, rowid"):
                (block_id, _position, text, voice, model, language, emotion, speed, volume, sel,
                 dict_id, chapter, speaker, flag, locked, cue_start) = row
                blocks[block_id] = Block(text=text, voice_id=voice, model_id=model,
                                         language=language, emotion=emotion, speed=speed,
                                         volume=volume, id=block_id, selected_take_id=sel,
                                         pronunciation_dict_id=dict_id, chapter=chapter,
                                         speaker=speaker, flag=flag, locked=bool(locked),
                                         cue_start=cue_start)
            cast = [CastEntry(*row) for row in db.execute(
                f"SELECT {', '.join(entry_fields())} FROM cast_entries ORDER BY position")]
            takes = db.execute(
                "SELECT t.id, t.block_id, t.name, t.audio_id, t.words, t.phonemes, t.request, "
                "t.backend, t.credits, t.created_at, t.starred, t.cache_key, t.edits, t.text, "
                "t.dictionary, a.sample_rate, a.frames "
                "FROM takes t JOIN audio a ON a.id = t.audio_id "
                "WHERE t.deleted = 0 ORDER BY t.block_id, t.position, t.created_at").fetchall()
            sources: dict[int, TakeAudio] = {}
            damaged = self._damaged_audio(db)

            def source_of(audio_id: int, sample_rate: int, frames: int) -> TakeAudio:
                source = sources.get(audio_id)
                if source is None:
                    loader = _AudioLoader(self, audio_id)
                    source = TakeAudio(int(sample_rate), int(frames), loader=loader)
                    loader.source = source
                    source.store_key = (self.project_id, audio_id)
                    source.damaged = audio_id in damaged
                    sources[audio_id] = source
                return source

            clips = self._load_clips(db, source_of)
            all_clips = {clip.id: clip for group in clips.values() for clip in group}
            performances = {
                take_id: source_of(audio_id, rate, frames)
                for take_id, audio_id, rate, frames in db.execute(
                    "SELECT p.take_id, p.audio_id, a.sample_rate, a.frames "
                    "FROM performances p JOIN audio a ON a.id = p.audio_id")}
            for (take_id, block_id, name, audio_id, words, phonemes, request, backend, credits,
                 created_at, starred, cache_key, edits, text, dictionary, sample_rate,
                 frames) in takes:
                block = blocks.get(block_id)
                if block is None:
                    continue
                block.takes.append(Take(
                    id=take_id, source=source_of(audio_id, sample_rate, frames),
                    word_timestamps=_timestamps(WordTimestamps, words, take_id),
                    phoneme_timestamps=_timestamps(PhonemeTimestamps, phonemes, take_id),
                    request=json.loads(request), backend=backend, credits=int(credits),
                    created_at=float(created_at), name=name, starred=bool(starred),
                    cache_key=cache_key, edits=_edits(edits, all_clips, take_id), text=text,
                    dictionary=_dictionary(dictionary, take_id),
                    performance=performances.get(take_id),
                ))
            recordings = [
                Recording(id=rec_id, name=name, source=source_of(audio_id, rate, frames),
                          created_at=float(created_at), voice_id=voice_id)
                for rec_id, name, audio_id, created_at, voice_id, rate, frames in db.execute(
                    "SELECT r.id, r.name, r.audio_id, r.created_at, r.voice_id, a.sample_rate, "
                    "a.frames FROM recordings r JOIN audio a ON a.id = r.audio_id "
                    "ORDER BY r.created_at, r.rowid")]
            settings = dict(db.execute("SELECT key, value FROM meta").fetchall())
            spent = credits_spent_in(db)
        finally:
            db.execute("COMMIT")
        for block in blocks.values():
            # A take is written the moment it is rendered, before the script row that
            # selects it (ProjectService saves the take on ``take_added``); killed in
            # between, the block comes back with takes and no selection. A finished take
            # must stay playable, so the newest one is selected.
            if block.selected_take is None:
                block.selected_take_id = (max(block.takes, key=lambda t: t.created_at).id
                                          if block.takes else None)
        damaged_takes = [t.id for b in blocks.values() for t in b.takes if t.damaged]
        if damaged_takes:
            log.warning("%s: %d take(s) with damaged audio: %s", self.path,
                        len(damaged_takes), damaged_takes)
        loaded = LoadedProject(list(blocks.values()), settings, spent, clips, recordings,
                               damaged_takes, cast)
        rows = script_rows(loaded.blocks, cast)
        self._written_blocks = dict(rows.blocks)
        self._written_takes = dict(rows.takes)
        self._written_cast = rows.cast
        return loaded

    @staticmethod
    def _damaged_audio(db: sqlite3.Connection) -> set[int]:
        """Stored audio with a block that fails its checksum (the integrity check on
        open: one pass over the audio, hashed in blocks of at most a few MB)."""
        damaged: set[int] = set()
        for audio_id, data, checksum in db.execute(
                "SELECT audio_id, data, checksum FROM audio_blocks"):
            if audio_id not in damaged and checksum != block_checksum(data):
                damaged.add(int(audio_id))
        return damaged

    @staticmethod
    def _load_clips(db: sqlite3.Connection,
                    source_of: Callable[[int, int, int], TakeAudio]) -> dict[str, list[Clip]]:
        rows = db.execute(
            "SELECT c.id, c.take_id, c.kind, c.audio_id, c.words, c.phonemes, c.transcript, "
            "c.request, c.backend, c.credits, c.created_at, a.sample_rate, a.frames "
            "FROM clips c JOIN audio a ON a.id = c.audio_id ORDER BY c.created_at, c.rowid"
        ).fetchall()
        clips: dict[str, list[Clip]] = {}
        if not rows:
            return clips
        from studio.project.edits import Clip
        for (clip_id, take_id, kind, audio_id, words, phonemes, transcript, request, backend,
             credits, created_at, sample_rate, frames) in rows:
            clips.setdefault(take_id, []).append(Clip(
                id=clip_id, source=source_of(audio_id, sample_rate, frames),
                words=_timestamps(WordTimestamps, words, clip_id),
                phonemes=_timestamps(PhonemeTimestamps, phonemes, clip_id),
                kind=kind, take_id=take_id, transcript=transcript, request=json.loads(request),
                backend=backend, credits=int(credits), created_at=float(created_at)))
        return clips

    def credits_spent(self) -> int:
        """Credits of every take and clip ever generated in the project, deleted ones included."""
        return credits_spent_in(self._db())


def _clip_ids(edits_text: str) -> list[str]:
    """The clips a take row's edits JSON names."""
    if '"clip"' not in edits_text:
        return []
    try:
        return [str(item["clip"]) for item in json.loads(edits_text)
                if isinstance(item, dict) and "clip" in item]
    except (ValueError, TypeError):
        return []


def _edits(text: str, clips: dict[str, Clip], take_id: str) -> tuple[Any, ...]:
    """A take's stored edits, up to the first that cannot be read (logged): the project
    still opens, with the take's original audio intact and every edit before it."""
    if text == "[]":
        return ()
    from studio.project.edits import EditError, edits_from_json
    try:
        items = json.loads(text)
    except ValueError:
        items = None
    if not isinstance(items, list):
        log.warning("the edits of take %s are not a list; it opens unedited", take_id)
        return ()
    edits: list[Any] = []
    for index, item in enumerate(items):
        try:
            edits.extend(edits_from_json([item], clips))
        except EditError as exc:
            log.warning("edit %d of take %s cannot be read (%s); the take opens with the "
                        "%d edits before it", index + 1, take_id, exc, index)
            break
    return tuple(edits)


def credits_spent_in(db: sqlite3.Connection) -> int:
    """Credits of every take and clip ever generated in the project open on ``db``:
    those in the file plus those purged since (kept in ``meta`` as ``purged_credits``)."""
    taken = int(db.execute("SELECT COALESCE(SUM(credits), 0) FROM takes").fetchone()[0])
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'clips'").fetchone():  # version 3 on
        taken += int(db.execute("SELECT COALESCE(SUM(credits), 0) FROM clips").fetchone()[0])
    row = db.execute("SELECT value FROM meta WHERE key = 'purged_credits'").fetchone()
    return taken + (int(row[0]) if row and str(row[0]).isdigit() else 0)


def items_to_json(items: Sequence[LexiconItem]) -> list[dict[str, str]]:
    """Dictionary entries in Cartesia's item shape, ``[{"text", "alias"}]``."""
    return [{"text": i.text, "alias": i.alias} for i in items]


def items_from_json(body: Any) -> tuple[LexiconItem, ...]:
    """Entries from :func:`items_to_json`'s shape.

    Raises:
        ValueError: ``body`` is not a list of objects with string ``text`` and ``alias``.
    """
    try:
        items = tuple(LexiconItem(i["text"], i["alias"]) for i in body)
    except (TypeError, KeyError) as exc:
        raise ValueError(f"not a list of dictionary entries ({exc})") from None
    if not all(isinstance(i.text, str) and isinstance(i.alias, str) for i in items):
        raise ValueError("dictionary entries must have string text and alias")
    return items


def items_json(items: Sequence[LexiconItem]) -> str:
    """Dictionary entries as the JSON text of a row."""
    return json.dumps(items_to_json(items), ensure_ascii=False)


def _dictionary(text: str, take_id: str) -> tuple[LexiconItem, ...]:
    """A take's recorded entries; an unreadable list reads as none (with a log line):
    the take then looks out of date where a dictionary applies, which is safe."""
    try:
        return items_from_json(json.loads(text))
    except ValueError as exc:
        log.warning("take %s: unreadable dictionary entries (%s)", take_id, exc)
        return ()


def _timestamps(cls: Any, text: str, take_id: str) -> Any:
    """Stored timestamps; a take whose timestamps are missing or unreadable keeps its
    audio and simply has none (as imported audio would)."""
    try:
        body = json.loads(text)
        return cls.from_json(body) if body else cls()
    except (ValueError, CartesiaError) as exc:
        log.warning("take %s: timestamps unreadable (%s); keeping the take without them",
                    take_id, exc)
        return cls()


class _AudioLoader:
    """Reads one stored audio row through whatever file the store has open now
    (so takes keep loading after Save As)."""

    __slots__ = ("_audio_id", "_store", "source")

    def __init__(self, store: ProjectStore, audio_id: int) -> None:
        self._store = store
        self._audio_id = audio_id
        #: The samples this loader fills, marked damaged when they fail their check.
        self.source: TakeAudio | None = None

    def __call__(self) -> npt.NDArray[np.float32]:
        try:
            return self._store.read_audio(self._audio_id)
        except ProjectError as exc:
            if exc.kind == "corrupt" and self.source is not None:
                self.source.damaged = True
            raise


class _Transaction:
    """``with store._write() as db:`` — ``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back
    on any error; SQLite errors become :class:`ProjectError` (kind ``io``)."""

    def __init__(self, store: ProjectStore) -> None:
        self._store = store
        self._db: sqlite3.Connection | None = None

    def __enter__(self) -> sqlite3.Connection:
        try:
            self._db = self._store._db()
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _io_error(self._store.path, exc) from exc
        return self._db

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, _tb: object
    ) -> None:
        assert self._db is not None
        if kind is None:
            try:
                self._db.execute("COMMIT")
                return
            except sqlite3.Error as error:
                exc = error
        with contextlib.suppress(sqlite3.Error):
            self._db.execute("ROLLBACK")
        if isinstance(exc, (sqlite3.Error, OSError)):
            # An OSError too (ENOSPC from a side file, a temporary file): with several
            # jobs writing at once, whichever meets the full disk first must give the
            # same one message, not a traceback.
            raise _io_error(self._store.path, exc) from exc


def _io_error(path: Path, exc: sqlite3.Error | OSError) -> ProjectError:
    text = str(exc)
    if "full" in text or getattr(exc, "errno", None) == errno.ENOSPC:
        message = f"Cannot save to {path.name}: the disk is full."
    elif "readonly" in text or "read-only" in text:
        message = f"Cannot save to {path.name}: the file or its folder has become read-only."
    else:
        message = f"Cannot save to {path.name}: {text}."
    return ProjectError(path, "io", message)
