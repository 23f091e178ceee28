"""Listening to the script as it will export: one block's selected take, or every block's
in order with the pause between them, always with the takes' edits applied.

Reading a take from the project file, applying its edits and mixing takes of different
sample rates are slow, so they run in a worker thread (STYLE.md, napari: a request built
on the UI thread, run in an executor, applied back on the loop); the window only asks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Signal

from studio.project.edited_audio import edited
from studio.project.export import mixdown
from studio.project.model import Take
from studio.services.document import ScriptDocument
from studio.services.playback import PlaybackService
from studio.services.tasks import TaskGroup
from studio.services.threads import in_thread

log = logging.getLogger(__name__)


class ScriptPlayback(QObject):
    """Plays blocks' selected takes through a :class:`PlaybackService`.

    Args:
        document: the script.
        playback: where the audio goes.
        pause: the silence between blocks now, seconds.

    Signals:
        failed(str message): a take could not be read (a project file that fails, for
            instance); nothing was played.
    """

    failed = Signal(str)

    def __init__(self, document: ScriptDocument, playback: PlaybackService,
                 pause: Callable[[], float], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.playback = playback
        self._pause = pause
        self._tasks = TaskGroup(lambda exc: self.failed.emit(str(exc)), what="script playback")

    def play_block(self, block_id: str) -> bool:
        """Play the selected take of ``block_id`` as edited; False when it has none.

        Raises:
            KeyError: no such block.
        """
        take = self.document.block(block_id).selected_take
        if take is None:
            return False
        if take.source.loaded and not take.edits:
            self.playback.play(take.audio, take.sample_rate)
        else:
            self._tasks.start(self._play_edited, take)
        return True

    def play_all(self) -> bool:
        """Play every block's selected take in order, the pause between them; False when
        no block has a take. Takes at the first take's rate are queued as they are (no
        copy); a script mixing rates is mixed down first."""
        takes = self.document.selected_takes()
        if not takes:
            return False
        self._tasks.start(self._play_all, takes, self._pause())
        return True

    async def _play_edited(self, take: Take) -> None:
        audio = (await in_thread(edited, take)).audio
        self.playback.play(audio, take.sample_rate)

    async def _play_all(self, takes: Sequence[Take], pause: float) -> None:
        rate = takes[0].sample_rate
        if any(t.sample_rate != rate for t in takes):
            mix = await in_thread(mixdown, takes, rate, pause)
            self.playback.play(mix.audio, rate)
        else:
            pieces = await in_thread(lambda: [edited(t).audio for t in takes])
            self.playback.play_sequence(pieces, rate, pause)

    async def wait_idle(self) -> None:
        """Return once every take asked for has been read and started (tests)."""
        await self._tasks.wait_idle()

    def shutdown(self) -> None:
        """Stop reading takes (for the app's shutdown)."""
        self._tasks.cancel()
