"""Load worker for the concurrency and crash tests (run as a separate OS process).

usage: hammer.py BACKEND TARGET MODE ...   BACKEND sqlite|postgres, TARGET file path or DSN
  threads NAME THREADS SECONDS MAX   : prints READY, waits for GO on stdin, then THREADS threads each run
                                       START/STOP sessions until the money bucket is dry (bounded by
                                       SECONDS and MAX sessions per thread); prints the totals (JSON)
  async   NAME CONCURRENCY COUNT     : asyncio sessions; prints "ACK key charged" after each ack
"""
from __future__ import annotations

import asyncio
import itertools
import json
import random
import sys
import threading
import time

from appliance.config import Config, DatabaseConfig
from appliance.ocs.charging import Charging
from appliance.ocs.rating import Action, ChargeRequest, ChargingPolicy, Outcome, UsageItem
from appliance.ocs.units import Unit
from appliance.store import open_store

IMSI = "001010000000001"
MB = 1_000_000
BLOCK_PRICE = 20_000      # one started MB (tests/conftest.py DATA_OFFER)
POLICY = ChargingPolicy({Unit.OCTETS: 0}, 600, 60)


def open_backend(backend: str, target: str):
    if backend == "postgres":
        cfg = Config(database=DatabaseConfig(backend="postgres", dsn=target))
    else:
        cfg = Config(database=DatabaseConfig(path=target), base_dir="/")
    return open_store(cfg)


def dry(charging: Charging) -> bool:
    """No START can succeed again: the money left, held or not, pays for less than one block.
    (Money only ever leaves the bucket, so once dry it stays dry.)"""
    bal = charging.balance(IMSI)
    assert bal is not None
    return bal.totals.get("money", 0) + bal.reserved.get("money", 0) < BLOCK_PRICE


def run_threads(charging: Charging, name: str, threads: int, seconds: float, max_sessions: int) -> dict:
    totals = {"charged": 0, "sessions": 0, "refused": 0, "unpaid": 0, "dry": 0}
    lock = threading.Lock()

    def worker(t: int) -> None:
        rnd = random.Random(t)
        sessions = 0
        for n in itertools.count():
            if sessions >= max_sessions or time.monotonic() > deadline:
                break
            sid = f"{name}-{t}-{n}"
            r = charging.charge(ChargeRequest(IMSI, sid, Action.START, (UsageItem(Unit.OCTETS, requested=MB),),
                                              request_key=f"{sid}:0"))
            if r.items[0].outcome is not Outcome.SUCCESS:
                with lock:
                    totals["refused"] += 1
                if dry(charging):
                    with lock:
                        totals["dry"] += 1
                    break
                time.sleep(0.002)          # the money is held by other sessions: let one of them finish
                continue
            sessions += 1
            used = rnd.choice((0, 300_000, MB))
            s = charging.charge(ChargeRequest(IMSI, sid, Action.STOP, (UsageItem(Unit.OCTETS, used=used),),
                                              request_key=f"{sid}:1"))
            with lock:
                totals["charged"] += s.items[0].charged
                totals["unpaid"] += s.items[0].unpaid
                totals["sessions"] += 1

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    print("READY", flush=True)             # the store is open: start together with the other process
    if sys.stdin.readline().strip() != "GO":
        raise SystemExit("no GO on stdin")
    deadline = time.monotonic() + seconds
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    return totals


async def run_async(charging: Charging, name: str, concurrency: int, count: int) -> None:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            sid = f"{name}-{i}"
            r = await charging.acharge(ChargeRequest(IMSI, sid, Action.START,
                                                     (UsageItem(Unit.OCTETS, requested=MB),), request_key=f"{sid}:0"))
            print(f"ACK {sid}:0 {r.items[0].charged} {r.items[0].granted}", flush=True)
            if i % 3 == 0:
                continue  # leave this session's reservation open
            s = await charging.acharge(ChargeRequest(IMSI, sid, Action.STOP,
                                                     (UsageItem(Unit.OCTETS, used=MB // 2),), request_key=f"{sid}:1"))
            print(f"ACK {sid}:1 {s.items[0].charged} 0", flush=True)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


def main() -> None:
    backend, target, mode, name = sys.argv[1:5]
    store = open_backend(backend, target)
    charging = Charging(store, POLICY)
    if mode == "threads":
        totals = run_threads(charging, name, int(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7]))
        print(json.dumps(totals), flush=True)
    else:
        asyncio.run(run_async(charging, name, int(sys.argv[5]), int(sys.argv[6])))
    store.close()


if __name__ == "__main__":
    main()
