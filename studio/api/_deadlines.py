"""How long the client waits for a server that answers but does not progress."""

from __future__ import annotations

from dataclasses import dataclass

from studio.api._constants import (
    CONNECT_FAILURE_MEMORY_S,
    HTTP_MIN_BYTES_PER_S,
    HTTP_PROGRESS_GRACE_S,
    HTTP_REQUEST_DEADLINE_S,
    WS_CONTEXT_BASE_S,
    WS_CONTEXT_S_PER_CHAR,
    WS_INACTIVITY_TIMEOUT_S,
    WS_MIN_REALTIME,
    WS_PROGRESS_GRACE_S,
)


@dataclass(frozen=True, slots=True)
class Deadlines:
    """The client's deadlines, in seconds (defaults in :mod:`studio.api._constants`).

    Attributes:
        ws_inactivity: a WebSocket context with no message for this long (while its
            caller waits for one) raises :class:`APITimeoutError` and is cancelled.
        ws_context_base: with ``ws_context_per_char``, the overall deadline of a
            context: ``base + per_char * characters sent``, from its first send.
        ws_context_per_char: seconds allowed per transcript character.
        http_request: whole-request deadline of a request whose body is read at once.
        connect_failure_memory: how long a failed WebSocket open is remembered and
            repeated to later opens instead of trying again.
        ws_min_realtime: audio a context must have delivered, in seconds of audio per
            second elapsed, once ``ws_progress_grace`` has passed since its first send
            (0: no such check).
        ws_progress_grace: seconds before ``ws_min_realtime`` applies.
        http_min_bytes_per_s: average bytes per second a body read whole must arrive
            at, once ``http_progress_grace`` has passed since its headers (0: none).
        http_progress_grace: seconds before ``http_min_bytes_per_s`` applies.
    """

    ws_inactivity: float = WS_INACTIVITY_TIMEOUT_S
    ws_context_base: float = WS_CONTEXT_BASE_S
    ws_context_per_char: float = WS_CONTEXT_S_PER_CHAR
    http_request: float = HTTP_REQUEST_DEADLINE_S
    connect_failure_memory: float = CONNECT_FAILURE_MEMORY_S
    ws_min_realtime: float = WS_MIN_REALTIME
    ws_progress_grace: float = WS_PROGRESS_GRACE_S
    http_min_bytes_per_s: float = HTTP_MIN_BYTES_PER_S
    http_progress_grace: float = HTTP_PROGRESS_GRACE_S

    def __post_init__(self) -> None:
        if min(self.ws_inactivity, self.ws_context_base, self.http_request) <= 0:
            raise ValueError("deadlines must be > 0 seconds")
        if min(self.ws_context_per_char, self.connect_failure_memory, self.ws_min_realtime,
               self.ws_progress_grace, self.http_min_bytes_per_s,
               self.http_progress_grace) < 0:
            raise ValueError("deadline allowances must be >= 0 seconds")

    def ws_context(self, characters: int) -> float:
        """The overall deadline in seconds of a context sent ``characters`` of text."""
        return self.ws_context_base + self.ws_context_per_char * characters
