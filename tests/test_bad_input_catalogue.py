"""The bad-input catalogue of issue 14: what a creator or a stranger can hand the studio
(scripts, audio files, project files, pronunciation dictionaries, requests to the
offline engine), each answered with a message that says what is wrong, and nothing
written or lost on the way.

Each case is one input through the entry point that meets it in use: ``read_script_file``
(Import script, ``render``), ``load_clip`` (the Voice lab's clip import),
``ProjectStore.open`` (File > Open, ``render --project``), ``parse_lexicon`` (Import
dictionary) and the engine's HTTP routes. The message is matched by a pattern naming
the problem, and what was there before is checked to be unchanged.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import struct
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf

from studio.audio.buffers import AudioFileError
from studio.audio.clip_checks import load_clip
from studio.offline.voices import BUILTIN_VOICES
from studio.project.lexicon import LexiconError, parse_lexicon
from studio.project.script import ScriptError, read_script_file
from studio.project.store import ProjectError, ProjectStore

# --- scripts ---------------------------------------------------------------------------

ScriptCase = tuple[Callable[[Path], Path], str]


def _file(data: bytes, name: str = "script.txt") -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path
    return make


def _big(folder: Path) -> Path:
    path = folder / "big.txt"
    with path.open("wb") as out:
        out.truncate(21 * 1024 * 1024)  # sparse: 21 MB of NULs, nothing on disk
    return path


SCRIPT_REFUSED: dict[str, ScriptCase] = {
    "missing": (lambda folder: folder / "nope.txt", "no such file"),
    "folder": (lambda folder: folder, "cannot read"),
    "latin-1": (_file("Caf\xe9 au lait.".encode("latin-1")), r"not UTF-8 text \(bad byte 0xe9"),
    "utf-16": (_file("Hello there.".encode("utf-16")), "not UTF-8 text"),
    "png": (_file(b"\x89PNG\r\n\x1a\n" + bytes(range(256))), "not UTF-8 text"),
    "over 20 MB": (_big, "larger than 20 MB"),
    "endless device": (lambda folder: Path("/dev/zero"), "larger than 20 MB"),
    "truncated utf-8": (_file("Señor".encode()[:-2] + b"\xc3"), "not UTF-8 text"),
}


@pytest.mark.parametrize("case", list(SCRIPT_REFUSED))
def test_a_bad_script_is_refused_with_a_message(case: str, tmp_path: Path) -> None:
    make, message = SCRIPT_REFUSED[case]
    path = make(tmp_path)
    with pytest.raises(ScriptError, match=message):
        read_script_file(path)


SCRIPT_CLEANED: dict[str, tuple[bytes, str, str]] = {
    # bytes -> (the text kept, a notice's words)
    "NUL in a word": (b"Hel\x00lo there.", "Hello there.", "U+0000"),
    "bell and escape": (b"One\x07 two\x1b three.", "One two three.", "control character"),
    "BOM": (b"\xef\xbb\xbfHello.", "Hello.", ""),
    "CRLF": (b"One.\r\n\r\nTwo.", "One.", ""),
    "form feed": (b"One.\x0cTwo.", "One.Two.", "control character"),
}


@pytest.mark.parametrize("case", list(SCRIPT_CLEANED))
def test_a_script_with_stray_characters_is_cleaned_and_says_so(case: str,
                                                                tmp_path: Path) -> None:
    data, kept, notice = SCRIPT_CLEANED[case]
    read = read_script_file(_file(data)(tmp_path))
    assert kept in read.text
    assert "\x00" not in read.text and "\x07" not in read.text
    if notice:
        assert any(notice in n for n in read.notices), read.notices
    else:
        assert not read.notices


# --- audio files (the Voice lab's clip import) ----------------------------------------


def _wav(frames: int = 16_000, channels: int = 1, rate: int = 16_000,
         subtype: str = "PCM_16") -> bytes:
    data = np.zeros((frames, channels), dtype=np.float32)
    out = io.BytesIO()
    sf.write(out, data, rate, format="WAV", subtype=subtype)
    return out.getvalue()


def _lying_wav() -> bytes:
    """A WAV whose header declares 4 GB of samples but holds one second."""
    data = bytearray(_wav())
    struct.pack_into("<I", data, data.index(b"data") + 4, 0xFFFF_FFF0)
    return bytes(data)


AUDIO_REFUSED: dict[str, tuple[Callable[[Path], Path], str]] = {
    "empty": (_file(b"", "clip.wav"), r"."),
    "text named .wav": (_file(b"this is not audio\n" * 50, "clip.wav"), r"."),
    "png named .mp3": (_file(b"\x89PNG\r\n\x1a\n" + bytes(200), "clip.mp3"), r"."),
    "truncated header": (_file(_wav()[:30], "clip.wav"), r"."),
    "random bytes": (_file(np.random.default_rng(5).bytes(4096), "clip.flac"), r"."),
    "nine channels": (_file(_wav(frames=1600, channels=9), "clip.wav"), r"channels"),
    "768 kHz": (_file(_wav(frames=7680, rate=768_000), "clip.wav"), r"Hz|rate"),
    "silence only": (_file(_wav(), "clip.wav"), r"."),
    "folder": (lambda folder: folder, r"."),
    "missing": (lambda folder: folder / "gone.wav", r"."),
}


@pytest.mark.parametrize("case", list(AUDIO_REFUSED))
def test_a_bad_clip_is_refused_with_a_message(case: str, tmp_path: Path) -> None:
    make, message = AUDIO_REFUSED[case]
    path = make(tmp_path)
    with pytest.raises((AudioFileError, ValueError, OSError), match=message) as caught:
        audio, rate = load_clip(path)
        # A clip that decodes must still be refused by the clone checks (silence).
        from studio.audio.clip_checks import check_clip
        report = check_clip(audio, rate)
        raise ValueError("; ".join(report.problems)) if not report.ok else AssertionError(
            "accepted")
    assert str(caught.value).strip(), "an empty message"


def test_the_decompression_bomb_is_refused_from_its_header(flac_bomb: Path) -> None:
    with pytest.raises(AudioFileError, match="921,600,000 samples"):
        load_clip(flac_bomb)


def test_a_header_that_lies_about_its_length_yields_what_is_there(tmp_path: Path) -> None:
    path = _file(_lying_wav(), "clip.wav")(tmp_path)
    try:
        audio, rate = load_clip(path)
    except (AudioFileError, ValueError) as exc:
        assert str(exc)
    else:
        assert audio.shape[0] <= 16_000 and rate == 16_000


# --- project files ------------------------------------------------------------------------


def _sqlite(folder: Path, setup: str) -> Path:
    path = folder / "other.cstudio"
    with sqlite3.connect(path) as db:
        db.executescript(setup)
    db.close()
    return path


def _project(folder: Path) -> Path:
    """A new, empty project file."""
    path = folder / "good.cstudio"
    ProjectStore.create(path).close()
    return path


def _damaged_project(folder: Path) -> Path:
    path = _project(folder)
    data = bytearray(path.read_bytes())
    data[:16] = b"not a database!!"
    path.write_bytes(bytes(data))
    return path


def _newer_project(folder: Path) -> Path:
    path = _project(folder)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 999")
    db.close()
    return path


PROJECT_REFUSED: dict[str, tuple[Callable[[Path], Path], str]] = {
    "empty file": (_file(b"", "empty.cstudio"), "not_project|corrupt"),
    "text file": (_file(b"Chapter one.\n" * 40, "text.cstudio"), "not_project|corrupt"),
    "random bytes": (_file(np.random.default_rng(7).bytes(8192), "r.cstudio"),
                     "not_project|corrupt"),
    "another app's database": (lambda f: _sqlite(f, "CREATE TABLE notes(x);"),
                               "not_project|corrupt|newer"),
    "overwritten header": (_damaged_project, "not_project|corrupt"),
    "from a newer studio": (_newer_project, "newer"),
    "truncated database": (lambda f: _file(_project(f).read_bytes()[:100], "t.cstudio")(f),
                           "not_project|corrupt"),
}


@pytest.mark.parametrize("case", list(PROJECT_REFUSED))
def test_a_bad_project_file_is_refused_and_left_as_it_was(case: str, tmp_path: Path) -> None:
    make, kinds = PROJECT_REFUSED[case]
    path = make(tmp_path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    names = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(ProjectError) as caught:
        ProjectStore.open(path).close()
    assert caught.value.kind in kinds.split("|"), (caught.value.kind, str(caught.value))
    assert str(caught.value).strip()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before, "the file was changed"
    left = sorted(p.name for p in tmp_path.iterdir())
    assert [n for n in left if n not in names and not n.startswith(path.name)] == []


# --- pronunciation dictionaries ---------------------------------------------------------

_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
           b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
           b'<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon">'
           b"<lexeme><grapheme>&lol2;</grapheme><alias>x</alias></lexeme></lexicon>")

DICTIONARY_REFUSED: dict[str, tuple[bytes, str]] = {
    "nested too deeply": (b"[" * 100_000 + b"]" * 100_000, "json"),
    "invalid JSON": (b'{"items": [', "json"),
    "JSON string": (b'"just a string"', "json"),
    "JSON number": (b"42", "json"),
    "items of the wrong type": (b'{"items": [1, 2, 3]}', "json"),
    "empty JSON": (b"", "json"),
    "JSON null": (b"null", "json"),
    "JSON behind a BOM, wrong shape": (b'\xef\xbb\xbf{"x": 1}', "json"),
    "binary": (b"\x00\x01\x02\xff" * 100, "csv"),
    "XML with entities": (_LAUGHS, "pls"),
    "broken XML": (b"<lexicon><lexeme><grapheme>a</lexeme>", "pls"),
    "not a lexicon": (b"<html><body>hi</body></html>", "pls"),
    "CSV of one column": (b"word only\nanother\n", "csv"),
}


@pytest.mark.parametrize("case", list(DICTIONARY_REFUSED))
def test_a_bad_dictionary_file_is_one_clear_message(case: str) -> None:
    data, fmt = DICTIONARY_REFUSED[case]
    with pytest.raises(LexiconError) as caught:
        parse_lexicon(data, fmt)  # type: ignore[arg-type]  # the format names as the UI passes them
    assert str(caught.value).strip()


# --- requests to the offline engine ---------------------------------------------------------

ENGINE_REFUSED: dict[str, tuple[str, str, dict[str, str], bytes | None, int]] = {
    # case -> (method, path, header changes, body, status)
    "no key": ("GET", "/voices", {"Authorization": ""}, None, 401),
    "wrong key": ("GET", "/voices", {"Authorization": "Bearer nope"}, None, 401),
    "not a bearer": ("GET", "/voices", {"Authorization": "Basic eDp5"}, None, 401),
    "web page origin": ("GET", "/voices", {"Origin": "https://evil.example"}, None, 403),
    "cross-site fetch": ("GET", "/voices", {"Sec-Fetch-Site": "cross-site"}, None, 403),
    "rebound host": ("GET", "/voices", {"Host": "evil.example"}, None, 403),
    "unknown version": ("GET", "/voices", {"Cartesia-Version": "1999-01-01"}, None, 400),
    "invalid JSON": ("POST", "/tts/bytes", {"Content-Type": "application/json"}, b"{", 400),
    "JSON list": ("POST", "/tts/bytes", {"Content-Type": "application/json"}, b"[]", 400),
    "nested JSON": ("POST", "/tts/bytes", {"Content-Type": "application/json"},
                    b"[" * 10_000 + b"]" * 10_000, 400),
    "no transcript": ("POST", "/tts/bytes", {"Content-Type": "application/json"},
                      json.dumps({"model_id": "sonic-3", "voice": {"mode": "id", "id": "x"},
                                  "output_format": {"container": "wav", "encoding":
                                                    "pcm_s16le", "sample_rate": 16000}}).encode(),
                      400),
    "unknown voice": ("POST", "/tts/bytes", {"Content-Type": "application/json"},
                      json.dumps({"model_id": "sonic-3", "transcript": "Hi.",
                                  "voice": {"mode": "id", "id": "no-such-voice"},
                                  "output_format": {"container": "wav", "encoding":
                                                    "pcm_s16le", "sample_rate": 16000}}).encode(),
                      404),
    "sample rate out of range": ("POST", "/tts/bytes", {"Content-Type": "application/json"},
                                 json.dumps({"model_id": "sonic-3", "transcript": "Hi.",
                                             "voice": {"mode": "id",
                                                       "id": BUILTIN_VOICES[0].id},
                                             "output_format": {"container": "wav",
                                                               "encoding": "pcm_s16le",
                                                               "sample_rate": 7}}).encode(),
                                 400),
    "unknown route": ("GET", "/no/such/route", {}, None, 404),
    "wrong method": ("DELETE", "/tts/bytes", {}, None, 405),
    "clone without a clip": ("POST", "/voices/clone", {}, None, 400),
}


@pytest.mark.parametrize("case", list(ENGINE_REFUSED))
def test_a_bad_request_to_the_engine_is_a_4xx_with_a_message(case: str,
                                                             offline_engine: object) -> None:
    method, path, changes, body, status = ENGINE_REFUSED[case]
    engine = offline_engine
    headers = {"Authorization": f"Bearer {engine.api_key}",  # type: ignore[attr-defined]
               "Cartesia-Version": "2025-04-16"}
    for name, value in changes.items():
        if value:
            headers[name] = value
        else:
            headers.pop(name, None)
    with httpx.Client(base_url=engine.base_url, timeout=60) as client:  # type: ignore[attr-defined]
        answer = client.request(method, path, headers=headers, content=body)
    assert answer.status_code == status, (answer.status_code, answer.text[:300])
    assert answer.text.strip(), "no message"
    assert "Traceback" not in answer.text


def test_the_catalogue_has_at_least_sixty_inputs() -> None:
    total = (len(SCRIPT_REFUSED) + len(SCRIPT_CLEANED) + len(AUDIO_REFUSED) + 2
             + len(PROJECT_REFUSED) + len(DICTIONARY_REFUSED) + len(ENGINE_REFUSED))
    assert total >= 60, total
