"""Every panel of the studio's window, built in one place.

``app.py`` builds the services, hands them to :func:`build_panels`, and gives the
result to :class:`~studio.ui.window.main_window.MainWindow`, which lays the panels out
and routes their requests. No panel builds another, and the window builds none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from studio.config import Settings
from studio.project.model import Recording
from studio.services.dictionaries import DictionaryService
from studio.services.document import ScriptDocument
from studio.services.editor import ScriptEditor
from studio.services.editor_audio import EditorAudio
from studio.services.infill import InfillService
from studio.services.playback import PlaybackService
from studio.services.voice_lab import VoiceLab
from studio.services.voices import VoiceCatalog
from studio.ui.cast.cast_panel import CastPanel
from studio.ui.chapters.chapters_panel import ChaptersPanel
from studio.ui.dictionaries.dictionaries_panel import DictionariesPanel
from studio.ui.editor.editor_panel import EditorPanel
from studio.ui.script.script_panel import ScriptPanel
from studio.ui.takes.takes_panel import TakesPanel
from studio.ui.voices.voices_panel import VoicesPanel


@dataclass(frozen=True, slots=True)
class Panels:
    """The window's panels.

    Attributes:
        script: the script's blocks (the window's centre).
        takes: the current block's take history.
        editor: the current take's waveform and word edits.
        voices: the voice library, the recorder and cloning.
        dictionaries: pronunciation dictionaries and their entries.
        chapters: the script's chapters with their counts (a dock on the left).
        cast: the script's speakers with their voices and delivery.
    """

    script: ScriptPanel
    takes: TakesPanel
    editor: EditorPanel
    voices: VoicesPanel
    dictionaries: DictionariesPanel
    chapters: ChaptersPanel
    cast: CastPanel


def build_panels(
    *,
    document: ScriptDocument,
    editor: ScriptEditor,
    catalog: VoiceCatalog,
    playback: PlaybackService,
    infill: InfillService,
    editor_audio: EditorAudio,
    voice_lab: VoiceLab,
    dictionaries: DictionaryService,
    settings: Settings,
    recordings: Callable[[], list[Recording]],
    pause_seconds: Callable[[], float],
) -> Panels:
    """Build every panel on the services they show.

    Args:
        recordings: the open project's saved recordings, newest last (the recorder
            offers them again).
        pause_seconds: the silence between blocks, in seconds, as the window's toolbar
            sets it (asked when the Editor plays across blocks).
    """
    return Panels(
        script=ScriptPanel(document, editor, catalog),
        takes=TakesPanel(document, playback),
        editor=EditorPanel(document, editor, playback, infill, editor_audio,
                           pause_seconds),
        voices=VoicesPanel(voice_lab, playback, input_device=settings.input_device,
                           recordings=recordings),
        dictionaries=DictionariesPanel(dictionaries, playback, catalog),
        chapters=ChaptersPanel(document),
        cast=CastPanel(document, editor, catalog),
    )
