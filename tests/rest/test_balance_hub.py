"""TMF654 balance events: a listener on the balance API's hub receives each change of a product's
credit state once (queued in the ledger's transaction by any process, delivered by the REST
process), nothing for a rolled-back change or one that changes nothing."""
from __future__ import annotations

import time

import pytest

from appliance.ledger import book
from appliance.ledger.api import LedgerClient
from appliance.ocs.units import Unit
from appliance.rest import balance_events
from appliance.rest.balance_events import _iso as iso
from tests.conftest import seed
from tests.rest.test_hub_delivery import INV, Listener, drained, hub_cfg, rest, users, wait_until  # noqa: F401

BALANCE_HUB = f"/tmf-api/{balance_events.API}/hub"


def test_a_balance_listener_receives_each_credit_change_once(rest, store):  # noqa: F811
    balance, inventory, filtered = Listener(), Listener(), Listener()
    srv = rest()
    hub_id = srv.api.post(BALANCE_HUB, json={"callback": balance.url}).json()["id"]
    assert srv.api.post(f"{INV}/hub", json={"callback": inventory.url}).status_code == 201
    assert srv.api.post(BALANCE_HUB, json={"callback": filtered.url,
                                           "query": "eventType=BucketCreateEvent"}).status_code == 201
    seed(store, "001010000000001", money=0)
    LedgerClient(store)                 # this process changes balances: the subscribers are installed

    now = int(time.time())

    def refuse_then_fail(l):
        book.refused(l, "p1", now)
        raise RuntimeError("the operation fails after the change")
    with pytest.raises(RuntimeError):
        store.transact(refuse_then_fail)
    store.transact(lambda l: book.refused(l, "p1", now))
    store.transact(lambda l: book.refused(l, "p1", now + 1))          # still out of credit: no change
    LedgerClient(store).top_up("p1", Unit.MONEY, 1_000_000)
    wait_until(lambda: len(balance.accepted()) >= 2, "two balance events delivered")
    wait_until(lambda: drained(store, hub_id), "queue drained")
    time.sleep(1.5)                                                # the hub polls every second

    got = balance.accepted()
    assert [e["eventType"] for e in got] == [balance_events.EVENT_TYPE] * 2
    assert [e["event"]["accumulatedBalance"] for e in got] == [
        {"product": {"id": "p1"}, "creditState": "outOfCredit", "reason": "refused",
         "stateChangeDate": iso(now)},
        {"product": {"id": "p1"}, "creditState": "inCredit", "stateChangeDate": got[1]["event"]["accumulatedBalance"]
         ["stateChangeDate"]}]
    assert len({e["eventId"] for e in got}) == 2
    assert inventory.posts == [] and filtered.posts == []
    for listener in (balance, inventory, filtered):
        listener.close()
