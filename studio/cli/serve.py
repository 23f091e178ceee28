"""``serve-local``: run the offline engine standalone and print its URL and key.

The key clients must send comes from, in order: ``--api-key-file FILE`` (its
first line; a file other users can read is warned about),
``--api-key K`` (warned about: any user can read a command line with ``ps``),
the ``CARTESIA_STUDIO_ENGINE_KEY`` environment variable, or a random key, which
is printed. A key the user supplied is never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from studio.cli.exits import EXIT_FAILED, EXIT_OK

#: Environment variable holding the engine's key (read when no key option is given).
KEY_ENV = "CARTESIA_STUDIO_ENGINE_KEY"


@dataclass(frozen=True, slots=True)
class EngineKey:
    """The key ``serve-local`` serves with.

    Attributes:
        key: the bearer key.
        source: where it came from, for the banner (``"random"`` means print it).
        warnings: what the user should hear about how it was passed.
    """

    key: str
    source: str
    warnings: tuple[str, ...] = ()


def add_serve_parser(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``serve-local`` verb."""
    serve = verbs.add_parser("serve-local", help="run the offline engine standalone",
                             description="Run the Cartesia-compatible offline engine. Point any "
                             "Cartesia client at the printed URL with the key. The engine "
                             "answers requests to a loopback host only and refuses requests "
                             "from web pages (a browser Origin) unless allowed.")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 picks a free port")
    keys = serve.add_mutually_exclusive_group()
    keys.add_argument("--api-key-file", type=Path, default=None, metavar="FILE",
                      help="read the bearer key clients must send from FILE (mode 0600); "
                      f"default: ${KEY_ENV}, else a random key")
    keys.add_argument("--api-key", default=None, metavar="K",
                      help="the bearer key on the command line: other users can read it "
                      f"with ps, prefer --api-key-file or ${KEY_ENV}")
    serve.add_argument("--data-dir", type=Path, default=None, metavar="DIR")
    serve.add_argument("--allow-remote", action="store_true",
                       help="allow binding a non-loopback host and requests addressed to it "
                       "(the engine has no TLS)")
    serve.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                       help="let web pages from ORIGIN (e.g. http://localhost:3000; * for "
                       "any) call the engine; repeatable")


def engine_key(api_key: str | None, api_key_file: Path | None,
               environ: Mapping[str, str]) -> EngineKey:
    """The key to serve with, from the options and the environment.

    Raises:
        ValueError: the key file cannot be read or holds no key.
    """
    if api_key_file is not None:
        try:
            text = api_key_file.read_text(encoding="utf-8")
            mode = api_key_file.stat().st_mode
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read the key file {api_key_file}: {exc}") from exc
        lines = text.strip().splitlines()
        if not lines or not lines[0].strip():
            raise ValueError(f"the key file {api_key_file} is empty")
        warnings: tuple[str, ...] = ()
        if os.name == "posix" and stat.S_IMODE(mode) & 0o077:
            warnings = (f"warning: {api_key_file} is readable by other users "
                        f"(mode {stat.S_IMODE(mode):04o}); chmod 600 it",)
        return EngineKey(lines[0].strip(), f"from {api_key_file}", warnings)
    if api_key:
        return EngineKey(api_key, "from --api-key", (
            "warning: --api-key puts the key on the command line, where other users of this "
            f"machine can read it (ps); use --api-key-file or ${KEY_ENV} instead",))
    if environ.get(KEY_ENV, "").strip():
        return EngineKey(environ[KEY_ENV].strip(), f"from ${KEY_ENV}")
    return EngineKey(secrets.token_urlsafe(24), "random")


def serve_command(args: argparse.Namespace) -> int:
    """``serve-local``: serve until Ctrl+C; 1 when the engine cannot start."""
    from studio.config import data_dir
    from studio.offline import serve

    try:
        key = engine_key(args.api_key, args.api_key_file, os.environ)
    except ValueError as exc:
        print(f"cartesia-studio serve-local: {exc}", file=sys.stderr)
        return EXIT_FAILED
    for warning in key.warnings:
        print(warning, file=sys.stderr, flush=True)

    def ready(url: str) -> None:
        ws_url = url.replace("http://", "ws://", 1)
        print(f"Offline engine listening on {url}", flush=True)
        print(f"  base_url={url}  websocket_base_url={ws_url}", flush=True)
        shown = key.key if key.source == "random" else f"<{key.source}>"
        print(f"  api_key={shown}", flush=True)
        if args.allow_origin:
            print(f"  allowed origins: {', '.join(args.allow_origin)}", flush=True)
        print("Press Ctrl+C to stop.", flush=True)

    try:
        asyncio.run(serve(args.host, args.port, key.key,
                          args.data_dir or data_dir() / "offline-engine",
                          allow_remote=args.allow_remote, ready=ready,
                          allowed_origins=args.allow_origin))
    except KeyboardInterrupt:
        return EXIT_OK
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"cartesia-studio serve-local: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
