"""``POST /infill/bytes`` and ``POST /stt`` on the offline engine, over loopback: raw
multipart requests as the seed describes them, and the official v4 SDK."""

from __future__ import annotations

import io
import math
import struct
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile as sf
from offline_helpers import VOICE_ID, audio_file, render_speech

from studio.audio import codecs
from studio.offline.params import INVALID_MODEL_MESSAGE
from studio.offline.synthesis import transcript_words

RATE = 22050
SENTENCE = "Please call me tomorrow morning after the meeting."
MIDDLE = "and bring the blue folder with you"
WAV_S16 = {"output_format[container]": "wav", "output_format[encoding]": "pcm_s16le",
           "output_format[sample_rate]": "44100"}


def speak(transcript: str, gain: float = 1.0) -> np.ndarray:
    """espeak-ng speech of ``transcript``, float32 at 22 050 Hz, scaled by ``gain``."""
    return render_speech(transcript) * np.float32(gain)


def active_rms_db(samples: np.ndarray, rate: int) -> float:
    """RMS in dBFS of the 10 ms frames within 30 dB of the loudest (speech, not pauses)."""
    size = rate // 100
    frames = samples[: len(samples) // size * size].astype(np.float64).reshape(-1, size)
    power = np.mean(frames * frames, axis=1)
    active = power[power > power.max() * 1e-3]
    return 10 * math.log10(float(np.mean(active)))


@pytest.fixture(scope="module")
def left_speech() -> np.ndarray:
    return speak("We met in the morning,", gain=0.25)


@pytest.fixture(scope="module")
def right_wav() -> bytes:
    return audio_file(speak("and the rest of the day went well.", gain=0.25))


def infill(http: httpx.Client, files: dict[str, Any], **fields: str) -> httpx.Response:
    data = {"transcript": MIDDLE, "voice_id": VOICE_ID, "model_id": "sonic-3",
            "language": "en", **WAV_S16}
    data.update(fields)
    return http.post("/infill/bytes", files=files, data={k: v for k, v in data.items() if v})


def read_audio(body: bytes) -> tuple[np.ndarray, int]:
    samples, rate = sf.read(io.BytesIO(body), dtype="float32")
    return samples, rate


# --- infill -----------------------------------------------------------------------


def test_infill_returns_only_the_middle_as_a_wav_file(
    http: httpx.Client, left_speech: np.ndarray, right_wav: bytes
) -> None:
    response = infill(http, {"left_audio": ("left.wav", audio_file(left_speech), "audio/wav"),
                             "right_audio": ("right.wav", right_wav, "audio/wav")})

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/wav"
    riff_size, = struct.unpack_from("<I", response.content, 4)
    assert riff_size == len(response.content) - 8  # a complete file, not a stream header
    middle, rate = read_audio(response.content)
    assert rate == 44100
    spoken_alone = len(speak(MIDDLE)) / RATE
    assert len(middle) / rate == pytest.approx(spoken_alone, abs=0.1)


@pytest.mark.parametrize("kind", ["WAV", "FLAC", "MP3", "OGG"])
def test_every_clip_format_is_accepted(http: httpx.Client, left_speech: np.ndarray,
                                       kind: str) -> None:
    clip = audio_file(left_speech, kind)

    response = infill(http, {"right_audio": (f"clip.{kind.lower()}", clip, "audio/x")})

    assert response.status_code == 200, response.text
    assert len(read_audio(response.content)[0]) > 0


@pytest.mark.parametrize(("fmt", "rate", "check"), [
    ({"output_format[container]": "raw", "output_format[encoding]": "pcm_f32le",
      "output_format[sample_rate]": "22050"}, 22050, "raw-f32"),
    ({"output_format[container]": "raw", "output_format[encoding]": "pcm_mulaw",
      "output_format[sample_rate]": "8000"}, 8000, "raw-mulaw"),
    ({"output_format[container]": "wav", "output_format[encoding]": "pcm_f32le",
      "output_format[sample_rate]": "48000"}, 48000, "FLOAT"),
    ({"output_format[container]": "wav", "output_format[encoding]": "pcm_alaw",
      "output_format[sample_rate]": "16000"}, 16000, "ALAW"),
    ({"output_format[container]": "mp3", "output_format[bit_rate]": "128000",
      "output_format[sample_rate]": "44100"}, 44100, "MPEG_LAYER_III"),
])
def test_output_formats(http: httpx.Client, left_speech: np.ndarray, fmt: dict[str, str],
                        rate: int, check: str) -> None:
    response = infill(http, {"left_audio": ("l.wav", audio_file(left_speech), "audio/wav")},
                      **{**dict.fromkeys(WAV_S16, ""), **fmt})

    assert response.status_code == 200, response.text
    seconds = len(speak(MIDDLE)) / RATE
    if check.startswith("raw"):
        encoding = "pcm_f32le" if check == "raw-f32" else "pcm_mulaw"
        samples = codecs.decode(response.content, encoding)
        assert response.headers["content-type"] == "application/octet-stream"
    else:
        info = sf.info(io.BytesIO(response.content))
        assert info.subtype == check
        samples, got_rate = read_audio(response.content)
        assert got_rate == rate
    assert len(samples) / rate == pytest.approx(seconds, abs=0.15)


def test_the_middle_matches_the_level_of_its_neighbours(
    http: httpx.Client, left_speech: np.ndarray, right_wav: bytes
) -> None:
    for gain in (0.05, 0.25):
        left = speak("We met in the morning,", gain=gain)
        right = speak("and the rest of the day went well.", gain=gain)
        response = infill(http, {"left_audio": ("l.wav", audio_file(left), "audio/wav"),
                                 "right_audio": ("r.flac", audio_file(right, "FLAC"), "a/b")},
                          **{"output_format[encoding]": "pcm_f32le"})
        assert response.status_code == 200, response.text
        middle, rate = read_audio(response.content)
        sides = active_rms_db(np.concatenate([left, right]), RATE)
        assert active_rms_db(middle, rate) == pytest.approx(sides, abs=3.0), gain


def test_the_level_match_never_clips(http: httpx.Client) -> None:
    t = np.arange(RATE, dtype=np.float32) / RATE
    loud = np.sign(np.sin(2 * np.pi * 200 * t)).astype(np.float32) * 0.99  # RMS near 0 dBFS

    response = infill(http, {"left_audio": ("l.wav", audio_file(loud), "audio/wav")},
                      **{"output_format[encoding]": "pcm_f32le"})

    assert response.status_code == 200, response.text
    middle, _ = read_audio(response.content)
    assert 0.9 < float(np.max(np.abs(middle))) <= 1.0


@pytest.mark.parametrize(("files", "fields", "message"), [
    ({}, {}, "left_audio, right_audio or both"),
    ({"left_audio": ("l.wav", b"RIFF not really a wave file", "audio/wav")}, {}, "left_audio"),
    ({"right_audio": ("r.mp3", b"\x00" * 1000, "audio/mpeg")}, {}, "right_audio"),
    ({"left_audio": ("l.wav", b"", "audio/wav")}, {}, "left_audio is empty"),
    ("clip", {"transcript": "   "}, "transcript is required"),
    ("clip", {"transcript": ""}, "transcript is required"),
    ("clip", {"voice_id": ""}, "voice_id is required"),
    ("clip", {"model_id": "sonic"}, INVALID_MODEL_MESSAGE),
    ("clip", {"language": "xx"}, "unsupported language"),
    ("clip", {"output_format[sample_rate]": "12345"}, "output_format.sample_rate"),
    ("clip", {"output_format[container]": "ogg"}, "output_format.container"),
    ("clip", {"transcript": 'Hi <break time="oops"/> there'}, "break"),
])
def test_bad_requests_are_400_with_a_message(
    http: httpx.Client, left_speech: np.ndarray, files: Any, fields: dict[str, str],
    message: str,
) -> None:
    if files == "clip":
        files = {"left_audio": ("l.wav", audio_file(left_speech), "audio/wav")}
    data = {"transcript": MIDDLE, "voice_id": VOICE_ID, "model_id": "sonic-3",
            "language": "en", **WAV_S16, **fields}
    # Always multipart, even with no files: an empty placeholder part that is no clip.
    response = http.post("/infill/bytes", data=data, files=files or {"note": ("n.txt", b"x")})

    assert response.status_code == 400, response.text
    assert message in response.json()["message"]


def test_an_unknown_voice_is_404_like_tts(http: httpx.Client, left_speech: np.ndarray) -> None:
    response = infill(http, {"left_audio": ("l.wav", audio_file(left_speech), "audio/wav")},
                      voice_id="00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert "voice not found" in response.json()["message"]


def test_a_json_body_is_refused(http: httpx.Client) -> None:
    response = http.post("/infill/bytes", json={"transcript": MIDDLE})
    assert response.status_code == 400
    assert "multipart/form-data" in response.json()["message"]


@pytest.mark.parametrize("path", ["/infill/bytes", "/stt"])
def test_a_malformed_multipart_body_is_400(http: httpx.Client, path: str) -> None:
    response = http.post(path, content=b"--x\r\nnot a header line\r\n\r\n",
                         headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert response.status_code == 400
    assert "malformed multipart body" in response.json()["message"]


def test_a_body_over_64_mb_is_413(http: httpx.Client) -> None:
    big = b"\0" * (64 * 1024 * 1024 + 1)
    response = infill(http, {"left_audio": ("l.wav", big, "audio/wav")})
    assert response.status_code == 413


# --- speech to text ---------------------------------------------------------------


def transcribe(http: httpx.Client, audio: bytes, name: str = "speech.wav",
               **fields: Any) -> httpx.Response:
    data: dict[str, Any] = {"model": "ink-whisper", "language": "en",
                            "timestamp_granularities[]": "word"}
    data.update(fields)
    return http.post("/stt", files={"file": (name, audio, "audio/x")},
                     data={k: v for k, v in data.items() if v is not None})


@pytest.mark.parametrize("kind", ["WAV", "FLAC", "OGG"])
def test_stt_finds_most_words_with_monotonic_timestamps(http: httpx.Client, kind: str) -> None:
    speech = speak(SENTENCE)

    response = transcribe(http, audio_file(speech, kind), f"speech.{kind.lower()}")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "transcript" and body["language"] == "en"
    assert body["duration"] == pytest.approx(len(speech) / RATE, abs=0.01)
    expected = [w.lower() for w in transcript_words(SENTENCE)]
    found = [w["word"] for w in body["words"]]
    assert found == body["text"].split()
    # Free recognition of espeak speech is weak, and espeak varies run to run: half the
    # words of a sentence of eight show the recogniser hears speech. Lossy Ogg (Vorbis at
    # the default quality) costs more words (it fell to 3 of 8 in one run in four), so
    # for it the point is that it decodes and is heard at all.
    share = 0.25 if kind == "OGG" else 0.5
    assert sum(w in found for w in expected) >= share * len(expected), body["text"]
    times = [t for w in body["words"] for t in (w["start"], w["end"])]
    assert times == sorted(times)
    assert times[0] >= 0.0 and times[-1] <= body["duration"]


def test_stt_words_only_when_asked_for(http: httpx.Client) -> None:
    response = transcribe(http, audio_file(speak(SENTENCE)), **{"timestamp_granularities[]": None})
    assert response.status_code == 200
    assert "words" not in response.json()


def test_stt_reads_headerless_pcm_with_encoding_and_rate(http: httpx.Client) -> None:
    pcm = codecs.encode(speak(SENTENCE), "pcm_s16le")
    response = http.post("/stt", params={"encoding": "pcm_s16le", "sample_rate": RATE},
                         files={"file": ("speech.raw", pcm)}, data={"model": "ink-whisper"})
    assert response.status_code == 200, response.text
    assert "tomorrow" in response.json()["text"]


@pytest.mark.parametrize(("fields", "audio", "message"), [
    ({"language": "fr"}, "speech", "offline speech recognition supports English only"),
    ({"language": "de-DE"}, "speech", "English only"),
    ({}, b"this is not audio", "file is not audio"),
    ({}, b"", "file is empty"),
    ({"model": None}, "speech", "model is required"),
    ({"model": "whisper-1"}, "speech", "ink-whisper"),
    ({"timestamp_granularities[]": "segment"}, "speech", "only 'word'"),
])
def test_stt_bad_requests_are_400(http: httpx.Client, fields: dict[str, Any], audio: Any,
                                  message: str) -> None:
    data = audio_file(speak("Hello there.")) if audio == "speech" else audio
    response = transcribe(http, data, **fields)
    assert response.status_code == 400, response.text
    assert message in response.json()["message"]


def test_stt_without_a_file_is_400(http: httpx.Client) -> None:
    response = http.post("/stt", data={"model": "ink-whisper"},
                         files={"other": ("x.txt", b"x")})
    assert response.status_code == 400
    assert "file is required" in response.json()["message"]


# --- the official SDK -------------------------------------------------------------


def test_the_official_sdk_infills_and_transcribes(sdk: Any, left_speech: np.ndarray) -> None:
    middle = sdk.tts.infill(
        left_audio=("left.flac", audio_file(left_speech, "FLAC"), "audio/flac"),
        transcript=MIDDLE, voice_id=VOICE_ID, model_id="sonic-3", language="en",
        output_format={"container": "wav", "encoding": "pcm_s16le", "sample_rate": 24000},
    ).read()
    samples, rate = read_audio(middle)
    assert rate == 24000 and len(samples) > 0.5 * rate

    result = sdk.stt.transcribe(file=("speech.wav", audio_file(speak(SENTENCE)), "audio/wav"),
                                model="ink-whisper", language="en",
                                timestamp_granularities=["word"])
    assert result.type == "transcript"
    assert "tomorrow" in result.text
    assert result.words and [w.word for w in result.words] == result.text.split()


def test_the_official_sdk_sees_the_english_only_error(sdk: Any) -> None:
    import cartesia

    with pytest.raises(cartesia.BadRequestError, match="English only"):
        sdk.stt.transcribe(file=audio_file(speak("Bonjour.")), model="ink-whisper",
                           language="fr")


def test_stt_and_infill_refuse_a_decompression_bomb(
    http: httpx.Client, flac_bomb: Path
) -> None:
    bomb = flac_bomb.read_bytes()
    for response, field in ((transcribe(http, bomb, "bomb.flac"), "file"),
                            (infill(http, {"left_audio": ("bomb.flac", bomb)}), "left_audio")):
        assert response.status_code == 400, response.text
        assert response.json()["message"].startswith(
            f"{field} is too large to decode: it holds 921,600,000 samples")
