"""Helpers for the offline engine's loopback tests (imported as ``offline_helpers``,
like ``audio_fakes`` in tests/audio)."""

from __future__ import annotations

import json
from typing import Any

from websockets.sync.client import ClientConnection

from studio.offline import OfflineEngine
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
