"""2,600 malformed SNMP messages: the agent drops them, counts parse errors, and still answers."""
from __future__ import annotations

import random
import socket
import subprocess

from pyasn1.codec.ber import encoder
from pysnmp.proto import api

from tests.snmp.conftest import V3, parse, snmp, write_config

SNMP_IN_ASN_PARSE_ERRS = "1.3.6.1.2.1.11.6.0"
SNMP_IN_PKTS = "1.3.6.1.2.1.11.1.0"


def v2c_get(community: bytes, oid: str) -> bytes:
    p = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
    pdu = p.GetRequestPDU()
    p.apiPDU.set_defaults(pdu)
    p.apiPDU.set_varbinds(pdu, [(p.ObjectIdentifier(oid), p.Null(""))])
    msg = p.Message()
    p.apiMessage.set_defaults(msg)
    p.apiMessage.set_community(msg, community)
    p.apiMessage.set_pdu(msg, pdu)
    return encoder.encode(msg)


def v3_discovery() -> bytes:
    """The SNMPv3 engine-discovery GET net-snmp sends first (RFC 3414 §4), captured on loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(20)
        proc = subprocess.Popen(
            ["snmpget", "-v3", "-l", "authPriv", "-u", V3["name"], "-a", "SHA", "-A", V3["auth_key"], "-x", "AES",
             "-X", V3["priv_key"], "-r", "0", "-t", "1", f"127.0.0.1:{s.getsockname()[1]}", "1.3.6.1.2.1.1.1.0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            data, _ = s.recvfrom(65535)
        finally:
            proc.wait(30)
    return data


def corpus(rng: random.Random, v3: bytes) -> list[bytes]:
    good = v2c_get(b"nms-secret", "1.3.6.1.2.1.1.1.0")
    out: list[bytes] = [b"", b"\x30", b"\x30\x00", b"\x30\x84\xff\xff\xff\xff", b"\x30\x80" + good[2:],
                        b"\x02\x01\x01", b"\x30\x03\x02\x01\x07", b"\x30\x06\x02\x01\x03\x04\x01\x00"]
    out += [good[:n] for n in range(len(good))]                                 # every truncation
    out += [v3[:n] for n in range(len(v3))]
    for _ in range(800):                                                       # bit flips
        base = bytearray(rng.choice((good, v3)))
        for _ in range(rng.randint(1, 4)):
            base[rng.randrange(len(base))] ^= 1 << rng.randrange(8)
        out.append(bytes(base))
    for _ in range(600):                                                       # garbage
        out.append(rng.randbytes(rng.randint(1, 1400)))
    for _ in range(400):                                                       # valid header, junk PDU
        out.append(good[:12] + rng.randbytes(rng.randint(0, 60)))
    for _ in range(300):                                                       # deep nesting / huge lengths
        depth = rng.randint(1, 200)
        out.append(b"\x30\x82\xff\xff" * depth + b"\x02\x01\x01")
    for _ in range(200):                                                       # wrong types where INTEGER expected
        out.append(b"\x30\x0c" + bytes([rng.choice((0x04, 0x05, 0x06, 0x40, 0xa0))]) + b"\x01\x01" +
                   b"\x04\x03abc" + b"\xa0\x00")
    return out


def test_malformed_packets_do_not_stop_the_agent(tmp_path, start_agent):
    agent = start_agent(write_config(tmp_path))
    before = parse(snmp("snmpget", agent.target, SNMP_IN_ASN_PARSE_ERRS, SNMP_IN_PKTS).stdout)
    packets = corpus(random.Random(8), v3_discovery())
    assert len(packets) >= 2000
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setblocking(True)
        for i, data in enumerate(packets):
            s.sendto(data, ("127.0.0.1", agent.port))
            if i % 50 == 49:                       # the agent answers some (bit flips can stay valid)
                s.settimeout(0.01)
                try:
                    while True:
                        s.recv(65535)
                except OSError:
                    pass
                s.settimeout(None)
    # still answers, both ways, and the garbage was counted (RFC 3418 snmpInASNParseErrs)
    after = parse(snmp("snmpget", agent.target, SNMP_IN_ASN_PARSE_ERRS, SNMP_IN_PKTS, timeout=5).stdout)
    assert "ocs-appliance" in snmp("snmpget", agent.target, "1.3.6.1.2.1.1.1.0", v3=V3, timeout=5).stdout
    assert agent.proc.poll() is None
    assert int(after[SNMP_IN_ASN_PARSE_ERRS]) - int(before[SNMP_IN_ASN_PARSE_ERRS]) >= 100
    assert int(after[SNMP_IN_PKTS]) > int(before[SNMP_IN_PKTS])
    assert "Traceback" not in agent.log.read_text()
