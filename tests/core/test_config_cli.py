"""Configuration validation (file, key, line) and the CLI's one-line errors."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from appliance.config import ConfigError, load


@pytest.mark.parametrize("text,key,line,fragment", [
    ("radius:\n  auth_port: x\n", "radius.auth_port", 2, "expected an integer"),
    ("radius:\n  clients:\n    - address: 10.0.0.1\n", "radius.clients[0].secret", 3, "required"),
    ("database:\n  backend: oracle\n", "database", 2, "must be one of"),
    ("database:\n  cache_subscribers: 10\n", "database", 2, "cache_subscribers must be 100.."),
    ("node:\n  name: a\n  colour: red\n", "node.colour", 3, "unknown key"),
    ("processes: [1]\n", "processes", 1, "expected a mapping"),
    ("rest: {port: 80\n", "", None, "not valid YAML"),
])
def test_errors_name_file_key_and_line(tmp_path, text, key, line, fragment):
    path = tmp_path / "appliance.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load(str(path))
    assert err.value.file == str(path) and err.value.key == key and fragment in err.value.message
    if line is not None:
        assert err.value.line == line


def test_shipped_config_is_valid_and_matches_defaults():
    """etc/appliance.yaml says its values are the embedded defaults: every key it writes agrees."""
    import dataclasses

    from appliance.config import Config
    cfg = load("etc/appliance.yaml")
    assert dataclasses.replace(cfg, source="", base_dir="") == Config()
    assert cfg.diameter.address == "127.0.0.1" and not cfg.diameter.accept_realms and not cfg.diameter.peers


def test_environment_variable_selects_file(tmp_path, monkeypatch):
    path = tmp_path / "x.yaml"
    path.write_text("rest:\n  port: 18080\n")
    monkeypatch.setenv("APPLIANCE_CONFIG", str(path))
    assert load().rest.port == 18080


def run(tmp_path, *args):
    conf = tmp_path / "appliance.yaml"  # empty: embedded defaults, paths under tmp_path
    conf.touch()
    return subprocess.run([sys.executable, "-m", "appliance", "--config", str(conf), *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)


def test_cli_provisioning_round_trip(tmp_path):
    assert run(tmp_path, "init").returncode == 0
    price = "name=d,unit=octets,size=1000000,amount=20000"
    assert run(tmp_path, "offer", "add", "data", "--price", price).returncode == 0
    assert run(tmp_path, "product", "add", "p1", "--offer", "data").returncode == 0
    r = run(tmp_path, "service", "add", "s1", "--product", "p1", "--imsi", "001010000000009", "--password", "hunter2",
            "--k", "465b5ce8b199b49faa5f0a2ee238a6bc", "--opc", "cd63cb71954a9f4e48a5994e37a02baf")
    assert r.returncode == 0 and "hunter2" not in r.stdout and "465b5c" not in r.stdout
    assert run(tmp_path, "bucket", "add", "p1", "--unit", "money", "--amount", "5000000").returncode == 0
    bal = json.loads(run(tmp_path, "balance", "001010000000009").stdout)
    assert bal["totals"] == {"money": 5_000_000}
    listing = run(tmp_path, "service", "list").stdout
    assert "hunter2" not in listing and "465b5c" not in listing


@pytest.mark.parametrize("args,fragment", [
    (("product", "add", "p9", "--offer", "nope"), "no such offer: nope"),
    (("balance", "nobody"), "unknown subscriber: nobody"),
    (("bucket", "add", "p9", "--unit", "gold", "--amount", "1"), "bad unit"),
    (("offer", "add", "x", "--price", "unit=octets,amount=1.5"), "bad price"),
    (("service", "add", "s", "--k", "zz"), "hex"),
])
def test_cli_errors_are_one_line_and_nonzero(tmp_path, args, fragment):
    r = run(tmp_path, *args)
    assert r.returncode != 0
    assert fragment in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_config_show_round_trips_and_masks_secrets(tmp_path):
    conf = tmp_path / "a.yaml"
    conf.write_text("radius:\n  clients:\n    - address: 127.0.0.1\n      secret: sup3rsecret\n"
                    "snmp:\n  community: c0mmunity\n")
    shown = subprocess.run([sys.executable, "-m", "appliance", "--config", str(conf), "config", "show"],
                           capture_output=True, text=True, check=True).stdout
    assert "sup3rsecret" not in shown and "c0mmunity" not in shown and "********" in shown
    full = subprocess.run([sys.executable, "-m", "appliance", "--config", str(conf), "config", "show",
                           "--secrets"], capture_output=True, text=True, check=True).stdout
    again = tmp_path / "b.yaml"
    again.write_text(full)
    a, b = load(str(conf)), load(str(again))
    assert (a.radius, a.snmp, a.diameter, a.aaa, a.pcrf) == (b.radius, b.snmp, b.diameter, b.aaa, b.pcrf)
    assert b.radius.clients[0].secret == "sup3rsecret"
