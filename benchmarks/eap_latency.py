#!/usr/bin/env python3
"""EAP-AKA, EAP-AKA' and EAP-TTLS/PAP authentication latency with the real supplicant (hostap's
eapol_test with its software USIM), against the appliance, FreeRADIUS 3.2 and hostapd's RADIUS
server, in the same run, alternating.

    python3 benchmarks/eap_latency.py [--runs 20]

Per round every (case, server) pair runs one eapol_test process, in a rotating server order, so
the three servers share the machine's load alike; ``--runs`` rounds.  ``ms`` is the wall time of
one eapol_test process (its start-up, identical for every server, included); ``trips`` the
Access-Requests it sent; ``server CPU`` the server process's utime+stime over its runs of the case,
per authentication (clock ticks: meaningful as a mean over many runs; hostapd's vectors are computed
in this process, not counted).  FreeRADIUS 3.2 as packaged has no EAP-AKA module (rlm_eap_aka is a
4.x module): it serves TTLS only.  hostapd (``driver=none``: RADIUS server only) gets its AKA
vectors from an hlr_auc_gw stand-in served by this process over hostapd's UNIX-socket protocol
(AKA-REQ-AUTH / AKA-AUTS), Milenage in Python like the appliance's.  Every server holds the same
subscriber (TS 35.208 test set 19 K/OPc) and the same TTLS user and certificates.  The machine is
shared (2 cores): compare only within one run.
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.eap_methods import PASSWORD, SECRET, USER, make_pki, start_freeradius  # noqa: E402
from benchmarks.radius_load import free_udp_port, wait_ready  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EAPOL_TEST = ROOT / ".ci" / "cache" / "eapol_test_usim"     # .ci/setup.d/20-eapol-test-usim.sh builds it
K = "90dca4eda45b53cf0f12d7c9c3bc6a89"                      # TS 35.208 test set 19
OPC = "cb9cccc4b9258e6dca4760379fb82581"
IMSI = "001010000000019"
REALM = "wlan.mnc001.mcc001.3gppnetwork.org"

CASES = {  # name -> (eap, servers that offer it)
    "EAP-AKA": ("AKA", ("appliance", "hostapd")),
    "EAP-AKA'": ("AKA'", ("appliance", "hostapd")),
    "EAP-TTLS/PAP TLS1.2": ("TTLS", ("appliance", "freeradius", "hostapd")),
}


def start_appliance(tmp: Path, pki: dict[str, Path], synchronous: str = "FULL") -> tuple[subprocess.Popen, int]:
    from appliance.config import Config, DatabaseConfig
    from appliance.ocs.balance import NewBucket
    from appliance.ocs.catalog import Offer, Price, PriceType
    from appliance.ocs.inventory import Credentials, Product, Service
    from appliance.ocs.units import Unit
    from appliance.store import open_store
    auth, acct = free_udp_port(), free_udp_port()
    (tmp / "data").mkdir(parents=True)
    conf = tmp / "appliance.yaml"
    conf.write_text(f"data_dir: {tmp}/data\nrun_dir: {tmp}/run\nlog_dir: {tmp}/logs\nlog_level: WARNING\n"
                    f"database: {{path: appliance.db, synchronous: {synchronous}}}\n"
                    f"tls: {{certificate: {pki['server']}, key: {pki['server_key']}}}\n"
                    f"radius:\n  address: 127.0.0.1\n  auth_port: {auth}\n  acct_port: {acct}\n"
                    f"  clients:\n    - {{address: 127.0.0.1, secret: {SECRET}}}\n"
                    f"  eap_methods: [ttls, aka, aka_prime]\n")
    cfg = Config(data_dir=f"{tmp}/data", run_dir=f"{tmp}/run", base_dir=str(tmp), database=DatabaseConfig())
    store = open_store(cfg)
    offer = Offer("bench", (Price("data", PriceType.USAGE, amount=1_000, unit=Unit.OCTETS, size=1_000_000),))

    def seed(ledger) -> None:
        ledger.put_offer(offer)
        for pid, svc in (("p0", Service("s0", "p0", nai=USER, credentials=Credentials(password=PASSWORD))),
                         ("p1", Service(IMSI, "p1", imsi=IMSI, credentials=Credentials(
                             k=bytes.fromhex(K), opc=bytes.fromhex(OPC))))):
            ledger.put_product(Product(pid, "bench"))
            ledger.put_service(svc)
            ledger.add_bucket(NewBucket(pid, Unit.MONEY, 10 ** 15))
    store.transact(seed)
    store.close()
    proc = subprocess.Popen([sys.executable, "-m", "appliance", "-c", str(conf), "run", "radius", "--index", "0"],
                            env=dict(os.environ, APPLIANCE_CONFIG=str(conf)), stdout=subprocess.DEVNULL,
                            stderr=open(tmp / "radius0.log", "wb"))  # noqa: SIM115
    wait_ready(auth)
    return proc, auth


class HlrStandIn:
    """hostapd's eap_sim_db peer (hlr_auc_gw's protocol) for one Milenage subscriber."""

    def __init__(self, path: Path) -> None:
        self.path, self.sqn = path, 0
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.5)
        self.stop = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        from appliance.eap import milenage
        k, opc = bytes.fromhex(K), bytes.fromhex(OPC)
        while not self.stop:
            try:
                data, peer = self.sock.recvfrom(1000)
            except TimeoutError:
                continue
            fields = data.decode(errors="replace").split()
            if len(fields) == 2 and fields[0] == "AKA-REQ-AUTH":
                who = fields[1]
                if who.split("@")[0] not in (IMSI, "0" + IMSI, "6" + IMSI):
                    self.sock.sendto(f"AKA-RESP-AUTH {who} FAILURE".encode(), peer)
                    continue
                self.sqn = milenage.next_sqn(self.sqn)
                v = milenage.generate(k, opc, b"\x80\x00", self.sqn, os.urandom(16))
                reply = f"AKA-RESP-AUTH {who} {v.rand.hex()} {v.autn.hex()} {v.ik.hex()} {v.ck.hex()} {v.xres.hex()}"
                self.sock.sendto(reply.encode(), peer)
            elif len(fields) == 4 and fields[0] == "AKA-AUTS":
                sqn_ms = milenage.auts_sqn(k, opc, bytes.fromhex(fields[3]), bytes.fromhex(fields[2]))
                if sqn_ms is not None:
                    self.sqn = sqn_ms

    def close(self) -> None:
        self.stop = True
        self.thread.join(2)
        self.sock.close()


HOSTAPD_CONF = """driver=none
interface=lo
logger_stdout=-1
logger_stdout_level={level}
eap_server=1
eap_user_file={tmp}/eap_user
eap_sim_db=unix:{tmp}/hlr.sock
ca_cert={ca}
server_cert={server}
private_key={server_key}
radius_server_clients={tmp}/clients
radius_server_auth_port={auth}
"""


def start_hostapd(tmp: Path, pki: dict[str, Path]) -> tuple[subprocess.Popen, int, HlrStandIn] | None:
    exe = shutil.which("hostapd")
    if exe is None:
        print("hostapd not installed: skipping its reference run")
        return None
    tmp.mkdir(parents=True, exist_ok=True)
    auth = free_udp_port()
    hlr = HlrStandIn(tmp / "hlr.sock")
    (tmp / "clients").write_text(f"127.0.0.1/32 {SECRET}\n")
    (tmp / "eap_user").write_text(f'"0"*\tAKA\n"6"*\tAKA\'\n"anonymous@wlan"\tTTLS\n'
                                  f'"{USER}"\tTTLS-PAP\t"{PASSWORD}"\t[2]\n')
    level = os.environ.get("HOSTAPD_LOG_LEVEL", "4")                 # 0 and HOSTAPD_DEBUG=1: why a case fails
    (tmp / "hostapd.conf").write_text(HOSTAPD_CONF.format(tmp=tmp, auth=auth, level=level,
                                                          **{k: str(v) for k, v in pki.items()}))
    debug = ["-dd"] if os.environ.get("HOSTAPD_DEBUG") else []
    proc = subprocess.Popen([exe, *debug, str(tmp / "hostapd.conf")], stdout=open(tmp / "stdout.log", "wb"),  # noqa: SIM115
                            stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:                 # up when its port is taken
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind(("127.0.0.1", auth))
            except OSError:
                return proc, auth, hlr
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    hlr.close()
    print("hostapd did not start:", (tmp / "stdout.log").read_text()[-2000:])
    return None


def eapol_once(tmp: Path, port: int, pki: dict[str, Path], eap: str) -> tuple[bool, float, int]:
    if eap == "TTLS":
        body = [f'identity="{USER}"', 'anonymous_identity="anonymous@wlan"', f'password="{PASSWORD}"',
                f'ca_cert="{pki["ca"]}"', 'phase2="auth=PAP"']
    else:
        prefix = "6" if eap == "AKA'" else "0"
        body = [f'identity="{prefix}{IMSI}@{REALM}"', f'password="{K}:{OPC}:000000000000"']
    conf = tmp / "eapol.conf"
    conf.write_text("network={\n  ssid=\"bench\"\n  key_mgmt=WPA-EAP\n  eap=" + eap + "\n  "
                    + "\n  ".join(body) + "\n}\n")
    start = time.perf_counter()
    res = subprocess.run([str(EAPOL_TEST), "-c", str(conf), "-a", "127.0.0.1", "-p", str(port), "-s", SECRET,
                          "-t", "10"], capture_output=True, text=True, timeout=60, check=False)
    elapsed = (time.perf_counter() - start) * 1000
    ok = res.returncode == 0 and "MPPE keys OK: 1  mismatch: 0" in res.stdout
    if not ok and os.environ.get("EAP_BENCH_DEBUG"):
        print(res.stdout[-3000:])
    return ok, elapsed, res.stdout.count("(Access-Request)")


def cpu_ms(pid: int) -> float:
    """utime + stime of a process (its threads included), in ms (/proc/<pid>/stat, proc(5))."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--synchronous", default="FULL", help="the appliance's SQLite synchronous (a diagnosis: "
                    "what its durable writes cost; the others keep AKA state in memory)")
    args = ap.parse_args()
    if not os.access(EAPOL_TEST, os.X_OK):
        print(f"{EAPOL_TEST} missing (.ci/setup.d/20-eapol-test-usim.sh builds it)")
        return 1
    with tempfile.TemporaryDirectory(prefix="eap-latency-") as d:
        tmp = Path(d)
        (tmp / "pki").mkdir()
        pki = make_pki(tmp / "pki")
        procs: list[subprocess.Popen] = []
        hlr = None
        ports: dict[str, int] = {}
        pids: dict[str, int] = {}
        try:
            app, ports["appliance"] = start_appliance(tmp / "appliance", pki, args.synchronous)
            procs.append(app)
            pids["appliance"] = app.pid
            fr = start_freeradius(tmp / "freeradius", pki)
            if fr:
                procs.append(fr[0])
                ports["freeradius"] = fr[1]
                pids["freeradius"] = fr[0].pid
            ha = start_hostapd(tmp / "hostapd", pki)
            if ha:
                procs.append(ha[0])
                ports["hostapd"], hlr = ha[1], ha[2]
                pids["hostapd"] = ha[0].pid
            servers = list(ports)
            times: dict[tuple[str, str], list[float]] = {}
            oks: dict[tuple[str, str], int] = {}
            trips: dict[tuple[str, str], int] = {}
            cpu: dict[tuple[str, str], float] = {}
            for i in range(args.runs):
                order = servers[i % len(servers):] + servers[:i % len(servers)]
                for case, (eap, offered) in CASES.items():
                    for server in order:
                        if server not in offered:
                            continue
                        before = cpu_ms(pids[server])
                        ok, ms, n = eapol_once(tmp, ports[server], pki, eap)
                        cpu[(case, server)] = cpu.get((case, server), 0.0) + cpu_ms(pids[server]) - before
                        times.setdefault((case, server), []).append(ms)
                        oks[(case, server)] = oks.get((case, server), 0) + ok
                        trips[(case, server)] = n
        finally:
            for p in procs:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
            if hlr is not None:
                hlr.close()
        print(f"{'case':22} {'server':11} {'ok':>7} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'trips':>6} "
              f"{'p50 / appliance':>16} {'server CPU ms/auth':>19}")
        for case in CASES:
            ref = statistics.median(times[(case, "appliance")])
            for server in servers:
                if (case, server) not in times:
                    continue
                t = times[(case, server)]
                print(f"{case:22} {server:11} {oks[(case, server)]:>4}/{len(t):<2} {statistics.median(t):>8.1f} "
                      f"{pct(t, 0.99):>8.1f} {statistics.mean(t):>8.1f} {trips[(case, server)]:>6} "
                      f"{statistics.median(t) / ref:>16.2f} {cpu[(case, server)] / len(t):>19.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
