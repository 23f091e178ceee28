"""``POST /stt`` (seed ``stt_transcribe``; the v4 SDK's ``stt.transcribe``).

The request is ``multipart/form-data``: the audio ``file`` (anything libsndfile reads:
WAV, FLAC, MP3, Ogg; or headerless PCM when the query gives ``encoding`` and
``sample_rate``, seed ``STTEncoding``), ``model`` (``ink-whisper``), ``language``
(ISO 639-1, default ``en``) and ``timestamp_granularities[]`` (only ``word``).

The answer is the seed's ``TranscriptionResponse`` with the ``type: "transcript"`` the
v4 SDK requires: ``text``, ``language``, ``duration`` (seconds of audio) and, when word
timestamps were asked for, ``words`` as ``[{word, start, end}]`` in seconds.
Recognition is pocketsphinx with its US-English model
(:func:`studio.audio.align.recognize_words`), so only English is accepted.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from aiohttp import web

from studio.audio.align import recognize_words
from studio.offline.errors import bad_request
from studio.offline.multipart import Form, decode_audio, decode_raw, read_form
from studio.offline.state import STATE

ENGLISH_ONLY = "offline speech recognition supports English only"
_MODEL = re.compile(r"^ink-whisper(?:-\d{4}-\d{2}-\d{2})?$")
_GRANULARITIES = ("timestamp_granularities[]", "timestamp_granularities")


def _language(form: Form) -> str:
    language = (form.text("language") or "en").strip()
    if language.replace("_", "-").split("-")[0].lower() != "en":
        raise bad_request(f"{ENGLISH_ONLY}; got language {language!r}")
    return "en"


def _word_timestamps(form: Form) -> bool:
    values = [v for name in _GRANULARITIES for v in form.texts(name)]
    for value in values:
        if value != "word":
            raise bad_request(
                f"timestamp_granularities[] supports only 'word'; got {value!r}")
    return bool(values)


def _sample_rate(request: web.Request) -> int | None:
    raw = request.query.get("sample_rate")
    if raw is None:
        return None
    if not raw.isdigit():
        raise bad_request(f"sample_rate must be a whole number of Hz, got {raw!r}")
    return int(raw)


def transcribe(
    data: bytes, encoding: str | None, sample_rate: int | None, word_timestamps: bool
) -> dict[str, Any]:
    """Decode and recognise ``data``, blocking (run it in the engine's executor).

    Returns:
        The ``TranscriptionResponse`` body.

    Raises:
        ApiError: 400 if the file is empty or cannot be decoded.
    """
    if encoding is not None:
        if sample_rate is None:
            raise bad_request("sample_rate is required with encoding (headerless PCM)")
        audio, rate = decode_raw(data, encoding, sample_rate, "file"), sample_rate
    else:
        audio, rate = decode_audio(data, "file")
    text, words = recognize_words(audio, rate)
    body: dict[str, Any] = {
        "type": "transcript",
        "text": text,
        "language": "en",
        "duration": round(audio.shape[0] / rate, 4),
    }
    if word_timestamps:
        body["words"] = [
            {"word": w, "start": s, "end": e}
            for w, s, e in zip(words.words, words.start, words.end, strict=True)
        ]
    return body


async def stt_transcribe(request: web.Request) -> web.Response:
    """The transcription of the uploaded file."""
    state = request.app[STATE]
    form = await read_form(request, ("file",))
    data = form.files.get("file")
    if data is None:
        raise bad_request("file is required: the audio to transcribe")
    model = form.text("model")
    if not model:
        raise bad_request("model is required (ink-whisper)")
    if not _MODEL.match(model):
        raise bad_request(f"unknown speech-to-text model {model!r}; use ink-whisper")
    _language(form)
    word_timestamps = _word_timestamps(form)
    encoding = request.query.get("encoding")
    sample_rate = _sample_rate(request)
    loop = asyncio.get_running_loop()
    body = await loop.run_in_executor(
        state.executor, transcribe, data, encoding, sample_rate, word_timestamps)
    return web.json_response(body)
