"""The RADIUS server's asyncio adapter: UDP sockets, the worker-to-worker hand-over, tasks, timers.

What a datagram means -- checks, duplicate cache, PAP/CHAP, answers, counters, log records -- is
decided by the sans-I/O :class:`~appliance.radius.endpoint.RadiusEndpoint`; this module feeds it
datagrams with the time and carries out the actions it returns (send, forward, read an
authorization, run a store transaction or an EAP method, disconnect).

EAP rounds must reach the worker holding the conversation: with SO_REUSEPORT the
kernel picks the socket by a hash of the 4-tuple, so a NAS that keeps its source
port sticks to one worker.  A NAS that changes source port is covered too: our
State carries the owner's worker index, and a worker receiving another worker's
State forwards the datagram over a Unix datagram socket to the owner, which
answers from its own socket bound to the same address and port.

One NAS socket would so keep one worker busy and leave the others idle.  With
``radius.spread`` the workers attach a classic BPF program to the port's reuseport
group (SO_ATTACH_REUSEPORT_CBPF) that picks a random worker for every datagram; an
EAP round then reaches its owner by the forwarding above.  A kernel without the
option keeps the 4-tuple hash.

Answers leave once per event-loop turn: the transaction-log records of the turn are
written first (one ``write()``, :func:`appliance.logs.translog.write_held`), then the
answers are sent -- an answer never leaves before its record is in the page cache.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import socket
import struct
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..ledger.remote import LedgerUnavailable
from ..telemetry import metrics
from . import packet as rp
from .acct import AcctHandler
from .auth import AuthHandler, Reply
from .clients import ClientTable
from .endpoint import (
    LATENCY,
    REPLY_NAMES,
    Authorize,
    Counters,
    Disconnect,
    DuplicateCache,
    Forward,
    RadiusEndpoint,
    Send,
    UnknownClient,
    Work,
)

if TYPE_CHECKING:
    from ..config import Config

log = logging.getLogger(__name__)

__all__ = ["REPLY_NAMES", "Counters", "DuplicateCache", "Listener", "RadiusServer", "forward_dir",
           "reuseport_socket", "spread_datagrams", "spread_program"]


class Listener(asyncio.DatagramProtocol):
    def __init__(self, server: RadiusServer, kind: str, family: int) -> None:
        self.server, self.kind, self.family = server, kind, family
        self.endpoint = server.endpoints[kind]
        self.transport: Any = None
        self.clock = server.clock
        self.auth = server.auth

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        now = self.clock()
        auth = self.auth
        if now - auth.polled_at >= auth.poll_every:    # decisions of changed subscribers go first
            auth.refresh(now)
        actions = self.endpoint.receive(data, addr, now)
        if actions:
            self.server.act(self, actions)

    def error_received(self, exc: Exception) -> None:
        log.debug("udp error: %s", exc)


class Forwarder(asyncio.DatagramProtocol):
    """Unix datagram socket between workers: another worker's EAP round handed to its owner."""

    def __init__(self, server: RadiusServer) -> None:
        self.server = server
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        try:
            family, port, hlen = struct.unpack_from("!BHB", data)
            host = data[4:4 + hlen].decode()
            payload = data[4 + hlen:]
        except (struct.error, UnicodeDecodeError):
            return
        listener = self.server.listeners.get(("auth", socket.AF_INET6 if family == 6 else socket.AF_INET))
        if listener is not None:
            metrics.inc("radius.auth.forwarded_in")
            self.server.on_datagram(listener, payload, (host, port), forwarded=True)


def _same(listener: Listener) -> Listener:
    return listener


SO_ATTACH_REUSEPORT_CBPF = getattr(socket, "SO_ATTACH_REUSEPORT_CBPF", 51)
_SKF_AD_RANDOM = (-0x1000 + 56) & 0xFFFFFFFF      # SKF_AD_OFF + SKF_AD_RANDOM: a random u32 in A


def spread_program(workers: int) -> bytes:
    """Classic BPF returning the reuseport group index ``random % workers`` (an index past the
    group's sockets makes the kernel fall back to its hash)."""
    return b"".join(struct.pack("=HBBI", code, 0, 0, k) for code, k in (
        (0x20, _SKF_AD_RANDOM),               # BPF_LD | BPF_W | BPF_ABS
        (0x94, max(1, workers)),              # BPF_ALU | BPF_MOD | BPF_K
        (0x16, 0)))                           # BPF_RET | BPF_A


def spread_datagrams(sock: Any, workers: int) -> bool:
    """Attach :func:`spread_program` to the reuseport group of ``sock``; False (and the kernel's
    4-tuple hash stays) when the kernel refuses it."""
    import ctypes
    code = spread_program(workers)
    buf = ctypes.create_string_buffer(code, len(code))
    fprog = struct.pack("@HP", len(code) // 8, ctypes.addressof(buf))     # struct sock_fprog
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, fprog)
    except OSError as exc:
        log.warning("per-datagram spreading over RADIUS workers unavailable (%s): one client socket "
                    "stays on one worker", exc)
        return False
    return True


def reuseport_socket(family: int, host: str, port: int) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    except OSError:
        pass
    sock.bind((host, port))
    sock.setblocking(False)
    return sock


class RadiusServer:
    def __init__(self, cfg: Config, index: int, auth: AuthHandler, acct: AcctHandler, clients: ClientTable,
                 disconnect: Any = None, translog: Any = None, clock: Any = time.monotonic) -> None:
        self.cfg = cfg
        self.index = index
        self.auth = auth
        self.acct = acct
        self.disconnect = disconnect           # async fn(client, session_key, session_doc, reason)
        self.clock = clock
        self.dups = DuplicateCache(float(cfg.radius.duplicate_ttl))
        self.endpoints = {kind: RadiusEndpoint(kind, index, auth, clients, self.dups, translog, cfg.radius.service)
                          for kind in ("auth", "acct")}
        self.counters = {kind: ep.counters for kind, ep in self.endpoints.items()}
        self.latency = {kind: metrics.latency(name) for kind, name in LATENCY.items()}
        self.listeners: dict[tuple[str, int], Listener] = {}
        self.forwarder: Forwarder | None = None
        self.forward_dir: Path | None = None
        self.spread = False                    # datagrams spread over the workers per packet
        self.tasks: set[asyncio.Task[Any]] = set()
        self._outbox: list[tuple[Any, Send]] = []     # answers of this loop turn
        self._release_at_turn_end = False
        self._translog = translog
        self.report_unknown: Any = None
        try:
            from ..telemetry.events import unknown_client
            self.report_unknown = unknown_client
        except ImportError:
            pass

    @property
    def clients(self) -> ClientTable:
        return self.endpoints["auth"].clients

    @clients.setter
    def clients(self, table: ClientTable) -> None:
        for ep in self.endpoints.values():
            ep.clients = table

    @property
    def translog(self) -> Any:
        return self._translog

    @translog.setter
    def translog(self, sink: Any) -> None:
        self._translog = sink
        for ep in self.endpoints.values():
            ep.translog = sink

    # ------------------------------------------------------------------ sockets
    async def start(self, forward_dir: Path | None = None) -> None:
        loop = asyncio.get_running_loop()
        r = self.cfg.radius
        binds = [(socket.AF_INET, r.address)] if r.address else []
        if r.address6:
            binds.append((socket.AF_INET6, r.address6))
        spread = {"auth": r.spread in ("auth", "all"), "acct": r.spread == "all"}
        for kind, port in (("auth", r.auth_port), ("acct", r.acct_port)):
            for family, host in binds:
                sock = reuseport_socket(family, host, port)
                if spread[kind] and self.cfg.processes.radius > 1:
                    self.spread = spread_datagrams(sock, self.cfg.processes.radius) or self.spread
                listener = Listener(self, kind, family)
                await loop.create_datagram_endpoint(functools.partial(_same, listener), sock=sock)
                self.listeners[(kind, family)] = listener
        if forward_dir is not None:
            forward_dir.mkdir(parents=True, exist_ok=True)
            path = forward_dir / f"w{self.index}.sock"
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            usock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            usock.bind(str(path))
            usock.setblocking(False)
            _t, fwd = await loop.create_datagram_endpoint(lambda: Forwarder(self), sock=usock)
            self.forwarder, self.forward_dir = fwd, forward_dir
            self.endpoints["auth"].forwarding = True

    def ports(self) -> dict[str, int]:
        return {kind: lst.transport.get_extra_info("sockname")[1] for (kind, _f), lst in self.listeners.items()}

    async def close(self, wait: float = 4.0) -> None:
        self._release()                        # this turn's answers leave before the sockets close
        for lst in self.listeners.values():
            lst.transport.close()
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=wait)
        if self.forwarder is not None:
            self.forwarder.transport.close()
            if self.forward_dir is not None:
                try:
                    (self.forward_dir / f"w{self.index}.sock").unlink()
                except FileNotFoundError:
                    pass

    def _forward(self, owner: int, listener: Listener, data: bytes, addr: Any) -> bool:
        if self.forwarder is None or self.forward_dir is None:
            return False
        host = addr[0].encode()
        msg = struct.pack("!BHB", 6 if listener.family == socket.AF_INET6 else 4, addr[1], len(host)) + host + data
        try:
            self.forwarder.transport.sendto(msg, str(self.forward_dir / f"w{owner}.sock"))
        except OSError:
            return False
        metrics.inc("radius.auth.forwarded_out")
        return True

    # ------------------------------------------------------------------ actions
    def on_datagram(self, listener: Listener, data: bytes, addr: Any, forwarded: bool) -> None:
        now = self.clock()
        self.auth.refresh(now)
        actions = listener.endpoint.receive(data, addr, now, forwarded)
        if actions:
            self.act(listener, actions)

    def act(self, listener: Listener, actions: Any) -> None:
        """Carry out an endpoint's actions (the answers leave at the end of the loop turn)."""
        for action in actions:
            kind = type(action)
            if kind is Send:
                self._outbox.append((listener.transport, action))
                if not self._release_at_turn_end:
                    self._release_at_turn_end = True
                    asyncio.get_running_loop().call_soon(self._release)
            elif kind is Authorize:             # read now, beside the writer: no task, no thread hop
                pending = action.pending
                self.act(listener, listener.endpoint.authorized(pending, self.auth.authorize_now(pending.user),
                                                                self.clock()))
            elif kind is Work:
                self._spawn(self._auth(listener, action) if action.kind == "auth" else self._acct(listener, action))
            elif kind is Forward:
                if not self._forward(action.owner, listener, action.data, action.addr):
                    self.on_datagram(listener, action.data, action.addr, forwarded=True)   # served here
            elif kind is Disconnect:
                if self.disconnect is not None:
                    self._spawn(self.disconnect(action.client, action.session_key, action.session,
                                                "balance exhausted"))
            elif kind is UnknownClient:
                if self.report_unknown is not None:      # SNMP ocsUnknownClient (rate-limited by the callee)
                    self.report_unknown("radius", action.address)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _release(self) -> None:
        """Write the held log records of this turn, then send its answers."""
        self._release_at_turn_end = False
        if self._translog is not None:
            self._translog.write_held()
        out, self._outbox = self._outbox, []
        end = self.clock()
        latency = self.latency
        for transport, send in out:
            try:
                transport.sendto(send.data, send.addr)
            except OSError as exc:                # one unsendable answer must not cost the others
                log.debug("udp send to %s failed: %s", send.addr[0], exc)
                continue
            if send.started >= 0:
                latency[send.kind].observe(end - send.started)

    async def _auth(self, listener: Listener, work: Work) -> None:
        reply: Reply | None = None
        failure = ""
        try:
            reply = await self.auth.handle(work.client, work.req)
        except rp.Malformed:
            failure = "malformed"
        except Exception:                                        # a bug: loud in logs, the server stays up
            log.exception("Access-Request from %s failed", work.addr[0])
            failure = "dropped"
        self.act(listener, listener.endpoint.access_done(work, reply, failure))

    async def _acct(self, listener: Listener, work: Work) -> None:
        outcome = None
        failure = ""
        try:
            outcome = await self.acct.handle(work.client, work.req, work.addr[0])
        except rp.Malformed:
            failure = "malformed"
        except LedgerUnavailable as exc:      # no answer: the NAS retransmits (RFC 2866 §2)
            log.warning("Accounting-Request from %s not answered: %s", work.addr[0], exc)
            failure = "dropped"
        except Exception:
            log.exception("Accounting-Request from %s failed", work.addr[0])
            failure = "dropped"
        self.act(listener, listener.endpoint.accounting_done(work, outcome, failure))


def forward_dir(cfg: Config) -> Path:
    return cfg.path(cfg.run_dir) / "radius"
