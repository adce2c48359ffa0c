"""Access-Request handling: PAP, CHAP and EAP, then authorization from the OCS core.

RFC 2865 §4.1-§4.4 (Access-Request/Accept/Reject/Challenge), §5.2 (PAP), §5.3 (CHAP,
RFC 1994), RFC 3579 §2 (EAP over RADIUS: EAP-Message, State, Message-Authenticator),
RFC 2548 §2.4.2-3 (MS-MPPE-Send/Recv-Key from the MSK, RFC 5216 §2.3 split).

Passwords are compared in constant time and never logged.  CHAP needs the clear
password (MD5 over it with the challenge), so ``Service.credentials.password`` is
stored clear: a CHAP response cannot be checked against a hash of the password.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

from .. import metrics
from ..eap import Accept, Conversation, Ignore, MethodContext, Policy, Reject, Send, StoreLookup
from ..eap.conversations import ConversationStore
from ..eap.packet import Code, EapType
from ..eap.packet import encode as eap_encode
from ..ledger import book
from ..ledger.book import Authorization
from ..ocs.passwords import pap_matches
from ..ocs.units import Unit
from ..store.eap_actions import EapActions
from . import packet as rp
from .clients import Client

log = logging.getLogger(__name__)

EAP_NAMES = {"ttls": int(EapType.TTLS), "pwd": int(EapType.PWD), "aka": int(EapType.AKA),
             "aka_prime": int(EapType.AKA_PRIME), "aka'": int(EapType.AKA_PRIME), "tls": int(EapType.TLS),
             "md5": int(EapType.MD5_CHALLENGE), "peap": int(EapType.PEAP)}
INNER_NAMES = {"mschapv2": int(EapType.MSCHAPV2), "gtc": int(EapType.GTC),      # EAP inside TTLS / PEAP
               "aka": int(EapType.AKA), "aka_prime": int(EapType.AKA_PRIME)}
METHOD_LABEL = {21: "eap-ttls", 52: "eap-pwd", 23: "eap-aka", 50: "eap-aka'", 25: "eap-peap", 13: "eap-tls"}
STATE_MAGIC = b"\x4f"                     # our State values: magic, worker index, 14 random octets


@dataclass(slots=True)
class Reply:
    code: int
    attrs: rp.Attributes
    method: str = ""
    subscriber: str | None = None
    reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    body: bytes | None = None          # ``attrs`` encoded (set by the server on first use; attrs never change)
    log: Any = None                    # the constant fields of its log record (translog.Fixed), ditto


class AuthCache:
    """Per-worker cache of PAP/CHAP lookups (identity -> Authorization) for ``radius.auth_cache_ttl`` seconds.

    A changed password or a balance that ran out takes at most the TTL to affect new Access-Requests;
    accounting always charges the live balance.  Bounded: cleared when full.
    """

    def __init__(self, ttl: float, capacity: int = 100_000) -> None:
        self.ttl, self.capacity = ttl, capacity
        self._items: dict[str, tuple[float, Authorization, dict[str, Reply], bytes | None]] = {}

    def get(self, identity: str, now: float) -> tuple[Authorization, dict[str, Reply], bytes | None] | None:
        """The authorization, its already-built accepts (per method) and the stored password, or None."""
        item = self._items.get(identity)
        if item is None or item[0] <= now:
            return None
        return item[1], item[2], item[3]

    def drop(self, identity: str | None) -> None:
        if identity is not None:
            self._items.pop(identity, None)

    def put(self, identity: str, auth: Authorization, now: float) -> None:
        if self.ttl <= 0:
            return
        if len(self._items) >= self.capacity:
            self._items.clear()
        self._items[identity] = (now + self.ttl, auth, {}, stored_password(auth))


def stored_password(auth: Authorization) -> bytes | None:
    stored = auth.service.credentials.password if auth.service is not None else None
    return stored.encode() if stored is not None else None


def authorize_read(ledger: Any, identity: str, now: int, units: tuple[Unit, ...], service_type: str,
                   service_id: str | None, timezone: str) -> tuple[Authorization, bool]:
    """``book.authorize`` in a read transaction, and whether its refusal must still be recorded
    (no usable balance, product not yet out of credit: only a write transaction may flag it)."""
    service = ledger.get_service(service_id) if service_id else None
    auth = book.authorize(ledger, identity, now, units, service_type, service, timezone)
    must_flag = not auth.allowed and auth.product_id is not None and not book.out_of_credit(ledger, auth.product_id)
    return auth, must_flag


def flag_refusal(ledger: Any, auth: Authorization, now: int) -> Authorization:
    """A refusal for no usable balance marks the product out of credit (the ledger emits the event
    the PCRF acts on, only when the state changes)."""
    if not auth.allowed and auth.product_id is not None:
        book.refused(ledger, auth.product_id, now)
    return auth


def check_eap_length(eap: bytes) -> None:
    """The reassembled EAP-Message must be exactly one EAP packet (RFC 3579 §3.1); an empty one
    (attribute length 2) is EAP-Start (§2.6.2)."""
    if not eap:
        return
    if len(eap) < 4 or int.from_bytes(eap[2:4], "big") != len(eap):
        raise rp.Malformed("EAP-Message length does not match the EAP Length field")


def method_types(names: tuple[str, ...], key: str) -> tuple[int, ...]:
    """Configured method names -> EAP Types, in order; an unknown name is a configuration error."""
    for name in names:
        if name.lower() not in EAP_NAMES:
            raise ValueError(f"{key}: unknown method {name!r}")
    return tuple(EAP_NAMES[name.lower()] for name in names)


def state_owner(state: bytes | None) -> int | None:
    """The worker index encoded in a State we issued, else None."""
    if state is not None and len(state) == 16 and state[:1] == STATE_MAGIC:
        return state[1]
    return None


def salt_pair(random: Any) -> tuple[bytes, bytes]:
    """Two distinct salts with the high bit set (RFC 2548 §2.4.2: unique per attribute)."""
    a = bytearray(random(2))
    a[0] |= 0x80
    b = bytearray(a)
    b[1] ^= 0x01
    return bytes(a), bytes(b)


class AuthHandler:
    def __init__(self, cfg: Any, store: Any, index: int, method_options: dict[str, Any] | None = None,
                 clock: Any = time.time, random: Any = os.urandom) -> None:
        self.cfg = cfg
        self.rcfg = cfg.radius
        self.store = store
        self.index = index
        self.clock = clock
        self.random = random
        self.units = tuple(Unit.parse(u) for u in self.rcfg.acct_units)
        self.timezone = cfg.charging.timezone
        by_realm = {realm.realm.lower(): method_types(realm.methods or self.rcfg.eap_methods,
                                                      f"radius.eap_realms[{realm.realm}].methods")
                    for realm in getattr(self.rcfg, "eap_realms", ())}
        self.policy = Policy(method_types(self.rcfg.eap_methods, "radius.eap_methods"), by_realm=by_realm)
        self.context = MethodContext(lookup=StoreLookup(store), random=random, now=clock,
                                     server_id=cfg.node.host, options=method_options or {},
                                     perform=EapActions(store).perform)   # vectors, pseudonyms, sessions
        # State -> (client address that started it, conversation): another client cannot continue it
        self.conversations: ConversationStore[bytes, tuple[str, Conversation]] = ConversationStore(
            self.rcfg.eap_max_conversations, float(self.rcfg.eap_timeout))
        self.cache = AuthCache(float(getattr(self.rcfg, "auth_cache_ttl", 10.0)))
        self.read = getattr(store, "read", None)     # a read path that never waits for the writer
        # the ledger role, when one runs: the one writer of the out-of-credit record too
        self.ledger: Any = None
        if getattr(getattr(cfg, "processes", None), "ledger", 0) > 0:
            from ..ledger.api import client_for
            self.ledger = client_for(cfg, store)

    def authorize_now(self, identity: str, service_id: str | None = None) -> Authorization | None:
        """The authorization from the store's read path, at once; None when it must come from a
        write transaction (no read path, the read failed, or a refusal that changes the product's
        credit state)."""
        if self.read is None:
            return None
        now = int(self.clock())
        units, stype, tz = self.units, self.rcfg.service, self.timezone
        try:
            auth, must_flag = self.read(lambda l: authorize_read(l, identity, now, units, stype, service_id, tz))
        except Exception as exc:                 # busy or unreadable: the write transaction decides
            log.debug("authorization read for %s failed: %s", identity, exc)
            return None
        return None if must_flag else auth

    async def authorize_recorded(self, identity: str, service_id: str | None, now: int) -> Authorization:
        """The authorization, its refusal for want of balance recorded (the product out of credit:
        the ledger emits the event only when the state changes).  With the ledger role running the
        record is its operation ``refused`` (this process reads, the ledger writes); else one write
        transaction of this process does both."""
        units, stype, tz = self.units, self.rcfg.service, self.timezone
        if self.ledger is not None and self.read is not None:
            try:
                auth, must_flag = self.read(lambda l: authorize_read(l, identity, now, units, stype, service_id, tz))
            except Exception as exc:             # busy or unreadable: the write transaction decides
                log.debug("authorization read for %s failed: %s", identity, exc)
            else:
                if must_flag and auth.product_id is not None:
                    try:
                        await self.ledger.call("refused", auth.product_id, now)
                    except Exception as exc:     # the refusal stands; the next one records it
                        metrics.inc("radius.auth.refusal_unrecorded")
                        log.warning("out-of-credit of %s not recorded: %s", auth.product_id, exc)
                return auth

        def authz(ledger: Any) -> Authorization:
            service = ledger.get_service(service_id) if service_id else None
            return flag_refusal(ledger, book.authorize(ledger, identity, now, units, stype, service, tz), now)
        result: Authorization = await self.store.atransact(authz)
        return result

    def _password_check(self, client: Client, req: rp.Packet) -> tuple[str, str, Any] | None:
        """(user, method, check(stored) -> bool) for PAP/CHAP; None when the request is neither."""
        user = req.text(rp.USER_NAME)
        if user is None or req.get(rp.EAP_MESSAGE) is not None:
            return None
        password = req.get(rp.USER_PASSWORD)
        if password is not None:
            clear = rp.decrypt_password(password, client.secret, req.authenticator)
            return user, "pap", lambda stored: pap_matches(clear, stored)
        chap = req.get(rp.CHAP_PASSWORD)
        if chap is not None:
            if len(chap) != 17:
                raise rp.Malformed("CHAP-Password must be 17 octets")
            challenge = req.get(rp.CHAP_CHALLENGE) or req.authenticator
            return user, "chap", lambda stored: hmac.compare_digest(
                hashlib.md5(chap[:1] + stored + challenge).digest(), chap[1:])
        return None

    # ------------------------------------------------------------------ dispatch
    async def handle(self, client: Client, req: rp.Packet) -> Reply | None:
        eap_parts = req.all(rp.EAP_MESSAGE)
        if eap_parts:
            return await self.eap(client, req, b"".join(eap_parts))
        if req.text(rp.USER_NAME) is None:
            return Reply(rp.ACCESS_REJECT, [(rp.REPLY_MESSAGE, b"User-Name missing")], reason="no User-Name")
        found = self._password_check(client, req)
        if found is None:
            return Reply(rp.ACCESS_REJECT, [(rp.REPLY_MESSAGE, b"No supported authentication")], reason="no method")
        return await self.password(req, *found)

    # ------------------------------------------------------------------ PAP / CHAP
    async def password(self, req: rp.Packet, user: str, method: str, check: Any) -> Reply:
        now = int(self.clock())
        auth = await self.authorize_recorded(user, None, now)
        self.cache.put(user, auth, self.clock())
        return self._verdict(auth, user, method, check)

    def _verdict(self, auth: Authorization, user: str, method: str, check: Any) -> Reply:
        stored = stored_password(auth)
        if stored is None or not check(stored):
            return Reply(rp.ACCESS_REJECT, [(rp.REPLY_MESSAGE, b"Authentication failed")], method,
                         auth.service.id if auth.service else None, "bad credentials")
        return self.decide(auth, method, [], user)

    def decide(self, auth: Authorization, method: str, extra_attrs: rp.Attributes, user: str | None,
               eap_id: int | None = None) -> Reply:
        """Access-Accept with session limits, or Access-Reject with a Reply-Message."""
        service_id = auth.service.id if auth.service is not None else None
        if not auth.allowed:
            attrs: rp.Attributes = [(rp.REPLY_MESSAGE, auth.reason.encode())]
            if eap_id is not None:
                attrs.append((rp.EAP_MESSAGE, eap_encode(Code.FAILURE, eap_id)))
            return Reply(rp.ACCESS_REJECT, attrs, method, service_id, auth.reason)
        attrs = list(extra_attrs)
        if user is not None:
            attrs.append((rp.USER_NAME, user.encode()[:253]))
        if service_id is not None:
            attrs.append((rp.CLASS, b"ocs:" + service_id.encode()[:240]))
        timeout = self.rcfg.session_timeout_max
        if auth.seconds is not None:
            timeout = max(1, min(timeout, auth.seconds))
        if timeout:
            attrs.append((rp.SESSION_TIMEOUT, timeout.to_bytes(4, "big")))
        if self.rcfg.acct_interim_interval:
            attrs.append((rp.ACCT_INTERIM_INTERVAL, self.rcfg.acct_interim_interval.to_bytes(4, "big")))
        return Reply(rp.ACCESS_ACCEPT, attrs, method, service_id)

    # ------------------------------------------------------------------ EAP (RFC 3579)
    def new_state(self) -> bytes:
        return STATE_MAGIC + bytes([self.index & 0xFF]) + self.random(14)

    async def eap(self, client: Client, req: rp.Packet, eap: bytes) -> Reply | None:
        now = self.clock()
        self.conversations.expire(now)
        state = req.get(rp.STATE)
        check_eap_length(eap)
        if state is not None:
            held = self.conversations.get(state, now)
            conv = held[1] if held is not None and held[0] == client.address else None
            if conv is None:
                return Reply(rp.ACCESS_REJECT, [(rp.REPLY_MESSAGE, b"EAP conversation expired"),
                                                (rp.EAP_MESSAGE, eap_encode(Code.FAILURE, eap[1] if len(eap) > 1
                                                                            else 0))],
                             "eap", reason="unknown State")
        else:
            conv = Conversation(self.policy, self.context)
            state = self.new_state()
        outcome = await conv.receive(eap)
        label = METHOD_LABEL.get(conv.method_type or 0, "eap")
        if isinstance(outcome, Send):
            self.conversations.put(state, (client.address, conv), self.clock())
            attrs = rp.split_eap(outcome.packet) + [(rp.STATE, state),
                                                     (rp.SESSION_TIMEOUT, self.rcfg.eap_timeout.to_bytes(4, "big"))]
            return Reply(rp.ACCESS_CHALLENGE, attrs, label)
        if isinstance(outcome, Ignore):
            if conv.state.value == "start":
                self.conversations.pop(state)
            return None
        self.conversations.pop(state)
        if isinstance(outcome, Reject):
            return Reply(rp.ACCESS_REJECT, rp.split_eap(outcome.packet)
                         + [(rp.REPLY_MESSAGE, b"Authentication failed")], label, outcome.service_id, outcome.reason)
        assert isinstance(outcome, Accept)
        eap_id = outcome.packet[1]
        now_i = int(self.clock())
        ident = outcome.service_id or outcome.identity

        auth = self.authorize_now(ident, outcome.service_id)
        if auth is None:
            auth = await self.authorize_recorded(ident, outcome.service_id, now_i)
        keys: rp.Attributes = []
        if len(outcome.msk) >= 64:
            s1, s2 = salt_pair(self.random)
            keys = [rp.vsa(rp.VENDOR_MICROSOFT, rp.MS_MPPE_RECV_KEY,
                           rp.encrypt_mppe_key(outcome.msk[:32], client.secret, req.authenticator, s1)),
                    rp.vsa(rp.VENDOR_MICROSOFT, rp.MS_MPPE_SEND_KEY,
                           rp.encrypt_mppe_key(outcome.msk[32:64], client.secret, req.authenticator, s2))]
        reply = self.decide(auth, label, rp.split_eap(outcome.packet) + keys, outcome.identity, eap_id)
        return reply
