"""EAP-AKA (RFC 4187) and EAP-AKA' (RFC 9048, was RFC 5448): ONE server state machine, the
variant (identity prefixes, MAC/KDF/checkcode hash) a parameter.

Full authentication (RFC 4187 §3): identity resolution with AT_ANY_ID_REQ / AT_FULLAUTH_ID_REQ /
AT_PERMANENT_ID_REQ (§4.1.5), AKA-Challenge with AT_RAND, AT_AUTN, AT_CHECKCODE, AT_MAC, the next
pseudonym and re-authentication id in AT_ENCR_DATA (§4.1.1.7, §5.1), AT_RES check, AUTS
resynchronisation (§6.3.1 / TS 33.102 §6.3.5), Authentication-Reject, Client-Error, and a
failure Notification (§6.3.1) when the subscriber cannot be served.  Fast re-authentication (§5)
with AT_COUNTER, AT_NONCE_S, AT_COUNTER_TOO_SMALL.  AKA' adds AT_KDF_INPUT / AT_KDF and CK'/IK'
(RFC 9048 §3.1-3.3); EAP-AKA may carry AT_BIDDING (RFC 9048 §4).

Sans-I/O: ``start``, ``process`` and ``resume`` return an EAP step or an action of
:mod:`appliance.eap.events` (a vector, a pseudonym, a re-authentication context to load or
store); the caller performs it and resumes the machine with the reply.  Phases change only
through :data:`TRANSITIONS`, keyed by (phase, event): an event the peer may not send in a phase
raises :class:`~appliance.eap.events.ProtocolError`.  Keys, K, OPc, RES never reach logs.
"""
from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, cast

from ..telemetry import metrics
from . import aka_codec as c
from .aka_codec import At, Subtype, Variant
from .events import (
    Action,
    LoadPseudonym,
    LoadSession,
    NeedVector,
    NoVector,
    ProtocolError,
    PseudonymRecord,
    ReauthSession,
    Reply,
    StoreSession,
    Vector,
)
from .framework import Discard, Failure, MethodContext, MethodFactory, Request, Step, Success, registry, tunnel_registry
from .packet import Code, EapPacket
from .packet import encode as eap_encode

log = logging.getLogger(__name__)

ANY, FULLAUTH, PERMANENT = 1, 2, 3          # identity request strength (RFC 4187 §4.1.5 ordering)
ID_REQ_ATTR = {ANY: At.ANY_ID_REQ, FULLAUTH: At.FULLAUTH_ID_REQ, PERMANENT: At.PERMANENT_ID_REQ}
ID_REQ_NAMES = {"none": 0, "any": ANY, "fullauth": FULLAUTH, "permanent": PERMANENT}


@dataclass(frozen=True)
class AkaSettings:
    """``MethodContext.options["aka"]`` (an instance or a mapping of these fields)."""
    network_name: str = "WLAN"       # AKA' AT_KDF_INPUT: access network identity (TS 24.302 §8.1.1)
    realm: str = ""                  # realm of AT_NEXT_REAUTH_ID ("" = the peer's realm)
    pseudonyms: bool = True          # send AT_NEXT_PSEUDONYM
    fast_reauth: bool = True         # send AT_NEXT_REAUTH_ID and accept re-authentication
    reauth_max: int = 16             # highest AT_COUNTER before a full authentication is forced
    id_lifetime: int = 86_400        # seconds a pseudonym / re-auth context stays valid
    identity_request: str = "none"   # always ask first: none | any | fullauth | permanent
    bidding: bool = False            # AT_BIDDING D bit in EAP-AKA (set only when AKA' is preferred)
    result_ind: bool = True          # offer protected success indications (AT_RESULT_IND, RFC 4187 §6.2)

    @classmethod
    def of(cls, value: Any) -> AkaSettings:
        if isinstance(value, AkaSettings):
            return value
        if isinstance(value, Mapping):
            return cls(**{k: v for k, v in value.items() if k in cls.__dataclass_fields__})
        return cls()


def settings_from(cfg: Any) -> AkaSettings:
    """AKA settings from the configuration's ``aaa:`` section (network_name, identity_request;
    duck-typed, defaults when absent) -- for ``options["aka"]`` of a RADIUS worker."""
    aaa = getattr(cfg, "aaa", None)
    get = aaa.get if isinstance(aaa, Mapping) else (lambda k, d=None: getattr(aaa, k, d))
    if aaa is None:
        return AkaSettings()
    return AkaSettings(network_name=str(get("network_name", "WLAN")),
                       identity_request=str(get("identity_request", "none")))


class Phase(Enum):
    START = "start"
    IDENTITY = "identity"                  # AKA-Identity request outstanding
    CHALLENGE = "challenge"                # AKA-Challenge outstanding
    REAUTH = "reauth"                      # AKA-Reauthentication outstanding
    FAILURE_NOTIFY = "failure_notify"      # failure Notification outstanding (§6.3.1)
    SUCCESS_NOTIFY = "success_notify"      # protected success Notification outstanding (§6.2)
    SUCCESS = "success"
    FAILURE = "failure"


class Event(Enum):
    # what the peer sent (RFC 4187 §9, §11 subtypes)
    RX_IDENTITY = "rx_identity"
    RX_CHALLENGE = "rx_challenge"
    RX_SYNC_FAILURE = "rx_synchronization_failure"
    RX_AUTH_REJECT = "rx_authentication_reject"
    RX_REAUTH = "rx_reauthentication"
    RX_NOTIFICATION = "rx_notification"
    RX_CLIENT_ERROR = "rx_client_error"
    # what the server decided
    TX_IDENTITY = "tx_identity"
    TX_CHALLENGE = "tx_challenge"
    TX_REAUTH = "tx_reauthentication"
    TX_FAILURE_NOTIFY = "tx_failure_notification"
    TX_SUCCESS_NOTIFY = "tx_success_notification"
    SUCCEED = "succeed"
    FAIL = "fail"


RX_EVENTS: dict[int, Event] = {
    Subtype.IDENTITY: Event.RX_IDENTITY, Subtype.CHALLENGE: Event.RX_CHALLENGE,
    Subtype.SYNCHRONIZATION_FAILURE: Event.RX_SYNC_FAILURE, Subtype.AUTHENTICATION_REJECT: Event.RX_AUTH_REJECT,
    Subtype.REAUTHENTICATION: Event.RX_REAUTH, Subtype.NOTIFICATION: Event.RX_NOTIFICATION,
    Subtype.CLIENT_ERROR: Event.RX_CLIENT_ERROR,
}

_P, _E = Phase, Event
TRANSITIONS: dict[tuple[Phase, Event], Phase] = {
    (_P.START, _E.TX_IDENTITY): _P.IDENTITY,
    (_P.START, _E.TX_CHALLENGE): _P.CHALLENGE,
    (_P.START, _E.TX_REAUTH): _P.REAUTH,
    (_P.START, _E.TX_FAILURE_NOTIFY): _P.FAILURE_NOTIFY,
    (_P.IDENTITY, _E.RX_IDENTITY): _P.IDENTITY,
    (_P.IDENTITY, _E.TX_IDENTITY): _P.IDENTITY,
    (_P.IDENTITY, _E.TX_CHALLENGE): _P.CHALLENGE,
    (_P.IDENTITY, _E.TX_REAUTH): _P.REAUTH,
    (_P.IDENTITY, _E.TX_FAILURE_NOTIFY): _P.FAILURE_NOTIFY,
    (_P.CHALLENGE, _E.RX_CHALLENGE): _P.CHALLENGE,
    (_P.CHALLENGE, _E.RX_SYNC_FAILURE): _P.CHALLENGE,
    (_P.CHALLENGE, _E.RX_AUTH_REJECT): _P.FAILURE,
    (_P.CHALLENGE, _E.TX_CHALLENGE): _P.CHALLENGE,             # after resynchronisation (§6.3.1)
    (_P.CHALLENGE, _E.TX_SUCCESS_NOTIFY): _P.SUCCESS_NOTIFY,
    (_P.CHALLENGE, _E.SUCCEED): _P.SUCCESS,
    (_P.REAUTH, _E.RX_REAUTH): _P.REAUTH,
    (_P.REAUTH, _E.TX_CHALLENGE): _P.CHALLENGE,                # AT_COUNTER_TOO_SMALL (§5.2)
    (_P.REAUTH, _E.TX_SUCCESS_NOTIFY): _P.SUCCESS_NOTIFY,
    (_P.REAUTH, _E.SUCCEED): _P.SUCCESS,
    (_P.FAILURE_NOTIFY, _E.RX_NOTIFICATION): _P.FAILURE,
    (_P.SUCCESS_NOTIFY, _E.RX_NOTIFICATION): _P.SUCCESS_NOTIFY,
    (_P.SUCCESS_NOTIFY, _E.SUCCEED): _P.SUCCESS,
}
for _phase in (_P.IDENTITY, _P.CHALLENGE, _P.REAUTH, _P.FAILURE_NOTIFY, _P.SUCCESS_NOTIFY):
    TRANSITIONS[(_phase, _E.RX_CLIENT_ERROR)] = _P.FAILURE    # §6.3.2: the peer gives up
    TRANSITIONS[(_phase, _E.FAIL)] = _P.FAILURE
"""(phase, event) -> next phase.  A pair not listed is illegal: from the peer a ProtocolError
(answered EAP-Failure), from the server a RuntimeError (a bug)."""


def _digits(s: str) -> bool:
    return s.isascii() and s.isdigit() and 5 <= len(s) <= 15


Resume = Callable[[Reply], "Step | Action"]


class AkaMethod:
    """Server side of one EAP-AKA or EAP-AKA' authentication (framework :class:`Method`)."""

    type = 23

    def __init__(self, ctx: MethodContext, variant: Variant = c.AKA) -> None:
        self.ctx = ctx
        self.variant = variant
        self.type = variant.type
        self.settings = AkaSettings.of(ctx.options.get("aka"))
        self.prefix = "eap.akap" if variant.prime else "eap.aka"
        self.phase = Phase.START
        self.identity = b""                 # the identity keys are derived from (RFC 4187 §7)
        self.imsi = ""
        self.service_id: str | None = None
        self.id_msgs = bytearray()          # AKA-Identity packets for AT_CHECKCODE (§10.13)
        self.id_level = 0
        self.keys: c.Keys | None = None
        self.rand = b""
        self.xres = b""
        self.resynced = False
        self.next_pseudonym: str | None = None
        self.next_reauth: str | None = None
        self.counter = 0
        self.nonce_s = b""
        self.reauth_msk = (b"", b"")
        self.fail_reason = ""
        self.pending_success = (b"", b"", "successes")
        self._resume: Resume | None = None     # what to do with the reply to the outstanding action

    # -------------------------------------------------------------- the table
    def _on(self, event: Event) -> None:
        """Apply ``event``: the next phase from :data:`TRANSITIONS`, or raise."""
        new = TRANSITIONS.get((self.phase, event))
        if new is None:
            if event.name.startswith("RX_"):
                old, self.phase = self.phase, Phase.FAILURE
                self._count("illegal_events")
                log.debug("%s %s -> %s (illegal %s)", self.variant.name, old.value, Phase.FAILURE.value, event.value)
                raise ProtocolError(f"{self.variant.name}: {event.value} is not allowed in phase {old.value}")
            raise RuntimeError(f"illegal {self.variant.name} transition: {event.value} in {self.phase.value}")
        if new is not self.phase:
            log.debug("%s %s -> %s (%s)", self.variant.name, self.phase.value, new.value, event.value)
        self.phase = new

    def _ask(self, action: Action, then: Resume) -> Action:
        self._resume = then
        return action

    def resume(self, reply: Reply) -> Step | Action:
        """Continue with the reply to the action the last step returned."""
        then, self._resume = self._resume, None
        if then is None:
            raise RuntimeError(f"{self.variant.name}: resumed with no action outstanding")
        return then(reply)

    # -------------------------------------------------------------- helpers
    def _count(self, name: str) -> None:
        metrics.inc(f"{self.prefix}.{name}")

    def _fail(self, reason: str, counter: str = "failures") -> Failure:
        self._on(Event.FAIL)
        self._count(counter)
        return Failure(f"{self.variant.name}: {reason}", self.service_id)

    def _now(self) -> float:
        if self.ctx.now is None:
            raise RuntimeError("EAP-AKA needs the context's clock (MethodContext.now)")
        return self.ctx.now()

    def _packet(self, ident: int, data: bytes) -> bytes:
        return eap_encode(Code.REQUEST, ident, self.variant.type, data)

    def _signed(self, ident: int, subtype: int, attrs: list[c.Attr]) -> Request:
        assert self.keys is not None
        pkt = self._packet(ident, c.encode(subtype, attrs + [c.fixed(At.MAC, bytes(16))]))
        return Request(c.sign(self.variant, self.keys.k_aut, pkt)[5:])

    def _realm(self) -> str:
        if self.settings.realm:
            return self.settings.realm
        ident = self.identity.decode("utf-8", "replace")
        return ident.split("@", 1)[1] if "@" in ident else ""

    def _new_id(self, prefix: str, with_realm: bool) -> str:
        name = prefix + self.ctx.random(12).hex()
        realm = self._realm() if with_realm else ""
        return f"{name}@{realm}" if realm else name

    # -------------------------------------------------------------- identity (RFC 4187 §4.1)
    def start(self, identity: str, ident: int) -> Step | Action:
        self.identity = identity.encode()
        forced = ID_REQ_NAMES.get(self.settings.identity_request, 0)
        if forced:
            return self._ask_identity(forced, ident)
        return self._resolve(ident)

    def _ask_identity(self, level: int, ident: int) -> Step:
        self._on(Event.TX_IDENTITY)
        self.id_level = level
        data = c.encode(Subtype.IDENTITY, [c.fixed(ID_REQ_ATTR[level])])
        self.id_msgs += self._packet(ident, data)
        self._count("identity_requests")
        return Request(data)

    def _resolve(self, ident: int) -> Step | Action:
        """Choose re-authentication, full authentication, or another identity request."""
        ident_s = self.identity.decode("utf-8", "replace")
        user = ident_s.split("@", 1)[0]
        v = self.variant
        if user[:1] == v.reauth and self.id_level < FULLAUTH:
            if self.settings.fast_reauth:
                return self._ask(LoadSession(ident_s), lambda got: self._on_session(got, ident))
            return self._ask_again(FULLAUTH, ident)
        if user[:1] == v.pseudonym and self.id_level < PERMANENT:
            return self._ask(LoadPseudonym(user), lambda got: self._on_pseudonym(got, ident))
        if user[:1] in (c.AKA.permanent, c.AKA_PRIME.permanent) and _digits(user[1:]):
            self.imsi = user[1:]
            return self._challenge(ident)
        return self._ask_again(ANY, ident)

    def _on_session(self, got: Reply, ident: int) -> Step | Action:
        if isinstance(got, ReauthSession) and got.eap_type == self.variant.type and got.expires > self._now():
            return self._reauth(got, ident)
        return self._ask_again(FULLAUTH, ident)

    def _on_pseudonym(self, got: Reply, ident: int) -> Step | Action:
        if isinstance(got, PseudonymRecord) and got.expires > self._now():
            self.imsi = got.imsi
            return self._challenge(ident)
        return self._ask_again(PERMANENT, ident)

    def _ask_again(self, wanted: int, ident: int) -> Step:
        level = max(wanted, self.id_level + 1)
        if level > PERMANENT:
            return self._notify_failure(ident, "no usable identity")
        return self._ask_identity(level, ident)

    def _notify_failure(self, ident: int, reason: str) -> Step:
        """RFC 4187 §6.3.1: General Failure (P bit: before the challenge), then EAP-Failure.
        Once a challenge was sent the conversation ends in EAP-Failure at once."""
        if self.phase not in (Phase.START, Phase.IDENTITY):
            return self._fail(reason)
        self._on(Event.TX_FAILURE_NOTIFY)
        self.fail_reason = reason
        return Request(c.encode(Subtype.NOTIFICATION, [c.u16(At.NOTIFICATION, c.GENERAL_FAILURE)]))

    # -------------------------------------------------------------- full authentication (§3, §9.3)
    def _challenge(self, ident: int, auts: bytes | None = None) -> Action:
        v, s = self.variant, self.settings
        need = NeedVector(self.identity.decode("utf-8", "replace"), self.imsi, self.ctx.random(16), v.prime,
                          s.network_name.encode(), auts, self.rand if auts is not None else b"")
        return self._ask(need, lambda got: self._on_vector(got, ident))

    def _on_vector(self, got: Reply, ident: int) -> Step:
        if not isinstance(got, Vector):
            reason = got.reason if isinstance(got, NoVector) else "unknown"
            if reason == "bad_auts":
                return self._fail("AUTS does not verify (MAC-S)", "bad_auts")
            self._count("unknown_users")
            return self._notify_failure(ident, "unknown subscriber or no credentials")
        v, s = self.variant, self.settings
        nn = s.network_name.encode()
        self.service_id, vec = got.service_id, got.vector
        ck, ik = vec.ck, vec.ik
        attrs = [c.fixed(At.RAND, vec.rand), c.fixed(At.AUTN, vec.autn)]
        if v.prime:
            if not vec.primed:
                ck, ik = c.ck_ik_prime(ck, ik, nn, vec.autn[:6])
            attrs += [c.text(At.KDF_INPUT, nn), c.u16(At.KDF, c.KDF_AKA_PRIME)]
        elif s.bidding:
            attrs.append(c.u16(At.BIDDING, c.BIDDING_D))
        self.keys = c.full_keys(v, self.identity, ck, ik)
        self.rand, self.xres = vec.rand, vec.xres
        attrs.append(c.fixed(At.CHECKCODE, v.hash(bytes(self.id_msgs)) if self.id_msgs else b""))
        if s.result_ind:
            attrs.append(c.fixed(At.RESULT_IND))
        secret: list[c.Attr] = []
        self.next_pseudonym = self.next_reauth = None
        if s.pseudonyms:
            self.next_pseudonym = self._new_id(v.pseudonym, with_realm=False)
            secret.append(c.text(At.NEXT_PSEUDONYM, self.next_pseudonym.encode()))
        if s.fast_reauth and s.reauth_max > 0:
            self.next_reauth = self._new_id(v.reauth, with_realm=True)
            secret.append(c.text(At.NEXT_REAUTH_ID, self.next_reauth.encode()))
        if secret:
            iv = self.ctx.random(16)
            attrs += [c.fixed(At.IV, iv), c.fixed(At.ENCR_DATA, c.encrypt(self.keys.k_encr, iv, secret))]
        self.counter = 0
        self._on(Event.TX_CHALLENGE)
        self._count("challenges")
        return self._signed(ident, Subtype.CHALLENGE, attrs)

    def _challenge_response(self, packet: EapPacket, attrs: list[c.Attr], ident: int) -> Step | Action:
        assert self.keys is not None
        if self.variant.prime:                       # RFC 9048 §3.2: KDF negotiation carries no AT_MAC
            kdf = c.get_u16(attrs, At.KDF)
            if kdf is not None and kdf != c.KDF_AKA_PRIME:
                return self._fail(f"peer asks for KDF {kdf}, only {c.KDF_AKA_PRIME} is supported")
        if not c.verify(self.variant, self.keys.k_aut, packet.raw):
            return self._fail("AT_MAC does not verify", "bad_mac")
        res = c.get_res(attrs)
        if res is None or not hmac.compare_digest(res, self.xres):
            return self._fail("AT_RES does not match XRES", "bad_res")
        checkcode = c.first(attrs, At.CHECKCODE)
        if checkcode is not None:
            expected = self.variant.hash(bytes(self.id_msgs)) if self.id_msgs else b""
            if not hmac.compare_digest(checkcode[2:], expected):
                return self._fail("AT_CHECKCODE mismatch")
        keys = self.keys
        indicated = self.settings.result_ind and c.first(attrs, At.RESULT_IND) is not None

        def stored(_: Reply) -> Step:
            if indicated:
                return self._notify_success(ident, keys.msk, keys.emsk, "successes", reauth=False)
            return self._success(keys.msk, keys.emsk, "successes")
        return self._remember(self.counter, stored)

    def _notify_success(self, ident: int, msk: bytes, emsk: bytes, counter: str, reauth: bool) -> Step:
        """RFC 4187 §6.2: Notification "Success" (S bit, no P bit) with AT_MAC -- and after a
        re-authentication the encrypted AT_COUNTER -- before EAP-Success."""
        assert self.keys is not None
        self.pending_success = (msk, emsk, counter)
        attrs = [c.u16(At.NOTIFICATION, c.SUCCESS)]
        if reauth:
            iv = self.ctx.random(16)
            attrs += [c.fixed(At.IV, iv),
                      c.fixed(At.ENCR_DATA, c.encrypt(self.keys.k_encr, iv, [c.u16(At.COUNTER, self.counter)]))]
        self._on(Event.TX_SUCCESS_NOTIFY)
        return self._signed(ident, Subtype.NOTIFICATION, attrs)

    def _remember(self, counter: int, then: Resume) -> Step | Action:
        """Store the next pseudonym and re-authentication context (one write), then ``then``."""
        assert self.keys is not None
        expires = self._now() + self.settings.id_lifetime
        pseudonym = session = None
        if self.next_pseudonym:
            pseudonym = PseudonymRecord(self.next_pseudonym, self.imsi, self.service_id, expires)
        if self.next_reauth:
            session = ReauthSession(self.next_reauth, self.variant.type, self.imsi, self.service_id, counter,
                                    self.keys.mk, self.keys.k_aut, self.keys.k_encr, expires)
        if pseudonym is None and session is None:
            return then(None)
        return self._ask(StoreSession(pseudonym, session), then)

    def _success(self, msk: bytes, emsk: bytes, counter: str) -> Step:
        self._on(Event.SUCCEED)
        self._count(counter)
        return Success(msk, emsk, identity=self.imsi, service_id=self.service_id,
                       extra={"method": self.variant.name, "imsi": self.imsi,
                              "identity": self.identity.decode("utf-8", "replace")})

    def _sync_failure(self, attrs: list[c.Attr], ident: int) -> Step | Action:
        auts = c.first(attrs, At.AUTS)
        if auts is None or len(auts) < 14:
            return self._fail("Synchronization-Failure without AT_AUTS", "malformed")
        if self.resynced:
            return self._fail("second synchronisation failure")
        self.resynced = True
        self._count("resyncs")
        return self._challenge(ident, auts[:14])

    # -------------------------------------------------------------- fast re-authentication (§5, §9.7)
    def _reauth(self, got: ReauthSession, ident: int) -> Step | Action:
        self.imsi, self.service_id = got.imsi, got.service_id
        counter = got.counter + 1
        if counter > self.settings.reauth_max:
            return self._challenge(ident)
        self.keys = c.Keys(got.k_encr, got.k_aut, b"", b"", got.mk)
        self.counter, self.nonce_s = counter, self.ctx.random(16)
        secret = [c.u16(At.COUNTER, counter), c.fixed(At.NONCE_S, self.nonce_s)]
        self.next_pseudonym, self.next_reauth = None, None
        if counter < self.settings.reauth_max:
            self.next_reauth = self._new_id(self.variant.reauth, with_realm=True)
            secret.append(c.text(At.NEXT_REAUTH_ID, self.next_reauth.encode()))
        iv = self.ctx.random(16)
        attrs = [c.fixed(At.IV, iv), c.fixed(At.ENCR_DATA, c.encrypt(self.keys.k_encr, iv, secret))]
        if self.settings.result_ind:
            attrs.append(c.fixed(At.RESULT_IND))
        self.reauth_msk = c.reauth_keys(self.variant, self.identity, counter, self.nonce_s, self.keys.mk)
        self._on(Event.TX_REAUTH)
        return self._signed(ident, Subtype.REAUTHENTICATION, attrs)

    def _reauth_response(self, packet: EapPacket, attrs: list[c.Attr], ident: int) -> Step | Action:
        assert self.keys is not None
        if not c.verify(self.variant, self.keys.k_aut, packet.raw, self.nonce_s):
            return self._fail("AT_MAC does not verify (re-authentication)", "bad_mac")
        iv, data = c.get_fixed(attrs, At.IV, 16), c.first(attrs, At.ENCR_DATA)
        if iv is None or data is None:
            return self._fail("re-authentication response without AT_IV/AT_ENCR_DATA", "malformed")
        inner = c.decrypt(self.keys.k_encr, iv, data[2:])
        if c.get_u16(inner, At.COUNTER) != self.counter:
            return self._fail("AT_COUNTER differs", "malformed")
        if c.first(inner, At.COUNTER_TOO_SMALL) is not None:
            self._count("counter_too_small")
            return self._challenge(ident)          # RFC 4187 §5.2: fall back to full auth
        msk, emsk = self.reauth_msk
        indicated = self.settings.result_ind and c.first(attrs, At.RESULT_IND) is not None

        def stored(_: Reply) -> Step:
            if indicated:
                return self._notify_success(ident, msk, emsk, "reauths", reauth=True)
            return self._success(msk, emsk, "reauths")
        return self._remember(self.counter, stored)

    # -------------------------------------------------------------- responses
    def process(self, packet: EapPacket, ident: int) -> Step | Action:
        if self.phase in (Phase.START, Phase.SUCCESS, Phase.FAILURE) or self._resume is not None:
            return Discard("no request outstanding")
        try:
            subtype, attrs = c.decode(packet.data)
        except c.AkaFormatError as exc:
            return self._fail(f"malformed message: {exc}", "malformed")
        event = RX_EVENTS.get(subtype)
        if event is None:
            return self._fail(f"unknown subtype {subtype}", "malformed")
        self._on(event)                               # raises ProtocolError when not legal here
        try:
            return self._received(event, packet, attrs, ident)
        except c.AkaFormatError as exc:
            return self._fail(f"malformed message: {exc}", "malformed")

    def _received(self, event: Event, packet: EapPacket, attrs: list[c.Attr], ident: int) -> Step | Action:
        if event is Event.RX_CLIENT_ERROR:
            self._count("client_errors")
            return Failure(f"{self.variant.name}: peer Client-Error {c.get_u16(attrs, At.CLIENT_ERROR_CODE)}",
                           self.service_id)
        if event is Event.RX_AUTH_REJECT:
            self._count("auth_rejects")
            return Failure(f"{self.variant.name}: peer sent Authentication-Reject (AUTN)", self.service_id)
        if self.phase is Phase.FAILURE:               # the failure Notification acknowledged
            self._count("failures")
            return Failure(f"{self.variant.name}: {self.fail_reason}", self.service_id)
        if event is Event.RX_NOTIFICATION:            # the success Notification acknowledged
            assert self.keys is not None
            if not c.verify(self.variant, self.keys.k_aut, packet.raw):
                return self._fail("success Notification response without a valid AT_MAC", "bad_mac")
            return self._success(*self.pending_success)
        if event is Event.RX_IDENTITY:
            identity = c.get_text(attrs, At.IDENTITY)
            if not identity:
                return self._fail("AKA-Identity response without AT_IDENTITY", "malformed")
            self.id_msgs += packet.raw
            self.identity = identity
            return self._resolve(ident)
        if event is Event.RX_CHALLENGE:
            return self._challenge_response(packet, attrs, ident)
        if event is Event.RX_SYNC_FAILURE:
            return self._sync_failure(attrs, ident)
        return self._reauth_response(packet, attrs, ident)


registry.register(c.AKA.type, cast(MethodFactory, AkaMethod))
registry.register(c.AKA_PRIME.type, cast(MethodFactory, functools.partial(AkaMethod, variant=c.AKA_PRIME)))
# the same machines inside EAP-TTLS / PEAP when radius.eap_inner_methods lists them (RFC 5281 §11.1)
tunnel_registry.register(c.AKA.type, cast(MethodFactory, AkaMethod))
tunnel_registry.register(c.AKA_PRIME.type, cast(MethodFactory, functools.partial(AkaMethod, variant=c.AKA_PRIME)))
