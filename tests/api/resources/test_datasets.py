"""``client.datasets`` and ``client.fine_tunes``: the wire shape (methods, paths, query,
JSON and multipart bodies) over the scripted transport, argument checks that send
nothing, malformed bodies, creates that are never sent twice (the result is looked for
by listing), and the same calls against the offline engine."""

from __future__ import annotations

import asyncio
import io
import json
import time
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile as sf
from scripted_transport import Recorder, client_for

from studio.api import (
    BadRequestError,
    CartesiaClient,
    NotFoundError,
    OutcomeUnknownError,
    ResponseFormatError,
)
from studio.api.resources.training_models import Dataset, DatasetFile, FineTune
from studio.offline import OfflineEngine

DATASET = {"id": "dataset_1", "name": "Takes", "description": "d",
           "created_at": "2026-01-01T00:00:00Z"}
FILE = {"id": "file_1", "filename": "take.wav", "created_at": "2026-01-01T00:00:00Z",
        "size": 4}
TUNE = {"id": "fine_tune_1", "name": "Pro", "description": "", "language": "en",
        "model_id": "sonic-3-2025-10-27", "dataset": "dataset_1", "status": "created"}


def ok(body: Any = None, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body) if body is not None else httpx.Response(status)


def page(*items: Any, more: bool = False) -> httpx.Response:
    return ok({"data": list(items), "has_more": more})


async def test_dataset_calls_have_the_seeds_wire_shape() -> None:
    recorder = Recorder(page(DATASET, more=True), page({**DATASET, "id": "dataset_2"}),
                        ok(DATASET), ok(status=204), ok(status=204))
    async with client_for(recorder) as client:
        listed = await client.datasets.list(limit=1)
        got = await client.datasets.get("dataset_1")
        await client.datasets.update("dataset_1", name="New", description="words")
        await client.datasets.delete("dataset_1")
    assert [d.id for d in listed] == ["dataset_1", "dataset_2"]
    assert got == Dataset("dataset_1", "Takes", "d", "2026-01-01T00:00:00Z")
    first, second, get, patch, delete = recorder.requests
    assert (first.method, first.url.path, dict(first.url.params)) == (
        "GET", "/datasets/", {"limit": "1"})
    assert dict(second.url.params) == {"limit": "1", "starting_after": "dataset_1"}
    assert (get.method, get.url.path) == ("GET", "/datasets/dataset_1")
    assert (patch.method, json.loads(patch.content)) == (
        "PATCH", {"name": "New", "description": "words"})
    assert (delete.method, delete.url.path) == ("DELETE", "/datasets/dataset_1")


async def test_update_with_one_field_reads_the_other_first() -> None:
    recorder = Recorder(ok(DATASET), ok(status=204))
    async with client_for(recorder) as client:
        await client.datasets.update("dataset_1", name="Only the name")
    assert json.loads(recorder.requests[1].content) == {"name": "Only the name",
                                                        "description": "d"}


async def test_files_list_upload_and_delete() -> None:
    recorder = Recorder(page(), ok(status=204), page(FILE), ok(status=204))
    async with client_for(recorder) as client:
        await client.datasets.upload_file("dataset_1", b"RIFF", filename="take.wav")
        files = await client.datasets.list_files("dataset_1", limit=5)
        await client.datasets.delete_file("dataset_1", "file_1")
    assert files == [DatasetFile("file_1", "take.wav", "2026-01-01T00:00:00Z", 4)]
    before, upload, listing, delete = recorder.requests
    assert (before.method, before.url.path) == ("GET", "/datasets/dataset_1/files")
    assert (upload.method, upload.url.path) == ("POST", "/datasets/dataset_1/files")
    body = upload.content
    assert upload.headers["content-type"].startswith("multipart/form-data")
    assert b'name="purpose"\r\n\r\nfine_tune' in body
    assert b'name="file"; filename="take.wav"' in body and b"Content-Type: audio/wav" in body
    assert dict(listing.url.params) == {"limit": "5"}
    assert (delete.method, delete.url.path) == ("DELETE", "/datasets/dataset_1/files/file_1")


async def test_a_lost_create_answer_is_found_by_listing_not_resent() -> None:
    older = {**DATASET, "id": "dataset_0"}
    recorder = Recorder(page(older), ok({"message": "boom"}, 502), page(older, DATASET))
    async with client_for(recorder) as client:
        made = await client.datasets.create(name="Takes", description="d")
    assert made.id == "dataset_1"  # the new one, not the older of the same name
    assert [r.method for r in recorder.requests] == ["GET", "POST", "GET"]


async def test_a_lost_create_not_listed_is_an_unknown_outcome() -> None:
    recorder = Recorder(page(), httpx.ReadError("connection reset"), page())
    async with client_for(recorder) as client:
        with pytest.raises(OutcomeUnknownError, match="check before trying again") as caught:
            await client.fine_tunes.create(name="Pro", dataset="dataset_1",
                                           model_id="sonic-3-2025-10-27")
    assert [r.method for r in recorder.requests] == ["GET", "POST", "GET"]
    assert caught.value.__cause__ is not None


async def test_a_lost_upload_is_found_by_filename_and_size() -> None:
    recorder = Recorder(page(), ok({"message": "boom"}, 500), page(FILE))
    async with client_for(recorder) as client:
        await client.datasets.upload_file("dataset_1", b"RIFF", filename="take.wav")
    assert [r.method for r in recorder.requests] == ["GET", "POST", "GET"]
    recorder = Recorder(page(), ok({"message": "boom"}, 500), page())
    async with client_for(recorder) as client:
        with pytest.raises(OutcomeUnknownError):
            await client.datasets.upload_file("dataset_1", b"RIFF", filename="take.wav")


async def test_a_refused_create_is_not_looked_for() -> None:
    recorder = Recorder(page(), ok({"message": "no files"}, 400))
    async with client_for(recorder) as client:
        with pytest.raises(BadRequestError, match="no files"):
            await client.fine_tunes.create(name="Pro", dataset="dataset_1",
                                           model_id="sonic-3-2025-10-27")
    assert len(recorder.requests) == 2


async def test_fine_tune_calls_have_the_seeds_wire_shape() -> None:
    done = {**TUNE, "status": "failed", "failure_reason": "too little speech"}
    voice = {"id": "v1", "name": "Pro", "description": "", "is_owner": True, "is_public": False,
             "language": "en", "created_at": "2026-01-01T00:00:00Z"}
    recorder = Recorder(page(), ok(TUNE), ok(done), page(voice), page(TUNE), ok(status=204))
    async with client_for(recorder) as client:
        made = await client.fine_tunes.create(name=" Pro ", dataset="dataset_1",
                                              model_id="sonic-3-2025-10-27")
        got = await client.fine_tunes.get("fine_tune_1")
        voices = await client.fine_tunes.list_voices("fine_tune_1")
        listed = await client.fine_tunes.list()
        await client.fine_tunes.delete("fine_tune_1")
    assert made == FineTune("fine_tune_1", "Pro", "", "en", "sonic-3-2025-10-27", "dataset_1",
                            "created")
    assert (got.status, got.failure_reason, got.finished) == ("failed", "too little speech", True)
    assert [v.id for v in voices] == ["v1"] and [t.id for t in listed] == ["fine_tune_1"]
    _, post, get, voices_req, _, delete = recorder.requests
    assert (post.method, post.url.path) == ("POST", "/fine-tunes/")
    assert json.loads(post.content) == {"name": "Pro", "description": "", "language": "en",
                                        "model_id": "sonic-3-2025-10-27",
                                        "dataset": "dataset_1"}
    assert get.url.path == "/fine-tunes/fine_tune_1"
    assert voices_req.url.path == "/fine-tunes/fine_tune_1/voices"
    assert (delete.method, delete.url.path) == ("DELETE", "/fine-tunes/fine_tune_1")


@pytest.mark.parametrize("body", [
    {k: v for k, v in TUNE.items() if k != "model_id"},
    {**TUNE, "status": "paused"},
])
async def test_a_fine_tune_that_misses_the_schema_is_a_format_error(body: Any) -> None:
    async with client_for(Recorder(ok(body))) as client:
        with pytest.raises(ResponseFormatError):
            await client.fine_tunes.get("fine_tune_1")


async def test_bad_arguments_send_nothing() -> None:
    recorder = Recorder(ok(status=204))
    async with client_for(recorder) as client:
        with pytest.raises(ValueError, match="name"):
            await client.datasets.create(name=" ")
        with pytest.raises(ValueError, match="empty"):
            await client.datasets.upload_file("dataset_1", b"", filename="a.wav")
        with pytest.raises(ValueError, match="id is empty"):
            await client.datasets.get("")
        with pytest.raises(ValueError, match="limit"):
            client.datasets.list_files("dataset_1", limit=0)
        with pytest.raises(ValueError, match="language"):
            await client.fine_tunes.create(name="a", dataset="d", model_id="m", language="xx")
        with pytest.raises(ValueError, match="needs a name"):
            await client.datasets.update("dataset_1")
    assert recorder.requests == []


def _speech_file() -> bytes:
    """Voiced, syllable-like audio the engine can measure: a 120 Hz buzz in 4 Hz
    bursts, 8 s at 16 kHz."""
    rate = 16000
    t = np.arange(rate * 8) / rate
    buzz = sum(np.sin(2 * np.pi * 120 * k * t) / k for k in range(1, 12))
    envelope = np.clip(np.sin(2 * np.pi * 4 * t), 0, None)
    buffer = io.BytesIO()
    sf.write(buffer, (0.2 * buzz * envelope).astype(np.float32), rate, format="WAV")
    return buffer.getvalue()


async def test_against_the_offline_engine(tmp_path: Any) -> None:
    engine = OfflineEngine(data_dir=tmp_path)
    engine.start()
    try:
        async with CartesiaClient(engine.api_key, base_url=engine.base_url) as client:
            dataset = await client.datasets.create(name="Takes", description="three")
            audio = _speech_file()
            for n in range(3):
                await client.datasets.upload_file(dataset.id, audio, filename=f"t{n}.wav")
            assert [f.filename for f in await client.datasets.list_files(dataset.id, limit=2)
                    ] == ["t0.wav", "t1.wav", "t2.wav"]
            with pytest.raises(BadRequestError, match="not audio"):
                await client.datasets.upload_file(dataset.id, b"text", filename="x.txt")
            tune = await client.fine_tunes.create(name="Pro", dataset=dataset.id,
                                                  model_id="sonic-3-2025-10-27")
            deadline = time.monotonic() + 60
            while not (tune := await client.fine_tunes.get(tune.id)).finished:
                assert time.monotonic() < deadline, tune
                await asyncio.sleep(0.05)
            assert tune.status == "completed", tune.failure_reason
            voices = await client.fine_tunes.list_voices(tune.id)
            assert [v.name for v in voices] == ["Pro"] and voices[0].is_owner
            await client.datasets.update(dataset.id, description="renamed")
            assert (await client.datasets.get(dataset.id)).description == "renamed"
            await client.fine_tunes.delete(tune.id)
            await client.datasets.delete(dataset.id)
            with pytest.raises(NotFoundError):
                await client.datasets.get(dataset.id)
            assert await client.datasets.list() == []
    finally:
        engine.stop()


