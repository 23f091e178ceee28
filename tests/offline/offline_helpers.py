"""Helpers for the offline engine's loopback tests (imported as ``offline_helpers``,
like ``audio_fakes`` in tests/audio)."""

from __future__ import annotations

import asyncio
import io
import json
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import numpy as np
import soundfile as sf
from websockets.sync.client import ClientConnection

from studio.audio import codecs
from studio.offline import OfflineEngine, tags
from studio.offline.delivery import Delivery
from studio.offline.formats import AudioFormat
from studio.offline.synthesis import Rendered, Renderer, Voicing
from studio.offline.voices import BUILTIN_VOICES

API_VERSION = "2025-04-16"
VOICE_ID = BUILTIN_VOICES[0].id  # Avery, en-us
RECV_TIMEOUT = 60.0


def auth_headers(engine: OfflineEngine) -> dict[str, str]:
    return {"Authorization": f"Bearer {engine.api_key}", "Cartesia-Version": API_VERSION}


def tts_body(transcript: str, /, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model_id": "sonic-3",
        "transcript": transcript,
        "voice": {"mode": "id", "id": VOICE_ID},
        "language": "en",
        "output_format": {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 22050},
    }
    body.update(overrides)
    return body


class SocketClient:
    """A raw WebSocket to ``/tts/websocket`` that sends dicts and reads events."""

    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn

    def send(self, message: dict[str, Any]) -> None:
        self.conn.send(json.dumps(message))

    def recv(self) -> dict[str, Any]:
        return json.loads(self.conn.recv(timeout=RECV_TIMEOUT))

    def until_done(self, *context_ids: str) -> dict[str, list[dict[str, Any]]]:
        """Events per context until each has sent ``done`` or ``error``."""
        events: dict[str, list[dict[str, Any]]] = {c: [] for c in context_ids}
        open_ids = set(context_ids)
        while open_ids:
            event = self.recv()
            ctx = event.get("context_id")
            assert ctx in events, f"event for unexpected context: {event}"
            events[ctx].append(event)
            if event["type"] in ("done", "error"):
                open_ids.discard(ctx)
        return events


SPEECH_RATE = 22050
#: What a clone clip says: about eight seconds of varied speech.
CLONE_SCRIPT = ("Hello there. I am recording this short clip so that the studio can learn "
                "how my voice sounds when I read a script aloud.")
_SUBTYPES = {"WAV": "PCM_16", "FLAC": "PCM_16", "OGG": "VORBIS", "MP3": "MPEG_LAYER_III"}


def render_speech(text: str, voice: str = "en-us+f3", pitch_offset: int = 0,
                  rate_scale: float = 1.0) -> np.ndarray:
    """espeak-ng speech of ``text`` through the engine's renderer, float32 mono at
    :data:`SPEECH_RATE` Hz."""
    renderer = Renderer(AudioFormat("raw", "pcm_f32le", SPEECH_RATE))
    blocks: list[Rendered] = []
    renderer.render(tags.parse(text)[0], Voicing(voice, pitch_offset, 0, rate_scale),
                    Delivery(), blocks.append, lambda: False)
    renderer.finish(blocks.append)
    return codecs.decode(b"".join(b.audio for b in blocks), "pcm_f32le")


def audio_file(samples: np.ndarray, kind: str = "WAV", rate: int = SPEECH_RATE) -> bytes:
    """``samples`` as a file in ``kind`` (WAV, FLAC, OGG or MP3), in memory."""
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format=kind, subtype=_SUBTYPES[kind])
    return buffer.getvalue()


def clone(http: httpx.Client, clip: bytes | None, filename: str = "clip.wav",
          **fields: str) -> httpx.Response:
    """``POST /voices/clone`` with ``clip`` (None: a multipart body without one)."""
    data = {"name": "My clone", "language": "en", **fields}
    files = {"clip": (filename, clip, "application/octet-stream")} if clip is not None else None
    if files is None:  # still multipart: a lone text field
        files = {"name": (None, data.pop("name"))}  # type: ignore[dict-item]
    return http.post("/voices/clone", files=files, data=data)


def in_own_loop(coro_fn: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``coro_fn()`` with ``asyncio.run`` on a thread of its own, leaving the main
    thread's event-loop state to the qasync-based suites; its result, or its exception
    re-raised here."""
    outcome: list[Any] = []

    def main() -> None:
        try:
            outcome.append(asyncio.run(coro_fn()))  # type: ignore[arg-type]
        except BaseException as exc:  # noqa: BLE001  # re-raised in the test thread
            outcome.append(exc)

    thread = threading.Thread(target=main)
    thread.start()
    thread.join(timeout=120)
    assert outcome, "the event loop thread did not finish"
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]
