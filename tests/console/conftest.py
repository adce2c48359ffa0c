"""A running appliance for the console and /metrics tests: the ledger role, RADIUS, Diameter and REST
workers as processes on free loopback ports, one subscriber, an admin and a read-only user."""
from __future__ import annotations

import asyncio
import concurrent.futures
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml

from appliance.config import load
from appliance.diameter.apps import ro
from appliance.diameter.client import CreditControlClient, Service, ccr, summary
from appliance.ocs.units import Unit
from appliance.store import open_store
from tests.conftest import free_port, seed, wait_bound
from tests.ledger_role import start_process, stop_process
from tests.rest.conftest import ADMIN, READER, add_user

SECRET = "testing123"
IMSI = "001010000000077"
MSISDN = "447700900077"
NAI = "alice@console.test"


@dataclass
class Appliance:
    base: Path
    conf: Path
    doc: dict
    url: str

    def get(self, path: str, auth: tuple[str, str] = ADMIN) -> requests.Response:
        return requests.get(self.url + path, auth=auth, timeout=30)


def _worker(conf: Path, role: str, index: int = 0) -> subprocess.Popen:
    with open(conf.parent.parent / f"{role}{index}.log", "wb") as log:
        return subprocess.Popen([sys.executable, "-m", "appliance", "--config", str(conf), "run", role,
                                 "--index", str(index)], stdout=log, stderr=subprocess.STDOUT, cwd=conf.parent.parent)




@pytest.fixture(scope="module")
def appliance(tmp_path_factory):
    base = tmp_path_factory.mktemp("console-appliance")
    (base / "etc").mkdir()
    auth, acct = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    dia, rest, scrape = free_port(), free_port(), free_port()
    doc = {"data_dir": "var", "run_dir": "var/run", "log_dir": "logs",
           "radius": {"address": "127.0.0.1", "auth_port": auth, "acct_port": acct,
                      "clients": [{"address": "127.0.0.1", "secret": SECRET, "name": "nas-lo",
                                   "require_message_authenticator": False}]},
           "diameter": {"address": "127.0.0.1", "port": dia, "peers": [{"host": "gw.test"}],
                        "accept_realms": ["gw.realm"]},
           "rest": {"address": "127.0.0.1", "port": rest, "access_log": False, "metrics_port": scrape},
           "processes": {"stop_wait": 2}}
    conf = base / "etc" / "appliance.yaml"
    conf.write_text(yaml.safe_dump(doc))
    store = open_store(load(str(conf)))
    try:
        seed(store, IMSI, money=10_000_000, msisdn=MSISDN, nai=NAI)
        add_user(store, *ADMIN, ["admin"])
        add_user(store, *READER, ["readonly"])
    finally:
        store.close()
    ledger = start_process(conf, load(str(conf)), base / "ledger0.log")     # the default: it charges
    procs = [_worker(conf, "radius"), _worker(conf, "diameter"), _worker(conf, "rest")]
    try:
        wait_bound(acct, socket.SOCK_DGRAM)
        wait_bound(dia, socket.SOCK_STREAM)
        wait_bound(rest, socket.SOCK_STREAM)
        yield Appliance(base, conf, doc, f"http://127.0.0.1:{rest}")
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
        stop_process(ledger)


def ro_session(port: int, imsi: str = IMSI, used: int = 1_500_000) -> list[int]:
    """One Ro data session (CCR-I, -U, -T) from a real client peer; the CCAs' result codes."""
    async def go() -> list[int]:
        client = CreditControlClient("gw.test", "gw.realm")
        await client.connect("127.0.0.1", port)
        try:
            sid = client.session_id()
            codes = []
            for kind, n, svc in ((ro.INITIAL, 0, Service(Unit.OCTETS, 0, rating_group=32)),
                                 (ro.UPDATE, 1, Service(Unit.OCTETS, 0, used=used // 2, rating_group=32)),
                                 (ro.TERMINATION, 2, Service(Unit.OCTETS, None, used=used - used // 2,
                                                             rating_group=32))):
                codes.append(summary(await client.send(ccr(sid, "ocs.localdomain", kind, n, imsi,
                                                           services=(svc,))))["result"])
            return codes
        finally:
            await client.close()
    # its own thread: Playwright's sync API keeps an event loop running in the test's thread
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, asyncio.wait_for(go(), 60)).result(90)
