"""Protocol strictness: unknown M-bit AVPs at any depth (5001), a CER on an open connection
(CEA, stays open), and a graceful stop bounded even when a peer ignores the DPR."""
from __future__ import annotations

import asyncio
import socket
import time

from appliance.config import Config, DiameterPeer, ProcessesConfig
from appliance.diameter import codec as c
from appliance.diameter.node import Node
from appliance.diameter.peer import AppSupport, LocalIdentity, PeerConnection, State
from appliance.supervise import supervisor_conf

SERVER = LocalIdentity("ocs.test", "test", apps=(AppSupport(4),))
CLIENT = LocalIdentity("gw.test", "test", apps=(AppSupport(4),))
OTHER = LocalIdentity("other.test", "test", apps=(AppSupport(4),))
UNKNOWN = 999_999           # not in the dictionary


def opened_pair():
    s = PeerConnection(SERVER, False, 0.0, 30, admit=lambda peer, pc: c.SUCCESS)
    cl = PeerConnection(CLIENT, True, 0.0, 30)
    for _ in range(10):
        a, b = cl.data_to_send(), s.data_to_send()
        if not a and not b:
            break
        s.receive(a, 0.0)
        cl.receive(b, 0.0)
    assert s.state is State.OPEN
    while s.next_event() is not None:
        pass
    return s


def test_cer_on_an_open_connection_gets_a_cea_and_the_connection_stays_open():
    s = opened_pair()
    s.receive(c.encode(c.CMD_CE, 0, c.FLAG_R, 77, 78, CLIENT.capability_avps()), 1.0)
    cea = c.decode(s.data_to_send())
    assert cea.code == c.CMD_CE and not cea.is_request and cea.hbh == 77
    assert cea.result_code == c.SUCCESS and s.state is State.OPEN
    # another Origin-Host on this connection: refused, the connection stays with its peer
    s.receive(c.encode(c.CMD_CE, 0, c.FLAG_R, 79, 80, OTHER.capability_avps()), 2.0)
    refused = c.decode(s.data_to_send())
    assert refused.result_code == c.UNKNOWN_PEER and refused.is_error and s.state is State.OPEN
    assert s.peer is not None and s.peer.host == "gw.test"


async def echo(req):
    return req.answer(c.SUCCESS)


async def _pair():
    server = Node("ocs.test", "test", peers=[DiameterPeer("gw.test")])
    server.register(AppSupport(4), {272: echo})
    port = await server.listen("127.0.0.1", 0)
    client = Node("gw.test", "test")
    client.register(AppSupport(4), {})
    await client.connect("ocs.test", "127.0.0.1", port)
    for _ in range(300):
        if "ocs.test" in client.open:
            break
        await asyncio.sleep(0.01)
    return server, client


def test_unknown_mandatory_avp_inside_grouped_avps_is_answered_5001_at_every_depth():
    bad = c.encode_avp(UNKNOWN, b"x", 0, True, c.OCTETS)
    harmless = c.encode_avp(UNKNOWN, b"x", 0, False, c.OCTETS)
    mscc_code, mscc_vendor = c.BY_NAME["Multiple-Services-Credit-Control"]
    usu_code, usu_vendor = c.BY_NAME["Used-Service-Unit"]

    def mscc(*inner):
        return c.encode_avp(mscc_code, list(inner), mscc_vendor)

    def usu(*inner):
        return c.encode_avp(usu_code, list(inner), usu_vendor)

    async def run():
        server, client = await _pair()
        base = [c.avp("Session-Id", "gw.test;1;1"), c.avp("Destination-Realm", "test")]
        try:
            cases = {"top": (bad,), "depth 1": (mscc(bad),), "depth 2": (mscc(usu(bad)),),
                     "no M-bit": (mscc(usu(harmless)),)}
            results = {}
            for name, extra in cases.items():
                ans = await client.request(272, 4, base + list(extra), host="ocs.test")
                results[name] = ans.result_code
                if ans.result_code == c.AVP_UNSUPPORTED:
                    failed = ans.find(c.FAILED_AVP)
                    assert failed is not None and any(a.code == UNKNOWN for a in failed.group()), name
            assert results == {"top": 5001, "depth 1": 5001, "depth 2": 5001, "no M-bit": 2001}
        finally:
            await client.stop(1)
            await server.stop(1)
    asyncio.run(asyncio.wait_for(run(), 60))


def test_stop_is_bounded_when_a_peer_ignores_dpr():
    async def run():
        server = Node("ocs.test", "test", peers=[DiameterPeer("gw.test")])
        server.register(AppSupport(4), {272: echo})
        port = await server.listen("127.0.0.1", 0)
        sock = socket.create_connection(("127.0.0.1", port))        # a peer that never answers DPR
        sock.sendall(c.encode(c.CMD_CE, 0, c.FLAG_R, 1, 1, CLIENT.capability_avps()))
        for _ in range(300):
            if server.open:
                break
            await asyncio.sleep(0.01)
        assert "gw.test" in server.open
        t0 = time.monotonic()
        await server.stop(1.0)
        took = time.monotonic() - t0
        sock.close()
        assert 0.5 < took < 1.5, took
    asyncio.run(asyncio.wait_for(run(), 60))


def test_supervisor_waits_longer_than_a_worker_stop():
    conf = supervisor_conf(Config(processes=ProcessesConfig(stop_wait=7)), python="/usr/bin/python3")
    waits = {int(line.split("=")[1]) for line in conf.splitlines() if line.startswith("stopwaitsecs=")}
    assert waits and min(waits) > 7
