"""PCRF session decisions over a real SQLite store (no Diameter)."""
from __future__ import annotations

import dataclasses

from appliance.ocs.catalog import Offer
from appliance.ocs.policy import Arp, Flow, MonitoringQuota, PolicyRule, PolicyTable, QoS, RuleKind, SessionQoS
from appliance.pcrf import engine as E
from appliance.pcrf import tables as T

from ..conftest import DATA_OFFER, seed

DEFAULT = SessionQoS(1_000, 2_000, 9, Arp(9))
ANY = "permit out ip from any to any"
WEB = PolicyRule("web", RuleKind.DYNAMIC, 100, (Flow(ANY),), QoS(9), None, "mk1")
SLOW = PolicyRule("slow", RuleKind.DYNAMIC, 10, (Flow(ANY),), QoS(9, None, 64_000, 128_000))
GOLD = PolicyRule("gold", RuleKind.PREDEFINED)
TABLE = PolicyTable("t1", (GOLD, SLOW, WEB), (MonitoringQuota("mk1", 1_000, 600, "slow"),),
                    SessionQoS(5_000, 6_000, 8, Arp(5)))
IMSI = "001010000000001"
MSISDN = "15551230001"


def setup(store, table=TABLE, attach=True):
    offer = dataclasses.replace(DATA_OFFER, policy_table=table.name if attach else None)
    seed(store, imsi=IMSI, msisdn=MSISDN, offer=offer)
    store.transact(lambda l: l.put_doc(T.KIND_TABLE, table.name, table.to_doc()))


def info(sid="s1", n=0, ids=((E.END_USER_IMSI, IMSI),), **kw):
    return E.CcrInfo(sid, "pcef.example", "example", n, ids, now=1000, **kw)


def tx(store, fn):
    return store.transact(fn)


def test_ccr_i_installs_the_offers_rules_and_session_qos(store):
    setup(store)
    p = tx(store, lambda l: E.establish(l, info(ids=((E.END_USER_E164, MSISDN),)), DEFAULT))
    assert p.result == E.SUCCESS and [r.name for r in p.install] == ["gold", "web"]
    assert p.qos == TABLE.session_qos and p.monitoring == (("mk1", 600),)
    assert p.triggers == (E.RAT_CHANGE, E.USAGE_REPORT)
    s = tx(store, lambda l: E.load_session(l, "s1"))
    assert s.service == IMSI and s.product == "p1" and sorted(s.installed) == ["gold", "web"]
    assert tx(store, lambda l: l.list_docs(T.KIND_BY_PRODUCT, "p1|")) == [("p1|s1", {})]


def test_no_table_default_qos_unknown_5030_no_identity_5140(store):
    setup(store, attach=False)
    p = tx(store, lambda l: E.establish(l, info(), DEFAULT))
    assert p.result == E.SUCCESS and p.install == () and p.qos == DEFAULT and p.triggers == (E.RAT_CHANGE,)
    p = tx(store, lambda l: E.establish(l, info("s2", ids=((E.END_USER_IMSI, "999990000000000"),)), DEFAULT))
    assert (p.result, p.experimental) == (E.USER_UNKNOWN, False)
    p = tx(store, lambda l: E.establish(l, info("s3", ids=()), DEFAULT))
    assert (p.result, p.experimental) == (E.ERROR_INITIAL_PARAMETERS, True)
    assert tx(store, lambda l: [k for k, _ in l.list_docs(T.KIND_SESSION)]) == ["s1"]


def test_missing_table_is_5140(store):
    setup(store)
    tx(store, lambda l: l.delete_doc(T.KIND_TABLE, "t1"))
    p = tx(store, lambda l: E.establish(l, info(), DEFAULT))
    assert (p.result, p.experimental) == (E.ERROR_INITIAL_PARAMETERS, True)


def test_usage_reports_rearm_then_swap_in_throttle_rule(store):
    setup(store)
    tx(store, lambda l: E.establish(l, info(), DEFAULT))
    p = tx(store, lambda l: E.modify(l, info(n=1, triggers=(E.USAGE_REPORT,), usage=(("mk1", 600),)), DEFAULT))
    assert p.result == E.SUCCESS and p.install == () and p.monitoring == (("mk1", 400),)
    p = tx(store, lambda l: E.modify(l, info(n=2, triggers=(E.USAGE_REPORT,), usage=(("mk1", 450),)), DEFAULT))
    assert [r.name for r in p.install] == ["slow"] and p.remove == (("web", RuleKind.DYNAMIC),)
    assert p.monitoring == () and p.triggers == (E.RAT_CHANGE,)
    s = tx(store, lambda l: E.load_session(l, "s1"))
    assert sorted(s.installed) == ["gold", "slow"] and s.thresholds == {}
    assert tx(store, lambda l: T.usage(l, "p1")) == {"mk1": 1050}
    # a new period (operator reset) brings the rule back through a push
    assert tx(store, lambda l: T.reset_usage(l, "p1")) == 1
    p = tx(store, lambda l: E.repush(l, "s1", DEFAULT, "w0", 0, 10))
    assert [r.name for r in p.install] == ["web"] and p.remove == (("slow", RuleKind.DYNAMIC),)


def test_failed_rules_are_counted_and_not_resent_unchanged(store):
    setup(store)
    tx(store, lambda l: E.establish(l, info(), DEFAULT))
    report = E.RuleReport(("web",), E.INACTIVE, 3)
    p = tx(store, lambda l: E.modify(l, info(n=1, reports=(report,)), DEFAULT))
    assert p.failed == ("web",) and p.install == ()
    s = tx(store, lambda l: E.load_session(l, "s1"))
    assert "web" not in s.installed and "web" in s.failed
    # a changed definition is tried again
    tx(store, lambda l: T.put_rule(l, "t1", dataclasses.replace(WEB, precedence=5)))
    p = tx(store, lambda l: E.repush(l, "s1", DEFAULT, "w0", 0, 10))
    assert [r.name for r in p.install] == ["web"]


def test_ccr_t_removes_the_session_and_unknown_session_is_5002(store):
    setup(store)
    tx(store, lambda l: E.establish(l, info(), DEFAULT))
    p = tx(store, lambda l: E.terminate(l, info(n=2, usage=(("mk1", 10),))))
    assert p.result == E.SUCCESS
    assert tx(store, lambda l: (l.list_docs(T.KIND_SESSION), l.list_docs(T.KIND_BY_PRODUCT))) == ([], [])
    assert tx(store, lambda l: T.usage(l, "p1")) == {"mk1": 10}
    assert tx(store, lambda l: E.terminate(l, info(n=3))).result == E.UNKNOWN_SESSION_ID
    assert tx(store, lambda l: E.modify(l, info(n=3), DEFAULT)).result == E.UNKNOWN_SESSION_ID


def test_rule_change_queues_push_and_raa_records_it(store):
    setup(store)
    tx(store, lambda l: E.establish(l, info(), DEFAULT))
    video = PolicyRule("video", RuleKind.DYNAMIC, 20, (Flow(ANY),), QoS(6))
    assert tx(store, lambda l: T.put_rule(l, "t1", video)) == 1
    assert tx(store, lambda l: T.pending_pushes(l))[0][0] == "s1"
    # another worker holding a fresh claim keeps it
    p = tx(store, lambda l: E.repush(l, "s1", DEFAULT, "w0", 100.0, 10))
    assert [r.name for r in p.install] == ["video"] and p.session["peer"] == "pcef.example"
    assert tx(store, lambda l: E.repush(l, "s1", DEFAULT, "w1", 105.0, 10)) is None
    failed = tx(store, lambda l: E.record_raa(l, "s1", E.SUCCESS, (), 106))
    assert failed == ()
    s = tx(store, lambda l: E.load_session(l, "s1"))
    assert sorted(s.installed) == ["gold", "video", "web"] and s.last_raa == {"result": 2001, "at": 106}
    assert s.pending is None and tx(store, lambda l: T.pending_pushes(l)) == []
    # nothing changed: a push is dropped without an RAR
    tx(store, lambda l: T.queue_push(l, "s1", "again"))
    assert tx(store, lambda l: E.repush(l, "s1", DEFAULT, "w0", 200.0, 10)) is None
    assert tx(store, lambda l: T.pending_pushes(l)) == []


def test_change_during_rar_keeps_the_push_queued(store):
    setup(store)
    tx(store, lambda l: E.establish(l, info(), DEFAULT))
    tx(store, lambda l: T.put_rule(l, "t1", PolicyRule("a", RuleKind.PREDEFINED)))
    tx(store, lambda l: E.repush(l, "s1", DEFAULT, "w0", 0, 10))
    tx(store, lambda l: T.put_rule(l, "t1", PolicyRule("b", RuleKind.PREDEFINED)))   # while the RAR flies
    tx(store, lambda l: E.record_raa(l, "s1", E.SUCCESS, (), 1))
    p = tx(store, lambda l: E.repush(l, "s1", DEFAULT, "w0", 2, 10))
    assert [r.name for r in p.install] == ["b"]


def test_raa_unknown_session_drops_ours(store):
    setup(store)
    tx(store, lambda l: E.establish(l, info(), DEFAULT))
    tx(store, lambda l: T.queue_for_identity(l, MSISDN, "x"))
    tx(store, lambda l: E.record_raa(l, "s1", E.UNKNOWN_SESSION_ID, (), 1))
    assert tx(store, lambda l: (l.list_docs(T.KIND_SESSION), T.pending_pushes(l))) == ([], [])


def test_offer_change_and_out_of_credit_push(store):
    setup(store)
    other = PolicyTable("t2", (PolicyRule("basic", RuleKind.BASE),))
    tx(store, lambda l: T.put_table(l, other))
    tx(store, lambda l: l.put_offer(Offer("cheap", policy_table="t2")))
    tx(store, lambda l: E.establish(l, info(), DEFAULT))
    assert tx(store, lambda l: T.change_offer(l, "p1", "cheap")) == 1
    p = tx(store, lambda l: E.repush(l, "s1", DEFAULT, "w0", 0, 10))
    assert [r.name for r in p.install] == ["basic"]
    assert sorted(p.remove) == [("gold", RuleKind.PREDEFINED), ("web", RuleKind.DYNAMIC)]
    assert p.qos == DEFAULT
    tx(store, lambda l: E.record_raa(l, "s1", E.SUCCESS, (), 1))
    credit = PolicyTable("t2", (PolicyRule("basic", RuleKind.BASE), SLOW), credit_throttle="slow")
    tx(store, lambda l: T.put_table(l, credit))
    tx(store, lambda l: E.record_raa(l, "s1", E.SUCCESS, (), 2))   # nothing in flight: harmless
    assert tx(store, lambda l: T.set_out_of_credit_for(l, MSISDN, True)) == 1
    assert tx(store, lambda l: T.set_out_of_credit(l, "p1", True)) == 0
    assert tx(store, lambda l: T.set_out_of_credit_for(l, "nobody", True)) == 0
    p = tx(store, lambda l: E.repush(l, "s1", DEFAULT, "w0", 0, 10))
    assert [r.name for r in p.install] == ["slow"] and p.remove == (("basic", RuleKind.BASE),)


def test_table_in_use_is_not_deleted_without_force(store):
    setup(store)
    import pytest
    with pytest.raises(T.PolicyError):
        tx(store, lambda l: T.delete_table(l, "t1"))
    with pytest.raises(T.PolicyError):
        tx(store, lambda l: T.delete_rule(l, "t1", "slow"))    # a throttle rule
    assert tx(store, lambda l: T.delete_table(l, "t1", force=True)) == 0
    assert tx(store, lambda l: T.list_tables(l)) == []


def test_idle_sessions_expire(store):
    setup(store)
    tx(store, lambda l: E.establish(l, info("old"), DEFAULT))
    tx(store, lambda l: E.establish(l, dataclasses.replace(info("new"), now=5000), DEFAULT))
    assert tx(store, lambda l: E.expire_idle(l, 2000)) == ["old"]
    assert [s.session_id for s in tx(store, E.list_sessions)] == ["new"]
    assert tx(store, lambda l: l.list_docs(T.KIND_BY_PRODUCT)) == [("p1|new", {})]


def test_unanswered_rar_is_sent_again_with_backoff_then_dropped(store):
    setup(store)
    tx(store, lambda l: E.establish(l, info(), DEFAULT))
    tx(store, lambda l: T.put_rule(l, "t1", PolicyRule("a", RuleKind.PREDEFINED)))
    now = 100
    for attempt, wait in ((1, 5), (2, 10), (3, 20)):     # tx() runs each lambda before it returns
        assert tx(store, lambda l: E.repush(l, "s1", DEFAULT, "w0", now, 10)) is not None  # noqa: B023
        tx(store, lambda l: E.record_raa(l, "s1", 0, (), now, 5.0, 3))        # no RAA came  # noqa: B023
        s = tx(store, lambda l: E.load_session(l, "s1"))
        assert s.last_raa == {"result": 0, "at": now, "attempts": attempt} and s.pending is None
        assert "a" not in s.installed
        # not before the backoff (whichever worker looks), then again
        assert tx(store, lambda l: E.repush(l, "s1", DEFAULT, "w1", now + wait - 1, 10)) is None  # noqa: B023
        now += wait
    assert tx(store, lambda l: E.repush(l, "s1", DEFAULT, "w1", now, 10)) is not None
    tx(store, lambda l: E.record_raa(l, "s1", 0, (), now, 5.0, 3))            # 4th silence: given up
    assert tx(store, lambda l: T.pending_pushes(l)) == []
    # a later change queues a fresh push with no backoff left over; an answer installs it
    tx(store, lambda l: T.put_rule(l, "t1", PolicyRule("b", RuleKind.PREDEFINED)))
    p = tx(store, lambda l: E.repush(l, "s1", DEFAULT, "w0", now + 1, 10))
    assert sorted(r.name for r in p.install) == ["a", "b"]
    tx(store, lambda l: E.record_raa(l, "s1", E.SUCCESS, (), now + 1))
    assert {"a", "b"} <= set(tx(store, lambda l: E.load_session(l, "s1")).installed)
    assert tx(store, lambda l: T.pending_pushes(l)) == []
