"""Accounting-Request handling with real-time charging on the OCS core (RFC 2866, RFC 2869 §5.1).

Start reserves, Interim-Update debits the usage since the previous report and
reserves the next slice, Stop debits the rest and releases (``Charging`` START /
UPDATE / STOP, the operations Ro uses).  RADIUS reports cumulative counters, so
each open session keeps the totals already charged in a store document
``radius_session/<nas>|<Acct-Session-Id>`` and the core is given the difference;
the document update, the charge and the PCRF's out-of-credit flag
(:mod:`appliance.pcrf.credit`) commit in ONE transaction, and the Accounting-Response is sent
only after it is durable.

A retransmitted request (RFC 2866 §5.2: a new Identifier when Acct-Delay-Time
changes) carries the same counters, hence the same ``request_key``
``<charging session>:<status>:<octets>:<seconds>``: the core answers it from its
request log and charges nothing.  The session documents' key prefix ``<nas>|`` is
the per-NAS index Accounting-On/Off uses to release every open session of a NAS.
"""
from __future__ import annotations

import ipaddress
import logging
import socket
import time
from dataclasses import dataclass
from typing import Any

from ..ledger import book, protocol
from ..ocs.rating import Action, ChargeRequest, ChargeResult, ChargingPolicy, Outcome, UsageItem
from ..ocs.units import Unit
from ..telemetry import metrics
from . import packet as rp
from .clients import Client

log = logging.getLogger(__name__)

SESSION_KIND = "radius_session"
STATUS_NAMES = {rp.ACCT_START: "start", rp.ACCT_STOP: "stop", rp.ACCT_INTERIM: "interim",
                rp.ACCT_ON: "on", rp.ACCT_OFF: "off"}
ACTIONS = {rp.ACCT_START: Action.START, rp.ACCT_INTERIM: Action.UPDATE, rp.ACCT_STOP: Action.STOP}


@dataclass(slots=True)
class AcctOutcome:
    """What the transaction decided (for counters, logs and Disconnect)."""
    status: int
    session_key: str | None = None
    subscriber: str | None = None
    result: ChargeResult | None = None
    exhausted: bool = False
    released: int = 0
    session: dict[str, Any] | None = None
    recorded: bool = True
    used: dict[str, int] | None = None
    excess: dict[str, int] | None = None     # reported beyond the sanity bounds: counted, not charged


@dataclass(frozen=True, slots=True)
class UsageBounds:
    """What one accounting report may charge (``radius.acct_report_max_*``, ``radius.acct_max_rate``):
    a NAS that reports counters near 2^64, or a session it never started, is answered and
    charged at most this much; the rest is reported as excess."""
    max_octets: int = 1_000_000_000_000
    max_seconds: int = 172_800
    max_rate: int = 12_500_000_000           # octets per second
    SLACK = 60                                # seconds of clock and Acct-Delay-Time tolerance

    def cap(self, used: dict[Unit, int], window: int) -> tuple[dict[Unit, int], dict[Unit, int]]:
        """``used`` split into (charged, excess) for a report ``window`` seconds after the last one."""
        window = max(0, window) + self.SLACK
        limits = {Unit.OCTETS: min(self.max_octets, self.max_rate * window),
                  Unit.SECONDS: min(self.max_seconds, window)}
        charged = {u: min(n, limits.get(u, n)) for u, n in used.items()}
        return charged, {u: n - charged[u] for u, n in used.items() if n > charged[u]}


def nas_key(req: rp.Packet, source: str) -> str:
    """NAS identity (RFC 2866 §5: NAS-IP-Address or NAS-Identifier is required); source address last."""
    nas_id = req.text(rp.NAS_IDENTIFIER)
    if nas_id:
        return nas_id.replace("|", "_")[:64]
    ip = req.get(rp.NAS_IP_ADDRESS)
    if ip is not None and len(ip) == 4:
        return str(ipaddress.IPv4Address(ip))
    ip6 = req.get(rp.NAS_IPV6_ADDRESS)
    if ip6 is not None and len(ip6) == 16:
        return str(ipaddress.IPv6Address(ip6))
    return source


def counter64(req: rp.Packet, low: int, high: int) -> int:
    """Acct-Input/Output-Octets with their Gigawords (RFC 2869 §5.1/§5.2)."""
    return ((req.integer(high) or 0) << 32) + (req.integer(low) or 0)


def subscriber_of(req: rp.Packet) -> str | None:
    """The service id we put in Class at Access-Accept (echoed by the NAS, RFC 2865 §5.25), else User-Name."""
    for value in req.all(rp.CLASS):
        if value.startswith(b"ocs:"):
            return value[4:].decode("utf-8", "replace")
    return req.text(rp.USER_NAME)


class AcctHandler:
    def __init__(self, cfg: Any, store: Any, policy: ChargingPolicy, clock: Any = time.time,
                 ledger: Any = None) -> None:
        self.cfg = cfg
        self.store = store
        self.policy = policy
        self.clock = clock
        self.ledger = ledger           # the ledger role's client (RemoteLedger), or None: charge here
        self.units = tuple(Unit.parse(u) for u in cfg.radius.acct_units)
        self.service = cfg.radius.service
        r = cfg.radius
        self.bounds = UsageBounds(r.acct_report_max_octets, r.acct_report_max_seconds, r.acct_max_rate)

    async def handle(self, client: Client, req: rp.Packet, source: str) -> AcctOutcome:
        status = req.integer(rp.ACCT_STATUS_TYPE)
        if status is None:
            raise rp.Malformed("Acct-Status-Type missing")
        nas = nas_key(req, source)
        now = int(self.clock())
        if status in (rp.ACCT_ON, rp.ACCT_OFF):
            if self.ledger is not None:
                released = await self.ledger.call("radius_release_nas", (nas, now))
            else:
                released = await self.store.atransact(lambda l: release_nas_in(l, nas, now, self.policy))
            return AcctOutcome(status, released=released)
        if status not in ACTIONS:
            return AcctOutcome(status, recorded=False)          # e.g. Failed (15): acknowledged only
        session_id = req.text(rp.ACCT_SESSION_ID)
        if not session_id:
            raise rp.Malformed("Acct-Session-Id missing")
        subscriber = subscriber_of(req)
        if not subscriber:
            raise rp.Malformed("no User-Name or Class to charge")
        octets = counter64(req, rp.ACCT_INPUT_OCTETS, rp.ACCT_INPUT_GIGAWORDS) + \
            counter64(req, rp.ACCT_OUTPUT_OCTETS, rp.ACCT_OUTPUT_GIGAWORDS)
        seconds = req.integer(rp.ACCT_SESSION_TIME) or 0
        key = f"{nas}|{session_id}"
        info = {"nas": nas, "sid": session_id, "addr": source, "client": client.address,
                "coa_port": client.coa_port, "user": req.text(rp.USER_NAME),
                "nas_ip": _ip_text(req.get(rp.NAS_IP_ADDRESS)), "nas_id": req.text(rp.NAS_IDENTIFIER),
                "framed_ip": _ip_text(req.get(rp.FRAMED_IP_ADDRESS)),
                "calling": req.text(rp.CALLING_STATION_ID)}
        if self.ledger is not None:
            outcome = outcome_from_wire(await self.ledger.call("radius_account", (
                status, key, subscriber, octets, seconds, info, now, tuple(u.value for u in self.units),
                self.service, (self.bounds.max_octets, self.bounds.max_seconds, self.bounds.max_rate))))
        else:
            outcome = await self.store.atransact(lambda l: account_in(
                l, status, key, subscriber, {Unit.OCTETS: octets, Unit.SECONDS: seconds}, info, now,
                self.units, self.service, self.policy, self.bounds))
        if outcome.excess:
            for unit in outcome.excess:
                metrics.inc(f"radius.acct.excess_reports.{unit}")     # the amounts go to the log line
            log.warning("accounting %s from %s for %s: %s beyond the per-report bounds, not charged",
                        key, source, subscriber, ", ".join(f"{n} {u}" for u, n in outcome.excess.items()))
        return outcome


def _ip_text(value: bytes | None) -> str | None:
    """An IPv4 address attribute as dotted text (``inet_ntoa``: what ``str(IPv4Address)`` gives, a
    tenth of its cost on every accounting report)."""
    return socket.inet_ntoa(value) if value is not None and len(value) == 4 else None


def account_in(ledger: Any, status: int, key: str, subscriber: str, totals: dict[Unit, int],
               info: dict[str, Any], now: int, units: tuple[Unit, ...], service: str,
               policy: ChargingPolicy, bounds: UsageBounds = UsageBounds()) -> AcctOutcome:
    """One accounting report, inside one transaction: delta from the session document, bounded
    (:class:`UsageBounds`), charged, recorded.  The session document keeps the NAS's counters as
    reported, so usage beyond the bounds is never charged later either."""
    action = ACTIONS[status]
    doc = ledger.get_doc(SESSION_KIND, key)
    if doc is None and action is not Action.START and ledger.session_ended(f"radius:{key}"):
        # a report of a session whose Stop was charged (an Interim that arrives late, a Stop sent
        # again): answered, never charged again
        return AcctOutcome(status, key, subscriber, None, recorded=False)
    if doc is None:            # a session whose Start we never saw: its window is since now
        doc = dict(info, subscriber=subscriber, start=now, octets=0, seconds=0, csid=f"radius:{key}")
    csid = doc["csid"]
    reported = {Unit.OCTETS: int(doc.get("octets", 0)), Unit.SECONDS: int(doc.get("seconds", 0))}
    used, excess = bounds.cap({u: max(0, totals[u] - reported[u]) for u in units},
                              now - int(doc.get("updated", doc.get("start", now))))
    requested = None if action is Action.STOP else 0
    items = tuple(UsageItem(u, requested=requested, used=used[u]) for u in units)
    request_key = f"{csid}:{STATUS_NAMES[status]}:{totals[Unit.OCTETS]}:{totals[Unit.SECONDS]}"
    request = ChargeRequest(doc["subscriber"], csid, action, items, request_key, service=service, now=now)
    result = book.charge(ledger, request, policy)
    exhausted = False
    if action is not Action.STOP:
        exhausted = result.outcome is not Outcome.SUCCESS or any(
            i.outcome is not Outcome.SUCCESS or i.unpaid > 0 for i in result.items)
    if not result.duplicate:
        if action is Action.STOP:
            ledger.delete_doc(SESSION_KIND, key)
        else:
            doc["octets"] = max(reported[Unit.OCTETS], totals[Unit.OCTETS])
            doc["seconds"] = max(reported[Unit.SECONDS], totals[Unit.SECONDS])
            doc["updated"] = now
            for k, v in info.items():
                if v is not None:
                    doc[k] = v
            if exhausted and "disconnect" not in doc:
                doc["disconnect"] = now
            else:
                exhausted = False      # already asked once for this session
            ledger.put_doc(SESSION_KIND, key, doc)
    else:
        exhausted = False
    return AcctOutcome(status, key, doc["subscriber"], result, exhausted, session=doc,
                       recorded=result.outcome is not Outcome.USER_UNKNOWN,
                       used={u.value: n for u, n in used.items()},
                       excess={u.value: n for u, n in excess.items()} if excess and not result.duplicate else None)


def _account_op(policy: ChargingPolicy) -> Any:
    """:func:`account_in` as a ledger operation (plain values in and out, see ``ledger.protocol``)."""
    def run(l: Any, status: int, key: str, subscriber: str, octets: int, seconds: int, info: dict[str, Any],
            now: int, units: tuple[str, ...], service: str, bounds: tuple[int, int, int]) -> tuple[Any, ...]:
        outcome = account_in(l, status, key, subscriber, {Unit.OCTETS: octets, Unit.SECONDS: seconds}, info, now,
                             tuple(Unit(u) for u in units), service, policy, UsageBounds(*bounds))
        return outcome_to_wire(outcome)
    return run


def _release_op(policy: ChargingPolicy) -> Any:
    def run(l: Any, nas: str, now: int) -> int:
        return release_nas_in(l, nas, now, policy)
    return run


def ledger_operations(policy: ChargingPolicy) -> dict[str, tuple[Any, Any]]:
    """RADIUS accounting run by the ledger role: name -> (function, idempotency key of its arguments).

    A report's key (charging session, status, counters) makes a resend after a lost connection
    harmless; Accounting-On/Off releases sessions, which a second run finds already released."""
    def report_key(args: tuple[Any, ...]) -> tuple[str, str]:
        session = f"radius:{args[1]}"
        return session, f"{session}:{STATUS_NAMES.get(args[0], args[0])}:{args[3]}:{args[4]}"
    return {"radius_account": (_account_op(policy), report_key),
            "radius_release_nas": (_release_op(policy), None)}


def outcome_to_wire(o: AcctOutcome) -> tuple[Any, ...]:
    return (o.status, o.session_key, o.subscriber, None if o.result is None else protocol.result_to_wire(o.result),
            o.exhausted, o.released, o.session, o.recorded, o.used, o.excess)


def outcome_from_wire(t: tuple[Any, ...]) -> AcctOutcome:
    return AcctOutcome(t[0], t[1], t[2], None if t[3] is None else protocol.result_from_wire(t[3]), t[4], t[5],
                       t[6], t[7], t[8], t[9])


def release_nas_in(ledger: Any, nas: str, now: int, policy: ChargingPolicy) -> int:
    """Accounting-On/Off (RFC 2866 §5.1): the NAS lost its sessions; STOP each without usage."""
    sessions = ledger.list_docs(SESSION_KIND, f"{nas}|")
    for key, doc in sessions:
        book.release_session(ledger, doc["subscriber"], doc["csid"], now, f"{doc['csid']}:nas-reset:{now}")
        ledger.delete_doc(SESSION_KIND, key)
    return len(sessions)
