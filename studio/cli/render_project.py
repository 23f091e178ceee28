"""``render --project`` and ``info``: the command line on ``.cstudio`` project files.

``render SCRIPT.txt --project FILE.cstudio`` renders into a project, creating it
if missing. Block *i* of the project (live blocks, in order) takes paragraph *i*
and the command's voice and delivery, keeping its takes; extra paragraphs become
new blocks and blocks past the end of the script are removed (soft-deleted, as
:meth:`ProjectStore.write_script` does). Before anything is requested, each
block's take-cache key (:func:`studio.project.cache.take_key`) is looked up among
the project's takes (:func:`studio.project.cache.find_cached`): a take of the
same block is selected again, a take of another block is copied into this one
sharing its stored audio, for 0 credits ("Identical requests reuse stored takes",
ARCHITECTURE.md). Only the rest is rendered, and each take is written to the file
as it completes, in one transaction (:meth:`ProjectStore.add_take`), so even
``kill -9`` keeps every completed take.

``info FILE.cstudio`` prints the project as JSON through a read-only SQLite
connection: it never writes to the file, not even to upgrade an older format.

A file that is not a project, comes from a newer studio, is damaged or cannot be
written is refused before anything writes to it (:func:`check_project`) and
exits with status 2; a read or write that fails midway (disk full) exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import sqlite3
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from studio.api.models import SAMPLE_RATES, Voice
from studio.cli.render import (
    DEFAULT_PAUSE,
    DEFAULT_SAMPLE_RATE,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    check_render_args,
    delivery,
    fail,
    render_all,
    report_errors,
    start_with_voice,
    unwritable,
    write_outputs,
)
from studio.project.cache import find_cached
from studio.project.model import Block, Take, copy_take
from studio.project.program import program_of
from studio.project.script import ScriptError
from studio.project.store import (
    SUFFIX,
    LoadedProject,
    ProjectError,
    ProjectStore,
    check_project,
    credits_spent_in,
    open_read_only,
    script_rows,
)
from studio.project.transcript import spoken_text
from studio.services.render import BlockRenderer, credits_for

T = TypeVar("T")

#: Project settings (``meta`` rows) the ``render`` command reads and writes.
PAUSE_KEY, SAMPLE_RATE_KEY = "pause_seconds", "sample_rate"
#: ``meta`` rows that are the file's own bookkeeping, not settings.
_BOOKKEEPING = ("project_id", "created_at", "purged_credits")
_PREVIEW_CHARS = 60


def project_failure(exc: ProjectError) -> int:
    """Print ``exc`` as one line on stderr; return the exit status: 1 when a read or
    write failed (``io``), else 2 (the file given is not usable: not a project,
    newer, damaged, read-only, missing)."""
    # SQLite's own details (an integrity check's report) can span lines.
    return fail(" ".join(str(exc).split()), EXIT_FAILED if exc.kind == "io" else EXIT_USAGE)


# --- render --project ------------------------------------------------------------------


class ProjectWriter:
    """Runs project store calls in one worker thread, one after another.

    SQLite connections belong to a thread and the store expects one writer at a
    time; a single worker gives both, and keeps file I/O and FLAC encoding off
    the event loop.

    Attributes:
        store: the open project, once :meth:`run` has opened or created it.
    """

    def __init__(self) -> None:
        self.store: ProjectStore | None = None
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="project-writer")

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        """``call(*args)`` in the worker thread; its exceptions are raised here."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(call, *args))

    def close(self) -> None:
        """Wait for the write in progress (never cut short: each is a transaction of
        its own), then close the store."""
        self._executor.shutdown(wait=True)
        if self.store is not None:
            self.store.close()


def check_project_path(path: Path, output: Path | None) -> None:
    """Check ``--project`` before any work: an existing file is checked when opened;
    a new one must be a ``.cstudio`` file in a writable folder.

    Raises:
        ScriptError: a message for the user (exit status 2).
    """
    if output is not None and output.resolve() == path.resolve():
        raise ScriptError("the output WAV and the project must be different files")
    if path.exists() and not path.is_dir():
        return
    problem = unwritable(path)
    if problem:
        raise ScriptError(problem)
    if path.suffix.lower() != SUFFIX:
        raise ScriptError(f"{path}: a new project must be a {SUFFIX} file")


def project_numbers(args: argparse.Namespace, settings: Mapping[str, str]) -> tuple[int, float]:
    """Sample rate (Hz) and pause between blocks (seconds) for this run: the
    options when given, else the project's settings, else the defaults. A project
    rendered at 48 kHz stays at 48 kHz, so its takes keep matching the cache."""
    sample_rate = args.sample_rate
    if sample_rate is None:
        try:
            sample_rate = int(settings.get(SAMPLE_RATE_KEY, ""))
        except ValueError:
            sample_rate = DEFAULT_SAMPLE_RATE
        if sample_rate not in SAMPLE_RATES:
            sample_rate = DEFAULT_SAMPLE_RATE
    pause = args.pause
    if pause is None:
        try:
            pause = float(settings.get(PAUSE_KEY, ""))
        except ValueError:
            pause = DEFAULT_PAUSE
        if not 0.0 <= pause <= 60.0:
            pause = DEFAULT_PAUSE
    return sample_rate, pause


def apply_script(live: Sequence[Block], paragraphs: Sequence[str],
                 fields: Mapping[str, Any],
                 keep_voices: bool = False) -> tuple[list[Block], list[Block]]:
    """Fit the project's ``live`` blocks to the script: block *i* gets paragraph *i*
    and ``fields`` (voice and delivery) and keeps its takes; extra paragraphs
    become new blocks. With ``keep_voices`` (no ``--voice`` given) a block that has a
    voice keeps it: a project with several voices stays as it was cast. Returns
    ``(blocks, removed)``: the script's blocks in order, and the live blocks past its
    end."""
    blocks: list[Block] = []
    for index, text in enumerate(paragraphs):
        if index < len(live):
            block = live[index]
            block.text = text
            for name, value in fields.items():
                if not (keep_voices and name == "voice_id" and block.voice_id):
                    setattr(block, name, value)
        else:
            block = Block(text=text, **fields)
        blocks.append(block)
    return blocks, list(live[len(paragraphs):])


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


class ProjectRender:
    """One ``render --project`` run on an open project.

    Attributes:
        blocks: the script's blocks, in order.
        chosen: the take each block ends up with in this run (``None`` until it has one).
        generated: takes rendered (and paid for) in this run.
        reused: blocks that got a take already in the project (or made earlier in the run).
        removed: project blocks past the end of the script, removed by this run.
    """

    def __init__(self, writer: ProjectWriter, store: ProjectStore, blocks: list[Block]) -> None:
        self._writer = writer
        self._store = store
        self.blocks = blocks
        self.chosen: list[Take | None] = [None] * len(blocks)
        self.generated: list[Take] = []
        self.reused = 0
        self.removed = 0

    async def save_script(self) -> None:
        """Write blocks, their order, selections and take metadata."""
        await self._writer.run(self._store.write_script, script_rows(self.blocks))

    async def add(self, index: int, take: Take) -> None:
        """Make ``take`` (new to the file) block ``index``'s selected take and write it.

        Raises:
            ProjectError: the take could not be written (nothing of it was).
        """
        block = self.blocks[index]
        block.takes.append(take)
        block.selected_take_id = take.id
        self.chosen[index] = take
        await self._writer.run(self._store.add_take, block, take, len(block.takes) - 1)

    async def apply_reuse(self, plan: Plan) -> None:
        """Select or copy the takes ``plan`` found, and write the script; no request."""
        for index, take in plan.select.items():
            self.blocks[index].selected_take_id = take.id
            self.chosen[index] = take
        await self.save_script()
        for index, take in sorted(plan.copy.items()):
            await self.add(index, copy_take(self.blocks[index], take))
        if plan.copy:
            await self.save_script()
        self.reused += len(plan.select) + len(plan.copy)

    async def keep_rendered(self, index: int, take: Take, followers: Sequence[int]) -> None:
        """Write a freshly rendered take of block ``index``, and copies of it into
        ``followers`` (blocks with the same cache key)."""
        await self.add(index, take)
        self.generated.append(take)
        for other in followers:
            await self.add(other, copy_take(self.blocks[other], take))
            self.reused += 1
        await self.save_script()


async def render_project(args: argparse.Namespace) -> int:
    """``render SCRIPT.txt --project FILE.cstudio [-o OUT.wav]`` (see the module
    docstring). Returns the exit status: 0, 1 (API or I/O failure) or 2 (bad
    input, including a project file that cannot be used)."""
    try:
        paragraphs = check_render_args(args)
        check_project_path(args.project, args.output)
    except ScriptError as exc:
        return fail(str(exc), EXIT_USAGE)
    writer = ProjectWriter()
    try:
        return await _render_project(args, paragraphs, writer)
    except ProjectError as exc:
        return project_failure(exc)
    finally:
        writer.close()


async def _render_project(args: argparse.Namespace, paragraphs: list[str],
                          writer: ProjectWriter) -> int:
    path: Path = args.project
    loaded = LoadedProject([])
    if path.exists():
        # Checked (and upgraded) before starting the backend: a bad file fails fast.
        writer.store = await writer.run(ProjectStore.open, path)
        loaded = await writer.run(writer.store.load)
    started = await start_with_voice(args, None if args.voice else _project_voice(loaded, args))
    if isinstance(started, int):
        return started
    backend, voice = started
    try:
        if writer.store is None:
            # Created only now, so a bad --voice leaves no empty project behind.
            writer.store = await writer.run(ProjectStore.create, path)
        store = writer.store
        sample_rate, pause = project_numbers(args, loaded.settings)
        blocks, removed = apply_script(loaded.blocks, paragraphs, delivery(voice, args),
                                       keep_voices=not args.voice)
        renderer = BlockRenderer(backend.client, backend.kind, sample_rate)
        plan = plan_render(blocks, removed, renderer.cache_key)
        run = ProjectRender(writer, store, blocks)
        run.removed = len(removed)
        await writer.run(store.set_settings, {PAUSE_KEY: f"{pause:g}",
                                              SAMPLE_RATE_KEY: str(sample_rate)})
        await run.apply_reuse(plan)
        cost = sum(credits_for(run.blocks[i].text.strip(), backend.kind) for i in plan.render)
        _announce(path, run, len(plan.render), f"with {voice.name} on the {backend.label}", cost)
        errors: list[tuple[int, str, bool]] = []
        if plan.render:
            async def keep(index: int, take: Take) -> None:
                await run.keep_rendered(index, take, plan.followers[index])

            try:
                _takes, errors = await render_all(
                    renderer, [blocks[i] for i in plan.render], args.jobs, on_take=keep,
                    numbers=plan.render)
            except ProjectError as exc:
                if exc.kind != "io":
                    raise
                _summary(path, run, await writer.run(store.credits_spent))
                cause = exc.__cause__ or exc
                return fail(f"cannot save to {path.name} ({cause}); the takes completed "
                            "before are kept and the next run reuses them", EXIT_FAILED)
            # A block with the same request as a failed one would fail the same way.
            errors = sorted(errors + [(other, message, bad) for index, message, bad in errors
                                      for other in plan.followers[index]])
        _summary(path, run, await writer.run(store.credits_spent))
    finally:
        await backend.aclose()

    report_errors(errors)
    failure_code = EXIT_USAGE if all(bad for _, _, bad in errors) else EXIT_FAILED
    if args.output is not None:
        takes = [t for t in run.chosen if t is not None]
        if not takes:
            return fail("no block has a take; nothing exported", failure_code)
        code = write_outputs(takes, args.output, args.timestamps, sample_rate, pause,
                             partial=bool(errors), credits=sum(t.credits for t in run.generated),
                             args=args, program=program_of(run.blocks, pause))
        if code != EXIT_OK:
            return code
    if errors:
        return fail(f"{len(errors)} of {len(blocks)} blocks failed; the other blocks' takes are "
                    f"in {path.name}", failure_code)
    return EXIT_OK


def _project_voice(loaded: LoadedProject, args: argparse.Namespace) -> Voice | None:
    """Without ``--voice``, an existing project keeps the voice its blocks have (the
    first block's, if it speaks ``--language``), so an unchanged script renders again
    without asking the API anything (not even the voice list)."""
    for block in loaded.blocks:
        if block.voice_id and block.language == args.language:
            return Voice(id=block.voice_id, name=f"the project's voice {block.voice_id}",
                         description="", language=block.language)
    return None


def _announce(path: Path, run: ProjectRender, rendering: int, how: str, cost: int) -> None:
    """Say what the run will do and, before any request, what it will cost (Cartesia:
    about one credit per character; the offline engine is free)."""
    if not rendering:
        print(f"{path.name} already has a take for every block; nothing to render",
              file=sys.stderr)
        return
    reused = f" ({run.reused} reused from the project)" if run.reused else ""
    estimate = f", about {cost:,} credits" if cost else ", free"
    print(f"Rendering {rendering} of {len(run.blocks)} block(s) into {path.name} {how}{reused}"
          f"{estimate}", file=sys.stderr)


def _summary(path: Path, run: ProjectRender, project_total: int) -> None:
    spent = sum(t.credits for t in run.generated)
    generated = len(run.generated)
    removed = (f", {run.removed} block{'' if run.removed == 1 else 's'} past the end of the "
               "script removed" if run.removed else "")
    print(f"Project {path.name}: {generated} take{'' if generated == 1 else 's'} generated, "
          f"{run.reused} reused{removed}, {spent} credits spent (project total {project_total})",
          file=sys.stderr)


# --- info ---------------------------------------------------------------------------------


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
    """What ``info`` prints: the file's format version, its live blocks in order
    (``index`` from 1, ``id``, ``text`` preview (inline tags left out, white space
    folded, at most 60 characters ending in "…" when cut), ``voice_id``, number of ``takes``,
    ``selected_take`` as ``{id, name, duration_seconds}`` or ``None``), the number
    of takes and of selected takes, the total ``duration_seconds`` of the
    selected takes, ``credits_spent`` (every take ever generated in the project,
    as :meth:`ProjectStore.credits_spent`), and the project ``settings``.

    Only reads: the file is checked (:func:`check_project`) and then read through
    a read-only connection (:func:`studio.project.store.open_read_only`) in one snapshot, so it is not
    upgraded, checkpointed or otherwise written. The columns read exist in every
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
        "format_version": version,
        "blocks": blocks,
        "takes": sum(b["takes"] for b in blocks),
        "selected_takes": sum(b["selected_take"] is not None for b in blocks),
        "duration_seconds": round(total, 3),
        "credits_spent": credits,
        "settings": {k: v for k, v in meta.items() if k not in _BOOKKEEPING},
    }
