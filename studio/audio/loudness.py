"""Programme loudness of takes, for comparing them at equal loudness. Qt-free.

Loudness is integrated loudness in LUFS as ITU-R BS.1770-4 defines it (K-weighting,
400 ms blocks overlapping by 75 %, an absolute gate at -70 LUFS and a relative gate
10 LU below the ungated level), measured with pyloudnorm's ``Meter``. On that scale
a full-scale 1 kHz sine in one channel reads -3.01 LUFS (BS.1770-4, Annex 1), and
1 LU is 1 dB.

A/B comparisons play both takes at the loudness of the quieter one
(:func:`matched_gains`): listeners rate the louder of two otherwise equal sounds as
better, so a fair comparison removes the difference, and only attenuating keeps
both takes below clipping.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pyloudnorm  # type: ignore[import-untyped]  # no stubs published

#: BS.1770 gating block length in seconds; pyloudnorm refuses shorter audio.
BLOCK_SECONDS = 0.4

#: BS.1770 absolute gate in LUFS: anything quieter counts as silence.
ABSOLUTE_GATE_LUFS = -70.0

SILENT = float("-inf")


def integrated_lufs(audio: npt.NDArray[np.float32], sample_rate: int) -> float:
    """Integrated loudness of ``audio`` in LUFS.

    Args:
        audio: float32 mono samples in [-1, 1], shape ``(frames,)``.
        sample_rate: Hz.

    Returns:
        Loudness in LUFS (ITU-R BS.1770-4 via pyloudnorm) for audio of at least
        :data:`BLOCK_SECONDS`. Shorter audio cannot fill one gating block, so it is
        measured as the K-weighted mean square of the clip itself, ungated (the
        BS.1770 formula for a single block whose length is the clip's): for steady
        sounds this equals the integrated reading; for speech it can read a little
        louder, since the quiet parts the gates would drop still count.
        ``-inf`` (:data:`SILENT`) for empty audio, digital silence, and audio
        quieter than the absolute gate (-70 LUFS).

    Raises:
        ValueError: ``audio`` is not one-dimensional, or ``sample_rate`` is not positive.
    """
    if audio.ndim != 1:
        raise ValueError(f"audio must be mono, shape (frames,); got shape {audio.shape}")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    frames = audio.shape[0]
    if frames == 0 or not np.any(audio):
        return SILENT
    # float64: the K-weighting filters and long sums lose precision in float32.
    data = audio.astype(np.float64)
    meter = pyloudnorm.Meter(sample_rate, block_size=BLOCK_SECONDS)
    block_frames = math.ceil(BLOCK_SECONDS * sample_rate)
    if frames >= block_frames:
        lufs = float(meter.integrated_loudness(data))
    else:
        # One block of the clip padded with zeros: its ungated block loudness, rescaled
        # from the block's length to the clip's, is the clip's K-weighted mean square.
        padded = np.zeros(block_frames, dtype=np.float64)
        padded[:frames] = data
        meter.integrated_loudness(padded)
        block = float(meter.blockwise_loudness[0])
        lufs = block + 10.0 * math.log10(BLOCK_SECONDS * sample_rate / frames)
    if math.isnan(lufs) or lufs < ABSOLUTE_GATE_LUFS:
        return SILENT
    return lufs


def matched_gains(a_lufs: float, b_lufs: float) -> tuple[float, float]:
    """Linear gains that play two sounds at the loudness of the quieter one.

    Args:
        a_lufs, b_lufs: integrated loudness of each, in LUFS (:func:`integrated_lufs`).

    Returns:
        ``(gain_a, gain_b)``, linear amplitude factors in (0, 1]: the quieter sound
        gets 1.0 and the louder one is attenuated by the difference, so nothing is
        amplified and nothing that did not clip before clips now. When either is
        silent (``-inf``) or not a number there is nothing to match: ``(1.0, 1.0)``.
    """
    if not (math.isfinite(a_lufs) and math.isfinite(b_lufs)):
        return 1.0, 1.0
    target = min(a_lufs, b_lufs)
    return db_to_gain(target - a_lufs), db_to_gain(target - b_lufs)


def db_to_gain(db: float) -> float:
    """Linear amplitude factor for ``db`` decibels (``-6.02`` gives 0.5)."""
    return float(10.0 ** (db / 20.0))


def gain_to_db(gain: float) -> float:
    """Decibels for a linear amplitude factor; ``-inf`` for 0.

    Raises:
        ValueError: ``gain`` is negative.
    """
    if gain < 0:
        raise ValueError(f"gain must not be negative, got {gain}")
    return 20.0 * math.log10(gain) if gain > 0 else SILENT
