"""Ro/Gy credit control over real TCP on loopback: full sessions, events, errors (RFC 4006)."""
from __future__ import annotations

import asyncio

from appliance.diameter import codec as c
from appliance.diameter.apps import ro
from appliance.diameter.client import CONTEXT_IMS, CONTEXT_SMS, Service, ccr, summary
from appliance.logs import translog
from appliance.ocs.catalog import Offer, PrefixTable, Price, PriceType
from appliance.ocs.units import Unit
from tests.conftest import seed

from .conftest import run

IMSI = "001010000000001"
MB = 1_000_000


def money(charging, who=IMSI):
    b = charging.balance(who)
    return b.totals.get("money", 0), b.reserved.get("money", 0)


def test_data_session_initial_update_termination(ocs, store):
    seed(store, IMSI, money=10_000_000)        # data: 20,000 per started MB

    async def go():
        async with ocs() as (cl, node, charging):
            sid = cl.session_id()
            a = summary(await cl.send(ccr(sid, "test", ro.INITIAL, 0, IMSI,
                                          services=(Service(Unit.OCTETS, 0, rating_group=32),))))
            assert a["result"] == 2001
            (m,) = a["mscc"]
            # the minimum 1,048,576 octets starts a second MB: both held MB are granted
            assert m == {"granted": 2_000_000, "unit": "octets", "validity": 600, "rating_group": 32,
                         "result": 2001}
            assert money(charging) == (10_000_000 - 40_000, 40_000)    # 2 started MB held
            a = summary(await cl.send(ccr(sid, "test", ro.UPDATE, 1, IMSI, services=(
                Service(Unit.OCTETS, 0, used=500_000, rating_group=32),))))
            assert a["result"] == 2001 and a["mscc"][0]["granted"] == 2_000_000
            # 500,000 octets = 1 started MB = 20,000 debited; a new 40,000 held
            assert money(charging) == (10_000_000 - 20_000 - 40_000, 40_000)
            a = summary(await cl.send(ccr(sid, "test", ro.TERMINATION, 2, IMSI, services=(
                Service(Unit.OCTETS, None, used=1_200_000, rating_group=32),))))
            assert a["result"] == 2001 and a["mscc"] == [{"rating_group": 32, "result": 2001}]
            # per-session rounding: 1,700,000 octets in all = 2 started MB = 40,000 for the session
            assert money(charging) == (10_000_000 - 40_000, 0)
    run(go())


def test_voice_session_in_seconds_with_tariff_by_called_party(ocs, store):
    offer = Offer("voice", (Price("voice", PriceType.USAGE, amount=0, unit=Unit.SECONDS, size=60,
                                  tariff="dest"),))
    store.transact(lambda l: l.put_table(PrefixTable("dest", {"44": 15_000, "4420": 30_000})))
    seed(store, IMSI, money=1_000_000, offer=offer, msisdn="447700900001")

    async def go():
        async with ocs() as (cl, node, charging):
            sid = cl.session_id()
            ims = dict(context=CONTEXT_IMS, role=0, calling="sip:+447700900001@ims.test",
                       called="tel:+442071234567", charging_id="icid-1", sub_type="e164", mscc=False)
            a = summary(await cl.send(ccr(sid, "test", ro.INITIAL, 0, "+447700900001",
                                          services=(Service(Unit.SECONDS, 120),), **ims)))
            assert (a["result"], a["granted"], a["unit"]) == (2001, 120, "seconds")
            assert money(charging, IMSI) == (1_000_000 - 60_000, 60_000)   # 2 min at 30,000 (4420...)
            a = summary(await cl.send(ccr(sid, "test", ro.UPDATE, 1, None,     # no Subscription-Id: session doc
                                          services=(Service(Unit.SECONDS, 120, used=61),), **ims)))
            assert a["result"] == 2001 and a["granted"] == 120
            assert money(charging, IMSI) == (1_000_000 - 60_000 - 60_000, 60_000)
            a = summary(await cl.send(ccr(sid, "test", ro.TERMINATION, 2, None,
                                          services=(Service(Unit.SECONDS, None, used=5),), **ims)))
            assert a["result"] == 2001
            # per-session rounding: 66 s in all = 2 started minutes, both paid with the update
            assert money(charging, IMSI) == (1_000_000 - 60_000, 0)
            # the session document is gone: a late UPDATE without Subscription-Id is 5002
            a = summary(await cl.send(ccr(sid, "test", ro.UPDATE, 3, None,
                                          services=(Service(Unit.SECONDS, 120, used=5),), **ims)))
            assert a["result"] == c.UNKNOWN_SESSION_ID
    run(go())


def test_events_debit_refund_check_and_price(ocs, store):
    seed(store, IMSI, money=100_000)              # sms: 5,000 per message; voice 10,000/min

    async def go():
        async with ocs() as (cl, node, charging):
            def ev(action, unit, n, context=CONTEXT_SMS, num=0):
                return ccr(cl.session_id(), "test", ro.EVENT, num, IMSI, context=context, mscc=False,
                           requested_action=action, services=(Service(unit, n),))
            a = summary(await cl.send(ev("debit", Unit.MESSAGES, 2)))
            assert (a["result"], a["granted"], a["cost"], a["cost_exponent"], a["currency"]) == \
                (2001, 2, 10_000, -6, 840)
            assert money(charging) == (90_000, 0)
            a = summary(await cl.send(ev("refund", Unit.MESSAGES, 1)))
            assert a["result"] == 2001 and a["cost"] == 5_000
            assert money(charging) == (95_000, 0)
            a = summary(await cl.send(ev("price", Unit.SECONDS, 150, CONTEXT_IMS)))
            assert a["result"] == 2001 and a["cost"] == 30_000              # 3 started minutes
            a = summary(await cl.send(ev("check", Unit.MESSAGES, 19)))
            assert (a["result"], a["check_balance"]) == (2001, 0)           # ENOUGH_CREDIT
            a = summary(await cl.send(ev("check", Unit.MESSAGES, 20)))
            assert (a["result"], a["check_balance"]) == (2001, 1)           # NO_CREDIT
            a = summary(await cl.send(ev("debit", Unit.MESSAGES, 20)))
            assert a["result"] == 4012 and "granted" not in a
            assert money(charging) == (95_000, 0)                            # all or nothing
    run(go())


def test_exhaustion_gives_final_unit_then_4012(ocs, store):
    seed(store, IMSI, money=50_000)

    async def go():
        async with ocs(quota_threshold_percent=20) as (cl, node, charging):
            sid = cl.session_id()
            a = summary(await cl.send(ccr(sid, "test", ro.INITIAL, 0, IMSI, services=(
                Service(Unit.OCTETS, 5 * MB, rating_group=1),))))
            (m,) = a["mscc"]
            assert (m["granted"], m["final_unit_action"], m["threshold"]) == (2 * MB, 0, 400_000)
            a = summary(await cl.send(ccr(sid, "test", ro.UPDATE, 1, IMSI, services=(
                Service(Unit.OCTETS, 0, used=2 * MB, rating_group=1),))))
            assert a["result"] == 4012 and a["mscc"] == [{"rating_group": 1, "result": 4012}]
            assert money(charging) == (10_000, 0)
    run(go())


def test_redirect_final_unit_action(ocs, store):
    seed(store, IMSI, money=20_000)

    async def go():
        async with ocs(final_unit_action="redirect", redirect_server="http://topup.test/") as (cl, node, charging):
            a = summary(await cl.send(ccr(cl.session_id(), "test", ro.INITIAL, 0, IMSI, services=(
                Service(Unit.OCTETS, 5 * MB, rating_group=1),))))
            (m,) = a["mscc"]
            assert (m["granted"], m["final_unit_action"], m["redirect"]) == (MB, 1, "http://topup.test/")
    run(go())


def test_unknown_user_and_protocol_errors(ocs, store):
    seed(store, IMSI)

    async def go():
        async with ocs() as (cl, node, charging):
            sid = cl.session_id()
            a = summary(await cl.send(ccr(sid, "test", ro.INITIAL, 0, "999999999999999",
                                          services=(Service(Unit.OCTETS, 0, rating_group=1),))))
            assert a["result"] == 5030
            good = ccr(sid, "test", ro.INITIAL, 0, IMSI, services=(Service(Unit.OCTETS, 0),))
            ans = await cl.send([x for x in good if x[:4] != (416).to_bytes(4, "big")])
            a = summary(ans)
            assert a["result"] == c.MISSING_AVP and a["failed_avp"] == [(416, 0)]
            assert ans.u32(ro.CC_REQUEST_NUMBER) == 0 and ans.u32(c.AUTH_APPLICATION_ID) == 4
            bad = [c.encode_avp(416, 9) if x[:4] == (416).to_bytes(4, "big") else x for x in good]
            a = summary(await cl.send(bad))
            assert a["result"] == c.INVALID_AVP_VALUE and a["failed_avp"] == [(416, 0)]
            assert not a["error_bit"]
    run(go())


def test_retransmitted_update_is_not_charged_twice(ocs, store):
    seed(store, IMSI, money=1_000_000)

    async def go():
        async with ocs() as (cl, node, charging):
            sid = cl.session_id()
            await cl.send(ccr(sid, "test", ro.INITIAL, 0, IMSI, services=(Service(Unit.OCTETS, 0, rating_group=1),)))
            upd = ccr(sid, "test", ro.UPDATE, 1, IMSI, services=(Service(Unit.OCTETS, 0, used=3 * MB,
                                                                         rating_group=1),))
            first = await cl.send(upd)
            after = money(charging)
            assert after == (1_000_000 - 60_000 - 40_000, 40_000)
            again = await cl.send(upd, e2e=first.e2e, retransmit=True)       # T-flag, same End-to-End-Id
            other = await cl.send(upd)                                       # new End-to-End-Id: request key
            assert summary(again) == summary(first) == summary(other)
            assert money(charging) == after
    run(go())


def test_reservation_released_after_validity_and_grace(ocs, store, clock):
    seed(store, IMSI, money=1_000_000)

    async def go():
        async with ocs() as (cl, node, charging):
            await cl.send(ccr(cl.session_id(), "test", ro.INITIAL, 0, IMSI,
                              services=(Service(Unit.OCTETS, 0, rating_group=1),)))
            assert money(charging) == (960_000, 40_000)
            clock.t += 600 + 120 - 1
            assert charging.release_stale() == 0
            clock.t += 2
            assert charging.release_stale() == 1
            assert money(charging) == (1_000_000, 0)
    run(go())


def test_hook_override_timeout_and_error(ocs, store):
    seed(store, IMSI, money=1_000_000, msisdn="447700900001")

    async def go():
        def call(cl, called):
            return cl.send(ccr(cl.session_id(), "test", ro.INITIAL, 0, IMSI, context=CONTEXT_IMS, mscc=False,
                               role=0, calling="tel:+447700900001", called=called,
                               services=(Service(Unit.SECONDS, 300),)))
        async with ocs(charging_hook="tests.diameter.hooks:ccr_orig", hook_timeout_ms=200) as (cl, node, ch):
            a = summary(await call(cl, "tel:+900666"))                 # premium number: denied by the hook
            assert a["result"] == 4010 and "granted" not in a
            a = summary(await call(cl, "tel:+4930555"))                # hook caps the grant at 60 s
            assert (a["result"], a["granted"]) == (2001, 60) and "final_unit_action" in a
            a = summary(await call(cl, "tel:+slow"))                   # too slow: core decision stands
            assert (a["result"], a["granted"]) == (2001, 300)
            a = summary(await call(cl, "tel:+boom"))                   # raises: core decision stands
            assert (a["result"], a["granted"]) == (2001, 300)
    run(go())


def test_each_ccr_is_logged(ocs, store):
    seed(store, IMSI, money=1_000_000)

    async def go():
        with translog.capture() as got:
            async with ocs() as (cl, node, charging):
                await cl.send(ccr(cl.session_id(), "test", ro.INITIAL, 0, IMSI,
                                  services=(Service(Unit.OCTETS, 0, rating_group=7),)))
        (rec,) = got.acct
        assert (rec["protocol"], rec["app"], rec["request_type"], rec["result"], rec["imsi"], rec["peer"]) == \
            ("diameter", "ro", "initial", 2001, IMSI, "gw.test")
        assert rec["units"][0]["granted"] == 2_000_000 and rec["units"][0]["rating_group"] == 7
    run(go())


def test_each_cca_leaves_after_its_record_is_in_the_log_file(ocs, store, cfg, monkeypatch):
    """Write-through log: pipelined CCRs share one write per loop turn, still record first, answer second."""
    from appliance.diameter.node import Node

    seed(store, IMSI, money=10_000_000)
    translog.configure(cfg, "diameter", 0)
    folder = cfg.path(cfg.logs.acct_log_dir)
    sent: list[tuple[str, bool]] = []
    original = Node._send_answer

    def send_answer(self, conn, msg, answer):
        on_disk = b"".join(p.read_bytes() for p in folder.glob("*") if p.is_file())
        key = f'"session_id":"{msg.session_id}"'.encode()
        sent.append((msg.session_id, key in on_disk))
        original(self, conn, msg, answer)

    monkeypatch.setattr(Node, "_send_answer", send_answer)

    async def go():
        async with ocs() as (cl, _node, _charging):
            sids = [cl.session_id() for _ in range(8)]
            answers = await asyncio.gather(*(cl.send(ccr(sid, "test", ro.INITIAL, 0, IMSI, services=(
                Service(Unit.OCTETS, 0, rating_group=1),))) for sid in sids))
            assert [summary(a)["result"] for a in answers] == [2001] * 8
            return sids

    try:
        sids = run(go())
    finally:
        translog.close()
    assert sorted(s for s, _ in sent) == sorted(sids)
    assert all(on_disk for _, on_disk in sent), sent


def test_sms_event_rated_by_recipient(ocs, store):
    """TS 32.299 SMS-Information/Recipient-Info: the recipient selects the tariff (international dearer)."""
    offer = Offer("sms", (Price("sms", PriceType.USAGE, amount=0, unit=Unit.MESSAGES, size=1, tariff="sms"),))
    store.transact(lambda l: l.put_table(PrefixTable("sms", {"44": 5_000, "1": 20_000})))
    seed(store, IMSI, money=100_000, offer=offer)

    async def go():
        async with ocs() as (cl, node, charging):
            for to, cost in (("+447700900123", 5_000), ("tel:+12025550100", 20_000)):
                a = summary(await cl.send(ccr(cl.session_id(), "test", ro.EVENT, 0, IMSI, context=CONTEXT_SMS,
                                              mscc=False, requested_action="debit", sms_recipient=to,
                                              services=(Service(Unit.MESSAGES, 1),))))
                assert (a["result"], a["cost"]) == (2001, cost)
            assert money(charging) == (75_000, 0)
    run(go())


def test_a_debt_is_covered_before_a_session_is_granted(ocs, store):
    """A fee left the balance at −100 units; a top-up of 10 does not buy service: 4012, nothing spent."""
    from appliance.ocs.balance import NewBucket
    seed(store, IMSI, money=0)
    store.transact(lambda l: l.add_bucket(NewBucket("p1", Unit.MONEY, -100_000_000, None, "debt")))
    store.transact(lambda l: l.add_bucket(NewBucket("p1", Unit.MONEY, 10_000_000)))

    async def go():
        async with ocs() as (cl, node, charging):
            a = summary(await cl.send(ccr(cl.session_id(), "test", ro.INITIAL, 0, IMSI,
                                          services=(Service(Unit.OCTETS, 0, rating_group=32),))))
            assert a["result"] == 4012                                  # DIAMETER_CREDIT_LIMIT_REACHED
            assert money(charging) == (-90_000_000, 0)
    run(go())


def test_an_unknown_visited_network_is_refused(ocs, store):
    offer = Offer("roam", (Price("data", PriceType.USAGE, amount=20_000, unit=Unit.OCTETS, size=1_000_000,
                                 roaming="vplmn"),))
    store.transact(lambda l: l.put_table(PrefixTable("vplmn", {"20801": 70_000})))
    seed(store, IMSI, money=1_000_000, offer=offer)

    async def go():
        async with ocs() as (cl, node, charging):
            a = summary(await cl.send(ccr(cl.session_id(), "test", ro.INITIAL, 0, IMSI, vplmn="99999",
                                          services=(Service(Unit.OCTETS, 1_000_000, rating_group=1),))))
            assert a["mscc"][0]["result"] == 5031                       # DIAMETER_RATING_FAILED
            a = summary(await cl.send(ccr(cl.session_id(), "test", ro.INITIAL, 0, IMSI, vplmn="20801",
                                          services=(Service(Unit.OCTETS, 3_000_000, rating_group=1),))))
            assert a["result"] == 2001 and a["mscc"][0]["granted"] == 3_000_000
            assert money(charging) == (1_000_000 - 210_000, 210_000)   # at the visited network's rate
    run(go())


def test_a_ledger_that_does_not_come_back_is_answered_too_busy(ocs, store, tmp_path):
    """Charging in the ledger role: while it is unreachable the CCR waits a bounded time, then 3004."""
    from appliance.ledger.remote import RemoteLedgerClient
    from appliance.ocs.rating import ChargingPolicy
    seed(store, IMSI, money=1_000_000)
    down = RemoteLedgerClient(store, ChargingPolicy(), str(tmp_path / "no-ledger.sock"), timeout=0.3)

    async def go():
        async with ocs(ledger=down) as (cl, node, charging):
            a = summary(await cl.send(ccr(cl.session_id(), "test", ro.INITIAL, 0, IMSI,
                                          services=(Service(Unit.OCTETS, 0, rating_group=1),))))
            assert a["result"] == 3004                                  # DIAMETER_TOO_BUSY
    run(go())
