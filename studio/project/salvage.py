"""Salvaging a damaged project file into a new one. Qt-free.

The damaged file is only ever read (through a scratch copy), so its bytes stay as
they were; whatever can still be read goes into ``NAME.recovered.cstudio``.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from studio.project.audio_blocks import block_checksum, decode_audio
from studio.project.migrations import SCHEMA_VERSION
from studio.project.store import (
    SUFFIX,
    ProjectError,
    ProjectStore,
    open_read_only,
    remove_project_files,
)

log = logging.getLogger(__name__)


def _salvage_rows(db: sqlite3.Connection, table: str) -> list[dict[str, Any]]:
    """Rows of ``table`` (as column -> value) that can still be read: a forward scan
    up to the first damaged page, then a backward scan from the end to it."""
    rows: dict[int, dict[str, Any]] = {}
    for order in ("ASC", "DESC"):
        try:
            cursor = db.execute(f"SELECT rowid AS _rowid, * FROM {table} ORDER BY rowid {order}")
            names = [d[0] for d in cursor.description]
            for row in cursor:
                if row[0] in rows:
                    break
                rows[row[0]] = dict(zip(names[1:], row[1:], strict=True))
        except sqlite3.DatabaseError as exc:
            log.warning("salvage: %s stops at a damaged page (%s)", table, exc)
    return [rows[k] for k in sorted(rows)]


def _insert(db: sqlite3.Connection, table: str, row: dict[str, Any]) -> None:
    columns = ", ".join(row)
    db.execute(f"INSERT INTO {table}({columns}) VALUES ({', '.join('?' * len(row))})",
               tuple(row.values()))


def _repairable_copy(path: Path, scratch: Path) -> Path:
    """A copy of ``path`` (and its write-ahead log) in ``scratch`` that SQLite can
    read as far as the data goes: a file cut short (a truncated copy, a full disk
    during a copy) still claims its old size in the header (bytes 28-31, "in-header
    database size"), which makes SQLite call the whole file malformed; the copy's
    header states the pages that are really there. The original is only read."""
    work = scratch / path.name
    shutil.copyfile(path, work)
    wal = Path(f"{path}-wal")
    if wal.exists() and wal.stat().st_size:
        shutil.copyfile(wal, Path(f"{work}-wal"))
    with open(work, "r+b") as fh:
        header = fh.read(100)
        if len(header) < 100:
            return work
        page_size = int.from_bytes(header[16:18], "big")
        page_size = 65536 if page_size == 1 else page_size
        size = work.stat().st_size
        pages = size // page_size if page_size else 0
        if pages and int.from_bytes(header[28:32], "big") > pages:
            fh.truncate(pages * page_size)
            fh.seek(28)
            fh.write(pages.to_bytes(4, "big"))
    return work


def recover_copy(path: Path, target: Path | None = None) -> tuple[Path, int, int]:
    """Salvage what can be read of a damaged project into a new file; ``path`` is
    only read (opened read-only), never written.

    The copy gets every block row that can be read and every take whose audio
    blocks are all readable and decode. Returns ``(copy path, blocks, takes)``.
    ``target`` defaults to ``NAME.recovered.cstudio`` beside the original (or
    ``NAME.recovered-2.cstudio``...).

    Raises:
        ProjectError: nothing could be read, or the copy cannot be written.
    """
    if target is None:
        stem = path.name.removesuffix(SUFFIX) if path.name.endswith(SUFFIX) else path.stem
        target = path.with_name(f"{stem}.recovered{SUFFIX}")
        counter = 2
        while target.exists():
            target = path.with_name(f"{stem}.recovered-{counter}{SUFFIX}")
            counter += 1
    with tempfile.TemporaryDirectory(prefix="cstudio-salvage-") as scratch:
        try:
            work = _repairable_copy(path, Path(scratch))
            source = open_read_only(work)
            try:
                version = int(source.execute("PRAGMA user_version").fetchone()[0])
                names = ["meta", "blocks", "takes", "audio", "audio_blocks"]
                if version >= 3:
                    names.append("clips")
                if version >= 4:
                    names.append("recordings")
                if version >= 9:
                    names.append("performances")
                tables = {name: _salvage_rows(source, name) for name in names}
            finally:
                source.close()
        except (sqlite3.Error, OSError) as exc:
            raise ProjectError(path, "corrupt",
                               f"Nothing could be read from {path.name}: {exc}.") from exc
    if not tables["blocks"] or version > SCHEMA_VERSION:
        raise ProjectError(path, "corrupt", f"Nothing could be recovered from {path.name}.")
    store = ProjectStore.create(target)
    blocks = takes = 0
    try:
        with store._write() as db:
            # The copy starts from its own, current schema; an older file's rows fit it
            # because columns are only ever added (with defaults) by migrations.
            for row in tables["meta"]:
                if row.get("key") not in ("project_id", "created_at"):
                    db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                               (row.get("key"), row.get("value")))
            block_ids = set()
            for row in tables["blocks"]:
                with contextlib.suppress(sqlite3.Error):
                    _insert(db, "blocks", row)
                    block_ids.add(row["id"])
            parts: dict[int, list[tuple[int, bytes]]] = {}
            for row in tables["audio_blocks"]:
                parts.setdefault(row["audio_id"], []).append((row["seq"], row["data"]))
            good_audio: set[int] = set()
            for row in tables["audio"]:
                blobs = sorted(parts.get(row["id"], []))
                try:
                    decode_audio(row["encoding"], [b for _s, b in blobs], int(row["frames"]))
                except (ValueError, TypeError):
                    continue
                _insert(db, "audio", row)
                db.executemany(
                    "INSERT INTO audio_blocks(audio_id, seq, data, checksum) VALUES (?, ?, ?, ?)",
                    [(row["id"], seq, data, block_checksum(data)) for seq, data in blobs])
                good_audio.add(row["id"])
            for row in tables["takes"]:
                if row.get("block_id") in block_ids and row.get("audio_id") in good_audio:
                    with contextlib.suppress(sqlite3.Error):
                        _insert(db, "takes", row)
                        takes += 1
            # Edits whose clip is lost stop there on load.
            for table in ("clips", "recordings", "performances"):
                for row in tables.get(table, []):
                    if row.get("audio_id") in good_audio:
                        with contextlib.suppress(sqlite3.Error):
                            _insert(db, table, row)
            blocks = len(block_ids)
    except ProjectError:
        store.close()
        remove_project_files(target)
        raise
    store.close()
    return target, blocks, takes
