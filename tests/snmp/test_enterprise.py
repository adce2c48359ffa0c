"""snmp.enterprise: the operator's Private Enterprise Number moves the whole appliance subtree,
sysObjectID and the SnmpEngineID; the MIB texts a manager loads say the same."""
from __future__ import annotations

import subprocess
import sys

import pytest

from appliance.config import Config, ConfigError, NodeConfig, SnmpConfig, load
from appliance.snmp import mibs
from appliance.snmp.agent import engine_id

from .conftest import parse, snmp, write_config

PEN = 64999


def test_engine_id_carries_the_enterprise():
    assert engine_id(Config()).hex().startswith("80007ed9")                      # 32473
    eid = engine_id(Config(node=NodeConfig(name="n1"), snmp=SnmpConfig(enterprise=PEN)))
    assert eid == (0x80000000 | PEN).to_bytes(4, "big") + b"\x04n1"


def test_texts_with_another_enterprise(tmp_path):
    out = mibs.with_enterprise(mibs.default_mib_dir(), tmp_path / "m", PEN)
    assert mibs.enterprise_of(out) == PEN and mibs.enterprise_of(mibs.default_mib_dir()) == 32473
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(p.name for p in mibs.default_mib_dir().iterdir() if p.suffix == ".txt")
    assert "32473" not in (out / mibs.SMI_FILE).read_text().split("::= { enterprises")[1].split("\n")[0]


def test_enterprise_must_be_a_pen(tmp_path):
    conf = tmp_path / "appliance.yaml"
    conf.write_text("snmp:\n  enterprise: 0\n")
    with pytest.raises(ConfigError) as err:
        load(str(conf))
    assert "Private Enterprise Number" in err.value.message


def test_export_mibs_command(tmp_path):
    conf = tmp_path / "appliance.yaml"
    conf.write_text(f"snmp:\n  enterprise: {PEN}\n")
    r = subprocess.run([sys.executable, "-m", "appliance", "--config", str(conf), "snmp", "export-mibs",
                        str(tmp_path / "out")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert mibs.enterprise_of(tmp_path / "out") == PEN


@pytest.mark.timeout(300)
def test_agent_serves_the_tree_under_the_configured_enterprise(tmp_path, start_agent):
    conf = write_config(tmp_path, {"enterprise": PEN})
    agent = start_agent(conf)
    values = parse(snmp("snmpget", agent.target, "1.3.6.1.2.1.1.2.0").stdout)
    assert values["1.3.6.1.2.1.1.2.0"] == f".1.3.6.1.4.1.{PEN}.2.1"
    walked = parse(snmp("snmpwalk", agent.target, f"1.3.6.1.4.1.{PEN}.1.1").stdout)
    assert walked and all(oid.startswith(f"1.3.6.1.4.1.{PEN}.1.1") for oid in walked)
    assert parse(snmp("snmpwalk", agent.target, f"1.3.6.1.4.1.{PEN}.3.1").stdout)       # Diameter base MIB
    old = snmp("snmpwalk", agent.target, "1.3.6.1.4.1.32473", check=False).stdout
    assert all("No Such Object" in v for v in parse(old).values()), old
