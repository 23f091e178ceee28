"""``render SCRIPT.txt -o OUT.wav``: render a plain-text script to a finished file.

Paragraphs separated by blank lines are blocks, rendered through the same client and
backend choice as the studio: ``CARTESIA_API_KEY`` selects Cartesia's cloud, otherwise
the offline engine starts in-process. The file is written with the delivery options of
:mod:`studio.cli.options`. ``render --project`` is :mod:`studio.cli.render_project`,
which uses this module's checks and its concurrent renderer (:func:`render_all`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from pathlib import Path

from studio.api import BadRequestError, CartesiaError, NotFoundError, Voice
from studio.api.models import EMOTIONS, LANGUAGES, SAMPLE_RATES, SPEED_RANGE, VOLUME_RANGE
from studio.cli.books import is_book, read_book_lines
from studio.cli.exits import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, fail, unwritable
from studio.cli.export import run_export
from studio.cli.interrupts import SignalCancel
from studio.cli.options import (
    add_output_options,
    metadata_from_args,
    settings_from_args,
    sidecar_overrides,
)
from studio.cli.progress import ProgressBar
from studio.cli.spool import TakeSpool
from studio.config import load_settings
from studio.project.edited_audio import edited_frames
from studio.project.export import timeline_words
from studio.project.export_pipeline import ExportJob
from studio.project.model import Block, Take
from studio.project.program import Program, program_of_takes
from studio.project.render_plan import (
    DEFAULT_PAUSE,
    DEFAULT_SAMPLE_RATE,
    MAX_PAUSE,
    BlockDelivery,
    script_blocks,
)
from studio.project.script import ScriptError, read_script_file, split_script
from studio.project.transcript import spoken_text, spoken_word_count
from studio.services.backend import Backend, start_backend
from studio.services.catalog import pick_voice
from studio.services.render import BlockRenderer
from studio.timestamps import PhonemeTimestamps


def _ranged(low: float, high: float, what: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be a number, not {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{what} must be between {low} and {high}, not {value}"
            )
        return value

    return parse


def _emotion(text: str) -> str:
    if text not in EMOTIONS:
        raise argparse.ArgumentTypeError(
            f"unknown emotion {text!r}; choose one of: {', '.join(EMOTIONS)}"
        )
    return text


def _language(text: str) -> str:
    if text not in LANGUAGES:
        raise argparse.ArgumentTypeError(
            f"unknown language {text!r}; choose one of: {', '.join(LANGUAGES)}"
        )
    return text


def add_render_parser(verbs: argparse._SubParsersAction[argparse.ArgumentParser],
                      common: argparse.ArgumentParser) -> None:
    """The ``render`` verb, with ``--project`` and the delivery options; ``common``
    holds the options every backend verb takes."""
    render = verbs.add_parser(
        "render",
        parents=[common],
        help="render a plain-text script or a book to audio",
        description="Render SCRIPT (UTF-8 text; paragraphs separated by "
        "blank lines are blocks) or a book (.md, .docx, .epub, .srt, .vtt, .csv: its "
        "paragraphs, cues or rows are blocks; with --project its chapters and speakers "
        "are kept) to a WAV file, a project, or both.",
    )
    render.add_argument("script", type=Path, metavar="SCRIPT.txt|BOOK")
    render.add_argument("-o", "--output", type=Path, default=None, metavar="OUT",
                        help="the file to write: .wav (16-bit PCM unless the options below "
                        "say otherwise), .flac, .mp3, .opus, .m4a or .m4b; required without "
                        "--project")
    render.add_argument("--project", type=Path, default=None, metavar="FILE.cstudio",
                        help="render into this project (created if missing): block i takes "
                        "paragraph i, takes already made for the same text and delivery are "
                        "reused instead of paid for again, and each new take is saved as it "
                        "completes")
    render.add_argument("--voice", default="", metavar="ID",
                        help="voice id or name (default: the first voice for --language); "
                        "`cartesia-studio voices` lists them")
    render.add_argument(
        "--model", default="sonic-3", metavar="M", help="model id (default sonic-3)"
    )
    render.add_argument("--language", type=_language, default="en", metavar="L",
                        help="language code (default en)")
    render.add_argument("--emotion", type=_emotion, default=None, metavar="E",
                        help="emotion, e.g. calm, excited, sad (default: the voice's own)")
    render.add_argument("--speed", type=_ranged(*SPEED_RANGE, "speed"), default=1.0, metavar="X",
                        help="speed ratio 0.6-1.5 (default 1.0)")
    render.add_argument("--volume", type=_ranged(*VOLUME_RANGE, "volume"), default=1.0,
                        metavar="X", help="volume ratio 0.5-2.0 (default 1.0)")
    render.add_argument("--pause", type=_ranged(0.0, MAX_PAUSE, "pause"), default=None, metavar="S",
                        help="seconds of silence between blocks (default: the project's, "
                        "else 0.5)")
    render.add_argument("--sample-rate", type=int, default=None, metavar="HZ",
                        choices=SAMPLE_RATES,
                        help="8000, 16000, 22050, 24000, 44100 or 48000 (default: the "
                        "project's, else 44100)")
    render.add_argument("--jobs", type=int, default=3, metavar="N",
                        help="blocks rendered at once (default 3)")
    render.add_argument("--timestamps", type=Path, metavar="OUT.json",
                        help="write word timestamps (seconds on the output timeline)")
    add_output_options(render, render=True)


async def resolve_voice(backend: Backend, voice: str, language: str) -> Voice:
    """The voice named by id or by name (case-insensitive), or the default for
    ``language`` when ``voice`` is empty.

    Raises:
        ScriptError: unknown or ambiguous name, or no voice for ``language``.
        studio.api.CartesiaError: the voice list cannot be read.
    """
    if voice:
        try:
            return await backend.client.voices.get(voice)
        except (NotFoundError, BadRequestError):
            pass
        named = [v for v in await backend.client.voices.list() if v.name.lower() == voice.lower()]
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            raise ScriptError(f"several voices are named {voice!r}; pass one of their ids: "
                              + ", ".join(v.id for v in named))
        raise ScriptError(
            f"unknown voice {voice!r}; `cartesia-studio voices` lists the voices"
        )
    default = pick_voice(await backend.client.voices.list(), language)
    if default is None:
        raise ScriptError(f"the backend has no voice for language {language!r}; pass --voice")
    return default


def check_render_args(args: argparse.Namespace) -> list[str]:
    """The script's blocks (its notices printed to stderr), after checking every
    ``render`` argument that can be checked before any work (so bad input costs
    neither time nor credits). A book (:func:`studio.cli.books.is_book`) is read by
    :func:`studio.cli.books.read_book_lines`, its blocks left in ``args.book_lines``
    (``None`` for a plain script).

    Raises:
        ScriptError: a message for the user (exit status 2).
    """
    args.book_lines = None
    if is_book(args.script):
        args.book_lines, notices = read_book_lines(args.script)
        paragraphs = [line.text for line in args.book_lines]
    else:
        read = read_script_file(args.script)
        script = split_script(read.text)
        notices = list(read.notices + script.notices)
        paragraphs = list(script.blocks)
    for notice in notices:
        print(f"cartesia-studio: {args.script}: {notice}", file=sys.stderr)
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


def delivery_from_args(voice: Voice, args: argparse.Namespace) -> BlockDelivery:
    """The voice and delivery the ``render`` options ask for."""
    return BlockDelivery(voice.id, args.model, args.language, args.emotion, args.speed,
                         args.volume)


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
    """``render SCRIPT.txt -o OUT.wav`` (without ``--project``, which is
    :func:`studio.cli.render_project.render_project`)."""
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
    # Each take goes to a spool file as it completes, so memory does not grow with the
    # script (studio.cli.spool); the export reads them back, so it runs inside.
    async with TakeSpool(args.output.resolve().parent) as spool:
        return await _render_spooled(args, backend, voice, sample_rate, pause, paragraphs,
                                     spool)


async def _render_spooled(args: argparse.Namespace, backend: Backend, voice: Voice,
                          sample_rate: int, pause: float, paragraphs: list[str],
                          spool: TakeSpool) -> int:
    interrupted = False
    try:
        blocks = script_blocks(paragraphs, delivery_from_args(voice, args))
        print(f"Rendering {len(blocks)} block(s) with {voice.name} on the {backend.label}",
              file=sys.stderr)
        renderer = BlockRenderer(backend.client, backend.kind, sample_rate)

        async def keep(index: int, take: Take) -> Take:
            await spool.keep(blocks[index], take)
            # Safe in the spool: keep no phoneme timestamps (several floats a phoneme,
            # most of a take's metadata), which the export of unedited takes never uses.
            return replace(take, phoneme_timestamps=PhonemeTimestamps())

        with SignalCancel() as interrupt:
            try:
                takes, errors = await render_all(renderer, blocks, args.jobs, on_take=keep)
            except RenderInterrupted as stopped:
                if interrupt.signal is None:
                    raise
                interrupt.absorb()
                takes, errors, interrupted = stopped.takes, stopped.errors, True
    finally:
        await backend.aclose()

    report_errors(errors)
    rendered = [t for t in takes if t is not None]
    if interrupted:
        return _keep_interrupted(rendered, len(blocks), sample_rate, pause, args)
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


def _keep_interrupted(rendered: Sequence[Take], total: int, sample_rate: int, pause: float,
                      args: argparse.Namespace) -> int:
    """After Ctrl+C or SIGTERM: the blocks that finished go to ``OUT.partial.EXT``;
    exit 130 saying so."""
    if not rendered:
        return fail("interrupted before any block finished; nothing written",
                    EXIT_INTERRUPTED)
    code = write_outputs(rendered, args.output, args.timestamps, sample_rate, pause,
                         partial=True, credits=sum(t.credits for t in rendered), args=args)
    if code != EXIT_OK:
        return code
    return fail(f"interrupted; the {len(rendered)} of {total} blocks that finished are in "
                f"{partial_path(args.output)}", EXIT_INTERRUPTED)


def partial_path(output: Path) -> Path:
    """Where the export goes when some blocks failed: ``OUT.partial.wav`` (the output's
    own extension)."""
    return output.with_suffix(".partial" + output.suffix)


def write_outputs(takes: Sequence[Take], output: Path, timestamps: Path | None,
                  sample_rate: int, pause: float, partial: bool, credits: int,
                  args: argparse.Namespace, program: Program | None = None) -> int:
    """Export ``takes`` in order to ``output`` (``OUT.partial.EXT`` when ``partial``)
    with ``pause`` seconds between them, in the format and loudness the delivery options
    of ``args`` ask for (:mod:`studio.cli.options`; 16-bit WAV at ``sample_rate`` Hz
    by default), and the words with their start and end in seconds on the output
    timeline to ``timestamps``. Prints what it wrote and the ``credits`` spent on it in
    this run; returns an exit status (errors are printed). ``program`` is the project's
    programme, with its chapters, when rendering into a project."""
    path = partial_path(output) if partial else output
    if program is None:
        program = program_of_takes(takes, pause)
    try:
        settings = settings_from_args(args, output, sample_rate)
        job = ExportJob(program, settings, path, metadata_from_args(args),
                        sidecar_overrides(args))
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


#: ``on_take(script index, take)``; what it returns, if not ``None``, is kept instead of
#: the take (a lighter copy, once the take is safe in a file).
TakeSink = Callable[[int, Take], Awaitable[Take | None]]


class RenderInterrupted(asyncio.CancelledError):
    """:func:`render_all` was cancelled (Ctrl+C, SIGTERM); still a cancellation for
    anyone not interested in what finished.

    Attributes:
        takes: as :func:`render_all` returns them, ``None`` for blocks unfinished.
        errors: the failures so far, as :func:`render_all` returns them.
    """

    def __init__(self, takes: list[Take | None], errors: list[tuple[int, str, bool]]) -> None:
        super().__init__("render interrupted")
        self.takes = takes
        self.errors = sorted(errors)


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
        RenderInterrupted: the task was cancelled; it carries the takes that finished.
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
                    renderer.job(block), on_progress=lambda f: progress.update(position, f)
                )
            except (CartesiaError, ScriptError) as exc:
                bad_input = isinstance(exc, (BadRequestError, ScriptError))
                errors.append((index, str(exc), bad_input))
                progress.advance(position, f"block {index + 1} failed")
                return
            takes[position] = take
            if on_take is not None:
                kept = await on_take(index, take)
                if kept is not None:
                    takes[position] = kept
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
    except asyncio.CancelledError as cancelled:
        raise RenderInterrupted(takes, errors) from cancelled
    errors.sort()
    return takes, errors
