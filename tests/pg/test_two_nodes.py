"""Two nodes (two OS processes, each the core's Charging on its own PostgresStore) on one PostgreSQL.

Several active nodes, at the core level (the Diameter Ro variant needs two appliance instances): the same
subscribers charged alternately and concurrently from both nodes, sessions started on one node and
finished on the other, retransmissions answered once across nodes, and a kill -9 of one node mid-run
losing no acknowledged debit.  Final balances are exact and never negative.
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
import threading
from pathlib import Path

import psycopg

from appliance.store.postgres import PostgresStore
from tests.conftest import DATA_OFFER, seed

NODE = str(Path(__file__).with_name("node.py"))
ROOT = str(Path(__file__).resolve().parents[2])
MB = 1_000_000
IMSIS = [f"00101000000010{i}" for i in range(4)]


def seed_all(dsn: str, money: int) -> None:
    st = PostgresStore(dsn, pool_size=1)
    try:
        for i, imsi in enumerate(IMSIS):
            seed(st, imsi=imsi, product=f"p{i}", money=money, offer=DATA_OFFER)
    finally:
        st.close()


class Node:
    """A node process; ``charge`` sends one request and awaits its answer."""

    def __init__(self, proc: asyncio.subprocess.Process, name: str) -> None:
        self.proc, self.name = proc, name
        self.pending: dict[int, asyncio.Future] = {}
        self.acks: list[dict] = []          # every answer, in order
        self.done = asyncio.get_running_loop().create_future()
        self.ids = 0
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, dsn: str, name: str) -> Node:
        env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
        proc = await asyncio.create_subprocess_exec(sys.executable, NODE, dsn, name, stdin=asyncio.subprocess.PIPE,
                                                    stdout=asyncio.subprocess.PIPE, env=env)
        return cls(proc, name)

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            doc = json.loads(line)
            if "done" in doc:
                self.done.set_result(doc)
                continue
            self.acks.append(doc)
            fut = self.pending.pop(doc.get("id", -1), None)
            if fut is not None and not fut.done():
                fut.set_result(doc)
        for fut in self.pending.values():
            if not fut.done():
                fut.set_exception(ConnectionError(f"node {self.name} died"))
        if not self.done.done():
            self.done.set_exception(ConnectionError(f"node {self.name} died"))

    def send(self, cmd: dict) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(cmd) + "\n").encode())

    async def charge(self, **cmd) -> dict:
        self.ids += 1
        fut = asyncio.get_running_loop().create_future()
        self.pending[self.ids] = fut
        self.send({"op": "charge", "id": self.ids, **cmd})
        return await asyncio.wait_for(fut, 60)

    async def finish(self) -> dict:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        done = await asyncio.wait_for(self.done, 60)
        assert await self.proc.wait() == 0
        return done


class Watcher:
    """An independent reader: no bucket may ever be seen below zero."""

    def __init__(self, dsn: str) -> None:
        self.dsn, self.lowest, self.samples, self.error = dsn, None, 0, None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def _run(self) -> None:
        try:
            with psycopg.connect(self.dsn, autocommit=True) as conn:
                while not self.stop.wait(0.01):
                    (low,) = conn.execute("SELECT min(remaining) FROM bucket").fetchone()
                    self.lowest = low if self.lowest is None else min(self.lowest, low)
                    self.samples += 1
        except psycopg.Error as exc:  # the test failed and its schema is gone: say so, end quietly
            self.error = exc

    def close(self) -> int:
        self.stop.set()
        self.thread.join(30)
        assert self.error is None, self.error
        return self.lowest


def audit(dsn: str) -> dict:
    with psycopg.connect(dsn, autocommit=True) as conn:
        remaining = {p: int(v) for p, v in conn.execute("SELECT product_id, sum(remaining) FROM bucket "
                                                        "GROUP BY product_id")}
        holds = 0
        open_sessions = []
        for sid, imsi, text in conn.execute("SELECT session_id, service_id, holds FROM reservation"):
            open_sessions.append((sid, imsi))
            holds += sum(int(h.split(",")[2]) for h in text.split(";") if h)
        last = {s: (k, json.loads(r)) for s, k, r in conn.execute("SELECT session_id, key, result FROM last_answer")}
    return {"remaining": remaining, "holds": holds, "open": open_sessions, "last": last}


def charged_by(doc: dict) -> int:
    return sum(item.get("c", 0) for item in doc.get("i", []))


def test_sessions_alternate_between_two_nodes_concurrently(pg_dsn):
    money = 600_000                          # 30 MB at 20,000/MB: ten sessions of 4 MB grants exceed it
    seed_all(pg_dsn, money)
    watcher = Watcher(pg_dsn)
    rnd = random.Random(11)

    async def run() -> tuple[list[dict], dict]:
        nodes = [await Node.start(pg_dsn, "a"), await Node.start(pg_dsn, "b")]
        answers: list[dict] = []

        async def session(n: int) -> None:
            imsi, sid = IMSIS[n % 4], f"s{n}"
            granted = 0
            steps = ("START", "UPDATE", "UPDATE", "STOP")
            for step, action in enumerate(steps):
                node = nodes[(n + step) % 2]  # every request on the other node than the previous one
                used = rnd.randint(0, granted) if step else 0
                cmd = dict(imsi=imsi, sid=sid, action=action, key=f"{sid}:{step}",
                           requested=None if action == "STOP" else 4 * MB, used=used)
                if n % 5 == 0 and step == 1:  # a retransmission reaching both nodes at once
                    both = await asyncio.gather(nodes[0].charge(**cmd), nodes[1].charge(**cmd))
                    assert sorted(a["duplicate"] for a in both) == [False, True]
                    assert {(a["granted"], a["charged"]) for a in both} == {(both[0]["granted"],
                                                                             both[0]["charged"])}
                    answer = next(a for a in both if not a["duplicate"])
                else:
                    answer = await node.charge(**cmd)
                    assert not answer["duplicate"]
                answers.append({**answer, "imsi": imsi, "node": node.name})
                granted = answer["granted"]

        await asyncio.gather(*(session(n) for n in range(40)))
        done = [await n.finish() for n in nodes]
        return answers, {d["done"]: d["conflicts"] for d in done}

    answers, conflicts = asyncio.run(run())
    lowest = watcher.close()
    found = audit(pg_dsn)
    assert len(answers) == 160
    assert all(a["unpaid"] == 0 for a in answers)
    assert {a["outcome"] for a in answers} >= {"SUCCESS", "CREDIT_LIMIT_REACHED"}  # the money ran out
    assert {a["node"] for a in answers if a["key"].endswith(":0")} == {"a", "b"}
    for i, imsi in enumerate(IMSIS):
        charged = sum(a["charged"] for a in answers if a["imsi"] == imsi)
        assert found["remaining"][f"p{i}"] == money - charged   # exact, per subscriber
        assert found["remaining"][f"p{i}"] >= 0
    assert found["open"] == [] and found["holds"] == 0          # every session finished (on the other node)
    assert watcher.samples > 0 and lowest >= 0


def test_kill_9_of_one_node_loses_no_acknowledged_debit(pg_dsn):
    money = 50_000_000
    seed_all(pg_dsn, money)
    watcher = Watcher(pg_dsn)

    async def run() -> tuple[list[dict], list[dict]]:
        a, b = await Node.start(pg_dsn, "a"), await Node.start(pg_dsn, "b")
        for node in (a, b):
            node.send({"op": "load", "imsis": IMSIS, "sessions": 150, "concurrency": 8})
        for _ in range(3000):                # bounded: wait for b to have acknowledged some work
            if len(b.acks) >= 120:
                break
            await asyncio.sleep(0.01)
        assert len(b.acks) >= 120, "node b never got going"
        b.proc.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(b.proc.wait(), 30) == -signal.SIGKILL
        for _ in range(6000):                # bounded: node a completes its 150 sessions x 3 requests
            if len(a.acks) >= 450:
                break
            await asyncio.sleep(0.01)
        assert len(a.acks) == 450
        # node a finishes every session node b left open (known from its acks or only from the database)
        opened = {(x["sid"], x["imsi"]) for x in b.acks}
        before_close = audit(pg_dsn)
        opened |= set(before_close["open"])
        closing = [await_stop(a, sid, imsi) for sid, imsi in sorted(opened)]
        await asyncio.gather(*closing)
        await a.finish()
        return a.acks, b.acks, before_close["last"]

    async def await_stop(node: Node, sid: str, imsi: str) -> dict:
        return await node.charge(imsi=imsi, sid=sid, action="STOP", key=f"{sid}:close", requested=None, used=0)

    acks_a, acks_b, before_close = asyncio.run(run())
    lowest = watcher.close()
    found = audit(pg_dsn)
    acked = [x for x in acks_a + acks_b if "sid" in x]
    assert len([x for x in acks_b if "sid" in x]) >= 120
    order = {"close": 99}
    for x in acked:   # every acknowledged request is durable: its session's last answer, or one before it
        sid, n = x["key"].rsplit(":", 1)
        assert sid in before_close or n == "close", f"acknowledged {x['key']} lost"
        last_key, doc = found["last"][sid] if n == "close" else before_close[sid]
        last_n = last_key.rsplit(":", 1)[1]
        assert order.get(last_n, last_n) >= order.get(n, n), f"acknowledged {x['key']} lost ({last_key} last)"
        if last_key == x["key"]:
            assert charged_by(doc) == x["charged"]
    # what the dead node committed without acknowledging it: the last request of some of its sessions
    acked_keys = {x["key"] for x in acked}
    unacked = sum(charged_by(doc) for key, doc in before_close.values() if key not in acked_keys)
    charged = sum(x["charged"] for x in acked) + unacked
    # conservation: money is in a bucket, held, or charged by a committed request -- nothing lost or made
    assert sum(found["remaining"].values()) + found["holds"] + charged == 4 * money
    assert found["open"] == [] and found["holds"] == 0   # every session of the dead node finished on node a
    assert lowest >= 0 and min(found["remaining"].values()) >= 0
