"""``datasets``: the datasets a professional voice clone is trained on.

- ``datasets create NAME [--description TEXT]``: a new, empty dataset; prints it as JSON
  (its ``id`` is what ``upload`` and ``fine-tunes create --dataset`` take).
- ``datasets upload ID FILE...``: add recordings of the speaker. Each file is checked
  first (it exists and decodes as audio within
  :func:`~studio.audio.untrusted.decode_untrusted`'s limits), so a bad one is refused
  before anything is sent; then they are uploaded in order (``client.datasets.upload_file``,
  never sent twice).
- ``datasets list``: every dataset, as a JSON array.
- ``datasets get ID``: the dataset and its ``files`` (id, filename, created_at, size in
  bytes), as JSON.
- ``datasets delete ID``: the dataset and its files.

Exit status as :func:`studio.cli.api_verbs.with_backend`: 2 for an unknown dataset, a
file that is missing or not audio, or a request refused as bad input.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from studio.audio.buffers import AudioFileError
from studio.audio.untrusted import decode_untrusted
from studio.cli.api_verbs import print_json, with_backend
from studio.cli.exits import EXIT_OK, EXIT_USAGE, fail
from studio.services.backend import Backend

#: Longest recording accepted for upload, seconds (the decode limit of the local check).
MAX_FILE_SECONDS = 3600.0


def add_datasets_parser(verbs: argparse._SubParsersAction[argparse.ArgumentParser],
                        common: argparse.ArgumentParser) -> None:
    """The ``datasets`` verb and its actions."""
    datasets = verbs.add_parser(
        "datasets", parents=[common], help="datasets for professional voice cloning",
        description="Create datasets, upload recordings of the speaker to them, and list "
        "or inspect them (JSON on stdout). `fine-tunes create` trains a voice on one.")
    actions = datasets.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create", parents=[common], help="create an empty dataset")
    create.add_argument("name", metavar="NAME")
    create.add_argument("--description", default="", metavar="TEXT")
    upload = actions.add_parser("upload", parents=[common],
                                help="upload recordings (WAV, FLAC, MP3, Ogg) to a dataset")
    upload.add_argument("id", metavar="ID")
    upload.add_argument("files", type=Path, nargs="+", metavar="FILE")
    actions.add_parser("list", parents=[common], help="list the datasets as JSON")
    get = actions.add_parser("get", parents=[common], help="a dataset and its files as JSON")
    get.add_argument("id", metavar="ID")
    delete = actions.add_parser("delete", parents=[common], help="delete a dataset and its files")
    delete.add_argument("id", metavar="ID")


def check_upload_files(files: list[Path]) -> str:
    """Why one of ``files`` cannot be uploaded (missing, unreadable, not audio, over the
    limits), or ""."""
    for path in files:
        if not path.is_file():
            return f"{path}: no such file" if not path.exists() else f"{path} is not a file"
        try:
            decode_untrusted(path, max_seconds=MAX_FILE_SECONDS)
        except AudioFileError as exc:
            return f"{path} is not audio that can be used: {exc}"
        except OSError as exc:
            return f"cannot read {path}: {exc.strerror or exc}"
    return ""


async def datasets_command(args: argparse.Namespace) -> int:
    """Run ``datasets ACTION``; return the exit status."""
    if args.action == "upload":
        problem = check_upload_files(args.files)
        if problem:
            return fail(problem, EXIT_USAGE)

    async def work(backend: Backend) -> int:
        client = backend.client
        if args.action == "create":
            print_json(await client.datasets.create(name=args.name,
                                                    description=args.description))
        elif args.action == "list":
            print_json([d async for d in client.datasets.list()])
        elif args.action == "get":
            dataset = await client.datasets.get(args.id)
            files = [f async for f in client.datasets.list_files(args.id)]
            print_json({**dataclasses.asdict(dataset), "files": files})
        elif args.action == "delete":
            await client.datasets.delete(args.id)
            print(f"Deleted dataset {args.id}", file=sys.stderr)
        else:  # upload
            await client.datasets.get(args.id)  # an unknown id fails before any upload
            for number, path in enumerate(args.files, 1):
                await client.datasets.upload_file(args.id, path.read_bytes(),
                                                  filename=path.name)
                print(f"Uploaded {number}/{len(args.files)}: {path.name}", file=sys.stderr)
        return EXIT_OK

    what = {"create": "create the dataset", "list": "list datasets",
            "upload": f"upload to dataset {getattr(args, 'id', '')!r}"}.get(
        args.action) or f"{args.action} dataset {getattr(args, 'id', '')!r}"
    return await with_backend(what, work)
