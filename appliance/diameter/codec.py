"""Diameter message codec (RFC 6733 §3, §4): ``struct`` on the hot path, types from python-diameter.

python-diameter's AVP dictionary (``diameter.message.avp.dictionary``) supplies codes,
vendors, names, types and the M-bit; at import we flatten it into small tables keyed on
``(code, vendor_id)`` (an AVP is identified by both, RFC 6733 §4.1).  Decoding keeps each
AVP's payload as bytes and converts on access; encoding uses a cached header prefix per
(code, vendor) so building an AVP is one ``struct.pack`` and a concatenation.

Two kinds of failure: :class:`FramingError` (the stream cannot be delimited: close the
connection) and :class:`DiameterError` (a protocol error answered with a Result-Code and,
where the RFC asks, a Failed-AVP, RFC 6733 §7.5).
"""
from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from diameter.message.avp import avp as _pd_avp
from diameter.message.avp.dictionary import AVP_DICTIONARY, AVP_VENDOR_DICTIONARY

#: True when this module runs compiled (setup.py builds it with Cython from this same file)
COMPILED = not __file__.endswith(".py")

VERSION = 1
HEADER_LEN = 20
MAX_MESSAGE = 1 << 20          # bound on one message; larger frames close the connection

# Command flags (RFC 6733 §3)
FLAG_R, FLAG_P, FLAG_E, FLAG_T = 0x80, 0x40, 0x20, 0x10
# AVP flags (RFC 6733 §4.1)
AVP_V, AVP_M, AVP_P = 0x80, 0x40, 0x20

# AVP data types
OCTETS, UTF8, U32, U64, I32, I64, F32, F64, GROUPED, ADDRESS, TIME, ENUM = range(12)
_TYPE_OF = {
    _pd_avp.AvpOctetString: OCTETS, _pd_avp.AvpUtf8String: UTF8, _pd_avp.AvpUnsigned32: U32,
    _pd_avp.AvpUnsigned64: U64, _pd_avp.AvpInteger32: I32, _pd_avp.AvpInteger64: I64,
    _pd_avp.AvpFloat32: F32, _pd_avp.AvpFloat64: F64, _pd_avp.AvpGrouped: GROUPED,
    _pd_avp.AvpAddress: ADDRESS, _pd_avp.AvpTime: TIME, _pd_avp.AvpEnumerated: ENUM,
}
FIXED_SIZE = {U32: 4, U64: 8, I32: 4, I64: 8, F32: 4, F64: 8, TIME: 4, ENUM: 4}
_PACK = {U32: struct.Struct("!I"), U64: struct.Struct("!Q"), I32: struct.Struct("!i"),
         I64: struct.Struct("!q"), F32: struct.Struct("!f"), F64: struct.Struct("!d"),
         TIME: struct.Struct("!I"), ENUM: struct.Struct("!i")}
NTP_OFFSET = 2_208_988_800     # seconds from 1900-01-01 to 1970-01-01 (RFC 6733 §4.3.1 Time)

# Result codes used by the node (RFC 6733 §7.1)
SUCCESS = 2001
LIMITED_SUCCESS = 2002
COMMAND_UNSUPPORTED = 3001
UNABLE_TO_DELIVER = 3002
REALM_NOT_SERVED = 3003
TOO_BUSY = 3004
APPLICATION_UNSUPPORTED = 3007
INVALID_HDR_BITS = 3008
INVALID_AVP_BITS = 3009
UNKNOWN_PEER = 3010
AVP_UNSUPPORTED = 5001
UNKNOWN_SESSION_ID = 5002
INVALID_AVP_VALUE = 5004
MISSING_AVP = 5005
NO_COMMON_APPLICATION = 5010
UNSUPPORTED_VERSION = 5011
UNABLE_TO_COMPLY = 5012
INVALID_AVP_LENGTH = 5014
INVALID_MESSAGE_LENGTH = 5015

# Base AVP codes used by the node
SESSION_ID, ORIGIN_HOST, ORIGIN_REALM, DESTINATION_HOST, DESTINATION_REALM = 263, 264, 296, 293, 283
RESULT_CODE, EXPERIMENTAL_RESULT, EXPERIMENTAL_RESULT_CODE = 268, 297, 298
FAILED_AVP, ERROR_MESSAGE, ERROR_REPORTING_HOST = 279, 281, 294
AUTH_APPLICATION_ID, ACCT_APPLICATION_ID, VENDOR_SPECIFIC_APPLICATION_ID = 258, 259, 260
VENDOR_ID, SUPPORTED_VENDOR_ID, HOST_IP_ADDRESS, PRODUCT_NAME, FIRMWARE_REVISION = 266, 265, 257, 269, 267
ORIGIN_STATE_ID, DISCONNECT_CAUSE, INBAND_SECURITY_ID, ROUTE_RECORD, PROXY_INFO = 278, 273, 299, 282, 284
RELAY_APPLICATION = 0xFFFFFFFF
VENDOR_3GPP = 10415

# Commands handled by the base protocol
CMD_CE, CMD_DW, CMD_DP = 257, 280, 282


class FramingError(Exception):
    """The byte stream cannot be split into messages: the connection must be closed."""


class DiameterError(Exception):
    """A protocol error answered with ``result_code`` (RFC 6733 §7); E-bit for 3xxx."""

    def __init__(self, result_code: int, failed_avp: Avp | bytes | None = None,
                 message: str = "", avps: list[bytes] | None = None) -> None:
        super().__init__(f"{result_code} {message}".strip())
        self.result_code = result_code
        self.failed_avp = failed_avp
        self.message = message
        self.avps = avps or []          # application AVPs the error answer must carry (e.g. CC-Request-Type)


# ---- dictionary tables (built once) -------------------------------------------------------------

TYPES: dict[tuple[int, int], int] = {}
NAMES: dict[tuple[int, int], str] = {}
MANDATORY: dict[tuple[int, int], bool] = {}
BY_NAME: dict[str, tuple[int, int]] = {}


def _load_dictionary() -> None:
    tables: list[tuple[int, dict[int, Any]]] = [(0, AVP_DICTIONARY)]
    tables += [(v, d) for v, d in AVP_VENDOR_DICTIONARY.items() if v]
    for vendor, table in tables:
        for code, info in table.items():
            key = (code, int(info.get("vendor", vendor)))
            TYPES[key] = _TYPE_OF.get(info["type"], OCTETS)
            NAMES[key] = info["name"]
            MANDATORY[key] = bool(info.get("mandatory", False))
            BY_NAME.setdefault(info["name"], key)


_load_dictionary()
# Corrections where 3GPP says otherwise than the packaged dictionary.
# Service-Information, IMS-Information, Calling/Called-Party, Role-Of-Node, Access-Network-Information
_3GPP_M = (873, 874, 831, 832, 829, 1263)
for _code in _3GPP_M:
    if (_code, VENDOR_3GPP) in TYPES:
        MANDATORY[(_code, VENDOR_3GPP)] = True


def missing_avp(code: int, vendor: int = 0, message: str | None = None) -> DiameterError:
    """5005 DIAMETER_MISSING_AVP: Failed-AVP is the missing AVP with an empty (or zero) value
    (RFC 6733 §7.5); the Error-Message names it."""
    stub = encode_avp(code, 0 if TYPES.get((code, vendor)) in FIXED_SIZE else b"", vendor)
    return DiameterError(MISSING_AVP, stub, message or f"{NAMES.get((code, vendor), code)} missing")


def key_of(name: str) -> tuple[int, int]:
    """``(code, vendor)`` of an AVP by dictionary name (e.g. ``"Rating-Group"``)."""
    return BY_NAME[name]


# ---- AVPs ---------------------------------------------------------------------------------------

class Avp:
    """One AVP: code, vendor, flags and its payload, a window on the message it came in.

    Decoding builds no copy of the payload: ``data`` is cut from the message on access and the
    integer accessors read the message in place.  A Grouped AVP known to the dictionary has its
    lengths checked at decode (RFC 6733 §4.1, §4.4); its children are built on the first
    :meth:`group` (or ``children``) only.
    """

    __slots__ = ("_buf", "_end", "_grouped", "_kids", "_start", "code", "flags", "vendor")

    def __init__(self, code: int, vendor: int, flags: int, data: bytes, raw: bytes = b"",
                 children: list[Avp] | None = None) -> None:
        self.code, self.vendor, self.flags = code, vendor, flags
        self._buf = bytes(data)
        self._start = 0
        self._end = len(self._buf)
        self._kids = children
        self._grouped = children is not None

    @property
    def data(self) -> bytes:
        """The payload, without padding."""
        if self._start == 0 and self._end == len(self._buf):
            return self._buf
        return self._buf[self._start:self._end]

    @property
    def children(self) -> list[Avp] | None:
        """The AVPs inside a Grouped AVP the dictionary knows (None for any other AVP)."""
        if self._kids is None and self._grouped:
            self._kids = _split(self._buf, self._start, self._end, 1, _TRUSTED)
        return self._kids

    @property
    def raw(self) -> bytes:
        """The AVP as received, without padding (header rebuilt from the decoded fields)."""
        data = self.data
        if self.flags & AVP_V:
            return _HDR_V.pack(self.code, self.flags << 24 | (12 + len(data)), self.vendor) + data
        return _HDR_AVP.pack(self.code, self.flags << 24 | (8 + len(data))) + data

    def __repr__(self) -> str:
        name = NAMES.get((self.code, self.vendor), "?")
        return f"Avp({name} {self.code}/{self.vendor} flags={self.flags:#x} len={self._end - self._start})"

    @property
    def mandatory(self) -> bool:
        return bool(self.flags & AVP_M)

    @property
    def key(self) -> tuple[int, int]:
        """``(code, vendor)``: equal to its :class:`appliance.diameter.avps.AvpKey`."""
        return (self.code, self.vendor)

    def _fixed(self, n: int) -> bytes:
        if self._end - self._start != n:
            raise DiameterError(INVALID_AVP_LENGTH, self, "bad length")
        return self.data

    def _uint(self, n: int) -> int:
        """The payload as an unsigned integer of ``n`` octets (4 or 8), read in place."""
        buf = self._buf
        pos = self._start
        if self._end - pos != n:
            raise DiameterError(INVALID_AVP_LENGTH, self, "bad length")
        if not COMPILED:
            return int.from_bytes(buf[pos:pos + n], "big")
        v = 0
        for i in range(pos, pos + n):
            v = (v << 8) | buf[i]
        return v

    @property
    def size(self) -> int:
        """Octets of payload (padding excluded)."""
        return self._end - self._start

    @property
    def uint(self) -> int:
        """The payload as an unsigned big-endian integer of its own length (checked at decode for the
        dictionary's fixed-size types): ``int.from_bytes(data, "big")`` without the copy."""
        if not COMPILED:
            return int.from_bytes(self._buf[self._start:self._end], "big")
        n = self._end - self._start
        return self._uint(n) if n <= 8 else int.from_bytes(self.data, "big")

    @property
    def u32(self) -> int:
        return self._uint(4)

    @property
    def u64(self) -> int:
        return self._uint(8)

    @property
    def i32(self) -> int:
        v = self._uint(4)
        return v - (1 << 32) if v >= 1 << 31 else v

    @property
    def i64(self) -> int:
        v = self._uint(8)
        return v - (1 << 64) if v >= 1 << 63 else v

    @property
    def text(self) -> str:
        try:
            return self._buf[self._start:self._end].decode("utf-8")
        except UnicodeDecodeError:
            raise DiameterError(INVALID_AVP_VALUE, self, "not UTF-8") from None

    @property
    def time(self) -> int:
        """Unix seconds (RFC 6733 §4.3.1 Time is NTP seconds)."""
        return self.u32 - NTP_OFFSET

    @property
    def address(self) -> str:
        d = self.data
        if len(d) == 6 and d[:2] == b"\x00\x01":
            return str(ipaddress.IPv4Address(d[2:]))
        if len(d) == 18 and d[:2] == b"\x00\x02":
            return str(ipaddress.IPv6Address(d[2:]))
        raise DiameterError(INVALID_AVP_VALUE, self, "bad address")

    def group(self) -> list[Avp]:
        """The AVPs inside a Grouped AVP (split and length-checked on the first call)."""
        kids = self._kids
        if kids is None:
            kids = self._kids = _split(self._buf, self._start, self._end, 1, _TRUSTED if self._grouped else _BUILD)
        return kids

    def get(self, key: tuple[int, int]) -> Avp | None:
        """The first AVP ``key`` (an :class:`appliance.diameter.avps.AvpKey`) inside this Grouped AVP."""
        code, vendor = key
        for a in self.group():
            if a.code == code and a.vendor == vendor:
                return a
        return None

    def get_all(self, key: tuple[int, int]) -> list[Avp]:
        """Every AVP ``key`` inside this Grouped AVP, in order."""
        code, vendor = key
        return [a for a in self.group() if a.code == code and a.vendor == vendor]

    @property
    def value(self) -> Any:
        """The payload converted by the dictionary type (for dumps and tests)."""
        t = TYPES.get((self.code, self.vendor), OCTETS)
        if t == GROUPED:
            return list(self.group())
        if t in _PACK:
            v = _PACK[t].unpack(self._fixed(FIXED_SIZE[t]))[0]
            return v - NTP_OFFSET if t == TIME else v
        if t == UTF8:
            return self.text
        if t == ADDRESS:
            return self.address
        return self.data


_HDR_AVP = struct.Struct("!II")
_HDR_V = struct.Struct("!III")
_unpack_hdr = _HDR_AVP.unpack_from
_unpack_u32 = struct.Struct("!I").unpack_from
_SIZE_OF: dict[tuple[int, int], int] = {k: FIXED_SIZE[t] for k, t in TYPES.items() if t in FIXED_SIZE}
_GROUPED = frozenset(k for k, t in TYPES.items() if t == GROUPED) - {(FAILED_AVP, 0)}  # Failed-AVP: not checked
# One lookup per AVP in _split: fixed size (> 0), or 0 for a Grouped AVP whose inner lengths are checked;
# vendor-0 AVPs keyed by code alone (no tuple built per AVP).
_KIND: dict[tuple[int, int], int] = {**_SIZE_OF, **dict.fromkeys(_GROUPED, 0)}
_KIND0: dict[int, int] = {code: v for (code, vendor), v in _KIND.items() if vendor == 0}
_KNOWN0 = frozenset(code for code, vendor in TYPES if vendor == 0)     # the dictionary's vendor-0 codes


def iter_avps(buf: bytes, start: int, end: int, depth: int = 0) -> Iterator[Avp]:
    """Iterate over the AVPs of ``buf[start:end]`` (see :func:`split_avps`)."""
    return iter(split_avps(buf, start, end, depth))


def split_avps(buf: bytes, start: int, end: int, depth: int = 0) -> list[Avp]:
    """Split ``buf[start:end]`` into AVPs, checking lengths (RFC 6733 §4.1; 5014 on error).

    The lengths inside known Grouped AVPs are checked at every depth, but their children are
    built only when read; Failed-AVP is not checked because it carries the peer's broken AVPs
    back to it.
    """
    if not isinstance(buf, bytes):
        buf = bytes(buf)
    return _split(buf, start, end, depth, _BUILD)


def _word(buf: bytes, pos: int) -> int:
    """The 32-bit big-endian word at ``pos``."""
    return (buf[pos] << 24) | (buf[pos + 1] << 16) | (buf[pos + 2] << 8) | buf[pos + 3]


# _split modes: check only (no objects); build this level and check every level below; build this
# level of a Grouped AVP whose levels were all checked when its message was decoded.
_CHECK, _BUILD, _TRUSTED = 0, 1, 2


def _split(buf: bytes, start: int, end: int, depth: int, mode: int) -> list[Avp]:
    """One pass over the AVPs of ``buf[start:end]`` (RFC 6733 §4.1): every length checked, the inner
    AVPs of known Grouped AVPs checked recursively (no objects) unless ``mode`` is ``_TRUSTED``;
    unless ``mode`` is ``_CHECK``, one :class:`Avp` per AVP of this level, pointing into ``buf``."""
    out: list[Avp] = []
    pos = start
    kind0 = _KIND0
    kind_v = _KIND
    while pos < end:
        if end - pos < 8:
            stub = bytearray(bytes(buf[pos:end]).ljust(8, b"\0"))
            stub[4] &= ~AVP_V & 0xFF     # vendor id missing: report the 8-octet header form
            raise DiameterError(INVALID_AVP_LENGTH, _failed_stub(bytes(stub), 0, 8, stub[4]),
                                "truncated AVP header")
        if COMPILED:                     # C reads of the header octets
            code = _word(buf, pos)
            flags = buf[pos + 4]
            length = (buf[pos + 5] << 16) | (buf[pos + 6] << 8) | buf[pos + 7]
        else:                            # interpreted: one struct call is cheaper than eight indexings
            code, length = _unpack_hdr(buf, pos)
            flags = length >> 24
            length &= 0xFFFFFF
        if flags & AVP_V:
            if length < 12 or pos + length > end:
                raise DiameterError(INVALID_AVP_LENGTH, _failed_stub(buf, pos, 12, flags), "bad AVP length")
            vendor = _word(buf, pos + 8) if COMPILED else _unpack_u32(buf, pos + 8)[0]
            if vendor == 0:
                raise DiameterError(INVALID_AVP_BITS, bytes(buf[pos:pos + length]), "V-bit with vendor 0")
            hdr = 12
            kind = kind_v.get((code, vendor), -1)
        else:
            if length < 8 or pos + length > end:
                raise DiameterError(INVALID_AVP_LENGTH, _failed_stub(buf, pos, 8, flags), "bad AVP length")
            vendor = 0
            hdr = 8
            kind = kind0.get(code, -1)
        if kind > 0:
            if length - hdr != kind:
                raise DiameterError(INVALID_AVP_LENGTH, _failed_stub(buf, pos, hdr, flags), "bad length for type")
        elif kind == 0 and mode != _TRUSTED:
            if depth > 16:
                raise DiameterError(INVALID_AVP_VALUE, bytes(buf[pos:pos + length]), "grouped AVPs nested too deep")
            _split(buf, pos + hdr, pos + length, depth + 1, _CHECK)
        if mode != _CHECK:
            a = Avp.__new__(Avp)
            a.code = code
            a.vendor = vendor
            a.flags = flags
            a._buf = buf
            a._start = pos + hdr
            a._end = pos + length
            a._kids = None
            a._grouped = kind == 0
            out.append(a)
        pos += (length + 3) & ~3
    return out


def unknown_mandatory(avps: list[Avp]) -> Avp | None:
    """The first AVP with the M-bit that the dictionary does not know, at any depth of the known
    Grouped AVPs (RFC 6733 §4.1: answered 5001 with it in Failed-AVP)."""
    known0 = _KNOWN0
    for a in avps:
        if a.flags & AVP_M and (a.code not in known0 if a.vendor == 0 else (a.code, a.vendor) not in TYPES):
            return a
        kids = a.children
        if kids:
            inner = unknown_mandatory(kids)
            if inner is not None:
                return inner
    return None


def check_request(avps: list[Avp], realm: str, host: str, realm_b: bytes, host_b: bytes) -> None:
    """The node's checks of a request's AVPs, in AVP order (RFC 6733 §6.1, §7.1): a mandatory AVP
    the dictionary does not know, at any depth of a known Grouped AVP (5001, Failed-AVP), a
    Destination-Realm not ours (3003), a Destination-Host not ours (3002).  ``realm_b``/``host_b``:
    ``realm``/``host`` in UTF-8 (a name compared as octets first, decoded only when they differ)."""
    known0 = _KNOWN0
    for a in avps:
        vendor = a.vendor
        if a.flags & AVP_M and (a.code not in known0 if vendor == 0 else (a.code, vendor) not in TYPES):
            raise DiameterError(AVP_UNSUPPORTED, a, "mandatory AVP not understood")
        kids = a.children
        if kids:
            inner = unknown_mandatory(kids)
            if inner is not None:
                raise DiameterError(AVP_UNSUPPORTED, inner, "mandatory AVP not understood inside a Grouped AVP")
        if vendor == 0:
            code = a.code
            if code == DESTINATION_REALM:
                data = a.data
                if data != realm_b and data.decode(errors="replace") != realm:
                    raise DiameterError(REALM_NOT_SERVED, None, "realm not served")
            elif code == DESTINATION_HOST:
                data = a.data
                if data != host_b and data.decode(errors="replace") != host:
                    raise DiameterError(UNABLE_TO_DELIVER, None, "not this host")


def answer_result(answer: bytes) -> int | None:
    """Result-Code of an encoded answer, or the Experimental-Result-Code of its Experimental-Result
    (RFC 6733 §7.1, §7.6): a scan of the top-level AVPs, None when neither is there."""
    pos, end = HEADER_LEN, len(answer)
    while pos + 8 <= end:
        code = _word(answer, pos)
        length = (answer[pos + 5] << 16) | (answer[pos + 6] << 8) | answer[pos + 7]
        if length < 8:
            return None
        if code == RESULT_CODE and not answer[pos + 4] & AVP_V and length == 12:
            return _word(answer, pos + 8)
        if code == EXPERIMENTAL_RESULT:
            for inner in iter_avps(answer, pos + 8, pos + length):
                if inner.code == EXPERIMENTAL_RESULT_CODE and len(inner.data) == 4:
                    return inner.u32
        pos += (length + 3) & ~3
    return None


def _failed_stub(buf: bytes, pos: int, hdr: int, flags: int) -> bytes:
    """Failed-AVP content for a bad length (RFC 6733 §7.1.5 5014): the AVP header and a zero
    payload of the type's minimum length (empty for Grouped and strings)."""
    head = bytearray(bytes(buf[pos:pos + hdr]).ljust(hdr, b"\0"))
    code = int.from_bytes(head[0:4], "big")
    vendor = int.from_bytes(head[8:12], "big") if hdr == 12 else 0
    if hdr == 12 and vendor == 0:          # vendor id cut off: report it as a plain AVP header
        head, hdr = head[:8], 8
        head[4] &= ~AVP_V & 0xFF
    size = FIXED_SIZE.get(TYPES.get((code, vendor), OCTETS), 0)
    head[5:8] = (hdr + size).to_bytes(3, "big")
    return bytes(head) + b"\0" * size


def _prefix(code: int, vendor: int, flags: int, payload_len: int) -> bytes:
    hdr = 12 if vendor else 8
    length = hdr + payload_len
    out = code.to_bytes(4, "big") + bytes((flags,)) + length.to_bytes(3, "big")
    return out + vendor.to_bytes(4, "big") if vendor else out


_PREFIX_CACHE: dict[tuple[int, int, int], bytes] = {}
# (code, vendor) -> (header prefix, pack) for fixed-size types with the dictionary's M-bit (Time excluded)
_FAST: dict[tuple[int, int], tuple[bytes, Callable[..., bytes]]] = {
    k: (_prefix(k[0], k[1], (AVP_V if k[1] else 0) | (AVP_M if MANDATORY.get(k) else 0), _PACK[t].size),
        _PACK[t].pack)
    for k, t in TYPES.items() if t in _PACK and t != TIME}


def encode_avp(code: int, value: Any, vendor: int = 0, mandatory: bool | None = None,
               type_: int | None = None) -> bytes:
    """One AVP on the wire, typed by the dictionary (or ``type_``); padded to 4 octets.

    ``value``: int for integer types and Time (Unix seconds), str/bytes for strings, an
    address string for Address, and for Grouped an iterable of already-encoded AVPs.
    """
    key = (code, vendor)
    if mandatory is None and type_ is None:
        fast = _FAST.get(key)
        if fast is not None:                       # fixed-size type, dictionary M-bit: prefix + pack
            return fast[0] + fast[1](value)
    t = TYPES.get(key, OCTETS) if type_ is None else type_
    m = MANDATORY.get(key, False) if mandatory is None else mandatory
    flags = (AVP_V if vendor else 0) | (AVP_M if m else 0)
    packer = _PACK.get(t)
    if packer is not None:
        ck = (code, vendor, flags)
        prefix = _PREFIX_CACHE.get(ck)
        if prefix is None:
            prefix = _PREFIX_CACHE[ck] = _prefix(code, vendor, flags, packer.size)
        return prefix + packer.pack(value + NTP_OFFSET if t == TIME else value)
    if t == GROUPED:
        data = b"".join(value)
    elif t == ADDRESS:
        ip = ipaddress.ip_address(value)
        data = (b"\x00\x01" if ip.version == 4 else b"\x00\x02") + ip.packed
    elif isinstance(value, str):
        data = value.encode("utf-8")
    else:
        data = bytes(value)
    pad = -len(data) & 3
    return _prefix(code, vendor, flags, len(data)) + data + b"\0" * pad


def avp(name: str, value: Any, mandatory: bool | None = None) -> bytes:
    """``encode_avp`` by dictionary name: ``avp("Rating-Group", 32)``."""
    code, vendor = BY_NAME[name]
    return encode_avp(code, value, vendor, mandatory)


# ---- messages -----------------------------------------------------------------------------------

_HDR = struct.Struct("!B3sB3sIII")


class Message:
    """A Diameter message: header fields and its top-level AVPs (RFC 6733 §3)."""

    __slots__ = ("app_id", "avps", "code", "e2e", "flags", "hbh", "raw")

    def __init__(self, code: int, app_id: int, flags: int = FLAG_R, hbh: int = 0, e2e: int = 0,
                 avps: list[Avp] | None = None, raw: bytes = b"") -> None:
        self.flags, self.code, self.app_id, self.hbh, self.e2e = flags, code, app_id, hbh, e2e
        self.avps = avps if avps is not None else []
        self.raw = raw

    def __repr__(self) -> str:
        kind = "REQ" if self.flags & FLAG_R else "ANS"
        return f"Message({kind} cmd={self.code} app={self.app_id} hbh={self.hbh:#x} avps={len(self.avps)})"

    @property
    def is_request(self) -> bool:
        return bool(self.flags & FLAG_R)

    @property
    def is_error(self) -> bool:
        return bool(self.flags & FLAG_E)

    @property
    def retransmitted(self) -> bool:
        return bool(self.flags & FLAG_T)

    def find(self, code: int, vendor: int = 0) -> Avp | None:
        for a in self.avps:
            if a.code == code and a.vendor == vendor:
                return a
        return None

    def find_all(self, code: int, vendor: int = 0) -> list[Avp]:
        return [a for a in self.avps if a.code == code and a.vendor == vendor]

    def get(self, key: tuple[int, int]) -> Avp | None:
        """The first top-level AVP ``key`` (an :class:`appliance.diameter.avps.AvpKey`)."""
        return self.find(key[0], key[1])

    def get_all(self, key: tuple[int, int]) -> list[Avp]:
        """Every top-level AVP ``key``, in order."""
        return self.find_all(key[0], key[1])

    def text(self, code: int, vendor: int = 0) -> str | None:
        a = self.find(code, vendor)
        return a.text if a is not None else None

    def u32(self, code: int, vendor: int = 0) -> int | None:
        a = self.find(code, vendor)
        return a.u32 if a is not None else None

    @property
    def session_id(self) -> str | None:
        a = self.avps[0] if self.avps and self.avps[0].code == SESSION_ID else self.find(SESSION_ID)
        return a.text if a is not None else None

    @property
    def result_code(self) -> int | None:
        rc = self.u32(RESULT_CODE)
        if rc is None:
            er = self.find(EXPERIMENTAL_RESULT)
            if er is not None:
                for inner in er.group():
                    if inner.code == EXPERIMENTAL_RESULT_CODE:
                        return inner.u32
        return rc


def frame_length(buf: bytes | bytearray | memoryview, pos: int = 0) -> int | None:
    """Length of the message starting at ``pos``, None if fewer than 4 octets are there.

    Raises :class:`FramingError` when the length cannot delimit a message (RFC 6733 §3:
    at least the 20-octet header; our bound :data:`MAX_MESSAGE`).
    """
    if len(buf) - pos < 4:
        return None
    length = int.from_bytes(buf[pos + 1:pos + 4], "big")
    if length < HEADER_LEN or length > MAX_MESSAGE:
        raise FramingError(f"message length {length}")
    return length


def decode_header(data: bytes) -> tuple[int, int, int, int, int, int]:
    """``(version, flags, code, app_id, hbh, e2e)`` of a framed message."""
    version, _len, flags, code, app_id, hbh, e2e = _HDR.unpack_from(data, 0)
    return version, flags, int.from_bytes(code, "big"), app_id, hbh, e2e


def decode(data: bytes) -> Message:
    """Decode one framed message; raise :class:`DiameterError` for a protocol error.

    Header checks (RFC 6733 §3, §7.1.5): version 1 (5011), length a multiple of 4 (5015),
    E-bit never in a request (3008), R and E bits consistent; then AVP lengths (5014).
    """
    version, flags, code, app_id, hbh, e2e = decode_header(data)
    msg = Message(code, app_id, flags, hbh, e2e, raw=data)
    if version != VERSION:
        raise DiameterError(UNSUPPORTED_VERSION, None, f"version {version}")
    if len(data) & 3:
        raise DiameterError(INVALID_MESSAGE_LENGTH, None, "length not a multiple of 4")
    if flags & FLAG_R and flags & FLAG_E:
        raise DiameterError(INVALID_HDR_BITS, None, "E-bit in a request")
    msg.avps = _split(data if type(data) is bytes else bytes(data), HEADER_LEN, len(data), 0, _BUILD)
    return msg


def encode(code: int, app_id: int, flags: int, hbh: int, e2e: int, avps: Iterable[bytes]) -> bytes:
    """A message on the wire from already-encoded AVPs."""
    body = b"".join(avps)
    length = HEADER_LEN + len(body)
    return (bytes((VERSION,)) + length.to_bytes(3, "big") + bytes((flags,)) + code.to_bytes(3, "big")
            + struct.pack("!III", app_id, hbh, e2e) + body)


def with_hbh(data: bytes, hbh: int) -> bytes:
    """An encoded message with its Hop-by-Hop Identifier replaced (RFC 6733 §6.1.3, §6.2)."""
    return data[:12] + hbh.to_bytes(4, "big") + data[16:]


def answer_flags(request_flags: int, error: bool = False) -> int:
    """Answer flags: R cleared, P copied from the request (RFC 6733 §6.2), E for protocol errors."""
    return (request_flags & FLAG_P) | (FLAG_E if error else 0)


def error_answer(request: Message | bytes, result_code: int, origin_host: str, origin_realm: str,
                 failed_avp: Avp | bytes | None = None, message: str = "",
                 extra: list[bytes] | None = None) -> bytes:
    """An answer reporting ``result_code`` (RFC 6733 §7.2): Session-Id kept, E-bit for 3xxx.

    ``request`` may be raw bytes when it could not be decoded (only its header is used).
    """
    if isinstance(request, Message):
        flags, code, app_id, hbh, e2e = request.flags, request.code, request.app_id, request.hbh, request.e2e
        sid = request.find(SESSION_ID)
    else:
        _v, flags, code, app_id, hbh, e2e = decode_header(bytes(request).ljust(HEADER_LEN, b"\0"))
        sid = _raw_session_id(bytes(request))
    avps: list[bytes] = []
    if sid is not None:
        avps.append(encode_avp(SESSION_ID, sid.data))
    avps += [encode_avp(ORIGIN_HOST, origin_host), encode_avp(ORIGIN_REALM, origin_realm),
             encode_avp(RESULT_CODE, result_code)]
    if extra:
        avps += extra
    if 3000 <= result_code < 4000:
        avps.append(encode_avp(ERROR_REPORTING_HOST, origin_host))
    if message:
        avps.append(encode_avp(ERROR_MESSAGE, message[:200]))
    if failed_avp is not None:
        raw = bytearray(failed_avp.raw if isinstance(failed_avp, Avp) else failed_avp)
        if len(raw) >= 8:
            raw[4] &= AVP_V | AVP_M | AVP_P      # reserved flag bits are sent as zero (RFC 6733 §4.1)
        avps.append(encode_avp(FAILED_AVP, [bytes(raw) + b"\0" * (-len(raw) & 3)]))   # inner AVP padded too
    return encode(code, app_id, answer_flags(flags, 3000 <= result_code < 4000), hbh, e2e, avps)


def _raw_session_id(data: bytes) -> Avp | None:
    """The first AVP if it is a well-formed Session-Id (for answers to undecodable requests)."""
    if len(data) >= HEADER_LEN + 8 and int.from_bytes(data[20:24], "big") == SESSION_ID:
        length = int.from_bytes(data[25:28], "big")
        if 8 < length <= len(data) - HEADER_LEN and not data[24] & AVP_V:
            try:
                raw = data[28:20 + length]
                raw.decode("utf-8")
                return Avp(SESSION_ID, 0, data[24], raw)
            except UnicodeDecodeError:
                return None
    return None


def dump(msg: Message) -> list[tuple[str, Any]]:
    """A readable (name, value) list, grouped AVPs nested (debugging and tests)."""
    def one(a: Avp) -> tuple[str, Any]:
        name = NAMES.get((a.code, a.vendor), f"{a.code}/{a.vendor}")
        v = a.value
        return (name, [one(x) for x in v]) if isinstance(v, list) else (name, v)
    return [one(a) for a in msg.avps]
