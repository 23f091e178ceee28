"""Time to first audio: our client versus a bare ``websockets`` client.

Both talk to the same offline engine over loopback, each on a connection opened
before timing starts, and send the same ``GenerationRequest`` JSON. The clock
runs from just before the request is sent to just after the first PCM frames
are in a preallocated float32 ring buffer (``studio.audio.ringbuffer``):

- ours: ``TTSWebSocket.generate`` -> first :class:`ChunkEvent` -> codecs
  ``StreamDecoder.feed`` -> ``RingBuffer.write``;
- bare: ``json.dumps`` + ``send`` -> ``recv`` -> ``json.loads`` -> base64 ->
  ``np.frombuffer`` -> ``RingBuffer.write``.

The rest of each stream is drained (untimed) before the next run. Runs are
interleaved (ours, bare, ours, bare, ...) after a warm-up so drift in the
engine or the machine hits both alike. The last line printed is one JSON
object: ``{"ours_ms_median", "bare_ms_median", "diff_ms", "ratio", "runs"}``.

Usage: ``python tests/benchmarks/bench_ttfa.py [--runs 60] [--warmup 8]``
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import json
import statistics
import time
import uuid

import numpy as np
from websockets.asyncio.client import ClientConnection, connect

from studio.api import CartesiaClient, ChunkEvent, OutputFormat, TTSRequest, TTSWebSocket
from studio.audio.codecs import StreamDecoder
from studio.audio.ringbuffer import RingBuffer
from studio.offline import OfflineEngine

TRANSCRIPT = "Hello! This is the studio speaking, to measure the time to first audio."
OUTPUT = OutputFormat("raw", "pcm_f32le", 44100)
RING_FRAMES = 44100 * 30


async def ours_once(ws: TTSWebSocket, request: TTSRequest, ring: RingBuffer) -> float:
    """Milliseconds to the first frames in ``ring``, through our client."""
    decoder = StreamDecoder(OUTPUT.encoding)
    first: float | None = None
    start = time.perf_counter()
    ctx = await ws.generate(request)
    async for event in ctx:
        if first is None and isinstance(event, ChunkEvent):
            samples = decoder.feed(event.audio)
            if len(samples) and ring.write(samples):
                first = time.perf_counter()
    assert first is not None, "no audio arrived"
    return (first - start) * 1000.0


async def bare_once(conn: ClientConnection, request: TTSRequest, ring: RingBuffer) -> float:
    """Milliseconds to the first frames in ``ring``, with nothing but websockets."""
    context_id = str(uuid.uuid4())
    body = request.to_json()
    body.update(context_id=context_id, add_timestamps=False, add_phoneme_timestamps=False)
    body["continue"] = False
    first: float | None = None
    start = time.perf_counter()
    await conn.send(json.dumps(body))
    while True:
        message = json.loads(await conn.recv())
        if message.get("context_id") != context_id:
            continue
        kind = message["type"]
        if first is None and kind == "chunk":
            samples = np.frombuffer(base64.b64decode(message["data"]), dtype="<f4")
            if len(samples) and ring.write(samples):
                first = time.perf_counter()
        elif kind in ("done", "error"):
            break
    assert first is not None, f"no audio arrived ({message})"
    return (first - start) * 1000.0


async def run(engine: OfflineEngine, runs: int, warmup: int) -> dict[str, float | int]:
    async with CartesiaClient(engine.api_key, base_url=engine.base_url) as client:
        voice_id = (await client.voices.list(limit=1))[0].id
        request = TTSRequest(TRANSCRIPT, voice_id, output_format=OUTPUT)
        ws = await client.tts.websocket()
        bare = await connect(
            f"{engine.websocket_base_url}/tts/websocket",
            additional_headers={
                "Authorization": f"Bearer {engine.api_key}",
                "Cartesia-Version": client.cartesia_version,
            },
            compression=None,  # the same connection options as ours
            max_size=None,
        )
        ring = RingBuffer(RING_FRAMES)
        ours: list[float] = []
        bares: list[float] = []
        try:
            for n in range(warmup + runs):
                for who in ("ours", "bare"):
                    ring.clear()
                    gc.collect()
                    if who == "ours":
                        ms = await ours_once(ws, request, ring)
                    else:
                        ms = await bare_once(bare, request, ring)
                    if n >= warmup:
                        (ours if who == "ours" else bares).append(ms)
        finally:
            await bare.close()
    for name, values in (("ours", ours), ("bare", bares)):
        q = statistics.quantiles(values, n=10)
        print(
            f"{name}: median {statistics.median(values):.3f} ms, p10 {q[0]:.3f}, "
            f"p90 {q[-1]:.3f}, min {min(values):.3f}, max {max(values):.3f}"
        )
    ours_median = statistics.median(ours)
    bare_median = statistics.median(bares)
    return {
        "ours_ms_median": round(ours_median, 3),
        "bare_ms_median": round(bare_median, 3),
        "diff_ms": round(ours_median - bare_median, 3),
        "ratio": round(ours_median / bare_median, 4),
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60, help="timed runs per client (>= 50)")
    parser.add_argument("--warmup", type=int, default=8, help="untimed runs per client first")
    args = parser.parse_args()
    with OfflineEngine() as engine:
        result = asyncio.run(run(engine, args.runs, args.warmup))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
