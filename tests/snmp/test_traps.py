"""Notifications reach a real snmptrapd: Diameter peer up/down (v2c trap and v3 inform), unknown client."""
from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

from appliance.config import DiameterPeer
from appliance.diameter.node import Node
from appliance.diameter.peer import AppSupport
from appliance.telemetry import events, metrics
from tests.conftest import free_port
from tests.snmp.conftest import OCS, V3, write_config

PEER_UP, PEER_DOWN, UNKNOWN = f".{OCS}.0.1", f".{OCS}.0.2", f".{OCS}.0.3"
PEER_IDENTITY = f".{OCS}.1.5.2.0"


def snmptrapd_binary() -> str:
    path = shutil.which("snmptrapd") or ("/usr/sbin/snmptrapd" if os.path.exists("/usr/sbin/snmptrapd") else None)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("snmptrapd is not installed (.ci/run must install it)")
        pytest.skip("snmptrapd not installed")
    return path


@pytest.fixture
def trapd(tmp_path):
    port = free_port(socket.SOCK_DGRAM)
    conf = tmp_path / "snmptrapd.conf"
    conf.write_text(f"authCommunity log trap-secret\n"
                    f"createUser {V3['name']} SHA {V3['auth_key']} AES {V3['priv_key']}\n"
                    f"authUser log {V3['name']}\n")
    log = tmp_path / "traps.log"
    proc = subprocess.Popen([snmptrapd_binary(), "-f", "-n", "-On", "-C", "-c", str(conf), "-M", "/nonexistent",
                             "-m", "", "-Lf", str(log), "-F", "%P|%v\n", "--persistentDir=" + str(tmp_path / "persist"),
                             f"udp:127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield port, log
    proc.terminate()
    proc.wait(10)


def wait_log(log, *needles: str, count: int = 1, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = log.read_text() if log.exists() else ""
        if all(text.count(n) >= count for n in needles):
            return text
        time.sleep(0.2)
    raise AssertionError(f"{needles} not received:\n{text[-3000:]}")


def test_peer_down_reaches_snmptrapd_as_trap_and_inform(tmp_path, trapd, start_agent):
    port, log = trapd
    conf = write_config(tmp_path, {"managers": [
        {"address": "127.0.0.1", "port": port, "community": "trap-secret"},
        {"address": "127.0.0.1", "port": port, "version": "v3", "user": V3["name"], "inform": True}]})
    agent = start_agent(conf)

    async def peer_session() -> None:
        server = Node("ocs.test", "test", peers=[DiameterPeer("gw.test")], run_dir=str(agent.run_dir))
        server.register(AppSupport(4), {})
        dport = await server.listen("127.0.0.1", 0)
        client = Node("gw.test", "gw.realm")
        client.register(AppSupport(4), {})
        await client.connect("ocs.test", "127.0.0.1", dport)
        try:
            await asyncio.to_thread(wait_log, log, PEER_UP, count=2)       # trap + inform
            up = log.read_text()
            assert PEER_DOWN not in up and '"gw.test"' in up
        finally:
            await client.stop(2)                                            # DPR/DPA, then close
            await asyncio.to_thread(wait_log, log, PEER_DOWN, count=2)
            await server.stop(1)
    asyncio.run(asyncio.wait_for(peer_session(), 120))

    downs = [line for line in log.read_text().splitlines() if PEER_DOWN in line]
    assert len(downs) == 2 and all(f'{PEER_IDENTITY} = STRING: "gw.test"' in line for line in downs)
    assert sorted(line.split("|")[0].split(", ")[1] for line in downs) == ["SNMP v2c", "SNMP v3"]
    assert any("TRAP2" in line and "community trap-secret" in line for line in downs)
    assert any("INFORM" in line and f"user {V3['name']}" in line for line in downs)


def test_unknown_client_event_becomes_a_notification(tmp_path, trapd, start_agent):
    port, log = trapd
    conf = write_config(tmp_path, {"managers": [{"address": "127.0.0.1", "port": port,
                                                 "community": "trap-secret"}]})
    agent = start_agent(conf)
    previous = metrics.default()
    metrics.open_process_counters(agent.run_dir, "radius7")
    try:
        assert events.unknown_client("radius", "192.0.2.77", "nas-x") is True
        assert events.unknown_client("radius", "192.0.2.77", "nas-x") is False     # once a minute per address
        text = wait_log(log, UNKNOWN)
        assert "C0 00 02 4D" in text.upper() or "192.0.2.77" in text
    finally:
        metrics._default = previous


def test_refused_diameter_peer_becomes_an_unknown_client_notification(tmp_path, trapd, start_agent, monkeypatch):
    port, log = trapd
    conf = write_config(tmp_path, {"managers": [{"address": "127.0.0.1", "port": port,
                                                 "community": "trap-secret"}]})
    agent = start_agent(conf)
    monkeypatch.setattr(events, "_last", {})
    previous = metrics.default()
    metrics.open_process_counters(agent.run_dir, "diameter7")
    try:
        async def refused() -> None:
            server = Node("ocs.test", "test", peers=[DiameterPeer("gw.test")], run_dir=str(agent.run_dir))
            server.register(AppSupport(4), {})
            dport = await server.listen("127.0.0.1", 0)
            client = Node("stranger.test", "elsewhere")
            client.register(AppSupport(4), {})
            conn = await client.connect("ocs.test", "127.0.0.1", dport)
            await asyncio.wait_for(conn.closed, 10)            # CEA 3010, connection closed
            assert not client.open
            await client.stop(1)
            await server.stop(1)
        asyncio.run(asyncio.wait_for(refused(), 60))
        text = wait_log(log, UNKNOWN)
        line = next(line for line in text.splitlines() if UNKNOWN in line)
        assert f'{PEER_IDENTITY} = STRING: "stranger.test"' in line
        assert f".{OCS}.1.5.1.0 = INTEGER: 2" in line                   # ocsNotifyProtocol diameter(2)
        assert f".{OCS}.1.5.4.0 = Hex-STRING: 7F 00 00 01" in line      # ocsNotifyAddress 127.0.0.1
    finally:
        metrics._default = previous


def test_process_restart_and_disk_nearly_full(tmp_path, trapd, start_agent):
    port, log = trapd
    (tmp_path / "logs").mkdir()
    radius = {"address": "127.0.0.1", "auth_port": free_port(socket.SOCK_DGRAM),
              "acct_port": free_port(socket.SOCK_DGRAM), "clients": []}
    conf = write_config(tmp_path, {"disk_full_percent": 1, "managers": [
        {"address": "127.0.0.1", "port": port, "community": "trap-secret"}]}, extra={"radius": radius})
    agent = start_agent(conf)
    # the file system holding logs/ is more than 1 % full: one notification, not one per poll
    text = wait_log(log, f".{OCS}.0.4")
    assert f'.{OCS}.1.3.1.1.2.5 = STRING: "process"' in text

    def run_worker() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "appliance", "--config", str(conf), "run", "radius"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)

    def counter_file(pid: int) -> bool:
        return (agent.run_dir / "counters" / f"radius0-{pid}.cnt").exists()

    first = run_worker()
    try:
        deadline = time.monotonic() + 60
        while not counter_file(first.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert counter_file(first.pid)
        first.kill()                                   # crash: no graceful stop
        first.wait(10)
        second = run_worker()
        try:
            text = wait_log(log, f".{OCS}.0.5")
            line = next(line for line in text.splitlines() if f".{OCS}.0.5" in line)
            assert f'.{OCS}.1.4.1.1.2.{second.pid} = STRING: "radius0"' in line
            assert f".{OCS}.1.4.1.1.3.{second.pid} = INTEGER: 1" in line
        finally:
            second.terminate()
            second.wait(15)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(10)
    # one notification per directory (the worker created logs/acct and logs/auth meanwhile), never repeated
    disks = [line.split(f".{OCS}.1.3.1.1.2.")[1].split(" ")[0] for line in log.read_text().splitlines()
             if f".{OCS}.0.4" in line]
    assert "5" in disks and len(disks) == len(set(disks))


def test_a_server_certificate_near_expiry_is_notified_once(tmp_path, trapd, start_agent):
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    port, log = trapd
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aaa.expiring.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(7).not_valid_before(now - datetime.timedelta(days=360))
            .not_valid_after(now + datetime.timedelta(days=5, hours=1)).sign(key, hashes.SHA256()))
    (tmp_path / "server.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "server.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                            serialization.PrivateFormat.PKCS8,
                                                            serialization.NoEncryption()))
    conf = write_config(tmp_path, {"cert_warn_days": 30, "managers": [
        {"address": "127.0.0.1", "port": port, "community": "trap-secret"}]},
        extra={"tls": {"certificate": str(tmp_path / "server.crt"), "key": str(tmp_path / "server.key")}})
    start_agent(conf)
    text = wait_log(log, f".{OCS}.0.6")
    line = next(line for line in text.splitlines() if f".{OCS}.0.6" in line)
    assert "aaa.expiring.test" in line and "5 days left" in line
    time.sleep(1.0)                                   # several polls later: still one notification today
    assert log.read_text().count(f".{OCS}.0.6") == 1
