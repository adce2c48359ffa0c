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


def test_client_add_for_diameter_peers_and_its_errors(tmp_path):
    import json
    import subprocess
    import sys
    conf = tmp_path / "appliance.yaml"
    conf.touch()

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "appliance", "--config", str(conf), "client", *args],
                              capture_output=True, text=True, timeout=60, cwd=tmp_path)
    r = cli("add", "pgw1.example.net", "--protocol", "diameter", "--ip", "192.0.2.0/24")
    assert r.returncode == 0, r.stderr
    listed = [json.loads(line) for line in cli("list", "--protocol", "diameter").stdout.splitlines()]
    assert listed == [{"address": "pgw1.example.net", "protocol": "diameter", "name": "", "ip": "192.0.2.0/24"}]
    for args, fragment in ((("add", "x.example", "--protocol", "diameter", "--ip", "300.1.1.1"), "bad --ip"),
                           (("add", "x.example", "--protocol", "diameter", "--secret", "s"), "no --secret"),
                           (("add", "10.0.0.0/33", "--secret", "s"), "bad address"),
                           (("add", "10.0.0.1", "--secret", "s", "--ip", "10.0.0.1"), "--ip is for Diameter")):
        r = cli(*args)
        assert r.returncode == 1 and fragment in r.stderr and len(r.stderr.splitlines()) == 1, (args, r.stderr)
    assert cli("remove", "pgw1.example.net").returncode == 0
    assert cli("list", "--protocol", "diameter").stdout == ""
