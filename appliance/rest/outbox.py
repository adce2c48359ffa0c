"""The notification hub's outbox: each listener's queue of events as store documents.

Functions of a ledger view and ``now``, with no I/O of their own, so that a publisher may queue
an event inside the transaction of the change it describes (:mod:`appliance.rest.balance_events`
does, for the ledger's credit events) and any REST process delivers it (:mod:`appliance.rest.hub`).
``enqueue`` appends; ``claim`` / ``delivered`` / ``failed`` / ``release`` move a listener's queue
under a lease; ``ready`` lists the queues with an event due.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..ocs.ports import Ledger

HUB_DOC = "rest_hub"
QUEUE_DOC = "rest_hub_queue"      # per listener: head/next sequence numbers, lease, attempts
EVENT_DOC = "rest_hub_event"      # key "<hub id>/<seq>": one pending event


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff for failed deliveries: base × 2^(attempt-1) seconds, at most ``cap``; an event
    older than ``max_age`` seconds is given up.  ``lease``: how long a claim keeps other
    processes away from a queue."""
    base: float = 1.0
    cap: float = 60.0
    max_age: float = 3600.0
    lease: float = 30.0

    def delay(self, attempts: int) -> float:
        return float(min(self.cap, self.base * 2 ** min(attempts - 1, 62)))


def lease_for(timeout: float) -> float:
    """The claim lease for a POST timeout: long enough that a live sender is never overtaken."""
    return max(30.0, 4 * timeout)


@dataclass(frozen=True, slots=True)
class Pending:
    """The head event of a listener's queue, claimed by this process."""
    hub_id: str
    seq: int
    callback: str
    event: dict[str, Any]


def event_key(hub_id: str, seq: int) -> str:
    return f"{hub_id}/{seq:012d}"


# --- the queue as store documents: functions of a ledger and ``now`` (no I/O of their own)

def enqueue(ledger: Ledger, hub_id: str, event: dict[str, Any], now: float, backlog: int) -> int:
    """Append ``event`` to the listener's queue; returns how many old events were dropped."""
    if ledger.get_doc(HUB_DOC, hub_id) is None:          # deleted meanwhile (by any process)
        return 0
    queue = ledger.get_doc(QUEUE_DOC, hub_id) or {"head": 0, "next": 0}
    seq = int(queue["next"])
    ledger.put_doc(EVENT_DOC, event_key(hub_id, seq), {"at": now, "event": event})
    queue["next"] = seq + 1
    dropped = 0
    while queue["next"] - queue["head"] > backlog:
        ledger.delete_doc(EVENT_DOC, event_key(hub_id, int(queue["head"])))
        queue = _advance(queue)
        dropped += 1
    ledger.put_doc(QUEUE_DOC, hub_id, queue)
    return dropped


def _advance(queue: dict[str, Any]) -> dict[str, Any]:
    """The queue with its head event gone: the next event starts with a fresh attempt count."""
    rest = {k: v for k, v in queue.items() if k not in ("attempts", "retry_at")}
    return {**rest, "head": int(queue["head"]) + 1}


def _may_send(queue: dict[str, Any], worker: str, now: float, policy: RetryPolicy) -> bool:
    """Neither another process's unexpired claim nor a backoff holds the queue."""
    claimed = queue.get("claimed_by")
    if claimed and claimed != worker and now - float(queue.get("claimed_at", 0)) < policy.lease:
        return False
    return now >= float(queue.get("retry_at", 0))


def _released(queue: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in queue.items() if k not in ("claimed_by", "claimed_at")}


def claim(ledger: Ledger, hub_id: str, worker: str, now: float,
          policy: RetryPolicy) -> tuple[Pending | None, int]:
    """Claim the listener's queue and return its head event (None: empty, waiting for its backoff,
    or held by another process), and how many events expired on the way."""
    listener = ledger.get_doc(HUB_DOC, hub_id)           # locks in the order enqueue takes them
    queue = ledger.get_doc(QUEUE_DOC, hub_id) if listener is not None else None
    if queue is None or listener is None:
        return None, 0
    if not _may_send(queue, worker, now, policy):
        return None, 0
    expired = 0
    while int(queue["head"]) < int(queue["next"]):
        key = event_key(hub_id, int(queue["head"]))
        doc = ledger.get_doc(EVENT_DOC, key)
        if doc is not None and now - float(doc["at"]) <= policy.max_age:
            ledger.put_doc(QUEUE_DOC, hub_id, {**queue, "claimed_by": worker, "claimed_at": now})
            return Pending(hub_id, int(queue["head"]), listener["callback"], doc["event"]), expired
        if doc is not None:
            ledger.delete_doc(EVENT_DOC, key)
            expired += 1
        queue = _advance(queue)
    ledger.put_doc(QUEUE_DOC, hub_id, _released(queue))
    return None, expired


def delivered(ledger: Ledger, pending: Pending, worker: str) -> bool:
    """The listener took the event: remove it and keep the claim for the next one."""
    queue = ledger.get_doc(QUEUE_DOC, pending.hub_id)
    ledger.delete_doc(EVENT_DOC, event_key(pending.hub_id, pending.seq))
    if queue is None or int(queue["head"]) != pending.seq:
        return False                                     # deleted, or dropped from a full backlog
    ledger.put_doc(QUEUE_DOC, pending.hub_id, _advance(queue))
    return queue.get("claimed_by") == worker


def failed(ledger: Ledger, pending: Pending, now: float, policy: RetryPolicy) -> float | None:
    """The attempt failed: release the claim and schedule the next one; returns the delay (None
    when the event is no longer the head of the queue)."""
    queue = ledger.get_doc(QUEUE_DOC, pending.hub_id)
    if queue is None or int(queue["head"]) != pending.seq:
        return None
    attempts = int(queue.get("attempts", 0)) + 1
    delay = policy.delay(attempts)
    ledger.put_doc(QUEUE_DOC, pending.hub_id, {**_released(queue), "attempts": attempts, "retry_at": now + delay})
    return delay


def release(ledger: Ledger, worker: str) -> None:
    """Give up this process's claims (a clean stop): another process may send at once."""
    for hub_id, seen in ledger.list_docs(QUEUE_DOC):
        if seen.get("claimed_by") != worker:
            continue
        queue = ledger.get_doc(QUEUE_DOC, hub_id)         # locked: a deleted listener stays deleted
        if queue is not None and queue.get("claimed_by") == worker:
            ledger.put_doc(QUEUE_DOC, hub_id, _released(queue))


def ready(ledger: Ledger, worker: str, now: float, policy: RetryPolicy) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The listeners, and those whose queue has an event this process may send now."""
    listeners = dict(ledger.list_docs(HUB_DOC))
    due = []
    for hub_id, queue in ledger.list_docs(QUEUE_DOC):
        if hub_id not in listeners or int(queue["head"]) >= int(queue["next"]):
            continue
        if _may_send(queue, worker, now, policy):
            due.append(hub_id)
    return listeners, due


def drop_listener(ledger: Ledger, api: str, hub_id: str) -> int | None:
    """Remove a listener with its queue; None if unknown, else the number of events dropped."""
    doc = ledger.get_doc(HUB_DOC, hub_id)
    if not doc or doc.get("api") != api:
        return None
    ledger.delete_doc(HUB_DOC, hub_id)
    ledger.delete_doc(QUEUE_DOC, hub_id)
    dropped = 0
    for key, _ in ledger.list_docs(EVENT_DOC, f"{hub_id}/"):
        dropped += ledger.delete_doc(EVENT_DOC, key)
    return dropped


def _wanted(query: str, event_type: str) -> bool:
    if not query:
        return True
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if key.strip() == "eventType" and event_type not in [v.strip() for v in value.split(",")]:
            return False
    return True
