"""Method-level fragmentation with L/M flags (RFC 5216 §2.1.5, RFC 5281 §9.2.2, RFC 5931 §3.3).

EAP-TLS/TTLS/PEAP and EAP-pwd split long messages the same way: a flags octet
whose bit 0x80 (L) announces a Length field on the first fragment and whose bit
0x40 (M) says more fragments follow; the receiver acknowledges each fragment
with an empty message.  Only the Length field's size differs: 4 octets for
TLS-based methods, 2 for EAP-pwd.  The low bits of the flags octet belong to
the method (TTLS: S and version; pwd: PWD-Exch) and pass through untouched.
"""
from __future__ import annotations

from dataclasses import dataclass

FLAG_L = 0x80
FLAG_M = 0x40


class FragmentError(ValueError):
    """The peer's fragments are inconsistent (method should fail the conversation)."""


@dataclass(frozen=True, slots=True)
class Fragment:
    flags: int          # L/M bits only
    total: int | None   # the Length field when L is set
    payload: bytes


def parse(data: bytes, length_size: int) -> tuple[int, Fragment]:
    """Split type-data into (flags octet, fragment).  Raises on a truncated Length field."""
    if not data:
        raise FragmentError("no flags octet")
    flags = data[0]
    if flags & FLAG_L:
        if len(data) < 1 + length_size:
            raise FragmentError("L set but Length field truncated")
        total = int.from_bytes(data[1:1 + length_size], "big")
        return flags, Fragment(flags & (FLAG_L | FLAG_M), total, bytes(data[1 + length_size:]))
    return flags, Fragment(flags & (FLAG_L | FLAG_M), None, bytes(data[1:]))


def build(low_bits: int, fragment: Fragment, length_size: int) -> bytes:
    """Type-data for one fragment: flags octet (L/M plus the method's low bits), Length, payload."""
    head = bytes([fragment.flags | low_bits])
    if fragment.flags & FLAG_L:
        assert fragment.total is not None
        head += fragment.total.to_bytes(length_size, "big")
    return head + fragment.payload


class Outgoing:
    """A message to send in fragments of at most ``mtu`` payload octets.

    ``always_length`` puts L (with the total) on an unfragmented message too
    (allowed by RFC 5281 §9.2.2; EAP-pwd forbids L without M).
    """

    def __init__(self, message: bytes, mtu: int, length_size: int, always_length: bool = False) -> None:
        if mtu <= 0:
            raise ValueError("mtu must be positive")
        self.message = message
        self.mtu = mtu
        self.length_size = length_size
        self.always_length = always_length
        self.offset = 0
        self.started = False

    @property
    def pending(self) -> bool:
        """True while a fragment remains to be sent (an empty message is one empty fragment)."""
        return not self.started or self.offset < len(self.message)

    def next(self) -> Fragment:
        first = not self.started
        chunk = self.message[self.offset:self.offset + self.mtu]
        self.offset += len(chunk)
        self.started = True
        more = self.offset < len(self.message)
        flags = FLAG_M if more else 0
        if first and (more or self.always_length):
            flags |= FLAG_L
        return Fragment(flags, len(self.message) if flags & FLAG_L else None, chunk)


class Incoming:
    """Reassembles a peer's fragments, bounded by ``max_size`` octets."""

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self.buffer = bytearray()
        self.total: int | None = None
        self.active = False

    def feed(self, fragment: Fragment) -> bytes | None:
        """Add one fragment; the complete message, or None when an ACK must be sent for more."""
        if not self.active:
            if fragment.flags & FLAG_M and fragment.total is None:
                raise FragmentError("first fragment without L")
            self.total = fragment.total
            if self.total is not None and self.total > self.max_size:
                raise FragmentError(f"announced length {self.total} exceeds {self.max_size}")
            self.active = True
        elif fragment.total is not None and self.total is not None and fragment.total != self.total:
            raise FragmentError("Length changed between fragments")
        self.buffer += fragment.payload
        if len(self.buffer) > self.max_size:
            raise FragmentError("reassembled message too long")
        if self.total is not None and len(self.buffer) > self.total:
            raise FragmentError("more octets than the announced Length")
        if fragment.flags & FLAG_M:
            if not fragment.payload:
                raise FragmentError("empty fragment with M set")
            return None
        message = bytes(self.buffer)
        if self.total is not None and len(message) != self.total:
            raise FragmentError("fewer octets than the announced Length")
        self.buffer = bytearray()
        self.total = None
        self.active = False
        return message
