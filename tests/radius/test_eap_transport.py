"""EAP over RADIUS transport rules (RFC 3579): EAP-Start, State binding, Message-Authenticator required."""
from __future__ import annotations

from appliance.eap.packet import Code, decode, encode
from appliance.radius import packet as rp
from appliance.telemetry import metrics
from tests.eap.test_pwd import RadiusEapPeer


def test_eap_start_gets_identity_request_and_unknown_state_is_rejected(radius, rcfg):
    peer = RadiusEapPeer(rcfg.radius.auth_port)
    try:
        reply = peer.send(b"")                                  # EAP-Message of length 2: EAP-Start
        assert reply.code == rp.ACCESS_CHALLENGE
        req = decode(b"".join(reply.all(rp.EAP_MESSAGE)))
        assert (req.code, req.type) == (Code.REQUEST, 1)
        assert reply.get(rp.STATE) is not None and reply.raw[20] == rp.MESSAGE_AUTHENTICATOR
        peer.state = b"\x4f\x00" + bytes(14)                      # a State nobody issued
        reply = peer.send(encode(Code.RESPONSE, req.identifier, 1, b"alice@wlan"))
        assert reply.code == rp.ACCESS_REJECT
        assert decode(b"".join(reply.all(rp.EAP_MESSAGE))).code == Code.FAILURE
    finally:
        peer.close()


def test_eap_without_message_authenticator_is_dropped(radius, rcfg):
    import os
    import socket
    import struct
    before = metrics.default().get("radius.auth.missing_message_authenticator")
    attrs = rp.encode_attributes([(rp.USER_NAME, b"a")] + rp.split_eap(encode(Code.RESPONSE, 1, 1, b"a")))
    raw = struct.pack("!BBH", rp.ACCESS_REQUEST, 9, 20 + len(attrs)) + os.urandom(16) + attrs
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(raw, ("127.0.0.1", rcfg.radius.auth_port))
    peer = RadiusEapPeer(rcfg.radius.auth_port)                  # a valid exchange after it: ordering barrier
    try:
        assert peer.send(b"").code == rp.ACCESS_CHALLENGE
    finally:
        peer.close()
    assert metrics.default().get("radius.auth.missing_message_authenticator") == before + 1


def test_state_cannot_be_continued_by_another_client(cfg, store):
    from appliance.config import RadiusClient
    from tests.radius.conftest import SECRET, RunningServer, radius_cfg
    rc = radius_cfg(cfg, clients=(RadiusClient("127.0.0.1", SECRET), RadiusClient("127.0.0.0/8", SECRET)))
    srv = RunningServer(rc).start()
    first, other = RadiusEapPeer(rc.radius.auth_port), RadiusEapPeer(rc.radius.auth_port, source="127.0.0.2")
    try:
        reply = first.send(b"")
        assert reply.code == rp.ACCESS_CHALLENGE
        ident = decode(b"".join(reply.all(rp.EAP_MESSAGE))).identifier
        other.state = first.state                                 # a State observed on the wire
        assert other.send(encode(Code.RESPONSE, ident, 1, b"alice@wlan")).code == rp.ACCESS_REJECT
        assert first.send(encode(Code.RESPONSE, ident, 1, b"alice@wlan")).code == rp.ACCESS_CHALLENGE
    finally:
        first.close()
        other.close()
        srv.close()
