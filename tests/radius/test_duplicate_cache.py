"""RFC 5080 §2.2.2 duplicate cache: answers replayed until their lifetime ends; size bounded."""
from __future__ import annotations

from appliance.radius.server import DuplicateCache


def test_entries_live_for_the_ttl_then_go():
    d = DuplicateCache(ttl=30.0)
    d.begin(("a",), 100.0)
    assert d.lookup(("a",), 101.0) == (True, None)           # in progress: a duplicate is dropped
    d.finish(("a",), b"answer")
    d.begin(("b",), 110.0)
    d.finish(("b",), b"other")
    assert d.lookup(("a",), 129.9) == (True, b"answer")
    assert d.lookup(("a",), 130.0) == (False, None)
    d.begin(("c",), 131.0)                                     # sweeps the expired front entry
    assert len(d) == 2 and d.lookup(("b",), 131.0) == (True, b"other")
    d.begin(("d",), 141.0)
    assert len(d) == 2                                         # b expired at 140
    d.finish(("d",), None)                                     # nothing sent: forgotten at once
    assert d.lookup(("d",), 141.0) == (False, None) and len(d) == 1


def test_size_stays_bounded_when_nothing_expires():
    d = DuplicateCache(ttl=1e9, capacity=100)
    for i in range(1000):
        d.begin((i,), float(i))
        d.finish((i,), b"x")
        assert len(d) <= 101
    assert d.lookup((999,), 1000.0) == (True, b"x") and d.lookup((0,), 1000.0) == (False, None)
