"""Wireshark's RADIUS/EAP dissectors read what our codec writes (a pcap written here; no capture rights
needed): no malformed packet or expert error, and the fields decode as intended."""
from __future__ import annotations

import os
import struct
import subprocess

from appliance.eap.packet import Code
from appliance.eap.packet import encode as eap_encode
from appliance.radius import packet as rp
from tests.conftest import need_binary

SECRET = b"testing123"


def ip_udp(payload: bytes, sport: int, dport: int) -> bytes:
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, bytes([127, 0, 0, 1]),
                     bytes([127, 0, 0, 1]))
    csum = sum(struct.unpack("!10H", ip))
    csum = (csum & 0xFFFF) + (csum >> 16)
    ip = ip[:10] + struct.pack("!H", ~csum & 0xFFFF) + ip[12:]
    return ip + udp


def write_pcap(path, packets: list[bytes]) -> None:
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))   # LINKTYPE_RAW
        fh.writelines(struct.pack("<IIII", 1_700_000_000 + i, 0, len(pkt), len(pkt)) + pkt
                      for i, pkt in enumerate(packets))


def test_replies_dissect_cleanly(tmp_path):
    tshark = need_binary("tshark")
    auth = os.urandom(16)
    req_attrs = [(rp.USER_NAME, b"alice@wlan"), (rp.EAP_MESSAGE, eap_encode(Code.RESPONSE, 5, 1, b"alice@wlan"))]
    body = bytes((rp.MESSAGE_AUTHENTICATOR, 18)) + bytes(16) + rp.encode_attributes(req_attrs)
    raw = bytearray(struct.pack("!BBH", rp.ACCESS_REQUEST, 9, 20 + len(body)) + auth + body)
    raw[22:38] = rp.message_authenticator(bytes(raw), SECRET)
    request = rp.decode(bytes(raw))
    big_eap = eap_encode(Code.REQUEST, 6, 21, b"\x00" + os.urandom(700))
    challenge = rp.encode_response(rp.ACCESS_CHALLENGE, request, rp.split_eap(big_eap) + [(rp.STATE, os.urandom(16))],
                                   SECRET)
    msk = os.urandom(64)
    accept = rp.encode_response(rp.ACCESS_ACCEPT, request, [
        (rp.EAP_MESSAGE, eap_encode(Code.SUCCESS, 6)),
        rp.vsa(rp.VENDOR_MICROSOFT, rp.MS_MPPE_RECV_KEY, rp.encrypt_mppe_key(msk[:32], SECRET, auth, b"\x81\x02")),
        rp.vsa(rp.VENDOR_MICROSOFT, rp.MS_MPPE_SEND_KEY, rp.encrypt_mppe_key(msk[32:], SECRET, auth, b"\x81\x03")),
        (rp.SESSION_TIMEOUT, (3600).to_bytes(4, "big")), (rp.CLASS, b"ocs:001010000000001")], SECRET)
    acct = rp.encode_request(rp.ACCOUNTING_REQUEST, 3, [(rp.ACCT_STATUS_TYPE, (3).to_bytes(4, "big")),
                                                        (rp.ACCT_SESSION_ID, b"s1")], SECRET, False)
    disconnect = rp.encode_request(rp.DISCONNECT_REQUEST, 4, [(rp.USER_NAME, b"alice@wlan"),
                                                              (rp.ACCT_SESSION_ID, b"s1")], SECRET)
    pcap = tmp_path / "radius.pcap"
    write_pcap(pcap, [ip_udp(bytes(raw), 40000, 1812), ip_udp(challenge, 1812, 40000), ip_udp(accept, 1812, 40000),
                      ip_udp(acct, 40001, 1813), ip_udp(disconnect, 40002, 3799)])
    base = [tshark, "-n", "-r", str(pcap), "-o", f"radius.shared_secret:{SECRET.decode()}"]
    bad = subprocess.run(base + ["-Y", "_ws.malformed || _ws.expert.severity >= error"], capture_output=True,
                         text=True, timeout=60, check=False)
    assert bad.returncode == 0 and bad.stdout.strip() == "", bad.stdout + bad.stderr
    fields = subprocess.run(base + ["-T", "fields", "-e", "radius.code", "-e", "eap.code", "-e", "radius.State",
                                    "-e", "radius.Session_Timeout"], capture_output=True, text=True, timeout=60,
                            check=False)
    rows = [line.split("\t") for line in fields.stdout.strip().splitlines()]
    assert [r[0] for r in rows] == ["1", "11", "2", "4", "40"], fields.stdout + fields.stderr
    assert rows[1][1] == "1" and rows[1][2] != ""          # the 700-octet EAP-Request reassembled from 3 attributes
    assert rows[2][1] == "3" and rows[2][3] == "3600"
