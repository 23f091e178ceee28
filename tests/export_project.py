"""A small project of real offline-engine speech for the export tests.

``cartesia-studio render --project`` renders each voice's paragraphs into a project of
its own (the offline engine speaks them with espeak-ng); the takes are then put in one
project in script order, with chapter marks, as a user would have arranged them. The
second voice is rendered at half volume, so level matching has something to match.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from studio.project.model import Block
from studio.project.store import ProjectStore, script_rows

AVERY = "091b4eea-9078-4fee-86b0-74fd73fcf954"
MARCUS = "31152d4d-118f-45ae-92b6-618d4e97dfb9"
VOICE_NAMES = {AVERY: "Avery", MARCUS: "Marcus"}
PAUSE = 0.4
RATE = 44100


@dataclass(frozen=True)
class Paragraph:
    text: str
    voice: str
    quiet: bool = False
    chapter: str | None = None


#: The script in order: three chapters, two voices, the second voice read at half volume.
SCRIPT = (
    Paragraph("Welcome to the studio. This is the first chapter of a very short story.",
              AVERY, chapter="Arrival"),
    Paragraph("Thank you. I am the second voice, and I read a little lower.", MARCUS,
              quiet=True),
    Paragraph("The second chapter begins here, with a question: who is speaking now?",
              AVERY, chapter="The Middle"),
    Paragraph("This paragraph was read much more quietly than all the others around it.",
              MARCUS, quiet=True),
    Paragraph("Now we are back at the usual level, with a comma, and a full stop.", AVERY),
    Paragraph("That is the end of the story. Thanks for listening, and goodbye!", AVERY,
              chapter="Ending"),
)
CHAPTERS = ("Arrival", "The Middle", "Ending")
QUIET = tuple(i for i, p in enumerate(SCRIPT) if p.quiet)


def run_cli(*args: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """``cartesia-studio ARGS`` in a subprocess, on its own offline engine."""
    env = dict(os.environ)
    env.pop("CARTESIA_API_KEY", None)
    return subprocess.run([sys.executable, "-m", "studio", *args], check=False, cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=timeout)


def _render(folder: Path, name: str, paragraphs: list[str], *options: str) -> list[Block]:
    script = folder / f"{name}.txt"
    script.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    project = folder / f"{name}.cstudio"
    done = run_cli("render", str(script), "--project", str(project), "--sample-rate",
                   str(RATE), *options, cwd=folder)
    assert done.returncode == 0, done.stderr
    store = ProjectStore.open(project)
    try:
        blocks = store.load().blocks
        for block in blocks:
            assert block.selected_take is not None
            block.selected_take.audio  # noqa: B018  # read before the store closes
        return blocks
    finally:
        store.close()


def build_project(folder: Path) -> Path:
    """Render :data:`SCRIPT` and put it together as ``folder/book.cstudio`` (pause
    :data:`PAUSE` s between blocks, takes at :data:`RATE` Hz)."""
    groups: dict[tuple[str, bool], list[int]] = {}
    for index, paragraph in enumerate(SCRIPT):
        groups.setdefault((paragraph.voice, paragraph.quiet), []).append(index)
    rendered: dict[int, Block] = {}
    for number, ((voice, quiet), indexes) in enumerate(groups.items()):
        options = ("--voice", VOICE_NAMES[voice], *(("--volume", "0.5") if quiet else ()))
        blocks = _render(folder, f"part{number}", [SCRIPT[i].text for i in indexes], *options)
        rendered.update(zip(indexes, blocks, strict=True))
    path = folder / "book.cstudio"
    store = ProjectStore.create(path, {"pause_seconds": str(PAUSE), "sample_rate": str(RATE)})
    try:
        script: list[Block] = []
        for index, paragraph in enumerate(SCRIPT):
            source = rendered[index]
            take = source.selected_take
            assert take is not None and source.voice_id == paragraph.voice
            block = Block(text=source.text, voice_id=source.voice_id, volume=source.volume)
            block.takes.append(take)
            block.selected_take_id = take.id
            store.add_take(block, take, 0)
            script.append(block)
        store.write_script(script_rows(script))
    finally:
        store.close()
    set_chapters(path, {i: p.chapter for i, p in enumerate(SCRIPT) if p.chapter})
    return path


def set_chapters(path: Path, chapters: dict[int, str]) -> None:
    """Mark block ``index`` (from 0) as starting chapter ``title``; others start none."""
    store = ProjectStore.open(path)
    try:
        blocks = store.load().blocks
        for index, block in enumerate(blocks):
            block.chapter = chapters.get(index)
        store.write_script(script_rows(blocks))
    finally:
        store.close()


def load_blocks(path: Path) -> tuple[list[Block], float]:
    """The project's blocks with every selected take's audio read, and its pause."""
    store = ProjectStore.open_read_only(path)
    try:
        loaded = store.load()
        for block in loaded.blocks:
            take = block.selected_take
            if take is not None:
                take.audio  # noqa: B018
        return loaded.blocks, float(loaded.settings["pause_seconds"])
    finally:
        store.close()
