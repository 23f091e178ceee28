"""What the Editor panel shows, worked out off the UI thread: a take as edited with its
peak pyramid, the whole script mixed down with the pause between blocks, and the words
of a take that has no word timestamps, found by alignment with its transcript.

Reading a take (it may come from the project file), applying its edits, building the
pyramid and aligning words are slow, so they run in a worker thread (STYLE.md, napari);
the panel asks, and renders what comes back. Words found by alignment are kept per take
for the life of this object (they are for display only: the take is never changed).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from PySide6.QtCore import QObject, Signal

from studio.audio.peaks import PeakPyramid
from studio.project.edited_audio import edited
from studio.project.edits import Edited
from studio.project.export import mixdown
from studio.project.model import Block, Take
from studio.services.tasks import TaskGroup
from studio.services.threads import in_thread
from studio.timestamps import PhonemeTimestamps, WordTimestamps

log = logging.getLogger(__name__)

#: Takes longer than this are not aligned automatically (pocketsphinx would take
#: minutes); they are still edited by dragging on the waveform.
ALIGN_LIMIT_SECONDS = 600.0



@dataclass(frozen=True, slots=True)
class ShownTake:
    """A take ready to draw.

    Attributes:
        take: the take, with the words alignment found if it had none.
        edited: its audio as edited (what plays and exports).
        pyramid: the peak pyramid of ``edited.audio``.
        aligned: the words came from alignment.
    """

    take: Take
    edited: Edited
    pyramid: PeakPyramid
    aligned: bool


@dataclass(frozen=True, slots=True)
class ShownScript:
    """The selected takes in order, mixed down, ready to draw.

    Attributes:
        edited: the mix (words moved onto its timeline; no phonemes).
        pyramid: the peak pyramid of ``edited.audio``.
        starts: each block's first frame in the mix, in ``blocks`` order.
        blocks: the blocks shown (those with a selected take).
        duration: seconds.
    """

    edited: Edited
    pyramid: PeakPyramid
    starts: tuple[int, ...]
    blocks: tuple[Block, ...]
    duration: float


class EditorAudio(QObject):
    """Loads takes and the script for the Editor, and aligns words.

    Signals:
        align_started(str take_id): looking for the words of a take.
        aligned(str take_id): words were found (:meth:`aligned_words`).
        align_failed(str take_id, str message): alignment found no words, and why.
    """

    align_started = Signal(str)
    aligned = Signal(str)
    align_failed = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._aligned: dict[str, WordTimestamps] = {}  # take id -> words found
        self._tasks = TaskGroup(what="alignment")

    async def load_take(self, take: Take) -> ShownTake:
        """``take`` as edited, with its pyramid (and the words alignment found for it).

        Raises:
            Whatever reading a take's audio raises (:class:`studio.project.model.TakeAudio`),
            or applying its edits (:class:`studio.project.edits.EditError`).
        """
        aligned = not take.word_timestamps.words and take.id in self._aligned
        if aligned:
            take = replace(take, word_timestamps=self._aligned[take.id])
        result = await in_thread(edited, take)
        pyramid = await in_thread(PeakPyramid.build, result.audio)
        return ShownTake(take, result, pyramid, aligned)

    async def load_script(self, blocks: Sequence[Block], pause_seconds: float
                          ) -> ShownScript | None:
        """The selected takes of ``blocks`` mixed down at the first one's rate with
        ``pause_seconds`` between them; None when no block has a take.

        Raises:
            As :meth:`load_take`.
        """
        shown = tuple(b for b in blocks if b.selected_take is not None)
        takes = [b.selected_take for b in shown if b.selected_take is not None]
        if not takes:
            return None
        rate = takes[0].sample_rate
        mix = await in_thread(mixdown, takes, rate, pause_seconds)
        pyramid = await in_thread(PeakPyramid.build, mix.audio)
        words = WordTimestamps(tuple(w["word"] for w in mix.words),
                               tuple(w["start"] for w in mix.words),
                               tuple(w["end"] for w in mix.words))
        return ShownScript(Edited(mix.audio, rate, words, PhonemeTimestamps()), pyramid,
                           tuple(mix.starts), shown, mix.duration)

    def aligned_words(self, take_id: str) -> WordTimestamps | None:
        """The words alignment found for ``take_id``, if it has."""
        return self._aligned.get(take_id)

    def align(self, take: Take) -> asyncio.Future[None] | None:
        """Find the words of ``take`` (which has no word timestamps) in the background,
        from its request's transcript; :attr:`aligned` or :attr:`align_failed` says how
        it went. None when there is nothing to do: no transcript, longer than
        :data:`ALIGN_LIMIT_SECONDS`, or aligned already."""
        transcript = str(take.request.get("transcript") or "")
        language = str(take.request.get("language") or "en")
        if not transcript or take.duration > ALIGN_LIMIT_SECONDS or take.id in self._aligned:
            return None
        return self._tasks.start(self._align, take, transcript, language)

    async def _align(self, take: Take, transcript: str, language: str) -> None:
        from studio.audio.align import AlignmentError, align_words  # pocketsphinx: slow import

        self.align_started.emit(take.id)
        try:
            words = await in_thread(align_words, take.audio, take.sample_rate, transcript,
                                    language)
        except AlignmentError as exc:
            self.align_failed.emit(take.id, str(exc))
            return
        self._aligned[take.id] = words
        self.aligned.emit(take.id)

    async def wait_idle(self) -> None:
        """Return once every alignment started has ended (tests)."""
        await self._tasks.wait_idle()

    def shutdown(self) -> None:
        """Stop aligning (for the app's shutdown)."""
        self._tasks.cancel()
