"""A scripted WebSocket server on loopback for protocol edge cases the offline
engine cannot be made to produce on demand (late events after cancel,
interleaved contexts, context-less errors, malformed frames, a drop at an exact
message)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Self

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

Handler = Callable[[ServerConnection, "ScriptedServer"], Awaitable[None]]


def chunk(cid: str, pcm: bytes = b"\x00\x01\x02\x03", **extra: Any) -> str:
    return json.dumps(
        {"type": "chunk", "data": base64.b64encode(pcm).decode(), "done": False,
         "status_code": 206, "step_time": 2.0, "context_id": cid, **extra}
    )


def done(cid: str | None) -> str:
    return json.dumps({"type": "done", "done": True, "status_code": 206, "context_id": cid})


class ScriptedServer:
    """Runs ``handler(ws, server)`` for every connection.

    Attributes:
        received: every JSON message any client sent, in order.
        handshakes: the request headers of every handshake.
        reject: handshake statuses to answer with (popped per attempt) before accepting.
        connections: how many connections were accepted.
        message: an event set whenever a message arrives.
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.received: list[dict[str, Any]] = []
        self.handshakes: list[Headers] = []
        self.paths: list[str] = []
        self.reject: list[tuple[int, dict[str, str]]] = []
        self.connections = 0
        self._server: Server | None = None
        self._arrived = asyncio.Condition()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"ws://127.0.0.1:{port}"

    async def __aenter__(self) -> Self:
        self._server = await serve(
            self._handle, "127.0.0.1", 0, process_request=self._process_request, compression=None
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        self.handshakes.append(request.headers)
        self.paths.append(request.path)
        if self.reject:
            status, headers = self.reject.pop(0)
            response = connection.respond(status, json.dumps({"message": f"refused {status}"}))
            for name, value in headers.items():
                response.headers[name] = value
            return response
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        self.connections += 1
        await self.handler(ws, self)

    async def recv(self, ws: ServerConnection) -> dict[str, Any]:
        """The next client message, recorded."""
        message = json.loads(await ws.recv())
        async with self._arrived:
            self.received.append(message)
            self._arrived.notify_all()
        return message

    async def wait_for(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """Wait until some received message satisfies ``predicate``; return it."""
        async with self._arrived:
            while True:
                for message in self.received:
                    if predicate(message):
                        return message
                await self._arrived.wait()
