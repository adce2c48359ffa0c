"""Dynamic Authorization client: Disconnect-Request / CoA-Request to a NAS (RFC 5176).

The request identifies the NAS (NAS-IP-Address / NAS-Identifier, §3) and the
session (User-Name, Acct-Session-Id, Framed-IP-Address, Calling-Station-Id),
carries Event-Timestamp (§3.4, replay protection) and Message-Authenticator, and
is retransmitted with exponential backoff until an ACK or NAK arrives (§2.3 uses
RFC 2865 retransmission rules).  The answer is verified (Response Authenticator,
and Message-Authenticator when present) and recorded in the store document
``radius_disconnect/<session key>``.

The ledger's :class:`~appliance.ledger.events.OutOfCredit` queues the product
(``radius_disconnect_queue``, in the ledger's transaction); a RADIUS worker claims it and
disconnects the product's other live sessions (:func:`disconnect_queued`).
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import socket
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..ledger import events
from ..telemetry import metrics
from . import packet as rp

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..ocs.ports import Ledger, Store
    from .clients import ClientTable

log = logging.getLogger(__name__)
RECORD_KIND = "radius_disconnect"
COA_RECORD_KIND = "radius_coa"


@dataclass(frozen=True, slots=True)
class DynAuthResult:
    result: str                    # ack | nak | timeout
    code: int | None = None
    error_cause: int | None = None
    attempts: int = 0


def session_attributes(session: dict[str, Any]) -> rp.Attributes:
    """NAS and session identification attributes from a ``radius_session`` document (RFC 5176 §3)."""
    attrs: rp.Attributes = []
    if session.get("nas_ip"):
        attrs.append((rp.NAS_IP_ADDRESS, ipaddress.IPv4Address(session["nas_ip"]).packed))
    if session.get("nas_id"):
        attrs.append((rp.NAS_IDENTIFIER, str(session["nas_id"]).encode()))
    if session.get("user"):
        attrs.append((rp.USER_NAME, str(session["user"]).encode()[:253]))
    if session.get("sid"):
        attrs.append((rp.ACCT_SESSION_ID, str(session["sid"]).encode()[:253]))
    if session.get("framed_ip"):
        attrs.append((rp.FRAMED_IP_ADDRESS, ipaddress.IPv4Address(session["framed_ip"]).packed))
    if session.get("calling"):
        attrs.append((rp.CALLING_STATION_ID, str(session["calling"]).encode()[:253]))
    return attrs


class _Reply(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[bytes, Any]] = asyncio.Queue(maxsize=64)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if not self.queue.full():
            self.queue.put_nowait((data, addr))


async def send_dynauth(host: str, port: int, secret: bytes, attrs: rp.Attributes, code: int = rp.DISCONNECT_REQUEST,
                       timeout: float = 2.0, retries: int = 3, now: float | None = None) -> DynAuthResult:
    """Send one Disconnect/CoA-Request; retransmit after timeout, 2*timeout, 4*timeout...; verify the answer."""
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    transport, proto = await loop.create_datagram_endpoint(_Reply, family=family,
                                                           remote_addr=(host, port))
    ident = os.urandom(1)[0]
    stamp = int(now if now is not None else time.time())
    packet = rp.encode_request(code, ident, attrs + [(rp.EVENT_TIMESTAMP, stamp.to_bytes(4, "big"))], secret)
    kind = "disconnect" if code == rp.DISCONNECT_REQUEST else "coa"
    attempts = 0
    try:
        wait = timeout
        for attempt in range(retries + 1):
            attempts = attempt + 1
            transport.sendto(packet)
            metrics.inc(f"radius.{kind}.requests" if attempt == 0 else f"radius.{kind}.retransmissions")
            deadline = loop.time() + wait
            while True:
                left = deadline - loop.time()
                if left <= 0:
                    break
                try:
                    data, _addr = await asyncio.wait_for(proto.queue.get(), left)
                except TimeoutError:
                    break
                answer = _check_answer(data, ident, packet[4:20], secret, code)
                if answer is not None:
                    metrics.inc(f"radius.{kind}.{answer.result}s")
                    return DynAuthResult(answer.result, answer.code, answer.error_cause, attempts)
                metrics.inc(f"radius.{kind}.bad_answers")
            wait *= 2
    finally:
        transport.close()
    metrics.inc(f"radius.{kind}.timeouts")
    return DynAuthResult("timeout", attempts=attempts)


def _check_answer(data: bytes, ident: int, request_auth: bytes, secret: bytes, code: int) -> DynAuthResult | None:
    try:
        pkt = rp.decode(data)
    except rp.Malformed:
        return None
    ack, nak = (rp.DISCONNECT_ACK, rp.DISCONNECT_NAK) if code == rp.DISCONNECT_REQUEST else (rp.COA_ACK, rp.COA_NAK)
    if pkt.identifier != ident or pkt.code not in (ack, nak):
        return None
    if not rp.response_authenticator_ok(pkt.raw, request_auth, secret):
        return None
    # RFC 5176 §3.3: an answer's MA is computed with the request's Authenticator
    if rp.verify_message_authenticator(pkt, secret, authenticator=request_auth) is False:
        return None
    return DynAuthResult("ack" if pkt.code == ack else "nak", pkt.code, pkt.integer(rp.ERROR_CAUSE))


async def disconnect_session(store: Store, session_key: str, session: dict[str, Any], secret: bytes,
                             timeout: float, retries: int, reason: str) -> DynAuthResult:
    """Disconnect one accounting session and record the outcome (ACK/NAK/timeout) in the store."""
    return await dynauth_session(store, session_key, session, secret, timeout, retries, reason,
                                 rp.DISCONNECT_REQUEST, [])


async def coa_session(store: Store, session_key: str, session: dict[str, Any], secret: bytes, timeout: float,
                      retries: int, reason: str, changes: rp.Attributes) -> DynAuthResult:
    """CoA-Request (RFC 5176 §3.1) for one session: identification plus the attributes to change."""
    return await dynauth_session(store, session_key, session, secret, timeout, retries, reason,
                                 rp.COA_REQUEST, changes)


async def dynauth_session(store: Store, session_key: str, session: dict[str, Any], secret: bytes, timeout: float,
                          retries: int, reason: str, code: int, changes: rp.Attributes) -> DynAuthResult:
    host = session.get("addr") or session.get("nas_ip")
    port = int(session.get("coa_port") or 3799)
    if not host:
        return DynAuthResult("timeout")
    result = await send_dynauth(host, port, secret, session_attributes(session) + changes, code, timeout, retries)
    record = {"ts": int(time.time()), "reason": reason, "result": result.result, "code": result.code,
              "error_cause": result.error_cause, "attempts": result.attempts, "nas": host, "port": port,
              "sid": session.get("sid"), "subscriber": session.get("subscriber")}
    kind = RECORD_KIND if code == rp.DISCONNECT_REQUEST else COA_RECORD_KIND
    await store.atransact(lambda l: l.put_doc(kind, session_key, record))
    log.info("%s %s via %s:%d (%s): %s", "disconnect" if code == rp.DISCONNECT_REQUEST else "coa",
             session.get("sid"), host, port, reason, result.result)
    return result


# --- the ledger's credit events: the other sessions of a product out of credit ---------------------------

SESSION_KIND = "radius_session"                # radius.acct's (not imported: acct imports the ledger)
DISCONNECT_QUEUE = "radius_disconnect_queue"   # key product id: its live sessions are to be disconnected
CHARGING_PREFIX = "radius:"                    # a RADIUS session's charging session id: radius:<nas>|<sid>
MAX_QUEUED = 100                               # products taken from the queue per pass


def on_credit_event(ledger: Ledger, event: events.CreditEvent) -> None:
    """In the ledger's transaction (so a retransmission or a rollback queues nothing): a product out
    of credit is queued for Disconnect-Requests; back in credit before they were sent, it is taken
    off the queue."""
    if isinstance(event, events.OutOfCredit):
        ledger.put_doc(DISCONNECT_QUEUE, event.product_id, {"reason": event.reason, "at": event.now})
    elif isinstance(event, events.CreditRestored):
        ledger.delete_doc(DISCONNECT_QUEUE, event.product_id)


def subscribe() -> None:
    events.on_change(on_credit_event)


def claim_queued(ledger: Ledger, now: int, limit: int = MAX_QUEUED) -> list[tuple[str, dict[str, Any], str]]:
    """Take queued products off the queue and return their live RADIUS sessions not yet asked to
    disconnect, each marked as asked (``disconnect``), as (session key, session, reason).

    A live session holds a reservation (RFC 2866 accounting charged as START/UPDATE); the session
    whose report ran out was marked by the accounting path in that report's transaction, so it is
    not asked twice.  A product is claimed by the transaction that deletes its queue entry: two
    RADIUS workers never both send for one change."""
    picked: list[tuple[str, dict[str, Any], str]] = []
    for product_id, queued in ledger.list_docs(DISCONNECT_QUEUE)[:limit]:
        if not ledger.delete_doc(DISCONNECT_QUEUE, product_id):
            continue                                  # claimed by another worker meanwhile
        reason = f"out of credit ({queued.get('reason', '')})"
        keys = dict.fromkeys(r.session_id[len(CHARGING_PREFIX):] for r in ledger.product_reservations(product_id)
                             if r.session_id.startswith(CHARGING_PREFIX))
        for key in keys:
            session = ledger.get_doc(SESSION_KIND, key)
            if session is None or "disconnect" in session:
                continue
            session["disconnect"] = now
            ledger.put_doc(SESSION_KIND, key, session)
            picked.append((key, session, reason))
    return picked


async def disconnect_queued(store: Store, clients: ClientTable, timeout: float, retries: int) -> int:
    """One pass over the queue: claim, then send one Disconnect-Request per session (concurrently,
    each retransmitted until answered); returns the number of sessions asked."""
    peek = getattr(store, "read", None)           # SQLite: a look without the write lock (WAL snapshot)
    if peek is not None and not peek(lambda l: l.list_docs(DISCONNECT_QUEUE)[:1]):
        return 0
    now = int(time.time())
    picked = await store.atransact(lambda l: claim_queued(l, now))
    if picked:
        metrics.inc("radius.disconnect.out_of_credit", len(picked))
    sends = []
    for key, session, reason in picked:
        client = clients.lookup(session.get("addr") or "") or clients.lookup(session.get("nas_ip") or "")
        if client is None:
            metrics.inc("radius.disconnect.no_client")
            log.warning("disconnect %s: its NAS is no longer a client", session.get("sid"))
            continue
        sends.append(disconnect_session(store, key, session, client.secret, timeout, retries, reason))
    for outcome in await asyncio.gather(*sends, return_exceptions=True):
        if isinstance(outcome, BaseException):
            log.error("disconnect failed: %s", outcome)
    return len(picked)


async def disconnect_out_of_credit(store: Store, clients: Callable[[], ClientTable], timeout: float, retries: int,
                                   stop: asyncio.Event, every: float = 1.0) -> None:
    """Until ``stop``: a pass over the queue every ``every`` seconds (run by one RADIUS worker per node)."""
    while not stop.is_set():
        try:
            await disconnect_queued(store, clients(), timeout, retries)
        except Exception:                         # a store hiccup: the queue waits for the next pass
            log.exception("disconnecting the sessions of products out of credit failed")
        try:
            await asyncio.wait_for(stop.wait(), every)
        except TimeoutError:
            pass
