"""EAP-TLS (RFC 5216, RFC 9190) with the real eapol_test against a running RADIUS worker.

The tests make their own PKI with ``cryptography`` (no network): a root CA, an intermediate chain,
client certificates naming the subscriber in CN / SAN email / SAN UPN / SAN DNS, a certificate from
another CA, and a revoked one with its CRL."""
from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from appliance.telemetry import metrics
from tests.eap.test_eapol import assert_keys_match, eapol
from tests.radius.conftest import RunningServer, radius_cfg

NOW = dt.datetime.now(dt.UTC)
UPN = x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _key(big: bool = False):
    return rsa.generate_private_key(65537, 2048) if big else ec.generate_private_key(ec.SECP256R1())


def _cert(subject: str, key, issuer: tuple[x509.Name, object] | None, ca: bool, san: list | None = None,
          serial: int | None = None, pad: int = 0) -> x509.Certificate:
    issuer_name, issuer_key = issuer if issuer is not None else (_name(subject), key)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer_name)
               .public_key(key.public_key()).serial_number(serial or x509.random_serial_number())
               .not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=30))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                                        critical=True)
    else:
        builder = builder.add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]),
                                        critical=False)
    names = list(san or [])
    names += [x509.DNSName(f"pad{i:04d}.example.net") for i in range(pad)]     # a large certificate
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@dataclasses.dataclass
class Pki:
    root: Path
    crl: Path
    clients: dict[str, tuple[Path, Path]]       # name -> (certificate chain file, key file)


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    d = tmp_path_factory.mktemp("pki")
    root_key = _key()
    root = _cert("Test Root CA", root_key, None, ca=True)
    (d / "root.pem").write_bytes(_pem(root))
    other_key = _key()
    other = _cert("Other CA", other_key, None, ca=True)
    clients: dict[str, tuple[Path, Path]] = {}

    def client(name: str, cn: str, issuer, chain: list[x509.Certificate], san=None, serial=None, pad=0, big=False):
        key = _key(big)
        cert = _cert(cn, key, issuer, ca=False, san=san, serial=serial, pad=pad)
        (d / f"{name}.pem").write_bytes(b"".join(_pem(c) for c in [cert] + chain))
        (d / f"{name}.key").write_bytes(_key_pem(key))
        clients[name] = (d / f"{name}.pem", d / f"{name}.key")

    root_issuer = (root.subject, root_key)
    client("alice", "alice@wlan", root_issuer, [],
           san=[x509.RFC822Name("mail-alice@wlan"), x509.DNSName("dns-alice.wlan"),
                x509.OtherName(UPN, b"\x0c\x0eupn-alice@wlan")])
    client("stranger", "stranger@wlan", root_issuer, [])
    client("untrusted", "alice@wlan", (other.subject, other_key), [])
    client("revoked", "alice@wlan", root_issuer, [], serial=0x5EED)
    # a long chain of large certificates: three intermediates, RSA keys, padded SANs
    chain: list[x509.Certificate] = []
    issuer = root_issuer
    for i in range(3):
        k = _key(big=True)
        c = _cert(f"Intermediate {i}", k, issuer, ca=True, pad=40)
        chain.insert(0, c)
        issuer = (c.subject, k)
    client("chained", "alice@wlan", issuer, chain, pad=40, big=True)
    crl = (x509.CertificateRevocationListBuilder().issuer_name(root.subject)
           .last_update(NOW - dt.timedelta(hours=1)).next_update(NOW + dt.timedelta(days=7))
           .add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(0x5EED)
                                    .revocation_date(NOW - dt.timedelta(hours=1)).build())
           .sign(root_key, hashes.SHA256()))
    (d / "root.crl").write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    return Pki(d / "root.pem", d / "root.crl", clients)


@pytest.fixture
def tls_server(cfg, store, seed_subscriber, pki):
    for n, nai in enumerate(("alice@wlan", "mail-alice@wlan", "upn-alice@wlan", "dns-alice.wlan")):
        seed_subscriber(imsi=f"00101000000010{n}", product=f"p{n}", nai=nai, password=None)
    servers: list[RunningServer] = []

    def start(**radius) -> object:
        base = {"eap_methods": ("ttls", "peap", "tls"), "eap_tls_ca": str(pki.root), "eap_tls_crl": str(pki.crl)}
        base.update(radius)
        srv = RunningServer(radius_cfg(cfg, **base)).start()
        servers.append(srv)
        return srv.cfg
    yield start
    for s in servers:
        s.close()


def tls_eapol(rcfg, tmp_path, pki: Pki, client: str, phase1: str = "", fragment: int = 0) -> tuple[int, str]:
    cert, key = pki.clients[client]
    return eapol(rcfg, tmp_path, "TLS", "unused", phase1=phase1, fragment=fragment,
                 extra=(f'client_cert="{cert}"', f'private_key="{key}"'))


@pytest.mark.parametrize("phase1", ["", "tls_disable_tlsv1_3=0"])
def test_eap_tls_success_and_keys(tls_server, tmp_path, pki, phase1):
    rcfg = tls_server()
    rc, out = tls_eapol(rcfg, tmp_path, pki, "alice", phase1)
    assert rc == 0, out[-3000:]
    assert_keys_match(out)
    assert "CTRL-EVENT-EAP-METHOD EAP vendor 0 method 13 (TLS) selected" in out
    assert ("Using TLS version TLSv1.3" in out) == bool(phase1)
    assert ("EAP-TLS: ACKing Commitment Message" in out) == bool(phase1)      # RFC 9190 §2.5
    assert "Attribute 1 (User-Name)" in out and "Value: 'alice@wlan'" in out.split("code=2 (Access-Accept)")[1]


@pytest.mark.parametrize("field,subscriber", [("san_email", "mail-alice@wlan"), ("san_upn", "upn-alice@wlan"),
                                              ("san_dns", "dns-alice.wlan")])
def test_eap_tls_identity_field(tls_server, tmp_path, pki, field, subscriber):
    rcfg = tls_server(eap_tls_identity=field)
    rc, out = tls_eapol(rcfg, tmp_path, pki, "alice")
    assert rc == 0, out[-3000:]
    assert_keys_match(out)
    assert f"Value: '{subscriber}'" in out.split("code=2 (Access-Accept)")[1]


@pytest.mark.parametrize("client", ["untrusted", "revoked", "stranger"])
@pytest.mark.parametrize("phase1", ["", "tls_disable_tlsv1_3=0"])
def test_eap_tls_refused(tls_server, tmp_path, pki, client, phase1):
    """Another CA's certificate and a revoked one fail the handshake (TLS alert, then EAP-Failure); a valid
    certificate naming no subscriber is refused after it."""
    rcfg = tls_server()
    rejects = metrics.default().get("radius.auth.access_rejects")
    rc, out = tls_eapol(rcfg, tmp_path, pki, client, phase1)
    assert rc != 0 and "code=2 (Access-Accept)" not in out
    assert "code=3 (Access-Reject)" in out, out[-3000:]
    assert metrics.default().get("radius.auth.access_rejects") == rejects + 1
    if client == "untrusted":
        assert "unknown ca" in out.lower() or "unknown_ca" in out.lower(), out[-3000:]
    if client == "revoked":
        assert "certificate revoked" in out.lower(), out[-3000:]


def test_eap_tls_without_crl_accepts_the_revoked_certificate(tls_server, tmp_path, pki):
    """The CRL is what refuses it: the same certificate passes when no CRL is configured."""
    rcfg = tls_server(eap_tls_crl="")
    rc, out = tls_eapol(rcfg, tmp_path, pki, "revoked")
    assert rc == 0, out[-3000:]


@pytest.mark.parametrize("phase1", ["", "tls_disable_tlsv1_3=0"])
def test_eap_tls_fragmented_chain(tls_server, tmp_path, pki, phase1):
    """A client chain of several KB in 200-octet fragments (the server ACKs each, RFC 5216 §3.2) and our
    own flight in 200-octet fragments (the peer ACKs each).  No CRL here: with one, every CA that issues a
    client certificate needs its CRL in the file (OpenSSL refuses a leaf whose issuer has none)."""
    rcfg = tls_server(eap_mtu=200, eap_tls_crl="")
    rc, out = tls_eapol(rcfg, tmp_path, pki, "chained", phase1, fragment=200)
    assert rc == 0, out[-3000:]
    assert_keys_match(out)
    assert out.count("SSL: Building ACK (type=13") >= 2            # the peer ACKed our fragments
    assert out.count("more fragments will follow") >= 10           # the peer's chain went in >= 10 pieces


def round_trips(out: str) -> list[int]:
    """Access-Requests of each authentication in one eapol_test run (-r n)."""
    return [run.count("(Access-Request)") for run in out.split("CTRL-EVENT-EAP-STARTED")[1:]]


@pytest.mark.parametrize("phase1", ["", "tls_disable_tlsv1_3=0"])
def test_eap_tls_resumption_saves_round_trips(tls_server, tmp_path, pki, phase1):
    """The second authentication of one eapol_test run offers its session ticket: abbreviated handshake
    (no certificates: with a multi-KB client chain that is several fragment rounds fewer -- TLS 1.3 has
    one flight each way in both handshakes, so the saving there is the certificates), keys still equal
    to the peer's MSK."""
    rcfg = tls_server(eap_tls_crl="")
    rc, out = tls_eapol_repeat(rcfg, tmp_path, pki, "chained", phase1)
    assert rc == 0, out[-3000:]
    trips = round_trips(out)
    assert len(trips) == 2 and trips[1] < trips[0], trips
    first, second = out.split("CTRL-EVENT-EAP-STARTED")[1:]
    assert "Handshake finished - resumed=0" in first and "Handshake finished - resumed=1" in second
    assert "MPPE keys OK: 2  mismatch: 0" in out


def test_eap_tls_resumption_off(tls_server, tmp_path, pki):
    rcfg = tls_server(eap_tls_resumption=False)
    rc, out = tls_eapol_repeat(rcfg, tmp_path, pki, "alice", "")
    assert rc == 0, out[-3000:]
    trips = round_trips(out)
    assert len(trips) == 2 and trips[0] == trips[1], trips


def tls_eapol_repeat(rcfg, tmp_path, pki: Pki, client: str, phase1: str) -> tuple[int, str]:
    """Two authentications in one eapol_test process (-r 1): the second may resume the first's session."""
    import subprocess

    from tests.conftest import need_binary
    from tests.radius.conftest import SECRET
    cert, key = pki.clients[client]
    conf = tmp_path / "eapol-tls-r.conf"
    lines = ['network={', '  ssid="test"', '  key_mgmt=WPA-EAP', '  eap=TLS', '  identity="alice@wlan"',
             f'  client_cert="{cert}"', f'  private_key="{key}"']
    lines.append(f'  phase1="tls_disable_session_ticket=0 {phase1}"')     # the peer asks for a ticket
    conf.write_text("\n".join(lines + ["}"]) + "\n")
    res = subprocess.run([need_binary("eapol_test"), "-c", str(conf), "-a", "127.0.0.1", "-p",
                          str(rcfg.radius.auth_port), "-s", SECRET, "-r", "1", "-t", "15"],
                         capture_output=True, text=True, timeout=60, check=False)
    return res.returncode, res.stdout + res.stderr
