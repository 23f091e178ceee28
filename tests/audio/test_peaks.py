"""The peak pyramid against brute-force numpy on random audio (hypothesis)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.audio.peaks import BUCKETS, PeakPyramid

# Lengths around every bucket size, shorter than the first and not multiples of any.
lengths = st.one_of(
    st.integers(0, 600),
    st.integers(0, 9000),
    st.sampled_from([255, 256, 257, 4095, 4096, 4097, 65535, 65536, 65537]),
    st.integers(60_000, 140_000),
)


def random_audio(length: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    audio = rng.standard_normal(length).astype(np.float32) * rng.uniform(0.001, 1.0)
    return audio + np.float32(rng.uniform(-0.2, 0.2))  # an offset, so min and max differ


def brute_columns(audio: np.ndarray, start: float, spp: float, width: int,
                  bucket: int) -> np.ndarray:
    """(3, width): min, max, RMS per column, spans widened to whole buckets."""
    frames = audio.shape[0]
    edges = np.clip(np.ceil(start + np.arange(width + 1) * spp), 0, frames).astype(int)
    out = np.full((3, width), np.nan)
    for i in range(width):
        lo, hi = edges[i], edges[i + 1]
        if hi <= lo:
            continue
        lo, hi = lo // bucket * bucket, min(-(-hi // bucket) * bucket, frames)
        segment = audio[lo:hi].astype(np.float64)
        out[:, i] = segment.min(), segment.max(), np.sqrt(np.mean(segment**2))
    return out


def assert_close(actual: tuple[np.ndarray, ...], expected: np.ndarray) -> None:
    for got, want in zip(actual, expected, strict=True):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6, equal_nan=True)


@settings(max_examples=60, deadline=None)
@given(length=lengths, seed=st.integers(0, 2**32 - 1))
def test_every_level_summarises_its_buckets(length: int, seed: int) -> None:
    audio = random_audio(length, seed)
    pyramid = PeakPyramid.build(audio)
    assert [level.bucket for level in pyramid.levels] == list(BUCKETS)
    for level in pyramid.levels:
        count = -(-length // level.bucket)
        expected = np.full((3, count), np.nan)
        for b in range(count):
            segment = audio[b * level.bucket:(b + 1) * level.bucket].astype(np.float64)
            expected[:, b] = segment.min(), segment.max(), np.sqrt(np.mean(segment**2))
        assert_close((level.mins, level.maxs, level.rms), expected)


@settings(max_examples=150, deadline=None)
@given(
    length=lengths,
    seed=st.integers(0, 2**32 - 1),
    start_fraction=st.floats(-0.2, 1.2),
    spp=st.one_of(st.floats(0.05, 4.0), st.floats(1.0, 256.0), st.floats(256.0, 200_000.0)),
    width=st.integers(0, 120),
)
def test_columns_match_brute_force(length: int, seed: int, start_fraction: float,
                                   spp: float, width: int) -> None:
    audio = random_audio(length, seed)
    pyramid = PeakPyramid.build(audio)
    start = start_fraction * length
    bucket = pyramid.resolution(spp)
    assert_close(pyramid.columns(start, spp, width),
                 brute_columns(audio, start, spp, width, bucket))


@given(spp=st.floats(0.01, 1e7))
def test_resolution_reads_raw_samples_below_the_first_bucket(spp: float) -> None:
    bucket = PeakPyramid.build(np.zeros(10, np.float32)).resolution(spp)
    if spp < 256:
        assert bucket == 1
    else:
        # The coarsest level whose bucket is at most an eighth of a column (widening a
        # column by at most that much), and never finer than 256.
        assert bucket == max(b for b in BUCKETS if b == 256 or b * 8 <= spp)


def test_columns_past_the_end_and_between_samples_are_nan() -> None:
    pyramid = PeakPyramid.build(np.array([0.5, -0.25], np.float32))
    mins, maxs, _ = pyramid.columns(0.0, 0.5, 6)  # positions 0, .5, 1, 1.5, 2, 2.5
    np.testing.assert_array_equal(mins, [0.5, np.nan, -0.25, np.nan, np.nan, np.nan])
    np.testing.assert_array_equal(maxs, mins)


def test_build_keeps_the_audio_without_copying_or_locking_it() -> None:
    audio = np.linspace(-1, 1, 1000, dtype=np.float32)
    pyramid = PeakPyramid.build(audio)
    assert np.shares_memory(pyramid.audio, audio)
    assert pyramid.frames == 1000
    assert audio.flags.writeable and not pyramid.audio.flags.writeable


def test_build_converts_other_dtypes_and_rejects_stereo() -> None:
    assert PeakPyramid.build([0.0, 1.0, -1.0]).levels[0].maxs.tolist() == [1.0]
    with pytest.raises(ValueError, match="mono"):
        PeakPyramid.build(np.zeros((10, 2), np.float32))


def test_columns_rejects_bad_arguments() -> None:
    pyramid = PeakPyramid.build(np.zeros(10, np.float32))
    with pytest.raises(ValueError):
        pyramid.columns(0, 0, 10)
    with pytest.raises(ValueError):
        pyramid.columns(0, 1, -1)


def test_peaks_and_snap_import_without_qt() -> None:
    code = ("import sys\n"
            "for name in ('PySide6', 'qasync'):\n"
            "    sys.modules[name] = None\n"
            "import studio.audio.peaks, studio.audio.snap\n")
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_the_coarse_levels_are_read_and_agree_with_the_samples() -> None:
    """At fit zoom on a long take the 4096 and 65 536 levels are the ones read; their
    columns must equal brute force over the samples."""
    audio = random_audio(65536 * 40 + 123, seed=7)
    pyramid = PeakPyramid.build(audio)
    for spp in (4096 * 8.5, 65536 * 8.25):
        bucket = pyramid.resolution(spp)
        assert bucket in (4096, 65536) and bucket * 8 <= spp
        width = int(audio.size // spp)
        assert_close(pyramid.columns(0.0, spp, width),
                     brute_columns(audio, 0.0, spp, width, bucket))
