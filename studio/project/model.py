"""The document model: a script of blocks, each with its takes. Qt-free.

A *block* is one line or paragraph of the script with its voice and delivery
(``GenerationConfig`` of the seed: speed 0.6–1.5, volume 0.5–2.0, emotion). A
*take* is one immutable generation of a block: float32 mono audio of shape
``(frames,)`` at ``sample_rate`` Hz, its word and phoneme timestamps in seconds
from the take's start, and the exact request that produced it.

Views subscribe to :class:`studio.services.document.ScriptDocument`, which owns a
:class:`Script` and announces changes; this module only holds data.
"""

from __future__ import annotations

import threading
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from studio.api.models import DEFAULT_MODEL, GenerationConfig, OutputFormat, TTSRequest
from studio.project.lexicon import LexiconItem
from studio.project.pronounce import Matcher, applied_items
from studio.project.take_cache import TAKE_CACHE, TakeAudioCache, new_key
from studio.timestamps import PhonemeTimestamps, WordTimestamps

#: Request fields that decide what a take sounds like (output format aside).
_RENDERED_FIELDS = ("model_id", "transcript", "voice", "language", "generation_config",
                    "pronunciation_dict_id")


#: The speaker of a block no one else was named for (issue 15: every block has one).
NARRATOR = "Narrator"


class BlockLocked(ValueError):
    """A locked block's text or takes were to change; unlock it first.

    Attributes:
        block_id: the locked block.
    """

    def __init__(self, block_id: str, number: int | None = None) -> None:
        where = f"Block {number}" if number is not None else "The block"
        super().__init__(f"{where} is locked (approved); unlock it to change its text or takes.")
        self.block_id = block_id


def new_id() -> str:
    return str(uuid.uuid4())


AudioLoader = Callable[[], npt.NDArray[np.float32]]


class TakeAudio:
    """The samples of a take: pinned in memory, or read from the project file on use.

    A project holds every take ever generated; keeping them all in memory would cost
    gigabytes over a book (issue 15), so samples that the project file holds (a take
    loaded from it, or a new one once :meth:`mark_stored` says the file has it) are kept
    only in a :class:`~studio.project.take_cache.TakeAudioCache` with a byte budget
    and read again when the cache has let them go. Samples not on disk yet (a take just
    generated, a clip) are pinned here: audio is never dropped that could not be read
    back. Reading is thread-safe; an array handed out stays valid however long its
    reader keeps it (eviction only drops the cache's reference).

    Attributes:
        sample_rate: Hz.
        frames: length in samples (known without loading).
        damaged: the stored samples failed their checksum or do not decode (found when
            the project opened or when they were read): never reused, shown as damaged.
        store_key: ``(project id, audio row id)`` once a project file holds these
            samples, so a reused take points at the same audio instead of storing it
            again.
    """

    __slots__ = ("__weakref__", "_array", "_cache", "_finalizer", "_key", "_loader",
                 "_lock", "damaged", "frames", "sample_rate", "store_key")

    def __init__(
        self,
        sample_rate: int,
        frames: int,
        array: npt.NDArray[np.float32] | None = None,
        loader: AudioLoader | None = None,
        cache: TakeAudioCache | None = None,
    ) -> None:
        if array is None and loader is None:
            raise ValueError("TakeAudio needs an array or a loader")
        self.sample_rate = sample_rate
        self.frames = frames
        self.store_key: tuple[str, int] | None = None
        self.damaged = False
        # Pinned samples: only while nothing can read them back.
        self._array = array if loader is None else None
        self._loader = loader
        self._cache = TAKE_CACHE if cache is None else cache
        self._key = new_key()
        self._finalizer: weakref.finalize[Any, TakeAudio] | None = None
        self._lock = threading.Lock()
        if array is not None and loader is not None:
            self._keep(array)

    @classmethod
    def of(cls, array: npt.NDArray[np.float32], sample_rate: int) -> TakeAudio:
        """Audio already in memory (pinned): float32, shape ``(frames,)``."""
        data = np.ascontiguousarray(array, dtype=np.float32)
        return cls(sample_rate, int(data.shape[0]), data)

    @property
    def loaded(self) -> bool:
        """Whether the samples are in memory now (pinned, or in the cache), so
        :attr:`array` returns without reading the file. A hint: the cache may let
        stored samples go at any moment after."""
        return self._array is not None or self._key in self._cache

    @property
    def pinned(self) -> bool:
        """Whether the samples are held here because no file has them yet."""
        return self._array is not None

    def mark_stored(self, store_key: tuple[str, int], loader: AudioLoader) -> None:
        """The project file now holds these samples as ``store_key``, readable with
        ``loader``: pinned samples move to the cache, which may let them go."""
        with self._lock:
            self.store_key = store_key
            self._loader = loader
            array, self._array = self._array, None
            if array is not None:
                self._keep(array)

    def read(self) -> npt.NDArray[np.float32]:
        """The samples, without keeping them when they are not in memory: for one pass
        over a whole book (an export), which must not push out what is on screen.

        Raises:
            studio.project.store.ProjectError: the project file cannot be read.
        """
        array = self._array
        if array is None:
            array = self._cache.get(self._key)
        if array is not None:
            return array
        loader = self._loader
        if loader is None:  # mark_stored ran in between: the cache has them or had them
            return self.array
        return loader()

    @property
    def array(self) -> npt.NDArray[np.float32]:
        """float32 mono samples, shape ``(frames,)``; read from the file when not in
        memory, and then kept in the cache.

        Raises:
            studio.project.store.ProjectError: the project file cannot be read.
        """
        array = self._array
        if array is not None:
            return array
        array = self._cache.get(self._key)
        if array is not None:
            return array
        with self._lock:  # one reader reads the file; the others wait and share it
            array = self._array if self._array is not None else self._cache.get(self._key)
            if array is None:
                assert self._loader is not None
                array = self._loader()
                self._keep(array)
        return array

    def _keep(self, array: npt.NDArray[np.float32]) -> None:
        if self._finalizer is None:
            self._finalizer = weakref.finalize(self, self._cache.discard, self._key)
        self._cache.put(self._key, array)


@dataclass(frozen=True, slots=True)
class Take:
    """One generation of a block. Frozen: renaming or starring makes a new ``Take``
    (``dataclasses.replace``) that shares the same :class:`TakeAudio`.

    Attributes:
        id: unique id (uuid4 string).
        source: the take's samples (:attr:`audio` reads them).
        word_timestamps: words with start/end in seconds from the take's start.
        phoneme_timestamps: phonemes with start/end in seconds.
        request: the JSON body sent (``GenerationRequest`` of the seed).
        backend: ``"offline"`` or ``"cloud"``.
        credits: credits charged (0 for the offline engine and for reused takes).
        created_at: Unix time in seconds.
        name: user-visible label.
        starred: marked by the user as a keeper.
        cache_key: :func:`studio.project.cache.take_key` of the request ("" if unknown).
        edits: non-destructive edits (:mod:`studio.project.edits`), applied in order
            to :attr:`audio` by :func:`studio.project.edits.edited`; the original
            samples are never changed.
        text: what the take says after its edits when they changed its words (an
            accepted infill, a split), "" when that is its request's transcript.
        dictionary: the pronunciation dictionary entries that applied to its
            transcript when it was made (:func:`studio.project.pronounce.applied_items`);
            ``()`` when it was made without a dictionary or none applied.
        performance: for a take made by "Perform it yourself" (issue 16), the user's
            own recorded or imported performance it was converted from (float32 mono
            at its own rate), kept in the project with the take; None for others.
    """

    id: str
    source: TakeAudio
    word_timestamps: WordTimestamps
    phoneme_timestamps: PhonemeTimestamps
    request: dict[str, Any]
    backend: str
    credits: int
    created_at: float
    name: str = ""
    starred: bool = False
    cache_key: str = ""
    edits: tuple[Any, ...] = ()
    text: str = ""
    dictionary: tuple[LexiconItem, ...] = ()
    performance: TakeAudio | None = None

    @property
    def spoken_text(self) -> str:
        """The transcript the take says now: :attr:`text`, or the request's."""
        return self.text or str(self.request.get("transcript", ""))

    @property
    def audio(self) -> npt.NDArray[np.float32]:
        """float32 mono samples, shape ``(frames,)``; never modified. Reads the project
        file when they are not in memory (see :class:`TakeAudio`): call off the UI
        thread unless :attr:`TakeAudio.loaded`."""
        return self.source.array

    @property
    def damaged(self) -> bool:
        """Whether the stored audio failed its check (:attr:`TakeAudio.damaged`): such
        a take is never reused as a cache hit; Generate makes a new one."""
        return self.source.damaged

    @property
    def sample_rate(self) -> int:
        """Hz."""
        return self.source.sample_rate

    @property
    def frames(self) -> int:
        return self.source.frames

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.frames / self.sample_rate if self.sample_rate else 0.0


@dataclass(frozen=True, slots=True)
class DictionaryUse:
    """The pronunciation dictionary a block is generated with.

    Attributes:
        id: the dictionary's id, "" for none.
        matcher: its entries (:class:`~studio.project.pronounce.Matcher`), or ``None``
            while they are unknown (never loaded from the backend nor kept in the
            project): then a take made with the same id counts as current.
    """

    id: str = ""
    matcher: Matcher | None = None

    def applied(self, transcript: str) -> tuple[LexiconItem, ...] | None:
        """The entries that change ``transcript``; ``None`` when the entries are unknown."""
        if not self.id:
            return ()
        return None if self.matcher is None else applied_items(transcript, self.matcher)


NO_DICTIONARY = DictionaryUse()


@dataclass(slots=True)
class Block:
    """One paragraph of the script with its voice and delivery.

    Attributes:
        text: the transcript, possibly with Cartesia's inline tags.
        voice_id: Cartesia voice id ("" until chosen).
        model_id: e.g. ``sonic-3``.
        language: a ``SupportedLanguage`` code.
        emotion: one of the seed's ``Emotion`` values, or ``None`` for the voice's default.
        speed: ratio in [0.6, 1.5].
        volume: ratio in [0.5, 2.0].
        takes: every take generated for the block, oldest first.
        selected_take_id: the take that plays and exports, or ``None``.
        pronunciation_dict_id: the block's own pronunciation dictionary: ``None``
            follows the project's choice, "" means none for this block.
        chapter: the title of the chapter this block starts, or ``None`` when it does
            not start one. Chapters drive M4B/ID3 chapters, chapter files and
            per-chapter export; the blocks before the first mark form an opening
            chapter (see :func:`studio.project.program.program_of`).
        speaker: who says the block (default :data:`NARRATOR`); the project's cast
            (:mod:`studio.project.cast`) gives each speaker a voice and delivery.
        flag: a retake flag set in review: ``None`` when not flagged, else the
            reviewer's note ("" for none).
        locked: approved: Generate all skips the block, and its text and takes
            cannot change until it is unlocked (:class:`BlockLocked`).
        cue_start: seconds; where an imported subtitle cue started (SRT/VTT), kept for
            timing the block later; ``None`` for other blocks.
    """

    text: str = ""
    voice_id: str = ""
    model_id: str = DEFAULT_MODEL
    language: str = "en"
    emotion: str | None = None
    speed: float = 1.0
    volume: float = 1.0
    id: str = field(default_factory=new_id)
    takes: list[Take] = field(default_factory=list)
    selected_take_id: str | None = None
    pronunciation_dict_id: str | None = None
    chapter: str | None = None
    speaker: str = NARRATOR
    flag: str | None = None
    locked: bool = False
    cue_start: float | None = None

    @property
    def flagged(self) -> bool:
        """Whether the block is flagged for a retake."""
        return self.flag is not None

    @property
    def selected_take(self) -> Take | None:
        for take in self.takes:
            if take.id == self.selected_take_id:
                return take
        return None

    def generation_config(self) -> GenerationConfig:
        return GenerationConfig(speed=self.speed, volume=self.volume, emotion=self.emotion)

    def tts_request(self, output_format: OutputFormat,
                    pronunciation_dict_id: str = "") -> TTSRequest:
        """The request that renders this block in ``output_format`` with the dictionary
        ``pronunciation_dict_id`` ("" for none; see :meth:`ScriptDocument.dictionary_use`
        for how a block's choice and the project's combine)."""
        return TTSRequest(
            transcript=self.text.strip(),
            voice_id=self.voice_id,
            model_id=self.model_id,
            language=self.language or None,
            generation_config=self.generation_config(),
            output_format=output_format,
            pronunciation_dict_id=pronunciation_dict_id or None,
        )

    def matches(self, take: Take, dictionary: DictionaryUse = NO_DICTIONARY) -> bool:
        """Whether ``take`` was made from this block's current text, voice, delivery and
        pronunciation (the output format aside). A take that does not match is out of
        date. With ``dictionary``'s entries known, the take must have been made with
        exactly the entries that apply to the text now, from whichever dictionary:
        editing an entry the text uses makes the take out of date, editing any other
        entry, or choosing a dictionary none of whose entries apply, does not."""
        current = self.tts_request(OutputFormat(), dictionary.id).to_json()
        if current.get("transcript") != take.spoken_text:
            return False
        applied = dictionary.applied(take.spoken_text)
        # Entries known: what matters is which entries apply, whichever dictionary holds
        # them (choosing a dictionary leaves blocks it does not change as they are).
        # Unknown: only the same dictionary id can be trusted.
        compared = [key for key in _RENDERED_FIELDS if key != "transcript"
                    and (applied is None or key != "pronunciation_dict_id")]
        if not all(current.get(key) == take.request.get(key) for key in compared):
            return False
        return applied is None or applied == take.dictionary

    def needs_take(self, dictionary: DictionaryUse = NO_DICTIONARY) -> bool:
        """Whether "Generate all" should render this block: it has text and no
        selected take, or its selected take is out of date (:meth:`matches`)."""
        take = self.selected_take
        return bool(self.text.strip()) and (take is None or not self.matches(take, dictionary))

    def next_take_number(self) -> int:
        """N for the next "Take N": one more than the highest number in use."""
        numbers = [int(t.name[5:]) for t in self.takes
                   if t.name.startswith("Take ") and t.name[5:].isdigit()]
        return max(numbers, default=0) + 1

    def with_delivery(self, **changes: Any) -> Block:
        """A copy with other settings and the same id and takes."""
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class Recording:
    """A voice clip recorded or imported in the Voice lab, kept in the project.

    Attributes:
        id: unique id (uuid4 string).
        name: user-visible label.
        source: float32 mono samples (:class:`TakeAudio`; ``audio`` reads them).
        created_at: Unix time in seconds.
        voice_id: the voice cloned from it ("" until one is).
    """

    id: str
    name: str
    source: TakeAudio
    created_at: float
    voice_id: str = ""

    @property
    def audio(self) -> npt.NDArray[np.float32]:
        return self.source.array

    @property
    def sample_rate(self) -> int:
        return self.source.sample_rate

    @property
    def duration(self) -> float:
        return self.source.frames / self.source.sample_rate if self.source.sample_rate else 0.0


def copy_take(block: Block, take: Take) -> Take:
    """A new take of ``block`` made from ``take`` of another block (a take-cache hit):
    the same audio (shared, not stored twice), timestamps, request and cache key; its
    own id and "Take N" name, stamped now, 0 credits (nothing was paid for it), not
    starred, and without the other take's edits (the cache is about generated audio)."""
    return replace(take, id=new_id(), credits=0, name=f"Take {block.next_take_number()}",
                   created_at=time.time(), starred=False, edits=(), text="")


def make_take(
    audio: npt.NDArray[np.float32],
    sample_rate: int,
    word_timestamps: WordTimestamps,
    phoneme_timestamps: PhonemeTimestamps,
    request: dict[str, Any],
    backend: str,
    credits: int,
    take_number: int,
    cache_key: str = "",
    dictionary: tuple[LexiconItem, ...] = (),
) -> Take:
    """A new :class:`Take` named "Take N", stamped with the current time."""
    return Take(
        id=new_id(),
        source=TakeAudio.of(audio, sample_rate),
        word_timestamps=word_timestamps,
        phoneme_timestamps=phoneme_timestamps,
        request=request,
        backend=backend,
        credits=credits,
        created_at=time.time(),
        name=f"Take {take_number}",
        cache_key=cache_key,
        dictionary=dictionary,
    )
