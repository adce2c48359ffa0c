"""MS-CHAPv2 server computations (RFC 2759 §8) and the MD4 they need (RFC 1320).

OpenSSL 3 hides MD4 in its legacy provider, so it is implemented here (it only
hashes the UTF-16LE password).  DES (RFC 2759 §8.6 ``DesEncrypt``) uses
cryptography's TripleDES with three equal keys, which is single DES.
"""
from __future__ import annotations

import hashlib
import hmac
import struct

MAGIC1 = b"Magic server to client signing constant"
MAGIC2 = b"Pad to make it do more than one iteration"


def _rol(x: int, n: int) -> int:
    x &= 0xFFFFFFFF
    return ((x << n) | (x >> (32 - n))) & 0xFFFFFFFF


def md4(data: bytes) -> bytes:
    """RFC 1320."""
    msg = data + b"\x80" + bytes((55 - len(data)) % 64) + struct.pack("<Q", len(data) * 8)
    a, b, c, d = 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476
    for off in range(0, len(msg), 64):
        x = struct.unpack("<16I", msg[off:off + 64])
        aa, bb, cc, dd = a, b, c, d

        def f(x_: int, y: int, z: int) -> int:
            return (x_ & y) | (~x_ & z)

        def g(x_: int, y: int, z: int) -> int:
            return (x_ & y) | (x_ & z) | (y & z)

        def h(x_: int, y: int, z: int) -> int:
            return x_ ^ y ^ z
        for i in (0, 4, 8, 12):
            a = _rol(a + f(b, c, d) + x[i], 3)
            d = _rol(d + f(a, b, c) + x[i + 1], 7)
            c = _rol(c + f(d, a, b) + x[i + 2], 11)
            b = _rol(b + f(c, d, a) + x[i + 3], 19)
        for i in (0, 1, 2, 3):
            a = _rol(a + g(b, c, d) + x[i] + 0x5A827999, 3)
            d = _rol(d + g(a, b, c) + x[i + 4] + 0x5A827999, 5)
            c = _rol(c + g(d, a, b) + x[i + 8] + 0x5A827999, 9)
            b = _rol(b + g(c, d, a) + x[i + 12] + 0x5A827999, 13)
        for i in (0, 2, 1, 3):
            a = _rol(a + h(b, c, d) + x[i] + 0x6ED9EBA1, 3)
            d = _rol(d + h(a, b, c) + x[i + 8] + 0x6ED9EBA1, 9)
            c = _rol(c + h(d, a, b) + x[i + 4] + 0x6ED9EBA1, 11)
            b = _rol(b + h(c, d, a) + x[i + 12] + 0x6ED9EBA1, 15)
        a, b, c, d = (a + aa) & 0xFFFFFFFF, (b + bb) & 0xFFFFFFFF, (c + cc) & 0xFFFFFFFF, (d + dd) & 0xFFFFFFFF
    return struct.pack("<4I", a, b, c, d)


def _des_key(seven: bytes) -> bytes:
    """56 key bits -> 8 octets (parity bits left 0: DES ignores them), RFC 2759 §8.6."""
    bits = int.from_bytes(seven, "big")
    return bytes(((bits >> (49 - 7 * i)) & 0x7F) << 1 for i in range(8))


def des_encrypt(clear: bytes, seven: bytes) -> bytes:
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives.ciphers import Cipher, modes
    key = _des_key(seven)
    enc = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()
    return enc.update(clear) + enc.finalize()


def nt_password_hash(password: str) -> bytes:
    return md4(password.encode("utf-16-le"))


def challenge_hash(peer_challenge: bytes, auth_challenge: bytes, username: str) -> bytes:
    """RFC 2759 §8.2; the user name without a leading ``DOMAIN\\``."""
    user = username.rsplit("\\", 1)[-1].encode()
    return hashlib.sha1(peer_challenge + auth_challenge + user).digest()[:8]


def challenge_response(challenge: bytes, password_hash: bytes) -> bytes:
    z = password_hash + bytes(5)
    return des_encrypt(challenge, z[0:7]) + des_encrypt(challenge, z[7:14]) + des_encrypt(challenge, z[14:21])


def generate_nt_response(auth_challenge: bytes, peer_challenge: bytes, username: str, password: str) -> bytes:
    """RFC 2759 §8.1."""
    return challenge_response(challenge_hash(peer_challenge, auth_challenge, username), nt_password_hash(password))


def authenticator_response(password: str, nt_response: bytes, peer_challenge: bytes, auth_challenge: bytes,
                           username: str) -> str:
    """RFC 2759 §8.7: "S=" and 40 upper-case hex digits."""
    hash_hash = md4(nt_password_hash(password))
    digest = hashlib.sha1(hash_hash + nt_response + MAGIC1).digest()
    challenge = challenge_hash(peer_challenge, auth_challenge, username)
    digest = hashlib.sha1(digest + challenge + MAGIC2).digest()
    return "S=" + digest.hex().upper()


def verify(auth_challenge: bytes, peer_challenge: bytes, username: str, password: str, nt_response: bytes) -> bool:
    want = generate_nt_response(auth_challenge, peer_challenge, username, password)
    return hmac.compare_digest(want, nt_response)


MAGIC_MASTER = b"This is the MPPE Master Key"
MAGIC_SEND_CLIENT = b"On the client side, this is the send key; on the server side, it is the receive key."
MAGIC_RECV_CLIENT = b"On the client side, this is the receive key; on the server side, it is the send key."


def master_key(password: str, nt_response: bytes) -> bytes:
    """RFC 3079 §3.4 GetMasterKey."""
    hash_hash = md4(nt_password_hash(password))
    return hashlib.sha1(hash_hash + nt_response + MAGIC_MASTER).digest()[:16]


def asymmetric_start_key(master: bytes, magic: bytes) -> bytes:
    """RFC 3079 §3.4 GetAsymmetricStartKey (SHSpad1 = 40 x 0x00, SHSpad2 = 40 x 0xf2), 16 octets."""
    return hashlib.sha1(master + bytes(40) + magic + b"\xf2" * 40).digest()[:16]


def eap_msk(password: str, nt_response: bytes) -> bytes:
    """The MSK of EAP-MSCHAPv2 as PEAP's inner session key: the peer's send key | its receive key
    (the server's MS-MPPE-Recv-Key | MS-MPPE-Send-Key, [MS-PEAP] §3.1.5.5), 32 octets."""
    master = master_key(password, nt_response)
    return asymmetric_start_key(master, MAGIC_SEND_CLIENT) + asymmetric_start_key(master, MAGIC_RECV_CLIENT)
