"""ACX checks (studio.audio.acx): the streaming meter against signals with known levels,
the rules and their advice, and files on disk cross-checked with FFmpeg's astats."""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
import shutil
import subprocess
import tracemalloc
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf  # type: ignore[import-untyped]

from studio.audio.acx import (
    AcxReport,
    FileFormat,
    LevelMeter,
    Levels,
    acx_check,
    channel_layout_finding,
    check_file,
    measure_file,
    scan_file,
)
from studio.audio.buffers import AudioFileError

RATE = 44100
FULL_SCALE_SINE_DB = 20 * math.log10(1 / math.sqrt(2))  # -3.0103: the Audacity/ACX convention
FloatArray = npt.NDArray[np.float32]


def db(amplitude: float) -> float:
    return 20 * math.log10(amplitude)


def sine(amplitude: float, seconds: float, rate: int = RATE, hz: float = 1000.0) -> FloatArray:
    t = np.arange(round(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def noise(level_db: float, seconds: float, rate: int = RATE, seed: int = 0) -> FloatArray:
    """White noise whose RMS is ``level_db`` (to within the sampling of its variance)."""
    rng = np.random.default_rng(seed)
    return (10 ** (level_db / 20) * rng.standard_normal(round(seconds * rate))).astype(
        np.float32)


def silence(seconds: float, rate: int = RATE) -> FloatArray:
    return np.zeros(round(seconds * rate), dtype=np.float32)


def measure(samples: FloatArray, rate: int = RATE, chunk: int | None = None,
            **options: float) -> Levels:
    meter = LevelMeter(rate, **options)
    step = chunk or max(1, samples.shape[0])
    for start in range(0, samples.shape[0], step):
        meter.add(samples[start:start + step])
    return meter.result()


def speechlike(rate: int = RATE) -> FloatArray:
    """Room tone, bursts of noise at several levels with pauses, a tone, room tone."""
    parts = [noise(-70, 0.63, rate, seed=1)]
    for i, level in enumerate((-18, -30, -24, -45)):
        parts += [noise(level, 0.37 + 0.1 * i, rate, seed=2 + i), noise(-72, 0.21, rate, 9)]
    parts += [sine(0.3, 0.5, rate, hz=220), silence(1.33, rate)]
    return np.concatenate(parts)


# -- the meter ---------------------------------------------------------------------------

def test_sine_rms_is_amplitude_over_root_two_and_peak_is_amplitude() -> None:
    levels = measure(sine(0.5, 2.0, rate=48000), rate=48000)  # a sample at every crest

    assert levels.rms_dbfs == pytest.approx(db(0.5 / math.sqrt(2)), abs=1e-4)
    assert levels.peak_dbfs == pytest.approx(db(0.5), abs=1e-6)
    assert levels.noise_floor_dbfs == pytest.approx(levels.rms_dbfs, abs=1e-4)
    assert levels.duration == 2.0


def test_a_full_scale_sine_reads_minus_3_01_db_rms() -> None:
    levels = measure(sine(1.0, 1.0, rate=48000))

    assert levels.rms_dbfs == pytest.approx(FULL_SCALE_SINE_DB, abs=1e-4)
    assert levels.peak_dbfs == pytest.approx(0.0, abs=1e-6)


def test_digital_silence_reads_minus_infinity_and_is_all_room_tone() -> None:
    levels = measure(silence(3.0))

    assert levels.rms_dbfs == levels.peak_dbfs == levels.noise_floor_dbfs == -math.inf
    assert levels.head_seconds == levels.tail_seconds == levels.duration == 3.0
    assert not levels.has_sound


def test_noise_at_a_known_level() -> None:
    levels = measure(noise(-65.0, 5.0))

    assert levels.rms_dbfs == pytest.approx(-65.0, abs=0.05)
    # The quietest of 47 windows of 17 640 samples: a little under the mean level.
    assert -65.5 < levels.noise_floor_dbfs <= levels.rms_dbfs


def test_noise_floor_is_the_rms_of_the_quietest_window() -> None:
    quiet = 10 ** (-75 / 20)
    signal = np.concatenate([sine(0.1, 1.0), sine(quiet, 1.0), sine(0.1, 1.0)])

    levels = measure(signal)

    # Windows from 1.0 s to 1.6 s lie wholly in the quiet second (whole periods of 1 kHz).
    assert levels.noise_floor_dbfs == pytest.approx(db(quiet / math.sqrt(2)), abs=1e-3)


def test_noise_floor_windows_step_by_the_hop_as_acx_check_does() -> None:
    # A quiet 0.4 s that starts half a hop off the 0.1 s grid is never one whole window.
    quiet = 10 ** (-80 / 20)
    signal = np.concatenate([sine(0.1, 1.05), sine(quiet, 0.4), sine(0.1, 1.0)])

    levels = measure(signal)

    assert levels.noise_floor_dbfs > db(quiet / math.sqrt(2)) + 10
    # McCown's ACX Check: the quietest 0.5 s; 0.05 s hops find the offset stretch.
    offset = measure(np.concatenate([sine(0.1, 1.05), sine(quiet, 0.5), sine(0.1, 1.0)]),
                     window_seconds=0.5, hop_seconds=0.05)
    assert offset.noise_floor_dbfs == pytest.approx(db(quiet / math.sqrt(2)), abs=1e-3)


@pytest.mark.parametrize("chunk", [1, 777, 48000])
def test_the_result_does_not_depend_on_the_chunk_size(chunk: int) -> None:
    signal = speechlike(rate=16000)
    whole = measure(signal, rate=16000)

    levels = measure(signal, rate=16000, chunk=chunk)

    for field in ("rms_dbfs", "peak_dbfs", "noise_floor_dbfs"):
        assert getattr(levels, field) == pytest.approx(getattr(whole, field), abs=1e-6), field
    assert (levels.duration, levels.head_seconds, levels.tail_seconds) == (
        whole.duration, whole.head_seconds, whole.tail_seconds)


def test_a_quiet_window_split_between_chunks_is_found() -> None:
    quiet = 10 ** (-75 / 20)
    signal = np.concatenate([sine(0.1, 1.0), sine(quiet, 0.4), sine(0.1, 1.0)])
    meter = LevelMeter(RATE)
    # Boundaries inside the quiet window, inside a hop and inside a 10 ms block.
    cuts = [0, 45000, 45001, 53000, 61000, signal.shape[0]]
    for start, end in itertools.pairwise(cuts):
        meter.add(signal[start:end])

    floor = meter.result().noise_floor_dbfs
    assert floor == pytest.approx(db(quiet / math.sqrt(2)), abs=1e-3)
    assert floor == pytest.approx(measure(signal).noise_floor_dbfs, abs=1e-6)


def test_shorter_than_one_window_has_no_noise_floor() -> None:
    short = measure(sine(0.1, 0.39))
    one_window = measure(sine(0.1, 0.4))
    empty = LevelMeter(RATE).result()

    assert math.isnan(short.noise_floor_dbfs)
    assert one_window.noise_floor_dbfs == pytest.approx(one_window.rms_dbfs, abs=1e-9)
    assert math.isnan(empty.noise_floor_dbfs)
    assert empty.rms_dbfs == empty.peak_dbfs == -math.inf
    assert empty.duration == empty.head_seconds == empty.tail_seconds == 0.0


def test_result_can_be_read_while_the_stream_goes_on() -> None:
    meter = LevelMeter(RATE)
    meter.add(sine(0.1, 1.0))
    first = meter.result()
    meter.add(silence(1.0))

    assert first.duration == 1.0
    assert meter.result().duration == 2.0
    assert meter.result().tail_seconds == pytest.approx(1.0)


def test_memory_does_not_grow_with_the_stream() -> None:
    chunk = noise(-30, 1.0, rate=8000)
    meter = LevelMeter(8000)
    for _ in range(50):
        meter.add(chunk)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for _ in range(1000):
            meter.add(chunk)
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert after - before < 4096
    assert meter.result().duration == 1050.0


def test_channels_combine_as_acx_check_combines_stereo() -> None:
    left = sine(0.5, 1.0, rate=48000)
    one_sided = LevelMeter(48000)
    one_sided.add_channels(np.stack([left, np.zeros_like(left)], axis=1))
    both = LevelMeter(48000)
    both.add_channels(np.stack([left, left], axis=1))

    # The mean square over both channels: half the power of the live one; the peak is its.
    assert one_sided.result().rms_dbfs == pytest.approx(db(0.5 / math.sqrt(2)) - 3.0103,
                                                        abs=1e-3)
    assert one_sided.result().peak_dbfs == pytest.approx(db(0.5), abs=1e-6)
    assert both.result() == measure(left, rate=48000)


def test_the_meter_refuses_bad_input() -> None:
    meter = LevelMeter(RATE)
    with pytest.raises(ValueError, match="mono"):
        meter.add(np.zeros((10, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="channels"):
        meter.add_channels(np.zeros(10, dtype=np.float32))
    with pytest.raises(ValueError, match="NaN"):
        meter.add(np.array([0.0, np.nan], dtype=np.float32))
    with pytest.raises(ValueError, match="sample rate"):
        LevelMeter(0)
    with pytest.raises(ValueError, match="whole number of hops"):
        LevelMeter(RATE, window_seconds=0.45, hop_seconds=0.1)


# -- room tone at head and tail ------------------------------------------------------------

def test_head_and_tail_of_digital_silence_around_narration() -> None:
    levels = measure(np.concatenate([silence(0.7), sine(0.1, 2.0), silence(2.5)]))

    assert levels.head_seconds == pytest.approx(0.7, abs=1e-9)
    assert levels.tail_seconds == pytest.approx(2.5, abs=1e-9)
    assert levels.has_sound


def test_room_tone_below_the_threshold_counts_as_quiet() -> None:
    signal = np.concatenate([noise(-62, 0.8, seed=1), sine(0.1, 1.0),
                             noise(-55, 1.5, seed=2)])

    levels = measure(signal)

    assert levels.head_seconds == pytest.approx(0.8, abs=0.01)
    assert levels.tail_seconds == pytest.approx(1.5, abs=0.01)


def test_a_sound_above_minus_50_db_ends_the_head() -> None:
    breath = noise(-44, 0.1, seed=3)
    signal = np.concatenate([silence(0.3), breath, silence(0.4), sine(0.1, 1.0), silence(1)])

    levels = measure(signal)

    assert levels.head_seconds == pytest.approx(0.3, abs=0.01)


def test_a_stream_ending_inside_a_block_counts_the_partial_block() -> None:
    signal = np.concatenate([sine(0.1, 1.0), np.zeros(1000, dtype=np.float32)])

    levels = measure(signal, chunk=777)

    assert levels.tail_seconds == pytest.approx(1000 / RATE, abs=1e-12)


# -- the rules -----------------------------------------------------------------------------

GOOD = Levels(rms_dbfs=-20.0, peak_dbfs=-4.0, noise_floor_dbfs=-65.0, duration=600.0,
              head_seconds=0.75, tail_seconds=2.0)
MP3 = FileFormat("mp3", 44100, 1, 192, True)


def finding(report: AcxReport, name: str) -> tuple[str, bool, str]:
    (found,) = [f for f in report.findings if f.name == name]
    return found.value, found.passed, found.advice


def check(**changes: float) -> AcxReport:
    return acx_check("chapter-01.mp3", dataclasses.replace(GOOD, **changes),
                     **dataclasses.asdict(MP3))


def test_a_compliant_file_passes_every_rule() -> None:
    report = check()

    assert report.passed
    assert [f.name for f in report.findings] == [
        "RMS", "Peak", "Noise floor", "Room tone at head", "Room tone at tail", "Format",
        "Length"]
    assert all(f.advice == "" for f in report.findings)
    assert str(report) == (
        "chapter-01.mp3: PASS — RMS -20.0 dB, peak -4.0 dB, noise floor -65.0 dB")


def test_digital_silence_meets_the_noise_floor_rule() -> None:
    report = check(noise_floor_dbfs=-math.inf)

    assert report.passed
    assert report.lines()[0].endswith("noise floor -inf dB (digital silence)")


@pytest.mark.parametrize("rms", [-23.0, -21.5, -18.0])
def test_rms_within_range_passes(rms: float) -> None:
    assert finding(check(rms_dbfs=rms), "RMS")[1]


def test_quiet_rms_says_how_much_to_raise_it() -> None:
    value, passed, advice = finding(check(rms_dbfs=-25.3, peak_dbfs=-12.0,
                                          noise_floor_dbfs=-80.0), "RMS")

    assert (value, passed) == ("-25.3 dB", False)
    assert advice == "Raise the level by 5.3 dB to -20 dB RMS (ACX allows -23 to -18 dB)"


def test_raising_the_rms_warns_of_the_peaks_and_the_noise_it_lifts() -> None:
    advice = finding(check(rms_dbfs=-25.3, peak_dbfs=-4.0, noise_floor_dbfs=-62.0), "RMS")[2]

    assert "peaks would then reach 1.3 dB, so limit them to -3.5 dB" in advice
    assert "the noise floor would rise to -56.7 dB" in advice


def test_loud_rms_says_how_much_to_lower_it() -> None:
    value, passed, advice = finding(check(rms_dbfs=-16.2), "RMS")

    assert (value, passed) == ("-16.2 dB", False)
    assert advice.startswith("Lower the level by 3.8 dB to -20 dB RMS")


def test_a_value_just_outside_a_limit_is_shown_with_the_digits_that_show_it() -> None:
    assert finding(check(rms_dbfs=-17.99), "RMS")[:2] == ("-17.99 dB", False)
    assert finding(check(rms_dbfs=-23.004), "RMS")[:2] == ("-23.004 dB", False)
    assert finding(check(peak_dbfs=-2.96), "Peak")[:2] == ("-2.96 dB", False)
    assert finding(check(peak_dbfs=-2.99), "Peak")[:2] == ("-2.99 dB", False)


def test_a_silent_file_has_no_narration() -> None:
    report = check(rms_dbfs=-math.inf, peak_dbfs=-math.inf, noise_floor_dbfs=-math.inf,
                   head_seconds=600.0, tail_seconds=600.0)

    assert "holds no narration" in finding(report, "RMS")[2]
    assert "No narration found" in finding(report, "Room tone at head")[2]


def test_peaks_over_minus_3_db_fail_with_the_ceiling_to_use() -> None:
    assert finding(check(peak_dbfs=-3.0), "Peak")[1]
    value, passed, advice = finding(check(peak_dbfs=-1.2), "Peak")

    assert (value, passed) == ("-1.2 dB", False)
    assert advice == ("Peaks reach -1.2 dB: lower the peak ceiling to -3.5 dB or turn on the "
                      "limiter (ACX allows at most -3 dB)")


def test_a_noisy_file_fails_the_noise_floor() -> None:
    assert finding(check(noise_floor_dbfs=-60.0), "Noise floor")[1]
    value, passed, advice = finding(check(noise_floor_dbfs=-52.0), "Noise floor")

    assert (value, passed) == ("-52.0 dB", False)
    assert advice.startswith("The quietest 0.4 s is at -52.0 dB; ACX needs -60 dB or lower")


def test_a_file_too_short_for_a_noise_floor_fails() -> None:
    value, passed, advice = finding(check(noise_floor_dbfs=math.nan), "Noise floor")

    assert (value, passed) == ("not measured", False)
    assert "shorter than 0.4 s" in advice


@pytest.mark.parametrize(("where", "seconds", "passed", "advice"), [
    ("head", 0.5, True, ""),
    ("head", 1.0, True, ""),
    ("head", 0.2, False, ("ACX needs 0.5 to 1 s of room tone at the head: add 0.55 s of room "
                          "tone (0.75 s in all)")),
    ("head", 1.4, False, ("ACX needs 0.5 to 1 s of room tone at the head: trim 0.65 s of it "
                          "(0.75 s in all)")),
    ("tail", 1.0, True, ""),
    ("tail", 5.0, True, ""),
    ("tail", 0.5, False, ("ACX needs 1 to 5 s of room tone at the tail: add 1.50 s of room "
                          "tone (2 s in all)")),
    ("tail", 6.0, False, ("ACX needs 1 to 5 s of room tone at the tail: trim 4.00 s of it "
                          "(2 s in all)")),
])
def test_room_tone_rules(where: str, seconds: float, passed: bool, advice: str) -> None:
    report = check(**{f"{where}_seconds": seconds})

    assert finding(report, f"Room tone at {where}") == (f"{seconds:.2f} s", passed, advice)


def test_room_tone_the_caller_knows_overrides_the_measurement() -> None:
    levels = dataclasses.replace(GOOD, head_seconds=0.0)

    report = acx_check("c.mp3", levels, head_seconds=0.8, tail_seconds=7.0, sample_rate=44100,
                       channels=1, bitrate_kbps=192, constant_bitrate=True, container="mp3")

    assert finding(report, "Room tone at head")[:2] == ("0.80 s", True)
    assert finding(report, "Room tone at tail")[:2] == ("7.00 s", False)


def test_room_tone_in_a_noisy_room_asks_for_less_noise() -> None:
    advice = finding(check(noise_floor_dbfs=-45.0, head_seconds=0.0), "Room tone at head")[2]

    assert advice.startswith("The background noise (-45.0 dB) is above the -50 dB taken for "
                             "room tone")


@pytest.mark.parametrize(("fmt", "value", "advice"), [
    (FileFormat("mp3", 44100, 2, 256, True), "MP3 256 kb/s CBR, 44.1 kHz, stereo", ""),
    (FileFormat("wav", 44100, 1), "WAV, 44.1 kHz, mono",
     "Encoded as WAV; ACX needs constant bit rate (CBR) MP3 at 192 kb/s or more"),
    (FileFormat("mp3", 44100, 1, 210, False), "MP3 210 kb/s VBR, 44.1 kHz, mono",
     ("Encoded as VBR (210 kb/s on average); ACX needs constant bit rate (CBR) MP3 at "
      "192 kb/s or more")),
    (FileFormat("mp3", 44100, 1, 128, True), "MP3 128 kb/s CBR, 44.1 kHz, mono",
     "Encoded at 128 kb/s; ACX needs 192 kb/s or more — export at 192 kb/s"),
    (FileFormat("mp3", 48000, 1, 192, True), "MP3 192 kb/s CBR, 48 kHz, mono",
     "Sampled at 48 kHz; ACX needs 44.1 kHz — export at 44100 Hz"),
    (FileFormat("m4b", 22050, 6, 64, None), "M4B 64 kb/s, 22.05 kHz, 6 channels",
     ("Encoded as M4B; ACX needs constant bit rate (CBR) MP3 at 192 kb/s or more; sampled "
      "at 22.05 kHz; ACX needs 44.1 kHz — export at 44100 Hz; 6 channels; ACX accepts mono "
      "(preferred) or stereo")),
])
def test_format_rule(fmt: FileFormat, value: str, advice: str) -> None:
    report = acx_check("c", GOOD, **dataclasses.asdict(fmt))

    assert finding(report, "Format") == (value, advice == "", advice)


def test_the_bit_rate_mode_of_a_file_that_is_not_mp3_is_not_shown() -> None:
    report = acx_check("c.wav", GOOD, sample_rate=44100, channels=1, container="wav",
                       bitrate_kbps=None, constant_bitrate=True)

    assert finding(report, "Format")[0] == "WAV, 44.1 kHz, mono"


def test_a_file_over_120_minutes_must_be_split() -> None:
    assert finding(check(duration=120 * 60.0), "Length") == ("120.0 min", True, "")
    value, passed, advice = finding(check(duration=134 * 60.0 + 5), "Length")

    assert (value, passed) == ("134.1 min", False)
    assert advice == ("The file is 134 minutes; ACX allows at most 120 minutes per file — "
                      "split the chapter")
    assert "The file is 120.4 minutes;" in finding(check(duration=120.4 * 60), "Length")[2]


def test_a_failing_report_lists_what_to_change() -> None:
    report = check(peak_dbfs=-1.2, tail_seconds=0.4)

    assert not report.passed
    assert report.lines() == [
        "chapter-01.mp3: FAIL — RMS -20.0 dB, peak -1.2 dB, noise floor -65.0 dB",
        ("  Peak -1.2 dB: Peaks reach -1.2 dB: lower the peak ceiling to -3.5 dB or turn on "
         "the limiter (ACX allows at most -3 dB)"),
        ("  Room tone at tail 0.40 s: ACX needs 1 to 5 s of room tone at the tail: add 1.60 s "
         "of room tone (2 s in all)"),
    ]


def test_every_file_of_a_book_in_one_channel_layout() -> None:
    stereo = dataclasses.replace(MP3, channels=2)
    same = channel_layout_finding({"01.mp3": MP3, "02.mp3": MP3})
    mixed = channel_layout_finding({"01.mp3": MP3, "02.mp3": stereo, "03.mp3": MP3})

    assert same == channel_layout_finding({"a": MP3}) == type(same)(
        "Channel layout", "all mono", True, "")
    assert (mixed.value, mixed.passed) == ("2 mono, 1 stereo", False)
    assert mixed.advice.startswith("02.mp3 (stereo) differs from the other files (mono)")


# -- files on disk -------------------------------------------------------------------------

def astats(path: Path) -> tuple[float, float]:
    """FFmpeg's whole-file RMS and peak levels, dB, over all channels (``Overall``)."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.skip("ffmpeg is not installed")
    run = subprocess.run(
        [ffmpeg, "-hide_banner", "-nostats", "-i", str(path), "-af",
         "astats=metadata=1:reset=0", "-f", "null", "-"],
        capture_output=True, text=True, check=True, timeout=60)
    overall = run.stderr.rsplit("Overall", 1)[1]
    rms = re.search(r"RMS level dB: (\S+)", overall)
    peak = re.search(r"Peak level dB: (\S+)", overall)
    assert rms is not None and peak is not None, run.stderr
    return float(rms.group(1)), float(peak.group(1))


def chapter(rate: int = RATE) -> FloatArray:
    """A compliant chapter: 0.75 s of room tone, narration at about -20 dB RMS, 2 s tail."""
    body = np.concatenate([noise(-16, 1.2, rate, seed=4), noise(-70, 0.3, rate, seed=5),
                           sine(0.2, 1.5, rate, hz=330)])
    np.clip(body, -0.5, 0.5, out=body)
    return np.concatenate([noise(-70, 0.75, rate, seed=6), body, noise(-70, 2.0, rate, 7)])


def write_mp3(path: Path, samples: FloatArray, bit_rate: int, rate: int = RATE) -> None:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libmp3lame", rate=rate, layout="mono")
        stream.bit_rate = bit_rate
        frame = av.AudioFrame.from_ndarray(samples[None, :], format="fltp", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


@pytest.mark.parametrize("subtype", ["FLOAT", "PCM_16"])
def test_wav_levels_match_the_meter_and_ffmpeg(tmp_path: Path, subtype: str) -> None:
    signal = chapter()
    path = tmp_path / "chapter.wav"
    sf.write(path, signal, RATE, subtype=subtype)

    levels, fmt = scan_file(path)

    expected = measure(signal)
    assert fmt == FileFormat("wav", RATE, 1)
    tolerance = 1e-6 if subtype == "FLOAT" else 0.01
    assert levels.rms_dbfs == pytest.approx(expected.rms_dbfs, abs=tolerance)
    assert levels.peak_dbfs == pytest.approx(expected.peak_dbfs, abs=tolerance)
    assert levels.noise_floor_dbfs == pytest.approx(expected.noise_floor_dbfs, abs=0.05)
    assert (levels.duration, levels.head_seconds, levels.tail_seconds) == pytest.approx(
        (expected.duration, expected.head_seconds, expected.tail_seconds), abs=0.01)
    rms, peak = astats(path)
    assert levels.rms_dbfs == pytest.approx(rms, abs=0.1)
    assert levels.peak_dbfs == pytest.approx(peak, abs=0.1)


def test_stereo_wav_matches_ffmpegs_overall_levels(tmp_path: Path) -> None:
    left = chapter()
    right = (left * np.float32(0.25)).astype(np.float32)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], axis=1), RATE, subtype="FLOAT")

    levels, fmt = scan_file(path)

    assert fmt.channels == 2
    rms, peak = astats(path)
    assert levels.rms_dbfs == pytest.approx(rms, abs=0.1)
    assert levels.peak_dbfs == pytest.approx(peak, abs=0.1)
    assert levels.peak_dbfs == pytest.approx(20 * math.log10(np.max(np.abs(left))), abs=1e-5)


def test_a_compliant_cbr_mp3_passes_and_matches_ffmpeg(tmp_path: Path) -> None:
    path = tmp_path / "chapter-01.mp3"
    write_mp3(path, chapter(), 192_000)

    levels, fmt = scan_file(path)
    report = check_file(path)

    assert fmt == FileFormat("mp3", RATE, 1, 192, True)
    assert report.passed, str(report)
    assert report.file == "chapter-01.mp3"
    assert levels.head_seconds == pytest.approx(0.75, abs=0.02)
    assert levels.tail_seconds == pytest.approx(2.0, abs=0.02)
    assert levels.duration == pytest.approx(chapter().shape[0] / RATE, abs=0.001)
    rms, peak = astats(path)
    assert levels.rms_dbfs == pytest.approx(rms, abs=0.1)
    assert levels.peak_dbfs == pytest.approx(peak, abs=0.1)
    assert measure_file(path) == levels


def test_mp3_bit_rate_and_mode_come_from_the_frames(tmp_path: Path) -> None:
    low = tmp_path / "low.mp3"
    write_mp3(low, chapter(), 128_000)
    vbr = tmp_path / "vbr.mp3"
    sf.write(vbr, chapter(), RATE, format="MP3", bitrate_mode="VARIABLE")

    low_format = scan_file(low)[1]
    vbr_format = scan_file(vbr)[1]

    assert (low_format.bitrate_kbps, low_format.constant_bitrate) == (128, True)
    assert vbr_format.constant_bitrate is False
    assert vbr_format.bitrate_kbps is not None and vbr_format.bitrate_kbps > 0
    assert not finding(check_file(vbr, "Chapter 1"), "Format")[1]


def test_files_that_are_not_audio_are_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.mp3"
    text.write_text("chapter one, take two\n" * 50)

    with pytest.raises(FileNotFoundError):
        scan_file(tmp_path / "missing.mp3")
    with pytest.raises(AudioFileError):
        scan_file(text)
