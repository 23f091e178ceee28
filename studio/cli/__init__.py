"""Command line: the studio, and headless verbs on the same services.

``cartesia-studio`` with no verb opens the studio. Verbs:

- ``render SCRIPT.txt -o OUT.wav``: render a plain-text script (paragraphs separated
  by blank lines are blocks) through the same client the studio uses. With
  ``--project FILE.cstudio`` it renders into a project file, reusing its takes.
- ``export FILE.cstudio -o OUT.mp3``: export a project's selected takes in any format,
  at a loudness target, with chapters, tags, captions and transcripts.
- ``info FILE.cstudio``: describe a project as JSON, without writing to it.
- ``voices``: list the voices of the backend in use.
- ``serve-local``: run the offline engine standalone and print its URL and key.

Exit status: 0 on success, 1 when the work failed (API or I/O errors), 2 for
bad input (arguments, an empty or non-UTF-8 script). Messages go to stderr.
The qasync loop is created only in ``app.py``; these verbs use ``asyncio.run``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from studio import __version__
from studio.api.models import EMOTIONS, LANGUAGES, SAMPLE_RATES, SPEED_RANGE, VOLUME_RANGE

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
#: The ``sample_rate`` values of the seed's raw output formats, in Hz.


def _ranged(low: float, high: float, what: str):  # type: ignore[no-untyped-def]
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be a number, not {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{what} must be between {low} and {high}, not {value}")
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


def build_parser() -> argparse.ArgumentParser:
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

    render = verbs.add_parser("render", parents=[common], help="render a plain-text script to audio",
                              description="Render SCRIPT (UTF-8 text; paragraphs separated by "
                              "blank lines are blocks) to a WAV file, a project, or both.")
    render.add_argument("script", type=Path, metavar="SCRIPT.txt")
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
    render.add_argument("--model", default="sonic-3", metavar="M", help="model id (default sonic-3)")
    render.add_argument("--language", type=_language, default="en", metavar="L",
                        help="language code (default en)")
    render.add_argument("--emotion", type=_emotion, default=None, metavar="E",
                        help="emotion, e.g. calm, excited, sad (default: the voice's own)")
    render.add_argument("--speed", type=_ranged(*SPEED_RANGE, "speed"), default=1.0, metavar="X",
                        help="speed ratio 0.6-1.5 (default 1.0)")
    render.add_argument("--volume", type=_ranged(*VOLUME_RANGE, "volume"), default=1.0,
                        metavar="X", help="volume ratio 0.5-2.0 (default 1.0)")
    render.add_argument("--pause", type=_ranged(0.0, 60.0, "pause"), default=None, metavar="S",
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

    from studio.cli.export import add_export_parser, add_output_options

    add_output_options(render, render=True)
    add_export_parser(verbs)

    info = verbs.add_parser("info", help="describe a project file as JSON",
                            description="Print one JSON document describing FILE: its format "
                            "version, blocks, takes, selected takes, duration and credits spent. "
                            "The file is only read, never written (not even upgraded).")
    info.add_argument("project", type=Path, metavar="FILE.cstudio")

    voices = verbs.add_parser("voices", parents=[common],
                              help="list the voices of the backend in use",
                              description="List id, language, gender and name of every voice "
                              "of the backend in use (Cartesia cloud with CARTESIA_API_KEY, "
                              "else the offline engine).")
    voices.add_argument("--search", default=None, metavar="TEXT",
                        help="only voices whose name, description or id contain TEXT")

    serve = verbs.add_parser("serve-local", help="run the offline engine standalone",
                             description="Run the Cartesia-compatible offline engine. Point any "
                             "Cartesia client at the printed URL with the printed key.")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 picks a free port")
    serve.add_argument("--api-key", default=None, metavar="K",
                       help="bearer key clients must send (default: random)")
    serve.add_argument("--data-dir", type=Path, default=None, metavar="DIR")
    serve.add_argument("--allow-remote", action="store_true",
                       help="allow binding a non-loopback host (the engine has no TLS)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
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
        return _serve_local(args)
    if args.verb == "info":
        from studio.cli.render_project import info_command

        return info_command(args)
    if args.verb in ("export", "render"):
        # SIGTERM (a session ending, `timeout`, a service manager) stops the work the way
        # Ctrl+C does, so nothing half-written is left behind.
        signal.signal(signal.SIGTERM, _interrupt)
    if args.verb == "export":
        from studio.cli.export import export_command

        try:
            return export_command(args)
        except KeyboardInterrupt:
            print("cartesia-studio: interrupted; nothing was written", file=sys.stderr)
            return 130
    from studio.cli.render import render_command, voices_command

    try:
        if args.verb == "render":
            return asyncio.run(render_command(args))
        return asyncio.run(voices_command(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _serve_local(args: argparse.Namespace) -> int:
    from studio.config import data_dir
    from studio.offline import serve

    api_key = args.api_key or secrets.token_urlsafe(24)

    def ready(url: str) -> None:
        ws_url = url.replace("http://", "ws://", 1)
        print(f"Offline engine listening on {url}", flush=True)
        print(f"  base_url={url}  websocket_base_url={ws_url}", flush=True)
        print(f"  api_key={api_key}", flush=True)
        print("Press Ctrl+C to stop.", flush=True)

    try:
        asyncio.run(serve(args.host, args.port, api_key,
                          args.data_dir or data_dir() / "offline-engine",
                          allow_remote=args.allow_remote, ready=ready))
    except KeyboardInterrupt:
        return EXIT_OK
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"cartesia-studio serve-local: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
