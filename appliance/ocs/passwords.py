"""Passwords stored as salted hashes, for subscribers who authenticate with PAP only.

PAP (RFC 2865 §5.2) and EAP-TTLS inner PAP send the password itself, so the server can compare a
hash of it; every other method needs the clear password on the server (CHAP and MS-CHAPv2 hash it
with a challenge, EAP-GTC compares it, EAP-pwd derives its element from it).  A subscriber stored
with a hash therefore authenticates with PAP only.

Form: ``{SSHA256}`` + base64(SHA-256(password ‖ salt) ‖ salt), salt 16 random octets — the salted
SHA-2 form FreeRADIUS reads as ``SSHA2-256-Password``.  One SHA-256 per check keeps PAP at line
rate; the database also seals it (``appliance.store.secrets``).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os

PREFIX = "{SSHA256}"
_PREFIX_BYTES = PREFIX.encode()


def hash_password(clear: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.sha256(clear.encode() + salt).digest()
    return PREFIX + base64.b64encode(digest + salt).decode()


def is_hashed(stored: str | bytes | None) -> bool:
    if stored is None:
        return False
    return stored.startswith(_PREFIX_BYTES) if isinstance(stored, bytes) else stored.startswith(PREFIX)


def pap_matches(clear: bytes, stored: bytes) -> bool:
    """Whether a PAP password matches what is stored: the clear password, or its salted hash."""
    if not stored.startswith(_PREFIX_BYTES):
        return hmac.compare_digest(clear, stored)
    try:
        raw = base64.b64decode(stored[len(_PREFIX_BYTES):], validate=True)
    except ValueError:
        return False
    if len(raw) <= 32:
        return False
    digest, salt = raw[:32], raw[32:]
    return hmac.compare_digest(hashlib.sha256(clear + salt).digest(), digest)
