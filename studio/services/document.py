"""The open script as a QObject: owns the blocks and announces every change.

Views never change blocks directly; they call these methods and redraw from the
signals (napari's model/view split, STYLE.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from studio.api.models import supports_pronunciation_dicts
from studio.project.cache import TakeIndex
from studio.project.cast import CastEntry, speakers_in_order
from studio.project.lexicon import LexiconItem
from studio.project.model import NO_DICTIONARY, Block, DictionaryUse, Take
from studio.project.pronounce import Matcher

if TYPE_CHECKING:
    from studio.project.edits import Clip


class ScriptDocument(QObject):
    """An ordered list of blocks with their takes.

    Signals:
        block_inserted(int index, str block_id)
        blocks_inserted(int index, int count): several blocks at once (an import, a
            paste, an undone removal): ``count`` blocks from ``index`` on.
        block_removed(int index, str block_id)
        blocks_removed(list removed): several blocks at once; ``removed`` holds
            ``(index, block_id)`` pairs, highest index first (each index as it was
            just before that block went).
        block_moved(int from_index, int to_index)
        block_changed(str block_id): text, voice or delivery changed.
        take_added(str block_id, str take_id): also when a removed take comes back.
        take_removed(str block_id, str take_id)
        take_changed(str block_id, str take_id): renamed, (un)starred or edited.
        clip_added(str take_id, str clip_id): an infill candidate or pasted audio was
            made for a take (it is kept, accepted or not).
        take_selected(str block_id, str take_id): ``""`` when none is selected.
        reset(): the whole script was replaced (a project was opened); views rebuild.
        pronunciation_changed(): the project's dictionary, or the known entries of a
            dictionary, changed: highlighting and which takes are current may change.
        project_dictionary_changed(str dict_id): the project's dictionary is now
            ``dict_id`` ("" for none); ``pronunciation_changed`` follows.
        cast_changed(): a speaker's cast entry was added, changed or removed.

    Pronunciation: the project names one dictionary (:attr:`pronunciation_dict_id`, ""
    for none) and a block may override it (``Block.pronunciation_dict_id``). The
    document also keeps the entries of the dictionaries it knows
    (:meth:`set_dictionary`: loaded from the backend, or the copy kept in the project
    file), so it can tell which takes an edit to a dictionary makes out of date.
    """

    block_inserted = Signal(int, str)
    blocks_inserted = Signal(int, int)
    block_removed = Signal(int, str)
    blocks_removed = Signal(list)
    cast_changed = Signal()
    block_moved = Signal(int, int)
    block_changed = Signal(str)
    take_added = Signal(str, str)
    take_removed = Signal(str, str)
    take_changed = Signal(str, str)
    take_selected = Signal(str, str)
    clip_added = Signal(str, str)
    reset = Signal()
    pronunciation_changed = Signal()
    project_dictionary_changed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._blocks: list[Block] = []
        self._by_id: dict[str, Block] = {}
        # block id -> position; rebuilt on demand after the order changed, so typing in
        # a 10 000-block script finds its block's number without a scan.
        self._positions: dict[str, int] | None = None
        self._cast: dict[str, CastEntry] = {}
        self._takes_by_key = TakeIndex()
        self._clips: dict[str, list[Clip]] = {}
        self._dict_id = ""
        #: dictionary id -> (name, its entries indexed for matching)
        self._dictionaries: dict[str, tuple[str, Matcher]] = {}
        self._available: set[str] | None = None  # ids the backend has; None: unknown

    # --- pronunciation -----------------------------------------------------------

    @property
    def pronunciation_dict_id(self) -> str:
        """The project's pronunciation dictionary ("" for none)."""
        return self._dict_id

    def set_project_dictionary(self, dict_id: str) -> None:
        """Choose the project's dictionary ("" for none); blocks without their own
        choice follow it."""
        if dict_id != self._dict_id:
            self._dict_id = dict_id
            self.project_dictionary_changed.emit(dict_id)
            self.pronunciation_changed.emit()

    def dictionary_id_for(self, block: Block) -> str:
        """The dictionary ``block`` is generated with: its own choice, else the
        project's ("" for none)."""
        if block.pronunciation_dict_id is not None:
            return block.pronunciation_dict_id
        return self._dict_id

    def dictionary_use(self, block: Block) -> DictionaryUse:
        """The dictionary ``block`` is generated with, with its entries if known; none
        for a model without dictionaries (:func:`supports_pronunciation_dicts`)."""
        if not supports_pronunciation_dicts(block.model_id):
            return NO_DICTIONARY
        dict_id = self.dictionary_id_for(block)
        known = self._dictionaries.get(dict_id)
        return DictionaryUse(dict_id, known[1] if known else None)

    def set_dictionary(self, dict_id: str, name: str, items: Sequence[LexiconItem]) -> None:
        """Record the name and entries of dictionary ``dict_id``."""
        self.set_dictionaries({dict_id: (name, items)})

    def set_dictionaries(self, dictionaries: Mapping[str, tuple[str, Sequence[LexiconItem]]],
                         available: Iterable[str] | None = None) -> None:
        """Record names and entries of dictionaries, and with ``available`` the ids of
        every dictionary the backend has, so any other known one is missing there
        (:meth:`is_available`). Emits ``pronunciation_changed`` once, if anything changed."""
        changed = False
        for dict_id, (name, items) in dictionaries.items():
            items = tuple(items)
            known = self._dictionaries.get(dict_id)
            if known is None or known[0] != name or known[1].items != items:
                self._dictionaries[dict_id] = (name, Matcher(items))
                changed = True
        if available is not None and set(available) != self._available:
            self._available = set(available)
            changed = True
        if changed:
            self.pronunciation_changed.emit()

    def forget_backend_dictionaries(self) -> None:
        """The backend went away: which dictionaries it has is unknown again."""
        if self._available is not None:
            self._available = None
            self.pronunciation_changed.emit()

    def is_available(self, dict_id: str) -> bool | None:
        """Whether the backend has dictionary ``dict_id`` (``None``: not known yet)."""
        return None if self._available is None else dict_id in self._available

    def dictionary_choices(self) -> list[tuple[str, str, bool]]:
        """``(id, name, on the backend)`` of every known dictionary, by name; a
        dictionary the project uses but the backend lacks is listed as not there."""
        choices = [(dict_id, name, self.is_available(dict_id) is not False)
                   for dict_id, (name, _matcher) in self._dictionaries.items()
                   if self._available is None or dict_id in self._available
                   or dict_id in self.dictionaries_in_use()]
        return sorted(choices, key=lambda c: (c[1].casefold(), c[0]))

    def dictionary(self, dict_id: str) -> tuple[str, tuple[LexiconItem, ...]] | None:
        """The known ``(name, entries)`` of dictionary ``dict_id``, or ``None``."""
        known = self._dictionaries.get(dict_id)
        return None if known is None else (known[0], known[1].items)

    def dictionaries_in_use(self) -> list[str]:
        """Ids of the dictionaries the project or any block names, project's first."""
        ids = [self._dict_id] + [b.pronunciation_dict_id or "" for b in self._blocks]
        return [i for i in dict.fromkeys(ids) if i]

    def is_current(self, block: Block, take: Take) -> bool:
        """Whether ``take`` matches ``block``'s text, voice, delivery and dictionary
        entries now (:meth:`Block.matches`)."""
        return block.matches(take, self.dictionary_use(block))

    def needs_take(self, block: Block) -> bool:
        """Whether "Generate all" would render ``block`` (:meth:`Block.needs_take`)."""
        return block.needs_take(self.dictionary_use(block))

    def open_pronunciation(self, dict_id: str,
                           copies: Mapping[str, tuple[str, Sequence[LexiconItem]]]) -> None:
        """A project was opened: adopt its dictionary choice, and the copies it keeps of
        the dictionaries it uses where the backend's own are not known (the backend's
        are newer). Emits ``pronunciation_changed``."""
        self._dict_id = dict_id
        for copy_id, (name, items) in copies.items():
            if copy_id not in self._dictionaries:
                self._dictionaries[copy_id] = (name, Matcher(tuple(items)))
        self.project_dictionary_changed.emit(dict_id)
        self.pronunciation_changed.emit()

    # --- the cast ----------------------------------------------------------------

    @property
    def cast(self) -> list[CastEntry]:
        """The cast entries in the order they were added."""
        return list(self._cast.values())

    def cast_entry(self, speaker: str) -> CastEntry | None:
        """``speaker``'s entry, or ``None`` when the speaker is not cast yet."""
        return self._cast.get(speaker)

    def set_cast_entry(self, entry: CastEntry) -> None:
        """Add or replace the entry of ``entry.speaker``; blocks are not changed here
        (the editor applies the :mod:`studio.project.cast` rule). Emits
        ``cast_changed`` on a change."""
        if self._cast.get(entry.speaker) != entry:
            self._cast[entry.speaker] = entry
            self.cast_changed.emit()

    def remove_cast_entry(self, speaker: str) -> CastEntry | None:
        """Drop ``speaker``'s entry and return it (``None``: there was none)."""
        entry = self._cast.pop(speaker, None)
        if entry is not None:
            self.cast_changed.emit()
        return entry

    def speakers(self) -> list[str]:
        """Every speaker of the script in the order they first speak, then cast
        speakers with no block."""
        return list(dict.fromkeys([*speakers_in_order(self._blocks), *self._cast]))

    # --- reading ---------------------------------------------------------------

    @property
    def blocks(self) -> list[Block]:
        """The blocks in script order (a copy of the list; the blocks themselves)."""
        return list(self._blocks)

    def __len__(self) -> int:
        return len(self._blocks)

    def block_at(self, index: int) -> Block:
        """The block at ``index`` in script order, without copying the list (a view
        painting one row of a 10 000-block script).

        Raises:
            IndexError: no such position.
        """
        if index < 0:
            raise IndexError(index)
        return self._blocks[index]

    def block(self, block_id: str) -> Block:
        """The block with ``block_id``.

        Raises:
            KeyError: no such block.
        """
        return self._by_id[block_id]

    def has_block(self, block_id: str) -> bool:
        """Whether ``block_id`` is in the script."""
        return block_id in self._by_id

    def index_of(self, block_id: str) -> int:
        """Position of ``block_id`` in the script, from 0.

        Raises:
            KeyError: no such block.
        """
        self.block(block_id)
        if self._positions is None:
            self._positions = {b.id: i for i, b in enumerate(self._blocks)}
        return self._positions[block_id]

    def has_selected_takes(self) -> bool:
        """Whether any block has a selected take: stops at the first (the window asks
        at every keystroke, so this must not build :meth:`selected_takes`' list)."""
        return any(block.selected_take_id is not None for block in self._blocks)

    def selected_takes(self) -> list[Take]:
        """Selected takes in script order; blocks with none are skipped."""
        return [t for t in (b.selected_take for b in self._blocks) if t is not None]

    def take(self, block_id: str, take_id: str) -> Take:
        """The take ``take_id`` of ``block_id``.

        Raises:
            KeyError: no such block or take.
        """
        for take in self.block(block_id).takes:
            if take.id == take_id:
                return take
        raise KeyError(take_id)

    # --- the take cache --------------------------------------------------------

    def has_take_with_key(self, key: str) -> bool:
        """Whether any take in the script has cache key ``key`` (never for "", never a
        damaged take)."""
        return bool(key) and key in self._takes_by_key and bool(self._with_key(key))

    def cached_take(self, key: str, prefer_block: str = "") -> tuple[Block, Take] | None:
        """A take with cache key ``key``, or ``None``: a take of ``prefer_block`` wins
        over an identical one elsewhere, and a starred or selected take over others, so
        reuse lands on the take the user cares about; among equals, the first in script
        order. Costs the takes with that key (:class:`~studio.project.cache.TakeIndex`).
        """
        def rank(hit: tuple[Block, Take]) -> int:
            block, take = hit
            return ((4 if block.id == prefer_block else 0) + (2 if take.starred else 0)
                    + (1 if take.id == block.selected_take_id else 0))

        hits = self._with_key(key)
        if not hits:
            return None
        top = max(map(rank, hits))
        best = [hit for hit in hits if rank(hit) == top]
        if len(best) > 1:  # rare: identical takes in several blocks; script order decides
            order = {block.id: i for i, block in enumerate(self._blocks)}
            best.sort(key=lambda hit: (order[hit[0].id],
                                      next(i for i, t in enumerate(hit[0].takes) if t is hit[1])))
        return best[0]

    def newest_take_with_key(self, key: str, exclude_block: str = "") -> tuple[Block, Take] | None:
        """The newest take with cache key ``key`` outside ``exclude_block``, or ``None``."""
        found = [(b, t) for b, t in self._with_key(key) if b.id != exclude_block]
        return max(found, key=lambda hit: hit[1].created_at) if found else None

    def _with_key(self, key: str) -> list[tuple[Block, Take]]:
        out = []
        for block_id, take_id in self._takes_by_key.takes(key) if key else ():
            block = self._by_id.get(block_id)
            take = next((t for t in block.takes if t.id == take_id), None) if block else None
            if block is not None and take is not None and not take.damaged:
                out.append((block, take))
        return out

    # --- changing --------------------------------------------------------------

    def add_block(self, index: int | None = None, **fields: Any) -> Block:
        """Insert a new block at ``index`` (default: the end) and return it."""
        return self.insert_block(Block(**fields), index)

    def insert_block(self, block: Block, index: int | None = None) -> Block:
        """Insert an existing ``block`` (with its takes) at ``index`` (default: the end);
        undo uses this to bring a removed block back.

        Raises:
            ValueError: a block with the same id is already in the script.
        """
        if self.has_block(block.id):
            raise ValueError(f"block {block.id} is already in the script")
        index = len(self._blocks) if index is None else max(0, min(index, len(self._blocks)))
        self._blocks.insert(index, block)
        self._by_id[block.id] = block
        self._positions = None
        self._takes_by_key.add_block(block)
        self.block_inserted.emit(index, block.id)
        return block

    def insert_blocks(self, blocks: Sequence[Block], index: int | None = None) -> int:
        """Insert ``blocks`` (with their takes) in order at ``index`` (default: the
        end) and emit ``blocks_inserted`` once; returns the index of the first.

        Raises:
            ValueError: a block is already in the script (nothing is inserted).
        """
        ids = [block.id for block in blocks]
        if len(set(ids)) != len(ids) or any(i in self._by_id for i in ids):
            raise ValueError("a block is already in the script")
        index = len(self._blocks) if index is None else max(0, min(index, len(self._blocks)))
        if not blocks:
            return index
        self._blocks[index:index] = blocks
        for block in blocks:
            self._by_id[block.id] = block
            self._takes_by_key.add_block(block)
        self._positions = None
        self.blocks_inserted.emit(index, len(blocks))
        return index

    def remove_blocks(self, block_ids: Iterable[str]) -> list[tuple[int, Block]]:
        """Remove several blocks with their takes and emit ``blocks_removed`` once.
        Returns ``(index, block)`` pairs in script order, each index as it was before
        any went (so inserting them back in that order restores the script).

        Raises:
            KeyError: no such block (nothing is removed).
        """
        wanted = set(block_ids)
        for block_id in wanted:
            self.block(block_id)
        removed = [(i, b) for i, b in enumerate(self._blocks) if b.id in wanted]
        if not removed:
            return []
        self._blocks = [b for b in self._blocks if b.id not in wanted]
        for _index, block in removed:
            del self._by_id[block.id]
            self._takes_by_key.discard_block(block)
        self._positions = None
        # Highest index first: each index is then still right when its block goes.
        self.blocks_removed.emit([(i, b.id) for i, b in reversed(removed)])
        return removed

    def replace_script(self, blocks: list[Block],
                       clips: dict[str, list[Clip]] | None = None,
                       cast: Sequence[CastEntry] = ()) -> None:
        """Replace every block (and the clips made for their takes, and the cast) at
        once (opening a project) and emit ``reset``."""
        self._blocks = list(blocks)
        self._by_id = {block.id: block for block in self._blocks}
        self._positions = None
        self._cast = {entry.speaker: entry for entry in cast}
        self._takes_by_key.clear()
        for block in self._blocks:
            self._takes_by_key.add_block(block)
        self._clips = {k: list(v) for k, v in (clips or {}).items()}
        self.reset.emit()

    def clips_of(self, take_id: str) -> list[Clip]:
        """The clips made for ``take_id`` (infill candidates, pasted audio), oldest first."""
        return list(self._clips.get(take_id, ()))

    def clip(self, clip_id: str) -> Clip:
        """Raises KeyError: no such clip."""
        for clips in self._clips.values():
            for clip in clips:
                if clip.id == clip_id:
                    return clip
        raise KeyError(clip_id)

    def find_clip(self, matches: Callable[[Clip], bool]) -> Clip | None:
        """The newest clip of any take for which ``matches(clip)`` is true, or None."""
        found = [clip for clips in self._clips.values() for clip in clips if matches(clip)]
        return max(found, key=lambda clip: clip.created_at) if found else None

    def add_clip(self, clip: Clip) -> None:
        """Keep ``clip`` with the take it was made for (``clip.take_id``)."""
        self._clips.setdefault(clip.take_id, []).append(clip)
        self.clip_added.emit(clip.take_id, clip.id)

    def remove_block(self, block_id: str) -> Block:
        """Remove ``block_id`` with its takes and return it.

        Raises:
            KeyError: no such block.
        """
        index = self.index_of(block_id)
        block = self._blocks.pop(index)
        del self._by_id[block_id]
        self._positions = None
        self._takes_by_key.discard_block(block)
        self.block_removed.emit(index, block_id)
        return block

    def move_block(self, block_id: str, to_index: int) -> None:
        """Move ``block_id`` to ``to_index`` (clamped to the script).

        Raises:
            KeyError: no such block.
        """
        from_index = self.index_of(block_id)
        to_index = max(0, min(to_index, len(self._blocks) - 1))
        if to_index == from_index:
            return
        self._blocks.insert(to_index, self._blocks.pop(from_index))
        self._positions = None
        self.block_moved.emit(from_index, to_index)

    def update_block(self, block_id: str, **changes: Any) -> None:
        """Set fields of a block (``text``, ``voice_id``, ``model_id``, ``language``,
        ``emotion``, ``speed``, ``volume``, ``pronunciation_dict_id``, ``chapter``,
        ``speaker``, ``flag``, ``locked``, ``cue_start``); emits ``block_changed`` only
        on a change. Locks are the editor's to enforce (this is also how undo and
        generation reach the block)."""
        block = self.block(block_id)
        changed = False
        for name, value in changes.items():
            if name in ("id", "takes", "selected_take_id") or not hasattr(block, name):
                raise AttributeError(f"cannot set block field {name!r}")
            if getattr(block, name) != value:
                setattr(block, name, value)
                changed = True
        if changed:
            self.block_changed.emit(block_id)

    def add_take(self, block_id: str, take: Take, select: bool = True,
                 index: int | None = None) -> None:
        """Add ``take`` to ``block_id`` at ``index`` (default: last) and select it.

        Raises:
            KeyError: no such block.
        """
        block = self.block(block_id)
        block.takes.insert(len(block.takes) if index is None else index, take)
        self._takes_by_key.add(block_id, take)
        self.take_added.emit(block_id, take.id)
        if select:
            self.select_take(block_id, take.id)

    def remove_take(self, block_id: str, take_id: str) -> int:
        """Take ``take_id`` out of its block and return the index it had. If it was
        selected, the newest remaining take is selected instead (or none).

        Raises:
            KeyError: no such block or take.
        """
        block = self.block(block_id)
        take = self.take(block_id, take_id)
        index = block.takes.index(take)
        del block.takes[index]
        self._takes_by_key.discard(take_id)
        self.take_removed.emit(block_id, take_id)
        if block.selected_take_id == take_id:
            self.select_take(block_id, block.takes[-1].id if block.takes else None)
        return index

    def update_take(self, block_id: str, take_id: str, **changes: Any) -> Take:
        """Set ``name``, ``starred``, ``edits``, ``text`` or ``dictionary`` of a take (a new frozen
        ``Take`` with the same audio replaces it); emits ``take_changed`` on a change. Returns the
        take.

        Raises:
            KeyError: no such block or take.
            AttributeError: another field was named (a take's audio never changes).
        """
        for name in changes:
            if name not in ("name", "starred", "edits", "text", "dictionary"):
                raise AttributeError(f"cannot set take field {name!r}")
        block = self.block(block_id)
        take = self.take(block_id, take_id)
        new = replace(take, **changes)
        if new != take:
            block.takes[block.takes.index(take)] = new
            self.take_changed.emit(block_id, take_id)
        return new

    def select_take(self, block_id: str, take_id: str | None) -> None:
        block = self.block(block_id)
        if take_id is not None and all(t.id != take_id for t in block.takes):
            raise KeyError(take_id)
        if block.selected_take_id != take_id:
            block.selected_take_id = take_id
            self.take_selected.emit(block_id, take_id or "")

    def clear(self) -> None:
        while self._blocks:
            self.remove_block(self._blocks[-1].id)
