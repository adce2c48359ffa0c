"""EAP-AKA / EAP-AKA' messages and keys: attribute codec (RFC 4187 §8, §10), key derivation
(RFC 4187 §7 with the FIPS 186-2 PRF; RFC 9048 §3.3-3.5 for AKA'), AT_MAC, AT_ENCR_DATA.

Pure functions; the two methods differ only by a :class:`Variant` (STYLE practice 6).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import hmac
import struct
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .packet import EapType


class Subtype(IntEnum):
    """RFC 4187 §11 (shared by AKA')."""
    CHALLENGE = 1
    AUTHENTICATION_REJECT = 2
    SYNCHRONIZATION_FAILURE = 4
    IDENTITY = 5
    NOTIFICATION = 12
    REAUTHENTICATION = 13
    CLIENT_ERROR = 14


class At(IntEnum):
    """Attribute types (RFC 4187 §11, RFC 5448 §3.1, RFC 5448 §4 AT_BIDDING)."""
    RAND = 1
    AUTN = 2
    RES = 3
    AUTS = 4
    PADDING = 6
    PERMANENT_ID_REQ = 10
    MAC = 11
    NOTIFICATION = 12
    ANY_ID_REQ = 13
    IDENTITY = 14
    FULLAUTH_ID_REQ = 17
    COUNTER = 19
    COUNTER_TOO_SMALL = 20
    NONCE_S = 21
    CLIENT_ERROR_CODE = 22
    KDF_INPUT = 23
    KDF = 24
    IV = 129
    ENCR_DATA = 130
    NEXT_PSEUDONYM = 132
    NEXT_REAUTH_ID = 133
    CHECKCODE = 134
    RESULT_IND = 135
    BIDDING = 136


KNOWN = frozenset(int(a) for a in At)

# AT_NOTIFICATION codes (RFC 4187 §10.19): S bit 0x8000 success, P bit 0x4000 "before challenge".
GENERAL_FAILURE_AFTER_AUTH = 0
TEMPORARILY_DENIED = 1026
NOT_SUBSCRIBED = 1031
GENERAL_FAILURE = 16384
SUCCESS = 32768

KDF_AKA_PRIME = 1          # RFC 5448 §3.1: the only KDF defined
BIDDING_D = 0x8000         # RFC 5448 §4: server supports EAP-AKA'


class AkaFormatError(ValueError):
    """An EAP-AKA message that breaks RFC 4187 §8.1 (answered with failure, counted)."""


@dataclass(frozen=True, slots=True)
class Variant:
    """What differs between EAP-AKA and EAP-AKA' (RFC 4187 vs RFC 9048)."""
    type: int
    name: str
    permanent: str            # identity prefixes, RFC 4187 §4.1.1.6 / RFC 9048 §3
    pseudonym: str
    reauth: str
    hash_name: str            # AT_MAC HMAC and AT_CHECKCODE hash
    k_aut_len: int

    @property
    def prime(self) -> bool:
        return self.type == EapType.AKA_PRIME

    def hash(self, data: bytes) -> bytes:
        return hashlib.new(self.hash_name, data).digest()


AKA = Variant(int(EapType.AKA), "EAP-AKA", "0", "2", "4", "sha1", 16)
AKA_PRIME = Variant(int(EapType.AKA_PRIME), "EAP-AKA'", "6", "7", "8", "sha256", 32)
VARIANTS = {v.type: v for v in (AKA, AKA_PRIME)}

Attr = tuple[int, bytes]     # (type, value after the Length octet, reserved octets included)


# ---------------------------------------------------------------- codec (RFC 4187 §8.1)

def decode(type_data: bytes) -> tuple[int, list[Attr]]:
    """Subtype and attributes of a message's Type-Data; unknown non-skippable (<128) is an error."""
    if len(type_data) < 3:
        raise AkaFormatError("shorter than Subtype + Reserved")
    subtype = type_data[0]
    attrs: list[Attr] = []
    off, end = 3, len(type_data)
    while off < end:
        if end - off < 4:
            raise AkaFormatError("truncated attribute")
        typ, units = type_data[off], type_data[off + 1]
        if units == 0:
            raise AkaFormatError("attribute length 0")
        nxt = off + 4 * units
        if nxt > end:
            raise AkaFormatError(f"attribute {typ} overruns the message")
        if typ not in KNOWN and typ < 128:
            raise AkaFormatError(f"unknown non-skippable attribute {typ}")
        attrs.append((typ, type_data[off + 2:nxt]))
        off = nxt
    return subtype, attrs


def encode(subtype: int, attrs: list[Attr]) -> bytes:
    out = bytearray((subtype, 0, 0))
    for typ, value in attrs:
        total = 2 + len(value)
        if total % 4:
            value = value + bytes(4 - total % 4)
            total = 2 + len(value)
        if total > 1020:
            raise ValueError(f"attribute {typ} too long")
        out += bytes((typ, total // 4)) + value
    return bytes(out)


def first(attrs: list[Attr], typ: int) -> bytes | None:
    for t, v in attrs:
        if t == typ:
            return v
    return None


def fixed(typ: int, data: bytes = b"") -> Attr:
    """Attributes whose value is 2 reserved octets then data (AT_RAND, AT_AUTN, AT_MAC, AT_NONCE_S, ...)."""
    return typ, b"\0\0" + data


def u16(typ: int, value: int) -> Attr:
    """AT_COUNTER, AT_NOTIFICATION, AT_CLIENT_ERROR_CODE, AT_KDF, AT_BIDDING."""
    return typ, struct.pack("!H", value)


def text(typ: int, data: bytes) -> Attr:
    """Actual Length (octets) then data padded (AT_IDENTITY, AT_NEXT_*, AT_KDF_INPUT)."""
    return typ, struct.pack("!H", len(data)) + data


def res(value: bytes) -> Attr:
    """AT_RES: RES Length in BITS (RFC 4187 §10.8)."""
    return At.RES, struct.pack("!H", len(value) * 8) + value


def get_fixed(attrs: list[Attr], typ: int, size: int) -> bytes | None:
    v = first(attrs, typ)
    if v is None:
        return None
    if len(v) < 2 + size:
        raise AkaFormatError(f"attribute {typ} too short")
    return v[2:2 + size]


def get_u16(attrs: list[Attr], typ: int) -> int | None:
    v = first(attrs, typ)
    if v is None:
        return None
    if len(v) < 2:
        raise AkaFormatError(f"attribute {typ} too short")
    return int(struct.unpack_from("!H", v)[0])


def get_all_u16(attrs: list[Attr], typ: int) -> list[int]:
    return [int(struct.unpack_from("!H", v)[0]) for t, v in attrs if t == typ and len(v) >= 2]


def get_text(attrs: list[Attr], typ: int) -> bytes | None:
    v = first(attrs, typ)
    if v is None:
        return None
    n = int(struct.unpack_from("!H", v)[0]) if len(v) >= 2 else -1
    if n < 0 or 2 + n > len(v):
        raise AkaFormatError(f"attribute {typ} actual length too long")
    return v[2:2 + n]


def get_res(attrs: list[Attr]) -> bytes | None:
    v = first(attrs, At.RES)
    if v is None:
        return None
    bits = int(struct.unpack_from("!H", v)[0]) if len(v) >= 2 else -1
    if bits < 32 or bits > 128 or bits % 8 or 2 + bits // 8 > len(v):
        raise AkaFormatError("bad AT_RES length")
    return v[2:2 + bits // 8]


# ---------------------------------------------------------------- AT_MAC (RFC 4187 §10.15, RFC 9048 §3.4)

def _mac_offset(packet: bytes) -> int:
    """Offset of the 16 MAC octets of AT_MAC in a whole EAP packet (header 5 + subtype 3)."""
    off, end = 8, len(packet)
    while off + 2 <= end:
        typ, units = packet[off], packet[off + 1]
        if units == 0:
            break
        if typ == At.MAC:
            if units != 5:
                raise AkaFormatError("AT_MAC length is not 5")
            return off + 4
        off += 4 * units
    raise AkaFormatError("no AT_MAC")


def mac(variant: Variant, k_aut: bytes, packet: bytes, extra: bytes = b"") -> bytes:
    """HMAC-SHA1-128 (AKA) / HMAC-SHA-256-128 (AKA') over the packet with AT_MAC zeroed, then ``extra``."""
    off = _mac_offset(packet)
    zeroed = packet[:off] + bytes(16) + packet[off + 16:]
    return hmac.new(k_aut, zeroed + extra, variant.hash_name).digest()[:16]


def sign(variant: Variant, k_aut: bytes, packet: bytes, extra: bytes = b"") -> bytes:
    """The packet with its AT_MAC filled in."""
    off = _mac_offset(packet)
    return packet[:off] + mac(variant, k_aut, packet, extra) + packet[off + 16:]


def verify(variant: Variant, k_aut: bytes, packet: bytes, extra: bytes = b"") -> bool:
    try:
        off = _mac_offset(packet)
    except AkaFormatError:
        return False
    return hmac.compare_digest(packet[off:off + 16], mac(variant, k_aut, packet, extra))


# ---------------------------------------------------------------- AT_ENCR_DATA (RFC 4187 §10.12)

def encrypt(k_encr: bytes, iv: bytes, attrs: list[Attr]) -> bytes:
    """AES-128-CBC over the encoded attributes, padded to 16 with AT_PADDING."""
    plain = encode(0, attrs)[3:]
    pad = -len(plain) % 16
    if pad:
        plain += bytes((At.PADDING, pad // 4)) + bytes(pad - 2)
    enc = Cipher(algorithms.AES(k_encr), modes.CBC(iv)).encryptor()
    return enc.update(plain) + enc.finalize()


def decrypt(k_encr: bytes, iv: bytes, data: bytes) -> list[Attr]:
    if not data or len(data) % 16 or len(iv) != 16:
        raise AkaFormatError("AT_ENCR_DATA not a multiple of 16 octets")
    dec = Cipher(algorithms.AES(k_encr), modes.CBC(iv)).decryptor()
    plain = dec.update(data) + dec.finalize()
    _, attrs = decode(b"\0\0\0" + plain)
    return [(t, v) for t, v in attrs if t != At.PADDING]


# ---------------------------------------------------------------- keys, EAP-AKA (RFC 4187 §7)

_H0 = (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0)
_MASK = 0xFFFFFFFF


def _g(block: bytes) -> bytes:
    """FIPS 186-2 Appendix 3.3 G(t, c): the SHA-1 compression of c zero-padded to 512 bits, no length."""
    w = list(struct.unpack("!16I", block.ljust(64, b"\0")))
    for i in range(16, 80):
        x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]
        w.append(((x << 1) | (x >> 31)) & _MASK)
    a, b, c, d, e = _H0
    for i in range(80):
        if i < 20:
            f, k = (b & c) | (~b & d), 0x5A827999
        elif i < 40:
            f, k = b ^ c ^ d, 0x6ED9EBA1
        elif i < 60:
            f, k = (b & c) | (b & d) | (c & d), 0x8F1BBCDC
        else:
            f, k = b ^ c ^ d, 0xCA62C1D6
        t = (((a << 5) | (a >> 27)) + f + e + k + w[i]) & _MASK
        a, b, c, d, e = t, a, ((b << 30) | (b >> 2)) & _MASK, c, d
    return struct.pack("!5I", *((x + y) & _MASK for x, y in zip(_H0, (a, b, c, d, e), strict=True)))


def _native_g() -> Callable[[bytes], bytes] | None:
    """G from libcrypto's SHA1_Init/SHA1_Transform (one compression, state read back), ~100x the
    pure-Python speed; None when the system library is missing (then :func:`_g` is used)."""
    try:
        name = ctypes.util.find_library("crypto")
        lib = ctypes.CDLL(name) if name else None
        init, transform = (lib.SHA1_Init, lib.SHA1_Transform) if lib is not None else (None, None)
    except (OSError, AttributeError):
        return None
    if init is None or transform is None:
        return None

    class ShaCtx(ctypes.Structure):
        _fields_ = [("h", ctypes.c_uint32 * 5), ("nl", ctypes.c_uint32), ("nh", ctypes.c_uint32),
                    ("data", ctypes.c_uint32 * 16), ("num", ctypes.c_uint)]

    def g(block: bytes) -> bytes:
        ctx = ShaCtx()
        init(ctypes.byref(ctx))
        transform(ctypes.byref(ctx), block.ljust(64, b"\0"))
        return struct.pack("!5I", *ctx.h)

    probe = bytes(range(20))
    return g if g(probe) == _g(probe) else None


_NATIVE_G = _native_g()
_G = _NATIVE_G or _g


def fips186_prf(xkey: bytes, size: int = 160) -> bytes:
    """FIPS 186-2 change notice 1 PRF with XSEED = 0 (RFC 4187 §7, Appendix A)."""
    if len(xkey) != 20:
        raise ValueError("XKEY must be 20 octets")
    key = int.from_bytes(xkey, "big")
    out = bytearray()
    while len(out) < size:
        w = _G(key.to_bytes(20, "big"))
        out += w
        key = (1 + key + int.from_bytes(w, "big")) % (1 << 160)
    return bytes(out[:size])


@dataclass(frozen=True, slots=True)
class Keys:
    """Session keys of one full authentication.  ``mk`` is MK (AKA) or K_re (AKA') for re-auth."""
    k_encr: bytes
    k_aut: bytes
    msk: bytes
    emsk: bytes
    mk: bytes

    def __repr__(self) -> str:
        return "Keys(<hidden>)"


def aka_keys(identity: bytes, ik: bytes, ck: bytes) -> Keys:
    """MK = SHA1(Identity|IK|CK); K_encr, K_aut, MSK, EMSK = PRF(MK) (RFC 4187 §7)."""
    mk = hashlib.sha1(identity + ik + ck).digest()
    x = fips186_prf(mk, 160)
    return Keys(x[0:16], x[16:32], x[32:96], x[96:160], mk)


def aka_reauth_keys(identity: bytes, counter: int, nonce_s: bytes, mk: bytes) -> tuple[bytes, bytes]:
    """XKEY' = SHA1(Identity|counter|NONCE_S|MK); MSK, EMSK = PRF(XKEY') (RFC 4187 §7)."""
    xkey = hashlib.sha1(identity + struct.pack("!H", counter) + nonce_s + mk).digest()
    x = fips186_prf(xkey, 128)
    return x[:64], x[64:128]


# ---------------------------------------------------------------- keys, EAP-AKA' (RFC 9048 §3.3-3.5)

def prf_prime(key: bytes, s: bytes, size: int) -> bytes:
    """PRF'(K, S) = T1 | T2 | ...; T1 = HMAC-SHA-256(K, S|0x01), Tn = HMAC(K, Tn-1|S|n) (RFC 9048 §3.4.1)."""
    out, t, n = bytearray(), b"", 1
    while len(out) < size:
        t = hmac.new(key, t + s + bytes((n,)), "sha256").digest()
        out += t
        n += 1
    return bytes(out[:size])


def ck_ik_prime(ck: bytes, ik: bytes, network_name: bytes, sqn_xor_ak: bytes) -> tuple[bytes, bytes]:
    """CK' | IK' = HMAC-SHA-256(CK|IK, FC=0x20 | P0=network name | L0 | P1=SQN^AK | L1) (TS 33.402 A.2)."""
    s = b"\x20" + network_name + struct.pack("!H", len(network_name)) + sqn_xor_ak + b"\x00\x06"
    out = hmac.new(ck + ik, s, "sha256").digest()
    return out[:16], out[16:]


def aka_prime_keys(identity: bytes, ck_p: bytes, ik_p: bytes) -> Keys:
    """MK = PRF'(IK'|CK', "EAP-AKA'"|Identity): K_encr 16, K_aut 32, K_re 32, MSK 64, EMSK 64 (RFC 9048 §3.3)."""
    x = prf_prime(ik_p + ck_p, b"EAP-AKA'" + identity, 208)
    return Keys(x[0:16], x[16:48], x[80:144], x[144:208], x[48:80])


def aka_prime_reauth_keys(identity: bytes, counter: int, nonce_s: bytes, k_re: bytes) -> tuple[bytes, bytes]:
    """MK = PRF'(K_re, "EAP-AKA' re-auth"|Identity|counter|NONCE_S); MSK, EMSK (RFC 9048 §3.3)."""
    x = prf_prime(k_re, b"EAP-AKA' re-auth" + identity + struct.pack("!H", counter) + nonce_s, 128)
    return x[:64], x[64:128]


def full_keys(variant: Variant, identity: bytes, ck: bytes, ik: bytes) -> Keys:
    """Keys of a full authentication; for AKA' ``ck``/``ik`` are already CK'/IK'."""
    return aka_prime_keys(identity, ck, ik) if variant.prime else aka_keys(identity, ik, ck)


def reauth_keys(variant: Variant, identity: bytes, counter: int, nonce_s: bytes, mk: bytes) -> tuple[bytes, bytes]:
    if variant.prime:
        return aka_prime_reauth_keys(identity, counter, nonce_s, mk)
    return aka_reauth_keys(identity, counter, nonce_s, mk)
