"""The appliance certificate: configured, or a self-signed pair generated on first start."""
from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

from .config import Config


def certificate_paths(cfg: Config) -> tuple[Path, Path]:
    if cfg.tls.certificate and cfg.tls.key:
        return cfg.path(cfg.tls.certificate), cfg.path(cfg.tls.key)
    folder = cfg.path(cfg.data_dir) / "tls"
    return folder / "server.crt", folder / "server.key"


def ensure_certificate(cfg: Config) -> tuple[Path, Path]:
    """Return (cert, key); generate a self-signed P-256 pair when none exists."""
    cert_path, key_path = certificate_paths(cfg)
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    if cfg.tls.certificate:
        raise SystemExit(f"appliance: configured certificate {cert_path} or key {key_path} missing")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cfg.node.host),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "OCS appliance (self-signed)")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(cfg.node.host)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


# ------------------------------------------------------------------ operator tooling (`appliance tls`)

class CertificateError(ValueError):
    """A certificate chain or key an operator gave is unusable (the message says why)."""


def _x509() -> Any:
    from cryptography import x509
    return x509


def load_chain(pem: bytes) -> list[Any]:
    """Every certificate of a PEM file, in file order (leaf first)."""
    x509 = _x509()
    try:
        chain = x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise CertificateError(f"not a PEM certificate chain: {exc}") from None
    if not chain:
        raise CertificateError("no certificate in the file")
    return list(chain)


def load_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization
    try:
        return serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise CertificateError(f"not an unencrypted PEM private key: {exc}") from None


def _spki(public_key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization
    return bytes(public_key.public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo))


def key_matches(cert: Any, key: Any) -> bool:
    """The private key is the one of the certificate (same SubjectPublicKeyInfo)."""
    return _spki(cert.public_key()) == _spki(key.public_key())


def check_chain(chain: list[Any], key: Any, now: datetime.datetime) -> None:
    """Refuse what would fail in front of a peer: a key of another certificate, an expired or not yet
    valid certificate, a chain whose certificates do not each name the next one as issuer."""
    leaf = chain[0]
    if not key_matches(leaf, key):
        raise CertificateError("the private key does not match the certificate (different public keys)")
    for cert in chain:
        if cert.not_valid_after_utc <= now:
            raise CertificateError(f"{cert.subject.rfc4514_string()} expired on {cert.not_valid_after_utc:%Y-%m-%d}")
        if cert.not_valid_before_utc > now:
            raise CertificateError(f"{cert.subject.rfc4514_string()} is not valid before "
                                   f"{cert.not_valid_before_utc:%Y-%m-%d}")
    for cert, issuer in zip(chain, chain[1:], strict=False):
        if cert.issuer != issuer.subject:
            raise CertificateError(f"chain order: {cert.subject.rfc4514_string()} is not issued by "
                                   f"{issuer.subject.rfc4514_string()} (leaf first, then each issuer)")


def describe(cfg: Config, now: datetime.datetime | None = None) -> dict[str, Any]:
    """What is in use: paths, each certificate's subject, issuer, validity, days left, SANs, SHA-256
    fingerprint, and whether the key matches."""
    from cryptography.hazmat.primitives import hashes
    x509 = _x509()
    now = now or datetime.datetime.now(datetime.UTC)
    cert_path, key_path = certificate_paths(cfg)
    if not cert_path.exists():
        return {"certificate": str(cert_path), "present": False}
    chain = load_chain(cert_path.read_bytes())
    out: dict[str, Any] = {"certificate": str(cert_path), "key": str(key_path), "present": True,
                           "configured": bool(cfg.tls.certificate), "chain": []}
    for cert in chain:
        try:
            sans = [str(v) for v in cert.extensions.get_extension_for_class(
                x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)]
        except x509.ExtensionNotFound:
            sans = []
        out["chain"].append({
            "subject": cert.subject.rfc4514_string(), "issuer": cert.issuer.rfc4514_string(),
            "not_before": cert.not_valid_before_utc.isoformat(), "not_after": cert.not_valid_after_utc.isoformat(),
            "days_left": (cert.not_valid_after_utc - now).days, "dns": sans,
            "sha256": cert.fingerprint(hashes.SHA256()).hex(":")})
    out["key_matches"] = key_path.exists() and key_matches(chain[0], load_key(key_path.read_bytes()))
    return out


def make_csr(common_name: str, dns: list[str], key_out: Path) -> bytes:
    """A new P-256 key (written to ``key_out``, 0600, never printed) and a PEM CSR (PKCS #10) for it."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    x509 = _x509()
    if key_out.exists():
        raise CertificateError(f"{key_out} exists: refusing to overwrite a key")
    key = ec.generate_private_key(ec.SECP256R1())
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
    names = [x509.DNSName(n) for n in (dns or [common_name])]
    builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    csr = builder.sign(key, hashes.SHA256())
    key_out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    return bytes(csr.public_bytes(serialization.Encoding.PEM))


def install(cfg: Config, chain_file: Path, key_file: Path, now: datetime.datetime | None = None) -> tuple[Path, Path]:
    """Check the chain and key (:func:`check_chain`) and put them where the appliance reads them (the
    configured paths, or ``data_dir/tls``), atomically; the workers use them from their next start."""
    chain_pem, key_pem = chain_file.read_bytes(), key_file.read_bytes()
    chain, key = load_chain(chain_pem), load_key(key_pem)
    check_chain(chain, key, now or datetime.datetime.now(datetime.UTC))
    cert_path, key_path = certificate_paths(cfg)
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_key = key_path.with_name(key_path.name + ".new")
    fd = os.open(tmp_key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key_pem)
    tmp_cert = cert_path.with_name(cert_path.name + ".new")
    tmp_cert.write_bytes(chain_pem)
    os.replace(tmp_key, key_path)
    os.replace(tmp_cert, cert_path)
    return cert_path, key_path
