"""RADIUS latency histograms: one observation per answered Access-Request / Accounting-Request,
exported by /metrics as ``appliance_latency_seconds{interface="radius", command=...}``."""
from __future__ import annotations

import hashlib
import hmac
import os
import socket
import struct

import pytest
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import CollectorRegistry

from appliance.radius import packet as rp
from appliance.rest.prometheus import families
from appliance.telemetry import metrics

from .conftest import SECRET
from .test_endpoint import pap


def histogram_counts() -> dict[str, float]:
    """The _count of each radius histogram, as a Prometheus scrape would read it."""
    class Snapshot:
        def collect(self):
            yield from families(metrics.default().snapshot())
    registry = CollectorRegistry()
    registry.register(Snapshot())                 # type: ignore[arg-type]
    counts: dict[str, float] = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            if sample.name == "appliance_latency_seconds_count" and sample.labels["interface"] == "radius":
                counts[sample.labels["command"]] = sample.value
    return counts


@pytest.fixture
def fresh_metrics():
    """This process's counters and histograms as a new worker has them: the suite runs many front
    ends in one process, and a process registers at most ``metrics.LATENCY_MAX`` histograms."""
    saved, names = metrics._default, dict(metrics._latencies)
    metrics._default = metrics.Counters()
    metrics._latencies.clear()
    yield
    metrics._default = saved
    metrics._latencies.clear()
    metrics._latencies.update(names)


def exchange(sock: socket.socket, port: int, raw: bytes) -> bytes:
    sock.sendto(raw, ("127.0.0.1", port))
    return sock.recv(4096)


def test_histogram_counts_move_by_exactly_the_answered_requests(fresh_metrics, radius, rcfg, seed_subscriber):
    seed_subscriber(nai="alice@wlan", password="pw")
    before = histogram_counts()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        auth_port, acct_port = rcfg.radius.auth_port, rcfg.radius.acct_port
        answers = [exchange(sock, auth_port, pap(i, b"alice@wlan", b"pw" if i != 2 else b"bad"))
                   for i in range(5)]                     # a read, three from the cache, one refused
        assert [a[0] for a in answers] == [2, 2, 3, 2, 2]
        request = pap(7, b"alice@wlan", b"pw")
        assert exchange(sock, auth_port, request) == exchange(sock, auth_port, request)   # a duplicate
        status = bytearray(struct.pack("!BBH", rp.STATUS_SERVER, 8, 38) + os.urandom(16)
                           + bytes((rp.MESSAGE_AUTHENTICATOR, 18)) + bytes(16))
        status[22:38] = hmac.new(SECRET.encode(), bytes(status), hashlib.md5).digest()
        assert exchange(sock, auth_port, bytes(status))[0] == rp.ACCESS_ACCEPT       # RFC 5997: not timed
        for ident, status_type in enumerate((rp.ACCT_START, rp.ACCT_INTERIM, rp.ACCT_STOP)):
            attrs = [(rp.ACCT_STATUS_TYPE, status_type.to_bytes(4, "big")), (rp.USER_NAME, b"alice@wlan"),
                     (rp.ACCT_SESSION_ID, b"lat-1"), (rp.NAS_IP_ADDRESS, b"\x7f\x00\x00\x01")]
            raw = rp.encode_request(rp.ACCOUNTING_REQUEST, ident, attrs, SECRET.encode(),
                                    with_message_authenticator=False)
            assert exchange(sock, acct_port, raw)[0] == rp.ACCOUNTING_RESPONSE
    after = histogram_counts()
    assert after["access_request"] - before.get("access_request", 0) == 6      # 5 + 1, the duplicate not again
    assert after["accounting_request"] - before.get("accounting_request", 0) == 3
