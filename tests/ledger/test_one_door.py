"""Balances change through one door: the ledger (appliance/ledger/book.py) and its credit events."""
from __future__ import annotations

import re
from pathlib import Path

from appliance.ledger import book, events
from appliance.ledger.api import LedgerClient
from appliance.ocs.rating import Action, ChargeRequest, ChargingPolicy, UsageItem
from appliance.ocs.units import Unit
from appliance.pcrf import tables as T
from tests.conftest import seed

ROOT = Path(__file__).resolve().parents[2] / "appliance"
# What changes a balance, a reservation or a remembered answer; only the ledger (and the core and
# the store beneath it) may call these.
WRITES = re.compile(r"(?<![.\w])(charge_in|release_stale|charge_fees_in|apply_fees)\(|"
                    r"\.(set_bucket_remaining|add_bucket|delete_bucket|put_reservation|drop_reservation|"
                    r"remember|delete_expired_buckets)\(")
INSIDE = ("ocs", "ledger", "store")


def test_no_front_end_writes_a_balance_except_through_the_ledger():
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in INSIDE:
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if WRITES.search(code) and not code.lstrip().startswith(("def ", "async def ")):
                offenders.append(f"{rel}:{n}: {line.strip()}")
    assert offenders == [], "balance writes outside the ledger:\n" + "\n".join(offenders)


def test_the_scan_finds_a_write():
    assert WRITES.search("        ledger.add_bucket(NewBucket(p, Unit.MONEY, 5))")
    assert WRITES.search("result = charge_in(ledger, req, policy)")
    assert not WRITES.search("result = book.charge(ledger, req, policy)")
    assert not WRITES.search("released = store.transact(lambda l: book.release_stale(l, now))")


def test_each_credit_change_reaches_each_subscriber_once(store):
    seed(store, "001010000000001", money=70_000)
    store.transact(lambda l: l.put_doc(T.KIND_BY_PRODUCT, "p1|gx-1", {}))     # one live Gx session
    seen: list[object] = []
    in_tx: list[object] = []

    def count(_l, event):
        in_tx.append(event)
    events.after_commit(seen.append)
    events.on_change(count)
    try:
        client = LedgerClient(store, ChargingPolicy({Unit.OCTETS: 0}, 600, 60))

        def ccr(action, number, requested=1_000_000, used=0):
            return client.charge(ChargeRequest("001010000000001", "s1", action,
                                               (UsageItem(Unit.OCTETS, requested, used, 1),),
                                               f"s1:{number}", service="data"))
        ccr(Action.START, 0)                           # granted: credit known for the first time
        assert [type(e).__name__ for e in seen] == ["CreditRestored"]
        ccr(Action.UPDATE, 1, used=1_000_000)          # granted again: no change, no event
        again = ccr(Action.UPDATE, 1, used=1_000_000)  # a retransmission: nothing
        assert again.duplicate and len(seen) == 1
        ccr(Action.UPDATE, 2, requested=3_000_000, used=1_000_000)   # 30,000 left: one of three MB, final
        assert [type(e).__name__ for e in seen] == ["CreditRestored", "OutOfCredit"]
        assert seen[-1].reason == "final_units"
        ccr(Action.UPDATE, 3, used=1_000_000)          # refused: still out, no event
        assert len(seen) == 2
        assert store.transact(lambda l: l.get_doc(T.KIND_USAGE, "p1"))["out_of_credit"] is True
        assert store.transact(lambda l: l.get_doc(T.KIND_PUSH, "gx-1"))["seq"] == 1
        client.top_up("p1", Unit.MONEY, 1_000_000)     # back in credit: one event, one Gx push
        assert [type(e).__name__ for e in seen] == ["CreditRestored", "OutOfCredit", "CreditRestored"]
        assert store.transact(lambda l: l.get_doc(T.KIND_USAGE, "p1"))["out_of_credit"] is False
        assert store.transact(lambda l: l.get_doc(T.KIND_PUSH, "gx-1"))["seq"] == 2
        assert len(in_tx) == len(seen) == 3
    finally:
        events.unsubscribe(seen.append)
        events.unsubscribe(count)


def test_a_rolled_back_change_emits_nothing(store):
    seed(store, "001010000000001", money=0)
    seen: list[object] = []
    events.after_commit(seen.append)
    try:
        LedgerClient(store)

        def refuse_then_fail(l):
            book.refused(l, "p1", 100)
            raise RuntimeError("the operation fails after the change")
        try:
            store.transact(refuse_then_fail)
        except RuntimeError:
            pass
        assert seen == [] and store.transact(lambda l: book.out_of_credit(l, "p1")) is False
        store.transact(lambda l: book.refused(l, "p1", 100))
        assert [type(e).__name__ for e in seen] == ["OutOfCredit"]
    finally:
        events.unsubscribe(seen.append)
