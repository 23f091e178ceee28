"""State shared by the offline engine's request handlers (one per running engine)."""

from __future__ import annotations

import asyncio
import pathlib
from concurrent.futures import Executor
from dataclasses import dataclass, field

from aiohttp import web

from studio.offline.guard import Access
from studio.offline.instrumentation import EngineStats, FaultPlan
from studio.offline.voice_store import VoiceStore
from studio.offline.voices import VoiceCatalog
from studio.offline.websocket import SocketSession


@dataclass
class ServerState:
    """What the handlers share; one per running engine."""

    api_key: str
    data_dir: pathlib.Path
    executor: Executor | None = None
    catalog: VoiceCatalog = field(default_factory=VoiceCatalog)
    stats: EngineStats = field(default_factory=EngineStats)
    faults: FaultPlan = field(default_factory=FaultPlan)
    sessions: set[SocketSession] = field(default_factory=set)
    pending_drop: int | None = None  # applied to the next WebSocket opened
    previews: dict[str, bytes] = field(default_factory=dict)
    preview_lock: asyncio.Lock | None = None
    store: VoiceStore | None = None  # owned voices on disk; None keeps them in memory only
    store_lock: asyncio.Lock | None = None  # serialises changes to owned voices, lookup to save
    access: Access = field(default_factory=Access)  # accepted Host and Origin headers


STATE: web.AppKey[ServerState] = web.AppKey("state", ServerState)
