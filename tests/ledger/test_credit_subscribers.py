"""Every subscriber of the ledger's credit events hears each change once: RADIUS (Disconnect-Request
queue), the TMF hub (the balance API's listeners' outbox), SNMP (notification lines) — and none
hears a retransmission or a rolled-back change."""
from __future__ import annotations

import json

import pytest

from appliance.ledger import book
from appliance.ledger.api import LedgerClient
from appliance.ocs.rating import Action, ChargeRequest, ChargingPolicy, UsageItem
from appliance.ocs.units import Unit
from appliance.radius import acct, coa
from appliance.rest import balance_events, outbox
from appliance.telemetry import events as telemetry_events
from tests.conftest import seed

SUBSCRIBER = "001010000000001"


@pytest.fixture
def snmp_lines(tmp_path, monkeypatch):
    path = tmp_path / "snmp" / "events-1.jsonl"
    monkeypatch.setattr(telemetry_events, "_events_file", lambda: path)

    def read() -> list[dict[str, object]]:
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return read


def hub_events(store, hub_id: str) -> list[dict[str, object]]:
    docs = store.transact(lambda l: l.list_docs(outbox.EVENT_DOC, f"{hub_id}/"))
    return [doc["event"] for _key, doc in docs]


def states(items: list[dict[str, object]]) -> list[str]:
    return [e["event"][balance_events.RESOURCE]["creditState"] for e in items]  # type: ignore[index]


def test_each_change_reaches_radius_the_hub_and_snmp_once(store, snmp_lines):
    seed(store, SUBSCRIBER, money=70_000)
    store.transact(lambda l: [l.put_doc(outbox.HUB_DOC, "balance", {"api": balance_events.API, "callback": "x"}),
                              l.put_doc(outbox.HUB_DOC, "other", {"api": "productCatalogManagement/v4",
                                                                  "callback": "x"}),
                              l.put_doc(outbox.HUB_DOC, "filtered", {"api": balance_events.API, "callback": "x",
                                                                     "query": "eventType=BucketCreateEvent"})])
    client = LedgerClient(store, ChargingPolicy({Unit.OCTETS: 0}, 600, 60))

    def ccr(session, action, number, requested=1_000_000, used=0):
        return client.charge(ChargeRequest(SUBSCRIBER, session, action, (UsageItem(Unit.OCTETS, requested, used, 1),),
                                           f"{session}:{number}", service="data"))
    # two RADIUS sessions of the product, each holding a reservation; s1 is the one whose report runs out
    for sid in ("s1", "s2"):
        store.transact(lambda l, sid=sid: l.put_doc(acct.SESSION_KIND, f"nas|{sid}", {
            "subscriber": SUBSCRIBER, "sid": sid, "csid": f"radius:nas|{sid}", "addr": "127.0.0.1"}))
    ccr("radius:nas|s2", Action.START, 0, requested=500_000)             # in credit: CreditRestored
    ccr("radius:nas|s1", Action.START, 0)
    assert [e["event"] for e in snmp_lines()] == ["credit_restored"]
    assert states(hub_events(store, "balance")) == ["inCredit"]
    assert store.transact(lambda l: coa.claim_queued(l, 100)) == []      # nothing to disconnect

    ccr("radius:nas|s1", Action.UPDATE, 1, requested=3_000_000, used=1_000_000)    # final units: out of credit
    again = ccr("radius:nas|s1", Action.UPDATE, 1, requested=3_000_000, used=1_000_000)   # a retransmission
    assert again.duplicate
    ccr("radius:nas|s1", Action.UPDATE, 2, used=1_000_000)             # refused: still out, no event
    assert [(e["event"], e.get("reason")) for e in snmp_lines()] == [("credit_restored", None),
                                                                      ("out_of_credit", "final_units")]
    assert states(hub_events(store, "balance")) == ["inCredit", "outOfCredit"]
    assert hub_events(store, "other") == hub_events(store, "filtered") == []

    # the accounting path marks the reporting session in its report's transaction; the worker claims the rest
    store.transact(lambda l: l.put_doc(acct.SESSION_KIND, "nas|s1", {**l.get_doc(acct.SESSION_KIND, "nas|s1"),
                                                                      "disconnect": 100}))
    picked = store.transact(lambda l: coa.claim_queued(l, 200))
    assert [(key, reason) for key, _session, reason in picked] == [("nas|s2", "out of credit (final_units)")]
    assert picked[0][1]["disconnect"] == 200
    assert store.transact(lambda l: coa.claim_queued(l, 300)) == []      # claimed once

    client.top_up("p1", Unit.MONEY, 1_000_000)                          # back in credit
    assert [e["event"] for e in snmp_lines()] == ["credit_restored", "out_of_credit", "credit_restored"]
    assert states(hub_events(store, "balance")) == ["inCredit", "outOfCredit", "inCredit"]
    assert store.transact(lambda l: coa.claim_queued(l, 400)) == []


def test_a_rolled_back_change_queues_and_notifies_nothing(store, snmp_lines):
    seed(store, SUBSCRIBER, money=0)
    store.transact(lambda l: l.put_doc(outbox.HUB_DOC, "balance", {"api": balance_events.API, "callback": "x"}))
    LedgerClient(store)

    def refuse_then_fail(l):
        book.refused(l, "p1", 100)
        raise RuntimeError("the operation fails after the change")
    with pytest.raises(RuntimeError):
        store.transact(refuse_then_fail)
    assert snmp_lines() == [] and hub_events(store, "balance") == []
    assert store.transact(lambda l: l.list_docs(coa.DISCONNECT_QUEUE)) == []
    store.transact(lambda l: book.refused(l, "p1", 100))
    assert [e["event"] for e in snmp_lines()] == ["out_of_credit"]
    assert states(hub_events(store, "balance")) == ["outOfCredit"]
    assert [key for key, _doc in store.transact(lambda l: l.list_docs(coa.DISCONNECT_QUEUE))] == ["p1"]


def test_credit_restored_before_the_worker_came_takes_the_product_off_the_queue(store):
    seed(store, SUBSCRIBER, money=0)
    LedgerClient(store)
    store.transact(lambda l: book.refused(l, "p1", 100))
    assert store.transact(lambda l: l.get_doc(coa.DISCONNECT_QUEUE, "p1")) is not None
    LedgerClient(store).top_up("p1", Unit.MONEY, 1_000_000)
    assert store.transact(lambda l: l.get_doc(coa.DISCONNECT_QUEUE, "p1")) is None


def test_names_shared_with_modules_not_imported():
    from appliance.rest import tmf654
    assert coa.SESSION_KIND == acct.SESSION_KIND and balance_events.API == tmf654.API


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request) -> str:
    return str(request.param)
