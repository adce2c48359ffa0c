"""End to end: real `appliance run radius` and `appliance run diameter` workers log a RADIUS accounting
session (radclient) and Ro data and voice sessions (a real CCR client over TCP) into the same acct log;
export_ipdr's CSV rows (live log and archived document) match the transactions and the money debited."""
from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from appliance.config import load
from appliance.diameter.apps import ro
from appliance.diameter.client import CONTEXT_IMS, CreditControlClient, Service, ccr, summary
from appliance.ocs.units import Unit
from appliance.store import open_store
from tests.conftest import free_port, need_binary, seed
from tests.ledger_role import start_process, stop_process

ROOT = Path(__file__).resolve().parents[2]
SECRET = "testing123"


def write_config(tmp: Path, acct_port: int, dia_port: int) -> str:
    (tmp / "etc").mkdir()
    conf = tmp / "etc" / "appliance.yaml"
    conf.write_text(f"""data_dir: var
run_dir: var/run
log_dir: logs
node: {{name: ocs-e2e, host: ocs.test, realm: test}}
money: {{currency: EUR}}
radius:
  address: 127.0.0.1
  auth_port: {free_port(socket.SOCK_DGRAM)}
  acct_port: {acct_port}
  clients: [{{address: 127.0.0.1, secret: {SECRET}, name: lo}}]
diameter:
  address: 127.0.0.1
  port: {dia_port}
  applications: [ro]
  peers: [{{host: gw.test}}]
logs: {{acct_log_dir: log/acct, auth_log_dir: log/auth, ipdr_log_dir: log/ipdr,
        acct_log_files: 4, acct_log_size: 1048576}}
""")
    return str(conf)


def worker(conf: str, role: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "appliance", "--config", conf, "run", role],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def radclient(port: int, attrs: str) -> str:
    exe = need_binary("radclient")
    for _ in range(100):                      # the worker may still be starting: radclient retries
        r = subprocess.run([exe, "-x", "-r", "3", "-t", "1", f"127.0.0.1:{port}", "acct", SECRET],
                           input=attrs, capture_output=True, text=True, timeout=30)
        if "Received Accounting-Response" in r.stdout:
            return r.stdout
    raise AssertionError(r.stdout + r.stderr)


def acct(status: str, sid: str, i: int, o: int, t: int) -> str:
    return (f'Acct-Status-Type = {status}\nAcct-Session-Id = "{sid}"\nUser-Name = "alice@wlan"\n'
            f'NAS-IP-Address = 127.0.0.1\nNAS-Identifier = "ap-7"\nCalling-Station-Id = "02-00-00-00-00-01"\n'
            f'Called-Station-Id = "AP7:corp"\nFramed-IP-Address = 10.0.0.7\nAcct-Input-Octets = {i}\n'
            f'Acct-Output-Octets = {o}\nAcct-Session-Time = {t}\nNAS-Port-Type = Wireless-802.11\n'
            + ("Acct-Terminate-Cause = User-Request\n" if status == "Stop" else ""))


def money(store, product: str) -> int:
    return sum(b.remaining for b in store.transact(lambda l: l.list_buckets(product)) if b.unit is Unit.MONEY)


async def ro_sessions(port: int, proc: subprocess.Popen) -> tuple[str, str]:
    cl = CreditControlClient("gw.test", "gw.realm")
    for _ in range(300):
        assert proc.poll() is None, proc.stderr.read()
        try:
            await cl.connect("127.0.0.1", port)
            break
        except (OSError, ConnectionError, TimeoutError):
            await asyncio.sleep(0.05)
    else:
        raise AssertionError("diameter worker did not come up")
    try:
        data = cl.session_id()
        for rt, n, svc in ((ro.INITIAL, 0, Service(Unit.OCTETS, 0, rating_group=32)),
                           (ro.UPDATE, 1, Service(Unit.OCTETS, 0, used=500_000, rating_group=32)),
                           (ro.TERMINATION, 2, Service(Unit.OCTETS, None, used=1_200_000, rating_group=32))):
            assert summary(await cl.send(ccr(data, "test", rt, n, "001010000000002", services=(svc,))))["result"] \
                == 2001
        call = cl.session_id()
        ims = dict(context=CONTEXT_IMS, role=0, calling="sip:+447700900003@ims.test", called="tel:+442071234567",
                   charging_id="icid-9", sub_type="e164", mscc=False)
        for rt, n, svc in ((ro.INITIAL, 0, Service(Unit.SECONDS, 120)),
                           (ro.UPDATE, 1, Service(Unit.SECONDS, 120, used=61)),
                           (ro.TERMINATION, 2, Service(Unit.SECONDS, None, used=5))):
            assert summary(await cl.send(ccr(call, "test", rt, n, "+447700900003", services=(svc,), **ims)))[
                "result"] == 2001
        return data, call
    finally:
        await cl.close()


def export(conf: str, *args: str) -> list[dict]:
    r = subprocess.run([sys.executable, str(ROOT / "bin" / "export_ipdr"), "-c", conf, *args],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return list(csv.DictReader(io.StringIO(r.stdout)))


def test_export_ipdr_rows_match_radius_and_ro_sessions(tmp_path):
    need_binary("radclient")
    acct_port, dia_port = free_port(socket.SOCK_DGRAM), free_port()
    conf = write_config(tmp_path, acct_port, dia_port)
    cfg = load(conf)
    store = open_store(cfg)
    seed(store, "001010000000001", product="p1", nai="alice@wlan", money=10_000_000)
    seed(store, "001010000000002", product="p2", money=10_000_000)
    seed(store, "001010000000003", product="p3", msisdn="447700900003", money=10_000_000)
    t0 = int(time.time())
    ledger = start_process(conf, cfg, tmp_path / "ledger.log", {**os.environ, "PYTHONPATH": str(ROOT)})
    procs = [worker(conf, "radius"), worker(conf, "diameter")]
    try:
        radclient(acct_port, acct("Start", "wlan-1", 0, 0, 0))
        radclient(acct_port, acct("Interim-Update", "wlan-1", 1_000_000, 500_000, 60))
        radclient(acct_port, acct("Stop", "wlan-1", 1_500_000, 2_600_000, 130))
        data_sid, call_sid = asyncio.run(asyncio.wait_for(ro_sessions(dia_port, procs[1]), 60))
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        stop_process(ledger)
    charged = {p: 10_000_000 - money(store, p) for p in ("p1", "p2", "p3")}
    store.close()
    assert all(charged.values())
    # both workers wrote into one acct log: 3 RADIUS + 6 Ro records, each tagged with its process
    q = subprocess.run([sys.executable, "-m", "appliance", "-c", conf, "logs", "query", "--log", "acct"],
                       capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    recs = [json.loads(line) for line in q.stdout.splitlines()]
    assert sorted({r["proc"] for r in recs}) == ["diameter0", "radius0"] and len(recs) == 9

    for rows in (export(conf, "--live"), _archived(conf, cfg, t0)):
        wlan = {r["acctSessionId"]: r for r in rows}
        assert set(wlan) == {"wlan-1", data_sid}
        w = wlan["wlan-1"]
        assert (w["username"], w["inputOctets"], w["outputOctets"], w["sessionDuration"]) == \
            ("alice@wlan", "1500000", "2600000", "130")
        assert (w["nasIpAddress"], w["nasId"], w["callingStationId"], w["calledStationId"], w["userIpAddress"]) == \
            ("127.0.0.1", "ap-7", "02-00-00-00-00-01", "AP7:corp", "10.0.0.7")
        assert w["chargeAmount"] == str(charged["p1"]) and w["chargeCurrencyType"] == "EUR"
        assert w["protocol"] == "radius" and w["resultCode"] == "Accounting-Response"
        assert (w["sessionTerminateCause"], w["nasPortType"]) == ("User-Request", "Wireless-802.11")
        d = wlan[data_sid]
        assert (d["chargeableUnit"], d["chargeableQuantity"]) == ("octets", str(1_700_000))
        assert d["chargeAmount"] == str(charged["p2"]) and d["scId"] == "001010000000002"
        assert d["resultCode"] == "2001" and d["protocol"] == "diameter"
    for rows in (export(conf, "--live", "-t", "voip"), _archived(conf, cfg, t0, "voip")):
        (v,) = rows
        assert (v["uniqueCallID"], v["callDuration"], v["unitsConsumed"]) == (call_sid, "66", "66")
        assert v["chargeAmount"] == str(charged["p3"]) and v["destinationID"] == "442071234567"
        # Ro logs the Subscription-Id as sent (E.164) where docs/logs.md prefers the service id: either is right
        assert v["subscriberId"] in ("001010000000003", "+447700900003") and v["hostName"] == "gw.test"
        assert v["ani"] == "sip:+447700900003@ims.test" and v["callCompletionCode"] == "2001"


def _archived(conf: str, cfg, t0: int, kind: str = "wlan") -> list[dict]:
    """`appliance logs archive` over the test's time span, then export_ipdr of that document."""
    r = subprocess.run([sys.executable, "-m", "appliance", "-c", conf, "logs", "archive", "--start", str(t0 - 1),
                        "--end", str(int(time.time()) + 2)], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)["archived"]
    assert json.loads(r.stdout)["ipdrs"] == 3
    return export(conf, "-i", doc, "-t", kind)
