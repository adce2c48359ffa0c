"""The Debian package: build the .deb, install it, run the service, PAP + Ro through it, upgrade keeping data, purge.

This installs into the machine it runs on, so it runs only as root with CI set (or
APPLIANCE_TEST_DEB=1).  Without systemd (a CI container) the unit's ExecStart line is run
directly as the unit's User, as systemd would.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import free_port, need_binary

TOP = Path(__file__).resolve().parents[2]
CONF = Path("/etc/ocs-appliance/appliance.yaml")
APPLIANCE = "/usr/lib/ocs-appliance/venv/bin/appliance"
pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not (os.environ.get("CI") or os.environ.get("APPLIANCE_TEST_DEB")),
    reason="installs a system package: runs as root in CI (or with APPLIANCE_TEST_DEB=1)")


def sh(*cmd: str, timeout: float = 600, check: bool = True, **kw) -> subprocess.CompletedProcess:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    env.pop("APPLIANCE_CONFIG", None)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} -> {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r


def as_ocs(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return sh("runuser", "-u", "ocs", "--", APPLIANCE, "--config", str(CONF), *args, check=check)


def build(version: str, out: Path) -> Path:
    path = sh(str(TOP / "packaging/deb/build.sh"), version, str(out)).stdout.strip().splitlines()[-1]
    return Path(path)


def rebuild_as(deb: Path, version: str, out: Path) -> Path:
    """The same package under a new version (an upgrade without a second wheel build)."""
    tree = out / "tree"
    out.mkdir(parents=True, exist_ok=True)
    sh("dpkg-deb", "-R", str(deb), str(tree))
    control = tree / "DEBIAN/control"
    control.write_text(re.sub(r"^Version: .*$", f"Version: {version}", control.read_text(), flags=re.M))
    target = out / f"ocs-appliance_{version}_all.deb"
    sh("dpkg-deb", "--root-owner-group", "-b", str(tree), str(target))
    return target


def exec_start() -> list[str]:
    unit = Path("/lib/systemd/system/ocs-appliance.service").read_text()
    line = re.search(r"^ExecStart=(.*)$", unit, re.M).group(1)
    user = re.search(r"^User=(.*)$", unit, re.M).group(1)
    return ["runuser", "-u", user, "--", *shlex.split(line)]


def start_service() -> subprocess.Popen:
    Path("/run/ocs-appliance").mkdir(exist_ok=True)
    sh("chown", "ocs:ocs", "/run/ocs-appliance")
    return subprocess.Popen(exec_start(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_service(proc: subprocess.Popen) -> None:
    """SIGTERM to supervisord (what systemd's KillMode=mixed does first); the whole set must go."""
    pidfile = Path("/run/ocs-appliance/supervisord.pid")
    if pidfile.exists():
        os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
    else:
        proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    deadline = time.monotonic() + 30
    while sh("pgrep", "-u", "ocs", check=False).returncode == 0 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert sh("pgrep", "-u", "ocs", check=False).returncode != 0, "workers left running after stop"


def wait_udp_answer(fn, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        r = fn()
        if r.returncode == 0:
            return r.stdout
        last = r.stdout + r.stderr
        time.sleep(1)
    raise AssertionError(f"no answer: {last[-2000:]}")


def pap(port: int, password: str) -> subprocess.CompletedProcess:
    attrs = f'User-Name = "alice", User-Password = "{password}", Message-Authenticator = 0x00\n'
    return subprocess.run(["radclient", "-x", "-r", "1", "-t", "2", f"127.0.0.1:{port}", "auth", "testing123"],
                          input=attrs, capture_output=True, text=True, timeout=30)


@pytest.mark.timeout(900)
def test_install_run_upgrade_purge(tmp_path):
    need_binary("radclient")
    deb1 = build("0.1.0", tmp_path / "v1")
    if Path("/usr/bin/lintian").exists():      # installed by .ci/run; the package must be clean of errors
        lint = sh("lintian", "--no-tag-display-limit", str(deb1), check=False)
        errors = [line for line in lint.stdout.splitlines() if line.startswith("E:")]
        assert not errors, "\n".join(errors)
    deb2 = rebuild_as(deb1, "0.1.1", tmp_path / "v2")
    sh("apt-get", "-o", "DPkg::Lock::Timeout=120", "purge", "-y", "-qq", "ocs-appliance", check=False)
    sh("apt-get", "-o", "DPkg::Lock::Timeout=120", "install", "-y", "-qq", str(deb1))
    try:
        assert Path(APPLIANCE).exists() and Path("/usr/bin/appliance").exists()
        # the Diameter codec ships compiled (setup.py builds it into the wheel the package carries)
        probe = sh(str(Path(APPLIANCE).with_name("python")), "-c",
                   "from appliance.diameter import codec; print(codec.COMPILED)")
        assert probe.stdout.strip() == "True", probe.stdout + probe.stderr
        assert "usage" in sh("/usr/bin/export_ipdr", "--help").stdout.lower()
        assert Path("/var/lib/ocs-appliance/appliance.db").exists()
        assert Path("/var/lib/ocs-appliance/tls/server.crt").exists()
        assert Path("/usr/share/snmp/mibs").is_dir()
        assert sh("id", "-u", "ocs").returncode == 0
        st = CONF.stat()                           # it holds secrets: the service's group reads it, nobody else
        assert st.st_mode & 0o777 == 0o640 and st.st_uid == 0
        assert sh("stat", "-c", "%G", str(CONF)).stdout.strip() == "ocs"

        # the operator edits the conffile: our own ports so an appliance on the defaults is not disturbed
        auth, acct = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
        dia, rest, snmp = free_port(), free_port(), free_port(socket.SOCK_DGRAM)
        text = CONF.read_text()
        text = re.sub(r"auth_port: \d+", f"auth_port: {auth}", text)
        text = re.sub(r"acct_port: \d+", f"acct_port: {acct}", text)
        text = re.sub(r"(diameter:\n  address: [^\n]*\n  port: )\d+", rf"\g<1>{dia}", text)
        text = re.sub(r"(rest:\n  address: \S+\n  port: )\d+", rf"\g<1>{rest}", text)
        text = re.sub(r"(snmp:\n  address: \S+\n  port: )\d+", rf"\g<1>{snmp}", text)
        text = text.replace("radius: 2", "radius: 1").replace("diameter: 2", "diameter: 1")
        CONF.write_text(text)
        as_ocs("config", "check")

        as_ocs("offer", "add", "data", "--price", "name=d,unit=octets,size=1000000,amount=20000",
               "--price", "name=v,unit=seconds,size=60,amount=10000")
        as_ocs("product", "add", "p1", "--offer", "data")
        as_ocs("service", "add", "alice", "--product", "p1", "--nai", "alice", "--msisdn", "15550001",
               "--password", "wonderland")
        as_ocs("bucket", "add", "p1", "--unit", "money", "--amount", "5000000")
        as_ocs("client", "add", "pcef.localdomain", "--protocol", "diameter", "--ip", "127.0.0.1")

        proc = start_service()
        try:
            out = wait_udp_answer(lambda: pap(auth, "wonderland"))
            assert "Access-Accept" in out
            assert "Access-Reject" in pap(auth, "wrong").stdout
            ro = sh(APPLIANCE, "--config", str(CONF), "diameter-client", "--server", f"127.0.0.1:{dia}",
                    "--origin-host", "pcef.localdomain", "--origin-realm", "localdomain",
                    "--subscriber", "15550001", "--sub-type", "e164", "--unit", "seconds",
                    "--requested", "120", "--used", "90", "--updates", "0", check=True)
            assert ro.stdout.count("2001") >= 2, ro.stdout  # CCA-I and CCA-T
        finally:
            stop_service(proc)
        before = json.loads(as_ocs("balance", "alice").stdout)
        assert before["totals"]["money"] == 5_000_000 - 20_000  # 90 s = two started 60 s blocks

        # upgrade: data and the edited configuration are kept
        sh("apt-get", "-o", "DPkg::Lock::Timeout=120", "install", "-y", "-qq", str(deb2))
        assert "Version: 0.1.1" in sh("dpkg", "-s", "ocs-appliance").stdout
        assert f"auth_port: {auth}" in CONF.read_text()
        assert json.loads(as_ocs("balance", "alice").stdout) == before
        proc = start_service()
        try:
            assert "Access-Accept" in wait_udp_answer(lambda: pap(auth, "wonderland"))
        finally:
            stop_service(proc)

        # remove keeps data; purge removes data, logs, config and the user
        sh("apt-get", "-o", "DPkg::Lock::Timeout=120", "remove", "-y", "-qq", "ocs-appliance")
        assert not Path("/usr/lib/ocs-appliance").exists()
        assert Path("/var/lib/ocs-appliance/appliance.db").exists()
    finally:
        sh("apt-get", "-o", "DPkg::Lock::Timeout=120", "purge", "-y", "-qq", "ocs-appliance", check=False)
    assert not Path("/var/lib/ocs-appliance").exists() and not CONF.exists()
    assert sh("id", "-u", "ocs", check=False).returncode != 0
