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

# --- deadlines (seconds) -----------------------------------------------------------
# A server that keeps a connection open but stops making progress must not hang a
# render (Cartesia's WebSocket is known to omit ``done`` under rate limiting). Every
# deadline below ends in an APITimeoutError; :class:`studio.api.Deadlines` carries
# them, and tests pass small ones.
#: A WebSocket context that receives no message for this long while its caller
#: waits is timed out: the context is cancelled on the server, the connection (whose
#: keepalive pings may well be answered) is kept for the other contexts.
WS_INACTIVITY_TIMEOUT_S = 30.0
#: Overall deadline of a WebSocket context, so a trickle of tiny chunks that never
#: finishes ends too: this base plus :data:`WS_CONTEXT_S_PER_CHAR` per character
#: of transcript sent, counted from the first send.
WS_CONTEXT_BASE_S = 60.0
#: Seconds allowed per transcript character. Speech runs at about 15 characters
#: per second, so 0.5 s/char lets the server be 7x slower than real time.
WS_CONTEXT_S_PER_CHAR = 0.5
#: A context must deliver audio at no less than this fraction of real time once
#: :data:`WS_PROGRESS_GRACE_S` have passed since its first send: a trickle of a few
#: bytes every few seconds (never silent long enough for the inactivity timeout) ends
#: within about a minute, where the overall deadline of a long block is many minutes.
#: Cartesia and the offline engine both generate faster than real time; 0 turns the
#: check off (a caller that sends its text slowly, as an agent streaming an LLM does).
WS_MIN_REALTIME = 0.1
WS_PROGRESS_GRACE_S = 30.0
#: Whole-request deadline of an HTTP request whose body is read at once (status line
#: to last byte): a body trickling one byte every few seconds ends here. The read
#: timeout alone cannot catch it, as each byte restarts it.
HTTP_REQUEST_DEADLINE_S = 300.0
#: A body read whole must bring this many bytes for every second past
#: :data:`HTTP_PROGRESS_GRACE_S` after its headers (a tenth
#: of real time of 8 kHz mu-law, the leanest audio the API sends): a trickle ends
#: within about a minute instead of at the request deadline. 0 turns it off.
HTTP_MIN_BYTES_PER_S = 800.0
HTTP_PROGRESS_GRACE_S = 30.0
#: After the TTS WebSocket could not be opened (its retries spent), further opens
#: within this window fail at once with the same error, so a dead endpoint costs
#: one connection failure, not one per queued block.
CONNECT_FAILURE_MEMORY_S = 10.0

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
