"""Peer admission: listed hosts only (optionally from an address), stored peers counted live."""
from __future__ import annotations

import asyncio

from appliance.config import DiameterPeer
from appliance.diameter.admission import PeerAdmission
from appliance.diameter.node import Node
from appliance.diameter.peer import AppSupport

APP = 4


async def echo(req):
    return req.answer(2001)


def test_table_hosts_and_addresses():
    t = PeerAdmission.build([DiameterPeer("gw.test", ip="10.0.0.0/8")],
                            [{"address": "pcef.test", "protocol": "diameter"},
                             {"address": "pinned.test", "ip": "192.0.2.7"},
                             {"address": "gw.test", "ip": ""},           # the configured entry wins
                             {"address": "broken.test", "ip": "300.1.1.1"}])
    assert t.allows("gw.test", "10.1.2.3:3868") is True
    assert t.allows("gw.test", "127.0.0.1:3868") is False
    assert t.allows("pcef.test", "203.0.113.9:1") is True
    assert t.allows("pinned.test", "192.0.2.7:40000") is True and t.allows("pinned.test", "192.0.2.8:1") is False
    assert t.allows("pinned.test", "::ffff:192.0.2.7:1") is True
    assert t.allows("broken.test", "192.0.2.7:1") is None        # an unreadable row admits nobody
    assert t.allows("attacker.localdomain", "127.0.0.1:1") is None


async def _try(client_host, port):
    client = Node(client_host, "localdomain")
    client.register(AppSupport(APP), {})
    conn = await client.connect("ocs.test", "127.0.0.1", port)
    for _ in range(300):
        if client.open or conn.closed.done():
            break
        await asyncio.sleep(0.01)
    opened = "ocs.test" in client.open
    await client.stop(0.5)
    return opened


def test_stored_peers_are_admitted_live_and_strangers_are_not():
    async def run():
        server = Node("ocs.test", "ocs.localdomain", peers=[])
        server.register(AppSupport(APP), {272: echo})
        port = await server.listen("127.0.0.1", 0)
        try:
            assert not await _try("pcef.localdomain", port)           # nothing listed: nobody
            server.set_stored_peers([{"address": "pcef.localdomain", "protocol": "diameter"}])
            assert await _try("pcef.localdomain", port)
            assert not await _try("attacker.localdomain", port)      # same realm, not listed
            server.set_stored_peers([{"address": "pcef.localdomain", "protocol": "diameter",
                                      "ip": "192.0.2.0/24"}])
            assert not await _try("pcef.localdomain", port)          # listed, wrong address
            server.set_stored_peers([])                              # removed
            assert not await _try("pcef.localdomain", port)
        finally:
            await server.stop(1)
    asyncio.run(asyncio.wait_for(run(), 60))
