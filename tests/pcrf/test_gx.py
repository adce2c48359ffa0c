"""Gx over real TCP on loopback: a PCEF client against the PCRF node (TS 29.212)."""
from __future__ import annotations

import asyncio
import dataclasses
import json
import subprocess
import sys

import pytest

from appliance.config import PcrfConfig
from appliance.diameter import codec as c
from appliance.ocs.policy import (
    Arp,
    ChargingKey,
    Flow,
    FlowDirection,
    MeteringMethod,
    MonitoringQuota,
    PolicyRule,
    PolicyTable,
    QoS,
    RuleKind,
    SessionQoS,
)
from appliance.pcrf import engine as E
from appliance.pcrf import tables as T
from appliance.telemetry import metrics

from ..conftest import DATA_OFFER, seed
from .pcef import Pcef, get, installed, named, removed, start_pcrf

IMSI, MSISDN = "001010000000001", "15551230001"
ANY = "permit out ip from any to any"
WEB = PolicyRule("web", RuleKind.DYNAMIC, 100, (Flow("permit out 6 from any 80 to any", FlowDirection.DOWNLINK),
                                                Flow("permit out 6 from any to any 443", FlowDirection.UPLINK)),
                 QoS(9, Arp(8, False, True), 10_000_000, 20_000_000),
                 ChargingKey(32, 7, True, False, MeteringMethod.VOLUME), "mk1")
SLOW = PolicyRule("slow", RuleKind.DYNAMIC, 10, (Flow(ANY),), QoS(9, None, 64_000, 128_000))
TABLE = PolicyTable("gold", (PolicyRule("gold-predef", RuleKind.PREDEFINED), PolicyRule("voice", RuleKind.BASE),
                             SLOW, WEB),
                    (MonitoringQuota("mk1", 1_000, 600, "slow"),), SessionQoS(5_000_000, 6_000_000, 8, Arp(5)))


@pytest.fixture
def gxcfg(cfg):
    return dataclasses.replace(cfg, pcrf=PcrfConfig(push_interval=0.05, rar_timeout=3.0))


def provision(store, attach=True):
    seed(store, imsi=IMSI, msisdn=MSISDN, offer=dataclasses.replace(DATA_OFFER,
                                                                    policy_table="gold" if attach else None))
    store.transact(lambda l: T.put_table(l, TABLE))


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def avp_tree(msg):
    return named(msg.avps)


def test_ccr_i_installs_rules_qos_monitoring_and_features(gxcfg, store):
    provision(store)

    async def go():
        node, _app, port = await start_pcrf(gxcfg, store)
        pcef = Pcef()
        await pcef.connect(port)
        cca = await pcef.initial("pcef.test;1;1", imsi=IMSI, features=0b111)
        assert cca.result_code == c.SUCCESS and cca.app_id == 16777238 and cca.u32(415) == 0
        tree = avp_tree(cca)
        assert get(tree, "CC-Request-Type") == [1] and get(tree, "Auth-Application-Id") == [16777238]
        rules = installed(cca)
        assert sorted(rules) == ["gold-predef", "voice", "web"]
        assert rules["gold-predef"] == "predefined" and rules["voice"] == "base"
        web = rules["web"]
        assert get(web, "Rating-Group") == [32] and get(web, "Service-Identifier") == [7]
        assert get(web, "Online") == [1] and get(web, "Offline") == [0] and get(web, "Metering-Method") == [1]
        assert get(web, "Precedence") == [100] and get(web, "Monitoring-Key") == [b"mk1"]
        flows = get(web, "Flow-Information")
        assert [(get(f, "Flow-Description")[0], get(f, "Flow-Direction")[0]) for f in flows] == [
            (b"permit out 6 from any 80 to any", 1), (b"permit out 6 from any to any 443", 2)]
        qos = get(web, "QoS-Information")[0]
        assert get(qos, "QoS-Class-Identifier") == [9] and get(qos, "Max-Requested-Bandwidth-DL") == [20_000_000]
        assert get(get(qos, "Allocation-Retention-Priority")[0], "Priority-Level") == [8]
        session_qos = get(tree, "QoS-Information")[0]
        assert get(session_qos, "APN-Aggregate-Max-Bitrate-UL") == [5_000_000]
        assert get(session_qos, "APN-Aggregate-Max-Bitrate-DL") == [6_000_000]
        bearer = get(tree, "Default-EPS-Bearer-QoS")[0]
        assert get(bearer, "QoS-Class-Identifier") == [8]
        arp = get(bearer, "Allocation-Retention-Priority")[0]
        assert get(arp, "Priority-Level") == [5] and get(arp, "Pre-emption-Capability") == [1]
        assert sorted(get(tree, "Event-Trigger")) == [E.RAT_CHANGE, E.USAGE_REPORT]
        umi = get(tree, "Usage-Monitoring-Information")[0]
        assert get(umi, "Monitoring-Key") == [b"mk1"]
        assert get(get(umi, "Granted-Service-Unit")[0], "CC-Total-Octets") == [600]
        sf = get(tree, "Supported-Features")[0]
        assert get(sf, "Feature-List-ID") == [1] and get(sf, "Feature-List") == [0b11]
        assert not cca.find(628, c.VENDOR_3GPP).mandatory
        s = store.transact(lambda l: E.load_session(l, "pcef.test;1;1"))
        assert s.peer == "pcef.test" and s.ip == "10.0.0.1" and s.apn == "internet" and s.rat_type == 1004
        await pcef.stop()
        await node.stop(1)
    run(go())


def test_defaults_unknown_subscriber_and_protocol_errors(gxcfg, store):
    provision(store, attach=False)

    async def go():
        node, _app, port = await start_pcrf(gxcfg, store)
        pcef = Pcef()
        await pcef.connect(port)
        cca = await pcef.initial("pcef.test;1;2", msisdn=MSISDN, features=None)
        assert cca.result_code == c.SUCCESS and installed(cca) == {}
        tree = avp_tree(cca)
        assert get(get(tree, "QoS-Information")[0], "APN-Aggregate-Max-Bitrate-DL") == [gxcfg.pcrf.apn_ambr_dl]
        assert get(get(tree, "Default-EPS-Bearer-QoS")[0], "QoS-Class-Identifier") == [gxcfg.pcrf.default_qci]
        assert get(tree, "Supported-Features") == []
        # unknown subscriber: Result-Code 5030 (RFC 4006 §9.1), nothing installed, no session stored
        cca = await pcef.initial("pcef.test;1;3", imsi="999999999999999")
        assert cca.u32(c.RESULT_CODE) == 5030 and installed(cca) == {} and not cca.is_error
        # no Subscription-Id at all: Experimental-Result 5140 DIAMETER_ERROR_INITIAL_PARAMETERS, vendor 3GPP
        cca = await pcef.initial("pcef.test;1;4")
        assert cca.find(c.RESULT_CODE) is None
        er = get(avp_tree(cca), "Experimental-Result")[0]
        assert get(er, "Vendor-Id") == [10415] and get(er, "Experimental-Result-Code") == [5140]
        # CCR-U for a session we do not know: 5002
        cca = await pcef.ccr("pcef.test;1;99", 2, 1)
        assert cca.result_code == c.UNKNOWN_SESSION_ID
        # missing CC-Request-Type: 5005 with Failed-AVP; CC-Request-Type EVENT is not Gx: 5004
        conn = pcef.node.open["pcrf.test"]
        ans = await pcef.node.request(272, 16777238, [c.avp("Session-Id", "x;1"), c.avp("Auth-Application-Id",
                                                                                       16777238),
                                                      c.avp("CC-Request-Number", 0)], host="pcrf.test")
        assert ans.result_code == c.MISSING_AVP and ans.find(c.FAILED_AVP).group()[0].code == 416
        ans = await pcef.ccr("x;2", 4, 0, ids=((1, IMSI),))
        assert ans.result_code == c.INVALID_AVP_VALUE
        ans = await pcef.ccr("x;3", 1, 0, ids=((1, IMSI),), app=4)
        assert ans.result_code == c.INVALID_AVP_VALUE
        assert conn.pc.state.name == "OPEN"
        assert [k for k, _ in store.transact(lambda l: l.list_docs(T.KIND_SESSION))] == ["pcef.test;1;2"]
        await pcef.stop()
        await node.stop(1)
    run(go())


def test_usage_exhaustion_swaps_in_throttle_rule_and_ccr_t_cleans_up(gxcfg, store):
    provision(store)

    async def go():
        node, _app, port = await start_pcrf(gxcfg, store)
        pcef = Pcef()
        await pcef.connect(port)
        sid = "pcef.test;1;5"
        await pcef.initial(sid, imsi=IMSI)
        # an Event-Trigger report without usage: RAT change is noted, nothing to re-provision
        cca = await pcef.ccr(sid, 2, 1, c.avp("Event-Trigger", E.RAT_CHANGE), c.avp("RAT-Type", 1005))
        assert cca.result_code == c.SUCCESS and installed(cca) == {} and removed(cca) == []
        assert get(avp_tree(cca), "Usage-Monitoring-Information") == []
        assert store.transact(lambda l: E.load_session(l, sid)).rat_type == 1005
        cca = await pcef.usage_report(sid, 2, "mk1", 600)
        assert cca.result_code == c.SUCCESS and installed(cca) == {} and removed(cca) == []
        umi = get(avp_tree(cca), "Usage-Monitoring-Information")[0]
        assert get(get(umi, "Granted-Service-Unit")[0], "CC-Total-Octets") == [400]
        cca = await pcef.usage_report(sid, 3, "mk1", 401)          # quota of 1000 used up
        assert cca.result_code == c.SUCCESS
        assert list(installed(cca)) == ["slow"] and removed(cca) == ["web"]
        assert get(avp_tree(cca), "Usage-Monitoring-Information") == []
        assert get(avp_tree(cca), "Event-Trigger") == [E.RAT_CHANGE]          # usage reports no longer wanted
        assert store.transact(lambda l: T.usage(l, "p1")) == {"mk1": 1001}
        cca = await pcef.terminate(sid, 4)
        assert cca.result_code == c.SUCCESS and get(avp_tree(cca), "CC-Request-Type") == [3]
        assert store.transact(lambda l: (l.list_docs(T.KIND_SESSION), l.list_docs(T.KIND_BY_PRODUCT))) == ([], [])
        assert (await pcef.terminate(sid, 5)).result_code == c.UNKNOWN_SESSION_ID
        await pcef.stop()
        await node.stop(1)
    run(go())


def cli(cfg, *args):
    conf = cfg.path("appliance.yaml")
    conf.write_text(f"data_dir: {cfg.path(cfg.data_dir)}\nrun_dir: {cfg.path(cfg.run_dir)}\n"
                    f"log_dir: {cfg.path(cfg.log_dir)}\n")
    r = subprocess.run([sys.executable, "-m", "appliance", "--config", str(conf), *args], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.splitlines()[-1])


def test_operator_rule_change_pushes_rar_and_raa_is_recorded(gxcfg, store):
    provision(store)
    metrics.default().set("pcrf.gx.rules.failed", 0)

    async def go():
        node, app, port = await start_pcrf(gxcfg, store)
        pcef = Pcef()
        await pcef.connect(port)
        sid = "pcef.test;1;6"
        await pcef.initial(sid, imsi=IMSI)
        # the operator adds a rule from another process (the CLI), on the same database
        out = await asyncio.to_thread(cli, gxcfg, "policy", "rule", "add", "gold", "video", "--flow", ANY,
                                      "--qci", "6", "--rating-group", "40", "--precedence", "50")
        assert out["pushes"] == 1
        rar = await pcef.next_rar()
        assert rar.code == 258 and rar.is_request and rar.session_id == sid and rar.app_id == 16777238
        tree = avp_tree(rar)
        assert get(tree, "Destination-Host") == [b"pcef.test"] and get(tree, "Re-Auth-Request-Type") == [0]
        assert list(installed(rar)) == ["video"] and removed(rar) == []
        assert get(installed(rar)["video"], "Rating-Group") == [40]
        for _ in range(500):
            s = store.transact(lambda l: E.load_session(l, sid))
            if s.last_raa:
                break
            await asyncio.sleep(0.01)
        assert s.last_raa["result"] == 2001 and "video" in s.installed and s.pending is None
        assert store.transact(lambda l: T.pending_pushes(l)) == []
        # the operator moves the table off the offer; the PCEF refuses one removal-install with a report
        pcef.fail_rules = ("slow",)
        store.transact(lambda l: T.put_table(l, PolicyTable("bronze", (SLOW,))))
        await asyncio.to_thread(cli, gxcfg, "policy", "attach", "bronze", "--offer", "data")
        rar = await pcef.next_rar()
        assert list(installed(rar)) == ["slow"] and removed(rar) == ["gold-predef", "video", "voice", "web"]
        for _ in range(500):
            s = store.transact(lambda l: E.load_session(l, sid))
            # the failure counter moves after the RAA's transaction commits: wait for both
            if (s.last_raa and s.last_raa["at"] and s.table == "bronze" and s.pending is None
                    and metrics.default().get("pcrf.gx.rules.failed")):
                break
            await asyncio.sleep(0.01)
        assert s.installed == {} and "slow" in s.failed
        assert metrics.default().get("pcrf.gx.rules.failed") == 1
        # the PCEF lost the session: RAA 5002 ends ours
        pcef.raa_result = c.UNKNOWN_SESSION_ID
        pcef.fail_rules = ()
        store.transact(lambda l: T.put_rule(l, "bronze", PolicyRule("extra", RuleKind.PREDEFINED)))
        app.poke()
        await pcef.next_rar()
        for _ in range(500):
            if not store.transact(lambda l: l.list_docs(T.KIND_SESSION)):
                break
            await asyncio.sleep(0.01)
        assert store.transact(lambda l: l.list_docs(T.KIND_SESSION)) == []
        await pcef.stop()
        await node.stop(1)
    run(go())


def test_gx_session_survives_worker_restart(gxcfg, cfg):
    from appliance.store import open_store
    store = open_store(gxcfg)
    provision(store)

    async def go(store):
        node, app, port = await start_pcrf(gxcfg, store)
        pcef = Pcef()
        await pcef.connect(port)
        sid = "pcef.test;1;7"
        assert (await pcef.initial(sid, imsi=IMSI)).result_code == c.SUCCESS
        await pcef.stop()
        await node.stop(1)
        app.task.cancel()
        store.close()
        # a new worker process: new store handle, new node, same port; the PCEF reconnects
        store2 = open_store(gxcfg)
        node2, app2, _ = await start_pcrf(gxcfg, store2, port)
        pcef2 = Pcef()
        await pcef2.connect(port)
        cca = await pcef2.usage_report(sid, 1, "mk1", 100)
        assert cca.result_code == c.SUCCESS
        assert get(get(get(avp_tree(cca), "Usage-Monitoring-Information")[0], "Granted-Service-Unit")[0],
                   "CC-Total-Octets") == [600]
        store2.transact(lambda l: T.put_rule(l, "gold", PolicyRule("after-restart", RuleKind.PREDEFINED)))
        app2.poke()
        rar = await pcef2.next_rar()
        assert rar.session_id == sid and list(installed(rar)) == ["after-restart"]
        assert (await pcef2.terminate(sid, 2)).result_code == c.SUCCESS
        await pcef2.stop()
        await node2.stop(1)
        store2.close()
    run(go(store))
