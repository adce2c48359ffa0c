"""Gx application (3GPP TS 29.212, Auth-Application-Id 16777238): the PCRF side.

CCR/CCA (§5.6.2, §5.6.3) and RAR/RAA (§5.6.4, §5.6.5).  This module only translates:
AVPs -> :class:`appliance.pcrf.engine.CcrInfo`, the engine's :class:`Provision` -> AVPs.
Decisions and session state live in ``appliance.pcrf`` (store documents), so a restarted
worker, or another one, continues a session.

Pushes: operators (CLI/REST) queue ``gx_push`` documents; every worker scans the queue
each ``pcrf.push_interval`` seconds and sends an RAR for the sessions whose PCEF is
connected to it, then records the RAA in the session.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

from ... import metrics
from ...config import Config
from ...ocs.policy import Arp, PolicyRule, QoS, RuleKind, SessionQoS
from ...pcrf import engine as E
from ...pcrf import tables as T
from .. import codec as c
from ..codec import Avp, DiameterError
from ..node import Node, Request
from ..peer import AppSupport

if TYPE_CHECKING:
    from ...ocs.ports import Ledger, Store
    from ..worker import AppContext

log = logging.getLogger(__name__)

GX = 16777238
CMD_CC = 272            # Credit-Control (TS 29.212 §5.6.2)
CMD_RA = 258            # Re-Auth (TS 29.212 §5.6.4)
V = c.VENDOR_3GPP

INITIAL, UPDATE, TERMINATION = 1, 2, 3              # CC-Request-Type (RFC 4006 §8.3)
PCC_RULE_LEVEL = 1                                  # Usage-Monitoring-Level (TS 29.212 §5.3.60)
AUTHORIZE_ONLY = 0                                  # Re-Auth-Request-Type (RFC 6733 §8.12)
FEATURE_LIST_ID = 1
FEATURES = 0b11                                     # Rel8, Rel9 (TS 29.212 Table 5.4.1.1)

# (code, vendor) of the AVPs read here
K_SUB_ID, K_SUB_TYPE, K_SUB_DATA = (443, 0), (450, 0), (444, 0)
K_EVENT_TRIGGER, K_UMI, K_MKEY = (1006, V), (1067, V), (1066, V)
K_USU, K_TOTAL, K_IN, K_OUT = (446, 0), (421, 0), (412, 0), (414, 0)
K_REPORT, K_RULE_NAME, K_BASE_NAME = (1018, V), (1005, V), (1004, V)
K_RULE_STATUS, K_FAILURE_CODE = (1019, V), (1031, V)
K_FEATURES, K_FEATURE_LIST_ID, K_FEATURE_LIST = (628, V), (629, V), (630, V)
K_RAT_TYPE, K_FRAMED_IP, K_CALLED = (1032, V), (8, 0), (30, 0)


def _inner(avp: Avp, key: tuple[int, int]) -> list[Avp]:
    return [a for a in avp.group() if (a.code, a.vendor) == key]


def _first(avps: Iterable[Avp], key: tuple[int, int]) -> Avp | None:
    for a in avps:
        if (a.code, a.vendor) == key:
            return a
    return None


def _need(msg: c.Message, code: int, vendor: int = 0) -> Avp:
    a = msg.find(code, vendor)
    if a is None:
        raise c.missing_avp(code, vendor)
    return a


def parse_ccr(msg: c.Message, now: int, via: str = "", via_realm: str = "") -> tuple[int, E.CcrInfo]:
    """(CC-Request-Type, CcrInfo) from a Gx CCR (TS 29.212 §5.6.2); DiameterError on bad input."""
    sid = msg.session_id
    if not sid:
        raise c.missing_avp(c.SESSION_ID)
    app = _need(msg, c.AUTH_APPLICATION_ID)
    if app.u32 != GX:
        raise DiameterError(c.INVALID_AVP_VALUE, app, "Auth-Application-Id is not Gx")
    rt_avp = _need(msg, 416)
    rt = rt_avp.i32
    if rt not in (INITIAL, UPDATE, TERMINATION):
        raise DiameterError(c.INVALID_AVP_VALUE, rt_avp, "CC-Request-Type must be 1, 2 or 3 on Gx")
    number = _need(msg, 415).u32
    origin_host = msg.text(c.ORIGIN_HOST) or via
    origin_realm = msg.text(c.ORIGIN_REALM) or via_realm
    ids: list[tuple[int, str]] = []
    for sub in msg.find_all(*K_SUB_ID):
        kind, data = _first(sub.group(), K_SUB_TYPE), _first(sub.group(), K_SUB_DATA)
        if kind is None or data is None:
            raise DiameterError(c.MISSING_AVP, sub, "Subscription-Id needs Type and Data")
        ids.append((kind.i32, data.text))
    usage: list[tuple[str, int]] = []
    for umi in msg.find_all(*K_UMI):
        key = _first(umi.group(), K_MKEY)
        if key is None:
            raise DiameterError(c.MISSING_AVP, umi, "Usage-Monitoring-Information without Monitoring-Key")
        used = 0
        for usu in _inner(umi, K_USU):
            total = _first(usu.group(), K_TOTAL)
            if total is not None:
                used += total.u64
            else:
                used += sum(a.u64 for a in usu.group() if (a.code, a.vendor) in (K_IN, K_OUT))
        usage.append((key.data.decode("utf-8", "replace"), used))
    reports = parse_reports(msg)
    features = None
    for sf in msg.find_all(*K_FEATURES):
        inner = sf.group()
        fid, flist = _first(inner, K_FEATURE_LIST_ID), _first(inner, K_FEATURE_LIST)
        if fid is not None and flist is not None and fid.u32 == FEATURE_LIST_ID:
            features = flist.u32
    rat = msg.find(*K_RAT_TYPE)
    ip_avp = msg.find(*K_FRAMED_IP)
    ip = ".".join(str(b) for b in ip_avp.data) if ip_avp is not None and len(ip_avp.data) == 4 else None
    apn = msg.find(*K_CALLED)
    info = E.CcrInfo(sid, origin_host, origin_realm, number, tuple(ids),
                     tuple(a.i32 for a in msg.find_all(*K_EVENT_TRIGGER)), tuple(usage), reports,
                     features, ip, apn.text if apn is not None else None,
                     rat.i32 if rat is not None else None, now, via)
    return rt, info


# --- encoding a provision (TS 29.212 §5.3) ------------------------------------------------------

def _arp(arp: Arp) -> bytes:
    """Allocation-Retention-Priority (§5.3.32); capability/vulnerability: 0 ENABLED, 1 DISABLED."""
    return c.avp("Allocation-Retention-Priority", [
        c.avp("Priority-Level", arp.priority),
        c.avp("Pre-emption-Capability", 0 if arp.preemption_capability else 1),
        c.avp("Pre-emption-Vulnerability", 0 if arp.preemption_vulnerability else 1)])


def _qos(qos: QoS) -> bytes:
    """QoS-Information of a rule (§5.3.16)."""
    inner = []
    if qos.qci is not None:
        inner.append(c.avp("QoS-Class-Identifier", qos.qci))
    for name, value in (("Max-Requested-Bandwidth-UL", qos.mbr_ul), ("Max-Requested-Bandwidth-DL", qos.mbr_dl),
                        ("Guaranteed-Bitrate-UL", qos.gbr_ul), ("Guaranteed-Bitrate-DL", qos.gbr_dl)):
        if value is not None:
            inner.append(c.avp(name, value))
    if qos.arp is not None:
        inner.append(_arp(qos.arp))
    return c.avp("QoS-Information", inner)


@lru_cache(maxsize=4096)
def rule_definition(rule: PolicyRule) -> bytes:
    """Charging-Rule-Definition (§5.3.4) of a dynamic rule."""
    inner = [c.avp("Charging-Rule-Name", rule.name.encode())]
    ck = rule.charging
    if ck is not None and ck.service_id is not None:
        inner.append(c.avp("Service-Identifier", ck.service_id))
    if ck is not None and ck.rating_group is not None:
        inner.append(c.avp("Rating-Group", ck.rating_group))
    for flow in rule.flows:
        inner.append(c.avp("Flow-Information", [c.avp("Flow-Description", flow.description.encode()),
                                                c.avp("Flow-Direction", int(flow.direction))]))
    if rule.qos is not None:
        inner.append(_qos(rule.qos))
    if ck is not None:
        if ck.online is not None:
            inner.append(c.avp("Online", 1 if ck.online else 0))
        if ck.offline is not None:
            inner.append(c.avp("Offline", 1 if ck.offline else 0))
        if ck.metering is not None:
            inner.append(c.avp("Metering-Method", int(ck.metering)))
    if rule.precedence is not None:
        inner.append(c.avp("Precedence", rule.precedence))
    if rule.monitoring_key is not None:
        inner.append(c.avp("Monitoring-Key", rule.monitoring_key.encode()))
    return c.avp("Charging-Rule-Definition", inner)


def encode_provision(p: E.Provision) -> list[bytes]:
    """Event-Trigger, Charging-Rule-Remove/-Install, QoS, Usage-Monitoring-Information (§5.6.3)."""
    out = [c.avp("Event-Trigger", t) for t in p.triggers]
    if p.remove:
        out.append(c.avp("Charging-Rule-Remove", [
            c.avp("Charging-Rule-Base-Name" if kind is RuleKind.BASE else "Charging-Rule-Name",
                  name if kind is RuleKind.BASE else name.encode()) for name, kind in p.remove]))
    if p.install:
        inner = []
        for rule in p.install:
            if rule.kind is RuleKind.DYNAMIC:
                inner.append(rule_definition(rule))
            elif rule.kind is RuleKind.BASE:
                inner.append(c.avp("Charging-Rule-Base-Name", rule.name))
            else:
                inner.append(c.avp("Charging-Rule-Name", rule.name.encode()))
        out.append(c.avp("Charging-Rule-Install", inner))
    if p.qos is not None:
        out += session_qos(p.qos)
    for key, octets in p.monitoring:
        out.append(c.avp("Usage-Monitoring-Information", [
            c.avp("Monitoring-Key", key.encode()),
            c.avp("Granted-Service-Unit", [c.avp("CC-Total-Octets", octets)]),
            c.avp("Usage-Monitoring-Level", PCC_RULE_LEVEL)]))
    return out


@lru_cache(maxsize=1024)
def session_qos(q: SessionQoS) -> tuple[bytes, ...]:
    """APN-AMBR in QoS-Information and Default-EPS-Bearer-QoS (§4.5.5.0a, §5.3.48)."""
    return (c.avp("QoS-Information", [c.avp("APN-Aggregate-Max-Bitrate-UL", q.apn_ambr_ul),
                                      c.avp("APN-Aggregate-Max-Bitrate-DL", q.apn_ambr_dl)]),
            c.avp("Default-EPS-Bearer-QoS", [c.avp("QoS-Class-Identifier", q.qci), _arp(q.arp)]))


def supported_features(theirs: int) -> bytes:
    """Supported-Features we share with the PCEF (§5.4.1; sent with the M-bit cleared)."""
    return c.avp("Supported-Features", [c.avp("Vendor-Id", V), c.avp("Feature-List-ID", FEATURE_LIST_ID),
                                        c.avp("Feature-List", theirs & FEATURES)], mandatory=False)


def parse_reports(msg: c.Message) -> tuple[E.RuleReport, ...]:
    """Charging-Rule-Report AVPs of an RAA (or CCR)."""
    out = []
    for rep in msg.find_all(*K_REPORT):
        inner = rep.group()
        status, failure = _first(inner, K_RULE_STATUS), _first(inner, K_FAILURE_CODE)
        names = tuple(a.data.decode("utf-8", "replace") for a in inner
                      if (a.code, a.vendor) in (K_RULE_NAME, K_BASE_NAME))
        out.append(E.RuleReport(names, status.i32 if status else E.ACTIVE, failure.i32 if failure else None))
    return tuple(out)


def default_qos(cfg: Config) -> SessionQoS:
    p = cfg.pcrf
    return SessionQoS(p.apn_ambr_ul, p.apn_ambr_dl, p.default_qci, Arp(p.default_arp))


# --- the application ----------------------------------------------------------------------------

class GxApp:
    """CCR handler and RAR pusher of one worker."""

    def __init__(self, node: Node, store: Store, cfg: Config, worker: str) -> None:
        self.node, self.store, self.cfg, self.worker = node, store, cfg, worker
        self.defaults = default_qos(cfg)
        self.inflight: set[str] = set()
        self.task: asyncio.Task[None] | None = None
        self.wakeup = asyncio.Event()

    async def on_ccr(self, req: Request) -> bytes:
        msg = req.message
        rt, info = parse_ccr(msg, int(time.time()), req.peer.host, req.peer.realm)
        if rt == INITIAL:
            metrics.inc("pcrf.gx.ccr.initial")
            p = await self.store.atransact(lambda ledger: E.establish(ledger, info, self.defaults))
        elif rt == UPDATE:
            metrics.inc("pcrf.gx.ccr.update")
            p = await self.store.atransact(lambda ledger: E.modify(ledger, info, self.defaults))
        else:
            metrics.inc("pcrf.gx.ccr.terminate")
            p = await self.store.atransact(lambda ledger: E.terminate(ledger, info))
        self._count(rt, p, info)
        avps = [c.avp("Auth-Application-Id", GX), c.avp("CC-Request-Type", rt),
                c.avp("CC-Request-Number", info.request_number)]
        if rt == INITIAL and info.features is not None:
            avps.append(supported_features(info.features))
        if p.result == E.SUCCESS:
            avps += encode_provision(p)
        if p.experimental:
            return req.answer(None, avps, experimental=(V, p.result))
        return req.answer(p.result, avps)

    def _count(self, rt: int, p: E.Provision, info: E.CcrInfo) -> None:
        if p.result != E.SUCCESS:
            metrics.inc(f"pcrf.gx.result.{p.result}")
            log.info("Gx %s: %d %s", info.session_id, p.result, p.reason)
            return
        if rt == INITIAL:
            metrics.inc("pcrf.gx.sessions.created")
        elif rt == TERMINATION:
            metrics.inc("pcrf.gx.sessions.terminated")
        if info.usage:
            metrics.inc("pcrf.gx.usage.reports")
        if p.failed:
            metrics.inc("pcrf.gx.rules.failed", len(p.failed))
            log.warning("Gx %s: PCEF could not install rules %s", info.session_id, ", ".join(p.failed))
        if p.install:
            metrics.inc("pcrf.gx.rules.installed", len(p.install))

    # --- pushes (RAR, TS 29.212 §4.5.2) ---------------------------------------------------------
    def start(self) -> None:
        asyncio.get_running_loop()          # RuntimeError without a loop (import-only checks)
        self.task = self.node.background(self.push_loop())   # cancelled by node.stop

    def poke(self) -> None:
        """Scan the push queue now (tests, or after a local change)."""
        self.wakeup.set()

    async def push_loop(self) -> None:
        interval = self.cfg.pcrf.push_interval
        while not self.node._stopping:
            try:
                await asyncio.wait_for(self.wakeup.wait(), interval)
            except TimeoutError:
                pass
            self.wakeup.clear()
            if self.node._stopping:
                break
            try:
                await self.push_once()
            except Exception:      # the store went away at shutdown, or a bug: log, keep going
                if self.node._stopping:
                    break
                log.exception("Gx push scan failed")
                metrics.inc("pcrf.gx.push.errors")

    async def push_once(self) -> int:
        """Send one RAR per queued session whose PCEF is connected here; returns how many."""
        def scan(ledger: Ledger) -> list[tuple[str, str]]:
            out = []
            for sid, _doc in T.pending_pushes(ledger):
                s = ledger.get_doc(T.KIND_SESSION, sid)
                out.append((sid, (s.get("via") or s["peer"]) if s else ""))
            return out
        queued = await self.store.atransact(scan)
        # a session gone from the store is cleaned up by whoever sees it first (repush drops it)
        mine = [sid for sid, via in queued if sid not in self.inflight and (via in self.node.open or not via)]
        sent = 0
        for sid in mine:
            self.inflight.add(sid)
            try:
                if await self.push(sid):
                    sent += 1
            finally:
                self.inflight.discard(sid)
        return sent

    async def push(self, session_id: str) -> bool:
        now = time.time()
        lease = 2 * self.cfg.pcrf.rar_timeout
        p = await self.store.atransact(
            lambda ledger: E.repush(ledger, session_id, self.defaults, self.worker, now, lease))
        if p is None or p.session is None:
            return False
        s = p.session
        avps = [c.avp("Session-Id", session_id), c.avp("Auth-Application-Id", GX),
                c.avp("Destination-Realm", s["realm"] or self.node.realm), c.avp("Destination-Host", s["peer"]),
                c.avp("Re-Auth-Request-Type", AUTHORIZE_ONLY), *encode_provision(p)]
        metrics.inc("pcrf.gx.rar.sent")
        log.info("Gx %s: RAR to %s (%s)", session_id, s["peer"], p.reason)
        try:
            via = s.get("via") or s["peer"]
            ans = await self.node.request(CMD_RA, GX, avps, host=via, timeout=self.cfg.pcrf.rar_timeout)
            result, reports = ans.result_code or 0, parse_reports(ans)
        except (TimeoutError, ConnectionError, DiameterError) as exc:
            log.warning("Gx %s: no RAA from %s: %s", session_id, s["peer"], exc or type(exc).__name__)
            metrics.inc("pcrf.gx.rar.timeout")
            result, reports = 0, ()
        if result == E.SUCCESS:
            metrics.inc("pcrf.gx.raa.success")
        elif result:
            metrics.inc("pcrf.gx.raa.failure")
        failed = await self.store.atransact(
            lambda ledger: E.record_raa(ledger, session_id, result, reports, int(time.time()),
                                        self.cfg.pcrf.rar_timeout, self.cfg.pcrf.rar_retries))
        if failed:
            metrics.inc("pcrf.gx.rules.failed", len(failed))
            log.warning("Gx %s: PCEF could not install rules %s", session_id, ", ".join(failed))
        return True


def install(node: Node, ctx: AppContext) -> GxApp:
    """Register Gx (advertised as Vendor-Specific-Application-Id 10415/16777238) and start pushing."""
    app = GxApp(node, ctx.store, ctx.cfg, f"{ctx.cfg.node.host}/{ctx.index}")
    node.register(AppSupport(GX, vendor_id=V), {CMD_CC: app.on_ccr})
    try:
        if ctx.store is not None:
            app.start()
    except RuntimeError:          # no running loop (an import-only check): no pusher
        log.debug("Gx push loop not started: no running event loop")
    node.gx = app                 # type: ignore[attr-defined]  # tests and tools reach the app here
    return app
