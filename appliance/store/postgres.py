"""PostgreSQL store: the same Ledger/Store ports as SQLite, for several active-active nodes.

Driver: psycopg 3 + psycopg_pool (synchronous).  The core's ``fn(ledger)`` is
synchronous code that issues many small queries, so it must run on a thread
anyway; a pool of worker threads, each borrowing a pooled connection per
transaction, keeps the SQLite store's threading model (``transact`` blocks,
``atransact`` resolves a future on the caller's loop).  asyncpg would need the
ledger to be async (it is not: the core is protocol- and asyncio-free) or a
thread hop per query.  psycopg also prepares repeated statements itself.

Concurrency (many processes on many nodes), READ COMMITTED plus row locks:

* ``find_service``/``get_service``/``get_product`` and ``buckets`` take
  ``FOR UPDATE`` locks, in that order (service -> product -> buckets), so two
  operations on one product are serialized and every read after the product
  lock sees the other's committed result (READ COMMITTED re-snapshots per
  statement).  ``buckets()`` locks the product row first when the
  transaction has not, so housekeeping serializes with charging too.
* Reads that come *before* the lock are validated when written: a
  ``remember``/``put_doc`` of a key this transaction read as absent conflicts
  if another transaction inserted it meanwhile, and a ``drop_reservation`` of
  a reservation whose row changed since it was read conflicts.  A conflict,
  a serialization failure or a deadlock rolls the transaction back and runs
  ``fn`` again on fresh data (bounded retries, jittered back-off).  ``fn`` must
  therefore have no side effects outside the ledger -- the core's are pure.
* ``get_doc`` locks the document it finds, so read-modify-write of a session
  document is atomic across nodes, as it is in SQLite.

Durability: ``transact`` returns after ``COMMIT`` returned (``synchronous_commit``
is the server's, ``on`` by default).  A connection lost *during* COMMIT is an
ambiguous outcome and is raised, not retried; the core's idempotency keys make
the client's retransmission safe.
"""
from __future__ import annotations

import asyncio
import logging
import queue
import random
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pgerrors
from psycopg_pool import ConnectionPool

from ..ocs.balance import NewBucket, Reservation
from ..ocs.catalog import Offer, PrefixTable
from ..ocs.inventory import Bucket, Product, Service
from ..ocs.units import Unit
from . import rows
from .secrets import SecretBox
from .sqlite import migrations

T = TypeVar("T")
log = logging.getLogger("appliance.store")

RETRYABLE = (pgerrors.SerializationFailure, pgerrors.DeadlockDetected, pgerrors.LockNotAvailable)
_LOCK_KEY = "hashtext(current_schema() || ':appliance:' || %s)"
_SERVICE_S = ", ".join(f"s.{c.strip()}" for c in rows.SERVICE_COLUMNS.split(","))
_PRODUCT_P = 'p.id, p.offer, p.start, p."end", p.policy_table, p.status, p.doc'
_RESERVATION_VALUES = ", ".join(["%s"] * 13)


class Conflict(Exception):
    """Data read earlier in this transaction changed under it: roll back and run fn again."""


class PostgresLedger:
    """The Ledger port over one PostgreSQL connection inside one READ COMMITTED transaction."""

    def __init__(self, conn: psycopg.Connection[Any], cache: _Cache, pipeline: Any,
                 box: SecretBox | None = None) -> None:
        self.c = conn
        self.box = box                   # seals and opens secrets (None: clear)
        self.p = pipeline          # writes are queued; reads (fetch) and _count() flush the queue
        self.guarded: set[str] = set()   # unique keys whose violation means "changed since read"
        self.cache = cache
        self.catalog_touched = False
        self._absent_sessions: set[str] = set()    # sessions read without a last answer
        self._absent_docs: set[tuple[str, str]] = set()
        self._seen: dict[tuple[str, int, str], Reservation] = {}   # reservations as read (or written)
        self._sessions_read: set[str] = set()     # sessions whose reservations were all read
        self._dropped: set[tuple[str, int, str]] = set()
        self._locked_products: set[str] = set()
        self.events: list[object] = []             # emitted in this transaction, for on_commit

    def emit(self, event: object) -> None:
        self.events.append(event)

    def _one(self, sql: str, args: tuple[Any, ...] = ()) -> Any:
        return self.c.execute(sql, args).fetchone()

    def _all(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        return self.c.execute(sql, args).fetchall()

    def _count(self, sql: str, args: tuple[Any, ...] = ()) -> int:
        cur = self.c.execute(sql, args)
        self.p.sync()
        return cur.rowcount

    def _note(self, found: list[Reservation]) -> list[Reservation]:
        for r in found:
            self._seen[(r.session_id, r.rating_group, r.unit._value_)] = r
        return found

    # --- charging path
    def find_service(self, identity: str) -> Service | None:
        row = self._one(f"SELECT {rows.SERVICE_COLUMNS} FROM service WHERE id = "
                        "(SELECT service_id FROM service_identity WHERE identity = %s) FOR UPDATE", (identity,))
        return rows.service_from(row, self.box) if row else None

    def find_subscriber(self, identity: str) -> tuple[Service | None, Product | None]:
        """Service and its product in one round trip, both locked (service -> product order)."""
        row = self._one(f"SELECT {_SERVICE_S}, {_PRODUCT_P} FROM service_identity i "
                        "JOIN service s ON s.id = i.service_id JOIN product p ON p.id = s.product_id "
                        "WHERE i.identity = %s FOR UPDATE OF s, p", (identity,))
        if row is None:  # no such identity, or a service without (an existing) product
            return self.find_service(identity), None
        self._locked_products.add(row[12])
        return rows.service_from(row[:12], self.box), rows.product_from(row[12:])

    def get_service(self, service_id: str) -> Service | None:
        row = self._one(f"SELECT {rows.SERVICE_COLUMNS} FROM service WHERE id = %s FOR UPDATE", (service_id,))
        return rows.service_from(row, self.box) if row else None

    def get_product(self, product_id: str) -> Product | None:
        row = self._one('SELECT id, offer, start, "end", policy_table, status, doc FROM product WHERE id = %s '
                        "FOR UPDATE", (product_id,))
        if row:
            self._locked_products.add(product_id)
        return rows.product_from(row) if row else None

    def get_offer(self, name: str) -> Offer | None:
        cache = self.cache.offers
        if name in cache:
            return cache[name]
        row = self._one("SELECT doc FROM offer WHERE name = %s", (name,))
        offer = rows.offer_from(row[0]) if row else None
        cache[name] = offer
        return offer

    def get_table(self, name: str) -> PrefixTable | None:
        cache = self.cache.tables
        if name in cache:
            return cache[name]
        row = self._one("SELECT name, rates FROM prefix_table WHERE name = %s", (name,))
        table = rows.table_from(*row) if row else None
        cache[name] = table
        return table

    def buckets(self, product_id: str) -> list[Bucket]:
        """The product's buckets, locked (after the product row) for this transaction."""
        if product_id not in self._locked_products:
            self._one("SELECT 1 FROM product WHERE id = %s FOR UPDATE", (product_id,))
            self._locked_products.add(product_id)
        cur = self.c.execute(f"SELECT {rows.BUCKET_COLUMNS} FROM bucket WHERE product_id = %s ORDER BY id "
                             "FOR UPDATE", (product_id,))
        return [rows.bucket_from(r) for r in cur]

    def reservations(self, session_id: str) -> list[Reservation]:
        cur = self.c.execute(f"SELECT {rows.RESERVATION_COLUMNS} FROM reservation WHERE session_id = %s",
                             (session_id,))
        self._sessions_read.add(session_id)
        return self._note([rows.reservation_from(r) for r in cur])

    def product_reservations(self, product_id: str) -> list[Reservation]:
        cur = self.c.execute(f"SELECT {rows.RESERVATION_COLUMNS} FROM reservation WHERE product_id = %s",
                             (product_id,))
        return self._note([rows.reservation_from(r) for r in cur])

    def set_bucket_remaining(self, bucket_id: int, remaining: int) -> None:
        self.c.execute("UPDATE bucket SET remaining = %s WHERE id = %s", (remaining, bucket_id))

    def add_bucket(self, bucket: NewBucket, start: int | None = None) -> int:
        row = self._one('INSERT INTO bucket (product_id, unit, remaining, start, "end", name) '
                        "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                        (bucket.product_id, bucket.unit.value, bucket.remaining, start, bucket.end, bucket.name))
        return int(row[0])

    def put_reservation(self, reservation: Reservation) -> None:
        """Insert or replace; replacing a row read earlier checks it is still what was read."""
        key = (reservation.session_id, reservation.rating_group, reservation.unit._value_)
        values = rows.reservation_row(reservation)
        seen = self._seen.get(key)
        if seen is not None:
            old = rows.reservation_row(seen)
            self.c.execute(
                "WITH u AS (UPDATE reservation SET product_id = %s, service_id = %s, unit = %s, granted = %s, "
                "holds = %s, rate = %s, size = %s, created = %s, expires = %s, used = %s, paid = %s "
                "WHERE session_id = %s AND rating_group = %s AND unit = %s "
                "AND (product_id, service_id, unit, granted, holds, rate, size, created, expires, used, paid) "
                "IS NOT DISTINCT FROM (%s, %s, %s, %s::bigint, %s, %s::bigint, %s::bigint, %s::bigint, %s::bigint, "
                "%s::bigint, %s::bigint) "
                "RETURNING 1) SELECT appliance_conflict('reservation changed since it was read') "
                "WHERE NOT EXISTS (SELECT 1 FROM u)",
                (*values[2:], *key, *old[2:]))
        elif reservation.session_id in self._sessions_read and key not in self._dropped:
            # read as absent: a duplicate key means another transaction created it meanwhile
            self.guarded.add("reservation_pkey")
            self.c.execute(f"INSERT INTO reservation ({rows.RESERVATION_COLUMNS}) VALUES ({_RESERVATION_VALUES})",
                           values)
        else:
            self.c.execute(f"INSERT INTO reservation ({rows.RESERVATION_COLUMNS}) VALUES ({_RESERVATION_VALUES}) "
                           "ON CONFLICT (session_id, rating_group, unit) DO UPDATE SET "
                           "product_id = EXCLUDED.product_id, service_id = EXCLUDED.service_id, "
                           "unit = EXCLUDED.unit, granted = EXCLUDED.granted, holds = EXCLUDED.holds, "
                           "rate = EXCLUDED.rate, size = EXCLUDED.size, created = EXCLUDED.created, "
                           "expires = EXCLUDED.expires, used = EXCLUDED.used, paid = EXCLUDED.paid", values)
        self._seen[key] = reservation

    def drop_reservation(self, session_id: str, rating_group: int, unit: Unit) -> None:
        """Delete; a reservation read earlier must still be what was read, an absent one still absent."""
        key = (session_id, rating_group, unit._value_)
        row = self._one(f"DELETE FROM reservation WHERE session_id = %s AND rating_group = %s AND unit = %s "
                        f"RETURNING {rows.RESERVATION_COLUMNS}", key)
        seen = self._seen.pop(key, None)
        found = rows.reservation_from(row) if row else None
        if seen is not None and found != seen:
            raise Conflict(f"reservation {session_id}/{rating_group} changed since it was read")
        if seen is None and found is not None and session_id in self._sessions_read and key not in self._dropped:
            raise Conflict(f"reservation {session_id}/{rating_group} was created concurrently")
        self._dropped.add(key)

    def recall(self, session_id: str, key: str) -> str | None:
        """The session's last answer if it is ``key``'s.  The row is locked: a retransmission of the
        same request in a concurrent transaction waits here, then reads the answer committed."""
        row = self._one("SELECT key, result FROM last_answer WHERE session_id = %s FOR UPDATE", (session_id,))
        if row is None:
            self._absent_sessions.add(session_id)
            return None
        return str(row[1]) if row[0] == key else None

    def session_ended(self, session_id: str) -> bool:
        row = self._one("SELECT final FROM last_answer WHERE session_id = %s", (session_id,))
        return bool(row and row[0])

    def remember(self, session_id: str, key: str, now: int, result: str, final: bool) -> None:
        args = (session_id, key, now, result, 1 if final else 0)
        if session_id in self._absent_sessions:   # a duplicate key: the session was answered concurrently
            self.guarded.add("last_answer_pkey")
            self.c.execute("INSERT INTO last_answer (session_id, key, created, result, final) "
                           "VALUES (%s, %s, %s, %s, %s)", args)
            self._absent_sessions.discard(session_id)
            return
        self.c.execute("INSERT INTO last_answer (session_id, key, created, result, final) VALUES (%s, %s, %s, %s, %s) "
                       "ON CONFLICT (session_id) DO UPDATE SET key = EXCLUDED.key, created = EXCLUDED.created, "
                       "result = EXCLUDED.result, final = EXCLUDED.final", args)

    # --- catalog administration
    def _touch_catalog(self) -> None:
        self.c.execute("UPDATE meta SET value = value + 1 WHERE key = 'catalog_gen'")
        self.catalog_touched = True

    def put_offer(self, offer: Offer) -> None:
        self.c.execute("INSERT INTO offer (name, doc) VALUES (%s, %s) ON CONFLICT (name) DO UPDATE "
                       "SET doc = EXCLUDED.doc", rows.offer_row(offer))
        self._touch_catalog()

    def delete_offer(self, name: str) -> bool:
        self._touch_catalog()
        return self._count("DELETE FROM offer WHERE name = %s", (name,)) > 0

    def list_offers(self) -> list[Offer]:
        return [rows.offer_from(r[0]) for r in self._all("SELECT doc FROM offer ORDER BY name")]

    def put_table(self, table: PrefixTable) -> None:
        self.c.execute("INSERT INTO prefix_table (name, rates) VALUES (%s, %s) ON CONFLICT (name) DO UPDATE "
                       "SET rates = EXCLUDED.rates", (table.name, rows.dumps(dict(table.rates))))
        self._touch_catalog()

    def delete_table(self, name: str) -> bool:
        self._touch_catalog()
        return self._count("DELETE FROM prefix_table WHERE name = %s", (name,)) > 0

    def list_tables(self) -> list[PrefixTable]:
        return [rows.table_from(*r) for r in self._all("SELECT name, rates FROM prefix_table ORDER BY name")]

    # --- inventory administration
    def put_product(self, product: Product) -> None:
        self.c.execute('INSERT INTO product (id, offer, start, "end", policy_table, status, doc) '
                       "VALUES (%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (id) DO UPDATE SET offer = EXCLUDED.offer, "
                       'start = EXCLUDED.start, "end" = EXCLUDED."end", policy_table = EXCLUDED.policy_table, '
                       "status = EXCLUDED.status, doc = EXCLUDED.doc", rows.product_row(product))

    def delete_product(self, product_id: str) -> bool:
        # Lock order as on the charging path: services, product, buckets.
        self.c.execute("UPDATE service SET product_id = NULL WHERE product_id = %s", (product_id,))
        found = self._count("DELETE FROM product WHERE id = %s", (product_id,)) > 0
        self.c.execute("DELETE FROM bucket WHERE product_id = %s", (product_id,))
        return found

    def list_products(self) -> list[Product]:
        return [rows.product_from(r) for r in
                self._all('SELECT id, offer, start, "end", policy_table, status, doc FROM product ORDER BY id')]

    def put_service(self, service: Service) -> None:
        for identity in service.identities():
            row = self._one("SELECT service_id FROM service_identity WHERE identity = %s", (identity,))
            if row and row[0] != service.id:
                raise ValueError(f"identity {identity} already belongs to service {row[0]}")
        self.c.execute(f"INSERT INTO service ({rows.SERVICE_COLUMNS}) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) "
                       "ON CONFLICT (id) DO UPDATE SET product_id = EXCLUDED.product_id, imsi = EXCLUDED.imsi, "
                       "msisdn = EXCLUDED.msisdn, nai = EXCLUDED.nai, enabled = EXCLUDED.enabled, "
                       "password = EXCLUDED.password, k = EXCLUDED.k, opc = EXCLUDED.opc, amf = EXCLUDED.amf, "
                       "sqn = EXCLUDED.sqn, doc = EXCLUDED.doc", rows.service_row(service, self.box))
        self.c.execute("DELETE FROM service_identity WHERE service_id = %s", (service.id,))
        with self.c.cursor() as cur:
            cur.executemany("INSERT INTO service_identity (identity, service_id) VALUES (%s, %s)",
                            [(i, service.id) for i in service.identities()])

    # --- bulk provisioning
    def put_subscribers(self, products: Sequence[Product], services: Sequence[Service]) -> None:
        """Products and services put as by put_product/put_service, many rows per statement."""
        pairs = [(i, s.id) for s in services for i in s.identities()]
        owners = self.identity_owners([i for i, _s in pairs])
        for identity, service_id in pairs:
            if owners.get(identity, service_id) != service_id:
                raise ValueError(f"identity {identity} already belongs to service {owners[identity]}")
        with self.c.cursor() as cur:
            if products:
                cur.executemany('INSERT INTO product (id, offer, start, "end", policy_table, status, doc) '
                                "VALUES (%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (id) DO UPDATE SET offer = EXCLUDED.offer, "
                                'start = EXCLUDED.start, "end" = EXCLUDED."end", policy_table = EXCLUDED.policy_table, '
                                "status = EXCLUDED.status, doc = EXCLUDED.doc", [rows.product_row(p) for p in products])
            if not services:
                return
            cur.executemany(f"INSERT INTO service ({rows.SERVICE_COLUMNS}) "
                            "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) "
                            "ON CONFLICT (id) DO UPDATE SET product_id = EXCLUDED.product_id, imsi = EXCLUDED.imsi, "
                            "msisdn = EXCLUDED.msisdn, nai = EXCLUDED.nai, enabled = EXCLUDED.enabled, "
                            "password = EXCLUDED.password, k = EXCLUDED.k, opc = EXCLUDED.opc, amf = EXCLUDED.amf, "
                            "sqn = EXCLUDED.sqn, doc = EXCLUDED.doc", [rows.service_row(s, self.box) for s in services])
            self.c.execute("DELETE FROM service_identity WHERE service_id = ANY(%s)", ([s.id for s in services],))
            cur.executemany("INSERT INTO service_identity (identity, service_id) VALUES (%s, %s)", pairs)

    def identity_owners(self, identities: Sequence[str]) -> dict[str, str]:
        """The services owning those of ``identities`` that are known."""
        return {i: s for i, s in self._all("SELECT identity, service_id FROM service_identity "
                                           "WHERE identity = ANY(%s)", (list(identities),))}

    def replace_buckets(self, buckets: Sequence[NewBucket]) -> int:
        """The buckets replace every bucket of their products that has one of their names; returns
        how many went."""
        named = list(dict.fromkeys((b.product_id, b.name) for b in buckets))
        gone = self._count("DELETE FROM bucket b USING unnest(%s::text[], %s::text[]) AS n(p, m) "
                           'WHERE b.product_id = n.p COLLATE "C" AND b.name = n.m',
                           ([p for p, _m in named], [m for _p, m in named]))
        with self.c.cursor() as cur:
            cur.executemany('INSERT INTO bucket (product_id, unit, remaining, start, "end", name) '
                            "VALUES (%s, %s, %s, NULL, %s, %s)",
                            [(b.product_id, b.unit.value, b.remaining, b.end, b.name) for b in buckets])
        return gone

    def delete_service(self, service_id: str) -> bool:
        self.c.execute("DELETE FROM service_identity WHERE service_id = %s", (service_id,))
        return self._count("DELETE FROM service WHERE id = %s", (service_id,)) > 0

    def list_services(self) -> list[Service]:
        found = self._all(f"SELECT {rows.SERVICE_COLUMNS} FROM service ORDER BY id")
        return [rows.service_from(r, self.box) for r in found]

    def set_sqn(self, service_id: str, sqn: int) -> None:
        self.c.execute("UPDATE service SET sqn = %s WHERE id = %s", (sqn, service_id))

    def delete_bucket(self, bucket_id: int) -> bool:
        return self._count("DELETE FROM bucket WHERE id = %s", (bucket_id,)) > 0

    def get_bucket(self, bucket_id: int) -> Bucket | None:
        row = self._one(f"SELECT {rows.BUCKET_COLUMNS} FROM bucket WHERE id = %s", (bucket_id,))
        return rows.bucket_from(row) if row else None

    def list_buckets(self, product_id: str | None = None) -> list[Bucket]:
        if product_id is None:
            found = self._all(f"SELECT {rows.BUCKET_COLUMNS} FROM bucket ORDER BY id")
        else:
            found = self._all(f"SELECT {rows.BUCKET_COLUMNS} FROM bucket WHERE product_id = %s ORDER BY id",
                              (product_id,))
        return [rows.bucket_from(r) for r in found]

    def put_client(self, client: dict[str, Any]) -> None:
        self.c.execute("INSERT INTO client (address, protocol, doc) VALUES (%s, %s, %s) ON CONFLICT (address) "
                       "DO UPDATE SET protocol = EXCLUDED.protocol, doc = EXCLUDED.doc",
                       (client["address"], client["protocol"], rows.client_doc(client, self.box)))

    def delete_client(self, address: str) -> bool:
        return self._count("DELETE FROM client WHERE address = %s", (address,)) > 0

    def list_clients(self, protocol: str | None = None) -> list[dict[str, Any]]:
        if protocol is None:
            found = self._all("SELECT doc FROM client ORDER BY address")
        else:
            found = self._all("SELECT doc FROM client WHERE protocol = %s ORDER BY address", (protocol,))
        return [rows.client_from(r[0], self.box) for r in found]

    # --- housekeeping
    def expired_reservations(self, now: int, limit: int) -> list[Reservation]:
        cur = self.c.execute(f"SELECT {rows.RESERVATION_COLUMNS} FROM reservation WHERE expires <= %s "
                             "ORDER BY expires LIMIT %s", (now, limit))
        return self._note([rows.reservation_from(r) for r in cur])

    def delete_expired_buckets(self, now: int) -> int:
        # a bucket below zero is a debt: it outlives its validity until paid
        return self._count('DELETE FROM bucket WHERE "end" IS NOT NULL AND "end" <= %s AND remaining >= 0', (now,))

    def forget_requests(self, final_before: int, open_before: int) -> int:
        return (self._count("DELETE FROM last_answer WHERE final = 1 AND created < %s", (final_before,))
                + self._count("DELETE FROM last_answer WHERE final = 0 AND created < %s", (open_before,)))

    def counts(self) -> dict[str, int]:
        result = {}
        for table in ("offer", "product", "service", "bucket", "reservation", "client"):
            result[table] = int(self._one(f"SELECT count(*) FROM {table}")[0])
        return result

    # --- documents
    def put_doc(self, kind: str, key: str, doc: dict[str, Any]) -> None:
        if (kind, key) in self._absent_docs:   # a duplicate key: created concurrently
            self.guarded.add("doc_pkey")
            self.c.execute("INSERT INTO doc (kind, key, doc) VALUES (%s, %s, %s)", (kind, key, rows.dumps(doc)))
            self._absent_docs.discard((kind, key))
            return
        self.c.execute("INSERT INTO doc (kind, key, doc) VALUES (%s, %s, %s) ON CONFLICT (kind, key) "
                       "DO UPDATE SET doc = EXCLUDED.doc", (kind, key, rows.dumps(doc)))

    def get_docs(self, kind: str, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The documents of ``kind`` found under ``keys`` (each read as ``get_doc`` reads it)."""
        return {k: d for k in keys if (d := self.get_doc(kind, k)) is not None}

    def get_doc(self, kind: str, key: str) -> dict[str, Any] | None:
        import json
        row = self._one("SELECT doc FROM doc WHERE kind = %s AND key = %s FOR UPDATE", (kind, key))
        if row is None:
            self._absent_docs.add((kind, key))
            return None
        return json.loads(row[0])  # type: ignore[no-any-return]

    def read_doc(self, kind: str, key: str) -> dict[str, Any] | None:
        return self.get_doc(kind, key)

    def delete_doc(self, kind: str, key: str) -> bool:
        self._absent_docs.discard((kind, key))
        return self._count("DELETE FROM doc WHERE kind = %s AND key = %s", (kind, key)) > 0

    def fence(self, shard: int, epoch: int) -> None:
        """The ledger's lease fence (``store/leases.py``): this transaction goes on only while ``epoch``
        is the shard's owner epoch.  ``FOR SHARE``: a new owner's takeover (its UPDATE of the row)
        waits for this transaction to end, and a transaction that starts after it fails here."""
        row = self._one("SELECT epoch FROM ledger_owner WHERE shard = %s FOR SHARE", (shard,))
        if row is None or int(row[0]) != epoch:
            from .leases import LeaseLost
            raise LeaseLost(shard)

    def list_docs(self, kind: str, prefix: str = "") -> list[tuple[str, dict[str, Any]]]:
        import json
        found = self._all("SELECT key, doc FROM doc WHERE kind = %s AND key >= %s AND key < %s ORDER BY key",
                          (kind, prefix, prefix + "\uffff"))
        return [(k, json.loads(d)) for k, d in found]


class _Cache:
    """One worker's catalog cache, valid while meta.catalog_gen is unchanged."""

    __slots__ = ("gen", "offers", "tables")

    def __init__(self) -> None:
        self.offers: dict[str, Offer | None] = {}
        self.tables: dict[str, PrefixTable | None] = {}
        self.gen = -1

    def check(self, gen: int) -> None:
        if gen != self.gen:
            self.offers.clear()
            self.tables.clear()
            self.gen = gen


_STOP = object()


class PostgresStore:
    """Pool of worker threads, each running one transaction at a time on a pooled connection."""

    backend = "postgres"

    def __init__(self, dsn: str, pool_size: int = 4, retries: int = 30, connect_timeout: float = 30.0,
                 box: SecretBox | None = None) -> None:
        self.box = box
        if not dsn:
            raise ValueError("database.dsn is required when database.backend is postgres")
        self.dsn = dsn
        self.retries = retries
        self.operations = 0
        self.conflicts = 0         # transactions rolled back and run again
        # Called on the worker thread with the events of each committed transaction.
        self.on_commit: Callable[[list[object]], None] | None = None
        self._q: queue.SimpleQueue[Any] = queue.SimpleQueue()
        with psycopg.connect(dsn, autocommit=True, connect_timeout=int(connect_timeout)) as conn:
            migrate(conn)
        self._pool = ConnectionPool(dsn, min_size=pool_size, max_size=pool_size, timeout=connect_timeout,
                                    kwargs=_kwargs(dsn, "appliance-store"), name="appliance-store", open=True)
        self._leader_lock = threading.Lock()
        self._leader_conn: psycopg.Connection[Any] | None = None
        self._changes_lock = threading.Lock()
        self._changes_conn: psycopg.Connection[Any] | None = None     # the change signal's reads
        self._leading: set[str] = set()
        self._workers = [threading.Thread(target=self._worker, name=f"store-pg-{i}", daemon=True)
                         for i in range(pool_size)]
        for t in self._workers:
            t.start()

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

    def changes(self, since: int) -> tuple[int, int, list[str]]:
        """The change signal of authorization inputs (migration 0007): (cursor, catalog generation,
        the service and product ids written by transactions whose id is at least ``since``).  The
        cursor is the oldest transaction still running at this read: a transaction committing later
        has an id at least that high, so the next call with it reports its ids (some ids twice).
        ``since`` < 0: the cursor only."""
        with self._changes_lock:               # a connection of its own: never waits for the pool
            conn = self._changes_conn
            if conn is None or conn.closed or conn.broken:
                conn = self._changes_conn = psycopg.connect(self.dsn, connect_timeout=2,
                                                            **_kwargs(self.dsn, "appliance-changes"))
            try:
                with conn.transaction():
                    cursor, catalog = conn.execute(
                        "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint, "
                        "(SELECT value FROM meta WHERE key = 'catalog_gen')").fetchone()  # type: ignore[misc]
                    keys = [] if since < 0 else [r[0] for r in conn.execute(
                        "SELECT key FROM product_change WHERE seq >= %s", (since,))]
            except psycopg.OperationalError:
                conn.close()                       # the next look reconnects; this one fails
                self._changes_conn = None
                raise
        return int(cursor), int(catalog), keys

    def try_leader(self, name: str) -> bool:
        """True while this process holds the session advisory lock ``name`` (e.g. housekeeping).

        The lock lives as long as a dedicated connection: if this process or its
        connection dies, the server releases it and another node's next call wins.
        """
        with self._leader_lock:
            conn = self._leader_conn
            if conn is not None:
                try:
                    conn.execute("SELECT 1")
                except psycopg.Error:
                    log.warning("leader connection lost; leadership of %s dropped", sorted(self._leading))
                    self._leading.clear()
                    conn.close()
                    conn = self._leader_conn = None
            if name in self._leading:
                return True
            try:
                if conn is None:
                    conn = self._leader_conn = psycopg.connect(self.dsn, connect_timeout=10,
                                                               **_kwargs(self.dsn, "appliance-leader"))
                got = bool(conn.execute(f"SELECT pg_try_advisory_lock({_LOCK_KEY})", (name,)).fetchone()[0])
            except psycopg.Error as exc:
                log.warning("cannot try leadership of %s: %s", name, exc)
                return False
            if got:
                self._leading.add(name)
                log.info("this process now leads %s", name)
            return got

    def close(self) -> None:
        if any(t.is_alive() for t in self._workers):
            for _ in self._workers:
                self._q.put(_STOP)
            for t in self._workers:
                t.join(timeout=30)
        with self._leader_lock:
            if self._leader_conn is not None:
                self._leader_conn.close()
                self._leader_conn = None
                self._leading.clear()
        with self._changes_lock:
            if self._changes_conn is not None:
                self._changes_conn.close()
                self._changes_conn = None
        self._pool.close()

    # --- workers
    def _worker(self) -> None:
        cache = _Cache()
        while True:
            item = self._q.get()
            if item is _STOP:
                break
            fn, fut, loop = item
            try:
                outcome: tuple[bool, Any] = (True, self._run(fn, cache))
            except BaseException as exc:  # the caller gets it
                outcome = (False, exc)
            self.operations += 1
            if loop is None:
                _settle(fut, *outcome)
            else:
                try:
                    loop.call_soon_threadsafe(_deliver, fut, *outcome)
                except RuntimeError:  # loop closed: nobody is waiting any more
                    pass

    def _run(self, fn: Callable[[Any], T], cache: _Cache) -> T:
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._attempt(fn, cache)
            except (Conflict, *RETRYABLE) as exc:
                self.conflicts += 1
                if attempt >= self.retries:
                    log.error("transaction gave up after %d attempts: %s", attempt, exc)
                    raise
                time.sleep(random.uniform(0, min(0.002 * 2 ** attempt, 0.1)))
            except _Reconnect as exc:
                if attempt >= self.retries:
                    raise exc.__cause__ or exc from None
                log.warning("database connection lost before commit, retrying: %s", exc.__cause__)
                time.sleep(min(0.05 * attempt, 1.0))

    def _attempt(self, fn: Callable[[Any], T], cache: _Cache) -> T:
        """One transaction in pipeline mode: reads wait for their answer, writes and COMMIT are queued
        and travel with the next read (or together at the end), saving a round trip per write."""
        with self._pool.connection() as conn:
            committing = False
            ledger: PostgresLedger | None = None
            try:
                with conn.pipeline() as pipeline:
                    conn.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
                    cur = conn.execute("SELECT value FROM meta WHERE key = 'catalog_gen'")
                    cache.check(int(cur.fetchone()[0]))  # type: ignore[index]
                    ledger = PostgresLedger(conn, cache, pipeline, self.box)
                    result = fn(ledger)
                    committing = True
                    conn.execute("COMMIT")
            except BaseException as exc:
                if conn.broken or conn.closed:
                    if not committing and isinstance(exc, psycopg.OperationalError):
                        raise _Reconnect() from exc
                    raise
                if isinstance(exc, pgerrors.InvalidSqlStatementName):
                    # psycopg counted as prepared a statement whose Parse was skipped when an earlier
                    # error aborted the pipeline (psycopg/psycopg#280-like): this connection's prepared
                    # statement cache is wrong.  Nothing was committed (the pipeline's COMMIT was
                    # skipped too); close the connection so the pool replaces it, and run again.
                    conn.close()
                    raise Conflict("stale prepared statement on a pooled connection") from exc
                try:
                    conn.execute("ROLLBACK")
                except psycopg.Error:
                    pass
                if _is_conflict(exc, ledger):
                    raise Conflict(str(exc).strip()) from exc
                raise
            assert ledger is not None
            if ledger.catalog_touched:
                cache.check(-1)
            if ledger.events and self.on_commit is not None:
                self.on_commit(ledger.events)
            return result


def _is_conflict(exc: BaseException, ledger: PostgresLedger | None) -> bool:
    """A queued conditional write found its row changed since it was read (see PostgresLedger)."""
    if not isinstance(exc, psycopg.Error) or exc.diag is None:
        return False
    if exc.sqlstate == "AP409":
        return True
    return (isinstance(exc, pgerrors.UniqueViolation) and ledger is not None
            and exc.diag.constraint_name in ledger.guarded)


def _kwargs(dsn: str, application: str) -> dict[str, Any]:
    """Connection options: autocommit (transactions are explicit), a name in pg_stat_activity."""
    kwargs: dict[str, Any] = {"autocommit": True}
    if "application_name" not in dsn:
        kwargs["application_name"] = application
    return kwargs


class _Reconnect(Exception):
    """The connection broke before COMMIT was sent: safe to run the transaction again."""


def _settle(fut: Future[Any], ok: bool, value: Any) -> None:
    if ok:
        fut.set_result(value)
    else:
        fut.set_exception(value)


def _deliver(fut: Any, ok: bool, value: Any) -> None:
    if fut.done():
        return
    if ok:
        fut.set_result(value)
    else:
        fut.set_exception(value)


def migrate(conn: psycopg.Connection[Any]) -> int:
    """Apply forward migrations in one transaction under an advisory lock; returns the schema version.

    Version numbers are shared with the SQLite migrations (``NNNN_name.sql``), so
    both backends describe the same schema at the same version.
    """
    with conn.transaction():
        conn.execute(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})", ("migrate",))
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migration (version INTEGER PRIMARY KEY, "
                     "applied TIMESTAMPTZ NOT NULL DEFAULT now())")
        row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migration").fetchone()
        version = int(row[0]) if row else 0
        for number, sql in migrations("postgres"):
            if number > version:
                conn.execute(sql.encode())
                conn.execute("INSERT INTO schema_migration (version) VALUES (%s)", (number,))
                version = number
                log.info("postgres schema migrated to version %d", number)
    return version


def schema_version(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT to_regclass('schema_migration') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migration").fetchone()
    return int(row[0]) if row else 0
