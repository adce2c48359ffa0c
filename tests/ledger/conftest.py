"""The ledger role as a process of the test: ``role`` gives the configuration and a starter."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from appliance.config import load as load_config
from appliance.store import open_store
from tests.conftest import seed

IMSI = "001010000000001"
MONEY = 100_000_000


@pytest.fixture
def role(tmp_path):
    conf = tmp_path / "appliance.yaml"
    conf.write_text(json.dumps({"data_dir": str(tmp_path / "data"), "run_dir": str(tmp_path / "run"),
                                "log_dir": str(tmp_path / "logs"), "processes": {"ledger": 1}}))
    cfg = load_config(str(conf))
    store = open_store(cfg)
    seed(store, IMSI, money=MONEY)
    store.close()
    procs: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        env = dict(os.environ, APPLIANCE_CONFIG=str(conf))
        p = subprocess.Popen([sys.executable, "-m", "appliance", "run", "ledger"], env=env,
                             stderr=open(tmp_path / f"ledger{len(procs)}.log", "w"))
        procs.append(p)
        sock = Path(cfg.path(cfg.run_dir)) / "ledger.sock"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and p.poll() is None:
            if sock.exists():
                return p
            time.sleep(0.02)
        raise AssertionError(f"ledger did not start: {(tmp_path / f'ledger{len(procs) - 1}.log').read_text()}")
    yield cfg, start
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()


