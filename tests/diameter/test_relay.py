"""The inter-worker relay (relay.py): two worker nodes of one appliance in one run directory, a
real peer connected to worker 0 only, requests from worker 1 delivered through worker 0."""
from __future__ import annotations

import asyncio
import json
import os
import stat

import pytest

from appliance.config import DiameterPeer
from appliance.diameter import codec as c
from appliance.diameter import relay as R
from appliance.diameter.codec import DiameterError
from appliance.diameter.node import Node, Request
from appliance.diameter.peer import AppSupport
from appliance.telemetry import metrics

APP = 4
CMD = 272


class Peer:
    """The real peer (an HSS, a gateway): answers CMD echoing CC-Request-Number, or never when held."""

    def __init__(self) -> None:
        self.node = Node("hss.test", "hss.realm", peers=[DiameterPeer("ocs.test")])
        self.node.register(AppSupport(APP), {CMD: self.on_request})
        self.seen: list[c.Message] = []
        self.hold = asyncio.Event()

    async def on_request(self, req: Request) -> bytes:
        self.seen.append(req.message)
        if req.message.u32(415) == 999:
            await self.hold.wait()
        return req.answer(c.SUCCESS, [c.avp("CC-Request-Number", req.message.u32(415) or 0)])


async def workers(run_dir, long: bool = False):
    """Worker 0 holds the connection to hss.test; worker 1 holds nothing."""
    peer = Peer()
    port = await peer.node.listen("127.0.0.1", 0)
    nodes = []
    for index in (0, 1):
        node = Node("ocs.test", "test", peers=[DiameterPeer("hss.test")], run_dir=str(run_dir))
        node.peer_file = node.peer_file.with_name(f"peers-{os.getpid()}-{index}.json")   # one process here
        node.register(AppSupport(APP), {})
        await R.WorkerRelay(node, run_dir, index).listen()
        node._write_peers()
        nodes.append(node)
    conn = await nodes[0].connect("hss.test", "127.0.0.1", port)
    for _ in range(500):
        if "hss.test" in nodes[0].open or conn.closed.done():
            break
        await asyncio.sleep(0.01)
    assert "hss.test" in nodes[0].open
    return peer, nodes[0], nodes[1]


async def stop(*nodes):
    for n in nodes:
        await n.stop(1)


def ccr(n: int) -> list[bytes]:
    return [c.avp("Session-Id", "ocs.test;1;7"), c.avp("Destination-Realm", "hss.realm"),
            c.avp("Destination-Host", "hss.test"), c.avp("CC-Request-Number", n)]


def put_table(path, table) -> None:
    """As a worker writes its table: a new file renamed over the old one."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(table))
    os.replace(tmp, path)


def count(name: str) -> int:
    return metrics.default().get(name)


def test_request_for_a_peer_of_the_other_worker_is_relayed(tmp_path):
    async def go():
        peer, w0, w1 = await workers(tmp_path)
        try:
            assert "hss.test" not in w1.open
            links, relayed = count("diameter.relay.links.opened"), count("diameter.relay.answers")
            answers = await asyncio.gather(*(w1.request(CMD, APP, ccr(i), host="hss.test") for i in range(40)))
            assert [a.u32(415) for a in answers] == list(range(40))          # each answer to its request
            assert all(a.result_code == c.SUCCESS and a.text(c.ORIGIN_HOST) == "hss.test" for a in answers)
            assert count("diameter.relay.links.opened") == links + 1           # one link, reused
            assert count("diameter.relay.answers") == relayed + 40
            # on the wire to the peer: exactly what worker 1 would have sent itself, but a hop-by-hop id
            # of worker 0's connection; the answer came back with the same end-to-end id
            by_number = {m.u32(415): m for m in peer.seen}
            for a in answers:
                seen = by_number[a.u32(415)]
                assert seen.e2e == a.e2e
                assert seen.raw == c.encode(CMD, APP, c.FLAG_R | c.FLAG_P, seen.hbh, a.e2e,
                                            [ccr(0)[0], c.encode_avp(c.ORIGIN_HOST, "ocs.test"),
                                             c.encode_avp(c.ORIGIN_REALM, "test"), *ccr(a.u32(415))[1:]])
                assert all(x.vendor != R.RELAY_VENDOR for x in seen.avps)
            assert len({m.hbh for m in peer.seen}) == 40
            # realm routing: no host, a peer of the realm with the application
            ans = await w1.request(CMD, APP, ccr(41)[:2] + ccr(41)[3:], realm="hss.realm")
            assert ans.u32(415) == 41 and ans.result_code == c.SUCCESS
            table = json.loads(w0.peer_file.read_text())
            assert table["worker"] == 0 and table["relay"] == str(tmp_path / "diameter" / "worker-0.sock")
            w0._write_peers()
            row = json.loads(w0.peer_file.read_text())["peers"][0]
            assert row["requests_out"] == 41 and row["answers_in"] == 41     # counted on the holder's peer
            assert stat.S_IMODE(os.stat(tmp_path / "diameter" / "worker-1.sock").st_mode) == 0o600
        finally:
            await stop(w1, w0, peer.node)
        assert not (tmp_path / "diameter" / "worker-0.sock").exists()         # a clean stop removes it
    asyncio.run(asyncio.wait_for(go(), 60))


def test_no_answer_in_time_is_3002_and_leaves_nothing_pending(tmp_path):
    async def go():
        peer, w0, w1 = await workers(tmp_path)
        try:
            failures = count("diameter.relay.failures")
            with pytest.raises(DiameterError) as err:
                await w1.request(CMD, APP, ccr(999), host="hss.test", timeout=0.5)
            assert err.value.result_code == c.UNABLE_TO_DELIVER and "relay" in str(err.value.message)
            assert count("diameter.relay.failures") == failures + 1
            peer.hold.set()
            for _ in range(200):                       # the holder's wait ended: nothing left pending
                if not w0.open["hss.test"].pending and not w0.tasks:
                    break
                await asyncio.sleep(0.01)
            assert not w0.open["hss.test"].pending
            ans = await w1.request(CMD, APP, ccr(5), host="hss.test")   # the link still works
            assert ans.u32(415) == 5
        finally:
            await stop(w1, w0, peer.node)
    asyncio.run(asyncio.wait_for(go(), 60))


def test_holder_gone_or_without_the_peer_is_3002(tmp_path):
    async def go():
        peer, w0, w1 = await workers(tmp_path)
        try:
            assert (await w1.request(CMD, APP, ccr(1), host="hss.test")).u32(415) == 1
            # a table claiming a peer worker 0 does not hold: worker 0 answers 3002, raised as before
            ghost = {"pid": os.getpid(), "worker": 7, "relay": str(w0.relay.path), "updated": 1,
                     "peers": [{"host": "ghost.test", "realm": "x", "state": "open", "apps": [APP]}]}
            put_table(tmp_path / "diameter" / "peers-ghost.json", ghost)
            with pytest.raises(DiameterError) as err:
                await w1.request(CMD, APP, ccr(2), host="ghost.test")
            assert err.value.result_code == c.UNABLE_TO_DELIVER and "not connected to worker 0" in err.value.message
            # a dead worker's table is ignored: no route, 3002 as a single worker gives
            put_table(tmp_path / "diameter" / "peers-ghost.json", {**ghost, "pid": 2 ** 22 + 1})
            with pytest.raises(DiameterError) as err:
                await w1.request(CMD, APP, ccr(3), host="ghost.test")
            assert err.value.result_code == c.UNABLE_TO_DELIVER and "no connection" in err.value.message
            # the link drops while a request waits at the holder
            pending = asyncio.ensure_future(w1.request(CMD, APP, ccr(999), host="hss.test", timeout=20))
            for _ in range(500):
                if any(m.u32(415) == 999 for m in peer.seen):
                    break
                await asyncio.sleep(0.01)
            for link in list(w0.relay.inbound):
                link.transport.close()
            with pytest.raises(DiameterError) as err:
                await pending
            assert err.value.result_code == c.UNABLE_TO_DELIVER
            # worker 0's socket is gone (the table still names it): 3002
            await w0.relay.close()
            with pytest.raises(DiameterError) as err:
                await w1.request(CMD, APP, ccr(4), host="hss.test", timeout=2)
            assert err.value.result_code == c.UNABLE_TO_DELIVER
            peer.hold.set()
        finally:
            await stop(w1, w0, peer.node)
    asyncio.run(asyncio.wait_for(go(), 60))


def test_a_node_without_relay_or_other_workers_answers_3002_as_before(tmp_path):
    async def go():
        alone = Node("ocs.test", "test", run_dir=str(tmp_path))
        await R.WorkerRelay(alone, tmp_path, 0).listen()
        bare = Node("ocs.test", "test")
        for node in (alone, bare):
            with pytest.raises(DiameterError) as err:
                await node.request(CMD, APP, ccr(1), host="hss.test")
            assert err.value.result_code == c.UNABLE_TO_DELIVER and err.value.message == "no connection to hss.test"
        await alone.stop(1)
    asyncio.run(asyncio.wait_for(go(), 60))


def test_socket_path_too_long_for_sun_path(tmp_path):
    deep = tmp_path / ("r" * 60) / ("u" * 60)
    assert len(str(deep / "diameter" / "worker-0.sock")) > R.SUN_PATH_MAX

    async def go():
        peer, w0, w1 = await workers(deep)
        try:
            assert (await w1.request(CMD, APP, ccr(8), host="hss.test")).u32(415) == 8
        finally:
            await stop(w1, w0, peer.node)
    asyncio.run(asyncio.wait_for(go(), 60))


def test_relay_avps_lead_the_request_on_the_link_and_are_stripped():
    body = [c.avp("Session-Id", "s;1"), c.avp("CC-Request-Number", 3)]
    plain = c.encode(CMD, APP, c.FLAG_R, 1, 2, body)
    wire, extra = R.strip_relay_avps(c.encode(CMD, APP, c.FLAG_R, 1, 2, [R.relay_avps("hss.test", 1.5), *body]))
    assert wire == plain and extra[R.TARGET_HOST] == b"hss.test"
    assert int.from_bytes(extra[R.TIME_LEFT_MS], "big") == 1500
    with pytest.raises(ValueError):
        R.strip_relay_avps(plain)                                   # not from a worker's relay
    with pytest.raises(ValueError):
        R.strip_relay_avps(c.encode(CMD, APP, c.FLAG_R, 1, 2, [R.relay_avps("h", 1)])[:-4])     # cut short
