"""``/datasets/``: the offline engine's datasets and their files (professional voice
cloning's training data).

Shapes follow ``cartesia-openapi.yaml`` (``datasets_list``, ``_create``, ``_get``,
``_update``, ``_delete``, ``_listFiles``, ``_uploadFile``, ``_deleteFile``; schemas
``Dataset``, ``DatasetFile``, ``PaginatedDatasets``, ``PaginatedDatasetFiles``) and the
v4 SDK (``datasets.*``, ``datasets.files.*``):

- ``GET /datasets/`` and ``GET /datasets/{id}/files``: oldest first, cursor pagination
  as the engine's other listings (:func:`~studio.offline.training_store.page_of`).
- ``POST /datasets/`` ``{"name", "description"}``: answers the new ``Dataset``.
- ``GET /datasets/{id}``: the ``Dataset``; ``PATCH`` (``name`` and/or ``description``)
  and ``DELETE`` answer 204, as the seed says.
- ``POST /datasets/{id}/files``: ``multipart/form-data`` with ``file`` and ``purpose``
  (default ``fine_tune``); answers 204. The file is kept byte for byte as uploaded.
- ``DELETE /datasets/{id}/files/{fileID}``: 204; the stored bytes go too.

Statuses: 400 for a bad body, or a file that is not audio, over the decoding limits of
:func:`~studio.audio.untrusted.decode_untrusted` (600 s, 8 channels, 384 kHz), shorter
than 1 s, silent or without voiced speech; 404 for an unknown dataset or file; **409
for deleting a dataset, or a file of one, that a fine-tune still being trained (status
``created`` or ``training``) uses**; 413 for a file over :data:`MAX_FILE_BYTES`; 500
when the store cannot be written (the change is then undone).
"""

from __future__ import annotations

import asyncio
import logging
import pathlib
import shutil
import uuid
from dataclasses import replace

from aiohttp import web

from studio.offline.bodies import json_object
from studio.offline.clip_analysis import ClipError, analyse_clip
from studio.offline.errors import ApiError, bad_request
from studio.offline.localize import now_iso
from studio.offline.multipart import decode_audio, read_form
from studio.offline.training_store import TRAINING, StoredDataset, StoredFile, page_of

log = logging.getLogger(__name__)

#: Largest file a dataset takes, bytes (50 MB: ten minutes of 44.1 kHz 16-bit stereo
#: WAV fit; the request body itself may be up to 64 MB).
MAX_FILE_BYTES = 50 * 1024 * 1024
#: ``purpose`` when the upload names none (the seed's example).
DEFAULT_PURPOSE = "fine_tune"
_MAX_NAME = 256


def _text(body: dict[str, object], key: str, *, required: bool) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            raise bad_request(f"{key} is required")
        return None
    if not isinstance(value, str):
        raise bad_request(f"{key} must be a string")
    return value


def _name(value: str) -> str:
    if not value.strip():
        raise bad_request("name must be a non-empty string: what should the dataset be called?")
    if len(value) > _MAX_NAME:
        raise bad_request(f"name is {len(value)} characters; the limit is {_MAX_NAME}")
    return value.strip()


async def list_datasets(request: web.Request) -> web.Response:
    training = request.app[TRAINING]
    datasets = training.datasets
    page, has_more = page_of(datasets, [d.id for d in datasets], request.query, "dataset")
    return web.json_response({"data": [d.to_json() for d in page], "has_more": has_more})


async def create_dataset(request: web.Request) -> web.Response:
    body = await json_object(request)
    name = _name(_text(body, "name", required=True) or "")
    description = _text(body, "description", required=False) or ""
    training = request.app[TRAINING]
    async with training.lock:
        new = StoredDataset(f"dataset_{uuid.uuid4().hex}", name, description, now_iso())
        await training.change((*training.datasets, new), training.fine_tunes)
    return web.json_response(new.to_json())


async def get_dataset(request: web.Request) -> web.Response:
    _, dataset = request.app[TRAINING].dataset(request.match_info["id"])
    return web.json_response(dataset.to_json())


async def update_dataset(request: web.Request) -> web.Response:
    body = await json_object(request)
    name = _text(body, "name", required=False)
    if name is not None:
        name = _name(name)
    description = _text(body, "description", required=False)
    training = request.app[TRAINING]
    async with training.lock:
        n, dataset = training.dataset(request.match_info["id"])
        updated = replace(dataset, name=dataset.name if name is None else name,
                          description=dataset.description if description is None
                          else description)
        if updated != dataset:
            datasets = training.datasets
            await training.change((*datasets[:n], updated, *datasets[n + 1:]),
                                  training.fine_tunes)
    return web.Response(status=204)


def _refuse_if_in_use(request: web.Request, dataset_id: str, what: str) -> None:
    tune = request.app[TRAINING].running_on(dataset_id)
    if tune is not None:
        raise ApiError(409, f"{what} is in use by fine-tune {tune.id} ({tune.name!r}), which "
                            f"is {tune.status}; wait until it completes or fails, or delete "
                            "the fine-tune first", "dataset_in_use")


async def delete_dataset(request: web.Request) -> web.Response:
    training = request.app[TRAINING]
    async with training.lock:
        n, dataset = training.dataset(request.match_info["id"])
        _refuse_if_in_use(request, dataset.id, f"dataset {dataset.id}")
        datasets = training.datasets
        await training.change((*datasets[:n], *datasets[n + 1:]), training.fine_tunes)
    folder = training.store.files_dir / dataset.id
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(training.executor, _remove_tree, folder)
    return web.Response(status=204)


def _remove_tree(folder: pathlib.Path) -> None:
    try:
        shutil.rmtree(folder)
    except FileNotFoundError:
        pass
    except OSError as exc:  # the records are gone; stray bytes are only disk space
        log.warning("cannot remove the files of a deleted dataset at %s: %s", folder, exc)


async def list_files(request: web.Request) -> web.Response:
    _, dataset = request.app[TRAINING].dataset(request.match_info["id"])
    files = dataset.files
    page, has_more = page_of(files, [f.id for f in files], request.query, "file")
    return web.json_response({"data": [f.to_json() for f in page], "has_more": has_more})


def _check_audio(data: bytes) -> None:
    """Decode and measure an uploaded file (in the executor: decoding a long compressed
    file takes as long as measuring it).

    Raises:
        ApiError: 400 for a file that is not audio, over the decoding limits, or that
            holds no measurable speech.
    """
    samples, rate = decode_audio(data, "file")
    try:
        analyse_clip(samples, rate)
    except ClipError as exc:
        raise bad_request(f"file: {exc}") from None


def _write(path: pathlib.Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)


async def upload_file(request: web.Request) -> web.Response:
    training = request.app[TRAINING]
    dataset_id = request.match_info["id"]
    training.dataset(dataset_id)  # 404 before the body is read
    form = await read_form(request, {"file"})
    data = form.files.get("file")
    if data is None:
        raise bad_request("file is required: an audio file of the speaker (wav, flac, mp3 or ogg)")
    if len(data) > MAX_FILE_BYTES:
        raise ApiError(413, f"file is {len(data) / 2**20:.1f} MB; a dataset file may be at most "
                            f"{MAX_FILE_BYTES // 2**20} MB")
    purpose = (form.text("purpose") or DEFAULT_PURPOSE).strip() or DEFAULT_PURPOSE
    filename = pathlib.PurePath(form.filenames.get("file") or "upload").name or "upload"
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(training.executor, _check_audio, data)
    stored = StoredFile(f"file_{uuid.uuid4().hex}", filename, now_iso(), len(data), purpose)
    path = training.store.file_path(dataset_id, stored.id)
    try:
        await loop.run_in_executor(training.executor, _write, path, data)
    except OSError as exc:
        raise ApiError(500, f"the file could not be stored: {exc.strerror or exc}") from None
    async with training.lock:
        try:
            n, dataset = training.dataset(dataset_id)  # deleted meanwhile?
            datasets = training.datasets
            updated = replace(dataset, files=(*dataset.files, stored))
            await training.change((*datasets[:n], updated, *datasets[n + 1:]),
                                  training.fine_tunes)
        except ApiError:
            path.unlink(missing_ok=True)
            raise
    return web.Response(status=204)


async def delete_file(request: web.Request) -> web.Response:
    training = request.app[TRAINING]
    file_id = request.match_info["fileID"]
    async with training.lock:
        n, dataset = training.dataset(request.match_info["id"])
        index = next((m for m, f in enumerate(dataset.files) if f.id == file_id), None)
        if index is None:
            raise ApiError(404, f"file {file_id} not found in dataset {dataset.id}",
                           "file_not_found")
        _refuse_if_in_use(request, dataset.id, f"the dataset of file {file_id}")
        updated = replace(dataset, files=(*dataset.files[:index], *dataset.files[index + 1:]))
        datasets = training.datasets
        await training.change((*datasets[:n], updated, *datasets[n + 1:]), training.fine_tunes)
    try:
        training.store.file_path(dataset.id, file_id).unlink(missing_ok=True)
    except OSError as exc:
        log.warning("cannot remove the bytes of deleted file %s: %s", file_id, exc)
    return web.Response(status=204)


def install(app: web.Application) -> None:
    """Serve the dataset routes from ``app`` (which holds a ``TRAINING`` state)."""
    app.router.add_get("/datasets/", list_datasets)
    app.router.add_post("/datasets/", create_dataset)
    app.router.add_get("/datasets/{id}", get_dataset)
    app.router.add_patch("/datasets/{id}", update_dataset)
    app.router.add_delete("/datasets/{id}", delete_dataset)
    app.router.add_get("/datasets/{id}/files", list_files)
    app.router.add_post("/datasets/{id}/files", upload_file)
    app.router.add_delete("/datasets/{id}/files/{fileID}", delete_file)
