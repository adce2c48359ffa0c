"""One "appliance node" for the two-node tests: the core's Charging on a PostgreSQL store, in its own process.

usage: node.py DSN NAME          commands on stdin, one JSON object per line; answers on stdout, one per line
  {"op": "charge", "id": N, "imsi": I, "sid": S, "action": "START|UPDATE|STOP", "key": K,
   "requested": R|null, "used": U}            -> {"id": N, "key": K, "outcome": ..., "granted": ..., "charged": ...,
                                                   "unpaid": ..., "duplicate": ...}
  {"op": "load", "imsis": [...], "sessions": N, "concurrency": C}
      self-generated sessions START -> UPDATE -> STOP (used <= granted); every acknowledged request is
      printed as {"key": K, "sid": S, "imsi": I, "action": A, "charged": C, "granted": G} the moment it is acked.
Requests are served concurrently (one asyncio task each).  EOF on stdin: finish in-flight work, print
{"done": NAME, "conflicts": N} and exit 0.
"""
from __future__ import annotations

import asyncio
import json
import random
import sys

from appliance.ocs.charging import Charging
from appliance.ocs.rating import Action, ChargeRequest, ChargingPolicy, UsageItem
from appliance.ocs.units import Unit
from appliance.store.postgres import PostgresStore

MB = 1_000_000
POLICY = ChargingPolicy({Unit.OCTETS: MB}, validity=600, grace=60)


def emit(doc: dict) -> None:
    sys.stdout.write(json.dumps(doc, separators=(",", ":")) + "\n")
    sys.stdout.flush()


async def charge(charging: Charging, imsi: str, sid: str, action: Action, key: str,
                 requested: int | None, used: int) -> dict:
    r = await charging.acharge(ChargeRequest(imsi, sid, action, (UsageItem(Unit.OCTETS, requested=requested,
                                                                           used=used),), request_key=key))
    item = r.items[0] if r.items else None
    return {"key": key, "outcome": r.outcome.name, "duplicate": r.duplicate,
            "granted": item.granted if item else 0, "charged": item.charged if item else 0,
            "unpaid": item.unpaid if item else 0}


async def load(charging: Charging, name: str, imsis: list[str], sessions: int, concurrency: int) -> None:
    todo = iter(range(sessions))
    rnd = random.Random(name)

    async def worker() -> None:
        for n in todo:
            imsi = imsis[n % len(imsis)]
            sid = f"{name}-{n}"
            granted, number = 0, 0
            for action in (Action.START, Action.UPDATE, Action.STOP):
                used = rnd.randint(0, granted) if action is not Action.START else 0
                requested = None if action is Action.STOP else MB
                a = await charge(charging, imsi, sid, action, f"{sid}:{number}", requested, used)
                emit({**a, "sid": sid, "imsi": imsi, "action": action.name})
                number += 1
                granted = a["granted"]
                if a["outcome"] != "SUCCESS" or (granted == 0 and action is Action.START):
                    break

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def main() -> int:
    dsn, name = sys.argv[1], sys.argv[2]
    store = PostgresStore(dsn, pool_size=4)
    charging = Charging(store, POLICY)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    tasks: set[asyncio.Task] = set()

    async def serve(cmd: dict) -> None:
        if cmd["op"] == "charge":
            a = await charge(charging, cmd["imsi"], cmd["sid"], Action[cmd["action"]], cmd["key"],
                             cmd.get("requested"), cmd.get("used", 0))
            emit({"id": cmd["id"], **a})
        elif cmd["op"] == "load":
            await load(charging, name, cmd["imsis"], cmd["sessions"], cmd["concurrency"])

    while line := await reader.readline():
        task = asyncio.create_task(serve(json.loads(line)))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)
    emit({"done": name, "conflicts": store.conflicts})
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
