"""IPDR records from accounting sessions, and the scheduled archive with injected time."""
from __future__ import annotations

import dataclasses

import pytest
from translog_sessions import D0, DAY, US, radius_session, ro_session, sms_event

from appliance.config import LogsConfig
from appliance.housekeeping import DUTIES, LOCAL_DUTIES
from appliance.logs import translog
from appliance.logs.archive import archive_acct_logs, last_archived
from appliance.logs.fifo import list_files
from appliance.logs.framing import ScanStats
from appliance.logs.ipdr import DocumentInfo, build, iso, list_documents, read_document


@pytest.fixture
def lcfg(cfg):
    c = dataclasses.replace(cfg, logs=LogsConfig(acct_log_dir="acct", auth_log_dir="auth", ipdr_log_dir="ipdr",
                                                 acct_log_files=8, acct_log_size=65536, ipdr_keep=2))
    translog.configure(c, "test", 0)
    yield c
    translog.close()


def _log(records):
    for r in records:
        translog.acct(r)


def test_radius_stop_gives_a_wlan_ipdr_with_cumulative_counters():
    (ipdr,) = build(radius_session(D0 + 100), "USD")
    assert ipdr["type"] == "wlan"
    assert ipdr["acctSessionId"] == "rad-1" and ipdr["username"] == "alice@example.net"
    assert (ipdr["inputOctets"], ipdr["outputOctets"], ipdr["sessionDuration"]) == (1_000_000, 2_000_000, 300)
    assert ipdr["gmtSessionStartDateTime"] == iso((D0 + 100) * US) == "2026-11-23T00:01:40.000Z"
    assert ipdr["gmtSessionEndDateTime"] == "2026-11-23T00:06:40.000Z"
    assert ipdr["chargeAmount"] == 60_000 and ipdr["chargeCurrencyType"] == "USD"
    assert (ipdr["chargeableUnit"], ipdr["chargeableQuantity"]) == ("octets", 3_000_000)
    assert ipdr["sessionTerminateCause"] == "User-Request" and ipdr["nasIpAddress"] == "127.0.0.1"


def test_ro_sessions_sum_used_units_voice_becomes_voip_events_are_not_sessions():
    recs = ro_session(D0, "data-1") + ro_session(D0, "call-1", "voice", "seconds", (0, 60, 42), (0, 10_000, 10_000),
                                                 destination="14155550123") + [sms_event(D0)]
    recs.sort(key=lambda r: r["ts"])
    out = {r["type"]: r for r in build(recs, "EUR")}
    assert set(out) == {"wlan", "voip"}
    assert out["wlan"]["chargeableQuantity"] == 750_000 and out["wlan"]["chargeAmount"] == 15_000
    v = out["voip"]
    assert (v["uniqueCallID"], v["destinationID"], v["ani"]) == ("call-1", "14155550123", "14155550001")
    assert v["callDuration"] == 102 and v["chargeAmount"] == 20_000 and v["callCompletionCode"] == 2001
    assert v["startTime"] == iso(D0 * US) and v["endTime"] == iso((D0 + 120) * US)


def test_duplicates_are_not_charged_twice():
    recs = ro_session(D0)
    recs.insert(2, {**recs[1], "duplicate": True})
    (ipdr,) = build(recs, "USD")
    assert ipdr["chargeAmount"] == 15_000 and ipdr["chargeableQuantity"] == 750_000


def test_archive_runs_on_schedule_with_injected_time(lcfg, tmp_path):
    _log(radius_session(D0 + 3600, "day1-rad") + ro_session(D0 + 7200, "day1-ro"))
    _log(radius_session(D0 + DAY - 100, "spans-midnight"))   # its Stop at D0 + DAY + 200: next period
    acct = tmp_path / "acct"
    seq0 = list_files(acct, "acct")[-1][1].seq
    assert archive_acct_logs(lcfg, None, D0 + DAY - 1) is not None     # first run: everything before D0
    first = list_documents(tmp_path / "ipdr")
    assert len(first) == 1 and _ipdrs(first[0]) == []
    assert last_archived(lcfg) == D0
    assert archive_acct_logs(lcfg, None, D0 + DAY - 1) is None        # same period: nothing to do
    doc = archive_acct_logs(lcfg, None, D0 + DAY + 3600)               # day 1 is over
    assert doc is not None and doc.name == "ipdr-20261123T000000Z-20261124T000000Z.log"
    assert sorted(r["acctSessionId"] for r in _ipdrs(doc)) == ["day1-rad", "day1-ro"]
    assert last_archived(lcfg) == D0 + DAY
    assert list_files(acct, "acct")[-1][1].seq == seq0 + 2             # the acct log was closed each time
    doc2 = archive_acct_logs(lcfg, None, D0 + 2 * DAY + 5)
    assert [r["acctSessionId"] for r in _ipdrs(doc2)] == ["spans-midnight"]
    assert [r["seqNum"] for r in _ipdrs(doc2)] == [1]
    assert list_documents(tmp_path / "ipdr") == [doc, doc2]            # ipdr_keep: 2, the oldest removed


@pytest.mark.parametrize("leader", [True, False])
def test_archive_is_a_node_local_housekeeping_duty(lcfg, store, tmp_path, leader):
    """Every node archives its own acct log, leader of the shared sweep or not."""
    from appliance.housekeeping import sweep
    assert archive_acct_logs in LOCAL_DUTIES and archive_acct_logs not in DUTIES
    _log(radius_session(D0 + 10))
    done = sweep(lcfg, store, D0 + DAY + 1, leader=leader)
    assert ("released" in done) is leader                # shared data only on the leader
    (doc,) = list_documents(tmp_path / "ipdr")          # first run: everything before 2026-11-24
    assert doc.name.endswith("-20261124T000000Z.log")
    assert [r["acctSessionId"] for r in _ipdrs(doc)] == ["rad-1"]


def _ipdrs(path):
    info = DocumentInfo()
    st = ScanStats()
    out = list(read_document(path.read_bytes(), st, info))
    assert st.skipped == 0 and info.end == {"count": len(out), "endTime": info.end["endTime"]}
    assert info.header["version"] == "3.5" and info.header["docId"]
    return out
