"""The delivery options ``export`` and ``render`` share: format, loudness, chapters,
tags, captions and transcripts, read into :class:`~studio.project.export_settings.ExportSettings`.

The format follows ``-o``'s extension unless ``--format`` names one; a contradiction is
refused, never silently replaced. Options the format cannot take (a bit depth for MP3,
a bit rate for WAV) are refused too.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from studio.audio.cover import load_cover
from studio.audio.tags import Metadata
from studio.project.export_settings import (
    FORMATS,
    PRESETS,
    SPLITS,
    ExportSettings,
    LoudnessTarget,
    SettingsError,
    check_settings,
    format_for_extension,
)


def add_output_options(parser: argparse.ArgumentParser, *, render: bool) -> None:
    """The delivery options of ``export`` (and of ``render``, which has its own
    ``--sample-rate`` for the takes it requests: the file is written at that rate)."""
    group = parser.add_argument_group("delivery (format, loudness, chapters, tags)")
    group.add_argument("--preset", choices=sorted(PRESETS), default=None,
                       help="start from a destination preset: " + "; ".join(
                           f"{p.key}: {p.summary}" for p in PRESETS.values()))
    group.add_argument("--format", choices=sorted(FORMATS), default=None,
                       help="file format (default: from the output's extension)")
    if not render:
        group.add_argument("--sample-rate", type=int, default=None, metavar="HZ",
                           help="sample rate of the file (default: the preset's, else the "
                           "takes')")
    group.add_argument("--bitrate", type=int, default=None, metavar="K",
                       help="bit rate in kb/s for MP3 (CBR), Opus and AAC")
    group.add_argument("--vbr", type=int, default=None, metavar="Q", choices=range(10),
                       help="MP3 VBR quality 0 (best) to 9 instead of a constant bit rate")
    group.add_argument("--bit-depth", type=int, default=None, choices=(16, 24, 32),
                       help="WAV 16, 24 or 32 (float); FLAC 16 or 24")
    group.add_argument("--channels", type=int, default=None, choices=(1, 2),
                       help="1 (mono) or 2 (stereo: the mono programme on both channels)")
    group.add_argument("--loudness", default=None, metavar="LUFS",
                       help="integrated loudness target, -40 to -5 LUFS, or 'off'")
    group.add_argument("--true-peak", type=float, default=None, metavar="DBTP",
                       help="true-peak ceiling in dBTP (default -1)")
    group.add_argument("--level-match", action=argparse.BooleanOptionalAction, default=None,
                       help="bring every block to the target's loudness first")
    group.add_argument("--per-chapter", action="store_true",
                       help="one file per chapter (OUT - 01 - Title.ext)")
    group.add_argument("--stems", choices=("block", "chapter", "voice"), default=None,
                       help="one file per block, per chapter, or per voice (each voice's "
                       "stem as long as the programme, silent where others speak)")
    group.add_argument("--captions", type=Path, default=None, metavar="OUT.srt|OUT.vtt",
                       help="captions from the word timestamps (SubRip or WebVTT by extension)")
    group.add_argument("--word-captions", type=Path, default=None, metavar="OUT.vtt",
                       help="WebVTT captions with a timestamp before every word (karaoke)")
    group.add_argument("--transcript", type=Path, default=None, metavar="OUT.txt",
                       help="the plain transcript")
    group.add_argument("--chapters-json", type=Path, default=None, metavar="OUT.json",
                       help="Podcasting 2.0 chapters")
    group.add_argument("--labels", type=Path, default=None, metavar="OUT.txt",
                       help="chapters as an Audacity label track")
    group.add_argument("--room-tone", type=float, nargs=2, default=None,
                       metavar=("HEAD", "TAIL"), help="seconds of silence at the start and end")
    group.add_argument("--check", choices=("acx",), default=None,
                       help="check every file against ACX's requirements; exit 1 if one fails")
    for name, what in (("title", "title"), ("author", "author / artist"),
                       ("narrator", "narrator"), ("album", "album / book"),
                       ("year", "year"), ("genre", "genre"), ("comment", "comment")):
        group.add_argument(f"--{name}", default="", metavar="TEXT", help=f"tag: {what}")
    group.add_argument("--cover", type=Path, default=None, metavar="IMG",
                       help="cover image (JPEG or PNG)")


_SIDECAR_OPTIONS = {"transcript": "txt", "chapters_json": "chapters_json",
                    "labels": "labels", "word_captions": "vtt_words"}


def with_extension(args: argparse.Namespace, output: Path) -> Path:
    """``output`` with the extension of the format asked for when it has none (the
    format follows ``--format``, else the preset's); unchanged otherwise."""
    if output.suffix:
        return output
    key = args.format or (PRESETS[args.preset].settings.format if args.preset else None)
    return output.with_name(output.name + FORMATS[key].extension) if key else output


def settings_from_args(args: argparse.Namespace, output: Path, takes_rate: int,
                       project_presets: dict[str, ExportSettings] | None = None) -> ExportSettings:
    """The export settings the arguments ask for, over the preset (the project's
    edited copy when it has one).

    Raises:
        SettingsError: unknown format, a contradicting extension, unusable values.
    """
    preset = args.preset
    if preset is not None:
        base = (project_presets or {}).get(preset) or PRESETS[preset].settings
    else:
        base = replace(PRESETS["custom"].settings, sample_rate=takes_rate)
    by_extension = format_for_extension(output.suffix)
    fmt = args.format
    if fmt is None:
        if by_extension is None:
            raise SettingsError(f"{output.name}: unknown extension {output.suffix or '(none)'}; "
                                f"use one of {', '.join(f.extension for f in FORMATS.values())} "
                                "or give --format")
        fmt = by_extension.key
    elif by_extension is not None and by_extension.key != fmt:
        raise SettingsError(f"{output.name} has the extension of {by_extension.label} but "
                            f"--format is {FORMATS[fmt].label}; rename the output to "
                            f"{output.stem}{FORMATS[fmt].extension} or change --format")
    settings = replace(base, format=fmt)
    if fmt != base.format:
        # A preset's bit rate or depth may not exist in another format: keep what fits.
        target = FORMATS[fmt]
        if target.bitrates and settings.bitrate_kbps not in target.bitrates:
            settings = replace(settings, bitrate_kbps=192 if 192 in target.bitrates
                               else target.bitrates[-1])
        if target.bit_depths and settings.bit_depth not in target.bit_depths:
            settings = replace(settings, bit_depth=target.bit_depths[0])
        if not target.vbr:
            settings = replace(settings, vbr_quality=None)
    rate = getattr(args, "sample_rate", None)
    changes: dict[str, object] = {}
    if rate is not None:
        changes["sample_rate"] = rate
    for name, key in (("bitrate", "bitrate_kbps"), ("vbr", "vbr_quality"),
                      ("bit_depth", "bit_depth"), ("channels", "channels"),
                      ("level_match", "level_match")):
        value = getattr(args, name)
        if value is not None:
            changes[key] = value
    if args.bitrate is not None:
        changes["vbr_quality"] = None
    target = FORMATS[fmt]
    if args.bit_depth is not None and not target.bit_depths:
        raise SettingsError(f"{target.label} has no bit depth (it is a lossy codec); "
                            "give --bitrate instead")
    if (args.bitrate is not None or args.vbr is not None) and not target.bitrates:
        raise SettingsError(f"{target.label} is lossless and has no bit rate; give "
                            "--bit-depth instead")
    if args.per_chapter and args.stems not in (None, "chapter"):
        raise SettingsError(f"--per-chapter and --stems {args.stems} ask for two different "
                            "sets of files; choose one")
    settings = replace(settings, **changes)  # type: ignore[arg-type]  # each value checked above
    settings = replace(settings, loudness=_loudness(args, settings.loudness))
    if settings.loudness is None:
        settings = replace(settings, level_match=False)
    if args.per_chapter or args.stems == "chapter":
        settings = replace(settings, split="chapter")
    elif args.stems is not None:
        settings = replace(settings, split=args.stems)
    if args.room_tone is not None:
        settings = replace(settings, head_seconds=args.room_tone[0],
                           tail_seconds=args.room_tone[1])
    sidecars = set(settings.sidecars)
    if args.captions is not None:
        kind = {".srt": "srt", ".vtt": "vtt"}.get(args.captions.suffix.lower())
        if kind is None:
            raise SettingsError(f"{args.captions.name}: captions are .srt or .vtt")
        sidecars.add(kind)
    for option, kind in _SIDECAR_OPTIONS.items():
        if getattr(args, option) is not None:
            sidecars.add(kind)
    settings = replace(settings, sidecars=frozenset(sidecars),
                       acx_check=settings.acx_check or args.check == "acx")
    if settings.split not in SPLITS:
        raise SettingsError(f"unknown split {settings.split}")
    check_settings(settings)
    return settings


def _loudness(args: argparse.Namespace, base: LoudnessTarget | None) -> LoudnessTarget | None:
    text = args.loudness
    if text is not None and text.strip().lower() in ("off", "none"):
        return None
    target = base
    if text is not None:
        try:
            value = float(text)
        except ValueError:
            raise SettingsError(
                f"--loudness must be a number of LUFS or 'off', not {text!r}"
            ) from None
        target = LoudnessTarget("lufs", value, base.ceiling if base and base.measure == "lufs"
                                else -1.0)
    if args.true_peak is not None:
        if target is None:
            raise SettingsError("--true-peak needs a loudness target (--loudness or a preset)")
        target = replace(target, ceiling=args.true_peak)
    return target


def sidecar_overrides(args: argparse.Namespace) -> dict[str, Path]:
    """Sidecar kind -> the path the arguments name for it."""
    out: dict[str, Path] = {}
    if args.captions is not None:
        out[{".srt": "srt", ".vtt": "vtt"}[args.captions.suffix.lower()]] = args.captions
    for option, kind in _SIDECAR_OPTIONS.items():
        path = getattr(args, option)
        if path is not None:
            out[kind] = path
    return out


def metadata_from_args(args: argparse.Namespace) -> Metadata:
    """Tags from ``--title`` ... ``--cover``.

    Raises:
        ValueError: the cover image cannot be used (the message says why).
    """
    cover = load_cover(args.cover) if args.cover is not None else None
    return Metadata(title=args.title, artist=args.author, narrator=args.narrator,
                    album=args.album, year=args.year, genre=args.genre, comment=args.comment,
                    cover=cover)
