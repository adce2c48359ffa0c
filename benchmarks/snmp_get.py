"""SNMP agent throughput: v2c GET / GETBULK from a raw-UDP client, and a v3 authPriv bulk walk.

Starts the agent as its own process (as in production) on a free loopback port with a run
directory holding counter files of 4 fake workers, 50 RADIUS clients and 20 Diameter peers,
then sends pre-encoded requests with a bounded number in flight and matches answers by
request-id.  Bounded: --count requests per case (default 3000), 60 s per case at most.
Loopback only.  The machine is shared: numbers are noisy (compare within one run).

    python3 benchmarks/snmp_get.py [--count N] [--window W]
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from appliance.telemetry import metrics

P = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
COMMUNITY = b"bench-community"
AUTH = "1.3.6.1.2.1.67.1.1.1.1"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def message(kind: str, oids: list[str], request_id: int, repetitions: int = 20) -> bytes:
    pdu = P.GetBulkRequestPDU() if kind == "bulk" else P.GetRequestPDU()
    P.apiPDU.set_defaults(pdu)
    P.apiPDU.set_request_id(pdu, request_id)
    if kind == "bulk":
        P.apiBulkPDU.set_non_repeaters(pdu, 0)
        P.apiBulkPDU.set_max_repetitions(pdu, repetitions)
    P.apiPDU.set_varbinds(pdu, [(P.ObjectIdentifier(o), P.Null("")) for o in oids])
    msg = P.Message()
    P.apiMessage.set_defaults(msg)
    P.apiMessage.set_community(msg, COMMUNITY)
    P.apiMessage.set_pdu(msg, pdu)
    return encoder.encode(msg)


def request_id(data: bytes) -> int:
    msg, _ = decoder.decode(data, asn1Spec=P.Message())
    return int(P.apiPDU.get_request_id(P.apiMessage.get_pdu(msg)))


def run_case(port: int, kind: str, oids: list[str], count: int, window: int) -> tuple[float, list[float], int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect(("127.0.0.1", port))
    sock.settimeout(2.0)
    sent: dict[int, float] = {}
    latencies: list[float] = []
    next_id, lost = 1, 0
    start = time.perf_counter()
    deadline = start + 60
    while (next_id <= count or sent) and time.perf_counter() < deadline:
        while next_id <= count and len(sent) < window:
            sent[next_id] = time.perf_counter()
            sock.send(message(kind, oids, next_id))
            next_id += 1
        try:
            rid = request_id(sock.recv(65535))
        except ConnectionRefusedError:          # agent not bound yet
            time.sleep(0.2)
            lost += len(sent)
            sent.clear()
            continue
        except TimeoutError:
            lost += len(sent)
            sent.clear()
            continue
        t0 = sent.pop(rid, None)
        if t0 is not None:
            latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - start
    sock.close()
    return elapsed, latencies, lost


def prepare(base: Path, port: int) -> Path:
    run = base / "var" / "run"
    for i in range(4):
        c = metrics.Counters(run / "counters" / f"radius{i}-{900000 + i}.cnt")
        for name in ("access_requests", "access_accepts", "access_rejects", "access_challenges"):
            c.inc(f"radius.auth.{name}", 1000 + i)
            for n in range(1, 51):
                c.inc(f"radius.auth.client.{n}.{name}", n)
        c.inc("diameter.ro.requests", 10)
    (run / "radius").mkdir(parents=True, exist_ok=True)
    (run / "radius" / "clients.json").write_text(json.dumps(
        [{"index": n, "address": f"10.0.{n // 250}.{n % 250 + 1}", "name": f"nas{n}"} for n in range(1, 51)]))
    (run / "diameter").mkdir(parents=True, exist_ok=True)
    (run / "diameter" / f"peers-{os.getpid()}.json").write_text(json.dumps(
        {"pid": os.getpid(), "peers": [{"host": f"peer{n}.test", "realm": "test", "address": f"10.1.0.{n}:3868",
                                        "state": "open", "initiator": False, "requests_in": n, "answers_out": n,
                                        "opened_at": int(time.time())} for n in range(1, 21)]}))
    etc = base / "etc"
    etc.mkdir()
    conf = etc / "appliance.yaml"
    conf.write_text(json.dumps({"data_dir": "var", "run_dir": "var/run", "log_dir": "logs", "snmp": {
        "address": "127.0.0.1", "port": port, "community": COMMUNITY.decode(),
        "users": [{"name": "bench", "auth_key": "bench-auth-1", "priv_key": "bench-priv-1"}]}}))
    return conf


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=3000)
    ap.add_argument("--window", type=int, default=8)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        port = free_udp_port()
        conf = prepare(base, port)
        with open(base / "agent.log", "wb") as log:
            agent = subprocess.Popen([sys.executable, "-m", "appliance", "--config", str(conf), "run", "snmp"],
                                     stdout=log, stderr=subprocess.STDOUT, cwd=base)
        try:
            deadline = time.time() + 120
            while time.time() < deadline:
                _, lat, _ = run_case(port, "get", ["1.3.6.1.2.1.1.3.0"], 1, 1)
                if lat:
                    break
            cases = [("GET 1 varbind", "get", [f"{AUTH}.5.0"]),
                     ("GET 10 varbinds", "get", [f"{AUTH}.{i}.0" for i in range(5, 15)]),
                     ("GETBULK 20 reps (client table)", "bulk", [f"{AUTH}.16.1.5"])]
            print(f"agent pid {agent.pid}; {args.count} requests per case, window {args.window}; "
                  "shared noisy machine")
            for label, kind, oids in cases:
                for window in (1, args.window):
                    elapsed, lat, lost = run_case(port, kind, oids, args.count, window)
                    lat.sort()
                    p50 = statistics.median(lat) * 1000 if lat else float("nan")
                    p99 = lat[int(len(lat) * 0.99) - 1] * 1000 if lat else float("nan")
                    print(f"{label:32s} window {window:2d}: {len(lat) / elapsed:7.0f} req/s  "
                          f"p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  lost {lost}")
            t0 = time.perf_counter()
            out = subprocess.run(["snmpbulkwalk", "-m", "", "-On", "-v3", "-l", "authPriv", "-u", "bench", "-a", "SHA",
                                  "-A", "bench-auth-1", "-x", "AES", "-X", "bench-priv-1", f"127.0.0.1:{port}",
                                  "1.3.6.1"], capture_output=True, text=True, timeout=300, check=False)
            n = out.stdout.count("\n")
            print(f"snmpbulkwalk v3 authPriv of the whole view: {n} objects in {time.perf_counter() - t0:.2f} s")
        finally:
            agent.terminate()
            try:
                agent.wait(30)
            except subprocess.TimeoutExpired:
                agent.kill()
                print("agent did not stop in 30 s; log tail:", (base / "agent.log").read_text()[-2000:])


if __name__ == "__main__":
    main()
