"""The peer (UE) side of EAP-AKA / EAP-AKA' over a software USIM (RFC 4187 §9, RFC 9048 §3).

Used by the tests, the Diameter UE simulators and the benchmark as an independent client;
the reference interoperability proof remains eapol_test (hostap) in tests/eap.
Pure: EAP packets in, EAP packets out.
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass, field

from . import aka_codec as c
from .aka_codec import At, Subtype, Variant
from .milenage import Usim
from .packet import Code, EapType, decode
from .packet import encode as eap_encode


@dataclass
class AkaPeer:
    variant: Variant
    permanent: str                     # e.g. "0001010000000001@wlan.mnc001.mcc001.3gppnetwork.org"
    usim: Usim
    supports_prime: bool = False       # RFC 9048 §4: refuse EAP-AKA with AT_BIDDING when True
    kdf: int = c.KDF_AKA_PRIME         # the KDF this peer accepts
    tamper_res: bool = False           # tests: send a wrong RES
    result_ind: bool = False           # ask for protected success indications (RFC 4187 §6.2)
    pseudonym: str | None = None
    reauth_id: str | None = None
    counter: int = 0
    reauth_keys: c.Keys | None = None
    identity: bytes = b""
    msk: bytes = b""
    emsk: bytes = b""
    result: str = ""                   # "success" | "failure" | ""
    notifications: list[int] = field(default_factory=list)
    _id_msgs: bytearray = field(default_factory=bytearray)
    _keys: c.Keys | None = None
    _nonce_s: bytes = b""
    _last_reauth: bool = False

    def realm(self) -> str:
        return self.permanent.split("@", 1)[1] if "@" in self.permanent else ""

    def outer_identity(self) -> str:
        """Re-auth id if any, else pseudonym@realm, else the permanent identity (RFC 4187 §4.1.1.3)."""
        if self.reauth_id:
            return self.reauth_id
        if self.pseudonym:
            return f"{self.pseudonym}@{self.realm()}" if self.realm() else self.pseudonym
        return self.permanent

    def start(self, ident: int) -> bytes:
        """EAP-Response/Identity to a Request/Identity with Identifier ``ident``."""
        self._id_msgs.clear()
        self.result, self.msk, self.emsk = "", b"", b""
        self.identity = self.outer_identity().encode()
        return eap_encode(Code.RESPONSE, ident, EapType.IDENTITY, self.identity)

    def _resp(self, ident: int, subtype: int, attrs: list[c.Attr]) -> bytes:
        return eap_encode(Code.RESPONSE, ident, self.variant.type, c.encode(subtype, attrs))

    def _signed(self, ident: int, subtype: int, attrs: list[c.Attr], k_aut: bytes, extra: bytes = b"") -> bytes:
        pkt = self._resp(ident, subtype, attrs + [c.fixed(At.MAC, bytes(16))])
        return c.sign(self.variant, k_aut, pkt, extra)

    def respond(self, raw: bytes) -> bytes | None:
        """The Response to an EAP-Request, or None after Success/Failure."""
        pkt = decode(raw)
        if pkt.code == Code.SUCCESS:
            self.result = "success"
            return None
        if pkt.code == Code.FAILURE:
            self.result = "failure"
            return None
        if pkt.type == EapType.IDENTITY:
            return self.start(pkt.identifier)
        if pkt.type != self.variant.type:
            return eap_encode(Code.RESPONSE, pkt.identifier, EapType.NAK, bytes((self.variant.type,)))
        subtype, attrs = c.decode(pkt.data)
        ident = pkt.identifier
        if subtype == Subtype.IDENTITY:
            return self._identity(raw, ident, attrs)
        if subtype == Subtype.CHALLENGE:
            return self._challenge(raw, ident, attrs)
        if subtype == Subtype.REAUTHENTICATION:
            return self._reauth(raw, ident, attrs)
        if subtype == Subtype.NOTIFICATION:
            code = c.get_u16(attrs, At.NOTIFICATION) or 0
            self.notifications.append(code)
            if code & 0x4000:                       # P bit: before the challenge, no AT_MAC
                return self._resp(ident, Subtype.NOTIFICATION, [])
            keys = self.reauth_keys
            if keys is None or not c.verify(self.variant, keys.k_aut, raw):
                return self._resp(ident, Subtype.CLIENT_ERROR, [c.u16(At.CLIENT_ERROR_CODE, 0)])
            extra: list[c.Attr] = []
            if self._last_reauth:
                iv = bytes(range(16, 32))
                extra = [c.fixed(At.IV, iv), c.fixed(At.ENCR_DATA, c.encrypt(keys.k_encr, iv,
                                                                               [c.u16(At.COUNTER, self.counter)]))]
            return self._signed(ident, Subtype.NOTIFICATION, extra, keys.k_aut)
        return self._resp(ident, Subtype.CLIENT_ERROR, [c.u16(At.CLIENT_ERROR_CODE, 0)])

    def _identity(self, raw: bytes, ident: int, attrs: list[c.Attr]) -> bytes:
        if c.first(attrs, At.PERMANENT_ID_REQ) is not None:
            chosen = self.permanent
        elif c.first(attrs, At.FULLAUTH_ID_REQ) is not None:
            self.reauth_id = None
            chosen = self.outer_identity()
        else:
            chosen = self.outer_identity()
        self.identity = chosen.encode()
        resp = self._resp(ident, Subtype.IDENTITY, [c.text(At.IDENTITY, self.identity)])
        self._id_msgs += raw + resp
        return resp

    def _challenge(self, raw: bytes, ident: int, attrs: list[c.Attr]) -> bytes:
        v = self.variant
        rand, autn = c.get_fixed(attrs, At.RAND, 16), c.get_fixed(attrs, At.AUTN, 16)
        if rand is None or autn is None:
            return self._resp(ident, Subtype.CLIENT_ERROR, [c.u16(At.CLIENT_ERROR_CODE, 0)])
        if not v.prime and self.supports_prime and (c.get_u16(attrs, At.BIDDING) or 0) & c.BIDDING_D:
            return self._resp(ident, Subtype.CLIENT_ERROR, [c.u16(At.CLIENT_ERROR_CODE, 0)])
        if v.prime and c.get_all_u16(attrs, At.KDF)[:1] != [self.kdf]:
            return self._resp(ident, Subtype.CHALLENGE, [c.u16(At.KDF, self.kdf)])
        status, out, ck, ik, sqn = self.usim.authenticate(rand, autn)
        if status == "mac":
            return self._resp(ident, Subtype.AUTHENTICATION_REJECT, [])
        if status == "sync":
            extra = [c.u16(At.KDF, self.kdf)] if v.prime else []
            return self._resp(ident, Subtype.SYNCHRONIZATION_FAILURE, [(At.AUTS, out)] + extra)
        if v.prime:
            nn = c.get_text(attrs, At.KDF_INPUT) or b""
            ck, ik = c.ck_ik_prime(ck, ik, nn, autn[:6])
        keys = c.full_keys(v, self.identity, ck, ik)
        if not c.verify(v, keys.k_aut, raw):
            return self._resp(ident, Subtype.CLIENT_ERROR, [c.u16(At.CLIENT_ERROR_CODE, 0)])
        checkcode = c.first(attrs, At.CHECKCODE)
        expected = v.hash(bytes(self._id_msgs)) if self._id_msgs else b""
        if checkcode is not None and not hmac.compare_digest(checkcode[2:], expected):
            return self._resp(ident, Subtype.CLIENT_ERROR, [c.u16(At.CLIENT_ERROR_CODE, 0)])
        self.usim = Usim(self.usim.k, self.usim.opc, sqn)
        self._take_ids(keys, attrs)
        self._keys, self.reauth_keys, self.counter = keys, keys, 0
        self.msk, self.emsk = keys.msk, keys.emsk
        res = bytes(len(out)) if self.tamper_res else out
        self._last_reauth = False
        ind = [c.fixed(At.RESULT_IND)] if self.result_ind and c.first(attrs, At.RESULT_IND) is not None else []
        return self._signed(ident, Subtype.CHALLENGE, [c.res(res), c.fixed(At.CHECKCODE, expected)] + ind,
                            keys.k_aut)

    def _take_ids(self, keys: c.Keys, attrs: list[c.Attr]) -> list[c.Attr]:
        iv, data = c.get_fixed(attrs, At.IV, 16), c.first(attrs, At.ENCR_DATA)
        if iv is None or data is None:
            self.reauth_id = None
            return []
        inner = c.decrypt(keys.k_encr, iv, data[2:])
        pseudonym, reauth = c.get_text(inner, At.NEXT_PSEUDONYM), c.get_text(inner, At.NEXT_REAUTH_ID)
        if pseudonym:
            self.pseudonym = pseudonym.decode()
        self.reauth_id = reauth.decode() if reauth else None
        return inner

    def _reauth(self, raw: bytes, ident: int, attrs: list[c.Attr]) -> bytes:
        keys = self.reauth_keys
        if keys is None or not c.verify(self.variant, keys.k_aut, raw):
            return self._resp(ident, Subtype.CLIENT_ERROR, [c.u16(At.CLIENT_ERROR_CODE, 0)])
        previous = self.counter
        inner = self._take_ids(keys, attrs)
        counter, nonce_s = c.get_u16(inner, At.COUNTER), c.get_fixed(inner, At.NONCE_S, 16)
        if counter is None or nonce_s is None:
            return self._resp(ident, Subtype.CLIENT_ERROR, [c.u16(At.CLIENT_ERROR_CODE, 0)])
        secret = [c.u16(At.COUNTER, counter)]
        if counter <= previous:
            secret.append(c.fixed(At.COUNTER_TOO_SMALL))
            self.reauth_id = None                 # RFC 4187 §5.2: ignore the new id, expect full auth
        else:
            self.counter = counter
            self.msk, self.emsk = c.reauth_keys(self.variant, self.identity, counter, nonce_s, keys.mk)
        iv = bytes(range(16))
        attrs_out = [c.fixed(At.IV, iv), c.fixed(At.ENCR_DATA, c.encrypt(keys.k_encr, iv, secret))]
        if self.result_ind and c.first(attrs, At.RESULT_IND) is not None:
            attrs_out.append(c.fixed(At.RESULT_IND))
        self._last_reauth = True
        return self._signed(ident, Subtype.REAUTHENTICATION, attrs_out, keys.k_aut, nonce_s)
