"""RFC 2759 §9.2 test vectors and RFC 1320 MD4 vectors."""
from appliance.eap import mschapv2 as m

AUTH_CHALLENGE = bytes.fromhex("5B5D7C7D7B3F2F3E3C2C602132262628")
PEER_CHALLENGE = bytes.fromhex("21402324255E262A28295F2B3A337C7E")
NT_RESPONSE = bytes.fromhex("82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF")


def test_rfc2759_vectors():
    assert m.challenge_hash(PEER_CHALLENGE, AUTH_CHALLENGE, "User") == bytes.fromhex("D02E4386BCE91226")
    assert m.nt_password_hash("clientPass") == bytes.fromhex("44EBBA8D5312B8D611474411F56989AE")
    assert m.md4(m.nt_password_hash("clientPass")) == bytes.fromhex("41C00C584BD2D91C4017A2A12FA59F3F")
    assert m.generate_nt_response(AUTH_CHALLENGE, PEER_CHALLENGE, "User", "clientPass") == NT_RESPONSE
    assert m.authenticator_response("clientPass", NT_RESPONSE, PEER_CHALLENGE, AUTH_CHALLENGE, "User") == \
        "S=407A5589115FD0D6209F510FE9C04566932CDA56"
    assert m.verify(AUTH_CHALLENGE, PEER_CHALLENGE, "DOMAIN\\User", "clientPass", NT_RESPONSE)
    assert not m.verify(AUTH_CHALLENGE, PEER_CHALLENGE, "User", "clientPasS", NT_RESPONSE)


def test_md4_rfc1320():
    for text, digest in ((b"", "31d6cfe0d16ae931b73c59d7e0c089c0"), (b"a", "bde52cb31de33e46245e05fbdbd6fb24"),
                         (b"abc", "a448017aaf21d8525fc10ae87aa6729d"),
                         (b"message digest", "d9130a8164549fe818874806e1c7014b"),
                         (b"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                          "e33b4ddc9c38f2199c3e7b164fcc0536")):
        assert m.md4(text).hex() == digest
