"""Checks on a voice clip before it is uploaded for cloning, and loading imported clips.

:func:`check_clip` measures what decides whether a clone will succeed (length, clipping,
noise floor, speech level, signal-to-noise) and turns the figures into sentences for the
user: *problems* must be fixed before upload, *advice* is worth knowing. Cartesia's clone
endpoint asks for "an audio clip about 5 seconds long" and warns that high-similarity
clones "may reproduce background noise" (the OpenAPI seed, ``POST /voices/clone``), which
is why noise weighs as much as length here.

How the figures are measured (all levels in dBFS re full scale 1.0):

- The clip is cut into :data:`FRAME_SECONDS` frames and each frame's mean power taken.
  Frames below :data:`DIGITAL_SILENCE_DBFS` are *digital silence* (exact zeros from a
  microphone warming up, or padding in an imported file): they say nothing about the room
  and are left out of the noise floor.
- The *loud level* is the :data:`LOUD_PERCENTILE` th percentile of frame power: the level
  of the speech's strong syllables, robust to a single click.
- Speech *starts* at the first frame that is within :data:`ONSET_BELOW_LOUD_DB` of the
  loud level *and* at least :data:`ONSET_ABOVE_FLOOR_DB` above the quietest audible frame
  before it (the first audible frame: within :data:`FIRST_SOUND_BELOW_LOUD_DB` of the
  loud level). The second test is what finds the start in a noisy room, where the noise
  itself is within 20 dB of the speech. The *lead-in* is everything before the start, less
  :data:`ONSET_GUARD_SECONDS` (a soft onset); without a start, the whole clip.
- The *noise floor* is the :data:`NOISE_PERCENTILE` th percentile of the audible frames of
  the lead-in, the silence before speech that the issue asks to measure. It is *not
  measured* (NaN) when those frames last less than :data:`MIN_LEAD_IN_SECONDS` or are not
  steady (their median more than :data:`LEAD_IN_SPREAD_DB` above that percentile: speech,
  not a room). Guessing it from the quiet parts of the speech instead reads soft syllables
  as noise and calls a clean, tightly trimmed clip noisy. Two exceptions: a clip whose
  quiet parts are mostly digital silence (synthetic or noise-gated audio) has a floor of
  ``-inf``; and a caller that measured the floor on the untrimmed recording passes it in
  (``check_clip(..., noise_floor_dbfs=)``).
- The *speech level* is the power mean of the frames at least :data:`SPEECH_ABOVE_NOISE_DB`
  above the noise floor and within :data:`SPEECH_RANGE_DB` of the loud level, the idea of
  ITU-T P.56's active speech level (pauses do not dilute it) in its simplest form. When
  no frame qualifies (a steady hum, noise only) the clip has no speech.
- *SNR* is speech level minus noise floor (NaN when the floor was not measured).

Loading goes through soundfile (libsndfile 1.1+ reads WAV, FLAC, Ogg Vorbis/Opus and MP3).
A file's size is checked before anything is decoded, so a 2 GB import is refused at once,
and its header before its audio (:func:`studio.audio.untrusted.decode_untrusted`), so a
small file that decodes to gigabytes is refused at once too.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from studio.audio.buffers import AudioFileError, as_mono, peak_dbfs
from studio.audio.untrusted import AudioLimitError, decode_untrusted

FloatArray = npt.NDArray[np.float32]

# -- measurement ------------------------------------------------------------------------

FRAME_SECONDS = 0.020
"""Analysis frame: 20 ms, the usual speech-analysis frame (a few pitch periods)."""

CLIP_LEVEL = 0.999
"""A sample at or above this magnitude counts as clipped (about -0.009 dBFS). A 16-bit
converter's largest code reads 32767/32768 = 0.99997, and a sound server's resampling
can leave clipped stretches a hair under 1.0, so the test is not ``== 1.0``."""

LOUD_PERCENTILE = 95.0
"""Percentile of frame power taken as the loud (strong syllable) level."""

DIGITAL_SILENCE_DBFS = -100.0
"""Frames quieter than this are digital silence, not room noise. One 16-bit step (2^-15)
in every sample is -90 dBFS; -100 dBFS is fewer than one sample in ten off zero by a step.
A microphone in a room, even at low gain, reads far above it (ACX's floor limit is -60)."""

ONSET_BELOW_LOUD_DB = 20.0
"""Speech starts at the first frame within this many dB of the loud level ..."""

ONSET_ABOVE_FLOOR_DB = 6.0
"""... that is also this many dB above the quietest audible frame before it. Frame power
of steady noise varies by well under 1 dB over 20 ms, so 6 dB is a rise, not noise."""

FIRST_SOUND_BELOW_LOUD_DB = 6.0
"""The first audible frame (at the clip's start or after its leading digital silence) has
nothing before it to rise from: it starts speech when it is within this many dB of the
loud level. Room noise that loud would leave no speech to measure anyway."""

ONSET_GUARD_SECONDS = 0.1
"""Left out of the lead-in before the onset: breaths and soft consonants start earlier."""

MIN_LEAD_IN_SECONDS = 0.2
"""Audible lead-in shorter than this is too short to measure noise in: the floor is not
measured (NaN) and the advice asks for a pause before speaking."""

LEAD_IN_SPREAD_DB = 6.0
"""A lead-in whose median frame is more than this above its :data:`NOISE_PERCENTILE` th
percentile is not steady room noise but speech (a clip trimmed right up to the first word,
whose first syllable never rose 6 dB over a quieter one): the floor is not measured."""

DIGITALLY_CLEAN_FRACTION = 0.5
"""When at least this fraction of the quiet frames after the start of speech (more than
:data:`ONSET_BELOW_LOUD_DB` below the loud level) are digital silence, the clip is
digitally clean (synthetic or noise-gated) and its noise floor is ``-inf``."""

NOISE_PERCENTILE = 10.0
"""Percentile of frame power taken as the noise floor: the quiet frames, not the median,
so a lead-in that catches the start of a breath still reads the room."""

SPEECH_ABOVE_NOISE_DB = 6.0
"""Frames counted as speech are at least this far above the noise floor."""

SPEECH_RANGE_DB = 25.0
"""... and within this many dB of the loud level, so silence in a clean (digitally quiet)
clip does not dilute the speech level."""

# -- verdicts ---------------------------------------------------------------------------

SILENT_PEAK_DBFS = -60.0
"""A clip whose loudest sample is below -60 dBFS has no usable speech: even a quiet
talker a metre from a microphone at minimum gain peaks well above it."""

MIN_SECONDS = 1.0
"""Shorter than this cannot be cloned usefully: a problem."""

SHORT_SECONDS = 3.0
"""Shorter than this gets advice (the issue: warn below 3 s); Cartesia recommends about
5 s for a high-similarity clone (OpenAPI seed, ``POST /voices/clone``)."""

RECOMMENDED_SECONDS = 5.0
"""Cartesia's recommended clip length for high-similarity clones (same source)."""

LONG_SECONDS = 30.0
"""Longer than this gets advice (the issue: warn above 30 s). Cartesia's cloning guide says
a longer clip does not make a better high-similarity clone."""

CLIPPED_FRACTION_PROBLEM = 0.001
"""More than 0.1 % of samples clipped is audible distortion the clone would learn; any
clipping at all gets advice."""

SNR_PROBLEM_DB = 15.0
"""Below 15 dB the noise is plainly audible under the speech, and a high-similarity
clone reproduces it: a problem."""

SNR_ADVICE_DB = 25.0
"""Below 25 dB gets advice. For scale: audiobook submission specs (ACX) ask for a noise
floor under -60 dBFS with speech at -23 to -18 dBFS RMS, about 40 dB."""

QUIET_SPEECH_DBFS = -40.0
"""Speech below -40 dBFS RMS is recorded with too little gain (ACX asks for -23 to -18
dBFS RMS in finished audio); advice to raise it."""

# -- loading ----------------------------------------------------------------------------

MAX_CLIP_BYTES = 200_000_000
"""Files over 200 MB are refused before decoding: even ten minutes of 48 kHz stereo
24-bit WAV is about 173 MB, and a voice clip needs seconds."""

MAX_CLIP_SECONDS = 600.0
"""Decoded audio over ten minutes is refused (from the header, before decoding): a
compressed file under the byte limit can still decode to hours."""

SUPPORTED_FORMATS = "WAV, FLAC, MP3 or OGG"


@dataclass(frozen=True, slots=True)
class ClipReport:
    """The measurements and verdicts of :func:`check_clip`.

    Attributes:
        duration: clip length in seconds.
        peak_dbfs: sample peak in dBFS; ``-inf`` for digital silence or an empty clip.
        clipped_fraction: fraction (0..1, not percent) of samples at or above
            :data:`CLIP_LEVEL` in magnitude.
        noise_floor_dbfs: the noise floor in dBFS (see the module docstring), or the one
            the caller passed to :func:`check_clip`; ``-inf`` when the clip's quiet parts
            are digital silence; NaN when it could not be measured (no pause before the
            speech), which the advice then explains.
        speech_dbfs: the speech level in dBFS RMS; ``-inf`` when there is no speech.
        snr_db: ``speech_dbfs - noise_floor_dbfs`` in dB; ``inf`` over digital silence,
            NaN when the noise floor was not measured, 0.0 when there is no speech.
        problems: must be fixed before upload; user-facing sentences with guidance.
        advice: warnings worth showing; upload may go ahead.
    """

    duration: float
    peak_dbfs: float
    clipped_fraction: float
    noise_floor_dbfs: float
    speech_dbfs: float
    snr_db: float
    problems: tuple[str, ...]
    advice: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when there are no problems (advice may remain)."""
        return not self.problems

    @property
    def silent(self) -> bool:
        """The clip peaks below :data:`SILENT_PEAK_DBFS` (or is empty)."""
        return not self.peak_dbfs >= SILENT_PEAK_DBFS

    @property
    def has_speech(self) -> bool:
        """Speech was found: not silent, empty, or only a steady sound. Without it a
        clone has no voice to learn."""
        return self.speech_dbfs != -math.inf


def check_clip(audio: npt.ArrayLike, sample_rate: int, *,
               noise_floor_dbfs: float | None = None) -> ClipReport:
    """Measure a voice clip and say what to fix before cloning.

    Args:
        audio: float32 mono, shape ``(frames,)``, full scale ±1.0.
        sample_rate: its rate in Hz (> 0).
        noise_floor_dbfs: the noise floor in dBFS measured elsewhere, typically
            ``check_clip(recording, rate).noise_floor_dbfs`` before the recording was
            trimmed to the speech (a trimmed clip has no lead-in to measure it in). Used
            instead of measuring; ``-inf`` means digital silence. None or NaN: measure it
            in the clip's own lead-in.

    Returns:
        A :class:`ClipReport`; thresholds are this module's constants.

    Raises:
        ValueError: ``audio`` is not one-dimensional or ``sample_rate`` is not positive.
    """
    data = as_mono(audio, "audio", sample_rate)
    frames = int(data.shape[0])
    duration = frames / sample_rate
    if frames == 0:
        return ClipReport(0.0, -math.inf, 0.0, -math.inf, -math.inf, 0.0,
                          ("The clip is empty: record or import a few seconds of speech.",),
                          ())
    peak = peak_dbfs(data)
    clipped_fraction = float(np.count_nonzero(np.abs(data) >= CLIP_LEVEL)) / frames
    given = None if noise_floor_dbfs is None or math.isnan(noise_floor_dbfs) else float(
        noise_floor_dbfs)
    noise, speech = _noise_and_speech(data, sample_rate, given)
    silent = peak < SILENT_PEAK_DBFS
    no_speech = not silent and speech == -math.inf
    if silent or no_speech:
        speech, snr = -math.inf, 0.0
    else:
        snr = speech - noise  # NaN when the floor was not measured

    problems: list[str] = []
    advice: list[str] = []
    if duration < MIN_SECONDS:
        problems.append(
            f"The clip is only {duration:.1f} s long: record at least {SHORT_SECONDS:g} "
            f"seconds of speech (about {RECOMMENDED_SECONDS:g} s is best)."
        )
    elif duration < SHORT_SECONDS:
        advice.append(
            f"The clip is short ({duration:.1f} s): Cartesia recommends about "
            f"{RECOMMENDED_SECONDS:g} seconds of clear speech for a high-similarity clone."
        )
    elif duration > LONG_SECONDS:
        advice.append(
            f"The clip is long ({duration:.0f} s): Cartesia recommends about "
            f"{RECOMMENDED_SECONDS:g} seconds of clear speech for a high-similarity clone "
            f"(10–{LONG_SECONDS:g} s is fine too; more does not help). Trim it to your "
            "clearest sentences."
        )
    if silent:
        problems.append("The clip is silent: check the input device and its level.")
    elif no_speech:
        problems.append(
            "No speech was found in the clip, only a steady sound (background noise or "
            "hum): check that the right input device is chosen, then record yourself "
            "reading the text aloud."
        )
    else:
        if clipped_fraction > CLIPPED_FRACTION_PROBLEM:
            problems.append(
                f"{clipped_fraction:.1%} of the samples are clipped (distorted at full "
                "scale): lower the input gain or move back from the microphone, and record "
                "again."
            )
        elif clipped_fraction > 0:
            advice.append(
                "A few samples reach full scale (slight clipping): lower the input gain a "
                "little if the loudest words sound harsh."
            )
        if snr < SNR_PROBLEM_DB:
            problems.append(
                f"The background noise is only {snr:.0f} dB below the speech: record in a "
                f"quieter room or closer to the microphone (aim for {SNR_ADVICE_DB:g} dB or "
                "more). A clone reproduces the noise it hears."
            )
        elif snr < SNR_ADVICE_DB:
            advice.append(
                f"There is audible background noise ({snr:.0f} dB below the speech): a "
                "quieter room would give a cleaner clone."
            )
        if math.isnan(noise):
            advice.append(
                "The background noise could not be measured: the speech starts right at "
                "the beginning of the clip. Leave a second of silence before you speak so "
                "the noise floor can be measured."
            )
        if speech < QUIET_SPEECH_DBFS:
            advice.append(
                f"The speech is quiet ({speech:.0f} dBFS RMS): raise the input gain or move "
                "closer to the microphone."
            )
    return ClipReport(
        duration=duration,
        peak_dbfs=peak,
        clipped_fraction=clipped_fraction,
        noise_floor_dbfs=noise,
        speech_dbfs=speech,
        snr_db=snr,
        problems=tuple(problems),
        advice=tuple(advice),
    )


def _noise_and_speech(data: FloatArray, sample_rate: int,
                      given_noise_dbfs: float | None) -> tuple[float, float]:
    """Noise floor and speech level in dBFS, as the module docstring describes."""
    size = max(1, round(FRAME_SECONDS * sample_rate))
    count = max(1, data.shape[0] // size)
    # A clip shorter than a frame is one (short) frame.
    usable = data[: count * size] if data.shape[0] >= size else data
    x = usable.astype(np.float64).reshape(count, -1)
    power = np.mean(x * x, axis=1)
    loud = float(np.percentile(power, LOUD_PERCENTILE))
    sounding = np.flatnonzero(power >= _ratio(DIGITAL_SILENCE_DBFS))
    if loud <= 0.0 or sounding.size == 0:
        return -math.inf, -math.inf
    quiet = float(np.percentile(power[sounding], NOISE_PERCENTILE))
    pauses = sounding.size < sounding[-1] - sounding[0] + 1  # digital silence between
    if loud < quiet * _ratio(SPEECH_ABOVE_NOISE_DB) and not pauses:
        # Nothing rises above the rest: a steady sound (hum, room noise), no speech.
        floor = quiet if given_noise_dbfs is None else _ratio(given_noise_dbfs)
        return _db(floor), -math.inf
    if given_noise_dbfs is None:
        noise = _noise_floor_power(power, loud)
    else:
        noise = _ratio(given_noise_dbfs) if given_noise_dbfs > -math.inf else 0.0
    threshold = loud * _ratio(-SPEECH_RANGE_DB)
    if not math.isnan(noise):
        threshold = max(threshold, noise * _ratio(SPEECH_ABOVE_NOISE_DB))
    speech_frames = power[power >= threshold]
    speech = float(np.mean(speech_frames)) if speech_frames.size else 0.0
    return _db(noise), _db(speech)


def _noise_floor_power(power: npt.NDArray[np.float64], loud: float) -> float:
    """Noise floor as a power (0.0 for digital silence, NaN when not measurable) from
    per-frame ``power``, as the module docstring describes."""
    audible = power >= _ratio(DIGITAL_SILENCE_DBFS)
    # The quietest audible frame so far, before each frame (inf before the first one).
    quietest = np.minimum.accumulate(np.where(audible, power, np.inf))
    before = np.concatenate(([np.inf], quietest[:-1]))
    onset_power = loud * _ratio(-ONSET_BELOW_LOUD_DB)
    rises = (power >= onset_power) & (
        (power >= before * _ratio(ONSET_ABOVE_FLOOR_DB))
        | (np.isinf(before) & (power >= loud * _ratio(-FIRST_SOUND_BELOW_LOUD_DB))))
    if rises.any():
        onset = int(np.argmax(rises))
        lead_end = max(0, onset - round(ONSET_GUARD_SECONDS / FRAME_SECONDS))
    else:
        onset = lead_end = power.shape[0]  # no start of speech: all of it is lead-in
    lead = power[:lead_end][audible[:lead_end]]
    if lead.size * FRAME_SECONDS >= MIN_LEAD_IN_SECONDS:
        floor = float(np.percentile(lead, NOISE_PERCENTILE))
        if float(np.median(lead)) <= floor * _ratio(LEAD_IN_SPREAD_DB):
            return floor
        return math.nan  # the "lead-in" is speech, not a room
    quiet = power[onset:] < onset_power
    silent_quiet = np.count_nonzero(quiet & ~audible[onset:])
    if silent_quiet and (
            silent_quiet >= DIGITALLY_CLEAN_FRACTION * np.count_nonzero(quiet)):
        return 0.0  # digitally clean: the pauses are exact silence too
    return math.nan


def _ratio(db: float) -> float:
    return float(10.0 ** (db / 10.0))


def _db(power: float) -> float:
    if math.isnan(power):
        return math.nan
    return 10.0 * math.log10(power) if power > 0.0 else -math.inf


def load_clip(path: str | os.PathLike[str]) -> tuple[FloatArray, int]:
    """Read an imported voice clip (WAV, FLAC, MP3, OGG) as float32 mono.

    The file's size is checked before it is opened for decoding, and its length is read
    from the header before any audio is decoded, so a huge file costs nothing.
    Multi-channel files are mixed down by averaging the channels; the rate is kept (the
    caller resamples if it needs to).

    Args:
        path: the file.

    Returns:
        ``(samples, sample_rate)``: float32 shape ``(frames,)`` and the file's rate in Hz.

    Raises:
        FileNotFoundError, PermissionError, IsADirectoryError, OSError: the file cannot be
            opened.
        AudioFileError: the file is empty, larger than :data:`MAX_CLIP_BYTES`, longer than
            :data:`MAX_CLIP_SECONDS`, over the sample, channel or rate limits of
            :func:`~studio.audio.untrusted.decode_untrusted` (from the header, or while
            decoding when the header lied), not in a format soundfile reads, or damaged;
            the message names the file and says what to do.
    """
    target = Path(path)
    size = os.stat(target).st_size
    if target.is_dir():
        raise IsADirectoryError(f"{target} is a folder, not an audio file")
    if size == 0:
        raise AudioFileError(f"{target.name} is empty (0 bytes): choose another file.")
    if size > MAX_CLIP_BYTES:
        raise AudioFileError(
            f"{target.name} is too large for a voice clip ({size / 1e6:,.0f} MB; the limit "
            f"is {MAX_CLIP_BYTES / 1e6:,.0f} MB). A clip needs only about "
            f"{RECOMMENDED_SECONDS:g} seconds of speech: cut a short passage out in an "
            "audio editor and import that."
        )
    try:
        data, rate = decode_untrusted(target, max_seconds=MAX_CLIP_SECONDS)
    except AudioLimitError as exc:
        raise AudioFileError(_over_limit(target, exc)) from exc
    except AudioFileError as exc:
        raise AudioFileError(_describe(target, exc)) from exc
    if data.shape[0] == 0:
        raise AudioFileError(f"{target.name} contains no audio: choose another file.")
    return data, rate


def _spoken(seconds: float) -> str:
    """``"45 s"`` or ``"12 minutes"``."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} minutes"


def _over_limit(target: Path, exc: AudioLimitError) -> str:
    advice = (f"Cut about {RECOMMENDED_SECONDS:g} seconds of clear speech out of it in an "
              "audio editor")
    if exc.reason == "duration":
        return (f"{target.name} lasts {_spoken(exc.frames / exc.sample_rate)}: too long for "
                f"a voice clip (the limit is {_spoken(exc.max_seconds)}). {advice} and "
                "import that.")
    return (f"{target.name} is too big to decode as a voice clip: {exc}. {advice}, as mono "
            "or stereo at 48 kHz or less, and import that.")


def _describe(target: Path, exc: Exception) -> str:
    detail = str(exc).split(": ", 1)[-1].rstrip(".") or type(exc).__name__
    if "recognised" in detail or "unknown format" in detail.lower():
        return (f"{target.name} is not an audio file the studio can read: use "
                f"{SUPPORTED_FORMATS} ({detail}).")
    return (f"{target.name} is damaged and cannot be decoded ({detail}): export it again "
            "or choose another file.")
