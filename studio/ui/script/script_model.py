"""The script as a list model: one row per block of a :class:`ScriptDocument`.

The model keeps its own list of block ids, changed inside Qt's begin/end calls as the
document's signals arrive, so a view never sees a row count the model has not
announced (the document changes first and signals after). Reading a row is a lookup
by id (:meth:`ScriptDocument.block`), never a copy of the script.

It also holds what the script view shows besides the blocks themselves: the status
line of each block (set by the main window: queued, generating, ready, failed), which
blocks are generating and which one is playing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from studio.project.model import Block, DictionaryUse, Take
from studio.services.document import ScriptDocument

AnyIndex = QModelIndex | QPersistentModelIndex


class Role(IntEnum):
    """Item data roles of :class:`ScriptModel` (Qt's ``DisplayRole`` is the text)."""

    BLOCK_ID = Qt.ItemDataRole.UserRole + 1
    #: The :class:`~studio.project.model.Block` itself (read-only use).
    BLOCK = Qt.ItemDataRole.UserRole + 2
    #: The row's :class:`Status`, or ``None``.
    STATUS = Qt.ItemDataRole.UserRole + 3
    GENERATING = Qt.ItemDataRole.UserRole + 4
    PLAYING = Qt.ItemDataRole.UserRole + 5
    #: 1-based position in the whole script (the same under a filter).
    NUMBER = Qt.ItemDataRole.UserRole + 6


@dataclass(frozen=True, slots=True)
class Status:
    """A block's status line.

    Attributes:
        text: what it says ("" for nothing).
        error: shown red.
        warning: shown amber.
        take_id: the take the line is about; the line clears once another take is
            selected ("Take 4 ready" no longer describes the block then).
    """

    text: str
    error: bool = False
    warning: bool = False
    take_id: str = ""


def out_of_date_message(document: ScriptDocument, block: Block) -> str:
    """Why the block's selected take is out of date (its text or settings, or its
    dictionary, naming the entries that changed) and what Generate will do about it;
    "" when the take is current or there is none."""
    take = block.selected_take
    if take is None or document.is_current(block, take):
        return ""
    return _out_of_date_message(document, block, take)


def _out_of_date_message(document: ScriptDocument, block: Block, take: Take) -> str:
    own_dict = str(take.request.get("pronunciation_dict_id") or "")
    if block.matches(take, DictionaryUse(own_dict)):  # only the dictionary differs
        applied = document.dictionary_use(block).applied(take.spoken_text) or ()
        changed = sorted({i.text for i in set(applied) ^ set(take.dictionary)})
        names = ", ".join(f"“{text}”" for text in changed[:3])
        more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        reason = f"Dictionary changed for {names}{more}" if names else "Dictionary changed"
    else:
        reason = "Edited"
    earlier = next((t for t in reversed(block.takes)
                    if t is not take and document.is_current(block, t)), None)
    if earlier is not None:
        return f"{reason} since {take.name}; {earlier.name} matches: Generate uses it, free"
    return f"{reason} since {take.name}: generate again for a new take"


class ScriptModel(QAbstractListModel):
    """One row per block, in script order.

    Attributes:
        document: the :class:`ScriptDocument` shown.
    """

    def __init__(self, document: ScriptDocument, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self._ids: list[str] = [document.block_at(i).id for i in range(len(document))]
        self._status: dict[str, Status] = {}
        #: The out-of-date message last seen per block: an explicit status gives way
        #: when it changes (an edit made the "ready" take stale, or current again).
        self._stale: dict[str, str] = {}
        self._generating: set[str] = set()
        self._playing = ""
        document.block_inserted.connect(self._on_block_inserted)
        document.blocks_inserted.connect(self._on_blocks_inserted)
        document.block_removed.connect(self._on_block_removed)
        document.blocks_removed.connect(self._on_blocks_removed)
        document.block_moved.connect(self._on_block_moved)
        document.block_changed.connect(self._on_block_changed)
        for signal in (document.take_added, document.take_removed, document.take_changed,
                       document.take_selected):
            signal.connect(self._on_take_event)
        document.reset.connect(self._on_reset)
        document.pronunciation_changed.connect(self._on_pronunciation_changed)

    # --- Qt's model interface ----------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemIsEditable)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        block_id = self._ids[index.row()]
        if role == Role.BLOCK_ID:
            return block_id
        if role == Role.NUMBER:
            return index.row() + 1
        if role == Role.STATUS:
            return self._status.get(block_id)
        if role == Role.GENERATING:
            return block_id in self._generating
        if role == Role.PLAYING:
            return block_id == self._playing
        if role == Role.BLOCK:
            return self.document.block(block_id)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return self.document.block(block_id).text
        return None

    # --- reading -----------------------------------------------------------------

    @property
    def ids(self) -> list[str]:
        """The block ids by row (the model's own list: read, do not change)."""
        return self._ids

    def block_id(self, row: int) -> str:
        return self._ids[row]

    def row_of(self, block_id: str) -> int:
        """The row of ``block_id``; -1 when it is not in the script."""
        return self.document.index_of(block_id) if self.document.has_block(block_id) else -1

    def index_of(self, block_id: str) -> QModelIndex:
        """The index of ``block_id`` (invalid when it is not in the script)."""
        row = self.row_of(block_id)
        return self.index(row, 0) if row >= 0 else QModelIndex()

    def status(self, block_id: str) -> Status | None:
        return self._status.get(block_id)

    def status_text(self, block_id: str) -> Status:
        """The block's status line as the inspector shows it: the status set last, else
        why its take is out of date (amber), else nothing."""
        status = self._status.get(block_id)
        if status is not None and (status.text or block_id in self._generating):
            return status
        block = self.document.block(block_id)
        stale = out_of_date_message(self.document, block)
        return Status(stale, warning=bool(stale))

    def is_generating(self, block_id: str) -> bool:
        return block_id in self._generating

    @property
    def playing(self) -> str:
        return self._playing

    # --- what the window says about blocks ----------------------------------------

    def set_status(self, block_id: str, status: Status) -> None:
        """Show ``status`` on ``block_id``'s state line (unknown blocks are ignored: a
        job can report on a block just removed)."""
        if not self.document.has_block(block_id):
            return
        if status.text:
            if block_id not in self._stale:  # what an edit must change to clear it
                self._stale[block_id] = out_of_date_message(
                    self.document, self.document.block(block_id))
            self._status[block_id] = status
        else:
            self._status.pop(block_id, None)
        self._changed(block_id)

    def set_generating(self, block_id: str, generating: bool) -> None:
        """Mark a job on ``block_id`` as running or over. When it is over the status
        line shows why the selected take is out of date, if it is."""
        if not self.document.has_block(block_id):
            return
        if generating:
            self._generating.add(block_id)
            self._status[block_id] = Status("Generating…")
        else:
            self._generating.discard(block_id)
            self._stale.pop(block_id, None)
            self._check_stale(block_id)
        self._changed(block_id)

    def set_playing(self, block_id: str) -> None:
        """Paint the playhead on ``block_id`` ("" for none)."""
        old, self._playing = self._playing, block_id
        for changed in {old, block_id} - {""}:
            self._changed(changed)

    # --- from the document ----------------------------------------------------------

    def _changed(self, block_id: str) -> None:
        row = self.row_of(block_id)
        if row >= 0:
            index = self.index(row, 0)
            self.dataChanged.emit(index, index)

    def _check_stale(self, block_id: str) -> None:
        """Clear the status the window set once the block's out-of-date message
        changes (as the per-block form did), unless a job is running on it."""
        if block_id in self._generating or not self.document.has_block(block_id):
            return
        block = self.document.block(block_id)
        message = out_of_date_message(self.document, block)
        if self._stale.get(block_id, "") != message:
            self._stale[block_id] = message
            self._status.pop(block_id, None)
        status = self._status.get(block_id)
        if status is not None and status.take_id and status.take_id != block.selected_take_id:
            del self._status[block_id]

    def _forget(self, block_id: str) -> None:
        self._status.pop(block_id, None)
        self._stale.pop(block_id, None)
        self._generating.discard(block_id)
        if self._playing == block_id:
            self._playing = ""

    def _on_block_inserted(self, index: int, block_id: str) -> None:
        self.beginInsertRows(QModelIndex(), index, index)
        self._ids.insert(index, block_id)
        self.endInsertRows()

    def _on_blocks_inserted(self, index: int, count: int) -> None:
        if count <= 0:
            return
        self.beginInsertRows(QModelIndex(), index, index + count - 1)
        self._ids[index:index] = [self.document.block_at(i).id
                                  for i in range(index, index + count)]
        self.endInsertRows()

    def _on_block_removed(self, index: int, block_id: str) -> None:
        self.beginRemoveRows(QModelIndex(), index, index)
        del self._ids[index]
        self.endRemoveRows()
        self._forget(block_id)

    def _on_blocks_removed(self, removed: list[tuple[int, str]]) -> None:
        """Rows go in runs (the list comes highest first): one signal per run of
        neighbours, so removing a chapter is one update of the view."""
        runs: list[list[int]] = []
        for index, block_id in sorted(removed, reverse=True):
            self._forget(block_id)
            if runs and runs[-1][0] == index + 1:
                runs[-1][0] = index
            else:
                runs.append([index, index])
        for first, last in runs:
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._ids[first:last + 1]
            self.endRemoveRows()

    def _on_block_moved(self, from_index: int, to_index: int) -> None:
        # Qt's destination is the row the moved one goes before, in the old order.
        destination = to_index + 1 if to_index > from_index else to_index
        self.beginMoveRows(QModelIndex(), from_index, from_index, QModelIndex(), destination)
        self._ids.insert(to_index, self._ids.pop(from_index))
        self.endMoveRows()

    def _on_block_changed(self, block_id: str) -> None:
        self._check_stale(block_id)
        self._changed(block_id)

    def _on_take_event(self, block_id: str, _take_id: str) -> None:
        if self.document.has_block(block_id):
            self._check_stale(block_id)
            self._changed(block_id)

    def _on_pronunciation_changed(self) -> None:
        # Only blocks with a status line need the check (the rest paint their state
        # from the document when shown): no matching over the whole script here.
        for block_id in list(self._status):
            self._check_stale(block_id)
        if self._ids:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._ids) - 1, 0))

    def _on_reset(self) -> None:
        self.beginResetModel()
        self._ids = [self.document.block_at(i).id for i in range(len(self.document))]
        self._status.clear()
        self._stale.clear()
        self._generating.clear()
        self._playing = ""
        self.endResetModel()
