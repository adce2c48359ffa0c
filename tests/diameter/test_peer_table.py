"""The peer's states change only through its (state, event) table (RFC 6733 §5.6): every legal
transition taken by two in-memory peers, an event its state does not list raises, each change
logged ``old -> new``."""
from __future__ import annotations

import pytest

from appliance.diameter.peer import TRANSITIONS, Change, PeerConnection, State

from .test_peer import CLIENT, SERVER, pair, shuttle


def test_every_legal_transition(monkeypatch):
    seen = set()
    original = PeerConnection._on

    def record(self, event):
        seen.add((self.state, event))
        return original(self, event)
    monkeypatch.setattr(PeerConnection, "_on", record)

    cl, s = pair()                                           # wait-cer/wait-cea -> open, both sides
    cl.disconnect(1.0)                                       # open -> closing
    shuttle(cl, s, 1.0)                                      # closing -> closed (DPA); open -> closed (DPR)
    waiting_cer = PeerConnection(SERVER, False, 0.0, 30)
    waiting_cer.handle_timer(waiting_cer.get_timer())        # wait-cer -> closed (no CER in time)
    waiting_cea = PeerConnection(CLIENT, True, 0.0, 30)
    waiting_cea.handle_timer(waiting_cea.get_timer())        # wait-cea -> closed (no CEA in time)
    assert waiting_cer.state is waiting_cea.state is State.CLOSED
    assert seen == set(TRANSITIONS), sorted(set(TRANSITIONS) - seen)


@pytest.mark.parametrize("state,event", [(st, ev) for st in State for ev in Change if (st, ev) not in TRANSITIONS])
def test_an_event_not_in_the_table_raises(state, event):
    pc = PeerConnection(SERVER, False, 0.0, 30)
    pc.state = state
    with pytest.raises(RuntimeError, match="illegal peer event"):
        pc._on(event)


def test_changes_are_logged(caplog):
    caplog.set_level("DEBUG", logger="appliance.diameter.peer")
    cl, s = pair()
    lines = [r.getMessage() for r in caplog.records if "->" in r.getMessage()]
    assert any("wait-i-cea -> open (rcv-cea-accepted)" in m for m in lines)
    assert any("wait-cer -> open (rcv-cer-accepted)" in m for m in lines)
