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

from .. import metrics
from ..config import Config, charging_policy
from ..ocs.ports import Ledger, Store
from ..ocs.rating import ChargingPolicy
from ..runtime import run_async
from . import operations as _ops
from . import protocol
from .api import attach

log = logging.getLogger("appliance.ledger")


def socket_path(cfg: Config) -> Path:
    return cfg.path(cfg.run_dir) / "ledger.sock"


class _Session:
    __slots__ = ("session_id",)

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id


class _Op:
    """A named operation as a store operation: ``request`` (its session) and ``request_key`` let the
    store read the remembered answers of a whole batch in one statement (``ocs.ports.Store``)."""

    __slots__ = ("fn", "args", "request", "request_key")

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...], key: tuple[str, str] | None) -> None:
        self.fn, self.args = fn, args
        self.request = _Session(key[0]) if key is not None else None
        self.request_key = key[1] if key is not None else None

    def __call__(self, l: Ledger) -> Any:
        return self.fn(l, *self.args)


class _Connection(asyncio.Protocol):
    def __init__(self, server: LedgerServer) -> None:
        self.server = server
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.out: list[bytes] = []
        self.flushing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        metrics.inc("ledger.connections")

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
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
    def __init__(self, store: Store, policy: ChargingPolicy, inline: bool = True) -> None:
        self.store = store
        self.ops = _ops.operations(policy)
        self.read: Callable[[Callable[[Ledger], Any]], Any] | None = getattr(store, "read", None)
        # SQLite: batches run on the event loop's thread (``run_here``); else the store's writer
        self.run_here: Callable[[list[Any]], list[tuple[bool, Any]]] | None = (
            getattr(store, "run_here", None) if inline else None)
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
        if name in _ops.READS and self.read is not None:
            try:
                value = self.read(op)
            except Exception:           # busy (a WAL recovery) or a bug: the writer's transaction decides
                metrics.inc("ledger.read_fallbacks")
            else:
                metrics.inc("ledger.reads")
                conn.send(protocol.frame((req_id, True, value)))
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

    def _drain(self) -> None:
        """Everything that arrived during the last loop turn, as one transaction on this thread
        (group commit: one fsync); the answers leave once it is committed."""
        self.draining = False
        pending, self.pending = self.pending, []
        assert self.run_here is not None
        for start in range(0, len(pending), self.batch_max):
            part = pending[start:start + self.batch_max]
            outcomes = self.run_here([op for _c, _r, op in part])
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


async def serve(cfg: Config, stop: asyncio.Event, ready: Callable[[LedgerServer], None] | None = None) -> None:
    from ..store import open_store
    path = socket_path(cfg)
    path.parent.mkdir(parents=True, exist_ok=True)
    owner = _own(path.with_suffix(".lock"))       # one ledger per run directory, whatever supervisord does
    store = attach(open_store(cfg))
    server = LedgerServer(store, charging_policy(cfg))
    if path.exists() or path.is_symlink():
        path.unlink()
    old = os.umask(0o077)
    try:
        listener = await asyncio.get_running_loop().create_unix_server(lambda: _Connection(server), str(path))
    finally:
        os.umask(old)
    log.info("ledger listening on %s", path)
    if ready is not None:
        ready(server)
    try:
        await stop.wait()
    finally:
        listener.close()
        await listener.wait_closed()
        try:
            await asyncio.wait_for(server.idle.wait(), cfg.processes.stop_wait)
        except TimeoutError:
            log.warning("ledger stopped with %d operations in flight", server.inflight)
        store.close()
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
    return run_async(lambda stop: serve(cfg, stop))
