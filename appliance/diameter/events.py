"""Events the sans-I/O peer connection hands to its transport (small frozen dataclasses)."""
from __future__ import annotations

from dataclasses import dataclass, field

from .codec import Message


@dataclass(frozen=True, slots=True)
class PeerInfo:
    """What a peer told us in its CER/CEA (RFC 6733 §5.3)."""

    host: str
    realm: str
    addresses: tuple[str, ...] = ()
    product: str = ""
    vendor_id: int = 0
    origin_state_id: int | None = None
    auth_apps: frozenset[int] = field(default_factory=frozenset)
    acct_apps: frozenset[int] = field(default_factory=frozenset)
    common_apps: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class PeerOpened:
    peer: PeerInfo


@dataclass(frozen=True, slots=True)
class RequestReceived:
    message: Message


@dataclass(frozen=True, slots=True)
class AnswerReceived:
    message: Message


@dataclass(frozen=True, slots=True)
class PeerClosed:
    reason: str
    disconnect_cause: int | None = None   # from a DPR we received (2: do not want to talk to you)


@dataclass(frozen=True, slots=True)
class MessageRejected:
    """A message was malformed; an error answer was queued when one could be built.

    ``request_app``/``command``: set when the message was a request dropped without any
    answer (a framing error, a request before the capabilities exchange).
    """

    result_code: int
    reason: str
    request_app: int | None = None
    command: int = 0


Event = PeerOpened | RequestReceived | AnswerReceived | PeerClosed | MessageRejected
