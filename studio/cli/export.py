"""``export``: write a project's selected takes as a finished file.

``cartesia-studio export FILE.cstudio -o OUT.mp3 --preset podcast`` writes the selected
takes of a project as ``render`` and the studio's Export dialog do: in any format, at a
loudness target, with chapters, tags, captions and transcripts. The format follows
``-o``'s extension unless ``--format`` names one; a contradiction is refused (exit 2),
never silently replaced. Everything is written atomically: on a failure or Ctrl+C no
file appears.

Exit status: 0 written; 1 the export failed (a take that cannot be read, a full disk) or,
with ``--check acx``, a file fails the ACX check; 2 bad arguments (unknown preset or
format, a sample rate the format cannot take, a loudness target out of range, an
unreadable cover image, a project that cannot be opened).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from studio.cli.exits import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, fail
from studio.cli.options import (
    add_output_options,
    metadata_from_args,
    settings_from_args,
    sidecar_overrides,
    with_extension,
)
from studio.cli.progress import TerminalProgress
from studio.project.export_pipeline import ExportJob, ExportResult, export
from studio.project.export_settings import (
    ExportCancelled,
    ExportError,
    ExportSettings,
    SettingsError,
    presets_from_json,
)
from studio.project.program import Program, program_of
from studio.project.render_plan import DEFAULT_PAUSE, PAUSE_KEY
from studio.project.store import ProjectError, ProjectStore

#: The ``meta`` row of a project that holds its edited presets.
PRESETS_KEY = "export_presets"


def add_export_parser(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``export`` verb."""
    parser = verbs.add_parser(
        "export", help="export a project's selected takes (any format, loudness, chapters)",
        description="Write the selected takes of FILE.cstudio, in script order with the "
        "project's pause between blocks, as a finished file: the format follows -o's "
        "extension, presets set loudness and format for a destination, chapters and tags "
        "are written where the format allows. Only reads the project.")
    parser.add_argument("project", type=Path, metavar="FILE.cstudio")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT",
                        help="the file to write (.wav .flac .mp3 .opus .m4a .m4b)")
    add_output_options(parser, render=False)


def report(result: ExportResult, stream: TextIO | None = None) -> None:
    """What was written, with the achieved figures and any ACX reports: the command's
    result, so on stdout (``export ... > report.txt`` keeps it); progress and errors
    go to stderr."""
    stream = stream if stream is not None else sys.stdout
    for file in result.files:
        after = file.after
        figures = [f"{file.duration:.1f} s"]
        if math.isfinite(after.integrated):
            figures.append(f"{after.integrated:.1f} LUFS")
        if math.isfinite(after.true_peak):
            figures.append(f"true peak {after.true_peak:.1f} dBTP")
        if math.isfinite(file.levels.rms_dbfs):
            figures.append(f"RMS {file.levels.rms_dbfs:.1f} dBFS")
        if file.chapters:
            figures.append(f"{len(file.chapters)} chapters")
        print(f"Wrote {file.path} ({', '.join(figures)})", file=stream)
        if file.acx is not None:
            for line in file.acx.lines():
                print(f"  {line}", file=stream)
    for path in result.sidecars:
        print(f"Wrote {path}", file=stream)
    for note in result.notes:
        print(f"Note: {note}", file=stream)


@contextlib.contextmanager
def _signals_cancel(cancel: threading.Event) -> Iterator[None]:
    """While the export runs, Ctrl+C and SIGTERM set ``cancel`` instead of raising
    ``KeyboardInterrupt``: an exception raised where the signal lands can be swallowed
    (inside a cffi callback of libsndfile, Python only prints "Exception ignored"), and
    the export went on to exit 0. The export checks ``cancel`` every second of audio and
    removes what it staged. Off the main thread (a test calling this), nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in handlers:
        signal.signal(sig, lambda _signum, _frame: cancel.set())
    try:
        yield
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def run_export(job: ExportJob, stream: TextIO | None = None) -> int:
    """Run ``job`` with a progress line; report; return the exit status."""
    stream = stream if stream is not None else sys.stderr
    progress = TerminalProgress(stream)
    cancel = threading.Event()
    try:
        with _signals_cancel(cancel):
            result = export(job, voice_names=known_voice_names(), progress=progress,
                            cancel=cancel)
    except (KeyboardInterrupt, ExportCancelled):
        progress.done()
        print("cartesia-studio: interrupted; nothing was written", file=stream)
        return EXIT_INTERRUPTED
    except SettingsError as exc:
        progress.done()
        print(f"cartesia-studio: {exc}", file=stream)
        return EXIT_USAGE
    except (ExportError, OSError) as exc:
        progress.done()
        print(f"cartesia-studio: {exc}; nothing was written", file=stream)
        return EXIT_FAILED
    progress.done()
    report(result)
    if job.settings.acx_check and not result.passed_acx:
        print("cartesia-studio: a file fails the ACX check (see above)", file=stream)
        return EXIT_FAILED
    return EXIT_OK


def known_voice_names() -> dict[str, str]:
    """Names of the voices the command line knows without asking a server (the offline
    engine's built-in voices), for naming stems per voice; other voices go by id."""
    from studio.offline.voices import BUILTIN_VOICES

    return {voice.id: voice.name for voice in BUILTIN_VOICES}


def load_program(store: ProjectStore) -> tuple[Program, dict[str, ExportSettings]]:
    """The programme of the open project, and its edited presets.

    Raises:
        ProjectError: the project cannot be read.
        ValueError: no block has a take.
    """
    loaded = store.load()
    try:
        pause = float(loaded.settings.get(PAUSE_KEY, DEFAULT_PAUSE))
    except ValueError:
        pause = DEFAULT_PAUSE
    program = program_of(loaded.blocks, max(0.0, pause))
    return program, presets_from_json(loaded.settings.get(PRESETS_KEY))


def export_command(args: argparse.Namespace) -> int:
    """``export FILE.cstudio -o OUT``: see the module docstring."""
    output = with_extension(args, args.output)
    if output.is_dir():
        return fail(f"{output} is a folder; give a file name", EXIT_USAGE)
    if not (output.parent if str(output.parent) else Path(".")).is_dir():
        return fail(f"cannot write {output}: the folder {output.parent} does not exist",
                     EXIT_USAGE)
    try:
        store = ProjectStore.open_read_only(args.project)
    except ProjectError as exc:
        return fail(" ".join(str(exc).split()), EXIT_FAILED if exc.kind == "io" else EXIT_USAGE)
    try:
        try:
            program, presets = load_program(store)
        except ProjectError as exc:
            return fail(" ".join(str(exc).split()), EXIT_FAILED)
        except ValueError as exc:
            return fail(f"{args.project.name}: {exc}", EXIT_USAGE)
        takes_rate = program.blocks[0].take.sample_rate
        try:
            settings = settings_from_args(args, output, takes_rate, presets)
            metadata = metadata_from_args(args)
        except (SettingsError, ValueError) as exc:
            return fail(str(exc), EXIT_USAGE)
        sidecars = sidecar_overrides(args)
        missing = [p for p in sidecars.values()
                   if not (p.parent if str(p.parent) else Path(".")).is_dir()]
        if missing:
            return fail(f"cannot write {missing[0]}: the folder {missing[0].parent} does not "
                         "exist", EXIT_USAGE)
        job = ExportJob(program, settings, output, metadata, sidecars)
        print(f"Exporting {len(program.blocks)} block(s) of {args.project.name}: "
              f"{settings.describe()}", file=sys.stderr)
        return run_export(job)
    finally:
        store.close()
