"""Headless verbs (``render``, ``voices``) on the studio's own services.

They use the same backend choice and client as the studio: ``CARTESIA_API_KEY``
selects Cartesia's cloud, otherwise the offline engine starts in-process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from studio.api import BadRequestError, CartesiaError, NotFoundError, Voice
from studio.config import load_settings
from studio.project.export import export_wav
from studio.project.model import Block, Take
from studio.project.script import ScriptError, read_script_file, split_paragraphs
from studio.services.backend import Backend, start_backend
from studio.services.catalog import pick_voice
from studio.services.render import BlockRenderer, spoken_word_count, strip_tags

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


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


def _unwritable(path: Path) -> str:
    """Why ``path`` cannot be written, or "" (checked before spending time or credits)."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        return f"{path} is a folder; give a file name"
    if not folder.is_dir():
        return f"cannot write {path}: the folder {folder} does not exist"
    if not os.access(folder, os.W_OK):
        return f"cannot write {path}: the folder {folder} is not writable"
    return ""


def _fail(message: str, code: int = EXIT_FAILED) -> int:
    print(f"cartesia-studio: {message}", file=sys.stderr)
    return code


async def _resolve_voice(backend: Backend, voice: str, language: str) -> Voice:
    """The voice named by id or by name (case-insensitive), or the default for
    ``language`` when ``voice`` is empty."""
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


async def render_command(args: argparse.Namespace) -> int:
    """``render SCRIPT.txt -o OUT.wav``: see :mod:`studio.cli` for the options."""
    try:
        paragraphs = split_paragraphs(read_script_file(args.script))
    except ScriptError as exc:
        return _fail(str(exc), EXIT_USAGE)
    if not paragraphs:
        return _fail(f"{args.script}: the script is empty (no text to render)", EXIT_USAGE)
    if args.jobs < 1:
        return _fail("--jobs must be at least 1", EXIT_USAGE)
    if args.output.suffix.lower() != ".wav":
        return _fail(f"{args.output}: the output must be a .wav file", EXIT_USAGE)
    for path in (args.output, args.timestamps):
        problem = _unwritable(path) if path is not None else ""
        if problem:
            return _fail(problem, EXIT_USAGE)

    try:
        backend = await start_backend(load_settings())
    except (OSError, RuntimeError) as exc:
        return _fail(f"cannot start the backend: {exc}")
    try:
        try:
            voice = await _resolve_voice(backend, args.voice, args.language)
        except ScriptError as exc:
            return _fail(str(exc), EXIT_USAGE)
        except CartesiaError as exc:
            return _fail(f"cannot list voices on the {backend.label}: {exc}")
        blocks = [
            Block(text=text, voice_id=voice.id, model_id=args.model, language=args.language,
                  emotion=args.emotion, speed=args.speed, volume=args.volume)
            for text in paragraphs
        ]
        print(f"Rendering {len(blocks)} block(s) with {voice.name} on the {backend.label}",
              file=sys.stderr)
        takes, errors = await _render_all(backend, blocks, args.sample_rate, args.jobs)
    finally:
        await backend.aclose()

    _report_errors(errors)
    rendered = [t for t in takes if t is not None]
    failure_code = EXIT_USAGE if all(bad for _, _, bad in errors) else EXIT_FAILED
    if not rendered:
        return _fail("no block rendered; nothing written", failure_code)
    output = args.output if not errors else args.output.with_suffix(".partial.wav")
    try:
        mix = export_wav(rendered, output, args.sample_rate, args.pause)
    except (OSError, ValueError) as exc:
        return _fail(str(exc) if str(output) in str(exc) else f"cannot write {output}: {exc}")
    if args.timestamps:
        try:
            words = [{**w, "block": w["block"] + 1} for w in mix.words]
            args.timestamps.write_text(
                json.dumps({"sample_rate": args.sample_rate, "duration": round(mix.duration, 4),
                            "words": words}, indent=1, ensure_ascii=False),
                encoding="utf-8",
            )
        except OSError as exc:
            return _fail(f"cannot write {args.timestamps}: {exc.strerror or exc}")
    credits = sum(t.credits for t in rendered)
    print(f"Wrote {output} ({mix.duration:.2f} s, {len(mix.words)} words, "
          f"{credits} credits)", file=sys.stderr)
    if errors:
        return _fail(f"{len(errors)} of {len(blocks)} blocks failed; the rendered blocks are in "
                     f"{output}", failure_code)
    return EXIT_OK


def _report_errors(errors: Sequence[tuple[int, str, bool]]) -> None:
    """One line per distinct message, naming the blocks (numbered from 1) it hit."""
    by_message: dict[str, list[int]] = {}
    for index, message, _bad in errors:
        by_message.setdefault(message, []).append(index + 1)
    for message, numbers in by_message.items():
        which = "block" if len(numbers) == 1 else "blocks"
        print(f"cartesia-studio: {which} {', '.join(map(str, numbers))} failed: {message}",
              file=sys.stderr)


async def _render_all(
    backend: Backend, blocks: Sequence[Block], sample_rate: int, jobs: int
) -> tuple[list[Take | None], list[tuple[int, str, bool]]]:
    """Render ``blocks`` with at most ``jobs`` at once; keep every take that succeeds."""
    renderer = BlockRenderer(backend.client, backend.kind, sample_rate)
    progress = ProgressBar([spoken_word_count(b.text) for b in blocks])
    limit = asyncio.Semaphore(jobs)
    takes: list[Take | None] = [None] * len(blocks)
    errors: list[tuple[int, str, bool]] = []

    async def one(index: int, block: Block) -> None:
        async with limit:
            try:
                takes[index] = await renderer.render(
                    block, on_progress=lambda f: progress.update(index, f)
                )
            except (CartesiaError, ScriptError) as exc:
                bad_input = isinstance(exc, (BadRequestError, ScriptError))
                errors.append((index, str(exc), bad_input))
                progress.advance(index, f"block {index + 1} failed")
                return
            progress.advance(index, f"block {index + 1}: {strip_tags(block.text)[:30]}")

    await asyncio.gather(*(one(i, b) for i, b in enumerate(blocks)))
    errors.sort()
    return takes, errors


async def voices_command(args: argparse.Namespace) -> int:
    """``voices``: print id, language, gender and name of every voice, one per line."""
    try:
        backend = await start_backend(load_settings())
    except (OSError, RuntimeError) as exc:
        return _fail(f"cannot start the backend: {exc}")
    try:
        voices = await backend.client.list_voices(q=args.search)
    except CartesiaError as exc:
        return _fail(f"cannot list voices: {exc}")
    finally:
        await backend.aclose()
    for v in voices:
        print(f"{v.id}  {v.language:<3} {v.gender or '-':<15} {v.name}")
    print(f"{len(voices)} voice(s) on the {backend.label}", file=sys.stderr)
    return EXIT_OK
