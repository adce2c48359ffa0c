"""The protocol-free policy model: validation, documents, selection (no store, no sockets)."""
from __future__ import annotations

import pytest

from appliance.ocs.catalog import Offer
from appliance.ocs.inventory import Product
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
    decide,
    fingerprint,
    kind_of,
    rule_changes,
    session_qos_for,
    table_name_for,
)

DEFAULT = SessionQoS(1_000, 2_000, 9, Arp(9))
ANY = "permit out ip from any to any"

WEB = PolicyRule("web", RuleKind.DYNAMIC, 100, (Flow("permit out 6 from any 80 to any", FlowDirection.DOWNLINK),),
                 QoS(9, Arp(8, False, True), 10_000_000, 20_000_000), ChargingKey(32, 1, True, False,
                                                                                   MeteringMethod.VOLUME), "mk1")
VIDEO = PolicyRule("video", RuleKind.DYNAMIC, 50, (Flow(ANY),), QoS(6), ChargingKey(33), "mk2")
SLOW = PolicyRule("slow", RuleKind.DYNAMIC, 10, (Flow(ANY),), QoS(9, None, 64_000, 128_000))
GOLD = PolicyRule("gold", RuleKind.PREDEFINED)
TABLE = PolicyTable("t1", (GOLD, SLOW, VIDEO, WEB),
                    (MonitoringQuota("mk1", 1_000_000, 400_000, "slow"), MonitoringQuota("mk2", 500)),
                    SessionQoS(5_000, 6_000, 8, Arp(5)))


def names(decision):
    return sorted(r.name for r in decision.rules)


def test_document_round_trip_keeps_every_field():
    doc = TABLE.to_doc()
    assert PolicyTable.from_doc(doc) == TABLE
    assert doc["rules"][3]["charging"] == {"rating_group": 32, "service_id": 1, "online": True, "offline": False,
                                           "metering": "volume"}
    assert doc["rules"][3]["flows"] == [{"description": "permit out 6 from any 80 to any", "direction": "downlink"}]


@pytest.mark.parametrize("build,fragment", [
    (lambda: Flow("deny out ip from any to any"), "permit out"),
    (lambda: Flow("permit in ip from any to any"), "permit out"),
    (lambda: PolicyRule("x", RuleKind.DYNAMIC), "at least one flow"),
    (lambda: PolicyRule("x", RuleKind.PREDEFINED, flows=(Flow(ANY),)), "defined in the PCEF"),
    (lambda: PolicyRule("", RuleKind.PREDEFINED), "bad rule name"),
    (lambda: QoS(0), "qci"),
    (lambda: QoS(9, None, 10, 10, 20, 5), "gbr_ul"),
    (lambda: Arp(16), "arp priority"),
    (lambda: QoS(9, None, -1), "mbr_ul"),
    (lambda: QoS(9, None, True), "mbr_ul"),
    (lambda: MonitoringQuota("k", -5), "volume"),
    (lambda: PolicyTable("t", (GOLD, GOLD)), "duplicate rule"),
    (lambda: PolicyTable("t", (GOLD,), (MonitoringQuota("k", 5, None, "nope"),)), "throttle rule nope"),
    (lambda: PolicyTable("t", (GOLD,), credit_throttle="nope"), "credit throttle"),
    (lambda: PolicyTable.from_doc({"rules": []}), "missing field name"),
    (lambda: PolicyTable.from_doc({"name": "t", "rules": [{"name": "r", "kind": "odd"}]}), "bad rule kind"),
    (lambda: Flow.from_doc({"description": ANY, "direction": "sideways"}), "bad flow direction"),
    (lambda: ChargingKey.from_doc({"metering": "event"}), "bad metering"),
])
def test_bad_definitions_are_refused(build, fragment):
    with pytest.raises(ValueError) as err:
        build()
    assert fragment in str(err.value)


def test_product_table_overrides_offer_table():
    offer = Offer("o", policy_table="t-offer")
    assert table_name_for(offer, Product("p", "o")) == "t-offer"
    assert table_name_for(offer, Product("p", "o", policy_table="t-prod")) == "t-prod"
    assert table_name_for(Offer("o"), Product("p", "o")) is None
    assert table_name_for(None, None) is None


def test_session_qos_from_offer_then_table_then_default():
    offer = Offer("o", extra={"session_qos": {"apn_ambr_ul": 7, "apn_ambr_dl": 8, "qci": 7}})
    assert session_qos_for(offer, TABLE, DEFAULT) == SessionQoS(7, 8, 7, Arp())
    assert session_qos_for(Offer("o"), TABLE, DEFAULT) == TABLE.session_qos
    assert session_qos_for(Offer("o"), None, DEFAULT) == DEFAULT


def test_no_table_gives_default_qos_and_no_rules():
    d = decide(None, Offer("o"), {}, DEFAULT)
    assert d.rules == () and d.session_qos == DEFAULT and d.thresholds == {} and d.table is None


def test_throttle_rule_is_held_back_until_its_quota_is_used_up():
    fresh = decide(TABLE, None, {}, DEFAULT)
    assert names(fresh) == ["gold", "video", "web"]
    assert fresh.thresholds == {"mk1": 400_000, "mk2": 500}
    partly = decide(TABLE, None, {"mk1": 900_000, "mk2": 499}, DEFAULT)
    assert partly.thresholds == {"mk1": 100_000, "mk2": 1} and names(partly) == ["gold", "video", "web"]
    web_gone = decide(TABLE, None, {"mk1": 1_000_000}, DEFAULT)
    assert names(web_gone) == ["gold", "slow", "video"] and web_gone.exhausted == {"mk1"}
    assert web_gone.thresholds == {"mk2": 500}
    # a key without a throttle rule just loses its rules
    both = decide(TABLE, None, {"mk1": 2_000_000, "mk2": 600}, DEFAULT)
    assert names(both) == ["gold", "slow"] and both.thresholds == {}


def test_out_of_credit_leaves_only_the_credit_throttle_rule():
    table = PolicyTable("t", TABLE.rules, TABLE.monitoring, None, "", credit_throttle="slow")
    assert names(decide(table, None, {}, DEFAULT, out_of_credit=True)) == ["slow"]
    assert names(decide(table, None, {}, DEFAULT)) == ["gold", "video", "web"]
    # without a credit throttle rule running out of credit changes nothing here
    assert names(decide(TABLE, None, {}, DEFAULT, out_of_credit=True)) == ["gold", "video", "web"]


def test_rule_changes_install_changed_and_remove_gone_rules():
    installed = {r.name: fingerprint(r) for r in (GOLD, WEB, VIDEO)}
    web2 = PolicyRule("web", RuleKind.DYNAMIC, 90, WEB.flows, WEB.qos, WEB.charging, "mk1")
    install, remove = rule_changes(installed, (GOLD, web2, SLOW))
    assert [r.name for r in install] == ["web", "slow"] and remove == ("video",)
    assert rule_changes(installed, (GOLD, WEB, VIDEO)) == ((), ())
    assert kind_of(installed["gold"]) is RuleKind.PREDEFINED and kind_of(installed["web"]) is RuleKind.DYNAMIC


def test_table_edits_keep_names_unique():
    t = TABLE.with_rule(PolicyRule("web", RuleKind.BASE))
    assert t.rule("web").kind is RuleKind.BASE and len(t.rules) == len(TABLE.rules)
    assert t.without_rule("web").rule("web") is None
