"""The agent as its own process beside real RADIUS and Diameter workers: net-snmp sees the traffic.

RFC 4669/4671 totals and per-client rows, the Diameter peer table and the
application table must move by exactly the traffic sent, over v2c and v3 authPriv;
a wrong community, a community from outside ``snmp.allowed`` or a wrong v3 key get
nothing.
"""
from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time

import pytest
import yaml

from appliance.config import load
from appliance.diameter.client import CreditControlClient, ccr
from appliance.store import open_store
from tests.conftest import free_port, need_binary, seed, wait_bound
from tests.ledger_role import start_process, stop_process
from tests.snmp.conftest import DBP, ENTERPRISE, OCS, RADIUS_ACC, RADIUS_AUTH, V3, Agents, parse, snmp, write_config

SECRET = "testing123"
AUTH_TOTAL = {"requests": f"{RADIUS_AUTH}.5.0", "rejects": f"{RADIUS_AUTH}.9.0", "invalid": f"{RADIUS_AUTH}.6.0"}
AUTH_CLIENT1 = {"requests": f"{RADIUS_AUTH}.16.1.5.1", "rejects": f"{RADIUS_AUTH}.16.1.8.1"}
ACC_TOTAL = {"requests": f"{RADIUS_ACC}.5.0", "responses": f"{RADIUS_ACC}.8.0"}
ACC_CLIENT1 = {"requests": f"{RADIUS_ACC}.15.1.6.1", "responses": f"{RADIUS_ACC}.15.1.8.1"}
RO = 4
CC = ENTERPRISE + ".3.2"          # DIAMETER-CC-APPLICATION-MIB
IMSI = "001010000000042"


def worker(conf, role: str, index: int) -> subprocess.Popen:
    with open(conf.parent.parent / f"{role}{index}.log", "wb") as log:
        return subprocess.Popen([sys.executable, "-m", "appliance", "--config", str(conf), "run", role,
                                 "--index", str(index)], stdout=log, stderr=subprocess.STDOUT, cwd=conf.parent.parent)




def get(agent, oids: dict[str, str], **kw) -> dict[str, int]:
    values = parse(snmp("snmpget", agent.target, *oids.values(), **kw).stdout)
    return {k: int(values[oid]) for k, oid in oids.items()}


def radclient(port: int, kind: str, packets: list[str]) -> None:
    tool = need_binary("radclient")
    out = subprocess.run([tool, "-q", "-p", "1", "-t", "10", "-r", "1", f"127.0.0.1:{port}", kind, SECRET],
                         input="\n\n".join(packets) + "\n", capture_output=True, text=True, timeout=120, check=False)
    assert "no response" not in out.stderr.lower(), out.stderr


def wait_value(agent, oid: str, expected: int, timeout: float = 30.0) -> None:
    """Poll until ``oid`` reads ``expected`` (the Diameter workers rewrite their peer table every 5 s)."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = parse(snmp("snmpget", agent.target, oid, check=False).stdout).get(oid)
        if value is not None and value.isdigit() and int(value) == expected:
            return
        time.sleep(0.2)
    raise AssertionError(f"{oid} = {value}, expected {expected}")


@pytest.fixture(scope="module")
def appliance(tmp_path_factory):
    """The ledger role, RADIUS x2, Diameter x1 and the agent, as processes (shared by this module's tests)."""
    need_binary("radclient")
    tmp_path = tmp_path_factory.mktemp("snmp-appliance")
    start_agent = Agents()
    auth, acct, dia = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM), free_port()
    conf = write_config(tmp_path, {"allowed": ["127.0.0.1/32"]}, extra={
        "radius": {"address": "127.0.0.1", "auth_port": auth, "acct_port": acct,
                   "clients": [{"address": "127.0.0.1", "secret": SECRET, "name": "nas-lo",
                                "require_message_authenticator": False}]},
        "diameter": {"address": "127.0.0.1", "port": dia, "peers": [{"host": "gw.test"}],
                     "accept_realms": ["cli.realm"]},
        "processes": {"stop_wait": 2}})
    store = open_store(load(str(conf)))
    try:
        seed(store, IMSI, money=10_000_000)            # the Ro session of the diameter-client test
    finally:
        store.close()
    ledger = start_process(conf, load(str(conf)), tmp_path / "ledger0.log")
    workers = [worker(conf, "radius", 0), worker(conf, "radius", 1), worker(conf, "diameter", 0)]
    try:
        wait_bound(auth, socket.SOCK_DGRAM)
        wait_bound(dia, socket.SOCK_STREAM)
        agent = start_agent(conf)
        yield agent, yaml.safe_load(conf.read_text())
    finally:
        start_agent.stop()
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(15)
            except subprocess.TimeoutExpired:
                w.kill()
        stop_process(ledger)


def test_counters_move_by_exactly_the_traffic_v2c_and_v3(appliance):
    agent, conf = appliance
    r = conf["radius"]
    # the RADIUS workers have written clients.json: row 1 is 127.0.0.1 (InetAddressType ipv4, 4 octets)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        row = parse(snmp("snmpget", agent.target, f"{RADIUS_AUTH}.16.1.2.1", f"{RADIUS_AUTH}.16.1.4.1").stdout)
        if row.get(f"{RADIUS_AUTH}.16.1.4.1") == "nas-lo":
            break
        time.sleep(0.2)
    assert row[f"{RADIUS_AUTH}.16.1.2.1"] == "1" and row[f"{RADIUS_AUTH}.16.1.4.1"] == "nas-lo"

    before = {**get(agent, AUTH_TOTAL), **{f"c_{k}": v for k, v in get(agent, AUTH_CLIENT1).items()}}
    acc_before = {**get(agent, ACC_TOTAL, v3=V3), **{f"c_{k}": v for k, v in get(agent, ACC_CLIENT1, v3=V3).items()}}

    radclient(r["auth_port"], "auth", [f'User-Name = "nobody{i}", User-Password = "wrong"' for i in range(7)])
    radclient(r["acct_port"], "acct", [f'User-Name = "nobody{i}", Acct-Status-Type = Start, '
                                       f'Acct-Session-Id = "snmp-{i}", NAS-IP-Address = 127.0.0.1'
                                       for i in range(4)])

    after = {**get(agent, AUTH_TOTAL), **{f"c_{k}": v for k, v in get(agent, AUTH_CLIENT1).items()}}
    assert {k: after[k] - before[k] for k in after} == {"requests": 7, "rejects": 7, "invalid": 0,
                                                          "c_requests": 7, "c_rejects": 7}
    acc_after = {**get(agent, ACC_TOTAL, v3=V3), **{f"c_{k}": v for k, v in get(agent, ACC_CLIENT1, v3=V3).items()}}
    assert {k: acc_after[k] - acc_before[k] for k in acc_after} == {"requests": 4, "responses": 4,
                                                                      "c_requests": 4, "c_responses": 4}
    # v2c and v3 see the same numbers
    assert get(agent, AUTH_TOTAL, v3=V3) == get(agent, AUTH_TOTAL)

    # Diameter: a real client peer, 6 CCRs (unknown subscriber -> 5030, a 5xxx answer)
    async def diameter() -> None:
        client = CreditControlClient("gw.test", "gw.realm")
        await client.connect("127.0.0.1", conf["diameter"]["port"])
        try:
            table = await asyncio.to_thread(snmp, "snmpwalk", agent.target, f"{DBP}.1.2.1.1.2")
            ids = {oid.rsplit(".", 1)[1]: v for oid, v in parse(table.stdout).items()}
            assert list(ids.values()) == ["gw.test"]
            idx = next(iter(ids))
            await asyncio.to_thread(wait_value, agent, f"{DBP}.1.3.1.1.1.{idx}", 6)      # rOpen(6)
            apps_before = parse((await asyncio.to_thread(snmp, "snmpwalk", agent.target, f"{OCS}.1.2")).stdout)
            req0 = int(apps_before.get(f"{OCS}.1.2.1.1.3.{RO}", 0))
            perm0 = int(apps_before.get(f"{OCS}.1.2.1.1.7.{RO}", 0))
            for i in range(6):
                answer = await client.send(ccr(f"gw.test;snmp;{i}", "ocs.localdomain", 4, 0,
                                               subscriber="001019999999999", requested_action="debit"))
                assert answer.result_code // 1000 == 5
            await asyncio.to_thread(wait_value, agent, f"{DBP}.1.3.1.1.3.{idx}", 6)      # RequestsIn
            await asyncio.to_thread(wait_value, agent, f"{DBP}.1.3.1.1.4.{idx}", 6)      # AnswersOut
            apps = parse((await asyncio.to_thread(snmp, "snmpwalk", agent.target, f"{OCS}.1.2", v3=V3)).stdout)
            assert apps[f"{OCS}.1.2.1.1.2.{RO}"] == "ro"
            assert int(apps[f"{OCS}.1.2.1.1.3.{RO}"]) - req0 == 6
            assert int(apps[f"{OCS}.1.2.1.1.7.{RO}"]) - perm0 == 6
        finally:
            await client.close()
    asyncio.run(asyncio.wait_for(diameter(), 120))


def test_wrong_credentials_and_sources_get_nothing(appliance):
    agent, _conf = appliance
    sys_descr = "1.3.6.1.2.1.1.1.0"
    assert "ocs-appliance" in snmp("snmpget", agent.target, sys_descr).stdout
    assert "ocs-appliance" in snmp("snmpget", agent.target, sys_descr, v3=V3).stdout
    wrong = snmp("snmpget", agent.target, sys_descr, community="public", timeout=0.5, retries=0, check=False)
    assert wrong.returncode != 0 and wrong.stdout == ""
    # v3 refusals come back as USM reports (RFC 3414 §3.2): a positive answer, not a silence that a
    # dead agent would give too
    for v3, report in ((dict(V3, auth_key="not-the-key-1"), "Authentication failure"),   # usmStatsWrongDigests
                       (dict(V3, priv_key="not-the-key-2"), "Decryption error"),         # usmStatsDecryptionErrors
                       (dict(V3, name="intruder"), "Unknown user name")):                # usmStatsUnknownUserNames
        out = snmp("snmpget", agent.target, sys_descr, v3=v3, timeout=2, retries=0, check=False)
        assert out.stdout == "" and report in out.stderr, (v3["name"], out.stderr)
    # the right community from a source outside snmp.allowed (127.0.0.1/32 here) is dropped ...
    other = snmp("snmpget", agent.target, sys_descr, timeout=0.5, retries=0, check=False,
                 extra=("--clientaddr=127.0.0.2",))
    assert other.returncode != 0 and other.stdout == ""
    # ... and counted (snmpInBadCommunityUses, RFC 3418); SET is refused
    assert int(parse(snmp("snmpget", agent.target, "1.3.6.1.2.1.11.5.0").stdout)["1.3.6.1.2.1.11.5.0"]) >= 1
    denied = snmp("snmpset", agent.target, "1.3.6.1.2.1.67.1.1.1.1.4.0", "i", "2", check=False)
    assert denied.returncode != 0


def test_ro_session_from_the_cli_moves_the_per_peer_cc_and_base_counters(appliance):
    """`appliance diameter-client` runs CCR-I, 2 CCR-U, CCR-T as peer cli.test (accepted realm, a new row):
    the CC MIB per-peer row and the base MIB CER/DPR counters read exactly that session."""
    agent, conf = appliance
    out = subprocess.run([sys.executable, "-m", "appliance", "--config", str(agent.conf), "diameter-client",
                          "--server", f"127.0.0.1:{conf['diameter']['port']}", "--origin-host", "cli.test",
                          "--origin-realm", "cli.realm", "--subscriber", IMSI, "--rating-group", "32",
                          "--requested", "1000", "--used", "400", "--updates", "2"],
                         capture_output=True, text=True, timeout=120, check=False, cwd=agent.base)
    assert out.returncode == 0, out.stdout + out.stderr           # every CCA 2001
    assert len([line for line in out.stdout.splitlines() if "\"request\"" in line]) == 4

    def peer_index() -> str | None:
        ids = parse(snmp("snmpwalk", agent.target, f"{DBP}.1.2.1.1.2").stdout)
        return next((oid.rsplit(".", 1)[1] for oid, v in ids.items() if v == "cli.test"), None)
    deadline = time.monotonic() + 30
    while (idx := peer_index()) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert idx is not None
    # the client closed with DPR: the worker wrote the connection's last counts when it closed
    wait_value(agent, f"{CC}.1.2.1.1.3.{idx}", 4)                                   # CCRIn
    cc = parse(snmp("snmpwalk", agent.target, f"{CC}.1.2", v3=V3).stdout)
    row = {int(oid.split(".")[-2]): v for oid, v in cc.items() if oid.endswith(f".{idx}")}
    # CCR in/out/dropped, CCA in/out/dropped
    assert row == {2: "cli.test", 3: "4", 4: "0", 5: "0", 6: "0", 7: "4", 8: "0",
                   9: "0", 10: "0", 11: "0", 12: "0", 13: "0", 14: "0"}            # RAR/RAA: none
    base = parse(snmp("snmpwalk", agent.target, f"{DBP}.1.3.1.1").stdout)
    brow = {int(oid.split(".")[-2]): int(v) for oid, v in base.items()
            if oid.endswith(f".{idx}") and v.isdigit() and int(oid.split(".")[-2]) >= 3}
    assert brow == {3: 4, 4: 4, 5: 0, 6: 0, 7: 0,                 # RequestsIn, AnswersOut, ..., Malformed
                    8: 1, 9: 0, 10: 0, 11: 1,                     # CERsIn, CERsOut, CEAsIn, CEAsOut
                    12: 0, 13: 0, 14: 0, 15: 0,                   # DWR/DWA: the session is shorter than Tw
                    16: 1, 17: 0, 18: 0, 19: 1}                   # DPRsIn, DPRsOut, DPAsIn, DPAsOut
    # nothing was dropped for Ro (ocsAppRequestsDropped)
    assert parse(snmp("snmpget", agent.target, f"{OCS}.1.2.1.1.8.{RO}").stdout)[f"{OCS}.1.2.1.1.8.{RO}"] == "0"
