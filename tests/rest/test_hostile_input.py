"""Hostile REST input: bodies without a JSON media type or in another charset (415), URLs and
header lines past the parser's limit (JSON 414/431, one log line, no traceback), repeated failed
logins from one address (429 with Retry-After)."""
from __future__ import annotations

import logging
import socket
from urllib.parse import urlsplit

import requests

from appliance.rest.auth import FailedLogins
from tests.rest.conftest import ADMIN, basic


def test_body_without_content_type_or_in_another_charset_is_415(api, server):
    body = b'{"mb": 1}'
    for headers in ({}, {"Content-Type": "application/json; charset=latin-1"},
                    {"Content-Type": "application/json; charset=utf-16"}):
        r = requests.post(f"{server.url}/quota", data=body, headers=headers, auth=ADMIN, timeout=30)
        assert r.status_code == 415, (headers, r.status_code, r.text)
        assert r.headers["Content-Type"].startswith("application/json") and r.json()["code"] == "unsupported_media_type"
    ok = requests.post(f"{server.url}/quota", data=b"{}", auth=ADMIN, timeout=30,
                       headers={"Content-Type": "application/json; charset=UTF-8"})
    assert ok.status_code != 415


def raw(server, request: bytes) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(server.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def test_oversize_url_and_header_are_json_errors_logged_in_one_line(server, caplog):
    caplog.set_level(logging.DEBUG)
    url = "/quota/" + "a" * 9000
    status, headers, body = raw(server, f"GET {url} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert status == 414 and headers["content-type"].startswith("application/json")
    assert b'"code":"uri_too_long"' in body
    status, headers, body = raw(server, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n")
    assert status == 431 and b'"status":431' in body
    status, _h, body = raw(server, b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n")
    assert status == 400 and b'"status":400' in body
    records = [r for r in caplog.records if r.name.startswith(("aiohttp", "appliance.rest"))]
    assert not [r for r in records if r.exc_info or r.levelno >= logging.ERROR], [r.getMessage() for r in records]
    assert sum("414" in r.getMessage() for r in records) == 1


def test_failed_logins_are_rate_limited_per_client(server):
    url = f"{server.url}/openapi.json"
    statuses = [requests.get(url, headers={"Authorization": basic("admin", f"guess{i}")}, timeout=30).status_code
                for i in range(12)]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429], statuses
    r = requests.get(url, headers={"Authorization": basic(*ADMIN)}, timeout=30)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0 and r.json()["code"] == "too_many_requests"


def test_failed_login_table_window_block_and_bound():
    now = [0.0]
    t = FailedLogins(3, 10.0, 30.0, clock=lambda: now[0])
    t.failed("a")
    t.failed("a")
    now[0] = 11.0                      # the window passed: counting starts again
    t.failed("a")
    t.failed("a")
    assert t.wait("a") == 0
    t.failed("a")
    assert t.wait("a") == 30.0 and t.wait("b") == 0
    now[0] = 41.5
    assert t.wait("a") == 0
    t.MAX_CLIENTS = 5
    for i in range(20):
        t.failed(f"c{i}")
    assert len(t._seen) <= 5
