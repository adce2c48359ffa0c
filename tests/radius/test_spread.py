"""One NAS socket spread over the workers per datagram (a reuseport BPF program), an EAP
conversation still reaching the worker that owns its State (RFC 3579 §2.1: State echoed)."""
from __future__ import annotations

import dataclasses
import errno
import os
import socket

import pytest

from appliance.radius import packet as rp
from appliance.radius import server as rs
from appliance.telemetry import metrics

from .conftest import SECRET, RunningServer, radius_cfg


def two_worker_cfg(cfg, spread: str = "auth"):
    rcfg = radius_cfg(cfg, spread=spread)
    return dataclasses.replace(rcfg, processes=dataclasses.replace(rcfg.processes, radius=2))


def pap_from_one_socket(rcfg, user: str, password: str, count: int) -> list[int]:
    codes = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(3)
        sock.connect(("127.0.0.1", rcfg.radius.auth_port))
        for ident in range(count):                # bounded: one answer per request, 3 s each
            auth = os.urandom(16)
            attrs = [(rp.USER_NAME, user.encode()),
                     (rp.USER_PASSWORD, rp.encrypt_password(password.encode(), SECRET.encode(), auth))]
            body = bytes((rp.MESSAGE_AUTHENTICATOR, 18)) + bytes(16) + rp.encode_attributes(attrs)
            raw = bytearray(bytes((rp.ACCESS_REQUEST, ident)) + (20 + len(body)).to_bytes(2, "big") + auth + body)
            import hashlib
            import hmac
            raw[22:38] = hmac.new(SECRET.encode(), bytes(raw), hashlib.md5).digest()
            sock.send(bytes(raw))
            answer = sock.recv(4096)
            assert answer[1] == ident
            codes.append(answer[0])
    return codes


def test_the_program_is_three_classic_bpf_instructions():
    code = rs.spread_program(3)
    assert len(code) == 24
    assert code[8:16] == bytes.fromhex("9400000003000000")       # A %= 3


def test_a_kernel_without_the_option_keeps_the_hash():
    class Refusing:
        def setsockopt(self, *args):
            raise OSError(errno.ENOPROTOOPT, "Protocol not available")
    assert rs.spread_datagrams(Refusing(), 2) is False


def test_two_workers_answer_requests_from_one_client_socket(cfg, store, seed_subscriber):
    seed_subscriber(nai="alice@wlan", password="pw")
    rcfg = two_worker_cfg(cfg)
    workers = [RunningServer(rcfg, 0).start(), RunningServer(rcfg, 1).start()]
    try:
        if not all(w.server.spread for w in workers):
            pytest.skip("this kernel has no SO_ATTACH_REUSEPORT_CBPF")
        codes = pap_from_one_socket(rcfg, "alice@wlan", "pw", 40)
        assert codes == [rp.ACCESS_ACCEPT] * 40
        served = [len(w.server.dups) for w in workers]       # one entry per request a worker answered
        assert sum(served) == 40 and min(served) > 0, served
    finally:
        for w in workers:
            w.close()


def test_without_spread_one_client_socket_stays_on_one_worker(cfg, store, seed_subscriber):
    seed_subscriber(nai="alice@wlan", password="pw")
    rcfg = two_worker_cfg(cfg, spread="none")
    workers = [RunningServer(rcfg, 0).start(), RunningServer(rcfg, 1).start()]
    try:
        assert pap_from_one_socket(rcfg, "alice@wlan", "pw", 20) == [rp.ACCESS_ACCEPT] * 20
        assert sorted(len(w.server.dups) for w in workers) == [0, 20]
    finally:
        for w in workers:
            w.close()


def test_a_refused_option_leaves_the_workers_serving(cfg, store, seed_subscriber, monkeypatch):
    seed_subscriber(nai="alice@wlan", password="pw")
    monkeypatch.setattr(rs, "SO_ATTACH_REUSEPORT_CBPF", 0x7FFF)    # an option no kernel knows
    rcfg = two_worker_cfg(cfg)
    worker = RunningServer(rcfg, 0).start()
    try:
        assert worker.server.spread is False
        assert pap_from_one_socket(rcfg, "alice@wlan", "pw", 3) == [rp.ACCESS_ACCEPT] * 3
    finally:
        worker.close()


def test_an_eap_conversation_over_one_spread_socket_completes(cfg, store, seed_subscriber, tmp_path):
    from tests.eap.test_eapol import assert_keys_match, eapol
    seed_subscriber(nai="alice@wlan", password="s3cret-pw")
    rcfg = two_worker_cfg(cfg)
    workers = [RunningServer(rcfg, 0).start(), RunningServer(rcfg, 1).start()]
    try:
        if not all(w.server.spread for w in workers):
            pytest.skip("this kernel has no SO_ATTACH_REUSEPORT_CBPF")
        before = metrics.default().get("radius.auth.forwarded_in")
        rc, out = eapol(rcfg, tmp_path, "TTLS", "s3cret-pw", "auth=MSCHAPV2")
        assert rc == 0, out[-3000:]
        assert_keys_match(out)
        # ~5 rounds, each on a random worker: at least one reached a non-owner and was forwarded
        # (all on the owner: probability 2^-4; a second conversation makes it 2^-8)
        if metrics.default().get("radius.auth.forwarded_in") == before:
            rc, out = eapol(rcfg, tmp_path, "TTLS", "s3cret-pw", "auth=MSCHAPV2")
            assert rc == 0, out[-3000:]
        assert metrics.default().get("radius.auth.forwarded_in") > before
    finally:
        for w in workers:
            w.close()
