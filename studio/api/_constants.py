"""Every number the client's networking depends on, in one place.

Retry figures follow the v4 Python SDK (``cartesia._constants``: 0.5 s initial
delay, doubling, 0.75-1.0 jitter factor) except that a single wait, Retry-After
included, is capped at :data:`MAX_RETRY_WAIT_S` so a UI never hangs on one call.
"""

from __future__ import annotations

from studio import __version__

DEFAULT_BASE_URL = "https://api.cartesia.ai"
#: Newest value of the seed's ``CartesiaVersionHeader`` enum.
DEFAULT_CARTESIA_VERSION = "2025-11-04"
USER_AGENT = f"cartesia-studio/{__version__}"

# --- timeouts (seconds) -----------------------------------------------------------
DEFAULT_TIMEOUT_S = 30.0
#: A connect that takes longer than this is not going to succeed; fail fast so a
#: retry (or the offline fallback) can start.
MAX_CONNECT_TIMEOUT_S = 10.0

# --- retries ----------------------------------------------------------------------
DEFAULT_MAX_RETRIES = 2
INITIAL_RETRY_DELAY_S = 0.5
MAX_BACKOFF_DELAY_S = 8.0
#: Upper bound on any one wait, a server's Retry-After included. A Retry-After
#: above it is not waited out: the error reaches the caller with ``retry_after``.
MAX_RETRY_WAIT_S = 20.0
#: The backoff delay is multiplied by a factor drawn from [1 - RETRY_JITTER, 1].
RETRY_JITTER = 0.25
#: Statuses retried besides every 5xx (request timeout, rate limit).
RETRYABLE_4XX = frozenset({408, 429})

# --- WebSocket --------------------------------------------------------------------
TTS_WEBSOCKET_PATH = "/tts/websocket"
#: Keepalive pings find a dead peer that never sent a close frame.
WS_PING_INTERVAL_S = 20.0
WS_PING_TIMEOUT_S = 20.0
#: How long close() waits for the server's close frame before dropping the socket.
WS_CLOSE_TIMEOUT_S = 2.0
#: Largest single message accepted; a few seconds of base64 float32 audio fit easily.
WS_MAX_MESSAGE_BYTES = 64 * 1024 * 1024

# --- endpoints --------------------------------------------------------------------
#: Seed, ``GET /voices`` ``limit``: "between 1 and 100".
MAX_PAGE_SIZE = 100

# --- error reporting --------------------------------------------------------------
#: Longest slice of a non-JSON error body quoted in an exception message.
ERROR_TEXT_LIMIT = 500
