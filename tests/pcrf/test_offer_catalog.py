"""The catalog as the PCRF sees it over Gx: an offer replaced with ``offer add`` keeps its policy
table, and a bundle takes the table of its member (TS 29.212 CCR-I answered with the rules)."""
from __future__ import annotations

import asyncio
import dataclasses
import json

import pytest

from appliance.cli import main
from appliance.config import PcrfConfig
from appliance.diameter import codec as c

from .pcef import Pcef, installed, start_pcrf

IMSI = "001010000000042"


@pytest.fixture
def cli(cfg, capsys):
    conf = f"{cfg.base_dir}/appliance.yaml"           # the same database as the ``store`` fixture's
    with open(conf, "w") as fh:
        fh.write(f"data_dir: {cfg.data_dir}\nrun_dir: {cfg.run_dir}\nlog_dir: {cfg.log_dir}\n")

    def run(*args):
        rc = main(["--config", conf, *args])
        out, err = capsys.readouterr()
        assert rc == 0, (args, err)
        return [json.loads(line) for line in out.splitlines() if line.strip()]
    return run


def gx_rules(cfg, store, sid):
    async def go():
        node, _app, port = await start_pcrf(dataclasses.replace(cfg, pcrf=PcrfConfig(push_interval=0.05)), store)
        pcef = Pcef()
        await pcef.connect(port)
        try:
            cca = await pcef.initial(sid, imsi=IMSI)
            assert cca.result_code == c.SUCCESS
            return sorted(installed(cca))
        finally:
            await pcef.stop()
            await node.stop(1)
    return asyncio.run(asyncio.wait_for(go(), 60))


def provision(cli, offer):
    cli("policy", "table", "add", "gold")
    cli("policy", "rule", "add", "gold", "web", "--flow", "permit out 6 from any 80 to any", "--qci", "9",
        "--mbr", "1000/2000")
    cli("policy", "rule", "add", "gold", "gold-predef", "--kind", "predefined")
    cli("product", "add", "p1", "--offer", offer)
    cli("service", "add", "s1", "--product", "p1", "--imsi", IMSI)
    cli("bucket", "add", "p1", "--unit", "money", "--amount", "5000000")


def test_offer_replaced_by_offer_add_keeps_its_table_and_gx_installs_its_rules(cli, cfg, store):
    cli("offer", "add", "data", "--price", "name=d,unit=octets,size=1000000,amount=20000")
    provision(cli, "data")
    cli("policy", "attach", "gold", "--offer", "data")
    cli("offer", "add", "data", "--price", "name=d,unit=octets,size=1000000,amount=30000")   # new price only
    [offer] = cli("offer", "list")
    assert offer["policy_table"] == "gold" and offer["prices"][0]["amount"] == 30000
    assert gx_rules(cfg, store, "pcef.test;1;1") == ["gold-predef", "web"]


def test_a_bundle_gets_the_rules_of_its_members_table(cli, cfg, store):
    cli("offer", "add", "data", "--price", "name=d,unit=octets,size=1000000,amount=20000")
    cli("offer", "add", "bundle", "--price", "name=setup,type=one_time,amount=100", "--bundle", "data")
    provision(cli, "bundle")
    cli("policy", "attach", "gold", "--offer", "data")              # the member's table, not the bundle's
    assert gx_rules(cfg, store, "pcef.test;1;2") == ["gold-predef", "web"]
