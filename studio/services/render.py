"""Rendering a block into a take over the TTS WebSocket. Qt-free; shared by the
studio and the ``render`` command.

One block is one WebSocket context (seed: TTS WebSocket, "contexts"). A long
transcript is sent as sentence-aligned continuations (``continue: true`` on all but
the last input, ``max_buffer_delay_ms: 0`` because the pieces already end at
sentence boundaries), so a 100 000-character paragraph streams like a short one.
Audio is requested as raw ``pcm_s16le`` at the project rate: half the bytes of
float32 on the wire, and samples that are exact 16-bit values, which the project
file stores losslessly as FLAC (``studio.project.store``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from studio.api import (
    ChunkEvent,
    Encoding,
    OutputFormat,
    PhonemeTimestampsEvent,
    TimestampsEvent,
    TTSRequest,
)
from studio.audio.codecs import StreamDecoder
from studio.project.cache import take_key
from studio.project.lexicon import LexiconItem
from studio.project.model import NO_DICTIONARY, Block, DictionaryUse, Take, make_take
from studio.project.script import ScriptError, split_for_streaming
from studio.project.transcript import spoken_word_count
from studio.services.threads import in_thread
from studio.timestamps import PhonemeTimestamps, WordTimestamps

if TYPE_CHECKING:
    from studio.api.resources import TTSResource

log = logging.getLogger(__name__)

ENCODING: Encoding = "pcm_s16le"

AudioSink = Callable[[npt.NDArray[np.float32]], None]
ProgressSink = Callable[[float], None]

class WebSocketProvider(Protocol):
    @property
    def tts(self) -> TTSResource: ...


def credits_for(transcript: str, backend: str) -> int:
    """Credits a TTS request costs: about one per character on Cartesia's cloud
    (Cartesia pricing), nothing on the offline engine."""
    return 0 if backend == "offline" else len(transcript)


def check_block(block: Block) -> None:
    """Raise :class:`ScriptError` with a user-facing message if ``block`` cannot render."""
    if not block.text.strip():
        raise ScriptError("the block has no text")
    if not block.voice_id:
        raise ScriptError("the block has no voice; choose one from the voice list")


def _feed(sink: AudioSink, samples: npt.NDArray[np.float32]) -> AudioSink | None:
    """Give ``samples`` to ``sink``; a sink that fails is dropped (and logged), so
    trouble in playback never costs the take being rendered."""
    try:
        sink(samples)
    except Exception:
        log.exception("streaming playback failed; the take is still being kept")
        return None
    return sink


def _fingerprint(block: Block, dictionary: DictionaryUse) -> tuple[object, ...]:
    """Everything of ``block`` and ``dictionary`` a :class:`GenerationJob` is computed
    from: cheap to compare, where the job's key costs a JSON dump and a SHA-256. The
    dictionary's entries count by identity (the document replaces its ``Matcher`` when
    they change; the job holds the old one, so its ``id`` cannot be reused)."""
    return (block.text, block.voice_id, block.model_id, block.language, block.emotion,
            block.speed, block.volume, dictionary.id, id(dictionary.matcher))


@dataclasses.dataclass(frozen=True, slots=True)
class GenerationJob:
    """What generating one block means, computed once and carried from the estimate to
    the cache lookup to the request (:meth:`BlockRenderer.job`).

    Attributes:
        block: the block (the live object; :meth:`is_for` tells whether it changed).
        dictionary: the pronunciation dictionary it is generated with.
        request: the TTS request sent for it.
        key: its take-cache key (:func:`studio.project.cache.take_key`); "" when the
            dictionary's entries are unknown (never reused).
        applied: the dictionary entries that change its text, recorded on the take.
    """

    block: Block
    dictionary: DictionaryUse
    request: TTSRequest
    key: str
    applied: tuple[LexiconItem, ...]
    fingerprint: tuple[object, ...]

    def is_for(self, block: Block, dictionary: DictionaryUse) -> bool:
        """Whether this job still describes ``block`` generated with ``dictionary``."""
        return block is self.block and _fingerprint(block, dictionary) == self.fingerprint


class BlockRenderer:
    """Turns blocks into takes through one client.

    Attributes:
        sample_rate: Hz of the takes it makes (one of the seed's ``sample_rate`` values).
        backend: ``"offline"`` or ``"cloud"``, recorded in every take.
    """

    def __init__(self, client: WebSocketProvider, backend: str, sample_rate: int = 44100) -> None:
        self._client = client
        self.backend = backend
        self.sample_rate = sample_rate

    def request_for(self, block: Block, dictionary: DictionaryUse = NO_DICTIONARY) -> TTSRequest:
        return block.tts_request(OutputFormat("raw", ENCODING, self.sample_rate), dictionary.id)

    def job(self, block: Block, dictionary: DictionaryUse = NO_DICTIONARY) -> GenerationJob:
        """The request, cache key and dictionary use of generating ``block`` with
        ``dictionary``, computed once.

        The key hashes the dictionary entries that apply to the block's text (not the
        dictionary's id), so a take is reused only while they are unchanged, and is the
        same as without a dictionary when none applies; "" (never reused) when the
        dictionary's entries are unknown."""
        request = self.request_for(block, dictionary)
        applied = dictionary.applied(request.transcript)
        key = ""
        if applied is not None:
            body = request.to_json()
            body.pop("pronunciation_dict_id", None)  # the entries decide, not the holder
            key = take_key(body, self.backend,
                           dictionary_items=[{"text": i.text, "alias": i.alias}
                                             for i in applied])
        return GenerationJob(block, dictionary, request, key, applied or (),
                             _fingerprint(block, dictionary))

    def cache_key(self, block: Block, dictionary: DictionaryUse = NO_DICTIONARY) -> str:
        """The take-cache key of what :meth:`render` would send (:meth:`job`)."""
        return self.job(block, dictionary).key

    async def render(
        self,
        job: GenerationJob,
        on_audio: AudioSink | None = None,
        on_progress: ProgressSink | None = None,
    ) -> Take:
        """Generate one take of ``job``'s block (:meth:`job`), with its pronunciation
        dictionary named in the request (``pronunciation_dict_id``) and the entries that
        apply recorded on the take (:attr:`Take.dictionary`).

        ``on_audio`` receives each decoded chunk (float32, shape ``(frames,)``) as it
        arrives, for streaming playback; ``on_progress`` receives the fraction of the
        transcript's words rendered so far (0..1, from the word timestamps). Both run
        on the event loop and must not block.

        Raises:
            ScriptError: the block has no text or no voice.
            studio.api.CartesiaError: any API failure (bad request, auth, rate limit,
                server error, connection lost); nothing is kept from a failed render.
            asyncio.CancelledError: when stopped; the context is cancelled on the server.
        """
        block, request = job.block, job.request
        check_block(block)
        pieces = split_for_streaming(request.transcript)
        socket = await self._client.tts.websocket()
        decoder = StreamDecoder(ENCODING)
        chunks: list[npt.NDArray[np.float32]] = []
        # Collected per event and joined once: adding tuples per event is quadratic, and
        # an hour-long take brings thousands of events (all on the UI thread).
        word_parts: list[WordTimestamps] = []
        phoneme_parts: list[PhonemeTimestamps] = []
        words_so_far = 0
        total_words = max(spoken_word_count(request.transcript), 1)
        async with socket.context() as context:
            for index, piece in enumerate(pieces):
                last = index == len(pieces) - 1
                await context.send(
                    dataclasses.replace(request, transcript=piece),
                    continue_=not last,
                    add_timestamps=True,
                    add_phoneme_timestamps=True,
                    # Pieces already end at sentences: no need for the server to buffer.
                    max_buffer_delay_ms=None if len(pieces) == 1 else 0,
                )
            async for event in context:
                if isinstance(event, ChunkEvent):
                    samples = decoder.feed(event.audio)
                    if samples.size:
                        chunks.append(samples)
                        if on_audio is not None:
                            on_audio = _feed(on_audio, samples)
                elif isinstance(event, TimestampsEvent):
                    word_parts.append(event.word_timestamps)
                    words_so_far += len(event.word_timestamps.words)
                    if on_progress is not None:
                        on_progress(min(words_so_far / total_words, 1.0))
                elif isinstance(event, PhonemeTimestampsEvent):
                    phoneme_parts.append(event.phoneme_timestamps)
        words = WordTimestamps.concat(word_parts)
        phonemes = PhonemeTimestamps.concat(phoneme_parts)
        # An hour-long take is hundreds of MB: join it off the event loop (UI thread).
        audio = (
            await in_thread(np.concatenate, chunks)
            if chunks else np.zeros(0, dtype=np.float32)
        )
        log.info("rendered block %s: %.2f s, %d words", block.id, audio.size / self.sample_rate,
                 len(words.words))
        return make_take(
            audio,
            self.sample_rate,
            words,
            phonemes,
            request.to_json(),
            self.backend,
            credits_for(request.transcript, self.backend),
            take_number=block.next_take_number(),
            cache_key=job.key,
            dictionary=job.applied,
        )
