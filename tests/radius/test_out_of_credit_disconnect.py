"""A product out of credit: every live RADIUS session of it gets one Disconnect-Request (RFC 5176)
from a real ``appliance run radius`` process — the session whose report ran out from the accounting
path, the product's other sessions from the ledger's OutOfCredit event (queued in the ledger's
transaction, sent by worker 0); none again for a retransmitted report."""
from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections import Counter

from appliance.ocs.units import cost_of
from appliance.radius import packet as rp
from appliance.radius.coa import RECORD_KIND
from appliance.telemetry import metrics
from tests.conftest import free_port
from tests.ledger_role import start_process, stop_process

from .conftest import SECRET
from .helpers import radclient
from .test_accounting import MIN, RATE, SIZE, NasListener, acct_text, wait_for


def test_the_other_sessions_of_a_product_out_of_credit_are_disconnected_once(cfg, store, seed_subscriber, tmp_path):
    nas = NasListener(ignore=0)
    seed_subscriber(nai="alice@wlan", password="pw", money=2 * cost_of(MIN, RATE, SIZE))   # two Starts' holds
    auth, acct = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    conf = tmp_path / "appliance.yaml"
    conf.write_text(f"data_dir: {cfg.data_dir}\nrun_dir: {cfg.run_dir}\nlog_dir: {cfg.log_dir}\n"
                    f"database: {{path: appliance.db}}\n"
                    f"radius:\n  address: 127.0.0.1\n  auth_port: {auth}\n  acct_port: {acct}\n"
                    f"  coa_timeout: 0.5\n  coa_retries: 2\n"
                    f"  clients:\n    - {{address: 127.0.0.1, secret: {SECRET}, coa_port: {nas.port}}}\n")
    ledger = start_process(conf, cfg, tmp_path / "ledger.log")       # the default: the ledger role charges
    proc = subprocess.Popen([sys.executable, "-m", "appliance", "-c", str(conf), "run", "radius", "--index", "0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    rc = None
    try:
        out = ""
        for _ in range(40):                       # bounded wait for the listener
            out = radclient(acct, "acct", acct_text("Start", "s1"))
            if "Received Accounting-Response" in out or proc.poll() is not None:
                break
            time.sleep(0.25)
        assert "Received Accounting-Response" in out, out
        assert "Received Accounting-Response" in radclient(acct, "acct", acct_text("Start", "s2"))
        time.sleep(1.5)                           # worker 0 has looked at the queue: nothing yet
        assert nas.received == []

        report = acct_text("Interim-Update", "s1", 2_000_000, 0, 30)      # past s1's hold: out of credit
        assert "Received Accounting-Response" in radclient(acct, "acct", report)
        assert wait_for(lambda: len(nas.received) >= 2), "the Disconnect-Requests did not reach the NAS"
        assert "Received Accounting-Response" in radclient(acct, "acct", report + "Acct-Delay-Time = 3\n")
        time.sleep(2.5)                           # two more passes of worker 0 over the queue

        assert all(p.code == rp.DISCONNECT_REQUEST for p in nas.received) and all(nas.valid)
        assert Counter(p.text(rp.ACCT_SESSION_ID) for p in nas.received) == {"s1": 1, "s2": 1}
        other = [p for p in nas.received if p.text(rp.ACCT_SESSION_ID) == "s2"][0]
        assert other.text(rp.USER_NAME) == "alice@wlan" and other.get(rp.EVENT_TIMESTAMP) is not None
        record = wait_for(lambda: store.transact(lambda l: l.get_doc(RECORD_KIND, "127.0.0.1|s2")))
        assert (record["result"], record["reason"], record["attempts"]) == ("ack", "out of credit (refused)", 1)
        counters = metrics.read_all(cfg.path(cfg.run_dir))
        assert counters.get("radius.disconnect.out_of_credit") == 1 and counters.get("radius.disconnect.acks") == 2
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        stop_process(ledger)
        nas.close()
    assert rc == 0, proc.stderr.read()[-2000:]
