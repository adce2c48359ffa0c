"""Ledger processes of one or several "nodes" sharing one store, for the shard tests: each node is a
configuration file with its own run directory and node name (same data directory or DSN)."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from appliance.config import Config
from appliance.config import load as load_config
from appliance.store.leases import read_owners

SECRET = "s3cret-of-the-cluster-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def node_config(tmp: Path, name: str, shards: int, ledgers: int = 1, database: dict[str, Any] | None = None,
                tcp: bool = False, secret: str = SECRET, interval: float = 0.2, timeout: float = 15.0,
                **more: Any) -> Config:
    root = tmp / name
    root.mkdir(parents=True, exist_ok=True)
    ledger: dict[str, Any] = {"shards": shards, "lease_interval": interval, **more}
    if tcp:
        ledger.update(listen="127.0.0.1", port=free_port(), secret=secret)
    doc = {"data_dir": str(tmp / "data"), "run_dir": str(root / "run"), "log_dir": str(root / "logs"),
           "node": {"name": name}, "processes": {"ledger": ledgers, "ledger_timeout": timeout}, "ledger": ledger}
    if database:
        doc["database"] = database
    conf = root / "appliance.yaml"
    conf.write_text(json.dumps(doc))
    return load_config(str(conf))


class Ledgers:
    """Started ledger processes, stopped (TERM, then KILL) at the end."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []

    def start(self, cfg: Config, index: int = 0) -> subprocess.Popen[bytes]:
        from appliance.ledger.server import socket_path
        log = Path(cfg.path(cfg.log_dir)) / f"ledger-{index}-{len(self.procs)}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, APPLIANCE_CONFIG=cfg.source)
        p = subprocess.Popen([sys.executable, "-m", "appliance", "run", "ledger", "--index", str(index)], env=env,
                             stderr=open(log, "w"))      # noqa: SIM115 -- the child holds it
        self.procs.append(p)
        self.logs.append(log)
        sock = socket_path(cfg, index)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and p.poll() is None:
            if sock.exists():
                return p
            time.sleep(0.02)
        raise AssertionError(f"ledger did not start: {log.read_text()}")

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)


def wait_owners(cfg: Config, shards: int, seconds: float = 15.0,
                not_socket: str | None = None) -> dict[int, tuple[str, str, str, int]]:
    """The owners' table once every shard has an owner (none of them ``not_socket``)."""
    deadline = time.monotonic() + seconds
    owners: dict[int, tuple[str, str, str, int]] = {}
    while time.monotonic() < deadline:
        owners = read_owners(cfg)
        if len(owners) == shards and all(o[1] != not_socket for o in owners.values()):
            return owners
        time.sleep(0.05)
    raise AssertionError(f"shards without an owner after {seconds} s: {owners}")
