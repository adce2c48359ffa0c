"""Out of credit -> Gx: Ro/Gy and RADIUS accounting mark the product, the PCRF pushes the table's
``credit_throttle`` rule; a top-up pushes the normal rules back (appliance.pcrf.credit)."""
from __future__ import annotations

import asyncio
import dataclasses

import pytest

from appliance.config import DiameterConfig, DiameterPeer, PcrfConfig, RestConfig, charging_policy
from appliance.diameter.apps import ro
from appliance.diameter.client import CreditControlClient, Service, ccr, summary
from appliance.diameter.node import Node
from appliance.diameter.worker import AppContext
from appliance.ledger import book
from appliance.ledger.api import LedgerClient
from appliance.ocs.policy import Flow, PolicyRule, PolicyTable, QoS, RuleKind
from appliance.ocs.rating import Action, ChargeRequest, ChargeResult, ItemResult, Outcome, UsageItem
from appliance.ocs.units import Unit
from appliance.pcrf import tables as T
from appliance.radius.coa import DISCONNECT_QUEUE
from appliance.rest import tmf654
from appliance.rest.resources import Ctx

from ..conftest import DATA_OFFER, seed
from .pcef import Pcef, installed, removed, start_pcrf

IMSI, NAI = "001010000000001", "alice@wlan"
ANY = "permit out ip from any to any"
MIN = 1_048_576                  # charging.min_reserve for octets: 2 started MB = 40,000 at DATA_OFFER's rate
WEB = PolicyRule("web", RuleKind.DYNAMIC, 100, (Flow(ANY),), QoS(9, None, 10_000_000, 20_000_000))
CUT = PolicyRule("cut", RuleKind.DYNAMIC, 10, (Flow(ANY),), QoS(9, None, 16_000, 32_000))
TABLE = PolicyTable("gold", (WEB, PolicyRule("voice", RuleKind.BASE), CUT), credit_throttle="cut")
NOW = 1_800_000_000


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


@pytest.fixture
def gxcfg(cfg):
    return dataclasses.replace(cfg, pcrf=PcrfConfig(push_interval=0.05, rar_timeout=3.0))


def provision(store, money=100_000):
    seed(store, imsi=IMSI, nai=NAI, money=money, offer=dataclasses.replace(DATA_OFFER, policy_table="gold"))
    store.transact(lambda l: T.put_table(l, TABLE))


def out_of_credit(store, product="p1"):
    return bool((store.transact(lambda l: l.get_doc(T.KIND_USAGE, product)) or {}).get("out_of_credit"))


async def settled(store, pcef, sid):
    """True when no push is queued for ``sid`` and the PCEF got no RAR: a push queued by the last
    transaction would still be in the store (its document goes only once the RAA is recorded) or
    already be in the PCEF's queue."""
    return store.transact(lambda l: l.get_doc(T.KIND_PUSH, sid)) is None and pcef.rars.empty()


async def wait_raa_recorded(store, sid):
    for _ in range(1000):
        if store.transact(lambda l: l.get_doc(T.KIND_PUSH, sid)) is None:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the RAA was not recorded")


# --- what an answer says about credit ----------------------------------------------------------

def _req(action=Action.UPDATE, requested=0):
    return ChargeRequest(IMSI, "s", action, (UsageItem(Unit.OCTETS, requested, 10),), "s:1")


def _res(outcome=Outcome.SUCCESS, granted=MIN, final=False, unpaid=0, duplicate=False, items=None):
    if items is None:
        items = (ItemResult(outcome, Unit.OCTETS, granted=granted, final=final, unpaid=unpaid),)
    return ChargeResult(outcome, items, duplicate=duplicate)


@pytest.mark.parametrize("request_, result, expected", [
    (_req(), _res(), False),                                                     # a full grant
    (_req(Action.START), _res(), False),
    (_req(), _res(granted=500, final=True), True),                                # final units
    (_req(), _res(Outcome.CREDIT_LIMIT_REACHED, granted=0), True),                # 4012
    (_req(Action.DEBIT), _res(Outcome.CREDIT_LIMIT_REACHED, granted=0, final=True), True),
    (_req(Action.STOP, None), _res(granted=0, unpaid=5), True),                   # usage left unpaid
    (_req(Action.STOP, None), _res(granted=0), None),                             # CCR-T says nothing
    (_req(requested=None), _res(granted=0), None),                                # report without RSU
    (_req(Action.DEBIT), _res(granted=0), None),                                  # a debit that was paid
    (_req(Action.REFUND), _res(granted=0), False),
    (_req(), _res(duplicate=True, granted=500, final=True), None),                # retransmission
    (_req(), _res(Outcome.USER_UNKNOWN, items=()), None),
    (_req(), _res(Outcome.SERVICE_DENIED, items=()), None),
    (_req(), _res(Outcome.RATING_FAILED, granted=0, final=True), None),           # no price: not credit
    (_req(Action.CHECK), _res(Outcome.CREDIT_LIMIT_REACHED, granted=0), None),    # enquiries change nothing
    (_req(Action.PRICE), _res(granted=0), None),
    (_req(), _res(items=(ItemResult(Outcome.SUCCESS, Unit.OCTETS, 1, granted=MIN),               # one rating
                         ItemResult(Outcome.CREDIT_LIMIT_REACHED, Unit.OCTETS, 2))), True),      # group short
])
def test_credit_state_of_an_answer(request_, result, expected):
    assert book.credit_state(request_, result)[0] is expected


class CountingLedger:
    """A ledger that counts document writes (everything else goes to the real one)."""

    def __init__(self, ledger):
        self.ledger, self.writes = ledger, []

    def __getattr__(self, name):
        return getattr(self.ledger, name)

    def put_doc(self, kind, key, doc):
        self.writes.append((kind, key))
        self.ledger.put_doc(kind, key, doc)


def test_the_ledger_tells_the_pcrf_only_when_the_state_changes(store):
    provision(store)
    store.transact(lambda l: l.put_doc(T.KIND_BY_PRODUCT, "p1|gx-1", {}))     # one live Gx session

    def hook(result, action=Action.UPDATE):
        def tx(l):
            spy = CountingLedger(l)
            changed = book.note_credit(spy, _req(action), result)
            return changed, spy.writes
        return store.transact(tx)

    assert hook(_res()) == (True, [(book.CREDIT_DOC, "p1")])           # first known: credit, PCRF unflagged
    assert hook(_res()) == (False, [])                                  # unchanged: no write
    # out of credit: the PCRF's writes, and the product queued for RADIUS Disconnect (another subscriber)
    assert hook(_res(granted=500, final=True)) == (True, [(book.CREDIT_DOC, "p1"), (T.KIND_USAGE, "p1"),
                                                          (T.KIND_PUSH, "gx-1"), (DISCONNECT_QUEUE, "p1")])
    assert out_of_credit(store)
    assert hook(_res(Outcome.CREDIT_LIMIT_REACHED, granted=0)) == (False, [])     # still out: no write
    assert hook(_res(granted=500, final=True)) == (False, [])
    assert store.transact(lambda l: l.get_doc(T.KIND_PUSH, "gx-1"))["seq"] == 1
    assert hook(_res(granted=0), Action.STOP) == (False, [])           # says nothing: not even a read
    assert hook(_res()) == (True, [(book.CREDIT_DOC, "p1"), (T.KIND_USAGE, "p1"), (T.KIND_PUSH, "gx-1")])
    assert not out_of_credit(store)
    assert hook(_res()) == (False, [])
    assert store.transact(lambda l: l.get_doc(T.KIND_PUSH, "gx-1"))["seq"] == 2
    # an unknown subscriber is nobody's product
    req = dataclasses.replace(_req(), subscriber="999")
    assert store.transact(lambda l: book.note_credit(l, req, _res(Outcome.CREDIT_LIMIT_REACHED, 0))) is False


def test_a_top_up_restores_only_with_usable_balance(store):
    provision(store, money=0)
    store.transact(lambda l: book.refused(l, "p1", NOW))
    assert out_of_credit(store)
    store.transact(lambda l: book.reassess(l, "p1", NOW))
    assert out_of_credit(store)                                      # nothing to spend yet
    ctx = Ctx(1_000_000, "USD", NOW)
    # a top-up that starts tomorrow does not restore today
    store.transact(lambda l: tmf654.topup_write(l, "t1", {"amount": {"amount": "1", "units": "USD"},
                                                          "product": {"id": "p1"},
                                                          "validFor": {"startDateTime": "2099-01-01T00:00:00Z"}},
                                                ctx, True))
    assert out_of_credit(store)
    store.transact(lambda l: tmf654.adjust_write(l, "a1", {"amount": {"amount": 2_000_000, "units": "octets"},
                                                           "product": {"id": "p1"}}, ctx, True))
    assert not out_of_credit(store)


@pytest.fixture
def api(gxcfg, store):
    """The REST API on a free loopback port (admin user), as ``api.post(path, json=...)``."""
    import requests

    from tests.rest.conftest import ADMIN, Client, Server, add_user
    add_user(store, *ADMIN, ["admin"])
    srv = Server(dataclasses.replace(gxcfg, rest=RestConfig(port=0, access_log=False)), store)
    session = requests.Session()
    session.auth = ADMIN
    yield Client(session, srv.url)
    session.close()
    srv.stop()


INV, BAL = "/tmf-api/productInventory/v4", "/tmf-api/prepayBalanceManagement/v4"
MERGE = {"Content-Type": "application/merge-patch+json"}


def test_product_offer_change_through_rest_patch_queues_a_push(store, api):
    provision(store)
    store.transact(lambda l: l.put_offer(dataclasses.replace(DATA_OFFER, name="silver")))
    store.transact(lambda l: l.put_doc(T.KIND_BY_PRODUCT, "p1|gx-1", {}))
    r = api.patch(f"{INV}/product/p1", json={"status": "active"}, headers=MERGE)
    assert r.status_code == 200, r.text
    assert store.transact(lambda l: l.get_doc(T.KIND_PUSH, "gx-1")) is None       # the offer is unchanged
    r = api.patch(f"{INV}/product/p1", json={"productOffering": {"id": "silver"}}, headers=MERGE)
    assert r.status_code == 200 and r.json()["productOffering"]["id"] == "silver", r.text
    assert store.transact(lambda l: l.get_doc(T.KIND_PUSH, "gx-1")) == {"reason": "offer changed", "seq": 1}
    r = api.patch(f"{INV}/product/p1", json={"productCharacteristic": [{"name": "policyTable", "value": "gold"}]},
                  headers=MERGE)
    assert r.status_code == 200, r.text
    assert store.transact(lambda l: l.get_doc(T.KIND_PUSH, "gx-1"))["seq"] == 2


# --- end to end: a PCEF on Gx, a gateway on Ro, a top-up ---------------------------------------

class RoGateway:
    """An OCS node with the Ro application (as the diameter worker builds it) and a CTF client."""

    def __init__(self, cfg, store):
        d = DiameterConfig(peers=(DiameterPeer("gw.test"),))
        self.cfg = dataclasses.replace(cfg, diameter=d)
        self.charging = LedgerClient(store, charging_policy(self.cfg), clock=lambda: NOW)
        self.node = Node("ocs.test", "test", peers=d.peers, watchdog=30)
        ro.install(self.node, AppContext(self.cfg, store, self.charging))
        self.client = CreditControlClient("gw.test", "gw.realm")
        self.n = 0

    async def start(self):
        port = await self.node.listen("127.0.0.1", 0)
        await self.client.connect("127.0.0.1", port)
        self.sid = self.client.session_id()

    async def send(self, rt, used=None, requested=0):
        a = summary(await self.client.send(ccr(self.sid, "test", rt, self.n, IMSI, services=(
            Service(Unit.OCTETS, requested, used=used, rating_group=32),))))
        self.n += 1
        return a

    async def stop(self):
        await self.client.close()
        await self.node.stop(1)


def test_ro_exhaustion_pushes_credit_throttle_and_topup_restores(gxcfg, store, api):
    provision(store, money=80_000)       # grants of 2 MB (the minimum 1,048,576 starts a 2nd MB) at 20,000/MB

    async def go():
        node, _app, port = await start_pcrf(gxcfg, store)
        pcef = Pcef()
        await pcef.connect(port)
        gx_sid = "pcef.test;1;credit"
        cca = await pcef.initial(gx_sid, imsi=IMSI)
        assert sorted(installed(cca)) == ["voice", "web"]
        gy = RoGateway(gxcfg, store)
        await gy.start()
        a = await gy.send(ro.INITIAL)
        assert a["mscc"][0]["granted"] == 2_000_000 and "final_unit_action" not in a["mscc"][0]
        a = await gy.send(ro.UPDATE, used=MIN)
        assert a["mscc"][0]["granted"] == 2_000_000
        assert not out_of_credit(store) and await settled(store, pcef, gx_sid)
        # the money left buys only 1,000,000 octets: final units, and the PCEF gets the throttle
        a = await gy.send(ro.UPDATE, used=MIN)
        assert a["result"] == 2001 and a["mscc"][0]["granted"] == 1_000_000
        assert "final_unit_action" in a["mscc"][0]
        assert out_of_credit(store)
        rar = await pcef.next_rar()
        assert rar.session_id == gx_sid
        assert list(installed(rar)) == ["cut"] and removed(rar) == ["voice", "web"]
        assert get_mbr(installed(rar)["cut"]) == (16_000, 32_000)
        await wait_raa_recorded(store, gx_sid)
        # the next CCR-U is refused (4012): still out of credit, nothing written, nothing pushed
        a = await gy.send(ro.UPDATE, used=1_000_000)
        assert a["result"] == 4012
        assert await settled(store, pcef, gx_sid)
        # a Gx session opened now starts throttled
        cca2 = await pcef.initial("pcef.test;1;credit2", imsi=IMSI)
        assert list(installed(cca2)) == ["cut"]
        assert (await pcef.terminate("pcef.test;1;credit2", 1)).result_code == 2001
        # the operator tops up through TMF654: the normal rules come back
        r = await asyncio.to_thread(api.post, f"{BAL}/balanceTopup", json={
            "product": {"id": "p1"}, "amount": {"amount": "5", "units": gxcfg.money.currency}})
        assert r.status_code == 201, r.text
        assert not out_of_credit(store)
        rar = await pcef.next_rar()
        assert rar.session_id == gx_sid
        assert sorted(installed(rar)) == ["voice", "web"] and removed(rar) == ["cut"]
        await wait_raa_recorded(store, gx_sid)
        # a full grant after the top-up: the state is unchanged, no push
        a = await gy.send(ro.UPDATE, used=0)
        assert a["result"] == 2001 and a["mscc"][0]["granted"] == 2_000_000
        assert await settled(store, pcef, gx_sid)
        await gy.send(ro.TERMINATION, used=0, requested=None)
        assert (await pcef.terminate(gx_sid, 1)).result_code == 2001
        await gy.stop()
        await pcef.stop()
        await node.stop(1)
    run(go())


def get_mbr(definition):
    from .pcef import get
    q = get(definition, "QoS-Information")[0]
    return get(q, "Max-Requested-Bandwidth-UL")[0], get(q, "Max-Requested-Bandwidth-DL")[0]


# --- the RADIUS variant: accounting exhausts, `appliance bucket add` restores --------------------

def test_radius_accounting_exhaustion_and_cli_topup(gxcfg, store):
    import pyrad.packet as pp

    from tests.radius.conftest import RunningServer, radius_cfg
    from tests.radius.helpers import pyrad_client

    from .test_gx import cli
    provision(store, money=100_000)
    rcfg = radius_cfg(gxcfg)
    radius = RunningServer(rcfg).start()
    client = pyrad_client(rcfg)

    def acct(status, octets):
        req = client.CreateAcctPacket(User_Name=NAI, Acct_Status_Type=status, Acct_Session_Id="r1",
                                      NAS_IP_Address="127.0.0.1", Acct_Input_Octets=octets)
        assert client.SendPacket(req).code == pp.AccountingResponse

    async def go():
        node, _app, port = await start_pcrf(gxcfg, store)
        pcef = Pcef()
        await pcef.connect(port)
        gx_sid = "pcef.test;1;radius"
        assert sorted(installed(await pcef.initial(gx_sid, imsi=IMSI))) == ["voice", "web"]
        await asyncio.to_thread(acct, "Start", 0)                   # holds 40,000 for 1,048,576 octets
        await asyncio.to_thread(acct, "Interim-Update", 2_000_000)  # pays 40,000, holds 40,000: 20,000 left
        assert not out_of_credit(store) and await settled(store, pcef, gx_sid)
        await asyncio.to_thread(acct, "Interim-Update", 4_000_000)  # the next slice is the final one
        assert out_of_credit(store)
        rar = await pcef.next_rar()
        assert list(installed(rar)) == ["cut"] and removed(rar) == ["voice", "web"]
        await wait_raa_recorded(store, gx_sid)
        out = await asyncio.to_thread(cli, gxcfg, "bucket", "add", "p1", "--unit", "money", "--amount", "500000")
        assert out["remaining"] == 500_000
        assert not out_of_credit(store)
        rar = await pcef.next_rar()
        assert sorted(installed(rar)) == ["voice", "web"] and removed(rar) == ["cut"]
        await wait_raa_recorded(store, gx_sid)
        await asyncio.to_thread(acct, "Stop", 5_000_000)
        assert await settled(store, pcef, gx_sid)
        assert (await pcef.terminate(gx_sid, 1)).result_code == 2001
        await pcef.stop()
        await node.stop(1)
    try:
        run(go())
    finally:
        radius.close()


def test_radius_refusal_for_no_balance_marks_out_of_credit(gxcfg, store):
    import pyrad.packet as pp

    from tests.radius.conftest import RunningServer, radius_cfg
    from tests.radius.helpers import pyrad_client
    provision(store, money=0)
    store.transact(lambda l: l.put_doc(T.KIND_BY_PRODUCT, "p1|gx-1", {}))
    rcfg = radius_cfg(gxcfg)
    radius = RunningServer(rcfg).start()
    try:
        client = pyrad_client(rcfg)
        req = client.CreateAuthPacket(code=pp.AccessRequest, User_Name=NAI)
        req["User-Password"] = req.PwCrypt("secret")
        reply = client.SendPacket(req)
        assert reply.code == pp.AccessReject and reply["Reply-Message"] == ["No usable balance"]
    finally:
        radius.close()
    assert out_of_credit(store)
    assert store.transact(lambda l: l.get_doc(T.KIND_PUSH, "gx-1")) == {"reason": "out of credit", "seq": 1}


def test_cli_product_offer_change_queues_a_push(gxcfg, store):
    from .test_gx import cli
    provision(store)
    store.transact(lambda l: l.put_offer(dataclasses.replace(DATA_OFFER, name="silver")))
    store.transact(lambda l: l.put_doc(T.KIND_BY_PRODUCT, "p1|gx-1", {}))
    cli(gxcfg, "product", "add", "p1", "--offer", "data")                 # unchanged
    assert store.transact(lambda l: l.get_doc(T.KIND_PUSH, "gx-1")) is None
    cli(gxcfg, "product", "add", "p1", "--offer", "silver")
    assert store.transact(lambda l: l.get_doc(T.KIND_PUSH, "gx-1")) == {"reason": "offer changed", "seq": 1}


def test_nchf_rating_exhaustion_and_grant_through_rest(store, api):
    provision(store, money=50_000)               # one grant of 2 MB (40,000 held), 10,000 over
    nrf = "/nrf-rating/v1/ratingdata"
    r = api.post(nrf, json={"subscriptionId": [f"imsi-{IMSI}"], "serviceRating": [
        {"serviceContextId": "32251@3gpp.org", "ratingGroup": 1, "requestSubType": "RESERVE"}]})
    assert r.status_code == 201, r.text
    assert not out_of_credit(store)
    ref = r.headers["Location"].rsplit("/", 1)[1]
    upd = {"serviceRating": [{"serviceContextId": "32251@3gpp.org", "ratingGroup": 1, "requestSubType": "RESERVE",
                              "consumedUnit": {"totalVolume": MIN}}]}
    r = api.post(f"{nrf}/{ref}/update", json=upd)
    assert r.status_code == 403 and r.json()["cause"] == "QUOTA_LIMIT_REACHED", r.text
    assert out_of_credit(store)                  # the committed answer flagged it
    r = api.post(f"{BAL}/balanceTopup", json={"product": {"id": "p1"}, "amount": {"amount": "1", "units": "USD"}})
    assert r.status_code == 201, r.text
    assert not out_of_credit(store)
    r = api.post(f"{nrf}/{ref}/update", json=upd)
    assert r.status_code == 200 and r.json()["serviceRating"][0]["grantedUnit"] == {"totalVolume": 2_000_000}, r.text
    assert not out_of_credit(store)
