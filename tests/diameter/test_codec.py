"""Codec tests are data: encodings checked against python-diameter and hand-made hex."""
from __future__ import annotations

import pytest
from diameter.message import Message as PdMessage

from appliance.diameter import codec as c

# (AVP name, value, expected hex of the AVP on the wire)
AVP_VECTORS = [
    ("Origin-Host", b"a.b", "00000108" "4000000b" "612e6200"),
    ("Session-Id", "a;1", "00000107" "4000000b" "613b3100"),
    ("Result-Code", 2001, "0000010c" "4000000c" "000007d1"),
    ("CC-Request-Number", 7, "0000019f" "4000000c" "00000007"),
    ("CC-Total-Octets", 1 << 33, "000001a5" "40000010" "0000000200000000"),
    ("Host-IP-Address", "127.0.0.1", "00000101" "4000000e" "00017f000001" "0000"),
    ("Rating-Group", 32, "000001b0" "4000000c" "00000020"),
    ("Role-Of-Node", 0, "0000033d" "c0000010" "000028af" "00000000"),
]


@pytest.mark.parametrize("name,value,hexa", AVP_VECTORS)
def test_avp_vectors(name, value, hexa):
    wire = c.avp(name, value)
    assert wire.hex() == hexa
    (decoded,) = list(c.iter_avps(wire, 0, len(wire)))
    assert decoded.value == value


def test_message_round_trip_and_python_diameter_agrees():
    mscc = c.avp("Multiple-Services-Credit-Control", [
        c.avp("Rating-Group", 32),
        c.avp("Used-Service-Unit", [c.avp("CC-Total-Octets", 1234)])])
    wire = c.encode(272, 4, c.FLAG_R | c.FLAG_P, 0x11, 0x22, [
        c.avp("Session-Id", "gw;1;2"), c.avp("Origin-Host", "gw"), c.avp("Origin-Realm", "r"),
        c.avp("Destination-Realm", "ocs"), c.avp("Auth-Application-Id", 4),
        c.avp("CC-Request-Type", 2), c.avp("CC-Request-Number", 1), mscc])
    msg = c.decode(wire)
    assert (msg.code, msg.app_id, msg.hbh, msg.e2e, msg.is_request) == (272, 4, 0x11, 0x22, True)
    assert msg.session_id == "gw;1;2"
    dumped = dict(c.dump(msg))
    assert dumped["Multiple-Services-Credit-Control"] == [
        ("Rating-Group", 32), ("Used-Service-Unit", [("CC-Total-Octets", 1234)])]
    pd = PdMessage.from_bytes(wire)   # an independent decoder reads the same fields
    assert pd.header.command_code == 272 and pd.header.hop_by_hop_identifier == 0x11
    assert pd.multiple_services_credit_control[0].used_service_unit[0].cc_total_octets == 1234
    assert pd.session_id == "gw;1;2" and pd.cc_request_number == 1


# (description, wire hex, expected result code)
BAD_MESSAGES = [
    ("version 2", "02000014" "80000118" "00000000" "00000001" "00000002", c.UNSUPPORTED_VERSION),
    ("E-bit in request", "01000014" "a0000118" "00000000" "00000001" "00000002", c.INVALID_HDR_BITS),
    ("length not /4", "01000016" "80000118" "00000000" "00000001" "00000002" "0000", c.INVALID_MESSAGE_LENGTH),
    ("AVP length 3", "0100001c" "80000118" "00000000" "00000001" "00000002" "00000108" "40000003",
     c.INVALID_AVP_LENGTH),
    ("AVP beyond end", "01000020" "80000118" "00000000" "00000001" "00000002" "00000108" "40000040" "61616161",
     c.INVALID_AVP_LENGTH),
    ("Unsigned32 of 5 octets", "01000024" "80000118" "00000000" "00000001" "00000002" "0000010c" "4000000d"
     "0000000000000000", c.INVALID_AVP_LENGTH),
    ("V-bit vendor 0", "01000020" "80000118" "00000000" "00000001" "00000002" "000001b0" "c000000c" "00000000",
     c.INVALID_AVP_BITS),
]


@pytest.mark.parametrize("what,hexa,code", BAD_MESSAGES, ids=[b[0] for b in BAD_MESSAGES])
def test_bad_messages(what, hexa, code):
    with pytest.raises(c.DiameterError) as err:
        c.decode(bytes.fromhex(hexa))
    assert err.value.result_code == code


def test_error_answer_has_failed_avp_and_e_bit():
    wire = bytes.fromhex("0100001c" "80000118" "00000000" "00000001" "00000002" "00000108" "40000003")
    with pytest.raises(c.DiameterError) as err:
        c.decode(wire)
    ans = c.decode(c.error_answer(wire, err.value.result_code, "me", "realm", err.value.failed_avp))
    assert not ans.is_request and not ans.is_error  # 5xxx: no E-bit
    assert ans.result_code == c.INVALID_AVP_LENGTH and ans.find(c.FAILED_AVP) is not None
    ans = c.decode(c.error_answer(wire, c.COMMAND_UNSUPPORTED, "me", "realm"))
    assert ans.is_error and ans.hbh == 1 and ans.e2e == 2


def test_framing():
    assert c.frame_length(b"\x01\x00") is None
    with pytest.raises(c.FramingError):
        c.frame_length(b"\x01\x00\x00\x10")
    assert c.frame_length(b"\x01\x00\x00\x14") == 20


@pytest.mark.parametrize("value", [0, 1, 0x7F, 0x80, 0xFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF])
def test_integers_read_in_place(value):
    """u32/i32/uint read from the message itself agree with struct, at the sign and octet edges
    (the compiled codec reads octets as C integers)."""
    wire = c.encode_avp(c.AUTH_APPLICATION_ID, value) + c.avp("CC-Total-Octets", value << 32 | value)
    u32, u64 = c.split_avps(wire, 0, len(wire))
    assert (u32.u32, u32.uint, u32.i32) == (value, value, value - (1 << 32) if value >> 31 else value)
    big = value << 32 | value
    assert (u64.u64, u64.uint, u64.i64) == (big, big, big - (1 << 64) if big >> 63 else big)


def test_lengths_past_one_octet_and_high_codes():
    """AVP lengths with the high bit of an octet set, codes and vendors past 2^31 (RFC 6733 §4.1)."""
    wire = (c.avp("Session-Id", "x" * 200) + c.encode_avp(0xFFFFFFF0, b"zz", 0x80000001)
            + c.avp("Multiple-Services-Credit-Control", [c.avp("Rating-Group", 1)] * 40))
    sid, odd, mscc = c.split_avps(wire, 0, len(wire))
    assert sid.text == "x" * 200 and sid.size == 200
    assert (odd.code, odd.vendor, odd.data) == (0xFFFFFFF0, 0x80000001, b"zz")
    assert [a.u32 for a in mscc.group()] == [1] * 40 and mscc.get(c.key_of("Rating-Group")).u32 == 1
