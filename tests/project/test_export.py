"""Mixdown of takes for export: timeline, pauses, resampling, WAV on disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from studio.audio.buffers import resample
from studio.project.export import export_wav, mixdown
from studio.project.model import make_take
from studio.timestamps import PhonemeTimestamps, WordTimestamps


def _take(seconds: float, rate: int, words: list[tuple[str, float, float]]):  # type: ignore[no-untyped-def]
    t = np.arange(int(seconds * rate)) / rate
    audio = (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    ts = WordTimestamps(tuple(w for w, _, _ in words), tuple(s for _, s, _ in words),
                        tuple(e for _, _, e in words))
    return make_take(audio, rate, ts, PhonemeTimestamps(), {}, "offline", 0, 1)


def test_words_move_onto_the_output_timeline() -> None:
    a = _take(1.0, 44100, [("hello", 0.1, 0.5)])
    b = _take(2.0, 44100, [("world", 0.2, 0.6)])
    mix = mixdown([a, b], 44100, pause_seconds=0.5)
    assert mix.audio.shape[0] == 44100 * 3 + 22050
    assert mix.words == [
        {"word": "hello", "start": 0.1, "end": 0.5, "block": 0},
        {"word": "world", "start": 1.7, "end": 2.1, "block": 1},
    ]
    pause = mix.audio[44100:44100 + 22050]
    assert not pause.any()


def test_takes_at_another_rate_are_resampled() -> None:
    a = _take(1.0, 22050, [])
    mix = mixdown([a], 44100, 0.0)
    assert abs(mix.audio.shape[0] - 44100) <= 2


def test_nothing_to_export_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no block has a selected take"):
        mixdown([], 44100, 0.5)


def test_export_writes_a_16_bit_wav(tmp_path: Path) -> None:
    path = tmp_path / "out.wav"
    takes = [_take(0.5, 44100, [("a", 0.1, 0.2)]), _take(0.5, 22050, [("b", 0.0, 0.3)])]
    result = export_wav(takes, path, 44100, 0.25)
    info = sf.info(path)
    assert info.samplerate == 44100 and info.subtype == "PCM_16"
    assert info.frames == result.frames
    assert abs(result.frames - int(1.25 * 44100)) <= 2
    mix = mixdown(takes, 44100, 0.25)
    assert result.words == mix.words
    written, _ = sf.read(path, dtype="float32")
    assert np.allclose(written, mix.audio, atol=1 / 32768 + 1e-6)


def test_failed_export_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "missing-folder" / "out.wav"
    with pytest.raises(OSError, match="cannot write"):
        export_wav([_take(0.2, 44100, [])], target, 44100, 0.0)
    assert not target.exists()


def test_the_mixdown_says_where_each_take_starts_at_mixed_rates() -> None:
    first = _take(0.7, 22050, [("one", 0.1, 0.3)])  # resampled to 44.1 kHz (soxr rounds)
    second = _take(0.5, 44100, [("two", 0.0, 0.2)])
    mix = mixdown([first, second], 44100, 0.25)
    resampled = resample(first.audio, 22050, 44100).shape[0]
    assert mix.starts == (0, resampled + round(0.25 * 44100))
    assert np.array_equal(mix.audio[mix.starts[1]:], second.audio)
    assert np.all(mix.audio[resampled:mix.starts[1]] == 0)  # the pause
    assert mix.words[1]["start"] == pytest.approx(mix.starts[1] / 44100, abs=1e-4)
