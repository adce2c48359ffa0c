"""`appliance tls show / csr / install`, and eapol_test checking the installed server certificate
(a supplicant with `ca_cert` accepts the chain it trusts and refuses an expired server certificate)."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from appliance.cli import main
from appliance.config import TlsConfig
from tests.eap.test_eapol import assert_keys_match, eapol
from tests.radius.conftest import RunningServer, radius_cfg

NOW = dt.datetime.now(dt.UTC)


def _cert(cn: str, key, issuer=None, ca=False, days=(1, 30)):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    iname, ikey = issuer if issuer else (name, key)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(iname).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(NOW - dt.timedelta(days=days[0]))
            .not_valid_after(NOW + dt.timedelta(days=days[1]))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
            .sign(ikey, hashes.SHA256()))


def _pem(*certs) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def _key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@pytest.fixture
def conf(tmp_path):
    path = tmp_path / "appliance.yaml"
    path.write_text(f"data_dir: {tmp_path}/data\nrun_dir: {tmp_path}/run\nlog_dir: {tmp_path}/logs\n")
    return path


@pytest.fixture
def pki(tmp_path):
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("Operator CA", ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = _cert("radius.example", key, (ca.subject, ca_key))
    old_key = ec.generate_private_key(ec.SECP256R1())
    expired = _cert("radius.example", old_key, (ca.subject, ca_key), days=(60, -1))
    files = {"ca": _pem(ca), "chain": _pem(leaf, ca), "key": _key_pem(key), "reversed": _pem(ca, leaf),
             "expired": _pem(expired, ca), "expired_key": _key_pem(old_key),
             "other_key": _key_pem(ec.generate_private_key(ec.SECP256R1()))}
    for name, data in files.items():
        (tmp_path / f"{name}.pem").write_bytes(data)
    return tmp_path


def test_csr_writes_a_private_key_and_a_request(conf, tmp_path, capsys):
    assert main(["--config", str(conf), "tls", "csr", "--cn", "radius.example", "--dns", "radius.example",
                 "--dns", "aaa.example", "--key", str(tmp_path / "new.key")]) == 0
    csr = x509.load_pem_x509_csr(capsys.readouterr().out.encode())
    assert csr.is_signature_valid
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "radius.example"
    sans = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["radius.example", "aaa.example"]
    key_file = tmp_path / "new.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = serialization.load_pem_private_key(key_file.read_bytes(), None)
    assert key.public_key().public_numbers() == csr.public_key().public_numbers()
    assert main(["--config", str(conf), "tls", "csr", "--key", str(key_file)]) == 1     # never overwrites a key
    assert "exists" in capsys.readouterr().err


def test_install_then_show(conf, pki, capsys):
    assert main(["--config", str(conf), "tls", "install", str(pki / "chain.pem"), str(pki / "key.pem")]) == 0
    capsys.readouterr()
    assert main(["--config", str(conf), "tls", "show"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["key_matches"] is True and len(shown["chain"]) == 2
    leaf = shown["chain"][0]
    assert leaf["subject"] == "CN=radius.example" and leaf["issuer"] == "CN=Operator CA"
    assert 28 <= leaf["days_left"] <= 30 and leaf["dns"] == ["radius.example"]


@pytest.mark.parametrize("chain,key,reason", [("chain", "other_key", "does not match the certificate"),
                                              ("expired", "expired_key", "expired on"),
                                              ("reversed", "key", "does not match"),
                                              ("ca", "key", "does not match")])
def test_install_refuses(conf, pki, capsys, chain, key, reason):
    rc = main(["--config", str(conf), "tls", "install", str(pki / f"{chain}.pem"), str(pki / f"{key}.pem")])
    err = capsys.readouterr().err
    assert rc == 1 and reason in err and err.count("\n") == 1
    assert not (pki / "data" / "tls" / "server.crt").exists()


def test_misordered_chain_is_refused(conf, pki, tmp_path, capsys):
    """Leaf first, then its issuer: a leaf followed by a certificate that did not issue it is refused."""
    stranger = _cert("Other CA", ec.generate_private_key(ec.SECP256R1()), ca=True)
    (tmp_path / "bad.pem").write_bytes((pki / "chain.pem").read_bytes().split(b"-----END CERTIFICATE-----")[0]
                                       + b"-----END CERTIFICATE-----\n" + _pem(stranger))
    assert main(["--config", str(conf), "tls", "install", str(tmp_path / "bad.pem"), str(pki / "key.pem")]) == 1
    assert "chain order" in capsys.readouterr().err


def test_supplicant_checks_the_installed_certificate(cfg, store, seed_subscriber, pki, tmp_path):
    """eapol_test with ca_cert = the operator CA: the installed chain is accepted; an expired server
    certificate (configured directly: `install` refuses it) is refused by the supplicant."""
    seed_subscriber(nai="alice@wlan", password="s3cret-pw")
    ca = f'ca_cert="{pki / "ca.pem"}"'
    good = dataclasses.replace(cfg, tls=TlsConfig(str(pki / "chain.pem"), str(pki / "key.pem")))
    srv = RunningServer(radius_cfg(good)).start()
    try:
        rc, out = eapol(srv.cfg, tmp_path, "TTLS", "s3cret-pw", "auth=PAP", extra=(ca,))
        assert rc == 0, out[-3000:]
        assert_keys_match(out)
    finally:
        srv.close()
    bad = dataclasses.replace(cfg, tls=TlsConfig(str(pki / "expired.pem"), str(pki / "expired_key.pem")))
    srv = RunningServer(radius_cfg(bad)).start()
    try:
        for method, phase2 in (("TTLS", "auth=PAP"), ("PEAP", "auth=MSCHAPV2")):
            rc, out = eapol(srv.cfg, tmp_path, method, "s3cret-pw", phase2, extra=(ca,))
            assert rc != 0 and "code=2 (Access-Accept)" not in out
            assert "certificate has expired" in out, out[-3000:]
    finally:
        srv.close()
