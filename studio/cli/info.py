"""``info FILE.cstudio``: describe a project as JSON, without writing to it.

The file is read through a read-only SQLite connection: it is never written, not even
to upgrade an older format.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

from studio.cli.exits import EXIT_OK, project_failure
from studio.project.model import NARRATOR
from studio.project.store import ProjectError, check_project, credits_spent_in, open_read_only
from studio.project.transcript import spoken_text

#: ``meta`` rows that are the file's own bookkeeping, not settings.
_BOOKKEEPING = ("project_id", "created_at", "purged_credits")
_PREVIEW_CHARS = 60


def add_info_parser(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``info`` verb."""
    info = verbs.add_parser("info", help="describe a project file as JSON",
                            description="Print one JSON document describing FILE: its format "
                            "version, blocks, takes, selected takes, duration and credits spent. "
                            "The file is only read, never written (not even upgraded).")
    info.add_argument("project", type=Path, metavar="FILE.cstudio")


def info_command(args: argparse.Namespace) -> int:
    """``info FILE.cstudio``: print :func:`describe_project` as JSON on stdout."""
    try:
        info = describe_project(args.project)
    except ProjectError as exc:
        return project_failure(exc)
    json.dump(info, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return EXIT_OK


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _PREVIEW_CHARS else flat[:_PREVIEW_CHARS - 1] + "…"


def describe_project(path: Path) -> dict[str, Any]:
    """What ``info`` prints: the file's format version, its ``chapters``
    (:func:`_chapters`), its ``speakers`` in the order they first speak with their
    cast voice (``"not cast"`` when none) and block count, its live blocks in order
    (``index`` from 1, ``id``, ``text`` preview (inline tags left out, white space
    folded, at most 60 characters ending in "…" when cut), ``voice_id``, number of ``takes``,
    ``selected_take`` as ``{id, name, duration_seconds}`` or ``None``), the number
    of takes and of selected takes, the total ``duration_seconds`` of the
    selected takes, ``credits_spent`` (every take ever generated in the project,
    as :meth:`ProjectStore.credits_spent`), and the project ``settings``.

    Only reads: the file is checked (:func:`check_project`) and then read through
    a read-only connection (:func:`studio.project.store.open_read_only`) in one snapshot, so it is
    not upgraded, checkpointed or otherwise written. The columns read exist in every
    format version, so an older file is described as it is. A selection that
    names no live take falls back to the block's last take, as
    :meth:`ProjectStore.load` does.

    Raises:
        ProjectError: as :func:`check_project` (``missing``, ``not_project``,
            ``newer``, ``corrupt``, ``io``), or ``io`` / ``corrupt`` if reading fails.
    """
    version = check_project(path)
    try:
        db = open_read_only(path)
        try:
            db.execute("BEGIN")  # one snapshot, even while the studio writes to the file
            block_rows = db.execute(
                "SELECT id, text, voice_id, selected_take_id FROM blocks WHERE deleted = 0 "
                "ORDER BY position, rowid").fetchall()
            take_rows = db.execute(
                "SELECT t.id, t.block_id, t.name, a.frames, a.sample_rate FROM takes t "
                "JOIN audio a ON a.id = t.audio_id WHERE t.deleted = 0 "
                "ORDER BY t.block_id, t.position, t.created_at").fetchall()
            credits = credits_spent_in(db)
            columns = {row[1] for row in db.execute("PRAGMA table_info(blocks)")}
            marks = (db.execute(
                "SELECT chapter, speaker FROM blocks WHERE deleted = 0 ORDER BY position, rowid")
                .fetchall() if {"chapter", "speaker"} <= columns else
                [(None, NARRATOR)] * len(block_rows))
            has_cast = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                                  "name = 'cast_entries'").fetchone() is not None
            cast = dict(db.execute("SELECT speaker, voice_id FROM cast_entries")
                        .fetchall()) if has_cast else {}
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
            db.execute("COMMIT")
        finally:
            db.close()
    except sqlite3.OperationalError as exc:
        raise ProjectError(path, "io", f"Cannot read {path.name}: {exc}.") from exc
    except sqlite3.DatabaseError as exc:
        raise ProjectError(path, "corrupt", f"{path.name} is damaged ({exc}). "
                           "The file was left untouched.") from exc

    takes_of: dict[str, list[tuple[str, str, float]]] = {}
    for take_id, block_id, name, frames, sample_rate in take_rows:
        seconds = frames / sample_rate if sample_rate else 0.0
        takes_of.setdefault(block_id, []).append((take_id, name, seconds))
    blocks: list[dict[str, Any]] = []
    total = 0.0
    for number, (block_id, text, voice_id, selected_id) in enumerate(block_rows, start=1):
        takes = takes_of.get(block_id, [])
        selected = next((t for t in takes if t[0] == selected_id), None)
        if selected is None and selected_id and takes:
            selected = takes[-1]
        if selected is not None:
            total += selected[2]
        blocks.append({
            "index": number, "id": block_id, "text": _preview(spoken_text(text) or text),
            "voice_id": voice_id, "takes": len(takes),
            "selected_take": None if selected is None else {
                "id": selected[0], "name": selected[1], "duration_seconds": round(selected[2], 3)},
        })
    return {
        "path": str(path.resolve()),
        "chapters": _chapters(blocks, marks),
        "speakers": [{"speaker": speaker, "voice_id": cast.get(speaker) or "not cast",
                      "blocks": sum(1 for _, s in marks if s == speaker)}
                     for speaker in dict.fromkeys(s for _, s in marks)],
        "format_version": version,
        "blocks": blocks,
        "takes": sum(b["takes"] for b in blocks),
        "selected_takes": sum(b["selected_take"] is not None for b in blocks),
        "duration_seconds": round(total, 3),
        "credits_spent": credits,
        "settings": {k: v for k, v in meta.items() if k not in _BOOKKEEPING},
    }


def _chapters(blocks: list[dict[str, Any]],
              marks: list[tuple[str | None, str]]) -> list[dict[str, Any]]:
    """Chapters as ``{title, first_block (from 1), blocks, duration_seconds}`` (of the
    selected takes); blocks before the first mark form an untitled opening chapter
    (``title`` ``None``), as :func:`studio.project.program.program_of` has it."""
    chapters: list[dict[str, Any]] = []
    for block, (chapter, _speaker) in zip(blocks, marks, strict=True):
        if chapter or not chapters:
            chapters.append({"title": chapter or None, "first_block": block["index"],
                             "blocks": 0, "duration_seconds": 0.0})
        current = chapters[-1]
        current["blocks"] += 1
        if block["selected_take"] is not None:
            current["duration_seconds"] = round(
                current["duration_seconds"] + block["selected_take"]["duration_seconds"], 3)
    return chapters
