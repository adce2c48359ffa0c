"""The 3GPP AAA server (TS 29.273) shared by STa, SWm, S6b and the SWx client: Diameter EAP
(RFC 4072 DER/DEA) around the pure EAP framework, authorization sessions in store documents
(RFC 6733 §8: STR/STA, ASR/ASA, RAR/RAA), and the subscriber sweep that aborts the sessions of a
subscriber removed from the inventory.

One :class:`Aaa` per Diameter worker (``aaa_for(node, ctx)``).  EAP rounds in flight live in
the worker that owns the peer connection (the kernel keeps a connection on one worker);
everything that must survive a restart -- the authorized sessions, which access network / PGW
serves each subscriber, pseudonyms and re-auth keys -- is in store documents.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from ...eap.aka import AkaSettings
from ...eap.conversations import ConversationStore
from ...eap.credentials import StoreLookup
from ...eap.framework import Accept, Conversation, Ignore, MethodContext, Policy, Reject, Send
from ...ocs.usable import refusal
from ...store.eap_actions import EapActions, StoreVectors, VectorSource
from ...telemetry import metrics
from .. import avps as A
from .. import codec as c
from ..codec import DiameterError
from ..node import Node, Request


def usable(ledger: Any, svc: Any, now: int) -> bool:
    """The one rule every front end applies (:func:`appliance.ocs.usable.refusal`)."""
    product = ledger.get_product(svc.product_id) if svc is not None and svc.product_id else None
    return refusal(svc, product, now) is None

log = logging.getLogger(__name__)

V = c.VENDOR_3GPP
STA, SWM, SWX, S6B = 16777250, 16777264, 16777265, 16777272
APP_NAMES = {STA: "sta", SWM: "swm", SWX: "swx", S6B: "s6b"}
CMD_AA, CMD_DE, CMD_ST, CMD_AS, CMD_RA = 265, 268, 275, 274, 258

MULTI_ROUND_AUTH = 1001                  # RFC 6733 §7.1.1
AUTHENTICATION_REJECTED = 4001           # RFC 6733 §7.1.4
AUTHORIZATION_REJECTED = 5003            # RFC 6733 §7.1.5
USER_UNKNOWN = 5001                      # Experimental-Result, 3GPP (TS 29.273 §9.1.2)
AUTHORIZE_ONLY, AUTHORIZE_AUTHENTICATE = 1, 3    # Auth-Request-Type (RFC 6733 §8.7)
REAUTH_AUTHORIZE_ONLY = 0                # Re-Auth-Request-Type (RFC 6733 §8.12)
NO_STATE_MAINTAINED = 1                  # Auth-Session-State (RFC 6733 §8.11)
TRUSTED = 0                              # AN-Trusted (TS 29.273 §5.2.3.9)

SESSION_KIND = "aaa_session"
ASR_RETRY = 30                           # seconds before an unanswered ASR is sent again
ASR_ATTEMPTS = 3                         # then the session is forgotten (counted)


@dataclass(frozen=True)
class AaaRealm:
    """Where the vectors of a realm's subscribers come from (``vectors: local | hss``)."""
    realm: str
    vectors: str = "local"
    hss_host: str = ""
    hss_realm: str = ""

    def __post_init__(self) -> None:
        if self.vectors not in ("local", "hss"):
            raise ValueError(f"aaa.realms: vectors must be local or hss, not {self.vectors!r}")
        if self.vectors == "hss" and not (self.hss_host or self.hss_realm):
            raise ValueError(f"aaa.realms: realm {self.realm} takes vectors from an HSS: set hss_host or hss_realm")


@dataclass(frozen=True)
class AaaSettings:
    network_name: str = "WLAN"           # AKA' network name when the DER carries no ANID
    realms: tuple[AaaRealm, ...] = ()
    multi_round_timeout: int = 30        # Multi-Round-Time-Out (RFC 4072 §4.1.1) and EAP round lifetime
    session_timeout: int = 0             # Session-Timeout in DEA/AAA (0: none)
    sweep_interval: float = 10.0         # seconds between subscriber sweeps (ASR on removal)
    max_conversations: int = 65536       # EAP rounds in flight per worker
    swx_timeout: float = 5.0
    identity_request: str = "none"       # AkaSettings.identity_request for Diameter EAP


def settings_of(cfg: Any) -> AaaSettings:
    """The ``aaa:`` configuration section (``cfg.aaa``: an AaaSettings or any object/mapping with
    its field names, realms as objects/mappings with AaaRealm's fields); defaults when absent."""
    value = getattr(cfg, "aaa", None)
    if value is None or isinstance(value, AaaSettings):
        return value or AaaSettings()

    def fields(obj: Any, cls: Any) -> dict[str, Any]:
        get = obj.get if isinstance(obj, dict) else (lambda k, d=None: getattr(obj, k, d))
        return {k: get(k) for k in cls.__dataclass_fields__ if get(k) is not None}
    kw = fields(value, AaaSettings)
    kw["realms"] = tuple(AaaRealm(**fields(r, AaaRealm)) for r in kw.get("realms", ()))
    return AaaSettings(**kw)


def imsi_of(user_name: str) -> str:
    """IMSI from a User-Name: ``0<IMSI>@realm`` / ``6<IMSI>@realm`` (root NAI, TS 23.003 §19.3) or a bare IMSI."""
    user = user_name.split("@", 1)[0]
    nai = "@" in user_name or len(user) == 16               # a bare IMSI has at most 15 digits
    if nai and len(user) >= 6 and user[0] in "06" and user[1:].isdigit():
        return user[1:]
    return user


def _realm(identity: str) -> str:
    return identity.split("@", 1)[1] if "@" in identity else ""


def _one(msg: c.Message, key: A.AvpKey) -> c.Avp:
    a = msg.get(key)
    if a is None:
        raise c.missing_avp(key.code, key.vendor, f"AVP {key.code} missing")
    return a


@dataclass
class Aaa:
    node: Node
    ctx: Any
    settings: AaaSettings = field(default_factory=AaaSettings)
    clock: Any = time.time
    random: Any = os.urandom
    hss_sources: dict[str, VectorSource] = field(default_factory=dict)
    task: asyncio.Task[Any] | None = None

    def __post_init__(self) -> None:
        self.store = self.ctx.store
        self.conversations: ConversationStore[str, Conversation] = ConversationStore(
            self.settings.max_conversations, float(self.settings.multi_round_timeout))
        self.local_vectors = StoreVectors(self.store)
        self.local_actions = EapActions(self.store)       # vectors by Milenage over the store, one transaction

    @property
    def index(self) -> int:
        return int(getattr(self.ctx, "index", 0))

    # ------------------------------------------------------------------ vectors per realm
    def realm_conf(self, identity: str) -> AaaRealm | None:
        realm = _realm(identity)
        for r in self.settings.realms:
            if r.realm == realm or (r.realm.startswith("*.") and realm.endswith(r.realm[1:])) or r.realm == "*":
                return r
        return None

    def _uses_hss(self, identity: str) -> bool:
        conf = self.realm_conf(identity)
        return conf is not None and conf.vectors == "hss"

    def vectors_for(self, identity: str) -> VectorSource:
        conf = self.realm_conf(identity)
        if conf is None or conf.vectors != "hss":
            return self.local_vectors
        from .swx import SwxVectors  # the SWx client (MAR/MAA) against the realm's HSS
        return SwxVectors(self.node, conf.hss_host, conf.hss_realm, self.settings.swx_timeout)

    # ------------------------------------------------------------------ DER / DEA (RFC 4072 §3)
    async def der(self, req: Request, app_id: int, methods: tuple[int, ...]) -> bytes:
        msg = req.message
        sid = msg.session_id
        if not sid:
            raise c.missing_avp(c.SESSION_ID)
        art = _one(msg, A.AUTH_REQUEST_TYPE).u32
        if art not in (AUTHORIZE_AUTHENTICATE, 2):       # AUTHENTICATE_ONLY (2) or AUTHORIZE_AUTHENTICATE
            raise DiameterError(c.INVALID_AVP_VALUE, msg.get(A.AUTH_REQUEST_TYPE), "Auth-Request-Type")
        payload = _one(msg, A.EAP_PAYLOAD).data
        now = self.clock()
        self.conversations.expire(now)
        conv = self.conversations.get(sid, now)
        user = msg.get(A.USER_NAME)
        user_name = user.text if user is not None else ""
        anid = msg.get(A.ANID)
        network_name = anid.text if anid is not None else self.settings.network_name
        if conv is None:
            identity = user_name or _identity_in(payload)
            aka = AkaSettings(network_name=network_name, identity_request=self.settings.identity_request)
            vectors = self.vectors_for(identity)
            actions = self.local_actions if vectors is self.local_vectors else EapActions(self.store, vectors)
            conv = Conversation(Policy(methods), MethodContext(
                lookup=StoreLookup(self.store), random=self.random, now=self.clock,
                server_id=self.node.host, options={"aka": aka}, perform=actions.perform))
        outcome = await conv.receive(payload if len(payload) > 2 else b"")
        app = APP_NAMES[app_id]
        common = [c.encode_avp(c.AUTH_APPLICATION_ID, app_id), A.AUTH_REQUEST_TYPE.encode(art)]
        if isinstance(outcome, Ignore):
            if conv.last_request is None:
                self.conversations.pop(sid)
                raise DiameterError(c.INVALID_AVP_VALUE, msg.get(A.EAP_PAYLOAD), f"EAP-Payload: {outcome.reason}")
            metrics.inc(f"aaa.{app}.eap_ignored")
            outcome = Send(conv.last_request, conv.identifier)     # the peer retransmits: repeat our Request
        if isinstance(outcome, Send):
            self.conversations.put(sid, conv, now)
            return req.answer(MULTI_ROUND_AUTH, common + [
                A.EAP_PAYLOAD.encode(outcome.packet),
                A.MULTI_ROUND_TIME_OUT.encode(self.settings.multi_round_timeout)])
        self.conversations.pop(sid)
        if isinstance(outcome, Reject):
            metrics.inc(f"aaa.{app}.rejects")
            return req.answer(AUTHENTICATION_REJECTED, common + [A.EAP_PAYLOAD.encode(outcome.packet)])
        assert isinstance(outcome, Accept)
        return await self._accepted(req, app_id, outcome, common, network_name)

    async def _accepted(self, req: Request, app_id: int, outcome: Accept, common: list[bytes],
                        network_name: str) -> bytes:
        msg = req.message
        imsi = str(outcome.extra.get("imsi") or outcome.identity)
        identity = str(outcome.extra.get("identity") or imsi)
        prefix = "6" if outcome.method == 50 else "0"
        realm = _realm(identity) or self.node.realm
        permanent = f"{prefix}{imsi}@{realm}"
        profile = await self._register(identity, imsi)
        doc = {"app": app_id, "imsi": imsi, "service_id": outcome.service_id, "user_name": permanent,
               "peer_host": req.peer.host, "peer_realm": req.peer.realm, "owner": self.index,
               "node": self.node.host, "state": "open", "method": outcome.method, "created": int(self.clock()),
               "network_name": network_name, "profile": profile, "hss": self._uses_hss(identity)}
        sid = msg.session_id
        await self.store.atransact(lambda ledger: ledger.put_doc(SESSION_KIND, sid, doc))
        metrics.inc(f"aaa.{APP_NAMES[app_id]}.authenticated")
        avps = common + [A.EAP_PAYLOAD.encode(outcome.packet), A.EAP_MASTER_SESSION_KEY.encode(outcome.msk),
                         A.USER_NAME.encode(permanent)]
        if self.settings.session_timeout:
            avps.append(A.SESSION_TIMEOUT.encode(self.settings.session_timeout))
        if app_id == STA:
            avps.append(A.AN_TRUSTED.encode(TRUSTED))
        if profile.get("apn"):
            avps.append(A.SERVICE_SELECTION.encode(profile["apn"]))
        return req.answer(c.SUCCESS, avps)

    async def _register(self, identity: str, imsi: str) -> dict[str, Any]:
        """SAR(REGISTRATION) to the realm's HSS for Non-3GPP-User-Data (TS 29.273 §8.1.2.2); local: the service."""
        conf = self.realm_conf(identity)
        if conf is not None and conf.vectors == "hss":
            from .swx import register
            try:
                return await register(self.node, conf.hss_host, conf.hss_realm, imsi, self.settings.swx_timeout)
            except (DiameterError, TimeoutError, ConnectionError) as exc:
                log.warning("SWx SAR for a subscriber failed: %s", exc)
                metrics.inc("aaa.swx.sar_failures")
                return {}
        svc = await self.store.atransact(lambda ledger: ledger.find_service(imsi))
        return {"apn": str(svc.attributes.get("apn", ""))} if svc is not None and svc.attributes.get("apn") else {}

    # ------------------------------------------------------------------ AAR / AAA (authorization)
    async def authorize(self, req: Request, app_id: int) -> bytes:
        """AAR/AAA: SWm/STa authorize an authenticated session (TS 29.273 §7.1.2.2); S6b authorizes a
        PGW for a subscriber and records the PGW identity (MIP6-Agent-Info) and APN (TS 29.273 §9.2.2.1)."""
        msg = req.message
        sid = msg.session_id or ""
        art = _one(msg, A.AUTH_REQUEST_TYPE).u32
        if art != AUTHORIZE_ONLY:
            raise DiameterError(c.INVALID_AVP_VALUE, msg.get(A.AUTH_REQUEST_TYPE),
                                "Auth-Request-Type must be AUTHORIZE_ONLY")
        app = APP_NAMES[app_id]
        user = msg.get(A.USER_NAME)
        apn_avp = msg.get(A.SERVICE_SELECTION)
        apn = apn_avp.text if apn_avp is not None else ""
        common = [c.encode_avp(c.AUTH_APPLICATION_ID, app_id), A.AUTH_REQUEST_TYPE.encode(AUTHORIZE_ONLY)]
        if app_id == S6B:
            if user is None:
                raise c.missing_avp(*A.USER_NAME)
            imsi = imsi_of(user.text)
            pgw_host, pgw_realm = req.peer.host, req.peer.realm
            agent = msg.get(A.MIP6_AGENT_INFO)
            for a in agent.group() if agent is not None else ():
                if a.key == A.MIP_HOME_AGENT_HOST:          # {Destination-Realm, Destination-Host}
                    for b in a.group():
                        if b.code == c.DESTINATION_HOST:
                            pgw_host = b.text
                        elif b.code == c.DESTINATION_REALM:
                            pgw_realm = b.text
            now = int(self.clock())

            def record(ledger: Any) -> str | None:
                svc = ledger.find_service(imsi)
                if not usable(ledger, svc, now):
                    return None
                ledger.put_doc(SESSION_KIND, sid, {
                    "app": S6B, "imsi": imsi, "service_id": svc.id, "user_name": user.text, "apn": apn,
                    "pgw_host": pgw_host, "pgw_realm": pgw_realm, "peer_host": req.peer.host,
                    "peer_realm": req.peer.realm, "owner": self.index, "node": self.node.host, "state": "open",
                    "created": now})
                return str(svc.id)
            if await self.store.atransact(record) is None:
                metrics.inc(f"aaa.{app}.user_unknown")
                return req.answer(None, common, experimental=(V, USER_UNKNOWN))
            metrics.inc(f"aaa.{app}.authorized")
            out = common + ([A.SERVICE_SELECTION.encode(apn)] if apn else [])
            if self.settings.session_timeout:
                out.append(A.SESSION_TIMEOUT.encode(self.settings.session_timeout))
            return req.answer(c.SUCCESS, out)
        now = int(self.clock())

        def session(ledger: Any) -> tuple[dict[str, Any] | None, Any]:
            doc = ledger.get_doc(SESSION_KIND, sid)
            if doc is None or doc.get("app") != app_id:
                return None, None
            svc = ledger.find_service(doc["imsi"])
            return doc, svc if usable(ledger, svc, now) else None
        doc, svc = await self.store.atransact(session)       # one transaction: the session and its service
        if doc is None:
            metrics.inc(f"aaa.{app}.user_unknown")
            return req.answer(None, common, experimental=(V, USER_UNKNOWN))
        if svc is None:
            return req.answer(AUTHORIZATION_REJECTED, common)
        metrics.inc(f"aaa.{app}.authorized")
        out = common + [A.USER_NAME.encode(doc.get("user_name", doc["imsi"]))]
        granted = apn or (doc.get("profile") or {}).get("apn", "")
        if granted:
            out.append(A.SERVICE_SELECTION.encode(granted))
        if self.settings.session_timeout:
            out.append(A.SESSION_TIMEOUT.encode(self.settings.session_timeout))
        return req.answer(c.SUCCESS, out)

    # ------------------------------------------------------------------ STR / STA (RFC 6733 §8.4)
    async def session_termination(self, req: Request, app_id: int) -> bytes:
        sid = req.message.session_id or ""

        def drop(ledger: Any) -> bool:
            doc = ledger.get_doc(SESSION_KIND, sid)
            if doc is None or doc.get("app") != app_id:
                return False
            ledger.delete_doc(SESSION_KIND, sid)
            return True
        if not await self.store.atransact(drop):
            raise DiameterError(c.UNKNOWN_SESSION_ID, None, "no such session")
        metrics.inc(f"aaa.{APP_NAMES[app_id]}.terminated")
        return req.answer(c.SUCCESS, [c.encode_avp(c.AUTH_APPLICATION_ID, app_id)])

    # ------------------------------------------------------------------ server-initiated (ASR, RAR)
    async def abort(self, sid: str, doc: dict[str, Any]) -> int | None:
        """ASR to the access network / PGW holding the session (RFC 6733 §8.5); the session is
        marked ``aborting`` and removed when the client's STR (or a positive ASA) arrives."""
        app = int(doc["app"])
        avps = [c.encode_avp(c.SESSION_ID, sid), c.encode_avp(c.DESTINATION_REALM, doc["peer_realm"]),
                c.encode_avp(c.DESTINATION_HOST, doc["peer_host"]), c.encode_avp(c.AUTH_APPLICATION_ID, app),
                A.USER_NAME.encode(doc.get("user_name", doc["imsi"]))]

        now = int(self.clock())

        def mark(ledger: Any) -> None:
            cur = ledger.get_doc(SESSION_KIND, sid)
            if cur is not None:
                ledger.put_doc(SESSION_KIND, sid, {**cur, "state": "aborting", "aborted_at": now,
                                                   "asr_attempts": int(cur.get("asr_attempts", 0)) + 1})
        await self.store.atransact(mark)
        try:
            ans = await self.node.request(CMD_AS, app, avps, host=doc["peer_host"], timeout=self.settings.swx_timeout)
        except (DiameterError, TimeoutError, ConnectionError) as exc:
            log.warning("ASR for a session failed: %s", exc)
            metrics.inc(f"aaa.{APP_NAMES.get(app, 'app')}.asr_failures")
            return None
        metrics.inc(f"aaa.{APP_NAMES.get(app, 'app')}.asr_sent")
        if ans.result_code in (c.SUCCESS, c.UNKNOWN_SESSION_ID):
            await self.store.atransact(lambda ledger: ledger.delete_doc(SESSION_KIND, sid))
        return ans.result_code

    async def reauthorize(self, sid: str, doc: dict[str, Any]) -> int | None:
        """RAR (AUTHORIZE_ONLY) to the session's client (RFC 6733 §8.3, TS 29.273 §7.1.2.4)."""
        app = int(doc["app"])
        avps = [c.encode_avp(c.SESSION_ID, sid), c.encode_avp(c.DESTINATION_REALM, doc["peer_realm"]),
                c.encode_avp(c.DESTINATION_HOST, doc["peer_host"]), c.encode_avp(c.AUTH_APPLICATION_ID, app),
                A.RE_AUTH_REQUEST_TYPE.encode(REAUTH_AUTHORIZE_ONLY),
                A.USER_NAME.encode(doc.get("user_name", doc["imsi"]))]
        ans = await self.node.request(CMD_RA, app, avps, host=doc["peer_host"], timeout=self.settings.swx_timeout)
        metrics.inc(f"aaa.{APP_NAMES.get(app, 'app')}.rar_sent")
        return ans.result_code

    @staticmethod
    def request_abort(ledger: Any, sid: str, reason: str, now: int) -> dict[str, Any] | None:
        """Queue an ASR for one open session (an operator's action from any process): the worker
        that owns the session sends it at its next sweep (:meth:`sweep`).  None if no such session."""
        doc = ledger.get_doc(SESSION_KIND, sid)
        if doc is None:
            return None
        if doc.get("state") == "open" and not doc.get("abort_requested"):
            doc = {**doc, "abort_requested": {"at": now, "reason": reason}}
            ledger.put_doc(SESSION_KIND, sid, doc)
        return doc

    async def sessions_of(self, imsi: str) -> list[tuple[str, dict[str, Any]]]:
        docs = await self.store.atransact(lambda ledger: ledger.list_docs(SESSION_KIND))
        return [(k, d) for k, d in docs if d.get("imsi") == imsi]

    async def abort_subscriber(self, imsi: str) -> int:
        """ASR for every open session of a subscriber on this node, whichever worker owns it (the
        request reaches a client connected to another worker through the node's relay)."""
        n = 0
        for sid, doc in await self.sessions_of(imsi):
            if doc.get("node") == self.node.host and doc.get("state") == "open":
                await self.abort(sid, doc)
                n += 1
        return n

    async def sweep(self) -> int:
        """Abort the sessions whose subscriber was removed or disabled, or whose end an operator
        asked for (:meth:`request_abort`), in one pass; repeat an ASR that
        got no answer after ``ASR_RETRY`` seconds, at most ``ASR_ATTEMPTS`` times, then forget the session."""
        now = int(self.clock())

        def gone(ledger: Any) -> list[tuple[str, dict[str, Any]]]:
            out = []
            for sid, doc in ledger.list_docs(SESSION_KIND):
                if doc.get("owner") != self.index or doc.get("node") != self.node.host:
                    continue
                if doc.get("state") == "aborting":
                    if now - int(doc.get("aborted_at", now)) < ASR_RETRY:
                        continue
                    if int(doc.get("asr_attempts", 0)) >= ASR_ATTEMPTS:
                        ledger.delete_doc(SESSION_KIND, sid)
                        metrics.inc("aaa.sessions.abandoned")
                        continue
                    out.append((sid, doc))
                    continue
                if doc.get("state") != "open":
                    continue
                if doc.get("abort_requested"):     # an operator asked for the session's end
                    out.append((sid, doc))
                    continue
                if doc.get("hss"):                 # the HSS's subscribers leave by RTR, not by the inventory
                    continue
                svc = ledger.get_service(doc["service_id"]) if doc.get("service_id") else \
                    ledger.find_service(doc["imsi"])
                if not usable(ledger, svc, now):
                    out.append((sid, doc))
            return out
        victims = await self.store.atransact(gone)
        for sid, doc in victims:
            await self.abort(sid, doc)
        return len(victims)

    async def run_sweeps(self) -> None:
        while True:
            await asyncio.sleep(self.settings.sweep_interval)
            try:
                await self.sweep()
            except Exception:                              # keep sweeping after a store hiccup
                log.exception("AAA subscriber sweep failed")

    def start(self) -> None:
        if self.task is None and self.settings.sweep_interval > 0:
            self.task = self.node.background(self.run_sweeps())


def _identity_in(payload: bytes) -> str:
    """The identity of an EAP-Response/Identity (for the realm routing before the EAP round)."""
    if len(payload) > 5 and payload[0] == 2 and payload[4] == 1:
        return payload[5:int.from_bytes(payload[2:4], "big")].decode("utf-8", "replace")
    return ""


_INSTANCES: weakref.WeakKeyDictionary[Node, Aaa] = weakref.WeakKeyDictionary()


def aaa_for(node: Node, ctx: Any) -> Aaa:
    """The worker's AAA instance (created by the first application installed)."""
    inst = _INSTANCES.get(node)
    if inst is None:
        inst = _INSTANCES[node] = Aaa(node, ctx, settings_of(ctx.cfg))
        inst.start()
    return inst
