"""``appliance offer add``: prices, periods, units and bundle members validated (one line, nothing
stored); a replacement keeps what the command does not name; allowances shown by ``balance``."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest

PLAN = "name=fee,type=recurring,period=monthly,amount=30000000,allowance=octets:1000000000/seconds:6000"


def run(tmp_path, *args):
    conf = tmp_path / "appliance.yaml"
    conf.touch()
    return subprocess.run([sys.executable, "-m", "appliance", "--config", str(conf), *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)


def ok(tmp_path, *args):
    r = run(tmp_path, *args)
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


@pytest.mark.parametrize("args,fragment", [
    (("--price", "name=f,type=recurring,amount=1,period=fortnightly"), "needs period hourly, daily, weekly, monthly"),
    (("--price", "name=u,unit=bits,amount=1"), "unknown unit 'bits'"),
    (("--price", "name=u,unit=octets,amount=1,time_of_dya=08:00-18:00"), "unknown key 'time_of_dya'"),
    (("--price", "name=u,unit=octets,rating_groups=a"), "bad price"),
    (("--price", "name=f,type=one_time,amount=1,allowance=octets"), "allowance is UNIT:AMOUNT"),
    (("--price", "name=f,type=one_time,amount=1,allowance=octets:5,validity=soon"), "validity must be"),
    (("--price", "name=d,unit=octets,amount=1", "--bundle", "ghost"), "'ghost', which does not exist"),
    (("--bundle", "x"), "bundles itself: x -> x"),
    (("--policy-table", "nope"), "no such policy table: nope"),
])
def test_bad_offers_are_refused_with_one_line_and_nothing_is_stored(tmp_path, args, fragment):
    r = run(tmp_path, "offer", "add", "x", *args)
    assert r.returncode == 1 and fragment in r.stderr, r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert ok(tmp_path, "offer", "list") == []


def test_replacing_an_offer_keeps_what_the_command_does_not_name(tmp_path):
    ok(tmp_path, "policy", "table", "add", "gold")
    ok(tmp_path, "offer", "add", "data", "--price", "name=d,unit=octets,size=1000000,amount=20000",
       "--description", "data plan", "--policy-table", "gold")
    ok(tmp_path, "offer", "add", "data", "--price", "name=d,unit=octets,size=1000000,amount=30000")
    [offer] = ok(tmp_path, "offer", "list")
    assert offer["policy_table"] == "gold" and offer["description"] == "data plan"
    assert offer["prices"][0]["amount"] == 30000
    ok(tmp_path, "offer", "add", "data", "--description", "new words")       # prices kept too
    [offer] = ok(tmp_path, "offer", "list")
    assert offer["prices"][0]["amount"] == 30000 and offer["policy_table"] == "gold"
    ok(tmp_path, "offer", "add", "data", "--policy-table", "")             # '' detaches
    assert "policy_table" not in ok(tmp_path, "offer", "list")[0]


def test_an_offer_bundled_or_subscribed_cannot_be_removed(tmp_path):
    ok(tmp_path, "offer", "add", "member", "--price", "name=once,type=one_time,amount=200")
    ok(tmp_path, "offer", "add", "bundle", "--price", "name=once,type=one_time,amount=100", "--bundle", "member")
    r = run(tmp_path, "offer", "remove", "member")
    assert r.returncode == 1 and "offer member is bundled by offer bundle" in r.stderr
    ok(tmp_path, "product", "add", "p1", "--offer", "bundle")
    r = run(tmp_path, "offer", "remove", "bundle")
    assert r.returncode == 1 and "offer bundle is used by product p1" in r.stderr


def test_allowance_price_from_the_cli_granted_by_housekeeping_and_shown_by_balance(tmp_path):
    ok(tmp_path, "init")
    [offer] = ok(tmp_path, "offer", "add", "plan", "--price", PLAN,
                 "--price", "name=data,unit=octets,size=1000000,amount=20000")
    assert offer["prices"][0]["allowance"] == {"octets": 1_000_000_000, "seconds": 6000}
    now = int(datetime.now(UTC).timestamp())
    ok(tmp_path, "product", "add", "p1", "--offer", "plan", "--start", str(now - 60))
    ok(tmp_path, "service", "add", "s1", "--product", "p1", "--imsi", "001010000000077")
    ok(tmp_path, "bucket", "add", "p1", "--unit", "money", "--amount", "50000000")
    from appliance.config import load
    from appliance.housekeeping import sweep
    from appliance.store import open_store
    cfg = dataclasses.replace(load(str(tmp_path / "appliance.yaml")), base_dir=str(tmp_path))   # the CLI's cwd
    store = open_store(cfg)
    try:
        assert sweep(cfg, store, now)["fees"] == 1
    finally:
        store.close()
    [bal] = ok(tmp_path, "balance", "001010000000077")
    assert bal["totals"] == {"money": 20_000_000, "octets": 1_000_000_000, "seconds": 6000}
    names = {a["name"] for a in bal["allowances"]}
    start = datetime.fromtimestamp(now - 60, UTC).strftime("%Y-%m-%dT%H:%MZ")
    assert names == {f"allowance:fee:{start}"} and len(bal["allowances"]) == 2
    assert all(a["end"] > now for a in bal["allowances"])


def test_an_offer_stored_before_validation_that_no_longer_loads_can_be_removed_with_force(tmp_path):
    from appliance.config import load
    from appliance.ocs.catalog import Offer, Price, PriceType
    from appliance.store import open_store
    ok(tmp_path, "init")
    cfg = dataclasses.replace(load(str(tmp_path / "appliance.yaml")), base_dir=str(tmp_path))
    store = open_store(cfg)
    try:     # written by the constructor, which does not validate: as an older release could store it
        store.transact(lambda l: l.put_offer(Offer("old", (Price("f", PriceType.RECURRING, 1, period="fortnightly"),))))
    finally:
        store.close()
    r = run(tmp_path, "offer", "list")
    assert r.returncode == 1 and "needs period hourly" in r.stderr and "Traceback" not in r.stderr
    r = run(tmp_path, "offer", "remove", "old")
    assert r.returncode == 1 and "remove that one with --force" in r.stderr
    r = run(tmp_path, "offer", "add", "old", "--description", "x")
    assert r.returncode == 1 and "the stored offer no longer loads" in r.stderr
    ok(tmp_path, "offer", "add", "old", "--price", "name=f,type=recurring,period=weekly,amount=1")   # replaced
    assert ok(tmp_path, "offer", "list")[0]["prices"][0]["period"] == "weekly"
    ok(tmp_path, "offer", "remove", "old", "--force")
    assert ok(tmp_path, "offer", "list") == []


@pytest.mark.parametrize("args,fragment", [
    (("table", "add", "intl", "--rate", "44=١٢"), "bad rate"),
    (("product", "add", "p1", "--offer", "x", "--start", "١٢"), "bad time"),
])
def test_tariff_rates_and_times_are_ascii_digits_only(tmp_path, args, fragment):
    ok(tmp_path, "offer", "add", "x", "--price", "name=d,unit=octets,amount=1")
    r = run(tmp_path, *args)
    assert r.returncode == 1 and fragment in r.stderr, r.stderr
    assert ok(tmp_path, "table", "list") == [] and ok(tmp_path, "product", "list") == []
