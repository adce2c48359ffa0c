"""The RADIUS server as a sans-I/O endpoint: datagrams in, actions out.

``RadiusEndpoint.receive(datagram, addr, now)`` checks a datagram and returns what the adapter
(:mod:`appliance.radius.server`) must do: :class:`Send` an answer, :class:`Forward` an EAP round to
the worker owning its State, :class:`Authorize` a subscriber from the store's read path (then
:meth:`RadiusEndpoint.authorized`), run :class:`Work` that needs the store's writer or an EAP
method (then :meth:`RadiusEndpoint.access_done` / :meth:`RadiusEndpoint.accounting_done`),
:class:`Disconnect` a session, report an :class:`UnknownClient`.  It never touches a socket, a
store or the clock: ``now`` is given.  Transaction-log records go to the held buffer of the sink
it is given; the adapter writes them before it sends the answers of the turn.

Order of checks for each datagram (RFC 2865 §3, RFC 3579 §3.2, RFC 5080 §2.2.2):
unknown client -> ``invalid_requests``; bad header/Length -> ``malformed``; code not
served on this port -> ``unknown_types``; RFC 5080 duplicate (client address, port, Code,
Identifier, Length, Request Authenticator) -> the cached answer (``dup``); bad attribute
lengths -> ``malformed``; Message-Authenticator wrong -> ``bad_authenticators``,
missing where required -> ``packets_dropped`` (+ ``missing_message_authenticator``);
Accounting Request Authenticator wrong -> ``bad_authenticators``.  Counter names are
the RFC 4669/4671 objects; see docs/counters.md.

An Access-Request is not decoded into a :class:`~appliance.radius.packet.Packet` on the PAP/CHAP
path: one scan gives the first value of each attribute type and the Message-Authenticator's
offset, and a cached subscriber's Access-Accept is its attributes encoded once, with only the
header, HMAC-MD5 and Response Authenticator computed per answer (RFC 2865 §3).

Actions are ``NamedTuple``s, not dataclasses: one is made per answered datagram, and a tuple is
the cheapest immutable record CPython builds.
"""
from __future__ import annotations

import hmac
import logging
import socket
from collections import OrderedDict
from typing import Any, NamedTuple

from ..ocs.passwords import pap_matches
from ..telemetry import metrics
from ..trace import ACTIVE as _TRACED
from . import packet as rp
from .acct import STATUS_NAMES, AcctOutcome, counter64
from .auth import AuthHandler, Reply, check_eap_length, state_owner
from .clients import Client, ClientTable
from .names import value_name

log = logging.getLogger(__name__)

REPLY_NAMES = {rp.ACCESS_ACCEPT: "Access-Accept", rp.ACCESS_REJECT: "Access-Reject",
               rp.ACCESS_CHALLENGE: "Access-Challenge", rp.ACCOUNTING_RESPONSE: "Accounting-Response"}
REQUEST_NAMES = {rp.ACCESS_REQUEST: "Access-Request", rp.ACCOUNTING_REQUEST: "Accounting-Request"}
REPLY_COUNTER = {rp.ACCESS_ACCEPT: "access_accepts", rp.ACCESS_REJECT: "access_rejects",
                 rp.ACCESS_CHALLENGE: "access_challenges"}
MALFORMED = {"auth": "malformed_access_requests", "acct": "malformed_requests"}
DUP = {"auth": "dup_access_requests", "acct": "dup_requests"}
REQUESTS = {"auth": "access_requests", "acct": "requests"}
# Latency histograms (appliance.telemetry.metrics.Latency): request received -> answer sent, per port.
LATENCY = {"auth": "radius.access_request", "acct": "radius.accounting_request"}


# ---------------------------------------------------------------------------------- actions

class Send(NamedTuple):
    """Send ``data`` to ``addr`` after this turn's log records are written; ``started`` is when the
    request arrived (for the port's latency histogram), negative for an answer not timed
    (Status-Server, a duplicate's cached answer)."""
    data: bytes
    addr: Any
    kind: str
    started: float


class Forward(NamedTuple):
    """An EAP round whose State belongs to worker ``owner``: hand the datagram over."""
    owner: int
    data: bytes
    addr: Any


class Authorize(NamedTuple):
    """A PAP/CHAP subscriber not in the cache: read its authorization (``AuthHandler.authorize_now``)
    and give it to :meth:`RadiusEndpoint.authorized` (None: take :class:`Work` instead)."""
    pending: Pending


class Work(NamedTuple):
    """A request that needs an EAP method or a store write transaction (``AuthHandler.handle``,
    ``AcctHandler.handle``); its result goes back through ``access_done`` / ``accounting_done``."""
    kind: str
    client: Client
    req: rp.Packet
    addr: Any
    key: tuple[Any, ...]
    started: float


class Disconnect(NamedTuple):
    """A session whose balance ran out (RFC 5176 Disconnect-Request to its NAS)."""
    client: Client
    session_key: str | None
    session: dict[str, Any]


class UnknownClient(NamedTuple):
    """A datagram from an address in no client entry (SNMP ocsUnknownClient)."""
    address: str


NOTHING: tuple[()] = ()


class Pending:
    """A PAP/CHAP Access-Request waiting for its subscriber's authorization."""

    __slots__ = ("addr", "check", "client", "first", "key", "method", "raw", "started", "user")

    def __init__(self, client: Client, raw: bytes, first: dict[int, bytes], addr: Any, key: tuple[Any, ...],
                 started: float, user: str, method: str, check: Any) -> None:
        self.client, self.raw, self.first, self.addr, self.key = client, raw, first, addr, key
        self.started, self.user, self.method, self.check = started, user, method, check


# ---------------------------------------------------------------------------------- state

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

    def put(self, key: tuple[Any, ...], now: float, answer: bytes) -> None:
        """:meth:`begin` and :meth:`finish` at once, for an answer made at once."""
        if now >= self._front_expiry or len(self._items) > self.capacity:
            self._expire(now)
        self._items[key] = (now + self.ttl, answer)

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


# ---------------------------------------------------------------------------------- the endpoint

class RadiusEndpoint:
    """One port's requests (``kind`` "auth": Access-Request, "acct": Accounting-Request; both
    answer Status-Server, RFC 5997 §3).  The auth and acct endpoints of a worker share the
    clients table, the duplicate cache and the authorization cache."""

    def __init__(self, kind: str, index: int, auth: AuthHandler, clients: ClientTable, dups: DuplicateCache,
                 translog: Any = None, service: str = "", forwarding: bool = False) -> None:
        self.kind = kind
        self.index = index
        self.auth = auth
        self.clients = clients
        self.dups = dups
        self.translog = translog
        self.service = service                  # radius.service, named in accounting records
        self.forwarding = forwarding            # another worker can take an EAP round (set by the adapter)
        self.counters = Counters(kind)
        self.expected = rp.ACCESS_REQUEST if kind == "auth" else rp.ACCOUNTING_REQUEST
        self.wall = auth.clock                  # the authorization cache's clock

    # ------------------------------------------------------------------ datagrams
    def receive(self, data: bytes, addr: Any, now: float, forwarded: bool = False) -> Any:
        """The actions for one datagram (a sequence; empty when it is dropped).  ``forwarded``:
        handed over by another worker, which counted it (and it is not forwarded again)."""
        host = addr[0]
        client = self.clients.lookup(host)
        counters = self.counters
        if client is None:
            counters.inc("invalid_requests")
            return (UnknownClient(host),)
        n = len(data)
        length = (data[2] << 8 | data[3]) if n >= rp.HEADER else 0
        if length < rp.HEADER or length > rp.MAX_PACKET or length > n:
            counters.inc(MALFORMED[self.kind], client)
            return NOTHING
        code = data[0]
        if code != self.expected:
            if code != rp.STATUS_SERVER:
                counters.inc("unknown_types", client)
                return NOTHING
        elif not forwarded:
            counters.inc(REQUESTS[self.kind], client)
        key = (host, addr[1], data[:rp.HEADER])
        entry = self.dups._items.get(key)
        if entry is not None and entry[0] > now:
            counters.inc(DUP[self.kind], client)
            return NOTHING if entry[1] is None else (Send(entry[1], addr, self.kind, -1.0),)
        raw = data if n == length else data[:length]
        if code == rp.ACCESS_REQUEST:
            return self._access_request(client, raw, length, addr, key, now, forwarded)
        return self._other(client, raw, code, addr, key, now)

    def _access_request(self, client: Client, raw: bytes, length: int, addr: Any, key: tuple[Any, ...],
                        now: float, forwarded: bool) -> Any:
        counters = self.counters
        try:
            first, at = rp.scan(raw, length)
        except rp.Malformed:
            counters.inc("malformed_access_requests", client)
            return NOTHING
        secret = client.secret
        if at >= 0:
            if not rp.message_authenticator_ok(raw, at, secret):
                counters.inc("bad_authenticators", client)
                return NOTHING
        elif at == -2:                                   # RFC 3579 §3.2: at most one
            counters.inc("bad_authenticators", client)
            return NOTHING
        elif client.require_message_authenticator or rp.EAP_MESSAGE in first:
            counters.inc("packets_dropped", client)
            counters.inc("missing_message_authenticator", client)
            return NOTHING
        if rp.STATE in first and not forwarded and self.forwarding:
            owner = state_owner(first[rp.STATE])
            if owner is not None and owner != self.index:
                return (Forward(owner, raw, addr),)
        name = first.get(rp.USER_NAME)
        if rp.EAP_MESSAGE in first or name is None:
            return self._work(client, raw, addr, key, now)
        password = first.get(rp.USER_PASSWORD)
        authenticator = raw[4:20]
        try:
            if password is not None:                     # PAP (RFC 2865 §5.2), the common case
                clear = rp.decrypt_password(password, secret, authenticator)
                method, check = "pap", None
            else:
                chap = first.get(rp.CHAP_PASSWORD)
                if chap is None:
                    return self._work(client, raw, addr, key, now)
                if len(chap) != 17:
                    raise rp.Malformed("CHAP-Password must be 17 octets")
                clear, method = b"", "chap"
                check = _chap_check(chap, first.get(rp.CHAP_CHALLENGE) or authenticator)
        except rp.Malformed:
            counters.inc("malformed_access_requests", client)
            return NOTHING
        user = name.decode("utf-8", "replace")
        cached = self.auth.cache.get(user, self.wall())
        if cached is None:
            return (Authorize(Pending(client, raw, first, addr, key, now, user, method,
                                      check or _pap_check(clear))),)
        authorization, accepts, stored = cached
        accept = accepts.get(method)
        if accept is not None and stored is not None and (
                pap_matches(clear, stored) if check is None else check(stored)):
            reply = accept                               # the same Access-Accept as last time
        else:
            reply = self.auth._verdict(authorization, user, method, check or _pap_check(clear))
            if reply.code == rp.ACCESS_ACCEPT:
                accepts[method] = reply
        return self._access_answer(client, raw, first, addr, key, now, now, reply, user)

    def authorized(self, pending: Pending, authorization: Any, now: float) -> Any:
        """Resume an :class:`Authorize`: ``authorization`` from the read path, or None (the
        store's writer must decide: the request becomes :class:`Work`)."""
        if authorization is None:
            return self._work(pending.client, pending.raw, pending.addr, pending.key, pending.started)
        cache = self.auth.cache
        wall = self.wall()
        self.auth.keep(pending.user, authorization, wall)
        cached = cache.get(pending.user, wall)
        reply = self.auth._verdict(authorization, pending.user, pending.method, pending.check)
        if cached is not None and reply.code == rp.ACCESS_ACCEPT:
            cached[1][pending.method] = reply
        return self._access_answer(pending.client, pending.raw, pending.first, pending.addr, pending.key,
                                   pending.started, now, reply, pending.user)

    def _work(self, client: Client, raw: bytes, addr: Any, key: tuple[Any, ...], started: float) -> Any:
        try:
            req = rp.decode(raw)
            if self.kind == "auth":
                eap = req.all(rp.EAP_MESSAGE)
                if eap:
                    check_eap_length(b"".join(eap))       # RFC 3579 §3.1, counted at once
        except rp.Malformed:
            self.counters.inc(MALFORMED[self.kind], client)
            return NOTHING
        self.dups.begin(key, started)
        return (Work(self.kind, client, req, addr, key, started),)

    def _other(self, client: Client, raw: bytes, code: int, addr: Any, key: tuple[Any, ...], now: float) -> Any:
        """Status-Server on either port, Accounting-Request on the acct port."""
        counters = self.counters
        try:
            req = rp.decode(raw)
        except rp.Malformed:
            counters.inc(MALFORMED[self.kind], client)
            return NOTHING
        if self.kind == "auth" or code == rp.STATUS_SERVER:
            ok = rp.verify_message_authenticator(req, client.secret,   # RFC 5997 §3: as Access-Request
                                                 zero_authenticator=code == rp.ACCOUNTING_REQUEST)
            if ok is False:
                counters.inc("bad_authenticators", client)
                return NOTHING
            if ok is None and (code == rp.STATUS_SERVER or client.require_message_authenticator
                               or req.get(rp.EAP_MESSAGE) is not None):
                counters.inc("packets_dropped", client)
                counters.inc("missing_message_authenticator", client)
                return NOTHING
        if code == rp.ACCOUNTING_REQUEST and not rp.request_authenticator_ok(req.raw, client.secret):
            counters.inc("bad_authenticators", client)
            return NOTHING
        if code == rp.STATUS_SERVER:            # RFC 5997 §3: alive
            reply = rp.ACCESS_ACCEPT if self.kind == "auth" else rp.ACCOUNTING_RESPONSE
            return (Send(rp.encode_response(reply, req, [], client.secret), addr, self.kind, -1.0),)
        self.dups.begin(key, now)
        return (Work(self.kind, client, req, addr, key, now),)

    # ------------------------------------------------------------------ answers
    def access_done(self, work: Work, reply: Reply | None, failure: str = "") -> Any:
        """Resume an Access-Request's :class:`Work`: its reply, or a ``failure`` ("malformed",
        "dropped"); None with no failure is a request dropped on purpose (an EAP Ignore)."""
        counters = self.counters
        if failure == "malformed":
            counters.inc("malformed_access_requests", work.client)
        elif reply is None:
            counters.inc("packets_dropped", work.client)
        if reply is None:
            self.dups.finish(work.key, None)
            return NOTHING
        req = work.req
        user = req.text(rp.USER_NAME)
        return self._access_answer(work.client, req.raw, req.first, work.addr, work.key, work.started, None,
                                   reply, user, req)

    def _access_answer(self, client: Client, raw: bytes, first: dict[int, bytes], addr: Any, key: tuple[Any, ...],
                       started: float, now: float | None, reply: Reply, user: str | None,
                       req: rp.Packet | None = None) -> Any:
        secret = client.secret
        if rp.PROXY_STATE in first:                 # RFC 2865 §5.33: echoed unmodified, in order
            req = req or rp.decode(raw)
            answer = rp.encode_response(reply.code, req, reply.attrs + [(rp.PROXY_STATE, v) for v in
                                                                      req.all(rp.PROXY_STATE)], secret)
        else:
            body = reply.body
            if body is None:                        # a cached Access-Accept encodes its attributes once
                body = reply.body = rp.encode_attributes(reply.attrs)
            answer = rp.encode_answer(reply.code, raw[1], raw[4:20], body, secret)
        self.counters.inc(REPLY_COUNTER[reply.code], client)
        translog = self.translog
        if translog is not None and translog.enabled():
            fixed = reply.log
            if fixed is None:                        # a cached Access-Accept's is encoded once
                from ..logs.translog import Fixed
                fixed = reply.log = Fixed({"protocol": "radius", "app": "auth", "type": "Access-Request",
                                           "method": reply.method or None, "subscriber": reply.subscriber,
                                           "result": REPLY_NAMES.get(reply.code), "reason": reply.reason or None})
            translog.auth_peer(addr[0], addr[1], user, fixed, held=True)
        if now is None:
            self.dups.finish(key, answer)
        else:
            self.dups.put(key, now, answer)
        if _TRACED:                                  # someone traces a subscriber (appliance trace)
            self._trace(user, raw, answer, addr, secret)
        return (Send(answer, addr, "auth", started),)

    def accounting_done(self, work: Work, outcome: AcctOutcome | None, failure: str = "") -> Any:
        """Resume an Accounting-Request's :class:`Work` with what the ledger decided, or a
        ``failure`` ("malformed", "dropped": no answer, the NAS retransmits, RFC 2866 §2)."""
        client, req, counters = work.client, work.req, self.counters
        answer = None
        actions: list[Any] = []
        if outcome is not None:
            if not outcome.recorded:
                counters.inc("no_records", client)
            attrs = [(rp.PROXY_STATE, v) for v in req.all(rp.PROXY_STATE)]
            answer = rp.encode_response(rp.ACCOUNTING_RESPONSE, req, attrs, client.secret,
                                        with_message_authenticator=False)
            counters.inc("responses", client)
            translog = self.translog
            if translog is not None and translog.enabled():
                translog.acct(self.accounting_record(req, work.addr, outcome), held=True)
        elif failure == "malformed":
            counters.inc("malformed_requests", client)
        else:
            counters.inc("packets_dropped", client)
        self.dups.finish(work.key, answer)
        if answer is not None:
            actions.append(Send(answer, work.addr, "acct", work.started))
            if _TRACED:
                self._trace(req.text(rp.USER_NAME), req.raw, answer, work.addr, client.secret,
                            outcome.subscriber if outcome is not None else None)
        if outcome is not None and outcome.exhausted:   # new Access-Requests must see the empty balance
            self.auth.cache.drop(req.text(rp.USER_NAME))
            if outcome.session is not None:
                self.auth.cache.drop(outcome.session.get("user"))
                actions.append(Disconnect(client, outcome.session_key, outcome.session))
        return actions

    def accounting_record(self, req: rp.Packet, addr: Any, outcome: AcctOutcome) -> dict[str, Any]:
        rec: dict[str, Any] = {"protocol": "radius", "app": "acct", "type": "Accounting-Request",
                               "request_type": STATUS_NAMES.get(outcome.status, str(outcome.status)),
                               "peer": f"{addr[0]}:{addr[1]}", "session_id": req.text(rp.ACCT_SESSION_ID),
                               "subscriber": outcome.subscriber, "username": req.text(rp.USER_NAME),
                               "service": self.service, "result": "Accounting-Response",
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

    # ------------------------------------------------------------------ trace
    def _trace(self, user: str | None, raw: bytes, answer: bytes, addr: Any, secret: bytes,
               subscriber: str | None = None) -> None:
        """A traced subscriber's request and answer, decoded, secrets masked (``appliance trace``)."""
        from .. import trace
        from .names import describe
        identity = next((i for i in (user, subscriber) if i is not None and i in _TRACED), None)
        if identity is None:
            return
        try:
            request, reply = rp.decode(raw), rp.decode(answer)
        except rp.Malformed:                          # only well-formed requests reach an answer
            return
        trace.radius(identity, self.kind, f"{addr[0]}:{addr[1]}",
                     {"command": REQUEST_NAMES.get(request.code, str(request.code)), "identifier": request.identifier,
                      "attributes": describe(request.attributes)},
                     {"command": REPLY_NAMES.get(reply.code, str(reply.code)), "identifier": reply.identifier,
                      "attributes": describe(reply.attributes)})


def _pap_check(clear: bytes) -> Any:
    def check(stored: bytes) -> bool:
        return pap_matches(clear, stored)
    return check


def _chap_check(chap: bytes, challenge: bytes) -> Any:
    """CHAP-Password = ident + MD5(ident + password + challenge) (RFC 1994 §4.1, RFC 2865 §5.3)."""
    def check(stored: bytes) -> bool:
        return hmac.compare_digest(rp._md5(chap[:1] + stored + challenge).digest(), chap[1:])
    return check
