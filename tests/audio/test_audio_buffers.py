"""Resampling, joining takes, dBFS levels, and atomic audio file I/O."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from studio.audio.buffers import (
    AudioFileError,
    concatenate_with_pauses,
    peak_dbfs,
    read_audio,
    resample,
    rms_dbfs,
    write_audio,
    write_wav,
)


def sine(freq: float, rate: int, seconds: float, amplitude: float = 1.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def dominant_frequency(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.shape[0])))
    return float(np.fft.rfftfreq(samples.shape[0], 1 / rate)[int(np.argmax(spectrum))])


@pytest.mark.parametrize(("src", "dst"), [(44_100, 16_000), (16_000, 44_100), (24_000, 48_000)])
def test_resample_length_follows_the_rate_ratio(src: int, dst: int) -> None:
    frames = 12_345
    out = resample(np.random.default_rng(1).uniform(-0.5, 0.5, frames), src, dst)
    assert out.dtype == np.float32 and out.ndim == 1
    assert abs(out.shape[0] - frames * dst / src) <= 1


def test_resample_preserves_a_sine_frequency_and_level() -> None:
    x = sine(1_000.0, 44_100, 1.0, amplitude=0.5)
    y = resample(x, 44_100, 16_000)
    assert abs(dominant_frequency(y, 16_000) - 1_000.0) <= 1.0  # 1 Hz bins
    core = y[1_000:-1_000]  # away from the filter's edge transients
    assert abs(peak_dbfs(core) - peak_dbfs(x)) < 0.1


def test_resample_same_rate_is_a_copy() -> None:
    x = sine(440.0, 16_000, 0.1)
    y = resample(x, 16_000, 16_000)
    np.testing.assert_array_equal(x, y)
    assert y is not x


def test_resample_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        resample(np.zeros(10, np.float32), 0, 16_000)
    with pytest.raises(ValueError):
        resample(np.zeros((10, 2), np.float32), 16_000, 8_000)


def test_concatenate_with_pauses_puts_silence_only_between_takes() -> None:
    a = np.full(100, 0.5, np.float32)
    b = np.full(50, -0.25, np.float32)
    c = np.full(10, 1.0, np.float32)
    out = concatenate_with_pauses([a, b, c], 1_000, 0.02)  # 20 frames
    assert out.dtype == np.float32 and out.shape == (100 + 20 + 50 + 20 + 10,)
    np.testing.assert_array_equal(out[:100], a)
    assert not out[100:120].any()
    np.testing.assert_array_equal(out[120:170], b)
    assert not out[170:190].any()
    np.testing.assert_array_equal(out[190:], c)


def test_concatenate_edge_cases() -> None:
    assert concatenate_with_pauses([], 16_000, 1.0).shape == (0,)
    single = np.ones(5, np.float32)
    np.testing.assert_array_equal(concatenate_with_pauses([single], 16_000, 3.0), single)
    with pytest.raises(ValueError):
        concatenate_with_pauses([single], 16_000, -0.1)
    with pytest.raises(ValueError):
        concatenate_with_pauses([np.ones((3, 2), np.float32)], 16_000, 0.0)


def test_dbfs_of_full_scale_sine_and_silence() -> None:
    x = sine(1_000.0, 48_000, 1.0)
    assert peak_dbfs(x) == pytest.approx(0.0, abs=1e-3)
    assert rms_dbfs(x) == pytest.approx(-3.0103, abs=0.01)
    assert rms_dbfs(0.5 * x) == pytest.approx(-3.0103 - 6.0206, abs=0.01)
    assert peak_dbfs(np.zeros(100, np.float32)) == -math.inf
    assert rms_dbfs(np.zeros(0, np.float32)) == -math.inf


def test_wav_round_trip_pcm16(tmp_path: Path) -> None:
    x = sine(440.0, 22_050, 0.5, amplitude=0.8)
    path = tmp_path / "take.wav"
    write_wav(path, x, 22_050)
    info = sf.info(str(path))
    assert (info.format, info.subtype, info.channels, info.samplerate) == (
        "WAV", "PCM_16", 1, 22_050,
    )
    y, rate = read_audio(path)
    assert rate == 22_050 and y.dtype == np.float32 and y.shape == x.shape
    assert np.max(np.abs(y - x)) <= 1 / 32_768 + 1e-7
    assert list(tmp_path.iterdir()) == [path]  # no temp file left behind


def test_float_wav_is_lossless_and_pcm_clips_instead_of_wrapping(tmp_path: Path) -> None:
    x = np.array([0.0, 0.3, -0.7, 1.5, -2.0], np.float32)
    write_wav(tmp_path / "f.wav", x, 8_000, subtype="FLOAT")
    np.testing.assert_array_equal(read_audio(tmp_path / "f.wav")[0], x)
    write_wav(tmp_path / "i.wav", x, 8_000)
    y, _ = read_audio(tmp_path / "i.wav")
    assert y[3] > 0.99 and y[4] == -1.0


def test_write_audio_flac(tmp_path: Path) -> None:
    x = sine(300.0, 16_000, 0.25, amplitude=0.5)
    write_audio(tmp_path / "take.flac", x, 16_000, format="FLAC", subtype="PCM_16")
    y, rate = read_audio(tmp_path / "take.flac")
    assert rate == 16_000 and np.max(np.abs(y - x)) <= 1 / 32_768 + 1e-7


def test_write_replaces_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "out.wav"
    path.write_bytes(b"old")
    write_wav(path, np.zeros(10, np.float32), 8_000)
    assert read_audio(path)[0].shape == (10,)


def test_read_audio_mixes_channels_down(tmp_path: Path) -> None:
    stereo = np.stack([np.full(100, 0.5), np.full(100, -0.25)], axis=1)
    sf.write(str(tmp_path / "st.wav"), stereo, 8_000, subtype="FLOAT")
    y, rate = read_audio(tmp_path / "st.wav")
    assert rate == 8_000 and y.shape == (100,)
    np.testing.assert_allclose(y, 0.125)


def test_read_audio_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_audio(tmp_path / "missing.wav")
    bogus = tmp_path / "bogus.wav"
    bogus.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really")
    with pytest.raises(AudioFileError, match=r"bogus.wav"):
        read_audio(bogus)


def test_write_into_missing_folder_names_the_path(tmp_path: Path) -> None:
    target = tmp_path / "nope" / "x.wav"
    with pytest.raises(FileNotFoundError, match=r"x.wav"):
        write_wav(target, np.zeros(10, np.float32), 8_000)


def _unprivileged_prefix() -> list[str] | None:
    """Command prefix that runs a child without root's permission bypass, or None."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    # An empty capability bounding set leaves root without CAP_DAC_OVERRIDE at exec.
    return [setpriv, "--bounding-set=-all", "--inh-caps=-all", "--ambient-caps=-all"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX directory permissions")
def test_write_into_read_only_folder(tmp_path: Path) -> None:
    prefix = _unprivileged_prefix()
    if prefix is None:
        pytest.skip("running as root without setpriv: permissions are not enforced")
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    script = textwrap.dedent(
        f"""
        import numpy as np
        from studio.audio.buffers import write_wav
        try:
            write_wav({str(folder / "x.wav")!r}, np.zeros(10, np.float32), 8_000)
        except OSError as exc:
            print(type(exc).__name__, exc)
        """
    )
    try:
        result = subprocess.run(
            [*prefix, sys.executable, "-c", script], capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("PermissionError"), result.stdout
        assert f"cannot write {folder / 'x.wav'}" in result.stdout
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_failed_write_leaves_neither_destination_nor_temp_file(tmp_path: Path) -> None:
    # A file-size limit makes write(2) fail with EFBIG, like a full disk does with ENOSPC;
    # it binds root too, unlike permissions. Run in a child so the limit stays there.
    script = textwrap.dedent(
        f"""
        import resource, signal
        import numpy as np
        from studio.audio.buffers import write_wav
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        try:
            write_wav({str(tmp_path / "big.wav")!r}, np.zeros(48_000, np.float32), 16_000)
        except OSError as exc:
            print("OSError:", exc)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OSError: cannot write") and "big.wav" in result.stdout
    assert list(tmp_path.iterdir()) == []
