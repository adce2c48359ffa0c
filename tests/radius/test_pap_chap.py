"""PAP and CHAP with radclient (FreeRADIUS) and pyrad against a running worker (RFC 2865 §5.2/§5.3)."""
from __future__ import annotations

import pyrad.packet as pp
from pyrad.client import Timeout

from appliance.ocs.inventory import Product
from appliance.radius import packet as rp
from appliance.telemetry import metrics

from .helpers import pyrad_client, radclient


def counter(name: str) -> int:
    return metrics.default().get(name)


def test_pap_accept_and_reject_with_radclient(radius, rcfg, seed_subscriber):
    seed_subscriber(nai="alice@wlan", password="correct horse")
    before = counter("radius.auth.access_accepts")
    out = radclient(rcfg.radius.auth_port, "auth",
                    'User-Name = "alice@wlan"\nUser-Password = "correct horse"\nMessage-Authenticator = 0x00\n')
    assert "Received Access-Accept" in out, out
    assert "Class = 0x6f63733a" in out and "Session-Timeout" in out
    assert counter("radius.auth.access_accepts") == before + 1
    out = radclient(rcfg.radius.auth_port, "auth",
                    'User-Name = "alice@wlan"\nUser-Password = "wrong"\nMessage-Authenticator = 0x00\n')
    assert "Received Access-Reject" in out and "Authentication failed" in out, out
    out = radclient(rcfg.radius.auth_port, "auth",
                    'User-Name = "nobody@wlan"\nUser-Password = "x"\nMessage-Authenticator = 0x00\n')
    assert "Received Access-Reject" in out, out


def test_pap_without_message_authenticator_is_dropped_by_default(radius, rcfg, seed_subscriber):
    seed_subscriber(nai="alice@wlan", password="pw")
    before = counter("radius.auth.missing_message_authenticator")
    c = pyrad_client(rcfg)
    c.timeout, c.retries = 0.5, 1       # pyrad sends `retries` times
    req = c.CreateAuthPacket(code=pp.AccessRequest, User_Name="alice@wlan", message_authenticator=False)
    req["User-Password"] = req.PwCrypt("pw")
    try:
        c.SendPacket(req)
        answered = True
    except Timeout:
        answered = False
    assert not answered
    assert counter("radius.auth.missing_message_authenticator") == before + 1


def test_chap_with_radclient(radius, rcfg, seed_subscriber):
    seed_subscriber(nai="carol@wlan", password="chap-secret")
    out = radclient(rcfg.radius.auth_port, "auth",
                    'User-Name = "carol@wlan"\nCHAP-Password = "chap-secret"\nMessage-Authenticator = 0x00\n')
    assert "Received Access-Accept" in out, out
    out = radclient(rcfg.radius.auth_port, "auth",
                    'User-Name = "carol@wlan"\nCHAP-Password = "other"\nMessage-Authenticator = 0x00\n')
    assert "Received Access-Reject" in out, out


def test_no_usable_balance_rejected_with_reply_message(radius, rcfg, seed_subscriber, store):
    seed_subscriber(nai="broke@wlan", password="pw", money=0)
    c = pyrad_client(rcfg)
    req = c.CreateAuthPacket(code=pp.AccessRequest, User_Name="broke@wlan")
    req["User-Password"] = req.PwCrypt("pw")
    req.add_message_authenticator()
    reply = c.SendPacket(req)
    assert reply.code == pp.AccessReject and reply["Reply-Message"] == ["No usable balance"]
    # Message-Authenticator first (BlastRADIUS) and valid
    raw = reply.raw_packet
    assert raw[20] == rp.MESSAGE_AUTHENTICATOR
    assert rp.verify_message_authenticator(rp.decode(bytes(raw[:4]) + req.authenticator + bytes(raw[20:])),
                                           b"testing123") is True
    store.transact(lambda l: l.put_product(Product("p1", "data", status="suspended")))
    seed_subscriber(imsi="001010000000002", product="p2", nai="rich@wlan", password="pw")
    store.transact(lambda l: l.put_product(Product("p2", "data", status="suspended")))
    req = c.CreateAuthPacket(code=pp.AccessRequest, User_Name="rich@wlan")
    req["User-Password"] = req.PwCrypt("pw")
    req.add_message_authenticator()
    assert c.SendPacket(req).code == pp.AccessReject


def test_session_timeout_from_seconds_quota(cfg, store, seed_subscriber):
    import dataclasses

    from tests.radius.conftest import RunningServer, radius_cfg
    rc = radius_cfg(cfg, acct_units=("seconds",))
    seed_subscriber(nai="talk@wlan", password="pw", money=25_000)   # voice: 10_000 per 60 s -> 2 blocks
    srv = RunningServer(rc).start()
    try:
        c = pyrad_client(rc)
        req = c.CreateAuthPacket(code=pp.AccessRequest, User_Name="talk@wlan")
        req["User-Password"] = req.PwCrypt("pw")
        req.add_message_authenticator()
        reply = c.SendPacket(req)
        assert reply.code == pp.AccessAccept and reply["Session-Timeout"] == [120]
    finally:
        srv.close()
    assert dataclasses.is_dataclass(rc)


def test_status_server(radius, rcfg):
    c = pyrad_client(rcfg)
    req = c.CreateAuthPacket(code=pp.StatusServer)
    req.add_message_authenticator()
    assert c.SendPacket(req).code == pp.AccessAccept


def test_ipv6_listener(cfg, store, seed_subscriber):
    import socket

    from tests.radius.conftest import RunningServer, radius_cfg
    rc = radius_cfg(cfg, address6="::1")
    seed_subscriber(nai="six@wlan", password="pw")
    try:
        srv = RunningServer(rc).start()
    except OSError:
        import pytest
        pytest.skip("no IPv6 loopback")
    try:
        out = radclient(rc.radius.auth_port, "auth",
                        'User-Name = "six@wlan"\nUser-Password = "pw"\nMessage-Authenticator = 0x00\n', host="[::1]")
        assert "Received Access-Accept" in out, out
    finally:
        srv.close()
    assert socket.has_ipv6


def test_client_added_to_the_store_is_served_after_refresh(radius, rcfg, store, seed_subscriber):
    import hashlib
    import hmac
    import json
    import os
    import socket
    import struct
    import time
    from pathlib import Path
    seed_subscriber(nai="alice@wlan", password="pw")
    store.transact(lambda l: l.put_client({"address": "127.0.0.2", "protocol": "radius", "secret": "s2",
                                           "name": "ap-2"}))

    def pap_from_127_0_0_2() -> int | None:
        auth = os.urandom(16)
        attrs = rp.encode_attributes([(rp.USER_NAME, b"alice@wlan"),
                                      (rp.USER_PASSWORD, rp.encrypt_password(b"pw", b"s2", auth))])
        body = bytes((rp.MESSAGE_AUTHENTICATOR, 18)) + bytes(16) + attrs
        raw = bytearray(struct.pack("!BBH", rp.ACCESS_REQUEST, 1, 20 + len(body)) + auth + body)
        raw[22:38] = hmac.new(b"s2", bytes(raw), hashlib.md5).digest()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.2", 0))
            s.settimeout(0.5)
            s.sendto(bytes(raw), ("127.0.0.1", rcfg.radius.auth_port))
            try:
                return s.recv(4096)[0]
            except TimeoutError:
                return None
    code = None
    for _ in range(20):                       # clients_refresh is 1 s in the tests: bounded wait
        code = pap_from_127_0_0_2()
        if code is not None:
            break
        time.sleep(0.25)
    assert code == rp.ACCESS_ACCEPT
    rows = json.loads((Path(rcfg.run_dir) / "radius" / "clients.json").read_text())
    assert {r["address"]: r["index"] for r in rows}["127.0.0.2/32"] == 3 and "s2" not in json.dumps(rows)


def test_every_pap_answer_has_its_auth_log_record(radius, rcfg, seed_subscriber):
    from appliance.logs import translog
    sid = seed_subscriber(nai="alice@wlan", password="pw")
    c = pyrad_client(rcfg)
    codes = []
    with translog.capture() as got:
        for password in ("pw", "pw", "bad", "pw"):                 # store lookup, then cached answers
            req = c.CreateAuthPacket(code=pp.AccessRequest, User_Name="alice@wlan")
            req["User-Password"] = req.PwCrypt(password)
            req.add_message_authenticator()
            codes.append(c.SendPacket(req).code)
    assert codes == [pp.AccessAccept, pp.AccessAccept, pp.AccessReject, pp.AccessAccept]
    recs = [{k: r.get(k) for k in ("protocol", "app", "type", "method", "username", "subscriber", "result",
                                   "reason")} for r in got.auth]
    accept = {"protocol": "radius", "app": "auth", "type": "Access-Request", "method": "pap",
              "username": "alice@wlan", "subscriber": sid, "result": "Access-Accept", "reason": None}
    assert recs == [accept, accept, {**accept, "result": "Access-Reject", "reason": "bad credentials"}, accept]
    assert all(r["peer"].startswith("127.0.0.1:") and isinstance(r["ts"], int) for r in got.auth)


def test_a_pap_only_subscriber_stored_as_a_salted_hash(radius, rcfg, seed_subscriber, store):
    """PAP compares the hash of what it receives; CHAP cannot (it needs the clear password)."""
    from appliance.ocs.passwords import hash_password, is_hashed, pap_matches
    hashed = hash_password("correct horse")
    assert is_hashed(hashed) and "correct horse" not in hashed and hashed != hash_password("correct horse")
    assert pap_matches(b"correct horse", hashed.encode()) and not pap_matches(b"correct hors", hashed.encode())
    seed_subscriber(nai="dave@wlan", password=hashed)
    stored = store.transact(lambda l: l.find_service("dave@wlan")).credentials.password
    assert stored == hashed
    for _ in range(2):                                          # a cache miss, then the cached path
        out = radclient(rcfg.radius.auth_port, "auth",
                        'User-Name = "dave@wlan"\nUser-Password = "correct horse"\nMessage-Authenticator = 0x00\n')
        assert "Received Access-Accept" in out, out
    out = radclient(rcfg.radius.auth_port, "auth",
                    'User-Name = "dave@wlan"\nUser-Password = "wrong"\nMessage-Authenticator = 0x00\n')
    assert "Received Access-Reject" in out, out
    out = radclient(rcfg.radius.auth_port, "auth",
                    'User-Name = "dave@wlan"\nCHAP-Password = "correct horse"\nMessage-Authenticator = 0x00\n')
    assert "Received Access-Reject" in out, out
