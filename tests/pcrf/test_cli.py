"""``appliance policy ...`` end to end through the real CLI parser and a store on disk."""
from __future__ import annotations

import json
import time

import pytest

from appliance.cli import main


@pytest.fixture
def cli(tmp_path, capsys):
    conf = tmp_path / "appliance.yaml"
    conf.write_text(f"data_dir: {tmp_path}/data\nrun_dir: {tmp_path}/run\nlog_dir: {tmp_path}/logs\n")

    def run(*args, ok=True):
        rc = main(["--config", str(conf), *args])
        out, err = capsys.readouterr()
        assert (rc == 0) is ok, (args, rc, err)
        return [json.loads(line) for line in out.splitlines() if line.strip()], err
    run.conf = str(conf)
    return run


def test_tables_rules_monitoring_attach_and_push(cli):
    cli("offer", "add", "data", "--price", "name=d,unit=octets,size=1000000,amount=20000")
    cli("product", "add", "p1", "--offer", "data")
    cli("service", "add", "s1", "--product", "p1", "--imsi", "001010000000009", "--msisdn", "15550001")
    out, _ = cli("policy", "table", "add", "gold", "--apn-ambr", "1000000/2000000", "--qci", "8", "--arp", "3,capable")
    assert out[0]["session_qos"] == {"apn_ambr_ul": 1_000_000, "apn_ambr_dl": 2_000_000, "qci": 8,
                                     "arp": {"priority": 3, "preemption_capability": True,
                                             "preemption_vulnerability": True}}
    out, _ = cli("policy", "rule", "add", "gold", "web", "--flow", "permit out 6 from any 80 to any",
                 "--direction", "downlink", "--qci", "9", "--mbr", "1000/2000", "--rating-group", "32",
                 "--online", "true", "--metering", "volume", "--monitoring-key", "mk1", "--precedence", "100")
    assert out[0]["charging"] == {"rating_group": 32, "online": True, "metering": "volume"}
    cli("policy", "rule", "add", "gold", "slow", "--flow", "permit out ip from any to any", "--mbr", "64000/64000")
    cli("policy", "rule", "add", "gold", "base1", "--kind", "base")
    out, _ = cli("policy", "monitor", "add", "gold", "mk1", "--volume", "5000", "--grant", "1000",
                 "--throttle", "slow")
    assert out[0] == {"key": "mk1", "volume": 5000, "grant": 1000, "throttle": "slow", "table": "gold", "pushes": 0}
    cli("policy", "attach", "gold", "--offer", "data")
    out, _ = cli("policy", "table", "show", "gold")
    assert [r["name"] for r in out[0]["rules"]] == ["base1", "slow", "web"]
    out, _ = cli("offer", "list")
    assert out[0]["policy_table"] == "gold"
    out, _ = cli("policy", "usage", "p1")
    assert out[0] == {"product": "p1", "used": {}, "pushes": 0}
    out, _ = cli("policy", "push", "15550001")
    assert out[0]["pushes"] == 0              # no Gx session yet
    out, _ = cli("policy", "sessions")
    assert out == []
    out, _ = cli("policy", "sessions", "--expire-idle", "3600")
    assert out == [{"expired": []}]
    # a live Gx session (as a Diameter worker stores it) is listed and pushed to
    from appliance.config import load
    from appliance.ocs.policy import SessionQoS
    from appliance.pcrf import engine
    from appliance.store import open_store
    store = open_store(load(cli.conf))
    info = engine.CcrInfo("gx;1", "pcef", "realm", 0, ((1, "001010000000009"),), now=int(time.time()))
    assert store.transact(lambda l: engine.establish(l, info, SessionQoS(1, 2))).result == 2001
    store.close()
    out, _ = cli("policy", "sessions")
    assert out[0]["session_id"] == "gx;1" and out[0]["installed"] == ["base1", "web"] and out[0]["table"] == "gold"
    out, _ = cli("policy", "push", "15550001")
    assert out[0]["pushes"] == 1
    cli("policy", "rule", "remove", "gold", "base1")
    out, _ = cli("policy", "table", "list")
    assert len(out) == 1 and len(out[0]["rules"]) == 2
    cli("policy", "attach", "none", "--offer", "data")
    cli("policy", "table", "remove", "gold")
    out, _ = cli("policy", "table", "list")
    assert out == []


@pytest.mark.parametrize("args,fragment", [
    (("policy", "rule", "add", "nope", "r", "--kind", "predefined"), "no such policy table: nope"),
    (("policy", "table", "remove", "nope"), "no such policy table"),
    (("policy", "attach", "t", "--offer", "nope"), "no such offer"),
    (("policy", "attach", "t"), "exactly one of"),
    (("policy", "rule", "add", "t", "r", "--flow", "deny all"), "bad rule"),
    (("policy", "rule", "add", "t", "r"), "bad rule"),
    (("policy", "rule", "add", "t", "r", "--kind", "predefined", "--qci", "0"), "bad rule"),
    (("policy", "rule", "add", "t", "r", "--flow", "permit out ip from any to any", "--mbr", "x/y"), "bad MBR"),
    (("policy", "monitor", "add", "t", "k", "--volume", "5", "--throttle", "none"), "bad monitoring key"),
    (("policy", "table", "add", "t2", "--apn-ambr", "/5"), "needs UL/DL"),
    (("policy", "push", "nobody"), "unknown subscriber"),
    (("policy", "set-offer", "nope", "data"), "no such product"),
])
def test_operator_errors_are_one_line(cli, args, fragment):
    cli("policy", "table", "add", "t")
    _, err = cli(*args, ok=False)
    assert fragment in err and err.count("\n") == 1 and "Traceback" not in err


def test_table_in_use_needs_force(cli):
    cli("offer", "add", "data")
    cli("policy", "table", "add", "t", "--file", "/dev/null", ok=False)
    cli("policy", "table", "add", "t")
    cli("policy", "attach", "t", "--offer", "data")
    _, err = cli("policy", "table", "remove", "t", ok=False)
    assert "used by offers ['data']" in err
    cli("policy", "table", "remove", "t", "--force")


def test_yaml_table_file(cli, tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("rules:\n  - name: r1\n    flows: ['permit out 17 from any to any 53']\n"
                    "    qos: {qci: 5, arp: {priority: 2}}\n"
                    "monitoring:\n  - {key: m, volume: 100}\n")
    out, _ = cli("policy", "table", "add", "yt", "--file", str(path))
    assert out[0]["rules"][0]["qos"]["arp"]["priority"] == 2 and out[0]["monitoring"] == [{"key": "m", "volume": 100}]
    path.write_text("rules:\n  - name: r1\n    flows: ['nonsense']\n")
    _, err = cli("policy", "table", "add", "yt", "--file", str(path), ok=False)
    assert "permit out" in err
