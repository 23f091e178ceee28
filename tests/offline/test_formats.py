"""Output format parsing and the streaming encoder."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from studio.api.models import ENCODINGS, MP3_BIT_RATES, SAMPLE_RATES
from studio.audio import codecs
from studio.offline.errors import ApiError
from studio.offline.formats import (
    AudioFormat,
    StreamEncoder,
    mp3_compression_level,
    parse_output_format,
)

SOURCE_RATE = 22050


def _tone(seconds: float, rate: int = SOURCE_RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.4 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def _encode_in_chunks(fmt: AudioFormat, samples: np.ndarray, chunk: int = 2205) -> bytes:
    encoder = StreamEncoder(fmt, SOURCE_RATE)
    out = [encoder.feed(samples[i:i + chunk]) for i in range(0, len(samples), chunk)]
    out.append(encoder.finish())
    return b"".join(out)


def test_parse_valid_formats() -> None:
    assert parse_output_format(
        {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 8000}
    ) == AudioFormat("raw", "pcm_s16le", 8000)
    mp3 = parse_output_format({"container": "mp3", "sample_rate": 44100, "bit_rate": 192000})
    assert (mp3.container, mp3.bit_rate, mp3.content_type) == ("mp3", 192000, "audio/mpeg")


@pytest.mark.parametrize(
    "raw",
    [None, {}, {"container": "ogg", "encoding": "pcm_s16le", "sample_rate": 8000},
     {"container": "raw", "encoding": "pcm_u8", "sample_rate": 8000},
     {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 11025},
     {"container": "raw", "encoding": "pcm_s16le", "sample_rate": "8000"},
     {"container": "mp3", "sample_rate": 44100, "bit_rate": 100000}],
)
def test_parse_rejects_invalid(raw: object) -> None:
    with pytest.raises(ApiError) as info:
        parse_output_format(raw)
    assert info.value.status == 400


def test_raw_only_endpoints_refuse_containers() -> None:
    with pytest.raises(ApiError, match="container"):
        parse_output_format(
            {"container": "wav", "encoding": "pcm_s16le", "sample_rate": 8000}, ("raw",)
        )


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("rate", SAMPLE_RATES)
def test_raw_and_wav_round_trip(encoding: str, rate: int) -> None:
    source = _tone(0.5)
    raw = _encode_in_chunks(AudioFormat("raw", encoding, rate), source)
    decoded = codecs.decode(raw, encoding)
    assert abs(len(decoded) - 0.5 * rate) <= 2
    wav = _encode_in_chunks(AudioFormat("wav", encoding, rate), source)
    data, wav_rate = sf.read(io.BytesIO(wav), dtype="float32")
    assert wav_rate == rate
    assert len(data) == len(decoded)
    # The tone survives encoding (G.711 is coarse, so a loose bound).
    assert 0.2 < float(np.sqrt(np.mean(data**2))) < 0.35


@pytest.mark.parametrize("rate", SAMPLE_RATES)
def test_mp3_decodes_to_the_same_duration(rate: int) -> None:
    mp3 = _encode_in_chunks(AudioFormat("mp3", "mp3", rate, 128000), _tone(1.0))
    data, mp3_rate = sf.read(io.BytesIO(mp3), dtype="float32")
    assert mp3_rate == rate
    # Encoder delay, padding and the placeholder Info frame add up to four
    # frames (576 samples each below 32 kHz, 1152 above).
    padding = 4 * (1152 if rate >= 32000 else 576) / rate
    assert 0.99 < len(data) / rate < 1.0 + padding


def test_mp3_bit_rate_is_honoured() -> None:
    sizes = {}
    for bit_rate in (32000, 128000):
        mp3 = _encode_in_chunks(AudioFormat("mp3", "mp3", 44100, bit_rate), _tone(2.0))
        sizes[bit_rate] = len(mp3) * 8 / 2.0
    assert sizes[32000] < 48000
    assert 100000 < sizes[128000] < 160000


def test_compression_level_mapping_is_within_libsndfile_range() -> None:
    for rate in SAMPLE_RATES:
        for bit_rate in MP3_BIT_RATES:
            assert 0.0 <= mp3_compression_level(bit_rate, rate) <= 0.99
    assert mp3_compression_level(320000, 44100) == 0.0


def test_chunking_does_not_change_resampled_output() -> None:
    source = _tone(0.3)
    fmt = AudioFormat("raw", "pcm_f32le", 48000)
    whole = codecs.decode(_encode_in_chunks(fmt, source, chunk=len(source)), "pcm_f32le")
    pieces = codecs.decode(_encode_in_chunks(fmt, source, chunk=333), "pcm_f32le")
    assert len(whole) == len(pieces)
    np.testing.assert_allclose(whole, pieces, atol=1e-4)
