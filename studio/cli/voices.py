"""``voices``: list the voices of the backend in use."""

from __future__ import annotations

import argparse
import sys

from studio.api import CartesiaError
from studio.cli.exits import EXIT_OK, fail
from studio.config import load_settings
from studio.services.backend import start_backend


def add_voices_parser(verbs: argparse._SubParsersAction[argparse.ArgumentParser],
                      common: argparse.ArgumentParser) -> None:
    """The ``voices`` verb; ``common`` holds the options every backend verb takes."""
    voices = verbs.add_parser("voices", parents=[common],
                              help="list the voices of the backend in use",
                              description="List id, language, gender and name of every voice "
                              "of the backend in use (Cartesia cloud with CARTESIA_API_KEY, "
                              "else the offline engine).")
    voices.add_argument("--search", default=None, metavar="TEXT",
                        help="only voices whose name, description or id contain TEXT")


async def voices_command(args: argparse.Namespace) -> int:
    """``voices``: print id, language, gender and name of every voice, one per line."""
    try:
        backend = await start_backend(load_settings())
    except (OSError, RuntimeError) as exc:
        return fail(f"cannot start the backend: {exc}")
    try:
        voices = await backend.client.voices.list(q=args.search)
    except CartesiaError as exc:
        return fail(f"cannot list voices: {exc}")
    finally:
        await backend.aclose()
    for v in voices:
        print(f"{v.id}  {v.language:<3} {v.gender or '-':<15} {v.name}")
    print(f"{len(voices)} voice(s) on the {backend.label}", file=sys.stderr)
    return EXIT_OK
