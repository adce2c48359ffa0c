"""``appliance tls``: the server certificate EAP-TTLS, PEAP and EAP-TLS present (and REST/Diameter TLS).

``show`` prints what is in use (JSON: subject, issuer, validity, days left, SANs, fingerprint, whether
the key matches); ``csr`` makes a new key (0600, never printed) and a PKCS #10 request to give a CA;
``install CHAIN KEY`` checks the chain (leaf first) and the key -- a key of another certificate, an
expired certificate or a misordered chain is refused with the reason -- and puts both where the
workers read them at their next start.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..config import Config


def _show(cfg: Config, args: argparse.Namespace) -> int:
    from ..tls import CertificateError, describe
    try:
        print(json.dumps(describe(cfg), indent=2))
    except CertificateError as exc:
        print(f"appliance: tls: {exc}", file=sys.stderr)
        return 1
    return 0


def _csr(cfg: Config, args: argparse.Namespace) -> int:
    from ..tls import CertificateError, make_csr
    try:
        csr = make_csr(args.cn or cfg.node.host, list(args.dns or ()), Path(args.key))
    except CertificateError as exc:
        print(f"appliance: tls: {exc}", file=sys.stderr)
        return 1
    if args.out:
        Path(args.out).write_bytes(csr)
    else:
        sys.stdout.write(csr.decode())
    return 0


def _install(cfg: Config, args: argparse.Namespace) -> int:
    from ..tls import CertificateError, install
    try:
        cert, key = install(cfg, Path(args.chain), Path(args.key))
    except (CertificateError, OSError) as exc:
        print(f"appliance: tls: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"certificate": str(cert), "key": str(key), "restart": "the workers use it from their "
                                                                            "next start"}))
    return 0


def register(subparsers: Any) -> None:
    g = subparsers.add_parser("tls", help="the server certificate (show, csr, install)",
                              description=__doc__).add_subparsers(dest="sub", required=True)
    show = g.add_parser("show", help="the certificate chain in use and its expiry")
    show.set_defaults(func=_show)
    csr = g.add_parser("csr", help="a new key and a certificate signing request")
    csr.add_argument("--cn", help="subject common name (default: node.host)")
    csr.add_argument("--dns", action="append", help="subjectAltName DNS name (repeat; default: the CN)")
    csr.add_argument("--key", required=True, help="where to write the new private key (must not exist)")
    csr.add_argument("--out", help="where to write the CSR (default: stdout)")
    csr.set_defaults(func=_csr)
    inst = g.add_parser("install", help="install a certificate chain (leaf first) and its key")
    inst.add_argument("chain")
    inst.add_argument("key")
    inst.set_defaults(func=_install)
