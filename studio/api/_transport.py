"""What every resource of the client shares: the HTTP core and the one TTS WebSocket.

Resources (:mod:`studio.api.resources`) hold no connections of their own; they send
through a :class:`Transport`, which the client builds once and closes once.
"""

from __future__ import annotations

from studio.api._deadlines import Deadlines
from studio.api._http import HttpCore
from studio.api._ws_connect import WebSocketConnector
from studio.api.websocket import TTSWebSocket


class Transport:
    """The client's connections, shared by all its resources.

    Attributes:
        http: requests with auth headers, retries and the mapping of failures onto
            :mod:`studio.api.errors` (:class:`~studio.api._http.HttpCore`).
        connector: opens TTS WebSocket connections, retrying the handshake
            (:class:`~studio.api._ws_connect.WebSocketConnector`).
        deadlines: how long the WebSocket's contexts wait for a stalled server.
    """

    def __init__(self, http: HttpCore, connector: WebSocketConnector,
                 deadlines: Deadlines | None = None) -> None:
        self.http = http
        self.connector = connector
        self.deadlines = deadlines or Deadlines()
        self._ws: TTSWebSocket | None = None

    async def tts_websocket(self) -> TTSWebSocket:
        """The shared TTS WebSocket, connected (opened on first use, reopened after a
        drop; a new one after it was closed).

        Raises:
            AuthenticationError etc.: the handshake was refused.
            ConnectionLostError, APITimeoutError: it could not be opened.
        """
        if self._ws is None or self._ws.closed:
            self._ws = TTSWebSocket(self.connector, self.deadlines)
        await self._ws.connect()
        return self._ws

    async def aclose(self) -> None:
        """Close the WebSocket (open contexts raise ConnectionLostError) and the HTTP
        connection pool."""
        ws, self._ws = self._ws, None
        try:
            if ws is not None:
                await ws.close()
        finally:
            await self.http.aclose()
