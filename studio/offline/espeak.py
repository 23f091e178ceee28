"""ctypes binding to espeak-ng from the ``espeakng-loader`` wheel.

Only what the offline engine needs: synchronous synthesis of one piece of text
with a given voice and prosody, delivering 16-bit mono PCM at the library's rate
(22 050 Hz for espeak-ng's standard voices) and the library's word and phoneme
events as they are produced; and text-to-phonemes in IPA (:func:`text_to_ipa`),
which the pronunciation dictionary's "Suggest" starts from.

Declarations follow espeak-ng's public header ``speak_lib.h`` (``espeak_EVENT``,
``espeak_Initialize``, ``espeak_SetSynthCallback``, ``espeak_SetParameter``,
``espeak_SetVoiceByName``, ``espeak_Synth``, ``espeak_TextToPhonemes``). The
library keeps global state and is not thread-safe, so every call goes through
:data:`_LOCK`, a process-wide lock: that is a property of the C library, not a
design choice, which is why it lives at module level. Callers run
:func:`synthesize` off the event loop (in a worker thread); it blocks for the
duration of the synthesis.
"""

from __future__ import annotations

import ctypes
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

# espeak_AUDIO_OUTPUT: AUDIO_OUTPUT_SYNCHRONOUS makes espeak_Synth return only
# after the whole text is rendered, calling our callback along the way.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_INITIALIZE_PHONEME_IPA = 0x0002
_INITIALIZE_DONT_EXIT = 0x8000
_CHARS_UTF8 = 1
_SSML = 0x10
# espeakPHONEMES: text between [[ and ]] is espeak-ng phoneme mnemonics.
_PHONEMES = 0x100
_POS_CHARACTER = 1
_EE_OK = 0
_EE_NOT_FOUND = 2
# espeak_TextToPhonemes phonememode: bit 1 selects IPA (UTF-8) over espeak's ASCII names.
_PHONEMES_IPA = 0x02
# espeak-ng marks words it reads in another language's rules as "(fr)...(en)".
_LANGUAGE_SWITCH = re.compile(r"\([a-z]{2,3}(?:-[a-z0-9]+)*\)", re.IGNORECASE)

# espeak_EVENT_TYPE
EVENT_LIST_TERMINATED = 0
EVENT_WORD = 1
EVENT_SENTENCE = 2
EVENT_MARK = 3
EVENT_PLAY = 4
EVENT_END = 5
EVENT_MSG_TERMINATED = 6
EVENT_PHONEME = 7
EVENT_SAMPLERATE = 8

# espeak_PARAMETER
PARAM_RATE = 1
PARAM_VOLUME = 2
PARAM_PITCH = 3
PARAM_RANGE = 4
PARAM_PUNCTUATION = 5
PARAM_CAPITALS = 6
PARAM_WORDGAP = 7

#: Words-per-minute limits espeak-ng accepts for ``espeakRATE`` (speak_lib.h).
RATE_MIN = 80
RATE_MAX = 450

#: Milliseconds of audio per synth callback: small enough that the first chunk
#: of a sentence leaves early, large enough to keep per-call overhead low.
_BUFFER_MS = 100


class _EventId(ctypes.Union):
    _fields_ = [
        ("number", ctypes.c_int),
        ("name", ctypes.c_char_p),
        ("string", ctypes.c_char * 8),
    ]


class _Event(ctypes.Structure):
    # Layout of espeak_EVENT in speak_lib.h; the pointer-sized union makes the
    # struct 8-byte aligned on 64-bit platforms, which ctypes reproduces.
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


class EspeakError(RuntimeError):
    """espeak-ng could not be loaded, initialised, or refused a call."""


@dataclass(frozen=True, slots=True)
class WordEvent:
    """A word starting: ``text_start``/``text_length`` index the synthesised
    string in code points (0-based), ``sample`` is the frame where it starts."""

    text_start: int
    text_length: int
    sample: int


@dataclass(frozen=True, slots=True)
class PhonemeEvent:
    """A phoneme starting at frame ``sample``; ``ipa`` is its IPA spelling."""

    ipa: str
    sample: int


@dataclass(frozen=True, slots=True)
class Prosody:
    """espeak-ng parameters for one synthesis call.

    ``rate`` words/min (80..450), ``pitch`` and ``pitch_range`` 0..100 (espeak's
    default 50), ``word_gap`` extra pause between words in units of 10 ms.
    """

    rate: int = 175
    pitch: int = 50
    pitch_range: int = 50
    word_gap: int = 0


#: Receives each block of int16 frames, shape (frames,), plus the events that
#: belong to it; returns True to stop synthesis early.
ChunkSink = Callable[[npt.NDArray[np.int16], list[WordEvent | PhonemeEvent]], bool]


class _Library:
    """The loaded and initialised library; created once per process."""

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise EspeakError("the espeakng-loader package is not installed") from exc
        path = espeakng_loader.get_library_path()
        try:
            lib = ctypes.CDLL(path)
        except OSError as exc:
            raise EspeakError(f"cannot load espeak-ng from {path}: {exc}") from exc
        data_path = espeakng_loader.get_data_path()

        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
            ctypes.c_uint, ctypes.POINTER(ctypes.c_uint), ctypes.c_void_p,
        ]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_TextToPhonemes.argtypes = [
            ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_int]
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p

        options = _INITIALIZE_PHONEME_EVENTS | _INITIALIZE_PHONEME_IPA | _INITIALIZE_DONT_EXIT
        rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, _BUFFER_MS, data_path.encode(), options
        )
        if rate <= 0:
            raise EspeakError(f"espeak_Initialize failed ({rate}) with data at {data_path}")
        self.lib = lib
        self.sample_rate = int(rate)
        # The C side only holds a raw pointer: keep the thunk alive with us.
        self._callback = _SynthCallback(self._on_synth)
        lib.espeak_SetSynthCallback(self._callback)
        self.sink: ChunkSink | None = None
        self.stopped = False
        log.debug("espeak-ng initialised at %d Hz from %s", rate, data_path)

    def _on_synth(self, wav: Any, frames: int, events: Any) -> int:
        # Runs inside espeak_Synth on the calling thread, with _LOCK held.
        sink = self.sink
        if sink is None or self.stopped:
            return 1
        found: list[WordEvent | PhonemeEvent] = []
        i = 0
        while True:
            ev = events[i]
            if ev.type == EVENT_LIST_TERMINATED:
                break
            if ev.type == EVENT_WORD:
                found.append(WordEvent(ev.text_position - 1, ev.length, ev.sample))
            elif ev.type == EVENT_PHONEME:
                raw = bytes(ev.id.string).split(b"\0", 1)[0]
                found.append(PhonemeEvent(raw.decode("utf-8", "replace"), ev.sample))
            i += 1
        if frames > 0 and wav:
            pcm = np.ctypeslib.as_array(wav, shape=(frames,)).astype(np.int16, copy=True)
        else:
            pcm = np.zeros(0, dtype=np.int16)
        try:
            self.stopped = bool(sink(pcm, found))
        except Exception:  # an exception must not unwind through C frames
            log.exception("synthesis sink failed; stopping this synthesis")
            self.stopped = True
        return 1 if self.stopped else 0

    def drain(self) -> None:
        """Let espeak-ng consume the commands ``espeak_SetVoiceByName`` queued.

        Each voice change queues a command that only a synthesis consumes; about
        36 of them without one fill the queue far enough that the next synthesis
        drops its first word event. Synthesising nothing (about 1 ms) empties it.
        Call with :data:`_LOCK` held.
        """
        self.sink = _discard
        try:
            self.lib.espeak_Synth(b"\0", 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        finally:
            self.sink = None
            self.stopped = False


def _discard(pcm: npt.NDArray[np.int16], events: list[WordEvent | PhonemeEvent]) -> bool:
    return False


_LOCK = threading.Lock()
_library: _Library | None = None


def _loaded() -> _Library:
    global _library
    if _library is None:
        _library = _Library()
    return _library


def sample_rate() -> int:
    """The rate espeak-ng renders at, in Hz (22 050 for its standard voices).

    Raises:
        EspeakError: if the library cannot be loaded or initialised.
    """
    library = _library
    if library is not None:  # immutable once loaded: no need to wait for a synthesis
        return library.sample_rate
    with _LOCK:
        return _loaded().sample_rate


def _check(result: int, what: str) -> None:
    if result != _EE_OK:
        raise EspeakError(f"{what} failed (espeak error {result})")


def _set_voice(lib: Any, voice: str) -> None:
    result = lib.espeak_SetVoiceByName(voice.encode())
    if result == _EE_NOT_FOUND:
        raise EspeakError(f"espeak-ng has no voice {voice!r}")
    _check(result, f"espeak_SetVoiceByName({voice!r})")


def synthesize(
    text: str, voice: str, prosody: Prosody, sink: ChunkSink, ssml: bool = False,
    phonemes: bool = False,
) -> bool:
    """Render ``text`` with espeak-ng ``voice`` (e.g. ``"en-us+f3"``), blocking.

    With ``ssml`` the text is espeak-ng's SSML subset (used for
    ``<say-as interpret-as="characters">``); event text positions then index
    the SSML string. With ``phonemes``, text between ``[[`` and ``]]`` is
    espeak-ng phoneme mnemonics (``[[kA@t'i:Z@]]``), as a pronunciation
    dictionary's IPA alias becomes.

    ``sink`` is called on this thread for each block of about 100 ms of int16
    frames at :func:`sample_rate`, with the word/phoneme events of that block.
    ``WordEvent.sample``/``PhonemeEvent.sample`` count frames from the start of
    this call's audio. Returns False if the sink asked to stop early, True if
    the text was rendered completely.

    Raises:
        EspeakError: unknown voice, or espeak-ng failing to synthesise.
    """
    with _LOCK:
        lib = _loaded()
        _set_voice(lib.lib, voice)
        rate = min(max(int(prosody.rate), RATE_MIN), RATE_MAX)
        for param, value in (
            (PARAM_RATE, rate),
            (PARAM_VOLUME, 100),
            (PARAM_PITCH, min(max(int(prosody.pitch), 0), 100)),
            (PARAM_RANGE, min(max(int(prosody.pitch_range), 0), 100)),
            (PARAM_WORDGAP, max(int(prosody.word_gap), 0)),
        ):
            _check(lib.lib.espeak_SetParameter(param, value, 0), f"espeak_SetParameter({param})")
        data = text.encode("utf-8") + b"\0"
        lib.sink = sink
        lib.stopped = False
        try:
            flags = _CHARS_UTF8 | (_SSML if ssml else 0) | (_PHONEMES if phonemes else 0)
            result = lib.lib.espeak_Synth(
                data, len(data), 0, _POS_CHARACTER, 0, flags, None, None
            )
        finally:
            lib.sink = None
        stopped = lib.stopped
        lib.stopped = False
        if result != _EE_OK and not stopped:
            raise EspeakError(f"espeak_Synth failed (espeak error {result})")
        return not stopped


def text_to_ipa(text: str, voice: str = "en-us") -> str:
    """espeak-ng's pronunciation of ``text`` in IPA, as ``voice``'s language reads it.

    Words are separated by single spaces, stress marks (``ˈ ˌ``) precede the stressed
    vowel as espeak-ng writes them, and punctuation is dropped: ``"Cartesia"`` gives
    ``"kɑːɹtˈiːʒə"``. The result is a starting point for a pronunciation dictionary
    entry (:func:`studio.project.lexicon.segment_ipa` splits it into Cartesia's
    segments). Uses ``espeak_TextToPhonemes`` with the IPA phoneme mode, one clause
    per call, under the module lock, so it is safe beside a synthesis on another
    thread; it blocks for about 0.25 ms for a word, 3 ms for twenty sentences.

    Raises:
        EspeakError: unknown voice, or the library cannot be loaded.
    """
    data = ctypes.create_string_buffer(text.encode("utf-8") + b"\0")
    clauses: list[str] = []
    with _LOCK:
        library = _loaded()
        lib = library.lib
        _set_voice(lib, voice)
        # espeak advances the pointer past each clause it translates and sets it to
        # NULL at the end; ``data`` stays referenced until the loop is done.
        cursor = ctypes.c_void_p(ctypes.addressof(data))
        while cursor.value:
            phonemes = lib.espeak_TextToPhonemes(ctypes.byref(cursor), _CHARS_UTF8, _PHONEMES_IPA)
            if phonemes:
                clauses.append(phonemes.decode("utf-8", "replace"))
        library.drain()
    return " ".join(_LANGUAGE_SWITCH.sub("", " ".join(clauses)).split())
