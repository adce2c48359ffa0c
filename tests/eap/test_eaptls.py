"""EAP-TLS driven in memory by a Python TLS client (no sockets): session resumption re-checks the
subscriber and the CRL (RFC 5216 §2.1.2: the abbreviated handshake carries no certificate to verify)."""
from __future__ import annotations

import asyncio
import dataclasses
import os
import ssl

import pytest

from appliance.eap import MemoryLookup, MethodContext
from appliance.eap.eaptls import EapTlsMethod
from appliance.eap.events import FindService
from appliance.eap.framework import Failure, Request, Success
from appliance.eap.packet import EapPacket
from appliance.eap.tlstunnel import server_context
from appliance.ocs.inventory import Service
from tests.eap.test_eaptls_eapol import pki  # noqa: F401  (fixture)

FLAG_L, FLAG_M = 0x80, 0x40


def authenticate(method: EapTlsMethod, client_ctx: ssl.SSLContext,
                 session: ssl.SSLSession | None = None) -> tuple[object, ssl.SSLObject]:
    """Run one EAP-TLS conversation; returns the method's last step and the client's SSL object."""
    cin, cout = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_ctx.wrap_bio(cin, cout, server_side=False, session=session)
    step = asyncio.run(method.start("anonymous@wlan", 1))
    ident = 1
    while isinstance(step, Request):
        data = step.data
        payload = data[5:] if data[0] & FLAG_L else data[1:]
        if payload:
            cin.write(payload)
        if not data[0] & FLAG_M:
            try:
                client.do_handshake()
                client.read(16)                    # the TLS 1.3 commitment message / tickets
            except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
                pass
        ident += 1
        step = asyncio.run(method.process(EapPacket(2, ident, 13, b"\x00" + cout.read()), ident + 1))
        while isinstance(step, FindService):       # the method asks; here the context's lookup answers
            step = method.resume(asyncio.run(method.ctx.lookup.find_service(step.identity)))
    return step, client


@pytest.fixture
def setup(pki, tmp_path):  # noqa: F811
    cert, key = pki.clients["stranger"]                 # any certificate serves as the server's here
    server = server_context(str(cert), str(key), "1.2", str(pki.root), str(pki.crl), os.urandom(80))
    server.maximum_version = ssl.TLSVersion.TLSv1_2
    lookup = MemoryLookup([Service("svc-alice", nai="alice@wlan")])
    ctx = MethodContext(lookup, options={"tls": server, "tls_identity": "cn", "mtu": 16000,
                                         "tls_crl_file": str(pki.crl)})

    def client(name: str) -> ssl.SSLContext:
        c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        c.check_hostname, c.verify_mode = False, ssl.CERT_NONE
        c.load_cert_chain(*map(str, pki.clients[name]))
        return c
    return ctx, lookup, client


def test_resumed_session_is_accepted_then_refused_once_the_subscriber_is_disabled(setup):
    ctx, lookup, client = setup
    alice = client("alice")
    step, conn = authenticate(EapTlsMethod(ctx), alice)
    assert isinstance(step, Success) and step.extra["resumed"] is False and step.identity == "alice@wlan"
    session = conn.session
    step, conn = authenticate(EapTlsMethod(ctx), alice, session)
    assert isinstance(step, Success) and step.extra["resumed"] is True and conn.session_reused
    lookup.add(dataclasses.replace(lookup.services["alice@wlan"], enabled=False))
    step, conn = authenticate(EapTlsMethod(ctx), alice, session)
    assert conn.session_reused and isinstance(step, Failure) and "not a subscriber" in step.reason


def test_resumed_session_of_a_certificate_revoked_since(setup, pki):  # noqa: F811
    """Resume a session whose certificate the CRL lists: the full handshake ran without the CRL."""
    ctx, _lookup, client = setup
    revoked = client("revoked")
    cert, key = pki.clients["stranger"]
    no_crl = server_context(str(cert), str(key), "1.2", str(pki.root), "", os.urandom(80))
    no_crl.maximum_version = ssl.TLSVersion.TLSv1_2
    keys = os.urandom(80)
    from appliance.eap.tlsexport import set_ticket_keys
    set_ticket_keys(no_crl, keys)
    set_ticket_keys(ctx.options["tls"], keys)           # the same ticket keys: the CRL-checking worker resumes
    first = MethodContext(ctx.lookup, options={**ctx.options, "tls": no_crl, "tls_crl_file": ""})
    step, conn = authenticate(EapTlsMethod(first), revoked)
    assert isinstance(step, Success)
    step, conn = authenticate(EapTlsMethod(ctx), revoked, conn.session)
    assert conn.session_reused and isinstance(step, Failure) and "revoked" in step.reason
