"""System test: the `diameter` worker process, the `appliance diameter-client` tool and
freeDiameterd as real peers, with tshark decoding a capture of all of it (zero malformed)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from appliance.diameter import codec as c
from appliance.diameter import peer
from tests.capture import Capture
from tests.conftest import free_port, need_binary, seed
from tests.ledger_role import start_process, stop_process

pytestmark = pytest.mark.system
IMSI = "001010000000001"


def wait_for(predicate, timeout: float, what: str, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def worker(cfg, store, tmp_path):
    port = free_port()
    conf = tmp_path / "appliance.yaml"
    conf.write_text(json.dumps({
        "data_dir": cfg.data_dir, "run_dir": cfg.run_dir, "log_dir": cfg.log_dir,
        "node": {"name": "ocs1", "realm": "ocs.test", "host": "ocs1.ocs.test"},
        "diameter": {"address": "127.0.0.1", "port": port, "watchdog": 30, "applications": ["ro"],
                     "peers": [{"host": "fd.test"}], "accept_realms": ["client.localdomain"]}}))
    seed(store, IMSI, money=10_000_000)
    env = dict(os.environ, APPLIANCE_CONFIG=str(conf))
    ledger = start_process(conf, cfg, tmp_path / "ledger.log", env)     # the default: the ledger role charges
    try:
        proc = subprocess.Popen([sys.executable, "-m", "appliance", "run", "diameter"], env=env,
                                stdout=subprocess.DEVNULL, stderr=open(tmp_path / "worker.log", "w"))
        peers_dir = tmp_path / "run" / "diameter"
        try:
            wait_for(lambda: list(peers_dir.glob("peers-*.json")) or proc.poll() is not None, 20, "the worker")
            assert proc.poll() is None, (tmp_path / "worker.log").read_text()
            yield port, env, peers_dir
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    finally:
        stop_process(ledger)


def client(env, port, *args):
    out = subprocess.run([sys.executable, "-m", "appliance", "diameter-client", "--server", f"127.0.0.1:{port}",
                          "--origin-host", "cli.test", "--origin-realm", "client.localdomain", "--realm", "ocs.test",
                          "--subscriber", IMSI, *args], env=env, capture_output=True, text=True, timeout=60)
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    return out.returncode, lines


def freediameter_conf(tmp_path, port) -> str:
    openssl = need_binary("openssl")
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(tmp_path / "k.pem"),
                    "-out", str(tmp_path / "c.pem"), "-days", "1", "-subj", "/CN=fd.test"],
                   check=True, capture_output=True)
    conf = tmp_path / "fd.conf"
    conf.write_text(f"""Identity = "fd.test";
Realm = "client.localdomain";
Port = {free_port()};
SecPort = {free_port()};
No_SCTP;
No_IPv6;
ListenOn = "127.0.0.1";
TwTimer = 6;
TcTimer = 2;
TLS_Cred = "{tmp_path / 'c.pem'}", "{tmp_path / 'k.pem'}";
TLS_CA = "{tmp_path / 'c.pem'}";
ConnectPeer = "ocs1.ocs.test" {{ ConnectTo = "127.0.0.1"; Port = {port}; No_TLS; }};
""")
    return str(conf)


def decode(tshark, pcap, port, *args):
    out = subprocess.run([tshark, "-r", str(pcap), "-d", f"tcp.port=={port},diameter", *args],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_worker_cli_and_freediameter_under_tshark(worker, tmp_path, charging):
    tshark = need_binary("tshark")
    fd_bin = need_binary("freeDiameterd")
    port, env, peers_dir = worker
    pcap = tmp_path / "diameter.pcapng"
    with Capture(pcap, port):               # leaves once everything sent is in the file
        # freeDiameterd connects (CER/CEA) while the client tool runs
        fd = subprocess.Popen([fd_bin, "-c", freediameter_conf(tmp_path, port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        try:
            # 1. a data session and events from the client tool (a separate process)
            rc, lines = client(env, port, "--rating-group", "32", "--used", "400000", "--updates", "2")
            assert rc == 0 and [x.get("request") for x in lines[1:]] == ["CCR-I", "CCR-U", "CCR-U", "CCR-T"]
            assert lines[1]["mscc"][0]["granted"] == 2_000_000   # 1,048,576 asked: 2 started 1 MB blocks held
            rc, lines = client(env, port, "--event", "price", "--unit", "seconds", "--amount", "150",
                               "--context", "32260@3gpp.org", "--role", "originating", "--called", "tel:+4930123",
                               "--calling", "tel:+447700900001", "--no-mscc")
            assert rc == 0 and lines[1]["cost"] == 30_000
            # 3 x 400,000 octets used in one session: 2 started 1 MB blocks (charging.rounding per_session)
            assert charging.balance(IMSI).totals["money"] == 10_000_000 - 2 * 20_000

            # 2. freeDiameterd (Tw 6 s, ours 30 s): its DWR answered by our DWA; DPR/DPA when it stops
            def fd_row():
                for f in peers_dir.glob("peers-*.json"):
                    try:
                        peers = json.loads(f.read_text())["peers"]
                    except (ValueError, OSError):
                        continue
                    for p in peers:
                        if p["host"] == "fd.test" and p["state"] == "open":
                            return p
                return None
            wait_for(fd_row, 30, "freeDiameterd to open")
            # the worker's own count of DWAs sent to fd.test (peer table, rewritten every 5 s); the
            # capture is checked for the DWR/DWA pair once it is complete
            dwa_sent = peer.COMMAND_SLOTS.index("answers_out")
            wait_for(lambda: (row := fd_row()) and row["by_command"].get("280", [0] * 6)[dwa_sent] >= 1, 40,
                     "the worker to answer freeDiameterd's DWR")

            # 3. broken requests on a raw connection: every error answer we send must decode cleanly
            import asyncio
            import random

            from .test_malformed import broken, read

            async def fuzz():
                r, w = await asyncio.open_connection("127.0.0.1", port)
                fuzz_port.append(w.get_extra_info("sockname")[1])
                w.write(c.encode(257, 0, c.FLAG_R, 1, 1, [
                    c.avp("Origin-Host", "fuzz.test"), c.avp("Origin-Realm", "client.localdomain"),
                    c.avp("Host-IP-Address", "127.0.0.1"), c.avp("Vendor-Id", 0), c.avp("Product-Name", "fuzz"),
                    c.avp("Auth-Application-Id", 4)]))
                assert (await asyncio.wait_for(read(r), 10)).result_code == 2001
                rng = random.Random(5)
                for h in range(1000, 1240):
                    w.write(broken(rng, h)[0])
                codes = [(await asyncio.wait_for(read(r), 10)).result_code for _ in range(240)]
                w.close()
                return codes
            fuzz_port: list[int] = []
            codes = asyncio.run(fuzz())
            assert len(set(codes)) >= 5 and 2001 not in codes[:16]
        finally:
            fd.send_signal(signal.SIGINT)
            fd.wait(30)                     # after its DPR and our DPA
    rows = [x.split("\t") for x in decode(tshark, pcap, port, "-Y", "diameter", "-T", "fields", "-e",
                                            "diameter.cmd.code", "-e", "diameter.flags.request").splitlines()]
    seen = {(code, req) for line in rows for code, req in zip(line[0].split(","), line[1].split(","))}
    for cmd in ("257", "280", "282", "272"):
        assert {(cmd, "1"), (cmd, "0")} <= {(c, "1" if r in ("1", "True") else "0") for c, r in seen}, (cmd, seen)
    # zero malformed / expert errors: everything we sent, and the well-formed traffic from peers
    bad = decode(tshark, pcap, port, "-Y", f"(_ws.malformed || _ws.expert.severity >= error) && "
                 f"tcp.srcport != {fuzz_port[0]}")
    assert bad.strip() == "", bad
    ours = decode(tshark, pcap, port, "-Y", f"diameter && tcp.srcport == {port} && diameter.Result-Code == 5014",
                  "-T", "fields", "-e", "frame.number")
    assert ours.strip(), "the error answers to the broken requests were not captured"
    assert len(rows) >= 20
