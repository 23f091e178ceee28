"""``render SCRIPT.txt --project FILE.cstudio``: render a script into a project file.

The project is created if missing. What each block says, with which voice and delivery,
and which take it reuses instead of paying for again is planned by
:mod:`studio.project.render_plan`; this module runs the plan. Only the blocks without a
take are rendered, and each take is written to the file as it completes, in one
transaction (:meth:`ProjectStore.add_take`), so even ``kill -9`` keeps every completed
take.

A file that is not a project, comes from a newer studio, is damaged or cannot be
written is refused before anything writes to it (:func:`check_project`) and
exits with status 2; a read or write that fails midway (disk full) exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from studio.api.models import Voice
from studio.cli.books import apply_book
from studio.cli.exits import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    fail,
    project_failure,
    unwritable,
)
from studio.cli.interrupts import SignalCancel
from studio.cli.render import (
    RenderInterrupted,
    check_render_args,
    delivery_from_args,
    render_all,
    report_errors,
    start_with_voice,
    write_outputs,
)
from studio.project.cast import CastEntry
from studio.project.model import Block, Take, copy_take
from studio.project.program import program_of
from studio.project.render_plan import (
    PAUSE_KEY,
    SAMPLE_RATE_KEY,
    Plan,
    cast_voice,
    fit_script,
    plan_render,
    render_numbers,
)
from studio.project.script import ScriptError
from studio.project.store import (
    SUFFIX,
    LoadedProject,
    ProjectError,
    ProjectStore,
    script_rows,
)
from studio.services.render import BlockRenderer, credits_for

T = TypeVar("T")


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


class ProjectRender:
    """One ``render --project`` run on an open project.

    Attributes:
        blocks: the script's blocks, in order.
        chosen: the take each block ends up with in this run (``None`` until it has one).
        generated: takes rendered (and paid for) in this run.
        reused: blocks that got a take already in the project (or made earlier in the run).
        removed: project blocks past the end of the script, removed by this run.
    """

    def __init__(self, writer: ProjectWriter, store: ProjectStore, blocks: list[Block],
                 cast: Sequence[CastEntry] = ()) -> None:
        self._writer = writer
        self.cast = list(cast)
        self._store = store
        self.blocks = blocks
        self.chosen: list[Take | None] = [None] * len(blocks)
        self.generated: list[Take] = []
        self.reused = 0
        self.removed = 0

    async def save_script(self) -> None:
        """Write blocks, their order, selections and take metadata."""
        await self._writer.run(self._store.write_script, script_rows(self.blocks, self.cast))

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
    started = await start_with_voice(
        args, None if args.voice else _project_voice(loaded, args.language)
    )
    if isinstance(started, int):
        return started
    backend, voice = started
    try:
        if writer.store is None:
            # Created only now, so a bad --voice leaves no empty project behind.
            writer.store = await writer.run(ProjectStore.create, path)
        store = writer.store
        sample_rate, pause = render_numbers(loaded.settings, args.sample_rate, args.pause)
        delivery = delivery_from_args(voice, args)
        blocks, removed = fit_script(loaded.blocks, paragraphs, delivery,
                                     keep_voices=not args.voice)
        cast = list(loaded.cast)
        if getattr(args, "book_lines", None) is not None:
            new = apply_book(blocks, args.book_lines, cast, delivery)
            chapters = sum(1 for b in blocks if b.chapter)
            print(f"{args.script.name}: {chapters} chapter(s), {len(blocks)} block(s)"
                  + (f"; new speakers cast with {voice.name}: {', '.join(new)}" if new else ""),
                  file=sys.stderr)
        renderer = BlockRenderer(backend.client, backend.kind, sample_rate)
        plan = plan_render(blocks, removed, renderer.cache_key)
        run = ProjectRender(writer, store, blocks, cast)
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
                with SignalCancel() as interrupt:
                    try:
                        _takes, errors = await render_all(
                            renderer, [blocks[i] for i in plan.render], args.jobs,
                            on_take=keep, numbers=plan.render)
                    except RenderInterrupted:
                        if interrupt.signal is None:
                            raise
                        interrupt.absorb()
                        # Every finished take was saved as it completed (keep).
                        _summary(path, run, await writer.run(store.credits_spent))
                        return fail(f"interrupted; the {len(run.generated)} takes that "
                                    f"finished are saved in {path.name} and the next run "
                                    "reuses them", EXIT_INTERRUPTED)
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


def _project_voice(loaded: LoadedProject, language: str) -> Voice | None:
    """Without ``--voice``, an existing project keeps the voice its blocks have
    (:func:`studio.project.render_plan.cast_voice`)."""
    voice_id = cast_voice(loaded.blocks, language)
    if voice_id is None:
        return None
    return Voice(id=voice_id, name=f"the project's voice {voice_id}", description="",
                 language=language)


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
