"""SQLite store (the embedded default): WAL, synchronous=FULL, group commit.

One writer thread per process owns the connection.  Callers queue functions;
the writer takes every function waiting, runs them in ONE ``BEGIN IMMEDIATE``
transaction (each under its own SAVEPOINT, so a failing one rolls back alone),
commits -- one fsync for the whole batch -- and only then answers each caller.
``BEGIN IMMEDIATE`` takes SQLite's write lock, so reads and writes of one batch
are atomic against every other process sharing the file.

Reads that change nothing (:meth:`SqliteStore.read`) do not queue behind the writer: they run
on the caller's thread over a read-only connection of that thread, in one read transaction.
In WAL mode a reader sees the last committed snapshot and never waits for the writer.
"""
from __future__ import annotations

import asyncio
import json
import logging
import queue
import sqlite3
import threading
from collections.abc import Awaitable, Callable, Generator, Sequence
from concurrent.futures import Future
from importlib import resources
from typing import Any, TypeVar

from ..ocs.balance import NewBucket, Reservation
from ..ocs.catalog import Offer, PrefixTable
from ..ocs.inventory import Bucket, Product, Service
from ..ocs.units import Unit
from . import rows
from .secrets import SecretBox

T = TypeVar("T")
log = logging.getLogger("appliance.store")


def migrations(backend: str) -> list[tuple[int, str]]:
    """Forward migrations shipped with the package, as (version, sql) in order."""
    folder = resources.files("appliance.store") / "migrations" / backend
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), entry.read_text()))
    return sorted(found)


def split_sql(script: str) -> list[str]:
    """The statements of a migration script; a trigger's body (``BEGIN ... END``) stays whole."""
    lines = [ln for ln in script.splitlines() if not ln.strip().startswith("--")]
    statements, part = [], ""
    for piece in "\n".join(lines).split(";"):
        part = f"{part};{piece}" if part else piece
        if part.strip() and sqlite3.complete_statement(part + ";"):
            statements.append(part.strip())
            part = ""
    if part.strip():
        statements.append(part.strip())
    return statements


# Default bounds of the per-process caches (``database.cache_subscribers``; dropped whole when
# exceeded, at a batch's start).
CACHED_PRODUCTS = 100_000
CACHED_DOCS = 200_000

class SqliteLedger:
    """The Ledger port over one SQLite connection inside the writer's transaction."""

    def __init__(self, conn: sqlite3.Connection, store: SqliteStore | _ReadCaches) -> None:
        self._conn = conn
        self.c = _Flushing(conn, self)  # every statement outside the hot path writes pending rows first
        self.store = store
        self.box = store.box                 # seals and opens secrets (None: clear)
        self.catalog_touched = False
        self.inventory_touched = False
        # Per-process caches of committed-or-own rows, valid while no other connection commits
        # (``PRAGMA data_version`` checked under the write lock at each BEGIN, see SqliteStore).
        self._buckets: dict[str, list[Bucket]] = {}
        self._bucket_owner: dict[int, str] = {}
        self._sessions: dict[str, list[Reservation]] = {}
        # Writes of the hot path, written with executemany just before COMMIT (or before any other
        # statement); they only ever concern rows that are in the caches above.
        self._dirty_buckets: dict[int, int] = {}
        self._dirty_sessions: dict[tuple[str, int, str], Reservation | None] = {}
        self._dirty_log: dict[str, tuple[str, int, str, int]] = {}   # session -> key, created, result, final
        # Last answers of the batch's sessions read at its start, session -> (key, result), None: no
        # answer; valid until the transaction ends, as the write lock is held and our own writes
        # are in _dirty_log.
        self._answers: dict[str, tuple[str, str] | None] = {}
        # Documents as stored (JSON text; None: absent), under the same validity as the caches above.
        self._docs: dict[tuple[str, str], str | None] = {}
        # The same documents parsed, for readers that promise not to change them (``read_doc``).
        self._parsed: dict[tuple[str, str], dict[str, Any] | None] = {}
        # Events emitted by the ledger in this transaction, handed to ``on_commit`` after COMMIT.
        self._events: list[object] = []
        self.data_version = -1               # PRAGMA data_version of this connection at its last batch
        # Products whose buckets or reservations the current batch changed (anything else may have
        # changed: ``touched_all``), for the ledger role's read model (``SqliteStore.take_touched``).
        self.touched: set[str] = set()
        self.touched_all = False

    def emit(self, event: object) -> None:
        self._events.append(event)

    def _one(self, sql: str, args: tuple[Any, ...] = ()) -> Any:
        return self.c.execute(sql, args).fetchone()

    def _one_direct(self, sql: str, args: tuple[Any, ...] = ()) -> Any:
        """For tables the write-behind never holds rows of (service, product, offer, prefix_table,
        doc): no need to write the pending rows first."""
        return self._conn.execute(sql, args).fetchone()

    # --- write-behind and caches (internal to the writer thread)
    def _flush(self) -> None:
        """Write the pending hot-path rows (inside the open transaction)."""
        conn = self._conn
        if self._dirty_buckets:
            conn.executemany("UPDATE bucket SET remaining = ? WHERE id = ?",
                             [(v, k) for k, v in self._dirty_buckets.items()])
            self._dirty_buckets.clear()
        if self._dirty_sessions:
            puts = [rows.reservation_row(r) for r in self._dirty_sessions.values() if r is not None]
            drops = [k for k, r in self._dirty_sessions.items() if r is None]
            self._dirty_sessions.clear()
            if drops:
                conn.executemany("DELETE FROM reservation WHERE session_id = ? AND rating_group = ? AND unit = ?",
                                 drops)
            if puts:
                conn.executemany(f"INSERT OR REPLACE INTO reservation ({rows.RESERVATION_COLUMNS}) "
                                 "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", puts)
        if self._dirty_log:
            conn.executemany("INSERT OR REPLACE INTO last_answer (session_id, key, created, result, final) "
                             "VALUES (?, ?, ?, ?, ?)", [(s, *v) for s, v in self._dirty_log.items()])
            answers = self._answers
            if answers:  # an answer read at the batch's start must not hide one written since
                for s, (k, _c, r, _f) in self._dirty_log.items():
                    if s in answers:
                        answers[s] = (k, r)
            self._dirty_log.clear()

    def _prefetch_answers(self, sessions: list[str]) -> None:
        """Read the last answers of a batch's sessions in one statement per 512 sessions.

        The list is padded (repeating its last session) to a power of two, so that a handful of
        statements, not one per batch size, live in the connection's statement cache.
        """
        answers = self._answers
        for i in range(0, len(sessions), 512):
            part = sessions[i:i + 512]
            for session_id in part:
                answers[session_id] = None
            size = 1 << (len(part) - 1).bit_length()
            part += [part[-1]] * (size - len(part))
            cur = self._conn.execute("SELECT session_id, key, result FROM last_answer "
                                     f"WHERE session_id IN ({','.join('?' * size)})", part)
            for session_id, key, result in cur:
                answers[session_id] = (key, result)

    def _discard(self) -> None:
        """After a ROLLBACK: pending rows are gone and the caches may hold rolled-back values."""
        self._dirty_buckets.clear()
        self._dirty_sessions.clear()
        self._dirty_log.clear()
        self._answers.clear()
        self._events.clear()
        self._drop_caches()

    def _drop_caches(self) -> None:
        self._buckets.clear()
        self._bucket_owner.clear()
        self._sessions.clear()
        self._docs.clear()
        self._parsed.clear()

    def _forget_balances(self) -> None:
        """A statement outside the hot path changes buckets or reservations: write, then forget."""
        self.touched_all = True
        self._flush()
        self._drop_caches()

    # --- charging path
    def find_service(self, identity: str) -> Service | None:
        hit = self.store._subscribers.get(identity)      # find_subscriber's, same validity
        if hit is not None:
            return hit[0]
        row = self._one_direct(f"SELECT {rows.SERVICE_COLUMNS} FROM service WHERE id = "
                        "(SELECT service_id FROM service_identity WHERE identity = ?)", (identity,))
        return rows.service_from(row, self.box) if row else None

    def find_subscriber(self, identity: str) -> tuple[Service | None, Product | None]:
        cache = self.store._subscribers
        hit = cache.get(identity)
        if hit is not None:
            return hit
        found = self._find_subscriber(identity)
        if found[0] is not None:
            if len(cache) >= self.store.cached_products:
                cache.clear()
            cache[identity] = found
        return found

    def _find_subscriber(self, identity: str) -> tuple[Service | None, Product | None]:
        row = self._one_direct(f"SELECT {rows.SERVICE_COLUMNS_S}, p.id, p.offer, p.start, p.\"end\", p.policy_table, "
                        "p.status, p.doc FROM service_identity i JOIN service s ON s.id = i.service_id "
                        "LEFT JOIN product p ON p.id = s.product_id WHERE i.identity = ?", (identity,))
        if row is None:
            return None, None
        return rows.service_from(row[:12], self.box), rows.product_from(row[12:]) if row[12] is not None else None

    def get_service(self, service_id: str) -> Service | None:
        row = self._one_direct(f"SELECT {rows.SERVICE_COLUMNS} FROM service WHERE id = ?", (service_id,))
        return rows.service_from(row, self.box) if row else None

    def get_product(self, product_id: str) -> Product | None:
        row = self._one_direct('SELECT id, offer, start, "end", policy_table, status, doc FROM product WHERE id = ?',
                        (product_id,))
        return rows.product_from(row) if row else None

    def get_offer(self, name: str) -> Offer | None:
        cache = self.store._offers
        if name in cache:
            return cache[name]
        row = self._one_direct("SELECT doc FROM offer WHERE name = ?", (name,))
        offer = rows.offer_from(row[0]) if row else None
        cache[name] = offer
        return offer

    def get_table(self, name: str) -> PrefixTable | None:
        cache = self.store._tables
        if name in cache:
            return cache[name]
        row = self._one_direct("SELECT name, rates FROM prefix_table WHERE name = ?", (name,))
        table = rows.table_from(*row) if row else None
        cache[name] = table
        return table

    def buckets(self, product_id: str) -> list[Bucket]:
        cached = self._buckets.get(product_id)
        if cached is None:
            cur = self._conn.execute(f"SELECT {rows.BUCKET_COLUMNS} FROM bucket WHERE product_id = ?",
                                     (product_id,))
            cached = self._buckets[product_id] = [rows.bucket_from(r) for r in cur]
            owner = self._bucket_owner
            for b in cached:
                owner[b.id] = product_id
        return list(cached)

    def reservations(self, session_id: str) -> list[Reservation]:
        cached = self._sessions.get(session_id)
        if cached is None:
            cur = self._conn.execute(f"SELECT {rows.RESERVATION_COLUMNS} FROM reservation WHERE session_id = ?",
                                     (session_id,))
            cached = self._sessions[session_id] = [rows.reservation_from(r) for r in cur]
        return list(cached)

    def product_reservations(self, product_id: str) -> list[Reservation]:
        cur = self.c.execute(f"SELECT {rows.RESERVATION_COLUMNS} FROM reservation WHERE product_id = ?",
                             (product_id,))
        return [rows.reservation_from(r) for r in cur]

    def set_bucket_remaining(self, bucket_id: int, remaining: int) -> None:
        product_id = self._bucket_owner.get(bucket_id)
        if product_id is None:  # not cached: write through
            self.touched_all = True
            self.c.execute("UPDATE bucket SET remaining = ? WHERE id = ?", (remaining, bucket_id))
            return
        self.touched.add(product_id)
        cached = self._buckets[product_id]
        for i, b in enumerate(cached):
            if b.id == bucket_id:
                cached[i] = Bucket(b.id, b.product_id, b.unit, remaining, b.start, b.end, b.name)
                break
        self._dirty_buckets[bucket_id] = remaining

    def add_bucket(self, bucket: NewBucket, start: int | None = None) -> int:
        self.touched.add(bucket.product_id)
        self._forget_product(bucket.product_id)
        cur = self.c.execute('INSERT INTO bucket (product_id, unit, remaining, start, "end", name) '
                             "VALUES (?, ?, ?, ?, ?, ?)",
                             (bucket.product_id, bucket.unit.value, bucket.remaining, start, bucket.end,
                              bucket.name))
        return int(cur.lastrowid or 0)

    def _forget_product(self, product_id: str) -> None:
        if product_id in self._buckets:
            self._flush()
            for b in self._buckets.pop(product_id):
                self._bucket_owner.pop(b.id, None)

    def put_reservation(self, reservation: Reservation) -> None:
        self.touched.add(reservation.product_id)
        cached = self._sessions.get(reservation.session_id)
        if cached is None:  # not cached: write through
            self.c.execute(f"INSERT OR REPLACE INTO reservation ({rows.RESERVATION_COLUMNS}) "
                           "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows.reservation_row(reservation))
            return
        rg, unit = reservation.rating_group, reservation.unit
        for i, r in enumerate(cached):
            if r.rating_group == rg and r.unit is unit:
                cached[i] = reservation
                break
        else:
            cached.append(reservation)
            cached.sort(key=_slot)
        self._dirty_sessions[(reservation.session_id, rg, unit._value_)] = reservation

    def drop_reservation(self, session_id: str, rating_group: int, unit: Unit) -> None:
        cached = self._sessions.get(session_id)
        if cached is None:  # not cached: write through
            self.touched_all = True
            self.c.execute("DELETE FROM reservation WHERE session_id = ? AND rating_group = ? AND unit = ?",
                           (session_id, rating_group, unit._value_))
            return
        kept = []
        for r in cached:
            if r.rating_group != rating_group or r.unit is not unit:
                kept.append(r)
            else:
                self.touched.add(r.product_id)
        cached[:] = kept
        self._dirty_sessions[(session_id, rating_group, unit._value_)] = None

    def recall(self, session_id: str, key: str) -> str | None:
        pending = self._dirty_log.get(session_id)
        if pending is not None:
            return pending[2] if pending[0] == key else None
        answers = self._answers
        if session_id in answers:
            last = answers[session_id]
        else:
            last = self._conn.execute("SELECT key, result FROM last_answer WHERE session_id = ?",
                                      (session_id,)).fetchone()
        return last[1] if last is not None and last[0] == key else None

    def session_ended(self, session_id: str) -> bool:
        pending = self._dirty_log.get(session_id)
        if pending is not None:
            return bool(pending[3])
        row = self._conn.execute("SELECT final FROM last_answer WHERE session_id = ?", (session_id,)).fetchone()
        return bool(row and row[0])

    def remember(self, session_id: str, key: str, now: int, result: str, final: bool) -> None:
        self._dirty_log[session_id] = (key, now, result, 1 if final else 0)

    # --- catalog administration
    def _touch_inventory(self) -> None:
        self.c.execute("UPDATE meta SET value = value + 1 WHERE key = 'inventory_gen'")
        self.inventory_touched = self.touched_all = True
        self.store._subscribers.clear()   # later reads in this transaction see the change (and the
                                          # batch end forgets whatever they cache, commit or not)

    def _touch_catalog(self) -> None:
        self.c.execute("UPDATE meta SET value = value + 1 WHERE key = 'catalog_gen'")
        self.catalog_touched = self.touched_all = True
        self.store._offers.clear()
        self.store._tables.clear()

    def put_offer(self, offer: Offer) -> None:
        self.c.execute("INSERT OR REPLACE INTO offer (name, doc) VALUES (?, ?)", rows.offer_row(offer))
        self._touch_catalog()

    def delete_offer(self, name: str) -> bool:
        self._touch_catalog()
        return self.c.execute("DELETE FROM offer WHERE name = ?", (name,)).rowcount > 0

    def list_offers(self) -> list[Offer]:
        return [rows.offer_from(r[0]) for r in self.c.execute("SELECT doc FROM offer ORDER BY name")]

    def put_table(self, table: PrefixTable) -> None:
        self.c.execute("INSERT OR REPLACE INTO prefix_table (name, rates) VALUES (?, ?)",
                       (table.name, rows.dumps(dict(table.rates))))
        self._touch_catalog()

    def delete_table(self, name: str) -> bool:
        self._touch_catalog()
        return self.c.execute("DELETE FROM prefix_table WHERE name = ?", (name,)).rowcount > 0

    def list_tables(self) -> list[PrefixTable]:
        return [rows.table_from(*r) for r in self.c.execute("SELECT name, rates FROM prefix_table ORDER BY name")]

    # --- inventory administration
    def put_product(self, product: Product) -> None:
        self._touch_inventory()
        self.c.execute('INSERT OR REPLACE INTO product (id, offer, start, "end", policy_table, status, doc) '
                       "VALUES (?,?,?,?,?,?,?)", rows.product_row(product))

    def delete_product(self, product_id: str) -> bool:
        self._touch_inventory()
        self._forget_balances()
        self.c.execute("DELETE FROM bucket WHERE product_id = ?", (product_id,))
        self.c.execute("UPDATE service SET product_id = NULL WHERE product_id = ?", (product_id,))
        return self.c.execute("DELETE FROM product WHERE id = ?", (product_id,)).rowcount > 0

    def list_products(self) -> list[Product]:
        cur = self.c.execute('SELECT id, offer, start, "end", policy_table, status, doc FROM product ORDER BY id')
        return [rows.product_from(r) for r in cur]

    def put_service(self, service: Service) -> None:
        self._touch_inventory()
        for identity in service.identities():
            row = self._one("SELECT service_id FROM service_identity WHERE identity = ?", (identity,))
            if row and row[0] != service.id:
                raise ValueError(f"identity {identity} already belongs to service {row[0]}")
        self.c.execute(f"INSERT OR REPLACE INTO service ({rows.SERVICE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                       rows.service_row(service, self.box))
        self.c.execute("DELETE FROM service_identity WHERE service_id = ?", (service.id,))
        self.c.executemany("INSERT INTO service_identity (identity, service_id) VALUES (?, ?)",
                           [(i, service.id) for i in service.identities()])

    # --- bulk provisioning
    def put_subscribers(self, products: Sequence[Product], services: Sequence[Service]) -> None:
        """Products and services put as by put_product/put_service, many rows per statement."""
        self._touch_inventory()
        conn = self._conn
        self._flush()
        if products:
            conn.executemany('INSERT OR REPLACE INTO product (id, offer, start, "end", policy_table, status, doc) '
                             "VALUES (?,?,?,?,?,?,?)", [rows.product_row(p) for p in products])
        if not services:
            return
        conn.executemany("DELETE FROM service_identity WHERE service_id = ?", [(s.id,) for s in services])
        conn.executemany(f"INSERT OR REPLACE INTO service ({rows.SERVICE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                         [rows.service_row(s, self.box) for s in services])
        pairs = [(i, s.id) for s in services for i in s.identities()]
        if conn.executemany("INSERT OR IGNORE INTO service_identity (identity, service_id) VALUES (?, ?)",
                            pairs).rowcount != len(pairs):
            owners = self.identity_owners([i for i, _s in pairs])
            for identity, service_id in pairs:
                if owners.get(identity) != service_id:
                    raise ValueError(f"identity {identity} already belongs to service {owners.get(identity)}")
            raise ValueError("an identity is given to two services")

    def identity_owners(self, identities: Sequence[str]) -> dict[str, str]:
        """The services owning those of ``identities`` that are known (512 per statement)."""
        found: dict[str, str] = {}
        for i in range(0, len(identities), 512):
            part = list(identities[i:i + 512])
            cur = self.c.execute("SELECT identity, service_id FROM service_identity "
                                 f"WHERE identity IN ({','.join('?' * len(part))})", part)
            found.update(cur)
        return found

    def replace_buckets(self, buckets: Sequence[NewBucket]) -> int:
        """The buckets replace every bucket of their products that has one of their names; returns
        how many went."""
        self._forget_balances()
        conn = self._conn
        gone = conn.executemany("DELETE FROM bucket WHERE product_id = ? AND name = ?",
                                list(dict.fromkeys((b.product_id, b.name) for b in buckets))).rowcount
        conn.executemany('INSERT INTO bucket (product_id, unit, remaining, start, "end", name) VALUES (?,?,?,?,?,?)',
                         [(b.product_id, b.unit.value, b.remaining, None, b.end, b.name) for b in buckets])
        return gone

    def delete_service(self, service_id: str) -> bool:
        self._touch_inventory()
        self.c.execute("DELETE FROM service_identity WHERE service_id = ?", (service_id,))
        return self.c.execute("DELETE FROM service WHERE id = ?", (service_id,)).rowcount > 0

    def list_services(self) -> list[Service]:
        return [rows.service_from(r, self.box) for r in
                self.c.execute(f"SELECT {rows.SERVICE_COLUMNS} FROM service ORDER BY id")]

    def set_sqn(self, service_id: str, sqn: int) -> None:
        self._touch_inventory()
        self.c.execute("UPDATE service SET sqn = ? WHERE id = ?", (sqn, service_id))

    def delete_bucket(self, bucket_id: int) -> bool:
        self._forget_balances()
        return self.c.execute("DELETE FROM bucket WHERE id = ?", (bucket_id,)).rowcount > 0

    def get_bucket(self, bucket_id: int) -> Bucket | None:
        row = self._one(f"SELECT {rows.BUCKET_COLUMNS} FROM bucket WHERE id = ?", (bucket_id,))
        return rows.bucket_from(row) if row else None

    def list_buckets(self, product_id: str | None = None) -> list[Bucket]:
        if product_id is None:
            cur = self.c.execute(f"SELECT {rows.BUCKET_COLUMNS} FROM bucket ORDER BY id")
        else:
            cur = self.c.execute(f"SELECT {rows.BUCKET_COLUMNS} FROM bucket WHERE product_id = ? ORDER BY id",
                                 (product_id,))
        return [rows.bucket_from(r) for r in cur]

    def put_client(self, client: dict[str, Any]) -> None:
        self.c.execute("INSERT OR REPLACE INTO client (address, protocol, doc) VALUES (?, ?, ?)",
                       (client["address"], client["protocol"], rows.client_doc(client, self.box)))

    def delete_client(self, address: str) -> bool:
        return self.c.execute("DELETE FROM client WHERE address = ?", (address,)).rowcount > 0

    def list_clients(self, protocol: str | None = None) -> list[dict[str, Any]]:
        if protocol is None:
            cur = self.c.execute("SELECT doc FROM client ORDER BY address")
        else:
            cur = self.c.execute("SELECT doc FROM client WHERE protocol = ? ORDER BY address", (protocol,))
        return [rows.client_from(r[0], self.box) for r in cur]

    # --- housekeeping
    def expired_reservations(self, now: int, limit: int) -> list[Reservation]:
        cur = self.c.execute(f"SELECT {rows.RESERVATION_COLUMNS} FROM reservation WHERE expires <= ? "
                             "ORDER BY expires LIMIT ?", (now, limit))
        return [rows.reservation_from(r) for r in cur]

    def delete_expired_buckets(self, now: int) -> int:
        self._forget_balances()
        # a bucket below zero is a debt: it outlives its validity until paid
        return self.c.execute('DELETE FROM bucket WHERE "end" IS NOT NULL AND "end" <= ? AND remaining >= 0',
                              (now,)).rowcount

    def forget_requests(self, final_before: int, open_before: int) -> int:
        self._answers.clear()
        return (self.c.execute("DELETE FROM last_answer WHERE final = 1 AND created < ?", (final_before,)).rowcount
                + self.c.execute("DELETE FROM last_answer WHERE final = 0 AND created < ?", (open_before,)).rowcount)

    def counts(self) -> dict[str, int]:
        result = {}
        for table in ("offer", "product", "service", "bucket", "reservation", "client"):
            result[table] = self._one(f"SELECT count(*) FROM {table}")[0]
        return result

    # --- documents
    def put_doc(self, kind: str, key: str, doc: dict[str, Any]) -> None:
        text = rows.dumps(doc)
        self._conn.execute("INSERT OR REPLACE INTO doc (kind, key, doc) VALUES (?, ?, ?)", (kind, key, text))
        self._docs[(kind, key)] = text
        self._parsed.pop((kind, key), None)

    def get_doc(self, kind: str, key: str) -> dict[str, Any] | None:
        """A document (a fresh copy: the caller may change it).  Read through a per-process cache of
        the stored text, valid while no other connection commits (as the balance caches)."""
        docs = self._docs
        text = docs.get((kind, key), _UNCACHED)
        if text is _UNCACHED:
            row = self._one_direct("SELECT doc FROM doc WHERE kind = ? AND key = ?", (kind, key))
            text = row[0] if row else None
            if len(docs) < self.store.cached_docs:
                docs[(kind, key)] = text
        return json.loads(text) if text is not None else None

    def read_doc(self, kind: str, key: str) -> dict[str, Any] | None:
        """A document shared with later readers of this transaction's process: not to be changed
        (the hot path reads its session and credit documents on every request)."""
        k = (kind, key)
        parsed = self._parsed
        doc = parsed.get(k, _UNCACHED)
        if doc is _UNCACHED:
            doc = self.get_doc(kind, key)
            if k in self._docs and len(parsed) < self.store.cached_docs:
                parsed[k] = doc
        return doc  # type: ignore[return-value]

    def get_docs(self, kind: str, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The documents of ``kind`` found under ``keys`` (512 per statement)."""
        found: dict[str, dict[str, Any]] = {}
        for i in range(0, len(keys), 512):
            part = list(keys[i:i + 512])
            cur = self._conn.execute("SELECT key, doc FROM doc WHERE kind = ? "
                                     f"AND key IN ({','.join('?' * len(part))})", [kind, *part])
            found.update((k, json.loads(d)) for k, d in cur)
        return found

    def delete_doc(self, kind: str, key: str) -> bool:
        self._docs[(kind, key)] = None
        self._parsed[(kind, key)] = None
        return self._conn.execute("DELETE FROM doc WHERE kind = ? AND key = ?", (kind, key)).rowcount > 0

    def list_docs(self, kind: str, prefix: str = "") -> list[tuple[str, dict[str, Any]]]:
        cur = self._conn.execute("SELECT key, doc FROM doc WHERE kind = ? AND key >= ? AND key < ? ORDER BY key",
                                 (kind, prefix, prefix + "\uffff"))
        return [(k, json.loads(d)) for k, d in cur]


def _slot(r: Reservation) -> tuple[int, str]:
    return r.rating_group, r.unit._value_


class _Flushing:
    """The connection as the ledger's other methods see it: pending hot-path rows are written first."""

    __slots__ = ("_conn", "_ledger")

    def __init__(self, conn: sqlite3.Connection, ledger: SqliteLedger) -> None:
        self._conn = conn
        self._ledger = ledger

    def execute(self, sql: str, args: Any = ()) -> sqlite3.Cursor:
        self._ledger._flush()
        return self._conn.execute(sql, args)

    def executemany(self, sql: str, args: Any) -> sqlite3.Cursor:
        self._ledger._flush()
        return self._conn.executemany(sql, args)


class _ReadCaches:
    """The catalog and subscriber caches of one reader connection (same shape as the store's),
    kept while the catalog and inventory generations it last read are unchanged."""

    __slots__ = ("_offers", "_tables", "_subscribers", "catalog_gen", "inventory_gen", "box", "cached_products",
                 "cached_docs")

    def __init__(self, box: Any = None, cached_products: int = CACHED_PRODUCTS, cached_docs: int = CACHED_DOCS) -> None:
        self.box = box                   # the store's secret box, if it has one
        self.cached_products, self.cached_docs = cached_products, cached_docs
        self._offers: dict[str, Offer | None] = {}
        self._tables: dict[str, PrefixTable | None] = {}
        self._subscribers: dict[str, tuple[Service | None, Product | None]] = {}
        self.catalog_gen = self.inventory_gen = -1


_GENERATIONS = ("SELECT (SELECT value FROM meta WHERE key = 'catalog_gen'), "
                "(SELECT value FROM meta WHERE key = 'inventory_gen')")
# A subscriber as authorization reads it, in one statement: the catalog generations, the service,
# its product and the product's buckets (one row per bucket; at least one row).
_SUBSCRIBER = (f"SELECT (SELECT value FROM meta WHERE key = 'catalog_gen'), "
               f"(SELECT value FROM meta WHERE key = 'inventory_gen'), {rows.SERVICE_COLUMNS_S}, "
               'p.id, p.offer, p.start, p."end", p.policy_table, p.status, p.doc, '
               'b.id, b.product_id, b.unit, b.remaining, b.start, b."end", b.name '
               "FROM service_identity i JOIN service s ON s.id = i.service_id "
               "LEFT JOIN product p ON p.id = s.product_id LEFT JOIN bucket b ON b.product_id = p.id "
               "WHERE i.identity = ?")


_SNAPSHOT = "SELECT value FROM meta WHERE key = 'catalog_gen'"   # any read: starts a read snapshot
_CHANGE_TOP = ("SELECT (SELECT coalesce(max(seq), 0) FROM product_change), "
               "(SELECT value FROM meta WHERE key = 'catalog_gen')")
_CHANGED = "SELECT key, seq FROM product_change WHERE seq > ?"
_CATALOG_GEN = "SELECT value FROM meta WHERE key = 'catalog_gen'"


class _ReadLedger(SqliteLedger):
    """The ledger view of a reader: each statement reads the last committed snapshot.

    A subscriber's service and product come from one statement (and the product is kept for the
    ``get_product`` that follows); the catalog cache is checked against the stored generation
    once per read, before its first use."""

    def __init__(self, conn: sqlite3.Connection, caches: _ReadCaches) -> None:
        super().__init__(conn, caches)
        self.caches = caches
        self.checked = False
        self._products: dict[str, Product] = {}

    def begin(self) -> None:
        self.checked = False
        self._products.clear()
        self._drop_caches()

    def _check(self, generations: tuple[int, int] | None = None) -> None:
        caches = self.caches
        catalog, inventory = generations or self._conn.execute(_GENERATIONS).fetchone()
        if catalog != caches.catalog_gen:
            caches._offers.clear()
            caches._tables.clear()
            caches.catalog_gen = catalog
        if inventory != caches.inventory_gen:
            caches._subscribers.clear()
            caches.inventory_gen = inventory
        self.checked = True

    def find_service(self, identity: str) -> Service | None:
        found = self._conn.execute(_SUBSCRIBER, (identity,)).fetchall()
        if not found:
            if not self.checked:
                self._check()
            return None
        first = found[0]
        if not self.checked:
            self._check((first[0], first[1]))
        service = rows.service_from(first[2:14], self.box)
        if first[14] is not None:
            product = self._products[first[14]] = rows.product_from(first[14:21])
            if product.id not in self._buckets:
                held = self._buckets[product.id] = [rows.bucket_from(r[21:]) for r in found if r[21] is not None]
                for b in held:
                    self._bucket_owner[b.id] = product.id
        return service

    def find_subscriber(self, identity: str) -> tuple[Service | None, Product | None]:
        if not self.checked:
            self._check()
        return super().find_subscriber(identity)

    def service_nais(self) -> list[str]:
        """Every service's NAI (the identities RADIUS authorizes), for filling a cache."""
        return [r[0] for r in self._conn.execute("SELECT nai FROM service WHERE nai IS NOT NULL").fetchall()]

    def get_product(self, product_id: str) -> Product | None:
        product = self._products.get(product_id)
        return product if product is not None else super().get_product(product_id)

    def get_offer(self, name: str) -> Offer | None:
        if not self.checked:
            self._check()
        return super().get_offer(name)

    def get_table(self, name: str) -> PrefixTable | None:
        if not self.checked:
            self._check()
        return super().get_table(name)


class _Reader:
    """One thread's read-only connection and its ledger view."""

    __slots__ = ("conn", "ledger")

    def __init__(self, conn: sqlite3.Connection, store: SqliteStore) -> None:
        self.conn = conn
        self.ledger = _ReadLedger(conn, _ReadCaches(getattr(store, "box", None), store.cached_products,
                                                    store.cached_docs))


_STOP = object()
_UNCACHED: Any = object()


class SqliteStore:
    """Group-committing SQLite store; safe across threads and processes."""

    backend = "sqlite"

    def __init__(self, path: str, batch_max: int = 512, busy_timeout_ms: int = 30_000,
                 synchronous: str = "FULL", box: SecretBox | None = None, cache_subscribers: int = CACHED_PRODUCTS,
                 page_cache_mb: int = 64) -> None:
        self.path = path
        self.box = box
        # bounds of the working set (``database.cache_subscribers``): caches past them are dropped whole
        self.cached_products = cache_subscribers
        self.cached_sessions = self.cached_docs = 2 * cache_subscribers
        self.page_cache_kib = page_cache_mb * 1024
        self.batch_max = batch_max
        self._busy = busy_timeout_ms
        self._sync = synchronous
        self._offers: dict[str, Offer | None] = {}
        self._tables: dict[str, PrefixTable | None] = {}
        self._catalog_gen = -1
        self._subscribers: dict[str, tuple[Service | None, Product | None]] = {}
        self._inventory_gen = -1
        self._q: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._local = threading.local()          # .reader: this thread's read-only connection
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self.batches = 0
        self.operations = 0
        # Called on the writer thread with the events of each committed transaction.
        self.on_commit: Callable[[list[object]], None] | None = None
        conn = self._connect()
        migrate(conn)
        conn.close()
        self._thread = threading.Thread(target=self._writer, name="store-writer", daemon=True)
        self._thread.start()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                               timeout=self._busy / 1000)
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {self._sync}")
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute(f"PRAGMA cache_size = -{int(getattr(self, 'page_cache_kib', 65_536))}")
        return conn

    # --- public API
    def transact(self, fn: Callable[[Any], T]) -> T:
        fut: Future[T] = Future()
        self._q.put((fn, fut, None))
        return fut.result()

    def atransact(self, fn: Callable[[Any], T]) -> Awaitable[T]:
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self._q.put((fn, fut, loop))
        return fut

    def read(self, fn: Callable[[Any], T]) -> T:
        """Run ``fn(ledger)`` now, on this thread, over a read-only connection of the thread: each
        statement sees the last committed snapshot and never waits for the writer (WAL).  ``fn``
        must not write (the connection is ``query_only``: a write raises
        ``sqlite3.OperationalError``, as does a database that stays busy)."""
        reader: _Reader | None = getattr(self._local, "reader", None)
        if reader is None:
            reader = self._local.reader = self._open_reader()
        ledger = reader.ledger
        ledger.begin()
        try:
            return fn(ledger)
        finally:
            ledger.begin()                     # balances, documents: this read's only

    def changes(self, since: int) -> tuple[int, int, list[str]]:
        """The change signal of authorization inputs, on the read path: (sequence, catalog
        generation, the service and product ids whose product row, service row, buckets or credit
        document changed after sequence ``since``).  ``since`` < 0: the current sequence, no ids.
        Sequence numbers are given in commit order (migration 0007), so ids committed after this
        read come with a higher number than the one returned."""
        reader: _Reader | None = getattr(self._local, "reader", None)
        if reader is None:
            reader = self._local.reader = self._open_reader()
        conn = reader.conn                    # every statement run to its end: no snapshot is kept open
        if since < 0:
            seq, catalog = conn.execute(_CHANGE_TOP).fetchall()[0]
            return seq, catalog, []
        found = conn.execute(_CHANGED, (since,)).fetchall()
        catalog = conn.execute(_CATALOG_GEN).fetchall()[0][0]
        return max((r[1] for r in found), default=since), catalog, [r[0] for r in found]

    def _open_reader(self) -> _Reader:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=0.2)
        conn.execute("PRAGMA busy_timeout = 200")   # a WAL reader waits only in rare recovery cases
        conn.execute("PRAGMA query_only = 1")
        conn.execute("PRAGMA cache_size = -32768")      # 32 MiB: subscribers' pages stay in memory
        with self._readers_lock:
            self._readers.append(conn)
        return _Reader(conn, self)

    def try_leader(self, name: str) -> bool:
        """Leadership of a periodic duty: one SQLite file has one node, so always True."""
        return True

    def close(self) -> None:
        if self._thread.is_alive():
            self._q.put(_STOP)
            self._thread.join(timeout=30)
        with self._readers_lock:
            readers, self._readers = self._readers, []
        for conn in readers:
            conn.close()
        self._local = threading.local()

    # --- writer thread
    def _writer(self) -> None:
        conn = self._connect()
        ledger = SqliteLedger(conn, self)
        stop = False
        while not stop:
            item = self._q.get()
            if item is _STOP:
                break
            batch = [item]
            while len(batch) < self.batch_max:
                try:
                    nxt = self._q.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stop = True
                    break
                batch.append(nxt)
            self._run_batch(conn, ledger, batch)
        conn.close()

    def run_here(self, fns: list[Callable[[Any], Any]]) -> list[tuple[bool, Any]]:
        """Run ``fns`` as one group-committed transaction on the calling thread and return each one's
        (ok, answer or exception), once committed.  For a process whose only writer is its event
        loop (the ledger role): no hand-over to the writer thread, no contention for the GIL.  The
        thread keeps a connection of its own; the store's writer thread must not write meanwhile
        (the two would only wait for each other's lock)."""
        self.here_release()
        conn, ledger = self._here()
        ledger.touched, ledger.touched_all = set(), False
        batch = [(fn, None, None) for fn in fns]
        outcomes = self._attempt(conn, ledger, batch, stop_on_error=len(batch) > 1)
        if outcomes is None:
            outcomes = []
            for item in batch:
                outcomes.extend(self._attempt(conn, ledger, [item], stop_on_error=False) or [])
        self.batches += 1
        self.operations += len(batch)
        return outcomes

    def _here(self) -> tuple[sqlite3.Connection, SqliteLedger]:
        """The calling thread's writer connection and its ledger view (``run_here``)."""
        here = getattr(self._local, "writer", None)
        if here is None:
            conn = self._connect()
            with self._readers_lock:
                self._readers.append(conn)          # closed with the store, as the readers are
            here = self._local.writer = (conn, SqliteLedger(conn, self))
        return here  # type: ignore[no-any-return]

    def read_here(self, fn: Callable[[Any], T]) -> T:
        """Run ``fn(ledger)`` on the calling thread's ``run_here`` connection between its write
        transactions: committed state only, through the same caches the batches use, inside the
        read snapshot :meth:`here_version` opened and checked the caches against (opened now if
        none is).  Raises RuntimeError inside a write transaction (its caches may hold uncommitted
        rows).  ``fn`` must not write."""
        conn, ledger = self._here()
        if not self._local.__dict__.get("reading", False):
            if conn.in_transaction:
                raise RuntimeError("read_here inside a transaction")
            self.here_version()
        return fn(ledger)

    def here_version(self) -> int:
        """Open a read snapshot on the ``run_here`` connection (until :meth:`here_release` or the
        next ``run_here``), check the connection's caches against it (``PRAGMA data_version``
        moves when another connection committed, never for this connection's own commits) and
        return that version.  Cached rows and rows read in the snapshot are then of one state."""
        conn, ledger = self._here()
        local = self._local
        if local.__dict__.get("reading", False):
            conn.execute("COMMIT")
            local.reading = False
        if conn.in_transaction:
            raise RuntimeError("here_version inside a transaction")
        conn.execute("BEGIN")
        local.reading = True
        conn.execute(_SNAPSHOT).fetchone()          # the snapshot starts at the first read
        self._check_caches(conn, ledger)
        return ledger.data_version

    def here_release(self) -> None:
        """End the read snapshot of :meth:`here_version` (if one is open)."""
        if self._local.__dict__.get("reading", False):
            self._local.reading = False
            self._here()[0].execute("COMMIT")

    def take_touched(self) -> tuple[set[str], bool]:
        """(products whose buckets or reservations the last ``run_here`` changed, whether anything
        else may have changed)."""
        ledger = self._here()[1]
        return ledger.touched, ledger.touched_all

    def _run_batch(self, conn: sqlite3.Connection, ledger: SqliteLedger, batch: list[Any]) -> None:
        """Run a batch in one transaction; if any operation raises, fall back to one transaction each.

        The fast path has no per-operation savepoint (two statements fewer per operation); an
        exception is rare (a bug or an administrative refusal), and then the whole batch is rolled
        back and replayed singly so that only the failing operation fails.
        """
        ledger.touched, ledger.touched_all = set(), False        # kept by run_here's callers only
        outcomes = self._attempt(conn, ledger, batch, stop_on_error=len(batch) > 1)
        if outcomes is None:
            outcomes = []
            for item in batch:
                single = self._attempt(conn, ledger, [item], stop_on_error=False)
                outcomes.extend(single or [])
        self.batches += 1
        self.operations += len(batch)
        by_loop: dict[Any, list[tuple[Any, bool, Any]]] = {}
        for (_fn, fut, loop), (ok, value) in zip(batch, outcomes):
            if loop is None:
                if ok:
                    fut.set_result(value)
                else:
                    fut.set_exception(value)
            else:
                by_loop.setdefault(loop, []).append((fut, ok, value))
        for loop, items in by_loop.items():
            try:
                loop.call_soon_threadsafe(_deliver, items)
            except RuntimeError:  # loop closed: nobody is waiting any more
                pass

    def run_here_steps(self, fns: list[Callable[[Any], Any]],
                       step: int) -> Generator[None, None, list[tuple[bool, Any]]]:
        """:meth:`run_here` in steps: the generator yields after every ``step`` operations with the
        transaction open, so that the caller's event loop runs between steps (reads of committed
        state, new requests queued for the next batch); its return value is ``run_here``'s, once
        committed.  Nothing else may use this thread's writer connection until it returns."""
        self.here_release()
        conn, ledger = self._here()
        ledger.touched, ledger.touched_all = set(), False
        batch = [(fn, None, None) for fn in fns]
        outcomes = yield from self._attempt_steps(conn, ledger, batch, len(batch) > 1, step)
        if outcomes is None:
            outcomes = []
            for item in batch:
                outcomes.extend(self._attempt(conn, ledger, [item], stop_on_error=False) or [])
        self.batches += 1
        self.operations += len(batch)
        return outcomes

    def _attempt(self, conn: sqlite3.Connection, ledger: SqliteLedger, batch: list[Any],
                 stop_on_error: bool) -> list[tuple[bool, Any]] | None:
        """One transaction over ``batch``; None when an operation raised and ``stop_on_error``."""
        steps = self._attempt_steps(conn, ledger, batch, stop_on_error, 0)
        try:
            while True:
                next(steps)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    def _attempt_steps(self, conn: sqlite3.Connection, ledger: SqliteLedger, batch: list[Any], stop_on_error: bool,
                       step: int) -> Generator[None, None, list[tuple[bool, Any]] | None]:
        """:meth:`_attempt`, yielding after every ``step`` operations (0: never) inside the transaction."""
        outcomes: list[tuple[bool, Any]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            ledger._events.clear()
            self._check_caches(conn, ledger)
            if len(batch) > 1:
                sessions = [r.session_id for fn, _f, _l in batch if getattr(fn, "request_key", None) is not None
                            and (r := getattr(fn, "request", None)) is not None]
                if len(sessions) > 1:
                    ledger._prefetch_answers(sessions)
            ledger.catalog_touched = ledger.inventory_touched = False
            for fn, _fut, _loop in batch:
                if step and outcomes and len(outcomes) % step == 0:
                    yield
                try:
                    outcomes.append((True, fn(ledger)))
                except Exception as exc:
                    if stop_on_error:
                        conn.execute("ROLLBACK")
                        ledger._discard()
                        self._forget_catalog()
                        return None
                    outcomes.append((False, exc))
            if outcomes and not outcomes[-1][0] and len(batch) == 1:
                conn.execute("ROLLBACK")
                ledger._discard()
            else:
                try:
                    ledger._flush()
                except Exception:
                    if stop_on_error:
                        conn.execute("ROLLBACK")
                        ledger._discard()
                        self._forget_catalog()
                        return None
                    raise
                conn.execute("COMMIT")
                ledger._answers.clear()
                events, ledger._events = ledger._events, []
                if events and self.on_commit is not None:
                    self.on_commit(events)
        except Exception as exc:
            log.error("store batch of %d failed: %s", len(batch), exc)
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            ledger._discard()
            outcomes = [(False, exc)] * len(batch)
        if ledger.catalog_touched or ledger.inventory_touched:
            self._forget_catalog()
        return outcomes

    def _check_caches(self, conn: sqlite3.Connection, ledger: SqliteLedger) -> None:
        """Under the write lock: drop what another connection may have changed since our last batch.

        ``PRAGMA data_version`` changes when any other connection (another process, or another
        store in this one) has committed; our own commits leave it alone.  When it is unchanged,
        every cached row is exactly what the database holds.  Otherwise the balance caches go, and
        the catalog/inventory generation counters decide about the catalog and subscriber caches.
        """
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        if version != ledger.data_version:       # per connection: its own commits leave it alone
            ledger.data_version = version
            ledger._drop_caches()
        elif self._catalog_gen >= 0 and self._inventory_gen >= 0:
            if len(ledger._sessions) > self.cached_sessions or len(ledger._buckets) > self.cached_products:
                ledger._drop_caches()
            return
        gens = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('catalog_gen', 'inventory_gen')"))
        if gens["catalog_gen"] != self._catalog_gen:
            self._offers.clear()
            self._tables.clear()
            self._catalog_gen = gens["catalog_gen"]
        if gens["inventory_gen"] != self._inventory_gen:
            self._subscribers.clear()
            self._inventory_gen = gens["inventory_gen"]

    def _forget_catalog(self) -> None:
        """Drop every per-process cache (after our own catalog/inventory writes or a rollback)."""
        self._offers.clear()
        self._tables.clear()
        self._catalog_gen = -1
        self._subscribers.clear()
        self._inventory_gen = -1


def _deliver(items: list[tuple[Any, bool, Any]]) -> None:
    for fut, ok, value in items:
        if fut.done():
            continue
        if ok:
            fut.set_result(value)
        else:
            fut.set_exception(value)


def migrate(conn: sqlite3.Connection) -> int:
    """Apply forward migrations under the write lock; returns the schema version."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for number, sql in migrations("sqlite"):
            if number > version:
                for statement in split_sql(sql):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number}")
                version = number
                log.info("schema migrated to version %d", number)
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
    return version
