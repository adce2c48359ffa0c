"""Per-peer per-command counts (the peer table's ``by_command``), dropped requests, refused peers reported.

What the SNMP agent serves as DIAMETER-BASE-PROTOCOL-MIB CER/DWR/DPR counters,
DIAMETER-CC-APPLICATION-MIB per-peer CCR/CCA/RAR/RAA counters and OCS-APPLIANCE-MIB
ocsAppRequestsDropped / ocsUnknownClient.
"""
from __future__ import annotations

import asyncio
import json

import pytest

from appliance.config import DiameterPeer
from appliance.diameter import codec as c
from appliance.diameter.events import MessageRejected
from appliance.diameter.node import Node
from appliance.diameter.peer import ANS_DROPPED, MAX_COMMANDS, REQ_DROPPED, AppSupport, State, command_slots
from appliance.telemetry import events, metrics
from tests.diameter.test_node import APP, ccr, echo, start_pair
from tests.diameter.test_peer import drain, pair, shuttle


def by_command(table_row):
    return {int(k): v for k, v in table_row["by_command"].items()}


def test_sans_io_counts_base_commands_both_ways():
    cl, s = pair()
    assert cl.counts == {257: [0, 0, 1, 1, 0, 0]}          # CER out, CEA in
    assert s.counts == {257: [1, 1, 0, 0, 0, 0]}           # CER in, CEA out
    cl._send_dwr(1.0)
    shuttle(cl, s, 1.0)
    s.disconnect(2.0)
    shuttle(cl, s, 2.0)
    assert s.state is State.CLOSED and cl.state is State.CLOSED
    assert cl.counts[280] == [0, 0, 1, 1, 0, 0] and s.counts[280] == [1, 1, 0, 0, 0, 0]
    assert cl.counts[282] == [1, 1, 0, 0, 0, 0] and s.counts[282] == [0, 0, 1, 1, 0, 0]


def test_unmatched_dwa_is_a_dropped_answer():
    _cl, s = pair()
    s.receive(c.encode(280, 0, 0, 4242, 4242, [c.avp("Result-Code", 2001), c.avp("Origin-Host", "gw.test"),
                                                c.avp("Origin-Realm", "test")]), 1.0)
    assert s.counts[280][ANS_DROPPED] == 1 and s.state is State.OPEN


def test_command_table_is_bounded():
    table: dict[int, list[int]] = {}
    for code in range(1000, 1000 + 3 * MAX_COMMANDS):
        command_slots(table, code)[0] += 1
    assert len(table) == MAX_COMMANDS + 1                     # the first 64 codes, and 0 for the rest
    assert sum(v[0] for v in table.values()) == 3 * MAX_COMMANDS
    assert table[0][0] == 2 * MAX_COMMANDS


def test_peer_table_has_per_command_counts_on_both_sides(tmp_path):
    async def run():
        server, client, _port = await start_pair(tmp_path)
        try:
            answers = await asyncio.gather(*(client.request(272, APP, ccr(i), host="ocs.test") for i in range(7)))
            assert all(a.result_code == c.SUCCESS for a in answers)
            for _ in range(2):      # server -> client RAR; the client has no handler and answers 3001
                ans = await server.request(258, APP, [c.avp("Session-Id", "ocs.test;1;2")], host="gw.test")
                assert ans.result_code == c.COMMAND_UNSUPPORTED
            server._write_peers()
            (row,) = json.loads(next((tmp_path / "diameter").glob("peers-*.json")).read_text())["peers"]
            assert row["host"] == "gw.test" and row["requests_in"] == 7 and row["answers_out"] == 7
            assert by_command(row) == {257: [1, 1, 0, 0, 0, 0], 272: [7, 7, 0, 0, 0, 0], 258: [0, 0, 2, 2, 0, 0]}
            (crow,) = client.peer_table()
            assert by_command(crow) == {257: [0, 0, 1, 1, 0, 0], 272: [0, 0, 7, 7, 0, 0], 258: [2, 2, 0, 0, 0, 0]}
        finally:
            await client.stop(1)
            await server.stop(1)
    asyncio.run(asyncio.wait_for(run(), 60))


def test_answer_for_a_vanished_connection_is_a_dropped_request(tmp_path):
    async def run():
        server, client, _port = await start_pair(tmp_path)
        release = asyncio.Event()
        arrived = asyncio.Event()

        async def slow(req):
            arrived.set()
            await release.wait()
            return req.answer(c.SUCCESS)
        server.handlers[(APP, 272)] = slow
        sconn = server.open["gw.test"]
        before = metrics.default().get("diameter.ro.requests.dropped")
        pending = asyncio.ensure_future(client.request(272, APP, ccr(1), host="ocs.test", timeout=30))
        await asyncio.wait_for(arrived.wait(), 10)
        client.open["ocs.test"].transport.abort()          # the peer goes away before the answer
        await asyncio.wait_for(sconn.closed, 10)
        release.set()
        for _ in range(500):
            if sconn.record.by_command[272][REQ_DROPPED]:
                break
            await asyncio.sleep(0.01)
        assert sconn.record.by_command[272][REQ_DROPPED] == 1
        assert sconn.record.by_command[272][1] == 0           # no answer counted as sent
        assert metrics.default().get("diameter.ro.requests.dropped") == before + 1
        with pytest.raises(ConnectionError):
            await pending
        await client.stop(1)
        await server.stop(1)
    asyncio.run(asyncio.wait_for(run(), 60))


def test_requests_dropped_before_capabilities_exchange_and_on_framing_errors():
    async def run():
        server = Node("ocs.test", "test", peers=[DiameterPeer("gw.test")])
        server.register(AppSupport(APP), {272: echo})
        port = await server.listen("127.0.0.1", 0)
        before = metrics.default().get("diameter.ro.requests.dropped")
        malformed = metrics.default().get("diameter.malformed.dropped")
        # a CCR before any CER: no answer, connection closed (RFC 6733 §5.6)
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(c.encode(272, APP, c.FLAG_R, 1, 1, ccr(1)))
        assert await asyncio.wait_for(r.read(), 10) == b""
        w.close()
        # a request header whose length cannot frame a message: no answer either
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(bytes([1, 0, 0, 8, c.FLAG_R, 0, 1, 16]) + APP.to_bytes(4, "big") + bytes(8))
        assert await asyncio.wait_for(r.read(), 10) == b""
        w.close()
        # an answer with a bad length is malformed but not a dropped request
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(bytes([1, 0, 0, 8, 0, 0, 1, 16]) + APP.to_bytes(4, "big") + bytes(8))
        assert await asyncio.wait_for(r.read(), 10) == b""
        w.close()
        for _ in range(500):
            if metrics.default().get("diameter.malformed.dropped") >= malformed + 3:
                break
            await asyncio.sleep(0.01)
        assert metrics.default().get("diameter.malformed.dropped") == malformed + 3
        assert metrics.default().get("diameter.ro.requests.dropped") == before + 2
        await server.stop(1)
    asyncio.run(asyncio.wait_for(run(), 60))


def test_sans_io_rejects_name_the_dropped_request():
    from appliance.diameter.peer import PeerConnection
    from tests.diameter.test_peer import SERVER
    s = PeerConnection(SERVER, False, 0, 30)
    s.receive(c.encode(272, 4, c.FLAG_R, 1, 1, [c.avp("Session-Id", "x")]), 0)
    rejected = [e for e in drain(s) if isinstance(e, MessageRejected)]
    assert [(e.request_app, e.command) for e in rejected] == [(4, 272)]
    s = PeerConnection(SERVER, False, 0, 30)
    s.receive(c.encode(272, 4, 0, 1, 1, [c.avp("Session-Id", "x")]), 0)     # an answer: nothing dropped
    assert [e.request_app for e in drain(s) if isinstance(e, MessageRejected)] == [None]


def test_refused_peer_is_reported_as_unknown_client(tmp_path, monkeypatch):
    monkeypatch.setattr(events, "_last", {})
    previous = metrics.default()
    metrics.open_process_counters(tmp_path / "run", "diameter0")
    try:
        async def run():
            server = Node("ocs.test", "test", peers=[DiameterPeer("gw.test")], accept_realms=["ims.test"])
            server.register(AppSupport(APP), {272: echo})
            port = await server.listen("127.0.0.1", 0)
            for host, realm in (("gw.test", "any"), ("pcef.ims", "ims.test"), ("stranger", "elsewhere"),
                                ("stranger2", "elsewhere")):
                client = Node(host, realm)
                client.register(AppSupport(APP), {})
                conn = await client.connect("ocs.test", "127.0.0.1", port)
                for _ in range(500):
                    if client.open or conn.closed.done():
                        break
                    await asyncio.sleep(0.01)
                assert bool(client.open) == (host != "stranger" and host != "stranger2"), host
                await client.stop(1)
            await server.stop(1)
        asyncio.run(asyncio.wait_for(run(), 60))
        files = list((tmp_path / "run" / "snmp").glob("events-*.jsonl"))
        lines = [json.loads(line) for f in files for line in f.read_text().splitlines()]
        # one event: the second stranger comes from the same address within the minute
        assert [(e["event"], e["protocol"], e["address"], e["identity"]) for e in lines] == [
            ("unknown_client", "diameter", "127.0.0.1", "stranger")]
        assert metrics.default().get("diameter.peers.refused") == 2
    finally:
        metrics._default = previous
