"""The floor of a Python RADIUS server on this machine: two uvloop UDP processes on one SO_REUSEPORT
port (the same BPF spread as the appliance's workers), each answering a datagram with itself and
nothing else, driven by radius_load.py's client (one socket, 32 in flight).  Its CPU per datagram
is what no work in the endpoint can remove; its rate is the load client's ceiling.

    .venv/bin/python benchmarks/udp_floor.py
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
sys.path.insert(0, ROOT)

import radius_load as rl  # noqa: E402

SERVER = r'''
import asyncio, socket, sys
import uvloop
sys.path.insert(0, sys.argv[2])
from appliance.radius.server import reuseport_socket, spread_datagrams

class Echo(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.transport.sendto(data, addr)

async def main():
    sock = reuseport_socket(socket.AF_INET, "127.0.0.1", int(sys.argv[1]))
    spread_datagrams(sock, 2)
    await asyncio.get_running_loop().create_datagram_endpoint(Echo, sock=sock)
    await asyncio.Event().wait()

uvloop.install()
asyncio.run(main())
'''


def main() -> None:
    port = rl.free_udp_port()
    procs = [subprocess.Popen([sys.executable, "-c", SERVER, str(port), ROOT]) for _ in range(2)]
    time.sleep(1.5)
    rl.USERS, rl.LANES = 1000, 1
    try:
        rl.pap_phase(port, 2000, 32)
        for _ in range(3):
            res = rl.measured_pap([p.pid for p in procs], port, 20000, 32, 1)
            print(f"echo floor: {res['rate']:.0f}/s, server CPU {res['cpu_us']:.1f} us/datagram "
                  f"(user {res['user_us']:.1f}, sys {res['sys_us']:.1f})")
    finally:
        rl.stop(procs)


if __name__ == "__main__":
    main()
