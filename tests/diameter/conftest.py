"""An OCS Diameter node with the Ro application on a free loopback port, and a CCR client."""
from __future__ import annotations

import asyncio
import dataclasses
from contextlib import asynccontextmanager

import pytest

from appliance.config import DiameterConfig, DiameterPeer, charging_policy
from appliance.diameter.apps import ro
from appliance.diameter.client import CreditControlClient
from appliance.diameter.node import Node
from appliance.diameter.worker import AppContext
from appliance.ledger.api import LedgerClient


class Clock:
    def __init__(self, t: float = 1_800_000_000) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def ocs(cfg, store, clock):
    """``async with ocs(ledger=None, **diameter_overrides) as (client, node, charging)``; ``ledger``: the
    charging client (default: in this process)."""
    @asynccontextmanager
    async def start(ledger=None, **overrides):
        d = dataclasses.replace(DiameterConfig(peers=(DiameterPeer("gw.test"),), accept_realms=("ims.test",)),
                                **overrides)
        conf = dataclasses.replace(cfg, diameter=d)
        charging = ledger or LedgerClient(store, charging_policy(conf), clock=clock)
        node = Node("ocs.test", "test", peers=d.peers, accept_realms=d.accept_realms, watchdog=30)
        ro.install(node, AppContext(conf, store, charging))
        port = await node.listen("127.0.0.1", 0)
        client = CreditControlClient("gw.test", "gw.realm")
        await client.connect("127.0.0.1", port)
        try:
            yield client, node, charging
        finally:
            await client.close()
            await node.stop(1)
    return start


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))
