"""Owned voices (cloned and localized) on disk, so they survive an engine restart.

One JSON file, ``<data_dir>/voices.json``::

    {"format": 1, "voices": [{"id": ..., "name": ..., "espeak_language": "en-us",
                              "variant": "m3", "pitch_offset": 4, "range_offset": -10,
                              "rate_scale": 0.9, "clip": {"median_f0_hz": 112.0, ...},
                              ...}, ...]}

The derived espeak-ng parameters are kept, not the clip. Writes go to a temporary file
in the same directory, are fsynced, and replace the store with ``os.replace``, so a
crash leaves the old file or the new one, never half of one.

A store that is not a voice store (bad JSON or text, wrong shape) is moved aside as
``voices.json.corrupt-<UTC time>`` and logged; the engine then starts with the built-in
voices only. A store that cannot be *read* (permissions, an I/O error, which may pass)
is left where it is, logged, and never written over: the engine starts with the
built-in voices and :meth:`VoiceStore.save` refuses with :class:`StoreUnreadableError`
until the engine is restarted and reads it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import pathlib
import tempfile
from collections.abc import Callable
from dataclasses import fields
from typing import Any, Generic, TypeVar

from studio.offline.voices import VoiceSpec

log = logging.getLogger(__name__)

STORE_NAME = "voices.json"
FORMAT = 1

T = TypeVar("T")

_TYPES: dict[str, tuple[type, ...]] = {
    "id": (str,), "name": (str,), "description": (str,), "language": (str,),
    "locale": (str,), "gender": (str, type(None)), "accent": (str, type(None)),
    "espeak_language": (str,), "variant": (str,), "pitch_offset": (int,),
    "range_offset": (int,), "rate_scale": (float, int), "created_at": (str,),
}


class StoreFormatError(ValueError):
    """A store file is not in the format this engine reads."""


class StoreUnreadableError(OSError):
    """A save refused because the store could not be read at start-up: writing would
    lose the voices in it. The message says what to do, for the user."""


def _to_json(voice: VoiceSpec) -> dict[str, Any]:
    out: dict[str, Any] = {f.name: getattr(voice, f.name) for f in fields(VoiceSpec)}
    out["clip"] = dict(voice.clip)
    del out["is_owner"]
    return out


def _from_json(item: object) -> VoiceSpec:
    if not isinstance(item, dict):
        raise StoreFormatError(f"a voice is {type(item).__name__}, not an object")
    values: dict[str, Any] = {}
    for name, kinds in _TYPES.items():
        value = item.get(name)
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise StoreFormatError(f"voice {item.get('id')!r}: field {name!r} is {value!r}")
        values[name] = value
    clip = item.get("clip", {})
    if not isinstance(clip, dict) or not all(
        isinstance(k, str) and isinstance(v, (int, float)) for k, v in clip.items()
    ):
        raise StoreFormatError(f"voice {item.get('id')!r}: clip is not an object of numbers")
    values["rate_scale"] = float(values["rate_scale"])
    return VoiceSpec(**values, is_owner=True,
                     clip=tuple((k, float(v)) for k, v in clip.items()))


def read_envelope(text: str, key: str, format_number: int = FORMAT) -> list[Any]:
    """The list under ``key`` in a store file's text ``{"format": N, key: [...]}``.

    Raises:
        StoreFormatError: not JSON, another format number, or ``key`` is not a list.
    """
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise StoreFormatError(f"not JSON: {exc}") from None
    if not isinstance(body, dict) or body.get("format") != format_number:
        raise StoreFormatError(f"expected an object with format {format_number}")
    entries = body.get(key)
    if not isinstance(entries, list):
        raise StoreFormatError(f"{key} is not a list")
    return entries


def parse(text: str) -> tuple[VoiceSpec, ...]:
    """The voices of a store file's text.

    Raises:
        StoreFormatError: not JSON, another format number, or a malformed voice.
    """
    out = tuple(_from_json(item) for item in read_envelope(text, "voices"))
    if len({v.id for v in out}) != len(out):
        raise StoreFormatError("two voices share an id")
    return out


class JsonFileStore(Generic[T]):
    """One JSON file in the data directory, read whole and written atomically.

    The voice store below and the pronunciation dictionary store
    (:mod:`studio.offline.dict_routes`) share it: a file ``parse`` rejects is moved
    aside, one that cannot be read is left alone and never written over.

    Attributes:
        path: the file.
    """

    def __init__(self, path: pathlib.Path, *, what: str, fallback: str,
                 parse: Callable[[str], T], empty: T) -> None:
        self.path = path
        self._what = what  # "voice store", for logs
        self._fallback = fallback  # what the engine starts with instead, for logs
        self._parse = parse
        self._empty = empty
        self._unreadable: str | None = None  # why the last load could not read the file

    def load(self) -> T:
        """The stored value; ``empty`` when there is no file yet or it cannot be used
        (never raises for a bad file). A file that ``parse`` rejects (raising
        :class:`StoreFormatError`) is moved aside; one that cannot be read is left
        alone and, until a later load reads it, :meth:`write` refuses to replace it.
        Both are logged."""
        self._unreadable = None
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return self._empty
        except OSError as exc:
            self._unreadable = exc.strerror or str(exc)
            log.error("%s %s cannot be read (%s); starting with %s, and changes are "
                      "refused so that the file is not written over", self._what, self.path,
                      self._unreadable, self._fallback)
            return self._empty
        try:
            return self._parse(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            return self._set_aside(f"not UTF-8 text: {exc}")
        except StoreFormatError as exc:
            return self._set_aside(str(exc))

    def _set_aside(self, reason: str) -> T:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        try:
            self.path.replace(aside)
        except OSError as exc:
            log.error("%s %s is unusable (%s) and cannot be moved aside: %s; starting "
                      "with %s", self._what, self.path, reason, exc, self._fallback)
        else:
            log.error("%s %s is unusable (%s); kept as %s, starting with %s", self._what,
                      self.path, reason, aside.name, self._fallback)
        return self._empty

    def write(self, body: object) -> None:
        """Write ``body`` as JSON atomically (temporary file, fsync, rename).

        Raises:
            StoreUnreadableError: the last :meth:`load` could not read the file.
            OSError: the directory or file cannot be written (the old file stays).
        """
        if self._unreadable is not None:
            raise StoreUnreadableError(
                f"{self.path} could not be read when the engine started "
                f"({self._unreadable}), so it is not written over; fix the file and "
                "restart the engine to make changes")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(body, ensure_ascii=False, indent=1)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}-", suffix=".tmp",
                                   dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


class VoiceStore(JsonFileStore[tuple[VoiceSpec, ...]]):
    """The owned voices of one data directory.

    Attributes:
        path: ``<data_dir>/voices.json``.
    """

    def __init__(self, data_dir: pathlib.Path) -> None:
        super().__init__(pathlib.Path(data_dir) / STORE_NAME, what="voice store",
                         fallback="the built-in voices", parse=parse, empty=())

    def save(self, voices: tuple[VoiceSpec, ...]) -> None:
        """Write ``voices`` atomically (see :meth:`JsonFileStore.write`)."""
        self.write({"format": FORMAT, "voices": [_to_json(v) for v in voices]})
