"""The ledger role answers reads (balance, authorize) from the store's read path at once: a read is
never queued behind a batch of writes (here the writer is held inside a transaction)."""
from __future__ import annotations

import asyncio
import threading

from appliance.config import Config, DatabaseConfig
from appliance.ledger import protocol
from appliance.ledger.server import LedgerServer
from appliance.ocs.rating import ChargingPolicy
from appliance.store import open_store
from tests.conftest import seed

IMSI = "001010000000001"


class Conn:
    def __init__(self) -> None:
        self.sent: list[tuple] = []

    def send(self, payload: bytes) -> None:
        self.sent.extend(protocol.unframe(bytearray(payload)))


def test_reads_are_answered_while_the_writer_is_busy(tmp_path):
    cfg = Config(data_dir=str(tmp_path), run_dir=str(tmp_path / "run"), log_dir=str(tmp_path / "logs"),
                 database=DatabaseConfig(secret_key_file=""))
    store = open_store(cfg)
    seed(store, IMSI, money=5_000_000)
    held, release = threading.Event(), threading.Event()

    def hold(l):
        held.set()
        release.wait(10)

    async def go():
        server = LedgerServer(store, ChargingPolicy())
        conn = Conn()
        blocked = store.atransact(hold)
        assert await asyncio.get_running_loop().run_in_executor(None, held.wait, 5)
        server.submit(conn, (1, "balance", (IMSI, 1_700_000_000)))
        server.submit(conn, (2, "authorize", (IMSI, 1_700_000_000, ("octets",), "data", "UTC")))
        server.submit(conn, (3, "top_up", ("k", 1_700_000_000, "p1", "money", 1, None, None, "")))
        answered = {req for req, _ok, _v in conn.sent}
        release.set()
        await blocked
        for _ in range(200):
            if len(conn.sent) == 3:
                break
            await asyncio.sleep(0.01)
        return answered, {req: (ok, value) for req, ok, value in conn.sent}
    try:
        answered, answers = asyncio.run(go())
    finally:
        release.set()
        store.close()
    assert answered == {1, 2}                              # the reads did not wait; the write did
    assert answers[1] == (True, ("001010000000001", "p1", {"money": 5_000_000}, {}))
    ok, auth = answers[2]
    assert ok and auth[0] is True and auth[4] == "p1"
    assert answers[3][0] is True
