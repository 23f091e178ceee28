"""``fine-tunes``: train a professional voice clone on a dataset and follow its job.

- ``fine-tunes create --dataset ID --name NAME [--model-id M] [--language L]``: start
  training; prints the fine-tune as JSON (status ``created``).
- ``fine-tunes list`` / ``get ID``: JSON.
- ``fine-tunes status ID [--wait [--timeout S]]``: ``{"id", "status",
  "failure_reason", "voices"}`` as JSON, ``voices`` the ids of the voices it made
  (usable with ``render --voice``) once ``completed``. With ``--wait`` it polls until the
  job is over, waiting :data:`FIRST_POLL` s, then 1.5 times longer each time up to
  :data:`MAX_POLL` s, and gives up after ``--timeout`` seconds (exit 1, the last status
  printed). A ``failed`` fine-tune exits 1 with its reason.

On the offline engine the job runs in the engine this command starts; a job left
unfinished when a command ends resumes when the next one starts the engine
(:mod:`studio.offline.fine_tune_routes`), so ``status --wait`` sees it through.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Iterator
from typing import Any

from studio.api.models import LANGUAGES
from studio.api.resources.training_models import FineTune
from studio.cli.api_verbs import print_json, with_backend
from studio.cli.exits import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, fail
from studio.cli.interrupts import SignalCancel
from studio.services.backend import Backend

#: Seconds before the second poll of ``status --wait``; each later wait is 1.5x longer.
FIRST_POLL = 1.0
#: Longest wait between polls, seconds.
MAX_POLL = 15.0
#: Default ``--timeout`` of ``status --wait``, seconds.
DEFAULT_TIMEOUT = 3600.0
#: Default base model of ``create``.
DEFAULT_MODEL = "sonic-3"


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--timeout must be seconds, not {text!r}") from None
    if not 0 < value < 10**7:
        raise argparse.ArgumentTypeError(f"--timeout must be positive seconds, not {value:g}")
    return value


def add_fine_tunes_parser(verbs: argparse._SubParsersAction[argparse.ArgumentParser],
                          common: argparse.ArgumentParser) -> None:
    """The ``fine-tunes`` verb and its actions."""
    tunes = verbs.add_parser(
        "fine-tunes", parents=[common], help="train professional voice clones on datasets",
        description="Start a fine-tune on a dataset (`cartesia-studio datasets`), follow "
        "its status, and list or inspect fine-tunes (JSON on stdout).")
    actions = tunes.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create", parents=[common], help="start training a voice")
    create.add_argument("--dataset", required=True, metavar="ID")
    create.add_argument("--name", required=True, metavar="NAME",
                        help="the name of the fine-tune and of the voice it makes")
    create.add_argument("--description", default="", metavar="TEXT")
    create.add_argument("--model-id", default=DEFAULT_MODEL, metavar="M",
                        help=f"base model (default {DEFAULT_MODEL})")
    create.add_argument("--language", default="en", choices=LANGUAGES, metavar="L",
                        help="language the voice speaks (default en)")
    actions.add_parser("list", parents=[common], help="list the fine-tunes as JSON")
    get = actions.add_parser("get", parents=[common], help="a fine-tune as JSON")
    get.add_argument("id", metavar="ID")
    status = actions.add_parser("status", parents=[common],
                                help="a fine-tune's status and voices as JSON")
    status.add_argument("id", metavar="ID")
    status.add_argument("--wait", action="store_true",
                        help="poll until it is completed or failed")
    status.add_argument("--timeout", type=_positive, default=DEFAULT_TIMEOUT, metavar="S",
                        help=f"with --wait, give up after S seconds (default "
                        f"{DEFAULT_TIMEOUT:g})")


def poll_delays(first: float = FIRST_POLL, most: float = MAX_POLL) -> Iterator[float]:
    """The waits between polls, seconds: ``first``, then 1.5 times longer each time,
    never more than ``most``."""
    delay = first
    while True:
        yield delay
        delay = min(delay * 1.5, most)


async def fine_tunes_command(args: argparse.Namespace) -> int:
    """Run ``fine-tunes ACTION``; return the exit status."""

    async def work(backend: Backend) -> int:
        client = backend.client
        if args.action == "create":
            print_json(await client.fine_tunes.create(
                name=args.name, dataset=args.dataset, model_id=args.model_id,
                language=args.language, description=args.description))
        elif args.action == "list":
            print_json([t async for t in client.fine_tunes.list()])
        elif args.action == "get":
            print_json(await client.fine_tunes.get(args.id))
        else:
            return await _status(backend, args.id, args.timeout if args.wait else None)
        return EXIT_OK

    what = {"create": "start the fine-tune", "list": "list fine-tunes"}.get(
        args.action) or f"read fine-tune {args.id!r}"
    return await with_backend(what, work)


async def _status(backend: Backend, tune_id: str, timeout: float | None) -> int:
    deadline = time.monotonic() + timeout if timeout is not None else None
    delays = poll_delays()
    tune = await backend.client.fine_tunes.get(tune_id)
    with SignalCancel() as interrupt:
        try:
            while deadline is not None and not tune.finished:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                await asyncio.sleep(min(next(delays), left))
                tune = await backend.client.fine_tunes.get(tune_id)
        except asyncio.CancelledError:
            if interrupt.signal is None:
                raise
            interrupt.absorb()
            print_json(await _report(backend, tune))
            return fail(f"interrupted; fine-tune {tune_id} is {tune.status}", EXIT_INTERRUPTED)
    print_json(await _report(backend, tune))
    if tune.status == "failed":
        return fail(f"fine-tune {tune_id} failed: {tune.failure_reason or 'no reason given'}")
    if deadline is not None and not tune.finished:
        return fail(f"fine-tune {tune_id} is still {tune.status} after {timeout:g} s; run "
                    "`status --wait` again to keep waiting", EXIT_FAILED)
    return EXIT_OK


async def _report(backend: Backend, tune: FineTune) -> dict[str, Any]:
    voices = ([v.id async for v in backend.client.fine_tunes.list_voices(tune.id)]
              if tune.status == "completed" else [])
    return {"id": tune.id, "name": tune.name, "status": tune.status,
            "failure_reason": tune.failure_reason, "voices": voices}

