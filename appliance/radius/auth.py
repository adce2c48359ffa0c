"""Access-Request handling: PAP, CHAP and EAP, then authorization from the OCS core.

RFC 2865 §4.1-§4.4 (Access-Request/Accept/Reject/Challenge), §5.2 (PAP), §5.3 (CHAP,
RFC 1994), RFC 3579 §2 (EAP over RADIUS: EAP-Message, State, Message-Authenticator),
RFC 2548 §2.4.2-3 (MS-MPPE-Send/Recv-Key from the MSK, RFC 5216 §2.3 split).

Passwords are compared in constant time and never logged.  CHAP needs the clear
password (MD5 over it with the challenge), so ``Service.credentials.password`` is
stored clear: a CHAP response cannot be checked against a hash of the password.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

from ..eap import Accept, Conversation, Ignore, MethodContext, Policy, Reject, Send, StoreLookup
from ..eap.conversations import ConversationStore
from ..eap.packet import Code, EapType
from ..eap.packet import encode as eap_encode
from ..ledger import book
from ..ledger.book import Authorization
from ..ocs.catalog import subscribed_offer
from ..ocs.passwords import pap_matches
from ..ocs.rating import Action, ChargeRequest, UsageItem, next_price_change
from ..ocs.units import Unit
from ..store.eap_actions import EapActions
from ..telemetry import metrics
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


FOREVER = float("inf")                   # a decision no passing time changes


class AuthCache:
    """Per-worker cache of PAP/CHAP decisions: identity -> (valid until, Authorization, built
    Access-Accepts per method, stored password).

    Exact mode (the store gives a change signal, :meth:`AuthHandler.refresh`): an entry lives until
    a change of its service or product is seen (:meth:`drop_keys`, the catalog: :meth:`clear`) or
    until the first second its decision may differ by the clock alone (``valid_until``: a bucket or
    the product starting or ending, a time-of-day price boundary).  Otherwise an entry lives at
    most ``ttl`` seconds.  Bounded: cleared when full.  ``epoch`` moves at every change seen, so
    a decision read before it is not kept (:meth:`put`'s ``epoch``).
    """

    def __init__(self, ttl: float, capacity: int = 100_000, exact: bool = False) -> None:
        self.ttl, self.capacity, self.exact = ttl, capacity, exact
        self._items: dict[str, tuple[float, Authorization, dict[str, Reply], bytes | None]] = {}
        # service / product id -> the identity cached under it, or a set of them when several
        self._by_key: dict[str, str | set[str]] = {}
        self.epoch = 0

    def get(self, identity: str, now: float) -> tuple[Authorization, dict[str, Reply], bytes | None] | None:
        """The authorization, its already-built accepts (per method) and the stored password, or None."""
        item = self._items.get(identity)
        if item is None or item[0] <= now:
            return None
        return item[1], item[2], item[3]

    def drop(self, identity: str | None) -> None:
        if identity is not None:
            self._items.pop(identity, None)

    def put(self, identity: str, auth: Authorization, now: float, until: float = FOREVER,
            epoch: int | None = None) -> None:
        """Keep ``auth`` (read at ``now``, unchanged by the clock before ``until``) unless a change
        was seen since it was read (``epoch``: :attr:`epoch` before the read)."""
        if (epoch is not None and epoch != self.epoch) or self.ttl <= 0:
            return
        if self.exact:
            if auth.service is None:             # no key a change would name: not kept
                return
        else:
            until = min(until, now + self.ttl)
        if until <= now:
            return
        if len(self._items) >= self.capacity:
            self.clear()
        self._items[identity] = (until, auth, {}, stored_password(auth))
        if self.exact:
            by_key = self._by_key
            for key in _keys(auth):
                held = by_key.get(key)
                if held is None or held == identity:    # one identity per key, the common case: no set
                    by_key[key] = identity
                elif isinstance(held, str):
                    by_key[key] = {held, identity}
                else:
                    held.add(identity)

    def drop_keys(self, keys: Any) -> None:
        """Forget every decision of these services / products (their stored data changed)."""
        items, by_key = self._items, self._by_key
        for key in keys:
            held = by_key.pop(key, None)
            if isinstance(held, str):
                items.pop(held, None)
            elif held is not None:
                for identity in held:
                    items.pop(identity, None)
        self.epoch += 1

    def clear(self) -> None:
        self._items.clear()
        self._by_key.clear()
        self.epoch += 1

    def __len__(self) -> int:
        return len(self._items)


def _keys(auth: Authorization) -> tuple[str, ...]:
    service = auth.service
    if service is None:
        return ()
    product = auth.product_id or service.product_id
    return (service.id,) if product is None or product == service.id else (service.id, product)


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


def valid_until(ledger: Any, auth: Authorization, now: int, units: tuple[Unit, ...], service_type: str,
                timezone: str) -> float:
    """The first second after ``now`` at which ``book.authorize`` could answer otherwise with the
    same stored data (the clock alone): the product's start or end, a bucket's start or end, a
    time-of-day boundary of a price of the units authorized (``next_price_change``).  FOREVER when
    none comes.  Read in the same transaction as ``auth``."""
    service = auth.service
    if service is None or not service.enabled or not service.product_id:
        return FOREVER
    product = ledger.get_product(service.product_id)
    if product is None:
        return FOREVER
    soonest = FOREVER
    for at in (product.start, product.end):
        if at is not None and now < at < soonest:
            soonest = at
    if product.status != "active":
        return soonest
    for b in ledger.buckets(product.id):
        for at in (b.start, b.end):
            if at is not None and now < at < soonest:
                soonest = at
    offer = subscribed_offer(ledger.get_offer, product.offer)
    if offer is not None:
        request = ChargeRequest("", "", Action.CHECK, service=service_type, now=now)
        for unit in set(units) | {Unit.SECONDS}:
            at = next_price_change(offer, request, UsageItem(unit), timezone)
            if at is not None and now < at < soonest:
                soonest = at
    return soonest


def read_decision(ledger: Any, identity: str, now: int, units: tuple[Unit, ...], service_type: str,
                  service_id: str | None, timezone: str) -> tuple[Authorization, bool, float]:
    """:func:`authorize_read` and the decision's :func:`valid_until`, in one read."""
    auth, must_flag = authorize_read(ledger, identity, now, units, service_type, service_id, timezone)
    return auth, must_flag, valid_until(ledger, auth, now, units, service_type, timezone)


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
        self.read = getattr(store, "read", None)     # a read path that never waits for the writer
        # the store's change signal: decisions are kept until their data changes (exact cache)
        self.changes = getattr(store, "changes", None)
        self.cache = AuthCache(float(getattr(self.rcfg, "auth_cache_ttl", 10.0)),
                               int(getattr(self.rcfg, "auth_cache_size", 1_000_000)), exact=self.changes is not None)
        self.poll_every = max(1, min(int(getattr(self.rcfg, "auth_cache_poll_ms", 100)), 10_000)) / 1000.0
        self.polled_at = -FOREVER              # monotonic time of the last look at the change signal
        self.seq = -1                          # the change sequence seen (-1: none yet)
        self.catalog_gen: int | None = None
        self._fresh: tuple[Authorization | None, float] = (None, 0.0)   # authorize_now's last decision
        # the ledger role, when one runs: the one writer of the out-of-credit record too
        self.ledger: Any = None
        if getattr(getattr(cfg, "processes", None), "ledger", 0) > 0:
            from ..ledger.api import client_for
            self.ledger = client_for(cfg, store)

    def refresh(self, now: float) -> None:
        """Look at the store's change signal when the last look is ``poll_every`` old (``now``:
        monotonic): forget the decisions of the services and products changed since, all of them
        when the catalog changed.  Called before a datagram is answered, so a request arriving
        ``poll_every`` after a commit is decided on the committed data."""
        if now - self.polled_at < self.poll_every or self.changes is None:
            return
        self.polled_at = now
        cache = self.cache
        try:
            seq, catalog, keys = self.changes(self.seq)
        except Exception as exc:                 # unknown what changed: nothing kept is trusted
            log.debug("change signal unreadable: %s", exc)
            cache.clear()
            self.seq, self.catalog_gen = -1, None
            return
        if self.seq < 0 or catalog != self.catalog_gen:
            if len(cache) or self.seq >= 0:
                cache.clear()
            self.catalog_gen = catalog
        elif keys:
            cache.drop_keys(keys)
        self.seq = seq

    async def preload(self, stop: Any = None, chunk: int = 256) -> int:
        """Fill the exact cache with every subscriber's decision (the NAI of each service), ``chunk``
        per read and per loop turn, so the worker answers meanwhile; returns how many were kept.
        The change signal is read first: a change committed after it is reported to the next look
        and drops what was read before it."""
        if self.read is None or not self.cache.exact:
            return 0
        self.polled_at = -FOREVER
        self.refresh(time.monotonic())
        names: list[str] = self.read(lambda l: l.service_nais())
        units, stype, tz = self.units, self.rcfg.service, self.timezone
        cache, kept = self.cache, 0
        for i in range(0, len(names), chunk):
            if (stop is not None and stop.is_set()) or len(cache) >= cache.capacity - chunk:
                break
            part = names[i:i + chunk]
            epoch, now = cache.epoch, int(self.clock())
            try:
                found = self.read(lambda l, part=part, now=now: [
                    read_decision(l, name, now, units, stype, None, tz) for name in part])
            except Exception as exc:             # busy: what is not loaded is read on first use
                log.debug("authorization preload stopped: %s", exc)
                break
            wall = self.clock()
            for name, (auth, must_flag, until) in zip(part, found, strict=True):
                if not must_flag:
                    cache.put(name, auth, wall, until, epoch)
                    kept += 1
            await asyncio.sleep(0)
        return kept

    def _decision(self, identity: str, service_id: str | None, now: int) -> tuple[Authorization, bool, float]:
        units, stype, tz = self.units, self.rcfg.service, self.timezone
        assert self.read is not None
        result: tuple[Authorization, bool, float] = self.read(
            lambda l: read_decision(l, identity, now, units, stype, service_id, tz))
        return result

    def authorize_now(self, identity: str, service_id: str | None = None) -> Authorization | None:
        """The authorization from the store's read path, at once; None when it must come from a
        write transaction (no read path, the read failed, or a refusal that changes the product's
        credit state).  :meth:`keep` keeps it with its validity."""
        if self.read is None:
            return None
        try:
            auth, must_flag, until = self._decision(identity, service_id, int(self.clock()))
        except Exception as exc:                 # busy or unreadable: the write transaction decides
            log.debug("authorization read for %s failed: %s", identity, exc)
            return None
        if must_flag:
            return None
        self._fresh = (auth, until)
        return auth

    def keep(self, identity: str, auth: Authorization, now: float) -> None:
        """Cache ``auth``, just returned by :meth:`authorize_now` (read in this turn: no change
        can have been seen since)."""
        fresh, until = self._fresh
        self._fresh = (None, 0.0)
        self.cache.put(identity, auth, now, until if fresh is auth else now)    # validity unknown: not kept

    async def authorize_recorded(self, identity: str, service_id: str | None, now: int) -> Authorization:
        """The authorization, its refusal for want of balance recorded (the product out of credit:
        the ledger emits the event only when the state changes).  With the ledger role running the
        record is its operation ``refused`` (this process reads, the ledger writes); else one write
        transaction of this process does both."""
        return (await self.decision_recorded(identity, service_id, now))[0]

    async def decision_recorded(self, identity: str, service_id: str | None,
                                now: int) -> tuple[Authorization, float]:
        """:meth:`authorize_recorded` and the decision's :func:`valid_until`."""
        units, stype, tz = self.units, self.rcfg.service, self.timezone
        if self.ledger is not None and self.read is not None:
            try:
                auth, must_flag, until = self._decision(identity, service_id, now)
            except Exception as exc:             # busy or unreadable: the write transaction decides
                log.debug("authorization read for %s failed: %s", identity, exc)
            else:
                if must_flag and auth.product_id is not None:
                    try:
                        await self.ledger.call("refused", auth.product_id, now)
                    except Exception as exc:     # the refusal stands; the next one records it
                        metrics.inc("radius.auth.refusal_unrecorded")
                        log.warning("out-of-credit of %s not recorded: %s", auth.product_id, exc)
                return auth, until

        def authz(ledger: Any) -> tuple[Authorization, float]:
            service = ledger.get_service(service_id) if service_id else None
            auth = flag_refusal(ledger, book.authorize(ledger, identity, now, units, stype, service, tz), now)
            return auth, valid_until(ledger, auth, now, units, stype, tz)
        result: tuple[Authorization, float] = await self.store.atransact(authz)
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
        epoch = self.cache.epoch                 # a change seen while this is read: not kept
        auth, until = await self.decision_recorded(user, None, now)
        self.cache.put(user, auth, self.clock(), until, epoch)
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
