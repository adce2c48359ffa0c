"""A per-subscriber trace across two appliance Diameter nodes on one PostgreSQL: ``appliance trace``
run on node a follows a Ro session (CCR-I/U/T, RFC 4006 §5) that node b serves; the trace request is
in the shared store, node b's worker queues its events there, the command reads them, and nothing of
the trace is left in the store when it ends."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time

import pytest

from appliance.diameter import client as dc
from appliance.diameter.apps import ro
from appliance.store.postgres import PostgresStore
from appliance.trace import EVENT_KIND, REQUEST_KIND
from tests.pg.test_two_nodes import IMSIS, seed_all
from tests.pg.test_two_nodes_ro import MB, ROOT, connect, request, start_node, stop

pytestmark = pytest.mark.system


def _docs(dsn: str, kind: str) -> list[tuple[str, dict]]:
    st = PostgresStore(dsn, pool_size=1)
    try:
        return st.transact(lambda l: l.list_docs(kind))
    finally:
        st.close()


def test_a_trace_on_one_node_sees_the_ccrs_another_node_serves(tmp_path, pg_dsn):
    seed_all(pg_dsn, 100_000_000)
    (pa, port_a, log_a), (pb, port_b, log_b) = (start_node(tmp_path, "ocs-a", pg_dsn),
                                                start_node(tmp_path, "ocs-b", pg_dsn))
    env = dict(os.environ, APPLIANCE_CONFIG=str(tmp_path / "ocs-a" / "appliance.yaml"),
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    tracer = None
    try:
        async def ready() -> None:                   # both nodes answer CER before the trace starts
            for cl in (await connect(port_a, log_a, pa), await connect(port_b, log_b, pb)):
                await cl.close()
        asyncio.run(ready())
        started = time.monotonic()
        tracer = subprocess.Popen([sys.executable, "-m", "appliance", "trace", IMSIS[0], "--minutes", "1",
                                   "--events", "6"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        for _ in range(100):                         # bounded: the request reaches the shared store
            if _docs(pg_dsn, REQUEST_KIND):
                break
            time.sleep(0.1)
        [(name, req)] = _docs(pg_dsn, REQUEST_KIND)
        assert req["node"] == "ocs-a.ocs.test" and IMSIS[0] in req["identities"]
        time.sleep(2.5)                              # node b's worker looks at the store once a second

        async def sessions() -> None:
            cl = await connect(port_b, log_b, pb)
            try:
                for imsi in (IMSIS[1], IMSIS[0]):    # another subscriber first: not traced
                    sid = cl.session_id()
                    for number, (rtype, req_, used) in enumerate([(ro.INITIAL, MB, None), (ro.UPDATE, MB, MB),
                                                                  (ro.TERMINATION, None, MB)]):
                        answer = await cl.send(request(sid, rtype, number, imsi, req_, used), timeout=30)
                        assert dc.summary(answer)["result"] == 2001
                        if imsi == IMSIS[0]:
                            await asyncio.sleep(1.5)   # node b hands each request over in its own batch
            finally:
                await cl.close()
        asyncio.run(sessions())
        out, err = tracer.communicate(timeout=30)
        elapsed = time.monotonic() - started
    finally:
        if tracer is not None and tracer.poll() is None:
            tracer.kill()
        stop(pa)
        stop(pb)
    assert tracer.returncode == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    assert len(events) == 6, events
    assert {e["node"] for e in events} == {"ocs-b.ocs.test"}
    requests = [e for e in events if e["event"] == "request"]
    answers = [e for e in events if e["event"] == "answer"]
    assert {e["identity"] for e in requests} == {IMSIS[0]}
    types = sorted(dict((k, v) for k, v in e["avps"])["CC-Request-Type"] for e in requests)
    assert types == [1, 2, 3] and [a["result"] for a in answers] == [2001] * 3
    assert all("balance" in a for a in answers)
    assert len({e["session"] for e in events}) == 1
    assert len({json.dumps(e, sort_keys=True) for e in events}) == 6     # each event read once
    assert _docs(pg_dsn, REQUEST_KIND) == [] and _docs(pg_dsn, EVENT_KIND) == []   # nothing left behind
    assert elapsed < 40


def test_the_console_trace_on_one_node_sees_another_nodes_ccrs(tmp_path, pg_dsn):
    import requests

    from tests.conftest import free_port
    from tests.rest.conftest import ADMIN, add_user
    seed_all(pg_dsn, 100_000_000)
    st = PostgresStore(pg_dsn, pool_size=1)
    try:
        add_user(st, *ADMIN, ["admin"])
    finally:
        st.close()
    (pa, _port_a, _log_a), (pb, port_b, log_b) = (start_node(tmp_path, "ocs-a", pg_dsn),
                                                start_node(tmp_path, "ocs-b", pg_dsn))
    conf = tmp_path / "ocs-a" / "appliance.yaml"                  # node a's REST process
    doc = json.loads(conf.read_text())
    rest = free_port()
    doc["rest"] = {"address": "127.0.0.1", "port": rest, "access_log": False}
    rest_conf = tmp_path / "ocs-a" / "rest.yaml"
    rest_conf.write_text(json.dumps(doc))
    env = dict(os.environ, APPLIANCE_CONFIG=str(rest_conf),
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    web = subprocess.Popen([sys.executable, "-m", "appliance", "run", "rest"], env=env,
                           stdout=subprocess.DEVNULL, stderr=open(tmp_path / "rest.log", "w"))
    url = f"http://127.0.0.1:{rest}/console/api/trace"
    try:
        for _ in range(300):                          # bounded: the REST worker is starting
            try:
                started = requests.post(url, json={"identity": IMSIS[0], "minutes": 1, "events": 6},
                                        auth=ADMIN, timeout=10)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert started.status_code == 201, started.text
        name = started.json()["name"]
        assert [k for k, _d in _docs(pg_dsn, REQUEST_KIND)] == [name]
        time.sleep(2.5)                               # node b's worker looks at the store once a second

        async def session() -> None:
            cl = await connect(port_b, log_b, pb)
            try:
                sid = cl.session_id()
                for number, (rtype, req_, used) in enumerate([(ro.INITIAL, MB, None), (ro.UPDATE, MB, MB),
                                                              (ro.TERMINATION, None, MB)]):
                    answer = await cl.send(request(sid, rtype, number, IMSIS[0], req_, used), timeout=30)
                    assert dc.summary(answer)["result"] == 2001
            finally:
                await cl.close()
        asyncio.run(session())
        events, offset = [], 0
        for _ in range(10):                           # bounded long polls
            page = requests.get(f"{url}/{name}?offset={offset}&wait=5", auth=ADMIN, timeout=30).json()
            events += page["events"]
            offset = page["offset"]
            if len(events) >= 6:
                break
        assert requests.delete(f"{url}/{name}", auth=ADMIN, timeout=30).status_code == 204
    finally:
        web.terminate()
        web.wait(15)
        stop(pa)
        stop(pb)
    assert len(events) == 6 and {e["node"] for e in events} == {"ocs-b.ocs.test"}
    assert [e["event"] for e in events] == ["request", "answer"] * 3
    assert _docs(pg_dsn, REQUEST_KIND) == [] and _docs(pg_dsn, EVENT_KIND) == []
