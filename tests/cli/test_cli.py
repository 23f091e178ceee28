"""``cartesia-studio render``, ``voices`` and ``serve-local`` as a user runs them."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

SCRIPT = """Welcome to the show. Today we talk about voices.

The second paragraph is a little longer, and it has a comma, too.

Thanks for listening. See you next week!
"""


def run_cli(*args: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("CARTESIA_API_KEY", None)
    return subprocess.run([sys.executable, "-m", "studio", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_render_multi_paragraph_script(tmp_path: Path) -> None:
    script = tmp_path / "script.txt"
    script.write_text(SCRIPT, encoding="utf-8")
    out, stamps = tmp_path / "out.wav", tmp_path / "words.json"
    result = run_cli("render", str(script), "-o", str(out), "--timestamps", str(stamps),
                     "--pause", "0.4", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "3/3" in result.stderr and "Offline engine" in result.stderr

    audio, rate = sf.read(out, dtype="float32")
    words = json.loads(stamps.read_text(encoding="utf-8"))["words"]
    expected_words = SCRIPT.split()
    assert len(words) == len(expected_words)
    assert [w["word"].strip(".,!?").lower() for w in words] == \
        [w.strip(".,!?").lower() for w in expected_words]
    duration = len(audio) / rate
    assert 0.25 * len(expected_words) < duration < 0.9 * len(expected_words)
    starts = [w["start"] for w in words]
    assert starts == sorted(starts) and words[-1]["end"] <= duration + 0.01
    assert {w["block"] for w in words} == {1, 2, 3}
    assert np.sqrt(np.mean(audio**2)) > 0.02
    # The second block starts after the first block's audio and the 0.4 s pause.
    first_block_end = max(w["end"] for w in words if w["block"] == 1)
    second_start = min(w["start"] for w in words if w["block"] == 2)
    assert second_start - first_block_end >= 0.4


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (b"\n\n  \n", (), "empty"),
        ("Caf\u00e9".encode("latin-1"), (), "not UTF-8"),
        (b"Hello.", ("--voice", "00000000-0000-0000-0000-000000000000"), "unknown voice"),
        (b"Hello.", ("--speed", "3"), "speed must be between"),
        (b"Hello.", ("--emotion", "grumpy"), "unknown emotion"),
        (b"Hello.\n\nAgain.", ("--model", "sonic-0"), "blocks 1, 2 failed: 400: Invalid model"),
        (b'Bad <break time="soon"/> tag.', (), "block 1 failed: 400"),
    ],
)
def test_render_bad_input_exits_2_with_a_message(tmp_path: Path, content: bytes,
                                                  args: tuple[str, ...], message: str) -> None:
    script = tmp_path / "script.txt"
    script.write_bytes(content)
    result = run_cli("render", str(script), "-o", str(tmp_path / "out.wav"), *args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out.wav").exists()


def test_voice_by_name_and_output_checks_before_rendering(tmp_path: Path) -> None:
    script = tmp_path / "script.txt"
    script.write_text("Hello there.", encoding="utf-8")
    result = run_cli("render", str(script), "-o", str(tmp_path / "missing" / "out.wav"),
                     cwd=tmp_path)
    assert (
        result.returncode == 2 and "folder" in result.stderr and "does not exist" in result.stderr
    )
    assert "Rendering" not in result.stderr, "the path is checked before any work"
    result = run_cli("render", str(script), "-o", str(tmp_path / "out.voice"), cwd=tmp_path)
    assert result.returncode == 2 and "unknown extension .voice" in result.stderr
    assert "Rendering" not in result.stderr, "the format is checked before any work"
    result = run_cli("render", str(script), "-o", str(tmp_path / "out.mp3"), "--format", "wav",
                     cwd=tmp_path)
    assert result.returncode == 2 and "extension of MP3 but --format is WAV" in result.stderr
    assert not (tmp_path / "out.mp3").exists() and not (tmp_path / "out.wav").exists()
    result = run_cli("render", str(script), "-o", str(tmp_path / "out.wav"), "--voice", "fiona",
                     "--offline", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "with Fiona" in result.stderr


def test_serve_local_prints_its_url_and_answers(tmp_path: Path) -> None:
    import httpx

    env = dict(os.environ)
    proc = subprocess.Popen(
        [sys.executable, "-m", "studio", "serve-local", "--port", "0", "--api-key", "k123",
         "--data-dir", str(tmp_path / "engine")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        url = ""
        while time.monotonic() < deadline and not url:
            line = proc.stdout.readline()
            if "listening on" in line:
                url = line.split("listening on", 1)[1].strip()
        assert url.startswith("http://127.0.0.1:")
        r = httpx.get(url + "/", headers={"Authorization": "Bearer k123",
                                          "Cartesia-Version": "2025-11-04"})
        assert r.status_code == 200 and r.json()["ok"] is True
        r = httpx.get(url + "/voices", headers={"Authorization": "Bearer wrong",
                                                "Cartesia-Version": "2025-11-04"})
        assert r.status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_serve_local_refuses_a_remote_host_without_the_flag(tmp_path: Path) -> None:
    result = run_cli("serve-local", "--host", "0.0.0.0", "--data-dir", str(tmp_path), cwd=tmp_path,
                     timeout=60)
    assert result.returncode == 1
    assert "allow-remote" in result.stderr or "loopback" in result.stderr


def test_blocks_that_rendered_are_kept_when_one_fails(tmp_path: Path) -> None:
    script = tmp_path / "script.txt"
    script.write_text(
        'A good first block.\n\nA bad <break time="later"/> block.\n\nA good last one.',
        encoding="utf-8",
    )
    out = tmp_path / "out.wav"
    result = run_cli("render", str(script), "-o", str(out), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "block 2 failed" in result.stderr and "out.partial.wav" in result.stderr
    assert not out.exists()
    audio, rate = sf.read(tmp_path / "out.partial.wav", dtype="float32")
    assert 1.0 < len(audio) / rate < 8.0 and np.sqrt(np.mean(audio**2)) > 0.01


def test_a_long_paragraph_streams_as_continuations_with_one_timeline(tmp_path: Path) -> None:
    sentence = "Every sentence here adds a few more words to a long paragraph. "
    script = tmp_path / "long.txt"
    script.write_text(sentence * 50, encoding="utf-8")  # ~3 200 characters: 7 inputs
    out, stamps = tmp_path / "long.wav", tmp_path / "long.json"
    result = run_cli("render", str(script), "-o", str(out), "--timestamps", str(stamps),
                     "--sample-rate", "16000", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    words = json.loads(stamps.read_text(encoding="utf-8"))["words"]
    assert len(words) == len((sentence * 50).split())
    starts = [w["start"] for w in words]
    assert all(b > a for a, b in itertools.pairwise(starts)), "one rising timeline"
    info = sf.info(out)
    assert words[-1]["end"] <= info.duration + 0.01
    assert info.duration > 0.25 * len(words)


def test_render_refuses_an_endless_script_at_once(tmp_path: Path) -> None:
    result = run_cli("render", "/dev/zero", "-o", str(tmp_path / "out.wav"), cwd=tmp_path,
                     timeout=60)
    assert result.returncode == 2, result.stderr
    assert "/dev/zero: the script is larger than 20 MB" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out.wav").exists()
