"""The ``cartesia-studio`` command: the studio, and headless verbs on the same core.

``cartesia-studio`` (:func:`main`) with no verb opens the studio. Verbs, each in a
module of its own:

- ``render SCRIPT.txt -o OUT.wav``: render a plain-text script (paragraphs separated
  by blank lines are blocks) through the same client the studio uses. With
  ``--project FILE.cstudio`` it renders into a project file, reusing its takes.
- ``export FILE.cstudio -o OUT.mp3``: export a project's selected takes in any format,
  at a loudness target, with chapters, tags, captions and transcripts.
- ``info FILE.cstudio``: describe a project as JSON, without writing to it.
- ``voices``: list the voices of the backend in use.
- ``voice-change IN.wav --voice ID -o OUT.wav``: re-speak a recording in another voice.
- ``datasets ...`` and ``fine-tunes ...``: script a professional voice clone (create a
  dataset, upload recordings, start a fine-tune, follow its status), JSON on stdout.
- ``serve-local``: run the offline engine standalone and print its URL and key.

Exit status (:mod:`studio.cli.exits`): 0 on success, 1 when the work failed (API or
I/O errors), 2 for bad input (arguments, an empty or non-UTF-8 script), 130 when
interrupted. Messages go to stderr. The qasync loop is created only in ``app.py``;
these verbs use ``asyncio.run``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence

from studio import __version__
from studio.cli.datasets import add_datasets_parser, datasets_command
from studio.cli.exits import EXIT_INTERRUPTED
from studio.cli.export import add_export_parser, export_command
from studio.cli.fine_tunes import add_fine_tunes_parser, fine_tunes_command
from studio.cli.info import add_info_parser, info_command
from studio.cli.render import add_render_parser, render_command
from studio.cli.render_project import render_project
from studio.cli.serve import add_serve_parser, serve_command
from studio.cli.voice_change import add_voice_change_parser, voice_change_command
from studio.cli.voices import add_voices_parser, voices_command

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser: the global options and one sub-parser per verb."""
    parser = argparse.ArgumentParser(
        prog="cartesia-studio",
        description="Voiceover studio for Cartesia's voice API. With no verb, opens the studio.",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--offline", action="store_true", default=argparse.SUPPRESS,
                        help="use the offline engine even if CARTESIA_API_KEY is set")
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="log debug messages")
    parser.add_argument("--offline", action="store_true",
                        help="use the offline engine even if CARTESIA_API_KEY is set")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")

    add_render_parser(verbs, common)
    add_export_parser(verbs)
    add_info_parser(verbs)
    add_voices_parser(verbs, common)
    add_voice_change_parser(verbs, common)
    add_datasets_parser(verbs, common)
    add_fine_tunes_parser(verbs, common)
    add_serve_parser(verbs)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: the process's arguments); return the
    exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verb == "render" and args.output is None and args.project is None:
        parser.error("render needs -o OUT.wav, --project FILE.cstudio, or both")
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if args.offline:
        os.environ["STUDIO_FORCE_OFFLINE"] = "1"
    if args.verb is None:
        from studio.app import run_studio

        return run_studio()
    if args.verb == "serve-local":
        return serve_command(args)
    if args.verb == "info":
        return info_command(args)
    if args.verb in ("export", "render", "voice-change"):
        # SIGTERM (a session ending, `timeout`, a service manager) stops the work the way
        # Ctrl+C does, so nothing half-written is left behind.
        signal.signal(signal.SIGTERM, _interrupt)
    if args.verb == "export":
        try:
            return export_command(args)
        except KeyboardInterrupt:
            print("cartesia-studio: interrupted; nothing was written", file=sys.stderr)
            return EXIT_INTERRUPTED
    try:
        if args.verb == "render":
            return asyncio.run(render_project(args) if args.project is not None
                               else render_command(args))
        if args.verb == "voice-change":
            return asyncio.run(voice_change_command(args))
        if args.verb == "datasets":
            return asyncio.run(datasets_command(args))
        if args.verb == "fine-tunes":
            return asyncio.run(fine_tunes_command(args))
        return asyncio.run(voices_command(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt
