"""The ledger role imports no HTTP server: the REST transaction functions it runs for the front ends
(:mod:`appliance.rest.ledger_ops`) live in modules without aiohttp, so the one door's process stays
small and starts quickly."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from appliance.config import load as load_config
from appliance.ledger.remote import call_blocking
from appliance.store import open_store
from tests.conftest import seed

IMSI = "001010000000001"
PRODUCT = "p1"

HTTP = ("aiohttp", "multidict", "yarl")
# ``appliance run ledger`` as the supervisor starts it, writing the names of every module it
# imported in its life (a lazy import during a request or at stop included) when it exits.
WRAPPER = """
import atexit, json, runpy, sys
out = sys.argv[1]
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
sys.argv = ["appliance", "run", "ledger"]
runpy.run_module("appliance", run_name="__main__", alter_sys=True)
"""


def test_the_ledger_role_imports_no_http_server(tmp_path):
    conf = tmp_path / "appliance.yaml"
    conf.write_text(json.dumps({"data_dir": str(tmp_path / "data"), "run_dir": str(tmp_path / "run"),
                                "log_dir": str(tmp_path / "logs"), "processes": {"ledger": 1}}))
    store = open_store(load_config(str(conf)))
    seed(store, IMSI, product=PRODUCT)
    store.close()
    sock = tmp_path / "run" / "ledger.sock"
    modules = tmp_path / "modules.json"
    with open(tmp_path / "ledger.log", "w") as log:
        p = subprocess.Popen([sys.executable, "-c", WRAPPER, str(modules)],
                             env=dict(os.environ, APPLIANCE_CONFIG=str(conf)), stderr=log)
    try:
        deadline = time.monotonic() + 30
        while not sock.exists() and p.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sock.exists(), (tmp_path / "ledger.log").read_text()[-2000:]   # its operations are loaded
        # one balance change and one read through the socket: the request path's imports too
        key = f"{PRODUCT}-imports"
        assert call_blocking(str(sock), "top_up", (key, int(time.time()), PRODUCT, "money", 1, None, None, ""),
                             10) > 0
        assert call_blocking(str(sock), "balance", (IMSI, int(time.time())), 10) is not None
    finally:
        p.send_signal(signal.SIGTERM)
        assert p.wait(15) == 0
    names = set(json.loads(modules.read_text()))
    # the front ends' operations were imported (so the check below is about the real set) ...
    assert {"appliance.ledger.server", "appliance.rest.ledger_ops", "appliance.rest.wallet_book",
            "appliance.rest.tmf654", "appliance.radius.acct"} <= names
    # ... and nothing of an HTTP server came with them
    assert sorted(n for n in names if n.split(".")[0] in HTTP) == []


def test_the_ledger_operations_import_no_http_server():
    """In a fresh interpreter: the ledger server module and every named operation (the front ends'
    included), as ``LedgerServer`` builds them."""
    code = ("import sys\n"
            "from appliance.ledger import operations, server\n"
            "from appliance.ocs.rating import ChargingPolicy\n"
            "ops = operations.operations(ChargingPolicy())\n"
            "assert {'rest_create', 'quota_debit', 'nrf_rate', 'wallet_subscribe'} <= set(ops), sorted(ops)\n"
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HTTP!r}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
