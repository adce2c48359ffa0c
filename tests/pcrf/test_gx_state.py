"""Gx session states as a table (pcrf/gx_state.py): every legal transition taken through the
engine's own entry points over a real store, illegal events refused with
DIAMETER_UNKNOWN_SESSION_ID and counted, every change logged ``old -> new``."""
from __future__ import annotations

import pytest

from appliance.pcrf import engine as E
from appliance.pcrf import gx_state as G
from appliance.pcrf import tables as T
from appliance.pcrf.gx_state import TRANSITIONS, GxEvent, GxState
from appliance.telemetry import metrics

from .test_engine import DEFAULT, info, setup, tx


def rar(store, sid="s1"):
    tx(store, lambda l: T.queue_push(l, sid, "test", force=True))
    p = tx(store, lambda l: E.repush(l, sid, DEFAULT, "w0", 0, 10))
    assert p is not None
    return p


def raa(store, result, sid="s1"):
    return tx(store, lambda l: E.record_raa(l, sid, result, (), 1000))


def state(store, sid="s1"):
    return G.state_of(tx(store, lambda l: E.load_session(l, sid)))


def test_every_legal_transition_through_the_engine(store, monkeypatch):
    seen = set()
    original = G.advance

    def record(sid, session, event):
        new = original(sid, session, event)
        seen.add((G.state_of(session), event))
        return new
    monkeypatch.setattr(E, "advance", record)
    setup(store)
    establish = lambda sid="s1": tx(store, lambda l: E.establish(l, info(sid), DEFAULT))   # noqa: E731
    modify = lambda sid="s1": tx(store, lambda l: E.modify(l, info(sid, n=1), DEFAULT))    # noqa: E731
    terminate = lambda sid="s1": tx(store, lambda l: E.terminate(l, info(sid, n=2)))      # noqa: E731

    assert establish().result == E.SUCCESS and state(store) is GxState.ACTIVE        # none -> active
    assert establish().result == E.SUCCESS and state(store) is GxState.ACTIVE        # active, CCR-I again
    assert modify().result == E.SUCCESS
    rar(store)
    assert state(store) is GxState.RAR_PENDING                                         # active -> rar_pending
    rar(store)                                                                         # sent again
    assert modify().result == E.SUCCESS and state(store) is GxState.RAR_PENDING
    raa(store, E.SUCCESS)
    assert state(store) is GxState.ACTIVE                                              # answered
    raa(store, E.SUCCESS)                                                              # a late RAA: stays
    rar(store)
    raa(store, 0)
    assert state(store) is GxState.ACTIVE                                              # unanswered, retried later
    raa(store, 0)
    rar(store)
    assert establish().result == E.SUCCESS and state(store) is GxState.ACTIVE        # CCR-I over a pending RAR
    assert terminate().result == E.SUCCESS and state(store) is GxState.NONE          # active -> terminated
    establish()
    rar(store)
    assert terminate().result == E.SUCCESS and state(store) is GxState.NONE          # rar_pending -> terminated
    establish()
    rar(store)
    raa(store, E.UNKNOWN_SESSION_ID)
    assert state(store) is GxState.NONE                                                # the PCEF lost it
    establish()
    raa(store, E.UNKNOWN_SESSION_ID)
    assert state(store) is GxState.NONE
    establish("old1")
    establish("old2")
    rar(store, "old2")
    assert sorted(tx(store, lambda l: E.expire_idle(l, 2000))) == ["old1", "old2"]   # idle expiry
    assert seen == set(TRANSITIONS), sorted(set(TRANSITIONS) - seen, key=str)


@pytest.mark.parametrize("call", ["modify", "terminate"])
def test_ccr_u_or_t_without_a_session_is_5002_and_counted(store, call):
    setup(store)
    before = metrics.default().get("pcrf.gx.illegal_events")
    if call == "modify":
        p = tx(store, lambda l: E.modify(l, info("nobody", n=1), DEFAULT))
    else:
        p = tx(store, lambda l: E.terminate(l, info("nobody", n=1)))
    assert p.result == E.UNKNOWN_SESSION_ID == 5002 and not p.experimental
    assert "not allowed in state none" in p.reason
    assert metrics.default().get("pcrf.gx.illegal_events") == before + 1


def test_an_raa_for_no_session_is_dropped_and_counted(store):
    setup(store)
    tx(store, lambda l: T.queue_push(l, "gone", "test"))
    before = metrics.default().get("pcrf.gx.illegal_events")
    assert raa(store, E.SUCCESS, "gone") == ()
    assert metrics.default().get("pcrf.gx.illegal_events") == before + 1
    assert tx(store, lambda l: T.pending_pushes(l)) == []


def test_illegal_pairs_raise():
    assert not [k for k in TRANSITIONS if k[0] is GxState.TERMINATED]   # never stored: it reads as none
    for st in (GxState.NONE, GxState.ACTIVE, GxState.RAR_PENDING):
        for ev in GxEvent:
            if (st, ev) in TRANSITIONS:
                continue
            with pytest.raises(G.IllegalGxEvent) as exc:
                G.advance("s", None if st is GxState.NONE else _Fake(st), ev)
            assert exc.value.state is st and exc.value.result_code == 5002


class _Fake:
    def __init__(self, st):
        self.pending = {"seq": 1} if st is GxState.RAR_PENDING else None


def test_changes_are_logged_old_to_new(store, caplog):
    caplog.set_level("DEBUG", logger="appliance.pcrf.gx_state")
    setup(store)
    tx(store, lambda l: E.establish(l, info(), DEFAULT))
    tx(store, lambda l: E.terminate(l, info(n=1)))
    assert [r.getMessage() for r in caplog.records if r.name == "appliance.pcrf.gx_state"] == [
        "Gx s1 none -> active (ccr_initial)", "Gx s1 active -> terminated (ccr_termination)"]
