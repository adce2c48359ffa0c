"""The store under concurrency and crashes: 2 processes x 8 threads on one bucket; SIGKILL mid-run
loses no acknowledged debit."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from appliance.ocs.charging import balance_in
from tests.pgfixture import backend_target, sql_connect

HAMMER = str(Path(__file__).with_name("hammer.py"))
IMSI = "001010000000001"
INITIAL = 3_000_000  # 150 one-MB blocks at 20,000: the run goes on until the bucket is dry
THREADS = 8


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2]) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_two_processes_eight_threads_one_bucket(cfg, store, seed_subscriber):
    seed_subscriber(money=INITIAL)
    kind, db = backend_target(cfg)
    lowest = [INITIAL]
    stop = threading.Event()

    def watch():  # an independent reader: the balance must never be seen below zero
        conn = sql_connect(cfg, readonly=True)
        while not stop.is_set():
            (value,) = conn.execute("SELECT min(remaining) FROM bucket").fetchone()
            lowest[0] = min(lowest[0], value)
            time.sleep(0.005)
        conn.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    # each thread stops when it sees the bucket dry (a state, not a duration); 90 s only bounds a hang
    procs = [subprocess.Popen([sys.executable, HAMMER, kind, db, "threads", f"p{i}", str(THREADS), "90", "400"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=_env()) for i in range(2)]
    assert [p.stdout.readline().strip() for p in procs] == ["READY", "READY"]
    for p in procs:                         # both stores open: the threads of both processes start together
        p.stdin.write("GO\n")
        p.stdin.flush()
    outs = [p.communicate(timeout=120)[0] for p in procs]
    stop.set()
    watcher.join()
    assert all(p.returncode == 0 for p in procs)
    totals = [json.loads(o.strip().splitlines()[-1]) for o in outs]
    charged = sum(t["charged"] for t in totals)
    assert [t["dry"] for t in totals] == [THREADS, THREADS], totals     # every thread ran until the end
    assert charged == INITIAL, totals           # whole blocks only: a dry bucket was charged to the last block
    assert sum(t["unpaid"] for t in totals) == 0
    bal = store.transact(lambda l: balance_in(l, IMSI, int(time.time())))
    assert bal.totals["money"] == INITIAL - charged
    assert bal.reserved == {}
    assert lowest[0] >= 0 and bal.totals["money"] >= 0


def test_sigkill_loses_no_acknowledged_debit(cfg, store, seed_subscriber):
    seed_subscriber(money=100_000_000)
    store.close()
    kind, db = backend_target(cfg)
    proc = subprocess.Popen([sys.executable, HAMMER, kind, db, "async", "k", "32", "100000"],
                            stdout=subprocess.PIPE, text=True, env=_env())
    acked: dict[str, int] = {}
    for line in proc.stdout:
        _ack, key, charged, _granted = line.split()
        acked[key] = int(charged)
        if len(acked) >= 1500:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=30)
    rest = proc.stdout.read()
    for line in rest.splitlines():
        if line.startswith("ACK "):
            _ack, key, charged, _g = line.split()
            acked[key] = int(charged)
    assert proc.returncode == -signal.SIGKILL

    from appliance.store import open_store
    reopened = open_store(cfg)
    try:
        # the store keeps each session's last answer: every acknowledged request is that answer
        # (recalled as itself) or was followed by a later request of its session that committed
        def audit(l):
            log = {}
            for key in acked:
                sid, n = key.rsplit(":", 1)
                doc = l.recall(sid, key)
                if doc is not None:
                    log[key] = json.loads(doc)
                else:
                    assert n == "0" and l.recall(sid, f"{sid}:1") is not None, f"acknowledged request {key} lost"
            return log
        logged = reopened.transact(audit)
        conn = sql_connect(cfg)
        remaining = conn.execute("SELECT sum(remaining) FROM bucket").fetchone()[0]
        holds = 0
        open_sessions = set()
        for sid, holds_json in conn.execute("SELECT session_id, holds FROM reservation"):
            open_sessions.add(sid)
            holds += sum(int(h.split(",")[2]) for h in holds_json.split(";") if h)  # "bucket,unit,amount;..."
        last = {sid: (key, json.loads(r)) for sid, key, r in conn.execute(
            "SELECT session_id, key, result FROM last_answer")}
        conn.close()
        # a START charges nothing (it reserves), so what was charged is in each session's last answer
        assert all(charged == 0 for key, charged in acked.items() if key.endswith(":0"))
        charged_all = sum(doc["i"][0]["c"] for _key, doc in last.values())
        # conservation: every unit of money is in a bucket, held by a reservation, or charged by a logged request
        assert remaining + holds + charged_all == 100_000_000
        # every acknowledged START whose STOP never committed still holds exactly one reservation
        for key in acked:
            sid, n = key.rsplit(":", 1)
            assert sid in last, f"session {sid} has no answer"
            if n == "0" and last[sid][0] == key:
                assert sid in open_sessions, f"reservation of {sid} lost"
        for key, doc in logged.items():
            assert doc["i"][0]["c"] == acked[key]
    finally:
        reopened.close()
