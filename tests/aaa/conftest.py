"""The 3GPP AAA on a free loopback port with STa, SWm, S6b and SWx installed, an access gateway
(TWAN/ePDG), a PGW and an HSS as real peers over TCP, and a subscriber with K/OPc."""
from __future__ import annotations

import asyncio
import dataclasses
from contextlib import asynccontextmanager
from types import SimpleNamespace

import pytest

from appliance.config import DiameterPeer
from appliance.diameter.apps import aaa as A
from appliance.diameter.apps import s6b, sta, swm, swx
from appliance.diameter.node import Node
from appliance.diameter.worker import AppContext
from appliance.eap import aka_codec as ac
from appliance.eap.aka_peer import AkaPeer
from appliance.eap.milenage import Usim
from appliance.ocs.inventory import Credentials
from tests.conftest import seed

from .peers import AccessGateway, Hss, wait_open

K = bytes.fromhex("465b5ce8b199b49faa5f0a2ee238a6bc")          # TS 35.208 test set 1
OPC = bytes.fromhex("cd63cb71954a9f4e48a5994e37a02baf")
IMSI = "001010000000001"
HSS_IMSI = "001020000000002"
LOCAL_REALM = "wlan.mnc001.mcc001.3gppnetwork.org"
HSS_REALM = "wlan.mnc002.mcc001.3gppnetwork.org"


def provision(store, imsi: str = IMSI, apn: str = "internet") -> None:
    seed(store, imsi=imsi)

    def creds(ledger):
        svc = ledger.get_service(imsi)
        ledger.put_service(dataclasses.replace(svc, credentials=Credentials(k=K, opc=OPC),
                                               attributes={"apn": apn}))
    store.transact(creds)


def ue(variant=ac.AKA_PRIME, imsi: str = IMSI, realm: str = LOCAL_REALM, k: bytes = K, sqn: int = 0) -> AkaPeer:
    return AkaPeer(variant, f"{variant.permanent}{imsi}@{realm}", Usim(k, OPC, sqn))


@pytest.fixture
def aaa_env(store):
    """``async with aaa_env(**settings) as env``: env.node/app (AAA), env.gw, env.pgw, env.hss, env.port."""
    @asynccontextmanager
    async def start(port: int = 0, hss_port: int = 0, **settings):
        conf = A.AaaSettings(**{"realms": (A.AaaRealm(HSS_REALM, "hss", "hss.test", "hss.realm"),),
                                "sweep_interval": 0, **settings})
        node = Node("aaa.test", "aaa.realm", peers=[DiameterPeer("twan.test"), DiameterPeer("pgw.test"),
                                                     DiameterPeer("hss.test")], watchdog=30)
        ctx = AppContext(SimpleNamespace(aaa=conf), store, None, 0)
        for module in (sta, swm, s6b, swx):
            module.install(node, ctx)
        port = await node.listen("127.0.0.1", port)
        hss = Hss()
        hss.subscribers[HSS_IMSI] = [K, OPC, 0]
        hss_port = await hss.node.listen("127.0.0.1", hss_port)
        await wait_open(node, "hss.test", await node.connect("hss.test", "127.0.0.1", hss_port))
        gw, pgw = AccessGateway(), AccessGateway("pgw.test", "pgw.realm")
        await gw.connect(port)
        await pgw.connect(port)
        env = SimpleNamespace(node=node, app=A.aaa_for(node, ctx), gw=gw, pgw=pgw, hss=hss, port=port)
        try:
            yield env
        finally:
            for n in (gw.node, pgw.node, node, hss.node):
                await n.stop(1)
    return start


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))
