"""A server on loopback that misbehaves the way a fault-injection run found real
services do: a WebSocket that answers pings but stops sending, never sends ``done``,
trickles tiny chunks or sends only junk; HTTP bodies that trickle a byte at a time,
redirects, HTML pages, malformed JSON and PCM cut mid-sample.

The fault is chosen per test by setting :attr:`MisbehavingServer.ws_mode` and
:attr:`MisbehavingServer.http_mode`; every loop runs until its client goes away.
"""

from __future__ import annotations

import asyncio
import base64
import json

from aiohttp import WSMsgType, web

#: WebSocket faults (``good`` answers properly, for checking the connection survived).
WS_MODES = ("silent", "no_done", "trickle", "junk", "odd", "good")
#: ``POST /tts/bytes`` faults.
HTTP_MODES = ("slow_body", "redirect", "html", "bad_json", "odd", "good")


def _chunk(cid: str, pcm: bytes) -> str:
    return json.dumps({"type": "chunk", "data": base64.b64encode(pcm).decode(), "done": False,
                       "status_code": 206, "step_time": 1.0, "context_id": cid})


def _done(cid: str) -> str:
    return json.dumps({"type": "done", "done": True, "status_code": 206, "context_id": cid})


class MisbehavingServer:
    """aiohttp on 127.0.0.1 (random port) serving ``/tts/websocket`` and ``/tts/bytes``.

    Attributes:
        ws_mode: one of :data:`WS_MODES`, read at each context's request.
        http_mode: one of :data:`HTTP_MODES`, read at each request.
        interval: seconds between trickled chunks, bytes or junk messages.
        connections: WebSocket connections accepted.
        http_requests: HTTP requests answered.
    """

    def __init__(self) -> None:
        self.ws_mode = "good"
        self.http_mode = "good"
        self.interval = 0.02
        self.connections = 0
        self.http_requests = 0
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/tts/websocket", self._websocket)
        app.router.add_post("/tts/bytes", self._bytes)
        app.router.add_get("/voices/{id}", self._voice)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- WebSocket -----------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)  # pings are always answered
        await ws.prepare(request)
        self.connections += 1
        loops: set[asyncio.Task[None]] = set()
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            body = json.loads(message.data)
            if body.get("cancel") or (not body.get("transcript") and body.get("continue")):
                continue
            task = asyncio.create_task(self._context(ws, body["context_id"], self.ws_mode))
            loops.add(task)
            task.add_done_callback(loops.discard)
        for task in list(loops):
            task.cancel()
        return ws

    async def _context(self, ws: web.WebSocketResponse, cid: str, mode: str) -> None:
        try:
            if mode == "good":
                await ws.send_str(_chunk(cid, b"\x00\x01" * 8))
                await ws.send_str(_done(cid))
            elif mode == "odd":  # half a take: 7 bytes of 16-bit PCM
                await ws.send_str(_chunk(cid, b"\x00\x01\x02\x03\x04\x05\x06"))
                await ws.send_str(_done(cid))
            elif mode == "no_done":
                await ws.send_str(_chunk(cid, b"\x00\x01" * 8))
            elif mode in ("trickle", "junk"):
                while not ws.closed:
                    if mode == "trickle":
                        await ws.send_str(_chunk(cid, b"\x00\x01" * 10))  # 20 bytes
                    else:
                        await ws.send_str("<html>Too Many Requests</html>")
                        await ws.send_str(json.dumps([1, 2, 3]))
                    await asyncio.sleep(self.interval)
            # "silent": nothing at all; aiohttp still answers the client's pings.
        except ConnectionResetError:
            pass

    # --- HTTP ----------------------------------------------------------------------

    async def _bytes(self, request: web.Request) -> web.StreamResponse:
        self.http_requests += 1
        mode = self.http_mode
        if mode == "slow_body":
            response = web.StreamResponse(headers={"Content-Type": "audio/wav",
                                                   "Content-Length": "1000"})
            await response.prepare(request)
            for _ in range(1000):
                await response.write(b"\x00")
                await asyncio.sleep(self.interval)
            return response
        if mode == "redirect":
            return web.Response(status=302, headers={"Location": "https://login.example/"},
                                text="<html>Moved</html>", content_type="text/html")
        if mode == "html":
            return web.Response(text="<html><body>Captive portal</body></html>",
                                content_type="text/html")
        if mode == "bad_json":
            return web.Response(text='{"audio": "trunc', content_type="application/json")
        if mode == "odd":
            return web.Response(body=b"\x00\x01\x02", content_type="application/octet-stream")
        return web.Response(body=b"\x00\x01" * 8, content_type="application/octet-stream")

    async def _voice(self, request: web.Request) -> web.Response:
        self.http_requests += 1
        return web.Response(text='{"id": "v", "name": ', content_type="application/json")
