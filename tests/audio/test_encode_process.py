"""The lossy encoder in a child process: same file as in-process, measured as decoded,
failures reported in words, an abort leaves the caller free to remove the file."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from studio.audio.encode_process import ProcessEncoder
from studio.audio.encoders import EncoderError, EncodeSettings
from studio.audio.loudness import LoudnessMeter

RATE = 44100


def _tone(seconds: float) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    return (0.25 * np.sin(2 * np.pi * 330 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 1.3 * t))
            ).astype(np.float32)


@pytest.mark.parametrize("container", ["mp3", "m4a", "opus"])
def test_encodes_and_measures_what_it_wrote(tmp_path: Path, container: str) -> None:
    rate = 48000 if container == "opus" else RATE
    audio = _tone(6.0 * rate / RATE)
    meter = LoudnessMeter(rate)
    path = tmp_path / f"out.{container}"
    encoder = ProcessEncoder(path, EncodeSettings(container, rate, channels=2,
                                                  bitrate_kbps=128), listen=meter.add)
    for begin in range(0, audio.shape[0], rate):
        encoder.write(audio[begin:begin + rate])
    encoder.close()
    measured = meter.result()
    with av.open(str(path)) as file:
        stream = file.streams.audio[0]
        decoded = np.concatenate([f.to_ndarray()[0] for f in file.decode(stream)])
        assert stream.codec_context.channels == 2
    assert abs(decoded.shape[0] - audio.shape[0]) <= 2048
    direct = LoudnessMeter(rate)
    direct.add(decoded.astype(np.float32))
    # What the parent measured from the packets is what a player decodes from the file.
    assert abs(measured.integrated - direct.result().integrated) < 0.1


def test_a_file_that_cannot_be_written_is_reported(tmp_path: Path) -> None:
    # FFmpeg opens the file when it writes the header, so the child reports the failure
    # at the latest when the file is finished: never a hang, never a silent success.
    with pytest.raises(EncoderError, match=r"No such file|Errno|cannot"):
        encoder = ProcessEncoder(tmp_path / "missing" / "out.mp3", EncodeSettings("mp3", RATE))
        encoder.write(_tone(1.0))
        encoder.close()


def test_abort_stops_the_child(tmp_path: Path) -> None:
    path = tmp_path / "out.mp3"
    encoder = ProcessEncoder(path, EncodeSettings("mp3", RATE), listen=lambda _s: None)
    encoder.write(_tone(2.0))
    encoder.abort()
    assert not encoder._process.is_alive()
    path.unlink(missing_ok=True)  # the caller removes what was staged
    with pytest.raises(EncoderError):
        encoder.write(_tone(1.0))
