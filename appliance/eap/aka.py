"""EAP-AKA (RFC 4187) and EAP-AKA' (RFC 9048, was RFC 5448): ONE server state machine, the
variant (identity prefixes, MAC/KDF/checkcode hash) a parameter.

Full authentication (RFC 4187 §3): identity resolution with AT_ANY_ID_REQ / AT_FULLAUTH_ID_REQ /
AT_PERMANENT_ID_REQ (§4.1.5), AKA-Challenge with AT_RAND, AT_AUTN, AT_CHECKCODE, AT_MAC, the next
pseudonym and re-authentication id in AT_ENCR_DATA (§4.1.1.7, §5.1), AT_RES check, AUTS
resynchronisation (§6.3.1 / TS 33.102 §6.3.5), Authentication-Reject, Client-Error, and a
failure Notification (§6.3.1) when the subscriber cannot be served.  Fast re-authentication (§5)
with AT_COUNTER, AT_NONCE_S, AT_COUNTER_TOO_SMALL.  AKA' adds AT_KDF_INPUT / AT_KDF and CK'/IK'
(RFC 9048 §3.1-3.3); EAP-AKA may carry AT_BIDDING (RFC 9048 §4).

Pure: vectors and identity documents come through :mod:`appliance.eap.aka_vectors` interfaces,
randomness from the method context.  Keys, K, OPc, RES never reach logs.
"""
from __future__ import annotations

import functools
import hmac
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, cast

from .. import metrics
from . import aka_codec as c
from .aka_codec import At, Subtype, Variant
from .aka_vectors import (
    PSEUDONYM_KIND,
    REAUTH_KIND,
    AkaDocs,
    LookupVectors,
    MemoryDocs,
    StoreDocs,
    StoreVectors,
    VectorSource,
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
    vectors: VectorSource | None = None   # default: Milenage over the store (SQN in one transaction)
    docs: AkaDocs | None = None           # default: store documents
    clock: Callable[[], float] = time.time

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


_MEMORY_DOCS = MemoryDocs()          # used only when the lookup has no store (tests, pure drivers)


def default_vectors(ctx: MethodContext) -> VectorSource:
    store = getattr(ctx.lookup, "store", None)
    return StoreVectors(store) if store is not None else LookupVectors(ctx.lookup)


def default_docs(ctx: MethodContext) -> AkaDocs:
    store = getattr(ctx.lookup, "store", None)
    return StoreDocs(store) if store is not None else _MEMORY_DOCS


class Phase(Enum):
    START = "start"
    IDENTITY = "identity"          # AKA-Identity request outstanding
    CHALLENGE = "challenge"        # AKA-Challenge outstanding
    REAUTH = "reauth"              # AKA-Reauthentication outstanding
    NOTIFY = "notify"              # failure Notification outstanding
    SUCCESS_NOTIFY = "success_notify"   # protected success Notification outstanding (§6.2)
    DONE = "done"


TRANSITIONS: dict[Phase, frozenset[Phase]] = {
    Phase.START: frozenset({Phase.IDENTITY, Phase.CHALLENGE, Phase.REAUTH, Phase.NOTIFY, Phase.DONE}),
    Phase.IDENTITY: frozenset({Phase.IDENTITY, Phase.CHALLENGE, Phase.REAUTH, Phase.NOTIFY, Phase.DONE}),
    Phase.CHALLENGE: frozenset({Phase.CHALLENGE, Phase.SUCCESS_NOTIFY, Phase.DONE}),
    Phase.REAUTH: frozenset({Phase.CHALLENGE, Phase.SUCCESS_NOTIFY, Phase.DONE}),
    Phase.NOTIFY: frozenset({Phase.DONE}),
    Phase.SUCCESS_NOTIFY: frozenset({Phase.DONE}),
    Phase.DONE: frozenset(),
}


def _digits(s: str) -> bool:
    return s.isascii() and s.isdigit() and 5 <= len(s) <= 15


class AkaMethod:
    """Server side of one EAP-AKA or EAP-AKA' authentication (framework :class:`Method`)."""

    type = 23

    def __init__(self, ctx: MethodContext, variant: Variant = c.AKA) -> None:
        self.ctx = ctx
        self.variant = variant
        self.type = variant.type
        self.settings = AkaSettings.of(ctx.options.get("aka"))
        self.vectors = self.settings.vectors or default_vectors(ctx)
        self.docs = self.settings.docs or default_docs(ctx)
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

    # -------------------------------------------------------------- helpers
    def _to(self, new: Phase) -> None:
        if new is not self.phase and new not in TRANSITIONS[self.phase]:
            raise RuntimeError(f"illegal {self.variant.name} transition {self.phase.value} -> {new.value}")
        if new is not self.phase:
            log.debug("%s %s -> %s", self.variant.name, self.phase.value, new.value)
        self.phase = new

    def _count(self, name: str) -> None:
        metrics.inc(f"{self.prefix}.{name}")

    def _fail(self, reason: str, counter: str = "failures") -> Failure:
        self._to(Phase.DONE)
        self._count(counter)
        return Failure(f"{self.variant.name}: {reason}", self.service_id)

    def _now(self) -> float:
        return self.ctx.now() if self.ctx.now is not None else self.settings.clock()

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
    async def start(self, identity: str, ident: int) -> Step:
        self.identity = identity.encode()
        forced = ID_REQ_NAMES.get(self.settings.identity_request, 0)
        if forced:
            return self._ask_identity(forced, ident)
        return await self._resolve(ident)

    def _ask_identity(self, level: int, ident: int) -> Step:
        self._to(Phase.IDENTITY)
        self.id_level = level
        data = c.encode(Subtype.IDENTITY, [c.fixed(ID_REQ_ATTR[level])])
        self.id_msgs += self._packet(ident, data)
        self._count("identity_requests")
        return Request(data)

    async def _resolve(self, ident: int) -> Step:
        """Choose re-authentication, full authentication, or another identity request."""
        ident_s = self.identity.decode("utf-8", "replace")
        user = ident_s.split("@", 1)[0]
        v, now = self.variant, self._now()
        wanted = ANY
        if user[:1] == v.reauth and self.id_level < FULLAUTH:
            doc = await self.docs.take(REAUTH_KIND, ident_s) if self.settings.fast_reauth else None
            if doc is not None and doc.get("type") == v.type and doc.get("expires", 0) > now:
                return await self._reauth(doc, ident)
            wanted = FULLAUTH
        elif user[:1] == v.pseudonym and self.id_level < PERMANENT:
            doc = await self.docs.get(PSEUDONYM_KIND, user)
            if doc is not None and doc.get("expires", 0) > now:
                self.imsi = str(doc["imsi"])
                return await self._challenge(ident)
            wanted = PERMANENT
        elif user[:1] in (c.AKA.permanent, c.AKA_PRIME.permanent) and _digits(user[1:]):
            self.imsi = user[1:]
            return await self._challenge(ident)
        level = max(wanted, self.id_level + 1)
        if level > PERMANENT:
            return self._notify_failure(ident, "no usable identity")
        return self._ask_identity(level, ident)

    def _notify_failure(self, ident: int, reason: str) -> Step:
        """RFC 4187 §6.3.1: General Failure (P bit: before the challenge), then EAP-Failure."""
        self._to(Phase.NOTIFY)
        self.fail_reason = reason
        return Request(c.encode(Subtype.NOTIFICATION, [c.u16(At.NOTIFICATION, c.GENERAL_FAILURE)]))

    # -------------------------------------------------------------- full authentication (§3, §9.3)
    async def _challenge(self, ident: int) -> Step:
        v, s = self.variant, self.settings
        nn = s.network_name.encode()
        got = await self.vectors.vector(self.imsi, self.ctx.random(16), v.prime, nn)
        if got is None:
            self._count("unknown_users")
            return self._notify_failure(ident, "unknown subscriber or no credentials")
        self.service_id, vec = got
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
        self._to(Phase.CHALLENGE)
        self._count("challenges")
        return self._signed(ident, Subtype.CHALLENGE, attrs)

    async def _challenge_response(self, packet: EapPacket, attrs: list[c.Attr], ident: int) -> Step:
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
        await self._remember(self.counter)
        if self.settings.result_ind and c.first(attrs, At.RESULT_IND) is not None:
            return self._notify_success(ident, self.keys.msk, self.keys.emsk, "successes", reauth=False)
        return self._success(self.keys.msk, self.keys.emsk, "successes")

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
        self._to(Phase.SUCCESS_NOTIFY)
        return self._signed(ident, Subtype.NOTIFICATION, attrs)

    async def _remember(self, counter: int) -> None:
        """Store the next pseudonym and re-authentication context (keys kept in store documents)."""
        assert self.keys is not None
        expires = self._now() + self.settings.id_lifetime
        items: list[tuple[str, str, dict[str, Any]]] = []
        if self.next_pseudonym:
            items.append((PSEUDONYM_KIND, self.next_pseudonym,
                          {"imsi": self.imsi, "service_id": self.service_id, "expires": expires}))
        if self.next_reauth:
            items.append((REAUTH_KIND, self.next_reauth, {
                "type": self.variant.type, "imsi": self.imsi, "service_id": self.service_id, "counter": counter,
                "mk": self.keys.mk.hex(), "k_aut": self.keys.k_aut.hex(), "k_encr": self.keys.k_encr.hex(),
                "expires": expires}))
        if items:
            await self.docs.put_all(items)

    def _success(self, msk: bytes, emsk: bytes, counter: str) -> Step:
        self._to(Phase.DONE)
        self._count(counter)
        return Success(msk, emsk, identity=self.imsi, service_id=self.service_id,
                       extra={"method": self.variant.name, "imsi": self.imsi,
                              "identity": self.identity.decode("utf-8", "replace")})

    async def _sync_failure(self, attrs: list[c.Attr], ident: int) -> Step:
        auts = c.first(attrs, At.AUTS)
        if auts is None or len(auts) < 14:
            return self._fail("Synchronization-Failure without AT_AUTS", "malformed")
        if self.resynced:
            return self._fail("second synchronisation failure")
        self.resynced = True
        self._count("resyncs")
        if not await self.vectors.resync(self.imsi, self.rand, auts[:14]):
            return self._fail("AUTS does not verify (MAC-S)", "bad_auts")
        return await self._challenge(ident)

    # -------------------------------------------------------------- fast re-authentication (§5, §9.7)
    async def _reauth(self, doc: dict[str, Any], ident: int) -> Step:
        self.imsi, self.service_id = str(doc["imsi"]), doc.get("service_id")
        counter = int(doc["counter"]) + 1
        if counter > self.settings.reauth_max:
            return await self._challenge(ident)
        self.keys = c.Keys(bytes.fromhex(doc["k_encr"]), bytes.fromhex(doc["k_aut"]), b"", b"",
                           bytes.fromhex(doc["mk"]))
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
        self._to(Phase.REAUTH)
        return self._signed(ident, Subtype.REAUTHENTICATION, attrs)

    async def _reauth_response(self, packet: EapPacket, attrs: list[c.Attr], ident: int) -> Step:
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
            return await self._challenge(ident)          # RFC 4187 §5.2: fall back to full auth
        await self._remember(self.counter)
        if self.settings.result_ind and c.first(attrs, At.RESULT_IND) is not None:
            return self._notify_success(ident, *self.reauth_msk, "reauths", reauth=True)
        return self._success(*self.reauth_msk, "reauths")

    # -------------------------------------------------------------- responses
    async def process(self, packet: EapPacket, ident: int) -> Step:
        if self.phase in (Phase.DONE, Phase.START):
            return Discard("no request outstanding")
        try:
            subtype, attrs = c.decode(packet.data)
            return await self._dispatch(packet, subtype, attrs, ident)
        except c.AkaFormatError as exc:
            return self._fail(f"malformed message: {exc}", "malformed")

    async def _dispatch(self, packet: EapPacket, subtype: int, attrs: list[c.Attr], ident: int) -> Step:
        if subtype == Subtype.CLIENT_ERROR:
            return self._fail(f"peer Client-Error {c.get_u16(attrs, At.CLIENT_ERROR_CODE)}", "client_errors")
        phase = self.phase
        if phase is Phase.NOTIFY:
            return self._fail(self.fail_reason)
        if phase is Phase.SUCCESS_NOTIFY:
            assert self.keys is not None
            if subtype != Subtype.NOTIFICATION or not c.verify(self.variant, self.keys.k_aut, packet.raw):
                return self._fail("success Notification response without a valid AT_MAC", "bad_mac")
            return self._success(*self.pending_success)
        if phase is Phase.IDENTITY and subtype == Subtype.IDENTITY:
            identity = c.get_text(attrs, At.IDENTITY)
            if not identity:
                return self._fail("AKA-Identity response without AT_IDENTITY", "malformed")
            self.id_msgs += packet.raw
            self.identity = identity
            return await self._resolve(ident)
        if phase is Phase.CHALLENGE:
            if subtype == Subtype.CHALLENGE:
                return await self._challenge_response(packet, attrs, ident)
            if subtype == Subtype.SYNCHRONIZATION_FAILURE:
                return await self._sync_failure(attrs, ident)
            if subtype == Subtype.AUTHENTICATION_REJECT:
                return self._fail("peer sent Authentication-Reject (AUTN)", "auth_rejects")
        if phase is Phase.REAUTH and subtype == Subtype.REAUTHENTICATION:
            return await self._reauth_response(packet, attrs, ident)
        return self._fail(f"subtype {subtype} unexpected in phase {phase.value}", "malformed")


registry.register(c.AKA.type, cast(MethodFactory, AkaMethod))
registry.register(c.AKA_PRIME.type, cast(MethodFactory, functools.partial(AkaMethod, variant=c.AKA_PRIME)))
# the same machines inside EAP-TTLS / PEAP when radius.eap_inner_methods lists them (RFC 5281 §11.1)
tunnel_registry.register(c.AKA.type, cast(MethodFactory, AkaMethod))
tunnel_registry.register(c.AKA_PRIME.type, cast(MethodFactory, functools.partial(AkaMethod, variant=c.AKA_PRIME)))
