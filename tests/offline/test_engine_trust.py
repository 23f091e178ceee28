"""What a web page, a careless client or a hostile one can make the engine do:
Host/Origin refusal (DNS rebinding, cross-site requests), JSON and body limits,
malformed headers, and the one-line log of a 5xx (:mod:`studio.offline.guard`,
:mod:`studio.offline.bodies`)."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from offline_helpers import API_VERSION, auth_headers, tts_body
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from studio.offline import OfflineEngine
from studio.offline.bodies import MAX_JSON_DEPTH, too_deep
from studio.offline.server import create_app
from studio.offline.state import ServerState

PAGE = "https://evil.example"
ALLOWED_PAGE = "http://localhost:3000"
DEEP = "[" * 10_000 + "]" * 10_000


def _raw(engine: OfflineEngine, head: bytes) -> bytes:
    """Send ``head`` (a request's headers, no body) and read the answer to its end."""
    with socket.create_connection(("127.0.0.1", engine.port), timeout=30) as sock:
        sock.sendall(head)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def _head(path: str, host: str, *lines: bytes, method: bytes = b"GET") -> bytes:
    return b"\r\n".join([method + b" " + path.encode() + b" HTTP/1.1",
                         b"Host: " + host.encode(), *lines, b"Connection: close", b"", b""])


@pytest.fixture(scope="module")
def open_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OfflineEngine]:
    """An engine started as ``serve-local --allow-remote --allow-origin ...`` would be."""
    engine = OfflineEngine(data_dir=tmp_path_factory.mktemp("open-engine"), allow_remote=True,
                           allowed_origins=[ALLOWED_PAGE])
    engine.start()
    yield engine
    engine.stop()


# --- Host and Origin -------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [("GET", "/"), ("GET", "/voices"),
                                              ("POST", "/tts/bytes")])
def test_a_web_pages_request_is_refused(engine: OfflineEngine, method: str, path: str) -> None:
    r = httpx.request(method, engine.base_url + path, json=tts_body("Hi."), timeout=30,
                      headers={**auth_headers(engine), "Origin": PAGE})
    assert r.status_code == 403
    assert r.json()["error_code"] == "origin_not_allowed"


def test_a_cross_site_request_without_origin_is_refused(engine: OfflineEngine) -> None:
    r = httpx.get(engine.base_url + "/voices", timeout=30,
                  headers={**auth_headers(engine), "Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403


def test_a_rebound_host_name_is_refused(engine: OfflineEngine) -> None:
    r = httpx.get(engine.base_url + "/voices", timeout=30,
                  headers={**auth_headers(engine), "Host": "evil.example"})
    assert r.status_code == 403
    assert r.json()["error_code"] == "host_not_allowed"


@pytest.mark.parametrize("host", ["localhost:{port}", "127.0.0.1:{port}", "[::1]:{port}",
                                  "LocalHost", "127.0.0.1", "[::1]"])
def test_loopback_hosts_are_served(engine: OfflineEngine, host: str) -> None:
    r = httpx.get(engine.base_url + "/voices", timeout=30,
                  headers={**auth_headers(engine), "Host": host.format(port=engine.port)})
    assert r.status_code == 200


@pytest.mark.parametrize("host", ["evil.example:{port}", "127.0.0.1.evil.example",
                                  "[::1", "127.0.0.1:x", "192.0.2.7:{port}"])
def test_other_hosts_are_refused(engine: OfflineEngine, host: str) -> None:
    r = httpx.get(engine.base_url + "/", timeout=30,
                  headers={"Host": host.format(port=engine.port)})
    assert r.status_code == 403


def test_the_websocket_upgrade_from_a_web_page_is_refused(engine: OfflineEngine) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{engine.websocket_base_url}/tts/websocket", open_timeout=30,
                additional_headers={**auth_headers(engine), "Origin": PAGE})
    assert refused.value.response.status_code == 403


def test_the_websocket_upgrade_to_a_rebound_host_is_refused(engine: OfflineEngine) -> None:
    answer = _raw(engine, _head(
        "/tts/websocket", "evil.example", b"Upgrade: websocket", b"Connection: Upgrade",
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", b"Sec-WebSocket-Version: 13",
        b"Authorization: Bearer " + engine.api_key.encode(),
        b"Cartesia-Version: " + API_VERSION.encode()))
    assert answer.startswith(b"HTTP/1.1 403")


def test_an_allowed_origin_is_served_with_cors_headers(open_engine: OfflineEngine) -> None:
    r = httpx.get(open_engine.base_url + "/voices", timeout=30,
                  headers={**auth_headers(open_engine), "Origin": ALLOWED_PAGE})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == ALLOWED_PAGE
    preflight = httpx.options(open_engine.base_url + "/tts/bytes", timeout=30, headers={
        "Origin": ALLOWED_PAGE, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, cartesia-version, content-type"})
    assert preflight.status_code == 204
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"]
    other = httpx.get(open_engine.base_url + "/voices", timeout=30,
                      headers={**auth_headers(open_engine), "Origin": PAGE})
    assert other.status_code == 403


def test_an_allowed_origin_may_open_the_websocket(open_engine: OfflineEngine) -> None:
    with connect(f"{open_engine.websocket_base_url}/tts/websocket", open_timeout=30,
                 additional_headers={**auth_headers(open_engine), "Origin": ALLOWED_PAGE}):
        pass


def test_allow_remote_accepts_addresses_but_not_names(open_engine: OfflineEngine) -> None:
    def status(host: str) -> int:
        return httpx.get(open_engine.base_url + "/", timeout=30,
                         headers={**auth_headers(open_engine), "Host": host}).status_code

    assert status(f"192.0.2.7:{open_engine.port}") == 200  # an address cannot be rebound
    assert status("evil.example") == 403


# --- bodies and headers ----------------------------------------------------------------


def test_deeply_nested_json_is_a_400_with_a_message(http: httpx.Client) -> None:
    for path in ("/tts/bytes", "/pronunciation-dicts/", "/voices/localize"):
        r = http.post(path, content=DEEP, headers={"Content-Type": "application/json"})
        assert r.status_code == 400, path
        assert f"deeper than {MAX_JSON_DEPTH} levels" in r.json()["message"]


def test_deeply_nested_json_on_the_websocket_is_an_error_event(engine: OfflineEngine) -> None:
    with connect(f"{engine.websocket_base_url}/tts/websocket", open_timeout=30,
                 additional_headers=auth_headers(engine)) as ws:
        ws.send(DEEP)
        event = json.loads(ws.recv(timeout=30))
    assert event["type"] == "error" and event["status_code"] == 400
    assert "deeper than" in event["message"]


def test_depth_ignores_brackets_inside_strings() -> None:
    assert not too_deep(json.dumps({"transcript": "[" * 500}))
    assert too_deep("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1))
    assert not too_deep("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)


def test_a_non_utf8_bearer_key_is_a_401(engine: OfflineEngine) -> None:
    answer = _raw(engine, _head("/voices", "127.0.0.1", b"Authorization: Bearer \xff\xfe\x80",
                                b"Cartesia-Version: " + API_VERSION.encode()))
    assert answer.startswith(b"HTTP/1.1 401")
    assert b"not UTF-8" in answer


def test_a_non_utf8_version_header_is_a_400(engine: OfflineEngine) -> None:
    answer = _raw(engine, _head("/", "127.0.0.1", b"Cartesia-Version: 2025-\xff4-16"))
    assert answer.startswith(b"HTTP/1.1 400")


def test_a_declared_gigabyte_is_refused_before_it_is_read(engine: OfflineEngine) -> None:
    # Only the headers are sent: an answer at all shows the body was not waited for.
    answer = _raw(engine, _head(
        "/stt", "127.0.0.1", b"Authorization: Bearer " + engine.api_key.encode(),
        b"Cartesia-Version: " + API_VERSION.encode(), b"Content-Length: 1073741824",
        b"Content-Type: multipart/form-data; boundary=x", method=b"POST"))
    assert answer.startswith(b"HTTP/1.1 413")
    assert b"Connection: close" in answer


def test_a_json_body_over_its_limit_is_refused_before_it_is_read(engine: OfflineEngine) -> None:
    answer = _raw(engine, _head(
        "/tts/bytes", "127.0.0.1", b"Authorization: Bearer " + engine.api_key.encode(),
        b"Cartesia-Version: " + API_VERSION.encode(), b"Content-Length: 5242880",
        b"Content-Type: application/json", method=b"POST"))
    assert answer.startswith(b"HTTP/1.1 413")
    assert b"over 4 MB" in answer


def test_client_mistakes_are_not_logged_as_errors(
    http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        assert http.post("/tts/bytes", content=DEEP).status_code == 400
        assert http.get("/voices/nope").status_code == 404
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert all(r.exc_info is None for r in caplog.records)


# --- 5xx -------------------------------------------------------------------------------


async def test_an_unexpected_failure_is_one_log_line_with_the_request_id(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("the disk fell off")

    app = create_app(ServerState(api_key="k", data_dir=tmp_path))
    app.router.add_get("/broken", broken)
    with caplog.at_level(logging.INFO):
        async with TestClient(TestServer(app)) as client:
            r = await client.get("/broken", headers={"Authorization": "Bearer k",
                                                     "Cartesia-Version": API_VERSION})
            body = await r.json()
    assert r.status == 500
    request_id = r.headers["X-Request-Id"]
    assert body["request_id"] == request_id and request_id in body["message"]
    errors = [rec for rec in caplog.records if rec.levelno >= logging.WARNING]
    assert len(errors) == 1
    assert request_id in errors[0].getMessage() and "the disk fell off" in errors[0].getMessage()
    assert errors[0].exc_info is None


def test_a_5xx_answer_is_logged_once_with_its_request_id(
    private_engine: OfflineEngine, caplog: pytest.LogCaptureFixture
) -> None:
    private_engine.inject_faults("/voices", [503])
    with caplog.at_level(logging.INFO):
        r = httpx.get(private_engine.base_url + "/voices", headers=auth_headers(private_engine),
                      timeout=30)
    assert r.status_code == 503
    request_id = r.headers["X-Request-Id"]
    assert r.json()["request_id"] == request_id
    errors = [rec for rec in caplog.records if rec.levelno >= logging.WARNING]
    assert len(errors) == 1 and request_id in errors[0].getMessage()


@pytest.mark.parametrize("line", [b"Bad\x01Name: x", b"X-Long: " + b"a" * 20_000])
def test_malformed_http_is_a_400_without_a_traceback(
    engine: OfflineEngine, caplog: pytest.LogCaptureFixture, line: bytes
) -> None:
    with caplog.at_level(logging.DEBUG):
        answer = _raw(engine, _head("/", "127.0.0.1", line))
    assert answer.startswith((b"HTTP/1.0 400", b"HTTP/1.1 400"))
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert all(r.exc_info is None for r in caplog.records)
