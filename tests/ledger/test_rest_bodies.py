"""A REST request's parsed body crosses the ledger's socket (``marshal`` frames) with its exact
decimal numbers intact: ``parse_json`` reads every JSON fraction as a ``Decimal``, which ``marshal``
refuses, so the body travels with them as text and is read back as the same ``Decimal``."""
from __future__ import annotations

from decimal import Decimal

import pytest

from appliance.ledger import protocol
from appliance.rest.fields import body_from_wire, body_to_wire, parse_json, parse_money

BODIES = [
    b'{"amount": {"amount": 1.5, "units": "USD"}, "product": {"id": "p1"}}',
    b'{"amount": {"amount": 2.50E+3, "units": "USD"}, "tags": [0.1, [1e-6, {"x": -0.0}]], "n": 7}',
    b'[{"op": "replace", "path": "/remainedAmount/amount", "value": 12.000001}]',
    b'{"value": 1000, "unit": "microcents", "expiry": {"days": 1}, "flag": true, "none": null}',
]


@pytest.mark.parametrize("raw", BODIES)
def test_a_parsed_body_crosses_the_socket_exactly(raw):
    body = parse_json(raw)
    if any(isinstance(v, Decimal) for v in _leaves(body)):
        with pytest.raises(ValueError):         # why the body is converted at all
            protocol.frame((1, "rest_create", (body,)))
    frames = protocol.unframe(bytearray(protocol.frame((1, "rest_create", (body_to_wire(body),)))))
    back = body_from_wire(frames[0][2][0])
    assert back == body
    assert [type(v) for v in _leaves(back)] == [type(v) for v in _leaves(body)]
    assert [str(v) for v in _leaves(back)] == [str(v) for v in _leaves(body)]     # same digits and exponent


def test_money_read_from_the_crossed_body_is_the_same():
    body = body_from_wire(body_to_wire(parse_json(b'{"a": 2.50E+3, "b": 0.000001, "c": 1.0000001}')))
    assert parse_money(body["a"], 1_000_000, "a") == 2_500_000_000
    assert parse_money(body["b"], 1_000_000, "b") == 1
    with pytest.raises(Exception, match="more decimals"):
        parse_money(body["c"], 1_000_000, "c")


def _leaves(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    else:
        yield value
