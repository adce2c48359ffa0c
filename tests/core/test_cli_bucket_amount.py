"""``appliance bucket add``: the amount is a whole ASCII number of units, never negative."""
from __future__ import annotations

import json

import pytest

from appliance.cli import main


@pytest.fixture
def conf(tmp_path):
    path = tmp_path / "appliance.yaml"
    path.write_text(f"data_dir: {tmp_path / 'data'}\nrun_dir: {tmp_path / 'run'}\nlog_dir: {tmp_path / 'logs'}\n")
    args = ["--config", str(path)]
    assert main([*args, "init"]) == 0
    assert main([*args, "offer", "add", "data", "--price", "name=d,unit=octets,size=1000000,amount=20000"]) == 0
    assert main([*args, "product", "add", "p1", "--offer", "data"]) == 0
    return args


def buckets(conf, capsys):
    capsys.readouterr()
    assert main([*conf, "bucket", "list", "--product", "p1"]) == 0
    return [json.loads(line)["remaining"] for line in capsys.readouterr().out.splitlines() if line.strip()]


@pytest.mark.parametrize("amount", ["-5", "-0", "١٢", " 12", "12 ", "+12", "1e3", "1_000", "12.5", "0x10", ""])
def test_bucket_add_refuses_negative_and_non_ascii_amounts(conf, capsys, amount):
    assert main([*conf, "bucket", "add", "p1", "--unit", "money", "--amount", amount]) == 1
    err = capsys.readouterr().err
    assert "bad amount" in err and len(err.strip().splitlines()) == 1
    assert buckets(conf, capsys) == []


def test_bucket_add_takes_a_plain_whole_number(conf, capsys):
    assert main([*conf, "bucket", "add", "p1", "--unit", "money", "--amount", "5000000"]) == 0
    assert main([*conf, "bucket", "add", "p1", "--unit", "octets", "--amount", "0"]) == 0
    assert sorted(buckets(conf, capsys)) == [0, 5_000_000]


def test_a_top_up_that_restores_credit_reaches_the_snmp_agent_from_a_cli_process(conf, tmp_path, capsys):
    """The CLI charges in its own process here (no ledger role): its credit event is still written
    where the agent reads worker events (ocsCreditRestored)."""
    from appliance.config import load
    from appliance.ledger import book
    from appliance.store import open_store
    cfg = load(conf[1])
    store = open_store(cfg)
    store.transact(lambda l: book.set_credit(l, "p1", True, "refused", 1))
    store.close()
    assert main([*conf, "bucket", "add", "p1", "--unit", "money", "--amount", "100"]) == 0
    lines = [json.loads(line) for f in (tmp_path / "run" / "snmp").glob("events-*.jsonl")
             for line in f.read_text().splitlines()]
    assert [(e["event"], e["product"]) for e in lines] == [("credit_restored", "p1")]
