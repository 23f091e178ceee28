"""The base of every resource: one API area over the client's shared transport."""

from __future__ import annotations

from studio.api._transport import Transport


class APIResource:
    """One API area of :class:`~studio.api.client.CartesiaClient` (``client.voices``,
    ``client.tts``...), as the official SDK groups its methods.

    A resource keeps no state: it builds requests, sends them through the client's
    :class:`~studio.api._transport.Transport` (auth, retries, deadlines, error mapping)
    and parses the answers into :mod:`studio.api.models` values.
    """

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self._http = transport.http
