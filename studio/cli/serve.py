"""``serve-local``: run the offline engine standalone and print its URL and key."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from pathlib import Path

from studio.cli.exits import EXIT_FAILED, EXIT_OK


def add_serve_parser(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``serve-local`` verb."""
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


def serve_command(args: argparse.Namespace) -> int:
    """``serve-local``: serve until Ctrl+C; 1 when the engine cannot start."""
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
