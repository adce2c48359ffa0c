#!/usr/bin/env python3
"""Server-side cost of one EAP-pwd authentication (RFC 5931, group 19), socket-free.

Drives ``PwdMethod`` directly (ID -> Commit -> Confirm -> Success) against an in-process peer and
times only the server's calls; also times ``password_element`` alone (the hunting-and-pecking
loop, fixed at >= 40 iterations since the RFC 8146 countermeasure).

usage: benchmarks/eap_pwd.py [--auths 50] [--seconds 30]
Bounded by --auths and --seconds.  The machine is shared: numbers are noisy (±40 %).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from appliance.eap import p256
from appliance.eap.credentials import MemoryLookup
from appliance.eap.framework import MethodContext, Request, Success
from appliance.eap.packet import EapPacket
from appliance.eap.pwd import CIPHERSUITE, EXCH_COMMIT, EXCH_CONFIRM, EXCH_ID, PwdMethod, h, password_element

IDENTITY, PASSWORD = "bench@wlan", "bench-password"


def response(data: bytes) -> EapPacket:
    return EapPacket(code=2, identifier=0, type=52, data=data, raw=b"")


async def one_auth() -> float:
    """One full authentication; returns the seconds spent inside the server method."""
    method = PwdMethod(MethodContext(lookup=MemoryLookup.with_password(IDENTITY, PASSWORD), server_id="bench"))
    spent = 0.0
    t = time.perf_counter()
    step = await method.start(IDENTITY, 1)
    spent += time.perf_counter() - t
    assert isinstance(step, Request)
    offer = step.data[1:]
    token, server_id = offer[4:8], offer[9:]
    t = time.perf_counter()
    step = await method.process(response(bytes([EXCH_ID]) + offer[:9] + IDENTITY.encode()), 2)
    spent += time.perf_counter() - t
    assert isinstance(step, Request)
    element_s, scalar_s = p256.decode(step.data[1:65]), int.from_bytes(step.data[65:97], "big")
    pwe = password_element(token, IDENTITY.encode(), server_id, PASSWORD.encode())
    rand, mask = 2 + int.from_bytes(os.urandom(31), "big"), 2 + int.from_bytes(os.urandom(31), "big")
    scalar_p, element_p = (rand + mask) % p256.R, p256.neg(p256.mul(mask, pwe))
    t = time.perf_counter()
    step = await method.process(response(bytes([EXCH_COMMIT]) + p256.encode(element_p)
                                          + scalar_p.to_bytes(32, "big")), 3)
    spent += time.perf_counter() - t
    assert isinstance(step, Request)
    ks = p256.mul(rand, p256.add(p256.mul(scalar_s, pwe), element_s))[0].to_bytes(32, "big")
    confirm_p = h(ks, p256.encode(element_p), scalar_p.to_bytes(32, "big"), p256.encode(element_s),
                  scalar_s.to_bytes(32, "big"), CIPHERSUITE)
    t = time.perf_counter()
    step = await method.process(response(bytes([EXCH_CONFIRM]) + confirm_p), 4)
    spent += time.perf_counter() - t
    assert isinstance(step, Success), step
    return spent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--auths", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=30.0)
    args = ap.parse_args()
    deadline = time.monotonic() + args.seconds
    auths: list[float] = []
    while len(auths) < args.auths and time.monotonic() < deadline:
        auths.append(asyncio.run(one_auth()))
    pwes: list[float] = []
    while len(pwes) < args.auths and time.monotonic() < deadline + args.seconds / 2:
        t = time.perf_counter()
        password_element(os.urandom(4), IDENTITY.encode(), b"bench", PASSWORD.encode())
        pwes.append(time.perf_counter() - t)

    def ms(xs: list[float], q: float) -> float:
        return sorted(xs)[min(len(xs) - 1, int(q * len(xs)))] * 1000

    print(f"EAP-pwd server side: {len(auths)} authentications, p50 {ms(auths, 0.5):.1f} ms, "
          f"p99 {ms(auths, 0.99):.1f} ms, mean {statistics.mean(auths) * 1000:.1f} ms")
    print(f"password_element alone: {len(pwes)} runs, p50 {ms(pwes, 0.5):.1f} ms, "
          f"p99 {ms(pwes, 0.99):.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
