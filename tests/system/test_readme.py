"""README's "Using it" section, verbatim, against a fresh instance started as bin/quickstart does.

The instance is a copy of the checkout's launcher and configuration in a temporary directory (its
own database, logs and ports); the commands are run as written, only the well-known port numbers
are replaced by the free ones this instance listens on.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def readme_commands() -> list[str]:
    """The shell block of "Using it" and the "try it" column of its front-end table."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Using it", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [line for line in block.splitlines() if line.strip()]
    for row in re.findall(r"^\|[^|]+\|[^|]+\| (.+?) \|[^|]+\|$", section, re.M)[1:]:
        commands += [c for c in re.findall(r"`([^`]+)`", row)
                     if c.split()[0] in ("bin/appliance", "curl", "snmpwalk")]   # radclient: in the block
    return commands


def strip_comment(line: str) -> str:
    """The command without its trailing ``# ...`` remark (a # inside quotes stays)."""
    m = re.search(r"\s{2,}#\s.*$", line)
    return line[:m.start()] if m else line


@pytest.fixture
def instance(tmp_path):
    co = tmp_path / "checkout"
    (co / "bin").mkdir(parents=True)
    (co / "etc").mkdir()
    shutil.copy(ROOT / "bin" / "appliance", co / "bin" / "appliance")
    (co / ".venv").symlink_to(ROOT / ".venv")
    ports = {"1812": free_port(socket.SOCK_DGRAM), "1813": free_port(socket.SOCK_DGRAM),
             "3868": free_port(), "8080": free_port(), "1161": free_port(socket.SOCK_DGRAM)}
    conf = (ROOT / "etc" / "appliance.yaml").read_text()
    for old, new in ports.items():
        conf = re.sub(rf"\b{old}\b", str(new), conf)
    conf += "\n# this test: stored clients and peers counted within a second\n"
    conf = conf.replace("  clients: []", "  clients: []\n  clients_refresh: 1", 1)
    conf = conf.replace("  accept_realms: []", "  accept_realms: []\n  peers_refresh: 1", 1)
    conf = conf.replace("processes:\n  radius: 2\n  diameter: 2", "processes:\n  radius: 1\n  diameter: 1")
    (co / "etc" / "appliance.yaml").write_text(conf)
    return co, ports


def sh(co: Path, command: str, timeout: float = 30) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "APPLIANCE_CONFIG"}
    return subprocess.run(["bash", "-c", command], cwd=co, env=env, capture_output=True, text=True,
                          timeout=timeout)


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not reached")


@pytest.mark.system
@pytest.mark.timeout(120)
def test_every_readme_command_works_on_a_fresh_instance(instance):
    for tool in ("radclient", "curl"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed (.ci/run installs it)")
    co, ports = instance
    commands = [strip_comment(c) for c in readme_commands()]
    assert any("diameter-client" in c for c in commands) and any("radclient" in c for c in commands)
    stopped = sh(co, "bin/appliance status")
    assert stopped.returncode != 0 and stopped.stderr.strip() == "appliance: not started" and not stopped.stdout
    sup = subprocess.Popen(["bin/appliance", "start"], cwd=co, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           env={k: v for k, v in os.environ.items() if k != "APPLIANCE_CONFIG"},
                           start_new_session=True)
    try:
        wait_for(lambda: sh(co, f"curl -sf 127.0.0.1:{ports['8080']}/health").returncode == 0)
        results = {}
        for command in commands:
            for old, new in ports.items():
                command = re.sub(rf"(127\.0\.0\.1:?){old}\b", rf"\g<1>{new}", command)
            command = re.sub(r"(radclient 127\.0\.0\.1)( auth)", rf"\1:{ports['1812']}\2", command)
            if "radclient" in command or "diameter-client" in command:   # stored clients/peers: read live
                r = wait_for(lambda c=command: (x := sh(co, c)).returncode == 0 and x, timeout=10)
            else:
                r = sh(co, command)
            assert r.returncode == 0, (command, r.stdout, r.stderr)
            results[command] = r
        by = {c.split()[1] if c.startswith("bin/") else c.split()[0]: r for c, r in results.items()}
        assert json.loads(by["balance"].stdout)["totals"] == {"money": 5_000_000}
        radius = next(r for c, r in results.items() if "radclient" in c and "User-Name" in c)
        assert "Access-Accept" in radius.stdout
        ro = next(r for c, r in results.items() if "diameter-client" in c)
        answers = [json.loads(line) for line in ro.stdout.splitlines()[1:]]
        assert [a["result"] for a in answers] == [2001, 2001, 2001] and not ro.stderr, ro.stdout
        rest = next(r for c, r in results.items() if "/balance/" in c)
        assert json.loads(rest.stdout)["money"]["amount"] == 5_000_000   # the 5 USD top-up is visible
        money = json.loads(sh(co, "bin/appliance balance 15550001").stdout)["totals"]["money"]
        assert money == 5_000_000 - 30_000          # CCR-U and CCR-T used 90 s each: three 60 s blocks
        assert json.loads(sh(co, "bin/appliance balance 15550002").stdout)["totals"] == {"money": 1_000_000}
    finally:
        os.killpg(sup.pid, signal.SIGTERM)
        sup.wait(timeout=60)
    stopped = sh(co, "bin/appliance status")
    assert stopped.returncode != 0 and stopped.stderr.strip() == "appliance: not started" and not stopped.stdout


def test_every_command_finds_the_same_files_from_any_directory(instance, tmp_path):
    """Relative paths resolve against the configuration's checkout, not the current directory."""
    co, _ports = instance
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "APPLIANCE_CONFIG"}
    run = [co / "bin" / "appliance"]
    init = subprocess.run([*run, "init"], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60)
    assert json.loads(init.stdout)["database"] == str(co / "var" / "appliance.db"), init.stderr
    for cwd in (co, elsewhere):
        subprocess.run([*run, "offer", "add", f"o-{cwd.name}", "--price", "unit=octets,size=1,amount=1"],
                       cwd=cwd, env=env, check=True, capture_output=True, timeout=60)
    listed = subprocess.run([*run, "offer", "list"], cwd=elsewhere, env=env, capture_output=True, text=True,
                            timeout=60).stdout
    assert "o-checkout" in listed and "o-elsewhere" in listed
    assert not (elsewhere / "var").exists() and not (elsewhere / "logs").exists()


def test_without_a_configuration_file_paths_resolve_against_the_checkout(tmp_path):
    """The embedded defaults from a checkout resolve like the checkout's etc/appliance.yaml."""
    env = {k: v for k, v in os.environ.items() if k != "APPLIANCE_CONFIG"}
    code = "from appliance.config import load; c = load(); print(c.source or '-', c.database_path)"
    out = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60)
    if Path("/etc/ocs-appliance/appliance.yaml").exists():
        pytest.skip("an installed package's configuration is the default here")
    assert out.stdout.split() == ["-", str(ROOT / "var" / "appliance.db")], out.stderr
