"""The sans-I/O peer state machine driven by two in-memory peers and a fixed clock."""
from __future__ import annotations

from appliance.diameter import codec as c
from appliance.diameter.events import AnswerReceived, MessageRejected, PeerClosed, PeerOpened, RequestReceived
from appliance.diameter.peer import AppSupport, LocalIdentity, PeerConnection, State

SERVER = LocalIdentity("ocs.test", "test", apps=(AppSupport(4),))
CLIENT = LocalIdentity("gw.test", "test", apps=(AppSupport(4),))


def drain(pc):
    out = []
    while (ev := pc.next_event()) is not None:
        out.append(ev)
    return out


def pair(server_admit=None, client=CLIENT, now=0.0):
    s = PeerConnection(SERVER, False, now, 30, admit=server_admit)
    cl = PeerConnection(client, True, now, 30)
    shuttle(cl, s, now)
    return cl, s


def shuttle(a, b, now):
    for _ in range(10):
        da, db = a.data_to_send(), b.data_to_send()
        if not da and not db:
            return
        b.receive(da, now)
        a.receive(db, now)


def test_capabilities_exchange_opens_both():
    cl, s = pair()
    assert cl.state is State.OPEN and s.state is State.OPEN
    (ev,) = drain(s)
    assert isinstance(ev, PeerOpened) and ev.peer.host == "gw.test" and ev.peer.common_apps == {4}
    assert isinstance(drain(cl)[0], PeerOpened)


def test_unknown_peer_refused_3010_and_closed():
    cl, s = pair(server_admit=lambda peer, pc: c.UNKNOWN_PEER)
    assert s.state is State.CLOSED and cl.state is State.CLOSED
    assert isinstance(drain(cl)[-1], PeerClosed)


def test_no_common_application_5010():
    other = LocalIdentity("gw.test", "test", apps=(AppSupport(16777238, 10415),))
    s = PeerConnection(SERVER, False, 0, 30)
    cl = PeerConnection(other, True, 0, 30)
    s.receive(cl.data_to_send(), 0)
    cea = c.decode(s.data_to_send())
    assert cea.result_code == c.NO_COMMON_APPLICATION and s.state is State.CLOSED


def test_request_before_cer_closes():
    s = PeerConnection(SERVER, False, 0, 30)
    s.receive(c.encode(272, 4, c.FLAG_R, 1, 1, [c.avp("Session-Id", "x")]), 0)
    assert s.state is State.CLOSED


def test_watchdog_dwr_then_failover():
    cl, s = pair()
    drain(cl), drain(s)
    t = cl.get_timer()
    assert 28 <= t <= 32
    cl.handle_timer(t)                     # Tw expired: DWR
    dwr = c.decode(cl.data_to_send())
    assert dwr.code == c.CMD_DW and dwr.is_request
    s.receive(dwr.raw, t)
    dwa = c.decode(s.data_to_send())
    assert dwa.result_code == c.SUCCESS
    cl.receive(dwa.raw, t + 1)
    assert cl.state is State.OPEN
    t2 = cl.get_timer()
    cl.handle_timer(t2)                    # DWR again, never answered
    cl.data_to_send()
    cl.handle_timer(cl.get_timer())
    assert cl.state is State.CLOSED and "watchdog" in drain(cl)[-1].reason


def test_dpr_dpa():
    cl, s = pair()
    cl.disconnect(1.0)
    assert cl.state is State.CLOSING
    shuttle(cl, s, 1.0)
    assert cl.state is State.CLOSED and s.state is State.CLOSED
    assert drain(s)[-1].reason == "peer sent DPR"


def test_application_messages_become_events_and_bad_ones_are_answered():
    cl, s = pair()
    drain(s)
    hbh, e2e = cl.next_ids()
    cl.send(c.encode(272, 4, c.FLAG_R, hbh, e2e, [c.avp("Session-Id", "x")]))
    s.receive(cl.data_to_send(), 1)
    (ev,) = drain(s)
    assert isinstance(ev, RequestReceived) and ev.message.hbh == hbh
    s.send(c.encode(272, 4, 0, hbh, e2e, [c.avp("Session-Id", "x")]))
    cl.receive(s.data_to_send(), 1)
    assert isinstance(drain(cl)[-1], AnswerReceived)
    bad = bytes.fromhex("0100001c" "80000110" "00000004" "00000009" "00000009" "00000108" "40000003")
    s.receive(bad[:10], 2)                 # split across reads
    s.receive(bad[10:], 2)
    assert isinstance(drain(s)[-1], MessageRejected) and s.state is State.OPEN
    ans = c.decode(s.data_to_send())
    assert ans.result_code == c.INVALID_AVP_LENGTH and ans.hbh == 9


def test_garbage_length_closes():
    cl, s = pair()
    s.receive(b"\x01\x00\x00\x05" + b"\0" * 20, 1)
    assert s.state is State.CLOSED
