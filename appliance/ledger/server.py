"""The ledger role: the process that changes balances, serving front ends on a local socket.

``appliance run ledger`` opens the store (group commit: one transaction and one fsync for
whatever arrived together), listens on ``<run_dir>/ledger.sock`` (mode 0600) and runs each
request as one named operation (:mod:`appliance.ledger.operations`).  An answer leaves only
after its transaction committed, so a crash (kill -9) loses no acknowledged operation; front
ends resend what was in flight (every operation sent here carries an idempotency key or changes
nothing), and the store's remembered answers make the resend harmless.

The front ends' protocol work (decoding, answers, logs) stays in their own processes; this
process does the charging and the store, on its own core.
"""
from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import Config, charging_policy
from ..ocs.ports import Ledger, Store
from ..ocs.rating import ChargingPolicy
from ..runtime import run_async
from ..store.leases import LeaseLost
from ..telemetry import metrics
from . import operations as _ops
from . import peers, protocol, reads, shards
from .api import attach

log = logging.getLogger("appliance.ledger")

# Operations of a batch run between two turns of the loop (reads are answered in between): ~2 ms.
STEP = 32


def socket_path(cfg: Config, index: int = 0) -> Path:
    """The local socket of ledger process ``index`` (``processes.ledger`` of them on a node)."""
    return cfg.path(cfg.run_dir) / ("ledger.sock" if index == 0 else f"ledger-{index}.sock")


class _Session:
    __slots__ = ("session_id",)

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id


class _Op:
    """A named operation as a store operation: ``request`` (its session) and ``request_key`` let the
    store read the remembered answers of a whole batch in one statement (``ocs.ports.Store``)."""

    __slots__ = ("fn", "args", "request", "request_key", "fence")

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...], key: tuple[str, str] | None) -> None:
        self.fn, self.args = fn, args
        self.request = _Session(key[0]) if key is not None else None
        self.request_key = key[1] if key is not None else None
        self.fence: tuple[int, int] | None = None      # PostgreSQL: (shard, owner epoch) checked first

    def __call__(self, l: Ledger) -> Any:
        if self.fence is not None:
            l.fence(*self.fence)  # type: ignore[attr-defined]
        return self.fn(l, *self.args)


class _Connection(asyncio.Protocol):
    def __init__(self, server: LedgerServer, secret: str | None = None) -> None:
        self.server = server
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.out: list[bytes] = []
        self.flushing = False
        self.secret = secret                  # a TCP peer: not one frame decoded before it proves it
        self.nonce = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        metrics.inc("ledger.connections")
        if self.secret is not None:
            self.nonce = peers.challenge()
            transport.write(self.nonce)  # type: ignore[attr-defined]
            asyncio.get_running_loop().call_later(peers.AUTH_TIMEOUT, self._auth_expired)

    def _auth_expired(self) -> None:
        if self.secret is not None and self.transport is not None:
            self._refuse("no answer to the challenge")

    def _refuse(self, why: str) -> None:
        metrics.inc("ledger.peers_refused")
        peer = self.transport.get_extra_info("peername") if self.transport is not None else None
        log.warning("ledger: peer %s refused: %s", peer, why)
        if self.transport is not None:
            self.transport.close()
        self.transport = None

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.secret is not None:
            if len(self.buffer) < 2 * peers.NONCE:
                return
            answer, theirs = bytes(self.buffer[:peers.NONCE]), bytes(self.buffer[peers.NONCE:2 * peers.NONCE])
            if not peers.verify(self.secret, self.nonce, answer):
                self._refuse("wrong answer to the challenge")
                return
            del self.buffer[:2 * peers.NONCE]
            if self.transport is not None:
                self.transport.write(peers.proof(self.secret, theirs, ledger=True))
            self.secret = None
            metrics.inc("ledger.peers_accepted")
        try:
            frames = protocol.unframe(self.buffer)
        except (protocol.FrameTooLong, ValueError, EOFError, TypeError) as exc:
            log.warning("ledger: bad frame from a front end, connection closed: %s", exc)
            metrics.inc("ledger.bad_frames")
            if self.transport is not None:
                self.transport.close()
            return
        for f in frames:
            self.server.submit(self, f)

    def send(self, payload: bytes) -> None:
        self.out.append(payload)
        if not self.flushing:
            self.flushing = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self.flushing = False
        if self.transport is not None and self.out:
            self.transport.write(b"".join(self.out))
        self.out.clear()


class LedgerServer:
    def __init__(self, store: Store, policy: ChargingPolicy, inline: bool = True,
                 ownership: shards.Ownership | None = None) -> None:
        self.store = store
        self.ownership = ownership            # None: every operation is this ledger's (no shards)
        # PostgreSQL: several nodes, so each transaction of a shard is fenced by its owner epoch
        self.fencing = ownership is not None and getattr(store, "backend", "") == "postgres"
        self.ops = _ops.operations(policy)
        self.read: Callable[[Callable[[Ledger], Any]], Any] | None = getattr(store, "read", None)
        # SQLite: batches run on the event loop's thread (``run_here``); else the store's writer
        self.run_here: Callable[[list[Any]], list[tuple[bool, Any]]] | None = (
            getattr(store, "run_here", None) if inline else None)
        # Reads answered from memory between batches (SQLite on this thread: ``reads.ReadModel``).
        self.memory = reads.ReadModel(store, getattr(store, "cached_docs", 200_000)) \
            if self.run_here is not None and hasattr(store, "read_here") else None
        self.in_batch = False
        self.run_steps: Callable[[list[Any], int], Any] | None = (
            getattr(store, "run_here_steps", None) if self.run_here is not None else None)
        self.unsent: list[Any] = []           # connections with read answers of this turn not yet written
        self.batch_max = getattr(store, "batch_max", 512)
        self.pending: list[tuple[_Connection, int, _Op]] = []
        self.draining = False
        self.inflight = 0
        self.idle = asyncio.Event()
        self.idle.set()

    def submit(self, conn: _Connection, message: Any) -> None:
        try:
            req_id, name, args = message
            fn, key_of = self.ops[name]
            args = tuple(args)
            op = _Op(fn, args, key_of(args) if key_of is not None else None)
        except (KeyError, ValueError, TypeError, IndexError) as exc:
            metrics.inc("ledger.bad_requests")
            conn.send(protocol.frame((message[0] if isinstance(message, tuple) and message else 0, False,
                                      ("BadRequest", str(exc)))))
            return
        metrics.inc("ledger.requests")
        if self.ownership is not None and name not in _ops.READS:
            h = shards.hint(name, args)
            if h is not None:
                key = self.ownership.cached(h)
                if key is None:
                    if self.read is None:           # PostgreSQL: the hint resolved in a transaction
                        self._resolve(conn, req_id, name, op, h)
                        return
                    try:
                        key = self._resolved(h, self.read(lambda l: shards.product_key(l, name, args, h)))
                    except Exception:       # busy (a WAL recovery): resolved in a transaction
                        self._resolve(conn, req_id, name, op, h)
                        return
                if self._refused(conn, req_id, key, op):
                    return
        self._admit(conn, req_id, name, op)

    def _resolved(self, h: shards.Hint, key: str) -> str:
        assert self.ownership is not None
        self.ownership.learn(h, key)
        return key

    def _resolve(self, conn: _Connection, req_id: int, name: str, op: _Op, h: shards.Hint) -> None:
        args = op.args
        fut = self.store.atransact(lambda l: shards.product_key(l, name, args, h))

        def done(f: asyncio.Future[str]) -> None:
            if f.exception() is not None:
                self.inflight += 1
                self._reply(conn, req_id, False, f.exception())
            elif not self._refused(conn, req_id, self._resolved(h, f.result()), op):
                self._admit(conn, req_id, name, op)
        fut.add_done_callback(done)  # type: ignore[attr-defined]

    def _refused(self, conn: _Connection, req_id: int, key: str, op: _Op) -> bool:
        """Answer "not mine" (with the owner when known) unless this ledger holds the key's shard."""
        assert self.ownership is not None
        refusal = self.ownership.refusal(key)
        if refusal is None:
            if self.fencing:
                shard = shards.shard_of(key, self.ownership.shards)
                epoch = self.ownership.epochs.get(shard)
                if epoch is not None:
                    op.fence = (shard, epoch)
            return False
        metrics.inc("ledger.not_mine")
        owner = refusal.owner or ("", "", "")
        conn.send(protocol.frame((req_id, False, ("NotMine", str(refusal), None, None,
                                                  (refusal.shard, *owner)))))
        return True

    def _admit(self, conn: _Connection, req_id: int, name: str, op: _Op) -> None:
        if name in _ops.READS and self.read is not None:
            try:
                value = self._read(name, op)
            except Exception:           # busy (a WAL recovery) or a bug: the writer's transaction decides
                metrics.inc("ledger.read_fallbacks")
            else:
                metrics.inc("ledger.reads")
                conn.send(protocol.frame((req_id, True, value)))
                if self.draining:           # a batch runs in this turn: the answer leaves before it
                    self.unsent.append(conn)
                return
        self.inflight += 1
        self.idle.clear()
        if self.run_here is not None:
            self.pending.append((conn, req_id, op))
            if not self.draining:
                self.draining = True
                asyncio.get_running_loop().call_soon(self._drain)
            return
        fut = self.store.atransact(op)
        fut.add_done_callback(lambda f: self._answer(conn, req_id, f))  # type: ignore[attr-defined]

    def _read(self, name: str, op: _Op) -> Any:
        """A read at once: from memory between batches, else the store's read path (a WAL snapshot
        of what is committed: during a batch, the value before it)."""
        memory = self.memory
        if memory is not None and name in reads.ANSWERED:
            try:
                if not self.in_batch:
                    return memory.answer(name, op.args)
                kept = memory.kept(name, op.args)       # a batch is open: committed answers only
                if kept is not None:
                    return kept[0]
            except Exception:           # busy, or a refusal the read path raises the same way
                metrics.inc("ledger.memory_fallbacks")
        assert self.read is not None
        return self.read(op)

    def _drain(self) -> None:
        """What arrived since the last batch (up to ``batch_max``), as one transaction on this
        thread (group commit: one fsync); the answers leave once it is committed.  The batch runs
        in steps of :data:`STEP` operations with the loop turning in between, so that reads are
        answered (from committed state) while it runs; requests arriving meanwhile wait for the
        next batch."""
        self.draining = False
        for conn in self.unsent:
            flush = getattr(conn, "_flush", None)
            if flush is not None:
                flush()
        self.unsent.clear()
        if self.in_batch or not self.pending:
            return                      # the open batch schedules the next one when it ends
        part, self.pending = self.pending[:self.batch_max], self.pending[self.batch_max:]
        if self.memory is not None:
            try:
                self.memory.sync()      # current as of the batch's start (another connection's commit)
            except Exception:
                self.memory.clear()
        self.in_batch = True
        steps = self.run_steps([op for _c, _r, op in part], STEP) if self.run_steps is not None else None
        if steps is None:
            assert self.run_here is not None
            try:
                outcomes = self.run_here([op for _c, _r, op in part])
            finally:
                self._batch_done()
            self._answer_batch(part, outcomes)
            return
        self._step(steps, part)

    def _step(self, steps: Any, part: list[tuple[_Connection, int, _Op]]) -> None:
        try:
            next(steps)
        except StopIteration as done:
            self._batch_done()
            self._answer_batch(part, done.value)
            return
        except BaseException:
            self._batch_done()
            raise
        asyncio.get_running_loop().call_soon(self._step, steps, part)

    def _batch_done(self) -> None:
        self.in_batch = False
        if self.memory is not None:
            self.memory.committed(*self.store.take_touched())  # type: ignore[attr-defined]
        if self.pending and not self.draining:
            self.draining = True
            asyncio.get_running_loop().call_soon(self._drain)

    def _answer_batch(self, part: list[tuple[_Connection, int, _Op]], outcomes: list[tuple[bool, Any]]) -> None:
        for (conn, req_id, _op), (ok, value) in zip(part, outcomes):
            self._reply(conn, req_id, ok, value)

    def _answer(self, conn: _Connection, req_id: int, fut: asyncio.Future[Any]) -> None:
        exc = fut.exception()
        self._reply(conn, req_id, exc is None, fut.result() if exc is None else exc)

    def _reply(self, conn: _Connection, req_id: int, ok: bool, value: Any) -> None:
        self.inflight -= 1
        if self.inflight == 0:
            self.idle.set()
        if ok:
            conn.send(protocol.frame((req_id, True, value)))
        else:
            exc = value
            if isinstance(exc, LeaseLost) and self.ownership is not None:   # fenced: taken over meanwhile
                self.ownership.drop(exc.shard)
                metrics.inc("ledger.fenced")
                log.warning("ledger: %s; its operations go to the new owner", exc)
                conn.send(protocol.frame((req_id, False, ("NotMine", str(exc), None, None, (exc.shard, "", "", "")))))
                return
            status = getattr(exc, "status", None)
            if isinstance(status, int):     # a refusal with a status of its front end's protocol (REST)
                metrics.inc("ledger.refused")
                code, detail = getattr(exc, "code", None), getattr(exc, "detail", None)
                conn.send(protocol.frame((req_id, False, (type(exc).__name__, str(exc), status,
                                                          code if isinstance(code, str) else None, detail))))
                return
            metrics.inc("ledger.failed")
            log.error("ledger operation failed: %r", exc)
            conn.send(protocol.frame((req_id, False, (type(exc).__name__, str(exc)))))


def sharded(cfg: Config) -> bool:
    """Whether ledgers hold shard leases: several shards, or front ends of other nodes (TCP).  Else
    every ledger executes every operation (one per node; several PostgreSQL nodes' ledgers are kept
    correct by the store's row locks)."""
    return cfg.ledger.shards > 1 or bool(cfg.ledger.listen)


def tcp_address(cfg: Config, index: int) -> str:
    if not cfg.ledger.listen:
        return ""
    return f"{cfg.ledger.advertise or cfg.ledger.listen}:{cfg.ledger.port + index}"


async def serve(cfg: Config, stop: asyncio.Event, ready: Callable[[LedgerServer], None] | None = None,
                index: int = 0) -> None:
    from ..store import open_store
    path = socket_path(cfg, index)
    path.parent.mkdir(parents=True, exist_ok=True)
    owner = _own(path.with_suffix(".lock"))       # one ledger per socket, whatever supervisord does
    store = attach(open_store(cfg))
    ownership = leases = keeper = tcp = None
    if sharded(cfg):
        from ..store.leases import ShardCountChanged, open_leases
        leases = await asyncio.to_thread(open_leases, cfg)
        try:
            await asyncio.to_thread(leases.record_shards, cfg.ledger.shards)
        except ShardCountChanged as exc:
            leases.close()
            store.close()
            owner.close()
            raise SystemExit(f"appliance: {exc}") from None
        ownership = shards.Ownership(cfg.ledger.shards, cfg.node.name)
    server = LedgerServer(store, charging_policy(cfg), ownership=ownership)
    if path.exists() or path.is_symlink():
        path.unlink()
    loop = asyncio.get_running_loop()
    old = os.umask(0o077)
    try:
        listener = await loop.create_unix_server(lambda: _Connection(server), str(path))
    finally:
        os.umask(old)
    log.info("ledger listening on %s", path)
    if cfg.ledger.listen:
        secret = cfg.ledger.secret
        tcp = await loop.create_server(lambda: _Connection(server, secret), cfg.ledger.listen,
                                       cfg.ledger.port + index)
        log.info("ledger listening for other nodes on %s:%d", cfg.ledger.listen, cfg.ledger.port + index)
    if ownership is not None:
        me = (cfg.node.name, str(path), tcp_address(cfg, index))
        first = peers.preferred(cfg.ledger.shards, index, max(cfg.processes.ledger, 1), cfg.ledger.node_index,
                                cfg.ledger.nodes)
        keeper = loop.create_task(peers.keep_leases(ownership, leases, me, first, cfg.ledger.lease_interval, stop))
    if ready is not None:
        ready(server)
    try:
        await stop.wait()
    finally:
        if keeper is not None:
            await keeper
        if tcp is not None:
            tcp.close()
        listener.close()
        await listener.wait_closed()
        try:
            await asyncio.wait_for(server.idle.wait(), cfg.processes.stop_wait)
        except TimeoutError:
            log.warning("ledger stopped with %d operations in flight", server.inflight)
        store.close()
        if leases is not None:
            leases.close()
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        owner.close()


def _own(lock: Path) -> Any:
    """Hold an exclusive lock on ``lock`` for the process's life; a second ledger stops here."""
    import fcntl
    fh = open(lock, "a+")      # noqa: SIM115 -- held open until the ledger stops
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise SystemExit(f"appliance: another ledger owns {lock.parent}") from None
    return fh


def main(cfg: Config, index: int = 0) -> int:
    return run_async(lambda stop: serve(cfg, stop, index=index))
