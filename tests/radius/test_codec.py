"""The hand-written RADIUS codec against pyrad (an independent implementation) and RFC 2548 round trips."""
from __future__ import annotations

import os

import pyrad.packet as pp
import pytest

from appliance.radius import packet as rp

from .helpers import dictionary

SECRET = b"xyzzy5461"


def pyrad_access_request(password: str) -> tuple[bytes, pp.AuthPacket]:
    pkt = pp.AuthPacket(code=pp.AccessRequest, id=7, secret=SECRET, dict=dictionary(),
                        authenticator=os.urandom(16))
    pkt["User-Name"] = "nemo"
    pkt["User-Password"] = pkt.PwCrypt(password)
    pkt["NAS-IP-Address"] = "192.168.1.16"
    pkt.add_message_authenticator()
    return pkt.RequestPacket(), pkt


@pytest.mark.parametrize("password", ["a", "arctangent", "x" * 16, "y" * 17, "z" * 128, "pässwörd"])
def test_password_hiding_matches_pyrad(password):
    raw, _pkt = pyrad_access_request(password)
    req = rp.decode(raw)
    assert rp.decrypt_password(req.get(rp.USER_PASSWORD), SECRET, req.authenticator) == password.encode()
    assert rp.encrypt_password(password.encode(), SECRET, req.authenticator) == req.get(rp.USER_PASSWORD)
    assert rp.verify_message_authenticator(req, SECRET) is True
    assert rp.verify_message_authenticator(req, b"other") is False


def test_accounting_request_authenticator_matches_pyrad():
    pkt = pp.AcctPacket(id=3, secret=SECRET, dict=dictionary())
    pkt["Acct-Status-Type"] = "Start"
    pkt["Acct-Session-Id"] = "abc"
    raw = pkt.RequestPacket()
    assert rp.request_authenticator_ok(raw, SECRET) and not rp.request_authenticator_ok(raw, b"nope")
    ours = rp.encode_request(rp.ACCOUNTING_REQUEST, 3, [(rp.ACCT_STATUS_TYPE, (1).to_bytes(4, "big"))], SECRET)
    assert rp.request_authenticator_ok(ours, SECRET)
    assert rp.verify_message_authenticator(rp.decode(ours), SECRET, zero_authenticator=True) is True


def test_response_is_accepted_by_pyrad_and_message_authenticator_first():
    raw, pkt = pyrad_access_request("pw")
    req = rp.decode(raw)
    answer = rp.encode_response(rp.ACCESS_ACCEPT, req, [(rp.SESSION_TIMEOUT, (60).to_bytes(4, "big"))], SECRET)
    reply = pkt.CreateReply(packet=answer)
    assert pkt.VerifyReply(reply, answer) and reply["Session-Timeout"] == [60]
    assert answer[20] == rp.MESSAGE_AUTHENTICATOR and answer[21] == 18


def test_mppe_key_round_trip_and_salts():
    auth, key = os.urandom(16), os.urandom(32)
    value = rp.encrypt_mppe_key(key, SECRET, auth, b"\x80\x01")
    assert len(value) == 2 + 48 and rp.decrypt_mppe_key(value, SECRET, auth) == key
    assert rp.encrypt_mppe_key(key, SECRET, auth, b"\x80\x02") != value
    with pytest.raises(ValueError):
        rp.encrypt_mppe_key(key, SECRET, auth, b"\x01\x01")


@pytest.mark.parametrize("hexa", ["01", "0101001600000000000000000000000000000000ff01",
                                  "010100150000000000000000000000000000000001",
                                  "0101001700000000000000000000000000000000010104"])
def test_malformed_table(hexa):
    with pytest.raises(rp.Malformed):
        rp.decode(bytes.fromhex(hexa))


def test_eap_split_and_vsa():
    parts = rp.split_eap(b"e" * 600)
    assert [len(v) for _t, v in parts] == [253, 253, 94]
    t, v = rp.vsa(311, 16, b"k")
    pkt = rp.decode(rp.encode_request(rp.ACCOUNTING_REQUEST, 1, [(t, v)], SECRET))
    assert rp.vendor_attributes(pkt) == [(311, 16, b"k")]


# RFC 2202 §2 HMAC-MD5 test cases 1-7 (key, data, digest); 6 and 7 have an 80-octet key (hashed first)
HMAC_MD5_VECTORS = [
    (bytes([0x0B] * 16), b"Hi There", "9294727a3638bb1c13f48ef8158bfc9d"),
    (b"Jefe", b"what do ya want for nothing?", "750c783e6ab0b503eaa86e310a5db738"),
    (bytes([0xAA] * 16), bytes([0xDD] * 50), "56be34521d144c88dbb8c733f0e8b3f6"),
    (bytes(range(1, 26)), bytes([0xCD] * 50), "697eaf0aca3a3aea3a75164746ffaa79"),
    (bytes([0x0C] * 16), b"Test With Truncation", "56461ef2342edc00f9bab995690efd4c"),
    (bytes([0xAA] * 80), b"Test Using Larger Than Block-Size Key - Hash Key First",
     "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd"),
    (bytes([0xAA] * 80), b"Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data",
     "6f630fad67cda0ee1fb1f562db3aa53e"),
]


@pytest.mark.parametrize(("key", "data", "digest"), HMAC_MD5_VECTORS)
def test_hmac_md5_rfc2202(key, data, digest):
    assert rp.hmac_md5(key, data).hex() == digest
    assert rp.hmac_md5(key, data).hex() == digest          # the second call uses the cached key states


def _with_ma(attrs: rp.Attributes, secret: bytes) -> bytes:
    """An Access-Request whose Message-Authenticator (wherever it sits in ``attrs``) is computed by
    the reference walk over the whole packet."""
    body = rp.encode_attributes(attrs)
    raw = bytearray(bytes((rp.ACCESS_REQUEST, 9)) + (20 + len(body)).to_bytes(2, "big") + os.urandom(16) + body)
    pos = 20
    while raw[pos] != rp.MESSAGE_AUTHENTICATOR:
        pos += raw[pos + 1]
    raw[pos + 2:pos + 18] = rp.message_authenticator(bytes(raw), secret)
    return bytes(raw)


MA = (rp.MESSAGE_AUTHENTICATOR, bytes(16))


@pytest.mark.parametrize(("attrs", "verdict"), [
    ([MA, (rp.USER_NAME, b"a")], True),
    ([(rp.USER_NAME, b"a"), MA], True),
    ([(rp.USER_NAME, b"a"), MA, (rp.NAS_IP_ADDRESS, b"\x7f\0\0\1"), (rp.STATE, b"s" * 40)], True),
    ([(rp.USER_NAME, b"a")], None),
    ([MA, (rp.USER_NAME, b"a"), MA], False),                       # two: refused (RFC 3579 §3.2)
    ([(rp.USER_NAME, b"a"), (rp.MESSAGE_AUTHENTICATOR, bytes(15))], False),
])
def test_message_authenticator_anywhere_in_the_packet(attrs, verdict):
    raw = _with_ma(attrs, SECRET) if MA in attrs else rp.encode_request(rp.ACCESS_REQUEST, 9, attrs, SECRET, False)
    pkt = rp.decode(raw)
    assert rp.verify_message_authenticator(pkt, SECRET) is verdict
    if verdict:
        assert rp.verify_message_authenticator(pkt, b"other") is False
        tampered = bytearray(raw)
        tampered[-1] ^= 1
        assert rp.verify_message_authenticator(rp.decode(bytes(tampered)), SECRET) is False
