"""``voice-change IN.wav --voice ID -o OUT.wav``: speech re-spoken in another voice.

The input is decoded first under the limits of
:func:`~studio.audio.untrusted.decode_untrusted` (a file that is not audio, or over the
limits, is refused before anything is sent), and its duration gives the estimate,
printed before the request: :data:`CREDITS_PER_SECOND` credits per second of input on
Cartesia's cloud (ARCHITECTURE, Cartesia pricing), nothing on the offline engine. The
file is sent as it is (``client.voice_changer.bytes``), the answer is asked for as
32-bit float WAV at the input's rate (the nearest rate the API offers) and written with
``render``'s delivery options (:mod:`studio.cli.options`): the format follows ``-o``'s
extension, 16-bit WAV by default, at the loudness asked for (none by default, so the
converted level is kept).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
from pathlib import Path

from studio.api import BadRequestError, CartesiaError, NotFoundError
from studio.api.models import SAMPLE_RATES, OutputFormat
from studio.audio.buffers import AudioFileError
from studio.audio.untrusted import decode_untrusted
from studio.cli.exits import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, fail, unwritable
from studio.cli.export import run_export
from studio.cli.interrupts import SignalCancel
from studio.cli.options import add_output_options, metadata_from_args, settings_from_args
from studio.cli.render import start_with_voice
from studio.project.export_pipeline import ExportJob
from studio.project.model import make_take
from studio.project.program import program_of_takes
from studio.timestamps import PhonemeTimestamps, WordTimestamps

#: Credits the cloud charges per second of input audio (ARCHITECTURE; Cartesia pricing).
CREDITS_PER_SECOND = 15

#: Longest input accepted, seconds (the decode limit; the server may allow less, and
#: then says so with a 400).
MAX_INPUT_SECONDS = 600.0

#: Options of :func:`add_output_options` that need words, which a voice change has none of.
_WORD_OPTIONS = ("captions", "word_captions", "transcript", "timestamps")
_SPLIT_OPTIONS = ("per_chapter", "stems", "chapters_json", "labels")


def add_voice_change_parser(verbs: argparse._SubParsersAction[argparse.ArgumentParser],
                            common: argparse.ArgumentParser) -> None:
    """The ``voice-change`` verb; ``common`` holds the options every backend verb takes."""
    change = verbs.add_parser(
        "voice-change", parents=[common],
        help="re-speak a recording in another voice (voice changer)",
        description="Convert the speech in IN (WAV, FLAC, MP3, Ogg) to VOICE, keeping its "
        "timing and intonation, and write it to OUT in the format of its extension. On "
        f"Cartesia's cloud this costs {CREDITS_PER_SECOND} credits per second of input "
        "(the estimate is printed first); it is free on the offline engine.")
    change.add_argument("input", type=Path, metavar="IN.wav")
    change.add_argument("--voice", required=True, metavar="ID",
                        help="voice id or name; `cartesia-studio voices` lists them")
    change.add_argument("-o", "--output", type=Path, required=True, metavar="OUT",
                        help="the file to write: .wav, .flac, .mp3, .opus, .m4a or .m4b")
    add_output_options(change, render=False)


def _check_args(args: argparse.Namespace) -> str:
    """Why the arguments cannot be used, or "" (checked before any work)."""
    for name in _WORD_OPTIONS + _SPLIT_OPTIONS:
        if getattr(args, name, None):
            return (f"--{name.replace('_', '-')} does not apply to voice-change: the output is "
                    "one recording without words or chapters")
    problem = unwritable(args.output)
    if problem:
        return problem
    if args.input.resolve() == args.output.resolve():
        return f"{args.output} is the input; write the converted speech to another file"
    try:
        settings_from_args(args, args.output, 44100)
        metadata_from_args(args)
    except ValueError as exc:
        return str(exc)
    return ""


def _api_rate(rate: int) -> int:
    """The API's output rate nearest to ``rate`` Hz (the higher on a tie)."""
    return min(SAMPLE_RATES, key=lambda r: (abs(r - rate), -r))


def estimate_credits(seconds: float, backend_kind: str) -> int:
    """Credits a voice change of ``seconds`` of input costs: :data:`CREDITS_PER_SECOND`
    a started second on the cloud, 0 on the offline engine."""
    return 0 if backend_kind == "offline" else math.ceil(seconds * CREDITS_PER_SECOND)


async def voice_change_command(args: argparse.Namespace) -> int:
    """``voice-change IN --voice ID -o OUT``. Exit status 2 for bad input (missing or
    unreadable file, not audio, over the limits, unknown voice, a clip the server
    refuses), 1 when the API or the export fails, 130 when interrupted."""
    args.language = "en"  # only used by resolve_voice when no voice is given
    problem = _check_args(args)
    if problem:
        return fail(problem, EXIT_USAGE)
    path: Path = args.input
    if not path.is_file():
        return fail(f"{path}: no such file" if not path.exists() else f"{path} is not a file",
                    EXIT_USAGE)
    try:
        samples, rate = await asyncio.to_thread(decode_untrusted, path,
                                                max_seconds=MAX_INPUT_SECONDS)
        clip = await asyncio.to_thread(path.read_bytes)
    except AudioFileError as exc:
        return fail(f"{path} is not audio that can be used: {exc}", EXIT_USAGE)
    except OSError as exc:
        return fail(f"cannot read {path}: {exc.strerror or exc}", EXIT_USAGE)
    seconds = len(samples) / rate
    del samples  # only its length was needed
    if seconds <= 0:
        return fail(f"{path} holds no audio", EXIT_USAGE)

    started = await start_with_voice(args)
    if isinstance(started, int):
        return started
    backend, voice = started
    api_rate = _api_rate(rate)
    credits = estimate_credits(seconds, backend.kind)
    cost = f"about {credits} credits" if credits else "free"
    print(f"Voice change of {seconds:.1f} s to {voice.name} on the {backend.label}: {cost}",
          file=sys.stderr)
    fmt = OutputFormat(container="wav", encoding="pcm_f32le", sample_rate=api_rate)
    try:
        with SignalCancel() as interrupt:
            try:
                converted = await backend.client.voice_changer.bytes(
                    clip, voice.id, fmt, filename=path.name)
            except asyncio.CancelledError:
                if interrupt.signal is None:
                    raise
                interrupt.absorb()
                return fail("interrupted; nothing was written", EXIT_INTERRUPTED)
    except (BadRequestError, NotFoundError, ValueError) as exc:
        return fail(f"the voice changer refused {path.name}: {exc}", EXIT_USAGE)
    except CartesiaError as exc:
        return fail(f"voice change failed on the {backend.label}: {exc}")
    finally:
        await backend.aclose()
    # On this thread: the export's Ctrl+C handling needs the main thread.
    return _write(args, converted, api_rate, voice.id, backend.kind, credits)


def _write(args: argparse.Namespace, converted: bytes, api_rate: int, voice_id: str,
           backend_kind: str, credits: int) -> int:
    try:
        audio, rate = decode_untrusted(converted, max_seconds=MAX_INPUT_SECONDS * 1.1)
    except AudioFileError as exc:
        return fail(f"the converted audio cannot be read: {exc}")
    take = make_take(audio, rate, WordTimestamps(), PhonemeTimestamps(),
                     {"voice": {"id": voice_id}, "voice_changer": True}, backend_kind,
                     credits, 1)
    try:
        settings = settings_from_args(args, args.output, api_rate)
        job = ExportJob(program_of_takes([take], 0.0), settings, args.output,
                        metadata_from_args(args), {})
    except ValueError as exc:
        return fail(str(exc), EXIT_USAGE)
    code = run_export(job)
    if code == EXIT_OK:
        print(f"Converted {len(audio) / rate:.1f} s for {credits} credits", file=sys.stderr)
    return code if code in (EXIT_OK, EXIT_USAGE, EXIT_INTERRUPTED) else EXIT_FAILED
