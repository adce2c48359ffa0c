"""Two PostgreSQL nodes' RADIUS workers take one product off the Disconnect queue: one sends."""
from __future__ import annotations

import threading

from appliance.ledger.api import LedgerClient
from appliance.ocs.rating import Action, ChargeRequest, ChargingPolicy, UsageItem
from appliance.ocs.units import Unit
from appliance.radius import coa
from tests.conftest import seed
from tests.pg.test_pg_store import nodes, paused, wait_for_lock_waiters  # noqa: F401  (the fixture)

IMSI = "001010000000001"


def test_a_queued_product_is_claimed_by_one_node(nodes, pg_dsn):  # noqa: F811
    a, b = nodes
    seed(a, IMSI, money=10_000_000)
    LedgerClient(a, ChargingPolicy({Unit.OCTETS: 0}, 600, 60)).charge(ChargeRequest(
        IMSI, "radius:nas|s2", Action.START, (UsageItem(Unit.OCTETS, 1_000_000, 0, 1),), "radius:nas|s2:0",
        service="data"))
    a.transact(lambda l: [l.put_doc(coa.SESSION_KIND, "nas|s2", {"subscriber": IMSI, "sid": "s2"}),
                          l.put_doc(coa.DISCONNECT_QUEUE, "p1", {"reason": "refused", "at": 1})])
    gate, entered = threading.Event(), threading.Event()
    first, got_a = paused(a, lambda l: coa.claim_queued(l, 10), gate, entered)   # a holds the claim open
    got_b: dict[str, object] = {}
    second = threading.Thread(target=lambda: got_b.setdefault("r", b.transact(lambda l: coa.claim_queued(l, 20))))
    second.start()
    wait_for_lock_waiters(pg_dsn)                  # b read the queue entry and waits to delete it
    gate.set()
    first.join(30)
    second.join(30)
    assert [(key, session["disconnect"]) for key, session, _reason in got_a["r"]] == [("nas|s2", 10)]
    assert got_b["r"] == []
    assert a.transact(lambda l: l.get_doc(coa.SESSION_KIND, "nas|s2"))["disconnect"] == 10
