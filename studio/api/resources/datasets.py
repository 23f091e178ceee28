"""``client.datasets``: datasets and their files, the training data of professional
voice cloning (SDK ``client.datasets.*`` and ``client.datasets.files.*``; seed
``datasets_*``).

Where this deviates from the SDK, and why:

- Files are methods of the dataset resource (``list_files``, ``upload_file``,
  ``delete_file``), as the seed's operation ids name them, not a ``files`` sub-resource;
  ``retrieve`` is called ``get``, as on every other resource of this client.
- ``list``/``list_files`` return an :class:`~studio.api.resources._pagination.AsyncPager`
  (``await`` gathers every item; ``async for`` walks page by page); the cursors are
  followed by the pager, not passed.
- ``update`` takes ``name`` and/or ``description`` and reads the dataset first when only
  one is given (the seed's ``UpdateDatasetRequest`` requires both).
- ``upload_file`` takes the bytes and their ``filename`` apart (the SDK's ``FileTypes``
  is either).
- ``create`` and ``upload_file`` are never sent twice: after a 5xx, a timeout or a lost
  connection the list is searched for the result
  (:func:`~studio.api.resources._create_once.create_once`).
"""

from __future__ import annotations

from urllib.parse import quote

from studio.api._constants import MAX_PAGE_SIZE
from studio.api._http import json_body
from studio.api.resources._base import APIResource
from studio.api.resources._create_once import create_once
from studio.api.resources._files import audio_type
from studio.api.resources._pagination import AsyncPager
from studio.api.resources.training_models import (
    Dataset,
    DatasetFile,
    DatasetFilePage,
    DatasetPage,
)

#: ``purpose`` of a file uploaded for fine-tuning (the seed's example).
FINE_TUNE_PURPOSE = "fine_tune"


def check_limit(limit: int) -> None:
    """Raises: ValueError: ``limit`` outside the seed's 1..100."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be in 1..{MAX_PAGE_SIZE}, got {limit}")


def id_path(prefix: str, id: str, what: str) -> str:
    """``prefix/<id>`` with the id quoted. Raises: ValueError: an empty id."""
    if not id:
        raise ValueError(f"{what} id is empty")
    return f"{prefix}/{quote(id, safe='')}"


def _check_name(name: str) -> str:
    if not name.strip():
        raise ValueError("a dataset needs a name; got a blank one")
    return name.strip()


class DatasetsResource(APIResource):
    """Datasets: ``/datasets/``, ``/datasets/{id}``, ``/datasets/{id}/files`` and
    ``/datasets/{id}/files/{fileID}``.

    Errors as :class:`~studio.api.client.CartesiaClient` lists them; a ``ValueError``
    for an argument the seed rules out is raised before anything is sent.
    """

    def list(self, *, limit: int = MAX_PAGE_SIZE) -> AsyncPager[Dataset]:
        """Datasets from ``GET /datasets/`` (seed ``datasets_list``), every page,
        ``limit`` (1..100) a page, oldest first on the offline engine.

        Raises:
            ValueError: ``limit`` outside 1..100 (at the call).
            ResponseFormatError: a page that misses the schema, repeats or is empty.
        """
        check_limit(limit)
        return AsyncPager(self._http, "/datasets/", {"limit": limit}, DatasetPage.from_json)

    async def create(self, *, name: str, description: str = "") -> Dataset:
        """``POST /datasets/`` (seed ``datasets_create``): a new, empty dataset.

        Raises:
            ValueError: a blank ``name`` (nothing is sent).
            OutcomeUnknownError: the answer was lost and listing did not find the dataset.
        """
        clean = _check_name(name)

        async def send() -> Dataset:
            response = await self._http.request(
                "POST", "/datasets/", json={"name": clean, "description": description},
                creates=True)
            return Dataset.from_json(json_body(response, "POST /datasets/"))

        return await create_once(send, self.list, lambda d: d.name == clean,
                                 f"dataset {clean!r}")

    async def get(self, id: str) -> Dataset:
        """``GET /datasets/{id}`` (seed ``datasets_get``).

        Raises:
            ValueError: an empty ``id``.
            NotFoundError: no such dataset.
        """
        response = await self._http.request("GET", id_path("/datasets", id, "dataset"))
        return Dataset.from_json(json_body(response, "GET /datasets/{id}"))

    async def update(self, id: str, *, name: str | None = None,
                     description: str | None = None) -> None:
        """``PATCH /datasets/{id}`` (seed ``datasets_update``, answered with 204). A field
        left None is read first (``GET /datasets/{id}``) and sent as it is.

        Raises:
            ValueError: an empty ``id``, neither field, or a blank ``name``.
            NotFoundError: no such dataset.
        """
        path = id_path("/datasets", id, "dataset")
        if name is None and description is None:
            raise ValueError("datasets.update needs a name, a description or both")
        if name is not None:
            name = _check_name(name)
        if name is None or description is None:
            current = await self.get(id)
            name = current.name if name is None else name
            description = current.description if description is None else description
        await self._http.request("PATCH", path, json={"name": name, "description": description})

    async def delete(self, id: str) -> None:
        """``DELETE /datasets/{id}`` (seed ``datasets_delete``, 204) and its files.

        Raises:
            ValueError: an empty ``id``.
            NotFoundError: no such dataset.
            BadRequestError: 409, a fine-tune still training uses it.
        """
        await self._http.request("DELETE", id_path("/datasets", id, "dataset"))

    def list_files(self, id: str, *, limit: int = MAX_PAGE_SIZE) -> AsyncPager[DatasetFile]:
        """The files of dataset ``id`` from ``GET /datasets/{id}/files`` (seed
        ``datasets_listFiles``), every page.

        Raises:
            ValueError: an empty ``id`` or ``limit`` outside 1..100 (at the call).
            NotFoundError: no such dataset (while iterating).
        """
        check_limit(limit)
        path = id_path("/datasets", id, "dataset") + "/files"
        return AsyncPager(self._http, path, {"limit": limit}, DatasetFilePage.from_json)

    async def upload_file(self, id: str, file: bytes, *, filename: str,
                          purpose: str = FINE_TUNE_PURPOSE) -> None:
        """``POST /datasets/{id}/files`` (seed ``datasets_uploadFile``, 204): ``file``, a
        whole audio file of the speaker (wav, flac, mp3, ogg), sent as
        ``multipart/form-data`` parts ``file`` (named ``filename``, its MIME type from
        the extension) and ``purpose``.

        Never sent twice: after a lost answer the dataset's files are searched for a new
        one of this ``filename`` and size.

        Raises:
            ValueError: an empty ``id``, ``file``, ``filename`` or ``purpose``.
            NotFoundError: no such dataset.
            BadRequestError: not audio, no speech in it, over the size limit (413).
            OutcomeUnknownError: the answer was lost and listing did not settle it.
        """
        path = id_path("/datasets", id, "dataset") + "/files"
        if not file:
            raise ValueError("the file is empty: upload a recording of the speaker")
        if not filename.strip() or not purpose.strip():
            raise ValueError("upload_file needs a filename and a purpose")

        async def send() -> None:
            await self._http.request(
                "POST", path, files={"file": (filename, file, audio_type(filename))},
                data={"purpose": purpose}, creates=True)

        await create_once(send, lambda: self.list_files(id),
                          lambda f: f.filename == filename and f.size == len(file),
                          f"file {filename!r}")

    async def delete_file(self, id: str, file_id: str) -> None:
        """``DELETE /datasets/{id}/files/{fileID}`` (seed ``datasets_deleteFile``, 204).

        Raises:
            ValueError: an empty ``id`` or ``file_id``.
            NotFoundError: no such dataset or file.
            BadRequestError: 409, a fine-tune still training uses the dataset.
        """
        path = id_path(id_path("/datasets", id, "dataset") + "/files", file_id, "file")
        await self._http.request("DELETE", path)
