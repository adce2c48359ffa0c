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

from ...config import Config
from ...ocs.policy import Arp, PolicyRule, QoS, RuleKind, SessionQoS
from ...pcrf import engine as E
from ...pcrf import tables as T
from ...telemetry import metrics
from .. import avps as A
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

def _first(avps: Iterable[Avp], key: tuple[int, int]) -> Avp | None:
    for a in avps:
        if (a.code, a.vendor) == key:
            return a
    return None


def _need(msg: c.Message, key: tuple[int, int]) -> Avp:
    a = msg.get(key)
    if a is None:
        raise c.missing_avp(*key)
    return a


def parse_ccr(msg: c.Message, now: int, via: str = "", via_realm: str = "") -> tuple[int, E.CcrInfo]:
    """(CC-Request-Type, CcrInfo) from a Gx CCR (TS 29.212 §5.6.2); DiameterError on bad input."""
    sid = msg.session_id
    if not sid:
        raise c.missing_avp(c.SESSION_ID)
    app = _need(msg, A.AUTH_APPLICATION_ID)
    if app.u32 != GX:
        raise DiameterError(c.INVALID_AVP_VALUE, app, "Auth-Application-Id is not Gx")
    rt_avp = _need(msg, A.CC_REQUEST_TYPE)
    rt = rt_avp.i32
    if rt not in (INITIAL, UPDATE, TERMINATION):
        raise DiameterError(c.INVALID_AVP_VALUE, rt_avp, "CC-Request-Type must be 1, 2 or 3 on Gx")
    number = _need(msg, A.CC_REQUEST_NUMBER).u32
    origin_host = msg.text(c.ORIGIN_HOST) or via
    origin_realm = msg.text(c.ORIGIN_REALM) or via_realm
    ids: list[tuple[int, str]] = []
    for sub in msg.get_all(A.SUBSCRIPTION_ID):
        kind, data = _first(sub.group(), A.SUBSCRIPTION_ID_TYPE), _first(sub.group(), A.SUBSCRIPTION_ID_DATA)
        if kind is None or data is None:
            raise DiameterError(c.MISSING_AVP, sub, "Subscription-Id needs Type and Data")
        ids.append((kind.i32, data.text))
    usage: list[tuple[str, int]] = []
    for umi in msg.get_all(A.USAGE_MONITORING_INFORMATION):
        key = _first(umi.group(), A.MONITORING_KEY)
        if key is None:
            raise DiameterError(c.MISSING_AVP, umi, "Usage-Monitoring-Information without Monitoring-Key")
        used = 0
        for usu in umi.get_all(A.USED_SERVICE_UNIT):
            total = _first(usu.group(), A.CC_TOTAL_OCTETS)
            if total is not None:
                used += total.u64
            else:
                used += sum(a.u64 for a in usu.group() if (a.code, a.vendor) in (A.CC_INPUT_OCTETS, A.CC_OUTPUT_OCTETS))
        usage.append((key.data.decode("utf-8", "replace"), used))
    reports = parse_reports(msg)
    features = None
    for sf in msg.get_all(A.SUPPORTED_FEATURES):
        inner = sf.group()
        fid, flist = _first(inner, A.FEATURE_LIST_ID), _first(inner, A.FEATURE_LIST)
        if fid is not None and flist is not None and fid.u32 == FEATURE_LIST_ID:
            features = flist.u32
    rat = msg.get(A.RAT_TYPE)
    ip_avp = msg.get(A.FRAMED_IP_ADDRESS)
    ip = ".".join(str(b) for b in ip_avp.data) if ip_avp is not None and len(ip_avp.data) == 4 else None
    apn = msg.get(A.CALLED_STATION_ID)
    info = E.CcrInfo(sid, origin_host, origin_realm, number, tuple(ids),
                     tuple(a.i32 for a in msg.get_all(A.EVENT_TRIGGER)), tuple(usage), reports,
                     features, ip, apn.text if apn is not None else None,
                     rat.i32 if rat is not None else None, now, via)
    return rt, info


# --- encoding a provision (TS 29.212 §5.3) ------------------------------------------------------

def _arp(arp: Arp) -> bytes:
    """Allocation-Retention-Priority (§5.3.32); capability/vulnerability: 0 ENABLED, 1 DISABLED."""
    return A.ALLOCATION_RETENTION_PRIORITY.encode([
        A.PRIORITY_LEVEL.encode(arp.priority),
        A.PRE_EMPTION_CAPABILITY.encode(0 if arp.preemption_capability else 1),
        A.PRE_EMPTION_VULNERABILITY.encode(0 if arp.preemption_vulnerability else 1)])


def _qos(qos: QoS) -> bytes:
    """QoS-Information of a rule (§5.3.16)."""
    inner = []
    if qos.qci is not None:
        inner.append(A.QOS_CLASS_IDENTIFIER.encode(qos.qci))
    for key, value in ((A.MAX_REQUESTED_BANDWIDTH_UL, qos.mbr_ul), (A.MAX_REQUESTED_BANDWIDTH_DL, qos.mbr_dl),
                       (A.GUARANTEED_BITRATE_UL, qos.gbr_ul), (A.GUARANTEED_BITRATE_DL, qos.gbr_dl)):
        if value is not None:
            inner.append(key.encode(value))
    if qos.arp is not None:
        inner.append(_arp(qos.arp))
    return A.QOS_INFORMATION.encode(inner)


@lru_cache(maxsize=4096)
def rule_definition(rule: PolicyRule) -> bytes:
    """Charging-Rule-Definition (§5.3.4) of a dynamic rule."""
    inner = [A.CHARGING_RULE_NAME.encode(rule.name.encode())]
    ck = rule.charging
    if ck is not None and ck.service_id is not None:
        inner.append(A.SERVICE_IDENTIFIER.encode(ck.service_id))
    if ck is not None and ck.rating_group is not None:
        inner.append(A.RATING_GROUP.encode(ck.rating_group))
    for flow in rule.flows:
        inner.append(A.FLOW_INFORMATION.encode([A.FLOW_DESCRIPTION.encode(flow.description.encode()),
                                                A.FLOW_DIRECTION.encode(int(flow.direction))]))
    if rule.qos is not None:
        inner.append(_qos(rule.qos))
    if ck is not None:
        if ck.online is not None:
            inner.append(A.ONLINE.encode(1 if ck.online else 0))
        if ck.offline is not None:
            inner.append(A.OFFLINE.encode(1 if ck.offline else 0))
        if ck.metering is not None:
            inner.append(A.METERING_METHOD.encode(int(ck.metering)))
    if rule.precedence is not None:
        inner.append(A.PRECEDENCE.encode(rule.precedence))
    if rule.monitoring_key is not None:
        inner.append(A.MONITORING_KEY.encode(rule.monitoring_key.encode()))
    return A.CHARGING_RULE_DEFINITION.encode(inner)


def encode_provision(p: E.Provision) -> list[bytes]:
    """Event-Trigger, Charging-Rule-Remove/-Install, QoS, Usage-Monitoring-Information (§5.6.3)."""
    out = [A.EVENT_TRIGGER.encode(t) for t in p.triggers]
    if p.remove:
        out.append(A.CHARGING_RULE_REMOVE.encode([
            A.CHARGING_RULE_BASE_NAME.encode(name) if kind is RuleKind.BASE
            else A.CHARGING_RULE_NAME.encode(name.encode()) for name, kind in p.remove]))
    if p.install:
        inner = []
        for rule in p.install:
            if rule.kind is RuleKind.DYNAMIC:
                inner.append(rule_definition(rule))
            elif rule.kind is RuleKind.BASE:
                inner.append(A.CHARGING_RULE_BASE_NAME.encode(rule.name))
            else:
                inner.append(A.CHARGING_RULE_NAME.encode(rule.name.encode()))
        out.append(A.CHARGING_RULE_INSTALL.encode(inner))
    if p.qos is not None:
        out += session_qos(p.qos)
    for key, octets in p.monitoring:
        out.append(A.USAGE_MONITORING_INFORMATION.encode([
            A.MONITORING_KEY.encode(key.encode()),
            A.GRANTED_SERVICE_UNIT.encode([A.CC_TOTAL_OCTETS.encode(octets)]),
            A.USAGE_MONITORING_LEVEL.encode(PCC_RULE_LEVEL)]))
    return out


@lru_cache(maxsize=1024)
def session_qos(q: SessionQoS) -> tuple[bytes, ...]:
    """APN-AMBR in QoS-Information and Default-EPS-Bearer-QoS (§4.5.5.0a, §5.3.48)."""
    return (A.QOS_INFORMATION.encode([A.APN_AGGREGATE_MAX_BITRATE_UL.encode(q.apn_ambr_ul),
                                      A.APN_AGGREGATE_MAX_BITRATE_DL.encode(q.apn_ambr_dl)]),
            A.DEFAULT_EPS_BEARER_QOS.encode([A.QOS_CLASS_IDENTIFIER.encode(q.qci), _arp(q.arp)]))


def supported_features(theirs: int) -> bytes:
    """Supported-Features we share with the PCEF (§5.4.1; sent with the M-bit cleared)."""
    return A.SUPPORTED_FEATURES.encode([A.VENDOR_ID.encode(V), A.FEATURE_LIST_ID.encode(FEATURE_LIST_ID),
                                        A.FEATURE_LIST.encode(theirs & FEATURES)], mandatory=False)


def parse_reports(msg: c.Message) -> tuple[E.RuleReport, ...]:
    """Charging-Rule-Report AVPs of an RAA (or CCR)."""
    out = []
    for rep in msg.get_all(A.CHARGING_RULE_REPORT):
        inner = rep.group()
        status, failure = _first(inner, A.PCC_RULE_STATUS), _first(inner, A.RULE_FAILURE_CODE)
        names = tuple(a.data.decode("utf-8", "replace") for a in inner
                      if (a.code, a.vendor) in (A.CHARGING_RULE_NAME, A.CHARGING_RULE_BASE_NAME))
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
        avps = [A.AUTH_APPLICATION_ID.encode(GX), A.CC_REQUEST_TYPE.encode(rt),
                A.CC_REQUEST_NUMBER.encode(info.request_number)]
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
        avps = [A.SESSION_ID.encode(session_id), A.AUTH_APPLICATION_ID.encode(GX),
                A.DESTINATION_REALM.encode(s["realm"] or self.node.realm), A.DESTINATION_HOST.encode(s["peer"]),
                A.RE_AUTH_REQUEST_TYPE.encode(AUTHORIZE_ONLY), *encode_provision(p)]
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
