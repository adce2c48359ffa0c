"""RADIUS wire codec and the shared-secret cryptography, hand-written for the hot path.

RFC 2865 §3 (packet), §5 (attributes), §5.2 (User-Password hiding); RFC 2866 §3
(Accounting Request Authenticator); RFC 3579 §3.2 (Message-Authenticator);
RFC 2548 §2.4.2 (MS-MPPE key encryption); RFC 5176 §2.3/§3.3 (CoA/Disconnect).
Pure functions over bytes; malformed input raises :class:`Malformed`.
"""
from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


class _Md5(Protocol):
    """An MD5 state (hashlib's or CPython's built-in one)."""

    def copy(self) -> _Md5: ...
    def update(self, data: bytes, /) -> None: ...
    def digest(self) -> bytes: ...


try:            # CPython's built-in MD5: ~3x cheaper per call than OpenSSL 3's EVP for inputs this short
    from _md5 import md5 as _builtin_md5
except ImportError:                                     # pragma: no cover - other interpreters
    _builtin_md5 = hashlib.md5
_md5: Callable[[bytes], _Md5] = _builtin_md5

# codes (RFC 2865 §3, RFC 2866 §3, RFC 5176 §2, RFC 5997)
ACCESS_REQUEST, ACCESS_ACCEPT, ACCESS_REJECT = 1, 2, 3
ACCOUNTING_REQUEST, ACCOUNTING_RESPONSE = 4, 5
ACCESS_CHALLENGE = 11
STATUS_SERVER = 12
DISCONNECT_REQUEST, DISCONNECT_ACK, DISCONNECT_NAK = 40, 41, 42
COA_REQUEST, COA_ACK, COA_NAK = 43, 44, 45

# attributes
USER_NAME, USER_PASSWORD, CHAP_PASSWORD, NAS_IP_ADDRESS, NAS_PORT = 1, 2, 3, 4, 5
SERVICE_TYPE, FRAMED_IP_ADDRESS = 6, 8
REPLY_MESSAGE, STATE, CLASS, VENDOR_SPECIFIC, SESSION_TIMEOUT = 18, 24, 25, 26, 27
IDLE_TIMEOUT, TERMINATION_ACTION = 28, 29
CALLED_STATION_ID, CALLING_STATION_ID, NAS_IDENTIFIER, PROXY_STATE = 30, 31, 32, 33
ACCT_STATUS_TYPE, ACCT_DELAY_TIME, ACCT_INPUT_OCTETS, ACCT_OUTPUT_OCTETS = 40, 41, 42, 43
ACCT_SESSION_ID, ACCT_SESSION_TIME = 44, 46
ACCT_INPUT_PACKETS, ACCT_OUTPUT_PACKETS, ACCT_TERMINATE_CAUSE = 47, 48, 49
ACCT_INPUT_GIGAWORDS, ACCT_OUTPUT_GIGAWORDS, EVENT_TIMESTAMP = 52, 53, 55
CHAP_CHALLENGE, NAS_PORT_TYPE = 60, 61
EAP_MESSAGE, MESSAGE_AUTHENTICATOR = 79, 80
ACCT_INTERIM_INTERVAL = 85
NAS_IPV6_ADDRESS = 95
ERROR_CAUSE = 101
FRAMED_IPV6_ADDRESS = 168

VENDOR_MICROSOFT = 311
MS_CHAP_CHALLENGE, MS_MPPE_SEND_KEY, MS_MPPE_RECV_KEY = 11, 16, 17
MS_CHAP2_RESPONSE, MS_CHAP2_SUCCESS = 25, 26

# Acct-Status-Type values (RFC 2866 §5.1)
ACCT_START, ACCT_STOP, ACCT_INTERIM, ACCT_ON, ACCT_OFF = 1, 2, 3, 7, 8

HEADER = 20
MAX_PACKET = 4096          # RFC 2865 §3: Length at most 4096
ZERO16 = bytes(16)

Attributes = list[tuple[int, bytes]]


class Malformed(ValueError):
    """Bytes that are not a RADIUS packet (RFC 2865 §3: silently discarded and counted)."""


@dataclass(slots=True)
class Packet:
    code: int
    identifier: int
    authenticator: bytes
    attributes: Attributes
    raw: bytes
    first: dict[int, bytes] = field(default_factory=dict)     # type -> first value (O(1) ``get``)
    ma_offset: int = -1       # offset of the only Message-Authenticator attribute; -1 none, -2 several

    def get(self, type_: int) -> bytes | None:
        return self.first.get(type_)

    def all(self, type_: int) -> list[bytes]:
        if type_ not in self.first:
            return []
        return [v for t, v in self.attributes if t == type_]

    def integer(self, type_: int) -> int | None:
        v = self.get(type_)
        if v is None or len(v) != 4:
            return None
        return int.from_bytes(v, "big")

    def text(self, type_: int) -> str | None:
        v = self.get(type_)
        return None if v is None else v.decode("utf-8", "replace")


def parse_header(data: bytes) -> tuple[int, int, int]:
    """(code, identifier, length); raises when the datagram cannot hold the packet (RFC 2865 §3)."""
    if len(data) < HEADER:
        raise Malformed("shorter than the RADIUS header")
    code, ident, length = struct.unpack_from("!BBH", data)
    if length < HEADER or length > MAX_PACKET:
        raise Malformed(f"Length {length} out of range")
    if length > len(data):
        raise Malformed(f"Length {length} exceeds the datagram ({len(data)})")
    return code, ident, length


def decode(data: bytes) -> Packet:
    """Parse a packet; octets past Length are padding and ignored (RFC 2865 §3)."""
    code, ident, length = parse_header(data)
    raw = bytes(data[:length])
    attrs: Attributes = []
    first: dict[int, bytes] = {}
    ma_offset = -1
    pos = HEADER
    while pos < length:
        if pos + 2 > length:
            raise Malformed("truncated attribute header")
        t = raw[pos]
        alen = raw[pos + 1]
        if alen < 2 or pos + alen > length:
            raise Malformed(f"attribute {t} has bad length {alen}")
        value = raw[pos + 2:pos + alen]
        attrs.append((t, value))
        if t not in first:
            first[t] = value
            if t == MESSAGE_AUTHENTICATOR:
                ma_offset = pos
        elif t == MESSAGE_AUTHENTICATOR:
            ma_offset = -2
        pos += alen
    return Packet(code, ident, raw[4:20], attrs, raw, first, ma_offset)


def scan(raw: bytes, length: int) -> tuple[dict[int, bytes], int]:
    """The first value of each attribute type and the Message-Authenticator's offset (-1 none, -2
    several), without building a :class:`Packet` (an Access-Request's hot path).  The same checks as
    :func:`decode` (RFC 2865 §5: every attribute within Length, no Length under 2)."""
    first: dict[int, bytes] = {}
    ma_offset = -1
    pos = HEADER
    while pos < length:
        if pos + 2 > length:
            raise Malformed("truncated attribute header")
        t = raw[pos]
        end = pos + raw[pos + 1]
        if end < pos + 2 or end > length:
            raise Malformed(f"attribute {t} has bad length {raw[pos + 1]}")
        if t not in first:
            first[t] = raw[pos + 2:end]
            if t == MESSAGE_AUTHENTICATOR:
                ma_offset = pos
        elif t == MESSAGE_AUTHENTICATOR:
            ma_offset = -2
        pos = end
    return first, ma_offset


def message_authenticator_ok(raw: bytes, at: int, secret: bytes) -> bool:
    """The Message-Authenticator at offset ``at`` of an Access-Request / Status-Server (RFC 3579 §3.2)."""
    if raw[at + 1] != 18:
        return False
    want = hmac_md5(secret, raw[:at + 2] + ZERO16 + raw[at + 18:])
    return hmac.compare_digest(want, raw[at + 2:at + 18])


def encode_attributes(attrs: Attributes) -> bytes:
    out = bytearray()
    for t, v in attrs:
        if len(v) > 253:
            raise ValueError(f"attribute {t} value longer than 253 octets")
        out += bytes((t, len(v) + 2)) + v
    return bytes(out)


def vsa(vendor: int, vtype: int, value: bytes) -> tuple[int, bytes]:
    """Vendor-Specific (RFC 2865 §5.26) with the common one-octet type/length sub-format."""
    return VENDOR_SPECIFIC, struct.pack("!IBB", vendor, vtype, len(value) + 2) + value


def vendor_attributes(packet: Packet) -> list[tuple[int, int, bytes]]:
    """(vendor, type, value) of each well-formed VSA sub-attribute; odd ones are skipped."""
    out = []
    for value in packet.all(VENDOR_SPECIFIC):
        if len(value) < 6:
            continue
        vendor = int.from_bytes(value[:4], "big")
        pos = 4
        while pos + 2 <= len(value):
            vt, vl = value[pos], value[pos + 1]
            if vl < 2 or pos + vl > len(value):
                break
            out.append((vendor, vt, value[pos + 2:pos + vl]))
            pos += vl
    return out


# ---------------------------------------------------------------------------- authenticators

_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))
_HMAC_KEYS: dict[bytes, tuple[_Md5, _Md5]] = {}


def hmac_md5(key: bytes, data: bytes) -> bytes:
    """HMAC-MD5 (RFC 2104); the padded inner/outer MD5 states are computed once per key (shared
    secret) and copied per message."""
    pads = _HMAC_KEYS.get(key)
    if pads is None:
        if len(_HMAC_KEYS) >= 1024:
            _HMAC_KEYS.clear()
        k = (_md5(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
        pads = _HMAC_KEYS[key] = (_md5(k.translate(_IPAD)), _md5(k.translate(_OPAD)))
    inner = pads[0].copy()
    inner.update(data)
    outer = pads[1].copy()
    outer.update(inner.digest())
    return outer.digest()


def message_authenticator(raw: bytes, secret: bytes, authenticator: bytes | None = None) -> bytes:
    """HMAC-MD5 over the packet with the MA value zeroed (RFC 3579 §3.2).

    ``authenticator`` replaces the Authenticator field (responses use the Request
    Authenticator; Accounting/CoA/Disconnect requests use 16 zero octets).
    """
    buf = bytearray(raw)
    if authenticator is not None:
        buf[4:20] = authenticator
    pos = HEADER
    while pos + 2 <= len(buf):
        t, alen = buf[pos], buf[pos + 1]
        if alen < 2:
            break
        if t == MESSAGE_AUTHENTICATOR and alen == 18:
            buf[pos + 2:pos + 18] = ZERO16
        pos += alen
    return hmac_md5(secret, bytes(buf))


def verify_message_authenticator(packet: Packet, secret: bytes, zero_authenticator: bool = False,
                                 authenticator: bytes | None = None) -> bool | None:
    """True/False when present (exactly one, 16 octets); None when absent.

    ``authenticator`` replaces the Authenticator field, as in :func:`message_authenticator`
    (a CoA/Disconnect answer's uses the request's, RFC 5176 §3.3)."""
    at = packet.ma_offset
    if at == -1:
        return None
    raw = packet.raw
    if at < 0 or raw[at + 1] != 18:
        return False
    if zero_authenticator:
        authenticator = ZERO16
    head = raw[:20] if authenticator is None else raw[:4] + authenticator
    want = hmac_md5(secret, head + raw[20:at + 2] + ZERO16 + raw[at + 18:])
    return hmac.compare_digest(want, raw[at + 2:at + 18])


def request_authenticator_ok(raw: bytes, secret: bytes) -> bool:
    """Accounting-Request / CoA / Disconnect: MD5(Code+Id+Length+16 zeros+Attributes+Secret) (RFC 2866 §3)."""
    want = _md5(raw[:4] + ZERO16 + raw[20:] + secret).digest()
    return hmac.compare_digest(want, raw[4:20])


def encode_response(code: int, request: Packet, attrs: Attributes, secret: bytes,
                    with_message_authenticator: bool = True) -> bytes:
    """A reply with Message-Authenticator FIRST (BlastRADIUS mitigation) and the Response
    Authenticator MD5(Code+Id+Length+RequestAuth+Attributes+Secret) (RFC 2865 §3)."""
    return encode_response_body(code, request, encode_attributes(attrs), secret, with_message_authenticator)


_MA_HEAD = bytes((MESSAGE_AUTHENTICATOR, 18))
_MA_EMPTY = _MA_HEAD + ZERO16


def encode_response_body(code: int, request: Packet, body: bytes, secret: bytes,
                         with_message_authenticator: bool = True) -> bytes:
    """:func:`encode_response` from already encoded attributes (a cached reply encodes them once)."""
    if not with_message_authenticator:
        length = HEADER + len(body)
        if length > MAX_PACKET:
            raise ValueError("reply longer than 4096 octets")
        head = struct.pack("!BBH", code, request.identifier, length)
        return head + _md5(head + request.authenticator + body + secret).digest() + body
    return encode_answer(code, request.identifier, request.authenticator, body, secret)


def encode_answer(code: int, identifier: int, request_authenticator: bytes, body: bytes, secret: bytes) -> bytes:
    """An answer with Message-Authenticator first, from encoded attributes (RFC 2865 §3, RFC 3579
    §3.2): the header, HMAC-MD5 and Response Authenticator computed on bytes."""
    length = HEADER + 18 + len(body)
    if length > MAX_PACKET:
        raise ValueError("reply longer than 4096 octets")
    head = bytes((code, identifier, length >> 8, length & 0xFF)) + request_authenticator
    tail = _MA_HEAD + hmac_md5(secret, head + _MA_EMPTY + body) + body
    return head[:4] + _md5(head + tail + secret).digest() + tail


def encode_request(code: int, identifier: int, attrs: Attributes, secret: bytes,
                   with_message_authenticator: bool = True) -> bytes:
    """Accounting/CoA/Disconnect request: MA over zero Authenticator, then the Request
    Authenticator over the final attributes (RFC 5176 §2.3, §3.3)."""
    body = encode_attributes(attrs)
    if with_message_authenticator:
        body = bytes((MESSAGE_AUTHENTICATOR, 18)) + ZERO16 + body
    head = struct.pack("!BBH", code, identifier, HEADER + len(body))
    if with_message_authenticator:
        mac = hmac_md5(secret, head + ZERO16 + body)
        body = body[:2] + mac + body[18:]
    auth = _md5(head + ZERO16 + body + secret).digest()
    return head + auth + body


def response_authenticator_ok(raw: bytes, request_authenticator: bytes, secret: bytes) -> bool:
    want = _md5(raw[:4] + request_authenticator + raw[20:] + secret).digest()
    return hmac.compare_digest(want, raw[4:20])


# ---------------------------------------------------------------------------- attribute hiding

def decrypt_password(value: bytes, secret: bytes, authenticator: bytes) -> bytes:
    """User-Password (RFC 2865 §5.2); raises Malformed on a bad length. NULs at the end are padding."""
    if not value or len(value) % 16 or len(value) > 128:
        raise Malformed("User-Password length not a multiple of 16 in 16..128")
    out = bytearray()
    last = authenticator
    for i in range(0, len(value), 16):
        block = value[i:i + 16]
        key = _md5(secret + last).digest()
        out += _xor16(block, key)
        last = block
    return bytes(out).rstrip(b"\0")


def _xor16(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(16, "big")


def encrypt_password(password: bytes, secret: bytes, authenticator: bytes) -> bytes:
    """The client side of RFC 2865 §5.2 (tests, CoA)."""
    padded = password + bytes(-len(password) % 16 or (16 if not password else 0))
    out = bytearray()
    last = authenticator
    for i in range(0, len(padded), 16):
        key = _md5(secret + last).digest()
        block = _xor16(padded[i:i + 16], key)
        out += block
        last = block
    return bytes(out)


def encrypt_mppe_key(key: bytes, secret: bytes, request_authenticator: bytes, salt: bytes) -> bytes:
    """MS-MPPE-Send/Recv-Key value (RFC 2548 §2.4.2, §2.4.3): Salt (high bit set) + encrypted
    (Key-Length || Key || padding), b(1) = MD5(S + R + A), b(i) = MD5(S + c(i-1))."""
    if len(salt) != 2 or not salt[0] & 0x80:
        raise ValueError("salt must be 2 octets with the high bit set")
    plain = bytes([len(key)]) + key
    plain += bytes(-len(plain) % 16)
    out = bytearray()
    prev = request_authenticator + salt
    for i in range(0, len(plain), 16):
        b = _md5(secret + prev).digest()
        c = _xor16(plain[i:i + 16], b)
        out += c
        prev = c
    return salt + bytes(out)


def decrypt_mppe_key(value: bytes, secret: bytes, request_authenticator: bytes) -> bytes:
    salt, cipher = value[:2], value[2:]
    if len(cipher) % 16 or not cipher:
        raise Malformed("MPPE key length")
    plain = bytearray()
    prev = request_authenticator + salt
    for i in range(0, len(cipher), 16):
        b = _md5(secret + prev).digest()
        plain += _xor16(cipher[i:i + 16], b)
        prev = cipher[i:i + 16]
    n = plain[0]
    if n > len(plain) - 1:
        raise Malformed("MPPE key length octet")
    return bytes(plain[1:1 + n])


def split_eap(eap: bytes) -> Attributes:
    """EAP-Message attributes of at most 253 octets each (RFC 3579 §3.1)."""
    return [(EAP_MESSAGE, eap[i:i + 253]) for i in range(0, len(eap), 253)] or [(EAP_MESSAGE, b"")]
