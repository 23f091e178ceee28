"""Headless verbs (``render``, ``voices``) on the studio's own services.

They use the same backend choice and client as the studio: ``CARTESIA_API_KEY``
selects Cartesia's cloud, otherwise the offline engine starts in-process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence
from typing import TextIO

from studio.api import CartesiaError, NotFoundError, Voice
from studio.config import load_settings
from studio.project.export import export_wav
from studio.project.model import Block, Take
from studio.project.script import ScriptError, read_script_file, split_paragraphs
from studio.services.backend import Backend, start_backend
from studio.services.catalog import pick_voice
from studio.services.render import BlockRenderer

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class ProgressBar:
    """A one-line progress bar on a terminal; plain lines when not a TTY."""

    def __init__(self, total: int, stream: TextIO = sys.stderr) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self.stream = stream
        self._tty = stream.isatty()
        self._started = time.monotonic()

    def advance(self, label: str, ok: bool = True) -> None:
        self.done += 1
        self.failed += 0 if ok else 1
        elapsed = time.monotonic() - self._started
        if self._tty:
            width = 30
            filled = int(width * self.done / max(self.total, 1))
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\r[{bar}] {self.done}/{self.total} blocks  {elapsed:5.1f}s  {label[:40]:<40}")
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(f"[{self.done}/{self.total}] {label} ({elapsed:.1f}s)\n")
        self.stream.flush()


def _fail(message: str, code: int = EXIT_FAILED) -> int:
    print(f"cartesia-studio: {message}", file=sys.stderr)
    return code


async def _resolve_voice(backend: Backend, voice_id: str, language: str) -> Voice:
    if voice_id:
        try:
            return await backend.client.get_voice(voice_id)
        except NotFoundError:
            raise ScriptError(
                f"unknown voice id {voice_id!r}; `cartesia-studio voices` lists the voices"
            ) from None
    voices = await backend.client.list_voices()
    voice = pick_voice(voices, language)
    if voice is None:
        raise ScriptError(f"the backend has no voice for language {language!r}; pass --voice")
    return voice


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

    for index, message in errors:
        print(f"cartesia-studio: block {index + 1} failed: {message}", file=sys.stderr)
    rendered = [t for t in takes if t is not None]
    if not rendered:
        return _fail("no block rendered; nothing written")
    output = args.output if not errors else args.output.with_suffix(".partial.wav")
    try:
        mix = export_wav(rendered, output, args.sample_rate, args.pause)
    except (OSError, ValueError) as exc:
        return _fail(f"cannot write {output}: {exc}")
    if args.timestamps:
        try:
            args.timestamps.write_text(
                json.dumps({"sample_rate": args.sample_rate, "duration": round(mix.duration, 4),
                            "words": mix.words}, indent=1, ensure_ascii=False),
                encoding="utf-8",
            )
        except OSError as exc:
            return _fail(f"cannot write {args.timestamps}: {exc}")
    credits = sum(t.credits for t in rendered)
    print(f"Wrote {output} ({mix.duration:.2f} s, {len(mix.words)} words, "
          f"{credits} credits)", file=sys.stderr)
    if errors:
        return _fail(f"{len(errors)} of {len(blocks)} blocks failed; the rendered blocks are in "
                     f"{output}")
    return EXIT_OK


async def _render_all(
    backend: Backend, blocks: Sequence[Block], sample_rate: int, jobs: int
) -> tuple[list[Take | None], list[tuple[int, str]]]:
    """Render ``blocks`` with at most ``jobs`` at once; keep every take that succeeds."""
    renderer = BlockRenderer(backend.client, backend.kind, sample_rate)
    progress = ProgressBar(len(blocks))
    limit = asyncio.Semaphore(jobs)
    takes: list[Take | None] = [None] * len(blocks)
    errors: list[tuple[int, str]] = []

    async def one(index: int, block: Block) -> None:
        async with limit:
            try:
                takes[index] = await renderer.render(block)
            except (CartesiaError, ScriptError) as exc:
                errors.append((index, str(exc)))
                progress.advance(f"block {index + 1} failed", ok=False)
                return
            progress.advance(f"block {index + 1}: {block.text[:30]}")

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
