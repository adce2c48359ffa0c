"""Two real `appliance run diameter` worker processes: worker 0 holds the HSS connection, the
access gateway's connection lands on worker 1, and EAP-AKA / EAP-AKA' with ``vectors: hss``
still succeed -- worker 1's MAR/SAR go to the HSS through worker 0 (the inter-worker relay) --
and the HSS's RTR, arriving on worker 0, reaches the gateway as an ASR through worker 1."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

from appliance.diameter import codec as c
from appliance.diameter.apps import aaa as A
from appliance.eap import aka_codec as ac
from appliance.telemetry import metrics
from tests.conftest import free_port

from .conftest import HSS_IMSI, HSS_REALM, OPC, K, provision, ue
from .peers import AccessGateway, Hss


def stop_all(procs: list[subprocess.Popen]) -> None:
    """SIGTERM every worker, then wait for each (SIGKILL after 15 s)."""
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def write_config(cfg, port: int, hss_port: int) -> str:
    path = cfg.path("appliance.yaml")
    path.write_text(json.dumps({
        "data_dir": str(cfg.path(cfg.data_dir)), "run_dir": str(cfg.path(cfg.run_dir)),
        "log_dir": str(cfg.path(cfg.log_dir)),
        "node": {"host": "aaa.test", "realm": "aaa.realm"},
        "diameter": {"address": "127.0.0.1", "port": port, "applications": ["sta", "swm", "s6b", "swx"],
                     "peers": [{"host": "twan.test"},
                               {"host": "hss.test", "realm": "hss.realm", "address": "127.0.0.1", "port": hss_port}]},
        "aaa": {"sweep_interval": 0,
                "realms": [{"realm": HSS_REALM, "vectors": "hss", "hss_host": "hss.test", "hss_realm": "hss.realm"}]}}))
    return str(path)


def start_worker(conf: str, index: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "appliance", "--config", conf, "run", "diameter",
                             "--index", str(index)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": os.getcwd()})


def tables(run_dir) -> list[dict]:
    out = []
    for f in (run_dir / "diameter").glob("peers-*.json"):
        try:
            out.append(json.loads(f.read_text()))
        except (OSError, ValueError):
            pass                       # replaced while we read it
    return out


def holder(run_dir, host: str) -> int | None:
    for t in tables(run_dir):
        if any(p["host"] == host and p["state"] == "open" for p in t["peers"]):
            return t.get("worker")
    return None


async def until(predicate, what: str, procs, tries: int = 600):
    for _ in range(tries):                       # bounded: 60 s on a loaded machine
        for p in procs:
            assert p.poll() is None, f"a worker exited: {p.stderr.read()}"
        value = predicate()
        if value is not None and value is not False:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_hss_vectors_and_rtr_through_the_worker_that_holds_the_peer(cfg, store):
    run_dir = cfg.path(cfg.run_dir)
    port, hss_port = free_port(), free_port()
    conf = write_config(cfg, port, hss_port)

    async def go():
        hss = Hss()
        hss.subscribers[HSS_IMSI] = [K, OPC, 0]
        await hss.node.listen("127.0.0.1", hss_port)
        procs = [start_worker(conf, i) for i in (0, 1)]
        gw = None
        try:
            await until(lambda: holder(run_dir, "hss.test") == 0, "worker 0 to open the HSS", procs)
            await until(lambda: sorted(t.get("worker") for t in tables(run_dir)) == [0, 1], "both workers", procs)
            # the gateway reconnects until the kernel gives its connection to worker 1 (p = 1/2 each time)
            for _attempt in range(40):
                gw = AccessGateway()
                await gw.connect(port)
                if await until(lambda: holder(run_dir, "twan.test"), "the gateway's row", procs) == 1:
                    break
                await gw.node.stop(1)
                await until(lambda: holder(run_dir, "twan.test") is None, "the gateway's row to close", procs)
                gw = None
            assert gw is not None, "40 connections all landed on worker 0"
            assert holder(run_dir, "hss.test") == 0                         # worker 1 has no HSS connection

            terminal = ue(ac.AKA_PRIME, imsi=HSS_IMSI, realm=HSS_REALM)
            sid = gw.node.new_session_id("sta-relay")
            dea, _ = await gw.eap(A.STA, sid, terminal, anid="WLAN")
            assert dea.result_code == c.SUCCESS and dea.find(464).data == terminal.msk
            assert dea.find(493).text == "internet.hss"                     # SAR answer relayed too
            terminal = ue(ac.AKA, imsi=HSS_IMSI, realm=HSS_REALM)
            sid2 = gw.node.new_session_id("swm-relay")
            dea, _ = await gw.eap(A.SWM, sid2, terminal)
            assert dea.result_code == c.SUCCESS and dea.find(464).data == terminal.msk
            assert len(hss.mar) == 2 and len(hss.sar) == 2
            doc = store.transact(lambda l: l.get_doc(A.SESSION_KIND, sid))
            assert doc["owner"] == 1 and doc["hss"] is True
            counts = metrics.read_all(run_dir)
            assert counts.get("diameter.relay.requests", 0) >= 4 and counts.get("diameter.relay.answers", 0) >= 4
            assert counts.get("diameter.relay.forwarded", 0) >= 4 and counts.get("diameter.relay.failures", 0) == 0

            # the HSS deregisters the user on worker 0; the ASRs go to the gateway through worker 1
            rta = await hss.deregister(HSS_IMSI)
            assert rta.result_code == c.SUCCESS
            asrs = {(await asyncio.wait_for(gw.asr.get(), 30)).session_id for _ in range(2)}
            assert asrs == {sid, sid2}
            await until(lambda: store.transact(lambda l: l.get_doc(A.SESSION_KIND, sid)) is None or None,
                        "the aborted session to be removed", procs)
        finally:
            if gw is not None:
                await gw.node.stop(1)
            stop_all(procs)
            await hss.node.stop(1)
        assert not list((run_dir / "diameter").glob("worker-*.sock"))     # stopped workers remove them
    asyncio.run(asyncio.wait_for(go(), 240))


def test_an_operators_abort_leaves_the_worker_that_owns_the_session(cfg, store):
    """The console's abort (``Aaa.request_abort`` on the session's document, from another process)
    reaches the access gateway as an ASR from the worker process that owns the session."""
    provision(store)
    run_dir = cfg.path(cfg.run_dir)
    port = free_port()
    path = cfg.path("appliance.yaml")
    path.write_text(json.dumps({
        "data_dir": str(cfg.path(cfg.data_dir)), "run_dir": str(run_dir), "log_dir": str(cfg.path(cfg.log_dir)),
        "node": {"host": "aaa.test", "realm": "aaa.realm"},
        "diameter": {"address": "127.0.0.1", "port": port, "applications": ["sta", "swm", "s6b"],
                     "peers": [{"host": "twan.test"}]},
        "aaa": {"sweep_interval": 0.2}}))

    async def go():
        procs = [start_worker(str(path), 0)]
        gw = None
        try:
            await until(lambda: tables(run_dir) or None, "the worker", procs)
            gw = AccessGateway()
            await gw.connect(port)
            sid = gw.node.new_session_id("sta-abort")
            dea, _ = await gw.eap(A.STA, sid, ue())
            assert dea.result_code == c.SUCCESS
            await asyncio.sleep(0.5)                                       # sweeps pass: nothing to abort
            assert gw.asr.empty()
            assert store.transact(lambda l: A.Aaa.request_abort(l, sid, "operator abort (console, admin)", 1))
            asr = await asyncio.wait_for(gw.asr.get(), 30)
            assert asr.session_id == sid and asr.app_id == A.STA
            await until(lambda: store.transact(lambda l: l.get_doc(A.SESSION_KIND, sid)) is None or None,
                        "the aborted session to be removed", procs)
        finally:
            if gw is not None:
                await gw.node.stop(1)
            stop_all(procs)
    asyncio.run(asyncio.wait_for(go(), 120))
