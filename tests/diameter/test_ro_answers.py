"""Ro/Gy answers over real TCP on loopback: sessions that were never opened, an MSCC counting two
units, one-time events in MSCC form, and FUI REDIRECT on a refusal for credit (RFC 4006)."""
from __future__ import annotations

import dataclasses

import pytest

from appliance.diameter import codec as c
from appliance.diameter.apps import ro
from appliance.diameter.client import CONTEXT_SMS, Service, ccr, summary
from appliance.ocs.catalog import Offer, Price, PriceType
from appliance.ocs.units import Unit
from tests.conftest import seed

from .conftest import run

IMSI = "001010000000001"
MB = 1_000_000
# octets: 1,000,000 per started 1,000,000 octets; seconds: 100,000 per started 60 s
TWO_UNITS = Offer("two-units", (
    Price("data-octets", PriceType.USAGE, amount=1_000_000, unit=Unit.OCTETS, size=MB),
    Price("data-seconds", PriceType.USAGE, amount=100_000, unit=Unit.SECONDS, size=60),
    Price("sms", PriceType.USAGE, amount=5_000, unit=Unit.MESSAGES, size=1)))


@pytest.fixture
def cfg(cfg):
    """Minimum reservations of exactly one price block: grants equal what was asked."""
    return dataclasses.replace(cfg, charging=dataclasses.replace(
        cfg.charging, min_reserve_octets=MB, min_reserve_seconds=60))


def money(charging, who=IMSI):
    b = charging.balance(who)
    return b.totals.get("money", 0), b.reserved.get("money", 0)


def units(*pairs: tuple[Unit, int]) -> list[bytes]:
    return [ro._unit_avp(u, n) for u, n in pairs]


def mscc(rg: int, requested: list[bytes] | None = None, used: list[bytes] | None = None) -> bytes:
    body = []
    if requested is not None:
        body.append(c.encode_avp(ro.RSU, requested))
    if used is not None:
        body.append(c.encode_avp(ro.USU, used))
    body.append(c.encode_avp(ro.RATING_GROUP, rg))
    return c.encode_avp(ro.MSCC, body)


def answered_msccs(msg: c.Message) -> list[dict]:
    """Each MSCC of a CCA: its GSU as {unit: amount}, Rating-Group, Result-Code, FUI."""
    out = []
    for a in msg.avps:
        if a.code != ro.MSCC or a.vendor:
            continue
        m: dict = {}
        for b in a.group():
            if b.vendor:
                continue
            if b.code == ro.GSU:
                m["gsu"] = {u.value: n for u, n in ro.units_in(b)}
            elif b.code == ro.RATING_GROUP:
                m["rating_group"] = b.u32
            elif b.code == c.RESULT_CODE:
                m["result"] = b.u32
            elif b.code == ro.VALIDITY_TIME:
                m["validity"] = b.u32
            elif b.code == ro.FUI:
                m["fui"] = fui(b)
        out.append(m)
    return out


def fui(avp: c.Avp) -> dict:
    out: dict = {}
    for b in avp.group():
        if b.code == ro.FINAL_UNIT_ACTION:
            out["action"] = b.i32
        elif b.code == ro.REDIRECT_SERVER:
            for d in b.group():
                if d.code == ro.REDIRECT_ADDRESS_TYPE:
                    out["address_type"] = d.i32
                elif d.code == ro.REDIRECT_SERVER_ADDRESS:
                    out["address"] = d.text
    return out


def request(sid: str, rtype: int, number: int, *msccs: bytes, subscriber: str | None = IMSI,
            **kw) -> list[bytes]:
    return ccr(sid, "test", rtype, number, subscriber, mscc=False, **kw) + [c.encode_avp(455, 1), *msccs]


# --- CCR-UPDATE / CCR-TERMINATION of a session never opened (RFC 4006 §5.3, §5.4; RFC 6733 §7.1.5) ----

def test_update_and_termination_of_an_unknown_session_are_5002_and_charge_nothing(ocs, store):
    seed(store, IMSI, money=10_000_000)

    async def go():
        async with ocs() as (cl, node, charging):
            for rtype in (ro.UPDATE, ro.TERMINATION):
                ans = await cl.send(ccr(cl.session_id(), "test", rtype, 1, IMSI, services=(
                    Service(Unit.OCTETS, 0 if rtype == ro.UPDATE else None, used=50 * MB, rating_group=1),)))
                a = summary(ans)
                assert a["result"] == c.UNKNOWN_SESSION_ID and a["mscc"] == []
                assert ans.u32(ro.CC_REQUEST_NUMBER) == 1 and ans.u32(ro.CC_REQUEST_TYPE) == rtype
                assert money(charging) == (10_000_000, 0)
    run(go())


def test_retransmitted_termination_gets_its_remembered_answer_after_the_session_closed(ocs, store):
    seed(store, IMSI, money=10_000_000, offer=TWO_UNITS)

    async def go():
        async with ocs() as (cl, node, charging):
            sid = cl.session_id()
            a = summary(await cl.send(ccr(sid, "test", ro.INITIAL, 0, IMSI,
                                          services=(Service(Unit.OCTETS, MB, rating_group=1),))))
            assert a["result"] == 2001 and a["mscc"][0]["granted"] == MB
            assert money(charging) == (9_000_000, 1_000_000)
            term = ccr(sid, "test", ro.TERMINATION, 1, None,
                       services=(Service(Unit.OCTETS, None, used=MB + 1, rating_group=1),))
            first = summary(await cl.send(term))
            assert first["result"] == 2001
            assert money(charging) == (8_000_000, 0)          # 2 started MB
            again = summary(await cl.send(term))               # new End-to-End-Id, same request key
            assert again == first
            assert money(charging) == (8_000_000, 0)
            late = summary(await cl.send(ccr(sid, "test", ro.UPDATE, 2, IMSI, services=(
                Service(Unit.OCTETS, 0, used=MB, rating_group=1),))))
            assert late["result"] == c.UNKNOWN_SESSION_ID
            assert money(charging) == (8_000_000, 0)
    run(go())


def test_refused_initial_opens_no_session(ocs, store):
    seed(store, IMSI, money=500_000, offer=TWO_UNITS)        # less than one 1,000,000 block

    async def go():
        async with ocs() as (cl, node, charging):
            sid = cl.session_id()
            a = summary(await cl.send(ccr(sid, "test", ro.INITIAL, 0, IMSI,
                                          services=(Service(Unit.OCTETS, MB, rating_group=1),))))
            assert a["result"] == 4012
            a = summary(await cl.send(ccr(sid, "test", ro.UPDATE, 1, IMSI, services=(
                Service(Unit.OCTETS, 0, used=3 * MB, rating_group=1),))))
            assert a["result"] == c.UNKNOWN_SESSION_ID
            assert money(charging) == (500_000, 0)
    run(go())


# --- one MSCC counting two units (RFC 4006 §8.16-8.19) ---------------------------------------------

def test_mscc_with_time_and_octets_is_rated_per_unit_and_answered_once(ocs, store):
    seed(store, IMSI, money=10_000_000, offer=TWO_UNITS)
    both = [(Unit.SECONDS, 60), (Unit.OCTETS, MB)]

    async def go():
        async with ocs() as (cl, node, charging):
            sid = cl.session_id()
            ans = await cl.send(request(sid, ro.INITIAL, 0, mscc(10, units(*both))))
            assert ans.result_code == 2001
            assert answered_msccs(ans) == [{"gsu": {"seconds": 60, "octets": MB}, "validity": 600,
                                            "rating_group": 10, "result": 2001}]
            assert money(charging) == (8_900_000, 1_100_000)        # one block of each held
            ans = await cl.send(request(sid, ro.UPDATE, 1, mscc(10, units(*both), units(*both))))
            assert answered_msccs(ans) == [{"gsu": {"seconds": 60, "octets": MB}, "validity": 600,
                                            "rating_group": 10, "result": 2001}]
            assert money(charging) == (7_800_000, 1_100_000)        # 1,100,000 charged, 1,100,000 held
            ans = await cl.send(request(sid, ro.TERMINATION, 2,
                                        mscc(10, None, units((Unit.SECONDS, 30), (Unit.OCTETS, MB // 2)))))
            assert answered_msccs(ans) == [{"rating_group": 10, "result": 2001}]
            # 90 s in all = 2 started minutes (200,000); 1,500,000 octets = 2 started MB (2,000,000):
            # the last 1,100,000 come out of the hold, 2,200,000 charged in all
            assert money(charging) == (7_800_000, 0)
    run(go())


def test_mscc_answers_the_worst_result_of_its_units_and_grants_none_when_one_is_short(ocs, store):
    seed(store, IMSI, money=1_050_000, offer=TWO_UNITS)      # pays the minute, not the megabyte

    async def go():
        async with ocs() as (cl, node, charging):
            ans = await cl.send(request(cl.session_id(), ro.INITIAL, 0,
                                        mscc(10, units((Unit.SECONDS, 60), (Unit.OCTETS, MB))),
                                        mscc(11, units((Unit.SECONDS, 60)))))
            assert answered_msccs(ans) == [{"rating_group": 10, "result": 4012},
                                           {"gsu": {"seconds": 60}, "validity": 600, "rating_group": 11,
                                            "result": 2001}]
            assert ans.result_code == 2001                           # one service is granted
    run(go())


# --- CCR-EVENT in MSCC form (RFC 4006 §6, §8.16) ---------------------------------------------------

def test_event_with_mscc_is_answered_per_mscc(ocs, store):
    seed(store, IMSI, money=20_000, offer=TWO_UNITS)         # 4 messages at 5,000

    async def go():
        async with ocs() as (cl, node, charging):
            ans = await cl.send(request(cl.session_id(), ro.EVENT, 0,
                                        mscc(5, units((Unit.MESSAGES, 3))), mscc(6, units((Unit.MESSAGES, 2))),
                                        context=CONTEXT_SMS, requested_action="debit"))
            assert ans.result_code == 2001
            assert answered_msccs(ans) == [{"gsu": {"messages": 3}, "rating_group": 5, "result": 2001},
                                           {"rating_group": 6, "result": 4012}]
            assert summary(ans)["cost"] == 15_000
            assert money(charging) == (5_000, 0)
            ans = await cl.send(request(cl.session_id(), ro.EVENT, 0, mscc(7, units((Unit.MESSAGES, 1))),
                                        context=CONTEXT_SMS, requested_action="check"))
            a = summary(ans)
            assert (a["result"], a["check_balance"]) == (2001, 0)
            assert answered_msccs(ans) == [{"rating_group": 7, "result": 2001}]
    run(go())


def test_event_mscc_is_debited_whole_or_not_at_all(ocs, store):
    seed(store, IMSI, money=20_000, offer=TWO_UNITS)         # 2 messages + 1 MB would cost 1,010,000

    async def go():
        async with ocs() as (cl, node, charging):
            event = request(cl.session_id(), ro.EVENT, 0,
                            mscc(5, units((Unit.MESSAGES, 2), (Unit.OCTETS, MB))), mscc(6, units((Unit.MESSAGES, 2))),
                            context=CONTEXT_SMS, requested_action="debit")
            ans = await cl.send(event)
            assert answered_msccs(ans) == [{"rating_group": 5, "result": 4012},
                                           {"gsu": {"messages": 2}, "rating_group": 6, "result": 2001}]
            assert (ans.result_code, summary(ans)["cost"]) == (2001, 10_000)
            assert money(charging) == (10_000, 0)              # only MSCC 6's two messages
            again = await cl.send(event)                       # retransmission: remembered, not charged
            assert answered_msccs(again) == answered_msccs(ans)
            assert money(charging) == (10_000, 0)
    run(go())


# --- FUI REDIRECT on DIAMETER_CREDIT_LIMIT_REACHED (RFC 4006 §5.6.2, §8.34-8.39) ---------------------

@pytest.mark.parametrize("address,kind", [("192.0.2.10", 0), ("2001:db8::10", 1),
                                          ("https://topup.example/pay", 2), ("sip:topup@ims.example", 3)])
def test_credit_limit_reached_redirects_to_the_offers_top_up_address(ocs, store, address, kind):
    offer = dataclasses.replace(TWO_UNITS, extra={"redirect": address})
    seed(store, IMSI, money=500_000, offer=offer)

    async def go():
        async with ocs(final_unit_action="redirect", redirect_server="http://default.test/") as (cl, node, charging):
            sid = cl.session_id()
            ans = await cl.send(request(sid, ro.INITIAL, 0, mscc(1, units((Unit.OCTETS, MB)))))
            assert ans.result_code == 4012
            assert answered_msccs(ans) == [{"rating_group": 1, "result": 4012, "validity": 600,
                                            "fui": {"action": 1, "address_type": kind, "address": address}}]
            assert money(charging) == (500_000, 0)
            # redirected, the session stays open: after a top-up its next CCR-UPDATE is granted
            store.transact(lambda l: l.add_bucket(_money("p1", 1_500_000)))
            ans = await cl.send(request(sid, ro.UPDATE, 1, mscc(1, units((Unit.OCTETS, MB)), units((Unit.OCTETS, 0)))))
            assert answered_msccs(ans) == [{"gsu": {"octets": MB}, "validity": 600, "rating_group": 1,
                                            "result": 2001}]
            assert money(charging) == (1_000_000, 1_000_000)
    run(go())


def test_redirect_uses_the_configured_address_without_one_in_the_offer(ocs, store):
    seed(store, IMSI, money=500_000, offer=TWO_UNITS)

    async def go():
        async with ocs(final_unit_action="redirect", redirect_server="http://topup.test/") as (cl, node, charging):
            ans = await cl.send(ccr(cl.session_id(), "test", ro.INITIAL, 0, IMSI, mscc=False,
                                    services=(Service(Unit.OCTETS, MB),)))
            assert ans.result_code == 4012
            a = summary(ans)
            assert (a["final_unit_action"], a["redirect"], a["validity"]) == (1, "http://topup.test/", 600)
            assert "granted" not in a
    run(go())


def test_terminate_mode_sends_no_fui_with_4012(ocs, store):
    seed(store, IMSI, money=500_000, offer=dataclasses.replace(TWO_UNITS, extra={"redirect": "192.0.2.10"}))

    async def go():
        async with ocs() as (cl, node, charging):
            ans = await cl.send(request(cl.session_id(), ro.INITIAL, 0, mscc(1, units((Unit.OCTETS, MB)))))
            assert answered_msccs(ans) == [{"rating_group": 1, "result": 4012}]
    run(go())


def test_redirect_address_type_follows_the_form():
    assert [ro.redirect_address_type(a) for a in ("10.0.0.1", "::1", "[2001:db8::1]", "http://a.test/x",
                                                  "SIPS:pay@a.test", "topup.test")] == [0, 1, 1, 2, 3, 2]


def _money(product: str, amount: int):
    from appliance.ocs.balance import NewBucket
    return NewBucket(product, Unit.MONEY, amount)
