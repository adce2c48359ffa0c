"""EAP packet codec (RFC 3748 §4, §5).

Pure: bytes in, :class:`EapPacket` out, and back.  A packet that breaks the
format raises :class:`EapFormatError` (the caller counts it and discards).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum


class Code(IntEnum):
    """RFC 3748 §4."""
    REQUEST = 1
    RESPONSE = 2
    SUCCESS = 3
    FAILURE = 4


class EapType(IntEnum):
    """RFC 3748 §5 and the IANA registry (the ones we name)."""
    IDENTITY = 1
    NOTIFICATION = 2
    NAK = 3
    MD5_CHALLENGE = 4
    GTC = 6
    TLS = 13
    SIM = 18
    TTLS = 21
    AKA = 23
    PEAP = 25
    MSCHAPV2 = 26
    TLV = 33                       # PEAPv0 EAP-TLV ([MS-PEAP] §2.2.8)
    AKA_PRIME = 50
    PWD = 52
    EXPANDED = 254
    EXPERIMENTAL = 255


HEADER = 4
MAX_LENGTH = 65535


class EapFormatError(ValueError):
    """The peer sent bytes that are not an EAP packet (RFC 3748 §4: silently discard)."""


@dataclass(frozen=True, slots=True)
class EapPacket:
    code: int
    identifier: int
    type: int | None = None        # Request/Response only
    data: bytes = b""              # Type-Data (after the Type octet)
    raw: bytes = b""               # the packet as received (methods MAC over it)

    def encode(self) -> bytes:
        return encode(self.code, self.identifier, self.type, self.data)

    @property
    def is_request(self) -> bool:
        return self.code == Code.REQUEST


def encode(code: int, identifier: int, type_: int | None = None, data: bytes = b"") -> bytes:
    """RFC 3748 §4: Code, Identifier, Length (whole packet), then Type and Type-Data."""
    if code in (Code.SUCCESS, Code.FAILURE):
        return struct.pack("!BBH", code, identifier & 0xFF, HEADER)
    if type_ is None:
        raise ValueError("a Request/Response needs a Type")
    length = HEADER + 1 + len(data)
    if length > MAX_LENGTH:
        raise ValueError("EAP packet too long")
    return struct.pack("!BBHB", code, identifier & 0xFF, length, type_) + data


def decode(raw: bytes) -> EapPacket:
    """Parse one EAP packet; trailing bytes beyond Length are padding and ignored (§4)."""
    if len(raw) < HEADER:
        raise EapFormatError("shorter than the EAP header")
    code, identifier, length = struct.unpack_from("!BBH", raw)
    if length < HEADER or length > len(raw):
        raise EapFormatError(f"bad Length {length} for {len(raw)} octets")
    raw = bytes(raw[:length])
    if code in (Code.SUCCESS, Code.FAILURE):
        if length != HEADER:
            raise EapFormatError("Success/Failure carries data")
        return EapPacket(code, identifier, None, b"", raw)
    if code not in (Code.REQUEST, Code.RESPONSE):
        raise EapFormatError(f"unknown Code {code}")
    if length < HEADER + 1:
        raise EapFormatError("Request/Response without a Type")
    return EapPacket(code, identifier, raw[4], raw[5:], raw)


def nak_types(packet: EapPacket) -> tuple[int, ...]:
    """The authentication types a legacy or expanded Nak asks for (RFC 3748 §5.3.1, §5.3.2).

    Expanded types of the IETF vendor (0) map back to their legacy numbers; other
    vendors' types are not ours and are skipped.  ``0`` means "none acceptable".
    """
    if packet.type == EapType.NAK:
        return tuple(packet.data)
    if packet.type == EapType.EXPANDED:
        data = packet.data
        if len(data) < 7 or int.from_bytes(data[0:3], "big") != 0 or int.from_bytes(data[3:7], "big") != 3:
            raise EapFormatError("expanded packet is not an expanded Nak")
        out: list[int] = []
        body = data[7:]
        if len(body) % 8:
            raise EapFormatError("expanded Nak body not a multiple of 8")
        for off in range(0, len(body), 8):
            if body[off] != EapType.EXPANDED:
                raise EapFormatError("expanded Nak entry is not type 254")
            vendor = int.from_bytes(body[off + 1:off + 4], "big")
            vtype = int.from_bytes(body[off + 4:off + 8], "big")
            if vendor == 0 and vtype < 256:
                out.append(vtype)
        return tuple(out)
    raise EapFormatError("not a Nak")
