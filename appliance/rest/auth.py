"""REST users, roles, HTTP Basic (RFC 7617) and bearer tokens (RFC 6750).

Users are store documents ``rest_user/<name>``: roles and an scrypt hash (RFC 7914,
N=2^14 r=8 p=1, 16-byte salt) -- never the password.  ``POST /auth/token`` with Basic
credentials issues an opaque bearer token; only its SHA-256 is stored (``rest_token``), with
an expiry.  scrypt costs ~0.1 s of CPU, so it runs in a thread and a successful check is
remembered for ``cache_ttl`` seconds under a keyed hash of the credentials (a removed user
or password change takes effect within that time).
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import logging
import os
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ..ocs.ports import Ledger, Store
from ..telemetry import metrics
from .http import ApiError

USER_DOC = "rest_user"
TOKEN_DOC = "rest_token"
ROLES: dict[str, frozenset[str]] = {
    "admin": frozenset({"read", "write", "charge"}),
    "operator": frozenset({"read", "write"}),
    "charging": frozenset({"read", "charge"}),
    "readonly": frozenset({"read"}),
}
SCRYPT = {"n": 1 << 14, "r": 8, "p": 1}
log = logging.getLogger("appliance.rest")
MAX_CACHE = 10_000


@dataclass(frozen=True, slots=True)
class Principal:
    user: str
    roles: frozenset[str]

    def allows(self, perm: str) -> bool:
        return any(perm in ROLES.get(role, frozenset()) for role in self.roles)


def hash_password(password: str, salt: bytes | None = None, params: dict[str, int] | None = None) -> dict[str, Any]:
    p = dict(params or SCRYPT)
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=p["n"], r=p["r"], p=p["p"], dklen=32,
                            maxmem=64 * 1024 * 1024)
    return {"alg": "scrypt", **p, "salt": salt.hex(), "hash": digest.hex()}


def verify_password(password: str, stored: dict[str, Any]) -> bool:
    try:
        params = {"n": int(stored["n"]), "r": int(stored["r"]), "p": int(stored["p"])}
        expected = bytes.fromhex(stored["hash"])
        got = hash_password(password, bytes.fromhex(stored["salt"]), params)["hash"]
    except (KeyError, ValueError, TypeError):
        return False
    return hmac.compare_digest(bytes.fromhex(got), expected)


def user_doc(roles: list[str], password: str, now: int) -> dict[str, Any]:
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise ValueError(f"roles must be among {', '.join(ROLES)}")
    return {"roles": sorted(set(roles)), "password": hash_password(password), "created": now}


class FailedLogins:
    """Failed credentials per client address: ``limit`` failures within ``window`` seconds make the
    address wait ``block`` seconds, answered 429 with Retry-After (``limit`` 0: off).  Bounded: past
    ``MAX_CLIENTS`` addresses the oldest entry is forgotten."""

    MAX_CLIENTS = 10_000

    def __init__(self, limit: int = 10, window: float = 60.0, block: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.block, self.clock = limit, window, block, clock
        self._seen: OrderedDict[str, tuple[int, float, float]] = OrderedDict()  # failures, first, blocked until

    def wait(self, address: str) -> float:
        """Seconds ``address`` must still wait before its credentials are looked at (0: none)."""
        entry = self._seen.get(address)
        return max(0.0, entry[2] - self.clock()) if entry else 0.0

    def failed(self, address: str) -> None:
        if self.limit <= 0:
            return
        now = self.clock()
        count, first, until = self._seen.pop(address, (0, now, 0.0))
        if now - first > self.window:
            count, first = 0, now
        count += 1
        if count >= self.limit:
            until, count, first = now + self.block, 0, now
            metrics.inc("rest.auth.blocked")
            log.warning("%s: %d failed logins within %.0f s: refused for %.0f s", address, self.limit,
                        self.window, self.block)
        self._seen[address] = (count, first, until)
        while len(self._seen) > self.MAX_CLIENTS:
            self._seen.popitem(last=False)

    def succeeded(self, address: str) -> None:
        self._seen.pop(address, None)


class Authenticator:
    """Checks the Authorization header of a request; one per server process."""

    def __init__(self, store: Store, token_ttl: int = 3600, cache_ttl: float = 30.0,
                 failed_logins: FailedLogins | None = None) -> None:
        self.failed_logins = failed_logins or FailedLogins()
        self.store = store
        self.token_ttl = token_ttl
        self.cache_ttl = cache_ttl
        self._key = os.urandom(32)
        self._cache: dict[bytes, tuple[Principal, float]] = {}

    def _remembered(self, header: str) -> tuple[bytes, Principal | None]:
        key = hmac.new(self._key, header.encode(), hashlib.sha256).digest()
        hit = self._cache.get(key)
        if hit is not None and hit[1] > time.monotonic():
            return key, hit[0]
        return key, None

    def _remember(self, key: bytes, principal: Principal, ttl: float) -> None:
        if len(self._cache) >= MAX_CACHE:
            now = time.monotonic()
            for k in [k for k, (_p, exp) in self._cache.items() if exp <= now]:
                del self._cache[k]
            if len(self._cache) >= MAX_CACHE:
                self._cache.clear()
        self._cache[key] = (principal, time.monotonic() + min(self.cache_ttl, ttl))

    async def authenticate(self, request: web.Request) -> Principal:
        header = request.headers.get("Authorization")
        if not header:
            raise _challenge("authentication required (HTTP Basic or Bearer)")
        key, principal = self._remembered(header)
        if principal is not None:
            return principal
        remote = request.remote or "?"
        wait = self.failed_logins.wait(remote)
        if wait > 0:
            err = ApiError(429, f"too many failed logins from {remote}: try again in {int(wait) + 1} s")
            err.headers = {"Retry-After": str(int(wait) + 1)}  # type: ignore[attr-defined]
            raise err
        scheme, _, value = header.strip().partition(" ")
        ttl = self.cache_ttl
        try:
            if scheme.lower() == "basic":
                principal = await self._basic(value.strip())
            elif scheme.lower() == "bearer":
                principal, ttl = await self._bearer(value.strip())
            else:
                raise _challenge(f"unsupported authorization scheme {scheme[:20]!r}")
        except ApiError as exc:
            if exc.status == 401:
                self.failed_logins.failed(remote)
            raise
        self.failed_logins.succeeded(remote)
        self._remember(key, principal, ttl)
        return principal

    async def _basic(self, value: str) -> Principal:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise _challenge("malformed Basic credentials") from None
        user, sep, password = decoded.partition(":")
        if not sep or not user or len(user) > 128 or len(password) > 1024:
            raise _challenge("malformed Basic credentials")
        doc = await self.store.atransact(lambda l: l.get_doc(USER_DOC, user))
        stored = doc.get("password") if doc else None
        dummy = {"n": SCRYPT["n"], "r": 8, "p": 1, "salt": "00" * 16, "hash": "00" * 32}
        loop = asyncio.get_running_loop()
        ok = await loop.run_in_executor(None, verify_password, password, stored or dummy)
        if not ok or doc is None:
            metrics.inc("rest.auth.failures")
            raise _challenge("wrong user name or password")
        return Principal(user, frozenset(doc.get("roles", ())))

    async def _bearer(self, token: str) -> tuple[Principal, float]:
        """The token's user and the seconds it stays valid (a cached token never outlives its expiry)."""
        if not token or len(token) > 256:
            raise _challenge("malformed bearer token")
        digest = hashlib.sha256(token.encode()).hexdigest()
        now = int(time.time())

        def look(l: Ledger) -> tuple[dict[str, Any], dict[str, Any]] | None:
            tok = l.get_doc(TOKEN_DOC, digest)
            if tok is None:
                return None
            user = l.get_doc(USER_DOC, tok.get("user", ""))
            return (tok, user) if user else None

        found = await self.store.atransact(look)
        if found is None or found[0].get("expires", 0) <= now:
            metrics.inc("rest.auth.failures")
            raise _challenge("unknown or expired bearer token", bearer_error=True)
        return Principal(found[0]["user"], frozenset(found[1].get("roles", ()))), found[0]["expires"] - now

    async def issue_token(self, principal: Principal) -> dict[str, Any]:
        token = secrets.token_urlsafe(32)
        digest = hashlib.sha256(token.encode()).hexdigest()
        now = int(time.time())
        expires = now + self.token_ttl

        def put(l: Ledger) -> None:
            for key, doc in l.list_docs(TOKEN_DOC):  # drop expired tokens (the table stays bounded by the TTL)
                if doc.get("expires", 0) <= now:
                    l.delete_doc(TOKEN_DOC, key)
            l.put_doc(TOKEN_DOC, digest, {"user": principal.user, "expires": expires})

        await self.store.atransact(put)
        return {"access_token": token, "token_type": "Bearer", "expires_in": self.token_ttl}


def _challenge(reason: str, bearer_error: bool = False) -> ApiError:
    err = ApiError(401, reason)
    err.headers = {"WWW-Authenticate": 'Bearer error="invalid_token"' if bearer_error  # type: ignore[attr-defined]
                   else 'Basic realm="ocs-appliance", charset="UTF-8"'}
    return err
