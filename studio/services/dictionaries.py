"""Pronunciation dictionaries as a QObject (issue #6): the backend's dictionaries with
their items, edits saved in the background, IPA suggestions from espeak-ng, and "Say it"
renders of a sentence with and without a dictionary.

The service keeps two copies of every dictionary's items: what the user sees (the
local copy, changed at once by :meth:`DictionaryService.edit_items`) and what the server
has (the last list it answered). Saving sends the whole list (``PATCH
/pronunciation-dicts/{id}`` replaces ``items`` whole, seed ``pronunciationDicts_update``),
one request at a time per dictionary; edits made while a request is in flight are sent
together once it returns. A save that fails keeps the local copy and is sent again at the
next edit or :meth:`DictionaryService.retry`.

**Entries with errors are kept here and not sent.** An entry with an empty text or
alias, a second entry for the same text, or an IPA alias whose ``<<``/``>>``/``|``
syntax is broken (:func:`studio.project.lexicon.validate`) would be refused by the
server (the client and Cartesia reject blank fields) or read out literally
("less-than less-than k bar..."), and one bad entry must not stop the others from
reaching the server while the user is still typing. So a save sends the entries without
errors, in order; the others stay in the local copy, are counted by
:meth:`DictionaryService.held_back` and make :meth:`DictionaryService.unsaved` true until
they are fixed. Warnings (an unknown IPA symbol, an overlap) do not hold an entry back:
Cartesia decides what it can say.

Clients' errors (:mod:`studio.api.errors`) reach callers as :class:`DictionaryError`
with a sentence for the user; the client's exception is its ``__cause__``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import unicodedata
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QObject, Signal

from studio.api import (
    DEFAULT_MODEL,
    APIStatusError,
    AuthenticationError,
    CartesiaError,
    ConnectionLostError,
    NotFoundError,
    OutputFormat,
    RateLimitError,
    ServerError,
    TTSRequest,
)
from studio.api.models import PronunciationDict, PronunciationItem
from studio.audio.buffers import AudioFileError, decode_audio_bytes
from studio.project.lexicon import (
    IPA_SYMBOLS,
    VOWELS,
    LexiconItem,
    Problem,
    segment_ipa,
    validate,
)
from studio.services.tasks import TaskGroup
from studio.services.threads import in_thread

if TYPE_CHECKING:
    from studio.api import CartesiaClient

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]

#: How :meth:`DictionaryService.save_state` describes a dictionary's items:
#: ``saved`` (the server has every entry without errors), ``saving`` (a request is in
#: flight or about to be sent), ``failed`` (the last save failed; see
#: :meth:`DictionaryService.save_error`), ``unsaved`` (changed here, not sent: no
#: backend) or ``missing`` (deleted on the server; the entries are kept here).
SaveState = Literal["saved", "saving", "failed", "unsaved", "missing"]

#: The audio "Say it" asks for: a WAV file the studio decodes (seed ``OutputFormat``).
SAY_IT_FORMAT = OutputFormat("wav", "pcm_s16le", 44100)

#: Studio language (seed ``SupportedLanguage``) -> espeak-ng voice, where the code alone
#: is not the voice name; the rest come from the offline engine's table.
_ESPEAK_REGIONAL = {"en-gb": "en-gb", "en-uk": "en-gb", "en-us": "en-us", "pt-pt": "pt",
                    "pt-br": "pt-br"}


class DictionaryError(Exception):
    """A dictionary action that cannot be done: no backend, the server refused, espeak-ng
    could not transcribe. The message is for the user; ``__cause__`` is the client's
    (or espeak's) error, if any."""


class DictionaryMissingError(DictionaryError):
    """The dictionary no longer exists on the server (404). Its entries are kept here;
    :meth:`DictionaryService.recreate` makes a new dictionary from them."""


# --- validation, cached per entry ----------------------------------------------------------

_PLAIN = "x"  # an alias with no problem of its own, so validate() reports only text problems
_TEXT_FIRST = frozenset({"empty_text", "duplicate"})


class LexiconChecker:
    """:func:`studio.project.lexicon.validate` for a list edited one entry at a time.

    An alias's own problems (empty, IPA syntax, unknown symbols) depend on the alias
    alone and are cached by alias; the problems between entries (empty text, duplicate,
    overlap) depend only on the texts and are worked out again only when a text changed.
    So editing one alias in 10 000 entries checks one alias, and editing a text runs
    the linear text pass once; the result is always exactly what ``validate`` returns.

    Attributes:
        aliases_checked: how many aliases had their own checks run (cache misses).
        text_passes: how many times the checks between entries ran.
    """

    def __init__(self) -> None:
        self._own: dict[str, tuple[Problem, ...]] = {}  # alias -> its problems (index 0)
        self._placed: dict[tuple[str, int], tuple[Problem, ...]] = {}  # ... at a row
        self._plain: dict[str, LexiconItem] = {}  # text -> the item the text pass checks
        self._texts: tuple[str, ...] | None = None
        self._first: dict[int, tuple[Problem, ...]] = {}  # empty text, duplicate
        self._last: dict[int, tuple[Problem, ...]] = {}  # overlaps
        self.aliases_checked = 0
        self.text_passes = 0

    def problems(self, items: Sequence[LexiconItem]) -> list[tuple[Problem, ...]]:
        """Each entry's problems, in ``validate``'s order, with ``index`` its row."""
        texts = tuple(item.text for item in items)
        if texts != self._texts:
            self._check_texts(texts)
        if len(self._own) > 2 * len(items) + 1024:  # forget aliases edited away
            self._own = {i.alias: self._own[i.alias] for i in items if i.alias in self._own}
        if len(self._placed) > 2 * len(items) + 1024:
            self._placed = {}
        first, last, own, placed = self._first, self._last, self._own, self._placed
        out: list[tuple[Problem, ...]] = []
        for row, item in enumerate(items):
            mine = own.get(item.alias)
            if mine is None:
                mine = self._check_alias(item.alias)
            if mine:
                key = (item.alias, row)
                at_row = placed.get(key)
                if at_row is None:
                    at_row = placed[key] = tuple(dataclasses.replace(p, index=row)
                                                 for p in mine)
                mine = at_row
            if row in first or row in last:
                mine = first.get(row, ()) + mine + last.get(row, ())
            out.append(mine)
        return out

    def _check_alias(self, alias: str) -> tuple[Problem, ...]:
        self.aliases_checked += 1
        found = tuple(validate([LexiconItem(_PLAIN, alias)]))
        self._own[alias] = found
        return found

    def _check_texts(self, texts: tuple[str, ...]) -> None:
        self.text_passes += 1
        plain = self._plain
        if len(plain) > 2 * len(texts) + 1024:
            plain.clear()
        surrogates = []
        for text in texts:
            item = plain.get(text)
            if item is None:
                item = plain[text] = LexiconItem(text, _PLAIN)
            surrogates.append(item)
        first: dict[int, list[Problem]] = {}
        last: dict[int, list[Problem]] = {}
        for problem in validate(surrogates):
            side = first if problem.kind in _TEXT_FIRST else last
            side.setdefault(problem.index, []).append(problem)
        self._first = {row: tuple(found) for row, found in first.items()}
        self._last = {row: tuple(found) for row, found in last.items()}
        self._texts = texts


def has_error(problems: Iterable[Problem]) -> bool:
    """Whether any of ``problems`` is an error (not a warning)."""
    return any(not p.is_warning for p in problems)


# --- IPA ---------------------------------------------------------------------------------

def espeak_voice_for(language: str) -> str:
    """The espeak-ng voice that transcribes ``language`` (a studio language code such as
    ``"en"``, or with a region, ``"en-GB"``): ``"en"`` → ``"en-us"``.

    Raises:
        DictionaryError: espeak-ng has no voice for it.
    """
    from studio.offline.voices import ESPEAK_LANGUAGE_VOICES

    code = language.strip().lower().replace("_", "-")
    if code in _ESPEAK_REGIONAL:
        return _ESPEAK_REGIONAL[code]
    voice = ESPEAK_LANGUAGE_VOICES.get(code.split("-")[0])
    if voice is None:
        raise DictionaryError(f"IPA suggestions are not available for the language "
                              f"{language!r}")
    return voice


def ipa_alias(ipa: str) -> str:
    """An IPA transcription (espeak-ng's, e.g. ``"kɑːɹtˈiːʒə"``) in Cartesia's alias form,
    ``"<<k|ɑː|ɹ|ˈ|t|iː|ʒ|ə>>"``, split by :func:`studio.project.lexicon.segment_ipa`.

    espeak-ng marks stress just before the stressed vowel; Cartesia's guide marks it
    before the syllable (``<<k|ɑ|ɹ|ˈ|t|i|ʒ|ə>>``), so each mark moves back over the
    syllable's onset (:func:`_stress_before_onset`). Punctuation, digits and pause marks
    (``_``) are dropped; word breaks only separate segments, since Cartesia's form has
    no place for them.

    Raises:
        DictionaryError: nothing phonetic is left.
    """
    words = "".join(c if c.isspace() or c in IPA_SYMBOLS or unicodedata.category(c)[0] in "LM"
                    else " " for c in ipa).split()
    segments = [s for word in words for s in _stress_before_onset(segment_ipa(word))]
    if not segments:
        raise DictionaryError(f"espeak-ng gave no phonemes ({ipa!r})")
    return "<<" + "|".join(segments) + ">>"


def _is_vowel(segment: str) -> bool:
    return segment[0] in VOWELS


def _stress_before_onset(segments: list[str]) -> list[str]:
    """One word's segments with each stress mark moved from before its vowel to before
    the syllable's onset: over all the consonants at the start of a word ("stɹˈɔŋ" →
    ˈ s t ɹ ɔ ŋ), over the one consonant between two vowels (ɐ b ˈ aʊ t keeps ˈ before
    b), and over all but the first of a cluster after a vowel (ɑː ɹ t ˈ iː → ɑː ɹ ˈ t iː).
    A heuristic, not syllabification: the user edits the suggestion anyway."""
    out = list(segments)
    index = 0
    while index < len(out):
        if out[index] in ("ˈ", "ˌ"):
            start = index
            while start > 0 and out[start - 1] not in ("ˈ", "ˌ") and not _is_vowel(out[start - 1]):
                start -= 1
            if start > 0 and index - start >= 2:
                start += 1  # the first consonant closes the syllable before
            out.insert(start, out.pop(index))
        index += 1
    return out


def _describe(exc: CartesiaError) -> str:
    """The client's error as the end of a sentence for the user."""
    if isinstance(exc, AuthenticationError):
        return f"the server refused the API key ({exc.status_code})"
    if isinstance(exc, RateLimitError):
        return "too many requests; try again in a moment"
    if isinstance(exc, ServerError):
        return f"the server failed ({exc.status_code}: {exc.message})"
    if isinstance(exc, APIStatusError):
        return f"the server said no ({exc.status_code}: {exc.message})"
    if isinstance(exc, ConnectionLostError):
        return f"the backend could not be reached ({exc})"
    return str(exc)


def _to_wire(items: Iterable[LexiconItem]) -> list[PronunciationItem]:
    return [PronunciationItem(item.text, item.alias) for item in items]


def _from_wire(items: Iterable[PronunciationItem]) -> tuple[LexiconItem, ...]:
    return tuple(LexiconItem(item.text, item.alias) for item in items)


class DictionaryService(QObject):
    """The connected backend's pronunciation dictionaries, their entries, and saving.

    Coroutines raise :class:`DictionaryError` (:class:`DictionaryMissingError` when the
    dictionary is gone on the server); background saves report through ``error``.

    Attributes:
        backend_kind: ``"offline"``, ``"cloud"``, or ``""`` while disconnected.

    Signals:
        dictionaries_changed(): the list, a name, a pinned flag, or which are missing
            changed.
        items_changed(str dict_id): that dictionary's local entries changed (an edit, a
            load, a refresh that brought the server's).
        save_state_changed(str dict_id): :meth:`save_state` of that dictionary may have
            changed.
        connection_changed(bool): a client was set (True) or taken away (False).
        error(str): something done in the background failed (a save; a dictionary found
            deleted on the server); a sentence for the user.
        dictionary_recreated(str old_id, str new_id): :meth:`recreate` made ``new_id``
            from the entries of the missing ``old_id``.
    """

    dictionaries_changed = Signal()
    items_changed = Signal(str)
    save_state_changed = Signal(str)
    connection_changed = Signal(bool)
    error = Signal(str)
    dictionary_recreated = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.backend_kind = ""
        self._client: CartesiaClient | None = None
        self._data_kind = ""  # the backend the dictionaries below came from
        self._dicts: dict[str, PronunciationDict] = {}  # listing order, then missing ones
        self._items: dict[str, tuple[LexiconItem, ...]] = {}  # what the user sees
        self._server: dict[str, tuple[LexiconItem, ...]] = {}  # what the server has
        self._checkers: dict[str, LexiconChecker] = {}
        # dict id -> (the items tuple it was worked out from, its sendable entries)
        self._sendable: dict[str, tuple[tuple[LexiconItem, ...], tuple[LexiconItem, ...]]] = {}
        self._missing: set[str] = set()
        self._deleted: set[str] = set()  # ids deleted or forgotten here
        self._failed: dict[str, str] = {}
        self._savers: dict[str, asyncio.Task[None]] = {}
        #: Whether :meth:`dictionaries` is the backend's whole list (a listing succeeded),
        #: so a dictionary not in it is not on the server.
        self.listed = False
        self._tasks = TaskGroup(self._on_task_failed, "dictionary save")

    # --- the backend ---------------------------------------------------------------------

    def set_client(self, client: CartesiaClient | None, kind: str = "",
                   account: str = "") -> None:
        """Use ``client`` of backend ``kind`` (``"offline"``/``"cloud"``); None while
        disconnected. The dictionaries shown stay across a reconnection to the same kind
        of backend (edits not saved yet are sent again); another kind of backend has
        other dictionaries, so they are dropped. Call :meth:`refresh` to list them."""
        self._client = client
        self.backend_kind = kind if client is not None else ""
        source = f"{kind}:{account}"  # another account has other dictionaries too
        if client is not None and source != self._data_kind:
            if any(self.unsaved(d) for d in self._dicts):
                log.warning("dropping unsaved dictionary edits of the %s backend",
                            self._data_kind or "previous")
            self._forget_all()
            self._data_kind = source
        self.connection_changed.emit(client is not None)
        if client is not None:
            self.retry()

    @property
    def connected(self) -> bool:
        return self._client is not None

    def _require_client(self) -> CartesiaClient:
        if self._client is None:
            raise DictionaryError("Not connected: the backend is not running")
        return self._client

    def _forget_all(self) -> None:
        for task in self._savers.values():
            task.cancel()
        had = bool(self._dicts)
        ids = list(self._dicts)
        self._dicts.clear()
        self._items.clear()
        self._server.clear()
        self._checkers.clear()
        self._sendable.clear()
        self._failed.clear()
        self._savers.clear()
        self._missing.clear()
        self.listed = False
        self._deleted.clear()
        if had:
            self.dictionaries_changed.emit()
            for dict_id in ids:
                self.items_changed.emit(dict_id)

    # --- reading -------------------------------------------------------------------------

    def dictionaries(self) -> list[PronunciationDict]:
        """The dictionaries in the server's order, then those missing on the server.

        A :class:`PronunciationDict`'s ``items`` are the server's; :meth:`items` are the
        entries the user sees."""
        return list(self._dicts.values())

    def dictionary(self, dict_id: str) -> PronunciationDict | None:
        return self._dicts.get(dict_id)

    def items(self, dict_id: str) -> tuple[LexiconItem, ...] | None:
        """The entries of ``dict_id`` as the user sees them (saved or not); None for an
        unknown id."""
        return self._items.get(dict_id)

    def checker(self, dict_id: str) -> LexiconChecker:
        """The checker of ``dict_id``'s entries, to share with a view of them (its caches
        then serve both; a fresh one for an unknown id)."""
        if dict_id not in self._dicts:
            return LexiconChecker()
        return self._checkers.setdefault(dict_id, LexiconChecker())

    def problems(self, dict_id: str) -> list[tuple[Problem, ...]]:
        """Each entry's validation problems (see :class:`LexiconChecker`); ``[]`` for an
        unknown id."""
        items = self._items.get(dict_id)
        if items is None:
            return []
        return self.checker(dict_id).problems(items)

    def sendable(self, dict_id: str) -> tuple[LexiconItem, ...]:
        """The entries a save sends: those without errors, in order (module docstring)."""
        items = self._items.get(dict_id, ())
        cached = self._sendable.get(dict_id)
        if cached is not None and cached[0] is items:
            return cached[1]
        sendable = tuple(item for item, found in zip(items, self.problems(dict_id), strict=True)
                         if not has_error(found))
        self._sendable[dict_id] = (items, sendable)
        return sendable

    def held_back(self, dict_id: str) -> int:
        """How many entries are not sent because they have errors."""
        return len(self._items.get(dict_id, ())) - len(self.sendable(dict_id))

    def is_missing(self, dict_id: str) -> bool:
        """Whether ``dict_id`` was deleted on the server (its entries are kept here)."""
        return dict_id in self._missing

    def save_state(self, dict_id: str) -> SaveState:
        """Where the entries of ``dict_id`` stand (see :data:`SaveState`)."""
        if dict_id in self._missing:
            return "missing"
        task = self._savers.get(dict_id)
        if task is not None and not task.done():
            return "saving"
        if dict_id in self._failed:
            return "failed"
        if dict_id in self._items and self.sendable(dict_id) != self._server.get(dict_id):
            return "unsaved"
        return "saved"

    def save_error(self, dict_id: str) -> str:
        """Why the last save of ``dict_id`` failed ("" when it did not)."""
        return self._failed.get(dict_id, "")

    def unsaved(self, dict_id: str) -> bool:
        """Whether something the user sees in ``dict_id`` is not on the server: a save
        pending, in flight or failed, entries held back for their errors, or the whole
        dictionary deleted there. Such entries live only in this process."""
        return self.save_state(dict_id) != "saved" or self.held_back(dict_id) > 0

    # --- listing -------------------------------------------------------------------------

    async def refresh(self) -> None:
        """List the dictionaries (``GET /pronunciation-dicts/``, all pages).

        Entries changed here and not saved yet win over the server's (and are sent
        again); the others take the server's. A dictionary that was listed before and is
        not now is kept, marked missing (:meth:`is_missing`), with ``error`` saying so.

        Raises:
            DictionaryError: not connected, or the listing failed.
        """
        client = self._require_client()
        before = set(self._dicts)
        # What each dictionary held when the listing was asked for: one edited or saved
        # while the listing was on its way is newer than the listing's copy.
        items_before, server_before = dict(self._items), dict(self._server)
        try:
            listed = await client.pronunciation_dicts.list()
        except CartesiaError as exc:
            raise DictionaryError(f"Could not load the dictionaries: {_describe(exc)}") from exc
        if client is not self._client:
            return  # another backend since: this answer is not about its dictionaries
        dirty = {d for d in self._dicts if self.unsaved(d)}
        changed_items: list[str] = []
        dicts: dict[str, PronunciationDict] = {}
        for entry in listed:
            if entry.id in self._deleted:
                continue  # deleted here while the listing was on its way
            dicts[entry.id] = entry
            if (self._items.get(entry.id) is not items_before.get(entry.id)
                    or self._server.get(entry.id) is not server_before.get(entry.id)):
                dicts[entry.id] = self._dicts.get(entry.id, entry)
                continue  # changed here meanwhile: keep ours (saved, or being saved)
            self._server[entry.id] = _from_wire(entry.items)
            self._missing.discard(entry.id)
            if entry.id in dirty and entry.id in self._items:
                continue  # the local copy is sent again below
            if self._items.get(entry.id) != self._server[entry.id]:
                self._items[entry.id] = self._server[entry.id]
                changed_items.append(entry.id)
        vanished = [d for d in self._dicts
                    if d not in dicts and d in before and d not in self._missing]
        for dict_id in self._dicts:
            if dict_id not in dicts:
                dicts[dict_id] = self._dicts[dict_id]
                if dict_id in before:  # (one created meanwhile is not listed yet)
                    self._missing.add(dict_id)
        self._dicts = dicts
        self.listed = True
        self.dictionaries_changed.emit()
        for dict_id in changed_items:
            self.items_changed.emit(dict_id)
        for dict_id in vanished:
            self._report_missing(dict_id)
        for dict_id in dicts:
            if dict_id not in self._missing and self.save_state(dict_id) in ("unsaved", "failed"):
                self._schedule_save(dict_id)
            self.save_state_changed.emit(dict_id)

    # --- changes -------------------------------------------------------------------------

    async def create(self, name: str, items: Iterable[LexiconItem] = ()) -> PronunciationDict:
        """Make a dictionary called ``name`` with ``items`` (``POST
        /pronunciation-dicts/``); entries with errors are kept here, not sent.

        Raises:
            DictionaryError: a blank name, not connected, or the server refused.
        """
        name = name.strip()
        if not name:
            raise DictionaryError("A dictionary needs a name")
        client = self._require_client()
        local = tuple(items)
        checker = LexiconChecker()
        sendable = tuple(item for item, found in zip(local, checker.problems(local), strict=True)
                         if not has_error(found))
        try:
            made = await client.pronunciation_dicts.create(name, _to_wire(sendable))
        except (ServerError, ConnectionLostError) as exc:
            raise DictionaryError(
                f"Could not create “{name}”: {_describe(exc)}. It may have been made "
                "anyway: refresh the list before trying again.") from exc
        except CartesiaError as exc:
            raise DictionaryError(f"Could not create “{name}”: {_describe(exc)}") from exc
        self._dicts[made.id] = made
        self._items[made.id] = local
        self._server[made.id] = _from_wire(made.items)
        self._checkers[made.id] = checker
        self.dictionaries_changed.emit()
        self.items_changed.emit(made.id)
        self.save_state_changed.emit(made.id)
        return made

    async def rename(self, dict_id: str, name: str) -> None:
        """Rename ``dict_id`` (``PATCH`` with the name only). A missing dictionary is
        renamed here only, for :meth:`recreate`.

        Raises:
            DictionaryError: a blank name, an unknown id, not connected, the server
                refused; :class:`DictionaryMissingError` when it is gone on the server.
        """
        current = self._known(dict_id)
        name = name.strip()
        if not name:
            raise DictionaryError("A dictionary needs a name")
        if dict_id not in self._missing:
            client = self._require_client()
            try:
                await client.pronunciation_dicts.update(dict_id, name=name)
            except NotFoundError as exc:
                self._set_missing(dict_id)
                raise self._missing_error(dict_id) from exc
            except CartesiaError as exc:
                raise DictionaryError(
                    f"Could not rename “{current.name}”: {_describe(exc)}") from exc
        if dict_id in self._dicts:
            self._dicts[dict_id] = dataclasses.replace(self._dicts[dict_id], name=name)
            self.dictionaries_changed.emit()

    async def delete(self, dict_id: str) -> None:
        """Delete ``dict_id`` (``DELETE /pronunciation-dicts/{id}``) and its local
        entries. One already gone on the server is only forgotten here.

        Raises:
            DictionaryError: an unknown id, not connected, or the server refused.
        """
        current = self._known(dict_id)
        if dict_id not in self._missing:
            client = self._require_client()
            saver = self._savers.get(dict_id)
            if saver is not None:
                saver.cancel()
            try:
                await client.pronunciation_dicts.delete(dict_id)
            except NotFoundError:
                log.info("dictionary %s was already deleted on the server", dict_id)
            except CartesiaError as exc:
                self._schedule_save(dict_id)  # a cancelled save must still happen
                raise DictionaryError(
                    f"Could not delete “{current.name}”: {_describe(exc)}") from exc
        self._forget(dict_id)

    async def pin(self, dict_id: str) -> None:
        """Pin ``dict_id`` (the dictionary generation applies first; SDK reference
        ``pronunciation_dicts.pin``), then list the dictionaries again to show which are
        pinned.

        Raises:
            DictionaryError: as :meth:`rename`.
        """
        await self._set_pinned(dict_id, True)

    async def unpin(self, dict_id: str) -> None:
        """Unpin ``dict_id``; as :meth:`pin`."""
        await self._set_pinned(dict_id, False)

    async def _set_pinned(self, dict_id: str, pinned: bool) -> None:
        current = self._known(dict_id)
        if dict_id in self._missing:
            raise self._missing_error(dict_id)
        client = self._require_client()
        try:
            if pinned:
                await client.pronunciation_dicts.pin(dict_id)
            else:
                await client.pronunciation_dicts.unpin(dict_id)
        except NotFoundError as exc:
            self._set_missing(dict_id)
            raise self._missing_error(dict_id) from exc
        except CartesiaError as exc:
            verb = "pin" if pinned else "unpin"
            raise DictionaryError(f"Could not {verb} “{current.name}”: {_describe(exc)}") from exc
        try:
            await self.refresh()
        except DictionaryError as exc:
            # The pin happened; show it even though the list could not be read again.
            log.warning("list after %s failed: %s", "pin" if pinned else "unpin", exc)
            self._dicts = {
                d: dataclasses.replace(entry, pinned=pinned if d == dict_id
                                       else entry.pinned and not pinned)
                for d, entry in self._dicts.items()}
            self.dictionaries_changed.emit()

    def adopt_missing(self, dict_id: str, name: str, items: Iterable[LexiconItem]) -> None:
        """Show ``dict_id``, which the server does not have, as missing with ``name`` and
        ``items`` (a project's copy of a dictionary deleted since it was last open), so
        :meth:`recreate` can make it again. Nothing happens for a listed id."""
        if dict_id in self._dicts or dict_id in self._deleted:
            return  # listed, or deleted or recreated here: not to be brought back
        items = tuple(items)
        self._dicts[dict_id] = PronunciationDict(dict_id, name, tuple(_to_wire(items)),
                                                 pinned=False, owner_id="", created_at="")
        self._items[dict_id] = tuple(items)
        self._missing.add(dict_id)
        self.dictionaries_changed.emit()
        self.items_changed.emit(dict_id)

    async def recreate(self, dict_id: str) -> PronunciationDict:
        """Make a new dictionary with the name and local entries of ``dict_id``, which
        was deleted on the server; forget ``dict_id`` and emit ``dictionary_recreated``.

        Raises:
            DictionaryError: not missing, not connected, or the server refused.
        """
        current = self._known(dict_id)
        if dict_id not in self._missing:
            raise DictionaryError(f"“{current.name}” still exists on the server")
        made = await self.create(current.name, self._items.get(dict_id, ()))
        # Users of the old id move to the new one first, so nothing still names the old
        # id when it is forgotten (the app would list it again as missing).
        self.dictionary_recreated.emit(dict_id, made.id)
        self._forget(dict_id)
        return made

    # --- saving entries ----------------------------------------------------------------

    def edit_items(self, dict_id: str, items: Iterable[LexiconItem]) -> None:
        """Set the entries of ``dict_id`` now (``items_changed`` is emitted before this
        returns) and save them in the background (module docstring: one request in
        flight per dictionary, the latest entries sent when it returns).

        Raises:
            DictionaryError: an unknown id.
        """
        self._known(dict_id)
        self._items[dict_id] = tuple(items)
        self.items_changed.emit(dict_id)
        self._schedule_save(dict_id)

    async def save_items(self, dict_id: str, items: Iterable[LexiconItem]) -> None:
        """:meth:`edit_items`, then wait until those entries are saved.

        Raises:
            DictionaryError: an unknown id, or the save failed (the entries stay here);
                :class:`DictionaryMissingError` when the dictionary is gone.
        """
        self.edit_items(dict_id, items)
        await self.wait_saved(dict_id)

    async def wait_saved(self, dict_id: str) -> None:
        """Send what is not saved of ``dict_id`` and wait for it.

        Raises:
            DictionaryError: the save failed, or there is no backend;
                :class:`DictionaryMissingError` when the dictionary is gone.
        """
        self._known(dict_id)
        if self.save_state(dict_id) in ("failed", "unsaved"):
            self._schedule_save(dict_id)
        while (task := self._savers.get(dict_id)) is not None and not task.done():
            await asyncio.wait({task})
        state = self.save_state(dict_id)
        if state == "missing":
            raise self._missing_error(dict_id)
        if state == "failed":
            raise DictionaryError(self._not_saved_sentence(dict_id))
        if state == "unsaved":
            self._require_client()
            raise DictionaryError("The dictionary could not be saved")

    def retry(self, dict_id: str | None = None) -> None:
        """Save again ``dict_id`` (default: every dictionary) if it is not saved."""
        for key in [dict_id] if dict_id is not None else list(self._dicts):
            if key in self._dicts and self.save_state(key) in ("failed", "unsaved"):
                self._schedule_save(key)

    def _schedule_save(self, dict_id: str) -> None:
        if self._client is None or dict_id in self._missing or dict_id not in self._items:
            self.save_state_changed.emit(dict_id)
            return
        task = self._savers.get(dict_id)
        if (task is None or task.done()) and dict_id not in self._failed \
                and self.sendable(dict_id) == self._server.get(dict_id):
            self.save_state_changed.emit(dict_id)  # nothing to send (an entry held back)
            return
        if task is None or task.done():
            task = self._tasks.start(self._save, dict_id)
            self._savers[dict_id] = task
            task.add_done_callback(lambda done: self._on_saver_done(dict_id, done))
        self.save_state_changed.emit(dict_id)

    def _on_saver_done(self, dict_id: str, task: asyncio.Task[None]) -> None:
        if self._savers.get(dict_id) is task:
            del self._savers[dict_id]
            self.save_state_changed.emit(dict_id)

    async def _save(self, dict_id: str) -> None:
        """Send the latest entries of ``dict_id`` until the server has them."""
        while dict_id in self._items and dict_id not in self._missing:
            sendable = self.sendable(dict_id)
            if sendable == self._server.get(dict_id):
                self._failed.pop(dict_id, None)
                return
            client = self._client
            if client is None:
                return  # "unsaved" until a backend is set again
            if self._failed.pop(dict_id, None) is not None:
                self.save_state_changed.emit(dict_id)
            try:
                updated = await client.pronunciation_dicts.update(dict_id,
                                                                  items=_to_wire(sendable))
            except NotFoundError:
                self._set_missing(dict_id)
                self._report_missing(dict_id)
                return
            except CartesiaError as exc:
                log.warning("saving dictionary %s failed: %s", dict_id, exc)
                self._failed[dict_id] = _describe(exc)
                self.error.emit(self._not_saved_sentence(dict_id))
                return
            if dict_id not in self._dicts:
                return  # deleted meanwhile
            self._server[dict_id] = _from_wire(updated.items)
            # Only the items: a rename answered meanwhile has the newer name.
            self._dicts[dict_id] = dataclasses.replace(self._dicts[dict_id],
                                                       items=updated.items)

    def _not_saved_sentence(self, dict_id: str) -> str:
        name = self._dicts[dict_id].name if dict_id in self._dicts else dict_id
        return (f"“{name}” not saved: {self._failed.get(dict_id, 'no backend')}. Your "
                "entries are kept here; they are sent again at your next change or Retry.")

    # --- missing dictionaries ------------------------------------------------------------

    def _known(self, dict_id: str) -> PronunciationDict:
        found = self._dicts.get(dict_id)
        if found is None:
            raise DictionaryError(f"No dictionary {dict_id!r} is listed")
        return found

    def _set_missing(self, dict_id: str) -> None:
        if dict_id in self._dicts and dict_id not in self._missing:
            self._missing.add(dict_id)
            self._failed.pop(dict_id, None)
            self.dictionaries_changed.emit()
            self.save_state_changed.emit(dict_id)

    def _missing_error(self, dict_id: str) -> DictionaryMissingError:
        name = self._dicts[dict_id].name if dict_id in self._dicts else dict_id
        count = len(self._items.get(dict_id, ()))
        return DictionaryMissingError(
            f"“{name}” was deleted on the server. Its {count} entries are kept here: "
            "Recreate saves them as a new dictionary.")

    def _report_missing(self, dict_id: str) -> None:
        self.error.emit(str(self._missing_error(dict_id)))

    def _forget(self, dict_id: str) -> None:
        saver = self._savers.pop(dict_id, None)
        if saver is not None:
            saver.cancel()
        self._dicts.pop(dict_id, None)
        self._items.pop(dict_id, None)
        self._server.pop(dict_id, None)
        self._checkers.pop(dict_id, None)
        self._sendable.pop(dict_id, None)
        self._failed.pop(dict_id, None)
        self._missing.discard(dict_id)
        self._deleted.add(dict_id)
        self.dictionaries_changed.emit()
        self.items_changed.emit(dict_id)
        self.save_state_changed.emit(dict_id)

    # --- IPA and listening -------------------------------------------------------------

    async def suggest_ipa(self, text: str, language: str = "en") -> str:
        """An IPA alias for ``text`` in Cartesia's form (``"Cartesia"`` →
        ``"<<k|ɑː|ɹ|ˈ|t|iː|ʒ|ə>>"``), from espeak-ng's text-to-phonemes
        (``studio.offline.espeak.text_to_ipa``, offline, in a worker thread) with the
        espeak voice of ``language`` (:func:`espeak_voice_for`); a starting point the
        user edits. Needs no backend.

        Raises:
            DictionaryError: empty text, no espeak voice for the language, or espeak-ng
                failing.
        """
        text = text.strip()
        if not text:
            raise DictionaryError("Type the entry's text first: Suggest proposes IPA for it")
        voice = espeak_voice_for(language)
        from studio.offline import espeak

        to_ipa = getattr(espeak, "text_to_ipa", None)
        if to_ipa is None:
            raise DictionaryError("IPA suggestions need espeak-ng's text-to-phonemes, which "
                                  "this installation does not have")
        try:
            ipa = await in_thread(to_ipa, text, voice)
        except (espeak.EspeakError, OSError, ValueError) as exc:
            raise DictionaryError(f"espeak-ng could not transcribe {text!r}: {exc}") from exc
        return ipa_alias(ipa)

    async def say_it(self, dict_id: str, text: str, voice_id: str,
                     model_id: str = DEFAULT_MODEL,
                     language: str = "en") -> tuple[FloatArray, FloatArray, int]:
        """``text`` spoken by ``voice_id`` without and with ``dict_id``: two ``POST
        /tts/bytes`` requests alike but for ``pronunciation_dict_id``, as WAV
        (:data:`SAY_IT_FORMAT`), sent together. Unsaved edits are saved first, so "with"
        applies what the user sees (less the entries held back for errors).

        Returns:
            ``(without, with_dictionary, sample_rate)``: float32 mono arrays, shape
            ``(frames,)``, at ``sample_rate`` Hz.

        Raises:
            DictionaryError: empty text, no voice, not connected, the save or a render
                failed, audio that cannot be decoded; :class:`DictionaryMissingError`
                when the dictionary is gone on the server.
        """
        if not text.strip():
            raise DictionaryError("Type a sentence to say")
        if not voice_id:
            raise DictionaryError("Choose a voice to say it")
        client = self._require_client()
        self._known(dict_id)
        await self.wait_saved(dict_id)
        request = TTSRequest(transcript=text.strip(), voice_id=voice_id, model_id=model_id,
                             language=language or None, output_format=SAY_IT_FORMAT)
        try:
            plain, applied = await asyncio.gather(
                client.tts.bytes(request),
                client.tts.bytes(dataclasses.replace(request, pronunciation_dict_id=dict_id)))
        except NotFoundError as exc:
            raise DictionaryError(f"Could not say it: {_describe(exc)} (is the voice or the "
                                  "dictionary gone?)") from exc
        except CartesiaError as exc:
            raise DictionaryError(f"Could not say it: {_describe(exc)}") from exc
        try:
            without, rate = await in_thread(decode_audio_bytes, plain)
            with_dictionary, rate_with = await in_thread(decode_audio_bytes, applied)
        except AudioFileError as exc:
            raise DictionaryError(f"The rendered audio cannot be read ({exc})") from exc
        if rate_with != rate:
            raise DictionaryError(f"The two renders came back at different sample rates "
                                  f"({rate} and {rate_with} Hz)")
        return without, with_dictionary, rate

    def _on_task_failed(self, exc: Exception) -> None:
        self.error.emit(f"Saving a dictionary failed: {exc}")

    # --- lifetime ------------------------------------------------------------------------

    async def wait_idle(self) -> None:
        """Return once every background save has ended (tests, shutdown)."""
        await self._tasks.wait_idle()

    def shutdown(self) -> None:
        """Cancel background saves; for the app's shutdown (ask first if
        :meth:`unsaved` says entries would be lost)."""
        self._tasks.cancel()
