"""What an EAP method asks of the world, and what it is answered (sans-I/O, FreeRADIUS's named
sections ``load_pseudonym``, ``load_session``, ``store_session``).

A method's step returns either a :data:`~appliance.eap.framework.Step` (an EAP-Request, success or
failure) or one of the :data:`Action` records below.  The caller -- the RADIUS worker, the Diameter
AAA application, or a test with a dict -- performs the action against the store or the HSS and
resumes the method with the reply (``method.resume(reply)``), which again gives a step or an
action.  The method itself never awaits, never reads the clock and never touches a store.

Records are the typed form of the stored identity documents (kinds :data:`PSEUDONYM_KIND` and
:data:`REAUTH_KIND`, RFC 4187 §4.1.1.7 and §5); their ``repr`` hides the keys.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..ocs.inventory import Service

PSEUDONYM_KIND = "eap_aka_pseudonym"
REAUTH_KIND = "eap_aka_reauth"


class ProtocolError(Exception):
    """The peer broke the method's protocol (an event its phase does not allow): the framework
    answers EAP-Failure (RFC 3748 §4.2) and counts it.  A bug of ours raises something else."""


@dataclass(frozen=True, slots=True)
class AkaVector:
    """RAND, AUTN, XRES, CK, IK; ``primed`` when an HSS already returned CK'/IK' (TS 29.273 §8.1.2.1)."""
    rand: bytes
    autn: bytes
    xres: bytes = field(repr=False)
    ck: bytes = field(repr=False)
    ik: bytes = field(repr=False)
    primed: bool = False


@dataclass(frozen=True, slots=True)
class PseudonymRecord:
    """A pseudonym handed out in AT_NEXT_PSEUDONYM (RFC 4187 §4.1.1.7) and who it stands for."""
    pseudonym: str
    imsi: str
    service_id: str | None
    expires: float

    def doc(self) -> dict[str, Any]:
        return {"imsi": self.imsi, "service_id": self.service_id, "expires": self.expires}

    @classmethod
    def of(cls, pseudonym: str, doc: dict[str, Any]) -> PseudonymRecord:
        return cls(pseudonym, str(doc["imsi"]), doc.get("service_id"), float(doc.get("expires", 0)))


@dataclass(frozen=True, slots=True)
class ReauthSession:
    """A fast re-authentication context (RFC 4187 §5): the next re-authentication id, the counter
    last used and the keys of the full authentication it continues."""
    reauth_id: str
    eap_type: int
    imsi: str
    service_id: str | None
    counter: int
    mk: bytes = field(repr=False)
    k_aut: bytes = field(repr=False)
    k_encr: bytes = field(repr=False)
    expires: float = 0.0

    def doc(self) -> dict[str, Any]:
        return {"type": self.eap_type, "imsi": self.imsi, "service_id": self.service_id, "counter": self.counter,
                "mk": self.mk.hex(), "k_aut": self.k_aut.hex(), "k_encr": self.k_encr.hex(),
                "expires": self.expires}

    @classmethod
    def of(cls, reauth_id: str, doc: dict[str, Any]) -> ReauthSession:
        return cls(reauth_id, int(doc.get("type", 0)), str(doc["imsi"]), doc.get("service_id"),
                   int(doc["counter"]), bytes.fromhex(doc["mk"]), bytes.fromhex(doc["k_aut"]),
                   bytes.fromhex(doc["k_encr"]), float(doc.get("expires", 0)))


# ---------------------------------------------------------------- actions (method -> caller)

@dataclass(frozen=True, slots=True)
class NeedVector:
    """An authentication vector for ``imsi`` (TS 33.102 §6.3.2): local Milenage over the stored
    K/OPc/SQN, or an HSS (SWx MAR, TS 29.273 §8.1.2.1).  ``auts`` set: resynchronise SQN first
    (TS 33.102 §6.3.5; SWx: SIP-Authorization = RAND || AUTS).  Reply: :class:`Vector` or
    :class:`NoVector`."""
    identity: str                 # the EAP identity the keys are derived from (its realm picks the HSS)
    imsi: str
    rand: bytes                   # RAND for a local vector (randomness comes from the method's context)
    prime: bool                   # EAP-AKA' (CK'/IK', RFC 9048 §3.3)
    network_name: bytes           # AT_KDF_INPUT (TS 24.302 §8.1.1)
    auts: bytes | None = field(default=None, repr=False)
    resync_rand: bytes = b""      # the RAND the AUTS answers


@dataclass(frozen=True, slots=True)
class LoadPseudonym:
    """The record of a pseudonym (FreeRADIUS ``load_pseudonym``).  Reply: :class:`PseudonymRecord` or None."""
    pseudonym: str


@dataclass(frozen=True, slots=True)
class LoadSession:
    """Take a fast re-authentication context: read and delete in one step, the id is single-use
    (RFC 4187 §5.1; FreeRADIUS ``load_session``).  Reply: :class:`ReauthSession` or None."""
    reauth_id: str


@dataclass(frozen=True, slots=True)
class StoreSession:
    """Store the next pseudonym and re-authentication context in ONE durable write (FreeRADIUS
    ``store_pseudonym`` + ``store_session``).  Reply: None."""
    pseudonym: PseudonymRecord | None
    session: ReauthSession | None


@dataclass(frozen=True, slots=True)
class FindService:
    """The subscriber's service and credentials for an identity (IMSI, MSISDN, NAI, id).
    Reply: :class:`~appliance.ocs.inventory.Service` or None."""
    identity: str


Action = NeedVector | LoadPseudonym | LoadSession | StoreSession | FindService
ACTIONS = (NeedVector, LoadPseudonym, LoadSession, StoreSession, FindService)


# ---------------------------------------------------------------- replies (caller -> method)

@dataclass(frozen=True, slots=True)
class Vector:
    service_id: str | None
    vector: AkaVector


@dataclass(frozen=True, slots=True)
class NoVector:
    """No vector: ``unknown`` subscriber / no credentials, ``bad_auts`` (MAC-S fails), ``unavailable`` (HSS)."""
    reason: str


Reply = Vector | NoVector | PseudonymRecord | ReauthSession | Service | None
