"""Diameter over TLS/TCP (RFC 6733 §2.1, §13): server certificate, and mutual TLS with tls_ca."""
from __future__ import annotations

import asyncio
import dataclasses
import ssl

import pytest

from appliance.config import Config, DiameterConfig, DiameterPeer, NodeConfig
from appliance.diameter import codec as c
from appliance.diameter.client import CreditControlClient
from appliance.diameter.node import Node
from appliance.diameter.peer import AppSupport
from appliance.diameter.worker import server_tls_context
from appliance.tls import ensure_certificate


async def echo(req):
    return req.answer(c.SUCCESS)


def client_pair(tmp_path):
    other = Config(data_dir=str(tmp_path / "client"), base_dir=str(tmp_path), node=NodeConfig(host="gw.test"))
    return ensure_certificate(other)


@pytest.mark.parametrize("mutual", [False, True])
def test_ccr_over_tls(cfg, tmp_path, mutual):
    client_cert, client_key = client_pair(tmp_path)
    d = DiameterConfig(peers=(DiameterPeer("gw.test"),), tls_ca=str(client_cert) if mutual else "")
    conf = dataclasses.replace(cfg, diameter=d)
    server_cert, _ = ensure_certificate(conf)

    async def run():
        node = Node(conf.node.host, conf.node.realm, peers=d.peers)
        node.register(AppSupport(4), {272: echo})
        port = await node.listen_tls("127.0.0.1", 0, server_tls_context(conf))
        ctx = ssl.create_default_context(cafile=str(server_cert))
        if mutual:   # without a client certificate the server refuses the handshake
            cl = CreditControlClient("gw.test", "gw")
            with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
                await cl.connect("127.0.0.1", port, 5, ctx, conf.node.host)
                await cl.send([c.avp("Session-Id", "gw.test;1;1"), c.avp("Destination-Realm", conf.node.realm)])
            await cl.close()
            ctx.load_cert_chain(str(client_cert), str(client_key))
        cl = CreditControlClient("gw.test", "gw")
        assert await cl.connect("127.0.0.1", port, 5, ctx, conf.node.host) == conf.node.host
        conn = cl.node.open[conf.node.host]
        assert conn.transport.get_extra_info("ssl_object") is not None
        ans = await cl.send([c.avp("Session-Id", "gw.test;1;1"), c.avp("Destination-Realm", conf.node.realm)])
        assert ans.result_code == c.SUCCESS
        await cl.close()
        await node.stop(1)
    asyncio.run(asyncio.wait_for(run(), 30))
