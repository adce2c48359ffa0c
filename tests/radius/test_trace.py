"""``appliance trace`` for RADIUS: a subscriber's Access and Accounting requests and answers,
decoded, with passwords, HMACs and the shared secret never written; nothing done while nobody traces."""
from __future__ import annotations

import json
import threading
import time

from appliance import trace
from appliance.radius.endpoint import RadiusEndpoint

from .conftest import SECRET
from .helpers import radclient

PASSWORD = "Sekr3t-pw-9"


def pap(user: str) -> str:
    return f'User-Name = "{user}"\nUser-Password = "{PASSWORD}"\nMessage-Authenticator = 0x00'


def test_a_traced_subscriber_s_radius_exchanges(radius, rcfg, seed_subscriber):
    seed_subscriber(nai="alice@wlan", password=PASSWORD)
    seed_subscriber(imsi="001010000000002", product="p2", nai="bob@wlan", password=PASSWORD)
    events: list[dict] = []
    follower = threading.Thread(target=trace.follow, args=(rcfg.path(rcfg.run_dir), ["alice@wlan"], 30, 4,
                                                           events.append, 0.05), daemon=True)
    follower.start()
    deadline = time.monotonic() + 10
    while "alice@wlan" not in trace.ACTIVE and time.monotonic() < deadline:
        time.sleep(0.05)                                  # the worker looks once a second
    assert "alice@wlan" in trace.ACTIVE
    auth, acct = rcfg.radius.auth_port, rcfg.radius.acct_port
    assert "Access-Accept" in radclient(auth, "auth", pap("bob@wlan"))
    assert "Access-Accept" in radclient(auth, "auth", pap("alice@wlan"))
    out = radclient(acct, "acct", 'Acct-Status-Type = Start\nUser-Name = "alice@wlan"\nAcct-Session-Id = "tr-1"\n'
                                  "NAS-IP-Address = 127.0.0.1")
    assert "Accounting-Response" in out
    follower.join(20)
    assert [(e["app"], e["event"], e.get("command")) for e in events] == [
        ("auth", "request", "Access-Request"), ("auth", "answer", "Access-Accept"),
        ("acct", "request", "Accounting-Request"), ("acct", "answer", "Accounting-Response")]
    request, answer = dict(events[0]["attributes"]), dict(events[1]["attributes"])
    assert events[0]["identity"] == "alice@wlan" and events[0]["protocol"] == "radius"
    assert request["User-Name"] == "alice@wlan" and request["User-Password"] == "***"
    assert request["Message-Authenticator"] == "***"
    assert answer["Session-Timeout"] == 86_400 and answer["Class"] == "0x" + b"ocs:001010000000001".hex()
    assert dict(events[2]["attributes"])["Acct-Status-Type"] == "Start"
    assert events[1]["balance"]["totals"]["money"] == 10_000_000
    text = json.dumps(events)
    assert PASSWORD not in text and SECRET not in text and "bob@wlan" not in text


def test_nobody_traces_means_no_trace_work(radius, rcfg, seed_subscriber, monkeypatch):
    seed_subscriber(nai="alice@wlan", password=PASSWORD)
    calls: list[object] = []
    monkeypatch.setattr(RadiusEndpoint, "_trace", lambda *a, **k: calls.append(a))
    assert trace.ACTIVE == {}
    for _ in range(2):
        assert "Access-Accept" in radclient(rcfg.radius.auth_port, "auth", pap("alice@wlan"))
    assert calls == []
