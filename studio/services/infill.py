"""Infill candidates: replace words of a take with new audio from Cartesia's infill.

:meth:`InfillService.candidate` sends the clips planned by
:func:`studio.project.infill.plan_infill` to ``POST /infill/bytes`` (seed
``infill_bytes``), reads the middle it returns, finds its word timestamps by forced
alignment of the known replacement text (:func:`studio.audio.align.word_timestamps_for`;
a proportional estimate for languages the aligner lacks), and keeps it as a
:class:`~studio.project.edits.Clip` of the take: every candidate is kept and saved,
accepted or not, so none is paid for twice. An identical request (same text, voice,
model, language and the same clips) reuses the candidate made before anywhere in the
project, or joins the one still on its way; ``force`` asks for a new one.

Accepting a candidate is an edit (:class:`~studio.project.edits.Splice`), made by the
caller through :meth:`studio.services.editor.ScriptEditor.edit_take`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QObject

from studio.api.models import OutputFormat, infill_credits
from studio.audio.align import word_timestamps_for
from studio.audio.buffers import AudioFileError, decode_audio_bytes, resample, wav_bytes
from studio.project.edited_audio import apply_edits
from studio.project.edits import Clip, Edited, Splice, crossfade_frames
from studio.project.infill import InfillError, InfillPlan, infill_key
from studio.project.model import TakeAudio, new_id
from studio.services.document import ScriptDocument
from studio.services.threads import in_thread

if TYPE_CHECKING:
    from studio.api.client import CartesiaClient

log = logging.getLogger(__name__)

#: Seconds of the take played on each side of a candidate when previewing it.
PREVIEW_CONTEXT_SECONDS = 1.5
#: Infill needs a model after the first "sonic" (seed ``infill_bytes``: model_id).
FALLBACK_MODEL = "sonic-2"


def _decode(data: bytes, sample_rate: int) -> npt.NDArray[np.float32]:
    """The middle the server sent, as float32 mono at ``sample_rate``.

    Raises:
        InfillError: the body is not audio soundfile can read.
    """
    try:
        mono, rate = decode_audio_bytes(data)
    except AudioFileError as exc:
        raise InfillError(f"The infill audio from the server could not be read ({exc}). "
                          "Nothing was changed; try again.") from exc
    if mono.size == 0:
        raise InfillError("The server returned no infill audio. Nothing was changed; "
                          "try a longer replacement text.")
    return mono if rate == sample_rate else resample(mono, rate, sample_rate)


def preview_audio(edited: Edited, plan: InfillPlan, clip: Clip) -> npt.NDArray[np.float32]:
    """A candidate in place: :data:`PREVIEW_CONTEXT_SECONDS` of the take before the
    replaced span, the candidate joined with the same crossfades accepting it would
    use, and the same after. float32 ``(frames,)`` at the take's rate."""
    rate = edited.sample_rate
    pad = round(PREVIEW_CONTEXT_SECONDS * rate)
    lo, hi = max(0, plan.start - pad), min(edited.frames, plan.end + pad)
    window = edited.audio[lo:hi]
    splice = Splice(plan.start - lo, plan.end - lo, clip, crossfade_frames(rate))
    return apply_edits(window, rate, type(edited.words)(), type(edited.phonemes)(),
                       [splice]).audio


class InfillService(QObject):
    """Makes infill candidates for takes of the open :class:`ScriptDocument`.

    Attributes:
        backend: ``"offline"`` or ``"cloud"`` ("" while no backend is connected).
    """

    def __init__(self, document: ScriptDocument, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._document = document
        self._client: CartesiaClient | None = None
        self.backend = ""
        # Requests on their way, by infill key: asking again joins them, never pays twice.
        self._running: dict[str, asyncio.Future[tuple[Clip, bool]]] = {}
        self._script = 0  # counts opened scripts: a late candidate stays with its own
        document.reset.connect(self._on_reset)

    def _on_reset(self) -> None:
        self._script += 1

    def set_backend(self, client: CartesiaClient | None, backend: str) -> None:
        """Use ``client`` (of ``backend``, "offline" or "cloud"); None while disconnected."""
        self._client = client
        self.backend = backend if client is not None else ""

    @property
    def is_free(self) -> bool:
        return self.backend == "offline"

    def estimate(self, transcript: str) -> int:
        """Credits a new candidate for ``transcript`` costs: 300 + 1 per character on
        Cartesia (seed ``infill_bytes``), nothing on the offline engine."""
        return 0 if self.is_free else infill_credits(transcript)

    def request_for(self, block_id: str, take_id: str, transcript: str,
                    sample_rate: int) -> dict[str, Any]:
        """The request fields (no audio) for an infill of the take: the voice, model
        and language the take was generated with, WAV 16-bit at the take's rate.

        Raises:
            KeyError: no such block or take.
        """
        block = self._document.block(block_id)
        take = self._document.take(block_id, take_id)
        voice = take.request.get("voice")
        voice_id = (voice.get("id") if isinstance(voice, dict) else None) or block.voice_id
        model = str(take.request.get("model_id") or block.model_id)
        return {
            "transcript": transcript.strip(),
            "voice_id": voice_id,
            "model_id": FALLBACK_MODEL if model == "sonic" else model,
            "language": str(take.request.get("language") or block.language or "en"),
            "output_format": {"container": "wav", "encoding": "pcm_s16le",
                              "sample_rate": sample_rate},
        }

    async def candidate(self, block_id: str, take_id: str, plan: InfillPlan, transcript: str,
                        force: bool = False) -> tuple[Clip, bool]:
        """A candidate replacing ``plan``'s span of the take with ``transcript``:
        ``(clip, reused)``. The clip is kept with the take (and saved) before this
        returns; ``reused`` says an identical earlier candidate (anywhere in the
        project, or one still being made) came back at no extra cost.

        Raises:
            InfillError: no backend, a blank text, the take is gone, audio that cannot
                be read, or another project was opened meanwhile.
            studio.api.errors.CartesiaError: the request failed (nothing was kept).
        """
        if not transcript.strip():
            raise InfillError("Type the words that should replace the selection.")
        client, backend = self._client, self.backend
        if client is None:
            raise InfillError("No backend is connected yet; wait for it and try again.")
        rate = plan.sample_rate
        try:
            request = self.request_for(block_id, take_id, transcript, rate)
        except KeyError:
            raise InfillError("This take is no longer in the script.") from None
        left, right = await in_thread(
            lambda: (wav_bytes(plan.left, rate) if plan.left.size else b"",
                     wav_bytes(plan.right, rate) if plan.right.size else b""))
        key = infill_key(backend, request, left, right)
        if not force:
            made = self._document.find_clip(lambda c: c.request.get("cache_key") == key)
            if made is not None:
                return made, True
            running = self._running.get(key)
            if running is not None:
                clip, _reused = await asyncio.shield(running)
                return clip, True
        future: asyncio.Future[tuple[Clip, bool]] = asyncio.ensure_future(
            self._request(client, backend, take_id, plan, request, key, left, right))
        if not force:
            self._running[key] = future
        try:
            return await asyncio.shield(future)
        finally:
            if self._running.get(key) is future:
                del self._running[key]

    async def _request(self, client: CartesiaClient, backend: str, take_id: str,
                       plan: InfillPlan, request: dict[str, Any], key: str, left: bytes,
                       right: bytes) -> tuple[Clip, bool]:
        script, rate = self._script, plan.sample_rate
        data = await client.infill.bytes(
            transcript=request["transcript"], voice_id=request["voice_id"],
            model_id=request["model_id"], language=request["language"],
            output_format=OutputFormat(container="wav", encoding="pcm_s16le", sample_rate=rate),
            left_audio=left or None, right_audio=right or None)
        middle = await in_thread(_decode, data, rate)
        words, how = await in_thread(word_timestamps_for, middle, rate,
                                     request["transcript"], request["language"])
        credits = 0 if backend == "offline" else infill_credits(request["transcript"])
        clip = Clip(
            id=new_id(), source=TakeAudio.of(middle, rate), words=words, kind="infill",
            take_id=take_id, transcript=request["transcript"],
            request={**request, "cache_key": key, "span": [plan.start, plan.end],
                     "words": how},
            backend=backend, credits=credits, created_at=time.time())
        if script != self._script:
            # Another project was opened while this was made; it does not belong there.
            log.warning("infill candidate for take %s arrived after its project was "
                        "closed (%d credits); dropped", take_id, credits)
            raise InfillError("Another project was opened before the candidate arrived.")
        self._document.add_clip(clip)
        log.info("infill candidate %s for take %s: %.2f s, words %s", clip.id, take_id,
                 middle.size / rate, how)
        return clip, False
