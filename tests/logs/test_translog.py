"""The record API: no-op before configure, capture for tests, records on disk, secrets dropped."""
from __future__ import annotations

import dataclasses
import json
import threading

import pytest

from appliance.config import LogsConfig
from appliance.logs import framing, translog
from appliance.logs.fifo import ReadStats, read_log
from appliance.ocs.rating import Action, ChargeRequest, ChargeResult, ItemResult, Outcome, UsageItem
from appliance.ocs.units import Unit
from appliance.telemetry import metrics


@pytest.fixture
def logcfg(cfg):
    c = dataclasses.replace(cfg, logs=LogsConfig(acct_log_dir="la", auth_log_dir="lu", acct_log_files=3,
                                                 acct_log_size=4096))
    yield c
    translog.close()


def test_unconfigured_calls_are_noops():
    translog.close()
    assert not translog.enabled()
    translog.acct({"protocol": "radius"})
    translog.auth({"protocol": "radius"})


def test_capture_collects_stamped_records():
    with translog.capture() as got:
        translog.acct({"protocol": "diameter", "result": 2001, "password": "x", "opc": "00"})
        translog.auth({"protocol": "radius", "result": "Access-Accept"})
    assert [r["result"] for r in got.acct] == [2001]
    assert got.auth[0]["result"] == "Access-Accept"
    assert "password" not in got.acct[0] and "opc" not in got.acct[0]
    assert isinstance(got.acct[0]["ts"], int) and got.acct[0]["ts"] > 1_600_000_000_000_000


def test_configured_records_reach_both_logs(logcfg, tmp_path):
    translog.configure(logcfg, "radius", 3)
    for i in range(50):
        translog.acct({"protocol": "radius", "session_id": f"s{i}", "secret": "testing123"})
    translog.auth({"protocol": "radius", "type": "Access-Request", "result": "Access-Reject"})
    translog.close()
    st = ReadStats()
    acct = list(read_log(tmp_path / "la", "acct", st))
    assert [r["session_id"] for r in acct] == [f"s{i}" for i in range(50)]
    assert st.skipped == 0 and all(r["proc"] == "radius3" and "secret" not in r for r in acct)
    assert [r["result"] for r in read_log(tmp_path / "lu", "auth")] == ["Access-Reject"]
    # 50 records of ~100 bytes do not fit one 4 KiB file: the ring rotated and kept at most 3 files
    assert len(list((tmp_path / "la").glob("acct.*.log"))) <= 3


def test_buffered_mode_writes_on_flush_and_close(logcfg, tmp_path):
    c = dataclasses.replace(logcfg, logs=dataclasses.replace(logcfg.logs, flush_interval_ms=60_000,
                                                             batch_records=1000))
    translog.configure(c, "diameter", 0)
    translog.acct({"session_id": "a"})
    assert list(read_log(tmp_path / "la", "acct")) == []
    translog.flush()
    assert [r["session_id"] for r in read_log(tmp_path / "la", "acct")] == ["a"]
    translog.acct({"session_id": "b"})
    translog.close()
    assert [r["session_id"] for r in read_log(tmp_path / "la", "acct")] == ["a", "b"]


def test_charge_fields_from_core_types():
    req = ChargeRequest("001010000000001", "sid", Action.STOP,
                        (UsageItem(Unit.OCTETS, None, 3000, 32), UsageItem(Unit.SECONDS, 0, 10, 7, 1)),
                        service="data")
    res = ChargeResult(Outcome.SUCCESS, (ItemResult(Outcome.SUCCESS, Unit.OCTETS, 32, debited=3000, charged=20),
                                         ItemResult(Outcome.SUCCESS, Unit.SECONDS, 7, 1, granted=60, debited=10,
                                                    charged=5, final=True)))
    f = translog.charge_fields(req, res)
    assert f["charged"] == 25 and f["outcome"] == "success" and f["action"] == "stop"
    assert f["units"][0] == {"unit": "octets", "rating_group": 32, "requested": None, "used": 3000, "granted": 0,
                             "debited": 3000, "charged": 20, "unpaid": 0, "outcome": "success"}
    assert f["units"][1]["final"] is True and f["units"][1]["service_identifier"] == 1
    assert translog.charge_fields(req, None)["outcome"] is None


def test_a_failing_disk_is_counted_never_raised(logcfg, monkeypatch):
    from appliance.telemetry import metrics
    translog.configure(logcfg, "radius", 0)

    def full(frames):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(translog._acct.fifo, "write", full)
    before = metrics.default().get("logs.acct.errors")
    translog.acct({"session_id": "lost"})
    translog.acct({"session_id": "lost2", "bad": object()})        # not JSON: str() of it is logged
    assert metrics.default().get("logs.acct.errors") == before + 2


def test_logs_config_is_validated_with_file_and_key(tmp_path):
    from appliance.config import ConfigError, load
    p = tmp_path / "appliance.yaml"
    p.write_text("logs:\n  acct_log_files: 3\n  acct_log_size: 100\n")
    with pytest.raises(ConfigError) as e:
        load(str(p))
    assert "logs" in str(e.value) and "acct_log_size must be at least 4096" in str(e.value) and "line 2" in str(e.value)
    p.write_text("logs:\n  flush_interval_ms: -1\n")
    with pytest.raises(ConfigError, match="flush_interval_ms"):
        load(str(p))


def test_buffered_full_batch_is_written_by_the_flusher_thread(logcfg, tmp_path):
    import time
    c = dataclasses.replace(logcfg, logs=dataclasses.replace(logcfg.logs, flush_interval_ms=600_000,
                                                             batch_records=10))
    translog.configure(c, "diameter", 0)
    writer = translog._acct.fifo
    calls = []
    real = writer.write
    writer.write = lambda frames: (calls.append(threading.get_ident()), real(frames))
    for i in range(10):
        translog.acct({"session_id": f"b{i}"})
    for _ in range(500):                                  # bounded wait for the flusher (interval: 10 min)
        if len(list(read_log(tmp_path / "la", "acct"))) == 10:
            break
        time.sleep(0.01)
    assert [r["session_id"] for r in read_log(tmp_path / "la", "acct")] == [f"b{i}" for i in range(10)]
    assert calls and threading.get_ident() not in calls   # the caller never wrote


def test_held_records_reach_the_file_at_write_held_in_call_order(logcfg, tmp_path):
    translog.configure(logcfg, "radius", 0)
    translog.auth({"n": 1}, held=True)
    translog.auth({"n": 2}, held=True)
    translog.acct({"n": 3}, held=True)
    assert list(read_log(tmp_path / "lu", "auth")) == [] and list(read_log(tmp_path / "la", "acct")) == []
    translog.write_held()
    assert [r["n"] for r in read_log(tmp_path / "lu", "auth")] == [1, 2]
    assert [r["n"] for r in read_log(tmp_path / "la", "acct")] == [3]
    translog.auth({"n": 4}, held=True)
    translog.auth({"n": 5})                  # a record written at once takes the held ones first
    assert [r["n"] for r in read_log(tmp_path / "lu", "auth")] == [1, 2, 4, 5]
    translog.auth({"n": 6}, held=True)
    translog.close()                         # nothing held is lost at close
    assert [r["n"] for r in read_log(tmp_path / "lu", "auth")] == [1, 2, 4, 5, 6]


class Opaque:
    def __str__(self) -> str:
        return "opaque"


@pytest.mark.parametrize("record", [
    {"ts": 1, "node": "n", "protocol": "radius", "peer": "127.0.0.1:1812", "result": "Access-Accept"},
    {"username": "pässwörd-frei \u2603 \"q\" \\ \n\t\x01", "n": None, "b": True, "f": 1.5, "nan": float("nan")},
    {"units": [{"unit": "octets", "granted": 10 ** 20}, {"unit": "seconds", "final": False}], 7: "int key"},
    {"obj": Opaque(), "raw": b"\x00\xff", "empty": {}, "list": []},
])
def test_payload_bytes_equal_json_dumps(record):
    want = json.dumps(record, separators=(",", ":"), ensure_ascii=False, default=str).encode()
    assert framing.encode_payload(record) == want


def test_unencodable_record_is_counted_not_raised(logcfg, tmp_path):
    translog.configure(logcfg, "radius", 0)
    loop: dict = {"protocol": "radius"}
    loop["self"] = loop
    before = metrics.default().get("logs.auth.errors")
    translog.auth(loop)
    translog.auth({"protocol": "radius", "result": "Access-Accept"})
    assert metrics.default().get("logs.auth.errors") == before + 1
    translog.close()
    assert [r["result"] for r in read_log(tmp_path / "lu", "auth")] == ["Access-Accept"]


def test_fixed_fields_join_each_record_on_disk_in_capture_and_without_secrets(logcfg, tmp_path):
    translog.configure(logcfg, "radius", 0)
    fixed = translog.Fixed({"protocol": "radius", "result": "Access-Accept", "reason": None, "password": "x",
                            "name": "Zoë \"q\""})
    empty = translog.Fixed({})
    with translog.capture() as got:
        translog.auth({"peer": "127.0.0.1:1", "username": "a"}, held=True, fixed=fixed)
        translog.auth({"peer": "127.0.0.1:2", "username": "b"}, fixed=fixed)
        translog.auth({"peer": "127.0.0.1:3"}, fixed=empty)
    translog.close()
    on_disk = list(read_log(tmp_path / "lu", "auth"))
    assert [{k: v for k, v in r.items() if k != "ts"} for r in on_disk] == \
        [{k: v for k, v in r.items() if k != "ts"} for r in got.auth]
    assert on_disk[1] == {"ts": on_disk[1]["ts"], "node": on_disk[1]["node"], "proc": "radius0",
                          "peer": "127.0.0.1:2", "username": "b", "protocol": "radius",
                          "result": "Access-Accept", "reason": None, "name": "Zoë \"q\""}
    assert on_disk[2]["peer"] == "127.0.0.1:3" and "protocol" not in on_disk[2]
    assert all("password" not in r for r in on_disk)


def test_an_auth_record_by_peer_is_the_auth_record_byte_for_byte(tmp_path, monkeypatch):
    """``auth_peer`` (a RADIUS answer's record encoded straight to bytes) writes the file ``auth``
    writes from the dict, same clock: quotes, backslashes, control and non-ASCII characters in the
    user name, no user name, IPv6 peers, an empty fixed part."""
    import dataclasses

    from appliance.config import Config
    from appliance.logs import framing
    monkeypatch.setattr(translog.time, "time_ns", lambda: 1_800_000_000_123_456_789)
    fixed = [translog.Fixed({"protocol": "radius", "app": "auth", "type": "Access-Request", "method": "pap",
                             "subscriber": 's"1', "result": "Access-Accept", "reason": None, "password": "x"}),
             translog.Fixed({})]
    users = ["alice@wlan", 'q"u\\o\te', "\x00\x1f\u00e9\u4e2d\U0001f600", None, ""]
    peers = [("127.0.0.1", 1812), ("::1", 40000), ("fe80::1%eth0", 1)]
    files = []
    for way in ("dict", "bytes"):
        base = Config(data_dir=str(tmp_path / "d"), run_dir=str(tmp_path / "r"), log_dir=str(tmp_path / "l"),
                      base_dir=str(tmp_path))
        conf = dataclasses.replace(base, logs=dataclasses.replace(base.logs, auth_log_dir=str(tmp_path / way),
                                                                  acct_log_dir=str(tmp_path / f"{way}-acct")))
        translog.configure(conf, "radius", 0)
        try:
            for f in fixed:
                for user in users:
                    for host, port in peers:
                        if way == "dict":
                            translog.auth({"peer": f"{host}:{port}", "username": user}, held=True, fixed=f)
                        else:
                            translog.auth_peer(host, port, user, f, held=True)
                translog.write_held()
        finally:
            translog.close()
        (log,) = (tmp_path / way).glob("*.log")
        files.append(log.read_bytes()[framing.FILE_HEADER.size:])
    assert files[0] == files[1] and files[0].count(b"TR") >= 30
