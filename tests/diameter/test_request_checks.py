"""The node's request checks (codec.check_request, RFC 6733 §6.1, §7.1): an unknown M-bit AVP at any
depth of a known Grouped AVP is 5001 with that AVP, another Destination-Realm 3003, another
Destination-Host 3002, the first problem in AVP order -- the same verdict as the per-AVP loop the
node ran before (kept here as the reference), for fixed cases and randomized requests; and the
Result-Code scan of an encoded answer (codec.answer_result)."""
from __future__ import annotations

import random

import pytest

from appliance.diameter import codec as c

REALM, HOST = "ocs.realm", "ocs.host"
MSCC, RG, GSU, CC_TOTAL = 456, 432, 431, 421


def reference(msg: c.Message, realm: str, host: str) -> tuple[int, bytes | None] | None:
    """The node's loop before the checks moved into the codec."""
    for a in msg.avps:
        if a.flags & c.AVP_M and (a.code, a.vendor) not in c.TYPES:
            return c.AVP_UNSUPPORTED, a.raw
        if a.children and (inner := c.unknown_mandatory(a.children)) is not None:
            return c.AVP_UNSUPPORTED, inner.raw
        if a.code == c.DESTINATION_REALM and not a.vendor and a.data.decode(errors="replace") != realm:
            return c.REALM_NOT_SERVED, None
        if a.code == c.DESTINATION_HOST and not a.vendor and a.data.decode(errors="replace") != host:
            return c.UNABLE_TO_DELIVER, None
    return None


def verdict(msg: c.Message, realm: str = REALM, host: str = HOST) -> tuple[int, bytes | None] | None:
    try:
        c.check_request(msg.avps, realm, host, realm.encode(), host.encode())
    except c.DiameterError as exc:
        failed = exc.failed_avp
        return exc.result_code, (failed.raw if isinstance(failed, c.Avp) else failed)
    return None


def request(avps: list[bytes]) -> c.Message:
    return c.decode(c.encode(272, 4, c.FLAG_R, 1, 2, avps))


UNKNOWN_M = c.encode_avp(64999, b"x", mandatory=True)                 # not in the dictionary, M-bit
UNKNOWN = c.encode_avp(64998, b"y", mandatory=False)                  # not in the dictionary, no M-bit
UNKNOWN_V_M = c.encode_avp(64997, b"z", vendor=10415, mandatory=True)


@pytest.mark.parametrize("avps, expected", [
    ([c.encode_avp(c.DESTINATION_REALM, REALM), c.encode_avp(c.DESTINATION_HOST, HOST)], None),
    ([c.encode_avp(c.DESTINATION_REALM, "other.realm")], c.REALM_NOT_SERVED),
    ([c.encode_avp(c.DESTINATION_HOST, "other.host")], c.UNABLE_TO_DELIVER),
    ([UNKNOWN], None),
    ([UNKNOWN_M], c.AVP_UNSUPPORTED),
    ([UNKNOWN_V_M], c.AVP_UNSUPPORTED),
    ([c.encode_avp(MSCC, [c.encode_avp(RG, 1), UNKNOWN_M])], c.AVP_UNSUPPORTED),
    ([c.encode_avp(MSCC, [c.encode_avp(GSU, [c.encode_avp(CC_TOTAL, 5), UNKNOWN_V_M])])], c.AVP_UNSUPPORTED),
    ([c.encode_avp(c.DESTINATION_REALM, "other.realm"), UNKNOWN_M], c.REALM_NOT_SERVED),     # AVP order
    ([UNKNOWN_M, c.encode_avp(c.DESTINATION_REALM, "other.realm")], c.AVP_UNSUPPORTED),
    ([c.encode_avp(c.DESTINATION_REALM, b"ocs.r\xffealm")], c.REALM_NOT_SERVED),           # not UTF-8
])
def test_the_checks_answer_as_rfc_6733_says(avps, expected):
    msg = request(avps)
    got = verdict(msg)
    assert (got[0] if got else None) == expected
    assert got == reference(msg, REALM, HOST)


def test_a_realm_compared_as_text_when_its_octets_are_not_utf8():
    """A Destination-Realm that decodes (with replacement) to our realm is ours, as before."""
    realm = "ocs.r\ufffdealm"
    msg = request([c.encode_avp(c.DESTINATION_REALM, b"ocs.r\xffealm")])
    assert verdict(msg, realm) is None and reference(msg, realm, HOST) is None


PIECES = [c.encode_avp(c.DESTINATION_REALM, REALM), c.encode_avp(c.DESTINATION_REALM, "x.realm"),
          c.encode_avp(c.DESTINATION_HOST, HOST), c.encode_avp(c.DESTINATION_HOST, "x.host"),
          c.encode_avp(c.DESTINATION_HOST, HOST, vendor=10415), UNKNOWN, UNKNOWN_M, UNKNOWN_V_M,
          c.encode_avp(c.ORIGIN_HOST, "gw"), c.encode_avp(c.SESSION_ID, "s;1")]


def _grouped(rnd: random.Random, depth: int) -> bytes:
    kids = [rnd.choice(PIECES[5:8] + [c.encode_avp(RG, 3)]) for _ in range(rnd.randrange(0, 3))]
    if depth < 3 and rnd.random() < 0.5:
        kids.append(_grouped(rnd, depth + 1))
    return c.encode_avp(rnd.choice([MSCC, GSU]), kids)


def test_randomized_requests_get_the_reference_verdict():
    rnd = random.Random(16)
    seen = set()
    for _ in range(3000):
        avps = [rnd.choice(PIECES) if rnd.random() < 0.7 else _grouped(rnd, 0) for _ in range(rnd.randrange(1, 6))]
        msg = request(avps)
        got = verdict(msg)
        assert got == reference(request(avps), REALM, HOST), avps
        seen.add(got[0] if got else None)
    assert seen == {None, c.AVP_UNSUPPORTED, c.REALM_NOT_SERVED, c.UNABLE_TO_DELIVER}


@pytest.mark.parametrize("avps, rc", [
    ([c.encode_avp(c.SESSION_ID, "s;1"), c.encode_avp(c.RESULT_CODE, 2001)], 2001),
    ([c.encode_avp(c.RESULT_CODE, 4012, vendor=10415)], None),                   # a vendor's code is not it
    ([c.encode_avp(c.EXPERIMENTAL_RESULT, [c.encode_avp(c.VENDOR_ID, 10415),
                                           c.encode_avp(c.EXPERIMENTAL_RESULT_CODE, 5030)])], 5030),
    ([c.encode_avp(c.ORIGIN_HOST, "h")], None),
])
def test_the_answer_scan_finds_the_result(avps, rc):
    assert c.answer_result(c.encode(272, 4, 0, 1, 2, avps)) == rc
