"""The appliance certificate: configured, or a self-signed pair generated on first start."""
from __future__ import annotations

import datetime
import os
from pathlib import Path

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
