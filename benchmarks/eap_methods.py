#!/usr/bin/env python3
"""EAP method latency with the real supplicant: eapol_test against the appliance AND FreeRADIUS 3.2.

    python3 benchmarks/eap_methods.py [--runs 20] [--no-freeradius]

For each case (EAP-TTLS/PAP, TTLS/EAP-MSCHAPv2, PEAPv0/MSCHAPv2 with crypto binding, EAP-TLS; TLS 1.2
and 1.3; EAP-TLS resumption with ``-r 1``) it runs ``eapol_test`` ``--runs`` times against one
``appliance run radius`` worker and one ``freeradius -f`` (eap module, inner-tunnel, users file),
both on loopback in a temporary directory, one authentication at a time.  ``auth_ms`` is the wall
time of one eapol_test process (its start-up, identical for both servers, included); ``trips`` the
Access-Requests it sent.  The certificates (a CA, the servers', a client's) are made here with
``cryptography``.  The machine is shared (2 cores): compare only within one run (±40 %).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.radius_load import free_udp_port, wait_ready  # noqa: E402

SECRET = "testing123"
USER, PASSWORD = "alice@wlan", "s3cret-pw"


def make_pki(d: Path) -> dict[str, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    now = dt.datetime.now(dt.UTC)

    def cert(cn: str, key, issuer=None, ca: bool = False):
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        iname, ikey = issuer if issuer else (name, key)
        return (x509.CertificateBuilder().subject_name(name).issuer_name(iname).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=30))
                .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
                .sign(ikey, hashes.SHA256()))
    out: dict[str, Path] = {}
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = cert("Bench CA", ca_key, ca=True)
    for name, c, k in [("ca", ca, ca_key)] + [
            (n, cert(cn, k, (ca.subject, ca_key)), k)
            for n, cn, k in (("server", "radius.bench", ec.generate_private_key(ec.SECP256R1())),
                             ("client", USER, ec.generate_private_key(ec.SECP256R1())))]:
        (d / f"{name}.pem").write_bytes(c.public_bytes(serialization.Encoding.PEM))
        (d / f"{name}.key").write_bytes(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))
        out[name], out[name + "_key"] = d / f"{name}.pem", d / f"{name}.key"
    return out


def start_appliance(tmp: Path, pki: dict[str, Path]) -> tuple[subprocess.Popen, int]:
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
                    f"database: {{path: appliance.db}}\n"
                    f"tls: {{certificate: {pki['server']}, key: {pki['server_key']}}}\n"
                    f"radius:\n  address: 127.0.0.1\n  auth_port: {auth}\n  acct_port: {acct}\n"
                    f"  clients:\n    - {{address: 127.0.0.1, secret: {SECRET}}}\n"
                    f"  eap_methods: [ttls, peap, tls]\n  eap_tls_ca: {pki['ca']}\n")
    cfg = Config(data_dir=f"{tmp}/data", run_dir=f"{tmp}/run", base_dir=str(tmp), database=DatabaseConfig())
    store = open_store(cfg)

    offer = Offer("bench", (Price("data", PriceType.USAGE, amount=1_000, unit=Unit.OCTETS, size=1_000_000),))

    def seed(ledger) -> None:
        ledger.put_offer(offer)
        ledger.put_product(Product("p0", "bench"))
        ledger.put_service(Service("s0", "p0", nai=USER, credentials=Credentials(password=PASSWORD)))
        ledger.add_bucket(NewBucket("p0", Unit.MONEY, 10 ** 15))
    store.transact(seed)
    store.close()
    env = dict(os.environ, APPLIANCE_CONFIG=str(conf))
    proc = subprocess.Popen([sys.executable, "-m", "appliance", "-c", str(conf), "run", "radius", "--index", "0"],
                            env=env, stdout=subprocess.DEVNULL, stderr=open(tmp / "radius0.log", "wb"))  # noqa: SIM115
    wait_ready(auth)
    return proc, auth


FREERADIUS_CONF = """
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = {tmp}
sbindir = /usr/sbin
logdir = {tmp}/log
raddbdir = {tmp}
radacctdir = {tmp}/radacct
name = freeradius
confdir = {tmp}
modconfdir = {tmp}
run_dir = {tmp}/run
db_dir = {tmp}
libdir = /usr/lib/freeradius
pidfile = {tmp}/run/freeradius.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 65536
hostname_lookups = no
log {{
    destination = files
    file = {tmp}/log/radius.log
}}
security {{
    allow_core_dumps = no
    max_attributes = 200
    reject_delay = 0
    status_server = yes
}}
thread pool {{
    start_servers = 4
    max_servers = 8
    min_spare_servers = 2
    max_spare_servers = 4
}}
client localhost {{
    ipaddr = 127.0.0.1
    secret = {secret}
}}
modules {{
    pap {{
    }}
    chap {{
    }}
    mschap {{
    }}
    files {{
        filename = {tmp}/users
    }}
    eap {{
        default_eap_type = ttls
        timer_expire = 60
        max_sessions = 4096
        tls-config tls-common {{
            private_key_file = {server_key}
            certificate_file = {server}
            ca_file = {ca}
            cipher_list = "DEFAULT"
            tls_min_version = "1.2"
            tls_max_version = "1.3"
            ecdh_curve = ""
            cache {{
                enable = {cache}
                lifetime = 24
                store {{
                    Tunnel-Private-Group-Id
                }}
            }}
            verify {{
            }}
        }}
        tls {{
            tls = tls-common
        }}
        ttls {{
            tls = tls-common
            virtual_server = "inner-tunnel"
        }}
        peap {{
            tls = tls-common
            virtual_server = "inner-tunnel"
        }}
    }}
    eap inner-eap {{
        default_eap_type = mschapv2
        mschapv2 {{
        }}
        gtc {{
            auth_type = PAP
        }}
    }}
}}
server default {{
    listen {{
        type = auth
        ipaddr = 127.0.0.1
        port = {auth}
    }}
    authorize {{
        eap {{
            ok = return
        }}
        files
        pap
    }}
    authenticate {{
        Auth-Type PAP {{
            pap
        }}
        eap
    }}
    post-auth {{
    }}
}}
server inner-tunnel {{
    authorize {{
        files
        update control {{
            &EAP-Type := MSCHAPv2
        }}
        mschap
        inner-eap {{
            ok = return
        }}
        pap
    }}
    authenticate {{
        Auth-Type PAP {{
            pap
        }}
        Auth-Type MS-CHAP {{
            mschap
        }}
        inner-eap
    }}
    post-auth {{
    }}
}}
"""


def start_freeradius(tmp: Path, pki: dict[str, Path]) -> tuple[subprocess.Popen, int] | None:
    exe = shutil.which("freeradius") or shutil.which("radiusd")
    if exe is None:
        print("freeradius not installed: skipping the reference run")
        return None
    auth = free_udp_port()
    for sub in ("log", "run", "radacct"):
        (tmp / sub).mkdir(parents=True, exist_ok=True)
    (tmp / "radiusd.conf").write_text(FREERADIUS_CONF.format(tmp=tmp, secret=SECRET, auth=auth, cache="yes",
                                                             **{k: str(v) for k, v in pki.items()}))
    (tmp / "users").write_text(f'{USER} Cleartext-Password := "{PASSWORD}"\n')
    debug = ["-xx"] if os.environ.get("FR_DEBUG") else []         # FR_DEBUG=1: its log says why a case fails
    proc = subprocess.Popen([exe, "-f", "-d", str(tmp), *debug], stdout=subprocess.DEVNULL,
                            stderr=open(tmp / "stderr.log", "wb"))  # noqa: SIM115
    try:
        wait_ready(auth)
    except SystemExit:
        proc.kill()
        print("freeradius did not start:", (tmp / "stderr.log").read_text()[-2000:], (tmp / "log/radius.log")
              .read_text()[-2000:] if (tmp / "log/radius.log").exists() else "")
        return None
    return proc, auth


CASES = [  # name, eap, phase1, phase2, repeat
    ("TTLS/PAP TLS1.2", "TTLS", "", "auth=PAP", 0),
    ("TTLS/PAP TLS1.3", "TTLS", "tls_disable_tlsv1_3=0", "auth=PAP", 0),
    ("TTLS/EAP-MSCHAPv2 TLS1.2", "TTLS", "", "autheap=MSCHAPV2", 0),
    ("PEAP/MSCHAPv2 TLS1.2", "PEAP", "peapver=0", "auth=MSCHAPV2", 0),
    ("PEAP/MSCHAPv2 TLS1.3", "PEAP", "peapver=0 tls_disable_tlsv1_3=0", "auth=MSCHAPV2", 0),
    ("EAP-TLS TLS1.2", "TLS", "", "", 0),
    ("EAP-TLS TLS1.3", "TLS", "tls_disable_tlsv1_3=0", "", 0),
    ("EAP-TLS TLS1.2 full+resumed", "TLS", "tls_disable_session_ticket=0", "", 1),
    ("TTLS/PAP TLS1.2 full+resumed", "TTLS", "", "auth=PAP", 1),
    ("PEAP/MSCHAPv2 TLS1.2 full+resumed", "PEAP", "peapver=0", "auth=MSCHAPV2", 1),
]


def eapol_once(tmp: Path, port: int, pki: dict[str, Path], eap: str, phase1: str, phase2: str,
               repeat: int) -> tuple[bool, float, list[int]]:
    lines = ['network={', '  ssid="bench"', '  key_mgmt=WPA-EAP', f'  eap={eap}', f'  identity="{USER}"',
             '  anonymous_identity="anonymous@wlan"', f'  password="{PASSWORD}"']
    if eap == "TLS":
        lines += [f'  client_cert="{pki["client"]}"', f'  private_key="{pki["client_key"]}"']
    if phase1:
        lines.append(f'  phase1="{phase1}"')
    if phase2:
        lines.append(f'  phase2="{phase2}"')
    conf = tmp / "eapol.conf"
    conf.write_text("\n".join(lines + ["}"]) + "\n")
    start = time.perf_counter()
    res = subprocess.run(["eapol_test", "-c", str(conf), "-a", "127.0.0.1", "-p", str(port), "-s", SECRET,
                          "-r", str(repeat), "-t", "10"], capture_output=True, text=True, timeout=60, check=False)
    elapsed = (time.perf_counter() - start) * 1000
    out = res.stdout
    trips = [run.count("(Access-Request)") for run in out.split("CTRL-EVENT-EAP-STARTED")[1:]]
    ok = res.returncode == 0 and f"MPPE keys OK: {repeat + 1}  mismatch: 0" in out
    return ok, elapsed, trips


def measure(tmp: Path, port: int, pki: dict[str, Path], runs: int) -> dict[str, dict]:
    results: dict[str, dict] = {}
    for name, eap, phase1, phase2, repeat in CASES:
        times, trips, ok = [], [], 0
        for _ in range(runs):
            good, ms, t = eapol_once(tmp, port, pki, eap, phase1, phase2, repeat)
            ok += good
            times.append(ms)
            trips = t
        results[name] = {"ok": ok, "runs": runs, "p50": statistics.median(times),
                         "p90": sorted(times)[int(0.9 * (len(times) - 1))], "trips": trips}
    return results


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--no-freeradius", action="store_true")
    args = ap.parse_args()
    if shutil.which("eapol_test") is None:
        print("eapol_test not installed")
        return 1
    with tempfile.TemporaryDirectory(prefix="eap-bench-") as d:
        tmp = Path(d)
        (tmp / "pki").mkdir()
        pki = make_pki(tmp / "pki")
        procs = []
        try:
            app, app_port = start_appliance(tmp / "appliance", pki)
            procs.append(app)
            fr = None if args.no_freeradius else start_freeradius(tmp / "freeradius", pki)
            if fr:
                procs.append(fr[0])
            servers = [("appliance", app_port)] + ([("freeradius", fr[1])] if fr else [])
            table = {name: measure(tmp, port, pki, args.runs) for name, port in servers}
        finally:
            for p in procs:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        print(f"{'case':34} " + " ".join(f"{s:>44}" for s in table))
        print(f"{'':34} " + " ".join(f"{'ok':>8}{'p50 ms':>10}{'p90 ms':>10}{'trips':>16}" for _ in table))
        for name, *_ in CASES:
            cells = []
            for s in table:
                r = table[s][name]
                cells.append(f"{r['ok']:>5}/{r['runs']:<2}{r['p50']:>10.1f}{r['p90']:>10.1f}{str(r['trips']):>16}")
            print(f"{name:34} " + " ".join(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
