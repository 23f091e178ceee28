"""Datasets, their files and fine-tunes as the offline engine keeps them.

Records live in ``<data_dir>/training.json`` (``{"format": 1, "datasets": [...],
"fine_tunes": [...]}``), written atomically by
:class:`~studio.offline.voice_store.JsonFileStore` before a change is answered; a corrupt
file is set aside, one that cannot be read is never written over. Uploaded files are
kept byte for byte as uploaded under ``<data_dir>/datasets/<dataset id>/<file id>``.

:class:`Training` is the state the routes share (one per engine): every change runs
under its lock from lookup to save, so what is served is what was last saved, and a
failed save leaves the records as they were.
"""

from __future__ import annotations

import asyncio
import json
import logging
import pathlib
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web

from studio.offline.errors import ApiError, bad_request
from studio.offline.voice_store import JsonFileStore, StoreFormatError

log = logging.getLogger(__name__)

STORE_NAME = "training.json"
FILES_DIR = "datasets"
FORMAT = 1
DEFAULT_PAGE = 10
MAX_PAGE = 100

#: The seed's ``FineTuneStatus``.
STATUSES = ("created", "training", "completed", "failed")
#: Statuses of a fine-tune whose job has not finished (its dataset is in use).
RUNNING = ("created", "training")


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file of a dataset (the seed's ``DatasetFile`` plus its ``purpose``)."""

    id: str
    filename: str
    created_at: str
    size: int  # bytes, as uploaded
    purpose: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "filename": self.filename, "created_at": self.created_at,
                "size": self.size}


@dataclass(frozen=True, slots=True)
class StoredDataset:
    """A dataset (the seed's ``Dataset``) and its files, oldest first."""

    id: str
    name: str
    description: str
    created_at: str
    files: tuple[StoredFile, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "description": self.description,
                "created_at": self.created_at}


@dataclass(frozen=True, slots=True)
class StoredFineTune:
    """A fine-tune (the seed's ``FineTune``), the voices it made, and why it failed.

    ``failure_reason`` is sent as an extra field of ``FineTune`` when the status is
    ``failed`` (the seed has no field for it; the v4 SDK keeps extra fields).
    """

    id: str
    name: str
    description: str
    language: str
    model_id: str
    dataset: str
    status: str
    created_at: str
    voice_ids: tuple[str, ...] = ()
    failure_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id, "name": self.name, "description": self.description,
            "language": self.language, "model_id": self.model_id, "dataset": self.dataset,
            "status": self.status}
        if self.failure_reason is not None:
            body["failure_reason"] = self.failure_reason
        return body


def _record(entry: object, kind: type[Any], where: str) -> Any:
    if not isinstance(entry, dict):
        raise StoreFormatError(f"{where} is not an object")
    try:
        return kind(**entry)
    except TypeError as exc:
        raise StoreFormatError(f"{where}: {exc}") from None


def parse_store(text: str) -> tuple[tuple[StoredDataset, ...], tuple[StoredFineTune, ...]]:
    """The datasets and fine-tunes of a store file's text.

    Raises:
        StoreFormatError: not JSON, another format number, or a malformed record.
    """
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise StoreFormatError(f"not JSON: {exc}") from None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise StoreFormatError(f"expected an object with format {FORMAT}")
    raw_sets, raw_tunes = body.get("datasets"), body.get("fine_tunes")
    if not isinstance(raw_sets, list) or not isinstance(raw_tunes, list):
        raise StoreFormatError("datasets and fine_tunes must be lists")
    datasets = []
    for n, entry in enumerate(raw_sets):
        record = _record(entry, dict, f"datasets[{n}]")
        files = record.pop("files", [])
        if not isinstance(files, list):
            raise StoreFormatError(f"datasets[{n}].files is not a list")
        stored = tuple(_record(f, StoredFile, f"datasets[{n}].files[{m}]")
                       for m, f in enumerate(files))
        datasets.append(_record({**record, "files": stored}, StoredDataset, f"datasets[{n}]"))
    tunes = []
    for n, entry in enumerate(raw_tunes):
        record = _record(entry, dict, f"fine_tunes[{n}]")
        record["voice_ids"] = tuple(record.get("voice_ids", ()))
        tune = _record(record, StoredFineTune, f"fine_tunes[{n}]")
        if tune.status not in STATUSES:
            raise StoreFormatError(f"fine_tunes[{n}]: unknown status {tune.status!r}")
        tunes.append(tune)
    return tuple(datasets), tuple(tunes)


def _dump(datasets: Sequence[StoredDataset], tunes: Sequence[StoredFineTune]) -> dict[str, Any]:
    def dataset(d: StoredDataset) -> dict[str, Any]:
        return {"id": d.id, "name": d.name, "description": d.description,
                "created_at": d.created_at,
                "files": [{"id": f.id, "filename": f.filename, "created_at": f.created_at,
                           "size": f.size, "purpose": f.purpose} for f in d.files]}

    def tune(t: StoredFineTune) -> dict[str, Any]:
        return {"id": t.id, "name": t.name, "description": t.description,
                "language": t.language, "model_id": t.model_id, "dataset": t.dataset,
                "status": t.status, "created_at": t.created_at,
                "voice_ids": list(t.voice_ids), "failure_reason": t.failure_reason}

    return {"format": FORMAT, "datasets": [dataset(d) for d in datasets],
            "fine_tunes": [tune(t) for t in tunes]}


Records = tuple[tuple[StoredDataset, ...], tuple[StoredFineTune, ...]]


class TrainingStore(JsonFileStore[Records]):
    """``<data_dir>/training.json`` and the files under ``<data_dir>/datasets``."""

    def __init__(self, data_dir: pathlib.Path) -> None:
        super().__init__(pathlib.Path(data_dir) / STORE_NAME, what="dataset store",
                         fallback="no datasets or fine-tunes", parse=parse_store,
                         empty=((), ()))
        self.files_dir = pathlib.Path(data_dir) / FILES_DIR

    def save(self, records: Records) -> None:
        """Write the records atomically (see :meth:`JsonFileStore.write`)."""
        self.write(_dump(*records))

    def file_path(self, dataset_id: str, file_id: str) -> pathlib.Path:
        """Where a file's bytes are kept (ids are made by the engine, never by a client)."""
        return self.files_dir / dataset_id / file_id


@dataclass
class Training:
    """The datasets and fine-tunes an engine serves, and its running fine-tune jobs."""

    store: TrainingStore
    executor: Executor | None = None
    datasets: tuple[StoredDataset, ...] = ()
    fine_tunes: tuple[StoredFineTune, ...] = ()
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    jobs: dict[str, asyncio.Task[None]] = field(default_factory=dict)

    async def load(self) -> None:
        loop = asyncio.get_running_loop()
        self.datasets, self.fine_tunes = await loop.run_in_executor(self.executor,
                                                                    self.store.load)

    async def change(self, datasets: tuple[StoredDataset, ...],
                     fine_tunes: tuple[StoredFineTune, ...]) -> None:
        """Save and serve the new records; on failure keep the old ones. Callers hold
        :attr:`lock`.

        Raises:
            ApiError: 500 when the store cannot be written (or was unreadable).
        """
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self.executor, self.store.save, (datasets, fine_tunes))
        except OSError as exc:
            log.error("cannot save the dataset store %s: %s", self.store.path, exc)
            raise ApiError(500, f"the change could not be saved: {exc.strerror or exc}") \
                from None
        self.datasets, self.fine_tunes = datasets, fine_tunes

    def dataset(self, dataset_id: str) -> tuple[int, StoredDataset]:
        """Raises: ApiError: 404 ``dataset_not_found``."""
        for n, d in enumerate(self.datasets):
            if d.id == dataset_id:
                return n, d
        raise ApiError(404, f"dataset not found: {dataset_id}", "dataset_not_found")

    def fine_tune(self, tune_id: str) -> tuple[int, StoredFineTune]:
        """Raises: ApiError: 404 ``fine_tune_not_found``."""
        for n, t in enumerate(self.fine_tunes):
            if t.id == tune_id:
                return n, t
        raise ApiError(404, f"fine-tune not found: {tune_id}", "fine_tune_not_found")

    def running_on(self, dataset_id: str) -> StoredFineTune | None:
        """A fine-tune whose job is not finished and trains on ``dataset_id``."""
        return next((t for t in self.fine_tunes
                     if t.dataset == dataset_id and t.status in RUNNING), None)


TRAINING: web.AppKey[Training] = web.AppKey("training", Training)

T = TypeVar("T")


def page_of(items: Sequence[T], ids: Sequence[str], query: Mapping[str, str],
            noun: str) -> tuple[Sequence[T], bool]:
    """One page of ``items`` (whose ids are ``ids``) for a cursor-paginated listing, as
    the engine's other listings: ``limit`` 1..100 (default 10), ``starting_after`` or
    ``ending_before`` the id of an item; returns ``(page, has_more)``.

    Raises:
        ApiError: 400 for a bad ``limit``, both cursors, or a cursor not in the listing.
    """
    try:
        limit = int(query.get("limit", DEFAULT_PAGE))
    except ValueError:
        raise bad_request(f"limit must be an integer between 1 and {MAX_PAGE}") from None
    if not 1 <= limit <= MAX_PAGE:
        raise bad_request(f"limit must be between 1 and {MAX_PAGE}; got {limit}")
    after, before = query.get("starting_after") or None, query.get("ending_before") or None
    if after and before:
        raise bad_request("use either starting_after or ending_before, not both")
    if before is not None:
        if before not in ids:
            raise bad_request(f"ending_before {before!r} is not a {noun} in this listing")
        end = list(ids).index(before)
        return items[max(end - limit, 0):end], end - limit > 0
    start = 0
    if after is not None:
        if after not in ids:
            raise bad_request(f"starting_after {after!r} is not a {noun} in this listing")
        start = list(ids).index(after) + 1
    return items[start:start + limit], start + limit < len(items)
