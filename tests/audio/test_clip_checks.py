"""Voice clip checks (studio.audio.clip_checks) on synthetic clips with known figures, and
loading imported clips: every format, and the files that must be refused."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from studio.audio import clip_checks
from studio.audio.buffers import AudioFileError
from studio.audio.clip_checks import ClipReport, check_clip, load_clip

RATE = 48_000
FRAME = int(clip_checks.FRAME_SECONDS * RATE)


def speechlike(seconds: float, *, snr_db: float | None, tone_dbfs: float = -12.0,
               lead_in: float = 0.5, seed: int = 1) -> tuple[np.ndarray, float]:
    """Tone bursts (300 ms on, 200 ms off, after ``lead_in`` of quiet) over white noise.

    ``snr_db`` is the burst power over the noise power; None for no noise at all. The
    tone's RMS is ``tone_dbfs``. Returns the clip and the noise RMS in dBFS.
    """
    frames = round(seconds * RATE)
    t = np.arange(frames) / RATE
    amplitude = 10 ** (tone_dbfs / 20) * math.sqrt(2)
    tone = amplitude * np.sin(2 * np.pi * 220 * t)
    start = round(lead_in * RATE)
    # Whole frames on and off, so the figures are not blurred by half-filled frames.
    on, off = 15 * FRAME, 10 * FRAME
    gate = np.zeros(frames)
    for begin in range(start, frames, on + off):
        gate[begin : begin + on] = 1.0
    clip = tone * gate
    noise_dbfs = -math.inf
    if snr_db is not None:
        noise_dbfs = tone_dbfs - snr_db
        rng = np.random.default_rng(seed)
        clip = clip + rng.normal(0.0, 10 ** (noise_dbfs / 20), frames)
    return clip.astype(np.float32), noise_dbfs


def test_a_clean_five_second_clip_is_fine() -> None:
    clip, noise = speechlike(5.0, snr_db=40.0)

    report = check_clip(clip, RATE)

    assert report.ok and report.problems == () and report.advice == ()
    assert report.duration == pytest.approx(5.0)
    assert report.peak_dbfs == pytest.approx(-12 + 20 * math.log10(math.sqrt(2)), abs=0.5)
    assert report.clipped_fraction == 0.0
    assert report.noise_floor_dbfs == pytest.approx(noise, abs=1.0)
    assert report.speech_dbfs == pytest.approx(-12.0, abs=0.5)
    assert report.snr_db == pytest.approx(40.0, abs=1.5)


@pytest.mark.parametrize(("snr", "lead_in", "verdict"), [
    (30.0, 0.5, "fine"),
    (20.0, 0.5, "advice"),
    (10.0, 0.5, "problem"),
    (10.0, 1.0, "problem"),
])
def test_noise_is_measured_and_judged(snr: float, lead_in: float, verdict: str) -> None:
    clip, noise = speechlike(6.0, snr_db=snr, lead_in=lead_in)

    report = check_clip(clip, RATE)

    assert report.noise_floor_dbfs == pytest.approx(noise, abs=1.0)
    # Bursts carry tone and noise: their level is 10*log10(1 + 10**(-snr/10)) above the tone.
    assert report.speech_dbfs == pytest.approx(-12 + 10 * math.log10(1 + 10 ** (-snr / 10)),
                                               abs=0.5)
    assert report.snr_db == pytest.approx(snr, abs=1.5)
    noise_problems = [p for p in report.problems if "background noise" in p]
    noise_advice = [a for a in report.advice if "background noise" in a]
    assert (bool(noise_problems), bool(noise_advice)) == {
        "fine": (False, False), "advice": (False, True), "problem": (True, False)}[verdict]
    assert report.ok == (verdict != "problem")


def test_noise_floor_comes_from_the_lead_in_not_the_pauses() -> None:
    # A quiet room before speaking; louder hum only while talking (pauses included).
    clip, _ = speechlike(6.0, snr_db=None, lead_in=1.0)
    rng = np.random.default_rng(3)
    quiet = rng.normal(0, 10 ** (-70 / 20), clip.shape[0])
    busy = rng.normal(0, 10 ** (-45 / 20), clip.shape[0])
    busy[: RATE] = 0.0
    report = check_clip((clip + quiet + busy).astype(np.float32), RATE)
    assert report.noise_floor_dbfs == pytest.approx(-70.0, abs=1.0)


def test_digital_silence_before_speech_is_an_infinite_snr() -> None:
    clip, _ = speechlike(5.0, snr_db=None)
    report = check_clip(clip, RATE)
    assert report.noise_floor_dbfs == -math.inf and report.snr_db == math.inf
    assert report.ok and report.advice == ()


@pytest.mark.parametrize("zeros", [0.15, 0.3, 0.6])
def test_digital_silence_at_the_start_is_not_the_noise_floor(zeros: float) -> None:
    # A microphone warming up (or an import padded with zeros) starts with exact zeros,
    # then the room: 1.2 s of it before speaking, 10 dB below the speech.
    clip, noise = speechlike(6.0, snr_db=10.0, lead_in=1.2)
    clip[: round(zeros * RATE)] = 0.0

    report = check_clip(clip, RATE)

    assert report.noise_floor_dbfs == pytest.approx(noise, abs=1.0)
    assert report.snr_db == pytest.approx(10.0, abs=1.5)
    assert not report.ok
    assert any("background noise is only" in p for p in report.problems)


def syllables(seconds: float) -> np.ndarray:
    """Continuous voiced speech without a pause: a 150 Hz buzz whose level swings between
    -35 and -12 dBFS RMS three times a second, like syllables, over a -70 dBFS room."""
    t = np.arange(round(seconds * RATE)) / RATE
    level_db = -23.5 - 11.5 * np.cos(2 * np.pi * 3 * t)
    buzz = np.sin(2 * np.pi * 150 * t) + 0.5 * np.sin(2 * np.pi * 300 * t)
    buzz *= 10 ** (level_db / 20) / math.sqrt(np.mean(buzz**2))
    room = np.random.default_rng(4).normal(0, 10 ** (-70 / 20), t.shape[0])
    return (buzz + room).astype(np.float32)


NO_LEAD_IN = ("Leave a second of silence before you speak so the noise floor can be "
              "measured.")


@pytest.mark.parametrize(("clip", "speech"), [
    # The old fallback (quiet frames of the whole clip) read the soft syllables as noise:
    # "audible background noise" in a clip with a -70 dBFS room.
    pytest.param(syllables(5.0), -17.0, id="trimmed to the first syllable"),
    pytest.param(speechlike(5.0, snr_db=40.0, lead_in=0.0)[0], -12.0, id="tone bursts"),
    pytest.param(np.concatenate([np.zeros(RATE, np.float32), syllables(5.0)]), -17.0,
                 id="zero padding then speech"),
])
def test_without_a_pause_before_speech_the_noise_floor_is_not_measured(
        clip: np.ndarray, speech: float) -> None:
    report = check_clip(clip, RATE)

    assert math.isnan(report.noise_floor_dbfs) and math.isnan(report.snr_db)
    assert report.ok  # a clean clip: nothing in it says otherwise
    assert not any("background noise" in p for p in report.problems)
    assert any(NO_LEAD_IN in a for a in report.advice)
    assert not any("audible background noise" in a for a in report.advice)
    assert report.speech_dbfs == pytest.approx(speech, abs=2.0)


def test_the_floor_of_the_untrimmed_recording_can_be_carried_over() -> None:
    clip = syllables(5.0)
    recording = np.concatenate([
        np.random.default_rng(5).normal(0, 10 ** (-70 / 20), RATE).astype(np.float32), clip])
    measured = check_clip(recording, RATE)
    assert measured.noise_floor_dbfs == pytest.approx(-70.0, abs=1.0)

    report = check_clip(clip, RATE, noise_floor_dbfs=measured.noise_floor_dbfs)

    assert report.noise_floor_dbfs == measured.noise_floor_dbfs
    assert report.snr_db == pytest.approx(report.speech_dbfs + 70.0, abs=1.0)
    assert report.ok and report.advice == ()
    # NaN (a report that could not measure it) or None: measured in the clip, as before.
    for unknown in (math.nan, None):
        again = check_clip(clip, RATE, noise_floor_dbfs=unknown)
        assert math.isnan(again.noise_floor_dbfs)
    assert check_clip(clip, RATE, noise_floor_dbfs=-math.inf).snr_db == math.inf


def _hum(seconds: float) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    hum = 10 ** (-30 / 20) * math.sqrt(2) * np.sin(2 * np.pi * 50 * t)
    return (hum + np.random.default_rng(6).normal(0, 1e-3, t.shape[0])).astype(np.float32)


@pytest.mark.parametrize("audio", [
    pytest.param(_hum(5.0), id="mains hum"),
    pytest.param(np.random.default_rng(7).normal(0, 0.01, 5 * RATE).astype(np.float32),
                 id="room noise"),
])
def test_a_clip_without_speech_is_a_problem(audio: np.ndarray) -> None:
    report = check_clip(audio, RATE)

    assert not report.ok
    assert len(report.problems) == 1 and "No speech was found" in report.problems[0]
    assert report.speech_dbfs == -math.inf and report.snr_db == 0.0
    assert not any("quiet" in a for a in report.advice)


@pytest.mark.parametrize("audio", [
    np.zeros(5 * RATE, dtype=np.float32),
    np.full(5 * RATE, 1e-6, dtype=np.float32),  # -120 dBFS: digital silence throughout
    np.random.default_rng(0).normal(0, 10 ** (-80 / 20), 5 * RATE).astype(np.float32),
])
def test_a_silent_clip_is_a_problem(audio: np.ndarray) -> None:
    report = check_clip(audio, RATE)
    assert not report.ok
    assert report.problems == ("The clip is silent: check the input device and its level.",)
    assert report.speech_dbfs == -math.inf and report.snr_db == 0.0


def test_an_empty_clip_is_a_problem() -> None:
    report = check_clip(np.zeros(0, dtype=np.float32), RATE)
    assert not report.ok and "empty" in report.problems[0]
    assert report.duration == 0.0 and report.peak_dbfs == -math.inf


def test_a_clipped_sine_is_a_problem() -> None:
    clip, _ = speechlike(5.0, snr_db=40.0, tone_dbfs=0.0)  # peaks at +3 dBFS
    clipped = np.clip(clip, -1.0, 1.0)

    report = check_clip(clipped, RATE)

    assert not report.ok
    assert any("clipped" in p and "lower the input gain" in p for p in report.problems)
    # A sine at sqrt(2) full scale is above 1.0 for half of each cycle; bursts are ~55 %
    # of the clip.
    on_fraction = float(np.mean(np.abs(clip) > 0.1))
    assert report.clipped_fraction == pytest.approx(0.5 * on_fraction, rel=0.05)
    assert report.peak_dbfs == pytest.approx(0.0, abs=0.01)


def test_a_few_clipped_samples_are_advice() -> None:
    clip, _ = speechlike(5.0, snr_db=40.0)
    clip[RATE : RATE + 10] = 1.0  # 10 samples of 240 000 = 0.004 %

    report = check_clip(clip, RATE)

    assert report.ok
    assert report.clipped_fraction == pytest.approx(10 / clip.shape[0])
    assert any("clipping" in a for a in report.advice)


@pytest.mark.parametrize(("seconds", "problem", "advice"), [
    (0.6, "only 0.6 s long", None),
    (2.0, None, "short (2.0 s)"),
    (5.0, None, None),
    (45.0, None, "long (45 s)"),
])
def test_length(seconds: float, problem: str | None, advice: str | None) -> None:
    # Half a second before speaking: enough lead-in for the noise floor (see the tests of
    # a clip without one below), so the only verdicts are about length.
    clip, _ = speechlike(seconds, snr_db=40.0, lead_in=0.5)
    report = check_clip(clip, RATE)
    assert report.duration == pytest.approx(seconds)
    assert any(problem in p for p in report.problems) if problem else report.ok
    assert any(advice in a for a in report.advice) if advice else report.advice == ()


def test_quiet_speech_gets_advice() -> None:
    clip, _ = speechlike(5.0, snr_db=40.0, tone_dbfs=-46.0)
    report = check_clip(clip, RATE)
    assert report.ok
    assert any("quiet" in a and "raise the input gain" in a for a in report.advice)


def test_report_is_a_frozen_value() -> None:
    report = check_clip(speechlike(5.0, snr_db=40.0)[0], RATE)
    assert isinstance(report, ClipReport)
    with pytest.raises(AttributeError):
        report.duration = 1.0  # type: ignore[misc]


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="mono"):
        check_clip(np.zeros((10, 2), dtype=np.float32), RATE)
    with pytest.raises(ValueError, match="positive"):
        check_clip(np.zeros(10, dtype=np.float32), 0)


# -- loading ------------------------------------------------------------------------------

@pytest.mark.parametrize(("fmt", "subtype", "ext", "min_correlation"), [
    ("WAV", "PCM_16", "wav", 0.9999),
    ("FLAC", "PCM_24", "flac", 0.9999),
    ("OGG", "VORBIS", "ogg", 0.99),
    ("MP3", "MPEG_LAYER_III", "mp3", 0.99),
])
def test_each_format_loads_as_float32_mono(tmp_path: Path, fmt: str, subtype: str, ext: str,
                                           min_correlation: float) -> None:
    if fmt not in sf.available_formats():
        pytest.skip(f"this libsndfile cannot write {fmt}")
    clip, _ = speechlike(2.0, snr_db=40.0)
    path = tmp_path / f"clip.{ext}"
    stereo = np.stack([clip, 0.5 * clip], axis=1)
    sf.write(path, stereo, RATE, format=fmt, subtype=subtype)

    audio, rate = load_clip(path)

    assert rate == RATE and audio.dtype == np.float32 and audio.ndim == 1
    # Lossy codecs may pad or delay a little; compare the middle, aligned by correlation.
    expected = 0.75 * clip
    middle = slice(RATE // 2, 3 * RATE // 2)
    lag = int(np.argmax(np.correlate(audio[: 2 * RATE], expected[middle], mode="valid")))
    got = audio[lag : lag + RATE]
    correlation = float(np.corrcoef(got, expected[middle])[0, 1])
    assert correlation > min_correlation
    assert audio.shape[0] == pytest.approx(clip.shape[0], abs=4096)


def test_corrupt_files_are_refused_with_a_message(tmp_path: Path) -> None:
    garbage = tmp_path / "voice.wav"
    garbage.write_bytes(os.urandom(64_000))
    with pytest.raises(AudioFileError, match=r"voice.wav is not an audio file .* WAV, FLAC"):
        load_clip(garbage)

    flac = tmp_path / "whole.flac"
    sf.write(flac, speechlike(3.0, snr_db=40.0)[0], RATE, format="FLAC")
    damaged = tmp_path / "damaged.flac"
    damaged.write_bytes(flac.read_bytes()[: flac.stat().st_size // 2])
    with pytest.raises(AudioFileError, match=r"damaged.flac is damaged"):
        load_clip(damaged)


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    empty.touch()
    with pytest.raises(AudioFileError, match=r"empty.wav is empty \(0 bytes\)"):
        load_clip(empty)

    no_frames = tmp_path / "no_frames.wav"
    sf.write(no_frames, np.zeros(0, dtype=np.float32), RATE)
    with pytest.raises(AudioFileError, match=r"no_frames.wav contains no audio"):
        load_clip(no_frames)


def test_a_2gb_file_is_refused_by_size_without_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    huge = tmp_path / "huge.wav"
    with open(huge, "wb") as f:
        f.truncate(2**31)  # sparse: costs no disk space

    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was opened for decoding")

    monkeypatch.setattr(sf, "SoundFile", no_decoding)
    with pytest.raises(AudioFileError, match=r"huge.wav is too large .*2,147 MB.*200 MB"):
        load_clip(huge)


def test_a_long_compressed_file_is_refused_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "podcast.flac"
    sf.write(path, np.zeros(8000 * 3, dtype=np.float32), 8000, format="FLAC")
    monkeypatch.setattr(clip_checks, "MAX_CLIP_SECONDS", 2.0)
    with pytest.raises(
        AudioFileError,
        match=r"podcast.flac lasts 3 s: too long for a voice clip \(the limit is 2 s\)",
    ):
        load_clip(path)


def test_missing_file_and_folder_are_os_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_clip(tmp_path / "nope.wav")
    with pytest.raises(IsADirectoryError):
        load_clip(tmp_path)
