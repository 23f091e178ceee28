"""``/fine-tunes/``: professional voice cloning on the offline engine.

Shapes follow ``cartesia-openapi.yaml`` (``fineTunes_list``, ``_create``, ``_get``,
``_delete``, ``_listVoices``; schemas ``FineTune``, ``CreateFineTuneRequest``,
``PaginatedFineTunes``, ``PaginatedVoices``) and the v4 SDK (``fine_tunes.*``):

- ``POST /fine-tunes/`` ``{"name", "description", "language", "model_id", "dataset"}``
  answers the new ``FineTune`` with status ``created`` and starts its job.
- ``GET /fine-tunes/`` (oldest first, cursor pagination), ``GET /fine-tunes/{id}``,
  ``DELETE /fine-tunes/{id}`` (204), ``GET /fine-tunes/{id}/voices`` (the voices it
  made, as ``Voice`` bodies).

**The job** moves the fine-tune from ``created`` to ``training`` and analyses every
file of the dataset in the engine's worker pool (never on the event loop), one file at
a time: each is decoded under the limits of :func:`~studio.audio.untrusted.decode_untrusted`
and measured with :func:`~studio.offline.clip_analysis.analyse_clip`, as a clone clip
is. The measures are pooled (:func:`pool`) and mapped onto espeak-ng settings with
:func:`~studio.offline.cloning.map_clip`; the result is one voice of yours, named and
described as the fine-tune, listed by ``GET /voices`` and usable for TTS, and the status
becomes ``completed``. With less than :data:`MIN_SPEECH_SECONDS` of measurable speech
in the whole dataset the status becomes ``failed`` and the extra field
``failure_reason`` says how much there was and what is needed.

**Restarts**: every status change is saved in ``training.json`` before the job goes on,
and the voice's id is derived from the fine-tune's, so a job interrupted when the
engine stopped (status ``created`` or ``training``) is *resumed* when the engine starts
again: it analyses the dataset anew (its files are kept, and cannot be deleted while
the job runs) and its voice, if it was saved before the stop, is replaced, not doubled.
Deleting a fine-tune cancels its job; voices it already made stay yours (delete them
with ``DELETE /voices/{id}``).

Statuses: 400 for a bad body (blank name, unknown language, empty ``model_id``, a
dataset without files); 404 for an unknown fine-tune or dataset; 500 when the store
cannot be written.
"""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from aiohttp import web

from studio.api.models import LANGUAGES
from studio.offline.bodies import json_object
from studio.offline.clip_analysis import ClipAnalysis, ClipError, analyse_clip
from studio.offline.cloning import map_clip
from studio.offline.errors import ApiError, bad_request
from studio.offline.localize import now_iso
from studio.offline.multipart import decode_audio
from studio.offline.state import STATE, ServerState
from studio.offline.training_store import (
    RUNNING,
    TRAINING,
    StoredFineTune,
    Training,
    TrainingStore,
    page_of,
)
from studio.offline.voice_edit_routes import changing_voices
from studio.offline.voice_routes import voice_json
from studio.offline.voices import ESPEAK_LANGUAGE_VOICES, VoiceSpec

log = logging.getLogger(__name__)

#: Least measurable speech a dataset must hold for a fine-tune, seconds (summed over its
#: files; each file counts from its first to its last active 10 ms frame, and at most
#: the 30 s that :func:`~studio.offline.clip_analysis.analyse_clip` measures).
MIN_SPEECH_SECONDS = 15.0
#: Names voices are derived from: ``uuid5(VOICE_NAMESPACE, fine-tune id)``.
VOICE_NAMESPACE = uuid.UUID("5f0c6a43-0c1e-4f8e-9a39-6f7a3c0d2b11")


class TrainingError(Exception):
    """A dataset a fine-tune cannot learn from; the message is the failure reason."""


def pool(analyses: Sequence[ClipAnalysis]) -> ClipAnalysis:
    """One speaker's measures from several files.

    Durations and voiced frames add up; the median pitch is the median of the files'
    medians weighted by their voiced frames; the 10th and 90th percentiles are the
    voiced-frame-weighted geometric means of the files' (pitch is compared in
    semitones); the speaking rate is all syllable nuclei over all speech seconds.

    Raises:
        ValueError: no analyses.
    """
    if not analyses:
        raise ValueError("nothing to pool")
    weights = np.array([a.voiced_frames for a in analyses], dtype=np.float64)
    medians = np.array([a.median_f0_hz for a in analyses])
    order = np.argsort(medians)
    cumulative = np.cumsum(weights[order])
    median = float(medians[order][np.searchsorted(cumulative, cumulative[-1] / 2.0)])

    def geometric(values: list[float]) -> float:
        return float(math.exp(np.average(np.log(values), weights=weights)))

    speech = sum(a.speech_s for a in analyses)
    nuclei = sum(a.syllables_per_s * a.speech_s for a in analyses)
    return ClipAnalysis(
        duration_s=sum(a.duration_s for a in analyses),
        analysed_s=sum(a.analysed_s for a in analyses),
        speech_s=speech,
        median_f0_hz=median,
        f0_low_hz=geometric([a.f0_low_hz for a in analyses]),
        f0_high_hz=geometric([a.f0_high_hz for a in analyses]),
        syllables_per_s=nuclei / speech if speech > 0 else 0.0,
        voiced_frames=int(weights.sum()),
    )


def _analyse_file(store: TrainingStore, dataset_id: str, file_id: str,
                  filename: str) -> ClipAnalysis:
    """One file's measures; its bytes and samples are freed when this returns, so the
    job holds one file at a time."""
    data = store.file_path(dataset_id, file_id).read_bytes()
    samples, rate = decode_audio(data, filename)
    return analyse_clip(samples, rate)


def analyse_dataset(store: TrainingStore, dataset_id: str,
                    files: Sequence[tuple[str, str]]) -> ClipAnalysis:
    """Measure every file (``(file id, filename)``) of a dataset and pool the measures;
    run in the worker pool. Files that cannot be decoded or hold no speech are skipped
    (and named in the failure reason if too little is left).

    Raises:
        TrainingError: less than :data:`MIN_SPEECH_SECONDS` of speech in all.
    """
    analyses: list[ClipAnalysis] = []
    skipped: list[str] = []
    for file_id, filename in files:
        try:
            analyses.append(_analyse_file(store, dataset_id, file_id, filename))
        except (OSError, ApiError, ClipError) as exc:
            reason = exc.message if isinstance(exc, ApiError) else str(exc)
            log.info("fine-tune skips %s of dataset %s: %s", filename, dataset_id, reason)
            skipped.append(f"{filename} ({reason})")
    speech = sum(a.speech_s for a in analyses)
    if speech < MIN_SPEECH_SECONDS:
        reason = (f"the dataset holds {speech:.1f} s of usable speech in {len(analyses)} of "
                  f"{len(files)} file(s); a fine-tune needs at least "
                  f"{MIN_SPEECH_SECONDS:g} s: upload more recordings of the speaker")
        if skipped:
            reason += "; skipped: " + "; ".join(skipped[:5])
        raise TrainingError(reason)
    return pool(analyses)


def _voice(tune: StoredFineTune, analysis: ClipAnalysis) -> VoiceSpec:
    derived = map_clip(analysis)
    measured = {"median_f0_hz": analysis.median_f0_hz, "f0_low_hz": analysis.f0_low_hz,
                "f0_high_hz": analysis.f0_high_hz, "syllables_per_s": analysis.syllables_per_s,
                "duration_s": analysis.duration_s}
    return VoiceSpec(
        id=str(uuid.uuid5(VOICE_NAMESPACE, tune.id)), name=tune.name,
        description=tune.description, language=tune.language, locale=tune.language,
        gender=derived.gender, accent=None,
        espeak_language=ESPEAK_LANGUAGE_VOICES[tune.language], variant=derived.variant,
        pitch_offset=derived.pitch_offset, range_offset=derived.range_offset,
        rate_scale=derived.rate_scale, is_owner=True, created_at=now_iso(),
        clip=tuple(measured.items()))


async def _set(training: Training, tune_id: str, **changes: object) -> StoredFineTune | None:
    """Save changes to a fine-tune; None if it was deleted meanwhile."""
    async with training.lock:
        try:
            n, tune = training.fine_tune(tune_id)
        except ApiError:
            return None
        updated = replace(tune, **changes)  # type: ignore[arg-type]
        tunes = training.fine_tunes
        await training.change(training.datasets, (*tunes[:n], updated, *tunes[n + 1:]))
        return updated


async def run_job(state: ServerState, training: Training, tune_id: str) -> None:
    """Train fine-tune ``tune_id``: ``training``, then ``completed`` with a voice or
    ``failed`` with a reason. Cancelled (engine stopping, fine-tune deleted), it leaves
    the saved status as it was, for :func:`resume_jobs`."""
    try:
        tune = await _set(training, tune_id, status="training")
        if tune is None:
            return
        _, dataset = training.dataset(tune.dataset)
        files = [(f.id, f.filename) for f in dataset.files]
        loop = asyncio.get_running_loop()
        analysis = await loop.run_in_executor(training.executor, analyse_dataset,
                                              training.store, dataset.id, files)
        voice = _voice(tune, analysis)
        async with training.lock:
            training.fine_tune(tune_id)  # deleted meanwhile: no voice
        async with changing_voices(state):
            state.catalog.put(voice)
        await _set(training, tune_id, status="completed", voice_ids=(voice.id,),
                   failure_reason=None)
        log.info("fine-tune %s completed: voice %s from %.1f s of speech", tune_id, voice.id,
                 analysis.speech_s)
    except asyncio.CancelledError:
        raise
    except (TrainingError, ApiError) as exc:
        reason = exc.message if isinstance(exc, ApiError) else str(exc)
        log.info("fine-tune %s failed: %s", tune_id, reason)
        await _set(training, tune_id, status="failed", failure_reason=reason)
    except Exception as exc:  # a job must end in a status, whatever went wrong
        log.exception("fine-tune %s failed unexpectedly", tune_id)
        await _set(training, tune_id, status="failed",
                   failure_reason=f"the engine failed while training: {exc}")


def _start(app: web.Application, tune_id: str) -> None:
    training = app[TRAINING]
    task = asyncio.get_running_loop().create_task(run_job(app[STATE], training, tune_id),
                                                  name=f"fine-tune {tune_id}")
    training.jobs[tune_id] = task
    task.add_done_callback(lambda _: training.jobs.pop(tune_id, None))


async def resume_jobs(app: web.Application) -> None:
    """On start-up: load the records and resume every job that had not finished."""
    training = app[TRAINING]
    await training.load()
    for tune in training.fine_tunes:
        if tune.status in RUNNING:
            log.info("resuming fine-tune %s (was %s when the engine stopped)", tune.id,
                     tune.status)
            _start(app, tune.id)


async def stop_jobs(app: web.Application) -> None:
    """On shut-down: cancel the running jobs (their saved status stays for resuming)."""
    jobs = list(app[TRAINING].jobs.values())
    for task in jobs:
        task.cancel()
    await asyncio.gather(*jobs, return_exceptions=True)


async def list_fine_tunes(request: web.Request) -> web.Response:
    tunes = request.app[TRAINING].fine_tunes
    page, has_more = page_of(tunes, [t.id for t in tunes], request.query, "fine-tune")
    return web.json_response({"data": [t.to_json() for t in page], "has_more": has_more})


def _field(body: dict[str, object], key: str) -> str:
    value = body.get(key)
    if value is None:
        raise bad_request(f"{key} is required")
    if not isinstance(value, str):
        raise bad_request(f"{key} must be a string")
    return value


async def create_fine_tune(request: web.Request) -> web.Response:
    body = await json_object(request)
    name = _field(body, "name").strip()
    if not name:
        raise bad_request("name must be a non-empty string: what should the voice be called?")
    description = body.get("description") or ""
    if not isinstance(description, str):
        raise bad_request("description must be a string")
    language = _field(body, "language")
    if language not in LANGUAGES:
        raise bad_request(f"language must be one of {', '.join(LANGUAGES)}; got {language!r}")
    if language not in ESPEAK_LANGUAGE_VOICES:
        raise bad_request(f"language {language!r} is not available in the offline engine "
                          "(espeak-ng has no voice for it)")
    model_id = _field(body, "model_id").strip()
    if not model_id:
        raise bad_request("model_id must name the base model (e.g. sonic-3-2025-10-27)")
    dataset_id = _field(body, "dataset")
    training = request.app[TRAINING]
    async with training.lock:
        _, dataset = training.dataset(dataset_id)
        if not dataset.files:
            raise bad_request(f"dataset {dataset_id} has no files: upload recordings of the "
                              "speaker before fine-tuning")
        tune = StoredFineTune(f"fine_tune_{uuid.uuid4().hex}", name, description, language,
                              model_id, dataset_id, "created", now_iso())
        await training.change(training.datasets, (*training.fine_tunes, tune))
    _start(request.app, tune.id)
    return web.json_response(tune.to_json())


async def get_fine_tune(request: web.Request) -> web.Response:
    _, tune = request.app[TRAINING].fine_tune(request.match_info["id"])
    return web.json_response(tune.to_json())


async def delete_fine_tune(request: web.Request) -> web.Response:
    training = request.app[TRAINING]
    async with training.lock:
        n, tune = training.fine_tune(request.match_info["id"])
        tunes = training.fine_tunes
        await training.change(training.datasets, (*tunes[:n], *tunes[n + 1:]))
        job = training.jobs.get(tune.id)
    if job is not None:
        job.cancel()
    return web.Response(status=204)


async def list_fine_tune_voices(request: web.Request) -> web.Response:
    _, tune = request.app[TRAINING].fine_tune(request.match_info["id"])
    catalog = request.app[STATE].catalog
    voices = [v for v in (catalog.get(i) for i in tune.voice_ids) if v is not None]
    page, has_more = page_of(voices, [v.id for v in voices], request.query, "voice")
    return web.json_response({"data": [voice_json(request, v, False) for v in page],
                              "has_more": has_more})


def install(app: web.Application, state: ServerState) -> None:
    """Serve datasets' fine-tunes from ``app``: the shared ``TRAINING`` state, the
    routes, and the jobs resumed on start-up and cancelled on shut-down."""
    app[TRAINING] = Training(TrainingStore(state.data_dir), state.executor)
    app.on_startup.append(resume_jobs)
    app.on_shutdown.append(stop_jobs)
    app.router.add_get("/fine-tunes/", list_fine_tunes)
    app.router.add_post("/fine-tunes/", create_fine_tune)
    app.router.add_get("/fine-tunes/{id}", get_fine_tune)
    app.router.add_delete("/fine-tunes/{id}", delete_fine_tune)
    app.router.add_get("/fine-tunes/{id}/voices", list_fine_tune_voices)
