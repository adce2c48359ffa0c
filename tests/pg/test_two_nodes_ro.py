"""Two appliance Diameter nodes (``appliance run diameter`` × 2, different ports, one PostgreSQL) taking
Ro CCRs (RFC 4006 §5) for the same subscribers alternately and concurrently: every session's CCR-I, CCR-U
and CCR-T alternate between the nodes, a retransmitted CCR-U (T flag, RFC 6733 §5.5.4... §3) reaches the
other node, and a node killed with SIGKILL mid-run loses no acknowledged debit: the survivor finishes
the dead node's sessions and the balance is exact.  The workers charge in process
(``processes.ledger: 0``)."""
from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from appliance.diameter import client as dc
from appliance.diameter.apps import ro
from appliance.ocs.units import Unit
from tests.conftest import free_port
from tests.pg.test_two_nodes import IMSIS, Watcher, audit, charged_by, seed_all

pytestmark = pytest.mark.system
ROOT = str(Path(__file__).resolve().parents[2])
MB = 1_000_000
PRICE = 20_000          # DATA_OFFER: 20,000 per started MB; whole MB used keeps the expected cost exact


def start_node(tmp_path: Path, name: str, dsn: str) -> tuple[subprocess.Popen, int, Path]:
    port = free_port()
    root = tmp_path / name
    root.mkdir()
    conf = root / "appliance.yaml"
    conf.write_text(json.dumps({
        "data_dir": str(root / "var"), "run_dir": str(root / "run"), "log_dir": str(root / "logs"),
        "database": {"backend": "postgres", "dsn": dsn, "pool_size": 4},
        "node": {"name": name, "realm": "ocs.test", "host": f"{name}.ocs.test"},
        "logs": {"acct_log_dir": str(root / "acct"), "auth_log_dir": str(root / "auth")},
        "charging": {"min_reserve_octets": MB},
        "diameter": {"address": "127.0.0.1", "port": port, "applications": ["ro"],
                     "accept_realms": ["client.localdomain"]},
        # each node's worker charges in its own transactions, the nodes meeting in PostgreSQL's row
        # locks (the in-process path; tests/pg/test_two_nodes.py has the ledger roles' shards)
        "processes": {"ledger": 0}}))
    env = dict(os.environ, APPLIANCE_CONFIG=str(conf),
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    log = root / "worker.log"
    proc = subprocess.Popen([sys.executable, "-m", "appliance", "run", "diameter"], env=env,
                            stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    return proc, port, log


def settled(dsn: str, application: str) -> None:
    """Wait (bounded) until PostgreSQL holds no connection named ``application``: a killed node's
    server sessions may still be running what it sent before it died, up to and including a COMMIT."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for _ in range(300):
            (n,) = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                                (application,)).fetchone()
            if n == 0:
                return
            time.sleep(0.1)
    pytest.fail(f"the dead node's database sessions ({application}) never ended")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def connect(port: int, log: Path, proc: subprocess.Popen) -> dc.CreditControlClient:
    cl = dc.CreditControlClient(f"pcef{port}.client.localdomain", "client.localdomain")
    for _ in range(300):                          # bounded: the worker is still starting
        if proc.poll() is not None:
            pytest.fail(f"node died: {log.read_text()[-2000:]}")
        try:
            await cl.connect("127.0.0.1", port, timeout=5)
            return cl
        except (ConnectionError, OSError, TimeoutError):
            await asyncio.sleep(0.1)
    pytest.fail(f"node on {port} never answered CER: {log.read_text()[-2000:]}")


def request(sid: str, rtype: int, number: int, imsi: str, requested: int | None, used: int | None):
    return dc.ccr(sid, "ocs.test", rtype, number, imsi,
                  services=(dc.Service(Unit.OCTETS, requested=requested, used=used, rating_group=1),))


def granted(answer) -> int:
    s = dc.summary(answer)
    return sum(m.get("granted", 0) for m in s["mscc"])


def test_ro_sessions_alternate_between_two_nodes(tmp_path, pg_dsn):
    money = 100_000_000
    seed_all(pg_dsn, money)
    (pa, port_a, log_a), (pb, port_b, log_b) = (start_node(tmp_path, "ocs-a", pg_dsn),
                                                start_node(tmp_path, "ocs-b", pg_dsn))
    watcher = Watcher(pg_dsn)
    rnd = random.Random(3)
    used_mb = {imsi: 0 for imsi in IMSIS}

    async def run() -> None:
        clients = [await connect(port_a, log_a, pa), await connect(port_b, log_b, pb)]
        try:
            async def session(n: int) -> None:
                imsi = IMSIS[n % 4]
                sid = clients[n % 2].session_id()
                grant = 0
                steps = [(ro.INITIAL, 3 * MB, None), (ro.UPDATE, 3 * MB, "u"), (ro.UPDATE, 3 * MB, "u"),
                         (ro.TERMINATION, None, "u")]
                for number, (rtype, req, use) in enumerate(steps):
                    used = rnd.randint(0, grant // MB) * MB if use else None
                    cl = clients[(n + number) % 2]       # every request on the other node than the last
                    avps = request(sid, rtype, number, imsi, req, used)
                    answer = await cl.send(avps, timeout=30)
                    assert dc.summary(answer)["result"] == 2001, dc.summary(answer)
                    if n % 6 == 0 and rtype == ro.UPDATE and number == 1:
                        # the same CCR-U retransmitted to the other node: answered, not charged again
                        again = await clients[(n + number + 1) % 2].send(avps, timeout=30)
                        assert dc.summary(again)["result"] == 2001 and granted(again) == granted(answer)
                    used_mb[imsi] += (used or 0) // MB
                    grant = granted(answer)

            await asyncio.gather(*(session(n) for n in range(24)))
        finally:
            for cl in clients:
                await cl.close()

    try:
        asyncio.run(run())
    finally:
        stop(pa)
        stop(pb)
        lowest = watcher.close()
    found = audit(pg_dsn)
    for i, imsi in enumerate(IMSIS):
        assert found["remaining"][f"p{i}"] == money - PRICE * used_mb[imsi]
    assert found["open"] == [] and found["holds"] == 0
    assert lowest >= 0


def test_ro_node_killed_mid_run_loses_no_acknowledged_debit(tmp_path, pg_dsn):
    money = 100_000_000
    seed_all(pg_dsn, money)
    b_sessions = f"appliance-ocs-b-{os.getpid()}-{id(tmp_path)}"   # node b's PostgreSQL sessions, by name
    (pa, port_a, log_a), (pb, port_b, log_b) = (start_node(tmp_path, "ocs-a", pg_dsn),
                                                start_node(tmp_path, "ocs-b",
                                                           f"{pg_dsn} application_name={b_sessions}"))
    acked_mb = {imsi: 0 for imsi in IMSIS}     # whole MB acknowledged (CCA 2001) as used
    acked_keys: list[str] = []                 # request keys (session:number) acknowledged with 2001
    open_sessions: dict[str, tuple[str, int]] = {}

    async def run() -> None:
        a, b = await connect(port_a, log_a, pa), await connect(port_b, log_b, pb)
        done_b = 0
        open_b: set[str] = set()     # node b's sessions with CCR-I answered, CCR-T not sent: open if b dies
        killed = asyncio.Event()

        async def sessions_on(cl, name: str, count: int) -> None:
            nonlocal done_b
            for n in range(count):
                imsi = IMSIS[n % 4]
                sid = cl.session_id()
                number = 0
                try:
                    answer = await cl.send(request(sid, ro.INITIAL, 0, imsi, 2 * MB, None), timeout=10)
                    open_sessions[sid] = (imsi, 1)
                    if name == "b":
                        open_b.add(sid)
                    for number in (1, 2):
                        answer = await cl.send(request(sid, ro.UPDATE, number, imsi, 2 * MB, MB), timeout=10)
                        assert dc.summary(answer)["result"] == 2001
                        acked_mb[imsi] += 1
                        acked_keys.append(f"{sid}:{number}")
                        open_sessions[sid] = (imsi, number + 1)
                    open_b.discard(sid)
                    answer = await cl.send(request(sid, ro.TERMINATION, 3, imsi, None, MB), timeout=10)
                    assert dc.summary(answer)["result"] == 2001
                    acked_mb[imsi] += 1
                    acked_keys.append(f"{sid}:3")
                    del open_sessions[sid]
                except (ConnectionError, TimeoutError):
                    assert name == "b" and killed.is_set()   # only the killed node's requests may fail
                    return
                if name == "b":
                    done_b += 1

        async def killer() -> None:
            # node b's four clients tend to run in step: when a round of sessions ends, all of them
            # may be waiting for a CCR-I or a CCR-T's answer, and a kill then leaves node a nothing
            # to finish.  A session between its answered CCR-I and its CCR-T stays open.
            for _ in range(3000):                            # bounded
                if done_b >= 8 and open_b:
                    break
                await asyncio.sleep(0.01)
            killed.set()
            pb.send_signal(signal.SIGKILL)

        await asyncio.gather(*(sessions_on(a, "a", 12) for _ in range(4)),
                             *(sessions_on(b, "b", 1000) for _ in range(4)), killer())
        assert pb.wait(10) == -signal.SIGKILL
        # The audit below must see every transaction of node b committed or rolled back.  Node b's
        # last batch (its writes and COMMIT) may be in its server session's input when it dies: that
        # session goes on, commits after the process is gone (the WAL flush takes long on a loaded
        # machine) and only then ends.  Read too early, the database misses that request: its CCR-I
        # is never closed, its CCR-U's charge is counted nowhere, its CCR-T's session looks open.
        await asyncio.to_thread(settled, pg_dsn, b_sessions)
        # node a finishes (CCR-T, nothing more used) every session node b left open: those it knows of
        # and those whose CCR-I was committed but never answered (found in the database)
        leftover = dict(open_sessions)
        before_close.update(audit(pg_dsn))
        leftover.update({sid: (imsi, 0) for sid, imsi in before_close["open"] if sid not in leftover})
        closed.update(leftover)
        assert leftover, "node b was killed with no session open: nothing for node a to finish"
        for sid, (imsi, number) in leftover.items():
            answer = await a.send(request(sid, ro.TERMINATION, number + 5, imsi, None, 0), timeout=10)
            if before_close["last"].get(sid, ("",))[0] == f"{sid}:3":
                # node b committed the CCR-T and died before answering: the session is over
                assert dc.summary(answer)["result"] == 5002, dc.summary(answer)
                continue
            assert dc.summary(answer)["result"] == 2001, dc.summary(answer)
        await a.close()
        try:
            await b.close()
        except Exception:  # its peer is dead
            pass

    before_close: dict = {}                    # the database after the kill, before node a closes sessions
    closed: dict[str, tuple[str, int]] = {}
    try:
        asyncio.run(run())
    finally:
        stop(pa)
        stop(pb)
    found = audit(pg_dsn)
    assert len(acked_keys) > 40
    last = before_close["last"]
    # every acknowledged debit is durable: its session's last answer is it or a later request
    missing = [k for k in acked_keys if k.rsplit(":", 1)[0] not in last
               or int(last[k.rsplit(":", 1)[0]][0].rsplit(":", 1)[1]) < int(k.rsplit(":", 1)[1])]
    assert missing == []
    # conservation: money is in a bucket or charged by a committed request; nothing is held any more.
    # Charged: each acknowledged MB, what node b committed without answering (at most the last
    # request of each of its sessions), and node a's closing CCR-Ts.
    assert found["open"] == [] and found["holds"] == 0
    unanswered = sum(charged_by(doc) for key, doc in last.values() if key not in set(acked_keys))
    # A closing CCR-T counts only where it became the session's last answer.  Where node b committed
    # the CCR-T and died before answering, node a's closing CCR-T is refused (5002) and b's CCR-T is
    # the last answer before and after: its charge is already in ``unanswered`` and counts once.
    closing = sum(charged_by(found["last"][sid][1]) for sid in closed      # a's closing CCR-Ts answered
                  if found["last"][sid][0] != last.get(sid, ("",))[0])
    charged = PRICE * sum(acked_mb.values()) + unanswered + closing
    assert sum(found["remaining"].values()) + charged == 4 * money
    for i, imsi in enumerate(IMSIS):           # a committed-but-unanswered CCR-U may add to it, never less
        assert money - found["remaining"][f"p{i}"] >= PRICE * acked_mb[imsi]
