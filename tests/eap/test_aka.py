"""EAP-AKA / EAP-AKA': standards' vectors (tables) and the server state machine driven by an
in-memory peer (no sockets, deterministic randomness)."""
from __future__ import annotations

import asyncio
import dataclasses
import itertools
import os

import pytest

from appliance.eap import aka_codec as c
from appliance.eap import milenage
from appliance.eap.aka import AkaSettings, Phase
from appliance.eap.aka_peer import AkaPeer
from appliance.eap.aka_vectors import REAUTH_KIND
from appliance.eap.credentials import MemoryLookup
from appliance.eap.events import (
    AkaVector,
    LoadPseudonym,
    LoadSession,
    NeedVector,
    NoVector,
    StoreSession,
    Vector,
)
from appliance.eap.framework import Accept, Conversation, MethodContext, Policy, Reject, Send
from appliance.eap.milenage import Usim

H = bytes.fromhex

# ---------------------------------------------------------------- vectors

# FIPS 186-2 change notice 1, Appendix 3.1 example (the PRF of RFC 4187 §7 / Appendix A) and
# RFC 4186 Appendix A.5 (same PRF: MK -> K_encr | K_aut | MSK | EMSK).
PRF_VECTORS = [
    ("bd029bbe7f51960bcf9edb2b61f06f0feb5a38b6",
     "2070b3223dba372fde1c0ffc7b2e3b498b2606143c6c18bacb0f6c55babb13788e20d737a3275116"),
    ("e576d5ca332e9930018bf1baee2763c795b3c712",
     ("536e5ebc4465582aa6a8ec9986ebb62025af1942efcbf4bc72b3943421f2a974"
     "39d45aeaf4e30601983e972b6cfd46d1c363773365690d09cd44976b525f47d3"
     "a60a985e955c53b090b2e4b73719196a402542968fd14a888f46b9a7886e4488"
     "5949eab0fff69d52315c6c634fd14a7f0d52023d56f79698fa6596abeed4f93f"
     "bb48eb534d985414ceed0d9a8ed33c387c9dfdab92ffbdf240fcecf65a2c93b9")),
]


def native_g():
    """libcrypto's SHA1_Transform as G; without it the comparison below would compare _g with itself."""
    if c._NATIVE_G is None:
        why = "libcrypto's SHA1_Init/SHA1_Transform not found (or disagreeing): fips186_prf runs in pure Python"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    return c._NATIVE_G


@pytest.mark.parametrize("g", ["native", "python"])
@pytest.mark.parametrize("xkey,out", PRF_VECTORS)
def test_fips186_prf(xkey, out, g, monkeypatch):
    monkeypatch.setattr(c, "_G", native_g() if g == "native" else c._g)
    assert c.fips186_prf(H(xkey), len(out) // 2).hex() == out


def test_sha1_compression_native_matches_python():
    g = native_g()
    assert g is not c._g
    for i in range(64):
        block = bytes((i * 7 + j * 13) & 0xFF for j in range(20))
        assert g(block) == c._g(block)


def test_rfc4186_a5_key_split():
    keys = c.fips186_prf(H(PRF_VECTORS[1][0]))
    assert keys[16:32].hex() == "25af1942efcbf4bc72b3943421f2a974"      # K_aut


# RFC 9048 Appendix D (corrected RFC 5448 Appendix C): CK, IK, network name, AUTN -> CK', IK' (+ keys)
CASE1 = {"ck": "5349fbe098649f948f5d2e973a81c00f", "ik": "9744871ad32bf9bbd1dd5ce54e3e2e5a",
             "autn": "bb52e91c747ac3ab2a5c23d15ee351d5"}
CASE3 = {"ck": "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0", "ik": "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0",
             "autn": "a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0"}
PRIME_VECTORS = [
    (CASE1, "WLAN", "0093962d0dd84aa5684b045c9edffa04", "ccfc230ca74fcc96c0a5d61164f5a76c"),
    (CASE1, "HRPD", "3820f0277fa5f77732b1fb1d90c1a0da", "db94a0ab557ef6c9ab48619ca05b9a9f"),
    (CASE3, "WLAN", "cd4c8e5c68f57dd1d7d7dfd0c538e577", "3ece6b705dbbf7dfc459a11280c65524"),
    (CASE3, "HRPD", "8310a71ce6f754889613da8f64d5fb46", "5adf14360ae838192db23f6fcb7f8c76"),
]


@pytest.mark.parametrize("case,name,ck_p,ik_p", PRIME_VECTORS)
def test_ck_ik_prime(case, name, ck_p, ik_p):
    got = c.ck_ik_prime(H(case["ck"]), H(case["ik"]), name.encode(), H(case["autn"])[:6])
    assert (got[0].hex(), got[1].hex()) == (ck_p, ik_p)


def test_rfc9048_case1_keys():
    keys = c.aka_prime_keys(b"0555444333222111", H("0093962d0dd84aa5684b045c9edffa04"),
                            H("ccfc230ca74fcc96c0a5d61164f5a76c"))
    assert keys.k_encr.hex() == "766fa0a6c317174b812d52fbcd11a179"
    assert keys.k_aut.hex() == "0842ea722ff6835bfa2032499fc3ec23c2f0e388b4f07543ffc677f1696d71ea"
    assert keys.mk.hex() == "cf83aa8bc7e0aced892acc98e76a9b2095b558c7795c7094715cb3393aa7d17a"   # K_re
    assert keys.msk.hex() == ("67c42d9aa56c1b79e295e3459fc3d187d42be0bf818d3070e362c5e967a4d544"
                              "e8ecfe19358ab3039aff03b7c930588c055babee58a02650b067ec4e9347c75a")
    assert keys.emsk.hex() == ("f861703cd775590e16c7679ea3874ada866311de290764d760cf76df647ea01c"
                               "313f69924bdd7650ca9bac141ea075c4ef9e8029c0e290cdbad5638b63bc23fb")


def test_rfc9048_case2_keys():
    keys = c.aka_prime_keys(b"0555444333222111", H("3820f0277fa5f77732b1fb1d90c1a0da"),
                            H("db94a0ab557ef6c9ab48619ca05b9a9f"))
    assert keys.k_aut.hex() == "5b4acaef62c6ebb8882b2f3d534c4b35277337a00184f20ff25d224c04be2afd"
    assert keys.msk.hex() == ("87b321570117cd6c95ab6c436fb5073ff15cf85505d2bc5bb7355fc21ea8a757"
                              "57e8f86a2b138002e05752913bb43b82f868a96117e91a2d95f526677d572900")


# Codec tables: Type-Data hex <-> (subtype, attributes)
def test_codec_tables():
    assert c.decode(H("050000" + "0d010000")) == (5, [(13, b"\0\0")])
    assert c.encode(5, [c.fixed(c.At.ANY_ID_REQ)]).hex() == "0500000d010000"
    assert c.encode(12, [c.u16(c.At.NOTIFICATION, c.GENERAL_FAILURE)]).hex() == "0c00000c014000"
    # AT_IDENTITY "12345": actual length 5, padded to 8 octets of value -> Length 3
    enc = c.encode(5, [c.text(c.At.IDENTITY, b"12345")])
    assert enc.hex() == "0500000e0300053132333435000000"
    assert c.get_text(c.decode(enc)[1], c.At.IDENTITY) == b"12345"
    # AT_RES length is in bits
    assert c.encode(1, [c.res(H("28d7b0f2a2ec3de5"))]).hex() == "0100000303004028d7b0f2a2ec3de5"


@pytest.mark.parametrize("bad", ["05", "0500000d00", "0500000d02000000", "050000630100000000", "0500000d01"])
def test_codec_rejects(bad):
    with pytest.raises(c.AkaFormatError):
        c.decode(H(bad))


def test_skippable_unknown_attribute_is_kept():
    assert c.decode(H("050000" + "ff010000")) == (5, [(255, b"\0\0")])


def test_encrypted_attributes_roundtrip():
    key, iv = bytes(range(16)), bytes(16)
    data = c.encrypt(key, iv, [c.text(c.At.NEXT_PSEUDONYM, b"2abc"), c.u16(c.At.COUNTER, 7)])
    assert len(data) % 16 == 0
    assert c.decrypt(key, iv, data) == [(c.At.NEXT_PSEUDONYM, H("0004") + b"2abc"), (c.At.COUNTER, H("0007"))]


# ---------------------------------------------------------------- state machine over an in-memory peer

K = H("90dca4eda45b53cf0f12d7c9c3bc6a89")         # TS 35.208 test set 19
OPC = H("cb9cccc4b9258e6dca4760379fb82581")
IMSI = "001010000000019"
REALM = "wlan.mnc001.mcc001.3gppnetwork.org"


def deterministic():
    counter = itertools.count(1)
    return lambda n: bytes((next(counter) + i) & 0xFF for i in range(n))


class DictStore:
    """The store as two dicts (subscribers' K/OPc/SQN, identity records): answers the actions the
    AKA machine returns, as the RADIUS worker's and the Diameter application's performers do."""

    def __init__(self, sqn=0):
        self.subscribers = {IMSI: {"k": K, "opc": OPC, "amf": b"\x80\x00", "sqn": sqn}}
        self.records = {}                  # (kind, key) -> PseudonymRecord | ReauthSession
        self.actions = []

    def answer(self, action):
        self.actions.append(action)
        if isinstance(action, NeedVector):
            sub = self.subscribers.get(action.imsi)
            if sub is None:
                return NoVector("unknown")
            if action.auts is not None:
                sqn_ms = milenage.auts_sqn(sub["k"], sub["opc"], action.resync_rand, action.auts)
                if sqn_ms is None:
                    return NoVector("bad_auts")
                sub["sqn"] = sqn_ms
            sub["sqn"] = milenage.next_sqn(sub["sqn"])
            v = milenage.generate(sub["k"], sub["opc"], sub["amf"], sub["sqn"], action.rand)
            return Vector(action.imsi, AkaVector(v.rand, v.autn, v.xres, v.ck, v.ik))
        if isinstance(action, LoadPseudonym):
            return self.records.get(("pseudonym", action.pseudonym))
        if isinstance(action, LoadSession):
            return self.records.pop(("reauth", action.reauth_id), None)
        if isinstance(action, StoreSession):
            if action.pseudonym is not None:
                self.records[("pseudonym", action.pseudonym.pseudonym)] = action.pseudonym
            if action.session is not None:
                self.records[("reauth", action.session.reauth_id)] = action.session
            return None
        raise AssertionError(f"unexpected action {action}")

    async def perform(self, action):
        return self.answer(action)


def make(variant=c.AKA, sqn=0, methods=(23, 50), **settings):
    docs = settings.pop("docs", None) or DictStore(sqn)
    ctx = MethodContext(lookup=MemoryLookup(), random=deterministic(), now=lambda: 1000.0,
                        options={"aka": AkaSettings(**settings)}, perform=docs.perform)
    return docs, docs, ctx


def peer_for(variant, usim_sqn=0, k=K, **kw):
    prefix = variant.permanent
    return AkaPeer(variant, f"{prefix}{IMSI}@{REALM}", Usim(k, OPC, usim_sqn), **kw)


def run(ctx, peer, methods=(23, 50), rounds=12):
    async def go():
        conv = Conversation(Policy(methods), ctx, first_identifier=7)
        packet = conv.start().packet
        seen = []
        for _ in range(rounds):
            outcome = await conv.receive(peer.respond(packet))
            seen.append(outcome)
            if isinstance(outcome, Send):
                packet = outcome.packet
                continue
            peer.respond(outcome.packet)
            return outcome, conv, seen
        raise AssertionError("no outcome")
    return asyncio.run(go())


@pytest.mark.parametrize("variant", [c.AKA, c.AKA_PRIME], ids=["aka", "aka-prime"])
def test_full_authentication(variant):
    lookup, _docs, ctx = make()
    peer = peer_for(variant)
    outcome, conv, _seen = run(ctx, peer)
    assert isinstance(outcome, Accept), outcome
    assert outcome.method == variant.type and outcome.identity == IMSI and outcome.service_id == IMSI
    assert outcome.msk == peer.msk and len(outcome.msk) == 64 and outcome.emsk == peer.emsk
    assert peer.result == "success"
    assert conv.method.phase is Phase.SUCCESS
    assert peer.pseudonym and peer.pseudonym.startswith(variant.pseudonym)
    assert peer.reauth_id and peer.reauth_id.startswith(variant.reauth) and peer.reauth_id.endswith("@" + REALM)
    assert lookup.subscribers[IMSI]["sqn"] > 0


@pytest.mark.parametrize("variant", [c.AKA, c.AKA_PRIME], ids=["aka", "aka-prime"])
def test_resynchronisation_when_usim_is_ahead(variant):
    lookup, _, ctx = make(sqn=0)
    peer = peer_for(variant, usim_sqn=50_000)
    outcome, conv, _ = run(ctx, peer)
    assert isinstance(outcome, Accept) and outcome.msk == peer.msk
    assert conv.method.resynced
    assert lookup.subscribers[IMSI]["sqn"] > 50_000


def test_wrong_k_is_rejected_after_authentication_reject():
    _, _, ctx = make()
    outcome, _, _ = run(ctx, peer_for(c.AKA, k=bytes(16)))
    assert isinstance(outcome, Reject) and "Authentication-Reject" in outcome.reason


def test_wrong_res_is_rejected():
    _, _, ctx = make()
    outcome, _, _ = run(ctx, peer_for(c.AKA, tamper_res=True))
    assert isinstance(outcome, Reject) and "AT_RES" in outcome.reason


def test_unknown_subscriber_gets_failure_notification():
    _, _, ctx = make()
    peer = AkaPeer(c.AKA, f"0001019999999999@{REALM}", Usim(K, OPC))
    outcome, _, _ = run(ctx, peer)
    assert isinstance(outcome, Reject) and peer.notifications == [c.GENERAL_FAILURE]


def test_anonymous_identity_asks_for_any_id_then_checkcode():
    _, _, ctx = make()
    peer = peer_for(c.AKA)
    peer.pseudonym = "unknown-to-server"
    outcome, conv, _seen = run(ctx, peer)
    # anonymous-looking identity -> AT_ANY_ID_REQ -> same unknown -> AT_PERMANENT_ID_REQ -> permanent
    assert isinstance(outcome, Accept)
    assert conv.method.id_level == 3 and len(conv.method.id_msgs) > 0


def test_forced_permanent_identity_request():
    _, _, ctx = make(identity_request="permanent")
    peer = peer_for(c.AKA_PRIME)
    outcome, conv, _ = run(ctx, peer)
    assert isinstance(outcome, Accept) and conv.method.id_level == 3


def test_pseudonym_then_fast_reauthentication_then_counter():
    docs = DictStore()
    _, _, ctx = make(docs=docs, fast_reauth=False)
    peer = peer_for(c.AKA)
    assert isinstance(run(ctx, peer)[0], Accept)
    first_pseudonym = peer.pseudonym
    assert peer.outer_identity().startswith(first_pseudonym)       # next time the peer uses the pseudonym
    outcome, conv, _ = run(ctx, peer)
    assert isinstance(outcome, Accept) and conv.method.id_level == 0 and outcome.identity == IMSI

    _, _, ctx = make(docs=docs)
    for variant in (c.AKA, c.AKA_PRIME):
        peer = peer_for(variant)
        assert isinstance(run(ctx, peer)[0], Accept)
        full_msk = peer.msk
        for expected_counter in (1, 2):
            outcome, conv, _ = run(ctx, peer)
            assert isinstance(outcome, Accept), outcome
            assert conv.method.phase is Phase.SUCCESS and conv.method.counter == expected_counter
            assert outcome.msk == peer.msk != full_msk and outcome.identity == IMSI
            assert peer.counter == expected_counter


def test_reauth_id_is_single_use_and_counter_too_small_falls_back():
    docs = DictStore()
    _, _, ctx = make(docs=docs)
    peer = peer_for(c.AKA)
    run(ctx, peer)
    reauth_id = peer.reauth_id
    run(ctx, peer)                                    # counter 1 used
    assert ("reauth", reauth_id) not in docs.records
    # a peer whose counter is already higher answers AT_COUNTER_TOO_SMALL -> full authentication
    peer.counter = 99
    outcome, conv, _ = run(ctx, peer)
    assert isinstance(outcome, Accept) and conv.method.keys is not None and outcome.msk == peer.msk
    assert conv.method.counter == 0                  # a fresh full authentication


def test_bidding_down_is_refused_by_an_aka_prime_capable_peer():
    _, _, ctx = make(bidding=True)
    outcome, _, _ = run(ctx, peer_for(c.AKA, supports_prime=True), methods=(23,))
    assert isinstance(outcome, Reject) and "Client-Error" in outcome.reason
    _, _, ctx = make(bidding=True)
    assert isinstance(run(ctx, peer_for(c.AKA, supports_prime=False), methods=(23,))[0], Accept)


def test_unsupported_kdf_request_is_refused():
    _, _, ctx = make()
    outcome, _, _ = run(ctx, peer_for(c.AKA_PRIME, kdf=2))
    assert isinstance(outcome, Reject) and "KDF" in outcome.reason


def test_tampered_challenge_response_mac():
    _, _, ctx = make()
    peer = peer_for(c.AKA)

    async def go():
        conv = Conversation(Policy((23,)), ctx, first_identifier=1)
        challenge = await conv.receive(peer.start(conv.start().identifier))
        resp = bytearray(peer.respond(challenge.packet))
        resp[-1] ^= 0x01                               # last octet of AT_MAC
        return await conv.receive(bytes(resp))
    outcome = asyncio.run(go())
    assert isinstance(outcome, Reject) and "AT_MAC" in outcome.reason


@pytest.mark.parametrize("payload", ["01", "0100", "01000003ff00", "0e0000", "0d0000"])
def test_malformed_or_unexpected_responses_fail(payload):
    _, _, ctx = make()
    peer = peer_for(c.AKA)

    async def go():
        conv = Conversation(Policy((23,)), ctx, first_identifier=1)
        challenge = await conv.receive(peer.start(conv.start().identifier))
        ident = challenge.identifier
        from appliance.eap.packet import Code, encode
        return await conv.receive(encode(Code.RESPONSE, ident, 23, H(payload)))
    assert isinstance(asyncio.run(go()), Reject)


def test_secrets_not_in_reprs():
    keys = c.aka_keys(b"x", bytes(16), bytes(16))
    assert keys.msk.hex() not in repr(keys)
    assert dataclasses.is_dataclass(AkaSettings)


def test_expired_identity_documents_are_purged(store):
    from appliance.eap.aka_vectors import PSEUDONYM_KIND, purge_expired

    def put(ledger):
        ledger.put_doc(PSEUDONYM_KIND, "2old", {"imsi": IMSI, "expires": 10})
        ledger.put_doc(PSEUDONYM_KIND, "2new", {"imsi": IMSI, "expires": 1000})
        ledger.put_doc(REAUTH_KIND, "4old@x", {"imsi": IMSI, "expires": 5})
    store.transact(put)
    assert store.transact(lambda l: purge_expired(l, 100)) == 2
    assert [k for k, _ in store.transact(lambda l: l.list_docs(PSEUDONYM_KIND))] == ["2new"]
    assert store.transact(lambda l: l.list_docs(REAUTH_KIND)) == []


def test_settings_from_configuration():
    from types import SimpleNamespace as N

    from appliance.eap.aka import settings_from
    assert settings_from(N()) == AkaSettings()
    got = settings_from(N(aaa=N(network_name="HRPD", identity_request="permanent")))
    assert (got.network_name, got.identity_request) == ("HRPD", "permanent")
    assert settings_from(N(aaa={"network_name": "X"})).network_name == "X"


@pytest.mark.parametrize("variant", [c.AKA, c.AKA_PRIME], ids=["aka", "aka-prime"])
def test_protected_success_indication(variant):
    docs = DictStore()
    _, _, ctx = make(docs=docs)
    peer = peer_for(variant, result_ind=True)
    outcome, conv, seen = run(ctx, peer)
    assert isinstance(outcome, Accept) and outcome.msk == peer.msk
    assert peer.notifications == [c.SUCCESS] and len(seen) == 3        # challenge, notification, success
    outcome, conv, seen = run(ctx, peer)                                 # re-authentication with the indication
    assert isinstance(outcome, Accept) and outcome.msk == peer.msk and conv.method.counter == 1
    assert peer.notifications == [c.SUCCESS, c.SUCCESS]
    _, _, ctx = make(docs=DictStore(), result_ind=False)
    plain = peer_for(variant, result_ind=True)
    assert isinstance(run(ctx, plain)[0], Accept) and plain.notifications == []
