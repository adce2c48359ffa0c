"""``appliance trace``: a live Ro session of one subscriber, traced across the Diameter worker."""
from __future__ import annotations

import json
import subprocess
import sys
import time

from appliance import trace

from .conftest import IMSI, MSISDN, ro_session


def test_trace_shows_ccr_i_u_t_with_answers_and_balance(appliance, tmp_path):
    record = tmp_path / "ticket.jsonl"
    tracer = subprocess.Popen([sys.executable, "-m", "appliance", "--config", str(appliance.conf), "trace", MSISDN,
                               "--events", "6", "--minutes", "1", "--record", str(record)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=appliance.base)
    requests_dir = appliance.base / "var" / "run" / "trace"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not list(requests_dir.glob("*.json")):
        time.sleep(0.1)
    time.sleep(1.5)                                   # the workers look once a second
    ro_session(appliance.doc["diameter"]["port"], imsi="001019999999999")     # another subscriber: not traced
    assert ro_session(appliance.doc["diameter"]["port"]) == [2001, 2001, 2001]
    out, err = tracer.communicate(timeout=60)
    assert tracer.returncode == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    traced = [e for e in events if e["event"] in ("request", "answer")]
    assert len(traced) == 6 and len({e["session"] for e in traced}) == 1
    kinds = [dict(e["avps"]).get("CC-Request-Type") for e in traced if e["event"] == "request"]
    assert kinds == [1, 2, 3]
    assert [e["result"] for e in traced if e["event"] == "answer"] == [2001, 2001, 2001]
    assert traced[0]["identity"] == IMSI
    balances = [e["balance"] for e in traced if e["event"] == "answer"]
    assert len(balances) == 3
    assert balances[0]["reserved"].get("money", 0) > 0 and balances[-1]["reserved"].get("money", 0) == 0
    assert balances[-1]["totals"]["money"] < 10_000_000
    assert [json.loads(line) for line in record.read_text().splitlines()] == events
    assert not list(requests_dir.iterdir())          # request and events files removed


def test_nobody_traces_means_an_empty_table():
    trace.refresh("/nonexistent-run-dir", time.time())
    assert trace.ACTIVE == {}
