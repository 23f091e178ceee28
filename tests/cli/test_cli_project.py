"""``cartesia-studio render --project`` and ``info`` as a user runs them.

The CLI runs in a subprocess. Where requests and credits matter it talks to the
session's offline engine as if it were Cartesia's cloud (a ``settings.json`` with
the engine's URLs and ``CARTESIA_API_KEY`` = its key), so the engine's own
counters prove what was requested and takes cost about one credit per character.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from studio.project.cache import take_key
from studio.project.migrations import APPLICATION_ID, SCHEMA_VERSION
from studio.project.model import Block, make_take
from studio.project.store import LoadedProject, ProjectStore, script_rows
from studio.timestamps import PhonemeTimestamps, WordTimestamps

PARAGRAPHS = [
    "Welcome to the show. Today we talk about voices.",
    "The second paragraph is a little longer, and it has a comma, too.",
    "Thanks for listening. See you next week!",
]
TTS_ROUTES = ("/tts/websocket", "/tts/bytes", "/tts/sse")
SUMMARY = re.compile(
    r"Project (\S+): (\d+) takes? generated, (\d+) reused(?:, (\d+) blocks? past "
    r"the end of the script removed)?, (\d+) credits spent \(project total (\d+)\)"
)


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None,
            timeout: float = 240) -> subprocess.CompletedProcess[str]:
    if env is None:
        env = dict(os.environ)
        env.pop("CARTESIA_API_KEY", None)
    return subprocess.run([sys.executable, "-m", "studio", *args], check=False, cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def cloud_env(tmp_path: Path, offline_engine: Any) -> dict[str, str]:
    """Environment for a CLI that takes the session engine for Cartesia's cloud."""
    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.json").write_text(json.dumps({
        "base_url": offline_engine.base_url,
        "websocket_base_url": offline_engine.websocket_base_url,
    }), encoding="utf-8")
    env = dict(os.environ)
    env.pop("STUDIO_FORCE_OFFLINE", None)
    env["STUDIO_CONFIG_DIR"] = str(config)
    env["CARTESIA_API_KEY"] = offline_engine.api_key
    return env


def tts_requests(engine: Any) -> int:
    """Generation requests the engine has answered so far, on every TTS route."""
    return sum(engine.stats.requests(route) for route in TTS_ROUTES)


def write_script(path: Path, paragraphs: list[str]) -> Path:
    path.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return path


def summary(stderr: str) -> tuple[int, int, int, int]:
    """(generated, reused, credits spent, project total) from the last summary line."""
    found = SUMMARY.findall(stderr)
    assert found, stderr
    _name, generated, reused, _removed, spent, total = found[-1]
    return int(generated), int(reused), int(spent), int(total)


def load(path: Path) -> LoadedProject:
    """The project as the studio reads it (opening may write: not for files under test)."""
    store = ProjectStore.open(path)
    try:
        loaded = store.load()
        for block in loaded.blocks:
            for take in block.takes:
                take.audio  # noqa: B018  # read now, before the store closes
        return loaded
    finally:
        store.close()


def preview(text: str) -> str:
    """``info``'s text preview: at most 60 characters, ending in "…" when cut."""
    return text if len(text) <= 60 else text[:59] + "…"


def snapshot(path: Path) -> bytes:
    return path.read_bytes()


def count_rows(path: Path, table: str) -> int:
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    finally:
        db.close()


def test_render_into_a_new_project_then_again_reuses_every_take(
    tmp_path: Path, cloud_env: dict[str, str], offline_engine: Any
) -> None:
    script = write_script(tmp_path / "script.txt", PARAGRAPHS)
    project = tmp_path / "show.cstudio"
    price = sum(len(p) for p in PARAGRAPHS)  # about one credit per character

    before = tts_requests(offline_engine)
    first = run_cli("render", str(script), "--project", str(project), cwd=tmp_path, env=cloud_env)
    assert first.returncode == 0, first.stderr
    assert tts_requests(offline_engine) - before == 3
    assert "Cartesia cloud" in first.stderr
    assert f"about {price:,} credits" in first.stderr.splitlines()[0]  # said before rendering
    assert summary(first.stderr) == (3, 0, price, price)
    loaded = load(project)
    assert [b.text for b in loaded.blocks] == PARAGRAPHS
    for block in loaded.blocks:
        assert len(block.takes) == 1 and block.selected_take_id == block.takes[0].id
        take = block.takes[0]
        assert (take.name, take.backend, take.credits) == ("Take 1", "cloud", len(block.text))
    assert loaded.settings["pause_seconds"] == "0.5" and loaded.settings["sample_rate"] == "44100"

    out = tmp_path / "show.wav"
    before = tts_requests(offline_engine)
    every_request = sum(offline_engine.stats.snapshot().values())
    second = run_cli("render", str(script), "--project", str(project), "-o", str(out),
                     "--pause", "0.25", cwd=tmp_path, env=cloud_env)
    assert second.returncode == 0, second.stderr
    assert tts_requests(offline_engine) - before == 0, "every take came from the project"
    # Not even the voice list: the project's blocks already name their voice.
    assert sum(offline_engine.stats.snapshot().values()) == every_request
    assert summary(second.stderr) == (0, 3, 0, price)
    assert "nothing to render" in second.stderr
    again = load(project)
    assert [[t.id for t in b.takes] for b in again.blocks] == \
        [[t.id for t in b.takes] for b in loaded.blocks]
    assert again.settings["pause_seconds"] == "0.25"

    # The WAV is the selected takes in script order with the pause between them,
    # sample for sample (the takes are 16-bit, and so is the WAV).
    audio, rate = sf.read(out, dtype="int16")
    pause = np.zeros(round(0.25 * rate), dtype=np.int16)
    pieces: list[np.ndarray] = []
    for block in again.blocks:
        if pieces:
            pieces.append(pause)
        pieces.append(np.round(block.takes[0].audio * 32768).astype(np.int16))
    assert rate == 44100 and np.array_equal(audio, np.concatenate(pieces))


def test_editing_one_paragraph_renders_only_that_block(
    tmp_path: Path, cloud_env: dict[str, str], offline_engine: Any
) -> None:
    script = write_script(tmp_path / "script.txt", PARAGRAPHS)
    project = tmp_path / "p.cstudio"
    assert run_cli("render", str(script), "--project", str(project), cwd=tmp_path,
                   env=cloud_env).returncode == 0
    original = load(project)

    edited = [PARAGRAPHS[0], "The second paragraph now says something else.", PARAGRAPHS[2]]
    write_script(script, edited)
    before = tts_requests(offline_engine)
    result = run_cli("render", str(script), "--project", str(project), cwd=tmp_path,
                     env=cloud_env)
    assert result.returncode == 0, result.stderr
    assert tts_requests(offline_engine) - before == 1
    total = sum(len(p) for p in PARAGRAPHS) + len(edited[1])
    assert summary(result.stderr) == (1, 2, len(edited[1]), total)

    loaded = load(project)
    assert [b.id for b in loaded.blocks] == [b.id for b in original.blocks]
    assert [b.text for b in loaded.blocks] == edited
    assert [len(b.takes) for b in loaded.blocks] == [1, 2, 1]
    middle = loaded.blocks[1]
    assert middle.selected_take_id == middle.takes[1].id and middle.takes[1].name == "Take 2"
    assert middle.takes[1].request["transcript"] == edited[1]
    for index in (0, 2):
        assert loaded.blocks[index].selected_take_id == original.blocks[index].takes[0].id


def test_moved_paragraphs_take_their_takes_along_and_removed_blocks_go(
    tmp_path: Path, cloud_env: dict[str, str], offline_engine: Any
) -> None:
    script = write_script(tmp_path / "script.txt", PARAGRAPHS)
    project = tmp_path / "p.cstudio"
    assert run_cli("render", str(script), "--project", str(project), cwd=tmp_path,
                   env=cloud_env).returncode == 0
    audio_rows = count_rows(project, "audio")

    # Drop the first paragraph: the others move up onto blocks 1 and 2, block 3 goes.
    write_script(script, PARAGRAPHS[1:])
    before = tts_requests(offline_engine)
    result = run_cli("render", str(script), "--project", str(project), cwd=tmp_path,
                     env=cloud_env)
    assert result.returncode == 0, result.stderr
    assert tts_requests(offline_engine) - before == 0
    assert summary(result.stderr)[:3] == (0, 2, 0)
    assert "1 block past the end of the script removed" in result.stderr
    assert count_rows(project, "audio") == audio_rows, "copies share the stored audio"

    loaded = load(project)
    assert [b.text for b in loaded.blocks] == PARAGRAPHS[1:]
    for block in loaded.blocks:
        take = block.selected_take
        assert take is not None and take.credits == 0 and take.request["transcript"] == block.text
    info = json.loads(run_cli("info", str(project), cwd=tmp_path).stdout)
    assert [b["text"] for b in info["blocks"]] == [preview(p) for p in PARAGRAPHS[1:]]


def test_info_reports_the_project_and_never_writes_to_it(
    tmp_path: Path, cloud_env: dict[str, str]
) -> None:
    script = write_script(tmp_path / "script.txt", PARAGRAPHS)
    project = tmp_path / "p.cstudio"
    assert run_cli("render", str(script), "--project", str(project), "--pause", "0.3",
                   cwd=tmp_path, env=cloud_env).returncode == 0
    write_script(script, [PARAGRAPHS[0], PARAGRAPHS[1] + " More."])
    assert run_cli("render", str(script), "--project", str(project), cwd=tmp_path,
                   env=cloud_env).returncode == 0
    before = snapshot(project)

    result = run_cli("info", str(project), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert snapshot(project) == before
    wal = Path(f"{project}-wal")
    assert not wal.exists() or wal.stat().st_size == 0, "nothing went through the WAL either"
    info = json.loads(result.stdout)

    expected = load(tmp_path / "p.cstudio")  # only now: opening may write
    assert info["path"] == str(project.resolve())
    assert info["format_version"] == SCHEMA_VERSION
    assert len(info["blocks"]) == 2
    for number, (got, block) in enumerate(zip(info["blocks"], expected.blocks, strict=True), 1):
        take = block.selected_take
        assert take is not None
        assert got == {
            "index": number, "id": block.id, "text": preview(block.text),
            "voice_id": block.voice_id,
            "takes": len(block.takes),
            "selected_take": {"id": take.id, "name": take.name,
                              "duration_seconds": round(take.duration, 3)},
        }
    assert [b["takes"] for b in info["blocks"]] == [1, 2]
    assert info["takes"] == 3 and info["selected_takes"] == 2
    durations = [b.selected_take.duration for b in expected.blocks if b.selected_take]
    assert info["duration_seconds"] == pytest.approx(sum(durations), abs=1e-3)
    assert info["credits_spent"] == expected.credits_spent
    # Every take ever paid for counts, the removed third block's included.
    assert info["credits_spent"] == sum(map(len, PARAGRAPHS)) + len(PARAGRAPHS[1] + " More.")
    assert info["settings"] == {"pause_seconds": "0.3", "sample_rate": "44100"}


# --- files that cannot be used ---------------------------------------------------------

RATE = 22050
V1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE blocks (id TEXT PRIMARY KEY, position INTEGER NOT NULL, text TEXT NOT NULL,
    voice_id TEXT NOT NULL, model_id TEXT NOT NULL, language TEXT NOT NULL, emotion TEXT,
    speed REAL NOT NULL, volume REAL NOT NULL, selected_take_id TEXT,
    deleted INTEGER NOT NULL DEFAULT 0);
CREATE TABLE audio (id INTEGER PRIMARY KEY, sample_rate INTEGER NOT NULL, frames INTEGER NOT NULL,
    encoding TEXT NOT NULL);
CREATE TABLE audio_blocks (audio_id INTEGER NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL);
CREATE UNIQUE INDEX audio_blocks_by_audio ON audio_blocks(audio_id, seq);
CREATE TABLE takes (id TEXT PRIMARY KEY, block_id TEXT NOT NULL, position INTEGER NOT NULL,
    name TEXT NOT NULL, audio_id INTEGER NOT NULL, words TEXT NOT NULL, phonemes TEXT NOT NULL,
    request TEXT NOT NULL, backend TEXT NOT NULL, credits INTEGER NOT NULL,
    created_at REAL NOT NULL, deleted INTEGER NOT NULL DEFAULT 0);
"""


def speech_like(seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    audio = 0.3 * np.sin(2 * np.pi * 180 * t) + 0.05 * rng.standard_normal(t.size)
    return (np.round(audio * 32767) / 32768).astype(np.float32)


def saved_project(path: Path, blocks: int = 4) -> Path:
    """A closed project of ``blocks`` blocks with a 1 s take each, written directly."""
    store = ProjectStore.create(path)
    script = []
    for index in range(blocks):
        block = Block(text=f"Block number {index}.", voice_id="v1")
        request = {"model_id": "sonic-3", "transcript": block.text,
                   "voice": {"mode": "id", "id": "v1"}}
        take = make_take(speech_like(1.0, index), RATE, WordTimestamps(), PhonemeTimestamps(),
                         request, "cloud", len(block.text), 1, take_key(request, "cloud"))
        block.takes.append(take)
        block.selected_take_id = take.id
        store.add_take(block, take)
        script.append(block)
    store.write_script(script_rows(script))
    store.close()
    return path


def make_not_project(path: Path) -> None:
    path.write_bytes(b"These are my notes, not a project.\n" * 50)


def make_newer(path: Path) -> None:
    saved_project(path)
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()


def make_corrupt(path: Path) -> None:
    saved_project(path)
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big") or 65536
    middle = (len(data) // page_size // 2) * page_size  # an audio page
    data[middle:middle + page_size] = b"\xa5" * page_size
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("make", "message"),
    [(make_not_project, "not a Cartesia Studio project"),
     (make_newer, "newer Cartesia Studio"),
     (make_corrupt, "is damaged")],
    ids=["not_project", "newer", "corrupt"],
)
def test_unusable_project_exits_2_and_stays_byte_for_byte(tmp_path: Path, make: Any,
                                                          message: str) -> None:
    project = tmp_path / "p.cstudio"
    make(project)
    before = snapshot(project)
    script = write_script(tmp_path / "script.txt", PARAGRAPHS)
    out = tmp_path / "out.wav"
    for args in (("render", str(script), "--project", str(project), "-o", str(out)),
                 ("info", str(project))):
        result = run_cli(*args, cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert message in result.stderr and "left untouched" in result.stderr
        assert "Traceback" not in result.stderr and result.stdout == ""
        assert len(result.stderr.strip().splitlines()) == 1, "one clear line"
        assert snapshot(project) == before
    assert not out.exists()


def test_info_reads_an_older_format_without_upgrading_it(tmp_path: Path) -> None:
    project = tmp_path / "old.cstudio"
    audio = speech_like(1.5, 0)
    db = sqlite3.connect(project)
    db.executescript(V1_SCHEMA)
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO blocks VALUES ('b1', 0, 'Hello  there.', 'v1', 'sonic-3', 'en', NULL, "
               "1.0, 1.0, 't1', 0)")
    db.execute("INSERT INTO audio VALUES (1, ?, ?, 'f32le')", (RATE, audio.size))
    db.execute("INSERT INTO audio_blocks VALUES (1, 0, ?)", (audio.astype("<f4").tobytes(),))
    db.execute("INSERT INTO takes VALUES ('t1', 'b1', 0, 'Take 1', 1, '{}', '{}', '{}', 'cloud', "
               "12, 1700000000.0, 0)")
    db.commit()
    db.close()
    before = snapshot(project)

    result = run_cli("info", str(project), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert snapshot(project) == before
    info = json.loads(result.stdout)
    assert info["format_version"] == 1
    assert info["blocks"] == [{
        "index": 1, "id": "b1", "text": "Hello there.", "voice_id": "v1", "takes": 1,
        "selected_take": {"id": "t1", "name": "Take 1", "duration_seconds": 1.5}}]
    assert (info["takes"], info["selected_takes"], info["credits_spent"]) == (1, 1, 12)
    assert info["duration_seconds"] == 1.5


def test_project_argument_checks(tmp_path: Path) -> None:
    script = write_script(tmp_path / "script.txt", ["Hello."])
    result = run_cli("render", str(script), cwd=tmp_path)
    assert result.returncode == 2 and "-o OUT.wav, --project FILE.cstudio" in result.stderr
    result = run_cli("render", str(script), "--project", str(tmp_path / "p.txt"), cwd=tmp_path)
    assert result.returncode == 2 and "must be a .cstudio file" in result.stderr
    result = run_cli("render", str(script), "--project", str(tmp_path / "no" / "p.cstudio"),
                     cwd=tmp_path)
    assert result.returncode == 2 and "does not exist" in result.stderr
    result = run_cli("info", str(tmp_path / "missing.cstudio"), cwd=tmp_path)
    assert result.returncode == 2 and "does not exist" in result.stderr
    assert not list(tmp_path.glob("*.cstudio*"))


# --- kill -9 ------------------------------------------------------------------------


def test_sigkill_keeps_every_completed_take(tmp_path: Path) -> None:
    sentence = "This sentence is here to make the paragraph long enough to take a while. "
    paragraphs = [f"Paragraph {n}. " + sentence * 15 for n in range(1, 9)]
    script = write_script(tmp_path / "script.txt", paragraphs)
    project = tmp_path / "p.cstudio"
    env = dict(os.environ)
    env.pop("CARTESIA_API_KEY", None)
    log = (tmp_path / "render.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "studio", "render", str(script), "--project", str(project),
         "--jobs", "1"], cwd=tmp_path, env=env, stdout=log, stderr=log)
    seen = 0
    try:
        deadline = time.monotonic() + 180  # a safety net, not a measurement
        while seen < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
            if project.exists():
                with contextlib.suppress(sqlite3.OperationalError):  # not yet set up
                    seen = count_rows(project, "takes")
        assert seen >= 2, (tmp_path / "render.log").read_text()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        killed_mid_run = proc.returncode == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    assert killed_mid_run, "the render finished before it could be killed"

    loaded = load(project)
    takes = [t for b in loaded.blocks for t in b.takes]
    assert len(takes) >= seen
    for take in takes:
        assert take.audio.shape == (take.frames,) and take.frames > RATE
        assert float(np.sqrt(np.mean(take.audio ** 2))) > 0.01

    result = run_cli("render", str(script), "--project", str(project), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    generated, reused, _spent, _total = summary(result.stderr)
    assert reused >= len(takes) and generated + reused == len(paragraphs)


def test_rendering_again_without_voice_keeps_each_blocks_voice(tmp_path: Path) -> None:
    """A project cast with two voices (in the studio) stays cast that way when the same
    script is rendered into it again without ``--voice``: every take is reused."""
    script = write_script(tmp_path / "two.txt", ["The narrator begins.", "A second voice answers."])
    project = tmp_path / "two.cstudio"
    assert run_cli("render", str(script), "--project", str(project), "--offline",
                   cwd=tmp_path).returncode == 0
    other = run_cli("render", str(write_script(tmp_path / "one.txt", ["A second voice answers."])),
                    "--project", str(tmp_path / "other.cstudio"), "--voice", "fiona", "--offline",
                    cwd=tmp_path)
    assert other.returncode == 0, other.stderr
    fiona = load(tmp_path / "other.cstudio").blocks[0]
    store = ProjectStore.open(project)
    try:
        loaded = store.load()
        second = loaded.blocks[1]
        take = fiona.takes[0]
        second.voice_id = fiona.voice_id
        second.takes.append(take)
        second.selected_take_id = take.id
        store.add_take(second, take, len(second.takes) - 1)
        store.write_script(script_rows(loaded.blocks))
        voices = [b.voice_id for b in loaded.blocks]
    finally:
        store.close()
    assert voices[0] != voices[1]
    again = run_cli("render", str(script), "--project", str(project), "--offline", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert summary(again.stderr)[:2] == (0, 2), again.stderr
    after = load(project)
    assert [b.voice_id for b in after.blocks] == voices
    assert after.blocks[1].selected_take_id == take.id
