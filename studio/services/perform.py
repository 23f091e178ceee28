"""Perform it yourself: a recorded or imported performance re-spoken in a voice, as a take.

:func:`perform_take` sends the performance (float32 mono at its rate) to Cartesia's voice
changer (``client.voice_changer.bytes``, seed ``voiceChanger_bytes``), which keeps its
timing and intonation and changes only the voice; the answer becomes a new
:class:`~studio.project.model.Take` of the block, with word timestamps found by forced
alignment of the block's text (:func:`studio.audio.align.align_words`). When alignment
fails the take has no word timestamps and the result carries a note saying why (the
Editor can still be used by dragging on the waveform).

Cost (ARCHITECTURE, issue 16): 15 credits per second of input audio on the cloud,
free on the offline engine; :func:`perform_credits` is the estimate shown first.

Qt-free: the caller (the inspector's Perform dialog, the Takes panel's Re-voice) runs it
on the event loop and adds the take through ``ScriptEditor.add_take``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from studio.api.models import SAMPLE_RATES, OutputFormat
from studio.audio.buffers import AudioFileError, as_mono, decode_audio_bytes, resample, wav_bytes
from studio.project.model import Take, TakeAudio, make_take
from studio.services.threads import in_thread
from studio.timestamps import PhonemeTimestamps, WordTimestamps

if TYPE_CHECKING:
    from studio.api.client import CartesiaClient

#: Cartesia's price of the voice changer: credits per second of input audio.
CREDITS_PER_SECOND = 15
#: The longest performance sent, in seconds (the offline engine's limit,
#: :data:`studio.offline.voice_conversion.MAX_CLIP_SECONDS`, used for both backends).
MAX_PERFORMANCE_SECONDS = 120.0
#: A performance shorter than this is refused before anything is sent.
MIN_PERFORMANCE_SECONDS = 0.3
#: The rate asked for when the performance's own rate is not one Cartesia offers.
FALLBACK_RATE = 44100


class PerformError(ValueError):
    """A performance that cannot become a take: too short or long, silent, or an answer
    that is not audio. The message says what to do; nothing was added."""


@dataclass(frozen=True, slots=True)
class Performed:
    """What :func:`perform_take` made.

    Attributes:
        take: the new take ("Take N"), in the voice asked for.
        note: "" when the words were aligned; else why the take has no word timestamps.
    """

    take: Take
    note: str


def perform_credits(seconds: float, backend: str) -> int:
    """Credits converting ``seconds`` of performance costs: 15 per second (rounded up)
    on ``"cloud"``, 0 on ``"offline"`` (ARCHITECTURE: voice changer costs)."""
    if backend == "offline" or seconds <= 0:
        return 0
    return math.ceil(CREDITS_PER_SECOND * seconds - 1e-9)


def output_rate(sample_rate: int) -> int:
    """The rate the converted take is asked for in: the performance's own when Cartesia
    offers it (:data:`studio.api.models.SAMPLE_RATES`), else :data:`FALLBACK_RATE`."""
    return sample_rate if sample_rate in SAMPLE_RATES else FALLBACK_RATE


def check_performance(audio: npt.ArrayLike, sample_rate: int) -> npt.NDArray[np.float32]:
    """``audio`` as float32 mono ``(frames,)``, checked before anything is sent.

    Raises:
        PerformError: not positive ``sample_rate``, shorter than
            :data:`MIN_PERFORMANCE_SECONDS`, longer than :data:`MAX_PERFORMANCE_SECONDS`,
            or silent.
    """
    if sample_rate <= 0:
        raise PerformError(f"The performance has no valid sample rate ({sample_rate} Hz).")
    try:
        mono = as_mono(audio, "the performance")
    except ValueError as exc:
        raise PerformError(str(exc)) from None
    seconds = mono.size / sample_rate
    if seconds < MIN_PERFORMANCE_SECONDS:
        raise PerformError(f"The performance is {seconds:.2f} s long; record or import "
                           f"at least {MIN_PERFORMANCE_SECONDS:g} s of speech.")
    if seconds > MAX_PERFORMANCE_SECONDS:
        raise PerformError(f"The performance is {seconds:.0f} s long; the voice changer "
                           f"takes at most {MAX_PERFORMANCE_SECONDS:.0f} s. Split the block.")
    if not np.any(np.abs(mono) > 1e-4):
        raise PerformError("The performance is silent; check the microphone and record again.")
    return mono


def _decode(data: bytes, rate: int) -> npt.NDArray[np.float32]:
    try:
        mono, got = decode_audio_bytes(data, max_seconds=MAX_PERFORMANCE_SECONDS * 2)
    except AudioFileError as exc:
        raise PerformError(f"The voice changer's answer could not be read ({exc}). "
                           "Nothing was added; try again.") from exc
    if mono.size == 0:
        raise PerformError("The voice changer returned no audio. Nothing was added.")
    return mono if got == rate else resample(mono, got, rate)


def _align(audio: npt.NDArray[np.float32], rate: int, transcript: str,
           language: str) -> tuple[WordTimestamps, str]:
    from studio.audio.align import AlignmentError, align_words  # pocketsphinx: slow import

    if not transcript.strip():
        return WordTimestamps(), "The block has no text, so the take has no word timestamps."
    try:
        return align_words(audio, rate, transcript, language or "en"), ""
    except AlignmentError as exc:
        return WordTimestamps(), f"The words could not be aligned ({exc}); the take has " \
            "no word timestamps."


async def perform_take(
    client: CartesiaClient,
    backend: str,
    audio: npt.ArrayLike,
    sample_rate: int,
    voice_id: str,
    transcript: str,
    language: str,
    take_number: int,
    source: str = "performance",
    keep_performance: bool = True,
) -> Performed:
    """``audio`` (float32 mono ``(frames,)`` at ``sample_rate`` Hz) converted to
    ``voice_id`` as "Take ``take_number``", with word timestamps aligned to ``transcript``.

    The take's request is ``{"voice_changer": {"voice_id", "output_format", "seconds",
    "source"}, "transcript", "language", "voice": {"mode": "id", "id"}}``; its credits
    are :func:`perform_credits` of the performance's length on ``backend``. With
    ``keep_performance`` the take carries ``audio`` as its
    :attr:`~studio.project.model.Take.performance` (kept in the project with it); a
    re-voiced take (``source`` ``"take:<id>"``) does not need it, its source stays.

    Raises:
        PerformError: as :func:`check_performance`, or an answer that is not audio.
        ValueError: a blank ``voice_id`` (nothing is sent).
        studio.api.errors.CartesiaError and its kinds: the request failed (BadRequestError
            for a clip the server refuses, NotFoundError for an unknown voice).
    """
    mono = check_performance(audio, sample_rate)
    if not voice_id.strip():
        raise ValueError("Choose a voice for the block before performing it.")
    rate = output_rate(sample_rate)
    clip = await in_thread(wav_bytes, mono, sample_rate)
    fmt = OutputFormat("wav", "pcm_s16le", rate)
    body = await client.voice_changer.bytes(clip, voice_id, fmt, filename="performance.wav")
    converted = await in_thread(_decode, body, rate)
    words, note = await in_thread(_align, converted, rate, transcript, language)
    seconds = mono.size / sample_rate
    request: dict[str, Any] = {
        "voice_changer": {"voice_id": voice_id, "output_format": fmt.to_json(),
                          "seconds": round(seconds, 3), "source": source},
        "transcript": transcript,
        "language": language,
        "voice": {"mode": "id", "id": voice_id},
    }
    take = make_take(converted, rate, words, PhonemeTimestamps(), request, backend,
                     perform_credits(seconds, backend), take_number)
    if keep_performance:
        take = replace(take, performance=TakeAudio.of(mono, sample_rate))
    return Performed(take, note)
