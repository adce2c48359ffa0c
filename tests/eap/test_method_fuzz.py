"""Random and truncated method payloads never raise out of TTLS, PEAP, EAP-TLS or pwd (they fail the conversation)."""
from __future__ import annotations

import asyncio
import random

import pytest

from appliance.eap import Conversation, MemoryLookup, MethodContext, Policy, load_methods
from appliance.eap.framework import Accept, Ignore, Reject, Send
from appliance.eap.packet import Code, decode, encode


@pytest.fixture(scope="module")
def ttls_context(tmp_path_factory):
    from appliance.config import Config
    from appliance.eap import ttls
    from appliance.tls import ensure_certificate
    tmp = tmp_path_factory.mktemp("tls")
    cert, key = ensure_certificate(Config(data_dir=str(tmp), base_dir=str(tmp)))
    return ttls.server_context(str(cert), str(key))


@pytest.mark.parametrize("method", [21, 25, 13, 52])
def test_random_payloads(method, ttls_context):
    load_methods()
    rng = random.Random(method)

    async def run() -> dict[str, int]:
        seen: dict[str, int] = {}
        for _ in range(150):
            ctx = MethodContext(MemoryLookup.with_password("alice@wlan", "pw"),
                                options={"ttls": ttls_context, "peap": ttls_context, "tls": ttls_context,
                                         "mtu": 200})
            conv = Conversation(Policy((method,)), ctx)
            out = await conv.receive(encode(Code.RESPONSE, 1, 1, b"alice@wlan"))
            for _round in range(rng.randrange(1, 5)):
                assert isinstance(out, Send)
                ident = decode(out.packet).identifier
                kind = rng.randrange(4)
                if kind == 0:
                    data = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 40)))
                elif kind == 1:
                    flags = rng.choice([0x80, 0xC0, 0x40, 0x01, 0x02, 0x03])
                    data = bytes([flags]) + rng.randbytes(rng.randrange(0, 8))
                elif kind == 2:
                    data = b"\x16\x03\x01" + rng.randbytes(rng.randrange(0, 300))
                else:
                    data = bytes([0x82]) + (65000).to_bytes(2, "big") + rng.randbytes(20)
                out = await conv.receive(encode(Code.RESPONSE, ident, method, data))
                seen[type(out).__name__] = seen.get(type(out).__name__, 0) + 1
                if not isinstance(out, Send):
                    break
            assert isinstance(out, (Send, Reject, Ignore, Accept)) and not isinstance(out, Accept)
        return seen
    seen = asyncio.run(run())
    assert seen.get("Reject", 0) > 0
