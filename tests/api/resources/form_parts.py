"""Multipart bodies as the server reads them, and speech to send: helpers of the
infill and STT tests."""

from __future__ import annotations

import io
from email import policy
from email.parser import BytesParser
from typing import NamedTuple

import httpx
import soundfile as sf

from studio.offline import OfflineEngine
from studio.offline.voices import BUILTIN_VOICES


class Part(NamedTuple):
    value: bytes
    filename: str | None
    content_type: str | None


def parts(request: httpx.Request) -> dict[str, list[Part]]:
    """The multipart body of ``request``, field by field (with Python's own parser)."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + request.content)
    assert message.is_multipart()
    out: dict[str, list[Part]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        content_type = part.get("content-type")
        out.setdefault(str(name), []).append(
            Part(part.get_payload(decode=True), filename, content_type))
    return out


def texts(request: httpx.Request) -> dict[str, list[str]]:
    return {name: [p.value.decode() for p in values]
            for name, values in parts(request).items() if values[0].filename is None}


def speech_wav(engine: OfflineEngine, text: str) -> bytes:
    """A WAV of ``text`` rendered by the engine itself (``/tts/bytes``)."""
    body = {"model_id": "sonic-3", "transcript": text,
            "voice": {"mode": "id", "id": BUILTIN_VOICES[0].id}, "language": "en",
            "output_format": {"container": "wav", "encoding": "pcm_s16le",
                              "sample_rate": 16000}}
    headers = {"Authorization": f"Bearer {engine.api_key}", "Cartesia-Version": "2025-04-16"}
    response = httpx.post(f"{engine.base_url}/tts/bytes", json=body, headers=headers,
                          timeout=60.0)
    response.raise_for_status()
    samples, rate = sf.read(io.BytesIO(response.content), dtype="float32")
    out = io.BytesIO()
    sf.write(out, samples, rate, format="WAV", subtype="PCM_16")
    return out.getvalue()
