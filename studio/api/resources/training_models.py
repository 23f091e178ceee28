"""Typed models of datasets and fine-tunes (seed schemas ``Dataset``, ``DatasetFile``,
``FineTune`` and their ``Paginated*`` pages). Immutable; ``from_json`` raises
:class:`~studio.api.errors.ResponseFormatError` on a body that misses the schema."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

from studio.api.errors import ResponseFormatError
from studio.api.models import _require

#: The seed's ``FineTuneStatus``: ``created`` -> ``training`` -> ``completed`` or ``failed``.
FineTuneStatus = Literal["created", "training", "completed", "failed"]
FINE_TUNE_STATUSES: tuple[str, ...] = get_args(FineTuneStatus)


@dataclass(frozen=True, slots=True)
class Dataset:
    """A collection of files for fine-tuning (``Dataset``); ``created_at`` is the ISO
    8601 string as sent."""

    id: str
    name: str
    description: str
    created_at: str

    @classmethod
    def from_json(cls, body: Any) -> Dataset:
        where = "Dataset"
        return cls(id=_require(body, "id", str, where), name=_require(body, "name", str, where),
                   description=_require(body, "description", str, where),
                   created_at=_require(body, "created_at", str, where))


@dataclass(frozen=True, slots=True)
class DatasetFile:
    """A file stored in a dataset (``DatasetFile``); ``size`` in bytes."""

    id: str
    filename: str
    created_at: str
    size: int

    @classmethod
    def from_json(cls, body: Any) -> DatasetFile:
        where = "DatasetFile"
        size = _require(body, "size", int, where)
        if isinstance(size, bool) or size < 0:
            raise ResponseFormatError(f"{where}: size {size!r} is not a byte count")
        return cls(id=_require(body, "id", str, where),
                   filename=_require(body, "filename", str, where),
                   created_at=_require(body, "created_at", str, where), size=size)


@dataclass(frozen=True, slots=True)
class FineTune:
    """A fine-tune (``FineTune``). ``failure_reason`` is not in the seed: the offline
    engine sends it with status ``failed`` (None when absent)."""

    id: str
    name: str
    description: str
    language: str
    model_id: str
    dataset: str
    status: FineTuneStatus
    failure_reason: str | None = None

    @classmethod
    def from_json(cls, body: Any) -> FineTune:
        where = "FineTune"
        status = _require(body, "status", str, where)
        if status not in FINE_TUNE_STATUSES:
            raise ResponseFormatError(f"{where}: unknown status {status!r}")
        reason = body.get("failure_reason")
        return cls(id=_require(body, "id", str, where), name=_require(body, "name", str, where),
                   description=_require(body, "description", str, where),
                   language=_require(body, "language", str, where),
                   model_id=_require(body, "model_id", str, where),
                   dataset=_require(body, "dataset", str, where), status=status,
                   failure_reason=reason if isinstance(reason, str) else None)

    @property
    def finished(self) -> bool:
        """Whether the job is over (``completed`` or ``failed``)."""
        return self.status in ("completed", "failed")


def _page(body: Any, where: str) -> tuple[list[Any], bool]:
    return _require(body, "data", list, where), _require(body, "has_more", bool, where)


@dataclass(frozen=True, slots=True)
class DatasetPage:
    """One page of ``GET /datasets/`` (``PaginatedDatasets``)."""

    data: tuple[Dataset, ...]
    has_more: bool

    @classmethod
    def from_json(cls, body: Any) -> DatasetPage:
        items, more = _page(body, "PaginatedDatasets")
        return cls(tuple(Dataset.from_json(i) for i in items), more)


@dataclass(frozen=True, slots=True)
class DatasetFilePage:
    """One page of ``GET /datasets/{id}/files`` (``PaginatedDatasetFiles``)."""

    data: tuple[DatasetFile, ...]
    has_more: bool

    @classmethod
    def from_json(cls, body: Any) -> DatasetFilePage:
        items, more = _page(body, "PaginatedDatasetFiles")
        return cls(tuple(DatasetFile.from_json(i) for i in items), more)


@dataclass(frozen=True, slots=True)
class FineTunePage:
    """One page of ``GET /fine-tunes/`` (``PaginatedFineTunes``)."""

    data: tuple[FineTune, ...]
    has_more: bool

    @classmethod
    def from_json(cls, body: Any) -> FineTunePage:
        items, more = _page(body, "PaginatedFineTunes")
        return cls(tuple(FineTune.from_json(i) for i in items), more)
