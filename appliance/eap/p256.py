"""NIST P-256 (secp256r1, IKE group 19) point arithmetic for EAP-pwd.

``cryptography`` offers ECDH and ECDSA but no point addition or multiplication of an
arbitrary point, which EAP-pwd needs (RFC 5931 §2.8.4: scalar·PWE + Element).
Jacobian coordinates over Python integers; NOT constant time (documented in
docs/eap.md): timing may leak scalars to a local observer.  ``select`` and the blinded
residue test serve the RFC 8146 hunting-and-pecking countermeasure in ``pwd.py``.
"""
from __future__ import annotations

from collections.abc import Callable

P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
A = P - 3
B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
R = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551   # group order
GX = 0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296
GY = 0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5
LEN = 32

Point = tuple[int, int] | None          # affine; None is the point at infinity


def on_curve(pt: Point) -> bool:
    if pt is None:
        return False
    x, y = pt
    return 0 <= x < P and 0 <= y < P and (y * y - (x * x * x + A * x + B)) % P == 0


def sqrt(v: int) -> int | None:
    """Square root mod P (P = 3 mod 4), None when ``v`` is not a quadratic residue."""
    y = pow(v, (P + 1) // 4, P)
    return y if y * y % P == v % P else None


def select(mask: int, a: int, b: int) -> int:
    """``a`` when ``mask`` is -1 (all ones), ``b`` when it is 0, with no branch (RFC 8146 §3)."""
    return b ^ (mask & (a ^ b))


def random_blind(random: Callable[[int], bytes]) -> tuple[int, int]:
    """A random element in [1, P-1] (40 octets reduced: bias < 2^-64, no rejection loop) and a random bit."""
    octets = random(41)
    return 1 + int.from_bytes(octets[:40], "big") % (P - 1), octets[40] & 1


def random_qr_qnr(random: Callable[[int], bytes]) -> tuple[int, int]:
    """A random quadratic residue and non-residue mod P (r² and -r², as P = 3 mod 4)."""
    r, _ = random_blind(random)
    qr = r * r % P
    return qr, P - qr


def is_quadratic_residue_blind(v: int, qr: int, qnr: int, random: Callable[[int], bytes]) -> int:
    """1 when ``v`` is a non-zero quadratic residue mod P, else 0 (RFC 8146 §3, hostapd's blinded test).

    The Legendre symbol is computed on v·r²·qr or v·r²·qnr (r and the choice random), so the
    exponentiation never sees ``v`` and the result is decoded without a branch on it.
    """
    r, bit = random_blind(random)
    mask = -bit
    num = v * r % P * r % P * select(mask, qr, qnr) % P
    legendre = pow(num, (P - 1) // 2, P)
    return select(mask, int(legendre == 1), int(legendre == P - 1))


def _double(x: int, y: int, z: int) -> tuple[int, int, int]:
    if y == 0 or z == 0:
        return 0, 1, 0
    yy = y * y % P
    s = 4 * x * yy % P
    zz = z * z % P
    m = 3 * (x - zz) * (x + zz) % P          # a = -3
    nx = (m * m - 2 * s) % P
    ny = (m * (s - nx) - 8 * yy * yy) % P
    nz = 2 * y * z % P
    return nx, ny, nz


def _add(p1: tuple[int, int, int], p2: tuple[int, int, int]) -> tuple[int, int, int]:
    x1, y1, z1 = p1
    x2, y2, z2 = p2
    if z1 == 0:
        return p2
    if z2 == 0:
        return p1
    z1z1, z2z2 = z1 * z1 % P, z2 * z2 % P
    u1, u2 = x1 * z2z2 % P, x2 * z1z1 % P
    s1, s2 = y1 * z2 * z2z2 % P, y2 * z1 * z1z1 % P
    if u1 == u2:
        return _double(x1, y1, z1) if s1 == s2 else (0, 1, 0)
    h = (u2 - u1) % P
    r = (s2 - s1) % P
    hh = h * h % P
    hhh = h * hh % P
    v = u1 * hh % P
    nx = (r * r - hhh - 2 * v) % P
    ny = (r * (v - nx) - s1 * hhh) % P
    nz = z1 * z2 * h % P
    return nx, ny, nz


def _affine(pt: tuple[int, int, int]) -> Point:
    x, y, z = pt
    if z == 0:
        return None
    zi = pow(z, -1, P)
    zi2 = zi * zi % P
    return x * zi2 % P, y * zi2 * zi % P


def add(p1: Point, p2: Point) -> Point:
    j1 = (p1[0], p1[1], 1) if p1 is not None else (0, 1, 0)
    j2 = (p2[0], p2[1], 1) if p2 is not None else (0, 1, 0)
    return _affine(_add(j1, j2))


def mul(k: int, pt: Point) -> Point:
    if pt is None or k % R == 0:
        return None
    k %= R
    base = (pt[0], pt[1], 1)
    acc = (0, 1, 0)
    for bit in bin(k)[2:]:
        acc = _double(*acc)
        if bit == "1":
            acc = _add(acc, base)
    return _affine(acc)


def neg(pt: Point) -> Point:
    return None if pt is None else (pt[0], (-pt[1]) % P)


def encode(pt: Point) -> bytes:
    assert pt is not None
    return pt[0].to_bytes(LEN, "big") + pt[1].to_bytes(LEN, "big")


def decode(data: bytes) -> Point:
    if len(data) != 2 * LEN:
        return None
    pt = (int.from_bytes(data[:LEN], "big"), int.from_bytes(data[LEN:], "big"))
    return pt if on_curve(pt) else None
