"""`appliance start`: supervisord runs the worker set; a killed worker is restarted; SIGTERM stops all."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import free_port


def write_config(tmp_path: Path) -> Path:
    etc = tmp_path / "etc"
    etc.mkdir()
    conf = etc / "appliance.yaml"
    conf.write_text(f"""
data_dir: var
run_dir: var/run
log_dir: logs
processes: {{radius: 1, diameter: 1, stop_wait: 60}}
housekeeping: {{interval: 1}}
radius: {{address: 127.0.0.1, auth_port: {free_port(socket.SOCK_DGRAM)}, acct_port: {free_port(socket.SOCK_DGRAM)},
          clients: [{{address: 127.0.0.1, secret: testing123}}]}}
diameter: {{address: 127.0.0.1, port: {free_port()}}}
rest: {{address: 127.0.0.1, port: {free_port()}}}
snmp: {{address: 127.0.0.1, port: {free_port(socket.SOCK_DGRAM)}}}
""")
    return conf


def status(conf: Path) -> dict[str, tuple[str, int]]:
    out = subprocess.run([sys.executable, "-m", "appliance", "--config", str(conf), "status"],
                         capture_output=True, text=True, timeout=30).stdout
    procs = {}
    for line in out.splitlines():
        m = re.match(r"(\S+)\s+(\w+)\s+(?:pid (\d+))?", line)
        if m:
            procs[m.group(1).split(":")[-1]] = (m.group(2), int(m.group(3) or 0))
    return procs


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not reached")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


@pytest.mark.system
def test_start_restart_and_graceful_stop(tmp_path):
    conf = write_config(tmp_path)
    sup = subprocess.Popen([sys.executable, "-m", "appliance", "--config", str(conf), "start"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        procs = wait_for(lambda: (s := status(conf)) and s.get("housekeeping-0", ("",))[0] == "RUNNING" and s)
        old_pid = procs["housekeeping-0"][1]
        assert (tmp_path / "var" / "appliance.db").exists()
        assert (tmp_path / "var" / "tls" / "server.crt").exists()
        os.kill(old_pid, signal.SIGKILL)
        restarted = wait_for(lambda: (s := status(conf)).get("housekeeping-0", ("", 0))[0] == "RUNNING"
                             and s["housekeeping-0"][1] != old_pid and s)
        children = [pid for state, pid in restarted.values() if pid]
        assert children
        sup.send_signal(signal.SIGTERM)
        sup.wait(timeout=120)               # stop_wait is 60 s: a worker that ignores SIGTERM is killed then
        assert sup.returncode == 0, sup.stdout.read().decode()[-2000:]
        # graceful: supervisord saw every worker exit by itself on SIGTERM (exit status 0), none
        # killed after stop_wait -- its log says so, however long a loaded machine took
        sup_log = (tmp_path / "logs" / "supervisord.log").read_text()
        stopped = dict(re.findall(r"stopped: (\S+) \(([^)]*)\)", sup_log))
        assert stopped == {name: "exit status 0" for name in restarted}, sup_log[-3000:]
        assert not [pid for pid in children if alive(pid)]
        log = (tmp_path / "logs" / "housekeeping-0.log").read_text()
        assert "housekeeping stopping" in log
    finally:
        if sup.poll() is None:
            sup.kill()
            sup.wait()
