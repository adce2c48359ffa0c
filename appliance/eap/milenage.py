"""Milenage (3GPP TS 35.206) and the AuC's sequence-number management (TS 33.102 Annex C).

Pure: no I/O, randomness passed in.  The store-facing helpers (:func:`take_vector`,
:func:`resynchronise`) take a :class:`~appliance.ocs.ports.Ledger` so that reading and
advancing SQN happen in ONE store transaction (two workers never hand out the same SQN).
K and OPc are secrets: nothing here logs or formats them.
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes

if TYPE_CHECKING:  # pragma: no cover
    from ..ocs.ports import Ledger

# TS 35.206 §4.1: rotation amounts (bits) and constants c1..c5 (the default values).
_R = (64, 0, 32, 64, 96)
_C = tuple((i and (1 << (i - 1))).to_bytes(16, "big") for i in range(5))  # c1=0, c2=1, c3=2, c4=4, c5=8

SQN_MAX = (1 << 48) - 1
IND_BITS = 5  # TS 33.102 Annex C.3.2: SQN = SEQ || IND, IND 5 bits (a = 32 array entries)
AMF_RESYNC = b"\x00\x00"  # TS 33.102 §6.3.3: MAC-S is computed with a dummy AMF of all zeros


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


def _rot(x: bytes, bits: int) -> bytes:
    """Cyclic left rotation by a multiple of 8 bits (TS 35.206 §4.1 rot)."""
    n = (bits // 8) % 16
    return x[n:] + x[:n]


def _aes(k: bytes) -> CipherContext:
    if len(k) != 16:
        raise ValueError("K must be 16 bytes")
    return Cipher(algorithms.AES(k), modes.ECB()).encryptor()


def opc_from_op(k: bytes, op: bytes) -> bytes:
    """OPc = OP XOR E_K(OP) (TS 35.206 §4.1)."""
    if len(op) != 16:
        raise ValueError("OP must be 16 bytes")
    return _xor(_aes(k).update(op), op)


class Milenage:
    """The kernel functions f1, f1*, f2, f3, f4, f5, f5* for one subscriber (K, OPc)."""

    __slots__ = ("_enc", "_opc")

    def __init__(self, k: bytes, opc: bytes) -> None:
        if len(opc) != 16:
            raise ValueError("OPc must be 16 bytes")
        self._enc = _aes(k)
        self._opc = opc

    def __repr__(self) -> str:  # secrets never shown
        return "Milenage(<K, OPc>)"

    def _e(self, block: bytes) -> bytes:
        return self._enc.update(block)

    def _temp(self, rand: bytes) -> bytes:
        if len(rand) != 16:
            raise ValueError("RAND must be 16 bytes")
        return self._e(_xor(rand, self._opc))

    def f1(self, rand: bytes, sqn: bytes, amf: bytes) -> tuple[bytes, bytes]:
        """(MAC-A, MAC-S) = (f1, f1*) (TS 35.206 §4.1, OUT1)."""
        if len(sqn) != 6 or len(amf) != 2:
            raise ValueError("SQN must be 6 bytes and AMF 2 bytes")
        temp = self._temp(rand)
        in1 = sqn + amf + sqn + amf
        out1 = _xor(self._e(_xor(_xor(temp, _rot(_xor(in1, self._opc), _R[0])), _C[0])), self._opc)
        return out1[:8], out1[8:]

    def f2345(self, rand: bytes) -> tuple[bytes, bytes, bytes, bytes, bytes]:
        """(RES, CK, IK, AK, AK*) = (f2, f3, f4, f5, f5*) (TS 35.206 §4.1, OUT2..OUT5)."""
        temp = self._temp(rand)
        x = _xor(temp, self._opc)
        out = [_xor(self._e(_xor(_rot(x, _R[i]), _C[i])), self._opc) for i in (1, 2, 3, 4)]
        return out[0][8:], out[1], out[2], out[0][:6], out[3][:6]


@dataclass(frozen=True, slots=True)
class Vector:
    """An authentication vector (TS 33.102 §6.3.2): RAND, XRES, CK, IK, AUTN (+ the SQN used)."""

    rand: bytes
    xres: bytes
    ck: bytes
    ik: bytes
    autn: bytes
    sqn: int

    def __repr__(self) -> str:
        return f"Vector(rand={self.rand.hex()}, sqn={self.sqn})"


def generate(k: bytes, opc: bytes, amf: bytes, sqn: int, rand: bytes) -> Vector:
    """AV for SQN: AUTN = SQN xor AK || AMF || MAC (TS 33.102 §6.3.2)."""
    if not 0 <= sqn <= SQN_MAX:
        raise ValueError("SQN out of range")
    m = Milenage(k, opc)
    sqn_b = sqn.to_bytes(6, "big")
    mac_a, _ = m.f1(rand, sqn_b, amf)
    res, ck, ik, ak, _ = m.f2345(rand)
    return Vector(rand, res, ck, ik, _xor(sqn_b, ak) + amf + mac_a, sqn)


def auts_sqn(k: bytes, opc: bytes, rand: bytes, auts: bytes) -> int | None:
    """SQN_MS from AUTS = SQN_MS xor AK* || MAC-S, or None when MAC-S is wrong (TS 33.102 §6.3.3, §6.3.5)."""
    if len(auts) != 14:
        return None
    m = Milenage(k, opc)
    ak_s = m.f2345(rand)[4]
    sqn_ms = _xor(auts[:6], ak_s)
    mac_s = m.f1(rand, sqn_ms, AMF_RESYNC)[1]
    if not hmac.compare_digest(mac_s, auts[6:]):
        return None
    return int.from_bytes(sqn_ms, "big")


# --- TS 33.102 Annex C: SQN = SEQ || IND; the HE increments SEQ per vector, IND cycles.

def next_sqn(sqn_he: int, ind_bits: int = IND_BITS) -> int:
    """The SQN of the next vector after SQN_HE: SEQ+1, IND the next array index (Annex C.3.2, C.1.2)."""
    seq, ind = sqn_he >> ind_bits, sqn_he & ((1 << ind_bits) - 1)
    nxt = ((seq + 1) << ind_bits) | ((ind + 1) % (1 << ind_bits))
    if nxt > SQN_MAX:  # Annex C.3.1 wrap-around is an operator procedure; never reuse silently
        raise ValueError("SQN exhausted")
    return nxt


@dataclass(frozen=True, slots=True)
class Usim:
    """The USIM side of AKA (TS 33.102 §6.3.3), for tests and load clients: no SEQ window, only
    SQN > SQN_MS (the rule of hostap's software USIM)."""

    k: bytes
    opc: bytes
    sqn_ms: int = 0

    def __repr__(self) -> str:
        return f"Usim(<K, OPc>, sqn_ms={self.sqn_ms})"

    def authenticate(self, rand: bytes, autn: bytes) -> tuple[str, bytes, bytes, bytes, int]:
        """('ok', RES, CK, IK, SQN) | ('sync', AUTS, b'', b'', SQN_MS) | ('mac', b'', b'', b'', 0)."""
        m = Milenage(self.k, self.opc)
        res, ck, ik, ak, ak_s = m.f2345(rand)
        sqn_b = _xor(autn[:6], ak)
        amf = autn[6:8]
        if not hmac.compare_digest(m.f1(rand, sqn_b, amf)[0], autn[8:16]):
            return "mac", b"", b"", b"", 0
        sqn = int.from_bytes(sqn_b, "big")
        if sqn <= self.sqn_ms:
            ms = self.sqn_ms.to_bytes(6, "big")
            return "sync", _xor(ms, ak_s) + m.f1(rand, ms, AMF_RESYNC)[1], b"", b"", self.sqn_ms
        return "ok", res, ck, ik, sqn


# --- store-facing (one transaction each; the ledger is the core's port, no SQL here)

class NoCredentials(LookupError):
    """The identity is unknown, disabled, or has no K/OPc."""


def take_vector(ledger: Ledger, identity: str, rand: bytes) -> tuple[str, Vector]:
    """Next AV for a subscriber: advance SQN in the store and return (service id, vector)."""
    svc = ledger.find_service(identity)
    if svc is None or not svc.enabled or not svc.credentials.k or not svc.credentials.opc:
        raise NoCredentials(identity)
    cred = svc.credentials
    sqn = next_sqn(cred.sqn)
    ledger.set_sqn(svc.id, sqn)
    return svc.id, generate(cred.k, cred.opc, cred.amf, sqn, rand)  # type: ignore[arg-type]


def resynchronise(ledger: Ledger, identity: str, rand: bytes, auts: bytes) -> bool:
    """Verify AUTS (MAC-S) and reset SQN_HE from SQN_MS; False when MAC-S fails (TS 33.102 §6.3.5)."""
    svc = ledger.find_service(identity)
    if svc is None or not svc.credentials.k or not svc.credentials.opc:
        return False
    sqn_ms = auts_sqn(svc.credentials.k, svc.credentials.opc, rand, auts)
    if sqn_ms is None:
        return False
    ledger.set_sqn(svc.id, sqn_ms)  # SQN_HE := SQN_MS; the next vector is SEQ_MS + 1 (Annex C.3.4)
    return True
