"""Gx AVP encoding and CCR parsing as data (no sockets); grouped AVPs checked with an independent
decoder (python-diameter, plain messages) as well as our own."""
from __future__ import annotations

import diameter.message as pd
import pytest

from appliance.diameter import codec as c
from appliance.diameter.apps import gx
from appliance.diameter.codec import DiameterError
from appliance.ocs.policy import (
    Arp,
    ChargingKey,
    Flow,
    FlowDirection,
    MeteringMethod,
    PolicyRule,
    QoS,
    RuleKind,
    SessionQoS,
)
from appliance.pcrf import engine as E

from .pcef import rule_from_definition

ANY = "permit out ip from any to any"
RULES = [
    PolicyRule("minimal", RuleKind.DYNAMIC, None, (Flow(ANY),)),
    PolicyRule("web", RuleKind.DYNAMIC, 100, (Flow("permit out 6 from any 80 to 10.0.0.0/8", FlowDirection.DOWNLINK),
                                              Flow("permit out 17 from 10.1.1.1 to any 53", FlowDirection.UPLINK)),
               QoS(9, Arp(8, False, True), 10_000_000, 20_000_000), ChargingKey(32, 7, True, False,
                                                                                 MeteringMethod.VOLUME), "mk1"),
    PolicyRule("gbr", RuleKind.DYNAMIC, 1, (Flow(ANY, FlowDirection.BIDIRECTIONAL),),
               QoS(1, Arp(1, True, False), 128_000, 128_000, 64_000, 64_000), ChargingKey(None, None, False, True,
                                                                                           MeteringMethod.DURATION)),
    PolicyRule("ünïcode-näme", RuleKind.DYNAMIC, 4_294_967_295, (Flow(ANY),), None, ChargingKey(rating_group=0)),
]


def pd_tree(avps):
    """python-diameter's view: (code, vendor, value or nested list)."""
    return [(a.code, a.vendor_id or 0, pd_tree(a.value) if isinstance(a.value, list) else a.value) for a in avps]


def our_tree(avps):
    return [(a.code, a.vendor, our_tree(a.group()) if c.TYPES.get((a.code, a.vendor)) == c.GROUPED else a.value)
            for a in avps]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_charging_rule_definition_round_trips(rule):
    raw = gx.rule_definition(rule)
    avp = next(c.iter_avps(raw, 0, len(raw)))
    assert (avp.code, avp.vendor, avp.mandatory) == (1003, 10415, True)
    assert rule_from_definition(avp) == rule
    # an independent decoder sees the same nested structure and values
    msg = pd.Message.from_bytes(c.encode(272, gx.GX, 0, 1, 1, [raw]), plain_msg=True)
    assert pd_tree(msg.avps) == our_tree([avp])


def test_provision_encoding_order_and_kinds():
    p = E.Provision(install=(RULES[1], PolicyRule("pre", RuleKind.PREDEFINED), PolicyRule("grp", RuleKind.BASE)),
                    remove=(("old", RuleKind.PREDEFINED), ("oldgrp", RuleKind.BASE)),
                    qos=SessionQoS(1_000, 2_000, 7, Arp(3, True, False)), monitoring=(("mk1", 500),),
                    triggers=(E.RAT_CHANGE, E.USAGE_REPORT))
    avps = list(c.iter_avps(b"".join(gx.encode_provision(p)), 0, len(b"".join(gx.encode_provision(p)))))
    names = [c.NAMES[(a.code, a.vendor)] for a in avps]
    assert names == ["Event-Trigger", "Event-Trigger", "Charging-Rule-Remove", "Charging-Rule-Install",
                     "QoS-Information", "Default-EPS-Bearer-QoS", "Usage-Monitoring-Information"]
    remove = avps[2].group()
    assert [(c.NAMES[(a.code, a.vendor)], a.data) for a in remove] == [("Charging-Rule-Name", b"old"),
                                                                         ("Charging-Rule-Base-Name", b"oldgrp")]
    install = [c.NAMES[(a.code, a.vendor)] for a in avps[3].group()]
    assert install == ["Charging-Rule-Definition", "Charging-Rule-Name", "Charging-Rule-Base-Name"]
    arp = next(a for a in avps[5].group() if a.code == 1034).group()
    assert [a.value for a in arp] == [3, 0, 1]          # priority, capability ENABLED, vulnerability DISABLED
    umi = avps[6].group()
    assert [c.NAMES[(a.code, a.vendor)] for a in umi] == ["Monitoring-Key", "Granted-Service-Unit",
                                                           "Usage-Monitoring-Level"]
    assert umi[1].group()[0].value == 500 and umi[2].value == gx.PCC_RULE_LEVEL
    assert all(a.mandatory and a.vendor in (0, 10415) for a in avps)


def ccr(*avps, sid="pcef;1;1", rt=2, app=gx.GX):
    head = [c.avp("Session-Id", sid)] if sid else []
    head += [c.avp("Origin-Host", "pcef"), c.avp("Origin-Realm", "r")]
    if app is not None:
        head.append(c.avp("Auth-Application-Id", app))
    if rt is not None:
        head.append(c.avp("CC-Request-Type", rt))
    return c.decode(c.encode(272, gx.GX, c.FLAG_R, 1, 1, [*head, c.avp("CC-Request-Number", 3), *avps]))


def test_parse_ccr_reads_every_gx_field():
    rt, info = gx.parse_ccr(ccr(
        c.avp("Subscription-Id", [c.avp("Subscription-Id-Type", 0), c.avp("Subscription-Id-Data", "1555")]),
        c.avp("Subscription-Id", [c.avp("Subscription-Id-Type", 1), c.avp("Subscription-Id-Data", "00101")]),
        c.avp("Event-Trigger", 33), c.avp("Event-Trigger", 2),
        c.avp("Usage-Monitoring-Information", [c.avp("Monitoring-Key", b"mk1"),
                                               c.avp("Used-Service-Unit", [c.avp("CC-Total-Octets", 7000),
                                                                           c.avp("CC-Input-Octets", 1)])]),
        c.avp("Usage-Monitoring-Information", [c.avp("Monitoring-Key", b"mk2"),
                                               c.avp("Used-Service-Unit", [c.avp("CC-Input-Octets", 5),
                                                                           c.avp("CC-Output-Octets", 6)])]),
        c.avp("Charging-Rule-Report", [c.avp("Charging-Rule-Name", b"a"), c.avp("Charging-Rule-Base-Name", "b"),
                                       c.avp("PCC-Rule-Status", 1), c.avp("Rule-Failure-Code", 4)]),
        c.avp("Supported-Features", [c.avp("Vendor-Id", 10415), c.avp("Feature-List-ID", 1),
                                     c.avp("Feature-List", 0x3FF)]),
        c.avp("RAT-Type", 1004), c.avp("Framed-IP-Address", bytes([192, 0, 2, 7])),
        c.avp("Called-Station-Id", "ims")), now=99)
    assert rt == 2 and info.session_id == "pcef;1;1" and info.request_number == 3 and info.now == 99
    assert info.peer == "pcef" and info.realm == "r"
    assert info.subscription_ids == ((0, "1555"), (1, "00101")) and info.triggers == (33, 2)
    assert info.usage == (("mk1", 7000), ("mk2", 11))
    assert info.reports == (E.RuleReport(("a", "b"), 1, 4),)
    assert info.features == 0x3FF and info.rat_type == 1004 and info.ip == "192.0.2.7" and info.apn == "ims"


@pytest.mark.parametrize("msg,code,failed", [
    (lambda: ccr(sid=None), c.MISSING_AVP, 263),
    (lambda: ccr(app=None), c.MISSING_AVP, 258),
    (lambda: ccr(app=4), c.INVALID_AVP_VALUE, 258),
    (lambda: ccr(rt=None), c.MISSING_AVP, 416),
    (lambda: ccr(rt=4), c.INVALID_AVP_VALUE, 416),
    (lambda: ccr(c.avp("Subscription-Id", [c.avp("Subscription-Id-Type", 1)])), c.MISSING_AVP, 443),
    (lambda: ccr(c.avp("Usage-Monitoring-Information", [c.avp("Used-Service-Unit", [])])), c.MISSING_AVP, 1067),
    (lambda: ccr(c.avp("Subscription-Id", [c.avp("Subscription-Id-Type", 1),
                                           c.avp("Subscription-Id-Data", b"\xff\xfe")])), c.INVALID_AVP_VALUE, 444),
])
def test_bad_ccrs_are_diameter_errors_with_failed_avp(msg, code, failed):
    with pytest.raises(DiameterError) as err:
        gx.parse_ccr(msg(), 0)
    assert err.value.result_code == code
    raw = err.value.failed_avp.raw if isinstance(err.value.failed_avp, c.Avp) else err.value.failed_avp
    assert int.from_bytes(raw[:4], "big") == failed
