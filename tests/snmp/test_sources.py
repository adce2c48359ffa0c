"""The agent's readers, without sockets: counter files as metrics.read_all sums them, peer totals."""
from __future__ import annotations

import os
import struct

from appliance.snmp.sources import CounterFiles, PeerTracker, inet_address, record_counters, split_address
from appliance.telemetry import metrics

DEAD_PID = 2 ** 22 + 12345          # above the default pid_max: never a live process


def test_counter_files_sum_like_read_all_and_follow_new_names(tmp_path):
    folder = tmp_path / "counters"
    a = metrics.Counters(folder / f"radius0-{os.getpid()}.cnt")
    b = metrics.Counters(folder / f"radius1-{DEAD_PID}.cnt")
    struct.pack_into("<I", b._buf, 12, DEAD_PID)              # b's process has died
    a.inc("radius.auth.access_requests", 3)
    b.inc("radius.auth.access_requests", 4)
    a.set("radius.auth.eap_conversations.gauge", 5)
    b.set("radius.auth.eap_conversations.gauge", 7)           # a dead process's gauge is not summed
    files = CounterFiles(folder)
    live = files.read(files.listing(), {})
    assert live.as_dict() == metrics.read_all(tmp_path) == {"radius.auth.access_requests": 7,
                                                            "radius.auth.eap_conversations.gauge": 5}
    version = files.version
    a.inc("radius.acct.requests", 2)                          # a new name, and a moved value
    a.inc("radius.auth.access_requests")
    live = files.read(files.listing(), {})
    assert files.version > version
    assert live.get("radius.acct.requests") == 2 and live.get("radius.auth.access_requests") == 8
    assert live.get("no.such.counter") == 0
    assert live.as_dict() == metrics.read_all(tmp_path)
    files.close()


def test_peer_totals_stay_monotonic_when_connections_go_away(tmp_path):
    tracker = PeerTracker(tmp_path, [("hss.test", "10.0.0.9", 3868)])
    rec = {"host": "gw.test", "realm": "gw", "address": "127.0.0.1:40000", "state": "open", "initiator": False,
           "requests_in": 5, "answers_out": 5, "opened_at": 100}
    peers = tracker.update([{"pid": 1, "_alive": True, "peers": [rec]}], 200.0)
    assert peers["hss.test"].index == 1 and peers["gw.test"].index == 2
    assert peers["gw.test"].state == "open" and peers["gw.test"].counters["requests_in"] == 5
    # the worker died: the row closes, its counts stay; a new connection on another worker adds up
    rec2 = dict(rec, address="127.0.0.1:40001", requests_in=2, answers_out=2, opened_at=300)
    peers = tracker.update([{"pid": 2, "_alive": True, "peers": [rec2]}], 301.0)
    assert peers["gw.test"].counters["requests_in"] == 7 and peers["gw.test"].port == 40001
    peers = tracker.update([], 400.0)
    assert peers["gw.test"].state == "closed" and peers["gw.test"].counters["requests_in"] == 7
    # indexes survive an agent restart
    assert PeerTracker(tmp_path, []).index == {"hss.test": 1, "gw.test": 2}


def test_per_command_counts_are_flattened_and_stay_monotonic(tmp_path):
    tracker = PeerTracker(tmp_path, [])
    rec = {"host": "gw.test", "address": "127.0.0.1:40000", "state": "open", "opened_at": 100,
           "requests_in": 4, "answers_out": 4,
           "by_command": {"257": [1, 1, 0, 0, 0, 0], "272": [4, 3, 0, 0, 1, 0], "bad": [9], "258": "x"}}
    assert record_counters(rec) == {"requests_in": 4, "answers_out": 4, "requests_out": 0, "answers_in": 0,
                                    "malformed": 0, "257.requests_in": 1, "257.answers_out": 1,
                                    "272.requests_in": 4, "272.answers_out": 3, "272.requests_dropped": 1}
    peers = tracker.update([{"pid": 1, "_alive": True, "peers": [rec]}], 200.0)
    assert peers["gw.test"].counters["272.requests_in"] == 4
    # the connection goes away and another one carries on: per-command totals add up
    rec2 = dict(rec, address="127.0.0.1:40001", opened_at=300, by_command={"272": [2, 2, 0, 0, 0, 0]})
    peers = tracker.update([{"pid": 1, "_alive": True, "peers": [rec2]}], 301.0)
    c = peers["gw.test"].counters
    assert (c["272.requests_in"], c["272.answers_out"], c["272.requests_dropped"], c["257.requests_in"]) == (6, 5, 1, 1)


def test_addresses():
    assert split_address("10.0.0.1:3868") == ("10.0.0.1", 3868)
    assert split_address("[2001:db8::1]:3868") == ("2001:db8::1", 3868)
    assert inet_address("10.1.0.0/16") == (1, bytes([10, 1, 0, 0]))
    assert inet_address("2001:db8::1") == (2, bytes.fromhex("20010db8000000000000000000000001"))
    assert inet_address("not an address") == (0, b"")
