"""Datasets and fine-tunes (professional voice cloning) on the offline engine, driven by
the official v4 SDK over loopback: dataset and file CRUD with pagination, a fine-tune
from ``created`` to ``completed`` with its voice usable for TTS, refusals (not audio,
over the size limit, a dataset in use, too little speech) and a job resumed after a
restart.

Jobs that must be caught while running are held at a gate (``analyse_dataset``
replaced by a wrapper that waits on an event), so no test depends on timing.
"""

from __future__ import annotations

import pathlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
from offline_helpers import CLONE_SCRIPT, audio_file, auth_headers, render_speech

from studio.offline import OfflineEngine, fine_tune_routes
from studio.offline.clip_analysis import ClipAnalysis
from studio.offline.dataset_routes import MAX_FILE_BYTES
from studio.offline.fine_tune_routes import MIN_SPEECH_SECONDS, pool
from studio.offline.training_store import STORE_NAME

MODEL = "sonic-3-2025-10-27"
DEADLINE_S = 90.0


@pytest.fixture(scope="module")
def speech() -> bytes:
    """About 8 s of low (masculine) espeak-ng speech as a WAV file."""
    return audio_file(render_speech(CLONE_SCRIPT, "en-us+m3", pitch_offset=-30))


@pytest.fixture(scope="module")
def short_speech() -> bytes:
    return audio_file(render_speech("Hello there, how are you today?", "en-us+m3"))


@pytest.fixture
def engine(private_engine: OfflineEngine) -> OfflineEngine:
    return private_engine


def make_sdk(engine: OfflineEngine) -> Any:
    from cartesia import Cartesia

    return Cartesia(api_key=engine.api_key, base_url=engine.base_url,
                    websocket_base_url=engine.websocket_base_url, max_retries=0, timeout=60.0)


@pytest.fixture
def sdk(engine: OfflineEngine) -> Iterator[Any]:
    client = make_sdk(engine)
    yield client
    client.close()


def dataset_with(sdk: Any, *files: bytes, name: str = "Narrator takes") -> Any:
    dataset = sdk.datasets.create(name=name, description="studio recordings")
    for n, data in enumerate(files):
        sdk.datasets.files.upload(dataset.id, file=(f"take{n}.wav", data, "audio/wav"),
                                  purpose="fine_tune")
    return dataset


def wait_for_status(sdk: Any, tune_id: str, *wanted: str) -> tuple[Any, list[str]]:
    """Poll the fine-tune until its status is one of ``wanted`` (deadline DEADLINE_S);
    returns it and every status seen."""
    seen: list[str] = []
    deadline = time.monotonic() + DEADLINE_S
    while True:
        tune = sdk.fine_tunes.retrieve(tune_id)
        if not seen or seen[-1] != tune.status:
            seen.append(tune.status)
        if tune.status in wanted:
            return tune, seen
        assert time.monotonic() < deadline, f"fine-tune stuck at {seen}"
        time.sleep(0.05)


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Hold every fine-tune job's analysis until the event is set."""
    release = threading.Event()
    real = fine_tune_routes.analyse_dataset

    def held(*args: Any) -> ClipAnalysis:
        assert release.wait(DEADLINE_S), "the gate was never opened"
        return real(*args)

    monkeypatch.setattr(fine_tune_routes, "analyse_dataset", held)
    yield release
    release.set()


def test_dataset_crud_and_pagination(sdk: Any) -> None:
    import cartesia

    made = [sdk.datasets.create(name=f"Set {n}", description=f"number {n}") for n in range(5)]
    assert all(d.id.startswith("dataset_") and d.created_at for d in made)
    listed = [d.id for d in sdk.datasets.list(limit=2)]  # the SDK's pager follows the cursor
    assert [m.id for m in made] == [i for i in listed if i in {m.id for m in made}]
    first = sdk.datasets.list(limit=2)
    assert len(first.data) == 2 and first.has_more
    back = sdk.datasets.list(limit=2, ending_before=made[3].id)
    assert [d.id for d in back.data] == [made[1].id, made[2].id]

    assert sdk.datasets.update(made[0].id, name="Renamed", description="new words") is None
    fetched = sdk.datasets.retrieve(made[0].id)
    assert (fetched.name, fetched.description) == ("Renamed", "new words")
    sdk.datasets.delete(made[0].id)
    with pytest.raises(cartesia.NotFoundError):
        sdk.datasets.retrieve(made[0].id)
    with pytest.raises(cartesia.BadRequestError, match="name"):
        sdk.datasets.create(name="  ", description="")


def test_files_upload_list_paginate_and_delete(sdk: Any, engine: OfflineEngine,
                                               speech: bytes) -> None:
    dataset = dataset_with(sdk, speech, speech, speech)
    files = list(sdk.datasets.files.list(dataset.id, limit=2))
    assert [f.filename for f in files] == ["take0.wav", "take1.wav", "take2.wav"]
    assert all(f.size == len(speech) and f.id.startswith("file_") for f in files)
    stored = engine.data_dir / "datasets" / dataset.id / files[1].id
    assert stored.read_bytes() == speech  # kept as uploaded
    sdk.datasets.files.delete(files[1].id, id=dataset.id)
    assert [f.id for f in sdk.datasets.files.list(dataset.id)] == [files[0].id, files[2].id]
    assert not stored.exists()
    import cartesia
    with pytest.raises(cartesia.NotFoundError):
        sdk.datasets.files.delete(files[1].id, id=dataset.id)
    sdk.datasets.delete(dataset.id)
    assert not (engine.data_dir / "datasets" / dataset.id).exists()


def test_upload_refuses_what_is_not_usable_audio(sdk: Any, engine: OfflineEngine) -> None:
    import cartesia

    dataset = sdk.datasets.create(name="Bad uploads", description="")
    with pytest.raises(cartesia.BadRequestError, match="not audio"):
        sdk.datasets.files.upload(dataset.id, file=("notes.txt", b"just some text " * 50,
                                                    "text/plain"))
    silence = audio_file(np.zeros(22050 * 3, dtype=np.float32))
    with pytest.raises(cartesia.BadRequestError, match="silent"):
        sdk.datasets.files.upload(dataset.id, file=("quiet.wav", silence, "audio/wav"))
    many = audio_file(np.zeros((22050, 9), dtype=np.float32))
    with pytest.raises(cartesia.BadRequestError, match="9 channels; the limit is 8"):
        sdk.datasets.files.upload(dataset.id, file=("surround.wav", many, "audio/wav"))
    odd = audio_file(np.zeros(500_000, dtype=np.float32), rate=500_000)
    with pytest.raises(cartesia.BadRequestError, match="the limit is 384,000 Hz"):
        sdk.datasets.files.upload(dataset.id, file=("odd.wav", odd, "audio/wav"))
    oversize = b"RIFF" + bytes(MAX_FILE_BYTES + 1024)
    with pytest.raises(cartesia.APIStatusError, match="at most 50 MB") as caught:
        sdk.datasets.files.upload(dataset.id, file=("huge.wav", oversize, "audio/wav"))
    assert caught.value.status_code == 413
    assert list(sdk.datasets.files.list(dataset.id)) == []  # nothing kept
    assert not (engine.data_dir / "datasets" / dataset.id).exists()


def test_fine_tune_completes_with_a_voice_usable_for_tts(sdk: Any, speech: bytes) -> None:
    dataset = dataset_with(sdk, speech, speech, speech)
    created = sdk.fine_tunes.create(name="Pro narrator", description="from three takes",
                                    language="en", model_id=MODEL, dataset=dataset.id)
    assert created.status == "created" and created.id.startswith("fine_tune_")
    assert (created.dataset, created.llm_model_id) == (dataset.id, MODEL)
    done, seen = wait_for_status(sdk, created.id, "completed", "failed")
    assert done.status == "completed", done
    assert set(seen) <= {"created", "training", "completed"}
    assert created.id in [t.id for t in sdk.fine_tunes.list(limit=1)]

    voices = list(sdk.fine_tunes.list_voices(created.id))
    assert len(voices) == 1
    voice = voices[0]
    assert (voice.name, voice.is_owner, voice.language) == ("Pro narrator", True, "en")
    assert voice.gender == "masculine"  # the low speaker of every take
    assert voice.id in {v.id for v in sdk.voices.list(is_owner=True, limit=100)}
    audio = sdk.tts.generate(model_id="sonic-2", transcript="Trained on my own takes.",
                             voice={"mode": "id", "id": voice.id},
                             output_format={"container": "wav", "encoding": "pcm_s16le",
                                            "sample_rate": 22050})
    assert audio.read()[:4] == b"RIFF"

    sdk.fine_tunes.delete(created.id)
    import cartesia
    with pytest.raises(cartesia.NotFoundError):
        sdk.fine_tunes.retrieve(created.id)
    assert sdk.voices.get(voice.id).id == voice.id  # the voice stays yours


def test_too_little_speech_fails_with_the_minimum(sdk: Any, short_speech: bytes) -> None:
    dataset = dataset_with(sdk, short_speech)
    created = sdk.fine_tunes.create(name="Too short", description="", language="en",
                                    model_id=MODEL, dataset=dataset.id)
    failed, _ = wait_for_status(sdk, created.id, "completed", "failed")
    assert failed.status == "failed"
    assert f"at least {MIN_SPEECH_SECONDS:g} s" in failed.failure_reason
    assert list(sdk.fine_tunes.list_voices(created.id)) == []


def test_fine_tune_refuses_bad_requests(sdk: Any) -> None:
    import cartesia

    empty = sdk.datasets.create(name="Empty", description="")
    with pytest.raises(cartesia.BadRequestError, match="no files"):
        sdk.fine_tunes.create(name="x", description="", language="en", model_id=MODEL,
                              dataset=empty.id)
    with pytest.raises(cartesia.NotFoundError):
        sdk.fine_tunes.create(name="x", description="", language="en", model_id=MODEL,
                              dataset="dataset_missing")
    with pytest.raises(cartesia.BadRequestError, match="language"):
        sdk.fine_tunes.create(name="x", description="", language="xx", model_id=MODEL,
                              dataset=empty.id)


def test_a_dataset_in_use_cannot_be_deleted(sdk: Any, speech: bytes,
                                            gate: threading.Event) -> None:
    import cartesia

    dataset = dataset_with(sdk, speech, speech)
    tune = sdk.fine_tunes.create(name="Held", description="", language="en", model_id=MODEL,
                                 dataset=dataset.id)
    with pytest.raises(cartesia.ConflictError, match=f"in use by fine-tune {tune.id}"):
        sdk.datasets.delete(dataset.id)
    file_id = next(iter(sdk.datasets.files.list(dataset.id))).id
    with pytest.raises(cartesia.ConflictError, match="in use"):
        sdk.datasets.files.delete(file_id, id=dataset.id)
    gate.set()
    wait_for_status(sdk, tune.id, "completed", "failed")
    sdk.datasets.delete(dataset.id)  # free once the job finished
    assert sdk.fine_tunes.retrieve(tune.id).dataset == dataset.id


def test_a_job_interrupted_by_a_stop_resumes_on_restart(
        tmp_path: pathlib.Path, speech: bytes, gate: threading.Event,
        monkeypatch: pytest.MonkeyPatch) -> None:
    with OfflineEngine(data_dir=tmp_path) as first:
        sdk = make_sdk(first)
        dataset = dataset_with(sdk, speech, speech, speech)
        tune = sdk.fine_tunes.create(name="Survivor", description="", language="en",
                                     model_id=MODEL, dataset=dataset.id)
        wait_for_status(sdk, tune.id, "training")
        sdk.close()
    assert '"status": "training"' in (tmp_path / STORE_NAME).read_text()
    monkeypatch.undo()  # the next engine analyses for real
    gate.set()
    with OfflineEngine(data_dir=tmp_path) as second:
        sdk = make_sdk(second)
        done, _ = wait_for_status(sdk, tune.id, "completed", "failed")
        assert done.status == "completed"
        voices = list(sdk.fine_tunes.list_voices(tune.id))
        assert [v.name for v in voices] == ["Survivor"]
        sdk.close()


def test_records_survive_a_restart(tmp_path: pathlib.Path, speech: bytes) -> None:
    with OfflineEngine(data_dir=tmp_path) as first:
        sdk = make_sdk(first)
        dataset = dataset_with(sdk, speech)
        sdk.close()
    with OfflineEngine(data_dir=tmp_path) as second, httpx.Client(
            base_url=second.base_url, headers=auth_headers(second), timeout=60) as http:
        assert http.get(f"/datasets/{dataset.id}").json()["name"] == "Narrator takes"
        files = http.get(f"/datasets/{dataset.id}/files").json()
        assert [f["filename"] for f in files["data"]] == ["take0.wav"]
        assert files["has_more"] is False
        assert http.get("/datasets").status_code == 404  # only the seed's path


def _analysis(median: float, low: float, high: float, rate: float, speech: float,
              voiced: int) -> ClipAnalysis:
    return ClipAnalysis(duration_s=speech, analysed_s=speech, speech_s=speech,
                        median_f0_hz=median, f0_low_hz=low, f0_high_hz=high,
                        syllables_per_s=rate, voiced_frames=voiced)


def test_pool_weights_files_by_their_speech() -> None:
    pooled = pool([_analysis(100, 80, 120, 4.0, 10, 900), _analysis(200, 160, 240, 6.0, 5, 100)])
    assert pooled.median_f0_hz == 100  # the file with most voiced frames
    assert pooled.speech_s == 15 and pooled.voiced_frames == 1000
    assert pooled.syllables_per_s == pytest.approx((40 + 30) / 15)
    assert 80 < pooled.f0_low_hz < 90 and 120 < pooled.f0_high_hz < 135
    with pytest.raises(ValueError):
        pool([])

