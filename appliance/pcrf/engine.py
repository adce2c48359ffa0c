"""PCRF decisions for Gx IP-CAN sessions, over the store (no Diameter here).

The Gx application decodes a CCR into a :class:`CcrInfo`, runs one of
:func:`establish` / :func:`modify` / :func:`terminate` inside a store transaction
and encodes the returned :class:`Provision` into the CCA.  For pushes
(:func:`repush`, :func:`record_raa`) the provision goes into an RAR.

Sessions are documents (``gx_session``) so any worker, also a restarted one,
knows them (TS 29.212 §4.5.1 session establishment, §4.5.2 provisioning,
§4.5.17 usage monitoring).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .. import trace
from ..ocs.catalog import subscribed_offer
from ..ocs.policy import (
    PolicyDecision,
    PolicyRule,
    RuleKind,
    SessionQoS,
    decide,
    fingerprint,
    kind_of,
    rule_changes,
    table_name_for,
)
from ..ocs.ports import Ledger
from ..ocs.usable import refusal
from . import tables as T
from .gx_state import GxEvent, IllegalGxEvent, advance

# Result codes (RFC 6733 §7.1, RFC 4006 §9.1, TS 29.212 §5.5.3)
SUCCESS = 2001
AUTHORIZATION_REJECTED = 5003
UNKNOWN_SESSION_ID = 5002
USER_UNKNOWN = 5030                    # RFC 4006 §9.1, a Result-Code
ERROR_INITIAL_PARAMETERS = 5140        # TS 29.212 §5.5.3, an Experimental-Result-Code

# Event-Trigger values (TS 29.212 §5.3.7)
RAT_CHANGE = 2
NO_EVENT_TRIGGERS = 14
USAGE_REPORT = 33

# Subscription-Id-Type (RFC 4006 §8.47) in the order we look them up
END_USER_E164, END_USER_IMSI, END_USER_SIP_URI, END_USER_NAI, END_USER_PRIVATE = 0, 1, 2, 3, 4
_LOOKUP_ORDER = (END_USER_IMSI, END_USER_E164, END_USER_NAI, END_USER_SIP_URI, END_USER_PRIVATE)

# PCC-Rule-Status (TS 29.212 §5.3.19)
ACTIVE, INACTIVE, TEMPORARILY_INACTIVE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class RuleReport:
    """One Charging-Rule-Report (TS 29.212 §5.3.18): rules the PCEF could not (keep) install(ed)."""

    names: tuple[str, ...]
    status: int
    failure_code: int | None = None


@dataclass(frozen=True, slots=True)
class CcrInfo:
    """What the PCRF needs from a CCR (or an RAA's reports)."""

    session_id: str
    peer: str = ""
    realm: str = ""
    request_number: int = 0
    subscription_ids: tuple[tuple[int, str], ...] = ()
    triggers: tuple[int, ...] = ()
    usage: tuple[tuple[str, int], ...] = ()          # (monitoring key, used octets)
    reports: tuple[RuleReport, ...] = ()
    features: int | None = None                      # Feature-List the PCEF supports
    ip: str | None = None
    apn: str | None = None
    rat_type: int | None = None
    now: int = 0
    via: str = ""                                    # the Diameter peer the CCR came through


@dataclass(frozen=True, slots=True)
class Provision:
    """What to tell the PCEF (in a CCA or an RAR)."""

    result: int = SUCCESS
    experimental: bool = False                       # result goes in Experimental-Result (vendor 3GPP)
    install: tuple[PolicyRule, ...] = ()
    remove: tuple[tuple[str, RuleKind], ...] = ()
    qos: SessionQoS | None = None
    monitoring: tuple[tuple[str, int], ...] = ()     # (monitoring key, threshold octets)
    triggers: tuple[int, ...] = ()
    failed: tuple[str, ...] = ()                     # rules the PCEF reported as not installed
    session: dict[str, Any] | None = None            # the stored session after the decision
    reason: str = ""

    @property
    def changes(self) -> bool:
        return bool(self.install or self.remove or self.qos or self.monitoring or self.triggers)


@dataclass(slots=True)
class GxSession:
    """A Gx session as stored (``gx_session`` document)."""

    session_id: str
    peer: str
    realm: str
    service: str
    product: str
    table: str | None = None
    installed: dict[str, str] = field(default_factory=dict)    # rule name -> fingerprint
    failed: dict[str, str] = field(default_factory=dict)       # rule name -> fingerprint that failed
    qos: dict[str, Any] = field(default_factory=dict)
    thresholds: dict[str, int] = field(default_factory=dict)
    triggers: list[int] = field(default_factory=list)
    features: int | None = None
    request_number: int = 0
    ip: str | None = None
    apn: str | None = None
    rat_type: int | None = None
    created: int = 0
    updated: int = 0
    last_raa: dict[str, Any] | None = None
    pending: dict[str, Any] | None = None                      # what an RAR in flight provisions
    via: str = ""                                              # Diameter peer to send RARs to

    def to_doc(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}   # type: ignore[attr-defined]

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> GxSession:
        known = set(cls.__slots__)   # type: ignore[attr-defined]
        return cls(**{k: v for k, v in doc.items() if k in known})


def load_session(ledger: Ledger, session_id: str) -> GxSession | None:
    doc = ledger.get_doc(T.KIND_SESSION, session_id)
    return GxSession.from_doc(doc) if doc is not None else None


def save_session(ledger: Ledger, session: GxSession) -> None:
    ledger.put_doc(T.KIND_SESSION, session.session_id, session.to_doc())
    ledger.put_doc(T.KIND_BY_PRODUCT, f"{session.product}|{session.session_id}", {})


def drop_session(ledger: Ledger, session: GxSession) -> None:
    ledger.delete_doc(T.KIND_SESSION, session.session_id)
    ledger.delete_doc(T.KIND_BY_PRODUCT, f"{session.product}|{session.session_id}")
    ledger.delete_doc(T.KIND_PUSH, session.session_id)


def list_sessions(ledger: Ledger, prefix: str = "") -> list[GxSession]:
    return [GxSession.from_doc(doc) for _key, doc in ledger.list_docs(T.KIND_SESSION, prefix)]


def expire_idle(ledger: Ledger, before: int, limit: int = 1000) -> list[str]:
    """Forget sessions not updated since ``before`` (a PCEF that vanished without CCR-T);
    returns their Session-Ids.  For housekeeping; Gx itself has no session timeout."""
    gone = []
    for session in list_sessions(ledger):
        if session.updated < before:
            advance(session.session_id, session, GxEvent.IDLE_EXPIRED)
            drop_session(ledger, session)
            gone.append(session.session_id)
            if len(gone) >= limit:
                break
    return gone


def _subscriber(ledger: Ledger, ids: Iterable[tuple[int, str]]) -> Any:
    by_type: dict[int, list[str]] = {}
    for kind, data in ids:
        by_type.setdefault(kind, []).append(data)
    for kind in _LOOKUP_ORDER:
        for data in by_type.get(kind, ()):
            identity = data[4:] if kind == END_USER_SIP_URI and data.startswith("sip:") else data
            service = ledger.find_service(identity)
            if service is not None:
                return service
    return None


def _decision(ledger: Ledger, product_id: str, defaults: SessionQoS) -> tuple[str | None, PolicyDecision | None]:
    """(table name, decision); the decision is None when the named table does not exist."""
    product = ledger.get_product(product_id)
    offer = subscribed_offer(ledger.get_offer, product.offer) if product is not None else None
    name = table_name_for(offer, product)
    table = T.get_table(ledger, name) if name else None
    if name and table is None:
        return name, None
    doc = ledger.get_doc(T.KIND_USAGE, product_id) or {}
    used = {str(k): int(v) for k, v in doc.get("used", {}).items()}
    return name, decide(table, offer, used, defaults, bool(doc.get("out_of_credit")))


def _triggers(decision: PolicyDecision) -> list[int]:
    """Event triggers the PCRF subscribes to (TS 29.212 §4.5.3): RAT changes, and usage reports
    while a monitoring key is armed."""
    return [RAT_CHANGE, USAGE_REPORT] if decision.thresholds else [RAT_CHANGE]


def establish(ledger: Ledger, info: CcrInfo, defaults: SessionQoS) -> Provision:
    """CCR-I: find the subscriber, decide, store the session (TS 29.212 §4.5.1)."""
    if not info.subscription_ids:
        return Provision(ERROR_INITIAL_PARAMETERS, True, reason="no Subscription-Id")
    service = _subscriber(ledger, info.subscription_ids)
    if service is None or service.product_id is None:
        return Provision(USER_UNKNOWN, reason="unknown subscriber")
    product = ledger.get_product(service.product_id)
    if product is None:
        return Provision(USER_UNKNOWN, reason="subscriber without product")
    if refusal(service, product, info.now) is not None:
        return Provision(AUTHORIZATION_REJECTED, reason="subscriber disabled")
    name, decision = _decision(ledger, product.id, defaults)
    if decision is None:
        return Provision(ERROR_INITIAL_PARAMETERS, True, reason=f"policy table {name} missing")
    old = load_session(ledger, info.session_id)
    advance(info.session_id, old, GxEvent.CCR_I)
    if old is not None:                  # a repeated CCR-I: start over
        drop_session(ledger, old)
    session = GxSession(info.session_id, info.peer, info.realm, service.id, product.id, name,
                        installed={r.name: fingerprint(r) for r in decision.rules},
                        qos=decision.session_qos.to_doc(), thresholds=dict(decision.thresholds),
                        triggers=_triggers(decision), features=info.features,
                        request_number=info.request_number, ip=info.ip, apn=info.apn,
                        rat_type=info.rat_type, created=info.now, updated=info.now, via=info.via or info.peer)
    save_session(ledger, session)
    return Provision(install=decision.rules, qos=decision.session_qos,
                     monitoring=tuple(sorted(decision.thresholds.items())),
                     triggers=tuple(session.triggers), session=session.to_doc())


def _account_usage(ledger: Ledger, product_id: str, usage: Iterable[tuple[str, int]]) -> None:
    usage = tuple(usage)
    if not usage:
        return
    doc = ledger.get_doc(T.KIND_USAGE, product_id) or {"used": {}}
    used = doc.setdefault("used", {})
    for key, octets in usage:
        used[key] = int(used.get(key, 0)) + max(0, int(octets))
    ledger.put_doc(T.KIND_USAGE, product_id, doc)


def _apply_reports(session: GxSession, reports: Iterable[RuleReport]) -> tuple[str, ...]:
    """Rules reported inactive are no longer installed; remember them so they are not re-sent
    unchanged (TS 29.212 §4.5.12)."""
    failed = []
    for report in reports:
        if report.status not in (INACTIVE, TEMPORARILY_INACTIVE):
            continue
        for name in report.names:
            fp = session.installed.pop(name, None)
            if fp is not None:
                session.failed[name] = fp
            failed.append(name)
    return tuple(failed)


def _reprovision(ledger: Ledger, session: GxSession, defaults: SessionQoS, reported: Iterable[str] = ()
                 ) -> tuple[Provision, dict[str, str], dict[str, int]]:
    """The changes from what the session has to what the policy says now.

    Returns the provision (without applying it), the installed map and thresholds after it.
    """
    name, decision = _decision(ledger, session.product, defaults)
    if decision is None:                # the table went away: keep what is installed
        return Provision(reason=f"policy table {name} missing"), dict(session.installed), dict(session.thresholds)
    wanted = tuple(r for r in decision.rules if session.failed.get(r.name) != fingerprint(r))
    install, remove = rule_changes(session.installed, wanted)
    after = {r.name: fingerprint(r) for r in wanted}
    qos = decision.session_qos if decision.session_qos.to_doc() != session.qos else None
    reported = set(reported)
    monitoring = tuple(sorted((k, v) for k, v in decision.thresholds.items()
                              if k in reported or k not in session.thresholds))
    triggers = _triggers(decision)
    provision = Provision(install=install, remove=tuple((n, kind_of(session.installed[n])) for n in remove),
                          qos=qos, monitoring=monitoring,
                          triggers=tuple(triggers) if triggers != session.triggers else ())
    session.table = name
    session.triggers = triggers
    return provision, after, dict(decision.thresholds)


def modify(ledger: Ledger, info: CcrInfo, defaults: SessionQoS) -> Provision:
    """CCR-U: account reported usage, note failed rules, re-decide (TS 29.212 §4.5.2, §4.5.17)."""
    session = load_session(ledger, info.session_id)
    try:
        advance(info.session_id, session, GxEvent.CCR_U)
    except IllegalGxEvent as exc:
        return Provision(exc.result_code, reason=f"unknown Gx session ({exc})")
    assert session is not None
    failed = _apply_reports(session, info.reports)
    _account_usage(ledger, session.product, info.usage)
    if info.rat_type is not None:
        session.rat_type = info.rat_type
    if info.via:
        session.via = info.via          # the PCEF may come back through another connection/worker
    provision, after, thresholds = _reprovision(ledger, session, defaults, (k for k, _ in info.usage))
    session.installed, session.thresholds = after, thresholds
    if provision.qos is not None:
        session.qos = provision.qos.to_doc()
    session.request_number, session.updated = info.request_number, info.now
    save_session(ledger, session)
    ledger.delete_doc(T.KIND_PUSH, session.session_id)     # this answer carries the news
    return Provision(install=provision.install, remove=provision.remove, qos=provision.qos,
                     monitoring=provision.monitoring, triggers=provision.triggers, failed=failed,
                     session=session.to_doc())


def terminate(ledger: Ledger, info: CcrInfo) -> Provision:
    """CCR-T: account the final usage report and forget the session (TS 29.212 §4.5.1.1)."""
    session = load_session(ledger, info.session_id)
    try:
        advance(info.session_id, session, GxEvent.CCR_T)
    except IllegalGxEvent as exc:
        return Provision(exc.result_code, reason=f"unknown Gx session ({exc})")
    assert session is not None
    _account_usage(ledger, session.product, info.usage)
    drop_session(ledger, session)
    return Provision(session=session.to_doc())


def repush(ledger: Ledger, session_id: str, defaults: SessionQoS, worker: str, now: float,
           lease: float) -> Provision | None:
    """The RAR content for a queued push, or None (nothing changed and the push is not forced, or
    another worker holds it).

    The push document stays until the RAA is recorded, claimed by ``worker`` for ``lease``
    seconds, so a worker that dies with an RAR in flight leaves it to be sent again.
    """
    push = ledger.get_doc(T.KIND_PUSH, session_id)
    if push is None:
        return None
    if now < float(push.get("retry_at", 0)):             # an unanswered RAR waits for its backoff
        return None
    claimed = push.get("claimed_by")
    if claimed and claimed != worker and now - float(push.get("claimed_at", 0)) < lease:
        return None
    session = load_session(ledger, session_id)
    if session is None:
        ledger.delete_doc(T.KIND_PUSH, session_id)
        return None
    provision, after, thresholds = _reprovision(ledger, session, defaults)
    if not provision.changes and not push.get("force"):
        ledger.delete_doc(T.KIND_PUSH, session_id)
        return None
    advance(session_id, session, GxEvent.RAR_SENT)
    session.pending = {"installed": after, "thresholds": thresholds,
                       "qos": provision.qos.to_doc() if provision.qos else None, "seq": push.get("seq", 0)}
    save_session(ledger, session)
    ledger.put_doc(T.KIND_PUSH, session_id, {**push, "claimed_by": worker, "claimed_at": now})
    if trace.ACTIVE:                 # someone traces a subscriber (appliance trace)
        _trace_push(session, provision, str(push.get("reason", "")), int(push.get("attempts", 0)))
    return Provision(install=provision.install, remove=provision.remove, qos=provision.qos,
                     monitoring=provision.monitoring, triggers=provision.triggers, session=session.to_doc(),
                     reason=str(push.get("reason", "")))


def _trace_push(session: GxSession, p: Provision, reason: str, attempts: int) -> None:
    """A policy push (the RAR's content, TS 29.212 §4.5.2) of a traced subscriber."""
    trace.event((session.service,), {
        "protocol": "gx", "event": "push", "session": session.session_id, "peer": session.via or session.peer,
        "reason": reason, "retry": attempts, "install": sorted(r.name for r in p.install),
        "remove": sorted(name for name, _kind in p.remove), "qos": p.qos.to_doc() if p.qos else None,
        "monitoring": dict(p.monitoring), "triggers": list(p.triggers)})


RAR_RETRIES = 3          # unanswered RARs sent again (backoff retry_base, 2x, 4x) before giving up


def record_raa(ledger: Ledger, session_id: str, result: int, reports: Iterable[RuleReport],
               now: int, retry_base: float = 5.0, retries: int = RAR_RETRIES) -> tuple[str, ...]:
    """Apply an RAA (TS 29.212 §4.5.2): on success the pushed rules count as installed; an
    unknown session at the PCEF ends ours; ``result`` 0 means no answer came: the push stays
    queued and is sent again after ``retry_base`` × 2^(attempt-1) seconds, ``retries`` times, then
    it is dropped (the next change or CCR-U brings the session up to date).  Returns the rules
    reported as failed."""
    session = load_session(ledger, session_id)
    event = (GxEvent.RAA_UNKNOWN_SESSION if result == UNKNOWN_SESSION_ID
             else GxEvent.RAA_UNANSWERED if result == 0 else GxEvent.RAA_ANSWERED)
    try:
        advance(session_id, session, event)
    except IllegalGxEvent:              # the session ended meanwhile: nothing to settle
        ledger.delete_doc(T.KIND_PUSH, session_id)
        return ()
    assert session is not None
    if trace.ACTIVE:                 # someone traces a subscriber (appliance trace)
        trace.event((session.service,), {
            "protocol": "gx", "event": "push-answer", "session": session_id, "peer": session.via or session.peer,
            "result": result or None, "answered": bool(result), "failed": sorted(n for r in reports for n in r.names)})
    if result == UNKNOWN_SESSION_ID:
        drop_session(ledger, session)
        return ()
    pending = session.pending or {}
    push = ledger.get_doc(T.KIND_PUSH, session_id)
    if result == 0 and push is not None and push.get("seq", 0) == pending.get("seq", 0):
        attempts = int(push.get("attempts", 0)) + 1
        session.pending = None
        session.last_raa = {"result": 0, "at": now, "attempts": attempts}
        session.updated = now
        save_session(ledger, session)
        if attempts > retries:
            ledger.delete_doc(T.KIND_PUSH, session_id)
        else:
            retry = {k: v for k, v in push.items() if k not in ("claimed_by", "claimed_at")}
            ledger.put_doc(T.KIND_PUSH, session_id,
                           {**retry, "attempts": attempts, "retry_at": now + retry_base * 2 ** (attempts - 1)})
        return ()
    if result == SUCCESS and pending:
        session.installed = dict(pending["installed"])
        session.thresholds = dict(pending["thresholds"])
        if pending.get("qos"):
            session.qos = pending["qos"]
    if push is not None and push.get("seq", 0) == pending.get("seq", 0):
        ledger.delete_doc(T.KIND_PUSH, session_id)      # a newer change re-queued it otherwise
    failed = _apply_reports(session, reports)
    session.pending = None
    session.last_raa = {"result": result, "at": now}
    session.updated = now
    save_session(ledger, session)
    return failed
