"""``client.tts``: text to speech, whole (``bytes``), streamed over HTTP (``sse``) or
over the shared WebSocket (``websocket``) (SDK ``client.tts.bytes/sse/websocket``;
seed ``tts_bytes``, ``tts_sse``, ``tts-websocket.txt``).

Where this deviates from the SDK reference, and why:

- ``bytes`` and ``sse`` take one :class:`~studio.api.models.TTSRequest` instead of
  the SDK's keyword fields (``model_id``, ``transcript``, ``voice``,
  ``output_format``...): a block's request is built once where it starts (with its
  cache key and dictionary) and carried whole, so it is the same value that names the
  take. ``bytes`` returns the whole body rather than an iterator of chunks.
- ``sse`` adds ``raise_on_error`` (an error event raised, or yielded as an
  :class:`~studio.api.models.ErrorEvent`), and keeps the SDK's ``add_timestamps``,
  ``add_phoneme_timestamps`` and ``context_id``.
- ``websocket`` returns the client's one shared, connected
  :class:`~studio.api.websocket.TTSWebSocket` (reopened after a drop), not a new
  connection per call: the studio multiplexes every block's context over it.
"""

from __future__ import annotations

import builtins

from studio.api._checks import check_audio
from studio.api.models import TTSRequest
from studio.api.resources._base import APIResource
from studio.api.sse import SSEStream
from studio.api.websocket import TTSWebSocket


class TTSResource(APIResource):
    """Text to speech: ``POST /tts/bytes``, ``POST /tts/sse`` and ``/tts/websocket``.

    Errors as :class:`~studio.api.client.CartesiaClient` lists them.
    """

    async def bytes(self, request: TTSRequest) -> builtins.bytes:
        """``POST /tts/bytes`` (seed ``tts_bytes``): the whole file in
        ``request.output_format`` (a WAV or MP3 container, or raw PCM).

        Raises:
            ResponseFormatError: the body is not audio (not an ``audio/*`` content
                type, or ``application/octet-stream`` for raw), or raw PCM that is not
                a whole number of frames.
        """
        response = await self._http.request("POST", "/tts/bytes", json=request.to_json())
        check_audio(response.status_code, response.headers.get("content-type", ""),
                    response.content, request.output_format, "POST /tts/bytes")
        return response.content

    def sse(
        self,
        request: TTSRequest,
        *,
        add_timestamps: bool = False,
        add_phoneme_timestamps: bool = False,
        context_id: str | None = None,
        raise_on_error: bool = True,
    ) -> SSEStream:
        """``POST /tts/sse`` (seed ``tts_sse``) as a stream of typed events.

        Returns an :class:`SSEStream`: ``async with client.tts.sse(req) as s:
        async for event in s: ...`` (plain ``async for`` works too). The request
        is sent when the stream is entered or first iterated; it is retried until
        its body begins, never after.

        Raises:
            ValueError: the output container is not ``raw`` (seed ``SSEOutputFormat``).
        """
        if request.output_format.container != "raw":
            raise ValueError(
                f"SSE only streams container 'raw', not {request.output_format.container!r}"
            )
        body = request.to_json()
        body["add_timestamps"] = add_timestamps
        body["add_phoneme_timestamps"] = add_phoneme_timestamps
        if context_id is not None:
            body["context_id"] = context_id
        return SSEStream(
            lambda: self._http.stream("POST", "/tts/sse", json=body),
            raise_on_error=raise_on_error,
        )

    async def websocket(self) -> TTSWebSocket:
        """The client's shared TTS WebSocket, connected (opened on first use, reopened
        after a drop; a new one after it was closed). The client closes it.

        Raises:
            AuthenticationError etc.: the handshake was refused.
            ConnectionLostError, APITimeoutError: it could not be opened.
        """
        return await self._transport.tts_websocket()
