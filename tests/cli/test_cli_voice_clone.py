"""``voice-change``, ``datasets`` and ``fine-tunes`` as a user scripts them, on the
offline engine each command starts (records persist in the session's data folder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile as sf

from tests.cli.test_cli import run_cli

SPEECH = """The quick brown fox jumps over the lazy dog. She sells sea shells by the sea \
shore, and the shells she sells are surely sea shells.

Peter Piper picked a peck of pickled peppers. How many pickled peppers did he pick?
"""


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 13 s of speech, rendered by the CLI from a script."""
    folder = tmp_path_factory.mktemp("speech")
    (folder / "script.txt").write_text(SPEECH, encoding="utf-8")
    result = run_cli("render", "script.txt", "-o", "speech.wav", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder / "speech.wav"


def voice_ids(cwd: Path) -> list[str]:
    result = run_cli("voices", cwd=cwd)
    assert result.returncode == 0, result.stderr
    return [line.split()[0] for line in result.stdout.splitlines()]


def test_voice_change_keeps_the_duration(tmp_path: Path, speech: Path) -> None:
    voice = voice_ids(tmp_path)[1]
    result = run_cli("voice-change", str(speech), "--voice", voice, "-o", "out.wav",
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Offline engine: free" in result.stderr
    original, converted = sf.info(speech), sf.info(tmp_path / "out.wav")
    assert converted.subtype == "PCM_16"
    assert abs(converted.duration - original.duration) <= 0.01 * original.duration
    audio, _rate = sf.read(tmp_path / "out.wav", dtype="float32")
    assert float((audio**2).mean()) ** 0.5 > 0.01  # speech, not silence
    # The format follows -o's extension, as render's does.
    mp3 = run_cli("voice-change", str(speech), "--voice", voice, "-o", "out.mp3",
                  cwd=tmp_path)
    assert mp3.returncode == 0, mp3.stderr
    assert sf.info(tmp_path / "out.mp3").format == "MP3"


def test_voice_change_bad_input_exits_2(tmp_path: Path, speech: Path) -> None:
    voice = voice_ids(tmp_path)[0]
    (tmp_path / "notes.wav").write_text("not audio at all", encoding="utf-8")
    cases = [
        (("missing.wav", "--voice", voice), "missing.wav: no such file"),
        (("notes.wav", "--voice", voice), "notes.wav is not audio"),
        ((str(speech), "--voice", "00000000-0000-0000-0000-000000000000"), "unknown voice"),
        ((str(speech), "--voice", voice, "--captions", "c.srt"), "does not apply"),
    ]
    for args, message in cases:
        result = run_cli("voice-change", *args, "-o", "out.wav", cwd=tmp_path)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr and "Traceback" not in result.stderr
        assert not (tmp_path / "out.wav").exists()


def test_professional_clone_scripted_end_to_end(tmp_path: Path, speech: Path) -> None:
    created = run_cli("datasets", "create", "CLI narrator", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    dataset = json.loads(created.stdout)["id"]
    files = []
    for name in ("one.wav", "two.wav", "three.wav"):
        (tmp_path / name).write_bytes(speech.read_bytes())
        files.append(name)
    uploaded = run_cli("datasets", "upload", dataset, *files, cwd=tmp_path)
    assert uploaded.returncode == 0, uploaded.stderr
    got = run_cli("datasets", "get", dataset, cwd=tmp_path)
    assert got.returncode == 0, got.stderr
    assert sorted(f["filename"] for f in json.loads(got.stdout)["files"]) == sorted(files)
    listed = run_cli("datasets", "list", cwd=tmp_path)
    assert dataset in [d["id"] for d in json.loads(listed.stdout)]

    started = run_cli("fine-tunes", "create", "--dataset", dataset, "--name", "CLI narrator",
                      cwd=tmp_path)
    assert started.returncode == 0, started.stderr
    tune = json.loads(started.stdout)
    assert tune["dataset"] == dataset and tune["status"] in ("created", "training")
    status = run_cli("fine-tunes", "status", tune["id"], "--wait", "--timeout", "200",
                     cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["status"] == "completed" and len(report["voices"]) == 1
    assert tune["id"] in [t["id"] for t in json.loads(
        run_cli("fine-tunes", "list", cwd=tmp_path).stdout)]

    (tmp_path / "line.txt").write_text("Hello from my own voice.", encoding="utf-8")
    rendered = run_cli("render", "line.txt", "--voice", report["voices"][0], "-o", "mine.wav",
                       cwd=tmp_path)
    assert rendered.returncode == 0, rendered.stderr
    assert "CLI narrator" in rendered.stderr
    assert sf.info(tmp_path / "mine.wav").duration > 0.5


def test_training_bad_input_exits_2(tmp_path: Path) -> None:
    (tmp_path / "notes.wav").write_text("not audio", encoding="utf-8")
    created = run_cli("datasets", "create", "Bad input", cwd=tmp_path)
    dataset = json.loads(created.stdout)["id"]
    cases = [
        (("datasets", "get", "dataset_unknown"), "dataset not found"),
        (("datasets", "upload", "dataset_unknown", "notes.wav"), "notes.wav is not audio"),
        (("datasets", "upload", dataset, "missing.wav"), "missing.wav: no such file"),
        (("fine-tunes", "create", "--dataset", "dataset_unknown", "--name", "x"),
         "dataset not found"),
        (("fine-tunes", "create", "--dataset", dataset, "--name", "x"), "cannot start"),
        (("fine-tunes", "status", "fine_tune_unknown"), "not found"),
    ]
    for args, message in cases:
        result = run_cli(*args, cwd=tmp_path)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr and "Traceback" not in result.stderr


def test_the_estimate_and_the_polling_back_off() -> None:
    from itertools import islice

    from studio.cli.fine_tunes import MAX_POLL, poll_delays
    from studio.cli.voice_change import estimate_credits

    assert estimate_credits(13.2, "cloud") == 198  # 15 credits a second, rounded up
    assert estimate_credits(13.2, "offline") == 0
    delays = list(islice(poll_delays(), 12))
    assert delays[:3] == [1.0, 1.5, 2.25] and delays[-1] == MAX_POLL
    assert delays == sorted(delays)
