"""Qt-free offline engine: a Cartesia-compatible HTTP + WebSocket server on
loopback, speaking with espeak-ng.

Public API: :class:`OfflineEngine` (background thread), :func:`serve` (on the
caller's loop) and :class:`EngineStats` (request counters).
"""

from studio.offline.engine import OfflineEngine, serve
from studio.offline.instrumentation import EngineStats

__all__ = ["EngineStats", "OfflineEngine", "serve"]
