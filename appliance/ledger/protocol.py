"""Framing and encoding between front ends and the ledger role on the local stream socket.

A frame is a 4-octet big-endian length and a ``marshal`` payload of plain tuples, ints and
strings: ``(request id, operation, arguments)`` one way, ``(request id, ok, value)`` the other.
``marshal`` is the cheapest codec the standard library has for such data (a few µs a frame);
it is not meant for untrusted input, so the socket is a file in the run directory with mode
0600, reachable only by the appliance's own user.  A frame longer than :data:`MAX_FRAME` closes
the connection.

Domain objects travel as tuples: :func:`request_to_wire` / :func:`request_from_wire` for a
:class:`~appliance.ocs.rating.ChargeRequest`, :func:`result_to_wire` / :func:`result_from_wire`
for a :class:`~appliance.ocs.rating.ChargeResult`.
"""
from __future__ import annotations

import marshal
import struct
from typing import Any

from ..ocs.charging import Balance
from ..ocs.rating import Action, ChargeRequest, ChargeResult, ItemResult, Outcome, UsageItem
from ..ocs.units import Unit

MAX_FRAME = 4 << 20
_LEN = struct.Struct(">I")
_ACTIONS = {a._value_: a for a in Action}
_UNITS = {u._value_: u for u in Unit}
_OUTCOMES = {o._value_: o for o in Outcome}


class FrameTooLong(ValueError):
    pass


def frame(obj: Any) -> bytes:
    body = marshal.dumps(obj)
    return _LEN.pack(len(body)) + body


def unframe(buffer: bytearray) -> list[Any]:
    """Take every complete frame off the front of ``buffer`` (in place)."""
    out = []
    pos = 0
    size = len(buffer)
    while size - pos >= 4:
        (length,) = _LEN.unpack_from(buffer, pos)
        if length > MAX_FRAME:
            raise FrameTooLong(f"frame of {length} octets")
        if size - pos - 4 < length:
            break
        out.append(marshal.loads(bytes(buffer[pos + 4:pos + 4 + length])))
        pos += 4 + length
    if pos:
        del buffer[:pos]
    return out


def request_to_wire(r: ChargeRequest) -> tuple[Any, ...]:
    return (r.subscriber, r.session_id, r.action._value_,
            tuple([(i.unit._value_, i.requested, i.used, i.rating_group, i.service_identifier) for i in r.items]),
            r.request_key, r.service, r.destination, r.vplmn, r.now)


def request_from_wire(t: tuple[Any, ...]) -> ChargeRequest:
    items = tuple([UsageItem(_UNITS[u], q, used, rg, si) for u, q, used, rg, si in t[3]])
    return ChargeRequest(t[0], t[1], _ACTIONS[t[2]], items, t[4], t[5], t[6], t[7], t[8])


def result_to_wire(r: ChargeResult) -> tuple[Any, ...]:
    return (r.outcome._value_,
            tuple([(i.outcome._value_, i.unit._value_, i.rating_group, i.service_identifier, i.granted, i.final,
                    i.validity, i.debited, i.charged, i.unpaid) for i in r.items]),
            dict(r.balance), r.duplicate)


def result_from_wire(t: tuple[Any, ...]) -> ChargeResult:
    items = tuple([ItemResult(_OUTCOMES[o], _UNITS[u], rg, si, g, f, v, d, c, p)
                   for o, u, rg, si, g, f, v, d, c, p in t[1]])
    return ChargeResult(_OUTCOMES[t[0]], items, t[2], t[3])


def balance_to_wire(b: Balance | None) -> tuple[Any, ...] | None:
    return None if b is None else (b.service_id, b.product_id, dict(b.totals), dict(b.reserved))


def balance_from_wire(t: tuple[Any, ...] | None) -> Balance | None:
    return None if t is None else Balance(t[0], t[1], t[2], t[3])
