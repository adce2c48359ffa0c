"""Asyncio Diameter node: TCP (and SCTP when the kernel has it) around :class:`PeerConnection`.

The node owns the listeners, the connections, the application registry
``{(app_id, cmd_code): handler}``, the duplicate-request cache (RFC 6733 §6.1.9 via
End-to-End-Id + Origin-Host, T-flag), pending answers for requests it sends (keyed per
connection by Hop-by-Hop-Id, RFC 6733 §6.2), and the live peer table written to
``<run_dir>/diameter/peers-<pid>.json``.  See docs/diameter.md for the application API.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import socket
import ssl
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import trace
from ..telemetry import events as telemetry_events
from ..telemetry import metrics
from . import codec as c
from .admission import PeerAdmission
from .codec import DiameterError, Message
from .events import AnswerReceived, MessageRejected, PeerClosed, PeerInfo, PeerOpened, RequestReceived
from .peer import (
    ANS_DROPPED,
    ANS_IN,
    ANS_OUT,
    COMMAND_SLOTS,
    DO_NOT_WANT_TO_TALK_TO_YOU,
    ELECTION_LOST,
    REQ_DROPPED,
    REQ_IN,
    REQ_OUT,
    AppSupport,
    LocalIdentity,
    PeerConnection,
    State,
)
from .peer import command_slots as _slots

if TYPE_CHECKING:
    from .relay import WorkerRelay

log = logging.getLogger(__name__)

APP_NAMES = {0: "base", 3: "acct", 4: "ro", 5: "eap", 1: "nasreq", 16777238: "gx",
             16777264: "swm", 16777250: "sta", 16777265: "swx", 16777272: "s6b"}
_OPEN = State.OPEN                # a module global: Enum attribute lookups cost ~0.1 µs per message
DUPLICATE_CACHE = 16_384          # answers remembered for duplicate detection (per worker)
RECONNECT = 30.0                  # Tc (RFC 6733 §2.1)


def app_name(app_id: int) -> str:
    return APP_NAMES.get(app_id, f"app{app_id}")


def result_class(rc: int | None) -> str:
    return f"{rc // 1000}xxx" if rc and 1000 <= rc < 6000 else "other"


@dataclass(slots=True)
class Request:
    """What a handler receives: the decoded request, the peer it came from, the node."""

    message: Message
    peer: PeerInfo
    node: Node

    def answer(self, result_code: int | None, avps: Iterable[bytes] = (),
               experimental: tuple[int, int] | None = None) -> bytes:
        """An answer: Session-Id, Result-Code (or Experimental-Result), Origin-Host/Realm, ``avps``."""
        return self.node.answer(self.message, result_code, avps, experimental)


Handler = Callable[[Request], Awaitable[bytes]]


@dataclass
class PeerRecord:
    """One line of the live peer table (what the SNMP agent reads)."""

    host: str
    realm: str
    address: str
    state: str
    initiator: bool
    apps: list[int] = field(default_factory=list)
    malformed: int = 0
    opened_at: int = 0
    # {cmd_code: [requests in, answers out, requests out, answers in, requests dropped, answers dropped]}
    # for application commands; the peer table sums them into requests_in .. answers_in and adds the
    # connection's CER/DWR/DPR counts (peer.counts)
    by_command: dict[int, list[int]] = field(default_factory=dict)


class Connection(asyncio.Protocol):
    """Thin adapter: bytes in and out of one :class:`PeerConnection`, one timer."""

    def __init__(self, node: Node, initiator: bool, configured: str = "") -> None:
        self.node = node
        self.initiator = initiator
        self.configured = configured       # the configured peer host we dialled, if any
        self.pc: PeerConnection | None = None
        self.transport: asyncio.Transport | None = None
        self.address = ""
        self.record: PeerRecord | None = None
        self.pending: dict[int, asyncio.Future[Message]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._flush_scheduled = False
        self.closed = asyncio.get_running_loop().create_future()

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not an asyncio.Transport subclass
        peername = transport.get_extra_info("peername")
        self.address = f"{peername[0]}:{peername[1]}" if peername else "?"
        loop = asyncio.get_running_loop()
        self.pc = PeerConnection(self.node.local, self.initiator, loop.time(), self.node.watchdog,
                                 self.node.admit, random.random, random.getrandbits(32), self.address)
        self.node.connections.add(self)
        metrics.inc("diameter.connections.accepted" if not self.initiator else "diameter.connections.opened")
        self._pump()

    def data_received(self, data: bytes) -> None:
        pc = self.pc
        assert pc is not None
        pc.receive(data, asyncio.get_running_loop().time())
        self._pump()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.pc is not None and self.pc.state is not State.CLOSED:
            self.pc._close("transport closed")
            self._pump(closing=True)
        self._finish()

    # internals
    def _finish(self) -> None:
        if self._timer:
            self._timer.cancel()
        for fut in self.pending.values():
            if not fut.done():
                fut.set_exception(ConnectionError("peer connection closed"))
        self.pending.clear()
        self.node.connections.discard(self)
        if not self.closed.done():
            self.closed.set_result(None)

    def write(self, data: bytes) -> None:
        """Queue bytes; one write per loop iteration (answers of pipelined requests coalesce)."""
        pc = self.pc
        if pc is None or pc.state is State.CLOSED:
            return
        pc.send(data)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self.pc is not None and self.transport is not None:
            out = self.pc.data_to_send()
            if out:
                self.transport.write(out)

    def _pump(self, closing: bool = False) -> None:
        pc = self.pc
        assert pc is not None
        node = self.node
        while True:
            ev = pc.next_event()
            if ev is None:
                break
            if type(ev) is RequestReceived:
                node.on_request(self, ev.message)
            elif type(ev) is AnswerReceived:
                node.on_answer(self, ev.message)
            elif type(ev) is MessageRejected:
                metrics.inc("diameter.malformed.dropped")
                if self.record:
                    self.record.malformed += 1
                if ev.request_app is not None:
                    node.dropped(self, ev.request_app, ev.command)
            elif type(ev) is PeerOpened:
                node.on_open(self, ev.peer)
            elif type(ev) is PeerClosed:
                node.on_close(self, ev)
        out = pc.data_to_send()
        if out and self.transport is not None and not self.transport.is_closing():
            self.transport.write(out)
        if pc.close_when_flushed and self.transport is not None and not closing:
            self.transport.close()
            return
        deadline = pc.get_timer()
        if deadline is not None and (self._timer is None or deadline < self._timer_at):
            if self._timer:
                self._timer.cancel()
            self._timer_at = deadline
            self._timer = asyncio.get_running_loop().call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        pc = self.pc
        if pc is None:
            return
        pc.handle_timer(asyncio.get_running_loop().time())
        self._pump()


class Node:
    """A Diameter node: listeners, peers, the application registry and outgoing requests."""

    def __init__(self, host: str, realm: str, *, addresses: tuple[str, ...] = ("127.0.0.1",),
                 watchdog: float = 30.0, peers: Iterable[Any] = (), accept_realms: Iterable[str] = (),
                 run_dir: str | os.PathLike[str] | None = None, product: str = "ocs-appliance",
                 connect_out: bool = True) -> None:
        self.host, self.realm, self.addresses = host, realm, tuple(addresses)
        self.watchdog = watchdog
        self.configured = {p.host: p for p in peers}
        self.accept_realms = frozenset(accept_realms)
        self.admission = PeerAdmission.build(self.configured.values())
        self.product = product
        self.connect_out = connect_out
        self.tc = RECONNECT
        self.origin_state_id = int(time.time()) & 0xFFFFFFFF
        self.apps: dict[int, AppSupport] = {}
        self.handlers: dict[tuple[int, int], Handler] = {}
        self.connections: set[Connection] = set()
        self.open: dict[str, Connection] = {}      # peer host -> its open connection
        self.duplicates: OrderedDict[tuple[str, int], asyncio.Future[bytes]] = OrderedDict()
        self.peer_file = Path(run_dir) / "diameter" / f"peers-{os.getpid()}.json" if run_dir else None
        self.servers: list[asyncio.AbstractServer] = []
        self.tasks: set[asyncio.Task[Any]] = set()
        self.background_tasks: set[asyncio.Task[Any]] = set()
        self._stopping = False
        self.relay: WorkerRelay | None = None      # the other workers of this appliance (relay.py)
        self._origin_avps = c.encode_avp(c.ORIGIN_HOST, host) + c.encode_avp(c.ORIGIN_REALM, realm)
        self._realm_b, self._host_b = realm.encode(), host.encode()
        self._request_counters: dict[int, str] = {}                 # app id -> diameter.<app>.requests
        self._answer_counters: dict[tuple[int, int | None], str] = {}   # (app id, Result-Code) -> counter
        self.local = self._identity()

    # -- application registry -------------------------------------------------------------------
    def register(self, app: AppSupport, handlers: dict[int, Handler]) -> None:
        """Advertise ``app`` in CER/CEA and route its requests ``cmd_code -> handler``."""
        self.apps[app.app_id] = app
        for cmd, handler in handlers.items():
            self.handlers[(app.app_id, cmd)] = handler
        self.local = self._identity()

    def _identity(self) -> LocalIdentity:
        return LocalIdentity(self.host, self.realm, self.addresses, 0, self.product, 1,
                             self.origin_state_id, tuple(self.apps.values()))

    # -- listening and connecting ---------------------------------------------------------------
    async def listen(self, address: str = "0.0.0.0", port: int = 3868, sctp: bool = False) -> int:
        """Listen on TCP with SO_REUSEPORT (and SCTP when asked and available); returns the TCP port."""
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: Connection(self, False), address, port,
                                          reuse_port=True, backlog=512)
        self.servers.append(server)
        bound = server.sockets[0].getsockname()[1]
        if sctp:
            sock = sctp_socket(address, bound)
            if sock is None:
                log.warning("SCTP requested but not supported by this kernel/Python: TCP only")
                metrics.inc("diameter.sctp.unavailable")
            else:
                self.servers.append(await loop.create_server(lambda: Connection(self, False), sock=sock))
        return bound

    async def listen_tls(self, address: str, port: int, ssl_context: ssl.SSLContext) -> int:
        """Listen for Diameter over TLS/TCP (RFC 6733 §2.1, §13: TLS before the CER); returns the port."""
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: Connection(self, False), address, port, ssl=ssl_context,
                                          reuse_port=True, backlog=512)
        self.servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    async def connect(self, host: str, address: str, port: int,
                      ssl_context: ssl.SSLContext | None = None) -> Connection:
        """Open a connection to a peer and send CER (we are the initiator); TLS first when given."""
        loop = asyncio.get_running_loop()
        _t, conn = await loop.create_connection(lambda: Connection(self, True, host), address, port,
                                                ssl=ssl_context,
                                                server_hostname=(host or None) if ssl_context else None)
        return conn

    def start_outgoing(self) -> None:
        """Keep a connection to every configured peer with an address (Tc reconnect)."""
        for peer in self.configured.values():
            if peer.address:
                self.background(self._keep_connected(peer))

    async def _keep_connected(self, peer: Any) -> None:
        while not self._stopping:
            try:
                conn = await self.connect(peer.host, peer.address, peer.port)
                await conn.closed
                if conn.pc and conn.pc.peer is None and self._stopping:
                    return
            except OSError as exc:
                log.info("connect to %s (%s:%s) failed: %s", peer.host, peer.address, peer.port, exc)
            if self._stopping:
                return
            await asyncio.sleep(self.tc)

    async def stop(self, wait: float = 4.0) -> None:
        """DPR every open peer (RFC 6733 §5.4), wait for DPAs and in-flight handlers: ``wait`` seconds
        in all (a peer that ignores the DPR is cut at the end), so the supervisor's stop wait holds."""
        self._stopping = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait

        def left() -> float:
            return max(0.0, deadline - loop.time())
        for s in self.servers:
            s.close()
        if self.relay is not None:
            self.relay.stop_listening()
        for task in list(self.background_tasks):
            task.cancel()
        if self.background_tasks:
            await asyncio.wait(list(self.background_tasks), timeout=left() / 3)
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=left() / 2)
        for conn in list(self.connections):
            if conn.pc is not None:
                conn.pc.disconnect(loop.time())
                conn._pump()
        waits = [conn.closed for conn in list(self.connections)]
        if waits:
            await asyncio.wait(waits, timeout=max(left(), 0.05))
        for conn in list(self.connections):
            if conn.transport:
                conn.transport.close()
        if self.relay is not None:
            await self.relay.close()
        if self.peer_file is not None:
            self.peer_file.unlink(missing_ok=True)   # a clean stop leaves no stale table

    def background(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        """Run an application's long-lived task (push loop, poller); cancelled by :meth:`stop`."""
        task = asyncio.ensure_future(coro)
        self.background_tasks.add(task)
        task.add_done_callback(self.background_tasks.discard)
        return task

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # -- peer admission (RFC 6733 §5.3, §5.6.4) -------------------------------------------------
    def admit(self, peer: PeerInfo, pc: PeerConnection) -> int:
        if self._stopping:
            return c.TOO_BUSY
        listed = self.admission.allows(peer.host, pc.name)
        if not pc.initiator and not (listed or (listed is None and peer.realm in self.accept_realms)):
            metrics.inc("diameter.peers.refused")
            # ocsUnknownClient (at most once a minute per address; the name is "ip:port")
            telemetry_events.unknown_client("diameter", pc.name.rpartition(":")[0] or pc.name, peer.host)
            return c.UNKNOWN_PEER
        if not peer.common_apps:
            metrics.inc("diameter.peers.no_common_app")
            return c.NO_COMMON_APPLICATION
        current = self.open.get(peer.host)
        if current is not None and current.pc is not pc and current.pc is not None:
            if current.pc.state is State.OPEN:
                old_state = current.pc.peer.origin_state_id if current.pc.peer else None
                if peer.origin_state_id is not None and old_state is not None and peer.origin_state_id != old_state:
                    # The peer restarted (new Origin-State-Id, RFC 6733 §8.16): the old connection is dead.
                    log.info("peer %s restarted (Origin-State-Id %s -> %s): replacing its connection",
                             peer.host, old_state, peer.origin_state_id)
                    if current.transport is not None:
                        current.transport.close()
                    del self.open[peer.host]
                else:
                    return ELECTION_LOST if not pc.initiator else c.UNABLE_TO_COMPLY   # RFC 6733 §5.6 R-Reject
        if not pc.initiator:
            for conn in self.connections:
                other = conn.pc
                if (other is not None and other is not pc and other.initiator and conn.configured == peer.host
                        and other.state is State.WAIT_CEA):
                    # Election: the higher Origin-Host keeps the connection it accepted.
                    if self.host.encode() > peer.host.encode():
                        other.disconnect(0.0)
                        conn._pump()
                    else:
                        return ELECTION_LOST
        return c.SUCCESS

    def set_stored_peers(self, rows: Iterable[dict[str, Any]]) -> None:
        """Peers stored with ``client add --protocol diameter``; they count from the next CER."""
        self.admission = PeerAdmission.build(self.configured.values(), rows)

    def on_open(self, conn: Connection, peer: PeerInfo) -> None:
        self.open[peer.host] = conn
        conn.record = PeerRecord(peer.host, peer.realm, conn.address, "open", conn.initiator,
                                 sorted(peer.common_apps), opened_at=int(time.time()))
        metrics.inc("diameter.peers.opened")
        log.info("peer %s (%s) open from %s, apps %s", peer.host, peer.realm, conn.address,
                 sorted(peer.common_apps))
        self._write_peers()

    def on_close(self, conn: Connection, ev: PeerClosed) -> None:
        pc = conn.pc
        if pc is not None and pc.peer is not None and self.open.get(pc.peer.host) is conn:
            del self.open[pc.peer.host]
            metrics.inc("diameter.peers.closed")
            log.info("peer %s closed: %s", pc.peer.host, ev.reason)
            if ev.disconnect_cause == DO_NOT_WANT_TO_TALK_TO_YOU and conn.configured:
                log.info("peer %s does not want to talk to us", pc.peer.host)
        if conn.record:
            conn.record.state = "closed"
        self._write_peers()

    # -- requests in ----------------------------------------------------------------------------
    def on_request(self, conn: Connection, msg: Message) -> None:
        assert conn.pc is not None and conn.pc.peer is not None
        peer = conn.pc.peer
        rec = conn.record
        if rec:
            _slots(rec.by_command, msg.code)[REQ_IN] += 1
        counter = self._request_counters.get(msg.app_id)
        if counter is None:
            counter = f"diameter.{app_name(msg.app_id)}.requests"
            if len(self._request_counters) < 64:        # app ids come from peers: a bounded cache
                self._request_counters[msg.app_id] = counter
        metrics.inc(counter)
        key = (peer.host, msg.e2e)
        seen = self.duplicates.get(key)
        if seen is not None:
            metrics.inc("diameter.duplicates")
            self._spawn(self._resend(conn, msg, seen))
            return
        fut: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.duplicates[key] = fut
        if len(self.duplicates) > DUPLICATE_CACHE:
            self.duplicates.popitem(last=False)
        self._spawn(self._serve(conn, msg, peer, fut))

    async def _resend(self, conn: Connection, msg: Message, seen: asyncio.Future[bytes]) -> None:
        """A duplicate (same End-to-End-Id and Origin-Host): the first answer, this Hop-by-Hop-Id."""
        try:
            answer = await seen
        except Exception:
            self.dropped(conn, msg.app_id, msg.code)
            return
        self._send_answer(conn, msg, c.with_hbh(answer, msg.hbh))

    async def _serve(self, conn: Connection, msg: Message, peer: PeerInfo, fut: asyncio.Future[bytes]) -> None:
        started = time.perf_counter()
        try:
            answer = await self._dispatch(msg, peer)
        except DiameterError as exc:
            answer = c.error_answer(msg, exc.result_code, self.host, self.realm, exc.failed_avp, exc.message,
                                    exc.avps)
        except Exception:
            log.exception("handler failed for %r", msg)
            metrics.inc("diameter.handler.errors")
            answer = c.error_answer(msg, c.UNABLE_TO_COMPLY, self.host, self.realm)
        fut.set_result(answer)
        self._send_answer(conn, msg, answer)
        _latency_of(msg, self.apps).observe(time.perf_counter() - started)
        if trace.ACTIVE:                                  # someone traces a subscriber (appliance trace)
            trace.diameter(msg, answer, app_name(msg.app_id), peer.host)

    def _send_answer(self, conn: Connection, msg: Message, answer: bytes) -> None:
        pc = conn.pc
        if pc is None or pc.state is not _OPEN:          # the peer went away (or we sent DPR) meanwhile
            self.dropped(conn, msg.app_id, msg.code)
            return
        rec = conn.record
        if rec:
            _slots(rec.by_command, msg.code)[ANS_OUT] += 1
        rc = c.answer_result(answer)
        counter = self._answer_counters.get((msg.app_id, rc))
        if counter is None:
            counter = f"diameter.{app_name(msg.app_id)}.answers.{result_class(rc)}"
            if len(self._answer_counters) < 256:        # result codes come from handlers and hooks: bounded
                self._answer_counters[(msg.app_id, rc)] = counter
        metrics.inc(counter)
        conn.write(answer)

    def dropped(self, conn: Connection, app_id: int, code: int) -> None:
        """A request discarded without an answer: ``diameter.<app>.requests.dropped`` (ocsAppRequestsDropped)."""
        name = app_name(app_id) if app_id in APP_NAMES or app_id in self.apps else "other"
        metrics.inc(f"diameter.{name}.requests.dropped")
        if conn.record:
            _slots(conn.record.by_command, code)[REQ_DROPPED] += 1

    async def _dispatch(self, msg: Message, peer: PeerInfo) -> bytes:
        """Route to the application handler (3007 unknown app, 3001 unknown command, 5001, 3003)."""
        handler = self.handlers.get((msg.app_id, msg.code))
        if handler is None:
            if msg.app_id not in self.apps:
                raise DiameterError(c.APPLICATION_UNSUPPORTED, None, "application not supported")
            raise DiameterError(c.COMMAND_UNSUPPORTED, None, "command not supported")
        # 5001 for an unknown M-bit AVP at any depth, 3003 / 3002 for another realm / host, in AVP order
        c.check_request(msg.avps, self.realm, self.host, self._realm_b, self._host_b)
        return await handler(Request(msg, peer, self))

    def answer(self, request: Message, result_code: int | None, avps: Iterable[bytes] = (),
               experimental: tuple[int, int] | None = None) -> bytes:
        """Build an answer to ``request`` (RFC 6733 §6.2): Session-Id first, then results, ``avps``."""
        head: list[bytes] = []
        sid = request.avps[0] if request.avps and request.avps[0].code == c.SESSION_ID else request.find(c.SESSION_ID)
        if sid is not None:
            head.append(sid.raw + b"\0" * (-len(sid.raw) & 3))
        if result_code is not None:
            head.append(c.encode_avp(c.RESULT_CODE, result_code))
        if experimental is not None:
            head.append(c.encode_avp(c.EXPERIMENTAL_RESULT, [c.encode_avp(c.VENDOR_ID, experimental[0]),
                                                             c.encode_avp(c.EXPERIMENTAL_RESULT_CODE,
                                                                          experimental[1])]))
        head.append(self._origin_avps)
        head.extend(avps)
        error = result_code is not None and 3000 <= result_code < 4000    # protocol errors carry the E-bit
        return c.encode(request.code, request.app_id, c.answer_flags(request.flags, error), request.hbh,
                        request.e2e, head)

    # -- requests out ---------------------------------------------------------------------------
    def route(self, app_id: int, host: str | None = None, realm: str | None = None) -> Connection:
        """An open connection for ``host``, else one in ``realm`` supporting ``app_id`` (RFC 6733 §6.1)."""
        if host:
            conn = self.open.get(host)
            if conn is not None:
                return conn
            if not realm:
                raise DiameterError(c.UNABLE_TO_DELIVER, None, f"no connection to {host}")
        for conn in self.open.values():
            info = conn.pc.peer if conn.pc else None
            if info and (not realm or info.realm == realm) and (app_id in info.common_apps):
                return conn
        raise DiameterError(c.UNABLE_TO_DELIVER, None, f"no peer for app {app_id} realm {realm}")

    async def request(self, cmd_code: int, app_id: int, avps: Iterable[bytes], *, host: str | None = None,
                      realm: str | None = None, timeout: float = 5.0, proxiable: bool = True,
                      e2e: int | None = None, retransmit: bool = False) -> Message:
        """Send a request to a connected peer and await its answer.

        A peer held by another worker of this appliance is reached through :attr:`relay`
        (relay.py); every relay failure, timeouts included, is ``DiameterError(3002)``.
        ``avps`` are the AVPs after Origin-Host/Origin-Realm (put Session-Id first yourself,
        RFC 6733 §8.8).  Raises :class:`DiameterError` (3002) when no peer fits,
        ``asyncio.TimeoutError`` when the answer does not come, ``ConnectionError`` if the
        connection drops first.  ``retransmit=True`` with the first attempt's ``e2e`` sends a
        retransmission (T-flag, same End-to-End-Id, RFC 6733 §5.5.4).
        """
        body = list(avps)
        at = 1 if body and int.from_bytes(body[0][:4], "big") == c.SESSION_ID else 0
        body[at:at] = [self._origin_avps]
        flags = c.FLAG_R | (c.FLAG_P if proxiable else 0) | (c.FLAG_T if retransmit else 0)
        try:
            conn = self.route(app_id, host, realm)
        except DiameterError:
            if self.relay is None:
                raise
            # another worker of this appliance may hold the peer (relay.py); 3002 when none does
            return await self.relay.request(cmd_code, app_id, flags, body, host, realm, timeout, e2e)
        pc = conn.pc
        assert pc is not None
        hbh, fresh = pc.next_ids()
        e2e = fresh if e2e is None else e2e
        fut = self.send_request(conn, c.encode(cmd_code, app_id, flags, hbh, e2e, body), hbh, cmd_code, app_id)
        try:
            return await asyncio.wait_for(fut, timeout)
        finally:
            conn.pending.pop(hbh, None)

    def send_request(self, conn: Connection, data: bytes, hbh: int, cmd_code: int,
                     app_id: int) -> asyncio.Future[Message]:
        """Write an encoded request (Hop-by-Hop-Id ``hbh`` of ``conn``); the future gets its answer.
        The caller pops ``conn.pending[hbh]`` when it stops waiting."""
        fut: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        conn.pending[hbh] = fut
        rec = conn.record
        if rec:
            _slots(rec.by_command, cmd_code)[REQ_OUT] += 1
        metrics.inc(f"diameter.{app_name(app_id)}.requests_out")
        conn.write(data)
        return fut

    def on_answer(self, conn: Connection, msg: Message) -> None:
        fut = conn.pending.pop(msg.hbh, None)
        rec = conn.record
        slots = None
        if rec:
            slots = _slots(rec.by_command, msg.code)
            slots[ANS_IN] += 1
        if fut is None or fut.done():
            metrics.inc("diameter.answers.unexpected")
            if slots is not None:
                slots[ANS_DROPPED] += 1
            return
        metrics.inc(f"diameter.{app_name(msg.app_id)}.answers_in.{result_class(msg.result_code)}")
        fut.set_result(msg)

    def new_session_id(self, tag: str = "") -> str:
        """A Session-Id per RFC 6733 §8.8: ``<DiameterIdentity>;<high 32>;<low 32>[;<optional>]``."""
        low = random.getrandbits(32)
        return f"{self.host};{self.origin_state_id};{low}" + (f";{tag}" if tag else "")

    # -- peer table -----------------------------------------------------------------------------
    def peer_table(self) -> list[dict[str, Any]]:
        """One row per open (or closing) connection: PeerRecord fields, the application messages'
        totals (``requests_in`` .. ``answers_in``); ``by_command`` adds the connection's CER/DWR/DPR
        counts and has string keys (JSON)."""
        rows = []
        for conn in self.connections:
            rec = conn.record
            if rec is None:
                continue
            row = vars(rec).copy()
            for slot in (REQ_IN, ANS_OUT, REQ_OUT, ANS_IN):
                row[COMMAND_SLOTS[slot]] = sum(slots[slot] for slots in rec.by_command.values())
            by = {code: list(slots) for code, slots in rec.by_command.items()}
            if conn.pc is not None:
                for code, slots in conn.pc.counts.items():
                    mine = by.setdefault(code, [0] * len(slots))
                    for i, v in enumerate(slots):
                        mine[i] += v
            row["by_command"] = {str(code): by[code] for code in sorted(by)}
            rows.append(row)
        return rows

    def _write_peers(self) -> None:
        """Atomically replace the peer table file (the SNMP agent reads it)."""
        if self.peer_file is None:
            return
        try:
            self.peer_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.peer_file.with_suffix(".tmp")
            table = {"pid": os.getpid(), "host": self.host, "realm": self.realm, "updated": int(time.time())}
            if self.relay is not None:
                table.update(self.relay.table_fields())
            table["peers"] = self.peer_table()
            tmp.write_text(json.dumps(table))
            os.replace(tmp, self.peer_file)
        except OSError as exc:
            log.warning("cannot write %s: %s", self.peer_file, exc)

    async def refresh_peer_table(self, stop: asyncio.Event, every: float = 5.0) -> None:
        """Rewrite the table periodically so per-peer counters stay current."""
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), every)
            except TimeoutError:
                pass
            self._write_peers()


def _answer_result(answer: bytes) -> int | None:
    """Result-Code of an encoded answer (:func:`codec.answer_result`)."""
    return c.answer_result(answer)


def sctp_socket(address: str, port: int) -> socket.socket | None:
    """A listening one-to-one SCTP socket, or None when the kernel/Python has no SCTP."""
    proto = getattr(socket, "IPPROTO_SCTP", 132)
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
    except OSError:
        return None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "SO_REUSEPORT"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((address, port))
        sock.listen(128)
        sock.setblocking(False)
        return sock
    except OSError:
        sock.close()
        return None


_CC_REQUEST_TYPES = {1: "initial", 2: "update", 3: "termination", 4: "event"}
_LATENCIES: dict[tuple[int, int, bytes], metrics.Latency] = {}


def _latency_of(msg: Message, apps: Any) -> metrics.Latency:
    """The histogram of this request's application, command and (CCR) CC-Request-Type, cached."""
    kind = b""
    if msg.code == 272:
        for avp in msg.avps:
            if avp.code == 416 and avp.vendor == 0:
                kind = avp.data
                break
    key = (msg.app_id, msg.code, kind)
    hist = _LATENCIES.get(key)
    if hist is None:
        hist = metrics.latency(_latency_name(msg, apps))
        if len(_LATENCIES) < 256:          # keys come from peers: a bounded cache
            _LATENCIES[key] = hist
    return hist


def _latency_name(msg: Message, apps: Any) -> str:
    """``diameter.<app>.<command>`` for the latency histogram; a CCR by CC-Request-Type (RFC 4006 §8.3)."""
    if msg.app_id not in APP_NAMES and msg.app_id not in apps:
        return "diameter.other"
    name = app_name(msg.app_id)
    if msg.code != 272:
        return f"diameter.{name}.cmd{msg.code}"
    for avp in msg.avps:
        if avp.code == 416 and avp.vendor == 0 and len(avp.data) == 4:
            return f"diameter.{name}.ccr.{_CC_REQUEST_TYPES.get(int.from_bytes(avp.data, 'big'), 'other')}"
    return f"diameter.{name}.ccr.other"
