"""The asyncio node over real TCP on loopback: CER/CEA, the app registry, requests both ways."""
from __future__ import annotations

import asyncio
import json

from appliance.config import DiameterPeer
from appliance.diameter import codec as c
from appliance.diameter.node import Node
from appliance.diameter.peer import AppSupport

APP = 4


async def echo(req):
    return req.answer(c.SUCCESS, [c.avp("CC-Request-Number", req.message.u32(415) or 0)])


async def start_pair(tmp_path, client_realm="gw.test"):
    server = Node("ocs.test", "test", peers=[DiameterPeer("gw.test")], run_dir=str(tmp_path))
    server.register(AppSupport(APP), {272: echo})
    port = await server.listen("127.0.0.1", 0)
    client = Node("gw.test", client_realm)
    client.register(AppSupport(APP), {})
    conn = await client.connect("ocs.test", "127.0.0.1", port)
    for _ in range(200):
        if "ocs.test" in client.open or conn.closed.done():
            break
        await asyncio.sleep(0.01)
    return server, client, port


def ccr(n):
    return [c.avp("Session-Id", "gw.test;1;1"), c.avp("Destination-Realm", "test"),
            c.avp("CC-Request-Number", n)]


def test_request_answer_and_peer_table(tmp_path):
    async def run():
        server, client, port = await start_pair(tmp_path)
        assert "ocs.test" in client.open
        answers = await asyncio.gather(*(client.request(272, APP, ccr(i), host="ocs.test") for i in range(50)))
        assert [a.u32(415) for a in answers] == list(range(50))
        assert all(a.result_code == c.SUCCESS and a.session_id == "gw.test;1;1" for a in answers)
        table = json.loads(next((tmp_path / "diameter").glob("peers-*.json")).read_text())
        assert table["peers"][0]["host"] == "gw.test" and table["peers"][0]["state"] == "open"
        # server -> client request on the same connection (Gx RAR style); client has no handler: 3001
        ans = await server.request(258, APP, [c.avp("Session-Id", "ocs.test;1;2")], host="gw.test")
        assert ans.result_code == c.COMMAND_UNSUPPORTED and ans.is_error
        await client.stop(1)
        await server.stop(1)
    asyncio.run(run())


def test_unknown_peer_is_refused(tmp_path):
    async def run():
        server = Node("ocs.test", "test", peers=[], run_dir=None)
        server.register(AppSupport(APP), {272: echo})
        port = await server.listen("127.0.0.1", 0)
        client = Node("stranger", "elsewhere")
        client.register(AppSupport(APP), {})
        conn = await client.connect("ocs.test", "127.0.0.1", port)
        await asyncio.wait_for(conn.closed, 5)
        assert not client.open
        server.accept_realms = frozenset({"elsewhere"})
        conn = await client.connect("ocs.test", "127.0.0.1", port)
        for _ in range(200):
            if client.open:
                break
            await asyncio.sleep(0.01)
        assert "ocs.test" in client.open
        await client.stop(1)
        await server.stop(1)
    asyncio.run(run())


def test_protocol_errors_and_duplicates(tmp_path):
    async def run():
        server, client, port = await start_pair(tmp_path)
        # unsupported application 3007, unknown command 3001 (E-bit), unknown M-bit AVP 5001, wrong realm 3003
        conn = client.open["ocs.test"]

        async def raw(code, app, avps, flags=c.FLAG_R):
            hbh, e2e = conn.pc.next_ids()
            fut = asyncio.get_running_loop().create_future()
            conn.pending[hbh] = fut
            conn.write(c.encode(code, app, flags, hbh, e2e, avps))
            return await asyncio.wait_for(fut, 5)
        a = await raw(272, 999, ccr(1))
        assert a.result_code == c.APPLICATION_UNSUPPORTED and a.is_error
        a = await raw(999, APP, ccr(1))
        assert a.result_code == c.COMMAND_UNSUPPORTED and a.is_error
        a = await raw(272, APP, ccr(1) + [c.encode_avp(99999, b"x", 0, mandatory=True)])
        assert a.result_code == c.AVP_UNSUPPORTED and a.find(c.FAILED_AVP).group()[0].code == 99999
        a = await raw(272, APP, [c.avp("Session-Id", "s"), c.avp("Destination-Realm", "other")])
        assert a.result_code == c.REALM_NOT_SERVED
        # a T-flag retransmission with the same End-to-End-Id is answered from the cache
        hbh, e2e = conn.pc.next_ids()
        calls = []

        async def counting(req):
            calls.append(1)
            return req.answer(c.SUCCESS)
        server.handlers[(APP, 272)] = counting
        for flags, h in ((c.FLAG_R, hbh), (c.FLAG_R | c.FLAG_T, hbh + 1000)):
            fut = asyncio.get_running_loop().create_future()
            conn.pending[h] = fut
            conn.write(c.encode(272, APP, flags, h, e2e, ccr(5)))
            ans = await asyncio.wait_for(fut, 5)
            assert ans.hbh == h and ans.result_code == c.SUCCESS
        assert len(calls) == 1
        await client.stop(1)
        await server.stop(1)
    asyncio.run(run())


def test_dwr_from_raw_socket_and_bad_length_answered(tmp_path):
    async def run():
        server = Node("ocs.test", "test", peers=[DiameterPeer("gw.test")])
        server.register(AppSupport(APP), {272: echo})
        port = await server.listen("127.0.0.1", 0)
        r, w = await asyncio.open_connection("127.0.0.1", port)
        cer = c.encode(257, 0, c.FLAG_R, 1, 1, [c.avp("Origin-Host", "gw.test"), c.avp("Origin-Realm", "t"),
                                               c.avp("Host-IP-Address", "127.0.0.1"), c.avp("Vendor-Id", 0),
                                               c.avp("Product-Name", "x"), c.avp("Auth-Application-Id", 4)])
        w.write(cer)

        async def read():
            head = await r.readexactly(4)
            return c.decode(head + await r.readexactly(int.from_bytes(head[1:], "big") - 4))
        assert (await read()).result_code == c.SUCCESS
        w.write(bytes.fromhex("0100001c" "80000118" "00000000" "00000002" "00000002" "00000108" "40000003"))
        ans = await read()
        assert ans.result_code == c.INVALID_AVP_LENGTH and ans.code == 280
        w.write(c.encode(280, 0, c.FLAG_R, 3, 3, [c.avp("Origin-Host", "gw.test"), c.avp("Origin-Realm", "t")]))
        assert (await read()).result_code == c.SUCCESS
        w.close()
        await server.stop(1)
    asyncio.run(run())


def test_node_sends_dwr_and_fails_over_without_dwa(monkeypatch):
    from appliance.diameter import peer as peer_mod
    monkeypatch.setattr(peer_mod, "MIN_TW", 0.05)

    async def run():
        server = Node("ocs.test", "test", peers=[DiameterPeer("gw.test")], watchdog=0.2)
        server.register(AppSupport(APP), {272: echo})
        port = await server.listen("127.0.0.1", 0)
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(c.encode(257, 0, c.FLAG_R, 1, 1, [c.avp("Origin-Host", "gw.test"), c.avp("Origin-Realm", "t"),
                                               c.avp("Host-IP-Address", "127.0.0.1"), c.avp("Vendor-Id", 0),
                                               c.avp("Product-Name", "x"), c.avp("Auth-Application-Id", 4)]))

        async def read():
            head = await r.readexactly(4)
            return c.decode(head + await r.readexactly(int.from_bytes(head[1:], "big") - 4))
        assert (await asyncio.wait_for(read(), 5)).result_code == c.SUCCESS
        dwr = await asyncio.wait_for(read(), 5)                 # Tw expired: the node asks
        assert dwr.code == 280 and dwr.is_request
        assert dwr.find(c.ORIGIN_HOST).data == b"ocs.test"
        w.write(c.encode(280, 0, 0, dwr.hbh, dwr.e2e, [c.avp("Result-Code", 2001), c.avp("Origin-Host", "gw.test"),
                                                      c.avp("Origin-Realm", "t")]))
        dwr2 = await asyncio.wait_for(read(), 5)                # answered: the next Tw, another DWR
        assert dwr2.code == 280 and dwr2.hbh != dwr.hbh
        assert await asyncio.wait_for(r.read(), 5) == b""       # not answered: failover, connection closed
        await server.stop(1)
    asyncio.run(run())


def test_sctp_absent_is_handled_cleanly(monkeypatch):
    """This kernel has no SCTP: asking for it leaves a working TCP listener and a counter."""
    from appliance.diameter import node as node_mod
    from appliance.telemetry import metrics
    real = node_mod.sctp_socket(("127.0.0.1"), 0)
    if real is not None:          # a kernel with SCTP: exercise the absent path anyway
        real.close()
        monkeypatch.setattr(node_mod, "sctp_socket", lambda a, p: None)

    async def run():
        server = Node("ocs.test", "test", peers=[DiameterPeer("gw.test")])
        server.register(AppSupport(APP), {272: echo})
        before = metrics.default().get("diameter.sctp.unavailable")
        port = await server.listen("127.0.0.1", 0, sctp=True)
        assert metrics.default().get("diameter.sctp.unavailable") == before + 1
        client = Node("gw.test", "gw")
        client.register(AppSupport(APP), {})
        await client.connect("ocs.test", "127.0.0.1", port)
        for _ in range(200):
            if client.open:
                break
            await asyncio.sleep(0.01)
        ans = await client.request(272, APP, ccr(3), host="ocs.test")
        assert ans.result_code == c.SUCCESS
        await client.stop(1)
        await server.stop(1)
    asyncio.run(run())


def cer(host: str, state: int) -> bytes:
    return c.encode(257, 0, c.FLAG_R, 1, 1, [c.avp("Origin-Host", host), c.avp("Origin-Realm", "gw"),
                                           c.avp("Host-IP-Address", "127.0.0.1"), c.avp("Vendor-Id", 0),
                                           c.avp("Product-Name", "x"), c.avp("Origin-State-Id", state),
                                           c.avp("Auth-Application-Id", 4)])


async def read_msg(r) -> c.Message:
    head = await r.readexactly(4)
    return c.decode(head + await r.readexactly(int.from_bytes(head[1:], "big") - 4))


def test_second_cer_refused_unless_the_peer_restarted():
    async def run():
        server = Node("ocs.test", "test", peers=[DiameterPeer("gw.test")])
        server.register(AppSupport(APP), {272: echo})
        port = await server.listen("127.0.0.1", 0)
        r1, w1 = await asyncio.open_connection("127.0.0.1", port)
        w1.write(cer("gw.test", 7))
        assert (await read_msg(r1)).result_code == c.SUCCESS
        r2, w2 = await asyncio.open_connection("127.0.0.1", port)
        w2.write(cer("gw.test", 7))                     # same peer, same state: R-Reject (closed, no CEA)
        assert await asyncio.wait_for(r2.read(), 5) == b""
        r3, w3 = await asyncio.open_connection("127.0.0.1", port)
        w3.write(cer("gw.test", 8))                     # restarted (new Origin-State-Id): replaces the old
        assert (await read_msg(r3)).result_code == c.SUCCESS
        assert await asyncio.wait_for(r1.read(), 5) == b""
        await server.stop(1)
    asyncio.run(run())


def test_election_on_simultaneous_connections():
    """RFC 6733 §5.6.4: the higher Origin-Host keeps the connection it accepted."""
    async def run():
        silent = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)   # never answers our CER
        silent_port = silent.sockets[0].getsockname()[1]
        for local, wins in (("ocs.test", True), ("aaa.test", False)):
            server = Node(local, "test", peers=[DiameterPeer("gw.test")])
            server.register(AppSupport(APP), {272: echo})
            port = await server.listen("127.0.0.1", 0)
            out = await server.connect("gw.test", "127.0.0.1", silent_port)   # our CER is pending (Wait-I-CEA)
            r, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(cer("gw.test", 1))                                         # ...and the peer's CER arrives
            if wins:
                assert (await read_msg(r)).result_code == c.SUCCESS
                await asyncio.wait_for(out.closed, 5)                          # our own attempt is dropped
            else:
                assert await asyncio.wait_for(r.read(), 5) == b""              # we lost: theirs is closed
                assert not out.closed.done()
            w.close()
            await server.stop(1)
        silent.close()
    asyncio.run(run())


def test_outgoing_connection_is_reopened_after_failure():
    async def run():
        server = Node("ocs.test", "test", peers=[DiameterPeer("gw.test")])
        server.register(AppSupport(APP), {272: echo})
        port = await server.listen("127.0.0.1", 0)
        client = Node("gw.test", "gw", peers=[DiameterPeer("ocs.test", address="127.0.0.1", port=port)])
        client.register(AppSupport(APP), {})
        client.tc = 0.05
        client.start_outgoing()

        async def opened():
            while "ocs.test" not in client.open:
                await asyncio.sleep(0.01)
            return client.open["ocs.test"]
        first = await asyncio.wait_for(opened(), 5)
        server.open["gw.test"].transport.close()        # the connection fails
        await asyncio.wait_for(first.closed, 5)
        second = await asyncio.wait_for(opened(), 5)     # Tc later: reopened
        assert second is not first
        assert (await client.request(272, APP, ccr(9), host="ocs.test")).u32(415) == 9
        await client.stop(1)
        await server.stop(1)
    asyncio.run(run())
