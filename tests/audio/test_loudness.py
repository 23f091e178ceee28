"""Integrated loudness (ITU-R BS.1770 via pyloudnorm) and loudness-matched gains."""

from __future__ import annotations

import math

import numpy as np
import pytest

from studio.audio.loudness import (
    SILENT,
    db_to_gain,
    gain_to_db,
    integrated_lufs,
    match_loudness,
    matched_gains,
)

RATE = 48000


def sine(seconds: float, amplitude: float, freq: float = 1000.0, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_full_scale_sine_reads_the_reference_level() -> None:
    # BS.1770-4, Annex 1: a 0 dBFS 1 kHz sine in one channel reads -3.01 LUFS.
    assert integrated_lufs(sine(3.0, 1.0), RATE) == pytest.approx(-3.01, abs=0.1)


def test_sine_at_minus_20_dbfs_reads_minus_23_lufs() -> None:
    amplitude = db_to_gain(-20.0)
    assert integrated_lufs(sine(3.0, amplitude), RATE) == pytest.approx(-23.01, abs=0.1)


def test_six_db_less_gain_reads_six_lu_less() -> None:
    loud = integrated_lufs(sine(2.0, 0.5), RATE)
    quiet = integrated_lufs(sine(2.0, 0.5 * db_to_gain(-6.0)), RATE)
    assert loud - quiet == pytest.approx(6.0, abs=0.05)


@pytest.mark.parametrize("rate", [16000, 22050, 44100])
def test_other_sample_rates_agree(rate: int) -> None:
    assert integrated_lufs(sine(2.0, 0.1, rate=rate), rate) == pytest.approx(-23.01, abs=0.15)


def test_clips_shorter_than_a_gating_block_fall_back_to_their_mean_square() -> None:
    long = integrated_lufs(sine(2.0, 0.25), RATE)
    for seconds in (0.39, 0.2, 0.05):
        assert integrated_lufs(sine(seconds, 0.25), RATE) == pytest.approx(long, abs=0.1)


def test_a_single_sample_does_not_crash() -> None:
    assert math.isfinite(integrated_lufs(np.array([0.5], dtype=np.float32), RATE))


@pytest.mark.parametrize("frames", [0, 10, RATE // 2, RATE * 2])
def test_silence_is_minus_infinity(frames: int) -> None:
    assert integrated_lufs(np.zeros(frames, dtype=np.float32), RATE) == SILENT


def test_audio_below_the_absolute_gate_counts_as_silence() -> None:
    assert integrated_lufs(sine(1.0, db_to_gain(-80.0)), RATE) == SILENT


def test_rejects_multichannel_audio_and_bad_rates() -> None:
    with pytest.raises(ValueError, match="mono"):
        integrated_lufs(np.zeros((RATE, 2), dtype=np.float32), RATE)
    with pytest.raises(ValueError, match="sample_rate"):
        integrated_lufs(sine(1.0, 0.5), 0)


def test_matched_gains_bring_both_to_the_quieter_level() -> None:
    a, b = sine(2.0, 0.5), sine(2.0, 0.5 * db_to_gain(-6.0))
    a_lufs, b_lufs = integrated_lufs(a, RATE), integrated_lufs(b, RATE)
    gain_a, gain_b = matched_gains(a_lufs, b_lufs)
    assert gain_b == 1.0
    assert gain_to_db(gain_a) == pytest.approx(-(a_lufs - b_lufs))
    matched_a = integrated_lufs((a * gain_a).astype(np.float32), RATE)
    assert matched_a == pytest.approx(b_lufs, abs=0.05)


def test_matched_gains_never_amplify() -> None:
    for a_lufs, b_lufs in [(-20.0, -30.0), (-30.0, -20.0), (-23.0, -23.0)]:
        gains = matched_gains(a_lufs, b_lufs)
        assert all(0.0 < g <= 1.0 for g in gains)
        assert max(gains) == 1.0


@pytest.mark.parametrize("a_lufs, b_lufs", [(SILENT, -20.0), (-20.0, SILENT), (SILENT, SILENT),
                                            (math.nan, -20.0)])
def test_matched_gains_leave_silence_alone(a_lufs: float, b_lufs: float) -> None:
    assert matched_gains(a_lufs, b_lufs) == (1.0, 1.0)


def test_gain_and_decibel_conversions() -> None:
    assert db_to_gain(0.0) == 1.0
    assert db_to_gain(-6.0206) == pytest.approx(0.5, abs=1e-4)
    assert gain_to_db(0.5) == pytest.approx(-6.0206, abs=1e-4)
    assert gain_to_db(0.0) == SILENT
    with pytest.raises(ValueError):
        gain_to_db(-1.0)


def test_match_loudness_plays_both_at_the_quieter_ones_level() -> None:
    loud, quiet = sine(3.0, 0.5), sine(3.0, 0.125, rate=24000)
    pair = match_loudness(loud, RATE, quiet, 24000)
    assert pair.sample_rate == RATE and pair.b.shape[0] == pytest.approx(RATE * 3, abs=2)
    assert pair.gain_b == 1.0 and gain_to_db(pair.gain_a) == pytest.approx(-12.04, abs=0.1)
    assert integrated_lufs(pair.a, RATE) == pytest.approx(integrated_lufs(pair.b, RATE), abs=0.1)
    assert pair.a.dtype == np.float32 and pair.b.dtype == np.float32
    # Loudness already measured is taken as given, not measured again.
    known = match_loudness(loud, RATE, loud, RATE, a_lufs=-20.0, b_lufs=-26.0)
    assert (known.a_lufs, known.b_lufs) == (-20.0, -26.0)
    assert gain_to_db(known.gain_a) == pytest.approx(-6.0)
    # Silence has no loudness to match: both play as they are, the same arrays.
    silent = np.zeros(RATE, np.float32)
    pair = match_loudness(silent, RATE, loud, RATE)
    assert pair.a_lufs == SILENT and (pair.gain_a, pair.gain_b) == (1.0, 1.0)
    assert pair.b is loud
