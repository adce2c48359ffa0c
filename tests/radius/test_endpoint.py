"""The sans-I/O RADIUS endpoint: datagrams in, actions out, no socket and a fixed clock."""
from __future__ import annotations

import hashlib
import hmac
import os
import struct

import pytest

from appliance.ledger import book
from appliance.radius import packet as rp
from appliance.radius.acct import AcctOutcome
from appliance.radius.auth import STATE_MAGIC, AuthHandler
from appliance.radius.clients import Client, ClientTable
from appliance.radius.endpoint import (
    Authorize,
    Disconnect,
    DuplicateCache,
    Forward,
    RadiusEndpoint,
    Send,
    UnknownClient,
    Work,
)
from appliance.telemetry import metrics

SECRET = b"testing123"
NAS = ("127.0.0.1", 4000)


def access_request(ident: int, attrs: rp.Attributes, password: bytes | None = None, ma: bool = True,
                   authenticator: bytes | None = None) -> bytes:
    auth = authenticator or os.urandom(16)
    if password is not None:
        attrs = [*attrs, (rp.USER_PASSWORD, rp.encrypt_password(password, SECRET, auth))]
    body = (bytes((rp.MESSAGE_AUTHENTICATOR, 18)) + bytes(16) if ma else b"") + rp.encode_attributes(attrs)
    raw = bytearray(struct.pack("!BBH", rp.ACCESS_REQUEST, ident, 20 + len(body)) + auth + body)
    if ma:
        raw[22:38] = hmac.new(SECRET, bytes(raw), hashlib.md5).digest()
    return bytes(raw)


def pap(ident: int, user: bytes, password: bytes, **kw) -> bytes:
    return access_request(ident, [(rp.USER_NAME, user)], password, **kw)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def endpoints(cfg, store):
    clock = Clock()
    auth = AuthHandler(cfg, store, 0, {}, clock=clock)
    clients = ClientTable([Client("127.0.0.1", SECRET, name="lo", index=0)])
    dups = DuplicateCache(30.0)
    return (RadiusEndpoint("auth", 0, auth, clients, dups, forwarding=True),
            RadiusEndpoint("acct", 0, auth, clients, dups), auth, clock)


def answered(endpoint: RadiusEndpoint, auth: AuthHandler, actions, now: float) -> Send:
    """Carry out an Authorize as the adapter does (the store's read path) and return the Send."""
    if len(actions) == 1 and type(actions[0]) is Authorize:
        actions = endpoint.authorized(actions[0].pending, auth.authorize_now(actions[0].pending.user), now)
    assert len(actions) == 1 and type(actions[0]) is Send, actions
    return actions[0]


def counter(name: str) -> int:
    return metrics.default().get(name)


def test_pap_is_read_once_then_answered_from_the_cache(endpoints, seed_subscriber):
    seed_subscriber(nai="alice@wlan", password="pw")
    ep, _acct, auth, _clock = endpoints
    first = ep.receive(pap(1, b"alice@wlan", b"pw"), NAS, 5.0)
    assert [type(a) for a in first] == [Authorize]                 # not cached yet: read
    send = answered(ep, auth, first, 5.0)
    request = pap(2, b"alice@wlan", b"pw")
    again = ep.receive(request, NAS, 6.0)
    assert [type(a) for a in again] == [Send]                      # cached: answered at once
    for answer in (send.data, again[0].data):
        reply = rp.decode(answer)
        assert reply.code == rp.ACCESS_ACCEPT and reply.attributes[0][0] == rp.MESSAGE_AUTHENTICATOR
        assert reply.get(rp.CLASS) == b"ocs:001010000000001" and reply.integer(rp.SESSION_TIMEOUT) == 86_400
        assert reply.get(rp.USER_NAME) == b"alice@wlan"
    req = rp.decode(request)
    assert rp.response_authenticator_ok(again[0].data, req.authenticator, SECRET)
    assert rp.verify_message_authenticator(rp.decode(again[0].data), SECRET, authenticator=req.authenticator)
    assert again[0].addr == NAS and again[0].kind == "auth" and again[0].started == 6.0
    wrong = ep.receive(pap(3, b"alice@wlan", b"nope"), NAS, 7.0)
    assert rp.decode(wrong[0].data).code == rp.ACCESS_REJECT


def test_a_retransmission_gets_the_same_answer_and_is_counted_as_a_duplicate(endpoints, seed_subscriber):
    seed_subscriber(nai="alice@wlan", password="pw")
    ep, _acct, auth, _clock = endpoints
    request = pap(9, b"alice@wlan", b"pw")
    first = answered(ep, auth, ep.receive(request, NAS, 5.0), 5.0)
    dups, requests = counter("radius.auth.dup_access_requests"), counter("radius.auth.access_requests")
    again = ep.receive(request, NAS, 10.0)
    assert again == (Send(first.data, NAS, "auth", -1.0),)        # the same bytes, not timed again
    assert counter("radius.auth.dup_access_requests") == dups + 1
    assert counter("radius.auth.access_requests") == requests + 1
    assert type(ep.receive(request, ("127.0.0.1", 4001), 10.0)[0]) is Send   # another port: a new request
    after = ep.receive(request, NAS, 5.0 + 30.0)                  # RFC 5080: the entry's lifetime ended
    assert after[0].started == 35.0


def test_message_authenticator_checks(endpoints, seed_subscriber):
    seed_subscriber(nai="alice@wlan", password="pw")
    ep, _acct, _auth, _clock = endpoints
    missing, bad = counter("radius.auth.missing_message_authenticator"), counter("radius.auth.bad_authenticators")
    assert ep.receive(pap(1, b"alice@wlan", b"pw", ma=False), NAS, 1.0) == ()
    assert counter("radius.auth.missing_message_authenticator") == missing + 1
    tampered = bytearray(pap(2, b"alice@wlan", b"pw"))
    tampered[-1] ^= 1
    assert ep.receive(bytes(tampered), NAS, 1.0) == ()
    two = access_request(3, [(rp.USER_NAME, b"alice@wlan"), (rp.MESSAGE_AUTHENTICATOR, bytes(16))], b"pw")
    assert ep.receive(two, NAS, 1.0) == ()                         # RFC 3579 §3.2: at most one
    assert counter("radius.auth.bad_authenticators") == bad + 2


def test_malformed_unknown_and_status_server(endpoints):
    ep, acct, _auth, _clock = endpoints
    assert ep.receive(b"\x01\x01\x00\x10" + bytes(16), ("10.9.9.9", 1), 1.0) == (UnknownClient("10.9.9.9"),)
    before = counter("radius.auth.malformed_access_requests")
    assert ep.receive(b"\x01\x01\x00\x30" + bytes(20), NAS, 1.0) == ()            # Length past the datagram
    assert ep.receive(b"\x01\x01\x00\x17" + bytes(16) + b"\x01\x09\x00", NAS, 1.0) == ()   # attribute past Length
    assert counter("radius.auth.malformed_access_requests") == before + 2
    assert ep.receive(b"\x04\x01\x00\x14" + bytes(16), NAS, 1.0) == ()             # accounting on the auth port
    auth = os.urandom(16)
    body = bytes((rp.MESSAGE_AUTHENTICATOR, 18)) + bytes(16)
    raw = bytearray(struct.pack("!BBH", rp.STATUS_SERVER, 7, 20 + len(body)) + auth + body)
    raw[22:38] = hmac.new(SECRET, bytes(raw), hashlib.md5).digest()
    for endpoint, code in ((ep, rp.ACCESS_ACCEPT), (acct, rp.ACCOUNTING_RESPONSE)):
        (send,) = endpoint.receive(bytes(raw), NAS, 1.0)
        assert send.data[0] == code and send.started < 0             # RFC 5997 §3
        assert rp.response_authenticator_ok(send.data, auth, SECRET)


def test_an_eap_round_of_another_worker_is_forwarded_and_eap_needs_work(endpoints):
    ep, _acct, _auth, _clock = endpoints
    eap_response = bytes((2, 5, 0, 6, 1, 0x61))                        # EAP-Response/Identity "a"
    theirs = STATE_MAGIC + b"\x01" + os.urandom(14)
    raw = access_request(1, [(rp.USER_NAME, b"a"), (rp.EAP_MESSAGE, eap_response), (rp.STATE, theirs)])
    assert ep.receive(raw, NAS, 1.0) == (Forward(1, raw, NAS),)
    (work,) = ep.receive(raw, NAS, 1.0, forwarded=True)                # at the owner: not forwarded again
    assert type(work) is Work and work.req.get(rp.EAP_MESSAGE) == eap_response
    ours = STATE_MAGIC + b"\x00" + os.urandom(14)
    raw = access_request(2, [(rp.USER_NAME, b"a"), (rp.EAP_MESSAGE, eap_response), (rp.STATE, ours)])
    assert type(ep.receive(raw, NAS, 1.0)[0]) is Work
    before = counter("radius.auth.malformed_access_requests")
    raw = access_request(3, [(rp.USER_NAME, b"a"), (rp.EAP_MESSAGE, eap_response[:5])])  # EAP Length 6, 5 sent
    assert ep.receive(raw, NAS, 1.0) == ()
    assert counter("radius.auth.malformed_access_requests") == before + 1


def test_an_access_request_with_proxy_state_echoes_it(endpoints, seed_subscriber):
    seed_subscriber(nai="alice@wlan", password="pw")
    ep, _acct, auth, _clock = endpoints
    raw = access_request(1, [(rp.USER_NAME, b"alice@wlan"), (rp.PROXY_STATE, b"one"), (rp.PROXY_STATE, b"two")],
                         b"pw")
    send = answered(ep, auth, ep.receive(raw, NAS, 1.0), 1.0)
    assert rp.decode(send.data).all(rp.PROXY_STATE) == [b"one", b"two"]       # RFC 2865 §5.33, in order
    assert rp.response_authenticator_ok(send.data, raw[4:20], SECRET)


def test_accounting_work_and_its_answer(endpoints):
    _ep, acct, auth, _clock = endpoints
    attrs = [(rp.ACCT_STATUS_TYPE, (3).to_bytes(4, "big")), (rp.USER_NAME, b"alice@wlan"),
             (rp.ACCT_SESSION_ID, b"s1"), (rp.PROXY_STATE, b"p")]
    raw = rp.encode_request(rp.ACCOUNTING_REQUEST, 4, attrs, SECRET, with_message_authenticator=False)
    (work,) = acct.receive(raw, NAS, 2.0)
    assert type(work) is Work and work.kind == "acct"
    assert acct.receive(raw, NAS, 2.5) == ()                  # in progress: a retransmission is dropped
    auth.cache._items["alice@wlan"] = (1e12, None, {}, None)    # type: ignore[assignment]
    session = {"user": "alice@wlan", "sid": "s1"}
    actions = acct.accounting_done(work, AcctOutcome(3, "nas|s1", "alice@wlan", exhausted=True, session=session))
    send, disconnect = actions
    assert type(send) is Send and send.kind == "acct" and send.started == 2.0
    assert rp.response_authenticator_ok(send.data, raw[4:20], SECRET)
    assert rp.decode(send.data).all(rp.PROXY_STATE) == [b"p"]
    assert disconnect == Disconnect(work.client, "nas|s1", session)
    assert "alice@wlan" not in auth.cache._items           # a new Access-Request sees the empty balance
    assert acct.receive(raw, NAS, 3.0) == (Send(send.data, NAS, "acct", -1.0),)
    bad = bytearray(raw)
    bad[4] ^= 1                                             # RFC 2866 §3: Request Authenticator wrong
    before = counter("radius.acct.bad_authenticators")
    assert acct.receive(bytes(bad), NAS, 3.0) == ()
    assert counter("radius.acct.bad_authenticators") == before + 1


def test_a_cached_accept_is_what_the_write_transaction_decides(endpoints, store, seed_subscriber):
    """The endpoint answers from its cache exactly what ``book.authorize`` in a write transaction
    would give, for funded, unfunded, suspended and unknown subscribers."""
    from appliance.ocs.inventory import Product
    seed_subscriber(nai="rich@wlan", password="pw")
    seed_subscriber(imsi="001010000000002", product="p2", nai="broke@wlan", password="pw", money=0)
    seed_subscriber(imsi="001010000000003", product="p3", nai="off@wlan", password="pw")
    store.transact(lambda l: l.put_product(Product("p3", "data", status="suspended")))
    ep, _acct, auth, clock = endpoints
    for n, who in enumerate(("rich@wlan", "broke@wlan", "off@wlan", "nobody@wlan")):
        written = store.transact(lambda l, who=who: book.authorize(
            l, who, int(clock()), auth.units, auth.rcfg.service, None, auth.timezone))
        expected = auth._verdict(written, who, "pap", lambda stored: stored == b"pw")
        for ident in (2 * n, 2 * n + 1):             # the first is read, the second from the cache
            actions = ep.receive(pap(ident, who.encode(), b"pw"), NAS, 1.0)
            if type(actions[0]) is Authorize:
                fresh = auth.authorize_now(who)
                actions = ep.authorized(actions[0].pending, fresh, 1.0)
                if fresh is None:                    # a refusal that changes the credit state:
                    assert type(actions[0]) is Work  # the writer decides (and records it)
                    assert not written.allowed and written.product_id is not None, who
                    continue
            reply = rp.decode(actions[0].data)
            assert (reply.code, reply.attributes[1:]) == (expected.code, expected.attrs), who
    assert auth.cache.get("rich@wlan", clock()) is not None
