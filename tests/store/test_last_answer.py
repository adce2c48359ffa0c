"""Duplicate detection is bounded: one remembered answer per session, replaced by each new request;
a final answer (a session's end, an event) is kept for ``charging.event_answer_ttl`` seconds, an open
session's for ``charging.request_log_ttl`` after its last request.  Both backends."""
from __future__ import annotations

import dataclasses

from appliance.housekeeping import sweep
from appliance.ledger.api import LedgerClient
from appliance.ocs.rating import Action, ChargeRequest, UsageItem
from appliance.ocs.units import Unit
from tests.pgfixture import sql_connect

MB = 1_000_000
IMSI = "001010000000001"
T0 = 1_800_000_000


def answers(cfg) -> list[tuple[str, str, int]]:
    conn = sql_connect(cfg)
    try:
        return sorted((s, k, int(f)) for s, k, f in conn.execute("SELECT session_id, key, final FROM last_answer"))
    finally:
        conn.close()


def money(charging: LedgerClient) -> int:
    bal = charging.balance(IMSI)
    return bal.totals["money"] + bal.reserved.get("money", 0)


def test_one_row_per_session_however_many_requests(cfg, charging, seed_subscriber):
    seed_subscriber(money=10**12)

    def update(n: int) -> ChargeRequest:
        return ChargeRequest(IMSI, "s1", Action.UPDATE, (UsageItem(Unit.OCTETS, used=MB, requested=MB),),
                             request_key=f"s1:{n}", now=T0 + n)

    charging.charge(ChargeRequest(IMSI, "s1", Action.START, (UsageItem(Unit.OCTETS, requested=MB),),
                                  request_key="s1:0", now=T0))
    for n in range(1, 301):
        assert not charging.charge(update(n)).duplicate
    assert answers(cfg) == [("s1", "s1:300", 0)]
    # the latest request retransmitted is answered and not charged; an older one is no longer known
    before = money(charging)
    again = charging.charge(update(300))
    assert again.duplicate and money(charging) == before
    assert charging.run_sync(lambda l: l.recall("s1", "s1:299")) is None
    stop = ChargeRequest(IMSI, "s1", Action.STOP, (UsageItem(Unit.OCTETS, used=MB),), request_key="s1:301",
                         now=T0 + 301)
    first = charging.charge(stop)
    after_stop = money(charging)
    assert answers(cfg) == [("s1", "s1:301", 1)]          # the session's end: still one row, now final
    retransmitted = charging.charge(stop)                 # a retransmitted CCR-T gets its answer
    assert retransmitted.duplicate and retransmitted.items == first.items
    assert money(charging) == after_stop


def test_event_retransmitted_within_the_window_is_answered_then_forgotten(cfg, store, seed_subscriber):
    seed_subscriber(money=1_000_000)
    cfg = dataclasses.replace(cfg, charging=dataclasses.replace(cfg.charging, event_answer_ttl=300))
    charging = LedgerClient(store)
    debit = ChargeRequest(IMSI, "ev1", Action.DEBIT, (UsageItem(Unit.OCTETS, requested=MB),), request_key="ev1:0",
                          now=T0)
    first = charging.charge(debit)
    assert not first.duplicate and first.items[0].charged == 20_000
    assert money(charging) == 980_000
    sweep(cfg, store, T0 + 299)                            # inside the window: kept
    again = charging.charge(debit)
    assert again.duplicate and again.items == first.items
    assert money(charging) == 980_000                      # answered, not charged
    sweep(cfg, store, T0 + 301)                            # the window has passed: forgotten
    assert answers(cfg) == []
    late = charging.charge(debit)
    assert not late.duplicate and money(charging) == 960_000


def test_open_sessions_are_kept_until_silent_for_request_log_ttl(cfg, store, seed_subscriber):
    seed_subscriber(money=1_000_000)
    cfg = dataclasses.replace(cfg, charging=dataclasses.replace(cfg.charging, event_answer_ttl=60,
                                                                request_log_ttl=3_600))
    charging = LedgerClient(store)
    for sid, action in (("open", Action.START), ("done", Action.DEBIT)):
        charging.charge(ChargeRequest(IMSI, sid, action, (UsageItem(Unit.OCTETS, requested=MB),),
                                      request_key=f"{sid}:0", now=T0))
    sweep(cfg, store, T0 + 61)
    assert answers(cfg) == [("open", "open:0", 0)]         # the event went; the open session stays
    sweep(cfg, store, T0 + 3_599)
    assert answers(cfg) == [("open", "open:0", 0)]
    sweep(cfg, store, T0 + 3_601)
    assert answers(cfg) == []
