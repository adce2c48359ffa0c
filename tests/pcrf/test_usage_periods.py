"""Usage-monitoring periods: a quota's used volume starts again from zero at each period start
(anchored on the product's start like recurring fees), once per period, with a Gx push."""
from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from appliance.housekeeping import sweep
from appliance.ocs.inventory import Product
from appliance.ocs.policy import Flow, MonitoringQuota, PolicyRule, PolicyTable, RuleKind, reset_due
from appliance.ocs.recurring import period_start_at, period_starts
from appliance.pcrf import tables as T
from appliance.rest import tmf639
from appliance.rest.resources import Ctx
from appliance.telemetry import metrics

from ..conftest import DATA_OFFER, seed

ANY = "permit out ip from any to any"


def ts(y, m, d, hh=0, mm=0, ss=0):
    return int(datetime(y, m, d, hh, mm, ss, tzinfo=UTC).timestamp())


def table(reset="monthly", reset2=None):
    rules = (PolicyRule("web", RuleKind.DYNAMIC, 100, (Flow(ANY),), monitoring_key="mk1"),
             PolicyRule("video", RuleKind.DYNAMIC, 90, (Flow(ANY),), monitoring_key="mk2"),
             PolicyRule("slow", RuleKind.DYNAMIC, 10, (Flow(ANY),)))
    return PolicyTable("gold", rules, (MonitoringQuota("mk1", 1_000, None, "slow", reset),
                                       MonitoringQuota("mk2", 5_000, None, None, reset2)))


# --- period arithmetic -----------------------------------------------------------------------

@pytest.mark.parametrize("anchor", [ts(2026, 1, 31, 10), ts(2024, 2, 29, 23, 59, 59), ts(2026, 3, 15),
                                    ts(2025, 12, 31)])
@pytest.mark.parametrize("period", ["daily", "weekly", "monthly", "yearly"])
def test_period_start_at_is_the_last_start_of_the_recurring_fee_series(anchor, period):
    """The direct computation agrees with period_starts (the series recurring fees charge)."""
    step = {"daily": 7 * 3600 + 13, "weekly": 86_400 + 17, "monthly": 5 * 86_400 + 19, "yearly": 40 * 86_400}[period]
    checked = 0
    for now in range(anchor - 3600, anchor + 300 * step, step):
        series = period_starts(anchor, period, None, now)
        assert period_start_at(anchor, period, now) == (series[-1] if series else None), (period, now)
        checked += 1
    assert checked == 301
    # exactly at a boundary, and one second before it
    nxt = period_starts(anchor, period, anchor, anchor + 400 * 86_400)[0]
    assert period_start_at(anchor, period, nxt) == nxt
    assert period_start_at(anchor, period, nxt - 1) == anchor


def test_monthly_period_clamps_to_month_end():
    anchor = ts(2026, 1, 31, 8)
    assert period_start_at(anchor, "monthly", ts(2026, 2, 28, 7, 59, 59)) == anchor
    assert period_start_at(anchor, "monthly", ts(2026, 2, 28, 8)) == ts(2026, 2, 28, 8)
    assert period_start_at(anchor, "monthly", ts(2026, 3, 30, 23)) == ts(2026, 2, 28, 8)   # not Mar 28
    assert period_start_at(anchor, "monthly", ts(2026, 3, 31, 8)) == ts(2026, 3, 31, 8)
    assert period_start_at(anchor, "monthly", ts(2026, 4, 30, 9)) == ts(2026, 4, 30, 8)
    assert period_start_at(anchor, "monthly", ts(2028, 2, 29, 8)) == ts(2028, 2, 29, 8)   # leap year
    assert period_start_at(anchor, "monthly", anchor - 1) is None


def test_reset_due_records_first_then_resets_once_per_period():
    quotas = table("monthly", None).monitoring
    anchor = ts(2026, 1, 15)
    # first sight: the current period is recorded, nothing is reset (usage so far belongs to it)
    periods, due = reset_due(quotas, anchor, {}, ts(2026, 2, 20))
    assert periods == {"mk1": ts(2026, 2, 15)} and due == frozenset()
    # same period again: nothing
    assert reset_due(quotas, anchor, periods, ts(2026, 3, 14, 23, 59, 59)) == (periods, frozenset())
    # the period turned: one reset; two turned (late pass): still one reset, the latest period recorded
    assert reset_due(quotas, anchor, periods, ts(2026, 3, 15)) == ({"mk1": ts(2026, 3, 15)}, frozenset({"mk1"}))
    assert reset_due(quotas, anchor, periods, ts(2026, 5, 1)) == ({"mk1": ts(2026, 4, 15)}, frozenset({"mk1"}))
    # before the anchor: nothing at all; no period ("none"): never
    assert reset_due(quotas, anchor, {}, anchor - 1) == ({}, frozenset())
    assert reset_due(table(None, None).monitoring, anchor, {"mk1": anchor}, ts(2027, 1, 1)) == ({}, frozenset())


def test_quota_reset_field_validates_and_documents_stay_compatible():
    assert MonitoringQuota("k", 1, reset="weekly").to_doc() == {"key": "k", "volume": 1, "reset": "weekly"}
    assert MonitoringQuota.from_doc({"key": "k", "volume": 1}).reset is None          # old documents
    assert MonitoringQuota.from_doc({"key": "k", "volume": 1, "reset": "none"}).reset is None
    assert "reset" not in MonitoringQuota.from_doc({"key": "k", "volume": 1, "reset": "none"}).to_doc()
    for bad in ("yearly", "Monthly", 30, ""):
        with pytest.raises(ValueError, match="reset"):
            MonitoringQuota.from_doc({"key": "k", "volume": 1, "reset": bad})
    doc = table("daily", "weekly").to_doc()
    assert PolicyTable.from_doc(doc) == table("daily", "weekly")


# --- the housekeeping duty over the store ----------------------------------------------------

JAN31 = ts(2026, 1, 31, 8)


def provision(store, start=JAN31, reset="monthly", reset2=None):
    seed(store, offer=dataclasses.replace(DATA_OFFER, policy_table="gold"))

    def put(l):
        l.put_product(Product("p1", "data", start=start))
        T.put_table(l, table(reset, reset2))
        # a live Gx session of the product (the index is what queue_for_product reads)
        l.put_doc(T.KIND_BY_PRODUCT, "p1|pcef;1", {})
    store.transact(put)


def use(store, **octets):
    def add(l):
        doc = l.get_doc(T.KIND_USAGE, "p1") or {"used": {}}
        for key, n in octets.items():
            doc["used"][key] = doc["used"].get(key, 0) + n
        l.put_doc(T.KIND_USAGE, "p1", doc)
        l.delete_doc(T.KIND_PUSH, "pcef;1")       # as if the PCEF's CCR-U answer had carried the news
    store.transact(add)


def state(store):
    return store.transact(lambda l: (T.usage(l, "p1"), T.usage_periods(l, "p1"), l.get_doc(T.KIND_PUSH, "pcef;1")))


def test_sweep_resets_at_the_period_start_once_and_pushes(cfg, store):
    provision(store)
    m = metrics.default()
    m.set("pcrf.usage.resets", 0)
    m.set("pcrf.usage.reset_pushes", 0)
    sweep(cfg, store, ts(2026, 2, 10))                  # first sight: period of Jan 31 recorded
    use(store, mk1=1_200, mk2=700)
    assert state(store) == ({"mk1": 1_200, "mk2": 700}, {"mk1": ts(2026, 1, 31, 8)}, None)
    sweep(cfg, store, ts(2026, 2, 28, 7, 59, 59))       # one second before the clamped boundary
    assert state(store)[0] == {"mk1": 1_200, "mk2": 700} and m.get("pcrf.usage.resets") == 0
    sweep(cfg, store, ts(2026, 2, 28, 8))               # Feb 28 (Jan 31 + 1 month, clamped)
    used, periods, push = state(store)
    assert used == {"mk2": 700} and periods == {"mk1": ts(2026, 2, 28, 8)}   # mk2 has no period
    assert push is not None and push["reason"] == "usage period"
    assert m.get("pcrf.usage.resets") == 1 and m.get("pcrf.usage.reset_pushes") == 1
    use(store, mk1=300)
    sweep(cfg, store, ts(2026, 2, 28, 8))               # the same pass again: no second reset
    sweep(cfg, store, ts(2026, 3, 30, 12))
    assert state(store) == ({"mk1": 300, "mk2": 700}, {"mk1": ts(2026, 2, 28, 8)}, None)
    assert m.get("pcrf.usage.resets") == 1
    sweep(cfg, store, ts(2026, 6, 2))                   # late by several periods: reset once
    assert state(store)[:2] == ({"mk2": 700}, {"mk1": ts(2026, 5, 31, 8)})
    assert m.get("pcrf.usage.resets") == 2 and m.get("pcrf.usage.reset_pushes") == 2


def test_no_reset_without_a_period_and_no_push_without_usage(cfg, store):
    provision(store, reset=None)
    sweep(cfg, store, ts(2026, 2, 10))
    use(store, mk1=1_500)
    for month in range(3, 13):
        sweep(cfg, store, ts(2026, month, 1))
    assert state(store) == ({"mk1": 1_500}, {}, None)
    # with a weekly period but nothing used in the period: the period is recorded, no push
    store.transact(lambda l: T.put_table(l, table("weekly")))
    store.transact(lambda l: l.delete_doc(T.KIND_PUSH, "pcef;1"))
    store.transact(lambda l: T.reset_usage(l, "p1"))
    store.transact(lambda l: l.delete_doc(T.KIND_PUSH, "pcef;1"))
    sweep(cfg, store, ts(2026, 3, 1))
    sweep(cfg, store, ts(2026, 3, 10))
    assert state(store) == ({}, {"mk1": ts(2026, 3, 7, 8)}, None)


def test_product_without_start_is_anchored_when_first_seen(cfg, store):
    provision(store, start=None, reset="daily")
    first = ts(2026, 4, 1, 13, 30)
    sweep(cfg, store, first)
    product = store.transact(lambda l: l.get_product("p1"))
    assert product.characteristics["created"] == first
    use(store, mk1=10)
    sweep(cfg, store, ts(2026, 4, 2, 13, 29))
    assert state(store)[0] == {"mk1": 10}
    sweep(cfg, store, ts(2026, 4, 2, 13, 30))
    assert state(store)[:2] == ({}, {"mk1": ts(2026, 4, 2, 13, 30)})


def test_inactive_or_ended_products_are_left_alone(cfg, store):
    provision(store, reset="daily")
    sweep(cfg, store, ts(2026, 2, 1))
    use(store, mk1=10)
    store.transact(lambda l: l.put_product(Product("p1", "data", start=ts(2026, 1, 31, 8), end=ts(2026, 2, 3))))
    sweep(cfg, store, ts(2026, 2, 5))
    assert state(store)[0] == {"mk1": 10}


# --- CLI and REST documents ------------------------------------------------------------------

def test_cli_monitor_reset_round_trip(tmp_path, capsys):
    import json

    from appliance.cli import main
    conf = tmp_path / "appliance.yaml"
    conf.write_text(f"data_dir: {tmp_path}/data\nrun_dir: {tmp_path}/run\nlog_dir: {tmp_path}/logs\n")

    def cli(*args, ok=True):
        try:
            rc = main(["--config", str(conf), *args])
        except SystemExit as exc:               # argparse refusing a choice
            rc = exc.code
        out, err = capsys.readouterr()
        assert (rc == 0) is ok, (args, rc, err)
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    cli("policy", "table", "add", "gold")
    cli("policy", "rule", "add", "gold", "slow", "--flow", ANY)
    out = cli("policy", "monitor", "add", "gold", "mk1", "--volume", "5000", "--throttle", "slow", "--reset", "monthly")
    assert out[0]["reset"] == "monthly"
    cli("policy", "monitor", "add", "gold", "mk1", "--volume", "9000", "--throttle", "slow")   # keeps the period
    assert cli("policy", "table", "show", "gold")[0]["monitoring"] == [
        {"key": "mk1", "volume": 9000, "throttle": "slow", "reset": "monthly"}]
    cli("policy", "monitor", "add", "gold", "mk1", "--volume", "9000", "--reset", "none")
    assert cli("policy", "table", "show", "gold")[0]["monitoring"] == [{"key": "mk1", "volume": 9000}]
    cli("policy", "monitor", "add", "gold", "mk1", "--volume", "9000", "--reset", "hourly", ok=False)
    # a YAML table file carries the field too
    f = tmp_path / "t.yaml"
    f.write_text("rules: [{name: slow, flows: ['permit out ip from any to any']}]\n"
                 "monitoring: [{key: mk9, volume: 10, throttle: slow, reset: weekly}]\n")
    assert cli("policy", "table", "add", "silver", "--file", str(f))[0]["monitoring"][0]["reset"] == "weekly"
    f.write_text("monitoring: [{key: mk9, volume: 10, reset: fortnightly}]\n")
    cli("policy", "table", "add", "bad", "--file", str(f), ok=False)


def test_rest_policy_resource_round_trip_keeps_reset(store):
    ctx = Ctx(2, "EUR", ts(2026, 1, 1))
    old = {"rules": [{"name": "slow", "flows": [ANY]}], "monitoring": [{"key": "mk1", "volume": 10}]}
    body = {"name": "gold", "resourceSpecification": {"id": "PolicyTable"},
            "resourceCharacteristic": [{"name": "policy", "value": old}]}
    out = store.transact(lambda l: tmf639.res_write(l, "gold", body, ctx, True))
    assert out["resourceCharacteristic"][0]["value"]["monitoring"] == [{"key": "mk1", "volume": 10}]   # as before
    new = {**old, "monitoring": [{"key": "mk1", "volume": 10, "throttle": "slow", "reset": "daily"}]}
    body["resourceCharacteristic"] = [{"name": "policy", "value": new}]
    store.transact(lambda l: tmf639.res_write(l, "gold", body, ctx, False))
    got = store.transact(lambda l: tmf639.res_get(l, "gold", ctx))
    assert got["resourceCharacteristic"][0]["value"]["monitoring"] == new["monitoring"]
    body["resourceCharacteristic"] = [{"name": "policy", "value": {**old, "monitoring": [
        {"key": "mk1", "volume": 10, "reset": "quarterly"}]}}]
    with pytest.raises(tmf639.ApiError) as err:
        store.transact(lambda l: tmf639.res_write(l, "gold", body, ctx, False))
    assert err.value.status == 400 and "reset" in str(err.value)


# --- end to end: a throttled Gx session gets its rules back at the period start ---------------

def test_throttled_session_gets_normal_rules_back_by_rar_after_the_period_sweep(cfg, store):
    import asyncio

    from appliance.config import PcrfConfig
    from appliance.diameter import codec as c
    from appliance.pcrf import engine as E

    from .pcef import Pcef, get, installed, named, removed, start_pcrf
    from .test_gx import IMSI, MSISDN, TABLE

    gxcfg = dataclasses.replace(cfg, pcrf=PcrfConfig(push_interval=0.05, rar_timeout=3.0))
    monthly = dataclasses.replace(TABLE, monitoring=(MonitoringQuota("mk1", 1_000, 600, "slow", "monthly"),))
    seed(store, imsi=IMSI, msisdn=MSISDN, offer=dataclasses.replace(DATA_OFFER, policy_table="gold"))
    store.transact(lambda l: (l.put_product(Product("p1", "data", start=ts(2026, 1, 15, 6))), T.put_table(l, monthly)))
    sweep(gxcfg, store, ts(2026, 2, 1))                 # the housekeeping pass records the current period

    def gsu(msg):
        umi = get(named(msg.avps), "Usage-Monitoring-Information")
        return [(get(u, "Monitoring-Key")[0], get(get(u, "Granted-Service-Unit")[0], "CC-Total-Octets")[0])
                for u in umi]

    async def go():
        node, app, port = await start_pcrf(gxcfg, store)
        pcef = Pcef()
        await pcef.connect(port)
        sid = "pcef.test;13;1"
        cca = await pcef.initial(sid, imsi=IMSI)
        assert "web" in installed(cca) and "slow" not in installed(cca) and gsu(cca) == [(b"mk1", 600)]
        await pcef.usage_report(sid, 1, "mk1", 600)
        cca = await pcef.usage_report(sid, 2, "mk1", 450)   # 1050 of 1000: throttled
        assert list(installed(cca)) == ["slow"] and removed(cca) == ["web"] and gsu(cca) == []
        # one second before the boundary the sweep changes nothing
        await asyncio.to_thread(sweep, gxcfg, store, ts(2026, 2, 15, 5, 59, 59))
        assert store.transact(lambda l: (T.usage(l, "p1"), T.pending_pushes(l))) == ({"mk1": 1_050}, [])
        # the period turns (Feb 15 06:00, the product's start day and time): usage reset, RAR
        await asyncio.to_thread(sweep, gxcfg, store, ts(2026, 2, 15, 6))
        app.poke()
        rar = await pcef.next_rar()
        assert rar.code == 258 and rar.session_id == sid
        assert list(installed(rar)) == ["web"] and removed(rar) == ["slow"]
        assert gsu(rar) == [(b"mk1", 600)]
        assert sorted(get(named(rar.avps), "Event-Trigger")) == [E.RAT_CHANGE, E.USAGE_REPORT]
        for _ in range(500):
            s = store.transact(lambda l: E.load_session(l, sid))
            if s.last_raa and s.pending is None:
                break
            await asyncio.sleep(0.01)
        assert s.last_raa["result"] == c.SUCCESS and "web" in s.installed and "slow" not in s.installed
        assert s.thresholds == {"mk1": 600}
        # the same boundary swept again (a second housekeeping pass): nothing reset, nothing queued
        await asyncio.to_thread(sweep, gxcfg, store, ts(2026, 2, 15, 6, 0, 30))
        assert store.transact(lambda l: T.pending_pushes(l)) == []
        # usage counts from zero in the new period
        cca = await pcef.usage_report(sid, 3, "mk1", 100)
        assert installed(cca) == {} and removed(cca) == [] and gsu(cca) == [(b"mk1", 600)]
        assert store.transact(lambda l: T.usage(l, "p1")) == {"mk1": 100}
        await pcef.stop()
        await node.stop(1)
    asyncio.run(asyncio.wait_for(go(), 60))
