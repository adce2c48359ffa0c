"""L/M fragmentation helpers (RFC 5281 §9.2.2, RFC 5931 §3.3)."""
from __future__ import annotations

import pytest

from appliance.eap.fragments import FLAG_L, FLAG_M, Fragment, FragmentError, Incoming, Outgoing, build, parse


@pytest.mark.parametrize("size,mtu,length_size", [(0, 10, 4), (1, 10, 4), (10, 10, 4), (11, 10, 2),
                                                  (3000, 1000, 4), (2999, 1000, 2), (5000, 7, 4)])
def test_round_trip(size, mtu, length_size):
    msg = bytes(i % 251 for i in range(size))
    out, inc = Outgoing(msg, mtu, length_size), Incoming(8192)
    got, frames = None, 0
    while out.pending:
        frag = out.next()
        frames += 1
        assert len(frag.payload) <= mtu
        wire = build(0x01, frag, length_size)
        flags, parsed = parse(wire, length_size)
        assert flags & 0x3F == 0x01
        got = inc.feed(parsed)
        assert (got is None) == bool(parsed.flags & FLAG_M)
    assert got == msg
    assert frames == max(1, -(-size // mtu))


def test_first_fragment_flags():
    out = Outgoing(b"a" * 25, 10, 4)
    first = out.next()
    assert first.flags == FLAG_L | FLAG_M and first.total == 25
    assert out.next().flags == FLAG_M and out.next().flags == 0 and not out.pending
    single = Outgoing(b"abc", 10, 4, always_length=True).next()
    assert single.flags == FLAG_L and single.total == 3
    assert Outgoing(b"abc", 10, 2).next().flags == 0


@pytest.mark.parametrize("frags", [
    [Fragment(FLAG_M, None, b"ab")],                                   # M without L first
    [Fragment(FLAG_L | FLAG_M, 9000, b"ab")],                          # too long
    [Fragment(FLAG_L | FLAG_M, 3, b"ab"), Fragment(0, None, b"cd")],    # more than announced
    [Fragment(FLAG_L | FLAG_M, 5, b"ab"), Fragment(0, None, b"c")],     # fewer than announced
    [Fragment(FLAG_L | FLAG_M, 5, b"ab"), Fragment(FLAG_M, None, b"")],  # empty M fragment
    [Fragment(FLAG_L | FLAG_M, 5, b"ab"), Fragment(FLAG_L | FLAG_M, 6, b"c")],  # Length changed
])
def test_bad_fragments(frags):
    inc = Incoming(8192)
    with pytest.raises(FragmentError):
        for f in frags:
            inc.feed(f)


def test_parse_truncated_length():
    with pytest.raises(FragmentError):
        parse(bytes([FLAG_L, 0, 0]), 4)
    with pytest.raises(FragmentError):
        parse(b"", 4)
