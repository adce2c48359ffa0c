"""Money is conserved, whatever the mix: random START/UPDATE/STOP in two units, events, refunds,
top-ups, fees with allowances, over several sessions — and over two processes sharing one store.

After every step:  initial + top-ups − fees − charged == net remaining + held   (exactly), and
without an overdraft price usage never takes the net balance below where it stood.
"""
from __future__ import annotations

import json
import multiprocessing
import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.config import Config
from appliance.ocs.balance import NewBucket
from appliance.ocs.catalog import Offer, Price, PriceType
from appliance.ocs.charging import Charging
from appliance.ocs.inventory import Product, Service
from appliance.ocs.rating import Action, ChargeRequest, ChargingPolicy, UsageItem
from appliance.ocs.recurring import charge_fees_in
from appliance.ocs.units import Unit
from appliance.store import open_store

MB = 1_000_000
START_TIME = 1_767_225_600          # 2026-01-01 00:00 UTC
FEE = 300_000
INITIAL = 5_000_000
OFFER = Offer("mix", (
    Price("data", PriceType.USAGE, amount=40_000, unit=Unit.OCTETS, size=MB),
    Price("time", PriceType.USAGE, amount=7_000, unit=Unit.SECONDS, size=60),
    Price("sms", PriceType.USAGE, amount=50_000, unit=Unit.MESSAGES, size=1),
    Price("hourly", PriceType.RECURRING, amount=FEE, period="hourly",
          allowance=((Unit.OCTETS, 3 * MB),)),
))


def open_seeded(tmp: Path):
    cfg = Config(data_dir=str(tmp / "data"), run_dir=str(tmp / "run"), log_dir=str(tmp / "logs"), base_dir=str(tmp))
    store = open_store(cfg)

    def seed(l):
        l.put_offer(OFFER)
        l.put_product(Product("p", OFFER.name, start=START_TIME))
        l.put_service(Service("imsi", "p", imsi="imsi"))
        l.add_bucket(NewBucket("p", Unit.MONEY, INITIAL))
    store.transact(seed)
    return cfg, store


def money_state(store) -> tuple[int, int]:
    """(net remaining money, money held by reservations)."""
    def read(l):
        remaining = sum(b.remaining for b in l.list_buckets("p") if b.unit is Unit.MONEY)
        held = sum(h.amount for r in l.product_reservations("p") for h in r.holds if h.unit is Unit.MONEY)
        return remaining, held
    return store.transact(read)


def fees_charged(store, now: int) -> int:
    run = store.transact(lambda l: charge_fees_in(l, now))
    assert run.failed == ()
    return run.charged * FEE


def random_request(rnd: random.Random, sessions: dict[str, int], step: int, now: int, tag: str) -> ChargeRequest:
    kind = rnd.choice(("session", "session", "session", "debit", "refund"))
    if kind == "debit":
        return ChargeRequest("imsi", f"{tag}e{step}", Action.DEBIT,
                             (UsageItem(Unit.MESSAGES, requested=rnd.randint(1, 3)),), f"{tag}e{step}:0", now=now)
    if kind == "refund":
        return ChargeRequest("imsi", f"{tag}r{step}", Action.REFUND,
                             (UsageItem(Unit.MESSAGES, requested=1),), f"{tag}r{step}:0", now=now)
    slot = f"{tag}s{rnd.randint(0, 2)}"
    open_sid = next((k for k in sessions if k.startswith(slot + "-")), None)
    if open_sid is None:                       # a new session in this slot: a new Session-Id
        sid, action, number = f"{slot}-{step}", Action.START, 0
    else:
        sid, action, number = open_sid, rnd.choice((Action.UPDATE, Action.UPDATE, Action.STOP)), sessions[open_sid] + 1
    sessions[sid] = number
    if action is Action.STOP:
        del sessions[sid]
    requested = None if action is Action.STOP else rnd.choice((0, MB, 5 * MB))
    used = 0 if action is Action.START else rnd.randint(0, 3 * MB)
    seconds_used = 0 if action is Action.START else rnd.randint(0, 200)
    items = (UsageItem(Unit.OCTETS, requested, used, 1),
             UsageItem(Unit.SECONDS, None if requested is None else 60, seconds_used, 1))
    return ChargeRequest("imsi", sid, action, items, f"{sid}:{number}", service="data", now=now)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32), per_session=st.booleans())
def test_money_is_conserved_after_every_step(tmp_path_factory, seed, per_session):
    rnd = random.Random(seed)
    _cfg, store = open_seeded(tmp_path_factory.mktemp("mix"))
    clock = [START_TIME]
    policy = ChargingPolicy(per_session=per_session)
    charging = Charging(store, policy, clock=lambda: clock[0])
    topups = fees = charged = 0
    sessions: dict[str, int] = {}
    try:
        for step in range(40):
            remaining_before, _ = money_state(store)
            roll = rnd.random()
            if roll < 0.1:
                amount = rnd.randint(1, 3_000_000)
                store.transact(lambda l, a=amount: l.add_bucket(NewBucket("p", Unit.MONEY, a)))
                topups += amount
            elif roll < 0.2:
                clock[0] += rnd.choice((60, 1800, 3600))
                fees += fees_charged(store, clock[0])
            else:
                request = random_request(rnd, sessions, step, clock[0], "")
                result = charging.charge(request)
                charged += sum(i.charged for i in result.items)
                if rnd.random() < 0.2:                    # the peer retransmits: answered, not charged
                    again = charging.charge(request)
                    assert again.duplicate and again.items == result.items
                remaining, _held = money_state(store)
                assert remaining >= min(remaining_before, 0), "usage went below zero without an overdraft price"
            remaining, held = money_state(store)
            assert INITIAL + topups - fees - charged == remaining + held, f"step {step}"
    finally:
        store.close()


def _worker(tmp: str, tag: str, seed: int, out: str) -> None:
    cfg = Config(data_dir=f"{tmp}/data", run_dir=f"{tmp}/run", log_dir=f"{tmp}/logs", base_dir=tmp)
    store = open_store(cfg)
    charging = Charging(store, ChargingPolicy(), clock=lambda: START_TIME)
    rnd = random.Random(seed)
    sessions: dict[str, int] = {}
    charged = 0
    for step in range(150):
        charged += sum(i.charged for i in charging.charge(random_request(rnd, sessions, step, START_TIME, tag)).items)
    for sid, number in sorted(sessions.items()):
        result = charging.charge(ChargeRequest("imsi", sid, Action.STOP, (UsageItem(Unit.OCTETS, None, 0, 1),
                                               UsageItem(Unit.SECONDS, None, 0, 1)), f"{sid}:{number + 1}",
                                               service="data", now=START_TIME))
        charged += sum(i.charged for i in result.items)
    store.close()
    Path(out).write_text(json.dumps({"charged": charged}))


def test_money_is_conserved_across_two_processes(tmp_path):
    _cfg, store = open_seeded(tmp_path)
    store.close()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(str(tmp_path), tag, n, str(tmp_path / f"{tag}.json")))
             for n, tag in enumerate(("a", "b"))]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    charged = sum(json.loads((tmp_path / f"{t}.json").read_text())["charged"] for t in ("a", "b"))
    cfg = Config(data_dir=str(tmp_path / "data"), run_dir=str(tmp_path / "run"), log_dir=str(tmp_path / "logs"),
                 base_dir=str(tmp_path))
    store = open_store(cfg)
    try:
        remaining, held = money_state(store)
        assert held == 0                                    # every session was stopped
        assert charged > 0
        assert INITIAL - charged == remaining
    finally:
        store.close()
