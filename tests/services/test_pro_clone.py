"""Professional cloning (:mod:`studio.services.pro_clone`) against the offline engine:
files checked before upload, a fine-tune watched to completion with its voice marked as a
professional clone, polling resumed by a new service reading saved settings, a fine-tune
that fails for too little speech, and files that cannot be read."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
import soundfile as sf

from studio.api import CartesiaClient
from studio.api.models import OutputFormat, TTSRequest
from studio.audio.buffers import wav_bytes
from studio.config import Settings, load_settings, save_settings
from studio.keystore import KeyStore
from studio.services.pro_clone import (
    FINE_TUNE_MODEL,
    OFFLINE_MIN_SECONDS,
    ProClone,
    ProCloneError,
    recommended_seconds,
)
from studio.services.voices import VoiceCatalog

T = TypeVar("T")
RATE = 24000
LINES = (
    "I have been reading stories aloud for years, and every one of them begins quietly.",
    "The narrator takes a breath, looks at the page, and lets the first sentence land.",
    "Then the characters arrive, each with a voice of their own and a reason to speak.",
    "By the last chapter the listener knows them all, and trusts the voice telling it.",
    "That trust is the whole craft: steady breath, clear words, and a little patience.",
)


def run(qloop: Any, awaitable: Awaitable[T], timeout: float = 120.0) -> T:
    return qloop.run_until_complete(asyncio.wait_for(awaitable, timeout))  # type: ignore[no-any-return]


@pytest.fixture
def client(private_engine, loopback_client) -> CartesiaClient:  # type: ignore[no-untyped-def]
    return loopback_client(private_engine)  # type: ignore[no-any-return]


def speech(qloop: Any, client: CartesiaClient, text: str) -> np.ndarray:
    """Engine speech of ``text`` after half a second of digital silence, float32."""
    voice = run(qloop, client.voices.list())[0]
    request = TTSRequest(transcript=text, voice_id=voice.id,
                         output_format=OutputFormat("raw", "pcm_f32le", RATE))
    audio = np.frombuffer(run(qloop, client.tts.bytes(request)), dtype=np.float32)
    return np.concatenate([np.zeros(RATE // 2, np.float32), audio])


async def started(pro: ProClone, name: str, dataset_id: str) -> Any:
    """Start a fine-tune and return it once it finished. Polling tasks start and end
    within one run of the loop, as in the running studio (qasync steps a task only while
    its loop runs)."""
    tune = await pro.start(name, dataset_id)
    assert pro.pending == [tune.id]
    await pro.wait_idle()
    return tune


def service(client: CartesiaClient, **kwargs: Any) -> tuple[ProClone, list[tuple[str, ...]]]:
    pro = ProClone(VoiceCatalog(), first_poll=0.05, max_poll=0.4, **kwargs)
    pro.set_client(client, "offline")
    seen: list[tuple[str, ...]] = []
    pro.status_changed.connect(lambda *args: seen.append(args))
    return pro, seen


def test_dataset_checked_files_fine_tune_and_pro_voice(qloop, client) -> None:  # type: ignore[no-untyped-def]
    pro, seen = service(client)
    saved_pending: list[list[str]] = []
    saved_voices: list[list[str]] = []
    pro.pending_changed.connect(saved_pending.append)
    pro.pro_voices_changed.connect(saved_voices.append)
    dataset = run(qloop, pro.dataset("  Narrator takes "))
    assert dataset.name == "Narrator takes"
    assert run(qloop, pro.dataset("Narrator takes")).id == dataset.id  # reused

    entries = [run(qloop, pro.add_clip(dataset.id, speech(qloop, client, line), RATE,
                                       f"take{n}.wav"))
               for n, line in enumerate(LINES)]
    silent = run(qloop, pro.add_clip(dataset.id, np.zeros(RATE * 3, np.float32), RATE,
                                     "silence.wav"))
    assert all(e.uploaded for e in entries), [e.report.problems for e in entries]
    assert not silent.uploaded and silent.clean_seconds == 0.0 and silent.report.problems
    files = run(qloop, client.datasets.list_files(dataset.id))
    assert sorted(f.filename for f in files) == [f"take{n}.wav" for n in range(len(LINES))]
    clean = sum(e.clean_seconds for e in entries)
    assert clean >= OFFLINE_MIN_SECONDS == recommended_seconds("offline")
    assert recommended_seconds("cloud") == 30 * 60

    tune = run(qloop, started(pro, "Narrator Pro", dataset.id))
    assert tune.status == "created" and tune.model_id == FINE_TUNE_MODEL
    assert saved_pending[0] == [tune.id]

    assert seen[-1][:2] == (tune.id, "completed"), seen
    assert pro.pending == [] and saved_pending[-1] == []
    made = run(qloop, client.fine_tunes.list_voices(tune.id))
    assert made and {v.id for v in made} == pro.pro_voices == set(saved_voices[-1])
    assert all(pro.is_pro_clone(v.id) for v in made)
    assert pro.catalog.voice(made[0].id) is not None  # the catalog was reloaded


def test_polling_resumes_from_saved_settings(qloop, client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A studio that started a fine-tune and stopped: the next one reads the id from the
    settings file and follows the fine-tune to its end."""
    dataset = run(qloop, client.datasets.create(name="Resumed"))
    for n, line in enumerate(LINES):
        data = np.asarray(speech(qloop, client, line))
        run(qloop, client.datasets.upload_file(dataset.id, wav_bytes(data, RATE),
                                               filename=f"r{n}.wav"))
    tune = run(qloop, client.fine_tunes.create(name="Resumed voice", dataset=dataset.id,
                                               model_id=FINE_TUNE_MODEL))
    path = tmp_path / "settings.json"
    keys = KeyStore(tmp_path)
    save_settings(Settings(pending_fine_tunes=[tune.id, "gone-fine-tune"]), path)

    settings = load_settings(path, keys)
    assert settings.pending_fine_tunes == [tune.id, "gone-fine-tune"]
    pro = ProClone(VoiceCatalog(), settings.pending_fine_tunes, settings.pro_clone_voices,
                   first_poll=0.05, max_poll=0.4)
    seen: list[tuple[str, ...]] = []
    pro.status_changed.connect(lambda *args: seen.append(args))

    def keep(ids: list[str], name: str) -> None:
        setattr(settings, name, list(ids))
        save_settings(settings, path)

    pro.pending_changed.connect(lambda ids: keep(ids, "pending_fine_tunes"))
    pro.pro_voices_changed.connect(lambda ids: keep(ids, "pro_clone_voices"))

    async def resume() -> None:  # connecting starts the polls (in the running loop)
        pro.set_client(client, "offline")
        await pro.wait_idle()

    run(qloop, resume())

    again = load_settings(path, keys)
    assert again.pending_fine_tunes == []
    made = {v.id for v in run(qloop, client.fine_tunes.list_voices(tune.id))}
    assert made and set(again.pro_clone_voices) == made
    statuses = {args[0]: args[1] for args in seen}
    assert statuses == {tune.id: "completed", "gone-fine-tune": "failed"}


def test_too_little_speech_fails_with_the_reason(qloop, client) -> None:  # type: ignore[no-untyped-def]
    pro, seen = service(client)
    dataset = run(qloop, pro.dataset("Too short"))
    entry = run(qloop, pro.add_clip(dataset.id, speech(qloop, client, "Hello there."), RATE,
                                    "short.wav"))
    assert entry.uploaded and entry.clean_seconds < OFFLINE_MIN_SECONDS
    tune = run(qloop, started(pro, "Short voice", dataset.id))
    last = seen[-1]
    assert last[:2] == (tune.id, "failed") and "speech" in last[2]
    assert pro.pending == [] and not pro.pro_voices


def test_unreadable_files_and_no_backend(qloop, client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pro, _ = service(client)
    dataset = run(qloop, pro.dataset("Files"))
    bad = tmp_path / "notes.wav"
    bad.write_bytes(b"not audio at all")
    with pytest.raises(ProCloneError, match=r"notes\.wav"):
        run(qloop, pro.add_file(dataset.id, bad))
    with pytest.raises(ProCloneError, match=r"missing\.flac"):
        run(qloop, pro.add_file(dataset.id, tmp_path / "missing.flac"))
    good = tmp_path / "reading.flac"
    sf.write(good, speech(qloop, client, LINES[0]), RATE, format="FLAC")
    entry = run(qloop, pro.add_file(dataset.id, good))
    assert entry.filename == "reading.wav" and entry.uploaded
    with pytest.raises(ValueError, match="Name"):
        run(qloop, pro.dataset("   "))
    pro.set_client(None)
    with pytest.raises(ProCloneError, match="Not connected"):
        run(qloop, pro.dataset("Files"))
