"""Export formats, loudness targets and destination presets. Qt-free.

Every choice the export dialog and ``cartesia-studio export`` offer is a value here, so
the two behave the same and a project can keep its own copy of each preset (as JSON in
its ``meta`` table, :func:`settings_to_json`).

Presets follow the delivery specifications their destinations publish:

- YouTube / video: -14 LUFS integrated, true peak at most -1 dBTP, 48 kHz, AAC in M4A
  (YouTube's loudness normalisation reference; AES TD1004 for online video).
- Podcast: -16 LUFS for stereo, -19 LUFS for mono, at most -1 dBTP, MP3 44.1 kHz
  128-192 kb/s with ID3 tags and chapters (AES TD1004.1.15-10, Apple Podcasts).
- Audiobook (ACX): RMS -23 to -18 dBFS (aimed at -20), peaks at most -3 dBFS, noise
  floor at most -60 dBFS, MP3 192 kb/s CBR 44.1 kHz mono, 0.5-1 s of room tone at the
  head and 1-5 s at the tail, one file per chapter (ACX Audio Submission Requirements).
- Audiobook (M4B): one AAC file with chapters, title, author, narrator and cover.
- Broadcast: EBU R128: -23 LUFS, at most -1 dBTP, WAV 48 kHz 24-bit.
- Custom: anything below, with or without a loudness target.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field, replace
from typing import Any, Literal

#: Loudness targets the studio accepts, LUFS (EBU R128 s1 allows -23 and below for
#: broadcast; streaming platforms use -14 to -16; nothing sensible lies outside).
LOUDNESS_RANGE = (-40.0, -5.0)
#: RMS targets for the ACX measure, dBFS.
RMS_RANGE = (-40.0, -6.0)
#: Peak ceilings, dBTP / dBFS (the limiter's range, :data:`studio.audio.limiter.CEILING_RANGE_DB`).
CEILING_RANGE = (-24.0, 0.0)
#: Room tone at the head and tail of a file, seconds.
ROOM_TONE_RANGE = (0.0, 10.0)


@dataclass(frozen=True, slots=True)
class Format:
    """A file format the studio exports.

    Attributes:
        key: ``wav``, ``flac``, ``mp3``, ``opus``, ``m4a``, ``m4b``.
        label: for menus.
        extension: with the dot.
        lossy: whether the codec discards information (a limiter margin is kept).
        sample_rates: rates the format can be written at, Hz; the first that is at
            least the asked rate is used (Opus always runs at 48 kHz).
        bit_depths: PCM depths (32 = 32-bit float), empty for lossy formats.
        bitrates: bit rates offered, kb/s, empty for lossless formats.
        vbr: an MP3 VBR quality can be chosen instead of a bit rate.
        chapters: chapters can be stored inside the file.
    """

    key: str
    label: str
    extension: str
    lossy: bool
    sample_rates: tuple[int, ...]
    bit_depths: tuple[int, ...] = ()
    bitrates: tuple[int, ...] = ()
    vbr: bool = False
    chapters: bool = True


_PCM_RATES = (8000, 16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000)
_AAC_BITRATES = (64, 96, 128, 160, 192, 256, 320)
FORMATS: dict[str, Format] = {f.key: f for f in (
    Format("wav", "WAV", ".wav", False, _PCM_RATES, (16, 24, 32)),
    Format("flac", "FLAC", ".flac", False, _PCM_RATES, (16, 24)),
    Format("mp3", "MP3", ".mp3", True, (8000, 11025, 12000, 16000, 22050, 24000, 32000,
                                        44100, 48000),
           bitrates=(64, 96, 128, 160, 192, 224, 256, 320), vbr=True),
    Format("opus", "Ogg Opus", ".opus", True, (48000,), bitrates=(32, 48, 64, 96, 128, 192)),
    Format("m4a", "M4A (AAC)", ".m4a", True, (8000, 16000, 22050, 24000, 32000, 44100, 48000),
           bitrates=_AAC_BITRATES, chapters=False),
    Format("m4b", "M4B audiobook (AAC)", ".m4b", True,
           (8000, 16000, 22050, 24000, 32000, 44100, 48000), bitrates=_AAC_BITRATES),
)}

#: Extensions a user may type for each format, beyond :attr:`Format.extension`.
_ALIASES = {".wave": "wav", ".ogg": "opus", ".mp4": "m4a"}


def format_for_extension(suffix: str) -> Format | None:
    """The format a file name's extension (``".mp3"``) names, or None."""
    suffix = suffix.lower()
    for fmt in FORMATS.values():
        if fmt.extension == suffix:
            return fmt
    key = _ALIASES.get(suffix)
    return FORMATS[key] if key else None


@dataclass(frozen=True, slots=True)
class LoudnessTarget:
    """What the export normalises to.

    Attributes:
        measure: ``lufs``: integrated loudness (BS.1770-4) with a true-peak ceiling in
            dBTP; ``rms``: unweighted RMS in dBFS with a sample-peak ceiling in dBFS
            (ACX's measures).
        target: LUFS or dBFS RMS.
        ceiling: dBTP or dBFS.
        mono_target: for ``lufs``, the target when the file is mono, if it differs
            (the podcast convention: -16 LUFS stereo is -19 LUFS mono).
    """

    measure: Literal["lufs", "rms"] = "lufs"
    target: float = -16.0
    ceiling: float = -1.0
    mono_target: float | None = None

    def target_for(self, channels: int) -> float:
        """The target for a file of ``channels`` channels."""
        if channels == 1 and self.mono_target is not None:
            return self.mono_target
        return self.target

    @property
    def unit(self) -> str:
        return "LUFS" if self.measure == "lufs" else "dBFS RMS"

    @property
    def ceiling_unit(self) -> str:
        return "dBTP" if self.measure == "lufs" else "dBFS"


#: How an export is split into files.
#: ``program``: one file; ``chapter``: one file per chapter; ``block``: one stem per
#: block; ``voice``: one stem per voice, each as long as the programme, silent where
#: other voices speak (they line up in a video editor).
FileSplit = Literal["program", "chapter", "block", "voice"]
SPLITS: tuple[FileSplit, ...] = ("program", "chapter", "block", "voice")

#: Files written beside the audio: SubRip and WebVTT captions, word-level WebVTT
#: ("karaoke"), the plain transcript, word timings as JSON, Audacity labels and
#: Podcasting 2.0 chapters JSON.
SIDECARS = ("srt", "vtt", "vtt_words", "txt", "words_json", "labels", "chapters_json")
SIDECAR_SUFFIXES = {"srt": ".srt", "vtt": ".vtt", "vtt_words": ".words.vtt", "txt": ".txt",
                    "words_json": ".words.json", "labels": ".labels.txt",
                    "chapters_json": ".chapters.json"}


@dataclass(frozen=True, slots=True)
class ExportSettings:
    """Everything that decides what an export writes, apart from where and the tags.

    Attributes:
        format: a :data:`FORMATS` key.
        sample_rate: Hz.
        channels: 1 or 2 (stereo carries the mono programme on both channels).
        bit_depth: for WAV (16, 24, 32 float) and FLAC (16, 24).
        bitrate_kbps: for lossy formats.
        vbr_quality: MP3 only: LAME VBR quality 0-9 instead of CBR, or None.
        loudness: the normalisation target, or None for none (the audio is exported
            at the level the takes have).
        level_match: bring each block to the target's loudness before the programme is
            normalised, so no block is quieter than its neighbours (needs a target).
        head_seconds, tail_seconds: room tone (silence) at the start and end of each file.
        split: see :data:`FileSplit`.
        sidecars: which of :data:`SIDECARS` to write beside each audio file.
        acx_check: check each file against ACX's requirements and report.
    """

    format: str = "wav"
    sample_rate: int = 44100
    channels: int = 1
    bit_depth: int = 16
    bitrate_kbps: int = 192
    vbr_quality: int | None = None
    loudness: LoudnessTarget | None = None
    level_match: bool = False
    head_seconds: float = 0.0
    tail_seconds: float = 0.0
    split: FileSplit = "program"
    sidecars: frozenset[str] = field(default_factory=frozenset)
    acx_check: bool = False

    @property
    def file_format(self) -> Format:
        return FORMATS[self.format]

    @property
    def encoded_sample_rate(self) -> int:
        """The rate the file is written at: :attr:`sample_rate`, or the format's nearest
        rate above it (Opus is always 48 kHz)."""
        rates = self.file_format.sample_rates
        if self.sample_rate in rates:
            return self.sample_rate
        return next((r for r in rates if r >= self.sample_rate), rates[-1])

    def notes(self) -> list[str]:
        """What the export does differently from what was asked, in words for the user."""
        notes = []
        chapter_files = self.sidecars & {"labels", "chapters_json"}
        if chapter_files and self.split != "program":
            notes.append("chapter files (labels, chapters JSON) describe the chapters inside "
                         "one file, so none are written for files per chapter, block or voice")
        if self.encoded_sample_rate != self.sample_rate:
            notes.append(f"{self.file_format.label} is written at "
                         f"{self.encoded_sample_rate:,} Hz; the audio is resampled from "
                         f"{self.sample_rate:,} Hz")
        return notes

    def describe(self) -> str:
        """One line: ``MP3 192 kb/s CBR, 44,100 Hz mono, -16 LUFS / -1 dBTP``."""
        fmt = self.file_format
        if fmt.lossy:
            quality = (f"VBR V{self.vbr_quality}" if self.vbr_quality is not None
                       and fmt.vbr else f"{self.bitrate_kbps} kb/s"
                       + (" CBR" if fmt.vbr else ""))
        else:
            quality = "32-bit float" if self.bit_depth == 32 else f"{self.bit_depth}-bit"
        level = ("no loudness normalisation" if self.loudness is None else
                 f"{self.loudness.target_for(self.channels):g} {self.loudness.unit} / "
                 f"{self.loudness.ceiling:g} {self.loudness.ceiling_unit}")
        layout = "mono" if self.channels == 1 else "stereo"
        return (f"{fmt.label} {quality}, {self.encoded_sample_rate:,} Hz {layout}, {level}")


class SettingsError(ValueError):
    """Export settings that cannot be used; the message says which and why."""


class ExportCancelled(Exception):
    """The user cancelled an export; nothing was written."""


class ExportError(Exception):
    """The export failed; nothing was written. The message is for the user."""


def _within(value: float, bounds: tuple[float, float], what: str) -> None:
    low, high = bounds
    if not (math.isfinite(value) and low <= value <= high):
        raise SettingsError(f"{what} must be between {low:g} and {high:g}, not {value:g}")


def check_settings(settings: ExportSettings) -> None:
    """Raise :class:`SettingsError` naming the first setting that cannot be used."""
    fmt = FORMATS.get(settings.format)
    if fmt is None:
        raise SettingsError(f"unknown format {settings.format!r}; choose one of: "
                            f"{', '.join(FORMATS)}")
    if settings.channels not in (1, 2):
        raise SettingsError(f"channels must be 1 (mono) or 2 (stereo), not {settings.channels}")
    if not 8000 <= settings.sample_rate <= 192000:
        raise SettingsError(f"sample rate {settings.sample_rate:,} Hz is not supported "
                            "(8,000 to 192,000 Hz)")
    if fmt.lossy:
        if settings.vbr_quality is not None:
            if not fmt.vbr:
                raise SettingsError(f"{fmt.label} has no VBR quality setting; give a bit rate")
            if settings.vbr_quality not in range(10):
                raise SettingsError(f"MP3 VBR quality must be 0 (best) to 9, not "
                                    f"{settings.vbr_quality}")
        elif settings.bitrate_kbps not in fmt.bitrates:
            raise SettingsError(f"{fmt.label} bit rate must be one of "
                                f"{', '.join(map(str, fmt.bitrates))} kb/s, not "
                                f"{settings.bitrate_kbps}")
        if settings.sample_rate not in fmt.sample_rates and fmt.key != "opus":
            raise SettingsError(f"{fmt.label} cannot be written at {settings.sample_rate:,} Hz; "
                                f"choose one of {', '.join(f'{r:,}' for r in fmt.sample_rates)}")
    elif settings.bit_depth not in fmt.bit_depths:
        raise SettingsError(f"{fmt.label} bit depth must be one of "
                            f"{', '.join(map(str, fmt.bit_depths))}, not {settings.bit_depth}")
    target = settings.loudness
    if target is not None:
        if target.measure == "lufs":
            _within(target.target, LOUDNESS_RANGE, "the loudness target (LUFS)")
            if target.mono_target is not None:
                _within(target.mono_target, LOUDNESS_RANGE, "the mono loudness target (LUFS)")
        else:
            _within(target.target, RMS_RANGE, "the RMS target (dBFS)")
        _within(target.ceiling, CEILING_RANGE, f"the peak ceiling ({target.ceiling_unit})")
    elif settings.level_match:
        raise SettingsError("level-matching blocks needs a loudness target")
    _within(settings.head_seconds, ROOM_TONE_RANGE, "room tone at the head (seconds)")
    _within(settings.tail_seconds, ROOM_TONE_RANGE, "room tone at the tail (seconds)")
    if settings.split not in SPLITS:
        raise SettingsError(f"unknown file split {settings.split!r}; choose one of "
                            f"{', '.join(SPLITS)}")
    unknown = settings.sidecars - set(SIDECARS)
    if unknown:
        raise SettingsError(f"unknown extra files: {', '.join(sorted(unknown))}")


# --- presets --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Preset:
    """A named starting point (see the module docstring for the sources)."""

    key: str
    label: str
    settings: ExportSettings
    summary: str


PRESETS: dict[str, Preset] = {p.key: p for p in (
    Preset("youtube", "YouTube / video", ExportSettings(
        format="m4a", sample_rate=48000, channels=2, bitrate_kbps=192,
        loudness=LoudnessTarget("lufs", -14.0, -1.0), level_match=True,
        sidecars=frozenset({"srt"})),
        "-14 LUFS, -1 dBTP, 48 kHz AAC (M4A) or WAV, with SRT captions"),
    Preset("podcast", "Podcast", ExportSettings(
        format="mp3", sample_rate=44100, channels=2, bitrate_kbps=160,
        loudness=LoudnessTarget("lufs", -16.0, -1.0, mono_target=-19.0), level_match=True,
        sidecars=frozenset({"chapters_json"})),
        "-16 LUFS stereo / -19 LUFS mono, -1 dBTP, MP3 44.1 kHz, ID3 tags and chapters"),
    Preset("acx", "Audiobook (ACX)", ExportSettings(
        format="mp3", sample_rate=44100, channels=1, bitrate_kbps=192,
        loudness=LoudnessTarget("rms", -20.0, -3.0), level_match=True,
        head_seconds=0.75, tail_seconds=2.0, split="chapter", acx_check=True),
        "RMS -23 to -18 dBFS, peaks -3 dBFS, MP3 192 kb/s CBR 44.1 kHz mono, room tone, "
        "one file per chapter, ACX check"),
    Preset("m4b", "Audiobook (M4B)", ExportSettings(
        format="m4b", sample_rate=44100, channels=1, bitrate_kbps=64,
        loudness=LoudnessTarget("lufs", -18.0, -1.0), level_match=True,
        head_seconds=0.5, tail_seconds=1.0),
        "one M4B (AAC 64 kb/s mono) with chapters, title, author, narrator and cover"),
    Preset("broadcast", "Broadcast (EBU R128)", ExportSettings(
        format="wav", sample_rate=48000, channels=1, bit_depth=24,
        loudness=LoudnessTarget("lufs", -23.0, -1.0), level_match=True),
        "-23 LUFS, -1 dBTP, WAV 48 kHz 24-bit"),
    Preset("custom", "Custom", ExportSettings(),
        "any format, rate, channels and loudness"),
)}


# --- JSON (project meta, settings files) ----------------------------------------------

def settings_to_json(settings: ExportSettings) -> dict[str, Any]:
    """A JSON-able dict of ``settings`` (:func:`settings_from_json` reads it back)."""
    body = dataclasses.asdict(settings)
    body["sidecars"] = sorted(settings.sidecars)
    return body


def settings_from_json(body: Any, base: ExportSettings | None = None) -> ExportSettings:
    """Settings from :func:`settings_to_json`'s output, over ``base`` for keys it lacks.

    Raises:
        SettingsError: not an object, a value of the wrong type, or unusable settings.
    """
    if not isinstance(body, dict):
        raise SettingsError("export settings must be a JSON object")
    settings = base or ExportSettings()
    known = {f.name for f in dataclasses.fields(ExportSettings)}
    changes: dict[str, Any] = {}
    try:
        for key, value in body.items():
            if key not in known:
                continue
            if key == "loudness":
                changes[key] = None if value is None else LoudnessTarget(**{
                    k: v for k, v in value.items()
                    if k in ("measure", "target", "ceiling", "mono_target")})
            elif key == "sidecars":
                changes[key] = frozenset(str(v) for v in value)
            else:
                changes[key] = value
        result = replace(settings, **changes)
    except (TypeError, AttributeError, ValueError) as exc:
        raise SettingsError(f"export settings are malformed: {exc}") from exc
    check_settings(result)
    return result


def presets_from_json(text: str | None) -> dict[str, ExportSettings]:
    """A project's edited presets (``meta`` row ``export_presets``): key -> settings,
    for the presets that parse; a malformed row or entry is ignored (the built-in
    preset is used instead)."""
    if not text:
        return {}
    try:
        body = json.loads(text)
    except ValueError:
        return {}
    out: dict[str, ExportSettings] = {}
    if isinstance(body, dict):
        for key, value in body.items():
            if key in PRESETS:
                try:
                    out[key] = settings_from_json(value, PRESETS[key].settings)
                except SettingsError:
                    continue
    return out
