"""Start-up of the ledger role: ``appliance run ledger`` until its socket listens, its CPU and RSS then.

Two variants alternated in one run (a ratio to the same-run reference): the ledger as built, and the
same process with the REST modules' HTTP side imported first (``appliance.rest.wallet``, ``quota``,
``nrf``, ``resources``: aiohttp and what the ledger imported before its REST transaction functions
moved to modules without aiohttp).  Each start has a fresh run directory over an initialised store.

    .venv/bin/python benchmarks/ledger_start.py --rounds 4
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

RUN = ("import runpy, sys; sys.argv = ['appliance', 'run', 'ledger']; "
       "runpy.run_module('appliance', run_name='__main__', alter_sys=True)")
VARIANTS = {"with the REST HTTP side imported": "import appliance.rest.wallet, appliance.rest.quota, "
                                                "appliance.rest.nrf, appliance.rest.resources; " + RUN,
            "as built": RUN}
TICK = os.sysconf("SC_CLK_TCK")


def start(code: str) -> tuple[float, float, float]:
    """(seconds to listening, CPU seconds, RSS MB) of one ledger start."""
    d = tempfile.mkdtemp(prefix="ledger-start-")
    conf = os.path.join(d, "appliance.yaml")
    with open(conf, "w") as fh:
        json.dump({"data_dir": d + "/data", "run_dir": d + "/run", "log_dir": d + "/logs",
                   "processes": {"ledger": 1}}, fh)
    env = dict(os.environ, APPLIANCE_CONFIG=conf)
    subprocess.run([sys.executable, "-m", "appliance", "init"], env=env, capture_output=True, check=True, timeout=60)
    sock = os.path.join(d, "run", "ledger.sock")
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = t0 + 60
        while not os.path.exists(sock):
            if time.perf_counter() > deadline or p.poll() is not None:
                raise SystemExit("the ledger did not start")
            time.sleep(0.002)
        wall = time.perf_counter() - t0
        time.sleep(0.2)
        with open(f"/proc/{p.pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / TICK
        with open(f"/proc/{p.pid}/status") as fh:
            rss = next(int(line.split()[1]) for line in fh if line.startswith("VmRSS")) / 1024
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(15)
    return wall, cpu, rss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=4)
    args = ap.parse_args()
    for rnd in range(args.rounds):
        ref = None
        for name, code in VARIANTS.items():
            wall, cpu, rss = start(code)
            ref = ref or (cpu, rss)
            print(f"round {rnd} {name:34s} listening {wall * 1000:5.0f} ms  CPU {cpu * 1000:4.0f} ms "
                  f"({cpu / ref[0]:.2f})  RSS {rss:5.1f} MB ({rss / ref[1]:.2f})  load {os.getloadavg()[0]:.1f}",
                  flush=True)


if __name__ == "__main__":
    main()
