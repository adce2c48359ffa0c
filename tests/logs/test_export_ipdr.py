"""bin/export_ipdr and `appliance logs query`: CSV rows, exit codes, torn records, progress bar."""
from __future__ import annotations

import csv
import io
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from translog_sessions import D0, DAY, radius_session, ro_session

from appliance.config import load
from appliance.logs import translog
from appliance.logs.archive import archive_acct_logs
from appliance.logs.ipdr import WLAN_FIELDS, list_documents

ROOT = Path(__file__).resolve().parents[2]
EXPORT = str(ROOT / "bin" / "export_ipdr")


@pytest.fixture
def site(tmp_path):
    """A configuration file, one archived day with a RADIUS and a Ro data session and a Ro voice call."""
    etc = tmp_path / "etc"
    etc.mkdir()
    conf = etc / "appliance.yaml"
    conf.write_text("money: {currency: EUR}\nlogs: {acct_log_dir: log/acct, auth_log_dir: log/auth, "
                    "ipdr_log_dir: log/ipdr, acct_log_files: 4, acct_log_size: 65536}\n")
    cfg = load(str(conf))
    translog.configure(cfg, "test", 0)
    for r in sorted(radius_session(D0 + 600) + ro_session(D0 + 900, "ro-data")
                    + ro_session(D0 + 1200, "ro-call", "voice", "seconds", (0, 60, 30), (0, 10_000, 5_000),
                                 destination="4930123") + radius_session(D0 + DAY + 50, "tomorrow"),
                    key=lambda r: r["ts"]):
        translog.acct(r)
    translog.flush()
    archive_acct_logs(cfg, None, D0 + DAY + 10)
    yield cfg, conf
    translog.close()


def run(*args, conf=None, **kw):
    env = {**os.environ, "APPLIANCE_CONFIG": str(conf)} if conf else dict(os.environ)
    return subprocess.run([sys.executable, EXPORT, *args], capture_output=True, text=True, env=env, timeout=60, **kw)


def rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_wlan_csv_rows_match_the_sessions(site):
    cfg, conf = site
    r = run(conf=conf)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == ",".join(WLAN_FIELDS)
    got = {row["acctSessionId"]: row for row in rows(r.stdout)}
    assert set(got) == {"rad-1", "ro-data"}                       # "tomorrow" has not ended yet
    rad = got["rad-1"]
    assert (rad["inputOctets"], rad["outputOctets"], rad["sessionDuration"]) == ("1000000", "2000000", "300")
    assert rad["chargeAmount"] == "60000" and rad["chargeCurrencyType"] == "EUR"
    assert rad["gmtSessionStartDateTime"] == "2026-11-23T00:10:00.000Z"
    assert rad["callingStationId"] == "02-00-00-00-00-01" and rad["resultCode"] == "Accounting-Response"
    ro = got["ro-data"]
    assert (ro["chargeableUnit"], ro["chargeableQuantity"], ro["chargeAmount"]) == ("octets", "750000", "15000")
    assert ro["scId"] == "001010000000001" and ro["resultCode"] == "2001"
    assert "2 wlan records exported" in r.stderr


def test_voip_to_file_and_time_range(site, tmp_path):
    cfg, conf = site
    out = tmp_path / "voip.csv"
    r = run("-t", "voip", "-o", str(out), "--start", "2026-11-23T00:00:00Z", "--end", str(D0 + DAY), conf=conf)
    assert r.returncode == 0, r.stderr
    (call,) = rows(out.read_text())
    assert (call["uniqueCallID"], call["destinationID"], call["callDuration"], call["chargeAmount"]) == \
        ("ro-call", "4930123", "90", "15000")
    r = run("-t", "voip", "--start", "2026-11-23T00:30:00Z", conf=conf)   # the call ended at 00:22
    assert r.returncode == 0 and rows(r.stdout) == []


def test_live_log_range(site):
    cfg, conf = site
    r = run("--live", "--start", str(D0 + DAY), conf=conf)
    assert r.returncode == 0, r.stderr
    assert [row["acctSessionId"] for row in rows(r.stdout)] == ["tomorrow"]


def test_missing_corrupt_and_usage_errors(site, tmp_path):
    cfg, conf = site
    r = run("-i", str(tmp_path / "nope.log"), conf=conf)
    assert r.returncode == 3 and "nope.log: no such file" in r.stderr and r.stdout == ""
    junk = tmp_path / "junk.log"
    junk.write_bytes(b"this is not an IPDR document at all, sorry")
    r = run("-i", str(junk), conf=conf)
    assert r.returncode == 4 and "not an IPDR document" in r.stderr
    acct_file = sorted(cfg.path(cfg.logs.acct_log_dir).glob("acct.*.log"))[0]
    r = run("-i", str(acct_file), conf=conf)
    assert r.returncode == 4 and "use --live" in r.stderr
    r = run("--start", "yesterday", conf=conf)
    assert r.returncode == 2 and "bad time" in r.stderr
    r = run("-o", str(tmp_path / "no" / "such" / "dir.csv"), conf=conf)
    assert r.returncode == 5 and "cannot write" in r.stderr
    r = run("--live", "-i", str(tmp_path / "empty"), conf=conf)
    assert r.returncode == 3


def test_torn_record_is_skipped_and_reported(site, tmp_path):
    cfg, conf = site
    doc = [d for d in list_documents(cfg.path(cfg.logs.ipdr_log_dir)) if d.name.endswith("20261124T000000Z.log")][0]
    data = doc.read_bytes()
    torn = tmp_path / "torn.log"
    torn.write_bytes(data[:len(data) - 30])          # the End frame torn (as a crash mid-copy would)
    r = run("-i", str(torn), conf=conf)
    assert r.returncode == 1
    assert "1 torn or corrupt records skipped" in r.stderr and "IPDRDoc.End missing" in r.stderr
    assert len(rows(r.stdout)) == 2
    bad = bytearray(data)
    idx = bytes(bad).index(b"rad-1")
    bad[idx] ^= 0x20                                 # a flipped bit inside one IPDR
    torn.write_bytes(bytes(bad))
    r = run("-i", str(torn), conf=conf)
    assert r.returncode == 1 and [row["acctSessionId"] for row in rows(r.stdout)] == ["ro-data"]


def test_progress_bar_on_a_terminal(site):
    cfg, conf = site
    master, slave = pty.openpty()
    try:
        p = subprocess.run([sys.executable, EXPORT], stdout=subprocess.PIPE, stderr=slave, timeout=60,
                           env={**os.environ, "APPLIANCE_CONFIG": str(conf)})
        os.close(slave)
        slave = -1
        err = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            err += chunk
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)
    assert p.returncode == 0
    assert b"100%" in err and b"\r" in err
    r = run(conf=conf)                               # not a terminal: no bar
    assert "%" not in r.stderr


def test_appliance_logs_query(site):
    cfg, conf = site
    def q(*args):
        r = subprocess.run([sys.executable, "-m", "appliance", "-c", str(conf), "logs", "query", *args],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        return [json.loads(line) for line in r.stdout.splitlines()]
    by_session = q("--session", "ro-call")
    assert [x["request_type"] for x in by_session] == ["initial", "update", "termination"]
    assert all(x["log"] == "acct" for x in by_session)
    assert len(q("--subscriber", "alice@example.net", "--log", "acct")) == 6        # rad-1 and tomorrow
    assert len(q("--subscriber", "14155550001", "--end", str(D0 + DAY))) == 6      # two Ro sessions by MSISDN
    assert [x["session_id"] for x in q("--start", str(D0 + DAY))] == ["tomorrow"] * 3
    assert len(q("--limit", "2")) == 2
