"""Reading JSON from requests and WebSocket messages, within limits.

A JSON body or message is refused before it is parsed when it is larger than
:data:`MAX_JSON_BYTES` (413) or nested deeper than :data:`MAX_JSON_DEPTH` (400):
Python's parser recurses once per level, so ten thousand nested lists would
otherwise end in a ``RecursionError`` and a 500. Cartesia's own bodies nest
four levels at most (a pronunciation dictionary's items), so the limits leave
ample room for every real request.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from studio.offline.errors import ApiError, bad_request

if TYPE_CHECKING:
    from aiohttp import web

#: Largest JSON request body or WebSocket message, in bytes (transcripts,
#: dictionaries); audio travels as multipart, which has its own limit.
MAX_JSON_BYTES = 4 * 1024 * 1024
#: Deepest nesting of arrays and objects accepted in a JSON document.
MAX_JSON_DEPTH = 64

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``text`` nests arrays/objects deeper than ``limit`` levels.

    Brackets inside strings are not counted; invalid JSON is left for the
    parser to reject.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def parse_json(data: str | bytes, what: str = "request body") -> Any:
    """``data`` parsed as JSON, once it is known to be within the limits.

    Raises:
        ApiError: 413 over :data:`MAX_JSON_BYTES`; 400 when not UTF-8, nested
            deeper than :data:`MAX_JSON_DEPTH`, or not JSON.
    """
    if len(data) > MAX_JSON_BYTES:
        raise ApiError(413, f"{what} is over {MAX_JSON_BYTES // 2**20} MB")
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise bad_request(f"{what} must be UTF-8 JSON") from None
    if too_deep(text):
        raise bad_request(f"{what} is nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise bad_request(f"{what} must be JSON") from None


async def read_json(request: web.Request) -> Any:
    """The request's body parsed as JSON, read no further than the limit.

    Raises:
        ApiError: as :func:`parse_json`; the 413 comes before reading when the
            declared ``Content-Length`` is already over the limit.
    """
    if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
        raise ApiError(413, f"request body is over {MAX_JSON_BYTES // 2**20} MB")
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.content.iter_any():
        total += len(chunk)
        if total > MAX_JSON_BYTES:
            raise ApiError(413, f"request body is over {MAX_JSON_BYTES // 2**20} MB")
        chunks.append(chunk)
    return parse_json(b"".join(chunks))


async def json_object(request: web.Request) -> dict[str, Any]:
    """The request's JSON object body.

    Raises:
        ApiError: as :func:`read_json`, or 400 if the body is not an object.
    """
    body = await read_json(request)
    if not isinstance(body, dict):
        raise bad_request("request body must be a JSON object")
    return body
