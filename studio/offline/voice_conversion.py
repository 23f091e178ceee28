"""The offline engine's voice changer: a performance re-spoken with another voice's
pitch and formants, by signal processing (Praat through ``praat-parselmouth``).

Cartesia's voice changer is a neural model that keeps the words and intonation and
replaces the timbre. The offline engine cannot learn a timbre; it moves the two things
a listener hears most in a voice's identity, its pitch and its vocal-tract length
(formants), and keeps everything else of the performance:

1. **Measure the performance** (:func:`measure`): Praat ``To Pitch`` (autocorrelation,
   10 ms steps, :data:`PITCH_FLOOR_HZ`..:data:`PITCH_CEILING_HZ`) gives the voiced
   frames' F0; their median and 10th-90th percentile span (semitones) are kept, with the
   medians of F2 and F3 from ``To Formant (burg)`` (5 formants up to 5.5 kHz) at
   those voiced frames. Under :data:`MIN_VOICED_SECONDS` of voiced speech is "no speech".
2. **Measure the target voice** (:func:`voice_profile`): the engine speaks the voice's
   preview sentence (:func:`~studio.offline.voices.preview_sentence`) with its espeak-ng
   voicing (the same renderer ``/tts/bytes`` uses) and measures it as in 1. The profile is
   cached per voicing (:data:`PROFILE_CACHE_SIZE` voicings), so a voice is rendered once.
3. **Convert** (:func:`convert`): Praat's ``Change gender`` (PSOLA resynthesis) with
   - *new pitch median* = the target's median F0, so the converted median lands on it;
   - *pitch range factor* = target span / performance span (clamped to
     :data:`RANGE_FACTOR_LIMITS`), so the intonation contour keeps its shape and takes the
     target's liveliness;
   - *formant shift ratio* = geometric mean of the target/performance F2 and F3 ratios
     (clamped to :data:`FORMANT_RATIO_LIMITS`): a longer or shorter vocal tract;
   - *duration factor* 1.0: every word, pause and voiced/unvoiced boundary stays where
     the performer put it; the output has the input's length.

Limits (what it cannot do): breathiness, accent, articulation and the timbre beyond
F2/F3 stay the performer's; a noisy or reverberant clip confuses the pitch tracker
(octave errors are audible as cracks); whispered speech has no pitch to move and is
refused as "no speech" if nothing is voiced. Clips are limited as clone uploads are
(:func:`~studio.audio.untrusted.decode_untrusted`: channels, rate, samples checked
from the header before decoding), to :data:`MAX_CLIP_SECONDS`, and converted at
:data:`WORK_RATE` at most, which bounds memory (about 50 MB of Praat working arrays
for the longest clip).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import parselmouth
from parselmouth.praat import call

from studio.audio.buffers import resample
from studio.offline import tags
from studio.offline.delivery import Delivery
from studio.offline.formats import AudioFormat
from studio.offline.synthesis import Renderer, Voicing
from studio.offline.voices import VoiceSpec, preview_sentence

FloatArray = npt.NDArray[np.float32]

#: Pitch search range of the analysis and of ``Change gender``, Hz.
PITCH_FLOOR_HZ = 60.0
PITCH_CEILING_HZ = 600.0
#: Pitch analysis step, seconds.
TIME_STEP_S = 0.01
#: Less voiced speech than this (seconds) is "no speech".
MIN_VOICED_SECONDS = 0.2
#: Longest clip the voice changer takes, seconds.
MAX_CLIP_SECONDS = 120.0
#: Highest rate a clip is converted at, Hz (higher rates are resampled down first).
WORK_RATE = 48_000
#: ``Change gender``'s pitch range factor is kept within these.
RANGE_FACTOR_LIMITS = (0.25, 4.0)
#: ... and its formant shift ratio within these (a vocal tract 20 % shorter or longer).
FORMANT_RATIO_LIMITS = (0.8, 1.25)
#: Voicings whose profiles are kept.
PROFILE_CACHE_SIZE = 64
#: Peak of the converted audio is kept at or under this (-0.1 dBFS).
PEAK_CEILING = 10 ** (-0.1 / 20)


class NoSpeechError(ValueError):
    """Audio with too little voiced speech to measure or convert; the message says how
    much was found and how much is needed."""


@dataclass(frozen=True, slots=True)
class VoiceProfile:
    """Pitch and formant statistics of some speech.

    Attributes:
        median_f0_hz: median F0 of the voiced frames, Hz.
        span_semitones: 10th to 90th percentile F0 span, semitones (at least 0.1).
        f2_hz: median second formant at the voiced frames, Hz (NaN if unmeasured).
        f3_hz: median third formant at the voiced frames, Hz (NaN if unmeasured).
        voiced_s: seconds of voiced frames.
    """

    median_f0_hz: float
    span_semitones: float
    f2_hz: float
    f3_hz: float
    voiced_s: float


def _sound(samples: FloatArray, rate: int) -> parselmouth.Sound:
    return parselmouth.Sound(samples.astype(np.float64), sampling_frequency=float(rate))


def voicing_track(samples: FloatArray, rate: int) -> tuple[npt.NDArray[np.float64], float]:
    """Praat ``To Pitch`` F0 of ``samples`` (float32 mono at ``rate`` Hz), per 10 ms frame.

    Returns:
        ``(f0, t0)``: F0 in Hz per frame (0 where unvoiced), and the first frame's time, s.
    """
    pitch = _sound(samples, rate).to_pitch_ac(
        time_step=TIME_STEP_S, pitch_floor=PITCH_FLOOR_HZ, pitch_ceiling=PITCH_CEILING_HZ)
    f0 = np.asarray(pitch.selected_array["frequency"], dtype=np.float64)
    return f0, float(pitch.xs()[0]) if f0.size else 0.0


def measure(samples: FloatArray, rate: int) -> VoiceProfile:
    """The :class:`VoiceProfile` of ``samples`` (float32 mono at ``rate`` Hz).

    Raises:
        NoSpeechError: under :data:`MIN_VOICED_SECONDS` of voiced frames.
    """
    if samples.shape[0] < MIN_VOICED_SECONDS * rate:
        raise NoSpeechError(
            f"it lasts {samples.shape[0] / rate:.2f} s; the voice changer needs at least "
            f"{MIN_VOICED_SECONDS:g} s of voiced speech")
    sound = _sound(samples, rate)
    pitch = sound.to_pitch_ac(time_step=TIME_STEP_S, pitch_floor=PITCH_FLOOR_HZ,
                              pitch_ceiling=PITCH_CEILING_HZ)
    f0 = np.asarray(pitch.selected_array["frequency"], dtype=np.float64)
    times = np.asarray(pitch.xs(), dtype=np.float64)
    voiced = f0 > 0
    voiced_s = float(voiced.sum()) * TIME_STEP_S
    if voiced_s < MIN_VOICED_SECONDS:
        raise NoSpeechError(
            f"it has {voiced_s:.2f} s of voiced speech; the voice changer needs at least "
            f"{MIN_VOICED_SECONDS:g} s")
    low, median, high = np.percentile(f0[voiced], [10, 50, 90])
    span = max(12.0 * math.log2(high / low), 0.1)
    formant = sound.to_formant_burg(time_step=TIME_STEP_S, max_number_of_formants=5,
                                    maximum_formant=5500.0)
    f2 = [formant.get_value_at_time(2, t) for t in times[voiced]]
    f3 = [formant.get_value_at_time(3, t) for t in times[voiced]]
    return VoiceProfile(float(median), span, _nanmedian(f2), _nanmedian(f3), voiced_s)


def _nanmedian(values: list[float]) -> float:
    array = np.asarray(values, dtype=np.float64)
    array = array[np.isfinite(array)]
    return float(np.median(array)) if array.size else math.nan


_profiles: OrderedDict[Voicing, VoiceProfile] = OrderedDict()
_profiles_lock = threading.Lock()


def voice_profile(voice: VoiceSpec) -> VoiceProfile:
    """The target voice's profile: its preview sentence spoken by the engine and
    measured (:func:`measure`); cached per voicing, so each is rendered once.

    Blocking (espeak-ng and Praat): call it from the engine's executor.

    Raises:
        NoSpeechError: the voice's rendering has no voiced speech (a broken voice).
        EspeakError: espeak-ng failed.
    """
    voicing = voice.voicing()
    with _profiles_lock:
        if voicing in _profiles:
            _profiles.move_to_end(voicing)
            return _profiles[voicing]
    renderer = Renderer(AudioFormat("raw", "pcm_f32le", 22050))
    blocks: list[bytes] = []
    pieces, _ = tags.parse(preview_sentence(voice.language))
    renderer.render(pieces, voicing, Delivery(), lambda r: blocks.append(r.audio),
                    lambda: False)
    renderer.finish(lambda r: blocks.append(r.audio))
    samples = np.frombuffer(b"".join(blocks), dtype="<f4")
    profile = measure(samples, 22050)
    with _profiles_lock:
        _profiles[voicing] = profile
        while len(_profiles) > PROFILE_CACHE_SIZE:
            _profiles.popitem(last=False)
    return profile


def formant_ratio(source: VoiceProfile, target: VoiceProfile) -> float:
    """Geometric mean of the target/source F2 and F3 ratios, within
    :data:`FORMANT_RATIO_LIMITS` (1.0 when neither could be measured)."""
    ratios = [t / s for s, t in ((source.f2_hz, target.f2_hz), (source.f3_hz, target.f3_hz))
              if math.isfinite(s) and math.isfinite(t) and s > 0 and t > 0]
    if not ratios:
        return 1.0
    ratio = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    low, high = FORMANT_RATIO_LIMITS
    return min(max(ratio, low), high)


def convert(samples: FloatArray, rate: int, target: VoiceProfile) -> tuple[FloatArray, int]:
    """``samples`` (float32 mono at ``rate`` Hz) re-spoken with ``target``'s pitch median,
    pitch span and formants (the module docstring's method), same length and timing.

    Returns:
        ``(converted, rate)``: float32 mono, and its rate in Hz (``rate``, or
        :data:`WORK_RATE` if ``rate`` was higher).

    Raises:
        NoSpeechError: the performance has too little voiced speech.
    """
    if rate > WORK_RATE:
        samples, rate = resample(samples, rate, WORK_RATE), WORK_RATE
    source = measure(samples, rate)
    low, high = RANGE_FACTOR_LIMITS
    range_factor = min(max(target.span_semitones / source.span_semitones, low), high)
    changed = call(_sound(samples, rate), "Change gender", PITCH_FLOOR_HZ, PITCH_CEILING_HZ,
                   formant_ratio(source, target), target.median_f0_hz, range_factor, 1.0)
    out_rate = round(float(changed.sampling_frequency))
    out = np.asarray(changed.values[0], dtype=np.float32)
    if out_rate != rate:
        out = resample(out, out_rate, rate)
    out = _fit_length(out, samples.shape[0])
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    if peak > PEAK_CEILING:
        out = out * np.float32(PEAK_CEILING / peak)
    return out.astype(np.float32, copy=False), rate


def _fit_length(samples: FloatArray, frames: int) -> FloatArray:
    """``samples`` cut or zero-padded to exactly ``frames`` (PSOLA may differ by a
    period at the ends)."""
    if samples.shape[0] >= frames:
        return samples[:frames]
    return np.concatenate([samples, np.zeros(frames - samples.shape[0], dtype=np.float32)])
