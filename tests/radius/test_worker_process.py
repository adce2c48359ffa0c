"""The supervised role as a real process: ``appliance run radius`` from a YAML file, PAP, SIGTERM."""
from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time

from tests.conftest import free_port

from .conftest import SECRET
from .helpers import radclient


def test_appliance_run_radius_serves_and_stops_on_sigterm(cfg, store, seed_subscriber, tmp_path):
    seed_subscriber(nai="proc@wlan", password="pw")
    auth, acct = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    conf = tmp_path / "appliance.yaml"
    conf.write_text(f"data_dir: {cfg.data_dir}\nrun_dir: {cfg.run_dir}\nlog_dir: {cfg.log_dir}\n"
                    f"database: {{path: appliance.db}}\n"
                    f"radius:\n  address: 127.0.0.1\n  address6: '::1'\n  auth_port: {auth}\n  acct_port: {acct}\n"
                    f"  clients:\n    - {{address: 127.0.0.1, secret: {SECRET}, name: loopback}}\n"
                    f"    - {{address: '::1', secret: {SECRET}}}\n")
    proc = subprocess.Popen([sys.executable, "-m", "appliance", "-c", str(conf), "run", "radius", "--index", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out = ""
        for _ in range(40):                       # bounded wait for the listener
            out = radclient(auth, "auth", 'User-Name = "proc@wlan"\nUser-Password = "pw"\n'
                                          'Message-Authenticator = 0x00\n')
            if "Received Access-Accept" in out or proc.poll() is not None:
                break
            time.sleep(0.25)
        assert "Received Access-Accept" in out, out
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:     # an unknown client -> SNMP event
            s.bind(("127.0.0.2", 0))
            s.sendto(bytes([1, 1, 0, 20]) + bytes(16), ("127.0.0.1", auth))
        events = []
        for _ in range(40):
            events = [json.loads(line) for f in (tmp_path / "run" / "snmp").glob("events-*.jsonl")
                      for line in f.read_text().splitlines()] if (tmp_path / "run" / "snmp").is_dir() else []
            if events:
                break
            time.sleep(0.1)
        seen = [(e["event"], e["protocol"], e["address"]) for e in events]
        assert seen == [("unknown_client", "radius", "127.0.0.2")]
        clients = json.loads((tmp_path / "run" / "radius" / "clients.json").read_text())
        assert [c["address"] for c in clients] == ["127.0.0.1/32", "::1/128"] and "secret" not in clients[0]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = None
    assert rc == 0, proc.stderr.read()[-2000:]
