"""Decoding audio from outside within limits (:mod:`studio.audio.untrusted`): the FLAC
bomb of issue 14 refused from its header, a header that lies stopped while decoding, and
legitimate multichannel and compressed files decoded in blocks to the right mono."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from studio.audio import untrusted
from studio.audio.buffers import AudioFileError
from studio.audio.clip_checks import load_clip
from studio.audio.untrusted import AudioLimitError, decode_untrusted

BOMB_MESSAGE = (r"921,600,000 samples \(115,200,000 frames x 8 channels at 192,000 Hz\); "
                r"the limit is 57,600,000 samples")


def _no_decoding(*args: object, **kwargs: object) -> None:
    raise AssertionError("audio was decoded")


def test_the_flac_bomb_is_refused_from_its_header(
    flac_bomb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert flac_bomb.stat().st_size < 2_000_000
    monkeypatch.setattr(sf.SoundFile, "read", _no_decoding)
    with pytest.raises(AudioLimitError, match=BOMB_MESSAGE) as refused:
        decode_untrusted(flac_bomb, max_seconds=600)
    assert (refused.value.reason, refused.value.channels) == ("samples", 8)
    with pytest.raises(AudioLimitError, match=BOMB_MESSAGE):
        decode_untrusted(flac_bomb.read_bytes(), max_seconds=600)


def test_the_clip_import_refuses_the_bomb(
    flac_bomb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sf.SoundFile, "read", _no_decoding)
    with pytest.raises(AudioFileError, match=r"bomb.flac is too big to decode as a voice "
                                             r"clip: it holds " + BOMB_MESSAGE):
        load_clip(flac_bomb)


def test_refusing_the_bomb_costs_little_memory(flac_bomb: Path) -> None:
    # ru_maxrss is the process's peak, so a fresh interpreter measures this import alone.
    script = textwrap.dedent(f"""
        import resource
        from studio.audio.buffers import AudioFileError
        from studio.audio.clip_checks import load_clip
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            load_clip({str(flac_bomb)!r})
        except AudioFileError as exc:
            print("refused", exc)
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True)
    refused, added_kib = run.stdout.strip().splitlines()
    assert refused.startswith("refused bomb.flac is too big")
    assert int(added_kib) < 300 * 1024


def test_a_multichannel_file_within_limits_decodes_in_blocks(tmp_path: Path) -> None:
    # 150 s x 8 channels at 48 kHz is the whole budget for 600 s: 57.6 million samples,
    # 230 MB as one float32 array; decoded in blocks it costs about the mono output.
    path = tmp_path / "surround.flac"
    second = np.zeros((48_000, 8), dtype=np.int16)
    second[:, 0] = 8192  # channel 0 at 0.25 full scale, the rest silent
    with sf.SoundFile(path, "w", 48_000, 8, format="FLAC", subtype="PCM_16") as out:
        for _ in range(150):
            out.write(second)
    tracemalloc.start()
    try:
        mono, rate = decode_untrusted(path, max_seconds=600)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (mono.shape, mono.dtype, rate) == ((150 * 48_000,), np.float32, 48_000)
    assert float(mono.max()) == pytest.approx(0.25 / 8)
    mono_bytes = mono.nbytes
    assert peak < 3 * mono_bytes  # the whole 8-channel array would be 8x


def test_an_eight_channel_wav_decodes_to_the_mean_of_its_channels() -> None:
    t = np.arange(480_000) / 48_000
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    channels = np.stack([tone * (k % 2) for k in range(8)], axis=1)  # 4 of 8 carry it
    buffer = io.BytesIO()
    sf.write(buffer, channels, 48_000, format="WAV", subtype="FLOAT")

    mono, rate = decode_untrusted(buffer.getvalue(), max_seconds=600)

    assert (mono.shape, rate) == ((480_000,), 48_000)
    np.testing.assert_allclose(mono, tone / 2, atol=1e-6)
    rms = float(np.sqrt(np.mean(mono**2)))
    assert rms == pytest.approx(0.25 / np.sqrt(2), rel=1e-3)


def test_it_resamples_while_decoding() -> None:
    buffer = io.BytesIO()
    sf.write(buffer, np.full((96_000, 2), 0.5, dtype=np.float32), 48_000, format="WAV")
    mono, rate = decode_untrusted(buffer.getvalue(), max_seconds=10, target_rate=16_000)
    assert rate == 16_000
    assert mono.shape[0] == pytest.approx(32_000, abs=16)
    assert float(np.median(mono)) == pytest.approx(0.5, abs=1e-3)


def _flac_with_total(samples: np.ndarray, rate: int, total: int) -> bytes:
    """A FLAC of ``samples`` whose STREAMINFO states ``total`` frames (0: unknown)."""
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="FLAC")
    data = bytearray(buffer.getvalue())
    info = data.index(b"fLaC") + 8  # the STREAMINFO block's body
    # Total samples: the low 4 bits of byte 13 and bytes 14-17 (big-endian, 36 bits).
    data[info + 13] = (data[info + 13] & 0xF0) | (total >> 32)
    data[info + 14 : info + 18] = (total & 0xFFFFFFFF).to_bytes(4, "big")
    return bytes(data)


def test_a_header_without_the_length_is_stopped_while_decoding() -> None:
    noise = np.random.default_rng(1).uniform(-0.1, 0.1, (3 * 8000, 2)).astype(np.float32)
    unknown = _flac_with_total(noise, 8000, 0)

    mono, rate = decode_untrusted(unknown, max_seconds=5)  # within limits: all of it
    assert (mono.shape, rate) == ((3 * 8000,), 8000)
    np.testing.assert_allclose(mono, noise.mean(axis=1), atol=1e-4)

    with pytest.raises(AudioLimitError, match=r"more than 8,000 frames \(1 s at 8,000 Hz, "
                                              r"2 channels\).*decoding stopped"):
        decode_untrusted(unknown, max_seconds=1)


def test_a_header_that_understates_the_length_decodes_no_more_than_it_says() -> None:
    noise = np.random.default_rng(2).uniform(-0.1, 0.1, (3 * 8000, 1)).astype(np.float32)
    mono, _ = decode_untrusted(_flac_with_total(noise, 8000, 8000), max_seconds=2)
    assert mono.shape[0] <= 8000


def test_too_many_channels_or_too_high_a_rate_is_refused(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    nine = io.BytesIO()
    sf.write(nine, np.zeros((10, 9), dtype=np.float32), 48_000, format="WAV")
    fast = io.BytesIO()
    sf.write(fast, np.zeros(10, dtype=np.float32), 768_000, format="WAV")
    monkeypatch.setattr(sf.SoundFile, "read", _no_decoding)
    with pytest.raises(AudioLimitError, match="it has 9 channels; the limit is 8"):
        decode_untrusted(nine.getvalue(), max_seconds=600)
    with pytest.raises(AudioLimitError, match="768,000 Hz; the limit is 384,000 Hz"):
        decode_untrusted(fast.getvalue(), max_seconds=600)


@pytest.mark.parametrize(("kind", "subtype"), [("MP3", "MPEG_LAYER_III"), ("OGG", "OPUS")])
def test_small_compressed_files_still_decode(kind: str, subtype: str) -> None:
    if kind not in sf.available_formats():
        pytest.skip(f"this libsndfile cannot write {kind}")
    t = np.arange(2 * 48_000) / 48_000
    tone = (0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    buffer = io.BytesIO()
    sf.write(buffer, np.stack([tone, tone], axis=1), 48_000, format=kind, subtype=subtype)

    mono, rate = decode_untrusted(buffer.getvalue(), max_seconds=600)

    assert rate == 48_000 and mono.dtype == np.float32
    assert mono.shape[0] == pytest.approx(tone.shape[0], abs=4096)
    rms = float(np.sqrt(np.mean(mono[4800:-4800] ** 2)))
    assert rms == pytest.approx(0.3 / np.sqrt(2), rel=0.1)


def test_the_limits_are_stated() -> None:
    assert (untrusted.MAX_CHANNELS, untrusted.MAX_SAMPLE_RATE) == (8, 384_000)
    assert untrusted.sample_limit(600) == 57_600_000
