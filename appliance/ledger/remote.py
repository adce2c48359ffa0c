"""A front end's client of the ledger role (``appliance run ledger``) over its local socket.

Requests are pipelined on one connection per process and written once per event-loop turn
(every request of the turn in one write).  When the connection is lost (the ledger restarts,
or was killed), the client reconnects and resends what was in flight: every operation it sends
carries an idempotency key or changes nothing, so a resend of an operation that did commit is
answered from the remembered answer and not charged twice.  If the ledger stays unreachable
for ``timeout`` seconds, the waiting calls fail with :class:`LedgerUnavailable` (Diameter
answers DIAMETER_TOO_BUSY, RADIUS does not answer and the NAS retransmits).
"""
from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..ocs.charging import Balance
from ..ocs.ports import Store
from ..ocs.rating import ChargeRequest, ChargeResult, ChargingPolicy
from ..telemetry import metrics
from . import protocol

log = logging.getLogger("appliance.ledger")


class LedgerUnavailable(Exception):
    """The ledger did not answer within the configured time."""


class LedgerFailed(Exception):
    """The ledger ran the operation and it raised (a bug or a refused request).  A refusal of a front
    end's own operation carries that front end's ``status`` (a REST operation's HTTP status), its
    ``code`` and a plain ``detail`` (whatever the refusal's ``detail`` held), else None."""

    def __init__(self, name: str, reason: str, status: int | None = None, code: str | None = None,
                 detail: Any = None) -> None:
        super().__init__(f"{name}: {reason}")
        self.name, self.reason, self.status, self.code, self.detail = name, reason, status, code, detail


def failure(value: Any) -> LedgerFailed:
    return LedgerFailed(*value[:5])


class _Client(asyncio.Protocol):
    def __init__(self, owner: RemoteLedger, secret: str | None = None) -> None:
        self.owner = owner
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.secret = secret                 # another node's ledger: answer its challenge first
        self.mine = b""                      # our challenge to it
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        if self.secret is None:
            self.ready.set_result(None)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.secret is not None:
            from . import peers
            if len(self.buffer) < peers.NONCE:
                return
            if not self.mine:                  # the ledger's challenge: answered, and ours sent
                nonce = bytes(self.buffer[:peers.NONCE])
                del self.buffer[:peers.NONCE]
                self.mine = peers.challenge()
                if self.transport is not None:
                    self.transport.write(peers.proof(self.secret, nonce) + self.mine)
                return
            answer = bytes(self.buffer[:peers.NONCE])
            del self.buffer[:peers.NONCE]
            if not peers.verify(self.secret, self.mine, answer, ledger=True):
                log.error("ledger: %s did not prove it knows ledger.secret; connection closed", self.owner.path)
                metrics.inc("ledger.client.owners_refused")
                if self.transport is not None:
                    self.transport.close()
                return
            self.secret = None
            if not self.ready.done():
                self.ready.set_result(None)
            if not self.buffer:
                return
        try:
            frames = protocol.unframe(self.buffer)
        except (protocol.FrameTooLong, ValueError, EOFError, TypeError) as exc:
            log.error("ledger: bad frame from the ledger: %s", exc)
            if self.transport is not None:
                self.transport.close()
            return
        for req_id, ok, value in frames:
            self.owner._answered(req_id, ok, value)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed before the challenge was answered"))
        self.owner._lost(self)


class RemoteLedger:
    """Pipelined calls to the ledger role, with reconnection and bounded waiting."""

    def __init__(self, path: str, timeout: float = 3.0, secret: str | None = None) -> None:
        self.path = path                      # a Unix socket, or "tcp:host:port" (another node's ledger)
        self.timeout = timeout
        self.secret = secret
        self._client: _Client | None = None
        self._pending: dict[int, tuple[asyncio.Future[Any], bytes]] = {}
        self._next = 0
        self._out: list[bytes] = []
        self._flushing = False
        self._connecting: asyncio.Task[None] | None = None
        self.resent = 0                       # requests sent again after a lost connection

    async def call(self, op: str, args: tuple[Any, ...]) -> Any:
        loop = asyncio.get_running_loop()
        self._next = (self._next + 1) & 0x7FFFFFFF
        req_id = self._next
        payload = protocol.frame((req_id, op, args))
        fut: asyncio.Future[Any] = loop.create_future()
        self._pending[req_id] = (fut, payload)
        if self._client is not None and self._client.transport is not None:
            self._send(payload)
        else:
            self._reconnect()
        return await fut

    def _send(self, payload: bytes) -> None:
        self._out.append(payload)
        if not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flushing = False
        client = self._client
        if client is not None and client.transport is not None and self._out:
            client.transport.write(b"".join(self._out))
        self._out.clear()

    def _answered(self, req_id: int, ok: bool, value: Any) -> None:
        entry = self._pending.pop(req_id, None)
        if entry is None or entry[0].done():
            return
        if ok:
            entry[0].set_result(value)
        else:
            entry[0].set_exception(failure(value))

    def _lost(self, client: _Client) -> None:
        if self._client is client:
            self._client = None
            if self._pending:
                log.warning("ledger connection lost with %d requests in flight; reconnecting", len(self._pending))
                metrics.inc("ledger.client.reconnects")
                self._reconnect()

    def _reconnect(self) -> None:
        if self._connecting is None or self._connecting.done():
            self._connecting = asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while True:
            try:
                if self.path.startswith("tcp:"):
                    host, _sep, port = self.path[4:].rpartition(":")
                    _transport, client = await loop.create_connection(
                        lambda: _Client(self, self.secret or ""), host, int(port))
                    await asyncio.wait_for(asyncio.shield(client.ready), max(0.1, deadline - loop.time()))
                else:
                    _transport, client = await loop.create_unix_connection(lambda: _Client(self), self.path)
            except (OSError, TimeoutError) as exc:
                if loop.time() >= deadline:
                    self._fail(LedgerUnavailable(f"ledger at {self.path} unreachable: {exc}"))
                    return
                await asyncio.sleep(0.05)
                continue
            self._client = client
            self._out.clear()
            for _fut, payload in list(self._pending.values()):       # resent in order: idempotent
                self._send(payload)
                self.resent += 1
            return

    def _fail(self, exc: Exception) -> None:
        metrics.inc("ledger.client.unavailable", len(self._pending))
        pending, self._pending = self._pending, {}
        for fut, _payload in pending.values():
            if not fut.done():
                fut.set_exception(exc)

    def close(self) -> None:
        if self._client is not None and self._client.transport is not None:
            self._client.transport.close()
        self._client = None


class RemoteLedgerClient:
    """The ledger role as a front end's :class:`~appliance.ledger.api.LedgerClient`: charging goes
    to the ledger process; ``store`` stays for the front end's own documents (sessions, policy)."""

    def __init__(self, store: Store, policy: ChargingPolicy, path: str, timeout: float = 3.0,
                 clock: Callable[[], float] | None = None, remote: Any = None) -> None:
        import time
        self.store = store
        self.policy = policy
        self.clock = clock or time.time
        # ``remote``: a router over the shards' owners (``ledger.routing``), else this node's one ledger
        self.remote = remote or RemoteLedger(path, timeout)

    def now(self) -> int:
        return int(self.clock())

    def _stamp(self, request: ChargeRequest) -> ChargeRequest:
        return request if request.now else request.stamped(self.now())

    async def credit_control(self, request: ChargeRequest, request_type: int, candidates: tuple[str, ...],
                             redirect: str | None) -> tuple[ChargeResult | None, str | None, str]:
        wire, subscriber, address = await self.remote.call(
            "credit_control", (protocol.request_to_wire(self._stamp(request)), request_type, candidates, redirect))
        return (None if wire is None else protocol.result_from_wire(wire)), subscriber, address

    async def acharge(self, request: ChargeRequest) -> ChargeResult:
        if request.action.mutating and request.request_key is None:
            # a resend after a lost connection must be recognised: every change carries a key
            request = replace(request, request_key=f"{request.session_id}:{uuid.uuid4().hex}")
        return protocol.result_from_wire(
            await self.remote.call("charge", (protocol.request_to_wire(self._stamp(request)),)))

    async def abalance(self, subscriber: str) -> Balance | None:
        return protocol.balance_from_wire(await self.remote.call("balance", (subscriber, self.now())))

    async def call(self, name: str, *args: Any) -> Any:
        """A named operation (:mod:`appliance.ledger.operations`) run by the ledger role."""
        return await self.remote.call(name, args)

    def call_sync(self, name: str, *args: Any) -> Any:
        return call_blocking(self.remote.path, name, args, self.remote.timeout)

    def close(self) -> None:
        self.remote.close()


def call_blocking(path: str, name: str, args: tuple[Any, ...], timeout: float = 3.0) -> Any:
    """One named operation over a connection of its own, for callers without an event loop (the
    CLI, housekeeping).  A lost connection is retried, and the operation resent (it is idempotent),
    until ``timeout`` passes: then :class:`LedgerUnavailable`."""
    import socket
    import time
    deadline = time.monotonic() + timeout
    payload = protocol.frame((1, name, args))
    hops = 0
    while True:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(max(0.05, deadline - time.monotonic()))
                sock.connect(path)
                sock.sendall(payload)
                buffer = bytearray()
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        raise ConnectionError("the ledger closed the connection")
                    buffer += chunk
                    frames = protocol.unframe(buffer)
                    if frames:
                        _req, ok, value = frames[0]
                        if ok:
                            return value
                        refused = failure(value)
                        owner = refused.detail
                        if refused.name == "NotMine" and hops < 4 and isinstance(owner, tuple) and \
                                len(owner) == 4 and owner[2] and os.path.exists(owner[2]):
                            hops += 1                    # the shard's owner is a ledger of this node
                            path = owner[2]
                            break
                        raise refused
        except (OSError, ConnectionError) as exc:
            if time.monotonic() >= deadline:
                raise LedgerUnavailable(f"ledger at {path} unreachable: {exc}") from None
            time.sleep(0.05)
