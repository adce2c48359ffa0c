"""The ledger role's read model (``ledger/reads.py``): ``balance`` and ``authorize`` from memory
answer exactly what a fresh store transaction answers at the same ``now``, over random
interleavings of charges, top-ups, expiry, administrative removals, catalog and product changes
and time passing (bucket validity, product validity, a night price window); a read arriving while a
batch is being committed gets the value before it or after it, never one in between."""
from __future__ import annotations

import asyncio
import random

import pytest

from appliance.config import Config, DatabaseConfig
from appliance.ledger import operations, protocol
from appliance.ledger.server import LedgerServer
from appliance.ocs.catalog import Offer, Price, PriceType
from appliance.ocs.inventory import Product
from appliance.ocs.rating import Action, ChargeRequest, ChargingPolicy, UsageItem
from appliance.ocs.timeofday import TimeWindow
from appliance.ocs.units import Unit
from appliance.store import open_store
from tests.conftest import seed

T0 = 1_700_000_000 - 1_700_000_000 % 86_400 + 20 * 3600      # 20:00 UTC: the night window opens at 22:00
SUBSCRIBERS = [f"00101000000000{n}" for n in range(5)]
READS = [("balance", ()), ("authorize", (("octets",), "data", "UTC")), ("authorize", (("seconds",), "", "UTC")),
         ("authorize", (("octets", "seconds"), "data", "Europe/Paris"))]


def offer(day: int, night: int, seconds: int) -> Offer:
    return Offer("data", (Price("data", PriceType.USAGE, amount=day, unit=Unit.OCTETS, size=1_000_000),
                          Price("night", PriceType.USAGE, amount=night, unit=Unit.OCTETS, size=1_000_000,
                                when=TimeWindow(22 * 60, 6 * 60)),
                          Price("voice", PriceType.USAGE, amount=seconds, unit=Unit.SECONDS, size=60)))


class Conn:
    def __init__(self) -> None:
        self.answers: dict[int, tuple[bool, object]] = {}

    def send(self, payload: bytes) -> None:
        for req, ok, value in protocol.unframe(bytearray(payload)):
            self.answers[req] = (ok, value)


@pytest.fixture
def store(tmp_path):
    cfg = Config(data_dir=str(tmp_path), run_dir=str(tmp_path / "run"), log_dir=str(tmp_path / "logs"),
                 database=DatabaseConfig(secret_key_file=""))
    s = open_store(cfg)
    for n, imsi in enumerate(SUBSCRIBERS):
        seed(s, imsi, money=3_000 * (n + 1), offer=offer(1_000, 100, 10), product=f"p{n}")
    yield s
    s.close()


class Driver:
    def __init__(self, store) -> None:
        self.store = store
        self.server = LedgerServer(store, ChargingPolicy())
        self.conn = Conn()
        self.next_id = 0

    async def call(self, name: str, *args: object) -> object:
        self.next_id += 1
        req = self.next_id
        self.server.submit(self.conn, (req, name, args))
        for _ in range(100):
            if req in self.conn.answers:
                break
            await asyncio.sleep(0)
        ok, value = self.conn.answers.pop(req)
        assert ok, value
        return value

    def fresh(self, name: str, args: tuple) -> object:
        """The answer of a fresh store transaction (the store's writer connection, not the ledger's)."""
        fn = operations._balance if name == "balance" else operations._authorize
        return self.store.transact(lambda l: fn(l, *args))


def wire(imsi: str, session: str, action: Action, seq: int, used: int, now: int, unit: Unit = Unit.OCTETS) -> tuple:
    items = (UsageItem(unit, 2_000_000 if unit is Unit.OCTETS else 120, used, 1, None),)
    return protocol.request_to_wire(ChargeRequest(imsi, session, action, items, f"{session}:{seq}", now=now))


@pytest.mark.parametrize("seed_", [1, 2, 3])
def test_memory_answers_equal_a_fresh_transaction(store, seed_):
    rng = random.Random(seed_)
    d = Driver(store)
    assert d.server.memory is not None

    async def go() -> None:
        now = T0
        seq = 0
        open_sessions: dict[str, tuple[str, Unit]] = {}
        for step in range(160):
            kind = rng.choice(["charge", "charge", "charge", "top_up", "top_up", "expire", "remove", "catalog",
                               "product", "time", "time", "read_only"])
            imsi = rng.choice(SUBSCRIBERS)
            seq += 1
            if kind == "charge":
                session = rng.choice([s for s in open_sessions if open_sessions[s][0] == imsi] + [f"s{step}"])
                if session not in open_sessions:
                    unit = rng.choice([Unit.OCTETS, Unit.SECONDS])
                    await d.call("credit_control", wire(imsi, session, Action.START, seq, 0, now, unit), 1, (imsi,),
                                 None)
                    open_sessions[session] = (imsi, unit)
                else:
                    unit = open_sessions[session][1]
                    used = rng.choice([0, 500_000, 1_500_000]) if unit is Unit.OCTETS else rng.choice([0, 30, 90])
                    if rng.random() < 0.3:
                        await d.call("credit_control", wire(imsi, session, Action.STOP, seq, used, now, unit), 3,
                                     (), None)
                        del open_sessions[session]
                    else:
                        await d.call("credit_control", wire(imsi, session, Action.UPDATE, seq, used, now, unit), 2,
                                     (), None)
            elif kind == "top_up":
                product = f"p{SUBSCRIBERS.index(imsi)}"
                end = rng.choice([None, now + rng.choice([1, 30, 3600])])
                start = rng.choice([None, None, now + rng.choice([1, 600])])
                await d.call("top_up", f"k{step}", now, product, rng.choice(["money", "octets", "seconds"]),
                             rng.choice([0, 500, 2_000_000]), end, start, "")
            elif kind == "expire":
                await d.call("housekeeping", now, 1000)
            elif kind == "remove":
                buckets = store.read(lambda l: l.list_buckets())
                if buckets:
                    await d.call("remove_bucket", f"r{step}", now, rng.choice(buckets).id)
            elif kind == "catalog":        # another process's commit: seen through data_version
                changed = offer(rng.choice([0, 500, 1_000]), rng.choice([0, 100]), rng.choice([0, 10]))
                store.transact(lambda l, o=changed: l.put_offer(o))
            elif kind == "product":        # an operator ends or ends no more a subscription
                n = SUBSCRIBERS.index(imsi)
                changed_product = Product(f"p{n}", "data", end=rng.choice([None, now + rng.choice([1, 120])]))
                store.transact(lambda l, p=changed_product: l.put_product(p))
            elif kind == "time":
                now += rng.choice([1, 29, 600, 2 * 3600])
            await asyncio.sleep(0)        # a new loop turn: the model checks data_version again
            for who in SUBSCRIBERS + ["001019999999999"]:
                for name, extra in READS:
                    args = (who, now, *extra)
                    got = await d.call(name, *args)
                    assert got == d.fresh(name, args), (step, kind, name, args)
    asyncio.run(go())
    memory = d.server.memory
    assert memory.hits > 1000 and memory.misses > 100      # answers were both reused and recomputed


def test_a_read_during_a_batch_gets_the_value_before_it(store):
    d = Driver(store)
    imsi = SUBSCRIBERS[0]
    during: list[object] = []

    def probe(l) -> str:
        # runs inside the batch, after the charge before it and before COMMIT
        d.server.submit(d.conn, (999, "balance", (imsi, T0)))
        during.append(d.conn.answers.pop(999))
        return "done"
    d.server.ops["probe"] = (probe, None)

    async def go() -> tuple[object, object]:
        await d.call("credit_control", wire(imsi, "s", Action.START, 1, 0, T0), 1, (imsi,), None)
        before = await d.call("balance", imsi, T0)         # kept in memory
        d.server.memory.clear()                           # and not: the read path must not see the batch
        d.next_id += 2
        d.server.submit(d.conn, (d.next_id - 1, "credit_control", (wire(imsi, "s", Action.UPDATE, 2, 1_000_000, T0),
                                                                    2, (), None)))
        d.server.submit(d.conn, (d.next_id, "probe", ()))
        for _ in range(100):
            if d.next_id in d.conn.answers:
                break
            await asyncio.sleep(0)
        after = await d.call("balance", imsi, T0)
        return before, after
    before, after = asyncio.run(go())
    assert during == [(True, before)]
    assert after != before and after == d.fresh("balance", (imsi, T0))


def test_read_answers_of_a_turn_leave_before_its_batch(store):
    from appliance.ledger.server import _Connection
    events: list[tuple] = []

    class Transport:
        def write(self, data: bytes) -> None:
            events.append(("write", [req for req, _ok, _v in protocol.unframe(bytearray(data))]))

    async def go() -> None:
        server = LedgerServer(store, ChargingPolicy())
        server.ops["probe"] = (lambda l: events.append(("batch",)) or "done", None)
        conn = _Connection(server)
        conn.transport = Transport()  # type: ignore[assignment]
        server.submit(conn, (1, "probe", ()))
        server.submit(conn, (2, "balance", (SUBSCRIBERS[0], T0)))
        for _ in range(5):
            await asyncio.sleep(0)
    asyncio.run(go())
    assert events == [("write", [2]), ("batch",), ("write", [1])]


def test_reads_are_answered_between_the_steps_of_a_batch(store):
    """A batch longer than a step leaves the loop turning: a read arriving meanwhile is answered at
    once with the committed value (before the batch), before the batch's own answers."""
    from appliance.ledger.server import STEP
    d = Driver(store)
    imsi = SUBSCRIBERS[1]

    async def go() -> tuple[object, object, object, bool]:
        await d.call("credit_control", wire(imsi, "s", Action.START, 1, 0, T0), 1, (imsi,), None)
        before = await d.call("balance", imsi, T0)
        writes = []
        for n in range(3 * STEP):
            d.next_id += 1
            writes.append(d.next_id)
            d.server.submit(d.conn, (d.next_id, "top_up", (f"k{n}", T0, "p1", "money", 1, None, None, "")))
        for _ in range(5):
            await asyncio.sleep(0)
            if d.server.in_batch:
                break
        open_batch = d.server.in_batch
        d.next_id += 1
        d.server.submit(d.conn, (d.next_id, "balance", (imsi, T0)))
        during = d.conn.answers.pop(d.next_id)
        unanswered = not any(w in d.conn.answers for w in writes)
        for _ in range(100):
            if writes[-1] in d.conn.answers:
                break
            await asyncio.sleep(0)
        after = await d.call("balance", imsi, T0)
        return before, during, after, open_batch and unanswered
    before, during, after, overlapped = asyncio.run(go())
    assert overlapped                                   # the read came while the batch was open
    assert during == (True, before)
    assert after[2]["money"] == before[2]["money"] + 3 * STEP


def test_a_miss_reads_the_state_its_caches_hold(store):
    """Another connection commits a hold (a reservation and its bucket debit) between two reads of
    one loop turn: the second read, a miss, computes from the snapshot the turn's caches were
    checked against, not cached buckets from before and reservations from after."""
    from appliance.ocs.balance import Hold, Reservation
    d = Driver(store)
    imsi, product = SUBSCRIBERS[2], "p2"

    def foreign(l) -> None:
        b = l.buckets(product)[0]
        l.set_bucket_remaining(b.id, b.remaining - 100)
        l.put_reservation(Reservation("other", 1, product, imsi, Unit.MONEY, 100, (Hold(b.id, Unit.MONEY, 100),),
                                      None, 1, T0, T0 + 60))

    async def go() -> tuple[object, object, object]:
        memory = d.server.memory
        first = memory.answer("balance", (imsi, T0))
        store.transact(foreign)
        memory.clear()
        again = memory.answer("balance", (imsi, T0))           # the same turn: a miss
        for _ in range(3):
            await asyncio.sleep(0)
        after = memory.answer("balance", (imsi, T0))           # the next turn sees the commit
        return first, again, after
    first, again, after = asyncio.run(go())
    assert again == first
    assert after == d.fresh("balance", (imsi, T0)) and after != first
