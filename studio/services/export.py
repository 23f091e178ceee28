"""Export of the open project: its programme measured and exported off the UI thread.

The Export dialog asks; this service snapshots the programme on the UI thread
(:func:`studio.project.program.program_of`), runs the pipeline
(:mod:`studio.project.export_pipeline`) in a worker thread, relays its progress as
signals, and remembers each preset as the user edited it, the tags and the last
destination in the project file (``meta`` rows), so the next export of the same project
starts where the last one ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from studio.project.export_settings import (
    PRESETS,
    ExportSettings,
    presets_from_json,
    settings_to_json,
)
from studio.project.program import Program, program_of
from studio.services.document import ScriptDocument

if TYPE_CHECKING:
    from studio.audio.tags import Metadata
    from studio.project.export_pipeline import Analysis, ExportJob, ExportResult

# The export machinery (FFmpeg's libraries through PyAV, mutagen, the caption writers)
# is imported where it is used, the first time a file is measured or written: the
# studio starts without it.

log = logging.getLogger(__name__)

#: ``meta`` rows: the presets as edited (JSON object key -> settings), the preset last
#: used, the tags (JSON, the cover as a path), the last destination.
PRESETS_KEY, PRESET_KEY, TAGS_KEY, PATH_KEY = ("export_presets", "export_preset",
                                               "export_tags", "export_path")
#: How long a cancelled export may take to stop, seconds (it checks between chunks).
_STOP_DEADLINE = 30.0
#: Progress is relayed at most this often, seconds.
_PROGRESS_INTERVAL = 0.1
_TAG_FIELDS = ("title", "artist", "narrator", "album", "year", "genre", "comment")


@dataclass(frozen=True, slots=True)
class Tags:
    """The tags as the user typed them: text fields and the cover image's path."""

    title: str = ""
    artist: str = ""
    narrator: str = ""
    album: str = ""
    year: str = ""
    genre: str = ""
    comment: str = ""
    cover: str = ""

    def metadata(self) -> Metadata:
        """:class:`Metadata` with the cover read.

        Raises:
            ValueError: the cover cannot be used (the message says why).
        """
        from studio.audio.cover import load_cover
        from studio.audio.tags import Metadata

        cover = load_cover(Path(self.cover)) if self.cover else None
        return Metadata(**{name: getattr(self, name) for name in _TAG_FIELDS}, cover=cover)


def _analysis_key(job: ExportJob) -> tuple[Any, ...]:
    """What a measurement depends on: the same key measures the same."""
    s = job.settings
    target = s.loudness
    reference = target.target_for(s.channels) if target and s.level_match else None
    blocks = tuple((b.block_id, b.take.id, b.take.edits, b.voice_id, b.chapter)
                   for b in job.program.blocks)
    return (blocks, job.program.pause_seconds, s.encoded_sample_rate, s.split,
            s.head_seconds, s.tail_seconds, reference)


class ExportService(QObject):
    """Measures and exports the document's programme in a worker thread.

    Args:
        document: the script.
        settings: the project's settings (``meta``), read for the presets and tags.
        save_setting: ``(key, value)`` writes a project setting.
        pause: the pause between blocks now, seconds.
        voice_names: voice id -> name, for stems per voice.
        project_name: the project's name ("" while untitled), for the first export's
            file name.

    Signals:
        progressed(str stage, float fraction, float seconds_left): while running;
            ``seconds_left`` is ``nan`` until it can be estimated.
        busy_changed(bool)
    """

    progressed = Signal(str, float, float)
    busy_changed = Signal(bool)

    def __init__(self, document: ScriptDocument, settings: Callable[[], Mapping[str, str]],
                 save_setting: Callable[[str, str], None], pause: Callable[[], float],
                 voice_names: Callable[[], dict[str, str]] | None = None,
                 project_name: Callable[[], str] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self._settings = settings
        self._save = save_setting
        self._pause = pause
        self._voice_names = voice_names or dict
        self._project_name = project_name or (lambda: "")
        self._cancel: threading.Event | None = None
        self._analysis: tuple[tuple[Any, ...], Analysis] | None = None
        self.busy = False

    # --- what the project remembers ---------------------------------------------------

    def preset(self, key: str) -> ExportSettings:
        """Preset ``key`` as this project last used it (the built-in one otherwise)."""
        edited = presets_from_json(self._settings().get(PRESETS_KEY))
        return edited.get(key) or PRESETS[key].settings

    def last_preset(self) -> str:
        key = self._settings().get(PRESET_KEY, "")
        return key if key in PRESETS else "youtube"

    def remember(self, key: str, settings: ExportSettings, tags: Tags, path: Path) -> None:
        """Keep ``settings`` as this project's preset ``key``, with the tags and path."""
        try:
            edited = json.loads(self._settings().get(PRESETS_KEY) or "{}")
        except ValueError:
            edited = {}
        if not isinstance(edited, dict):
            edited = {}
        edited[key] = settings_to_json(settings)
        self._save(PRESETS_KEY, json.dumps(edited, sort_keys=True))
        self._save(PRESET_KEY, key)
        self._save(TAGS_KEY, json.dumps({**{n: getattr(tags, n) for n in _TAG_FIELDS},
                                         "cover": tags.cover}, ensure_ascii=False))
        self._save(PATH_KEY, str(path))

    def tags(self) -> Tags:
        """The tags last used with this project."""
        try:
            body = json.loads(self._settings().get(TAGS_KEY) or "{}")
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            return Tags()
        return Tags(**{k: str(v) for k, v in body.items() if k in Tags.__dataclass_fields__})

    def last_path(self) -> Path | None:
        text = self._settings().get(PATH_KEY)
        return Path(text) if text else None

    def default_name(self) -> str:
        """A file name (without extension) for a project's first export: its own name,
        or "voiceover" while it has none."""
        name = " ".join(self._project_name().split())
        return name or "voiceover"

    # --- running ------------------------------------------------------------------------

    def program(self) -> Program:
        """The programme now (a snapshot the worker can read while the user edits).

        Raises:
            ValueError: no block has a selected take.
        """
        return program_of(self.document.blocks, self._pause(),
                          is_stale=lambda block, take: not self.document.is_current(block, take))

    def program_of_blocks(self, block_ids: Sequence[str]) -> Program:
        """The programme of ``block_ids`` alone (a chapter), in the order given.

        Raises:
            KeyError: an id names no block.
            ValueError: none of them has a selected take.
        """
        return program_of([self.document.block(i) for i in block_ids], self._pause(),
                          is_stale=lambda block, take: not self.document.is_current(block, take))

    async def export_blocks(self, path: Path, block_ids: Sequence[str],
                            settings: ExportSettings) -> ExportResult:
        """Export ``block_ids`` alone (a chapter: its mark gives the file's chapter
        title) to ``path`` with ``settings``, off the UI thread.

        Raises:
            KeyError, ValueError: as :meth:`program_of_blocks`.
            ExportCancelled, ExportError, OSError, SettingsError: as :meth:`export`.
        """
        from studio.project.export_pipeline import ExportJob

        return await self.export(ExportJob(self.program_of_blocks(block_ids), settings, path))

    def file_count(self, job: ExportJob) -> int:
        from studio.project.export_pipeline import plan_files

        return len(plan_files(job, self._voice_names()))

    def cancel(self) -> None:
        """Stop the measurement or export running now (nothing is written)."""
        if self._cancel is not None:
            self._cancel.set()

    async def measure(self, job: ExportJob) -> Analysis:
        """The first pass of ``job`` (loudness before normalisation), kept for an export of
        the same programme that follows.

        Raises:
            ExportCancelled, ExportError, SettingsError: as :func:`analyse`.
        """
        from studio.project.export_pipeline import analyse, plan_files

        key = _analysis_key(job)
        if self._analysis is not None and self._analysis[0] == key:
            return self._analysis[1]
        files = plan_files(job, self._voice_names())
        result = await self._run(lambda progress, cancel: analyse(
            job, files, progress=progress, cancel=cancel))
        self._analysis = (key, result)
        return result

    async def export(self, job: ExportJob) -> ExportResult:
        """Write ``job``'s files (reusing a measurement of the same programme).

        Raises:
            ExportCancelled, ExportError, OSError, SettingsError: as
            :func:`studio.project.export_pipeline.export`.
        """
        from studio.project.export_pipeline import export

        key = _analysis_key(job)
        analysis = self._analysis[1] if self._analysis and self._analysis[0] == key else None
        names = self._voice_names()
        return await self._run(lambda progress, cancel: export(
            job, analysis=analysis, voice_names=names, progress=progress, cancel=cancel))

    async def export_to(self, path: Path, settings: ExportSettings | None = None
                        ) -> ExportResult:
        """Export the programme now to ``path`` with ``settings`` (default: 16-bit WAV at
        the first take's sample rate, levels untouched), without the dialog.

        Raises:
            ValueError: no block has a selected take.
            ExportCancelled, ExportError, OSError, SettingsError: as :meth:`export`.
        """
        from studio.project.export_pipeline import ExportJob

        program = self.program()
        rate = program.blocks[0].take.sample_rate
        return await self.export(
            ExportJob(program, settings or ExportSettings(sample_rate=rate), path))

    async def _run(self, work: Callable[[Any, threading.Event], Any]) -> Any:
        if self.busy:
            raise RuntimeError("an export is already running")
        loop = asyncio.get_event_loop()
        cancel = threading.Event()
        self._cancel = cancel
        started = time.monotonic()
        last = [0.0]

        def progress(stage: str, fraction: float) -> None:  # on the worker thread
            now = time.monotonic()
            if now - last[0] < _PROGRESS_INTERVAL and fraction < 1.0:
                return
            last[0] = now
            elapsed = now - started
            left = elapsed / fraction * (1.0 - fraction) if fraction > 0.03 else float("nan")
            with contextlib.suppress(RuntimeError):  # the loop closed at shutdown
                loop.call_soon_threadsafe(self.progressed.emit, stage, fraction, left)

        self.busy = True
        self.busy_changed.emit(True)
        future = loop.run_in_executor(None, work, progress, cancel)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            # The worker stops at its next block and removes what it staged; wait for
            # that (with a deadline), so nothing is still writing after we return.
            cancel.set()
            await asyncio.wait([future], timeout=_STOP_DEADLINE)
            raise
        finally:
            self._cancel = None
            self.busy = False
            self.busy_changed.emit(False)

    async def shutdown(self) -> None:
        """Cancel a running export and wait until its worker has let go of its files
        (at most :data:`_STOP_DEADLINE` seconds); nothing half-written is left."""
        self.cancel()
        deadline = time.monotonic() + _STOP_DEADLINE
        while self.busy and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    def forget(self) -> None:
        """Drop the kept measurement (another project was opened)."""
        self._analysis = None

