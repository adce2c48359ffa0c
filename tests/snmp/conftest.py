"""SNMP agent fixtures: a compiled-MIB cache per session, the agent as its own process, net-snmp calls."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import free_port, need_binary

ENTERPRISE = "1.3.6.1.4.1.32473"
OCS = ENTERPRISE + ".1.1"
DBP = ENTERPRISE + ".3.1"
RADIUS_AUTH = "1.3.6.1.2.1.67.1.1.1.1"
RADIUS_ACC = "1.3.6.1.2.1.67.2.1.1.1"
V3 = {"name": "noc", "auth_key": "auth-secret-1", "priv_key": "priv-secret-1"}


def write_config(tmp_path: Path, snmp: dict[str, Any] | None = None,
                 extra: dict[str, Any] | None = None) -> Path:
    etc = tmp_path / "etc"
    etc.mkdir(exist_ok=True)
    section = {"address": "127.0.0.1", "port": free_port(socket.SOCK_DGRAM), "community": "nms-secret",
               "allowed": ["127.0.0.0/8"], "users": [V3],
               "poll_interval": 0.2, "store_cache": 0.5}
    section.update(snmp or {})
    doc = {"data_dir": "var", "run_dir": "var/run", "log_dir": "logs", "snmp": section}
    doc.update(extra or {})
    conf = etc / "appliance.yaml"
    conf.write_text(yaml.safe_dump(doc))
    return conf


class AgentProcess:
    def __init__(self, conf: Path) -> None:
        self.conf = conf
        doc = yaml.safe_load(conf.read_text())
        self.port = doc["snmp"]["port"]
        self.base = conf.parent.parent
        self.run_dir = self.base / "var" / "run"
        self.log = self.base / "agent.log"
        with open(self.log, "wb") as out:      # the child keeps its own descriptor
            self.proc = subprocess.Popen([sys.executable, "-m", "appliance", "--config", str(conf), "run", "snmp"],
                                         stdout=out, stderr=subprocess.STDOUT, cwd=self.base)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"agent exited {self.proc.returncode}: {self.log.read_text()[-3000:]}")
            out = snmp("snmpget", self.target, "1.3.6.1.2.1.1.2.0", community="nms-secret", timeout=0.5, check=False)
            if out.returncode == 0:
                return
        raise AssertionError(f"agent not answering: {self.log.read_text()[-3000:]}")

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


class Agents:
    """Starts agents and stops every one it started."""

    def __init__(self) -> None:
        self.started: list[AgentProcess] = []

    def __call__(self, conf: Path) -> AgentProcess:
        need_binary("snmpget")
        agent = AgentProcess(conf)
        self.started.append(agent)
        agent.wait_ready()
        return agent

    def stop(self) -> None:
        for agent in self.started:
            agent.stop()


@pytest.fixture
def start_agent():
    agents = Agents()
    yield agents
    agents.stop()


def snmp(tool: str, target: str, *oids: str, community: str | None = "nms-secret", v3: dict[str, str] | None = None,
         timeout: float = 2.0, retries: int = 1, check: bool = True,
         extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """Run a net-snmp tool with numeric output (-On) and no MIB loading (-m '')."""
    cmd = [tool, "-m", "", "-On", "-t", str(timeout), "-r", str(retries)]
    if v3 is not None:
        cmd += ["-v3", "-l", "authPriv", "-u", v3["name"], "-a", "SHA", "-A", v3["auth_key"],
                "-x", "AES", "-X", v3["priv_key"]]
    else:
        cmd += ["-v2c", "-c", community or ""]
    cmd += [*extra, target, *oids]
    env = dict(os.environ, MIBS="", MIBDIRS="/nonexistent")
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env, check=False)
    if check and out.returncode != 0:
        raise AssertionError(f"{' '.join(cmd[:3])} ... failed: {out.stderr}")
    return out


def parse(output: str) -> dict[str, str]:
    """net-snmp ``.1.3.6... = TYPE: value`` lines -> {oid without leading dot: value}."""
    values = {}
    for line in output.splitlines():
        if " = " not in line:
            continue
        oid, _, rest = line.partition(" = ")
        value = rest.split(": ", 1)[1] if ": " in rest else rest
        values[oid.lstrip(".")] = value.strip().strip('"')
    return values
