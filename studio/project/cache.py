"""The take cache: a key for everything that decides what a take sounds like.

Two requests with the same key give the same audio, so a take whose key matches a
new request is reused instead of paying for the generation again (ARCHITECTURE.md,
"Money and trust"). The key hashes, as canonical JSON: the backend, the model, the
voice, the transcript (whitespace-normalised; inline tags kept, since they change
the audio), the language, the generation config (speed, volume, emotion), the
pronunciation dictionary's id and contents, and the output format.

The key is versioned (``KEY_VERSION``): if what goes into it ever changes, old
takes simply stop matching instead of matching wrongly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from studio.project.model import Block, Take

KEY_VERSION = "v1"


def take_key(
    request: Mapping[str, Any],
    backend: str,
    dictionary_items: Sequence[Mapping[str, str]] | None = None,
) -> str:
    """The cache key of a generation request, as ``"v1:<sha256 hex>"``.

    Args:
        request: the JSON body of a TTS request (``TTSRequest.to_json()``, seed
            ``GenerationRequest``).
        backend: ``"offline"`` or ``"cloud"``; the same request sounds different on each.
        dictionary_items: the contents of the pronunciation dictionary the request
            names (``[{"text": ..., "alias": ...}]``), so editing the dictionary
            changes the key.
    """
    voice = request.get("voice") or {}
    config = request.get("generation_config") or {}
    output = request.get("output_format") or {}
    material = {
        "backend": backend,
        "model_id": request.get("model_id"),
        "voice": voice.get("id") if isinstance(voice, Mapping) else voice,
        "transcript": " ".join(str(request.get("transcript", "")).split()),
        "language": request.get("language"),
        "generation_config": {k: config.get(k) for k in ("speed", "volume", "emotion")},
        "pronunciation_dict_id": request.get("pronunciation_dict_id"),
        "dictionary": [dict(item) for item in dictionary_items or ()],
        "output_format": {k: output.get(k) for k in ("container", "encoding", "sample_rate",
                                                     "bit_rate")},
    }
    blob = json.dumps(material, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return f"{KEY_VERSION}:{hashlib.sha256(blob.encode('utf-8')).hexdigest()}"


class TakeIndex:
    """The takes of a script by cache key, kept as blocks and takes come and go, so a
    lookup costs the takes with that key, not every take of a book.

    It holds ids (key -> take id -> block id); the caller resolves them against its
    blocks, and tells the index of every take added or removed.
    """

    def __init__(self) -> None:
        self._by_key: dict[str, dict[str, str]] = {}
        self._key_of: dict[str, str] = {}

    def add(self, block_id: str, take: Take) -> None:
        """Index ``take`` of ``block_id`` (a take without a key is never reused)."""
        if take.cache_key:
            self._by_key.setdefault(take.cache_key, {})[take.id] = block_id
            self._key_of[take.id] = take.cache_key

    def discard(self, take_id: str) -> None:
        """Forget ``take_id`` (no-op when unknown)."""
        key = self._key_of.pop(take_id, None)
        if key is not None:
            takes = self._by_key[key]
            takes.pop(take_id, None)
            if not takes:
                del self._by_key[key]

    def add_block(self, block: Block) -> None:
        for take in block.takes:
            self.add(block.id, take)

    def discard_block(self, block: Block) -> None:
        for take in block.takes:
            self.discard(take.id)

    def clear(self) -> None:
        self._by_key.clear()
        self._key_of.clear()

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def takes(self, key: str) -> list[tuple[str, str]]:
        """``(block id, take id)`` of every take with ``key``, oldest indexed first."""
        return [(block_id, take_id) for take_id, block_id in self._by_key.get(key, {}).items()]


def find_cached(
    blocks: Iterable[Block], key: str, prefer_block: str = ""
) -> tuple[Block, Take] | None:
    """A take with cache key ``key`` among ``blocks``, or ``None``.

    A take of ``prefer_block`` wins over an identical one elsewhere, and a starred or
    selected take over others, so reuse lands on the take the user cares about.
    """
    best: tuple[int, Block, Take] | None = None
    for block in blocks:
        for take in block.takes:
            if take.cache_key != key:
                continue
            rank = (4 if block.id == prefer_block else 0) + (2 if take.starred else 0) + (
                1 if take.id == block.selected_take_id else 0)
            if best is None or rank > best[0]:
                best = (rank, block, take)
    return None if best is None else (best[1], best[2])
