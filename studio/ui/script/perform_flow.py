"""Perform it yourself (issue 16): a recording of your own delivery of a block, converted
to the block's voice by the voice changer, becomes a take of the block.

The work is :func:`studio.services.perform.perform_take`'s (conversion, alignment of the
block's text, the take and its kept performance); this flow asks for the file, says
what it costs on the cloud before anything is sent, runs the work in the background and
adds the take as one undo step.
"""

from __future__ import annotations

import asyncio
import functools
import math
from collections.abc import Callable
from pathlib import Path

import shiboken6
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from studio.api.client import CartesiaClient
from studio.api.errors import CartesiaError
from studio.audio.buffers import AudioFileError
from studio.audio.untrusted import decode_untrusted
from studio.services.document import ScriptDocument
from studio.services.editor import ScriptEditor
from studio.services.perform import (
    MAX_PERFORMANCE_SECONDS,
    PerformError,
    perform_credits,
    perform_take,
)
from studio.services.tasks import TaskGroup
from studio.services.threads import in_thread

AUDIO_FILTER = "Audio (*.wav *.flac *.mp3 *.ogg *.m4a);;All files (*)"

#: ``(client, backend kind)`` of the connected backend, or ``None`` while there is none.
BackendOf = Callable[[], "tuple[CartesiaClient, str] | None"]

#: Shows a line about a block: ``(block_id, text, error)``.
StatusOf = Callable[[str, str, bool], None]


class PerformFlow(QObject):
    """Turns a performance file into a take of a block.

    Args:
        parent_widget: the window the file dialog and the question belong to.
        document, editor: the script and its undo stack.
        backend: the connected backend's client and kind, or ``None``.
        status: where a line about the block goes (its card and the inspector).
    """

    def __init__(self, parent_widget: QWidget, document: ScriptDocument, editor: ScriptEditor,
                 backend: BackendOf, status: StatusOf) -> None:
        super().__init__(parent_widget)
        self._widget = parent_widget
        self._document = document
        self._editor = editor
        self._backend = backend
        self._status = status
        self.tasks = TaskGroup(what="perform")

    def start(self, block_id: str) -> asyncio.Task[None] | None:
        """Ask for a performance file for ``block_id`` and convert it; ``None`` when
        nothing was started (no file chosen)."""
        path, _ = QFileDialog.getOpenFileName(
            self._widget, "Perform: your recording of this block", "", AUDIO_FILTER)
        if not path:
            return None
        return self.perform_file(block_id, Path(path))

    def perform_file(self, block_id: str, path: Path) -> asyncio.Task[None]:
        """Convert the performance in ``path`` to ``block_id``'s voice, in the background."""
        return self.tasks.start(self._perform, block_id, path)

    async def _perform(self, block_id: str, path: Path) -> None:
        try:
            await self._run(block_id, path)
        except (PerformError, AudioFileError, CartesiaError, OSError, ValueError) as exc:
            self._say(block_id, f"Perform failed: {exc}", error=True)

    async def _run(self, block_id: str, path: Path) -> None:
        backend = self._backend()
        if backend is None:
            raise ValueError("The backend is still starting; try again in a moment.")
        client, kind = backend
        self._say(block_id, f"Reading {path.name}…")
        audio, rate = await in_thread(
            functools.partial(decode_untrusted, str(path), max_seconds=MAX_PERFORMANCE_SECONDS))
        seconds = audio.shape[0] / rate if rate else 0.0
        credits = perform_credits(seconds, kind)
        if credits and not self._confirm(seconds, credits):
            self._say(block_id, "Nothing converted")
            return
        block = self._document.block(block_id)
        self._say(block_id, f"Converting your performance ({seconds:.1f} s) to the voice…")
        performed = await perform_take(
            client, kind, audio, rate, block.voice_id, block.text, block.language,
            block.next_take_number())
        if not self._document.has_block(block_id):
            return  # removed while it converted
        self._editor.add_take(block_id, performed.take)
        note = f" ({performed.note})" if performed.note else ""
        self._say(block_id, f"{performed.take.name} from your performance{note}")

    def _confirm(self, seconds: float, credits: int) -> bool:
        answer = QMessageBox.question(
            self._widget, "Perform",
            f"Converting {math.ceil(seconds)} s of your performance costs about "
            f"{credits:,} credits on Cartesia's cloud (15 a second). Go ahead?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Yes)
        return answer == QMessageBox.StandardButton.Yes

    def _say(self, block_id: str, text: str, error: bool = False) -> None:
        if shiboken6.isValid(self) and self._document.has_block(block_id):
            self._status(block_id, text, error)
