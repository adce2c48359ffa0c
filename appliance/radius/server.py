"""The RADIUS server's per-packet path: asyncio UDP, checks, duplicate cache, dispatch, counters.

Order of checks for each datagram (RFC 2865 §3, RFC 3579 §3.2, RFC 5080 §2.2.2):
unknown client -> ``invalid_requests``; bad header/Length -> ``malformed``; code not
served on this port -> ``unknown_types``; RFC 5080 duplicate (client address, port,
Identifier, Request Authenticator) -> the cached answer (``dup``); bad attribute
lengths -> ``malformed``; Message-Authenticator wrong -> ``bad_authenticators``,
missing where required -> ``packets_dropped`` (+ ``missing_message_authenticator``);
Accounting Request Authenticator wrong -> ``bad_authenticators``.  Counter names are
the RFC 4669/4671 objects; see docs/counters.md.

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
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import metrics
from ..ledger.remote import LedgerUnavailable
from ..logs.translog import Fixed
from . import packet as rp
from .acct import STATUS_NAMES, AcctHandler, AcctOutcome
from .auth import AuthHandler, Reply, state_owner
from .clients import Client, ClientTable
from .names import value_name

if TYPE_CHECKING:
    from ..config import Config

log = logging.getLogger(__name__)

REPLY_NAMES = {rp.ACCESS_ACCEPT: "Access-Accept", rp.ACCESS_REJECT: "Access-Reject",
               rp.ACCESS_CHALLENGE: "Access-Challenge", rp.ACCOUNTING_RESPONSE: "Accounting-Response"}
REPLY_COUNTER = {rp.ACCESS_ACCEPT: "access_accepts", rp.ACCESS_REJECT: "access_rejects",
                 rp.ACCESS_CHALLENGE: "access_challenges"}
MALFORMED = {"auth": "malformed_access_requests", "acct": "malformed_requests"}
DUP = {"auth": "dup_access_requests", "acct": "dup_requests"}
REQUESTS = {"auth": "access_requests", "acct": "requests"}


class DuplicateCache:
    """RFC 5080 §2.2.2 duplicate detection: key -> answer (None while the request is in progress)."""

    def __init__(self, ttl: float, capacity: int = 65536) -> None:
        self.ttl = ttl
        self.capacity = capacity
        # key -> (expiry, answer): tuples of atomic values, which the cyclic GC stops tracking
        # (OrderedDict: a dict emptied from the front makes next(iter()) walk the deleted slots)
        self._items: OrderedDict[tuple[Any, ...], tuple[float, bytes | None]] = OrderedDict()
        self._front_expiry = 0.0            # expiry of the oldest entry: nothing to sweep before it

    def _expire(self, now: float) -> None:
        items = self._items
        while items:
            key, entry = next(iter(items.items()))
            if entry[0] > now and len(items) <= self.capacity:
                self._front_expiry = entry[0]
                return
            del items[key]
        self._front_expiry = 0.0

    def lookup(self, key: tuple[Any, ...], now: float) -> tuple[bool, bytes | None]:
        entry = self._items.get(key)
        if entry is None or entry[0] <= now:
            return False, None
        return True, entry[1]

    def begin(self, key: tuple[Any, ...], now: float) -> None:
        if now >= self._front_expiry or len(self._items) > self.capacity:
            self._expire(now)
        self._items[key] = (now + self.ttl, None)

    def finish(self, key: tuple[Any, ...], answer: bytes | None) -> None:
        if answer is None:
            self._items.pop(key, None)      # nothing sent: a retransmission is processed afresh
        else:
            entry = self._items.get(key)
            if entry is not None:           # same key: keeps its place in the expiry order
                self._items[key] = (entry[0], answer)

    def __len__(self) -> int:
        return len(self._items)


class Counters:
    """radius.<kind>.<name> and radius.<kind>.client.<N>.<name>, their slots cached per counter file."""

    def __init__(self, kind: str) -> None:
        self.prefix = f"radius.{kind}."
        self._owner: metrics.Counters | None = None
        self._cells: dict[tuple[str, int], tuple[int, ...]] = {}

    def inc(self, name: str, client: Client | None = None) -> None:
        owner = metrics.default()
        if owner is not self._owner:                # the process opened its counter file
            self._owner, self._cells = owner, {}
        key = (name, -1 if client is None else client.index)
        cells = self._cells.get(key)
        if cells is None:
            names = [self.prefix + name]
            if client is not None:
                names.append(f"{self.prefix}client.{client.index}.{name}")
            cells = self._cells[key] = owner.cells(*names)
        owner.inc_cells(cells)


class Listener(asyncio.DatagramProtocol):
    def __init__(self, server: RadiusServer, kind: str, family: int) -> None:
        self.server, self.kind, self.family = server, kind, family
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.server.on_datagram(self, data, addr, forwarded=False)

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
        self.clients = clients
        self.disconnect = disconnect           # async fn(client, session_key, session_doc, reason)
        self.translog = translog
        self.clock = clock
        self.dups = DuplicateCache(float(cfg.radius.duplicate_ttl))
        self.counters = {"auth": Counters("auth"), "acct": Counters("acct")}
        self.listeners: dict[tuple[str, int], Listener] = {}
        self.forwarder: Forwarder | None = None
        self.forward_dir: Path | None = None
        self.spread = False                    # datagrams spread over the workers per packet
        self.tasks: set[asyncio.Task[Any]] = set()
        self._outbox: list[tuple[Any, bytes, Any]] = []     # answers of this loop turn
        self._release_at_turn_end = False
        self.report_unknown: Any = None
        try:
            from ..snmp.events import unknown_client
            self.report_unknown = unknown_client
        except ImportError:
            pass

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

    # ------------------------------------------------------------------ per packet
    def on_datagram(self, listener: Listener, data: bytes, addr: Any, forwarded: bool) -> None:
        kind = listener.kind
        counters = self.counters[kind]
        client = self.clients.lookup(addr[0])
        if client is None:
            counters.inc("invalid_requests")
            if self.report_unknown is not None:      # SNMP ocsUnknownClient (rate-limited by the callee)
                self.report_unknown("radius", addr[0])
            return
        try:
            code, ident, _length = rp.parse_header(data)
        except rp.Malformed:
            counters.inc(MALFORMED[kind], client)
            return
        expected = rp.ACCESS_REQUEST if kind == "auth" else rp.ACCOUNTING_REQUEST
        if code != expected and code != rp.STATUS_SERVER:
            counters.inc("unknown_types", client)
            return
        if code == expected and not forwarded:       # a forwarded round was counted by the receiving worker
            counters.inc(REQUESTS[kind], client)
        now = self.clock()
        key = (addr[0], addr[1], code, ident, data[4:20])
        seen, answer = self.dups.lookup(key, now)
        if seen:
            counters.inc(DUP[kind], client)
            if answer is not None:
                self._answer(listener, answer, addr)
            return
        try:
            req = rp.decode(data)
        except rp.Malformed:
            counters.inc(MALFORMED[kind], client)
            return
        if kind == "auth" or code == rp.STATUS_SERVER:
            ok = rp.verify_message_authenticator(req, client.secret,   # RFC 5997 §3: as Access-Request
                                                 zero_authenticator=code == rp.ACCOUNTING_REQUEST)
            if ok is False:
                counters.inc("bad_authenticators", client)
                return
            if ok is None and (code == rp.STATUS_SERVER or client.require_message_authenticator
                               or req.get(rp.EAP_MESSAGE) is not None):
                counters.inc("packets_dropped", client)
                counters.inc("missing_message_authenticator", client)
                return
        if code == rp.ACCOUNTING_REQUEST and not rp.request_authenticator_ok(req.raw, client.secret):
            counters.inc("bad_authenticators", client)
            return
        if code == rp.STATUS_SERVER:            # RFC 5997 §3: alive
            reply = rp.ACCESS_ACCEPT if kind == "auth" else rp.ACCOUNTING_RESPONSE
            listener.transport.sendto(rp.encode_response(reply, req, [], client.secret), addr)
            return
        if kind == "auth" and not forwarded:
            owner = state_owner(req.get(rp.STATE))
            if owner is not None and owner != self.index and self._forward(owner, listener, data, addr):
                return
        if kind == "auth":
            try:
                fast = self.auth.try_cached(client, req)
            except rp.Malformed:
                counters.inc("malformed_access_requests", client)
                return
            if fast is not None:                # cached subscriber: answered without a store round trip
                self.dups.begin(key, now)
                self._auth_reply(listener, client, req, addr, key, fast)
                return
        self.dups.begin(key, now)
        handler = self._auth(listener, client, req, addr, key) if kind == "auth" else \
            self._acct(listener, client, req, addr, key)
        task = asyncio.ensure_future(handler)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _send(self, listener: Listener, key: tuple[Any, ...], addr: Any, answer: bytes | None) -> None:
        self.dups.finish(key, answer)
        if answer is not None:
            self._answer(listener, answer, addr)

    def _answer(self, listener: Listener, answer: bytes, addr: Any) -> None:
        """Queue an answer for the end of this loop turn (after the turn's log records are written)."""
        self._outbox.append((listener.transport, answer, addr))
        self._turn_end()

    def _turn_end(self) -> None:
        if not self._release_at_turn_end:
            self._release_at_turn_end = True
            asyncio.get_running_loop().call_soon(self._release)

    def _release(self) -> None:
        """Write the held log records of this turn, then send its answers."""
        self._release_at_turn_end = False
        if self.translog is not None:
            self.translog.write_held()
        out, self._outbox = self._outbox, []
        for transport, answer, addr in out:
            try:
                transport.sendto(answer, addr)
            except OSError as exc:                # one unsendable answer must not cost the others
                log.debug("udp send to %s failed: %s", addr[0], exc)

    async def _auth(self, listener: Listener, client: Client, req: rp.Packet, addr: Any,
                    key: tuple[Any, ...]) -> None:
        counters = self.counters["auth"]
        reply: Reply | None = None
        try:
            reply = await self.auth.handle(client, req)
            if reply is None:
                counters.inc("packets_dropped", client)
        except rp.Malformed:
            counters.inc("malformed_access_requests", client)
        except Exception:                                        # a bug: loud in logs, the server stays up
            log.exception("Access-Request from %s failed", addr[0])
            counters.inc("packets_dropped", client)
        self._auth_reply(listener, client, req, addr, key, reply)

    def _auth_reply(self, listener: Listener, client: Client, req: rp.Packet, addr: Any, key: tuple[Any, ...],
                    reply: Reply | None) -> None:
        answer = None
        if reply is not None:
            if rp.PROXY_STATE in req.first:             # RFC 2865 §5.33: echoed unmodified, in order
                answer = rp.encode_response(reply.code, req, reply.attrs + [(rp.PROXY_STATE, v) for v in
                                                                          req.all(rp.PROXY_STATE)], client.secret)
            else:
                body = reply.body
                if body is None:                          # a cached Access-Accept encodes its attributes once
                    body = reply.body = rp.encode_attributes(reply.attrs)
                answer = rp.encode_response_body(reply.code, req, body, client.secret)
            self.counters["auth"].inc(REPLY_COUNTER[reply.code], client)
            if self.translog is not None and self.translog.enabled():
                fixed = reply.log
                if fixed is None:                         # a cached Access-Accept's is encoded once
                    fixed = reply.log = Fixed({"protocol": "radius", "app": "auth", "type": "Access-Request",
                                               "method": reply.method or None, "subscriber": reply.subscriber,
                                               "result": REPLY_NAMES.get(reply.code),
                                               "reason": reply.reason or None})
                self.translog.auth({"peer": f"{addr[0]}:{addr[1]}", "username": req.text(rp.USER_NAME)},
                                   held=True, fixed=fixed)
                self._turn_end()
        self._send(listener, key, addr, answer)

    async def _acct(self, listener: Listener, client: Client, req: rp.Packet, addr: Any,
                    key: tuple[Any, ...]) -> None:
        counters = self.counters["acct"]
        answer = None
        outcome: AcctOutcome | None = None
        try:
            outcome = await self.acct.handle(client, req, addr[0])
            if not outcome.recorded:
                counters.inc("no_records", client)
            attrs = [(rp.PROXY_STATE, v) for v in req.all(rp.PROXY_STATE)]
            answer = rp.encode_response(rp.ACCOUNTING_RESPONSE, req, attrs, client.secret,
                                        with_message_authenticator=False)
            counters.inc("responses", client)
        except rp.Malformed:
            counters.inc("malformed_requests", client)
        except LedgerUnavailable as exc:      # no answer: the NAS retransmits (RFC 2866 §2)
            log.warning("Accounting-Request from %s not answered: %s", addr[0], exc)
            counters.inc("packets_dropped", client)
        except Exception:
            log.exception("Accounting-Request from %s failed", addr[0])
            counters.inc("packets_dropped", client)
        if outcome is not None and self.translog is not None and self.translog.enabled():
            self.translog.acct(self._acct_record(req, addr, outcome), held=True)
            self._turn_end()
        self._send(listener, key, addr, answer)
        if outcome is not None and outcome.exhausted:   # new Access-Requests must see the empty balance
            self.auth.cache.drop(req.text(rp.USER_NAME))
            if outcome.session is not None:
                self.auth.cache.drop(outcome.session.get("user"))
        if outcome is not None and outcome.exhausted and self.disconnect is not None and outcome.session:
            task = asyncio.ensure_future(self.disconnect(client, outcome.session_key, outcome.session,
                                                         "balance exhausted"))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    def _acct_record(self, req: rp.Packet, addr: Any, outcome: AcctOutcome) -> dict[str, Any]:
        rec: dict[str, Any] = {"protocol": "radius", "app": "acct", "type": "Accounting-Request",
                               "request_type": STATUS_NAMES.get(outcome.status, str(outcome.status)),
                               "peer": f"{addr[0]}:{addr[1]}", "session_id": req.text(rp.ACCT_SESSION_ID),
                               "subscriber": outcome.subscriber, "username": req.text(rp.USER_NAME),
                               "service": self.cfg.radius.service, "result": "Accounting-Response",
                               "nas_id": req.text(rp.NAS_IDENTIFIER),
                               "calling_station_id": req.text(rp.CALLING_STATION_ID),
                               "called_station_id": req.text(rp.CALLED_STATION_ID),
                               "session_time": req.integer(rp.ACCT_SESSION_TIME),
                               "terminate_cause": value_name("Acct-Terminate-Cause",
                                                             req.integer(rp.ACCT_TERMINATE_CAUSE)),
                               "nas_port_type": value_name("NAS-Port-Type", req.integer(rp.NAS_PORT_TYPE))}
        nas_ip = req.get(rp.NAS_IP_ADDRESS)
        if nas_ip is not None and len(nas_ip) == 4:
            rec["nas_ip"] = socket.inet_ntoa(nas_ip)
        framed = req.get(rp.FRAMED_IP_ADDRESS)
        if framed is not None and len(framed) == 4:
            rec["framed_ip"] = socket.inet_ntoa(framed)
        from .acct import counter64
        rec["input_octets"] = counter64(req, rp.ACCT_INPUT_OCTETS, rp.ACCT_INPUT_GIGAWORDS)
        rec["output_octets"] = counter64(req, rp.ACCT_OUTPUT_OCTETS, rp.ACCT_OUTPUT_GIGAWORDS)
        cls = req.get(rp.CLASS)
        if cls is not None:
            rec["class"] = cls.hex()
        res = outcome.result
        if res is not None:
            rec["outcome"] = res.outcome.value
            rec["duplicate"] = res.duplicate or None
            rec["charged"] = sum(i.charged for i in res.items)
            rec["units"] = [{"unit": i.unit.value, "granted": i.granted, "used": (outcome.used or {}).get(i.unit.value),
                             "debited": i.debited, "charged": i.charged, "unpaid": i.unpaid,
                             "outcome": i.outcome.value, "final": i.final} for i in res.items]
        return {k: v for k, v in rec.items() if v is not None}


def forward_dir(cfg: Config) -> Path:
    return cfg.path(cfg.run_dir) / "radius"
