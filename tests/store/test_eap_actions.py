"""The store's side of the sans-I/O EAP methods (store/eap_actions.py) over a real store: local
vectors with the SQN advanced (and resynchronised) in one transaction, single-use
re-authentication contexts, identity writes not waited for yet seen by the next load, an HSS's
refusals carried as NoVector."""
from __future__ import annotations

import asyncio
import dataclasses

from appliance.eap import milenage
from appliance.eap.events import (
    AkaVector,
    FindService,
    LoadPseudonym,
    LoadSession,
    NeedVector,
    NoVector,
    PseudonymRecord,
    ReauthSession,
    StoreSession,
    Vector,
)
from appliance.ocs.inventory import Credentials
from appliance.store.eap_actions import EapActions
from tests.conftest import seed

K = bytes.fromhex("90dca4eda45b53cf0f12d7c9c3bc6a89")          # TS 35.208 test set 19
OPC = bytes.fromhex("cb9cccc4b9258e6dca4760379fb82581")
IMSI = "001010000000019"


def subscriber(store, sqn=0):
    seed(store, imsi=IMSI)

    def creds(ledger):
        svc = ledger.get_service(IMSI)
        ledger.put_service(dataclasses.replace(svc, credentials=Credentials(k=K, opc=OPC, sqn=sqn)))
    store.transact(creds)


def sqn(store):
    return store.transact(lambda l: l.get_service(IMSI)).credentials.sqn


def need(auts=None, resync_rand=b"", imsi=IMSI):
    return NeedVector("0" + imsi + "@realm", imsi, bytes(range(16)), False, b"WLAN", auts, resync_rand)


def test_local_vectors_and_resynchronisation(store):
    subscriber(store)
    actions = EapActions(store)

    async def go():
        first = await actions.perform(need())
        unknown = await actions.perform(need(imsi="001019999999999"))
        # a USIM ahead answers AUTS for the first RAND: SQN_MS taken, the next vector above it
        sqn_ms = 0x10000000
        usim = milenage.Usim(K, OPC, sqn_ms)
        verdict, auts, *_ = usim.authenticate(first.vector.rand, first.vector.autn)
        assert verdict == "sync"
        resynced = await actions.perform(need(auts, first.vector.rand))
        bad = await actions.perform(need(bytes(14), first.vector.rand))
        return first, unknown, resynced, bad, sqn_ms
    first, unknown, resynced, bad, sqn_ms = asyncio.run(go())
    assert isinstance(first, Vector) and first.service_id == IMSI and first.vector.rand == bytes(range(16))
    assert unknown == NoVector("unknown")
    assert isinstance(resynced, Vector) and sqn(store) > sqn_ms
    assert bad == NoVector("bad_auts")


def test_identities_written_without_waiting_are_seen_by_the_next_load(store):
    subscriber(store)
    actions = EapActions(store)
    pseudonym = PseudonymRecord("2abc", IMSI, IMSI, 2000.0)
    session = ReauthSession("4def@realm", 23, IMSI, IMSI, 3, b"m" * 20, b"a" * 16, b"e" * 16, 2000.0)

    async def go():
        await actions.perform(StoreSession(pseudonym, session))
        pending = len(actions.queued)                 # the success may go out before the commit
        loaded = await actions.perform(LoadSession("4def@realm"))
        again = await actions.perform(LoadSession("4def@realm"))
        return pending, loaded, again, await actions.perform(LoadPseudonym("2abc")), \
            await actions.perform(FindService(IMSI))
    pending, loaded, again, got_pseudonym, service = asyncio.run(go())
    assert pending == 1 and not actions.queued
    assert loaded == session and again is None            # single-use (RFC 4187 §5.1)
    assert got_pseudonym == pseudonym and service.id == IMSI
    assert "mmmm" not in repr(loaded)                      # keys stay out of reprs


def test_waiting_for_identities_when_asked(store):
    subscriber(store)
    actions = EapActions(store, wait_identities=True)

    async def go():
        await actions.perform(StoreSession(PseudonymRecord("2x", IMSI, IMSI, 1.0), None))
        return len(actions.queued)
    assert asyncio.run(go()) == 0
    assert store.transact(lambda l: l.get_doc("eap_aka_pseudonym", "2x"))["imsi"] == IMSI


class Hss:
    def __init__(self, resync_ok):
        self.resync_ok, self.calls = resync_ok, []

    async def vector(self, imsi, rand, prime, network_name):
        self.calls.append("vector")
        return None, AkaVector(rand, bytes(16), bytes(8), bytes(16), bytes(16), primed=True)

    async def resync(self, imsi, rand, auts):
        self.calls.append("resync")
        return self.resync_ok


def test_an_hss_answers_vectors_and_resynchronisation(store):
    ok, refused = Hss(True), Hss(False)

    async def go():
        return (await EapActions(store, ok).perform(need(bytes(14), b"r" * 16)),
                await EapActions(store, refused).perform(need(bytes(14), b"r" * 16)))
    got, no = asyncio.run(go())
    assert isinstance(got, Vector) and got.vector.primed and ok.calls == ["resync", "vector"]
    assert no == NoVector("bad_auts") and refused.calls == ["resync"]
