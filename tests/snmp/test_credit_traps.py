"""The ledger's credit events reach a real snmptrapd as ocsOutOfCredit / ocsCreditRestored, once per
change: never for a rolled-back change or a retransmission."""
from __future__ import annotations

import time

import pytest

from appliance.config import load
from appliance.ledger import book
from appliance.ledger.api import LedgerClient
from appliance.ocs.units import Unit
from appliance.store import open_store
from appliance.telemetry import metrics
from tests.conftest import seed
from tests.snmp.conftest import OCS, write_config
from tests.snmp.test_traps import trapd, wait_log  # noqa: F401  (the fixture)

OUT_OF_CREDIT, CREDIT_RESTORED = f".{OCS}.0.7", f".{OCS}.0.8"
PRODUCT_ID, TEXT = f".{OCS}.1.5.6.0", f".{OCS}.1.5.5.0"


def test_credit_changes_become_notifications_once(tmp_path, trapd, start_agent):  # noqa: F811
    port, log = trapd
    conf = write_config(tmp_path, {"managers": [{"address": "127.0.0.1", "port": port,
                                                 "community": "trap-secret"}]})
    agent = start_agent(conf)
    previous = metrics.default()
    metrics.open_process_counters(agent.run_dir, "ledger0")     # this process writes balances, as the ledger
    store = open_store(load(str(conf)))
    try:
        seed(store, "001010000000001", money=0)
        LedgerClient(store)

        def refuse_then_fail(l):
            book.refused(l, "p1", 100)
            raise RuntimeError("the operation fails after the change")
        with pytest.raises(RuntimeError):
            store.transact(refuse_then_fail)
        store.transact(lambda l: book.refused(l, "p1", 100))
        store.transact(lambda l: book.refused(l, "p1", 101))      # still out: no change, no notification
        LedgerClient(store).top_up("p1", Unit.MONEY, 1_000_000)
        text = wait_log(log, CREDIT_RESTORED)
        time.sleep(1.0)                                            # five more polls of the agent
        text = log.read_text()
        outs = [line for line in text.splitlines() if OUT_OF_CREDIT in line]
        restored = [line for line in text.splitlines() if CREDIT_RESTORED in line]
        assert len(outs) == 1 and len(restored) == 1, text
        assert f'{PRODUCT_ID} = STRING: "p1"' in outs[0] and f'{TEXT} = STRING: "refused"' in outs[0]
        assert f'{PRODUCT_ID} = STRING: "p1"' in restored[0]
        assert text.index(OUT_OF_CREDIT) < text.index(CREDIT_RESTORED)
    finally:
        store.close()
        metrics._default = previous
