"""A PCEF test client for Gx over real TCP: sends CCRs, answers RARs, decodes rules.

It is a Diameter node of its own (Origin-Host ``pcef.test``) connected to the PCRF
over loopback; RARs it receives are queued for the test and answered with
``raa_result`` (and a Charging-Rule-Report when ``fail_rules`` names rules).
"""
from __future__ import annotations

import asyncio
from typing import Any

from appliance.config import DiameterPeer
from appliance.diameter import codec as c
from appliance.diameter.apps import gx
from appliance.diameter.node import Node
from appliance.diameter.peer import AppSupport
from appliance.diameter.worker import AppContext
from appliance.ocs.policy import Arp, ChargingKey, Flow, FlowDirection, MeteringMethod, PolicyRule, QoS, RuleKind

V = c.VENDOR_3GPP


def named(avps: list[c.Avp]) -> list[tuple[str, Any]]:
    out = []
    for a in avps:
        name = c.NAMES.get((a.code, a.vendor), f"{a.code}/{a.vendor}")
        v = a.value
        out.append((name, named(v) if isinstance(v, list) else v))
    return out


def get(tree: list[tuple[str, Any]], name: str) -> list[Any]:
    return [v for n, v in tree if n == name]


def installed(msg: c.Message) -> dict[str, Any]:
    """Rule name -> its Charging-Rule-Definition tree (or 'predefined' / 'base')."""
    out: dict[str, Any] = {}
    for cri in get(named(msg.avps), "Charging-Rule-Install"):
        for n, v in cri:
            if n == "Charging-Rule-Definition":
                out[get(v, "Charging-Rule-Name")[0].decode()] = v
            elif n == "Charging-Rule-Name":
                out[v.decode()] = "predefined"
            elif n == "Charging-Rule-Base-Name":
                out[v] = "base"
    return out


def removed(msg: c.Message) -> list[str]:
    out = []
    for crr in get(named(msg.avps), "Charging-Rule-Remove"):
        out += [v.decode() if isinstance(v, bytes) else v for _n, v in crr]
    return sorted(out)


class Pcef:
    def __init__(self, host: str = "pcef.test", pcrf: str = "pcrf.test") -> None:
        self.pcrf = pcrf
        self.node = Node(host, "pcef-realm", peers=[DiameterPeer(pcrf)])
        self.node.register(AppSupport(gx.GX, vendor_id=V), {gx.CMD_RA: self.on_rar})
        self.rars: asyncio.Queue[c.Message] = asyncio.Queue()
        self.raa_result = c.SUCCESS
        self.fail_rules: tuple[str, ...] = ()

    async def connect(self, port: int) -> None:
        conn = await self.node.connect(self.pcrf, "127.0.0.1", port)
        for _ in range(500):
            if self.pcrf in self.node.open or conn.closed.done():
                break
            await asyncio.sleep(0.01)
        assert self.pcrf in self.node.open, "CER/CEA with the PCRF failed"

    async def on_rar(self, req: Any) -> bytes:
        await self.rars.put(req.message)
        avps = []
        if self.fail_rules:
            avps.append(c.avp("Charging-Rule-Report", [*(c.avp("Charging-Rule-Name", n.encode())
                                                         for n in self.fail_rules),
                                                       c.avp("PCC-Rule-Status", 1),
                                                       c.avp("Rule-Failure-Code", 3)]))
        return req.answer(self.raa_result, avps)

    async def ccr(self, sid: str, rt: int, n: int, *extra: bytes, ids: tuple[tuple[int, str], ...] = (),
                  app: int = gx.GX) -> c.Message:
        avps = [c.avp("Session-Id", sid), c.avp("Auth-Application-Id", app), c.avp("Destination-Realm", "test"),
                c.avp("CC-Request-Type", rt), c.avp("CC-Request-Number", n)]
        for kind, data in ids:
            avps.append(c.avp("Subscription-Id", [c.avp("Subscription-Id-Type", kind),
                                                  c.avp("Subscription-Id-Data", data)]))
        return await self.node.request(gx.CMD_CC, gx.GX, [*avps, *extra], host=self.pcrf)

    async def initial(self, sid: str, imsi: str | None = None, msisdn: str | None = None,
                      features: int | None = 3) -> c.Message:
        ids = tuple(x for x in ((1, imsi), (0, msisdn)) if x[1])
        extra = [c.avp("Framed-IP-Address", bytes([10, 0, 0, 1])), c.avp("RAT-Type", 1004),
                 c.avp("IP-CAN-Type", 5), c.avp("Called-Station-Id", "internet")]
        if features is not None:
            extra.append(c.avp("Supported-Features", [c.avp("Vendor-Id", V), c.avp("Feature-List-ID", 1),
                                                      c.avp("Feature-List", features)]))
        return await self.ccr(sid, 1, 0, *extra, ids=ids)

    async def usage_report(self, sid: str, n: int, key: str, octets: int) -> c.Message:
        umi = c.avp("Usage-Monitoring-Information", [
            c.avp("Monitoring-Key", key.encode()),
            c.avp("Used-Service-Unit", [c.avp("CC-Input-Octets", octets // 2),
                                        c.avp("CC-Output-Octets", octets - octets // 2)])])
        return await self.ccr(sid, 2, n, c.avp("Event-Trigger", 33), umi)

    async def terminate(self, sid: str, n: int) -> c.Message:
        return await self.ccr(sid, 3, n)

    async def next_rar(self, timeout: float = 10.0) -> c.Message:
        return await asyncio.wait_for(self.rars.get(), timeout)

    async def stop(self) -> None:
        await self.node.stop(1)


async def start_pcrf(cfg: Any, store: Any, port: int = 0) -> tuple[Node, gx.GxApp, int]:
    """The appliance side: a node with only the Gx application, as the worker builds it."""
    node = Node("pcrf.test", "test", peers=[DiameterPeer("pcef.test"), DiameterPeer("pcef2.test")])
    app = gx.install(node, AppContext(cfg, store, None, 0))
    bound = await node.listen("127.0.0.1", port)
    return node, app, bound


def rule_from_definition(crd: c.Avp) -> PolicyRule:
    """What a PCEF reads from a Charging-Rule-Definition (the inverse of gx.rule_definition)."""
    inner = crd.group()

    def one(avps, name):
        key = c.key_of(name)
        found = [a for a in avps if (a.code, a.vendor) == key]
        return found[0] if found else None

    def num(avps, name):
        a = one(avps, name)
        return None if a is None else a.value

    flows = tuple(Flow(one(f.group(), "Flow-Description").data.decode(),
                       FlowDirection(num(f.group(), "Flow-Direction")))
                  for f in inner if (f.code, f.vendor) == c.key_of("Flow-Information"))
    qos = None
    q = one(inner, "QoS-Information")
    if q is not None:
        qa = q.group()
        arp_avp = one(qa, "Allocation-Retention-Priority")
        arp = None
        if arp_avp is not None:
            g = arp_avp.group()
            arp = Arp(num(g, "Priority-Level"), num(g, "Pre-emption-Capability") == 0,
                      num(g, "Pre-emption-Vulnerability") == 0)
        qos = QoS(num(qa, "QoS-Class-Identifier"), arp, num(qa, "Max-Requested-Bandwidth-UL"),
                  num(qa, "Max-Requested-Bandwidth-DL"), num(qa, "Guaranteed-Bitrate-UL"),
                  num(qa, "Guaranteed-Bitrate-DL"))
    online, offline, metering = num(inner, "Online"), num(inner, "Offline"), num(inner, "Metering-Method")
    rg, si = num(inner, "Rating-Group"), num(inner, "Service-Identifier")
    charging = None
    if any(x is not None for x in (online, offline, metering, rg, si)):
        charging = ChargingKey(rg, si, None if online is None else online == 1,
                               None if offline is None else offline == 1,
                               None if metering is None else MeteringMethod(metering))
    mk = one(inner, "Monitoring-Key")
    return PolicyRule(one(inner, "Charging-Rule-Name").data.decode(), RuleKind.DYNAMIC, num(inner, "Precedence"),
                      flows, qos, charging, mk.data.decode() if mk is not None else None)
