"""The EAP authenticator, pure and transport-free (RFC 3748 §2, §4, §5, §7; RFC 3579 §2.6.2).

One :class:`Conversation` per authentication.  The transport (RADIUS EAP-Message,
Diameter EAP-Payload) hands it each EAP-Response with :meth:`Conversation.receive`
and sends back what it returns:

* :class:`Send`   -- an EAP-Request (RADIUS: Access-Challenge; Diameter: DEA 1001 multi-round),
* :class:`Accept` -- EAP-Success with the MSK/EMSK and the authenticated identity,
* :class:`Reject` -- EAP-Failure,
* :class:`Ignore` -- silently discard (RFC 3748 §4.1/§7: bad Identifier, busy, malformed).

Methods plug in by EAP Type number through a :class:`Registry`: a factory builds one
:class:`Method` object per conversation; the method gets subscriber credentials only
through the :class:`~appliance.eap.credentials.CredentialLookup` in its
:class:`MethodContext`.  Randomness and the clock come from the context too.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar, Protocol

from ..telemetry import metrics
from .credentials import CredentialLookup
from .events import ACTIONS, Action, FindService, ProtocolError, Reply
from .packet import Code, EapFormatError, EapPacket, EapType, decode, encode, nak_types

log = logging.getLogger(__name__)
# Told every outcome of every conversation while set (the per-subscriber trace sets it only while
# someone traces: appliance.trace); None otherwise, so an EAP round pays one test of a global.
observer: Callable[[Conversation, Outcome], None] | None = None

MAX_ROUNDS = 64           # bound on Request/Response rounds in one conversation


# ---------------------------------------------------------------- what a method returns

@dataclass(frozen=True, slots=True)
class Request:
    """Send an EAP-Request of the method's Type with this Type-Data."""
    data: bytes


@dataclass(frozen=True, slots=True)
class Success:
    """The method authenticated ``identity`` (the permanent/inner one) and derived keys (RFC 5247)."""
    msk: bytes
    emsk: bytes = b""
    identity: str = ""
    service_id: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Failure:
    """The method failed; ``reason`` is for logs and counters (never a secret)."""
    reason: str
    service_id: str | None = None


@dataclass(frozen=True, slots=True)
class Discard:
    """Silently discard the Response (e.g. bad integrity check); the conversation stays as it was."""
    reason: str


Step = Request | Success | Failure | Discard
STEPS = (Request, Success, Failure, Discard)

Perform = Callable[[Action], Awaitable[Reply]]
"""Performs a method's action (:mod:`appliance.eap.events`) against the store or the HSS: the
caller's side of a sans-I/O method (the RADIUS worker's, the Diameter AAA application's)."""


@dataclass
class MethodContext:
    """What a method may use: credentials, randomness, the clock, server settings."""
    lookup: CredentialLookup
    random: Callable[[int], bytes] = os.urandom
    now: Callable[[], float] | None = None
    server_id: str = "ocs.localdomain"               # e.g. EAP-pwd Server-ID, AKA' network name default
    options: Mapping[str, Any] = field(default_factory=dict)   # per-method settings (TLS context, KDF...)
    perform: Perform | None = None                   # answers the actions a method returns (None:
                                                     # only FindService, answered by ``lookup``)


class Method(Protocol):
    """One method's server side for one conversation.

    ``ident`` is the Identifier the next EAP-Request will carry (a method that MACs the
    whole packet, like EAP-AKA's AT_MAC, builds it with :func:`appliance.eap.packet.encode`).
    ``process`` gets the full decoded Response (``packet.raw`` is the octets received).
    A sans-I/O method returns a step or an :data:`~appliance.eap.events.Action`; the
    conversation has the action performed (``MethodContext.perform``) and hands the reply to
    ``resume(reply)``.  A method that still awaits its lookup returns an awaitable step.
    """
    type: ClassVar[int]

    def start(self, identity: str, ident: int) -> Step | Action | Awaitable[Step | Action]: ...

    def process(self, packet: EapPacket, ident: int) -> Step | Action | Awaitable[Step | Action]: ...


MethodFactory = Callable[[MethodContext], Method]


class Registry:
    """EAP Type number -> method factory (``registry.register(23, AkaMethod)``)."""

    def __init__(self) -> None:
        self._factories: dict[int, MethodFactory] = {}

    def register(self, type_: int, factory: MethodFactory) -> None:
        if type_ in (EapType.IDENTITY, EapType.NOTIFICATION, EapType.NAK, EapType.EXPANDED) or not 0 < type_ < 256:
            raise ValueError(f"EAP type {type_} cannot be a method")
        self._factories[type_] = factory

    def get(self, type_: int) -> MethodFactory | None:
        return self._factories.get(type_)

    def types(self) -> tuple[int, ...]:
        return tuple(self._factories)

    def __contains__(self, type_: object) -> bool:
        return type_ in self._factories


registry = Registry()
"""The process-wide registry; method modules register themselves on import."""

tunnel_registry = Registry()
"""Methods that run only inside a TLS tunnel (EAP-TTLS phase 2, RFC 5281 §11.1; PEAP phase 2):
EAP-MSCHAPv2 and EAP-GTC send credentials a passive observer could attack, so they are not offered
outside one."""


# ---------------------------------------------------------------- policy and results

IDENTITY_HINTS: dict[str, int] = {
    "0": int(EapType.AKA), "2": int(EapType.AKA), "4": int(EapType.AKA),
    "6": int(EapType.AKA_PRIME), "7": int(EapType.AKA_PRIME), "8": int(EapType.AKA_PRIME),
}
"""First character of an identity -> the method it names (TS 23.003 §14.3-14.4, RFC 4187 §4.1.1.6,
RFC 9048 §3): permanent '0'/'6', pseudonym '2'/'7', fast re-authentication '4'/'8' for AKA/AKA'."""


def default_preference(identity: str, allowed: tuple[int, ...]) -> tuple[int, ...]:
    """Order the allowed methods for an identity: a permanent, pseudonym or re-authentication
    prefix (:data:`IDENTITY_HINTS`) moves AKA or AKA' first, so the peer needs no Nak (RFC 3748
    §5.3) and fast re-authentication stays two round trips; otherwise the configured order."""
    hint = IDENTITY_HINTS.get(identity[:1])
    if hint is not None and hint in allowed:
        return (hint,) + tuple(t for t in allowed if t != hint)
    return allowed


def realm_of(identity: str) -> str:
    """The NAI realm (RFC 7542 §2.2: after the last '@'), lower-case; "" when there is none."""
    return identity.rsplit("@", 1)[1].lower() if "@" in identity else ""


@dataclass(frozen=True)
class Policy:
    methods: tuple[int, ...]                       # allowed, in order of preference
    preference: Callable[[str, tuple[int, ...]], tuple[int, ...]] = default_preference
    max_rounds: int = MAX_ROUNDS
    max_identity: int = 253                        # longest identity accepted (octets)
    by_realm: Mapping[str, tuple[int, ...]] = field(default_factory=dict)   # realm -> its allowed methods

    def allowed(self, identity: str) -> tuple[int, ...]:
        """The methods allowed for an identity: its realm's list when one is configured."""
        return self.by_realm.get(realm_of(identity), self.methods) if self.by_realm else self.methods


@dataclass(frozen=True, slots=True)
class Send:
    packet: bytes
    identifier: int


@dataclass(frozen=True, slots=True)
class Accept:
    packet: bytes
    msk: bytes
    emsk: bytes
    identity: str
    method: int
    service_id: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reject:
    packet: bytes
    reason: str
    method: int | None = None
    service_id: str | None = None


@dataclass(frozen=True, slots=True)
class Ignore:
    reason: str


Outcome = Send | Accept | Reject | Ignore


class State(Enum):
    START = "start"              # nothing sent yet
    IDENTITY = "identity"        # Request/Identity sent
    PROPOSED = "proposed"        # a method's first Request sent; a Nak is still legal
    METHOD = "method"            # the method is running
    SUCCESS = "success"
    FAILURE = "failure"


TRANSITIONS: dict[State, frozenset[State]] = {
    State.START: frozenset({State.IDENTITY, State.PROPOSED, State.FAILURE}),
    State.IDENTITY: frozenset({State.PROPOSED, State.FAILURE}),
    State.PROPOSED: frozenset({State.PROPOSED, State.METHOD, State.SUCCESS, State.FAILURE}),
    State.METHOD: frozenset({State.METHOD, State.SUCCESS, State.FAILURE}),
    State.SUCCESS: frozenset(),
    State.FAILURE: frozenset(),
}


class Conversation:
    """The authenticator side of one EAP conversation (RFC 3748 §2 pass-through-free server)."""

    def __init__(self, policy: Policy, context: MethodContext, methods: Registry | None = None,
                 first_identifier: int | None = None) -> None:
        self.policy = policy
        self.context = context
        self.registry = methods if methods is not None else registry
        self.state = State.START
        self.identity: str | None = None
        self.method: Method | None = None
        self.method_type: int | None = None
        self.tried: list[int] = []
        self.allowed = policy.methods
        self.rounds = 0
        self.busy = False
        self.identifier = context.random(1)[0] if first_identifier is None else first_identifier & 0xFF
        self.last_request: bytes | None = None

    # -- state machine
    def _to(self, new: State) -> None:
        if new is not self.state and new not in TRANSITIONS[self.state]:
            raise RuntimeError(f"illegal EAP transition {self.state.value} -> {new.value}")
        if new is not self.state:
            log.debug("eap %s -> %s", self.state.value, new.value)
        self.state = new

    @property
    def finished(self) -> bool:
        return self.state in (State.SUCCESS, State.FAILURE)

    def _next_id(self) -> int:
        self.identifier = (self.identifier + 1) & 0xFF
        return self.identifier

    def _send(self, type_: int, data: bytes, ident: int) -> Send:
        self.rounds += 1
        packet = encode(Code.REQUEST, ident, type_, data)
        self.last_request = packet
        return Send(packet, ident)

    def _reject(self, reason: str, ident: int, service_id: str | None = None) -> Reject:
        self._to(State.FAILURE)
        return Reject(encode(Code.FAILURE, ident), reason, self.method_type, service_id)

    # -- entry points
    def start(self) -> Send:
        """EAP-Start (RFC 3579 §2.6.2, or the first DER without EAP-Payload): ask for the identity."""
        self._to(State.IDENTITY)
        return self._send(EapType.IDENTITY, b"", self._next_id())

    async def receive(self, raw: bytes) -> Outcome:
        """Handle one EAP-Response; ``raw`` empty means EAP-Start."""
        if self.finished:
            return Ignore("conversation finished")
        if self.busy:
            return Ignore("previous response still being processed")
        if not raw:
            if self.state is State.START:
                return self.start()
            return Ignore("EAP-Start in the middle of a conversation")
        try:
            packet = decode(raw)
        except EapFormatError as exc:
            return Ignore(f"malformed EAP: {exc}")
        if packet.code != Code.RESPONSE:
            return Ignore(f"EAP code {packet.code} is not a Response")
        if self.state is not State.START and packet.identifier != self.identifier:
            return Ignore("Identifier does not match the outstanding Request")
        if self.rounds >= self.policy.max_rounds:
            return self._reject("too many rounds", packet.identifier)
        self.busy = True
        try:
            outcome = await self._dispatch(packet)
        except ProtocolError as exc:          # the peer broke the method's protocol: EAP-Failure
            metrics.inc("eap.protocol_errors")
            outcome = self._reject(str(exc), packet.identifier, getattr(self.method, "service_id", None))
        finally:
            self.busy = False
        if observer is not None:
            try:
                observer(self, outcome)
            except Exception:           # an observer must never break authentication
                log.exception("EAP observer failed")
        return outcome

    async def _dispatch(self, packet: EapPacket) -> Outcome:
        if self.state is State.START:
            self.identifier = packet.identifier      # the pass-through NAS ran the Identity round
        if self.state in (State.START, State.IDENTITY):
            if packet.type != EapType.IDENTITY:
                if self.state is State.START:
                    return self.start()
                return self._reject(f"expected Identity, got type {packet.type}", packet.identifier)
            return await self._on_identity(packet)
        if packet.type == EapType.IDENTITY:
            return Ignore("duplicate Identity response")
        if packet.type in (EapType.NAK, EapType.EXPANDED) and self.state is State.PROPOSED and (
                packet.type == EapType.NAK or packet.data[:7] == bytes(6) + b"\x03"):
            try:
                wanted = nak_types(packet)
            except EapFormatError as exc:
                return self._reject(f"bad Nak: {exc}", packet.identifier)
            return await self._on_nak(wanted, packet.identifier)
        if packet.type != self.method_type:
            return self._reject(f"response type {packet.type} during method {self.method_type}", packet.identifier)
        assert self.method is not None
        if self.state is State.PROPOSED:
            self._to(State.METHOD)                   # the peer took the method: no Nak any more
        step = await self._run(self.method.process(packet, (self.identifier + 1) & 0xFF))
        return self._step(step, packet.identifier)

    async def _on_identity(self, packet: EapPacket) -> Outcome:
        data = packet.data
        if len(data) > self.policy.max_identity:
            return self._reject("identity too long", packet.identifier)
        try:
            identity = data.decode("utf-8")
        except UnicodeDecodeError:
            return self._reject("identity not UTF-8", packet.identifier)
        self.identity = identity
        self.allowed = self.policy.allowed(identity)
        choices = [t for t in self.policy.preference(identity, self.allowed) if t in self.registry]
        if not choices:
            return self._reject("no method configured", packet.identifier)
        return await self._propose(choices[0], packet.identifier)

    async def _on_nak(self, wanted: tuple[int, ...], ident: int) -> Outcome:
        """RFC 3748 §5.3.1: take the first type the peer wants that we allow and have not tried."""
        for type_ in wanted:
            if type_ and type_ in self.allowed and type_ in self.registry and type_ not in self.tried:
                return await self._propose(type_, ident)
        return self._reject("Nak: no acceptable method", ident)

    async def _propose(self, type_: int, ident: int) -> Outcome:
        factory = self.registry.get(type_)
        assert factory is not None
        self.tried.append(type_)
        self.method = factory(self.context)
        self.method_type = type_
        self._to(State.PROPOSED)
        assert self.identity is not None
        step = await self._run(self.method.start(self.identity, (self.identifier + 1) & 0xFF))
        return self._step(step, ident)

    async def _look_up(self, action: Action) -> Reply:
        assert isinstance(action, FindService)
        return await self.context.lookup.find_service(action.identity)

    async def _run(self, got: Step | Action | Awaitable[Step | Action]) -> Step:
        """The method's next step, its actions performed on the way (bounded by the method)."""
        if not isinstance(got, STEPS + ACTIONS):
            got = await got
        while not isinstance(got, STEPS):
            perform = self.context.perform
            if perform is None:
                if not isinstance(got, FindService):
                    raise RuntimeError(f"EAP type {self.method_type} returned {type(got).__name__}: "
                                       "MethodContext.perform is not set")
                perform = self._look_up                # credentials alone: the context's lookup
            resume: Callable[[Reply], Step | Action] | None = getattr(self.method, "resume", None)
            if resume is None:
                raise RuntimeError(f"EAP type {self.method_type} returned an action but cannot resume")
            got = resume(await perform(got))
        return got

    def _step(self, step: Step, ident: int) -> Outcome:
        if isinstance(step, Request):
            assert self.method_type is not None
            return self._send(self.method_type, step.data, self._next_id())
        if isinstance(step, Success):
            self._to(State.SUCCESS)
            assert self.method_type is not None
            return Accept(encode(Code.SUCCESS, ident), step.msk, step.emsk, step.identity or self.identity or "",
                          self.method_type, step.service_id, step.extra)
        if isinstance(step, Failure):
            return self._reject(step.reason, ident, step.service_id)
        return Ignore(step.reason)
