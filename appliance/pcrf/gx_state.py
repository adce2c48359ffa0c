"""Gx session states as a table (TS 29.212 §4.5.1 establishment, §4.5.2 PCRF-initiated
modification by RAR/RAA, §4.5.1.1 termination): an Enum of states, an Enum of events, and
``{(state, event): next_state}``.  An event the state does not allow raises
:class:`IllegalGxEvent`, which carries the Result-Code the adapter answers (RFC 6733 §7.1.5:
DIAMETER_UNKNOWN_SESSION_ID for a CCR-U/T of a session the PCRF does not hold).

The state is derived from the stored session (``pcrf.engine.GxSession``): none stored -> NONE,
an RAR's provision pending -> RAR_PENDING, otherwise ACTIVE.  TERMINATED is the state a
termination leads to; the session document is then gone, so a later event sees NONE.
"""
from __future__ import annotations

import logging
from enum import Enum
from typing import Any

from ..telemetry import metrics

log = logging.getLogger(__name__)

UNKNOWN_SESSION_ID = 5002          # RFC 6733 §7.1.5


class GxState(Enum):
    NONE = "none"                  # no session stored under this Session-Id
    ACTIVE = "active"              # established by CCR-I; CCR-U keeps it
    RAR_PENDING = "rar_pending"    # an RAR was sent, its provision waits for the RAA
    TERMINATED = "terminated"      # CCR-T, an RAA with DIAMETER_UNKNOWN_SESSION_ID, or idle expiry


class GxEvent(Enum):
    CCR_I = "ccr_initial"
    CCR_U = "ccr_update"
    CCR_T = "ccr_termination"
    RAR_SENT = "rar_sent"
    RAA_ANSWERED = "raa_answered"          # any Result-Code but UNKNOWN_SESSION_ID
    RAA_UNANSWERED = "raa_unanswered"      # no RAA in time: the push is retried later
    RAA_UNKNOWN_SESSION = "raa_unknown_session"
    IDLE_EXPIRED = "idle_expired"


_S, _E = GxState, GxEvent
TRANSITIONS: dict[tuple[GxState, GxEvent], GxState] = {
    (_S.NONE, _E.CCR_I): _S.ACTIVE,
    (_S.ACTIVE, _E.CCR_I): _S.ACTIVE,                  # a repeated CCR-I starts the session over
    (_S.RAR_PENDING, _E.CCR_I): _S.ACTIVE,
    (_S.ACTIVE, _E.CCR_U): _S.ACTIVE,
    (_S.RAR_PENDING, _E.CCR_U): _S.RAR_PENDING,        # the CCA carries news; the RAA still settles the RAR
    (_S.ACTIVE, _E.CCR_T): _S.TERMINATED,
    (_S.RAR_PENDING, _E.CCR_T): _S.TERMINATED,
    (_S.ACTIVE, _E.RAR_SENT): _S.RAR_PENDING,
    (_S.RAR_PENDING, _E.RAR_SENT): _S.RAR_PENDING,     # sent again (claim lease over, or a newer change)
    (_S.RAR_PENDING, _E.RAA_ANSWERED): _S.ACTIVE,
    (_S.RAR_PENDING, _E.RAA_UNANSWERED): _S.ACTIVE,
    (_S.RAR_PENDING, _E.RAA_UNKNOWN_SESSION): _S.TERMINATED,
    (_S.ACTIVE, _E.RAA_ANSWERED): _S.ACTIVE,           # the answer to an RAR sent before a restart (CCR-I)
    (_S.ACTIVE, _E.RAA_UNANSWERED): _S.ACTIVE,
    (_S.ACTIVE, _E.RAA_UNKNOWN_SESSION): _S.TERMINATED,
    (_S.ACTIVE, _E.IDLE_EXPIRED): _S.TERMINATED,
    (_S.RAR_PENDING, _E.IDLE_EXPIRED): _S.TERMINATED,
}
"""(state, event) -> next state; a pair not listed is illegal."""


class IllegalGxEvent(Exception):
    """An event the session's state does not allow; ``result_code`` is the answer to send
    (for a request) -- an answer (RAA) that arrives for no session is only counted."""

    def __init__(self, state: GxState, event: GxEvent, result_code: int = UNKNOWN_SESSION_ID) -> None:
        super().__init__(f"Gx {event.value} not allowed in state {state.value}")
        self.state, self.event, self.result_code = state, event, result_code


def state_of(session: Any) -> GxState:
    """The state of a stored session (a ``GxSession`` or None)."""
    if session is None:
        return GxState.NONE
    return GxState.RAR_PENDING if session.pending else GxState.ACTIVE


def advance(session_id: str, session: Any, event: GxEvent) -> GxState:
    """Apply ``event`` to the session's state: the next state, logged ``old -> new``, or raise."""
    old = state_of(session)
    new = TRANSITIONS.get((old, event))
    if new is None:
        metrics.inc("pcrf.gx.illegal_events")
        raise IllegalGxEvent(old, event)
    if new is not old:
        log.debug("Gx %s %s -> %s (%s)", session_id, old.value, new.value, event.value)
    return new
