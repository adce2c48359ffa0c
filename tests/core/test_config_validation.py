"""Bad configurations: ``config check`` and ``start`` refuse each with one line naming file, key and line."""
from __future__ import annotations

import subprocess
import sys

import pytest

BAD = [
    # (file text, key, line, fragment)
    ("diameter:\n  port: 99999\n", "diameter.port", 2, "outside 1..65535"),
    ("diameter:\n  port: -5\n", "diameter.port", 2, "outside 1..65535"),
    ("radius:\n  auth_port: 0\n", "radius.auth_port", 2, "outside 1..65535"),
    ("diameter:\n  tls_port: 70000\n", "diameter.tls_port", 2, "outside"),
    ("diameter:\n  port: 8080\nrest:\n  port: 8080\n", "rest.port", 4, "TCP port 8080 is also diameter.port"),
    ("snmp:\n  port: 1812\n", "snmp.port", 2, "UDP port 1812 is also radius.auth_port"),
    ("radius:\n  clients:\n    - address: 10.0.0.0/33\n      secret: x\n", "radius.clients[0].address", 3,
     "not an address or prefix"),
    ("rest:\n  address: 999.1.1.1\n", "rest.address", 2, "not an IP address"),
    ("diameter:\n  address: localhost\n", "diameter.address", 2, "not an IP address"),
    ("diameter:\n  peers:\n    - host: a.example\n      ip: 10.1.1.300\n", "diameter.peers[0].ip", 4,
     "not an address or prefix"),
    ("processes:\n  radius: -3\n", "processes.radius", 2, "at least 1"),
    ("processes:\n  stop_wait: -1\n", "processes.stop_wait", 2, "negative"),
    ("node:\n  name: caf\xe9\n".encode("latin-1"), "", 2, "not UTF-8"),
    ("tls:\n  certificate: none.pem\n  key: none.key\n", "tls.certificate", 2, "none.pem not found"),
    ("diameter:\n  tls_port: 5868\n  tls_ca: ca.pem\n", "diameter.tls_ca", 3, "ca.pem not found"),
]


@pytest.mark.parametrize("text,key,line,fragment", BAD, ids=[b[1] or "utf-8" for b in BAD])
@pytest.mark.parametrize("command", [("config", "check"), ("start",)])
def test_bad_configuration_is_one_line_and_nothing_starts(tmp_path, text, key, line, fragment, command):
    conf = tmp_path / "appliance.yaml"
    if isinstance(text, bytes):
        conf.write_bytes(text)
    else:
        conf.write_text(text)
    r = subprocess.run([sys.executable, "-m", "appliance", "--config", str(conf), *command], cwd=tmp_path,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and not r.stdout, r.stderr
    assert f"{conf}: {key or '<top>'} (line {line}): " in lines[0] and fragment in lines[0], lines[0]
    assert not (tmp_path / "var").exists()          # nothing initialised, nothing started


def test_good_edge_values_pass(tmp_path):
    conf = tmp_path / "appliance.yaml"
    conf.write_text("diameter:\n  port: 65535\n  tls_port: 0\nrest:\n  port: 1\n"
                    "radius:\n  clients:\n    - address: 10.0.0.0/8\n      secret: x\n")
    r = subprocess.run([sys.executable, "-m", "appliance", "--config", str(conf), "config", "check"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_packaged_config_is_valid_and_safe():
    """The .deb's conffile: Diameter on loopback, only listed peers, no realm admitted wholesale."""
    from appliance.config import load
    cfg = load("packaging/deb/appliance.yaml")
    assert cfg.diameter.address == "127.0.0.1" and not cfg.diameter.accept_realms
    assert cfg.logs.acct_log_dir.startswith("/var/log/ocs-appliance/")


def test_security_doc_examples_are_valid_configurations(tmp_path):
    """The YAML examples of docs/security.md load as written (and say what they claim)."""
    import re
    from pathlib import Path

    from appliance.config import load
    from appliance.diameter.admission import PeerAdmission
    text = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    assert blocks
    for i, block in enumerate(blocks):
        conf = tmp_path / f"example{i}.yaml"
        conf.write_text(block)
        cfg = load(str(conf))
        if cfg.diameter.peers:
            table = PeerAdmission.build(cfg.diameter.peers)
            peer = cfg.diameter.peers[0]
            assert table.allows(peer.host, f"{peer.ip}:40000") is True
            assert table.allows(peer.host, "198.51.100.1:40000") is False
