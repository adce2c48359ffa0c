"""Subscriber and client secrets encrypted at rest (AES-256-GCM, a local key file).

What is sealed: a service's password, K and OPc (``service`` table) and a RADIUS client's or
Diameter peer's shared secret (``client`` documents).  They are sealed when written and opened
when read, by the row mapping both stores share (:mod:`appliance.store.rows`), so every reader —
RADIUS PAP/CHAP/MS-CHAPv2, EAP-AKA vectors, the CLI — sees the clear value and nothing else
changes.  A value written before sealing was configured is read as it is (clear) and sealed the
next time it is written, or all at once by ``appliance db rekey``.

The key file (``database.secret_key_file``, default ``<data_dir>/secrets.key``) lives outside the
database, mode 0600.  One key per line, ``<key id>:<base64 of 32 octets>``; the first line seals,
every line opens, so a key is rotated by putting a new first line (``appliance db rekey``), which
also re-seals every secret with it; older lines may then be dropped.  A backup of the database
needs the key file beside it; several PostgreSQL nodes share one key file.

Sealed forms: text ``enc1:<key id>:<base64(nonce | ciphertext+tag)>``; octets
``b"\\x00enc1" + key id (8 ASCII) + nonce (12) + ciphertext+tag``.  The associated data names the
field (``service.k`` …) so a sealed K cannot be moved into the OPc column unnoticed.
"""
from __future__ import annotations

import base64
import os
import secrets as _random
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

TEXT_PREFIX = "enc1:"
BYTES_PREFIX = b"\x00enc1"
_KID_LEN = 8


class SecretKeyError(Exception):
    """A sealed secret cannot be opened (no key file, or no line with its key id)."""


class SecretBox:
    def __init__(self, keys: list[tuple[str, bytes]]) -> None:
        if not keys:
            raise ValueError("a key file needs at least one key")
        self.current = keys[0][0]
        self._ciphers = {kid: AESGCM(key) for kid, key in keys}

    def seal_bytes(self, value: bytes, field: str) -> bytes:
        nonce = os.urandom(12)
        return BYTES_PREFIX + self.current.encode() + nonce + \
            self._ciphers[self.current].encrypt(nonce, value, field.encode())

    def open_bytes(self, value: bytes, field: str) -> bytes:
        kid = value[len(BYTES_PREFIX):len(BYTES_PREFIX) + _KID_LEN].decode("ascii", "replace")
        body = value[len(BYTES_PREFIX) + _KID_LEN:]
        return self._cipher(kid).decrypt(body[:12], body[12:], field.encode())

    def seal_text(self, value: str, field: str) -> str:
        sealed = self.seal_bytes(value.encode(), field)[len(BYTES_PREFIX) + _KID_LEN:]
        return f"{TEXT_PREFIX}{self.current}:{base64.b64encode(sealed).decode()}"

    def open_text(self, value: str, field: str) -> str:
        _prefix, kid, b64 = value.split(":", 2)
        body = base64.b64decode(b64)
        return self._cipher(kid).decrypt(body[:12], body[12:], field.encode()).decode()

    def _cipher(self, kid: str) -> AESGCM:
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise SecretKeyError(f"no key {kid!r} in the secret key file (rotated away?)")
        return cipher


def new_key_line() -> str:
    return f"{_random.token_hex(_KID_LEN // 2)}:{base64.b64encode(os.urandom(32)).decode()}"


def load_key_file(path: Path, create: bool) -> SecretBox | None:
    """The box of ``path``; created (0600, one new key) when absent and ``create``; None when absent."""
    if not path.exists():
        if not create:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:          # another process of the set created it first
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(new_key_line() + "\n")
    keys: list[tuple[str, bytes]] = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        kid, _sep, b64 = line.partition(":")
        try:
            key = base64.b64decode(b64, validate=True)
        except ValueError:
            key = b""
        if len(kid) != _KID_LEN or len(key) != 32:
            raise ValueError(f"{path}: line {n}: expected '<8-character key id>:<base64 of 32 octets>'")
        keys.append((kid, key))
    return SecretBox(keys)


# --- what the row mapping calls (``box``: the store's; None: secrets are written in clear) ---------

def seal_text(value: str | None, field: str, box: SecretBox | None) -> str | None:
    if value is None or box is None:
        return value
    return box.seal_text(value, field)


def open_text(value: str | None, field: str, box: SecretBox | None) -> str | None:
    if value is None or not value.startswith(TEXT_PREFIX):
        return value
    if box is None:
        raise SecretKeyError(f"{field} is sealed and this store has no secret key file")
    return box.open_text(value, field)


def seal_bytes(value: bytes | None, field: str, box: SecretBox | None) -> bytes | None:
    if value is None or box is None:
        return value
    return box.seal_bytes(value, field)


def open_bytes(value: bytes | None, field: str, box: SecretBox | None) -> bytes | None:
    if value is None or not value.startswith(BYTES_PREFIX):
        return value
    if box is None:
        raise SecretKeyError(f"{field} is sealed and this store has no secret key file")
    return box.open_bytes(value, field)
