"""Headless verbs (``render``, ``voices``) on the studio's own services.

They use the same backend choice and client as the studio: ``CARTESIA_API_KEY``
selects Cartesia's cloud, otherwise the offline engine starts in-process.
``render --project`` and ``info`` live in :mod:`studio.cli.render_project`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from studio.api import BadRequestError, CartesiaError, NotFoundError, Voice
from studio.config import load_settings
from studio.cli.export import (
    ExportJob,
    metadata_from_args,
    run_export,
    settings_from_args,
    sidecar_overrides,
)
from studio.project.edited_audio import edited_frames
from studio.project.export import timeline_words
from studio.project.program import Program, program_of_takes
from studio.project.model import Block, Take
from studio.project.script import ScriptError, read_script_file, split_paragraphs
from studio.services.backend import Backend, start_backend
from studio.services.catalog import pick_voice
from studio.project.transcript import spoken_text, spoken_word_count
from studio.services.render import BlockRenderer

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
#: ``render`` defaults when neither the option nor a project says otherwise.
DEFAULT_SAMPLE_RATE = 44100
DEFAULT_PAUSE = 0.5


class ProgressBar:
    """A one-line progress bar on a terminal; plain lines when not a TTY.

    Progress is counted in words (from the word timestamps), so one long block
    moves the bar too; finished blocks are reported by name.
    """

    def __init__(self, words_per_block: list[int], stream: TextIO = sys.stderr) -> None:
        self.total = len(words_per_block)
        self.done = 0
        self.stream = stream
        self._weights = [max(w, 1) for w in words_per_block]
        self._fractions = [0.0] * self.total
        self._tty = stream.isatty()
        self._started = time.monotonic()
        self._last_draw = 0.0
        self._last_percent = -10

    @property
    def fraction(self) -> float:
        done = sum(f * w for f, w in zip(self._fractions, self._weights, strict=True))
        return done / sum(self._weights)

    def update(self, index: int, fraction: float) -> None:
        """Block ``index`` has rendered ``fraction`` of its words."""
        self._fractions[index] = fraction
        now = time.monotonic()
        if self._tty and now - self._last_draw >= 0.1:
            self._draw("")
        elif not self._tty and self.fraction * 100 >= self._last_percent + 10:
            self._last_percent = int(self.fraction * 10) * 10
            self.stream.write(f"  {self._last_percent}% of the words rendered\n")
            self.stream.flush()

    def advance(self, index: int, label: str) -> None:
        """Block ``index`` finished (or failed; ``label`` says which)."""
        self.done += 1
        self._fractions[index] = 1.0
        if self._tty:
            self._draw(label)
            if self.done == self.total:
                self.stream.write("\n")
        else:
            elapsed = time.monotonic() - self._started
            self.stream.write(f"[{self.done}/{self.total}] {label} ({elapsed:.1f}s)\n")
        self.stream.flush()

    def _draw(self, label: str) -> None:
        self._last_draw = time.monotonic()
        width = 30
        filled = int(width * self.fraction)
        bar = "#" * filled + "-" * (width - filled)
        elapsed = self._last_draw - self._started
        self.stream.write(f"\r[{bar}] {self.fraction:4.0%}  {self.done}/{self.total} blocks  "
                          f"{elapsed:5.1f}s  {label[:36]:<36}")
        self.stream.flush()


def unwritable(path: Path) -> str:
    """Why ``path`` cannot be written, or "" (checked before spending time or credits)."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        return f"{path} is a folder; give a file name"
    if not folder.is_dir():
        return f"cannot write {path}: the folder {folder} does not exist"
    if not os.access(folder, os.W_OK):
        return f"cannot write {path}: the folder {folder} is not writable"
    return ""


def fail(message: str, code: int = EXIT_FAILED) -> int:
    """Print ``message`` to stderr as the command's error; return ``code``."""
    print(f"cartesia-studio: {message}", file=sys.stderr)
    return code


async def resolve_voice(backend: Backend, voice: str, language: str) -> Voice:
    """The voice named by id or by name (case-insensitive), or the default for
    ``language`` when ``voice`` is empty.

    Raises:
        ScriptError: unknown or ambiguous name, or no voice for ``language``.
        studio.api.CartesiaError: the voice list cannot be read.
    """
    if voice:
        try:
            return await backend.client.get_voice(voice)
        except (NotFoundError, BadRequestError):
            pass
        named = [v for v in await backend.client.list_voices() if v.name.lower() == voice.lower()]
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            raise ScriptError(f"several voices are named {voice!r}; pass one of their ids: "
                              + ", ".join(v.id for v in named))
        raise ScriptError(
            f"unknown voice {voice!r}; `cartesia-studio voices` lists the voices"
        )
    default = pick_voice(await backend.client.list_voices(), language)
    if default is None:
        raise ScriptError(f"the backend has no voice for language {language!r}; pass --voice")
    return default


def check_render_args(args: argparse.Namespace) -> list[str]:
    """The script's paragraphs, after checking every ``render`` argument that can be
    checked before any work (so bad input costs neither time nor credits).

    Raises:
        ScriptError: a message for the user (exit status 2).
    """
    paragraphs = split_paragraphs(read_script_file(args.script))
    if not paragraphs:
        raise ScriptError(f"{args.script}: the script is empty (no text to render)")
    if args.jobs < 1:
        raise ScriptError("--jobs must be at least 1")
    if args.output is not None:
        try:  # the delivery options, checked before any credits are spent
            settings_from_args(args, args.output, args.sample_rate or DEFAULT_SAMPLE_RATE)
            metadata_from_args(args)
        except ValueError as exc:
            raise ScriptError(str(exc)) from None
    for path in (args.output, args.timestamps):
        problem = unwritable(path) if path is not None else ""
        if problem:
            raise ScriptError(problem)
    return paragraphs


def blocks_for(paragraphs: Sequence[str], voice: Voice, args: argparse.Namespace) -> list[Block]:
    """One block per paragraph with the command's voice and delivery."""
    return [Block(text=text, **delivery(voice, args)) for text in paragraphs]


def delivery(voice: Voice, args: argparse.Namespace) -> dict[str, Any]:
    """The block fields the ``render`` options set: voice, model, language, emotion,
    speed and volume."""
    return {"voice_id": voice.id, "model_id": args.model, "language": args.language,
            "emotion": args.emotion, "speed": args.speed, "volume": args.volume}


async def start_with_voice(args: argparse.Namespace,
                           voice: Voice | None = None) -> tuple[Backend, Voice] | int:
    """Start the backend and resolve ``--voice`` (unless ``voice`` is already known).

    Returns the backend (the caller closes it) and the voice, or, after printing
    why, the exit status: 1 when the backend does not start or the voice list cannot
    be read, 2 for an unknown or ambiguous voice (the backend is then closed)."""
    try:
        backend = await start_backend(load_settings())
    except (OSError, RuntimeError) as exc:
        return fail(f"cannot start the backend: {exc}")
    if voice is not None:
        return backend, voice
    try:
        return backend, await resolve_voice(backend, args.voice, args.language)
    except ScriptError as exc:
        code = fail(str(exc), EXIT_USAGE)
    except CartesiaError as exc:
        code = fail(f"cannot list voices on the {backend.label}: {exc}")
    await backend.aclose()
    return code


async def render_command(args: argparse.Namespace) -> int:
    """``render SCRIPT.txt -o OUT.wav``: see :mod:`studio.cli` for the options.

    With ``--project`` the work goes through :func:`studio.cli.render_project.render_project`.
    """
    if args.project is not None:
        from studio.cli.render_project import render_project

        return await render_project(args)
    try:
        paragraphs = check_render_args(args)
    except ScriptError as exc:
        return fail(str(exc), EXIT_USAGE)
    sample_rate = args.sample_rate or DEFAULT_SAMPLE_RATE
    pause = DEFAULT_PAUSE if args.pause is None else args.pause

    started = await start_with_voice(args)
    if isinstance(started, int):
        return started
    backend, voice = started
    try:
        blocks = blocks_for(paragraphs, voice, args)
        print(f"Rendering {len(blocks)} block(s) with {voice.name} on the {backend.label}",
              file=sys.stderr)
        renderer = BlockRenderer(backend.client, backend.kind, sample_rate)
        takes, errors = await render_all(renderer, blocks, args.jobs)
    finally:
        await backend.aclose()

    report_errors(errors)
    rendered = [t for t in takes if t is not None]
    failure_code = EXIT_USAGE if all(bad for _, _, bad in errors) else EXIT_FAILED
    if not rendered:
        return fail("no block rendered; nothing written", failure_code)
    code = write_outputs(rendered, args.output, args.timestamps, sample_rate, pause,
                         partial=bool(errors), credits=sum(t.credits for t in rendered),
                         args=args)
    if code != EXIT_OK:
        return code
    if errors:
        return fail(f"{len(errors)} of {len(blocks)} blocks failed; the rendered blocks are in "
                    f"{partial_path(args.output)}", failure_code)
    return EXIT_OK


def partial_path(output: Path) -> Path:
    """Where the export goes when some blocks failed: ``OUT.partial.wav`` (the output's
    own extension)."""
    return output.with_suffix(".partial" + output.suffix)


def write_outputs(takes: Sequence[Take], output: Path, timestamps: Path | None,
                  sample_rate: int, pause: float, partial: bool, credits: int,
                  args: argparse.Namespace | None = None, program: Program | None = None) -> int:
    """Export ``takes`` in order to ``output`` (``OUT.partial.EXT`` when ``partial``)
    with ``pause`` seconds between them, in the format and loudness the delivery options
    of ``args`` ask for (:mod:`studio.cli.export`; 16-bit WAV at ``sample_rate`` Hz
    by default), and the words with their start and end in seconds on the output
    timeline to ``timestamps``. Prints what it wrote and the ``credits`` spent on it in
    this run; returns an exit status (errors are printed). ``program`` is the project's
    programme, with its chapters, when rendering into a project."""
    path = partial_path(output) if partial else output
    if program is None:
        program = program_of_takes(takes, pause)
    options = args if args is not None else build_parser().parse_args(
        ["render", "-", "-o", str(output)])
    try:
        settings = settings_from_args(options, output, sample_rate)
        job = ExportJob(program, settings, path, metadata_from_args(options),
                        sidecar_overrides(options))
    except ValueError as exc:
        return fail(str(exc), EXIT_USAGE)
    code = run_export(job)
    if code != EXIT_OK:
        return code
    if timestamps:
        frames = [edited_frames(t) for t in takes]
        words = timeline_words(takes, frames, takes[0].sample_rate, pause)
        duration = (sum(frames) / takes[0].sample_rate + pause * (len(takes) - 1))
        try:
            timestamps.write_text(
                json.dumps({"sample_rate": settings.encoded_sample_rate,
                            "duration": round(duration, 4),
                            "words": [{**w, "block": w["block"] + 1} for w in words]},
                           indent=1, ensure_ascii=False),
                encoding="utf-8",
            )
        except OSError as exc:
            return fail(f"cannot write {timestamps}: {exc.strerror or exc}")
    print(f"Rendered {len(takes)} block(s) for {credits} credits", file=sys.stderr)
    return EXIT_OK


def report_errors(errors: Sequence[tuple[int, str, bool]]) -> None:
    """One line per distinct message, naming the blocks (numbered from 1) it hit."""
    by_message: dict[str, list[int]] = {}
    for index, message, _bad in errors:
        by_message.setdefault(message, []).append(index + 1)
    for message, numbers in by_message.items():
        which = "block" if len(numbers) == 1 else "blocks"
        print(f"cartesia-studio: {which} {', '.join(map(str, numbers))} failed: {message}",
              file=sys.stderr)


TakeSink = Callable[[int, Take], Awaitable[None]]


async def render_all(
    renderer: BlockRenderer,
    blocks: Sequence[Block],
    jobs: int,
    on_take: TakeSink | None = None,
    numbers: Sequence[int] | None = None,
) -> tuple[list[Take | None], list[tuple[int, str, bool]]]:
    """Render ``blocks`` with at most ``jobs`` at once; keep every take that succeeds.

    ``numbers`` gives each block's index in the script (default: its position in
    ``blocks``); messages, failures and ``on_take`` use it. Returns the take of
    each of ``blocks`` in order (``None`` where it failed) and the failures as
    ``(script index, message, bad_input)`` sorted by index. ``on_take(script
    index, take)`` is awaited as each take completes (the project render saves it).

    Raises:
        Whatever ``on_take`` raises, after cancelling the renders still running.
    """
    indices = list(range(len(blocks))) if numbers is None else list(numbers)
    progress = ProgressBar([spoken_word_count(b.text) for b in blocks])
    limit = asyncio.Semaphore(jobs)
    takes: list[Take | None] = [None] * len(blocks)
    errors: list[tuple[int, str, bool]] = []

    async def one(position: int, block: Block) -> None:
        index = indices[position]
        async with limit:
            try:
                take = await renderer.render(
                    block, on_progress=lambda f: progress.update(position, f)
                )
            except (CartesiaError, ScriptError) as exc:
                bad_input = isinstance(exc, (BadRequestError, ScriptError))
                errors.append((index, str(exc), bad_input))
                progress.advance(position, f"block {index + 1} failed")
                return
            takes[position] = take
            if on_take is not None:
                await on_take(index, take)
            progress.advance(position, f"block {index + 1}: {spoken_text(block.text)[:30]}")

    try:
        # A task group, so a failure to keep a take stops the renders still running
        # instead of spending credits on takes that cannot be kept.
        async with asyncio.TaskGroup() as group:
            for position, block in enumerate(blocks):
                group.create_task(one(position, block))
    except BaseExceptionGroup as group_error:
        if len(group_error.exceptions) == 1:
            raise group_error.exceptions[0] from None
        raise
    errors.sort()
    return takes, errors


async def voices_command(args: argparse.Namespace) -> int:
    """``voices``: print id, language, gender and name of every voice, one per line."""
    try:
        backend = await start_backend(load_settings())
    except (OSError, RuntimeError) as exc:
        return fail(f"cannot start the backend: {exc}")
    try:
        voices = await backend.client.list_voices(q=args.search)
    except CartesiaError as exc:
        return fail(f"cannot list voices: {exc}")
    finally:
        await backend.aclose()
    for v in voices:
        print(f"{v.id}  {v.language:<3} {v.gender or '-':<15} {v.name}")
    print(f"{len(voices)} voice(s) on the {backend.label}", file=sys.stderr)
    return EXIT_OK
