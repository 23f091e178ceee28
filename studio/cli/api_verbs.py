"""What the ``datasets`` and ``fine-tunes`` verbs share: the backend for one call, the
exit status of an API error, and JSON on stdout."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import Any

from studio.api import BadRequestError, CartesiaError, NotFoundError
from studio.cli.exits import EXIT_USAGE, fail
from studio.config import load_settings
from studio.services.backend import Backend, start_backend


async def with_backend(what: str, work: Callable[[Backend], Awaitable[int]]) -> int:
    """Start the backend (``CARTESIA_API_KEY``: the cloud, else the offline engine), run
    ``work`` on it and close it. ``what`` names the work in messages ("cannot list
    datasets: ...").

    Returns ``work``'s exit status, or after printing why: 2 when the request was refused
    as bad input (unknown id: 404, a 400, or an argument the client refuses before
    sending), 1 when the backend does not start or the API fails otherwise.
    """
    try:
        backend = await start_backend(load_settings())
    except (OSError, RuntimeError) as exc:
        return fail(f"cannot start the backend: {exc}")
    try:
        return await work(backend)
    except (NotFoundError, BadRequestError, ValueError) as exc:
        return fail(f"cannot {what}: {exc}", EXIT_USAGE)
    except CartesiaError as exc:
        return fail(f"cannot {what} on the {backend.label}: {exc}")
    finally:
        await backend.aclose()


def print_json(value: Any) -> None:
    """Print ``value`` (dataclasses become objects) as indented JSON on stdout."""
    print(json.dumps(_plain(value), indent=2, ensure_ascii=False))


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
